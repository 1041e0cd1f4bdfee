/* SPDX-License-Identifier: MIT */
/*
 * The qcow2 driver: header parsing and validation, the L2 cache, reads,
 * allocating writes with copy-on-write, zero clusters, discard, compressed
 * clusters (deflate and zstd) and the ordered metadata flush.  Refcounts,
 * snapshots, creation and check live in qcow2_*.c.
 *
 * Everything read from the image is validated before use: a hostile image
 * yields an error naming the problem, never a crash or a huge allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2.h"
#include "util/log.h"

static struct qcow2 *S(struct block_dev *bd)
{
    return bd->priv;
}

int qcow2_sync(struct qcow2 *s)
{
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

enum qcow2_ctype_l2 qcow2_classify(const struct qcow2 *s, uint64_t e)
{
    if (e & QCOW2_OFLAG_COMPRESSED)
        return QCOW2_CL_COMPRESSED;
    uint64_t off = e & QCOW2_L2E_OFFSET_MASK;
    if (s->version >= 3 && (e & QCOW2_OFLAG_ZERO))
        return off ? QCOW2_CL_ZERO_ALLOC : QCOW2_CL_ZERO_PLAIN;
    return off ? QCOW2_CL_NORMAL : QCOW2_CL_UNALLOC;
}

void qcow2_compressed_range(const struct qcow2 *s, uint64_t e, uint64_t *start, uint64_t *len)
{
    uint64_t off = e & s->coffset_mask;
    uint64_t nsect = ((e >> s->csize_shift) & s->csize_mask) + 1;
    *start = off;
    *len = nsect * 512 - (off & 511);
}

int qcow2_check_host_range(struct qcow2 *s, uint64_t off, uint64_t len, const char *what)
{
    /* Clusters allocated since the last metadata flush may still end past the file's end. */
    uint64_t end = s->frontier > s->file_size ? s->frontier : s->file_size;
    if (off + len < off || off + len > end) {
        /* Reads by the guest can hit this again and again: log it once per open. */
        if (!s->range_error_logged)
            log_error("%s: corrupt image: %s at 0x%" PRIx64 " lies past the end of the file",
                      s->bd->path, what, off);
        s->range_error_logged = true;
        return -EIO;
    }
    return 0;
}

/*
 * Validates the host cluster of a normal L2 entry before guest data is read from or written to
 * it: cluster-aligned, inside the file, and not part of the image's metadata.
 */
static int check_data_cluster(struct qcow2 *s, uint64_t host, bool for_write)
{
    if (s->corrupt_signalled)
        return -EIO;
    if (host & (s->cs - 1))
        return qcow2_signal_corruption(s,
                                       "data cluster offset 0x%" PRIx64 " is not aligned to "
                                       "the cluster size",
                                       host);
    int r = qcow2_check_host_range(s, host, s->cs, "data cluster");
    if (r)
        return r;
    if (for_write)
        return qcow2_pre_write_check(s, 0, host, s->cs, "guest data cluster");
    int k = qcow2_meta_overlap(s, QCOW2_META_ALL, host, s->cs);
    if (k > 0)
        return qcow2_signal_corruption(s, "guest data cluster at 0x%" PRIx64 " is metadata", host);
    return k;
}

/* ---- header ---- */

int qcow2_write_header(struct qcow2 *s)
{
    uint8_t *h = calloc(1, s->cs);
    if (!h)
        return -ENOMEM;
    uint32_t hl = s->version >= 3 ? s->header_length : 72;
    /* Re-read what is there so that unknown header fields survive. */
    int r = block_pread_full(s->fd, h, hl, 0);
    if (r) {
        free(h);
        return r;
    }
    qcow2_put32(h, QCOW2_MAGIC);
    qcow2_put32(h + 4, s->version);
    qcow2_put32(h + 20, s->cluster_bits);
    qcow2_put64(h + 24, s->bd->size);
    qcow2_put32(h + 32, 0);
    qcow2_put32(h + 36, s->l1_size);
    qcow2_put64(h + 40, s->l1_offset);
    qcow2_put64(h + 48, s->rt_offset);
    qcow2_put32(h + 56, s->rt_clusters);
    qcow2_put32(h + 60, s->nb_snapshots);
    qcow2_put64(h + 64, s->snapshots_offset);
    if (s->version >= 3) {
        qcow2_put64(h + 72, s->incompat);
        qcow2_put64(h + 80, s->compat);
        qcow2_put64(h + 88, s->autoclear);
        qcow2_put32(h + 96, s->refcount_order);
        qcow2_put32(h + 100, hl);
        if (hl > 104)
            h[104] = s->compression_type;
    }
    uint64_t p = hl;
    bool ok = true;
#define NEED(n) (ok = ok && p + (n) <= s->cs)
    if (s->backing_name && s->backing_fmt) {
        size_t l = strlen(s->backing_fmt);
        NEED(8 + qcow2_align_up(l, 8));
        if (ok) {
            qcow2_put32(h + p, QCOW2_EXT_BACKING_FMT);
            qcow2_put32(h + p + 4, (uint32_t)l);
            memcpy(h + p + 8, s->backing_fmt, l);
            p += 8 + qcow2_align_up(l, 8);
        }
    }
    for (unsigned i = 0; i < s->nexts && ok; i++) {
        NEED(8 + qcow2_align_up(s->exts[i].len, 8));
        if (ok) {
            qcow2_put32(h + p, s->exts[i].type);
            qcow2_put32(h + p + 4, s->exts[i].len);
            memcpy(h + p + 8, s->exts[i].data, s->exts[i].len);
            p += 8 + qcow2_align_up(s->exts[i].len, 8);
        }
    }
    NEED(8);
    if (ok)
        p += 8; /* end-of-extensions marker: already zero */
    if (s->backing_name) {
        size_t l = strlen(s->backing_name);
        NEED(l);
        if (ok) {
            memcpy(h + p, s->backing_name, l);
            qcow2_put64(h + 8, p);
            qcow2_put32(h + 16, (uint32_t)l);
            p += l;
        }
    } else {
        qcow2_put64(h + 8, 0);
        qcow2_put32(h + 16, 0);
    }
#undef NEED
    if (!ok) {
        free(h);
        log_error("%s: header and backing file name do not fit in one cluster", s->bd->path);
        return -ENOSPC;
    }
    r = block_pwrite_full(s->fd, h, p, 0);
    free(h);
    return r;
}

static int parse_header(struct qcow2 *s, unsigned flags, char *err, size_t errlen)
{
    const char *path = s->bd->path;
    uint8_t h[112];
    int r = block_pread_full(s->fd, h, sizeof(h), 0);
    if (r)
        return r;
    if (qcow2_be32(h) != QCOW2_MAGIC) {
        block_set_err(err, errlen, "%s: not a qcow2 image", path);
        return -EINVAL;
    }
    s->version = qcow2_be32(h + 4);
    if (s->version != 2 && s->version != 3) {
        block_set_err(err, errlen, "%s: unsupported qcow2 version %u", path, s->version);
        return -ENOTSUP;
    }
    s->cluster_bits = qcow2_be32(h + 20);
    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        block_set_err(err, errlen, "%s: invalid cluster size 2^%u (must be 512 B to 2 MiB)", path,
                      s->cluster_bits);
        return -EINVAL;
    }
    s->cs = 1ULL << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    s->l2_entries = 1ULL << s->l2_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ULL << (s->cluster_bits - 8)) - 1;
    s->coffset_mask = (1ULL << s->csize_shift) - 1;
    uint64_t size = qcow2_be64(h + 24);
    uint32_t crypt = qcow2_be32(h + 32);
    s->l1_size = qcow2_be32(h + 36);
    s->l1_offset = qcow2_be64(h + 40);
    s->rt_offset = qcow2_be64(h + 48);
    s->rt_clusters = qcow2_be32(h + 56);
    s->nb_snapshots = qcow2_be32(h + 60);
    s->snapshots_offset = qcow2_be64(h + 64);
    uint64_t bf_off = qcow2_be64(h + 8);
    uint32_t bf_len = qcow2_be32(h + 16);
    if (s->version == 2) {
        s->header_length = 72;
        s->refcount_order = 4;
    } else {
        s->incompat = qcow2_be64(h + 72);
        s->compat = qcow2_be64(h + 80);
        s->autoclear = qcow2_be64(h + 88);
        s->refcount_order = qcow2_be32(h + 96);
        s->header_length = qcow2_be32(h + 100);
        if (s->header_length < 104 || s->header_length > s->cs || s->header_length % 8) {
            block_set_err(err, errlen, "%s: invalid header length %u", path, s->header_length);
            return -EINVAL;
        }
        s->compression_type = s->header_length > 104 ? h[104] : 0;
    }
    if (crypt) {
        block_set_err(err, errlen, "%s: encrypted qcow2 images are not supported", path);
        return -ENOTSUP;
    }
    uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION;
    if (s->incompat & ~known) {
        char names[256] = "";
        size_t n = 0;
        for (unsigned b = 0; b < 64; b++) {
            uint64_t bit = 1ULL << b;
            if (!(s->incompat & ~known & bit))
                continue;
            const char *nm = b == 2 ? "external data file" : b == 4 ? "extended L2 entries" : "";
            n +=
                (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0, "%s%u%s%s%s",
                                 n ? ", " : "", b, *nm ? " (" : "", nm, *nm ? ")" : "");
            if (n >= sizeof(names))
                break;
        }
        block_set_err(err, errlen, "%s: unsupported qcow2 incompatible feature bits: %s", path,
                      names);
        return -ENOTSUP;
    }
    if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) &&
        !(flags & (BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_REPAIR))) {
        block_set_err(err, errlen,
                      "%s: image is marked corrupt; open it read-only or repair it (wirt img "
                      "check -r all)",
                      path);
        return -EIO;
    }
    if (s->compression_type > QCOW2_COMP_ZSTD ||
        (s->compression_type != 0) != !!(s->incompat & QCOW2_INCOMPAT_COMPRESSION)) {
        block_set_err(err, errlen, "%s: invalid compression type %u", path, s->compression_type);
        return -EINVAL;
    }
    if (s->refcount_order > 6) {
        block_set_err(err, errlen, "%s: invalid refcount order %u", path, s->refcount_order);
        return -EINVAL;
    }
    s->refcount_bits = 1u << s->refcount_order;
    s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;

    /* Cluster 0: header extensions and the backing file name. */
    uint8_t *c0 = malloc(s->cs);
    if (!c0)
        return -ENOMEM;
    r = block_pread_full(s->fd, c0, s->cs, 0);
    if (r) {
        free(c0);
        return r;
    }
    uint64_t ext_end = s->cs;
    if (bf_off) {
        if (bf_len > 1023 || bf_off > s->cs || bf_len > s->cs - bf_off ||
            bf_off < s->header_length) {
            free(c0);
            block_set_err(err, errlen,
                          "%s: invalid backing file name (offset %" PRIu64 ", length %u)", path,
                          bf_off, bf_len);
            return -EINVAL;
        }
        ext_end = bf_off;
        s->backing_name = strndup((char *)c0 + bf_off, bf_len);
        if (!s->backing_name || strlen(s->backing_name) != bf_len || !bf_len) {
            free(c0);
            block_set_err(err, errlen, "%s: invalid backing file name", path);
            return -EINVAL;
        }
    }
    for (uint64_t p = s->header_length; p + 8 <= ext_end;) {
        uint32_t type = qcow2_be32(c0 + p), len = qcow2_be32(c0 + p + 4);
        if (type == QCOW2_EXT_END)
            break;
        if (len > ext_end - p - 8) {
            free(c0);
            block_set_err(err, errlen, "%s: header extension 0x%x too long", path, type);
            return -EINVAL;
        }
        if (type == QCOW2_EXT_BACKING_FMT) {
            free(s->backing_fmt);
            s->backing_fmt = strndup((char *)c0 + p + 8, len < 16 ? len : 15);
        } else {
            struct qcow2_ext *e = realloc(s->exts, (s->nexts + 1) * sizeof(*e));
            if (!e) {
                free(c0);
                return -ENOMEM;
            }
            s->exts = e;
            e[s->nexts].type = type;
            e[s->nexts].len = len;
            e[s->nexts].data = malloc(len ? len : 1);
            if (!e[s->nexts].data) {
                free(c0);
                return -ENOMEM;
            }
            memcpy(e[s->nexts].data, c0 + p + 8, len);
            s->nexts++;
        }
        p += 8 + qcow2_align_up(len, 8);
    }
    free(c0);

    /* Geometry. */
    uint64_t span = s->cs << s->l2_bits; /* bytes per L2 table */
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        block_set_err(err, errlen, "%s: L1 table too large (%u entries)", path, s->l1_size);
        return -EFBIG;
    }
    if (size > (uint64_t)s->l1_size * span || size > (1ULL << 62)) {
        block_set_err(err, errlen,
                      "%s: L1 table (%u entries) too small for a %" PRIu64 "-byte disk", path,
                      s->l1_size, size);
        return -EINVAL;
    }
    s->bd->size = size;
    if (s->l1_size && (s->l1_offset & (s->cs - 1) || s->l1_offset > s->file_size ||
                       s->l1_offset + (uint64_t)s->l1_size * 8 > s->file_size)) {
        block_set_err(err, errlen, "%s: invalid L1 table offset 0x%" PRIx64, path, s->l1_offset);
        return -EINVAL;
    }
    if ((uint64_t)s->rt_clusters * s->cs > QCOW2_MAX_REFTABLE_BYTES || !s->rt_clusters) {
        block_set_err(err, errlen, "%s: invalid refcount table size (%u clusters)", path,
                      s->rt_clusters);
        return -EINVAL;
    }
    if (s->rt_offset & (s->cs - 1) || !s->rt_offset || s->rt_offset > s->file_size ||
        s->rt_offset + (uint64_t)s->rt_clusters * s->cs > s->file_size) {
        block_set_err(err, errlen, "%s: invalid refcount table offset 0x%" PRIx64, path,
                      s->rt_offset);
        return -EINVAL;
    }
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
        (s->nb_snapshots &&
         (s->snapshots_offset & (s->cs - 1) || s->snapshots_offset >= s->file_size))) {
        block_set_err(err, errlen, "%s: invalid snapshot table (%u entries at 0x%" PRIx64 ")", path,
                      s->nb_snapshots, s->snapshots_offset);
        return -EINVAL;
    }
    return 0;
}

int qcow2_read_l1(struct qcow2 *s, uint64_t offset, uint32_t n, uint64_t **out)
{
    uint64_t *l1 = calloc(n ? n : 1, 8);
    if (!l1)
        return -ENOMEM;
    int r = n ? block_pread_full(s->fd, l1, (size_t)n * 8, offset) : 0;
    if (r) {
        free(l1);
        return r;
    }
    for (uint32_t i = 0; i < n; i++)
        l1[i] = qcow2_be64(&l1[i]);
    *out = l1;
    return 0;
}

int qcow2_write_l1(struct qcow2 *s, uint64_t offset, const uint64_t *l1, uint32_t n)
{
    uint8_t *buf = malloc(n ? (size_t)n * 8 : 1);
    if (!buf)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        qcow2_put64(buf + 8 * i, l1[i]);
    int r = block_pwrite_full(s->fd, buf, (size_t)n * 8, offset);
    free(buf);
    return r;
}

/* ---- L2 cache ---- */

static void l1_mark_dirty(struct qcow2 *s, uint32_t i)
{
    if (s->l1_dirty_lo >= s->l1_dirty_hi) {
        s->l1_dirty_lo = i;
        s->l1_dirty_hi = i + 1;
    } else {
        if (i < s->l1_dirty_lo)
            s->l1_dirty_lo = i;
        if (i + 1 > s->l1_dirty_hi)
            s->l1_dirty_hi = i + 1;
    }
}

static int write_l2(struct qcow2 *s, struct qcow2_l2 *t)
{
    int r = qcow2_pre_write_check(s, QCOW2_META_L2, t->offset, s->cs, "L2 table");
    if (r)
        return r;
    uint8_t *buf = s->cbuf;
    for (uint64_t i = 0; i < s->l2_entries; i++)
        qcow2_put64(buf + 8 * i, t->e[i]);
    r = block_pwrite_full(s->fd, buf, s->cs, t->offset);
    if (!r && t->offset + s->cs > s->file_size)
        s->file_size = t->offset + s->cs;
    return r;
}

static int write_dirty_l2(struct qcow2 *s)
{
    if (!s->dirty_l2)
        return 0;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        struct qcow2_l2 *t = s->l2c[i];
        if (t && t->dirty) {
            int r = write_l2(s, t);
            if (r)
                return r;
            t->dirty = false;
        }
    }
    s->dirty_l2 = 0;
    return 0;
}

int qcow2_flush_meta(struct qcow2 *s, bool sync)
{
    int r;
    if (s->bd->read_only)
        return 0;
    if (s->corrupt_signalled)
        return -EIO;
    bool l1_dirty = s->l1_dirty_lo < s->l1_dirty_hi;
    bool meta = s->dirty_l2 || l1_dirty;
    if (s->frontier > s->file_size) {
        if (ftruncate(s->fd, (off_t)s->frontier) < 0)
            return -errno;
        s->file_size = s->frontier;
    }
    r = qcow2_write_refcounts(s);
    if (r)
        return r;
    if (meta) {
        /* Data and refcounts must be durable before anything points at them. */
        r = qcow2_sync(s);
        if (r)
            return r;
        r = write_dirty_l2(s);
        if (r)
            return r;
        if (l1_dirty) {
            r = qcow2_sync(s);
            if (r)
                return r;
            uint32_t lo = s->l1_dirty_lo, hi = s->l1_dirty_hi;
            r = qcow2_pre_write_check(s, QCOW2_META_L1, s->l1_offset + (uint64_t)lo * 8,
                                      (uint64_t)(hi - lo) * 8, "L1 table");
            if (r)
                return r;
            r = qcow2_write_l1(s, s->l1_offset + (uint64_t)lo * 8, s->l1 + lo, hi - lo);
            if (r)
                return r;
            s->l1_dirty_lo = s->l1_dirty_hi = 0;
        }
    }
    if (sync || meta || s->ndeferred) {
        r = qcow2_sync(s);
        if (r)
            return r;
    }
    if (s->ndeferred) {
        /* The references are gone on disk: now the refcounts may drop. */
        size_t n = s->ndeferred;
        s->ndeferred = 0;
        for (size_t i = 0; i < n; i++) {
            r = qcow2_free_now(s, s->deferred[i] << s->cluster_bits, s->cs);
            if (r)
                return r;
        }
        r = qcow2_write_refcounts(s);
        if (!r && sync)
            r = qcow2_sync(s);
        if (r)
            return r;
    }
    return 0;
}

int qcow2_drop_l2_cache(struct qcow2 *s)
{
    int r = qcow2_flush_meta(s, false);
    if (r)
        return r;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        if (s->l2c[i]) {
            free(s->l2c[i]->e);
            free(s->l2c[i]);
            s->l2c[i] = NULL;
        }
    }
    s->l2c_bytes = 0;
    s->dcache_entry = 0;
    s->empty_l2 = 0;
    return 0;
}

static int l2_load(struct qcow2 *s, uint64_t off, struct qcow2_l2 **out)
{
    if (off & (s->cs - 1) || off == 0) {
        log_error("%s: corrupt image: unaligned L2 table offset 0x%" PRIx64, s->bd->path, off);
        return -EIO;
    }
    int r = qcow2_check_host_range(s, off, s->cs, "L2 table");
    if (r)
        return r;
    if (s->l2c_bytes + s->cs > s->l2c_cap) {
        r = qcow2_drop_l2_cache(s);
        if (r)
            return r;
    }
    struct qcow2_l2 *t = calloc(1, sizeof(*t));
    uint64_t *e = malloc(s->cs);
    if (!t || !e) {
        free(t);
        free(e);
        return -ENOMEM;
    }
    r = block_pread_full(s->fd, e, s->cs, off);
    if (r) {
        free(t);
        free(e);
        return r;
    }
    for (uint64_t i = 0; i < s->l2_entries; i++)
        e[i] = qcow2_be64(&e[i]);
    t->offset = off;
    t->e = e;
    s->l2c_bytes += s->cs;
    *out = t;
    return 0;
}

/* The L2 table for L1 index i; NULL (for reads) if unallocated.  With
 * for_write the table is allocated or copied so that it can be modified. */
static int l2_get(struct qcow2 *s, uint32_t i, bool for_write, struct qcow2_l2 **out)
{
    *out = NULL;
    if (i >= s->l1_size)
        return for_write ? -EIO : 0;
    struct qcow2_l2 *t = s->l2c[i];
    uint64_t l1e = s->l1[i];
    uint64_t off = l1e & QCOW2_L1E_OFFSET_MASK;
    if (!t && off) {
        int r = l2_load(s, off, &t);
        if (r)
            return r;
        s->l2c[i] = t;
    }
    if (!for_write) {
        *out = t;
        return 0;
    }
    if (off) {
        /* Two L1 entries naming one table would each change their own copy of it. */
        int r = qcow2_pre_write_check(s, QCOW2_META_L2, off, s->cs, "L2 table");
        if (r)
            return r;
    }
    if (t && !(l1e & QCOW2_OFLAG_COPIED)) {
        uint64_t rc;
        int r = qcow2_get_refcount(s, off >> s->cluster_bits, &rc);
        if (r)
            return r;
        if (rc == 1) {
            s->l1[i] |= QCOW2_OFLAG_COPIED;
            l1_mark_dirty(s, i);
        } else {
            /* Shared with a snapshot: copy it. */
            uint64_t noff;
            bool z;
            r = qcow2_alloc_cluster(s, &noff, &z);
            if (r)
                return r;
            r = qcow2_defer_free(s, off, s->cs);
            if (r)
                return r;
            t->offset = noff;
            if (!t->dirty)
                s->dirty_l2++;
            t->dirty = true;
            s->l1[i] = noff | QCOW2_OFLAG_COPIED;
            qcow2_meta_add(s, noff, QCOW2_META_L2);
            l1_mark_dirty(s, i);
        }
    } else if (!t) {
        uint64_t noff;
        bool z;
        if (s->l2c_bytes + s->cs > s->l2c_cap) {
            int r = qcow2_drop_l2_cache(s);
            if (r)
                return r;
        }
        int r = qcow2_alloc_cluster(s, &noff, &z);
        if (r)
            return r;
        t = calloc(1, sizeof(*t));
        uint64_t *e = calloc(1, s->cs);
        if (!t || !e) {
            free(t);
            free(e);
            return -ENOMEM;
        }
        t->offset = noff;
        t->e = e;
        t->dirty = true;
        s->dirty_l2++;
        s->l2c_bytes += s->cs;
        s->l2c[i] = t;
        s->l1[i] = noff | QCOW2_OFLAG_COPIED;
        qcow2_meta_add(s, noff, QCOW2_META_L2);
        l1_mark_dirty(s, i);
    }
    *out = t;
    return 0;
}

static void l2_set(struct qcow2 *s, struct qcow2_l2 *t, uint64_t idx, uint64_t e)
{
    t->e[idx] = e;
    t->empty_known = false;
    if (t->offset == s->empty_l2)
        s->empty_l2 = 0;
    if (!t->dirty) {
        t->dirty = true;
        s->dirty_l2++;
    }
}

/* ---- compression ---- */

static int decompress_cluster(struct qcow2 *s, uint64_t e, uint8_t *out)
{
    if (s->dcache_entry == e && s->dcache) {
        memcpy(out, s->dcache, s->cs);
        return 0;
    }
    uint64_t off, len;
    qcow2_compressed_range(s, e, &off, &len);
    if (off + len > s->file_size + 2 * s->cs || off == 0) {
        log_error("%s: corrupt image: compressed cluster at 0x%" PRIx64 " past end of file",
                  s->bd->path, off);
        return -EIO;
    }
    int r = block_pread_full(s->fd, s->zbuf, len, off);
    if (r)
        return r;
    if (s->compression_type == QCOW2_COMP_ZLIB) {
        z_stream *zs = s->inflate_zs;
        if (!zs) {
            zs = calloc(1, sizeof(*zs));
            if (!zs || inflateInit2(zs, -12) != Z_OK) {
                free(zs);
                return -ENOMEM;
            }
            s->inflate_zs = zs;
        } else if (inflateReset(zs) != Z_OK) {
            return -EIO;
        }
        zs->next_in = s->zbuf;
        zs->avail_in = (uInt)len;
        zs->next_out = out;
        zs->avail_out = (uInt)s->cs;
        int zr = inflate(zs, Z_FINISH);
        if (!((zr == Z_STREAM_END || zr == Z_BUF_ERROR) && zs->avail_out == 0))
            goto bad;
    } else {
        if (!s->zstd_dctx && !(s->zstd_dctx = ZSTD_createDCtx()))
            return -ENOMEM;
        ZSTD_DCtx_reset(s->zstd_dctx, ZSTD_reset_session_only);
        ZSTD_inBuffer in = {s->zbuf, len, 0};
        ZSTD_outBuffer o = {out, s->cs, 0};
        while (o.pos < o.size) {
            size_t zr = ZSTD_decompressStream(s->zstd_dctx, &o, &in);
            if (ZSTD_isError(zr))
                goto bad;
            if (zr == 0 && o.pos < o.size)
                goto bad; /* frame ended early */
            if (in.pos == in.size && o.pos < o.size)
                goto bad;
        }
    }
    if (!s->dcache)
        s->dcache = malloc(s->cs);
    if (s->dcache) {
        memcpy(s->dcache, out, s->cs);
        s->dcache_entry = e;
    }
    return 0;
bad:
    log_error("%s: corrupt image: bad compressed data at 0x%" PRIx64, s->bd->path, off);
    return -EIO;
}

/* Compresses one cluster into s->zbuf; returns the size, or 0 if it does
 * not shrink (the caller then writes it uncompressed). */
static size_t compress_cluster(struct qcow2 *s, const uint8_t *in)
{
    size_t cap = s->cs - 1;
    if (s->compression_type == QCOW2_COMP_ZLIB) {
        z_stream *zs = s->deflate_zs;
        if (!zs) {
            zs = calloc(1, sizeof(*zs));
            if (!zs || deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                                    Z_DEFAULT_STRATEGY) != Z_OK) {
                free(zs);
                return 0;
            }
            s->deflate_zs = zs;
        } else if (deflateReset(zs) != Z_OK) {
            return 0;
        }
        zs->next_in = (uint8_t *)in;
        zs->avail_in = (uInt)s->cs;
        zs->next_out = s->zbuf;
        zs->avail_out = (uInt)cap;
        int zr = deflate(zs, Z_FINISH);
        return zr == Z_STREAM_END ? cap - zs->avail_out : 0;
    }
    if (!s->zstd_cctx && !(s->zstd_cctx = ZSTD_createCCtx()))
        return 0;
    size_t n = ZSTD_compressCCtx(s->zstd_cctx, s->zbuf, cap, in, s->cs, ZSTD_CLEVEL_DEFAULT);
    return ZSTD_isError(n) ? 0 : n;
}

/* ---- reads ---- */

/* Reads [off, off+len) of guest cluster data that lies in the backing file. */
static int read_backing(struct qcow2 *s, uint64_t off, uint8_t *buf, uint64_t len)
{
    struct block_dev *b = s->bd->backing;
    if (!b) {
        memset(buf, 0, len);
        return 0;
    }
    uint64_t bs = block_size(b);
    uint64_t n = off >= bs ? 0 : (len < bs - off ? len : bs - off);
    if (n) {
        int r = block_read(b, off, buf, n);
        if (r)
            return r;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

static int qcow2_read(struct block_dev *bd, uint64_t offset, void *vbuf, size_t len)
{
    struct qcow2 *s = S(bd);
    uint8_t *buf = vbuf;
    /* Pending coalesced host read, and pending backing read. */
    uint64_t ph = 0, pl = 0, bo = 0, bl = 0;
    uint8_t *pb = NULL, *bb = NULL;
    int r = 0;
    while (len) {
        uint64_t c = offset >> s->cluster_bits;
        uint64_t in = offset & (s->cs - 1);
        uint64_t n = s->cs - in < len ? s->cs - in : len;
        struct qcow2_l2 *t;
        r = l2_get(s, (uint32_t)(c >> s->l2_bits), false, &t);
        if (r)
            return r;
        uint64_t e = t ? t->e[c & (s->l2_entries - 1)] : 0;
        enum qcow2_ctype_l2 k = qcow2_classify(s, e);
        if (k != QCOW2_CL_NORMAL && pl) {
            if ((r = block_pread_full(s->fd, pb, pl, ph)))
                return r;
            pl = 0;
        }
        if (k != QCOW2_CL_UNALLOC && bl) {
            if ((r = read_backing(s, bo, bb, bl)))
                return r;
            bl = 0;
        }
        switch (k) {
        case QCOW2_CL_UNALLOC:
            if (bl && bo + bl == offset) {
                bl += n;
            } else {
                if (bl && (r = read_backing(s, bo, bb, bl)))
                    return r;
                bo = offset, bb = buf, bl = n;
            }
            break;
        case QCOW2_CL_ZERO_PLAIN:
        case QCOW2_CL_ZERO_ALLOC:
            memset(buf, 0, n);
            break;
        case QCOW2_CL_NORMAL: {
            uint64_t host = e & QCOW2_L2E_OFFSET_MASK;
            if ((r = check_data_cluster(s, host, false)))
                return r;
            host += in;
            if (pl && ph + pl == host && pb + pl == buf) {
                pl += n;
            } else {
                if (pl && (r = block_pread_full(s->fd, pb, pl, ph)))
                    return r;
                ph = host, pb = buf, pl = n;
            }
            break;
        }
        case QCOW2_CL_COMPRESSED:
            if ((r = decompress_cluster(s, e, s->cbuf)))
                return r;
            memcpy(buf, s->cbuf + in, n);
            break;
        }
        buf += n;
        offset += n;
        len -= n;
    }
    if (pl && (r = block_pread_full(s->fd, pb, pl, ph)))
        return r;
    if (bl && (r = read_backing(s, bo, bb, bl)))
        return r;
    return 0;
}

/* Fills out with the current contents of guest cluster c (entry e);
 * *is_zero tells whether they are known to be all zeroes. */
static int read_cluster(struct qcow2 *s, uint64_t c, uint64_t e, uint8_t *out, bool *is_zero)
{
    *is_zero = false;
    uint64_t gstart = c << s->cluster_bits;
    switch (qcow2_classify(s, e)) {
    case QCOW2_CL_UNALLOC:
        if (s->backing_name && !s->bd->backing) {
            /* Opened with BLOCK_OPEN_NO_BACKING: copy-on-write would
             * silently replace the backing data with zeroes. */
            log_error("%s: partial write to a cluster of the backing file '%s', which is not "
                      "open",
                      s->bd->path, s->backing_name);
            return -EIO;
        }
        if (!s->bd->backing || gstart >= block_size(s->bd->backing)) {
            memset(out, 0, s->cs);
            *is_zero = true;
            return 0;
        }
        return read_backing(s, gstart, out, s->cs);
    case QCOW2_CL_ZERO_PLAIN:
    case QCOW2_CL_ZERO_ALLOC:
        memset(out, 0, s->cs);
        *is_zero = true;
        return 0;
    case QCOW2_CL_NORMAL: {
        uint64_t host = e & QCOW2_L2E_OFFSET_MASK;
        int r = check_data_cluster(s, host, false);
        return r ? r : block_pread_full(s->fd, out, s->cs, host);
    }
    case QCOW2_CL_COMPRESSED:
        return decompress_cluster(s, e, out);
    }
    return -EIO;
}

/* Releases the host clusters an L2 entry holds (after the next flush). */
static int release_entry(struct qcow2 *s, uint64_t e)
{
    switch (qcow2_classify(s, e)) {
    case QCOW2_CL_NORMAL:
    case QCOW2_CL_ZERO_ALLOC: {
        /* Dropping the reference of a "data" cluster that is really metadata would free it. */
        uint64_t host = e & QCOW2_L2E_OFFSET_MASK;
        int r = qcow2_pre_write_check(s, 0, host, s->cs, "released data cluster");
        return r ? r : qcow2_defer_free(s, host, s->cs);
    }
    case QCOW2_CL_COMPRESSED: {
        uint64_t off, len;
        qcow2_compressed_range(s, e, &off, &len);
        return qcow2_defer_free(s, off & ~511ULL, len + (off & 511));
    }
    default:
        return 0;
    }
}

static int maybe_flush_deferred(struct qcow2 *s)
{
    if (s->ndeferred > 65536 || s->dirty_l2 > 4096)
        return qcow2_flush_meta(s, false);
    return 0;
}

/* ---- writes ---- */

struct wbatch {
    uint64_t host, len;
    const uint8_t *buf;
};

static int wbatch_flush(struct qcow2 *s, struct wbatch *w)
{
    if (!w->len)
        return 0;
    int r = qcow2_pre_write_check(s, 0, w->host, w->len, "guest data");
    if (r) {
        w->len = 0;
        return r;
    }
    r = block_pwrite_full(s->fd, w->buf, w->len, w->host);
    if (!r && w->host + w->len > s->file_size)
        s->file_size = w->host + w->len;
    w->len = 0;
    return r;
}

static int wbatch_add(struct qcow2 *s, struct wbatch *w, uint64_t host, const uint8_t *buf,
                      uint64_t n)
{
    if (w->len && w->host + w->len == host && w->buf + w->len == buf) {
        w->len += n;
        return 0;
    }
    int r = wbatch_flush(s, w);
    w->host = host, w->buf = buf, w->len = n;
    return r;
}

static int qcow2_write(struct block_dev *bd, uint64_t offset, const void *vbuf, size_t len)
{
    struct qcow2 *s = S(bd);
    const uint8_t *buf = vbuf;
    struct wbatch w = {0};
    int r = 0;
    s->dcache_entry = 0;
    if (s->corrupt_signalled)
        return -EIO;
    while (len) {
        uint64_t c = offset >> s->cluster_bits;
        uint64_t in = offset & (s->cs - 1);
        uint64_t n = s->cs - in < len ? s->cs - in : len;
        struct qcow2_l2 *t;
        if ((r = l2_get(s, (uint32_t)(c >> s->l2_bits), true, &t)))
            goto out;
        uint64_t idx = c & (s->l2_entries - 1);
        uint64_t e = t->e[idx];
        enum qcow2_ctype_l2 k = qcow2_classify(s, e);
        uint64_t host = e & QCOW2_L2E_OFFSET_MASK;
        if (k == QCOW2_CL_NORMAL && !(e & QCOW2_OFLAG_COPIED)) {
            uint64_t rc;
            if ((r = qcow2_get_refcount(s, host >> s->cluster_bits, &rc)))
                goto out;
            if (rc == 1) {
                e |= QCOW2_OFLAG_COPIED;
                l2_set(s, t, idx, e);
            }
        }
        if (k == QCOW2_CL_NORMAL && (e & QCOW2_OFLAG_COPIED)) {
            if ((r = check_data_cluster(s, host, true)))
                goto out;
            if ((r = wbatch_add(s, &w, host + in, buf, n)))
                goto out;
        } else {
            /* Allocate a fresh cluster; copy what the write does not cover. */
            uint64_t nh;
            bool fresh;
            if ((r = qcow2_alloc_cluster(s, &nh, &fresh)))
                goto out;
            if (n == s->cs) {
                if ((r = wbatch_add(s, &w, nh, buf, n)))
                    goto out;
            } else {
                bool zero;
                if ((r = wbatch_flush(s, &w)))
                    goto out;
                if ((r = read_cluster(s, c, e, s->cbuf, &zero)))
                    goto out;
                if (zero && fresh) {
                    r = wbatch_add(s, &w, nh + in, buf, n);
                } else {
                    memcpy(s->cbuf + in, buf, n);
                    r = qcow2_pre_write_check(s, 0, nh, s->cs, "guest data");
                    if (!r)
                        r = block_pwrite_full(s->fd, s->cbuf, s->cs, nh);
                    if (!r && nh + s->cs > s->file_size)
                        s->file_size = nh + s->cs;
                }
                if (r)
                    goto out;
            }
            if ((r = release_entry(s, e)))
                goto out;
            l2_set(s, t, idx, nh | QCOW2_OFLAG_COPIED);
        }
        buf += n;
        offset += n;
        len -= n;
    }
out:;
    int r2 = wbatch_flush(s, &w);
    if (!r)
        r = r2;
    if (!r)
        r = maybe_flush_deferred(s);
    return r;
}

/* Sets the entries of whole clusters [c0, c0+nc) to `zero ? ZERO : unallocated`,
 * releasing their host clusters. */
static int clear_clusters(struct qcow2 *s, uint64_t c0, uint64_t nc, bool zero)
{
    s->dcache_entry = 0;
    for (uint64_t c = c0; c < c0 + nc;) {
        uint32_t l1i = (uint32_t)(c >> s->l2_bits);
        uint64_t end = ((uint64_t)l1i + 1) << s->l2_bits;
        if (end > c0 + nc)
            end = c0 + nc;
        struct qcow2_l2 *t;
        int r;
        if (!zero && !(s->l1[l1i] & QCOW2_L1E_OFFSET_MASK)) {
            c = end; /* already unallocated */
            continue;
        }
        if ((r = l2_get(s, l1i, true, &t)))
            return r;
        for (; c < end; c++) {
            uint64_t idx = c & (s->l2_entries - 1);
            uint64_t e = t->e[idx];
            uint64_t ne = zero ? QCOW2_OFLAG_ZERO : 0;
            if (e == ne)
                continue;
            if ((r = release_entry(s, e)))
                return r;
            l2_set(s, t, idx, ne);
        }
    }
    return maybe_flush_deferred(s);
}

static int qcow2_discard(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    struct qcow2 *s = S(bd);
    uint64_t start = qcow2_align_up(offset, s->cs);
    uint64_t end =
        offset + len == bd->size ? qcow2_align_up(bd->size, s->cs) : (offset + len) & ~(s->cs - 1);
    if (end <= start)
        return 0;
    /* With a backing file, a v3 zero cluster keeps the old data hidden. */
    bool zero = bd->backing && s->version >= 3;
    return clear_clusters(s, start >> s->cluster_bits, (end - start) >> s->cluster_bits, zero);
}

static int write_zero_bytes(struct qcow2 *s, uint64_t offset, uint64_t len)
{
    memset(s->zbuf, 0, s->cs);
    while (len) {
        uint64_t n = len < s->cs ? len : s->cs;
        /* zbuf is reused by reads of compressed clusters: copy to a stable buffer. */
        uint8_t *z = calloc(1, n);
        if (!z)
            return -ENOMEM;
        int r = qcow2_write(s->bd, offset, z, n);
        free(z);
        if (r)
            return r;
        offset += n;
        len -= n;
    }
    return 0;
}

static int qcow2_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    struct qcow2 *s = S(bd);
    uint64_t start = qcow2_align_up(offset, s->cs);
    uint64_t end =
        offset + len == bd->size ? qcow2_align_up(bd->size, s->cs) : (offset + len) & ~(s->cs - 1);
    if (end <= start)
        return write_zero_bytes(s, offset, len);
    int r = write_zero_bytes(s, offset, start - offset);
    if (r)
        return r;
    uint64_t tail_end = offset + len;
    uint64_t whole_end = end < tail_end ? end : tail_end;
    if (s->version >= 3 || !bd->backing) {
        bool zero = s->version >= 3 && bd->backing;
        if (s->version >= 3 && !bd->backing) {
            /* No backing file: unallocated already reads as zero. */
            zero = false;
        }
        r = clear_clusters(s, start >> s->cluster_bits, (end - start) >> s->cluster_bits, zero);
    } else {
        r = write_zero_bytes(s, start, whole_end - start);
    }
    if (r)
        return r;
    if (tail_end > end)
        r = write_zero_bytes(s, end, tail_end - end);
    return r;
}

static int qcow2_write_compressed(struct block_dev *bd, uint64_t offset, const void *vbuf,
                                  size_t len)
{
    struct qcow2 *s = S(bd);
    const uint8_t *buf = vbuf;
    if (offset & (s->cs - 1))
        return -EINVAL;
    if ((len & (s->cs - 1)) && offset + len != bd->size)
        return -EINVAL;
    uint8_t *in = malloc(s->cs);
    if (!in)
        return -ENOMEM;
    int r = 0;
    s->dcache_entry = 0;
    while (len) {
        uint64_t n = len < s->cs ? len : s->cs;
        memcpy(in, buf, n);
        memset(in + n, 0, s->cs - n);
        uint64_t c = offset >> s->cluster_bits;
        size_t clen = compress_cluster(s, in);
        if (!clen) {
            /* Incompressible: store it as a normal cluster. */
            if ((r = qcow2_write(bd, offset, buf, n)))
                break;
        } else {
            struct qcow2_l2 *t;
            if ((r = l2_get(s, (uint32_t)(c >> s->l2_bits), true, &t)))
                break;
            uint64_t where;
            if (s->comp_cur && s->comp_used + clen <= s->cs) {
                where = s->comp_cur + s->comp_used;
                if ((r = qcow2_update_refcount(s, s->comp_cur >> s->cluster_bits, 1)))
                    break;
            } else {
                bool z;
                if ((r = qcow2_alloc_cluster(s, &s->comp_cur, &z)))
                    break;
                s->comp_used = 0;
                where = s->comp_cur;
            }
            s->comp_used += clen;
            if ((r = qcow2_pre_write_check(s, 0, where, clen, "compressed guest data")) ||
                (r = block_pwrite_full(s->fd, s->zbuf, clen, where)))
                break;
            if (where + clen > s->file_size)
                s->file_size = where + clen;
            uint64_t nsect = ((where & 511) + clen + 511) / 512;
            uint64_t idx = c & (s->l2_entries - 1);
            if ((r = release_entry(s, t->e[idx])))
                break;
            l2_set(s, t, idx, QCOW2_OFLAG_COMPRESSED | ((nsect - 1) << s->csize_shift) | where);
        }
        buf += n;
        offset += n;
        len -= n;
    }
    free(in);
    return r;
}

static int qcow2_flush(struct block_dev *bd)
{
    return qcow2_flush_meta(S(bd), true);
}

/* ---- open / close ---- */

static void qcow2_free_state(struct qcow2 *s)
{
    if (!s)
        return;
    if (s->l2c) {
        for (uint32_t i = 0; i < s->l1_size; i++)
            if (s->l2c[i]) {
                free(s->l2c[i]->e);
                free(s->l2c[i]);
            }
    }
    free(s->l2c);
    free(s->l1);
    qcow2_refcount_free(s);
    qcow2_free_snapshots(s);
    qcow2_meta_invalidate(s);
    for (unsigned i = 0; i < s->nexts; i++)
        free(s->exts[i].data);
    free(s->exts);
    free(s->backing_name);
    free(s->backing_fmt);
    free(s->cbuf);
    free(s->zbuf);
    free(s->dcache);
    if (s->zstd_dctx)
        ZSTD_freeDCtx(s->zstd_dctx);
    if (s->zstd_cctx)
        ZSTD_freeCCtx(s->zstd_cctx);
    if (s->deflate_zs) {
        deflateEnd(s->deflate_zs);
        free(s->deflate_zs);
    }
    if (s->inflate_zs) {
        inflateEnd(s->inflate_zs);
        free(s->inflate_zs);
    }
    free(s);
}

static int load_tables(struct qcow2 *s)
{
    int r = qcow2_read_l1(s, s->l1_offset, s->l1_size, &s->l1);
    if (r)
        return r;
    s->l2c = calloc(s->l1_size ? s->l1_size : 1, sizeof(*s->l2c));
    s->rt_size = (uint64_t)s->rt_clusters * s->cs / 8;
    s->rt = calloc(s->rt_size, 8);
    s->rbc = calloc(s->rt_size, sizeof(*s->rbc));
    s->rb_dirty = calloc(s->rt_size, sizeof(*s->rb_dirty));
    if (!s->l2c || !s->rt || !s->rbc || !s->rb_dirty)
        return -ENOMEM;
    r = block_pread_full(s->fd, s->rt, s->rt_size * 8, s->rt_offset);
    if (r)
        return r;
    for (uint64_t i = 0; i < s->rt_size; i++)
        s->rt[i] = qcow2_be64(&s->rt[i]);
    return 0;
}

static int qcow2_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    struct qcow2 *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->bd = bd;
    s->fd = fd;
    bd->priv = s;
    int64_t fsz = block_file_size(fd);
    int r;
    if (fsz < 0) {
        r = (int)fsz;
        goto fail;
    }
    s->file_size = (uint64_t)fsz;
    if ((r = parse_header(s, flags, err, errlen)))
        goto fail;
    s->frontier = qcow2_align_up(s->file_size, s->cs);
    s->free_hint = 1;
    /* Cache every L2 table of the disk, within a cap. */
    s->l2c_cap = QCOW2_L2_CACHE_CAP;
    s->cbuf = malloc(s->cs);
    s->zbuf = malloc(2 * s->cs + 512);
    if (!s->cbuf || !s->zbuf) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = load_tables(s))) {
        block_set_err(err, errlen, "%s: cannot read qcow2 tables: %s", bd->path, strerror(-r));
        goto fail;
    }
    if ((r = qcow2_read_snapshots(s, err, errlen)))
        goto fail;
    if (s->backing_name && !(flags & BLOCK_OPEN_NO_BACKING)) {
        const char *fmt =
            s->backing_fmt && block_format_known(s->backing_fmt) ? s->backing_fmt : NULL;
        if ((r = block_open_backing(bd, s->backing_name, fmt, flags, &bd->backing, err, errlen)))
            goto fail;
    }
    if (!(flags & BLOCK_OPEN_READ_ONLY)) {
        bool rewrite = s->autoclear != 0;
        s->autoclear = 0; /* we maintain none of the autoclear features */
        if (s->incompat & QCOW2_INCOMPAT_DIRTY) {
            /* Lazy refcounts left stale refcounts behind: rebuild them. */
            struct image_check_result res;
            if ((r = qcow2_check(bd, IMAGE_REPAIR_ALL, &res))) {
                block_set_err(err, errlen, "%s: cannot repair dirty image: %s", bd->path,
                              strerror(-r));
                goto fail;
            }
            s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
            rewrite = true;
        }
        if (rewrite) {
            if ((r = qcow2_flush_meta(s, true)) || (r = qcow2_write_header(s)) ||
                (r = qcow2_sync(s)))
                goto fail;
        }
    }
    return 0;
fail:
    if (err && errlen && !err[0])
        block_set_err(err, errlen, "%s: %s", bd->path, strerror(-r));
    qcow2_free_state(s);
    bd->priv = NULL;
    return r;
}

static void qcow2_close(struct block_dev *bd)
{
    struct qcow2 *s = S(bd);
    if (!s)
        return;
    if (!bd->read_only && !s->corrupt_signalled) {
        int r = qcow2_flush_meta(s, true);
        if (r)
            log_error("%s: flushing metadata on close failed: %s", bd->path, strerror(-r));
    }
    qcow2_free_state(s);
    bd->priv = NULL;
}

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    return len >= 8 && qcow2_be32(buf) == QCOW2_MAGIC ? 100 : 0;
}

/* ---- management ---- */

static int qcow2_get_info(struct block_dev *bd, struct image_info *info)
{
    struct qcow2 *s = S(bd);
    memset(info, 0, sizeof(*info));
    snprintf(info->format, sizeof(info->format), "qcow2");
    info->virtual_size = bd->size;
    struct stat st;
    if (fstat(bd->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    info->cluster_size = (uint32_t)s->cs;
    info->qcow_version = (int)s->version;
    info->refcount_bits = s->refcount_bits;
    snprintf(info->compression_type, sizeof(info->compression_type), "%s",
             s->compression_type == QCOW2_COMP_ZSTD ? "zstd" : "zlib");
    info->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;
    info->corrupt = s->incompat & QCOW2_INCOMPAT_CORRUPT;
    info->lazy_refcounts = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
    if (s->backing_name)
        snprintf(info->backing_file, sizeof(info->backing_file), "%s", s->backing_name);
    if (s->backing_fmt)
        snprintf(info->backing_format, sizeof(info->backing_format), "%s", s->backing_fmt);
    return 0;
}

static bool l2_is_empty(struct qcow2 *s, struct qcow2_l2 *t)
{
    if (!t->empty_known) {
        uint64_t i = 0;
        while (i < s->l2_entries && !t->e[i])
            i++;
        t->empty = i == s->l2_entries;
        t->empty_known = true;
    }
    if (t->empty && !t->dirty)
        s->empty_l2 = t->offset;
    return t->empty;
}

static unsigned entry_status(struct qcow2 *s, uint64_t e, uint64_t *host)
{
    *host = 0;
    switch (qcow2_classify(s, e)) {
    case QCOW2_CL_UNALLOC:
        return 0;
    case QCOW2_CL_ZERO_PLAIN:
    case QCOW2_CL_ZERO_ALLOC:
        return IMAGE_STATUS_ZERO | IMAGE_STATUS_ALLOCATED;
    case QCOW2_CL_NORMAL:
        *host = e & QCOW2_L2E_OFFSET_MASK;
        return IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
    case QCOW2_CL_COMPRESSED:
        return IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED | IMAGE_STATUS_COMPRESSED;
    }
    return 0;
}

static int qcow2_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                              unsigned *status, uint64_t *host_offset)
{
    struct qcow2 *s = S(bd);
    unsigned st0 = 0;
    uint64_t h0 = 0, done = 0;
    while (done < len) {
        uint64_t pos = offset + done;
        uint64_t c = pos >> s->cluster_bits;
        uint64_t in = pos & (s->cs - 1);
        uint64_t n = s->cs - in < len - done ? s->cs - in : len - done;
        struct qcow2_l2 *t = NULL;
        uint32_t l1i = (uint32_t)(c >> s->l2_bits);
        bool known_empty = l1i < s->l1_size && !s->l2c[l1i] && s->empty_l2 &&
                           (s->l1[l1i] & QCOW2_L1E_OFFSET_MASK) == s->empty_l2;
        int r = known_empty ? 0 : l2_get(s, l1i, false, &t);
        if (r)
            return r;
        if (t && !t->e[c & (s->l2_entries - 1)] && l2_is_empty(s, t))
            t = NULL;
        if (!t) {
            /* No L2 table or an empty one: the rest of its span is unallocated in one step, so
             * that a huge sparse disk is walked by L1 entries, not by clusters. */
            uint64_t span_left = (((c >> s->l2_bits) + 1) << (s->l2_bits + s->cluster_bits)) - pos;
            n = span_left < len - done ? span_left : len - done;
        }
        uint64_t h;
        unsigned st = entry_status(s, t ? t->e[c & (s->l2_entries - 1)] : 0, &h);
        if (h)
            h += in;
        if (done == 0) {
            st0 = st, h0 = h;
        } else if (st != st0 || (h0 && h != h0 + done)) {
            break;
        }
        done += n;
    }
    *host_offset = h0;
    if (st0 == 0) {
        /* Unallocated here: the backing chain decides. */
        struct block_dev *b = bd->backing;
        if (!b || offset >= block_size(b)) {
            *status = IMAGE_STATUS_ZERO;
            *pnum = done;
            return 0;
        }
        uint64_t bl = done < block_size(b) - offset ? done : block_size(b) - offset;
        uint64_t bn, bh;
        unsigned bst;
        int r = image_block_status(b, offset, bl, &bn, &bst, &bh);
        if (r)
            return r;
        *status = bst & ~(unsigned)IMAGE_STATUS_ALLOCATED;
        *pnum = bn;
        *host_offset = 0;
        return 0;
    }
    *status = st0;
    *pnum = done;
    return 0;
}

static int qcow2_truncate(struct block_dev *bd, uint64_t new_size)
{
    struct qcow2 *s = S(bd);
    uint64_t span = s->cs << s->l2_bits;
    uint64_t need = (new_size + span - 1) / span;
    int r;
    if (new_size < bd->size) {
        uint64_t c0 = qcow2_align_up(new_size, s->cs) >> s->cluster_bits;
        uint64_t c1 = qcow2_align_up(bd->size, s->cs) >> s->cluster_bits;
        if ((r = clear_clusters(s, c0, c1 - c0, false)))
            return r;
    }
    if (need > s->l1_size) {
        if (need * 8 > QCOW2_MAX_L1_BYTES)
            return -EFBIG;
        if ((r = qcow2_drop_l2_cache(s)))
            return r;
        uint64_t bytes = qcow2_align_up(need * 8, s->cs);
        uint64_t *nl1 = calloc(need, 8);
        struct qcow2_l2 **nc = calloc(need, sizeof(*nc));
        if (!nl1 || !nc) {
            free(nl1), free(nc);
            return -ENOMEM;
        }
        memcpy(nl1, s->l1, (size_t)s->l1_size * 8);
        uint64_t noff;
        if ((r = qcow2_alloc_contig(s, bytes >> s->cluster_bits, &noff)) ||
            (r = qcow2_flush_meta(s, false)) ||
            (r = qcow2_write_l1(s, noff, nl1, (uint32_t)need)) || (r = qcow2_sync(s))) {
            free(nl1), free(nc);
            return r;
        }
        uint64_t old = s->l1_offset, oldbytes = qcow2_align_up((uint64_t)s->l1_size * 8, s->cs);
        free(s->l1);
        free(s->l2c);
        s->l1 = nl1;
        s->l2c = nc;
        s->l1_offset = noff;
        s->l1_size = (uint32_t)need;
        bd->size = new_size;
        if ((r = qcow2_write_header(s)) || (r = qcow2_sync(s)))
            return r;
        if (old && oldbytes && (r = qcow2_free_now(s, old, oldbytes)))
            return r;
        return qcow2_flush_meta(s, true);
    }
    if ((r = qcow2_flush_meta(s, false)))
        return r;
    bd->size = new_size;
    if ((r = qcow2_write_header(s)))
        return r;
    return qcow2_flush_meta(s, true);
}

static int qcow2_change_backing(struct block_dev *bd, const char *backing, const char *fmt)
{
    struct qcow2 *s = S(bd);
    char *nb = backing ? strdup(backing) : NULL;
    char *nf = backing && fmt ? strdup(fmt) : NULL;
    if ((backing && !nb) || (backing && fmt && !nf)) {
        free(nb), free(nf);
        return -ENOMEM;
    }
    int r = qcow2_flush_meta(s, true);
    if (r) {
        free(nb), free(nf);
        return r;
    }
    char *ob = s->backing_name, *of = s->backing_fmt;
    s->backing_name = nb;
    s->backing_fmt = nf;
    r = qcow2_write_header(s);
    if (r) {
        s->backing_name = ob, s->backing_fmt = of;
        free(nb), free(nf);
        return r;
    }
    free(ob), free(of);
    if (bd->backing) {
        block_close(bd->backing);
        bd->backing = NULL;
    }
    if (backing) {
        char e[256];
        const char *f = fmt && block_format_known(fmt) ? fmt : NULL;
        if (block_open_backing(bd, backing, f, 0, &bd->backing, e, sizeof(e)))
            bd->backing = NULL; /* header updated; reads see no backing (like rebase -u) */
    }
    return qcow2_sync(s);
}

static uint32_t qcow2_cluster_size(struct block_dev *bd)
{
    return (uint32_t)S(bd)->cs;
}

const struct block_driver_ops qcow2_ops = {
    .format = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .read = qcow2_read,
    .write = qcow2_write,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .close = qcow2_close,
    .create = qcow2_create,
    .get_info = qcow2_get_info,
    .check = qcow2_check,
    .block_status = qcow2_block_status,
    .truncate = qcow2_truncate,
    .write_compressed = qcow2_write_compressed,
    .change_backing = qcow2_change_backing,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_apply = qcow2_snapshot_apply,
    .snapshot_delete = qcow2_snapshot_delete,
    .snapshot_list = qcow2_snapshot_list,
    .cluster_size = qcow2_cluster_size,
};
