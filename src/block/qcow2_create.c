/* SPDX-License-Identifier: MIT */
/*
 * qcow2 image creation (version 3).  Layout: header cluster, refcount
 * table, refcount blocks, L1 table, then (with preallocation) every L2
 * table and every data cluster, each referenced exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

static int write_zeroes_fd(int fd, uint64_t off, uint64_t len)
{
    size_t bs = 1 << 20;
    uint8_t *z = calloc(1, bs);
    if (!z)
        return -ENOMEM;
    int r = 0;
    while (len && !r) {
        uint64_t n = len < bs ? len : bs;
        r = block_pwrite_full(fd, z, n, off);
        off += n;
        len -= n;
    }
    free(z);
    return r;
}

int qcow2_create(const char *path, const struct image_create_opts *o, char *err, size_t errlen)
{
    uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
        block_set_err(err, errlen, "%s: cluster size must be a power of two from 512 to 2M", path);
        return -EINVAL;
    }
    unsigned bits = o->refcount_bits ? o->refcount_bits : 16;
    if (bits > 64 || (bits & (bits - 1))) {
        block_set_err(err, errlen, "%s: refcount bits must be a power of two from 1 to 64", path);
        return -EINVAL;
    }
    const char *pre = o->preallocation ? o->preallocation : "off";
    int pmode = !strcmp(pre, "off")        ? 0
                : !strcmp(pre, "metadata") ? 1
                : !strcmp(pre, "falloc")   ? 2
                : !strcmp(pre, "full")     ? 3
                                           : -1;
    if (pmode < 0) {
        block_set_err(err, errlen, "%s: invalid preallocation mode '%s'", path, pre);
        return -EINVAL;
    }
    uint8_t ctype = 0;
    if (o->compression_type && strcmp(o->compression_type, "zlib")) {
        if (strcmp(o->compression_type, "zstd")) {
            block_set_err(err, errlen, "%s: unknown compression type '%s'", path,
                          o->compression_type);
            return -EINVAL;
        }
        ctype = QCOW2_COMP_ZSTD;
    }
    if (o->backing_file && pmode) {
        block_set_err(err, errlen, "%s: preallocation is not supported with a backing file", path);
        return -EINVAL;
    }
    uint64_t size = o->size;
    char bfmt[16] = "";
    if (o->backing_file) {
        if (strlen(o->backing_file) > 1023) {
            block_set_err(err, errlen, "%s: backing file name too long", path);
            return -ENAMETOOLONG;
        }
        char bpath[4096];
        if (!block_backing_path(path, o->backing_file, bpath, sizeof(bpath))) {
            block_set_err(err, errlen, "%s: backing file name too long", path);
            return -ENAMETOOLONG;
        }
        struct block_dev *b;
        char e[512];
        int r = block_open(bpath, o->backing_format, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &b,
                           e, sizeof(e));
        if (r) {
            block_set_err(err, errlen, "%s: could not open backing file '%s': %s", path,
                          o->backing_file, e);
            return r;
        }
        if (!size)
            size = block_size(b);
        snprintf(bfmt, sizeof(bfmt), "%s", o->backing_format ? o->backing_format : b->ops->format);
        block_close(b);
    }
    unsigned order = 0;
    while ((1u << order) < bits)
        order++;
    unsigned cb = 0;
    while ((1ULL << cb) < cs)
        cb++;
    uint64_t l2e = cs / 8;
    uint64_t span = cs * l2e;
    uint64_t l1_size = (size + span - 1) / span;
    if (l1_size * 8 > QCOW2_MAX_L1_BYTES || size > (1ULL << 62)) {
        block_set_err(err, errlen, "%s: disk too large for cluster size %" PRIu64, path, cs);
        return -EFBIG;
    }
    uint64_t l1_c = (l1_size * 8 + cs - 1) / cs;
    uint64_t data = pmode ? (size + cs - 1) / cs : 0;
    uint64_t l2n = pmode ? (data + l2e - 1) / l2e : 0;
    uint64_t per_rb = cs * 8 / bits;
    uint64_t rt_c = 1, rb_n = 1;
    for (int it = 0; it < 64; it++) {
        uint64_t total = 1 + rt_c + rb_n + l1_c + l2n + data;
        uint64_t nrb = (total + per_rb - 1) / per_rb;
        uint64_t nrt = (nrb * 8 + cs - 1) / cs;
        if (nrb == rb_n && nrt == rt_c)
            break;
        rb_n = nrb;
        rt_c = nrt ? nrt : 1;
    }
    if (rt_c * cs > QCOW2_MAX_REFTABLE_BYTES) {
        block_set_err(err, errlen, "%s: refcount table would be too large", path);
        return -EFBIG;
    }
    uint64_t total = 1 + rt_c + rb_n + l1_c + l2n + data;
    uint64_t rt_off = cs, rb_off = rt_off + rt_c * cs, l1_off = rb_off + rb_n * cs;
    uint64_t l2_off = l1_off + l1_c * cs, data_off = l2_off + l2n * cs;

    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        block_set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    uint8_t *buf = calloc(1, cs);
    int r = buf ? 0 : -ENOMEM;
    if (!r) {
        /* Header. */
        uint8_t *h = buf;
        qcow2_put32(h, QCOW2_MAGIC);
        qcow2_put32(h + 4, 3);
        qcow2_put32(h + 20, cb);
        qcow2_put64(h + 24, size);
        qcow2_put32(h + 36, (uint32_t)l1_size);
        qcow2_put64(h + 40, l1_off);
        qcow2_put64(h + 48, rt_off);
        qcow2_put32(h + 56, (uint32_t)rt_c);
        qcow2_put64(h + 72, ctype ? QCOW2_INCOMPAT_COMPRESSION : 0);
        qcow2_put64(h + 80, o->lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
        qcow2_put32(h + 96, order);
        qcow2_put32(h + 100, QCOW2_V3_HEADER_LEN);
        h[104] = ctype;
        uint64_t p = QCOW2_V3_HEADER_LEN;
        if (o->backing_file) {
            size_t fl = strlen(bfmt);
            size_t bl = strlen(o->backing_file);
            if (p + 8 + qcow2_align_up(fl, 8) + 8 + bl > cs) {
                r = -ENAMETOOLONG;
            } else {
                qcow2_put32(h + p, QCOW2_EXT_BACKING_FMT);
                qcow2_put32(h + p + 4, (uint32_t)fl);
                memcpy(h + p + 8, bfmt, fl);
                p += 8 + qcow2_align_up(fl, 8);
                p += 8; /* end of extensions */
                memcpy(h + p, o->backing_file, bl);
                qcow2_put64(h + 8, p);
                qcow2_put32(h + 16, (uint32_t)bl);
                p += bl;
            }
        }
        if (!r)
            r = block_pwrite_full(fd, h, cs, 0);
    }
    /* Refcount table and blocks: clusters [0, total) have refcount 1. */
    struct qcow2 geo = {.refcount_order = order, .refcount_bits = bits};
    for (uint64_t i = 0; i < rt_c && !r; i++) {
        memset(buf, 0, cs);
        for (uint64_t j = 0; j < cs / 8; j++) {
            uint64_t k = i * (cs / 8) + j;
            if (k < rb_n)
                qcow2_put64(buf + 8 * j, rb_off + k * cs);
        }
        r = block_pwrite_full(fd, buf, cs, rt_off + i * cs);
    }
    for (uint64_t k = 0; k < rb_n && !r; k++) {
        memset(buf, 0, cs);
        for (uint64_t j = 0; j < per_rb; j++)
            if (k * per_rb + j < total)
                qcow2_rb_set(&geo, buf, j, 1);
        r = block_pwrite_full(fd, buf, cs, rb_off + k * cs);
    }
    /* L1 and L2 tables. */
    for (uint64_t i = 0; i < l1_c && !r; i++) {
        memset(buf, 0, cs);
        for (uint64_t j = 0; j < cs / 8; j++) {
            uint64_t k = i * (cs / 8) + j;
            if (k < l2n)
                qcow2_put64(buf + 8 * j, (l2_off + k * cs) | QCOW2_OFLAG_COPIED);
        }
        r = block_pwrite_full(fd, buf, cs, l1_off + i * cs);
    }
    for (uint64_t i = 0; i < l2n && !r; i++) {
        memset(buf, 0, cs);
        for (uint64_t j = 0; j < l2e; j++) {
            uint64_t k = i * l2e + j;
            if (k < data)
                qcow2_put64(buf + 8 * j, (data_off + k * cs) | QCOW2_OFLAG_COPIED);
        }
        r = block_pwrite_full(fd, buf, cs, l2_off + i * cs);
    }
    free(buf);
    uint64_t end = data_off + data * cs;
    if (!r && ftruncate(fd, (off_t)end) < 0)
        r = -errno;
    if (!r && pmode == 2 && data)
        r = -posix_fallocate(fd, (off_t)data_off, (off_t)(data * cs));
    if (!r && pmode == 3)
        r = write_zeroes_fd(fd, data_off, data * cs);
    if (!r && fdatasync(fd) < 0)
        r = -errno;
    close(fd);
    if (r) {
        if (r == -ENAMETOOLONG)
            block_set_err(err, errlen, "%s: backing file name does not fit in the header", path);
        else
            block_set_err(err, errlen, "%s: %s", path, strerror(-r));
    }
    return r;
}
