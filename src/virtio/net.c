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
 * src/net/offload.c does the cutting).  Nothing is offloaded towards the
 * guest, so received frames fit the MTU.  Everything here runs with the
 * I/O lock held: TX from the hart's QueueNotify, RX from the backend.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/offload.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
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

struct vnet {
    struct virtio_dev *vdev;
    struct net_backend *nb;
    bool rx_refused;     /* we told the backend to hold off */
    uint64_t tx_dropped; /* frames the guest got wrong (bad GSO metadata or headers) */
    uint8_t frame[MAX_FRAME];
};

static bool net_can_receive(void *opaque)
{
    struct vnet *vn = opaque;
    struct virtio_dev *vdev = vn->vdev;
    bool ok = virtio_driver_ok(vdev) && virtq_has_avail(&vdev->vq[Q_RX]);
    if (!ok)
        vn->rx_refused = true;
    return ok;
}

static void net_receive(void *opaque, const void *frame, size_t len)
{
    struct vnet *vn = opaque;
    struct virtio_dev *vdev = vn->vdev;
    if (!virtio_driver_ok(vdev))
        return;
    struct virtq *vq = &vdev->vq[Q_RX];
    struct virtq_elem *e;
    if (virtq_pop(vq, &e) <= 0) {
        vn->rx_refused = true;
        return; /* dropped */
    }
    uint32_t written = 0;
    if (e->in_len >= NET_HDR_LEN + len) {
        uint8_t hdr[NET_HDR_LEN] = {0};
        if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
            hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
        uint16_t nbuf = htole16(1);
        memcpy(hdr + 10, &nbuf, 2);
        virtq_elem_write(vdev->bus, e, 0, hdr, NET_HDR_LEN);
        virtq_elem_write(vdev->bus, e, NET_HDR_LEN, frame, len);
        written = (uint32_t)(NET_HDR_LEN + len);
    }
    /* A buffer too small for the frame goes back empty; the driver counts
     * it as an error and the frame is lost (like a wire would). */
    virtq_push(vq, e, written);
    free(e);
    virtq_notify(vq);
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
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        if (e->out_len > NET_HDR_LEN && e->out_len - NET_HDR_LEN <= MAX_FRAME) {
            size_t n = virtq_elem_read(e, NET_HDR_LEN, vn->frame, e->out_len - NET_HDR_LEN);
            uint8_t hdr[NET_HDR_LEN];
            virtq_elem_read(e, 0, hdr, NET_HDR_LEN);
            if (vn->nb && vn->nb->ops->send)
                tx_frame(vn, hdr, vn->frame, n);
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
    free(vn);
    vdev->opaque = NULL;
}

/* After the transport: the backend's own state (libslirp's), so that a
 * restored or migrated guest keeps its DHCP lease and what else the
 * backend can carry.  A state without it (older) loads with a fresh
 * backend state. */
#define MAX_BACKEND_STATE (4u << 20)

static void net_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vnet *vn = vdev->opaque;
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
    if (r->in_section && r->pos == r->section_end)
        return true; /* saved before backends had state */
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
                        (1ull << VIRTIO_NET_F_HOST_ECN);
    /* Config: mac[6], le16 status, le16 max_virtqueue_pairs. */
    struct virtio_dev *vdev = virtio_mmio_new(&net_ops, vn, bus, irq, features, 10);
    if (!vdev) {
        free(vn);
        return NULL;
    }
    vn->vdev = vdev;
    vn->nb = nb;
    vn->rx_refused = true;
    memcpy(vdev->config, nb->mac, 6);
    uint16_t st = htole16(VIRTIO_NET_S_LINK_UP), pairs = htole16(1);
    memcpy(vdev->config + 6, &st, 2);
    memcpy(vdev->config + 8, &pairs, 2);
    nb->receive = net_receive;
    nb->can_receive = net_can_receive;
    nb->opaque = vn;
    return vdev;
}
