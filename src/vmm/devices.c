/* SPDX-License-Identifier: MIT */
/*
 * Board glue for the paravirtual devices: a parsed spec in, a device on a
 * virtio-mmio slot out.  Kept apart from the devices so that device tests
 * link without a board.
 */
#include <stdio.h>
#include <string.h>

#include "block/block.h"
#include "machine/board.h"
#include "net/net.h"
#include "virtio/virtio.h"
#include "vmm/devices.h"

static bool attach(struct board *b, struct virtio_dev *vdev, uint64_t base, unsigned irq, char *err,
                   size_t errlen)
{
    if (!board_add_device(b, base, VIRTIO_MMIO_SIZE, irq, &virtio_mmio_dev_ops, vdev)) {
        snprintf(err, errlen, "cannot place the device on the board");
        virtio_mmio_free(vdev);
        return false;
    }
    return true;
}

static bool slot(struct board *b, uint64_t *base, unsigned *irq, char *err, size_t errlen)
{
    if (!board_alloc_virtio_slot(b, base, irq)) {
        snprintf(err, errlen, "all %d virtio slots are in use", VIRT_VIRTIO_SLOTS);
        return false;
    }
    return true;
}

bool virtio_blk_add(struct board *b, const struct disk_spec *d, char *err, size_t errlen)
{
    struct block_dev *bd;
    /* An incoming migration shares the disk with the source, which holds
     * its lock until the hand-over (vmm_migration.c reopens it then). */
    unsigned flags = BLOCK_OPEN_GUEST | (d->readonly ? BLOCK_OPEN_READ_ONLY : 0) |
                     (b->incoming ? BLOCK_OPEN_NO_LOCK : 0);
    int r = block_open(d->path, d->format, flags, &bd, err, errlen);
    if (r < 0)
        return false;
    bd->read_only = bd->read_only || d->readonly;
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen)) {
        block_close(bd);
        return false;
    }
    struct virtio_dev *vdev =
        virtio_blk_create(&b->bus, board_irq_line(b, irq), bd, d->serial, d->discard);
    if (!vdev) {
        block_close(bd);
        snprintf(err, errlen, "cannot create the device");
        return false;
    }
    if (!io_limits_empty(&d->limits))
        virtio_blk_set_limits(vdev, &d->limits);
    return attach(b, vdev, base, irq, err, errlen);
}

static bool nic_rx_watch(void *opaque, int epfd, uint64_t key)
{
    struct net_backend *nb = opaque;
    return nb->ops->rx_watch(nb, epfd, key);
}

static void nic_rx_poll(void *opaque)
{
    struct net_backend *nb = opaque;
    nb->ops->rx_poll(nb);
}

bool virtio_net_add(struct board *b, const struct nic_spec *nic, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    /* The backend first: its own problem (a port in use) is the one to
     * report, not a missing slot. */
    struct nic_spec n = *nic;
    n.user.hostfwd_wait = b->incoming; /* the source still listens */
    struct net_backend *nb = net_backend_open(&n, &b->bus.io_lock, err, errlen);
    if (!nb)
        return false;
    if (!slot(b, &base, &irq, err, errlen)) {
        net_backend_close(nb);
        return false;
    }
    struct virtio_dev *vdev = virtio_net_create(&b->bus, board_irq_line(b, irq), nb);
    if (!vdev) {
        net_backend_close(nb);
        snprintf(err, errlen, "cannot create the device");
        return false;
    }
    if (!attach(b, vdev, base, irq, err, errlen))
        return false;
    /* An idle hart polls the backend's socket itself (mem/bus.h). */
    if (nb->ops->rx_watch && nb->ops->rx_poll) {
        struct bus_idle_source src = {.watch = nic_rx_watch, .readable = nic_rx_poll, .opaque = nb};
        bus_add_idle_source(&b->bus, &src); /* full: the backend's thread alone serves */
    }
    return true;
}

bool virtio_console_add(struct board *b, void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return false;
    struct virtio_dev *vdev = virtio_console_create(&b->bus, board_irq_line(b, irq), tx, opaque);
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return false;
    }
    return attach(b, vdev, base, irq, err, errlen);
}

size_t virtio_console_receive(struct board *b, const uint8_t *buf, size_t len)
{
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct board_device *d = &b->devices[i];
        if (d->ops != &virtio_mmio_dev_ops)
            continue;
        struct virtio_dev *vdev = d->dev;
        /* Not the channels device, which is a console device too. */
        if (vdev->ops->device_id == VIRTIO_ID_CONSOLE && !strcmp(vdev->ops->name, "virtio-console"))
            return virtio_console_input(vdev, buf, len);
    }
    return 0;
}

struct virtio_dev *virtio_channels_add(struct board *b, const char *const *names, unsigned n,
                                       const struct virtio_channel_ops *ops, void *opaque,
                                       char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return NULL;
    struct virtio_dev *vdev =
        virtio_channels_create(&b->bus, board_irq_line(b, irq), names, n, ops, opaque);
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return NULL;
    }
    return attach(b, vdev, base, irq, err, errlen) ? vdev : NULL;
}

bool virtio_balloon_add(struct board *b, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return false;
    struct virtio_dev *vdev = virtio_balloon_create(&b->bus, board_irq_line(b, irq));
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return false;
    }
    return attach(b, vdev, base, irq, err, errlen);
}

bool virtio_rng_add(struct board *b, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return false;
    struct virtio_dev *vdev = virtio_rng_create(&b->bus, board_irq_line(b, irq));
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return false;
    }
    return attach(b, vdev, base, irq, err, errlen);
}

struct virtio_dev *virtio_gpu_add(struct board *b, struct display *d, uint32_t width,
                                  uint32_t height, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return NULL;
    struct virtio_dev *vdev = virtio_gpu_create(&b->bus, board_irq_line(b, irq), d, width, height);
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return NULL;
    }
    return attach(b, vdev, base, irq, err, errlen) ? vdev : NULL;
}

struct virtio_dev *virtio_input_add(struct board *b, enum virtio_input_kind kind, char *err,
                                    size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, err, errlen))
        return NULL;
    struct virtio_dev *vdev = virtio_input_create(&b->bus, board_irq_line(b, irq), kind);
    if (!vdev) {
        snprintf(err, errlen, "cannot create the device");
        return NULL;
    }
    return attach(b, vdev, base, irq, err, errlen) ? vdev : NULL;
}
