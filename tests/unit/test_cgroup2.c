/* SPDX-License-Identifier: MIT */
/* cgroup v2 (src/host/cgroup2.c) against a fake cgroupfs tree: this host
 * mounts v1 only, so the unified-hierarchy code writes into a directory
 * that looks like a v2 mount.  Checks the group layout (wirt/<name>), the
 * controllers enabled in the parents, the values of every control, and
 * that a limit whose controller is missing is refused naming the control
 * that would not be enforced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/cgroup2.h"

static char root[64];

static void put(const char *path, const char *value)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(value, f);
    fclose(f);
}

static const char *get(const char *dir, const char *file)
{
    static char v[256];
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    FILE *f = fopen(p, "r");
    if (!f)
        return "(missing)";
    size_t n = fread(v, 1, sizeof(v) - 1, f);
    fclose(f);
    v[n] = '\0';
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/wirt-cg2-test-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char p[128];
    snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
    put(p, "cpuset cpu io memory pids\n");
    snprintf(p, sizeof(p), "%s/cgroup.procs", root);
    put(p, "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_group_and_limits(void **state)
{
    (void)state;
    assert_true(cgroup2_usable(root));
    struct cgroup_limits l = {.cpu_limit_pct = 150,
                              .cpu_weight = 300,
                              .cpu_affinity = "0-1",
                              .memory_limit = 1u << 30,
                              .memory_reservation = 256u << 20};
    char err[256] = "";
    struct cgroup2 *cg = cgroup2_create(root, "wirt-42", 42, &l, err, sizeof(err));
    assert_non_null(cg);
    char dir[128], parent[128];
    snprintf(parent, sizeof(parent), "%s/wirt", root);
    snprintf(dir, sizeof(dir), "%s/wirt/wirt-42", root);
    assert_string_equal(cgroup2_path(cg), dir);
    /* Enabled for the children in root and in wirt/ (the last write
     * stays in a fake file: io, the last of ours the root offers). */
    assert_string_equal(get(root, "cgroup.subtree_control"), "+io");
    assert_string_equal(get(parent, "cgroup.subtree_control"), "+io");
    assert_string_equal(get(dir, "cpu.max"), "150000 100000");
    assert_string_equal(get(dir, "cpu.weight"), "300");
    assert_string_equal(get(dir, "cpuset.cpus"), "0-1");
    assert_string_equal(get(dir, "memory.max"), "1073741824");
    assert_string_equal(get(dir, "memory.low"), "268435456");
    assert_string_equal(get(dir, "cgroup.procs"), "42");

    /* Cleared limits go back to "max"; a reservation raises the weight. */
    struct cgroup_limits none = {.cpu_reservation_pct = 50};
    assert_true(cgroup2_apply(cg, &none, err, sizeof(err)));
    assert_string_equal(get(dir, "cpu.max"), "max 100000");
    assert_string_equal(get(dir, "cpu.weight"), "500");
    assert_string_equal(get(dir, "memory.max"), "max");
    assert_string_equal(get(dir, "memory.low"), "0");

    put(strcat(strcpy((char[128]){0}, dir), "/cpu.stat"), "usage_usec 2500\nuser_usec 2000\n");
    put(strcat(strcpy((char[128]){0}, dir), "/memory.current"), "4096\n");
    uint64_t ns, mem;
    cgroup2_usage(cg, &ns, &mem);
    assert_int_equal(ns, 2500000);
    assert_int_equal(mem, 4096);
    cgroup2_destroy(cg); /* moves pid 42 back to where it came from: here, the root */
    assert_string_equal(get(root, "cgroup.procs"), "42");
}

static void test_missing_controller_is_named(void **state)
{
    (void)state;
    char p[128], err[256] = "";
    snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
    put(p, "cpu pids\n"); /* no memory, no cpuset */
    struct cgroup_limits l = {.cpu_limit_pct = 50, .memory_limit = 1u << 30};
    assert_null(cgroup2_create(root, "wirt-43", 43, &l, err, sizeof(err)));
    assert_non_null(strstr(err, "memory-limit is not enforced: the cgroup v2 'memory' controller"));
    struct cgroup_limits cpus = {.cpu_affinity = "1"};
    assert_null(cgroup2_create(root, "wirt-44", 44, &cpus, err, sizeof(err)));
    assert_non_null(strstr(err, "cpu-affinity is not enforced: the cgroup v2 'cpuset'"));
    /* Only the CPU limit: fine, and nothing written for what is missing. */
    struct cgroup_limits cpu = {.cpu_limit_pct = 50};
    struct cgroup2 *cg = cgroup2_create(root, "wirt-45", 45, &cpu, err, sizeof(err));
    assert_non_null(cg);
    snprintf(p, sizeof(p), "%s/wirt/wirt-45", root);
    assert_string_equal(get(p, "cpu.max"), "50000 100000");
    assert_string_equal(get(p, "memory.max"), "(missing)");
    cgroup2_destroy(cg);
    /* A v2 mount without controllers (like this host's) is not usable. */
    snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
    put(p, "\n");
    assert_false(cgroup2_usable(root));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_controller_is_named, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
