/* SPDX-License-Identifier: MIT */
/*
 * qcow2 refcounts: the refcount-block cache, cluster allocation, growth of
 * the refcount table, and deferred frees.
 *
 * New refcount blocks and refcount tables are always placed at the end of
 * the file (the "frontier"), so that growing the refcount structure never
 * has to search through refcounts that are themselves being created.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

uint64_t qcow2_rb_get(const struct qcow2 *s, const uint8_t *b, uint64_t i)
{
    switch (s->refcount_order) {
    case 0:
    case 1:
    case 2: {
        unsigned w = s->refcount_bits;
        uint64_t bit = i * w;
        return (b[bit / 8] >> (bit % 8)) & ((1u << w) - 1);
    }
    case 3:
        return b[i];
    case 4:
        return qcow2_be16(b + 2 * i);
    case 5:
        return qcow2_be32(b + 4 * i);
    default:
        return qcow2_be64(b + 8 * i);
    }
}

void qcow2_rb_set(const struct qcow2 *s, uint8_t *b, uint64_t i, uint64_t v)
{
    switch (s->refcount_order) {
    case 0:
    case 1:
    case 2: {
        unsigned w = s->refcount_bits;
        uint64_t bit = i * w;
        uint8_t mask = (uint8_t)(((1u << w) - 1) << (bit % 8));
        b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        break;
    }
    case 3:
        b[i] = (uint8_t)v;
        break;
    case 4:
        qcow2_put16(b + 2 * i, (uint16_t)v);
        break;
    case 5:
        qcow2_put32(b + 4 * i, (uint32_t)v);
        break;
    default:
        qcow2_put64(b + 8 * i, v);
        break;
    }
}

/* Loads refcount block rti into the cache; *out NULL if it is not allocated. */
static int load_rb(struct qcow2 *s, uint64_t rti, uint8_t **out)
{
    *out = NULL;
    if (rti >= s->rt_size)
        return 0;
    if (s->rbc[rti]) {
        *out = s->rbc[rti];
        return 0;
    }
    uint64_t off = s->rt[rti] & QCOW2_RTE_OFFSET_MASK;
    if (!off)
        return 0;
    if (off & (s->cs - 1) || off + s->cs > s->file_size) {
        log_error("%s: corrupt image: refcount block %llu at invalid offset 0x%llx", s->bd->path,
                  (unsigned long long)rti, (unsigned long long)off);
        return -EIO;
    }
    uint8_t *b = malloc(s->cs);
    if (!b)
        return -ENOMEM;
    int r = block_pread_full(s->fd, b, s->cs, off);
    if (r) {
        free(b);
        return r;
    }
    s->rbc[rti] = b;
    *out = b;
    return 0;
}

int qcow2_get_refcount(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
    uint8_t *b;
    int r = load_rb(s, cluster >> s->rb_bits, &b);
    if (r)
        return r;
    *rc = b ? qcow2_rb_get(s, b, cluster & ((1ULL << s->rb_bits) - 1)) : 0;
    return 0;
}

static int grow_reftable(struct qcow2 *s, uint64_t min_entries);

/* Takes the next cluster at the end of the file, without touching refcounts. */
static uint64_t bump_frontier(struct qcow2 *s)
{
    uint64_t off = s->frontier;
    s->frontier += s->cs;
    return off;
}

static void mark_rt_dirty(struct qcow2 *s, uint64_t i)
{
    if (s->rt_dirty_lo >= s->rt_dirty_hi) {
        s->rt_dirty_lo = i;
        s->rt_dirty_hi = i + 1;
    } else {
        if (i < s->rt_dirty_lo)
            s->rt_dirty_lo = i;
        if (i + 1 > s->rt_dirty_hi)
            s->rt_dirty_hi = i + 1;
    }
}

static void mark_rb_dirty(struct qcow2 *s, uint64_t rti)
{
    if (!s->rb_dirty[rti]) {
        s->rb_dirty[rti] = true;
        s->dirty_rb++;
    }
}

/* Makes sure refcount block rti exists (allocating it at the frontier). */
static int ensure_rb(struct qcow2 *s, uint64_t rti, int depth)
{
    if (depth > 8)
        return -EIO; /* cannot happen with sane geometry */
    if (rti < s->rt_size && (s->rt[rti] & QCOW2_RTE_OFFSET_MASK))
        return 0;
    if (rti >= s->rt_size) {
        int r = grow_reftable(s, rti + 1);
        if (r)
            return r;
        if (s->rt[rti] & QCOW2_RTE_OFFSET_MASK)
            return 0; /* growth placed it */
    }
    uint8_t *b = calloc(1, s->cs);
    if (!b)
        return -ENOMEM;
    uint64_t off = bump_frontier(s);
    uint64_t c = off >> s->cluster_bits;
    if ((c >> s->rb_bits) == rti) {
        qcow2_rb_set(s, b, c & ((1ULL << s->rb_bits) - 1), 1); /* describes itself */
    } else {
        int r = ensure_rb(s, c >> s->rb_bits, depth + 1);
        if (!r)
            r = qcow2_update_refcount(s, c, 1);
        if (r) {
            free(b);
            return r;
        }
    }
    free(s->rbc[rti]);
    s->rbc[rti] = b;
    s->rb_dirty[rti] = false;
    mark_rb_dirty(s, rti);
    s->rt[rti] = off;
    mark_rt_dirty(s, rti);
    qcow2_meta_add(s, off, QCOW2_META_RB);
    return 0;
}

int qcow2_set_refcount(struct qcow2 *s, uint64_t cluster, uint64_t rc)
{
    uint64_t rti = cluster >> s->rb_bits;
    if (rc > s->refcount_max)
        return -ERANGE;
    uint8_t *b;
    int r = load_rb(s, rti, &b);
    if (r)
        return r;
    if (!b) {
        if (!rc)
            return 0;
        r = ensure_rb(s, rti, 0);
        if (r)
            return r;
        r = load_rb(s, rti, &b);
        if (r)
            return r;
        if (!b)
            return -EIO;
    }
    uint64_t idx = cluster & ((1ULL << s->rb_bits) - 1);
    if (qcow2_rb_get(s, b, idx) == rc)
        return 0;
    qcow2_rb_set(s, b, idx, rc);
    mark_rb_dirty(s, rti);
    if (!rc) {
        qcow2_meta_cluster_freed(s, cluster);
        if (cluster < s->free_hint)
            s->free_hint = cluster;
        if (s->comp_cur >> s->cluster_bits == cluster)
            s->comp_cur = 0;
    }
    return 0;
}

int qcow2_update_refcount(struct qcow2 *s, uint64_t cluster, int64_t delta)
{
    uint64_t rc;
    int r = qcow2_get_refcount(s, cluster, &rc);
    if (r)
        return r;
    if (delta < 0 && rc < (uint64_t)-delta) {
        log_error("%s: corrupt image: refcount of cluster %llu would drop below zero", s->bd->path,
                  (unsigned long long)cluster);
        return -EIO;
    }
    if (delta > 0 && s->refcount_max - rc < (uint64_t)delta) {
        log_error("%s: refcount of cluster %llu would overflow %u bits", s->bd->path,
                  (unsigned long long)cluster, s->refcount_bits);
        return -ERANGE;
    }
    return qcow2_set_refcount(s, cluster, rc + (uint64_t)delta);
}

int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *host, bool *known_zero)
{
    uint64_t c = s->free_hint;
    uint64_t fc = s->frontier >> s->cluster_bits;
    if (s->repairing)
        c = fc; /* the refcounts cannot be trusted for finding free space */
    for (; c < fc; c++) {
        uint64_t rc;
        int r = qcow2_get_refcount(s, c, &rc);
        if (r)
            return r;
        if (!rc)
            break;
    }
    if (c == 0)
        c = 1; /* never hand out the header cluster */
    if (c < fc) {
        /* Free by its refcount: a damaged refcount must not hand out a metadata cluster. */
        int r = qcow2_pre_write_check(s, 0, c << s->cluster_bits, s->cs, "newly allocated cluster");
        if (r)
            return r;
    }
    *known_zero = c >= fc;
    if (c >= fc) {
        c = fc;
        s->frontier = (c + 1) << s->cluster_bits;
    }
    s->free_hint = c + 1;
    int r = qcow2_set_refcount(s, c, 1);
    if (r)
        return r;
    *host = c << s->cluster_bits;
    return 0;
}

int qcow2_alloc_contig(struct qcow2 *s, uint64_t n, uint64_t *host)
{
    uint64_t start = s->frontier;
    s->frontier += n << s->cluster_bits;
    for (uint64_t i = 0; i < n; i++) {
        int r = qcow2_set_refcount(s, (start >> s->cluster_bits) + i, 1);
        if (r)
            return r;
    }
    *host = start;
    return 0;
}

int qcow2_defer_free(struct qcow2 *s, uint64_t off, uint64_t len)
{
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (s->ndeferred == s->deferred_cap) {
            size_t cap = s->deferred_cap ? s->deferred_cap * 2 : 256;
            uint64_t *d = realloc(s->deferred, cap * sizeof(*d));
            if (!d)
                return -ENOMEM;
            s->deferred = d;
            s->deferred_cap = cap;
        }
        s->deferred[s->ndeferred++] = c;
    }
    return 0;
}

int qcow2_free_now(struct qcow2 *s, uint64_t off, uint64_t len)
{
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        int r = qcow2_update_refcount(s, c, -1);
        if (r)
            return r;
        uint64_t rc;
        if (!qcow2_get_refcount(s, c, &rc) && !rc &&
            qcow2_meta_overlap(s, QCOW2_META_ALL, c << s->cluster_bits, s->cs) == 0) {
            /* Give the space back to the host (never a metadata cluster's: a damaged
             * refcount may say it is free); failure is harmless. */
            if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                          (off_t)(c << s->cluster_bits), (off_t)s->cs) < 0) {
            }
        }
    }
    return 0;
}

int qcow2_write_refcounts(struct qcow2 *s)
{
    if (s->dirty_rb) {
        for (uint64_t i = 0; i < s->rt_size; i++) {
            if (!s->rb_dirty[i])
                continue;
            uint64_t off = s->rt[i] & QCOW2_RTE_OFFSET_MASK;
            int r = qcow2_pre_write_check(s, QCOW2_META_RB, off, s->cs, "refcount block");
            if (r)
                return r;
            r = block_pwrite_full(s->fd, s->rbc[i], s->cs, off);
            if (r)
                return r;
            if (off + s->cs > s->file_size)
                s->file_size = off + s->cs;
            s->rb_dirty[i] = false;
        }
        s->dirty_rb = 0;
    }
    if (s->rt_dirty_lo < s->rt_dirty_hi) {
        /* A table entry must not be durable before the block it names. */
        int r = qcow2_sync(s);
        if (r)
            return r;
        uint64_t n = s->rt_dirty_hi - s->rt_dirty_lo;
        r = qcow2_pre_write_check(s, QCOW2_META_RT, s->rt_offset + s->rt_dirty_lo * 8, n * 8,
                                  "refcount table");
        if (r)
            return r;
        uint8_t *buf = malloc(n * 8);
        if (!buf)
            return -ENOMEM;
        for (uint64_t i = 0; i < n; i++)
            qcow2_put64(buf + 8 * i, s->rt[s->rt_dirty_lo + i]);
        r = block_pwrite_full(s->fd, buf, n * 8, s->rt_offset + s->rt_dirty_lo * 8);
        free(buf);
        if (r)
            return r;
        s->rt_dirty_lo = s->rt_dirty_hi = 0;
    }
    return 0;
}

/*
 * Moves the refcount table to a bigger one at the end of the file.  The
 * new table and any refcount blocks needed to describe it are written and
 * synced before the header points at them; the old table is freed after.
 */
static int grow_reftable(struct qcow2 *s, uint64_t min_entries)
{
    uint64_t per_cluster = s->cs / 8;
    uint64_t entries = s->rt_size * 2;
    if (entries < min_entries)
        entries = min_entries;
    uint64_t start = s->frontier >> s->cluster_bits;
    uint64_t n, k = 0, nblocks_needed;
    uint64_t *need = NULL;
    for (;;) {
        entries = qcow2_align_up(entries, per_cluster);
        n = entries / per_cluster;
        if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES) {
            log_error("%s: refcount table would exceed %u bytes", s->bd->path,
                      QCOW2_MAX_REFTABLE_BYTES);
            free(need);
            return -EFBIG;
        }
        uint64_t end = start + n + k;
        uint64_t last_rti = (end - 1) >> s->rb_bits;
        if (last_rti >= entries) {
            entries = last_rti + 1;
            continue;
        }
        nblocks_needed = 0;
        for (uint64_t i = start >> s->rb_bits; i <= last_rti; i++)
            if (i >= s->rt_size || !(s->rt[i] & QCOW2_RTE_OFFSET_MASK))
                nblocks_needed++;
        if (nblocks_needed <= k)
            break;
        k = nblocks_needed;
    }
    uint64_t *nrt = calloc(entries, 8);
    uint8_t **nrbc = calloc(entries, sizeof(*nrbc));
    bool *nrbd = calloc(entries, sizeof(*nrbd));
    if (!nrt || !nrbc || !nrbd) {
        free(nrt), free(nrbc), free(nrbd);
        return -ENOMEM;
    }
    memcpy(nrt, s->rt, s->rt_size * 8);
    memcpy(nrbc, s->rbc, s->rt_size * sizeof(*nrbc));
    memcpy(nrbd, s->rb_dirty, s->rt_size * sizeof(*nrbd));
    uint64_t old_off = s->rt_offset, old_clusters = s->rt_clusters;
    uint64_t old_size = s->rt_size;
    free(s->rt), free(s->rbc), free(s->rb_dirty);
    s->rt = nrt;
    s->rbc = nrbc;
    s->rb_dirty = nrbd;
    s->rt_size = entries;
    /* Place the new blocks right after the table, in index order. */
    uint64_t end = start + n + k;
    uint64_t next = start + n;
    for (uint64_t i = start >> s->rb_bits; i <= (end - 1) >> s->rb_bits; i++) {
        if (s->rt[i] & QCOW2_RTE_OFFSET_MASK)
            continue;
        uint8_t *b = calloc(1, s->cs);
        if (!b)
            return -ENOMEM;
        s->rbc[i] = b;
        s->rt[i] = next << s->cluster_bits;
        mark_rb_dirty(s, i);
        next++;
    }
    s->frontier = end << s->cluster_bits;
    for (uint64_t c = start; c < end; c++) {
        int r = qcow2_set_refcount(s, c, 1);
        if (r)
            return r;
    }
    s->rt_offset = start << s->cluster_bits;
    s->rt_clusters = (uint32_t)n;
    s->rt_dirty_lo = s->rt_dirty_hi = 0;
    /* Write blocks, then the whole table, sync, then the header. */
    int r = qcow2_write_refcounts(s);
    if (r)
        return r;
    uint8_t *buf = calloc(n, s->cs);
    if (!buf)
        return -ENOMEM;
    for (uint64_t i = 0; i < entries; i++)
        qcow2_put64(buf + 8 * i, s->rt[i]);
    r = block_pwrite_full(s->fd, buf, n * s->cs, s->rt_offset);
    free(buf);
    if (r)
        return r;
    if (s->rt_offset + n * s->cs > s->file_size)
        s->file_size = s->rt_offset + n * s->cs;
    r = qcow2_sync(s);
    if (!r)
        r = qcow2_write_header(s);
    if (!r)
        r = qcow2_sync(s);
    if (r)
        return r;
    (void)old_size;
    if (old_off && old_clusters)
        return qcow2_free_now(s, old_off, old_clusters * s->cs);
    return 0;
}

void qcow2_refcount_free(struct qcow2 *s)
{
    if (s->rbc)
        for (uint64_t i = 0; i < s->rt_size; i++)
            free(s->rbc[i]);
    free(s->rbc);
    free(s->rb_dirty);
    free(s->rt);
    free(s->deferred);
    s->rbc = NULL;
    s->rb_dirty = NULL;
    s->rt = NULL;
    s->deferred = NULL;
}
