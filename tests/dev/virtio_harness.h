/* SPDX-License-Identifier: MIT */
/*
 * A tiny virtio driver for device-level tests: guest RAM from bus_init(),
 * registers poked through virtio_mmio_dev_ops with the I/O lock held (as
 * the bus would), split rings built by hand in guest memory.
 *
 * Every RAM write the device reports must lie inside RAM; the harness
 * counts violations in h->bad_writes.
 */
#ifndef WIRT_TESTS_VIRTIO_HARNESS_H
#define WIRT_TESTS_VIRTIO_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mem/bus.h"
#include "virtio/virtio.h"

#define H_RAM_BASE 0x80000000ull
#define H_RAM_SIZE (16ull << 20)
/* Per-queue ring area: queue q's rings live at H_RAM_BASE + 0x10000 * (q+1). */
#define H_RING(q) (H_RAM_BASE + 0x10000ull * ((q) + 1))
#define H_DATA    (H_RAM_BASE + 0x100000ull)

struct harness {
    struct bus bus;
    struct virtio_dev *vdev;
    /* Set from device threads (the virtio-blk worker) under the I/O lock,
     * read by the test without it: atomic, so the tests are race-free
     * under ThreadSanitizer. */
    _Atomic bool irq_level;
    _Atomic unsigned irq_raises;
    _Atomic unsigned bad_writes;
    _Atomic unsigned writes;
    uint16_t qnum[VIRTIO_MAX_QUEUES];
    uint16_t avail_idx[VIRTIO_MAX_QUEUES];
    uint16_t next_desc[VIRTIO_MAX_QUEUES];
    uint16_t used_seen[VIRTIO_MAX_QUEUES];
};

static void h_irq_set(void *target, unsigned num, bool level)
{
    (void)num;
    struct harness *h = target;
    if (level && !h->irq_level)
        h->irq_raises++;
    h->irq_level = level;
}

static void h_ram_written(void *opaque, uint64_t pa, uint64_t len)
{
    struct harness *h = opaque;
    h->writes++;
    if (pa < h->bus.ram_base || len > h->bus.ram_size ||
        pa - h->bus.ram_base > h->bus.ram_size - len)
        h->bad_writes++;
}

static inline bool h_init(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    if (!bus_init(&h->bus, H_RAM_BASE, H_RAM_SIZE))
        return false;
    h->bus.ram_write_hook = h_ram_written;
    h->bus.ram_write_hook_opaque = h;
    return true;
}

static inline struct irq_line h_irq(struct harness *h)
{
    return (struct irq_line){.set = h_irq_set, .target = h, .num = 1};
}

static inline void h_destroy(struct harness *h)
{
    if (h->vdev)
        virtio_mmio_dev_ops.destroy(h->vdev);
    h->vdev = NULL;
    bus_destroy(&h->bus);
}

static inline uint32_t h_rd(struct harness *h, uint64_t off)
{
    pthread_mutex_lock(&h->bus.io_lock);
    uint32_t v = (uint32_t)virtio_mmio_dev_ops.read(h->vdev, off, 4);
    pthread_mutex_unlock(&h->bus.io_lock);
    return v;
}

static inline void h_wr(struct harness *h, uint64_t off, uint32_t v)
{
    pthread_mutex_lock(&h->bus.io_lock);
    virtio_mmio_dev_ops.write(h->vdev, off, 4, v);
    pthread_mutex_unlock(&h->bus.io_lock);
}

static inline uint8_t *h_ptr(struct harness *h, uint64_t gpa)
{
    return h->bus.ram + (gpa - H_RAM_BASE);
}

/* The 64 feature bits the device offers. */
static inline uint64_t h_device_features(struct harness *h)
{
    h_wr(h, 0x14, 0);
    uint64_t lo = h_rd(h, 0x10);
    h_wr(h, 0x14, 1);
    return lo | (uint64_t)h_rd(h, 0x10) << 32;
}

/* Negotiates `features` (VERSION_1 should be among them); returns whether
 * FEATURES_OK stuck. */
static inline bool h_negotiate(struct harness *h, uint64_t features)
{
    h_wr(h, 0x70, 0);
    h_wr(h, 0x70, VIRTIO_STATUS_ACKNOWLEDGE);
    h_wr(h, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    h_wr(h, 0x24, 0);
    h_wr(h, 0x20, (uint32_t)features);
    h_wr(h, 0x24, 1);
    h_wr(h, 0x20, (uint32_t)(features >> 32));
    h_wr(h, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return h_rd(h, 0x70) & VIRTIO_STATUS_FEATURES_OK;
}

/* Configures queue q with `num` entries at H_RING(q). */
static inline void h_setup_queue(struct harness *h, unsigned q, uint16_t num)
{
    uint64_t base = H_RING(q);
    memset(h_ptr(h, base), 0, 0x10000);
    h_wr(h, 0x30, q);
    h_wr(h, 0x38, num);
    h_wr(h, 0x80, (uint32_t)base);
    h_wr(h, 0x84, (uint32_t)(base >> 32));
    h_wr(h, 0x90, (uint32_t)(base + 0x4000));
    h_wr(h, 0x94, (uint32_t)((base + 0x4000) >> 32));
    h_wr(h, 0xa0, (uint32_t)(base + 0x8000));
    h_wr(h, 0xa4, (uint32_t)((base + 0x8000) >> 32));
    h_wr(h, 0x44, 1);
    h->qnum[q] = num;
    h->avail_idx[q] = 0;
    h->next_desc[q] = 0;
    h->used_seen[q] = 0;
}

static inline void h_driver_ok(struct harness *h)
{
    h_wr(h, 0x70,
         VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
             VIRTIO_STATUS_DRIVER_OK);
}

/* Full bring-up with `features` and the given queue sizes. */
static inline bool h_start(struct harness *h, uint64_t features, unsigned nq, uint16_t num)
{
    if (!h_negotiate(h, features))
        return false;
    for (unsigned q = 0; q < nq; q++)
        h_setup_queue(h, q, num);
    h_driver_ok(h);
    return (h_rd(h, 0x70) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) == 0;
}

/* Writes descriptor i of a table at gpa `table`. */
static inline void h_desc_at(struct harness *h, uint64_t table, unsigned i, uint64_t addr,
                             uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = h_ptr(h, table + 16ull * i);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

static inline void h_desc(struct harness *h, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                          uint16_t flags, uint16_t next)
{
    h_desc_at(h, H_RING(q), i, addr, len, flags, next);
}

struct h_buf {
    uint64_t addr;
    uint32_t len;
    bool write;
};

/* Builds a direct chain from consecutive free descriptors; returns its head. */
static inline uint16_t h_chain(struct harness *h, unsigned q, const struct h_buf *b, unsigned n)
{
    uint16_t head = h->next_desc[q];
    for (unsigned i = 0; i < n; i++) {
        uint16_t idx = (uint16_t)((head + i) % h->qnum[q]);
        uint16_t next = (uint16_t)((head + i + 1) % h->qnum[q]);
        uint16_t flags =
            (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        h_desc(h, q, idx, b[i].addr, b[i].len, flags, next);
    }
    h->next_desc[q] = (uint16_t)((head + n) % h->qnum[q]);
    return head;
}

/* Publishes head in the avail ring (does not notify). */
static inline void h_publish(struct harness *h, unsigned q, uint16_t head)
{
    uint8_t *avail = h_ptr(h, H_RING(q) + 0x4000);
    uint16_t slot = h->avail_idx[q] % h->qnum[q];
    memcpy(avail + 4 + 2 * slot, &head, 2);
    h->avail_idx[q]++;
    __atomic_store_n((uint16_t *)(avail + 2), h->avail_idx[q], __ATOMIC_RELEASE);
}

static inline void h_set_avail_idx(struct harness *h, unsigned q, uint16_t idx)
{
    uint8_t *avail = h_ptr(h, H_RING(q) + 0x4000);
    __atomic_store_n((uint16_t *)(avail + 2), idx, __ATOMIC_RELEASE);
}

static inline void h_set_used_event(struct harness *h, unsigned q, uint16_t v)
{
    uint8_t *avail = h_ptr(h, H_RING(q) + 0x4000);
    memcpy(avail + 4 + 2 * h->qnum[q], &v, 2);
}

static inline void h_set_avail_flags(struct harness *h, unsigned q, uint16_t v)
{
    uint8_t *avail = h_ptr(h, H_RING(q) + 0x4000);
    memcpy(avail, &v, 2);
}

static inline uint16_t h_used_idx(struct harness *h, unsigned q)
{
    uint8_t *used = h_ptr(h, H_RING(q) + 0x8000);
    return __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
}

static inline uint16_t h_avail_event(struct harness *h, unsigned q)
{
    uint8_t *used = h_ptr(h, H_RING(q) + 0x8000);
    uint16_t v;
    memcpy(&v, used + 4 + 8 * h->qnum[q], 2);
    return v;
}

static inline void h_used_elem(struct harness *h, unsigned q, uint16_t i, uint32_t *id,
                               uint32_t *len)
{
    uint8_t *used = h_ptr(h, H_RING(q) + 0x8000) + 4 + 8 * (i % h->qnum[q]);
    memcpy(id, used, 4);
    memcpy(len, used + 4, 4);
}

static inline void h_notify(struct harness *h, unsigned q)
{
    h_wr(h, 0x50, q);
}

/* Waits (up to 5 s) until the used index reaches `want`. */
static inline bool h_wait_used(struct harness *h, unsigned q, uint16_t want)
{
    for (int i = 0; i < 5000; i++) {
        if (h_used_idx(h, q) == want)
            return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static inline bool h_needs_reset(struct harness *h)
{
    return h_rd(h, 0x70) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

#define H_F_V1       (1ull << VIRTIO_F_VERSION_1)
#define H_F_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define H_F_EVENTIDX (1ull << VIRTIO_F_EVENT_IDX)

#endif
