/* SPDX-License-Identifier: MIT */
/* The self-rotating log file (vmm.log, console.log): bounded however much
 * is written, owner-only whatever the umask, never a FIFO. */
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

#include "util/log.h"

static char dir[] = "/tmp/wirt-log-test-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static off_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_flood_stays_bounded(void **state)
{
    (void)state;
    char path[256], old[300], older[300];
    snprintf(path, sizeof(path), "%s/flood.log", dir);
    snprintf(old, sizeof(old), "%s.1", path);
    snprintf(older, sizeof(older), "%s.2", path);
    mode_t mask = umask(0);
    char err[256];
    struct log_file *f = log_file_open(path, 4096, err, sizeof(err));
    umask(mask);
    assert_non_null(f);
    static const char line[] = "virtio-blk: the device needs a reset (a guest flooding)\n";
    for (int i = 0; i < 100000; i++)
        log_file_write(f, line, sizeof(line) - 1);
    log_file_close(f);
    assert_in_range(size_of(path), 1, 4096);
    assert_in_range(size_of(old), 4096 - (off_t)sizeof(line), 4096);
    assert_int_equal(size_of(older), -1); /* one old generation, no more */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_messages_go_to_the_log(void **state)
{
    (void)state;
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/vmm.log", dir);
    struct log_file *f = log_file_open(path, 1 << 20, err, sizeof(err));
    assert_non_null(f);
    log_set_output(f);
    log_warn("hello %d", 42);
    log_set_output(NULL);
    log_file_close(f);
    FILE *in = fopen(path, "r");
    char buf[64] = "";
    assert_non_null(fgets(buf, sizeof(buf), in));
    fclose(in);
    assert_string_equal(buf, "wirt: hello 42\n");
}

static void test_oversized_log_is_rotated_at_open(void **state)
{
    (void)state;
    char path[256], old[300], err[256];
    snprintf(path, sizeof(path), "%s/big.log", dir);
    snprintf(old, sizeof(old), "%s.1", path);
    FILE *out = fopen(path, "w");
    for (int i = 0; i < 2000; i++)
        fputs("0123456789\n", out);
    fclose(out);
    chmod(path, 0644); /* as an older wirt left it */
    struct log_file *f = log_file_open(path, 8192, err, sizeof(err));
    assert_non_null(f);
    log_file_close(f);
    assert_int_equal(size_of(path), 0);
    assert_int_equal(size_of(old), 22000);
}

static void test_fifo_is_refused(void **state)
{
    (void)state;
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* Without a reader an ordinary open would block here for ever. */
    assert_null(log_file_open(path, 4096, err, sizeof(err)));
    assert_non_null(strstr(err, "FIFO"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_stays_bounded),
        cmocka_unit_test(test_messages_go_to_the_log),
        cmocka_unit_test(test_oversized_log_is_rotated_at_open),
        cmocka_unit_test(test_fifo_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
