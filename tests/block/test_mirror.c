/* SPDX-License-Identifier: MIT */
/*
 * The mirror job (block/mirror.h): a disk written to while it is copied
 * ends up equal to its copy, for qcow2 and raw targets; the copy of an
 * empty region stays sparse; abort and bad targets leave no file behind;
 * qemu-img (when installed) checks the qcow2 target.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "block/block.h"
#include "block/mirror.h"

#define SIZE (24ULL << 20) /* 384 chunks: not a multiple of 64 */

static char dir[256];

static const char *tmp(const char *name)
{
    static char p[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static struct block_dev *make_source(const char *fmt)
{
    char err[512] = "";
    const char *path = tmp("src.img");
    unlink(path);
    struct image_create_opts o = {.format = fmt, .size = SIZE};
    assert_int_equal(image_create(path, &o, err, sizeof(err)), 0);
    struct block_dev *bd;
    assert_int_equal(block_open(path, fmt, 0, &bd, err, sizeof(err)), 0);
    /* Data in the first half only: the second half must stay sparse. */
    uint8_t buf[65536];
    for (uint64_t off = 0; off < SIZE / 2; off += sizeof(buf)) {
        memset(buf, (int)(off >> 16) | 1, sizeof(buf));
        assert_int_equal(block_write(bd, off, buf, sizeof(buf)), 0);
    }
    return bd;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A guest's writes of every kind, anywhere, between the job's steps. */
static void guest_writes(struct block_dev *bd, uint64_t *seed, unsigned n)
{
    uint8_t buf[3 * 4096 + 512];
    for (unsigned i = 0; i < n; i++) {
        uint64_t len = 512 * (1 + rnd(seed) % (sizeof(buf) / 512));
        uint64_t off = (rnd(seed) % (SIZE / 512)) * 512;
        if (off + len > SIZE)
            off = SIZE - len;
        switch (rnd(seed) % 8) {
        case 0:
            assert_int_equal(block_write_zeroes(bd, off, len), 0);
            break;
        case 1:
            block_discard(bd, off, len);
            break;
        default:
            memset(buf, (int)rnd(seed), len);
            assert_int_equal(block_write(bd, off, buf, len), 0);
        }
    }
}

static void assert_same(struct block_dev *a, struct block_dev *b)
{
    static uint8_t x[65536], y[65536];
    assert_int_equal(block_size(a), block_size(b));
    for (uint64_t off = 0; off < block_size(a); off += sizeof(x)) {
        assert_int_equal(block_read(a, off, x, sizeof(x)), 0);
        assert_int_equal(block_read(b, off, y, sizeof(y)), 0);
        if (memcmp(x, y, sizeof(x)) != 0)
            fail_msg("the copy differs in the chunk at %llu", (unsigned long long)off);
    }
}

static void mirror_while_writing(const char *src_fmt, const char *dst_fmt)
{
    struct block_dev *src = make_source(src_fmt);
    const char *target = tmp("dst.img");
    unlink(target);
    struct block_mirror *m;
    char err[512] = "";
    assert_int_equal(block_mirror_new(src, target, dst_fmt, &m, err, sizeof(err)), 0);
    assert_string_equal(block_mirror_format(m), dst_fmt ? dst_fmt : src_fmt);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    unsigned steps = 0, after_bulk = 0;
    int r;
    /* Writes between every step, also long after the bulk pass. */
    while ((r = block_mirror_step(m, 4)) == 1) {
        if (!block_mirror_in_bulk(m) && ++after_bulk > 200)
            break;
        guest_writes(src, &seed, 2);
        steps++;
    }
    assert_true(r >= 0);
    assert_true(after_bulk > 0); /* the dirty passes did run */
    while ((r = block_mirror_step(m, UINT32_MAX)) == 1)
        ;
    assert_int_equal(r, 0);
    assert_int_equal(block_mirror_remaining(m), 0);
    struct block_dev *dst;
    assert_int_equal(block_mirror_complete(m, &dst), 0);
    assert_null(src->write_hook);
    assert_same(src, dst);
    guest_writes(src, &seed, 1); /* detached: must not touch freed memory */
    assert_true(steps > 50);     /* writes came between many steps */
    block_close(dst);
    block_close(src);
}

/* The switch-over state: no write after complete, then compare. */
static void mirror_and_compare(const char *src_fmt, const char *dst_fmt)
{
    struct block_dev *src = make_source(src_fmt);
    const char *target = tmp("dst.img");
    unlink(target);
    struct block_mirror *m;
    char err[512] = "";
    assert_int_equal(block_mirror_new(src, target, dst_fmt, &m, err, sizeof(err)), 0);
    uint64_t seed = 12345;
    int r;
    unsigned n = 0;
    while ((r = block_mirror_step(m, n < 600 ? 1 : UINT32_MAX)) == 1) {
        if (n++ < 600)
            guest_writes(src, &seed, 1);
    }
    assert_int_equal(r, 0);
    assert_true(block_mirror_copied(m) > 0);
    struct block_dev *dst;
    assert_int_equal(block_mirror_complete(m, &dst), 0);
    assert_same(src, dst);
    /* The untouched half stayed mostly sparse in the target. */
    struct image_info info;
    assert_int_equal(image_get_info(dst, &info), 0);
    assert_true(info.actual_size < SIZE);
    block_close(dst);
    block_close(src);
    if (!strcmp(dst_fmt, "qcow2") && system("command -v qemu-img >/dev/null 2>&1") == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s'", target);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "qemu-img compare -q '%s' '%s'", tmp("src.img"), target);
        assert_int_equal(system(cmd), 0);
    }
    unlink(target);
}

static void test_qcow2_to_qcow2(void **state)
{
    (void)state;
    mirror_and_compare("qcow2", "qcow2");
}
static void test_qcow2_to_raw(void **state)
{
    (void)state;
    mirror_and_compare("qcow2", "raw");
}
static void test_raw_to_qcow2(void **state)
{
    (void)state;
    mirror_and_compare("raw", "qcow2");
}
static void test_converges_under_writes(void **state)
{
    (void)state;
    mirror_while_writing("qcow2", NULL);
}

static void test_abort_removes_target(void **state)
{
    (void)state;
    struct block_dev *src = make_source("raw");
    const char *target = tmp("aborted.qcow2");
    unlink(target);
    struct block_mirror *m;
    char err[512] = "";
    assert_int_equal(block_mirror_new(src, target, "qcow2", &m, err, sizeof(err)), 0);
    assert_int_equal(block_mirror_step(m, 10), 1);
    assert_non_null(src->write_hook);
    block_mirror_abort(m);
    assert_null(src->write_hook);
    assert_int_equal(access(target, F_OK), -1);
    uint8_t b[512] = {1};
    assert_int_equal(block_write(src, 0, b, sizeof(b)), 0); /* no hook left behind */
    block_close(src);
}

static void test_bad_targets(void **state)
{
    (void)state;
    struct block_dev *src = make_source("raw");
    struct block_mirror *m;
    char err[512] = "";
    /* An existing file is never overwritten. */
    assert_int_equal(block_mirror_new(src, tmp("src.img"), "raw", &m, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(block_mirror_new(src, tmp("x.vmdk"), "vmdk", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(access(tmp("x.vmdk"), F_OK), -1);
    assert_true(block_mirror_new(src, tmp("no/such/dir.img"), "raw", &m, err, sizeof(err)) < 0);
    assert_true(err[0] != 0);
    assert_null(src->write_hook);
    block_close(src);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/wirt-test-mirror-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qcow2_to_qcow2),       cmocka_unit_test(test_qcow2_to_raw),
        cmocka_unit_test(test_raw_to_qcow2),         cmocka_unit_test(test_converges_under_writes),
        cmocka_unit_test(test_abort_removes_target), cmocka_unit_test(test_bad_targets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
