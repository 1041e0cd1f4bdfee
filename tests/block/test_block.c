/* SPDX-License-Identifier: MIT */
/*
 * Block layer unit tests (cmocka): raw and qcow2 drivers through the
 * public API, image locking, backing chains, hostile headers, snapshots,
 * check/repair.  qemu-img (when installed) referees consistency.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "block/block.h"

static char dir[256];

static const char *tmp(const char *name)
{
    static char p[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static bool have_qemu(void)
{
    return system("command -v qemu-img >/dev/null 2>&1") == 0;
}

/* qemu-img check exit status (0 clean, 2 corrupt, 3 leaks), or 0 without QEMU. */
static int qemu_check(const char *path)
{
    if (!have_qemu())
        return 0;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s' >/dev/null 2>&1", path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct block_dev *open_ok(const char *path, unsigned flags)
{
    struct block_dev *bd = NULL;
    char err[512] = "";
    int r = block_open(path, NULL, flags, &bd, err, sizeof(err));
    if (r)
        fprintf(stderr, "open %s: %s\n", path, err);
    assert_int_equal(r, 0);
    return bd;
}

static void create_ok(const char *path, const char *fmt, uint64_t size, uint32_t cs, unsigned rbits)
{
    struct image_create_opts o = {
        .format = fmt, .size = size, .cluster_size = cs, .refcount_bits = rbits};
    char err[512] = "";
    int r = image_create(path, &o, err, sizeof(err));
    if (r)
        fprintf(stderr, "create: %s\n", err);
    assert_int_equal(r, 0);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 9));
}

/* Asserts that the image reads back `want` at off (its own buffer, so callers need none). */
static void assert_content(struct block_dev *bd, uint64_t off, const uint8_t *want, size_t len)
{
    uint8_t *r = malloc(len);
    assert_non_null(r);
    assert_int_equal(block_read(bd, off, r, len), 0);
    assert_memory_equal(want, r, len);
    free(r);
}

/* A fresh 8 MiB qcow2 (4 KiB clusters) holding 1 MiB of fill(seed) at 0, closed again so the
 * test can damage it on disk; returns that data (the caller frees it). */
static uint8_t *create_filled_qcow2(const char *path, unsigned seed)
{
    create_ok(path, "qcow2", 8 << 20, 4096, 16);
    struct block_dev *bd = open_ok(path, 0);
    uint8_t *w = malloc(1 << 20);
    assert_non_null(w);
    fill(w, 1 << 20, seed);
    assert_int_equal(block_write(bd, 0, w, 1 << 20), 0);
    block_close(bd);
    return w;
}

/* The big-endian u64 at off in the file: how the tests find qcow2 metadata to corrupt. */
static uint64_t read_be64(int fd, uint64_t off)
{
    uint8_t b[8];
    assert_int_equal(pread(fd, b, 8, (off_t)off), 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void test_raw_roundtrip(void **state)
{
    (void)state;
    const char *p = tmp("r.raw");
    create_ok(p, "raw", 1 << 20, 0, 0);
    struct block_dev *bd = open_ok(p, 0);
    assert_string_equal(bd->ops->format, "raw");
    assert_int_equal(block_size(bd), 1 << 20);
    uint8_t w[8192], r[8192];
    fill(w, sizeof(w), 1);
    assert_int_equal(block_write(bd, 4096, w, sizeof(w)), 0);
    assert_int_equal(block_flush(bd), 0);
    assert_int_equal(block_read(bd, 4096, r, sizeof(r)), 0);
    assert_memory_equal(w, r, sizeof(w));
    assert_int_equal(block_write_zeroes(bd, 4096, 4096), 0);
    assert_int_equal(block_read(bd, 4096, r, 4096), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(r[i], 0);
    assert_int_equal(block_discard(bd, 0, 1 << 20), 0);
    assert_int_equal(block_read(bd, 8192, r, 4096), 0);
    assert_int_equal(r[0], 0);
    /* Out of range. */
    assert_int_equal(block_read(bd, (1 << 20) - 10, r, 100), -EINVAL);
    uint64_t pnum;
    unsigned st;
    assert_int_equal(image_block_status(bd, 0, 1 << 20, &pnum, &st, NULL), 0);
    assert_true(st & IMAGE_STATUS_ZERO);
    block_close(bd);
}

static void test_qcow2_roundtrip_geometries(void **state)
{
    (void)state;
    static const uint32_t css[] = {512, 4096, 65536, 2u << 20};
    static const unsigned rbs[] = {1, 2, 4, 8, 16, 32, 64};
    uint8_t *w = malloc(300000), *r = malloc(300000);
    for (size_t a = 0; a < 4; a++) {
        for (size_t b = 0; b < 7; b++) {
            const char *p = tmp("g.qcow2");
            create_ok(p, "qcow2", 16 << 20, css[a], rbs[b]);
            struct block_dev *bd = open_ok(p, 0);
            assert_string_equal(bd->ops->format, "qcow2");
            assert_int_equal(image_cluster_size(bd), css[a]);
            fill(w, 300000, (unsigned)(a * 7 + b));
            assert_int_equal(block_write(bd, 12345, w, 300000), 0);
            assert_int_equal(block_write(bd, (16 << 20) - 1000, w, 1000), 0);
            assert_int_equal(block_read(bd, 12345, r, 300000), 0);
            assert_memory_equal(w, r, 300000);
            assert_int_equal(block_read(bd, 0, r, 12345), 0);
            for (int i = 0; i < 12345; i++)
                assert_int_equal(r[i], 0);
            block_close(bd);
            /* Reopen: the metadata reached the disk. */
            bd = open_ok(p, BLOCK_OPEN_READ_ONLY);
            assert_int_equal(block_read(bd, 12345, r, 300000), 0);
            assert_memory_equal(w, r, 300000);
            assert_int_equal(block_read(bd, (16 << 20) - 1000, r, 1000), 0);
            assert_memory_equal(w, r, 1000);
            struct image_check_result res;
            assert_int_equal(image_check(bd, 0, &res), 0);
            assert_int_equal(res.corruptions, 0);
            assert_int_equal(res.leaks, 0);
            struct image_info info;
            assert_int_equal(image_get_info(bd, &info), 0);
            assert_int_equal(info.refcount_bits, rbs[b]);
            assert_int_equal(info.qcow_version, 3);
            block_close(bd);
            assert_int_equal(qemu_check(p), 0);
        }
    }
    free(w);
    free(r);
}

static void test_locking(void **state)
{
    (void)state;
    const char *p = tmp("l.qcow2");
    create_ok(p, "qcow2", 1 << 20, 0, 0);
    struct block_dev *a = open_ok(p, 0), *b = NULL;
    char err[512] = "";
    assert_int_equal(block_open(p, NULL, 0, &b, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "image is in use by another process"));
    /* A reader (a readonly=on disk) is kept away from an image being written, as QEMU's are:
     * what it reads could change under it. */
    assert_int_equal(block_open(p, NULL, BLOCK_OPEN_READ_ONLY, &b, err, sizeof(err)), -EBUSY);
    /* ... unless it opts out of locking (`info`, -U). */
    struct block_dev *r1 = open_ok(p, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK);
    block_close(r1);
    block_close(a);
    /* Readers coexist, and keep writers out. */
    r1 = open_ok(p, BLOCK_OPEN_READ_ONLY);
    struct block_dev *r2 = open_ok(p, BLOCK_OPEN_READ_ONLY);
    assert_int_equal(block_open(p, NULL, 0, &b, err, sizeof(err)), -EBUSY);
    block_close(r1);
    assert_int_equal(block_open(p, NULL, 0, &b, err, sizeof(err)), -EBUSY);
    /* A reader that hands its image over (block_unlock) lets a writer in. */
    block_unlock(r2);
    a = open_ok(p, 0);
    block_close(a);
    block_close(r2);
    /* Re-creating an image in use is refused. */
    a = open_ok(p, BLOCK_OPEN_READ_ONLY);
    struct image_create_opts o = {.format = "qcow2", .size = 1 << 20};
    assert_int_equal(image_create(p, &o, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "in use"));
    block_close(a);
    /* Writer after writer released works again. */
    a = open_ok(p, 0);
    block_close(a);
}

static void test_backing_chain(void **state)
{
    (void)state;
    const char *base = tmp("base.raw");
    create_ok(base, "raw", 4 << 20, 0, 0);
    struct block_dev *b = open_ok(base, 0);
    uint8_t *w = malloc(4 << 20), *r = malloc(4 << 20);
    fill(w, 4 << 20, 3);
    assert_int_equal(block_write(b, 0, w, 4 << 20), 0);
    block_close(b);
    struct image_create_opts o = {.format = "qcow2",
                                  .backing_file = "base.raw",
                                  .backing_format = "raw",
                                  .cluster_size = 4096};
    char err[512];
    assert_int_equal(image_create(tmp("mid.qcow2"), &o, err, sizeof(err)), 0);
    o.backing_file = "mid.qcow2";
    o.backing_format = NULL; /* probed */
    assert_int_equal(image_create(tmp("top.qcow2"), &o, err, sizeof(err)), 0);
    struct block_dev *t = open_ok(tmp("top.qcow2"), 0);
    assert_int_equal(block_size(t), 4 << 20);
    assert_non_null(t->backing);
    assert_non_null(t->backing->backing);
    assert_int_equal(block_read(t, 0, r, 4 << 20), 0);
    assert_memory_equal(w, r, 4 << 20);
    /* Partial-cluster write: copy-on-write keeps the neighbours. */
    uint8_t x[100];
    memset(x, 0xee, sizeof(x));
    memset(w + 5000, 0xee, sizeof(x));
    assert_int_equal(block_write(t, 5000, x, sizeof(x)), 0);
    assert_int_equal(block_read(t, 0, r, 4 << 20), 0);
    assert_memory_equal(w, r, 4 << 20);
    uint64_t pnum;
    unsigned st;
    assert_int_equal(image_block_status(t, 4096, 4096, &pnum, &st, NULL), 0);
    assert_true(st & IMAGE_STATUS_ALLOCATED);
    assert_int_equal(image_block_status(t, 8192, 4096, &pnum, &st, NULL), 0);
    assert_false(st & IMAGE_STATUS_ALLOCATED);
    assert_true(st & IMAGE_STATUS_DATA);
    block_close(t);
    assert_int_equal(qemu_check(tmp("top.qcow2")), 0);
    free(w);
    free(r);
}

static void test_backing_errors(void **state)
{
    (void)state;
    struct image_create_opts o = {.format = "qcow2", .size = 1 << 20};
    char err[512];
    /* Missing at create time: refused. */
    o.backing_file = "nonexistent.qcow2";
    assert_int_not_equal(image_create(tmp("x.qcow2"), &o, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "nonexistent.qcow2"));
    /* A loop a -> b -> a, made with change_backing. */
    o.backing_file = NULL;
    assert_int_equal(image_create(tmp("la.qcow2"), &o, err, sizeof(err)), 0);
    o.backing_file = "la.qcow2";
    assert_int_equal(image_create(tmp("lb.qcow2"), &o, err, sizeof(err)), 0);
    struct block_dev *a = open_ok(tmp("la.qcow2"), BLOCK_OPEN_NO_BACKING);
    assert_int_equal(image_change_backing(a, "lb.qcow2", "qcow2"), 0);
    block_close(a);
    struct block_dev *bd = NULL;
    err[0] = 0;
    assert_int_equal(block_open(tmp("lb.qcow2"), NULL, 0, &bd, err, sizeof(err)), -ELOOP);
    assert_non_null(strstr(err, "loop"));
    /* Removing the backing file of la breaks the loop. */
    a = open_ok(tmp("la.qcow2"), BLOCK_OPEN_NO_BACKING);
    assert_int_equal(image_change_backing(a, NULL, NULL), 0);
    block_close(a);
    bd = open_ok(tmp("lb.qcow2"), 0);
    block_close(bd);
    /* Missing backing file at open: named in the error. */
    unlink(tmp("la.qcow2"));
    err[0] = 0;
    assert_int_equal(block_open(tmp("lb.qcow2"), NULL, 0, &bd, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "la.qcow2"));
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8),
    b[3] = (uint8_t)v;
}

/* Patches a big-endian field of a fresh image and expects open to fail. */
static void expect_hostile(size_t off, const void *bytes, size_t n, const char *msg)
{
    const char *p = tmp("h.qcow2");
    create_ok(p, "qcow2", 1 << 20, 0, 0);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
    struct block_dev *bd = NULL;
    char err[512] = "";
    assert_true(block_open(p, "qcow2", 0, &bd, err, sizeof(err)) < 0);
    assert_null(bd);
    if (msg && !strstr(err, msg))
        fail_msg("error '%s' does not contain '%s'", err, msg);
}

static void test_hostile_headers(void **state)
{
    (void)state;
    uint8_t b[8] = {0};
    put32(b, 5);
    expect_hostile(4, b, 4, "version");
    put32(b, 8);
    expect_hostile(20, b, 4, "cluster size");
    put32(b, 0x7fffffff);
    expect_hostile(36, b, 4, "L1 table");
    uint8_t inc[8] = {0, 0, 0, 0, 0, 0, 0x01, 0x10};
    expect_hostile(72, inc, 8, "incompatible feature bits: 4 (extended L2 entries), 8");
    put32(b, 7);
    expect_hostile(96, b, 4, "refcount order");
    uint8_t off[8] = {0, 0, 0, 0, 0, 0, 0x12, 0x34};
    expect_hostile(48, off, 8, "refcount table");
    put32(b, 0xffffffff);
    expect_hostile(56, b, 4, "refcount table");
    put32(b, 1);
    expect_hostile(32, b, 4, "encrypted");
    put32(b, 100000);
    expect_hostile(60, b, 4, "snapshot");
    /* Backing file name length beyond the cluster. */
    uint8_t bo[12] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xff, 0xff};
    expect_hostile(8, bo, 12, "backing file");
    /* Header extension longer than the cluster. */
    uint8_t ext[8] = {0x12, 0x34, 0x56, 0x78, 0x7f, 0xff, 0xff, 0xff};
    expect_hostile(112, ext, 8, "extension");
}

static void test_hostile_l2(void **state)
{
    (void)state;
    const char *p = tmp("l2.qcow2");
    create_ok(p, "qcow2", 1 << 20, 4096, 0);
    struct block_dev *bd = open_ok(p, 0);
    uint8_t x[4096] = {1};
    assert_int_equal(block_write(bd, 0, x, sizeof(x)), 0);
    block_close(bd);
    /* Find the L2 table through the L1 entry and point entry 0 far away. */
    int fd = open(p, O_RDWR);
    uint8_t h[48];
    assert_int_equal(pread(fd, h, 48, 0), 48);
    uint64_t l1 = 0;
    for (int i = 0; i < 8; i++)
        l1 = l1 << 8 | h[40 + i];
    uint8_t e[8];
    assert_int_equal(pread(fd, e, 8, (off_t)l1), 8);
    uint64_t l2 = 0;
    for (int i = 0; i < 8; i++)
        l2 = l2 << 8 | e[i];
    l2 &= 0x00fffffffffffe00ULL;
    uint8_t bad[8] = {0x80, 0, 0x00, 0x10, 0, 0, 0, 0}; /* 16 TiB */
    assert_int_equal(pwrite(fd, bad, 8, (off_t)l2), 8);
    close(fd);
    bd = open_ok(p, BLOCK_OPEN_READ_ONLY);
    uint8_t r[512];
    assert_int_equal(block_read(bd, 0, r, sizeof(r)), -EIO);
    assert_int_equal(block_read(bd, 8192, r, sizeof(r)), 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_true(res.corruptions > 0);
    block_close(bd);
}

static void test_compressed(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        const char *p = tmp("c.qcow2");
        struct image_create_opts o = {
            .format = "qcow2", .size = 4 << 20, .compression_type = z ? "zstd" : "zlib"};
        char err[512];
        assert_int_equal(image_create(p, &o, err, sizeof(err)), 0);
        struct block_dev *bd = open_ok(p, 0);
        uint8_t *w = malloc(1 << 20), *r = malloc(1 << 20);
        for (int i = 0; i < (1 << 20); i++)
            w[i] = (uint8_t)(i / 1000);
        assert_int_equal(image_write_compressed(bd, 0, w, 1 << 20), 0);
        assert_int_equal(image_write_compressed(bd, 1000, w, 65536), -EINVAL);
        assert_int_equal(block_read(bd, 0, r, 1 << 20), 0);
        assert_memory_equal(w, r, 1 << 20);
        uint64_t pnum;
        unsigned st;
        assert_int_equal(image_block_status(bd, 0, 65536, &pnum, &st, NULL), 0);
        assert_true(st & IMAGE_STATUS_COMPRESSED);
        /* Overwrite part of a compressed cluster. */
        memset(w + 70000, 0x5a, 300);
        assert_int_equal(block_write(bd, 70000, w + 70000, 300), 0);
        assert_int_equal(block_read(bd, 0, r, 1 << 20), 0);
        assert_memory_equal(w, r, 1 << 20);
        struct image_info info;
        assert_int_equal(image_get_info(bd, &info), 0);
        assert_string_equal(info.compression_type, z ? "zstd" : "zlib");
        block_close(bd);
        assert_int_equal(qemu_check(p), 0);
        free(w);
        free(r);
    }
}

static void test_snapshots(void **state)
{
    (void)state;
    const char *p = tmp("s.qcow2");
    create_ok(p, "qcow2", 2 << 20, 4096, 16);
    struct block_dev *bd = open_ok(p, 0);
    uint8_t a[8192], b[8192], r[8192];
    memset(a, 0xaa, sizeof(a));
    memset(b, 0xbb, sizeof(b));
    assert_int_equal(block_write(bd, 0, a, sizeof(a)), 0);
    assert_int_equal(image_snapshot_create(bd, "first"), 0);
    assert_int_equal(image_snapshot_create(bd, "first"), -EEXIST);
    assert_int_equal(block_write(bd, 4096, b, 4096), 0);
    assert_int_equal(image_snapshot_create(bd, "second"), 0);
    struct image_snapshot *v;
    unsigned n;
    assert_int_equal(image_snapshot_list(bd, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "first");
    assert_string_equal(v[1].id, "2");
    assert_int_equal(v[1].disk_size, 2 << 20);
    free(v);
    assert_int_equal(image_snapshot_apply(bd, "first"), 0);
    assert_int_equal(block_read(bd, 0, r, sizeof(r)), 0);
    assert_memory_equal(a, r, sizeof(r));
    assert_int_equal(image_snapshot_apply(bd, "2"), 0);
    assert_int_equal(block_read(bd, 4096, r, 4096), 0);
    assert_memory_equal(b, r, 4096);
    assert_int_equal(image_snapshot_apply(bd, "nope"), -ENOENT);
    assert_int_equal(image_snapshot_delete(bd, "first"), 0);
    assert_int_equal(image_snapshot_delete(bd, "second"), 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(res.leaks, 0);
    block_close(bd);
    assert_int_equal(qemu_check(p), 0);
}

static void test_check_repair_leaks(void **state)
{
    (void)state;
    const char *p = tmp("k.qcow2");
    create_ok(p, "qcow2", 1 << 20, 4096, 16);
    struct block_dev *bd = open_ok(p, 0);
    uint8_t x[4096] = {7};
    assert_int_equal(block_write(bd, 0, x, sizeof(x)), 0);
    block_close(bd);
    /* Leak a cluster: raise its refcount behind the driver's back by
     * appending a cluster and marking it used in refcount block 0. */
    int fd = open(p, O_RDWR);
    struct stat st;
    fstat(fd, &st);
    uint64_t leaked = (uint64_t)st.st_size / 4096;
    assert_int_equal(ftruncate(fd, (off_t)(leaked + 1) * 4096), 0);
    uint64_t rt = read_be64(fd, 48); /* header: refcount_table_offset */
    uint64_t rb = read_be64(fd, rt);
    uint8_t one[2] = {0, 1};
    assert_int_equal(pwrite(fd, one, 2, (off_t)(rb + 2 * leaked)), 2);
    close(fd);
    assert_int_equal(qemu_check(p), have_qemu() ? 3 : 0);
    bd = open_ok(p, 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_int_equal(res.leaks, 1);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(image_check(bd, IMAGE_REPAIR_LEAKS, &res), 0);
    assert_int_equal(res.leaks_fixed, 1);
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_int_equal(res.leaks, 0);
    block_close(bd);
    assert_int_equal(qemu_check(p), 0);
}

static void test_check_repair_corruption(void **state)
{
    (void)state;
    const char *p = tmp("cr.qcow2");
    uint8_t *w = create_filled_qcow2(p, 9);
    /* Zero the refcounts of 11 clusters in use: they could be handed out twice. */
    int fd = open(p, O_RDWR);
    uint8_t z[22] = {0};
    uint64_t rb = read_be64(fd, read_be64(fd, 48));
    assert_int_equal(pwrite(fd, z, sizeof(z), (off_t)(rb + 2 * 10)), (ssize_t)sizeof(z));
    close(fd);
    assert_int_equal(qemu_check(p), have_qemu() ? 2 : 0);
    struct block_dev *bd = open_ok(p, 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, IMAGE_REPAIR_LEAKS, &res), 0);
    assert_true(res.corruptions >= 11); /* leaks-only repair leaves them */
    assert_int_equal(image_check(bd, IMAGE_REPAIR_ALL, &res), 0);
    assert_int_equal(res.corruptions_fixed, 11);
    assert_int_equal(res.corruptions, 0);
    assert_content(bd, 0, w, 1 << 20);
    block_close(bd);
    assert_int_equal(qemu_check(p), 0);
    free(w);
}

static void test_check_repair_missing_refblock(void **state)
{
    (void)state;
    const char *p = tmp("mr.qcow2");
    uint8_t *w = create_filled_qcow2(p, 11);
    /* Drop the only refcount block from the refcount table. */
    int fd = open(p, O_RDWR);
    uint8_t z[8] = {0};
    assert_int_equal(pwrite(fd, z, 8, (off_t)read_be64(fd, 48)), 8);
    close(fd);
    struct block_dev *bd = open_ok(p, 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, IMAGE_REPAIR_ALL, &res), 0);
    assert_true(res.corruptions_fixed > 256);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_int_equal(res.corruptions + res.leaks, 0);
    assert_content(bd, 0, w, 1 << 20);
    block_close(bd);
    assert_int_equal(qemu_check(p), 0);
    free(w);
}

static void test_zero_discard_status(void **state)
{
    (void)state;
    const char *p = tmp("z.qcow2");
    create_ok(p, "qcow2", 4 << 20, 65536, 16);
    struct block_dev *bd = open_ok(p, 0);
    uint8_t *w = malloc(1 << 20), *r = malloc(1 << 20);
    memset(w, 0x77, 1 << 20);
    assert_int_equal(block_write(bd, 0, w, 1 << 20), 0);
    assert_int_equal(block_write_zeroes(bd, 1000, 200000), 0);
    memset(w + 1000, 0, 200000);
    assert_int_equal(block_discard(bd, 524288, 262144), 0);
    memset(w + 524288, 0, 262144);
    assert_int_equal(block_read(bd, 0, r, 1 << 20), 0);
    assert_memory_equal(w, r, 1 << 20);
    uint64_t pnum;
    unsigned st;
    uint64_t host;
    assert_int_equal(image_block_status(bd, 0, 65536, &pnum, &st, &host), 0);
    assert_int_equal(st, IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED);
    assert_true(host != 0);
    assert_int_equal(image_block_status(bd, 524288, 1 << 20, &pnum, &st, NULL), 0);
    assert_true(st & IMAGE_STATUS_ZERO);
    assert_int_equal(pnum, 262144);
    assert_int_equal(block_flush(bd), 0);
    struct image_check_result res;
    assert_int_equal(image_check(bd, 0, &res), 0);
    assert_int_equal(res.corruptions + res.leaks, 0);
    /* 16 data clusters written, 2 + 4 freed again. */
    assert_int_equal(res.allocated_clusters, 16 - 2 - 4);
    /* Growing the disk keeps the data. */
    assert_int_equal(image_truncate(bd, 64ULL << 30), 0);
    assert_int_equal(block_size(bd), 64ULL << 30);
    assert_int_equal(block_write(bd, (64ULL << 30) - 4096, w, 4096), 0);
    assert_int_equal(block_read(bd, 0, r, 1 << 20), 0);
    assert_memory_equal(w, r, 1 << 20);
    block_close(bd);
    assert_int_equal(qemu_check(p), 0);
    free(w);
    free(r);
}

static void test_probe_and_formats(void **state)
{
    (void)state;
    assert_true(block_format_known("raw"));
    assert_true(block_format_known("qcow2"));
    assert_false(block_format_known("nope"));
    create_ok(tmp("p.qcow2"), "qcow2", 1 << 20, 0, 0);
    struct block_dev *bd = open_ok(tmp("p.qcow2"), BLOCK_OPEN_READ_ONLY);
    assert_string_equal(bd->ops->format, "qcow2");
    uint8_t x[512] = {0};
    assert_int_equal(block_write(bd, 0, x, sizeof(x)), -EROFS);
    block_close(bd);
    /* Opening a qcow2 image as raw sees the qcow2 file itself. */
    struct block_dev *raw = NULL;
    char err[256];
    assert_int_equal(
        block_open(tmp("p.qcow2"), "raw", BLOCK_OPEN_READ_ONLY, &raw, err, sizeof(err)), 0);
    assert_string_equal(raw->ops->format, "raw");
    block_close(raw);
    assert_int_equal(block_open(tmp("p.qcow2"), "bogus", 0, &raw, err, sizeof(err)), -EINVAL);
}

/* The backing file of an image in use is as protected as the image: a VM's chain keeps
 * writers off every file in it. */
static void test_locking_covers_backing_chain(void **state)
{
    (void)state;
    create_ok(tmp("lb-base.qcow2"), "qcow2", 1 << 20, 0, 0);
    struct image_create_opts o = {
        .format = "qcow2", .backing_file = "lb-base.qcow2", .backing_format = "qcow2"};
    char err[512] = "";
    assert_int_equal(image_create(tmp("lb-top.qcow2"), &o, err, sizeof(err)), 0);
    struct block_dev *vm = open_ok(tmp("lb-top.qcow2"), 0), *bd = NULL;
    assert_int_equal(block_open(tmp("lb-base.qcow2"), NULL, 0, &bd, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "in use"));
    block_close(vm);
    /* The same from a read-only user of the overlay. */
    vm = open_ok(tmp("lb-top.qcow2"), BLOCK_OPEN_READ_ONLY);
    assert_int_equal(block_open(tmp("lb-base.qcow2"), NULL, 0, &bd, err, sizeof(err)), -EBUSY);
    assert_int_equal(block_open(tmp("lb-top.qcow2"), NULL, 0, &bd, err, sizeof(err)), -EBUSY);
    block_close(vm);
    bd = open_ok(tmp("lb-base.qcow2"), 0);
    block_close(bd);
}

/* What probing sees in the first 4 KiB of a probed raw image must stay raw, whatever the writes
 * (whole, split, zeroing), else a guest could plant a qcow2 header naming a host file as its
 * backing file.  An explicit format=raw has no such limit. */
static void test_probed_raw_keeps_its_format(void **state)
{
    (void)state;
    const char *p = tmp("probed.raw");
    create_ok(p, "raw", 1 << 20, 0, 0);
    uint8_t hdr[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    uint8_t plain[512];
    memset(plain, 0x5a, sizeof(plain));
    struct block_dev *bd = open_ok(p, 0);
    assert_true(bd->probed);
    assert_int_equal(block_write(bd, 0, hdr, sizeof(hdr)), -EPERM);
    assert_int_equal(block_write(bd, 0, hdr, 4), -EPERM);    /* the magic alone, split off */
    assert_int_equal(block_write(bd, 0, "KDMV", 4), -EPERM); /* a VMDK, too */
    assert_int_equal(block_write(bd, 0, plain, sizeof(plain)), 0);
    assert_int_equal(block_write(bd, 4096, hdr, sizeof(hdr)), 0); /* outside the probe window */
    assert_int_equal(block_write_zeroes(bd, 0, 8192), 0);
    assert_int_equal(block_discard(bd, 0, 8192), 0);
    block_close(bd);
    uint8_t head[512];
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, head, 4, 0), 4);
    close(fd);
    assert_memory_not_equal(head, hdr, 4);
    /* The user said raw: the guest owns every byte. */
    struct block_dev *raw = NULL;
    char err[256];
    assert_int_equal(block_open(p, "raw", 0, &raw, err, sizeof(err)), 0);
    assert_false(raw->probed);
    assert_int_equal(block_write(raw, 0, hdr, sizeof(hdr)), 0);
    block_close(raw);
}

/* A guest's disk whose format was probed must not pull in a backing file: the header naming
 * it may be the guest's own work.  `wirt img` (no BLOCK_OPEN_GUEST) and explicit formats may. */
static void test_guest_refuses_backing_of_probed_image(void **state)
{
    (void)state;
    const char *secret = tmp("host-secret.raw");
    create_ok(secret, "raw", 1 << 20, 0, 0);
    struct image_create_opts o = {
        .format = "qcow2", .backing_file = "host-secret.raw", .backing_format = "raw"};
    char err[512] = "";
    assert_int_equal(image_create(tmp("planted.qcow2"), &o, err, sizeof(err)), 0);
    struct block_dev *bd = NULL;
    err[0] = 0;
    assert_int_equal(
        block_open(tmp("planted.qcow2"), NULL, BLOCK_OPEN_GUEST, &bd, err, sizeof(err)), -EPERM);
    assert_null(bd);
    assert_non_null(strstr(err, "probed"));
    assert_non_null(strstr(err, "host-secret.raw"));
    assert_int_equal(
        block_open(tmp("planted.qcow2"), "qcow2", BLOCK_OPEN_GUEST, &bd, err, sizeof(err)), 0);
    block_close(bd);
    bd = open_ok(tmp("planted.qcow2"), BLOCK_OPEN_READ_ONLY);
    assert_non_null(bd->backing);
    block_close(bd);
    /* Deeper: an explicit top whose backing file is probed (no backing format recorded) and
     * itself has a backing file. */
    create_ok(tmp("over.qcow2"), "qcow2", 1 << 20, 0, 0);
    bd = open_ok(tmp("over.qcow2"), 0);
    assert_int_equal(image_change_backing(bd, "planted.qcow2", NULL), 0);
    block_close(bd);
    assert_int_equal(
        block_open(tmp("over.qcow2"), "qcow2", BLOCK_OPEN_GUEST, &bd, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "host-secret.raw"));
    o.backing_file = "planted.qcow2";
    o.backing_format = "qcow2";
    assert_int_equal(image_create(tmp("over2.qcow2"), &o, err, sizeof(err)), 0);
    assert_int_equal(
        block_open(tmp("over2.qcow2"), "qcow2", BLOCK_OPEN_GUEST, &bd, err, sizeof(err)), 0);
    block_close(bd);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "blocked on a FIFO\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

/* A FIFO or a character device is no image: refused at once, without waiting for a writer or
 * reading from it. */
static void test_not_a_disk(void **state)
{
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(20);
    const char *fifo = tmp("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct block_dev *bd = NULL;
    char err[512] = "";
    assert_int_equal(block_open(fifo, NULL, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(block_open(fifo, "raw", 0, &bd, err, sizeof(err)), -EINVAL);
    assert_int_equal(block_open("/dev/zero", NULL, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
                     -EINVAL);
    /* As a backing file. */
    struct image_create_opts o = {
        .format = "qcow2", .size = 1 << 20, .backing_file = "fifo", .backing_format = "raw"};
    assert_int_not_equal(image_create(tmp("onfifo.qcow2"), &o, err, sizeof(err)), 0);
    /* As a target. */
    struct image_create_opts t = {.format = "qcow2", .size = 1 << 20};
    assert_int_equal(image_create(fifo, &t, err, sizeof(err)), -EINVAL);
    alarm(0);
}

/* Backing file names qemu-img could not open again are never written. */
static void test_backing_name_limit(void **state)
{
    (void)state;
    char name[BLOCK_BACKING_NAME_MAX + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    create_ok(tmp("nl.qcow2"), "qcow2", 1 << 20, 0, 0);
    struct block_dev *bd = open_ok(tmp("nl.qcow2"), BLOCK_OPEN_NO_BACKING);
    assert_int_equal(image_change_backing(bd, name, "qcow2"), -ENAMETOOLONG);
    assert_int_equal(image_change_backing(bd, "base.qcow2", "nonsense"), -EINVAL);
    name[BLOCK_BACKING_NAME_MAX] = 0; /* exactly the limit: fine */
    assert_int_equal(image_change_backing(bd, name, "qcow2"), 0);
    block_close(bd);
    bd = open_ok(tmp("nl.qcow2"), BLOCK_OPEN_NO_BACKING);
    block_close(bd);
    name[BLOCK_BACKING_NAME_MAX] = 'n';
    char err[256] = "";
    assert_int_equal(block_check_backing_name(name, NULL, err, sizeof(err)), -ENAMETOOLONG);
    assert_non_null(strstr(err, "1023"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/wirt-block-test-XXXXXX");
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
        cmocka_unit_test(test_raw_roundtrip),
        cmocka_unit_test(test_qcow2_roundtrip_geometries),
        cmocka_unit_test(test_locking),
        cmocka_unit_test(test_backing_chain),
        cmocka_unit_test(test_backing_errors),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_hostile_l2),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_check_repair_leaks),
        cmocka_unit_test(test_check_repair_corruption),
        cmocka_unit_test(test_check_repair_missing_refblock),
        cmocka_unit_test(test_zero_discard_status),
        cmocka_unit_test(test_probe_and_formats),
        cmocka_unit_test(test_locking_covers_backing_chain),
        cmocka_unit_test(test_probed_raw_keeps_its_format),
        cmocka_unit_test(test_guest_refuses_backing_of_probed_image),
        cmocka_unit_test(test_not_a_disk),
        cmocka_unit_test(test_backing_name_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
