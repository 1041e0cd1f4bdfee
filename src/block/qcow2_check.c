/* SPDX-License-Identifier: MIT */
/*
 * qcow2 consistency check and repair: recompute every cluster's refcount
 * from the metadata that references it and compare with the stored ones.
 * Stored > computed is a leak; stored < computed is a corruption (the
 * cluster could be handed out twice).  COPIED flags of the active tables
 * must match "refcount == 1".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "util/log.h"

#define CHECK_MAX_CLUSTERS (1ULL << 26) /* 256 MiB of counters */

struct ck {
    struct qcow2 *s;
    uint32_t *ref;
    uint64_t n;
    struct image_check_result *res;
    uint64_t *l2buf;
    bool fix_overlaps; /* repair: unmap guest clusters that lie on metadata */
};

static void inc(struct ck *k, uint64_t off, uint64_t len, const char *what)
{
    struct qcow2 *s = k->s;
    if (!len)
        return;
    uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (c >= k->n) {
            log_error("%s: ERROR %s at 0x%" PRIx64 " is beyond the end of the image", s->bd->path,
                      what, c << s->cluster_bits);
            k->res->corruptions++;
            return;
        }
        if (k->ref[c] != UINT32_MAX)
            k->ref[c]++;
    }
}

static void walk_l1(struct ck *k, const uint64_t *l1, uint32_t l1_size, bool active)
{
    struct qcow2 *s = k->s;
    uint64_t prev = 0;
    /* The last table read if it holds no entry at all: a damaged L1 table naming one empty
     * table millions of times costs a reference count each, not a read and a walk each. */
    uint64_t empty_l2 = 0;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2off = l1[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2off)
            continue;
        if (l2off & (s->cs - 1)) {
            log_error("%s: ERROR unaligned L2 table offset 0x%" PRIx64, s->bd->path, l2off);
            k->res->corruptions++;
            continue;
        }
        inc(k, l2off, s->cs, "L2 table");
        bool l2_changed = false;
        if (l2off == empty_l2)
            continue;
        if (l2off + s->cs > s->file_size || block_pread_full(s->fd, k->l2buf, s->cs, l2off)) {
            k->res->check_errors++;
            continue;
        }
        uint64_t nonzero = 0;
        while (nonzero < s->l2_entries && !k->l2buf[nonzero])
            nonzero++;
        if (nonzero == s->l2_entries) {
            empty_l2 = l2off;
            continue;
        }
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = qcow2_be64(&k->l2buf[j]);
            switch (qcow2_classify(s, e)) {
            case QCOW2_CL_COMPRESSED: {
                uint64_t off, len;
                qcow2_compressed_range(s, e, &off, &len);
                inc(k, off, len, "compressed cluster");
                if (active) {
                    k->res->compressed_clusters++;
                    k->res->allocated_clusters++;
                }
                break;
            }
            case QCOW2_CL_NORMAL:
            case QCOW2_CL_ZERO_ALLOC: {
                uint64_t h = e & QCOW2_L2E_OFFSET_MASK;
                if (h & (s->cs - 1)) {
                    log_error("%s: ERROR unaligned data cluster offset 0x%" PRIx64, s->bd->path, h);
                    k->res->corruptions++;
                    break;
                }
                if (qcow2_meta_overlap(s, QCOW2_META_ALL, h, s->cs) > 0) {
                    /* Its "data" is metadata: what the guest would read there is garbage, and
                     * a write would destroy the metadata.  Repair unmaps the cluster (as zeroes
                     * in v3, so that no backing file shows through). */
                    if (k->fix_overlaps) {
                        k->l2buf[j] = 0;
                        if (s->version >= 3)
                            qcow2_put64(&k->l2buf[j], QCOW2_OFLAG_ZERO);
                        l2_changed = true;
                        k->res->corruptions_fixed++;
                    } else {
                        log_error("%s: ERROR data cluster at 0x%" PRIx64 " is metadata",
                                  s->bd->path, h);
                        k->res->corruptions++;
                    }
                    break;
                }
                inc(k, h, s->cs, "data cluster");
                if (active) {
                    k->res->allocated_clusters++;
                    if (prev && h != prev + s->cs)
                        k->res->fragmented_clusters++;
                    prev = h;
                }
                break;
            }
            default:
                break;
            }
        }
        if (l2_changed && (qcow2_pre_write_check(s, QCOW2_META_L2, l2off, s->cs, "L2 table") ||
                           block_pwrite_full(s->fd, k->l2buf, s->cs, l2off)))
            k->res->check_errors++;
    }
}

/*
 * While the "bitmaps" autoclear bit is set (a read-only open of an image
 * with persistent dirty bitmaps), the bitmap directory, tables and data
 * clusters are referenced too.  On a read-write open wirt clears the bit,
 * after which they are unreferenced (leaks), exactly as QEMU sees them.
 */
#define EXT_BITMAPS 0x23852875u
static void count_bitmaps(struct ck *k)
{
    struct qcow2 *s = k->s;
    if (!(s->autoclear & 1))
        return;
    for (unsigned i = 0; i < s->nexts; i++) {
        if (s->exts[i].type != EXT_BITMAPS || s->exts[i].len < 24)
            continue;
        const uint8_t *e = s->exts[i].data;
        uint32_t nb = qcow2_be32(e);
        uint64_t dsize = qcow2_be64(e + 8), doff = qcow2_be64(e + 16);
        if (!nb || dsize > (64u << 20) || doff & (s->cs - 1) || doff > s->file_size ||
            dsize > s->file_size - doff) {
            k->res->check_errors++;
            return;
        }
        inc(k, doff, dsize, "bitmap directory");
        uint8_t *dir = malloc(dsize);
        if (!dir || block_pread_full(s->fd, dir, dsize, doff)) {
            free(dir);
            k->res->check_errors++;
            return;
        }
        uint64_t p = 0;
        for (uint32_t b = 0; b < nb; b++) {
            if (p + 24 > dsize)
                break;
            uint64_t toff = qcow2_be64(dir + p);
            uint32_t tsize = qcow2_be32(dir + p + 8);
            uint16_t name = qcow2_be16(dir + p + 18);
            uint32_t extra = qcow2_be32(dir + p + 20);
            if ((uint64_t)tsize * 8 > (64u << 20) || toff & (s->cs - 1) || toff > s->file_size ||
                (uint64_t)tsize * 8 > s->file_size - toff) {
                k->res->check_errors++;
                break;
            }
            inc(k, toff, (uint64_t)tsize * 8, "bitmap table");
            for (uint32_t j = 0; j < tsize; j++) {
                uint8_t be[8];
                if (block_pread_full(s->fd, be, 8, toff + 8ULL * j))
                    break;
                uint64_t off = qcow2_be64(be) & QCOW2_L2E_OFFSET_MASK;
                if (off)
                    inc(k, off, s->cs, "bitmap data");
            }
            p += qcow2_align_up(24ULL + extra + name, 8);
        }
        free(dir);
    }
}

int qcow2_check(struct block_dev *bd, unsigned repair, struct image_check_result *res)
{
    struct qcow2 *s = bd->priv;
    memset(res, 0, sizeof(*res));
    int r = 0;
    if (!bd->read_only && (r = qcow2_drop_l2_cache(s)))
        return r;
    uint64_t end = s->file_size > s->frontier ? s->file_size : s->frontier;
    struct ck k = {.s = s, .res = res, .n = qcow2_align_up(end, s->cs) >> s->cluster_bits};
    k.fix_overlaps = (repair & IMAGE_REPAIR_ALL) == IMAGE_REPAIR_ALL && !bd->read_only;
    if (k.n > CHECK_MAX_CLUSTERS) {
        res->check_errors++;
        return -EFBIG;
    }
    k.ref = calloc(k.n ? k.n : 1, sizeof(*k.ref));
    k.l2buf = malloc(s->cs);
    if (!k.ref || !k.l2buf) {
        free(k.ref);
        free(k.l2buf);
        return -ENOMEM;
    }
    inc(&k, 0, s->cs, "header");
    if (s->l1_size)
        inc(&k, s->l1_offset, (uint64_t)s->l1_size * 8, "L1 table");
    walk_l1(&k, s->l1, s->l1_size, true);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        struct qcow2_snap *sn = &s->snaps[i];
        if (!sn->l1_size)
            continue;
        inc(&k, sn->l1_offset, (uint64_t)sn->l1_size * 8, "snapshot L1 table");
        uint64_t *l1;
        if (qcow2_read_l1(s, sn->l1_offset, sn->l1_size, &l1)) {
            res->check_errors++;
            continue;
        }
        walk_l1(&k, l1, sn->l1_size, false);
        free(l1);
    }
    if (s->nb_snapshots)
        inc(&k, s->snapshots_offset, s->snapshots_size, "snapshot table");
    count_bitmaps(&k);
    inc(&k, s->rt_offset, (uint64_t)s->rt_clusters * s->cs, "refcount table");
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t off = s->rt[i] & QCOW2_RTE_OFFSET_MASK;
        if (!off)
            continue;
        if (off & (s->cs - 1)) {
            log_error("%s: ERROR unaligned refcount block offset 0x%" PRIx64, bd->path, off);
            res->corruptions++;
            continue;
        }
        inc(&k, off, s->cs, "refcount block");
    }
    res->total_clusters = (bd->size + s->cs - 1) >> s->cluster_bits;

    if (repair)
        s->repairing = true;
    uint64_t last_used = 0;
    for (uint64_t c = 0; c < k.n; c++) {
        uint64_t stored;
        if (k.ref[c])
            last_used = c + 1;
        if (qcow2_get_refcount(s, c, &stored)) {
            res->check_errors++;
            continue;
        }
        uint64_t want = k.ref[c];
        if (stored == want)
            continue;
        if (want < stored) {
            if (repair & IMAGE_REPAIR_LEAKS) {
                if (qcow2_set_refcount(s, c, want) == 0) {
                    res->leaks_fixed++;
                    continue;
                }
                res->check_errors++;
            }
            if (res->leaks < 10)
                log_error("%s: Leaked cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                          bd->path, c, stored, want);
            res->leaks++;
        } else {
            if ((repair & IMAGE_REPAIR_ALL) == IMAGE_REPAIR_ALL) {
                if (qcow2_set_refcount(s, c, want) == 0) {
                    res->corruptions_fixed++;
                    continue;
                }
                res->check_errors++;
            }
            if (res->corruptions < 10)
                log_error("%s: ERROR cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                          bd->path, c, stored, want);
            res->corruptions++;
        }
    }
    res->image_end_offset = last_used << s->cluster_bits;
    free(k.ref);
    free(k.l2buf);
    if (repair && !bd->read_only) {
        r = qcow2_flush_meta(s, true);
        s->repairing = false;
        qcow2_meta_invalidate(s);
        if (r)
            return r;
    }
    uint64_t mism = 0, fixed = 0;
    bool fix = (repair & IMAGE_REPAIR_ALL) == IMAGE_REPAIR_ALL && !bd->read_only;
    r = qcow2_fix_copied(s, fix ? &fixed : NULL, &mism);
    if (r) {
        res->check_errors++;
        return 0;
    }
    res->corruptions += mism - fixed;
    res->corruptions_fixed += fixed;
    if (fix && fixed)
        r = qcow2_flush_meta(s, true);
    if (!r && fix && !res->corruptions && !res->check_errors && !s->corrupt_signalled &&
        (s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        /* Consistent again: read-write opens may use it (the overlap checks still guard). */
        s->incompat &= ~QCOW2_INCOMPAT_CORRUPT;
        if (!(r = qcow2_write_header(s)))
            r = qcow2_sync(s);
    }
    return r;
}
