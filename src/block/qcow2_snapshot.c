/* SPDX-License-Identifier: MIT */
/*
 * qcow2 internal snapshots.  A snapshot is a copy of the L1 table; the
 * clusters it reaches are shared with the active state by raising their
 * refcounts.  Every operation raises refcounts before the new references
 * become durable and lowers them only after the old references are gone,
 * so a crash leaks clusters at worst.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/qcow2.h"
#include "util/log.h"

#define SNAP_MAX_EXTRA 1024

void qcow2_free_snapshots(struct qcow2 *s)
{
    for (uint32_t i = 0; i < s->nb_snapshots && s->snaps; i++) {
        free(s->snaps[i].id);
        free(s->snaps[i].name);
        free(s->snaps[i].extra);
    }
    free(s->snaps);
    s->snaps = NULL;
}

int qcow2_read_snapshots(struct qcow2 *s, char *err, size_t errlen)
{
    const char *path = s->bd->path;
    if (!s->nb_snapshots)
        return 0;
    s->snaps = calloc(s->nb_snapshots, sizeof(*s->snaps));
    if (!s->snaps)
        return -ENOMEM;
    uint64_t p = s->snapshots_offset;
    uint64_t limit = s->snapshots_offset + QCOW2_MAX_SNAPTABLE_BYTES;
    if (limit > s->file_size)
        limit = s->file_size;
    uint32_t n = s->nb_snapshots;
    s->nb_snapshots = 0; /* counts the parsed entries for cleanup */
    for (uint32_t i = 0; i < n; i++) {
        uint8_t h[40];
        if (p + 40 > limit)
            goto bad;
        int r = block_pread_full(s->fd, h, 40, p);
        if (r)
            return r;
        struct qcow2_snap *sn = &s->snaps[i];
        sn->l1_offset = qcow2_be64(h);
        sn->l1_size = qcow2_be32(h + 8);
        uint16_t id_len = qcow2_be16(h + 12), name_len = qcow2_be16(h + 14);
        sn->date_sec = qcow2_be32(h + 16);
        sn->date_nsec = qcow2_be32(h + 20);
        sn->vm_clock_nsec = qcow2_be64(h + 24);
        sn->vm_state_size = qcow2_be32(h + 32);
        sn->extra_size = qcow2_be32(h + 36);
        if (sn->extra_size > SNAP_MAX_EXTRA)
            goto bad;
        uint64_t total = 40ULL + sn->extra_size + id_len + name_len;
        if (p + total > limit)
            goto bad;
        uint8_t *b = malloc(total - 40 + 1);
        if (!b)
            return -ENOMEM;
        r = block_pread_full(s->fd, b, total - 40, p + 40);
        if (r) {
            free(b);
            return r;
        }
        s->nb_snapshots = i + 1;
        sn->extra = malloc(sn->extra_size ? sn->extra_size : 1);
        sn->id = strndup((char *)b + sn->extra_size, id_len);
        sn->name = strndup((char *)b + sn->extra_size + id_len, name_len);
        if (sn->extra)
            memcpy(sn->extra, b, sn->extra_size);
        free(b);
        if (!sn->extra || !sn->id || !sn->name)
            return -ENOMEM;
        if (sn->extra_size >= 8)
            sn->vm_state_size = qcow2_be64(sn->extra);
        sn->disk_size = sn->extra_size >= 16 ? qcow2_be64(sn->extra + 8) : s->bd->size;
        if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES ||
            (sn->l1_size && (sn->l1_offset & (s->cs - 1) || sn->l1_offset > s->file_size ||
                             sn->l1_offset + (uint64_t)sn->l1_size * 8 > s->file_size))) {
            block_set_err(err, errlen, "%s: snapshot '%s' has an invalid L1 table", path, sn->id);
            return -EINVAL;
        }
        if (sn->extra_size >= 16 &&
            (sn->disk_size > (1ULL << 62) ||
             sn->disk_size > ((uint64_t)sn->l1_size << (s->l2_bits + s->cluster_bits)))) {
            /* Applying it would give the disk a size its L1 table does not cover. */
            block_set_err(err, errlen, "%s: snapshot '%s' has an invalid disk size %" PRIu64, path,
                          sn->id, sn->disk_size);
            return -EINVAL;
        }
        p += qcow2_align_up(total, 8);
    }
    s->snapshots_size = p - s->snapshots_offset;
    return 0;
bad:
    block_set_err(err, errlen, "%s: invalid snapshot table", path);
    return -EINVAL;
}

/* Reads an L2 table straight from the file (the cache has been dropped). */
static int read_l2_direct(struct qcow2 *s, uint64_t off, uint64_t *e)
{
    if (off & (s->cs - 1))
        return -EIO;
    int r = qcow2_check_host_range(s, off, s->cs, "L2 table");
    if (!r)
        r = block_pread_full(s->fd, e, s->cs, off);
    if (r)
        return r;
    for (uint64_t i = 0; i < s->l2_entries; i++)
        e[i] = qcow2_be64(&e[i]);
    return 0;
}

static int write_l2_direct(struct qcow2 *s, uint64_t off, const uint64_t *e)
{
    int r = qcow2_pre_write_check(s, QCOW2_META_L2, off, s->cs, "L2 table");
    if (r)
        return r;
    uint8_t *b = malloc(s->cs);
    if (!b)
        return -ENOMEM;
    for (uint64_t i = 0; i < s->l2_entries; i++)
        qcow2_put64(b + 8 * i, e[i]);
    r = block_pwrite_full(s->fd, b, s->cs, off);
    free(b);
    return r;
}

static int adjust(struct qcow2 *s, uint64_t off, uint64_t len, int delta)
{
    if (delta < 0)
        return qcow2_free_now(s, off, len);
    for (uint64_t c = off >> s->cluster_bits; c <= (off + len - 1) >> s->cluster_bits; c++) {
        int r = qcow2_update_refcount(s, c, delta);
        if (r)
            return r;
    }
    return 0;
}

int qcow2_update_l1_refcounts(struct qcow2 *s, const uint64_t *l1, uint32_t l1_size, int delta)
{
    uint64_t *e = malloc(s->cs);
    if (!e)
        return -ENOMEM;
    int r = 0;
    for (uint32_t i = 0; i < l1_size && !r; i++) {
        uint64_t l2off = l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2off)
            continue;
        if ((r = read_l2_direct(s, l2off, e)))
            break;
        for (uint64_t j = 0; j < s->l2_entries && !r; j++) {
            switch (qcow2_classify(s, e[j])) {
            case QCOW2_CL_NORMAL:
            case QCOW2_CL_ZERO_ALLOC: {
                uint64_t h = e[j] & QCOW2_L2E_OFFSET_MASK;
                if (h & (s->cs - 1)) {
                    r = -EIO;
                    break;
                }
                r = adjust(s, h, s->cs, delta);
                break;
            }
            case QCOW2_CL_COMPRESSED: {
                uint64_t off, len;
                qcow2_compressed_range(s, e[j], &off, &len);
                r = adjust(s, off & ~511ULL, len + (off & 511), delta);
                break;
            }
            default:
                break;
            }
        }
        if (!r)
            r = adjust(s, l2off, s->cs, delta);
    }
    free(e);
    return r;
}

int qcow2_fix_copied(struct qcow2 *s, uint64_t *fixed, uint64_t *mismatches)
{
    uint64_t *e = malloc(s->cs);
    if (!e)
        return -ENOMEM;
    int r = 0;
    bool l1_changed = false;
    uint64_t empty_l2 = 0; /* last table read that has no entries (see qcow2_check) */
    for (uint32_t i = 0; i < s->l1_size && !r; i++) {
        uint64_t l2off = s->l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2off)
            continue;
        uint64_t rc;
        if ((r = qcow2_get_refcount(s, l2off >> s->cluster_bits, &rc)))
            break;
        bool want = rc == 1;
        if (want != !!(s->l1[i] & QCOW2_OFLAG_COPIED)) {
            if (mismatches)
                (*mismatches)++;
            if (fixed) {
                s->l1[i] ^= QCOW2_OFLAG_COPIED;
                l1_changed = true;
                (*fixed)++;
            }
        }
        if (l2off == empty_l2)
            continue;
        if ((r = read_l2_direct(s, l2off, e)))
            break;
        uint64_t nonzero = 0;
        while (nonzero < s->l2_entries && !e[nonzero])
            nonzero++;
        if (nonzero == s->l2_entries) {
            empty_l2 = l2off;
            continue;
        }
        bool changed = false;
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            enum qcow2_ctype_l2 k = qcow2_classify(s, e[j]);
            bool have = e[j] & QCOW2_OFLAG_COPIED;
            bool w = false;
            if (k == QCOW2_CL_NORMAL || k == QCOW2_CL_ZERO_ALLOC) {
                if ((r = qcow2_get_refcount(s, (e[j] & QCOW2_L2E_OFFSET_MASK) >> s->cluster_bits,
                                            &rc)))
                    break;
                w = rc == 1;
            } else if (k == QCOW2_CL_COMPRESSED) {
                w = false;
            } else {
                continue;
            }
            if (w != have) {
                if (mismatches)
                    (*mismatches)++;
                if (fixed) {
                    e[j] ^= QCOW2_OFLAG_COPIED;
                    changed = true;
                    (*fixed)++;
                }
            }
        }
        if (!r && changed)
            r = write_l2_direct(s, l2off, e);
    }
    free(e);
    if (!r && l1_changed)
        r = qcow2_write_l1(s, s->l1_offset, s->l1, s->l1_size);
    return r;
}

/* Writes the in-memory snapshot list as a new table and points the header at it. */
static int write_snapshot_table(struct qcow2 *s)
{
    size_t size = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        struct qcow2_snap *sn = &s->snaps[i];
        size += qcow2_align_up(40 + sn->extra_size + strlen(sn->id) + strlen(sn->name), 8);
    }
    if (size > QCOW2_MAX_SNAPTABLE_BYTES)
        return -EFBIG;
    uint64_t old = s->snapshots_offset, oldsize = s->snapshots_size;
    uint64_t off = 0;
    int r;
    if (size) {
        uint64_t nc = qcow2_align_up(size, s->cs) >> s->cluster_bits;
        uint8_t *b = calloc(1, size);
        if (!b)
            return -ENOMEM;
        uint64_t p = 0;
        for (uint32_t i = 0; i < s->nb_snapshots; i++) {
            struct qcow2_snap *sn = &s->snaps[i];
            size_t il = strlen(sn->id), nl = strlen(sn->name);
            qcow2_put64(b + p, sn->l1_offset);
            qcow2_put32(b + p + 8, sn->l1_size);
            qcow2_put16(b + p + 12, (uint16_t)il);
            qcow2_put16(b + p + 14, (uint16_t)nl);
            qcow2_put32(b + p + 16, sn->date_sec);
            qcow2_put32(b + p + 20, sn->date_nsec);
            qcow2_put64(b + p + 24, sn->vm_clock_nsec);
            qcow2_put32(b + p + 32,
                        sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
            qcow2_put32(b + p + 36, sn->extra_size);
            memcpy(b + p + 40, sn->extra, sn->extra_size);
            if (sn->extra_size >= 16) {
                qcow2_put64(b + p + 40, sn->vm_state_size);
                qcow2_put64(b + p + 48, sn->disk_size);
            }
            memcpy(b + p + 40 + sn->extra_size, sn->id, il);
            memcpy(b + p + 40 + sn->extra_size + il, sn->name, nl);
            p += qcow2_align_up(40 + sn->extra_size + il + nl, 8);
        }
        r = qcow2_alloc_contig(s, nc, &off);
        if (!r)
            r = block_pwrite_full(s->fd, b, size, off);
        free(b);
        if (r)
            return r;
    }
    /* The table and its refcounts are durable before the header names it. */
    if ((r = qcow2_flush_meta(s, true)))
        return r;
    s->snapshots_offset = off;
    s->snapshots_size = size;
    if ((r = qcow2_write_header(s)) || (r = qcow2_sync(s)))
        return r;
    if (old && oldsize)
        r = qcow2_free_now(s, old, oldsize);
    return r;
}

static int find_snapshot(struct qcow2 *s, const char *name_or_id)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].id, name_or_id))
            return (int)i;
    for (uint32_t i = 0; i < s->nb_snapshots; i++)
        if (!strcmp(s->snaps[i].name, name_or_id))
            return (int)i;
    return -1;
}

static int begin(struct qcow2 *s)
{
    /* The set of L2 tables changes wholesale: rebuild the overlap index when next needed. */
    qcow2_meta_invalidate(s);
    return qcow2_drop_l2_cache(s);
}

static int finish(struct qcow2 *s, int r)
{
    qcow2_meta_invalidate(s);
    if (r)
        return r;
    uint64_t fixed = 0;
    r = qcow2_fix_copied(s, &fixed, NULL);
    if (!r)
        r = qcow2_flush_meta(s, true);
    return r;
}

int qcow2_snapshot_create(struct block_dev *bd, const char *name)
{
    struct qcow2 *s = bd->priv;
    if (!name || !*name || strlen(name) > 65535)
        return -EINVAL;
    if (find_snapshot(s, name) >= 0)
        return -EEXIST;
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS)
        return -EFBIG;
    int r = begin(s);
    if (r)
        return r;
    unsigned long max_id = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        unsigned long v = strtoul(s->snaps[i].id, NULL, 10);
        if (v > max_id)
            max_id = v;
    }
    /* Copy the L1 table. */
    uint64_t l1off = 0;
    if (s->l1_size) {
        uint64_t nc = qcow2_align_up((uint64_t)s->l1_size * 8, s->cs) >> s->cluster_bits;
        uint64_t *copy = malloc((size_t)s->l1_size * 8);
        if (!copy)
            return -ENOMEM;
        for (uint32_t i = 0; i < s->l1_size; i++)
            copy[i] = s->l1[i] & ~QCOW2_OFLAG_COPIED;
        r = qcow2_alloc_contig(s, nc, &l1off);
        if (!r)
            r = qcow2_write_l1(s, l1off, copy, s->l1_size);
        free(copy);
        if (r)
            return r;
    }
    if ((r = qcow2_update_l1_refcounts(s, s->l1, s->l1_size, 1)))
        return r;
    struct qcow2_snap *ns = realloc(s->snaps, (s->nb_snapshots + 1) * sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    s->snaps = ns;
    struct qcow2_snap *sn = &ns[s->nb_snapshots];
    memset(sn, 0, sizeof(*sn));
    char id[32];
    snprintf(id, sizeof(id), "%lu", max_id + 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sn->l1_offset = l1off;
    sn->l1_size = s->l1_size;
    sn->id = strdup(id);
    sn->name = strdup(name);
    sn->date_sec = (uint32_t)ts.tv_sec;
    sn->date_nsec = (uint32_t)ts.tv_nsec;
    sn->disk_size = bd->size;
    sn->extra_size = 16;
    sn->extra = calloc(1, 16);
    s->nb_snapshots++;
    if (!sn->id || !sn->name || !sn->extra)
        return -ENOMEM;
    r = write_snapshot_table(s);
    return finish(s, r);
}

int qcow2_snapshot_apply(struct block_dev *bd, const char *name_or_id)
{
    struct qcow2 *s = bd->priv;
    int i = find_snapshot(s, name_or_id);
    if (i < 0)
        return -ENOENT;
    int r = begin(s);
    if (r)
        return r;
    struct qcow2_snap *sn = &s->snaps[i];
    uint64_t *sl1;
    if ((r = qcow2_read_l1(s, sn->l1_offset, sn->l1_size, &sl1)))
        return r;
    if ((r = qcow2_update_l1_refcounts(s, sl1, sn->l1_size, 1)) ||
        (r = qcow2_flush_meta(s, true))) {
        free(sl1);
        return r;
    }
    uint32_t nsize = sn->l1_size > s->l1_size ? sn->l1_size : s->l1_size;
    uint64_t *nl1 = calloc(nsize ? nsize : 1, 8);
    uint64_t *old = s->l1;
    if (!nl1) {
        free(sl1);
        return -ENOMEM;
    }
    for (uint32_t k = 0; k < sn->l1_size; k++)
        nl1[k] = sl1[k] & ~QCOW2_OFLAG_COPIED;
    free(sl1);
    uint64_t oldoff = s->l1_offset;
    uint32_t oldsize = s->l1_size;
    uint64_t noff = oldoff;
    if (nsize > oldsize) {
        uint64_t nc = qcow2_align_up((uint64_t)nsize * 8, s->cs) >> s->cluster_bits;
        struct qcow2_l2 **nc2 = calloc(nsize, sizeof(*nc2));
        if (!nc2 || (r = qcow2_alloc_contig(s, nc, &noff)) || (r = qcow2_flush_meta(s, true))) {
            free(nc2);
            free(nl1);
            return r ? r : -ENOMEM;
        }
        free(s->l2c);
        s->l2c = nc2;
    }
    if ((r = qcow2_write_l1(s, noff, nl1, nsize)) || (r = qcow2_sync(s))) {
        free(nl1);
        return r;
    }
    s->l1 = nl1;
    s->l1_offset = noff;
    s->l1_size = nsize;
    bd->size = sn->disk_size;
    if ((r = qcow2_write_header(s)) || (r = qcow2_sync(s))) {
        free(old);
        return r;
    }
    r = qcow2_update_l1_refcounts(s, old, oldsize, -1);
    free(old);
    if (!r && noff != oldoff && oldsize)
        r = qcow2_free_now(s, oldoff, qcow2_align_up((uint64_t)oldsize * 8, s->cs));
    return finish(s, r);
}

int qcow2_snapshot_delete(struct block_dev *bd, const char *name_or_id)
{
    struct qcow2 *s = bd->priv;
    int i = find_snapshot(s, name_or_id);
    if (i < 0)
        return -ENOENT;
    int r = begin(s);
    if (r)
        return r;
    struct qcow2_snap sn = s->snaps[i];
    memmove(&s->snaps[i], &s->snaps[i + 1], (s->nb_snapshots - (uint32_t)i - 1) * sizeof(sn));
    s->nb_snapshots--;
    r = write_snapshot_table(s);
    if (r) {
        free(sn.id), free(sn.name), free(sn.extra);
        return r;
    }
    uint64_t *sl1;
    r = qcow2_read_l1(s, sn.l1_offset, sn.l1_size, &sl1);
    if (!r) {
        r = qcow2_update_l1_refcounts(s, sl1, sn.l1_size, -1);
        free(sl1);
    }
    if (!r && sn.l1_size)
        r = qcow2_free_now(s, sn.l1_offset, qcow2_align_up((uint64_t)sn.l1_size * 8, s->cs));
    free(sn.id), free(sn.name), free(sn.extra);
    return finish(s, r);
}

int qcow2_snapshot_list(struct block_dev *bd, struct image_snapshot **out, unsigned *n)
{
    struct qcow2 *s = bd->priv;
    *out = NULL;
    *n = 0;
    if (!s->nb_snapshots)
        return 0;
    struct image_snapshot *v = calloc(s->nb_snapshots, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        struct qcow2_snap *sn = &s->snaps[i];
        snprintf(v[i].id, sizeof(v[i].id), "%s", sn->id);
        snprintf(v[i].name, sizeof(v[i].name), "%s", sn->name);
        v[i].vm_state_size = sn->vm_state_size;
        v[i].date_sec = sn->date_sec;
        v[i].date_nsec = sn->date_nsec;
        v[i].vm_clock_nsec = sn->vm_clock_nsec;
        v[i].disk_size = sn->disk_size;
    }
    *out = v;
    *n = s->nb_snapshots;
    return 0;
}
