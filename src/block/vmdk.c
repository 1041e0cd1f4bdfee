/* SPDX-License-Identifier: MIT */
/* VMDK import driver (read-only): stub until the real driver lands. */
#include <errno.h>

#include "block/block.h"

static int vmdk_probe(const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

static int vmdk_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    (void)bd;
    (void)fd;
    (void)flags;
    (void)err;
    (void)errlen;
    return -ENOTSUP;
}

const struct block_driver_ops vmdk_ops = {
    .format = "vmdk",
    .probe = vmdk_probe,
    .open = vmdk_open,
};
