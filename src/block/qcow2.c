/* SPDX-License-Identifier: MIT */
/* The qcow2 driver (stub while being written). */
#include <errno.h>
#include <string.h>

#include "block/block_int.h"

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    return len >= 8 && !memcmp(buf, "QFI\xfb", 4) ? 100 : 0;
}

static int qcow2_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    (void)fd;
    (void)flags;
    block_set_err(err, errlen, "%s: qcow2 not implemented yet", bd->path);
    return -ENOTSUP;
}

static int qcow2_rw_stub(struct block_dev *bd, uint64_t o, void *b, size_t l)
{
    (void)bd, (void)o, (void)b, (void)l;
    return -ENOTSUP;
}

static int qcow2_w_stub(struct block_dev *bd, uint64_t o, const void *b, size_t l)
{
    (void)bd, (void)o, (void)b, (void)l;
    return -ENOTSUP;
}

static void qcow2_close(struct block_dev *bd)
{
    (void)bd;
}

const struct block_driver_ops qcow2_ops = {
    .format = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .read = qcow2_rw_stub,
    .write = qcow2_w_stub,
    .close = qcow2_close,
};
