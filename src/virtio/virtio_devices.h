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
#include "util/ratelimit.h"

struct bus;
struct display;
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
    /* IOPS and bandwidth caps (all 0: none) */
    struct io_limits limits;
    /* Room for what comes (cache mode): zero means today's behaviour
     * (guest flushes reach stable storage). */
};

/* Takes ownership of bd (closed on destroy).  serial may be NULL. */
struct virtio_dev *virtio_blk_create(struct bus *bus, struct irq_line irq, struct block_dev *bd,
                                     const char *serial, bool discard);
/* Moving a running disk to a new image (block/mirror.h): the disk's
 * worker copies it between the guest's requests and switches to the new
 * image between two requests once the copy has converged.  A failure
 * leaves the guest on its old image and deletes the new one. */
enum virtio_blk_move_state {
    VIRTIO_BLK_MOVE_NONE,
    VIRTIO_BLK_MOVE_RUNNING,
    VIRTIO_BLK_MOVE_COMPLETED,
    VIRTIO_BLK_MOVE_FAILED,
    VIRTIO_BLK_MOVE_CANCELLED,
};
struct virtio_blk_move_status {
    enum virtio_blk_move_state state; /* of the last move started */
    uint64_t copied;                  /* bytes written to the new image so far */
    uint64_t remaining;               /* bytes still to copy (bulk and dirty) */
    char error[256];                  /* why it failed */
};
/* True if vdev is a virtio-blk device. */
bool virtio_blk_is(const struct virtio_dev *vdev);
/* The image behind the disk.  Only while its requests are drained and
 * the worker is idle (machine_stop): the worker uses it otherwise. */
struct block_dev *virtio_blk_image(struct virtio_dev *vdev);
/* Creates the image `target` (format "qcow2", "raw" or NULL for the
 * current one's) and starts the move.  Returns false with one line in err
 * (a move already running, an existing target...).  Any thread. */
bool virtio_blk_move_start(struct virtio_dev *vdev, const char *target, const char *format,
                           char *err, size_t errlen);
void virtio_blk_move_status(struct virtio_dev *vdev, struct virtio_blk_move_status *st);
/* True when the disk's worker has no request queued or running (with the
 * harts stopped, this stays so: nothing submits new ones). */
bool virtio_blk_idle(struct virtio_dev *vdev);
/* For a migration's hand-over, with the disk idle (harts parked, no move
 * running): flush writes everything the guest wrote to stable storage;
 * reopen reads the image afresh (the source changed it meanwhile) and
 * returns false with one line in err, keeping the old one. */
int virtio_blk_flush(struct virtio_dev *vdev);
bool virtio_blk_reopen(struct virtio_dev *vdev, char *err, size_t errlen);
/* A live migration's copy of the disk (--copy-storage): a mirror job
 * (block/mirror.h) towards sink, which has the disk's size and sends what
 * is written to it.  It copies the whole disk between the guest's
 * requests, then every chunk the guest writes, and never completes: the
 * disk counts as busy (virtio_blk_idle) while chunks are left, so a
 * stopped guest's disk is idle only once the copy caught up.
 * sync_remaining: bytes left, or -EIO with the reason once the copy
 * failed (the sink refused a write).  sync_stop ends it and returns once
 * the worker no longer touches sink.  Not together with a move. */
bool virtio_blk_sync_start(struct virtio_dev *vdev, struct block_dev *sink, char *err,
                           size_t errlen);
int64_t virtio_blk_sync_remaining(struct virtio_dev *vdev, char *err, size_t errlen);
void virtio_blk_sync_stop(struct virtio_dev *vdev);
/* Asks a running move to stop; it ends CANCELLED soon after. */
void virtio_blk_move_cancel(struct virtio_dev *vdev);
/* I/O limits (any thread; a running VM's change at once).  Reads and
 * writes over the limit wait in the queue, in order. */
void virtio_blk_set_limits(struct virtio_dev *vdev, const struct io_limits *l);
void virtio_blk_get_limits(struct virtio_dev *vdev, struct io_limits *l);
/* What the guest did since the device was created. */
struct virtio_blk_stats {
    uint64_t rd_ops, wr_ops, rd_bytes, wr_bytes;
    uint64_t throttled_ns; /* time the queue's head waited for its limits */
};
void virtio_blk_get_stats(struct virtio_dev *vdev, struct virtio_blk_stats *st);

/* Takes ownership of nb. */
struct virtio_dev *virtio_net_create(struct bus *bus, struct irq_line irq, struct net_backend *nb);
bool virtio_net_is(const struct virtio_dev *vdev);
/* What crossed the NIC (frames, and bytes without the virtio header) and
 * its rate= cap.  Any thread. */
struct virtio_net_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rate;         /* bytes per second each way, 0: none */
    uint64_t throttled_ns; /* time frames waited for the cap */
};
void virtio_net_get_stats(struct virtio_dev *vdev, struct virtio_net_stats *st);
/* A new rate cap (bytes per second each way, 0: none) for the running
 * NIC; I/O lock held.  False when its backend cannot shape (a switch
 * port, whose switch enforces the rate). */
bool virtio_net_set_rate(struct virtio_dev *vdev, uint64_t rate);
struct virtio_dev *virtio_console_create(struct bus *bus, struct irq_line irq,
                                         void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                                         void *opaque);
size_t virtio_console_input(struct virtio_dev *vdev, const uint8_t *buf, size_t len);
struct virtio_dev *virtio_rng_create(struct bus *bus, struct irq_line irq);

/* Memory balloon (virtio/balloon.c). */
#define VIRTIO_BALLOON_NSTATS 16 /* stats tags kept (VIRTIO_BALLOON_S_*) */
struct virtio_balloon_status {
    uint64_t target_bytes;   /* what the host asked the guest to give back */
    uint64_t actual_bytes;   /* what the guest says it gave */
    uint64_t released_bytes; /* host memory released (inflates and free page reports) */
    bool have_stats;
    uint64_t stats[VIRTIO_BALLOON_NSTATS]; /* by tag: 4 free memory, 5 total memory ... */
};
struct virtio_dev *virtio_balloon_create(struct bus *bus, struct irq_line irq);
bool virtio_balloon_is(const struct virtio_dev *vdev);
/* Asks the guest to keep guest_bytes of its RAM (the rest goes back). */
bool virtio_balloon_set_target(struct virtio_dev *vdev, uint64_t guest_bytes);
void virtio_balloon_status(struct virtio_dev *vdev, struct virtio_balloon_status *st);
/* Returns the held stats buffer so the guest refreshes its numbers. */
void virtio_balloon_request_stats(struct virtio_dev *vdev);

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
    /* True while port's host end takes no more output: the guest's buffers
     * wait in the ring until virtio_channels_output_resume (may be NULL). */
    bool (*output_full)(void *opaque, unsigned port);
    /* The device's state was loaded: buffers may wait in the rings, with
     * no kick coming; resume from the event loop, not here (may be NULL). */
    void (*loaded)(void *opaque);
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
/* Port's host end has room again: takes what waits on its transmit queue.
 * I/O lock held. */
void virtio_channels_output_resume(struct virtio_dev *vdev, unsigned port);

/* virtio-gpu, 2D (virtio/gpu.c): flushes land in d (host/display.h).
 * A guest's resources are bounded in number, bytes and backing entries. */
#define GPU_MAX_RESOURCES  1024
#define GPU_MAX_BYTES      (256ull << 20) /* host memory of all resources */
#define GPU_MAX_ENTRIES    16384          /* backing entries of one resource */
#define GPU_MAX_DIM        16384          /* a resource's width or height */
#define GPU_DEFAULT_WIDTH  1024
#define GPU_DEFAULT_HEIGHT 768
/* width, height: the mode the guest is offered (0: the default). */
struct virtio_dev *virtio_gpu_create(struct bus *bus, struct irq_line irq, struct display *d,
                                     uint32_t width, uint32_t height);
bool virtio_gpu_is(const struct virtio_dev *vdev);
struct display *virtio_gpu_display(struct virtio_dev *vdev);

/* virtio-input (virtio/input.c): a keyboard (KEY_* codes 1..255) or a
 * tablet (ABS_X/ABS_Y in 0..VIRTIO_INPUT_ABS_MAX, BTN_LEFT/RIGHT/MIDDLE,
 * REL_WHEEL). */
enum virtio_input_kind { VIRTIO_INPUT_KEYBOARD, VIRTIO_INPUT_TABLET };
#define VIRTIO_INPUT_ABS_MAX 32767
struct virtio_input_event {
    uint16_t type, code;
    uint32_t value;
};
struct virtio_dev *virtio_input_create(struct bus *bus, struct irq_line irq,
                                       enum virtio_input_kind kind);
bool virtio_input_is(const struct virtio_dev *vdev, enum virtio_input_kind kind);
/* Queues n events (end a group with EV_SYN) for the guest; false when the
 * driver is not ready or the bounded queue has no room for all of them
 * (then none is queued).  I/O lock held. */
bool virtio_input_send(struct virtio_dev *vdev, const struct virtio_input_event *ev, unsigned n);
/* Events dropped because the guest took none. */
uint64_t virtio_input_dropped(struct virtio_dev *vdev);

#endif
