/* SPDX-License-Identifier: MIT */
/*
 * The block layer: disk images behind one ops table (raw, qcow2, ...).
 *
 * Calls are synchronous and return 0 or a negative errno.  A block_dev is
 * not thread-safe: its user (virtio-blk's worker thread, `wirt img`)
 * issues one call at a time.  Asynchrony is the device model's business.
 * block_flush() returns only when everything written before it is on
 * stable storage (data and the metadata that reaches it).
 */
#ifndef WIRT_BLOCK_BLOCK_H
#define WIRT_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct block_dev;

/* Options for image_create(). Zero/NULL fields take the defaults. */
struct image_create_opts {
    const char *format;           /* "qcow2" | "raw" */
    uint64_t size;                /* virtual size; 0 with a backing file = backing's size */
    const char *backing_file;     /* NULL if none */
    const char *backing_format;   /* NULL = probe */
    uint32_t cluster_size;        /* 0 = 65536 */
    unsigned refcount_bits;       /* 0 = 16 */
    const char *preallocation;    /* NULL/"off", "metadata", "falloc", "full" */
    const char *compression_type; /* NULL/"zlib", "zstd" */
    bool lazy_refcounts;
};

struct image_snapshot {
    char id[32];
    char name[256];
    uint64_t vm_state_size;
    uint64_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t disk_size;
};

struct image_info {
    char format[16];
    uint64_t virtual_size;
    uint64_t actual_size;  /* bytes allocated on the host file system */
    uint32_t cluster_size; /* 0 for raw */
    int qcow_version;      /* 2 or 3; 0 for raw */
    unsigned refcount_bits;
    char compression_type[8];
    bool dirty, corrupt, lazy_refcounts;
    char backing_file[4096]; /* "" if none */
    char backing_format[16];
};

enum { IMAGE_REPAIR_LEAKS = 1, IMAGE_REPAIR_ALL = 3 };

struct image_check_result {
    uint64_t corruptions, leaks, check_errors;
    uint64_t corruptions_fixed, leaks_fixed;
    uint64_t allocated_clusters, total_clusters, fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
};

/* block_status flags. */
enum {
    IMAGE_STATUS_DATA = 1,      /* reads return data stored somewhere in the chain */
    IMAGE_STATUS_ZERO = 2,      /* reads return zeroes */
    IMAGE_STATUS_ALLOCATED = 4, /* this layer (not a backing file) provides the data */
    IMAGE_STATUS_COMPRESSED = 8,
};

enum {
    BLOCK_OPEN_READ_ONLY = 1 << 0,
    BLOCK_OPEN_NO_LOCK = 1 << 1,    /* skip image locking (e.g. `info` on an image in use) */
    BLOCK_OPEN_NO_BACKING = 1 << 2, /* do not open the backing chain (reads of unallocated
                                     * clusters return zeroes; partial writes to them fail) */
    /* A guest drives the image, so its content is untrusted: block_open warns on stderr when
     * it probes the format (format NULL), and refuses to follow the backing file of any image
     * in the chain whose format was probed (a guest could have written the header naming it).
     * Probed raw images refuse writes that would change their probed format whether or not
     * this flag is given. */
    BLOCK_OPEN_GUEST = 1 << 3,
    BLOCK_OPEN_REPAIR = 1 << 4, /* for image_check with repair: open an image marked corrupt
                                 * read-write (a clean repair clears the mark) */
};

/* The deepest backing chain block_open accepts (counting the top image): the one limit every
 * walker of a chain sizes its arrays by. */
#define BLOCK_MAX_CHAIN 256

/* The longest backing file name (bytes, without the NUL) an image may record: qemu-img's
 * limit, so that every image wirt writes opens in QEMU too. */
#define BLOCK_BACKING_NAME_MAX 1023

struct block_driver_ops {
    const char *format; /* "raw", "qcow2", ... */
    /* Returns a probe score (0 = not this format) for the first bytes of a file. */
    int (*probe)(const uint8_t *buf, size_t len);
    int (*open)(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen);
    int (*read)(struct block_dev *bd, uint64_t offset, void *buf, size_t len);
    int (*write)(struct block_dev *bd, uint64_t offset, const void *buf, size_t len);
    int (*flush)(struct block_dev *bd);
    int (*discard)(struct block_dev *bd, uint64_t offset, uint64_t len);
    int (*write_zeroes)(struct block_dev *bd, uint64_t offset, uint64_t len);
    void (*close)(struct block_dev *bd);

    /* Optional ops: NULL means "not supported" and the image_* call
     * returns -ENOTSUP. */
    int (*create)(const char *path, const struct image_create_opts *o, char *err, size_t errlen);
    int (*get_info)(struct block_dev *bd, struct image_info *info);
    int (*check)(struct block_dev *bd, unsigned repair, struct image_check_result *res);
    int (*block_status)(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                        unsigned *status, uint64_t *host_offset);
    int (*truncate)(struct block_dev *bd, uint64_t new_size);
    int (*write_compressed)(struct block_dev *bd, uint64_t offset, const void *buf, size_t len);
    int (*change_backing)(struct block_dev *bd, const char *backing, const char *backing_fmt);
    int (*snapshot_create)(struct block_dev *bd, const char *name);
    int (*snapshot_apply)(struct block_dev *bd, const char *name_or_id);
    int (*snapshot_delete)(struct block_dev *bd, const char *name_or_id);
    int (*snapshot_list)(struct block_dev *bd, struct image_snapshot **out, unsigned *n);
    uint32_t (*cluster_size)(struct block_dev *bd);
};

struct block_dev {
    const struct block_driver_ops *ops;
    void *priv; /* the driver's state */
    char *path;
    int fd;
    uint64_t size; /* virtual disk size in bytes */
    bool read_only;
    bool probed;               /* the format came from probing, not from the caller */
    struct block_dev *backing; /* NULL if none */
    /* Writes refused since the last log line because they would change a probed raw image's
     * format, and when that line was written: a guest may repeat them without end, so the log
     * says so at most every few seconds. */
    uint64_t probe_refusals;
    int64_t probe_refusal_log_ns;
    /* Called after every write, discard and write-zeroes that reached the driver (failed ones
     * too: they may have written part of the range).  A mirror job (block/mirror.h) records
     * the range; NULL when nobody watches. */
    void (*write_hook)(void *opaque, uint64_t offset, uint64_t len);
    void *write_hook_opaque;
};

/* Opens an image. format NULL probes it. On failure returns a negative
 * errno and writes one line naming the file and the problem into err.
 * Only regular files and block devices are images: anything else (a FIFO,
 * a terminal) is refused without reading from it. */
int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
               char *err, size_t errlen);
void block_close(struct block_dev *bd);

/* Gives up bd's lock on its own file (not its backing files'): for a verb that holds an image
 * as part of a chain and is about to open that same file again to write it. */
void block_unlock(struct block_dev *bd);

/* 0 if `backing` (and `backing_fmt`, NULL for none) may be recorded as a backing file;
 * otherwise a negative errno and one line naming the problem in err. */
int block_check_backing_name(const char *backing, const char *backing_fmt, char *err,
                             size_t errlen);

static inline uint64_t block_size(const struct block_dev *bd)
{
    return bd->size;
}
int block_read(struct block_dev *bd, uint64_t offset, void *buf, size_t len);
int block_write(struct block_dev *bd, uint64_t offset, const void *buf, size_t len);
int block_flush(struct block_dev *bd);
int block_discard(struct block_dev *bd, uint64_t offset, uint64_t len);
int block_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len);

/* True if `format` names a driver wirt has. */
bool block_format_known(const char *format);
/* "qcow2, vmdk, vhd, raw": the formats wirt has, for messages. */
void block_format_names(char *out, size_t outlen);

/*
 * Image management (`wirt img`).  All return 0 or a negative errno;
 * -ENOTSUP when the image's driver lacks the operation.
 */

/* Creates an image.  On failure writes one line naming the file into err. */
int image_create(const char *path, const struct image_create_opts *o, char *err, size_t errlen);
int image_get_info(struct block_dev *bd, struct image_info *info);
/* Checks metadata consistency; repair is 0 or IMAGE_REPAIR_*.  Fills *res
 * and returns 0 even when it found problems (look at res). */
int image_check(struct block_dev *bd, unsigned repair, struct image_check_result *res);
/* Allocation status of [offset, offset+len): sets *pnum to the length of
 * the leading run that shares one status; *host_offset is the offset in
 * this layer's file when ALLOCATED and not compressed (else 0). */
int image_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                       unsigned *status, uint64_t *host_offset);
int image_truncate(struct block_dev *bd, uint64_t new_size);
/* Writes whole clusters compressed (offset and len cluster-aligned, except
 * a short final cluster at the end of the disk). */
int image_write_compressed(struct block_dev *bd, uint64_t offset, const void *buf, size_t len);
/* Rewrites the backing file name/format in the header (no data copied).
 * backing NULL removes the backing file. */
int image_change_backing(struct block_dev *bd, const char *backing, const char *backing_fmt);
int image_snapshot_create(struct block_dev *bd, const char *name);
int image_snapshot_apply(struct block_dev *bd, const char *name_or_id);
int image_snapshot_delete(struct block_dev *bd, const char *name_or_id);
/* *out is malloc'd (free it); *n may be 0 with *out NULL. */
int image_snapshot_list(struct block_dev *bd, struct image_snapshot **out, unsigned *n);
uint32_t image_cluster_size(struct block_dev *bd); /* 0 if not clustered */

#endif
