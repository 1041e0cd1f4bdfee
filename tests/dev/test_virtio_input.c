/* SPDX-License-Identifier: MIT */
/*
 * virtio-input without a guest: the config space answers select/subsel
 * (name, ids, event bitmaps, axis ranges, nothing for unknown selects),
 * events wait for the driver's buffers and arrive in order, the waiting
 * queue is bounded (a guest that takes nothing costs a fixed amount and
 * whole groups are dropped), and the queue survives save/load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "state/state.h"
#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

#define CFG 0x100

static struct harness *make(enum virtio_input_kind kind)
{
    struct harness *h = calloc(1, sizeof(*h));
    assert_true(h_init(h));
    h->vdev = virtio_input_create(&h->bus, h_irq(h), kind);
    assert_non_null(h->vdev);
    assert_int_equal(h_rd(h, 0x008), 18);
    return h;
}

static void drop(struct harness *h)
{
    assert_int_equal(h->bad_writes, 0);
    h_destroy(h);
    free(h);
}

static uint8_t cfg8(struct harness *h, unsigned off)
{
    pthread_mutex_lock(&h->bus.io_lock);
    uint8_t v = (uint8_t)virtio_mmio_dev_ops.read(h->vdev, CFG + off, 1);
    pthread_mutex_unlock(&h->bus.io_lock);
    return v;
}

static void select_cfg(struct harness *h, uint8_t sel, uint8_t sub)
{
    pthread_mutex_lock(&h->bus.io_lock);
    virtio_mmio_dev_ops.write(h->vdev, CFG, 1, sel);
    virtio_mmio_dev_ops.write(h->vdev, CFG + 1, 1, sub);
    pthread_mutex_unlock(&h->bus.io_lock);
}

static bool bit(struct harness *h, unsigned b)
{
    return b / 8 < cfg8(h, 2) && (cfg8(h, 8 + b / 8) >> (b % 8)) & 1;
}

static void test_config(void **state)
{
    (void)state;
    struct harness *k = make(VIRTIO_INPUT_KEYBOARD), *t = make(VIRTIO_INPUT_TABLET);
    select_cfg(k, 1, 0); /* ID_NAME */
    char name[32] = {0};
    for (unsigned i = 0; i < cfg8(k, 2); i++)
        name[i] = (char)cfg8(k, 8 + i);
    assert_string_equal(name, "wirt keyboard");
    select_cfg(k, 0x11, 1);                             /* EV_BITS, EV_KEY */
    assert_true(bit(k, 30) && bit(k, 28) && bit(k, 1)); /* A, ENTER, ESC */
    assert_false(bit(k, 0x110));                        /* no mouse button */
    select_cfg(k, 0x11, 3);                             /* EV_ABS: none */
    assert_int_equal(cfg8(k, 2), 0);
    select_cfg(t, 0x11, 3);
    assert_true(bit(t, 0) && bit(t, 1));
    select_cfg(t, 0x11, 1);
    assert_true(bit(t, 0x110) && bit(t, 0x111) && bit(t, 0x112));
    assert_false(bit(t, 30));
    select_cfg(t, 0x11, 2); /* EV_REL: the wheel */
    assert_true(bit(t, 8));
    select_cfg(t, 0x12, 0); /* ABS_INFO x */
    assert_int_equal(cfg8(t, 2), 20);
    uint32_t max = cfg8(t, 12) | cfg8(t, 13) << 8 | (uint32_t)cfg8(t, 14) << 16;
    assert_int_equal(max, VIRTIO_INPUT_ABS_MAX);
    select_cfg(t, 0x12, 5); /* an axis it has not */
    assert_int_equal(cfg8(t, 2), 0);
    select_cfg(t, 0x03, 0); /* ID_DEVIDS: bus virtual */
    assert_int_equal(cfg8(t, 2), 8);
    assert_int_equal(cfg8(t, 8), 6);
    select_cfg(t, 0x77, 0xff); /* nonsense */
    assert_int_equal(cfg8(t, 2), 0);
    /* Writes past select/subsel change nothing. */
    pthread_mutex_lock(&t->bus.io_lock);
    virtio_mmio_dev_ops.write(t->vdev, CFG + 2, 1, 99);
    virtio_mmio_dev_ops.write(t->vdev, CFG + 200, 4, 99);
    pthread_mutex_unlock(&t->bus.io_lock);
    assert_int_equal(cfg8(t, 2), 0);
    drop(k);
    drop(t);
}

static bool send(struct harness *h, uint16_t code, uint32_t value)
{
    struct virtio_input_event ev[] = {{1, code, value}, {0, 0, 0}};
    pthread_mutex_lock(&h->bus.io_lock);
    bool ok = virtio_input_send(h->vdev, ev, 2);
    pthread_mutex_unlock(&h->bus.io_lock);
    return ok;
}

/* Posts n 8-byte buffers on the event queue. */
static void post(struct harness *h, unsigned n, unsigned first)
{
    for (unsigned i = 0; i < n; i++) {
        struct h_buf b = {H_DATA + 8 * (first + i), 8, true};
        h_publish(h, 0, h_chain(h, 0, &b, 1));
    }
    h_notify(h, 0);
}

static void test_events_and_bound(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_KEYBOARD);
    assert_false(send(h, 30, 1)); /* no driver yet: nowhere to go */
    assert_true(h_start(h, H_F_V1, 2, 64));
    assert_true(send(h, 30, 1));
    assert_int_equal(h_used_idx(h, 0), 0); /* waits for buffers */
    post(h, 3, 0);
    assert_int_equal(h_used_idx(h, 0), 2);
    uint16_t t, c;
    uint32_t v;
    memcpy(&t, h_ptr(h, H_DATA), 2);
    memcpy(&c, h_ptr(h, H_DATA + 2), 2);
    memcpy(&v, h_ptr(h, H_DATA + 4), 4);
    assert_int_equal(t, 1);
    assert_int_equal(c, 30);
    assert_int_equal(v, 1);
    memcpy(&t, h_ptr(h, H_DATA + 8), 2);
    assert_int_equal(t, 0); /* EV_SYN */
    /* The third buffer takes the next event at once. */
    assert_true(send(h, 30, 0));
    assert_int_equal(h_used_idx(h, 0), 3);
    /* A guest that takes nothing: the queue fills, then whole groups
     * are refused and counted. */
    unsigned sent = 0;
    for (int i = 0; i < 2000; i++)
        sent += send(h, 31, (uint32_t)i & 1);
    /* 1024 events, two per group; the last group's EV_SYN still waits. */
    assert_int_equal(sent, 511);
    assert_int_equal(virtio_input_dropped(h->vdev), 2 * (2000 - 511));
    /* Saved and restored with its queue. */
    struct state_writer w;
    state_writer_init(&w);
    virtio_mmio_dev_ops.save(h->vdev, &w);
    struct virtio_dev *copy = virtio_input_create(&h->bus, h_irq(h), VIRTIO_INPUT_KEYBOARD);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(virtio_mmio_dev_ops.load(copy, &r, 1));
    virtio_mmio_dev_ops.destroy(copy);
    /* Not into a tablet, and not from a cut stream. */
    copy = virtio_input_create(&h->bus, h_irq(h), VIRTIO_INPUT_TABLET);
    state_reader_init(&r, w.buf, w.len);
    assert_false(virtio_mmio_dev_ops.load(copy, &r, 1));
    virtio_mmio_dev_ops.destroy(copy);
    for (size_t cut = 0; cut < w.len; cut += 61) {
        copy = virtio_input_create(&h->bus, h_irq(h), VIRTIO_INPUT_KEYBOARD);
        state_reader_init(&r, w.buf, cut);
        assert_false(virtio_mmio_dev_ops.load(copy, &r, 1));
        virtio_mmio_dev_ops.destroy(copy);
    }
    state_writer_free(&w);
    /* Buffers posted now drain the queue in order. */
    post(h, 60, 3);
    assert_int_equal(h_used_idx(h, 0), 63);
    memcpy(&t, h_ptr(h, H_DATA + 8 * 3), 2);
    assert_int_equal(t, 0); /* the waiting EV_SYN */
    memcpy(&c, h_ptr(h, H_DATA + 8 * 4 + 2), 2);
    assert_int_equal(c, 31);
    drop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_events_and_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
