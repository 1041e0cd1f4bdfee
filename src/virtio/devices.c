/* SPDX-License-Identifier: MIT */
/*
 * Board glue for the paravirtual devices: option text in, a device on a
 * virtio-mmio slot out.  Kept apart from the devices so that device tests
 * link without a board.
 */
#include <stdio.h>
#include <string.h>

#include "block/block.h"
#include "machine/board.h"
#include "net/net.h"
#include "net/net_backends.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

static bool attach(struct board *b, struct virtio_dev *vdev, uint64_t base, unsigned irq,
                   const char *what, char *err, size_t errlen)
{
    if (!board_add_device(b, base, VIRTIO_MMIO_SIZE, irq, &virtio_mmio_dev_ops, vdev)) {
        snprintf(err, errlen, "%s: cannot place the device on the board", what);
        virtio_mmio_free(vdev);
        return false;
    }
    return true;
}

static bool slot(struct board *b, uint64_t *base, unsigned *irq, const char *what, char *err,
                 size_t errlen)
{
    if (!board_alloc_virtio_slot(b, base, irq)) {
        snprintf(err, errlen, "%s: all %d virtio slots are in use", what, VIRT_VIRTIO_COUNT);
        return false;
    }
    return true;
}

bool virtio_blk_add(struct board *b, const char *spec, char *err, size_t errlen)
{
    struct virtio_blk_options o;
    if (!virtio_blk_parse(spec, &o, err, errlen))
        return false;
    struct block_dev *bd;
    char berr[256];
    int r = block_open(o.file, o.format, BLOCK_OPEN_GUEST | (o.readonly ? BLOCK_OPEN_READ_ONLY : 0),
                       &bd, berr, sizeof(berr));
    if (r < 0) {
        snprintf(err, errlen, "--disk %s: %s", spec, berr);
        virtio_blk_options_free(&o);
        return false;
    }
    bd->read_only = bd->read_only || o.readonly;
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, "--disk", err, errlen)) {
        block_close(bd);
        virtio_blk_options_free(&o);
        return false;
    }
    struct virtio_dev *vdev =
        virtio_blk_create(&b->bus, board_irq_line(b, irq), bd, o.serial, o.discard);
    virtio_blk_options_free(&o);
    if (!vdev) {
        block_close(bd);
        snprintf(err, errlen, "--disk %s: cannot create the device", spec);
        return false;
    }
    return attach(b, vdev, base, irq, "--disk", err, errlen);
}

bool virtio_net_add(struct board *b, const char *spec, unsigned index, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    /* Parse first: a bad option should be reported as such, not as a
     * missing slot. */
    struct net_backend *nb = net_backend_open(spec, index, &b->bus.io_lock, err, errlen);
    if (!nb)
        return false;
    if (!slot(b, &base, &irq, "--net", err, errlen)) {
        net_backend_close(nb);
        return false;
    }
    struct virtio_dev *vdev = virtio_net_create(&b->bus, board_irq_line(b, irq), nb);
    if (!vdev) {
        net_backend_close(nb);
        snprintf(err, errlen, "--net %s: cannot create the device", spec);
        return false;
    }
    return attach(b, vdev, base, irq, "--net", err, errlen);
}

bool virtio_console_add(struct board *b, void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, "virtio console", err, errlen))
        return false;
    struct virtio_dev *vdev = virtio_console_create(&b->bus, board_irq_line(b, irq), tx, opaque);
    if (!vdev) {
        snprintf(err, errlen, "virtio console: cannot create the device");
        return false;
    }
    return attach(b, vdev, base, irq, "virtio console", err, errlen);
}

size_t virtio_console_receive(struct board *b, const uint8_t *buf, size_t len)
{
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct board_device *d = &b->devices[i];
        if (d->ops != &virtio_mmio_dev_ops)
            continue;
        struct virtio_dev *vdev = d->dev;
        if (vdev->ops->device_id == VIRTIO_ID_CONSOLE)
            return virtio_console_input(vdev, buf, len);
    }
    return 0;
}

bool virtio_rng_add(struct board *b, char *err, size_t errlen)
{
    uint64_t base;
    unsigned irq;
    if (!slot(b, &base, &irq, "virtio rng", err, errlen))
        return false;
    struct virtio_dev *vdev = virtio_rng_create(&b->bus, board_irq_line(b, irq));
    if (!vdev) {
        snprintf(err, errlen, "virtio rng: cannot create the device");
        return false;
    }
    return attach(b, vdev, base, irq, "virtio rng", err, errlen);
}
