/* SPDX-License-Identifier: MIT */
/* VHD import driver (read-only): stub until the real driver lands. */
#include <errno.h>

#include "block/block.h"

static int vhd_probe(const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

static int vhd_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    (void)bd;
    (void)fd;
    (void)flags;
    (void)err;
    (void)errlen;
    return -ENOTSUP;
}

const struct block_driver_ops vhd_ops = {
    .format = "vpc",
    .probe = vhd_probe,
    .open = vhd_open,
};
