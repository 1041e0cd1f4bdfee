/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x "Split Virtqueues"), device side.
 *
 * Ring layout for a queue of N entries:
 *   descriptor table  16 * N bytes, 16-aligned: {le64 addr, le32 len, le16 flags, le16 next}
 *   available ring    le16 flags, le16 idx, le16 ring[N], le16 used_event;  2-aligned
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len}[N], le16 avail_event; 4-aligned
 *
 * The guest runs concurrently on other threads, so every descriptor is
 * copied once and the copy validated; nothing read from the rings is used
 * twice.  The indices are accessed atomically with the fences the spec's
 * ordering rules need.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "virtio/virtio.h"

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static uint16_t load16_acquire(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static uint16_t load16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static void store16(const uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void store16_release(const uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

/* One log line per break: the transport's "device needs reset" names the
 * queue and the reason. */
static void vq_break(struct virtq *vq, const char *why)
{
    vq->broken = true;
    if (!vq->vdev) {
        log_warn_ratelimited("virtio: queue %u: %s", vq->index, why);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof(msg), "queue %u: %s", vq->index, why);
    virtio_set_needs_reset(vq->vdev, msg);
}

bool virtq_enable(struct virtq *vq, struct bus *bus)
{
    unsigned n = vq->num;
    if (n == 0 || n > vq->num_max || (n & (n - 1)) != 0)
        return false;
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
        return false;
    vq->desc = bus_ram_ptr(bus, vq->desc_gpa, 16ull * n);
    vq->avail = bus_ram_ptr(bus, vq->avail_gpa, 6ull + 2ull * n);
    vq->used = bus_ram_ptr(bus, vq->used_gpa, 6ull + 8ull * n);
    if (!vq->desc || !vq->avail || !vq->used) {
        vq->desc = vq->avail = vq->used = NULL;
        return false;
    }
    vq->ready = true;
    vq->broken = false;
    /* Nothing used yet, nothing signalled: the interval is empty. */
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    return true;
}

void virtq_reset(struct virtq *vq)
{
    vq->num = vq->num_max;
    vq->ready = false;
    vq->broken = false;
    vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
    vq->desc = vq->avail = vq->used = NULL;
    vq->last_avail = vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->inflight = 0;
}

static bool event_idx(const struct virtq *vq)
{
    return vq->vdev && virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX);
}

bool virtq_has_avail(struct virtq *vq)
{
    if (!vq->ready || vq->broken)
        return false;
    return load16_acquire(vq->avail + 2) != vq->last_avail;
}

/* Appends one descriptor's buffer to the scratch list. */
static bool add_seg(struct virtq *vq, struct bus *bus, const struct vring_desc *d, unsigned *nseg,
                    bool *seen_write, unsigned *nout)
{
    bool write = d->flags & VIRTQ_DESC_F_WRITE;
    if (write) {
        *seen_write = true;
    } else if (*seen_write) {
        vq_break(vq, "device-readable descriptor after a device-writable one");
        return false;
    }
    if (d->len == 0)
        return true;
    uint8_t *host = bus_ram_ptr(bus, d->addr, d->len);
    if (!host) {
        vq_break(vq, "descriptor buffer outside RAM");
        return false;
    }
    if (*nseg >= VIRTQ_MAX_CHAIN) {
        vq_break(vq, "descriptor chain too long");
        return false;
    }
    vq->scratch[*nseg] = (struct virtq_seg){.gpa = d->addr, .host = host, .len = d->len};
    (*nseg)++;
    if (!write)
        (*nout)++;
    return true;
}

static void read_desc(const uint8_t *table, unsigned i, struct vring_desc *d)
{
    memcpy(d, table + 16u * i, sizeof(*d));
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
}

int virtq_pop(struct virtq *vq, struct virtq_elem **out)
{
    *out = NULL;
    if (vq->broken)
        return -1;
    if (!vq->ready)
        return 0;
    struct bus *bus = vq->vdev->bus;
    uint16_t avail_idx = load16_acquire(vq->avail + 2);
    if (avail_idx == vq->last_avail)
        return 0;
    /* Every buffer made available and not yet used (whether we popped it
     * or not) holds at least one of the queue's num descriptors, so a
     * driver can never have more than num of them outstanding.  An index
     * further ahead is a device error; accepting it would let a guest that
     * keeps advancing idx put an unbounded number of requests in flight
     * (the ones popped and not yet pushed are last_avail - used_idx). */
    /* An index moved back behind what the device already took passes the
     * check against used_idx after wrapping; it is an error too. */
    if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
        vq_break(vq, "available index moved back or by more than the queue size");
        return -1;
    }
    if ((uint16_t)(avail_idx - vq->used_idx) > vq->num) {
        vq_break(vq, "available index is more than the queue size ahead of the used index");
        return -1;
    }
    uint16_t head = load16(vq->avail + 4 + 2u * (vq->last_avail % vq->num));
    if (head >= vq->num) {
        vq_break(vq, "available ring names a descriptor beyond the queue size");
        return -1;
    }

    const uint8_t *table = vq->desc;
    unsigned table_size = vq->num, idx = head, count = 0;
    unsigned nseg = 0, nout = 0;
    bool seen_write = false, indirect = false;
    for (;;) {
        struct vring_desc d;
        if (idx >= table_size) {
            vq_break(vq, "descriptor index beyond the table");
            return -1;
        }
        /* A chain visits each descriptor of its table at most once, so
         * more steps than entries means a loop. */
        if (++count > table_size) {
            vq_break(vq, "descriptor chain loops or exceeds the table");
            return -1;
        }
        read_desc(table, idx, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!virtio_has_feature(vq->vdev, VIRTIO_F_INDIRECT_DESC)) {
                vq_break(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                return -1;
            }
            if (indirect) {
                vq_break(vq, "indirect table inside an indirect table");
                return -1;
            }
            if (d.flags & VIRTQ_DESC_F_NEXT) {
                vq_break(vq, "indirect descriptor with NEXT set");
                return -1;
            }
            if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_CHAIN) {
                vq_break(vq, "bad indirect table length");
                return -1;
            }
            table = bus_ram_ptr(bus, d.addr, d.len);
            if (!table) {
                vq_break(vq, "indirect table outside RAM");
                return -1;
            }
            table_size = d.len / 16;
            indirect = true;
            idx = 0;
            count = 0;
            continue;
        }
        if (!add_seg(vq, bus, &d, &nseg, &seen_write, &nout))
            return -1;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = d.next;
    }

    struct virtq_elem *e = malloc(sizeof(*e) + nseg * sizeof(e->seg[0]));
    if (!e) {
        vq_break(vq, "out of memory");
        return -1;
    }
    e->queue = vq->index;
    e->head = head;
    e->nout = nout;
    e->nin = nseg - nout;
    e->out_len = e->in_len = 0;
    for (unsigned i = 0; i < nseg; i++) {
        e->seg[i] = vq->scratch[i];
        if (i < nout)
            e->out_len += e->seg[i].len;
        else
            e->in_len += e->seg[i].len;
    }
    vq->last_avail++;
    if (event_idx(vq)) {
        /* Ask to be notified when the driver publishes the entry after
         * the one we just took. */
        store16(vq->used + 4 + 8u * vq->num, vq->last_avail);
        bus_ram_written(bus, vq->used_gpa + 4 + 8u * vq->num, 2);
        /* The store must be visible before we next read avail->idx:
         * otherwise the driver may read the old avail_event and skip the
         * notify while we read the old idx and stop. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    *out = e;
    return 1;
}

int virtq_pop_limited(struct virtq *vq, struct virtq_elem **out, unsigned *taken)
{
    if (*taken >= 2u * vq->num) {
        *out = NULL;
        virtq_set_notification(vq, true);
        return 0;
    }
    int r = virtq_pop(vq, out);
    if (r > 0)
        (*taken)++;
    return r;
}

void virtq_unpop(struct virtq *vq, unsigned n)
{
    vq->last_avail -= (uint16_t)n;
}

void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t written)
{
    if (!vq->ready || vq->broken)
        return;
    struct bus *bus = vq->vdev->bus;
    unsigned slot = vq->used_idx % vq->num;
    uint8_t *ent = vq->used + 4 + 8u * slot;
    uint32_t id = htole32(e->head), len = htole32(written);
    memcpy(ent, &id, 4);
    memcpy(ent + 4, &len, 4);
    bus_ram_written(bus, vq->used_gpa + 4 + 8u * slot, 8);
    vq->used_idx++;
    /* The entry must be visible before the index that publishes it. */
    store16_release(vq->used + 2, vq->used_idx);
    bus_ram_written(bus, vq->used_gpa + 2, 2);
}

void virtq_notify(struct virtq *vq)
{
    if (!vq->ready || vq->broken)
        return;
    /* Our used->idx store must be ordered before reading the driver's
     * suppression fields, or both sides may decide not to signal. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (event_idx(vq)) {
        uint16_t used_event = load16(vq->avail + 4 + 2u * vq->num);
        uint16_t old = vq->signalled_used, new = vq->used_idx;
        bool valid = vq->signalled_used_valid;
        vq->signalled_used = new;
        vq->signalled_used_valid = true;
        if (valid && (uint16_t)(new - used_event - 1) >= (uint16_t)(new - old))
            return;
    } else if (load16(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) {
        return;
    }
    virtio_raise_used(vq->vdev);
}

bool virtq_set_notification(struct virtq *vq, bool enable)
{
    if (!vq->ready || vq->broken)
        return false;
    struct bus *bus = vq->vdev->bus;
    if (event_idx(vq)) {
        if (enable) {
            store16(vq->used + 4 + 8u * vq->num, load16(vq->avail + 2));
            bus_ram_written(bus, vq->used_gpa + 4 + 8u * vq->num, 2);
        }
    } else {
        uint16_t flags = load16(vq->used);
        flags = enable ? (flags & ~VIRTQ_USED_F_NO_NOTIFY) : (flags | VIRTQ_USED_F_NO_NOTIFY);
        store16(vq->used, flags);
        bus_ram_written(bus, vq->used_gpa, 2);
    }
    if (!enable)
        return false;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return load16(vq->avail + 2) != vq->last_avail;
}

size_t virtq_elem_read(const struct virtq_elem *e, size_t off, void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < e->nout && done < len; i++) {
        const struct virtq_seg *s = &e->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = s->len - off;
        if (n > len - done)
            n = len - done;
        memcpy((uint8_t *)buf + done, s->host + off, n);
        done += n;
        off = 0;
    }
    return done;
}

size_t virtq_elem_write(struct bus *bus, const struct virtq_elem *e, size_t off, const void *buf,
                        size_t len)
{
    size_t done = 0;
    for (unsigned i = e->nout; i < e->nout + e->nin && done < len; i++) {
        const struct virtq_seg *s = &e->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = s->len - off;
        if (n > len - done)
            n = len - done;
        memcpy(s->host + off, (const uint8_t *)buf + done, n);
        bus_ram_written(bus, s->gpa + off, n);
        done += n;
        off = 0;
    }
    return done;
}
