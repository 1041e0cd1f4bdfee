/* SPDX-License-Identifier: MIT */
/*
 * The paravirtual devices, built on a bare bus and interrupt line: the
 * VMM puts them on the board (src/vmm/devices.h), device-level tests use
 * them directly.  Free them with virtio_mmio_dev_ops.destroy() /
 * virtio_mmio_free().  They take parsed specs: option text is the VMM's
 * business (src/vmm/vm_spec.c).
 */
#ifndef WIRT_VIRTIO_VIRTIO_DEVICES_H
#define WIRT_VIRTIO_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/device.h"

struct bus;
struct block_dev;
struct net_backend;
struct nic_spec;
struct virtio_dev;

#define VIRTIO_BLK_SERIAL_MAX 20 /* the bytes of a virtio-blk ID */

/* One disk. */
struct disk_spec {
    char *path;
    char *format; /* a block-layer format name; NULL: probe */
    bool readonly;
    char *serial; /* at most VIRTIO_BLK_SERIAL_MAX bytes; NULL: none */
    bool discard; /* pass discards to the image */
    /* Room for what comes (cache mode, throttling): zero means today's
     * behaviour (guest flushes reach stable storage, no limits). */
};

/* Takes ownership of bd (closed on destroy).  serial may be NULL. */
struct virtio_dev *virtio_blk_create(struct bus *bus, struct irq_line irq, struct block_dev *bd,
                                     const char *serial, bool discard);
/* Takes ownership of nb. */
struct virtio_dev *virtio_net_create(struct bus *bus, struct irq_line irq, struct net_backend *nb);
struct virtio_dev *virtio_console_create(struct bus *bus, struct irq_line irq,
                                         void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                                         void *opaque);
size_t virtio_console_input(struct virtio_dev *vdev, const uint8_t *buf, size_t len);
struct virtio_dev *virtio_rng_create(struct bus *bus, struct irq_line irq);

#endif
