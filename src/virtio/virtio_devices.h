/* SPDX-License-Identifier: MIT */
/*
 * Paravirtual devices for the board and the command line.
 *
 * Each *_add() reserves a virtio-mmio slot on the board, creates the
 * device and registers it with board_add_device() (which writes its
 * device-tree node and includes it in reset and save/load).  On failure
 * it returns false with one line in err saying what is wrong (the caller
 * names the device); nothing is left attached.  They take parsed specs:
 * option text is the VMM's business (src/vmm/vm_spec.c).
 *
 * The *_create() functions build the same devices on a bare bus and
 * interrupt line (device-level tests, other boards); free them with
 * virtio_mmio_dev_ops.destroy() / virtio_mmio_free().
 */
#ifndef WIRT_VIRTIO_VIRTIO_DEVICES_H
#define WIRT_VIRTIO_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"

struct board;
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

/* Opens the image (read-only when d->readonly) and adds the device. */
bool virtio_blk_add(struct board *b, const struct disk_spec *d, char *err, size_t errlen);

/* Opens the NIC's backend and adds the device. */
bool virtio_net_add(struct board *b, const struct nic_spec *nic, char *err, size_t errlen);

/* One console port; tx receives what the guest writes (I/O lock held). */
bool virtio_console_add(struct board *b, void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, char *err, size_t errlen);

/* Input for the board's virtio console (the first one added): copies as
 * much of buf as the guest has buffers for and returns that count (0 when
 * there is no console or no buffer).  Call with the bus I/O lock held. */
size_t virtio_console_receive(struct board *b, const uint8_t *buf, size_t len);

bool virtio_rng_add(struct board *b, char *err, size_t errlen);

/* ---- bare constructors ---- */

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
