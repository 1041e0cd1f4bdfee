/* SPDX-License-Identifier: MIT */
/*
 * The virtio core shared by every paravirtual device: split virtqueues
 * (virtqueue.c) and the virtio-mmio version 2 transport (mmio.c).
 *
 * A device (blk.c, net.c, console.c, rng.c) fills a virtio_dev_ops table
 * and gets a struct virtio_dev from virtio_mmio_new().  The transport owns
 * the registers, feature negotiation, the status machine and the queue
 * configuration; the device sees queue notifications and pops/pushes
 * elements.
 *
 * Concurrency: everything here runs with the bus I/O lock held (MMIO
 * callbacks, event-loop callbacks).  A device that completes requests on a
 * thread of its own takes bus->io_lock around virtq_push()/virtio_notify().
 * Guest memory is only touched inside RAM (bus_ram_ptr), every device write
 * into RAM is reported with bus_ram_written().
 *
 * A misbehaving guest (bad descriptor chain, ring outside RAM, bad queue
 * size, ...) never crashes the host: the queue is marked broken, the device
 * sets DEVICE_NEEDS_RESET and raises a configuration-change interrupt, and
 * waits for the driver to reset it.
 */
#ifndef WIRT_VIRTIO_VIRTIO_H
#define WIRT_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/device.h"
#include "mem/bus.h"

struct state_writer;
struct state_reader;

/* Device IDs (virtio 1.x, "Device Types"). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_GPU     16
#define VIRTIO_ID_INPUT   18

#define VIRTIO_MMIO_MAGIC  0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x74726977u /* "wirt" */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1u
#define VIRTIO_STATUS_DRIVER             2u
#define VIRTIO_STATUS_DRIVER_OK          4u
#define VIRTIO_STATUS_FEATURES_OK        8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED             128u

/* Transport-independent feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* InterruptStatus bits. */
#define VIRTIO_INT_USED   1u
#define VIRTIO_INT_CONFIG 2u

/* Split-ring descriptor flags. */
#define VIRTQ_DESC_F_NEXT          1u
#define VIRTQ_DESC_F_WRITE         2u
#define VIRTQ_DESC_F_INDIRECT      4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY     1u

#define VIRTIO_MAX_QUEUES 8
/* The largest queue any device offers (QueueNumMax). */
#define VIRTQ_MAX_SIZE 256
/* Upper bound for the descriptors of one chain, indirect tables included;
 * a chain longer than this is a broken queue (this also ends loops). */
#define VIRTQ_MAX_CHAIN 1024

#define VIRTIO_MMIO_SIZE   0x1000
#define VIRTIO_MMIO_CONFIG 0x100

struct virtio_dev;

/* One piece of guest memory of a chain, already checked to lie in RAM. */
struct virtq_seg {
    uint64_t gpa;
    uint8_t *host;
    uint32_t len;
};

/* One popped descriptor chain: the device-readable segments come first
 * (seg[0 .. nout)), then the device-writable ones (seg[nout .. nout+nin)). */
struct virtq_elem {
    uint16_t queue;
    uint16_t head;
    unsigned nout, nin;
    uint64_t out_len, in_len; /* total bytes of each direction */
    struct virtq_seg seg[];
};

struct virtq {
    struct virtio_dev *vdev;
    uint16_t index;
    uint16_t num;     /* QueueNum */
    uint16_t num_max; /* QueueNumMax */
    bool ready;
    bool broken;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Host views of the rings, valid while ready. */
    uint8_t *desc, *avail, *used;
    uint16_t last_avail; /* next avail ring slot the device will read */
    uint16_t used_idx;   /* the device's copy of used->idx */
    /* EVENT_IDX bookkeeping: used index at the last interrupt we sent. */
    uint16_t signalled_used;
    bool signalled_used_valid;
    /* Elements popped but not yet pushed by a device that completes on a
     * worker thread; save() rewinds last_avail by this many so that the
     * restored device re-executes them. */
    uint16_t inflight;
    /* Scratch space for gathering a chain before it gets its own element. */
    struct virtq_seg scratch[VIRTQ_MAX_CHAIN];
};

struct virtio_dev_ops {
    const char *name; /* "virtio-blk", ... */
    uint32_t device_id;
    unsigned num_queues;
    uint16_t queue_max;
    /* Called when the driver writes QueueNotify for queue q (I/O lock held). */
    void (*queue_notify)(struct virtio_dev *vdev, unsigned q);
    /* Config space writes (offsets relative to the config area); NULL makes
     * config space read-only. */
    void (*config_write)(struct virtio_dev *vdev, uint32_t offset, unsigned size, uint32_t value);
    /* The driver set DRIVER_OK. */
    void (*driver_ok)(struct virtio_dev *vdev);
    /* Device-specific part of a reset (queues are cleared by the transport
     * afterwards).  Must drop everything in flight. */
    void (*reset)(struct virtio_dev *vdev);
    /* Device-specific state after the transport's; load returns false on
     * a malformed stream.  May be NULL. */
    void (*save)(struct virtio_dev *vdev, struct state_writer *w);
    bool (*load)(struct virtio_dev *vdev, struct state_reader *r);
    /* Feature bits offered since an older wirt: state saved by it (whose
     * host_features lack some of them) still loads; the driver keeps
     * what it negotiated then.  Any other difference refuses the load. */
    uint64_t added_features;
    /* Joins the device's threads and flushes (see dev_ops.stop); may be
     * NULL, may be called twice. */
    void (*stop)(struct virtio_dev *vdev);
    /* Frees the device's own state (opaque); the transport frees itself. */
    void (*destroy)(struct virtio_dev *vdev);
};

struct virtio_dev {
    const struct virtio_dev_ops *ops;
    void *opaque; /* the device's own state */
    struct bus *bus;
    struct irq_line irq;
    uint64_t host_features;
    uint64_t driver_features;
    uint32_t dev_features_sel, drv_features_sel;
    uint32_t queue_sel;
    uint32_t status;
    uint32_t isr;
    uint32_t config_generation;
    uint8_t *config; /* device config space, little-endian, config_size bytes */
    uint32_t config_size;
    struct virtq vq[VIRTIO_MAX_QUEUES];
};

/* The bus ops of every virtio-mmio device (dev pointer: struct virtio_dev). */
extern const struct dev_ops virtio_mmio_dev_ops;

/* Creates a transport.  host_features gets VERSION_1, INDIRECT_DESC and
 * EVENT_IDX added.  config_size bytes of config space are allocated and
 * zeroed; the device fills vdev->config. */
struct virtio_dev *virtio_mmio_new(const struct virtio_dev_ops *ops, void *opaque, struct bus *bus,
                                   struct irq_line irq, uint64_t host_features,
                                   uint32_t config_size);
/* Frees the transport after calling ops->destroy. */
void virtio_mmio_free(struct virtio_dev *vdev);

static inline bool virtio_has_feature(const struct virtio_dev *vdev, unsigned bit)
{
    return (vdev->driver_features >> bit) & 1;
}

static inline bool virtio_driver_ok(const struct virtio_dev *vdev)
{
    return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
           !(vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* Puts the device into DEVICE_NEEDS_RESET and raises a config interrupt.
 * `why` is logged once. */
void virtio_set_needs_reset(struct virtio_dev *vdev, const char *why);
/* Raises the used-buffer interrupt (no suppression logic; see
 * virtq_notify). */
void virtio_raise_used(struct virtio_dev *vdev);
/* Bumps the config generation and raises a config-change interrupt. */
void virtio_config_changed(struct virtio_dev *vdev);

/* ---- virtqueue.c ---- */

/* Validates QueueNum and the ring addresses and maps the rings; on failure
 * returns false (the caller sets NEEDS_RESET). */
bool virtq_enable(struct virtq *vq, struct bus *bus);
/* Forgets the queue's configuration and indices. */
void virtq_reset(struct virtq *vq);

/* Pops the next available chain.  Returns 1 and *out (free with free())
 * when one was there, 0 when the ring is empty, -1 when the queue is (or
 * just became) broken; the transport then needs a reset. */
int virtq_pop(struct virtq *vq, struct virtq_elem **out);
/* virtq_pop for devices that complete chains inside the notification
 * (net TX, console, rng): *taken counts the pops of this notification
 * (start at 0).  After twice the queue size it returns 0 and asks the
 * driver to notify again for its next buffer: a driver on another hart
 * that keeps refilling the queue would otherwise keep the notifying hart
 * in the device, holding the I/O lock the event loop and the control
 * socket need, for as long as it likes. */
int virtq_pop_limited(struct virtq *vq, struct virtq_elem **out, unsigned *taken);
/* True if the driver has made buffers available that were not popped. */
bool virtq_has_avail(struct virtq *vq);
/* Returns `n` popped elements back to the avail ring (in pop order). */
void virtq_unpop(struct virtq *vq, unsigned n);
/* Puts a completed element in the used ring with `written` bytes written
 * into its device-writable part.  Does not free it and does not notify. */
void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t written);
/* Sends a used-buffer interrupt unless the driver suppressed it
 * (NO_INTERRUPT flag, or used_event with EVENT_IDX). */
void virtq_notify(struct virtq *vq);
/* Asks the driver (not) to notify: sets NO_NOTIFY or avail_event.  With
 * enable, returns true if buffers arrived meanwhile (re-check needed). */
bool virtq_set_notification(struct virtq *vq, bool enable);

/* Copies from the device-readable part of e, starting at byte `off`;
 * returns the number of bytes copied. */
size_t virtq_elem_read(const struct virtq_elem *e, size_t off, void *buf, size_t len);
/* Copies into the device-writable part of e, starting at byte `off`,
 * reporting the writes to the bus; returns the number of bytes copied. */
size_t virtq_elem_write(struct bus *bus, const struct virtq_elem *e, size_t off, const void *buf,
                        size_t len);

/* Transport state for save/load (devices call these from their own). */
void virtio_save(struct virtio_dev *vdev, struct state_writer *w);
bool virtio_load(struct virtio_dev *vdev, struct state_reader *r);

#endif
