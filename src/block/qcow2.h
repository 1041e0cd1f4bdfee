/* SPDX-License-Identifier: MIT */
/*
 * qcow2 driver internals shared by qcow2*.c.
 *
 * Metadata caching and ordering: L2 tables and refcount blocks are cached
 * (write-back).  qcow2_flush_meta() writes them in dependency order:
 * refcount blocks (then the refcount table) -> fdatasync -> L2 tables ->
 * fdatasync -> L1 -> fdatasync, so that no on-disk L2/L1 entry ever points
 * at a cluster whose on-disk refcount is 0.  Refcount decrements of
 * clusters that lost a reference are deferred until the metadata that
 * dropped the reference is durable, so a crash can only leak clusters.
 */
#ifndef WIRT_BLOCK_QCOW2_H
#define WIRT_BLOCK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block_int.h"

#define QCOW2_MAGIC            0x514649fbu
#define QCOW2_L1E_OFFSET_MASK  0x00fffffffffffe00ULL
#define QCOW2_L2E_OFFSET_MASK  0x00fffffffffffe00ULL
#define QCOW2_RTE_OFFSET_MASK  0xfffffffffffffe00ULL
#define QCOW2_OFLAG_COPIED     (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO       (1ULL << 0)

#define QCOW2_INCOMPAT_DIRTY        (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ULL << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)

#define QCOW2_EXT_END           0x00000000u
#define QCOW2_EXT_BACKING_FMT   0xe2792acau
#define QCOW2_EXT_FEATURE_NAMES 0x6803f857u

#define QCOW2_MAX_L1_BYTES        (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES  (8u << 20)
#define QCOW2_MAX_SNAPSHOTS       65536u
#define QCOW2_MAX_SNAPTABLE_BYTES (64u << 20)
#define QCOW2_L2_CACHE_CAP        (32u << 20)
#define QCOW2_V3_HEADER_LEN       112u

enum qcow2_ctype { QCOW2_COMP_ZLIB = 0, QCOW2_COMP_ZSTD = 1 };

/* Classification of an L2 entry. */
enum qcow2_ctype_l2 {
    QCOW2_CL_UNALLOC,
    QCOW2_CL_ZERO_PLAIN, /* zero flag, no host cluster */
    QCOW2_CL_ZERO_ALLOC, /* zero flag, host cluster kept */
    QCOW2_CL_NORMAL,
    QCOW2_CL_COMPRESSED,
};

struct qcow2_snap {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint32_t extra_size; /* extra data kept verbatim (>= 16 written) */
    uint8_t *extra;
};

struct qcow2_l2 {
    uint64_t offset; /* host offset of the table */
    uint64_t *e;     /* entries in host byte order */
    bool dirty;
    bool empty_known, empty; /* whether every entry is 0 (known since the last change) */
};

/* A header extension we keep verbatim when rewriting the header. */
struct qcow2_ext {
    uint32_t type, len;
    uint8_t *data;
};

struct qcow2 {
    struct block_dev *bd;
    int fd;
    uint32_t version;
    unsigned cluster_bits;
    uint64_t cs;
    unsigned l2_bits;
    uint64_t l2_entries;
    unsigned refcount_order, refcount_bits;
    unsigned rb_bits; /* log2 refcount entries per refcount block */
    uint64_t refcount_max;
    uint32_t header_length;
    uint64_t incompat, compat, autoclear;
    uint8_t compression_type;
    unsigned csize_shift;
    uint64_t csize_mask, coffset_mask;

    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;
    uint32_t l1_dirty_lo, l1_dirty_hi; /* dirty range [lo, hi) */

    struct qcow2_l2 **l2c; /* per L1 index */
    uint64_t l2c_bytes;
    uint64_t l2c_cap;
    unsigned dirty_l2;

    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_size; /* entries */
    uint64_t *rt;
    uint64_t rt_dirty_lo, rt_dirty_hi;
    uint8_t **rbc; /* cached refcount blocks, per reftable index (raw, big-endian) */
    bool *rb_dirty;
    unsigned dirty_rb;

    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size; /* bytes of the on-disk table */
    struct qcow2_snap *snaps;

    char *backing_name;
    char *backing_fmt;
    struct qcow2_ext *exts;
    unsigned nexts;

    uint64_t file_size; /* current host file size */
    uint64_t frontier;  /* end of the highest cluster in use; beyond it the file is zero */
    uint64_t free_hint; /* lowest cluster index that may be free */

    uint64_t *deferred; /* clusters whose refcount drops after the next metadata flush */
    size_t ndeferred, deferred_cap;

    uint64_t comp_cur; /* host cluster being filled with compressed data (0 = none) */
    uint64_t comp_used;

    uint8_t *cbuf;         /* scratch: one cluster */
    uint8_t *zbuf;         /* compressed input buffer: 2 clusters + 512 */
    uint8_t *dcache;       /* last decompressed cluster */
    uint64_t dcache_entry; /* L2 entry it was decompressed from (0 = none) */
    void *zstd_dctx;
    void *zstd_cctx;
    void *deflate_zs; /* z_stream kept across clusters: (re)initialising zlib is costly */
    void *inflate_zs;
    bool repairing;

    struct qcow2_meta_index *meta; /* metadata overlap index (qcow2_overlap.c); NULL = not built */
    bool corrupt_signalled;        /* an overlap was found: no more writes of any kind */
    bool range_error_logged;
    /* Host offset of an L2 table found all unallocated and unchanged since (0 = none): a
     * hostile L1 table naming one empty table millions of times is walked in L1 steps. */
    uint64_t empty_l2;
};

/* Byte order. */
static inline uint64_t qcow2_be64(const void *p)
{
    const uint8_t *b = p;
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | b[7];
}
static inline uint32_t qcow2_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline uint16_t qcow2_be16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] << 8 | b[1]);
}
static inline void qcow2_put64(void *p, uint64_t v)
{
    uint8_t *b = p;
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}
static inline void qcow2_put32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8),
    b[3] = (uint8_t)v;
}
static inline void qcow2_put16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v;
}

static inline uint64_t qcow2_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* L2 entry helpers. */
enum qcow2_ctype_l2 qcow2_classify(const struct qcow2 *s, uint64_t e);
/* Host byte range [*start, *start+*len) covered by a compressed entry. */
void qcow2_compressed_range(const struct qcow2 *s, uint64_t e, uint64_t *start, uint64_t *len);

/* Refcounts (qcow2_refcount.c). */
/* Entry i of a raw refcount block (uses s->refcount_order/bits only). */
uint64_t qcow2_rb_get(const struct qcow2 *s, const uint8_t *b, uint64_t i);
void qcow2_rb_set(const struct qcow2 *s, uint8_t *b, uint64_t i, uint64_t v);
int qcow2_get_refcount(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
/* Adds delta (may be negative) to the refcount of a cluster. */
int qcow2_update_refcount(struct qcow2 *s, uint64_t cluster, int64_t delta);
int qcow2_set_refcount(struct qcow2 *s, uint64_t cluster, uint64_t rc);
/* Allocates one cluster (refcount 1).  *known_zero tells whether the
 * cluster is fresh file space that reads as zero. */
int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *host, bool *known_zero);
/* Allocates n contiguous clusters at the end of the file. */
int qcow2_alloc_contig(struct qcow2 *s, uint64_t n, uint64_t *host);
/* Drops one reference to every cluster in [off, off+len) after the next
 * metadata flush. */
int qcow2_defer_free(struct qcow2 *s, uint64_t off, uint64_t len);
/* Drops a reference now (caller guarantees nothing durable points at it). */
int qcow2_free_now(struct qcow2 *s, uint64_t off, uint64_t len);
int qcow2_write_refcounts(struct qcow2 *s); /* writes dirty refcount blocks + table */
void qcow2_refcount_free(struct qcow2 *s);

/* Metadata (qcow2.c). */
int qcow2_flush_meta(struct qcow2 *s, bool sync);
/* Writes the dirty L2 tables, drops the whole L2 cache. */
int qcow2_drop_l2_cache(struct qcow2 *s);
int qcow2_write_header(struct qcow2 *s);
int qcow2_sync(struct qcow2 *s);
int qcow2_write_l1(struct qcow2 *s, uint64_t offset, const uint64_t *l1, uint32_t n);
int qcow2_read_l1(struct qcow2 *s, uint64_t offset, uint32_t n, uint64_t **out);
int qcow2_check_host_range(struct qcow2 *s, uint64_t off, uint64_t len, const char *what);

/* Metadata overlap checks (qcow2_overlap.c). */
enum {
    QCOW2_META_HEADER = 1 << 0,
    QCOW2_META_L1 = 1 << 1,
    QCOW2_META_L2 = 1 << 2,
    QCOW2_META_RT = 1 << 3,
    QCOW2_META_RB = 1 << 4,
    QCOW2_META_SNAPTABLE = 1 << 5,
    QCOW2_META_SNAP_L1 = 1 << 6,
    QCOW2_META_SHARED_L2 = 1 << 7, /* an L2 table that more than one active L1 entry names */
    QCOW2_META_ALL = (1 << 8) - 1,
};
/* The QCOW2_META_* kind of metadata among `kinds` that [off, off+len) overlaps; 0 if none,
 * negative errno if the index could not be built. */
int qcow2_meta_overlap(struct qcow2 *s, unsigned kinds, uint64_t off, uint64_t len);
/* Before writing `what` at [off, off+len): 0 if it overlaps no metadata except the kinds in
 * `allowed`; else refuses (-EIO), logs once and marks the image corrupt. */
int qcow2_pre_write_check(struct qcow2 *s, unsigned allowed, uint64_t off, uint64_t len,
                          const char *what);
/* Logs one line (the first time only), marks a writable image corrupt, returns -EIO.  After it
 * nothing but the header is written to the image. */
int qcow2_signal_corruption(struct qcow2 *s, const char *fmt, ...) PRINTF_FMT(2, 3);
/* A new L2 table or refcount block (kind QCOW2_META_L2/RB) at host offset off. */
void qcow2_meta_add(struct qcow2 *s, uint64_t off, unsigned kind);
/* Cluster's refcount dropped to zero: it is no longer metadata. */
void qcow2_meta_cluster_freed(struct qcow2 *s, uint64_t cluster);
void qcow2_meta_invalidate(struct qcow2 *s);

/* Snapshots (qcow2_snapshot.c). */
int qcow2_read_snapshots(struct qcow2 *s, char *err, size_t errlen);
void qcow2_free_snapshots(struct qcow2 *s);
/* Adds delta to the refcount of every cluster reachable from an L1 table
 * (L2 tables, data clusters) -- how snapshots share clusters. */
int qcow2_update_l1_refcounts(struct qcow2 *s, const uint64_t *l1, uint32_t l1_size, int delta);
/* Sets the COPIED flags of the active L1/L2 tables from the refcounts. */
int qcow2_fix_copied(struct qcow2 *s, uint64_t *fixed, uint64_t *mismatches);
int qcow2_snapshot_create(struct block_dev *bd, const char *name);
int qcow2_snapshot_apply(struct block_dev *bd, const char *name_or_id);
int qcow2_snapshot_delete(struct block_dev *bd, const char *name_or_id);
int qcow2_snapshot_list(struct block_dev *bd, struct image_snapshot **out, unsigned *n);

/* Creation (qcow2_create.c), check (qcow2_check.c). */
int qcow2_create(const char *path, const struct image_create_opts *o, char *err, size_t errlen);
int qcow2_check(struct block_dev *bd, unsigned repair, struct image_check_result *res);

#endif
