/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon (virtio 1.x, "Memory Balloon Device"): the host asks the
 * guest to give back memory (num_pages), the guest hands over page frame
 * numbers on the inflate queue, and their host memory is released
 * (MADV_DONTNEED: the host frees it, the guest reads zeros if it takes a
 * page back).  Offered: STATS_VQ (the guest's memory statistics),
 * DEFLATE_ON_OOM (the guest may take pages back under memory pressure)
 * and REPORTING (free page reporting: ranges the guest's allocator has
 * free are released as well, without a target).
 *
 * Queues, numbered as present: 0 inflate, 1 deflate, 2 stats, 3 reporting.
 * Everything runs under the I/O lock.  A hostile guest can only release
 * its own RAM: every range is clipped to RAM, and a chain is at most
 * VIRTQ_MAX_CHAIN segments.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/bus.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define F_STATS_VQ       1
#define F_DEFLATE_ON_OOM 2
#define F_REPORTING      5

enum { Q_INFLATE, Q_DEFLATE, Q_STATS, Q_REPORTING, NQ };

#define PAGE          4096u
#define STATE_VERSION 1

struct vballoon {
    uint32_t target;             /* num_pages: pages the host wants */
    uint64_t released;           /* bytes given back to the host so far (inflate + reports) */
    struct virtq_elem *stats_el; /* the guest's stats buffer, held until the next request */
    uint64_t stats[VIRTIO_BALLOON_NSTATS];
    bool have_stats;
};

/* Releases [pa, pa+len) clipped to RAM. */
static void release(struct virtio_dev *vdev, uint64_t pa, uint64_t len)
{
    struct bus *bus = vdev->bus;
    if (pa < bus->ram_base || pa - bus->ram_base >= bus->ram_size)
        return;
    uint64_t off = pa - bus->ram_base;
    if (len > bus->ram_size - off)
        len = bus->ram_size - off;
    uint64_t start = (off + PAGE - 1) & ~(uint64_t)(PAGE - 1),
             end = (off + len) & ~(uint64_t)(PAGE - 1);
    if (end <= start)
        return;
    madvise(bus->ram + start, end - start, MADV_DONTNEED);
    /* The pages read as zero now: decoded code and the dirty log must know. */
    bus_ram_written(bus, bus->ram_base + start, end - start);
    ((struct vballoon *)vdev->opaque)->released += end - start;
}

static void inflate(struct virtio_dev *vdev, struct virtq *vq)
{
    struct virtq_elem *e;
    unsigned taken = 0;
    bool pushed = false;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        uint8_t buf[256 * 4];
        for (size_t off = 0; off < e->out_len;) {
            size_t n = virtq_elem_read(e, off, buf, sizeof(buf));
            if (!n)
                break;
            for (size_t i = 0; i + 4 <= n; i += 4) {
                uint32_t pfn;
                memcpy(&pfn, buf + i, 4);
                release(vdev, (uint64_t)le32toh(pfn) * PAGE, PAGE);
            }
            off += n;
        }
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

/* Free page reporting: each segment is a free range of guest memory. */
static void reporting(struct virtio_dev *vdev, struct virtq *vq)
{
    struct virtq_elem *e;
    unsigned taken = 0;
    bool pushed = false;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        for (unsigned i = 0; i < e->nout + e->nin; i++)
            release(vdev, e->seg[i].gpa, e->seg[i].len);
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static void stats(struct virtio_dev *vdev, struct virtq *vq)
{
    struct vballoon *vb = vdev->opaque;
    struct virtq_elem *e;
    if (virtq_pop(vq, &e) <= 0)
        return;
    if (vb->stats_el) { /* one buffer at a time: the older goes back */
        virtq_push(vq, vb->stats_el, 0);
        free(vb->stats_el);
        vq->inflight--;
        virtq_notify(vq);
    }
    uint8_t item[10]; /* le16 tag, le64 value */
    for (size_t off = 0; off + sizeof(item) <= e->out_len && off < 64 * sizeof(item);
         off += sizeof(item)) {
        if (virtq_elem_read(e, off, item, sizeof(item)) != sizeof(item))
            break;
        uint16_t tag;
        uint64_t v;
        memcpy(&tag, item, 2);
        memcpy(&v, item + 2, 8);
        tag = le16toh(tag);
        if (tag < VIRTIO_BALLOON_NSTATS) {
            vb->stats[tag] = le64toh(v);
            vb->have_stats = true;
        }
    }
    /* Held, and returned to ask for fresh numbers; counted in flight so a
     * saved state has the restored device pop it again. */
    vb->stats_el = e;
    vq->inflight++;
}

static void balloon_notify(struct virtio_dev *vdev, unsigned q)
{
    if (q == Q_INFLATE)
        inflate(vdev, &vdev->vq[q]);
    else if (q == Q_REPORTING)
        reporting(vdev, &vdev->vq[q]);
    else if (q == Q_STATS)
        stats(vdev, &vdev->vq[q]);
    else if (q == Q_DEFLATE) {
        /* Without MUST_TELL_HOST there is nothing to do but complete. */
        struct virtq_elem *e;
        unsigned taken = 0;
        bool pushed = false;
        while (virtq_pop_limited(&vdev->vq[q], &e, &taken) > 0) {
            virtq_push(&vdev->vq[q], e, 0);
            free(e);
            pushed = true;
        }
        if (pushed)
            virtq_notify(&vdev->vq[q]);
    }
}

/* Linux posts its first stats buffer and kicks before it sets DRIVER_OK,
 * when the transport does not pass notifications on yet: look now. */
static void balloon_driver_ok(struct virtio_dev *vdev)
{
    if (vdev->vq[Q_STATS].ready && virtq_has_avail(&vdev->vq[Q_STATS]))
        stats(vdev, &vdev->vq[Q_STATS]);
}

static void put_config(struct virtio_dev *vdev)
{
    struct vballoon *vb = vdev->opaque;
    uint32_t v = htole32(vb->target);
    memcpy(vdev->config, &v, 4);
}

static void balloon_config_write(struct virtio_dev *vdev, uint32_t offset, unsigned size,
                                 uint32_t value)
{
    /* Only `actual` (offset 4) is the driver's; writes elsewhere are
     * ignored. */
    if (offset == 4 && size == 4) {
        uint32_t v = htole32(value);
        memcpy(vdev->config + 4, &v, 4);
    }
}

static void balloon_reset(struct virtio_dev *vdev)
{
    struct vballoon *vb = vdev->opaque;
    free(vb->stats_el);
    vb->stats_el = NULL; /* the transport clears the queues and in-flight counts */
    memset(vdev->config + 4, 0, 4);
}

static void balloon_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vballoon *vb = vdev->opaque;
    state_put_u32(w, STATE_VERSION);
    state_put_u32(w, vb->target);
    state_put_u64(w, vb->released);
    /* A held stats buffer is counted in flight: the transport's state
     * makes the restored device pop it again. */
}

static bool balloon_load(struct virtio_dev *vdev, struct state_reader *r)
{
    struct vballoon *vb = vdev->opaque;
    if (state_get_u32(r) != STATE_VERSION)
        return false;
    uint32_t target = state_get_u32(r);
    uint64_t released = state_get_u64(r);
    if (!state_reader_ok(r) || (uint64_t)target * PAGE > vdev->bus->ram_size)
        return false;
    vb->target = target;
    vb->released = released;
    put_config(vdev);
    return true;
}

static void balloon_destroy(struct virtio_dev *vdev)
{
    struct vballoon *vb = vdev->opaque;
    free(vb->stats_el);
    free(vb);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops balloon_ops = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .num_queues = NQ,
    .queue_max = 128,
    .queue_notify = balloon_notify,
    .config_write = balloon_config_write,
    .driver_ok = balloon_driver_ok,
    .reset = balloon_reset,
    .save = balloon_save,
    .load = balloon_load,
    .destroy = balloon_destroy,
};

struct virtio_dev *virtio_balloon_create(struct bus *bus, struct irq_line irq)
{
    struct vballoon *vb = calloc(1, sizeof(*vb));
    if (!vb)
        return NULL;
    /* Config: le32 num_pages, le32 actual, le32 free_page_hint_cmd_id,
     * le32 poison_val. */
    struct virtio_dev *vdev = virtio_mmio_new(
        &balloon_ops, vb, bus, irq,
        (1ull << F_STATS_VQ) | (1ull << F_DEFLATE_ON_OOM) | (1ull << F_REPORTING), 16);
    if (!vdev)
        free(vb);
    return vdev;
}

bool virtio_balloon_set_target(struct virtio_dev *vdev, uint64_t guest_bytes)
{
    struct vballoon *vb = vdev->opaque;
    uint64_t ram = vdev->bus->ram_size;
    if (guest_bytes > ram)
        guest_bytes = ram;
    vb->target = (uint32_t)((ram - guest_bytes) / PAGE);
    put_config(vdev);
    virtio_config_changed(vdev);
    return true;
}

void virtio_balloon_status(struct virtio_dev *vdev, struct virtio_balloon_status *st)
{
    struct vballoon *vb = vdev->opaque;
    uint32_t actual;
    memcpy(&actual, vdev->config + 4, 4);
    st->target_bytes = (uint64_t)vb->target * PAGE;
    st->actual_bytes = (uint64_t)le32toh(actual) * PAGE;
    st->released_bytes = vb->released;
    st->have_stats = vb->have_stats;
    memcpy(st->stats, vb->stats, sizeof(st->stats));
}

void virtio_balloon_request_stats(struct virtio_dev *vdev)
{
    struct vballoon *vb = vdev->opaque;
    if (!vb->stats_el || !virtio_driver_ok(vdev))
        return;
    virtq_push(&vdev->vq[Q_STATS], vb->stats_el, 0);
    free(vb->stats_el);
    vb->stats_el = NULL;
    vdev->vq[Q_STATS].inflight--;
    virtq_notify(&vdev->vq[Q_STATS]);
}

bool virtio_balloon_is(const struct virtio_dev *vdev)
{
    return vdev && vdev->ops == &balloon_ops;
}
