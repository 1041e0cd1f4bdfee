/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio 1.x, "Input Device"): a keyboard or a tablet (an
 * absolute pointer with three buttons and a wheel), fed by the VM's
 * display viewers.  The driver learns what the device is through the
 * config space: it writes select/subsel and reads the answer (a name, ids,
 * the bitmap of event codes of a type, an axis' range).
 *
 * Queues: 0 events (device-writable 8-byte buffers the device fills with
 * evdev events), 1 status (LED changes from the driver, dropped).  Events
 * wait in a bounded ring until the driver posts buffers; when the ring is
 * full, new input is dropped whole (never half an event group), so a
 * guest that posts no buffers costs the host INPUT_RING events at most.
 * Everything runs under the I/O lock.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

enum { Q_EVENT, Q_STATUS, NQ };

#define STATE_VERSION 1
#define INPUT_RING    1024 /* events waiting for guest buffers, at most */

enum {
    CFG_UNSET = 0x00,
    CFG_ID_NAME = 0x01,
    CFG_ID_SERIAL = 0x02,
    CFG_ID_DEVIDS = 0x03,
    CFG_PROP_BITS = 0x10,
    CFG_EV_BITS = 0x11,
    CFG_ABS_INFO = 0x12,
};
#define CFG_SIZE  136 /* select, subsel, size, 5 reserved, 128 bytes of union */
#define CFG_UNION 8

/* evdev codes (linux/input-event-codes.h). */
#define EV_KEY       0x01
#define EV_REL       0x02
#define EV_ABS       0x03
#define BTN_LEFT     0x110
#define BTN_RIGHT    0x111
#define BTN_MIDDLE   0x112
#define REL_WHEEL    0x08
#define ABS_X        0x00
#define ABS_Y        0x01
#define KEY_MAX_SENT 0xff /* the keyboard's codes: KEY_ESC .. 255 */
#define BUS_VIRTUAL  0x06

struct vinput {
    enum virtio_input_kind kind;
    struct virtio_input_event ring[INPUT_RING];
    unsigned head, count;
    uint64_t dropped;
};

static void set_bit(uint8_t *map, unsigned bit)
{
    map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* Fills the union for the driver's select/subsel; size 0 = no answer. */
static void answer(struct virtio_dev *vdev)
{
    struct vinput *vi = vdev->opaque;
    uint8_t sel = vdev->config[0], sub = vdev->config[1];
    uint8_t *u = vdev->config + CFG_UNION;
    unsigned size = 0;
    memset(u, 0, 128);
    bool kbd = vi->kind == VIRTIO_INPUT_KEYBOARD;
    switch (sel) {
    case CFG_ID_NAME: {
        const char *name = kbd ? "wirt keyboard" : "wirt tablet";
        size = (unsigned)strlen(name);
        memcpy(u, name, size);
        break;
    }
    case CFG_ID_DEVIDS: {
        uint16_t ids[4] = {htole16(BUS_VIRTUAL), htole16(0x0627), htole16(kbd ? 1 : 3), htole16(1)};
        memcpy(u, ids, sizeof(ids));
        size = sizeof(ids);
        break;
    }
    case CFG_EV_BITS:
        if (sub == EV_KEY && kbd) {
            for (unsigned k = 1; k <= KEY_MAX_SENT; k++)
                set_bit(u, k);
            size = (KEY_MAX_SENT + 8) / 8;
        } else if (sub == EV_KEY) {
            set_bit(u, BTN_LEFT);
            set_bit(u, BTN_RIGHT);
            set_bit(u, BTN_MIDDLE);
            size = BTN_MIDDLE / 8 + 1;
        } else if (sub == EV_ABS && !kbd) {
            set_bit(u, ABS_X);
            set_bit(u, ABS_Y);
            size = 1;
        } else if (sub == EV_REL && !kbd) {
            set_bit(u, REL_WHEEL);
            size = 2;
        }
        break;
    case CFG_ABS_INFO:
        if (!kbd && (sub == ABS_X || sub == ABS_Y)) {
            /* le32 min, max, fuzz, flat, res */
            uint32_t info[5] = {0, htole32(VIRTIO_INPUT_ABS_MAX), 0, 0, 0};
            memcpy(u, info, sizeof(info));
            size = sizeof(info);
        }
        break;
    default: /* UNSET, ID_SERIAL, PROP_BITS: nothing to say */
        break;
    }
    vdev->config[2] = (uint8_t)size;
}

static void input_config_write(struct virtio_dev *vdev, uint32_t offset, unsigned size,
                               uint32_t value)
{
    /* select and subsel are the driver's; a wider write covering both
     * sets both. */
    for (unsigned i = 0; i < size; i++)
        if (offset + i <= 1)
            vdev->config[offset + i] = (uint8_t)(value >> (8 * i));
    if (offset <= 1)
        answer(vdev);
}

/* Hands waiting events to the guest's buffers. */
static void deliver(struct virtio_dev *vdev)
{
    struct vinput *vi = vdev->opaque;
    struct virtq *vq = &vdev->vq[Q_EVENT];
    if (!virtio_driver_ok(vdev) || !vq->ready)
        return;
    bool pushed = false;
    unsigned taken = 0;
    struct virtq_elem *e;
    while (vi->count && virtq_pop_limited(vq, &e, &taken) > 0) {
        const struct virtio_input_event *ev = &vi->ring[vi->head];
        uint8_t b[8];
        uint16_t t = htole16(ev->type), c = htole16(ev->code);
        uint32_t v = htole32(ev->value);
        memcpy(b, &t, 2);
        memcpy(b + 2, &c, 2);
        memcpy(b + 4, &v, 4);
        size_t n = virtq_elem_write(vdev->bus, e, 0, b, sizeof(b));
        virtq_push(vq, e, (uint32_t)n);
        free(e);
        pushed = true;
        vi->head = (vi->head + 1) % INPUT_RING;
        vi->count--;
    }
    if (pushed)
        virtq_notify(vq);
}

static void input_notify(struct virtio_dev *vdev, unsigned q)
{
    if (q == Q_EVENT) {
        deliver(vdev);
        return;
    }
    /* Status (LEDs): taken and dropped. */
    struct virtq *vq = &vdev->vq[q];
    struct virtq_elem *e;
    unsigned taken = 0;
    bool pushed = false;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

bool virtio_input_send(struct virtio_dev *vdev, const struct virtio_input_event *ev, unsigned n)
{
    struct vinput *vi = vdev->opaque;
    if (!virtio_driver_ok(vdev))
        return false; /* no driver: input goes nowhere, as on hardware */
    if (n > INPUT_RING - vi->count) {
        vi->dropped += n;
        log_warn_ratelimited("virtio-input: the guest takes no events; input dropped");
        return false;
    }
    for (unsigned i = 0; i < n; i++)
        vi->ring[(vi->head + vi->count + i) % INPUT_RING] = ev[i];
    vi->count += n;
    deliver(vdev);
    return true;
}

static void input_driver_ok(struct virtio_dev *vdev)
{
    deliver(vdev);
}

static void input_reset(struct virtio_dev *vdev)
{
    struct vinput *vi = vdev->opaque;
    vi->head = vi->count = 0;
    vdev->config[0] = vdev->config[1] = 0;
    answer(vdev);
}

static void input_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vinput *vi = vdev->opaque;
    state_put_u32(w, STATE_VERSION);
    state_put_u32(w, vi->kind);
    state_put_u32(w, vi->count);
    for (unsigned i = 0; i < vi->count; i++) {
        const struct virtio_input_event *ev = &vi->ring[(vi->head + i) % INPUT_RING];
        state_put_u16(w, ev->type);
        state_put_u16(w, ev->code);
        state_put_u32(w, ev->value);
    }
}

static bool input_load(struct virtio_dev *vdev, struct state_reader *r)
{
    struct vinput *vi = vdev->opaque;
    if (state_get_u32(r) != STATE_VERSION || state_get_u32(r) != vi->kind)
        return false;
    uint32_t n = state_get_u32(r);
    if (!state_reader_ok(r) || n > INPUT_RING)
        return false;
    for (unsigned i = 0; i < n; i++) {
        vi->ring[i].type = state_get_u16(r);
        vi->ring[i].code = state_get_u16(r);
        vi->ring[i].value = state_get_u32(r);
    }
    if (!state_reader_ok(r))
        return false;
    vi->head = 0;
    vi->count = n;
    /* The transport restored select/subsel with the config bytes. */
    answer(vdev);
    return true;
}

static void input_destroy(struct virtio_dev *vdev)
{
    free(vdev->opaque);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops input_ops = {
    .name = "virtio-input",
    .device_id = VIRTIO_ID_INPUT,
    .num_queues = NQ,
    .queue_max = 64,
    .queue_notify = input_notify,
    .config_write = input_config_write,
    .driver_ok = input_driver_ok,
    .reset = input_reset,
    .save = input_save,
    .load = input_load,
    .destroy = input_destroy,
};

struct virtio_dev *virtio_input_create(struct bus *bus, struct irq_line irq,
                                       enum virtio_input_kind kind)
{
    struct vinput *vi = calloc(1, sizeof(*vi));
    if (!vi)
        return NULL;
    vi->kind = kind;
    struct virtio_dev *vdev = virtio_mmio_new(&input_ops, vi, bus, irq, 0, CFG_SIZE);
    if (!vdev)
        free(vi);
    return vdev;
}

bool virtio_input_is(const struct virtio_dev *vdev, enum virtio_input_kind kind)
{
    return vdev && vdev->ops == &input_ops && ((struct vinput *)vdev->opaque)->kind == kind;
}

uint64_t virtio_input_dropped(struct virtio_dev *vdev)
{
    return ((struct vinput *)vdev->opaque)->dropped;
}
