/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the block layer and its drivers (not for users of
 * the block layer: they include block/block.h).
 */
#ifndef WIRT_BLOCK_BLOCK_INT_H
#define WIRT_BLOCK_BLOCK_INT_H

#include <stdarg.h>
#include "block/block.h"
#include "util/compiler.h"

extern const struct block_driver_ops raw_ops, qcow2_ops;

/* Formats "path: message" into err (err may be NULL). */
void block_set_err(char *err, size_t errlen, const char *fmt, ...) PRINTF_FMT(3, 4);

/* For a driver's open: records the message and the negative errno `code`, then jumps to the
 * function's `fail:` cleanup.  Needs the open parameters err/errlen and `int ret` in scope. */
#define BLOCK_OPEN_FAIL(code, ...)                                                                 \
    do {                                                                                           \
        block_set_err(err, errlen, __VA_ARGS__);                                                   \
        ret = (code);                                                                              \
        goto fail;                                                                                 \
    } while (0)

/*
 * Opens the backing file `name` of `parent` read-only.  A relative name is
 * relative to the directory of parent->path.  Detects loops in the chain
 * (-ELOOP) and writes a message naming the file into err.  flags are the
 * parent's open flags (NO_LOCK is inherited).
 */
int block_open_backing(struct block_dev *parent, const char *name, const char *format,
                       unsigned flags, struct block_dev **out, char *err, size_t errlen);

/* Resolves a backing file name relative to the image at `image_path`
 * into out (PATH_MAX bytes).  Returns false if it does not fit. */
bool block_backing_path(const char *image_path, const char *name, char *out, size_t outlen);

/* pread/pwrite that loop over short transfers; reads past EOF are zero-filled. */
int block_pread_full(int fd, void *buf, size_t len, uint64_t offset);
/* Like block_pread_full, but EOF is -EIO: for drivers that check every read against the file
 * size first, so that hitting EOF means the file was truncated under them. */
int block_pread_exact(int fd, void *buf, size_t len, uint64_t offset);
int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);

/* Size in bytes of the file, or negative errno. */
int64_t block_file_size(int fd);

/* The write op of read-only drivers (they also set bd->read_only, so it is a safety net). */
int block_write_read_only(struct block_dev *bd, uint64_t offset, const void *buf, size_t len);

/*
 * The status of allocation unit `unit` (a grain, a block) of a driver whose image is an array
 * of fixed-size units, and the host offset of byte `in` of it; host 0 when the data has no
 * plain host location (unallocated, compressed).  Negative errno on failure.
 */
typedef int (*block_unit_status_fn)(struct block_dev *bd, uint64_t unit, uint64_t in,
                                    unsigned *status, uint64_t *host);

/* block_status op for such drivers: the run from offset (at most len) over units of the same
 * status, which for data with a host offset must also be contiguous on the host. */
int block_status_by_unit(struct block_dev *bd, uint64_t unit_size, block_unit_status_fn unit_status,
                         uint64_t offset, uint64_t len, uint64_t *pnum, unsigned *status,
                         uint64_t *host_offset);

#endif
