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

/* Named channels (virtio/channels.c): a multiport virtio-console whose
 * ports carry bytes between a host program and a guest program, such as
 * the guest agent.  Callbacks run under the I/O lock. */
#define VIRTIO_CHANNELS_MAX     3
#define VIRTIO_CHANNEL_NAME_MAX 63
struct virtio_channel_ops {
    /* The guest wrote to port. */
    void (*output)(void *opaque, unsigned port, const uint8_t *buf, size_t len);
    /* A guest program opened or closed port (may be NULL). */
    void (*guest_open)(void *opaque, unsigned port, bool open);
    /* The guest posted receive buffers on port: input may go on (may be NULL). */
    void (*input_ready)(void *opaque, unsigned port);
};
/* 1..63 characters of [A-Za-z0-9._-]. */
bool virtio_channel_name_ok(const char *name);
/* NULL if a name is bad, nports is 0 or above VIRTIO_CHANNELS_MAX, or out
 * of memory. */
struct virtio_dev *virtio_channels_create(struct bus *bus, struct irq_line irq,
                                          const char *const *names, unsigned nports,
                                          const struct virtio_channel_ops *ops, void *opaque);
/* Copies what fits into the guest's receive buffers of port; returns the
 * bytes taken (0 while the driver has not set the port up).  I/O lock held. */
size_t virtio_channels_input(struct virtio_dev *vdev, unsigned port, const uint8_t *buf,
                             size_t len);
bool virtio_channels_guest_open(struct virtio_dev *vdev, unsigned port);

#endif
