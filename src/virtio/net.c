/* SPDX-License-Identifier: MIT */
/*
 * virtio-net: one receive and one transmit queue over a net backend.
 *
 * Every frame carries the 12-byte virtio 1.x header.  The only offloads
 * are checksums: the guest may leave a TCP/UDP checksum for us to fill in
 * (CSUM: we compute it before the frame leaves), and we tell it received
 * frames need no verification (GUEST_CSUM: our backends deliver frames
 * with correct checksums).  Checksumming is costly for an emulated CPU and
 * cheap here.  No segmentation offloads, so frames fit the MTU.  Everything here runs with
 * the I/O lock held: TX from the hart's QueueNotify, RX from the backend.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_S_LINK_UP        1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2

#define NET_HDR_LEN 12
#define Q_RX        0
#define Q_TX        1
#define QUEUE_SIZE  256
/* Without GSO a frame is at most 1514 bytes (+4 for a VLAN tag); leave
 * room for jumbo frames from a TAP anyway. */
#define MAX_FRAME 65536

struct vnet {
    struct virtio_dev *vdev;
    struct net_backend *nb;
    bool rx_refused; /* we told the backend to hold off */
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

/* Fills in the checksum the guest left to us: the one's complement sum of
 * everything from csum_start (the guest seeded the field with the
 * pseudo-header sum), stored at csum_start + csum_offset. */
static void fill_checksum(uint8_t *frame, size_t len, const uint8_t *hdr)
{
    uint16_t start, offset;
    memcpy(&start, hdr + 6, 2);
    memcpy(&offset, hdr + 8, 2);
    start = le16toh(start);
    offset = le16toh(offset);
    if (start >= len || len - start < 2 || offset > len - start - 2)
        return; /* nonsense from the guest: send the frame as it is */
    uint32_t sum = 0;
    size_t i = start;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)frame[i] << 8 | frame[i + 1];
    if (i < len)
        sum += (uint32_t)frame[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    frame[start + offset] = (uint8_t)(c >> 8);
    frame[start + offset + 1] = (uint8_t)c;
}

static void net_tx(struct vnet *vn)
{
    struct virtio_dev *vdev = vn->vdev;
    struct virtq *vq = &vdev->vq[Q_TX];
    bool pushed = false;
    struct virtq_elem *e;
    while (virtq_pop(vq, &e) > 0) {
        if (e->out_len > NET_HDR_LEN && e->out_len - NET_HDR_LEN <= MAX_FRAME) {
            size_t n = virtq_elem_read(e, NET_HDR_LEN, vn->frame, e->out_len - NET_HDR_LEN);
            uint8_t hdr[NET_HDR_LEN];
            virtq_elem_read(e, 0, hdr, NET_HDR_LEN);
            if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
                virtio_has_feature(vdev, VIRTIO_NET_F_CSUM))
                fill_checksum(vn->frame, n, hdr);
            if (vn->nb && vn->nb->ops->send)
                vn->nb->ops->send(vn->nb, vn->frame, n);
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

static void net_destroy(struct virtio_dev *vdev)
{
    struct vnet *vn = vdev->opaque;
    if (!vn)
        return;
    if (vn->nb)
        net_backend_close(vn->nb);
    free(vn);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = QUEUE_SIZE,
    .queue_notify = net_notify,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
    .destroy = net_destroy,
};

struct virtio_dev *virtio_net_create(struct bus *bus, struct irq_line irq, struct net_backend *nb)
{
    struct vnet *vn = calloc(1, sizeof(*vn));
    if (!vn)
        return NULL;
    uint64_t features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                        (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM);
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
