/* SPDX-License-Identifier: MIT */
/*
 * Named channels between host programs and guest programs: a second
 * virtio-console device with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.x,
 * "Console Device", multiport operation), whose ports are announced with
 * names (PORT_NAME) and are never consoles.  Linux shows each port as
 * /dev/vportNpM with /sys/class/virtio-ports/vportNpM/name; udev links
 * /dev/virtio-ports/NAME.  The guest agent's port is
 * "org.qemu.guest_agent.0", the name qemu-guest-agent looks for.
 *
 * The host side (vmm/channels.c) gets what the guest writes through
 * ops->output, feeds what it has for the guest through
 * virtio_channels_input(), and hears when the guest opens or closes a
 * port.  Towards the guest every port's host end is always open: with the
 * host end closed Linux returns end-of-file from read(), which would make
 * an agent loop on reads; output nobody listens to is dropped by the host
 * side instead.
 *
 * Queues: 0/1 port 0 receive/transmit, 2/3 control receive/transmit,
 * then 4/5 port 1, 6/7 port 2.  Everything runs under the I/O lock.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define VIRTIO_CONSOLE_F_MULTIPORT 1

enum {
    CTRL_DEVICE_READY = 0,
    CTRL_DEVICE_ADD = 1,
    CTRL_DEVICE_REMOVE = 2,
    CTRL_PORT_READY = 3,
    CTRL_CONSOLE_PORT = 4,
    CTRL_RESIZE = 5,
    CTRL_PORT_OPEN = 6,
    CTRL_PORT_NAME = 7,
};

#define Q_CTRL_RX  2
#define Q_CTRL_TX  3
#define NUM_QUEUES (2 * (VIRTIO_CHANNELS_MAX + 1))
#define CTRL_HDR   8 /* le32 id, le16 event, le16 value */

/* Control messages for the driver wait here until it posts buffers in
 * the control receiveq.  The device creates at most three per port per
 * driver handshake, so a driver that never posts buffers fills this and
 * the rest is dropped, not queued without end. */
#define CTRL_PENDING_MAX 16

#define STATE_VERSION 1

struct ctrl_msg {
    uint16_t len;
    uint8_t buf[CTRL_HDR + VIRTIO_CHANNEL_NAME_MAX];
};

struct chan_port {
    char name[VIRTIO_CHANNEL_NAME_MAX + 1];
    bool added;      /* DEVICE_ADD sent */
    bool ready;      /* the driver answered PORT_READY with success */
    bool guest_open; /* a guest program has the port open */
};

struct vchan {
    const struct virtio_channel_ops *ops;
    void *opaque;
    unsigned nports;
    struct chan_port port[VIRTIO_CHANNELS_MAX];
    bool driver_ready;
    struct ctrl_msg pending[CTRL_PENDING_MAX];
    unsigned npending;
};

static unsigned rx_queue(unsigned port)
{
    return port == 0 ? 0 : 2 + 2 * port;
}

/* The port a data queue belongs to, or -1 for the control queues. */
static int queue_port(unsigned q)
{
    if (q == Q_CTRL_RX || q == Q_CTRL_TX)
        return -1;
    return q < 2 ? 0 : (int)(q - 2) / 2;
}

static void flush_ctrl(struct virtio_dev *vdev)
{
    struct vchan *vc = vdev->opaque;
    struct virtq *vq = &vdev->vq[Q_CTRL_RX];
    bool pushed = false;
    unsigned sent = 0;
    while (sent < vc->npending) {
        struct virtq_elem *e;
        if (virtq_pop(vq, &e) <= 0)
            break;
        struct ctrl_msg *m = &vc->pending[sent];
        size_t n = virtq_elem_write(vdev->bus, e, 0, m->buf, m->len);
        virtq_push(vq, e, (uint32_t)n);
        free(e);
        pushed = true;
        sent++;
    }
    if (sent) {
        memmove(vc->pending, vc->pending + sent, (vc->npending - sent) * sizeof(vc->pending[0]));
        vc->npending -= sent;
    }
    if (pushed)
        virtq_notify(vq);
}

static void send_ctrl(struct virtio_dev *vdev, unsigned id, uint16_t event, uint16_t value,
                      const char *extra)
{
    struct vchan *vc = vdev->opaque;
    if (vc->npending == CTRL_PENDING_MAX) {
        log_warn_ratelimited("virtio-channels: the driver posts no control buffers; "
                             "dropping a control message");
        return;
    }
    struct ctrl_msg *m = &vc->pending[vc->npending++];
    uint32_t id_le = htole32(id);
    uint16_t ev_le = htole16(event), val_le = htole16(value);
    memcpy(m->buf, &id_le, 4);
    memcpy(m->buf + 4, &ev_le, 2);
    memcpy(m->buf + 6, &val_le, 2);
    size_t n = extra ? strlen(extra) : 0;
    memcpy(m->buf + CTRL_HDR, extra ? extra : "", n);
    m->len = (uint16_t)(CTRL_HDR + n);
    flush_ctrl(vdev);
}

static void set_guest_open(struct vchan *vc, unsigned id, bool open)
{
    if (vc->port[id].guest_open == open)
        return;
    vc->port[id].guest_open = open;
    if (vc->ops->guest_open)
        vc->ops->guest_open(vc->opaque, id, open);
}

static void handle_ctrl(struct virtio_dev *vdev, const uint8_t *msg)
{
    struct vchan *vc = vdev->opaque;
    uint32_t id;
    uint16_t event, value;
    memcpy(&id, msg, 4);
    memcpy(&event, msg + 4, 2);
    memcpy(&value, msg + 6, 2);
    id = le32toh(id);
    event = le16toh(event);
    value = le16toh(value);
    if (event == CTRL_DEVICE_READY) {
        if (!value) {
            log_warn_ratelimited("virtio-channels: the driver failed to initialise");
            return;
        }
        vc->driver_ready = true;
        /* Each port once: the spec forbids adding a port that exists. */
        for (unsigned i = 0; i < vc->nports; i++)
            if (!vc->port[i].added) {
                vc->port[i].added = true;
                send_ctrl(vdev, i, CTRL_DEVICE_ADD, 0, NULL);
            }
        return;
    }
    if (id >= vc->nports || !vc->port[id].added) {
        log_warn_ratelimited("virtio-channels: control message %u for port %u, which does not "
                             "exist",
                             (unsigned)event, (unsigned)id);
        return;
    }
    struct chan_port *p = &vc->port[id];
    switch (event) {
    case CTRL_PORT_READY:
        if (!value) {
            log_warn_ratelimited("virtio-channels: the driver could not set up port %s", p->name);
        } else if (!p->ready) {
            p->ready = true;
            send_ctrl(vdev, id, CTRL_PORT_NAME, 0, p->name);
            send_ctrl(vdev, id, CTRL_PORT_OPEN, 1, NULL);
        }
        break;
    case CTRL_PORT_OPEN:
        set_guest_open(vc, id, value != 0);
        break;
    default:
        log_warn_ratelimited("virtio-channels: unexpected control message %u from the driver",
                             (unsigned)event);
    }
}

/* Takes what the guest queued on a transmit queue (port -1: control).  A
 * port whose host end is full (ops->output_full) is left alone: its
 * buffers stay in the ring, the guest's writer waits, and
 * virtio_channels_output_resume goes on once the host end drains. */
static void drain_tx(struct virtio_dev *vdev, unsigned q, int port)
{
    struct vchan *vc = vdev->opaque;
    struct virtq *vq = &vdev->vq[q];
    bool data = port >= 0 && (unsigned)port < vc->nports;
    bool pushed = false;
    struct virtq_elem *e;
    unsigned taken = 0;
    while (!(data && vc->port[port].ready && vc->ops->output_full &&
             vc->ops->output_full(vc->opaque, (unsigned)port)) &&
           virtq_pop_limited(vq, &e, &taken) > 0) {
        if (q == Q_CTRL_TX) {
            uint8_t msg[CTRL_HDR];
            if (virtq_elem_read(e, 0, msg, sizeof(msg)) == sizeof(msg))
                handle_ctrl(vdev, msg);
            else
                log_warn_ratelimited("virtio-channels: a control message shorter than %d bytes",
                                     CTRL_HDR);
        } else if (data && vc->port[port].ready) {
            for (unsigned i = 0; i < e->nout; i++)
                vc->ops->output(vc->opaque, (unsigned)port, e->seg[i].host, e->seg[i].len);
        }
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static void channels_notify(struct virtio_dev *vdev, unsigned q)
{
    struct vchan *vc = vdev->opaque;
    if (q == Q_CTRL_RX) {
        flush_ctrl(vdev);
        return;
    }
    int port = queue_port(q);
    if (port >= 0 && q == rx_queue((unsigned)port)) {
        /* New receive buffers: the host side may have input waiting. */
        if ((unsigned)port < vc->nports && vc->ops->input_ready)
            vc->ops->input_ready(vc->opaque, (unsigned)port);
        return;
    }
    drain_tx(vdev, q, port);
}

size_t virtio_channels_input(struct virtio_dev *vdev, unsigned port, const uint8_t *buf, size_t len)
{
    struct vchan *vc = vdev->opaque;
    if (!virtio_driver_ok(vdev) || port >= vc->nports || !vc->port[port].ready)
        return 0;
    struct virtq *vq = &vdev->vq[rx_queue(port)];
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

void virtio_channels_output_resume(struct virtio_dev *vdev, unsigned port)
{
    struct vchan *vc = vdev->opaque;
    if (virtio_driver_ok(vdev) && port < vc->nports)
        drain_tx(vdev, rx_queue(port) + 1, (int)port);
}

bool virtio_channels_guest_open(struct virtio_dev *vdev, unsigned port)
{
    struct vchan *vc = vdev->opaque;
    return port < vc->nports && vc->port[port].guest_open;
}

static void channels_reset(struct virtio_dev *vdev)
{
    struct vchan *vc = vdev->opaque;
    for (unsigned i = 0; i < vc->nports; i++) {
        set_guest_open(vc, i, false);
        vc->port[i].added = vc->port[i].ready = false;
    }
    vc->driver_ready = false;
    vc->npending = 0;
}

static void channels_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vchan *vc = vdev->opaque;
    state_put_u32(w, STATE_VERSION);
    state_put_u32(w, vc->nports);
    state_put_u8(w, vc->driver_ready);
    for (unsigned i = 0; i < vc->nports; i++) {
        state_put_u8(w, vc->port[i].added);
        state_put_u8(w, vc->port[i].ready);
        state_put_u8(w, vc->port[i].guest_open);
    }
    state_put_u32(w, vc->npending);
    for (unsigned i = 0; i < vc->npending; i++) {
        state_put_u16(w, vc->pending[i].len);
        state_put_bytes(w, vc->pending[i].buf, vc->pending[i].len);
    }
}

static bool channels_load(struct virtio_dev *vdev, struct state_reader *r)
{
    struct vchan *vc = vdev->opaque;
    struct vchan tmp = *vc;
    if (state_get_u32(r) != STATE_VERSION || state_get_u32(r) != vc->nports)
        return false;
    tmp.driver_ready = state_get_u8(r) != 0;
    for (unsigned i = 0; i < vc->nports; i++) {
        tmp.port[i].added = state_get_u8(r) != 0;
        tmp.port[i].ready = state_get_u8(r) != 0;
        tmp.port[i].guest_open = state_get_u8(r) != 0;
    }
    tmp.npending = state_get_u32(r);
    if (!state_reader_ok(r) || tmp.npending > CTRL_PENDING_MAX)
        return false;
    for (unsigned i = 0; i < tmp.npending; i++) {
        tmp.pending[i].len = state_get_u16(r);
        if (tmp.pending[i].len < CTRL_HDR || tmp.pending[i].len > sizeof(tmp.pending[i].buf))
            return false;
        state_get_bytes(r, tmp.pending[i].buf, tmp.pending[i].len);
    }
    if (!state_reader_ok(r))
        return false;
    /* The names are the host's configuration, not the stream's. */
    *vc = tmp;
    /* Buffers a full host end left in a ring wait for no guest kick. */
    if (vc->ops->loaded)
        vc->ops->loaded(vc->opaque);
    return true;
}

static void channels_destroy(struct virtio_dev *vdev)
{
    free(vdev->opaque);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops channels_ops = {
    .name = "virtio-channels",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = NUM_QUEUES,
    .queue_max = 64,
    .queue_notify = channels_notify,
    .reset = channels_reset,
    .save = channels_save,
    .load = channels_load,
    .destroy = channels_destroy,
};

bool virtio_channel_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > VIRTIO_CHANNEL_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    return true;
}

struct virtio_dev *virtio_channels_create(struct bus *bus, struct irq_line irq,
                                          const char *const *names, unsigned nports,
                                          const struct virtio_channel_ops *ops, void *opaque)
{
    if (nports == 0 || nports > VIRTIO_CHANNELS_MAX || !ops || !ops->output)
        return NULL;
    struct vchan *vc = calloc(1, sizeof(*vc));
    if (!vc)
        return NULL;
    for (unsigned i = 0; i < nports; i++) {
        if (!virtio_channel_name_ok(names[i])) {
            free(vc);
            return NULL;
        }
        strcpy(vc->port[i].name, names[i]);
    }
    vc->nports = nports;
    vc->ops = ops;
    vc->opaque = opaque;
    /* Config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
    struct virtio_dev *vdev =
        virtio_mmio_new(&channels_ops, vc, bus, irq, 1ull << VIRTIO_CONSOLE_F_MULTIPORT, 12);
    if (!vdev) {
        free(vc);
        return NULL;
    }
    uint32_t max = htole32(VIRTIO_CHANNELS_MAX);
    memcpy(vdev->config + 4, &max, 4);
    return vdev;
}
