/* SPDX-License-Identifier: MIT */
/*
 * virtio-net: one receive and one transmit queue over a net backend.
 *
 * Every frame carries the 12-byte virtio 1.x header.  Offloads take work
 * off the guest's (emulated, slow) CPU and do it here, where it is cheap:
 * the guest may leave a TCP/UDP checksum for us to fill in (CSUM), we tell
 * it received frames need no verification (GUEST_CSUM: our backends
 * deliver frames with correct checksums), and it may hand us TCP frames of
 * up to 64 KiB to cut into MSS-sized segments (HOST_TSO4/6, HOST_ECN;
 * src/net/offload.c does the cutting).
 *
 * The receive side mirrors it: a backend that has offload metadata (tap
 * with IFF_VNET_HDR) hands us TCP segments of up to 64 KiB with a partial
 * checksum; a guest that negotiated GUEST_TSO4/6 and GUEST_CSUM gets them
 * whole (one frame, one interrupt, one trip through its stack instead of
 * ~45), one that did not gets them cut and checksummed here.  With
 * MRG_RXBUF a frame spreads over as many receive buffers as it needs
 * (num_buffers in the header of the first), so the guest posts page-sized
 * buffers instead of 64 KiB ones.  Everything here runs with the I/O lock
 * held: TX from the hart's QueueNotify, RX from the backend.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/vclock.h"
#include "net/net.h"
#include "net/offload.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_S_LINK_UP        1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80

#define NET_HDR_LEN 12
#define Q_RX        0
#define Q_TX        1
#define QUEUE_SIZE  256
/* The largest IP packet (a TSO frame's) with an Ethernet header and a
 * VLAN tag; anything longer is dropped. */
#define MAX_FRAME (65535 + 18)
/* The device's own part of the saved state (after the transport's). */
#define NET_STATE_VERSION 1
/* Features an older wirt did not offer: its saved state still loads. */
#define NET_ADDED_FEATURES                                                                         \
    ((1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6) |                       \
     (1ull << VIRTIO_NET_F_MRG_RXBUF))

struct vnet {
    struct virtio_dev *vdev;
    struct net_backend *nb;
    bool rx_refused;     /* we told the backend to hold off */
    uint64_t tx_dropped; /* frames the guest got wrong (bad GSO metadata or headers) */
    uint64_t rx_dropped; /* frames with no room in the guest, or bad offload metadata */
    /* Frames and bytes (without the virtio header) each way, for query-net
     * and wirt top; updated under the I/O lock, read atomically. */
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    FILE *trace; /* WIRT_NET_TRACE (net_trace), or NULL */
    uint8_t frame[MAX_FRAME];
};

/* WIRT_NET_TRACE=PREFIX logs every frame the guest sends or is given to
 * PREFIX.PID, one line each: host time in microseconds (CLOCK_MONOTONIC,
 * comparable between the VMMs of one host), "tx" or "rx", the length, the
 * logging thread's id and its CPU time in microseconds.
 * bench/net_lat_trace.py splits a VM-to-VM round trip with it into the
 * hops between the VMMs and each guest's own turnaround, which ping
 * alone cannot tell apart, and says how much of a turnaround the thread
 * that ran it (hart 0, which both takes the frame and sends the answer)
 * spent on a CPU rather than waiting for one.  Unset: one branch per
 * frame. */
static void net_trace(struct vnet *vn, const char *dir, size_t len)
{
    if (!vn->trace)
        return;
    fprintf(vn->trace, "%" PRIu64 " %s %zu %ld %" PRIu64 "\n", host_monotonic_ns() / 1000, dir, len,
            (long)gettid(), host_thread_cpu_ns() / 1000);
}

static FILE *net_trace_open(void)
{
    const char *prefix = getenv("WIRT_NET_TRACE");
    if (!prefix || !*prefix)
        return NULL;
    char path[4096];
    snprintf(path, sizeof(path), "%s.%ld", prefix, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        log_warn("virtio-net: WIRT_NET_TRACE: cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0); /* whole lines even if the VMM is killed */
    return f;
}

static bool net_can_receive(void *opaque)
{
    struct vnet *vn = opaque;
    struct virtio_dev *vdev = vn->vdev;
    bool ok = virtio_driver_ok(vdev) && virtq_has_avail(&vdev->vq[Q_RX]);
    if (!ok)
        vn->rx_refused = true;
    return ok;
}

static void rx_drop(struct vnet *vn, const char *why)
{
    vn->rx_dropped++;
    log_debug_ratelimited("virtio-net: dropped a received frame (%s)", why);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

/* Hands one frame with its header (num_buffers still to be filled) to the
 * guest.  Without MRG_RXBUF it needs one buffer that holds it all; with it,
 * as many buffers as it takes, at most the queue's size (so a guest
 * posting tiny buffers costs a bounded number of pops).  Returns false,
 * the buffers back unused, when too few are posted yet (the caller may
 * keep the frame for later); a frame that even a full ring cannot hold
 * is dropped. */
static bool rx_deliver(struct vnet *vn, uint8_t *hdr, const void *frame, size_t len)
{
    struct virtio_dev *vdev = vn->vdev;
    if (!virtio_driver_ok(vdev))
        return true;
    net_trace(vn, "rx", len);
    struct virtq *vq = &vdev->vq[Q_RX];
    bool mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
    size_t total = NET_HDR_LEN + len;
    struct virtq_elem *el[QUEUE_SIZE];
    unsigned n = 0;
    uint64_t room = 0;
    int r = 0;
    while (room < total && n < (mrg ? vq->num : 1u) && (r = virtq_pop(vq, &el[n])) > 0)
        room += el[n++]->in_len;
    if (n == 0) {
        vn->rx_refused = true;
        return r < 0;
    }
    if (room < total && mrg) {
        /* Not enough buffers posted yet: they stay for this frame or the
         * next. */
        if (r >= 0)
            virtq_unpop(vq, n);
        for (unsigned i = 0; i < n; i++)
            free(el[i]);
        if (r < 0 || n == vq->num) {
            rx_drop(vn, "frame larger than the whole ring");
            return true;
        }
        vn->rx_refused = true;
        return false;
    }
    if (room < total) {
        /* A buffer too small for the frame goes back empty; the driver
         * counts it as an error and the frame is lost (like a wire would). */
        virtq_push(vq, el[0], 0);
        free(el[0]);
        rx_drop(vn, "buffer too small");
        virtq_notify(vq);
        return true;
    }
    put_le16(hdr + 10, (uint16_t)n);
    size_t done = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t part = el[i]->in_len < total - done ? el[i]->in_len : total - done, w = 0;
        if (done < NET_HDR_LEN) {
            size_t h = NET_HDR_LEN - done < part ? NET_HDR_LEN - done : part;
            w = virtq_elem_write(vdev->bus, el[i], 0, hdr + done, h);
        }
        const uint8_t *data = (const uint8_t *)frame + (done + w - NET_HDR_LEN);
        if (part > w)
            w += virtq_elem_write(vdev->bus, el[i], w, data, part - w);
        done += part;
        virtq_push(vq, el[i], (uint32_t)part);
        free(el[i]);
    }
    virtq_notify(vq);
    __atomic_fetch_add(&vn->rx_frames, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&vn->rx_bytes, len, __ATOMIC_RELAXED);
    return true;
}

/* A frame whose checksums are complete (libslirp's, or one we made). */
static bool rx_plain(struct vnet *vn, const void *frame, size_t len)
{
    uint8_t hdr[NET_HDR_LEN] = {0};
    if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_GUEST_CSUM))
        hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    return rx_deliver(vn, hdr, frame, len);
}

/* Backends without metadata cannot hold a frame back: no room is a drop. */
static void net_receive(void *opaque, const void *frame, size_t len)
{
    if (!rx_plain(opaque, frame, len))
        rx_drop(opaque, "no room");
}

static void rx_segment(void *opaque, const uint8_t *frame, size_t len)
{
    net_receive(opaque, frame, len);
}

/* Can the guest take this large segment whole? */
static bool guest_takes_gso(const struct vnet *vn, uint8_t gso_type)
{
    const struct virtio_dev *vdev = vn->vdev;
    if (!virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
        return false;
    if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4)
        return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4);
    if (gso_type == VIRTIO_NET_HDR_GSO_TCPV6)
        return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6);
    return false; /* ECN-marked: GUEST_ECN is not offered */
}

/* A frame with offload metadata from the backend.  What the guest did not
 * negotiate is done here: a large segment is cut (which also completes
 * every checksum), a partial checksum is filled in. */
static bool net_receive_meta(void *opaque, const struct net_meta *m, uint8_t *frame, size_t len)
{
    struct vnet *vn = opaque;
    struct virtio_dev *vdev = vn->vdev;
    if (!virtio_driver_ok(vdev))
        return true;
    if (m->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        if (!(m->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
            return rx_plain(vn, frame, len);
        if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM)) {
            uint8_t hdr[NET_HDR_LEN] = {VIRTIO_NET_HDR_F_NEEDS_CSUM};
            put_le16(hdr + 6, m->csum_start);
            put_le16(hdr + 8, m->csum_offset);
            return rx_deliver(vn, hdr, frame, len);
        }
        if (net_csum_fill(frame, len, m->csum_start, m->csum_offset))
            return rx_plain(vn, frame, len);
        rx_drop(vn, "checksum offsets");
        return true;
    }
    if (guest_takes_gso(vn, m->gso_type)) {
        uint8_t hdr[NET_HDR_LEN] = {m->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, m->gso_type};
        put_le16(hdr + 2, m->hdr_len);
        put_le16(hdr + 4, m->gso_size);
        put_le16(hdr + 6, m->csum_start);
        put_le16(hdr + 8, m->csum_offset);
        return rx_deliver(vn, hdr, frame, len);
    }
    uint8_t type = m->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    struct net_gso gso = {.gso_size = m->gso_size, .hdr_len = m->hdr_len};
    if (type == VIRTIO_NET_HDR_GSO_TCPV4) {
        gso.type = NET_GSO_TCPV4;
    } else if (type == VIRTIO_NET_HDR_GSO_TCPV6) {
        gso.type = NET_GSO_TCPV6;
    } else {
        rx_drop(vn, "gso type");
        return true;
    }
    /* Segments that find no buffer are lost like frames on a wire. */
    if (net_tso_segment(frame, len, &gso, rx_segment, vn) != NET_TSO_OK)
        rx_drop(vn, "gso frame");
    return true;
}

static void send_segment(void *opaque, const uint8_t *frame, size_t len)
{
    struct net_backend *nb = opaque;
    nb->ops->send(nb, frame, len);
}

/* A backend with tso4_max_frame (libslirp: its IPv4 input has no MTU
 * check) acknowledges a whole TSO frame as one segment, which saves the
 * guest the ACKs of ~45 MSS-sized segments.  Others (tap) put frames on a
 * wire and need them cut to the MSS. */
static bool takes_whole_tso4(const struct net_backend *nb, size_t len)
{
    return len <= nb->ops->tso4_max_frame;
}

static void tx_drop(struct vnet *vn, const char *why, int code)
{
    vn->tx_dropped++;
    log_debug_ratelimited("virtio-net: dropped a transmitted frame (%s %d)", why, code);
}

/* One frame from the guest, header already read.  Header layout: flags,
 * gso_type, le16 hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
static void tx_frame(struct vnet *vn, const uint8_t *hdr, uint8_t *frame, size_t len)
{
    struct virtio_dev *vdev = vn->vdev;
    uint16_t hdr_len, gso_size, start, offset;
    memcpy(&hdr_len, hdr + 2, 2);
    memcpy(&gso_size, hdr + 4, 2);
    memcpy(&start, hdr + 6, 2);
    memcpy(&offset, hdr + 8, 2);
    uint8_t gso_type = hdr[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (vn->nb->ops->send_meta) {
        /* A backend that carries metadata (the switch) gets the whole
         * frame with what it leaves open, checked to fit the frame: the
         * guest at the far end finishes it, or the switch does for a port
         * that cannot, so a VM-to-VM stream is checksummed at most once. */
        struct net_meta m;
        net_meta_unpack(hdr, &m);
        bool csum =
            (m.flags & NET_META_F_NEEDS_CSUM) && virtio_has_feature(vdev, VIRTIO_NET_F_CSUM);
        m.flags = csum ? NET_META_F_NEEDS_CSUM : 0;
        if (csum && (size_t)m.csum_start + m.csum_offset + 2 > len) {
            tx_drop(vn, "csum offsets", m.csum_start);
            return;
        }
        bool gso_ok = gso_type == VIRTIO_NET_HDR_GSO_NONE ||
                      (gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
                       virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4)) ||
                      (gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
                       virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO6));
        if (!gso_ok ||
            (gso_type != VIRTIO_NET_HDR_GSO_NONE && (!m.gso_size || m.hdr_len > len || !csum))) {
            tx_drop(vn, "gso", hdr[1]);
            return;
        }
        if (gso_type == VIRTIO_NET_HDR_GSO_NONE)
            m.gso_type = NET_META_GSO_NONE; /* ECN bit alone means nothing */
        vn->nb->ops->send_meta(vn->nb, &m, frame, len);
        return;
    }
    if (gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        /* Nonsense offsets from the guest: the frame goes as it is. */
        if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && virtio_has_feature(vdev, VIRTIO_NET_F_CSUM))
            net_csum_fill(frame, len, le16toh(start), le16toh(offset));
        vn->nb->ops->send(vn->nb, frame, len);
        return;
    }
    struct net_gso gso = {.hdr_len = le16toh(hdr_len), .gso_size = le16toh(gso_size)};
    if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4)) {
        gso.type = NET_GSO_TCPV4;
    } else if (gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
               virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO6)) {
        gso.type = NET_GSO_TCPV6;
    } else {
        tx_drop(vn, "gso type", hdr[1]);
        return;
    }
    if (gso.type == NET_GSO_TCPV4 && takes_whole_tso4(vn->nb, len))
        gso.gso_size = UINT32_MAX; /* one frame, lengths and checksums fixed up */
    /* Segmentation recomputes every checksum, so NEEDS_CSUM and its
     * offsets add nothing here. */
    enum net_tso_result r = net_tso_segment(frame, len, &gso, send_segment, vn->nb);
    if (r != NET_TSO_OK)
        tx_drop(vn, "tso", r);
}

static void net_tx(struct vnet *vn)
{
    struct virtio_dev *vdev = vn->vdev;
    struct virtq *vq = &vdev->vq[Q_TX];
    bool pushed = false;
    struct virtq_elem *e;
    unsigned taken = 0;
    /* Over a rate= cap the frames stay in the ring until tx_ready. */
    while ((!vn->nb || net_tx_may_send(vn->nb)) && virtq_pop_limited(vq, &e, &taken) > 0) {
        if (e->out_len > NET_HDR_LEN && e->out_len - NET_HDR_LEN <= MAX_FRAME) {
            size_t n = virtq_elem_read(e, NET_HDR_LEN, vn->frame, e->out_len - NET_HDR_LEN);
            uint8_t hdr[NET_HDR_LEN];
            virtq_elem_read(e, 0, hdr, NET_HDR_LEN);
            if (vn->nb && vn->nb->ops->send) {
                net_trace(vn, "tx", n);
                tx_frame(vn, hdr, vn->frame, n);
                net_tx_sent(vn->nb, n);
            }
            __atomic_fetch_add(&vn->tx_frames, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&vn->tx_bytes, n, __ATOMIC_RELAXED);
        } else if (e->out_len > NET_HDR_LEN) {
            tx_drop(vn, "length", (int)(e->out_len - NET_HDR_LEN));
        }
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

/* The rate cap lets held-back frames go (backend thread, I/O lock held). */
static void net_tx_ready(void *opaque)
{
    struct vnet *vn = opaque;
    if (virtio_driver_ok(vn->vdev))
        net_tx(vn);
}

static void net_notify(struct virtio_dev *vdev, unsigned q)
{
    struct vnet *vn = vdev->opaque;
    if (q == Q_TX) {
        net_tx(vn);
    } else if (q == Q_RX && vn->rx_refused) {
        vn->rx_refused = false;
        if (vn->nb && vn->nb->ops->receive_ready)
            vn->nb->ops->receive_ready(vn->nb);
    }
}

static void net_driver_ok(struct virtio_dev *vdev)
{
    struct vnet *vn = vdev->opaque;
    vn->rx_refused = false;
    if (vn->nb && vn->nb->ops->receive_ready)
        vn->nb->ops->receive_ready(vn->nb);
}

static void net_reset(struct virtio_dev *vdev)
{
    struct vnet *vn = vdev->opaque;
    vn->rx_refused = true; /* until the driver is back */
}

/* The backend's thread delivers frames into RAM and raises our line:
 * closing the backend joins it. */
static void net_stop(struct virtio_dev *vdev)
{
    struct vnet *vn = vdev->opaque;
    if (vn && vn->nb) {
        net_backend_close(vn->nb);
        vn->nb = NULL;
    }
}

static void net_destroy(struct virtio_dev *vdev)
{
    struct vnet *vn = vdev->opaque;
    if (!vn)
        return;
    net_stop(vdev);
    if (vn->trace)
        fclose(vn->trace);
    free(vn);
    vdev->opaque = NULL;
}

#define MAX_BACKEND_STATE (4u << 20)

/* The device's own fields (versioned), then the backend's state
 * (libslirp's), so that a restored or migrated guest keeps its DHCP lease
 * and what else the backend can carry. */
static void net_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vnet *vn = vdev->opaque;
    state_put_u32(w, NET_STATE_VERSION);
    state_put_u64(w, vn->tx_dropped);
    state_put_u64(w, vn->rx_dropped);
    uint8_t *blob = NULL;
    size_t len = 0;
    if (vn->nb && vn->nb->ops->save_state && vn->nb->ops->save_state(vn->nb, &blob, &len) &&
        len <= MAX_BACKEND_STATE) {
        state_put_u8(w, 1);
        state_put_u32(w, (uint32_t)len);
        state_put_bytes(w, blob, len);
    } else {
        state_put_u8(w, 0);
    }
    free(blob);
}

static bool net_load(struct virtio_dev *vdev, struct state_reader *r)
{
    struct vnet *vn = vdev->opaque;
    /* A wirt before NET_STATE_VERSION saved nothing of its own. */
    if (r->pos == r->section_end)
        return true;
    uint32_t version = state_get_u32(r);
    if (version != NET_STATE_VERSION) {
        log_error("virtio-net: saved state version %u, this wirt reads %u", version,
                  NET_STATE_VERSION);
        return false;
    }
    uint64_t txd = state_get_u64(r), rxd = state_get_u64(r);
    if (!state_reader_ok(r))
        return false;
    vn->tx_dropped = txd;
    vn->rx_dropped = rxd;
    if (!state_get_u8(r))
        return state_reader_ok(r);
    uint32_t len = state_get_u32(r);
    if (!state_reader_ok(r) || len > MAX_BACKEND_STATE || len > r->section_end - r->pos)
        return false;
    const uint8_t *blob = r->buf + r->pos; /* read in place */
    r->pos += len;
    if (!vn->nb || !vn->nb->ops->load_state)
        return true; /* another backend: it starts afresh */
    char err[256];
    if (!vn->nb->ops->load_state(vn->nb, blob, len, err, sizeof(err))) {
        log_warn("virtio-net: %s", err);
        return false;
    }
    return true;
}

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .save = net_save,
    .load = net_load,
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = QUEUE_SIZE,
    .queue_notify = net_notify,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
    .added_features = NET_ADDED_FEATURES,
    .stop = net_stop,
    .destroy = net_destroy,
};

struct virtio_dev *virtio_net_create(struct bus *bus, struct irq_line irq, struct net_backend *nb)
{
    struct vnet *vn = calloc(1, sizeof(*vn));
    if (!vn)
        return NULL;
    uint64_t features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                        (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                        (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                        (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
                        (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_MRG_RXBUF);
    /* Config: mac[6], le16 status, le16 max_virtqueue_pairs. */
    struct virtio_dev *vdev = virtio_mmio_new(&net_ops, vn, bus, irq, features, 10);
    if (!vdev) {
        free(vn);
        return NULL;
    }
    vn->vdev = vdev;
    vn->nb = nb;
    vn->trace = net_trace_open();
    vn->rx_refused = true;
    memcpy(vdev->config, nb->mac, 6);
    uint16_t st = htole16(VIRTIO_NET_S_LINK_UP), pairs = htole16(1);
    memcpy(vdev->config + 6, &st, 2);
    memcpy(vdev->config + 8, &pairs, 2);
    nb->receive = net_receive;
    nb->receive_meta = net_receive_meta;
    nb->can_receive = net_can_receive;
    nb->tx_ready = net_tx_ready;
    nb->opaque = vn;
    return vdev;
}

bool virtio_net_is(const struct virtio_dev *vdev)
{
    return vdev && vdev->ops == &net_ops;
}

void virtio_net_get_stats(struct virtio_dev *vdev, struct virtio_net_stats *st)
{
    struct vnet *vn = vdev->opaque;
    st->rx_frames = __atomic_load_n(&vn->rx_frames, __ATOMIC_RELAXED);
    st->rx_bytes = __atomic_load_n(&vn->rx_bytes, __ATOMIC_RELAXED);
    st->tx_frames = __atomic_load_n(&vn->tx_frames, __ATOMIC_RELAXED);
    st->tx_bytes = __atomic_load_n(&vn->tx_bytes, __ATOMIC_RELAXED);
    st->rate = net_rate_of(vn->nb);
    st->throttled_ns = net_throttled_ns(vn->nb);
}

bool virtio_net_set_rate(struct virtio_dev *vdev, uint64_t rate)
{
    struct vnet *vn = vdev->opaque;
    return net_rate_set(vn->nb, rate);
}
