/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (entropy device): one request queue whose device-writable
 * buffers are filled from the host's getrandom().
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

/* Bytes per request at most: a guest offering huge buffers gets a partial
 * fill (allowed) instead of holding the I/O lock for long. */
#define RNG_MAX_FILL (64u * 1024)

static void rng_notify(struct virtio_dev *vdev, unsigned q)
{
    struct virtq *vq = &vdev->vq[q];
    bool pushed = false;
    struct virtq_elem *e;
    unsigned taken = 0;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        uint32_t written = 0;
        for (unsigned i = e->nout; i < e->nout + e->nin && written < RNG_MAX_FILL; i++) {
            struct virtq_seg *s = &e->seg[i];
            uint32_t want = s->len < RNG_MAX_FILL - written ? s->len : RNG_MAX_FILL - written;
            uint32_t done = 0;
            while (done < want) {
                ssize_t n = getrandom(s->host + done, want - done, GRND_NONBLOCK);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR)
                        continue;
                    break;
                }
                done += (uint32_t)n;
            }
            bus_ram_written(vdev->bus, s->gpa, done);
            written += done;
            if (done < want)
                break;
        }
        virtq_push(vq, e, written);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max = 64,
    .queue_notify = rng_notify,
};

struct virtio_dev *virtio_rng_create(struct bus *bus, struct irq_line irq)
{
    return virtio_mmio_new(&rng_ops, NULL, bus, irq, 0, 0);
}
