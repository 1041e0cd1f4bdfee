/* SPDX-License-Identifier: MIT */
/*
 * The raw driver: the file is the disk.  Holes (SEEK_HOLE) read as zero,
 * discard punches holes, write_zeroes uses FALLOC_FL_ZERO_RANGE.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"

static int raw_probe(const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 1; /* anything is a raw image, with the lowest score */
}

static int raw_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    (void)flags;
    int64_t sz = block_file_size(fd);
    if (sz < 0) {
        block_set_err(err, errlen, "%s: %s", bd->path, strerror((int)-sz));
        return (int)sz;
    }
    bd->size = (uint64_t)sz;
    return 0;
}

static int raw_read(struct block_dev *bd, uint64_t offset, void *buf, size_t len)
{
    return block_pread_full(bd->fd, buf, len, offset);
}

static int raw_write(struct block_dev *bd, uint64_t offset, const void *buf, size_t len)
{
    return block_pwrite_full(bd->fd, buf, len, offset);
}

static int raw_flush(struct block_dev *bd)
{
    return fdatasync(bd->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (fallocate(bd->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) <
            0 &&
        errno != EOPNOTSUPP && errno != ENOSYS)
        return -errno;
    return 0; /* discard is advisory: unsupported is fine */
}

static int write_zero_buf(int fd, uint64_t offset, uint64_t len)
{
    static const uint8_t zero[65536];
    while (len) {
        size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        int r = block_pwrite_full(fd, zero, n, offset);
        if (r)
            return r;
        offset += n;
        len -= n;
    }
    return 0;
}

static int raw_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (fallocate(bd->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) ==
        0)
        return 0;
    return write_zero_buf(bd->fd, offset, len);
}

static void raw_close(struct block_dev *bd)
{
    (void)bd;
}

static int raw_create(const char *path, const struct image_create_opts *o, char *err, size_t errlen)
{
    const char *pre = o->preallocation ? o->preallocation : "off";
    if (strcmp(pre, "off") && strcmp(pre, "falloc") && strcmp(pre, "full") &&
        strcmp(pre, "metadata")) {
        block_set_err(err, errlen, "%s: invalid preallocation mode '%s'", path, pre);
        return -EINVAL;
    }
    if (o->backing_file) {
        block_set_err(err, errlen, "%s: raw images cannot have a backing file", path);
        return -EINVAL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        block_set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int r = 0;
    if (ftruncate(fd, (off_t)o->size) < 0)
        r = -errno;
    if (!r && !strcmp(pre, "falloc") && o->size) {
        r = -posix_fallocate(fd, 0, (off_t)o->size);
    } else if (!r && !strcmp(pre, "full")) {
        r = write_zero_buf(fd, 0, o->size);
    }
    if (!r && fdatasync(fd) < 0)
        r = -errno;
    close(fd);
    if (r)
        block_set_err(err, errlen, "%s: %s", path, strerror(-r));
    return r;
}

static int raw_get_info(struct block_dev *bd, struct image_info *info)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->format, sizeof(info->format), "raw");
    info->virtual_size = bd->size;
    struct stat st;
    if (fstat(bd->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    return 0;
}

static int raw_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                            unsigned *status, uint64_t *host_offset)
{
    *host_offset = offset;
    off_t data = lseek(bd->fd, (off_t)offset, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        /* No data from offset to EOF: a hole. */
        *pnum = len;
        *status = IMAGE_STATUS_ZERO | IMAGE_STATUS_ALLOCATED;
        return 0;
    }
    if (data < 0) {
        *pnum = len;
        *status = IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
        return 0;
    }
    if ((uint64_t)data > offset) {
        uint64_t n = (uint64_t)data - offset;
        *pnum = n < len ? n : len;
        *status = IMAGE_STATUS_ZERO | IMAGE_STATUS_ALLOCATED;
        return 0;
    }
    off_t hole = lseek(bd->fd, (off_t)offset, SEEK_HOLE);
    uint64_t n = hole < 0 ? len : (uint64_t)hole - offset;
    *pnum = n < len && n ? n : len;
    *status = IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
    return 0;
}

static int raw_truncate(struct block_dev *bd, uint64_t new_size)
{
    if (ftruncate(bd->fd, (off_t)new_size) < 0)
        return -errno;
    bd->size = new_size;
    return 0;
}

const struct block_driver_ops raw_ops = {
    .format = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
    .create = raw_create,
    .get_info = raw_get_info,
    .block_status = raw_block_status,
    .truncate = raw_truncate,
};
