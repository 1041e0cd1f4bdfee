/* SPDX-License-Identifier: MIT */
/*
 * qcow2 metadata overlap checks.  A damaged or hostile image can point an
 * L2 entry (or an L1 entry, or a refcount table entry) at another piece of
 * metadata; a write through it would then put guest bytes into, say, the
 * refcount table.  Every data write, every cluster allocation and every
 * metadata write is checked against the image's metadata first: the
 * header cluster, the active L1 table, the L2 tables it names, the
 * refcount table, the refcount blocks, the snapshot table and the snapshot
 * L1 tables (not the L2 tables only snapshots use: finding them means
 * reading every snapshot's L1 table).
 *
 * On an overlap the I/O is refused, one line is logged, and a writable
 * image gets the "corrupt" incompatible bit so that later read-write opens
 * refuse it; nothing else is written to it afterwards, so what is on disk
 * stays what it was (at worst with leaked clusters).
 *
 * Fixed tables are kept as byte ranges, L2 tables and refcount blocks (one
 * cluster each, possibly millions of them) in a hash set of cluster
 * numbers.  The index is built on first use from the in-memory L1 and
 * refcount tables and rebuilt whenever a table has moved; new L2 tables
 * and refcount blocks are added as they are allocated, and a cluster whose
 * refcount drops to zero leaves the set.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "util/log.h"

struct meta_range {
    uint64_t start, end;
    unsigned kind;
};

struct qcow2_meta_index {
    /* The table locations the index was built from: when one differs, it is rebuilt. */
    uint64_t l1_offset, rt_offset, snapshots_offset;
    uint32_t l1_size, rt_clusters, nb_snapshots;
    const struct qcow2_snap *snaps;

    struct meta_range *ranges;
    size_t nranges;
    /* Open addressing, linear probing: (cluster << 3 | kind bits), 0 = empty. */
    uint64_t *slots;
    size_t cap, used;
};

/* Kinds stored in the hash set (3 bits beside the cluster number). */
#define SET_L2     1u
#define SET_RB     2u
#define SET_DUP_L2 4u /* named by more than one active L1 entry */
#define SET_BITS   3u

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case QCOW2_META_HEADER:
        return "the image header";
    case QCOW2_META_L1:
        return "the active L1 table";
    case QCOW2_META_L2:
        return "an L2 table";
    case QCOW2_META_RT:
        return "the refcount table";
    case QCOW2_META_RB:
        return "a refcount block";
    case QCOW2_META_SNAPTABLE:
        return "the snapshot table";
    case QCOW2_META_SNAP_L1:
        return "the L1 table of a snapshot";
    case QCOW2_META_SHARED_L2:
        return "an L2 table that another L1 entry names too";
    }
    return "metadata";
}

static size_t slot_of(const struct qcow2_meta_index *m, uint64_t cluster)
{
    return (size_t)((cluster * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
}

static int set_grow(struct qcow2_meta_index *m);

static int set_add(struct qcow2_meta_index *m, uint64_t cluster, unsigned kind)
{
    if (!cluster)
        return 0; /* cluster 0 is the header, a fixed range */
    if ((m->used + 1) * 2 > m->cap) {
        int r = set_grow(m);
        if (r)
            return r;
    }
    for (size_t i = slot_of(m, cluster);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i]) {
            m->slots[i] = cluster << SET_BITS | kind;
            m->used++;
            return 0;
        }
        if (m->slots[i] >> SET_BITS == cluster) {
            if (m->slots[i] & kind & SET_L2)
                kind |= SET_DUP_L2;
            m->slots[i] |= kind;
            return 0;
        }
    }
}

static int set_grow(struct qcow2_meta_index *m)
{
    size_t ocap = m->cap;
    uint64_t *old = m->slots;
    size_t cap = ocap ? ocap * 2 : 1024;
    uint64_t *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    m->slots = slots;
    m->cap = cap;
    m->used = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            set_add(m, old[i] >> SET_BITS, (unsigned)(old[i] & ((1u << SET_BITS) - 1)));
    free(old);
    return 0;
}

static unsigned set_get(const struct qcow2_meta_index *m, uint64_t cluster)
{
    if (!m->cap)
        return 0;
    for (size_t i = slot_of(m, cluster);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i])
            return 0;
        if (m->slots[i] >> SET_BITS == cluster)
            return (unsigned)(m->slots[i] & ((1u << SET_BITS) - 1));
    }
}

/* Deletion without tombstones: later entries of the probe run move back into the hole. */
static void set_del(struct qcow2_meta_index *m, uint64_t cluster)
{
    if (!m->cap)
        return;
    size_t i = slot_of(m, cluster);
    while (m->slots[i] && m->slots[i] >> SET_BITS != cluster)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i])
        return;
    m->slots[i] = 0;
    m->used--;
    for (size_t j = (i + 1) & (m->cap - 1); m->slots[j]; j = (j + 1) & (m->cap - 1)) {
        size_t home = slot_of(m, m->slots[j] >> SET_BITS);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->slots[i] = m->slots[j];
            m->slots[j] = 0;
            i = j;
        }
    }
}

void qcow2_meta_invalidate(struct qcow2 *s)
{
    struct qcow2_meta_index *m = s->meta;
    if (!m)
        return;
    free(m->ranges);
    free(m->slots);
    free(m);
    s->meta = NULL;
}

static bool index_current(const struct qcow2 *s, const struct qcow2_meta_index *m)
{
    return m->l1_offset == s->l1_offset && m->l1_size == s->l1_size &&
           m->rt_offset == s->rt_offset && m->rt_clusters == s->rt_clusters &&
           m->snapshots_offset == s->snapshots_offset && m->nb_snapshots == s->nb_snapshots &&
           m->snaps == s->snaps;
}

static void add_range(struct qcow2_meta_index *m, const struct qcow2 *s, uint64_t start,
                      uint64_t len, unsigned kind)
{
    if (!len)
        return;
    /* Whole clusters: the rest of a table's last cluster is no place for data either. */
    uint64_t end = start + len < start ? UINT64_MAX : qcow2_align_up(start + len, s->cs);
    m->ranges[m->nranges++] = (struct meta_range){start & ~(s->cs - 1), end, kind};
}

static int index_build(struct qcow2 *s)
{
    qcow2_meta_invalidate(s);
    struct qcow2_meta_index *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->l1_offset = s->l1_offset;
    m->l1_size = s->l1_size;
    m->rt_offset = s->rt_offset;
    m->rt_clusters = s->rt_clusters;
    m->snapshots_offset = s->snapshots_offset;
    m->nb_snapshots = s->nb_snapshots;
    m->snaps = s->snaps;
    m->ranges = calloc(4 + (size_t)s->nb_snapshots, sizeof(*m->ranges));
    if (!m->ranges) {
        free(m);
        return -ENOMEM;
    }
    s->meta = m;
    add_range(m, s, 0, s->cs, QCOW2_META_HEADER);
    add_range(m, s, s->l1_offset, (uint64_t)s->l1_size * 8, QCOW2_META_L1);
    add_range(m, s, s->rt_offset, (uint64_t)s->rt_clusters * s->cs, QCOW2_META_RT);
    if (s->nb_snapshots)
        add_range(m, s, s->snapshots_offset, s->snapshots_size, QCOW2_META_SNAPTABLE);
    for (uint32_t i = 0; i < s->nb_snapshots && s->snaps; i++)
        add_range(m, s, s->snaps[i].l1_offset, (uint64_t)s->snaps[i].l1_size * 8,
                  QCOW2_META_SNAP_L1);
    int r = 0;
    for (uint32_t i = 0; i < s->l1_size && !r; i++)
        r = set_add(m, (s->l1[i] & QCOW2_L1E_OFFSET_MASK) >> s->cluster_bits, SET_L2);
    for (uint64_t i = 0; i < s->rt_size && !r; i++)
        r = set_add(m, (s->rt[i] & QCOW2_RTE_OFFSET_MASK) >> s->cluster_bits, SET_RB);
    if (r)
        qcow2_meta_invalidate(s);
    return r;
}

void qcow2_meta_add(struct qcow2 *s, uint64_t off, unsigned kind)
{
    /* Without a current index there is nothing to update: the next build reads the tables. */
    if (!s->meta || !index_current(s, s->meta))
        return;
    if (set_add(s->meta, off >> s->cluster_bits, kind == QCOW2_META_L2 ? SET_L2 : SET_RB))
        qcow2_meta_invalidate(s); /* out of memory: rebuild (or fail) on the next check */
}

void qcow2_meta_cluster_freed(struct qcow2 *s, uint64_t cluster)
{
    if (s->empty_l2 >> s->cluster_bits == cluster)
        s->empty_l2 = 0;
    if (s->meta)
        set_del(s->meta, cluster);
}

int qcow2_meta_overlap(struct qcow2 *s, unsigned kinds, uint64_t off, uint64_t len)
{
    if (!len)
        return 0;
    if (!s->meta || !index_current(s, s->meta)) {
        int r = index_build(s);
        if (r)
            return r;
    }
    const struct qcow2_meta_index *m = s->meta;
    uint64_t end = off + len < off ? UINT64_MAX : off + len;
    for (size_t i = 0; i < m->nranges; i++)
        if ((kinds & m->ranges[i].kind) && off < m->ranges[i].end && m->ranges[i].start < end)
            return (int)m->ranges[i].kind;
    if (!(kinds & (QCOW2_META_L2 | QCOW2_META_RB | QCOW2_META_SHARED_L2)))
        return 0;
    for (uint64_t c = off >> s->cluster_bits; c <= (end - 1) >> s->cluster_bits; c++) {
        unsigned k = set_get(m, c);
        if ((k & SET_L2) && (kinds & QCOW2_META_L2))
            return QCOW2_META_L2;
        if ((k & SET_RB) && (kinds & QCOW2_META_RB))
            return QCOW2_META_RB;
        if ((k & SET_DUP_L2) && (kinds & QCOW2_META_SHARED_L2))
            return QCOW2_META_SHARED_L2;
    }
    return 0;
}

int qcow2_signal_corruption(struct qcow2 *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bool first = !s->corrupt_signalled;
    s->corrupt_signalled = true;
    if (!first)
        return -EIO; /* one line per open: a guest retrying must not flood the log */
    if (s->bd->read_only) {
        log_error("%s: corrupt image: %s; I/O refused", s->bd->path, msg);
        return -EIO;
    }
    log_error("%s: corrupt image: %s; I/O refused and the image marked corrupt "
              "(`wirt img check -r all` repairs it)",
              s->bd->path, msg);
    if (!(s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        s->incompat |= QCOW2_INCOMPAT_CORRUPT;
        /* Only the header is written: pending metadata may describe the refused write. */
        if (qcow2_write_header(s) || qcow2_sync(s))
            log_error("%s: could not mark the image corrupt", s->bd->path);
    }
    return -EIO;
}

int qcow2_pre_write_check(struct qcow2 *s, unsigned allowed, uint64_t off, uint64_t len,
                          const char *what)
{
    if (s->corrupt_signalled)
        return -EIO;
    int k = qcow2_meta_overlap(s, QCOW2_META_ALL & ~allowed, off, len);
    if (k <= 0)
        return k;
    return qcow2_signal_corruption(s, "%s at 0x%" PRIx64 " overlaps %s", what, off,
                                   kind_name((unsigned)k));
}
