/* SPDX-License-Identifier: MIT */
/*
 * qcow2 metadata overlap checks (cmocka), from inside the driver: the index
 * of metadata clusters follows allocations and frees without false alarms,
 * and data clusters allocated since the last metadata flush (which may end
 * past the end of the file) are readable and writable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "block/qcow2.h"

static char dir[256];

static const char *tmp(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static struct block_dev *create_open(const char *name, uint64_t size, uint32_t cs)
{
    struct image_create_opts o = {.format = "qcow2", .size = size, .cluster_size = cs};
    char err[512] = "";
    assert_int_equal(image_create(tmp(name), &o, err, sizeof(err)), 0);
    struct block_dev *bd = NULL;
    assert_int_equal(block_open(tmp(name), NULL, 0, &bd, err, sizeof(err)), 0);
    return bd;
}

/* Two partial writes into one fresh cluster and a read of it, before any metadata flush:
 * the cluster ends past the file's end until the flush extends the file. */
static void test_fresh_cluster_partial_io(void **state)
{
    (void)state;
    struct block_dev *bd = create_open("fresh.qcow2", 1 << 20, 65536);
    uint8_t a[512], b[512], r[8192];
    memset(a, 0xa1, sizeof(a));
    memset(b, 0xb2, sizeof(b));
    assert_int_equal(block_write(bd, 0, a, sizeof(a)), 0);
    assert_int_equal(block_write(bd, 4096, b, sizeof(b)), 0);
    assert_int_equal(block_read(bd, 0, r, sizeof(r)), 0);
    assert_memory_equal(r, a, sizeof(a));
    assert_memory_equal(r + 4096, b, sizeof(b));
    for (size_t i = 512; i < 4096; i++)
        assert_int_equal(r[i], 0);
    block_close(bd);
}

/* The index knows the fixed tables, the L2 tables and refcount blocks as they appear, and
 * forgets clusters whose refcount drops to zero (they may become data). */
static void test_index_follows_allocation(void **state)
{
    (void)state;
    /* 512-byte clusters: hundreds of L2 tables and refcount blocks; the hash set grows. */
    struct block_dev *bd = create_open("idx.qcow2", 64 << 20, 512);
    struct qcow2 *s = bd->priv;
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    memset(buf, 0x5c, 1 << 20);
    /* Build the index early, then let it follow thousands of new tables. */
    assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL, 0, 1), QCOW2_META_HEADER);
    for (uint64_t off = 0; off < (64 << 20); off += 4 << 20)
        assert_int_equal(block_write(bd, off, buf, 1 << 20), 0);
    assert_int_equal(block_flush(bd), 0);
    assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL, s->l1_offset, 8), QCOW2_META_L1);
    assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL, s->rt_offset + 8, 8), QCOW2_META_RT);
    unsigned l2s = 0;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2 = s->l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2)
            continue;
        l2s++;
        assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL, l2 + 100, 1), QCOW2_META_L2);
        assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL & ~QCOW2_META_L2, l2, 512), 0);
    }
    assert_int_equal(l2s, 16 * 32); /* 1 MiB every 4 MiB, 32 KiB per L2 table */
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t rb = s->rt[i] & QCOW2_RTE_OFFSET_MASK;
        if (rb)
            assert_int_equal(qcow2_meta_overlap(s, QCOW2_META_ALL, rb, 512), QCOW2_META_RB);
    }
    /* Every data cluster is plain data. */
    uint8_t r[512];
    for (uint64_t off = 0; off < (64 << 20); off += 4 << 20) {
        assert_int_equal(block_read(bd, off + (1 << 20) - 512, r, sizeof(r)), 0);
        assert_int_equal(r[0], 0x5c);
    }
    /* Discard everything, rewrite it: freed clusters come back as data with no alarm. */
    assert_int_equal(block_discard(bd, 0, 64 << 20), 0);
    assert_int_equal(block_flush(bd), 0);
    memset(buf, 0x6d, 1 << 20);
    for (uint64_t off = 0; off < (64 << 20); off += 4 << 20)
        assert_int_equal(block_write(bd, off + 512, buf, 1 << 20), 0);
    assert_int_equal(block_flush(bd), 0);
    assert_false(s->corrupt_signalled);
    free(buf);
    block_close(bd);
    if (system("command -v qemu-img >/dev/null 2>&1") == 0) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s'", tmp("idx.qcow2"));
        assert_int_equal(system(cmd), 0);
    }
}

static void patch(const char *path, uint64_t off, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static uint64_t read_be64(const char *path, uint64_t off)
{
    uint8_t b[8];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, b, 8, (off_t)off), 8);
    close(fd);
    return qcow2_be64(b);
}

static void expect_open_error(const char *path, const char *msg)
{
    struct block_dev *bd = NULL;
    char err[512] = "";
    assert_true(block_open(path, "qcow2", BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)) < 0);
    assert_null(bd);
    if (!strstr(err, msg) || !strstr(err, path))
        fail_msg("error '%s' does not name the file and '%s'", err, msg);
}

/* Header fields the spec constrains: the v3 header length is a multiple of 8. */
static void test_header_length_multiple_of_8(void **state)
{
    (void)state;
    block_close(create_open("hl.qcow2", 1 << 20, 65536));
    uint8_t hl[4] = {0, 0, 0, 108};
    patch(tmp("hl.qcow2"), 100, hl, 4);
    expect_open_error(tmp("hl.qcow2"), "invalid header length 108");
}

/* A snapshot's disk size must fit its L1 table: applying it would give the disk a size no L1
 * table covers (and a header no one can open). */
static void test_snapshot_disk_size(void **state)
{
    (void)state;
    struct block_dev *bd = create_open("sd.qcow2", 1 << 20, 65536);
    assert_int_equal(image_snapshot_create(bd, "s"), 0);
    block_close(bd);
    uint64_t table = read_be64(tmp("sd.qcow2"), 64);
    uint8_t huge[8];
    qcow2_put64(huge, 1ULL << 50);
    patch(tmp("sd.qcow2"), table + 40 + 8, huge, 8); /* extra data: vm state size, disk size */
    expect_open_error(tmp("sd.qcow2"), "snapshot '1' has an invalid disk size");
}

/* Two L1 entries naming one L2 table: a write through either would change only its own cached
 * copy, and the flush of one copy would undo the other's allocations. */
static void test_l2_named_twice(void **state)
{
    (void)state;
    struct block_dev *bd = create_open("dup.qcow2", 65536, 512); /* 2 L1 entries */
    uint8_t buf[512];
    memset(buf, 0x11, sizeof(buf));
    assert_int_equal(block_write(bd, 0, buf, sizeof(buf)), 0);
    block_close(bd);
    const char *p = tmp("dup.qcow2");
    uint64_t l1 = read_be64(p, 40);
    uint8_t e[8];
    qcow2_put64(e, read_be64(p, l1));
    patch(p, l1 + 8, e, 8);
    struct block_dev *w = NULL;
    char err[512] = "";
    assert_int_equal(block_open(p, NULL, 0, &w, err, sizeof(err)), 0);
    assert_int_equal(block_write(w, 32768 + 512, buf, sizeof(buf)), -EIO);
    block_close(w);
    uint8_t h[8];
    int fd = open(p, O_RDONLY);
    assert_int_equal(pread(fd, h, 8, 72), 8);
    close(fd);
    assert_true(qcow2_be64(h) & QCOW2_INCOMPAT_CORRUPT);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/wirt-qcow2-meta-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_cluster_partial_io),
        cmocka_unit_test(test_index_follows_allocation),
        cmocka_unit_test(test_header_length_multiple_of_8),
        cmocka_unit_test(test_snapshot_disk_size),
        cmocka_unit_test(test_l2_named_twice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
