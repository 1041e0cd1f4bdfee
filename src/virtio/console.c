/* SPDX-License-Identifier: MIT */
/*
 * virtio-console with a single port (no MULTIPORT): queue 0 carries input
 * to the guest, queue 1 the guest's output, which goes to a callback.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define VIRTIO_CONSOLE_F_SIZE 0

#define Q_RX 0
#define Q_TX 1

struct vcons {
    void (*tx)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

static void console_notify(struct virtio_dev *vdev, unsigned q)
{
    struct vcons *vc = vdev->opaque;
    if (q != Q_TX)
        return; /* new input buffers: nothing is waiting for them */
    struct virtq *vq = &vdev->vq[Q_TX];
    bool pushed = false;
    struct virtq_elem *e;
    unsigned taken = 0;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        for (unsigned i = 0; i < e->nout; i++)
            if (vc->tx)
                vc->tx(vc->opaque, e->seg[i].host, e->seg[i].len);
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

size_t virtio_console_input(struct virtio_dev *vdev, const uint8_t *buf, size_t len)
{
    if (!virtio_driver_ok(vdev))
        return 0;
    struct virtq *vq = &vdev->vq[Q_RX];
    size_t done = 0;
    bool pushed = false;
    while (done < len) {
        struct virtq_elem *e;
        if (virtq_pop(vq, &e) <= 0)
            break;
        size_t n = virtq_elem_write(vdev->bus, e, 0, buf + done, len - done);
        virtq_push(vq, e, (uint32_t)n);
        free(e);
        pushed = true;
        done += n;
        if (n == 0)
            break; /* a buffer with no writable space: stop, do not spin */
    }
    if (pushed)
        virtq_notify(vq);
    return done;
}

static void console_destroy(struct virtio_dev *vdev)
{
    free(vdev->opaque);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops console_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max = 128,
    .queue_notify = console_notify,
    .destroy = console_destroy,
};

struct virtio_dev *virtio_console_create(struct bus *bus, struct irq_line irq,
                                         void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                                         void *opaque)
{
    struct vcons *vc = calloc(1, sizeof(*vc));
    if (!vc)
        return NULL;
    vc->tx = tx;
    vc->opaque = opaque;
    /* Config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr.
     * Without SIZE and MULTIPORT the driver reads none of it. */
    struct virtio_dev *vdev = virtio_mmio_new(&console_ops, vc, bus, irq, 0, 12);
    if (!vdev) {
        free(vc);
        return NULL;
    }
    uint32_t ports = htole32(1);
    memcpy(vdev->config + 4, &ports, 4);
    return vdev;
}
