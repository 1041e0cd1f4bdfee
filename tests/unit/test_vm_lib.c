/* SPDX-License-Identifier: MIT */
/*
 * vm/ as a library (what the host service will link): every operation
 * returns an error value instead of exiting, takes its store as a handle,
 * and can be called many times in one process without leaking memory or
 * file descriptors.  No guest is needed: the default template is made
 * from tiny fake files in a temporary $WIRT_CACHE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/vm.h"
#include "vm/vm_int.h"

#define ITERATIONS 20

static char root[] = "/tmp/wirt-vm-lib-XXXXXX";
static char store_dir[PATH_MAX], kernel[PATH_MAX], archive[PATH_MAX];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/cache", root);
    mkdir(p, 0700);
    setenv("WIRT_CACHE", p, 1);
    snprintf(p, sizeof(p), "%s/cache/guest", root);
    mkdir(p, 0700);
    static const char *const files[] = {"Image", "initrd.cpio.gz", "fw_dynamic.bin"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/cache/guest/%s", root, files[i]);
        write_file(p, "not really a kernel\n");
    }
    snprintf(p, sizeof(p), "%s/cache/guest/cmdline", root);
    write_file(p, "console=ttyS0\n");
    snprintf(kernel, sizeof(kernel), "%s/kernel.bin", root);
    write_file(kernel, "fake kernel\n");
    snprintf(store_dir, sizeof(store_dir), "%s/store", root);
    snprintf(archive, sizeof(archive), "%s/export.tar", root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd);
}

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static void expect_fail(bool ok, const struct wirt_error *e, int code, const char *needle)
{
    assert_false(ok);
    assert_int_equal(e->code, code);
    if (!strstr(e->msg, needle))
        fail_msg("error '%s' does not mention '%s'", e->msg, needle);
    assert_null(strchr(e->msg, '\n'));
}

static bool listed(struct vm_store *st, const char *name, struct vm_summary *out)
{
    struct vm_summary *list;
    size_t n;
    struct wirt_error e;
    assert_true(vm_list(st, &list, &n, &e));
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(strcmp(list[i - 1].name, list[i].name) < 0);
        if (!strcmp(list[i].name, name)) {
            found = true;
            if (out)
                *out = list[i];
        }
    }
    free(list);
    return found;
}

static void test_store_handle(void **state)
{
    (void)state;
    struct wirt_error e;
    expect_fail(vm_store_open("", false, &e) != NULL, &e, WIRT_ERR_INVALID, "--store");
    char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    expect_fail(vm_store_open(longpath, false, &e) != NULL, &e, WIRT_ERR_INVALID, "too long");
    /* A missing store without create is empty, not an error, and is not made. */
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/nowhere", root);
    struct vm_store *st = vm_store_open(missing, false, &e);
    assert_non_null(st);
    struct vm_summary *list;
    size_t n = 7;
    assert_true(vm_list(st, &list, &n, &e));
    assert_int_equal(n, 0);
    vm_store_close(st);
    assert_int_not_equal(access(missing, F_OK), 0);
}

/* One round of every operation that needs no running guest. */
static void one_round(struct vm_store *st, unsigned round)
{
    struct wirt_error e;
    char a[32], b[32], c[32], l[32], t[32];
    snprintf(a, sizeof(a), "a%u", round);
    snprintf(b, sizeof(b), "b%u", round);
    snprintf(c, sizeof(c), "c%u", round);
    snprintf(l, sizeof(l), "l%u", round);
    snprintf(t, sizeof(t), "t%u", round);

    /* create: from the default template, and from a kernel file */
    struct vm_create_opts from = {.from = VM_DEFAULT_TEMPLATE, .memory = 256 << 20};
    assert_true(vm_create(st, a, &from, &e));
    struct vm_create_opts raw = {.kernel = kernel,
                                 .bios = "none",
                                 .disk_size = 64 << 20,
                                 .cpus = 2,
                                 .nets = {"user"},
                                 .nnets = 1};
    assert_true(vm_create(st, b, &raw, &e));
    expect_fail(vm_create(st, b, &raw, &e), &e, WIRT_ERR_EXISTS, "already exists");
    expect_fail(vm_create(st, "../x", &raw, &e), &e, WIRT_ERR_INVALID, "not a valid VM name");
    struct vm_create_opts both = {.from = VM_DEFAULT_TEMPLATE, .kernel = kernel};
    expect_fail(vm_create(st, c, &both, &e), &e, WIRT_ERR_INVALID, "cannot be combined");
    struct vm_create_opts huge = {.kernel = kernel, .memory = 1ULL << 50};
    expect_fail(vm_create(st, c, &huge, &e), &e, WIRT_ERR_INVALID, "--memory");
    struct vm_create_opts nofile = {.kernel = "/nonexistent/kernel"};
    expect_fail(vm_create(st, c, &nofile, &e), &e, WIRT_ERR_FAILED, "--kernel");
    expect_fail(vm_create(st, c, &(struct vm_create_opts){.from = b}, &e), &e, WIRT_ERR_STATE,
                "not a template");

    /* list and info */
    struct vm_summary s;
    assert_true(listed(st, a, &s));
    assert_true(s.config_ok);
    assert_int_equal(s.rt.state, VM_STOPPED);
    assert_int_equal(s.cfg.memory, 256 << 20);
    assert_string_equal(s.cfg.linked_to, VM_DEFAULT_TEMPLATE);
    struct vm_config cfg;
    struct vm_runtime rt;
    json_object *info = vm_info(st, b, &cfg, &rt, &e);
    assert_non_null(info);
    assert_string_equal(json_object_get_string(json_object_object_get(info, "state")), "stopped");
    json_object *disk0 = json_object_array_get_idx(json_object_object_get(info, "disks"), 0);
    assert_int_equal(json_object_get_int64(json_object_object_get(disk0, "virtual-size")),
                     64 << 20);
    assert_int_equal(cfg.cpus, 2);
    json_object_put(info);
    assert_null(vm_info(st, c, &cfg, &rt, &e));
    assert_int_equal(e.code, WIRT_ERR_NOT_FOUND);

    /* set, snapshot */
    char *settings[] = {"memory=384M", "cpus=1", "net=", "disk-size=128M"};
    assert_true(vm_set(st, b, settings, 4, &e));
    char *bad[] = {"colour=blue"};
    expect_fail(vm_set(st, b, bad, 1, &e), &e, WIRT_ERR_INVALID, "unknown key");
    char *shrink[] = {"disk-size=1M"};
    expect_fail(vm_set(st, b, shrink, 1, &e), &e, WIRT_ERR_STATE, "shrinking");
    assert_true(vm_snapshot(st, b, "create", "s1", &e));
    expect_fail(vm_snapshot(st, b, "create", "s1", &e), &e, WIRT_ERR_EXISTS, "exists");
    assert_true(vm_snapshot(st, b, "revert", "s1", &e));
    assert_true(vm_snapshot(st, b, "delete", "s1", &e));
    expect_fail(vm_snapshot(st, b, "delete", "s1", &e), &e, WIRT_ERR_NOT_FOUND, "no such snapshot");
    info = vm_info(st, b, &cfg, &rt, &e);
    assert_non_null(info);
    json_object_put(info);
    assert_int_equal(cfg.memory, 384 << 20);
    assert_int_equal(cfg.nnets, 0);

    /* A broken vm.json is named in the error of every operation. */
    char cfgpath[PATH_MAX + 64], good[4096];
    snprintf(cfgpath, sizeof(cfgpath), "%s/vms/%s/vm.json", store_dir, b);
    FILE *f = fopen(cfgpath, "r");
    assert_non_null(f);
    size_t len = fread(good, 1, sizeof(good) - 1, f);
    fclose(f);
    good[len] = '\0';
    write_file(cfgpath, "{\"cpus\": \"two\"}");
    expect_fail(vm_set(st, b, settings, 1, &e), &e, WIRT_ERR_FAILED, cfgpath);
    expect_fail(vm_snapshot(st, b, "create", "s2", &e), &e, WIRT_ERR_FAILED, cfgpath);
    expect_fail(vm_info(st, b, &cfg, &rt, &e) != NULL, &e, WIRT_ERR_FAILED, cfgpath);
    expect_fail(vm_start(st, b, &(struct vm_start_result){0}, &e), &e, WIRT_ERR_FAILED, cfgpath);
    write_file(cfgpath, good);

    /* clone (full), template, linked clone, delete protection */
    assert_true(vm_clone(st, b, c, false, &e));
    expect_fail(vm_clone(st, b, c, false, &e), &e, WIRT_ERR_EXISTS, "already exists");
    expect_fail(vm_clone(st, c, l, true, &e), &e, WIRT_ERR_STATE, "not a template");
    assert_true(vm_make_template(st, c, &e));
    expect_fail(vm_make_template(st, c, &e), &e, WIRT_ERR_STATE, "already a template");
    assert_true(vm_clone(st, c, l, true, &e));
    expect_fail(vm_delete(st, c, &e), &e, WIRT_ERR_BUSY, l);

    /* export and import (of a VM that stands alone) */
    assert_true(vm_export(st, b, archive, &e));
    char made[VM_NAME_MAX + 1];
    assert_true(vm_import(st, archive, t, made, sizeof(made), &e));
    assert_string_equal(made, t);
    expect_fail(vm_import(st, archive, t, made, sizeof(made), &e), &e, WIRT_ERR_EXISTS,
                "already exists");
    unlink(archive);

    /* stop and start need no VMM for their refusals */
    struct vm_stop_result how;
    expect_fail(vm_stop(st, b, false, 1, false, &how, &e), &e, WIRT_ERR_STATE, "not running");
    struct vm_start_result started;
    expect_fail(vm_start(st, c, &started, &e), &e, WIRT_ERR_STATE, "template");

    /* delete everything of this round */
    const char *order[] = {a, b, l, c, t};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        assert_true(vm_delete(st, order[i], &e));
        assert_false(listed(st, order[i], NULL));
    }
    expect_fail(vm_delete(st, a, &e), &e, WIRT_ERR_NOT_FOUND, "no VM named");
}

static void test_every_operation_many_times(void **state)
{
    (void)state;
    struct wirt_error e;
    /* First open: makes the store and its default template. */
    struct vm_store *st = vm_store_open(store_dir, true, &e);
    assert_non_null(st);
    assert_string_equal(vm_store_note(st), "");
    assert_true(listed(st, VM_DEFAULT_TEMPLATE, NULL));
    vm_store_close(st);
    unsigned fds = open_fds();
    for (unsigned round = 0; round < ITERATIONS; round++) {
        /* A fresh handle on even rounds, the same process state always. */
        st = vm_store_open(store_dir, round % 2 == 0, &e);
        assert_non_null(st);
        one_round(st, round);
        vm_store_close(st);
        assert_int_equal(open_fds(), fds);
    }
    /* Only the template is left. */
    st = vm_store_open(store_dir, false, &e);
    struct vm_summary *list;
    size_t n;
    assert_true(vm_list(st, &list, &n, &e));
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, VM_DEFAULT_TEMPLATE);
    free(list);
    vm_store_close(st);
}

/* Two stores in one process do not share state. */
static void test_two_stores(void **state)
{
    (void)state;
    struct wirt_error e;
    char other[PATH_MAX];
    snprintf(other, sizeof(other), "%s/other", root);
    struct vm_store *s1 = vm_store_open(store_dir, true, &e);
    struct vm_store *s2 = vm_store_open(other, true, &e);
    assert_non_null(s1);
    assert_non_null(s2);
    struct vm_create_opts raw = {.kernel = kernel, .bios = "none", .disk_size = 1 << 20};
    assert_true(vm_create(s1, "only-here", &raw, &e));
    assert_true(listed(s1, "only-here", NULL));
    assert_false(listed(s2, "only-here", NULL));
    assert_true(vm_delete(s1, "only-here", &e));
    vm_store_close(s1);
    vm_store_close(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_handle),
        cmocka_unit_test(test_every_operation_many_times),
        cmocka_unit_test(test_two_stores),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
