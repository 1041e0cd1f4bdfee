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

enum {
    BLOCK_OPEN_READ_ONLY = 1 << 0,
    BLOCK_OPEN_NO_LOCK = 1 << 1,   /* skip image locking (e.g. `info` on an image in use) */
    BLOCK_OPEN_NO_BACKING = 1 << 2 /* do not open the backing chain */
};

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
};

struct block_dev {
    const struct block_driver_ops *ops;
    void *priv;            /* the driver's state */
    char *path;
    int fd;
    uint64_t size;         /* virtual disk size in bytes */
    bool read_only;
    struct block_dev *backing; /* NULL if none */
};

/* Opens an image. format NULL probes it. On failure returns a negative
 * errno and writes one line naming the file and the problem into err. */
int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
               char *err, size_t errlen);
void block_close(struct block_dev *bd);

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

#endif
