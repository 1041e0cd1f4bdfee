/* SPDX-License-Identifier: MIT */
/*
 * virtio-channels (multiport virtio-console) without a guest: the control
 * handshake announces named ports, data flows both ways per port, the
 * guest's open/close reaches the host, a hostile driver's control traffic
 * is bounded, and the state survives save/load.
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

#define F_MULTIPORT (1ull << 1)
#define NQ          8
#define CTRL_RX     2
#define CTRL_TX     3
#define CTRL_BUF    (H_DATA + 0x10000) /* control receive buffers, 128 bytes each */
#define MSG_BUF     (H_DATA + 0x20000) /* driver-to-device control messages */

struct fixture {
    struct harness h;
    uint8_t out[256];
    size_t out_len;
    unsigned out_port;
    int open_calls, last_open_port, last_open;
    int ready_calls;
    bool full; /* what output_full answers */
    int loaded_calls;
    unsigned msg_no;    /* next MSG_BUF slot */
    uint16_t ctrl_seen; /* control receive buffers already checked */
};

static void on_output(void *opaque, unsigned port, const uint8_t *buf, size_t len)
{
    struct fixture *f = opaque;
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
    f->out_port = port;
}

static void on_open(void *opaque, unsigned port, bool open)
{
    struct fixture *f = opaque;
    f->open_calls++;
    f->last_open_port = (int)port;
    f->last_open = open;
}

static void on_ready(void *opaque, unsigned port)
{
    (void)port;
    struct fixture *f = opaque;
    f->ready_calls++;
}

static bool on_full(void *opaque, unsigned port)
{
    (void)port;
    struct fixture *f = opaque;
    return f->full;
}

static void on_loaded(void *opaque)
{
    struct fixture *f = opaque;
    f->loaded_calls++;
}

static const struct virtio_channel_ops ops = {
    .output = on_output,
    .guest_open = on_open,
    .input_ready = on_ready,
    .output_full = on_full,
    .loaded = on_loaded,
};
static const char *const names[] = {"org.qemu.guest_agent.0", "wirt.test"};

static struct virtio_dev *make(struct fixture *f)
{
    return virtio_channels_create(&f->h.bus, h_irq(&f->h), names, 2, &ops, f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(h_init(&f->h));
    f->h.vdev = make(f);
    assert_non_null(f->h.vdev);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->h.bad_writes, 0);
    h_destroy(&f->h);
    free(f);
    return 0;
}

/* The driver posts n empty control receive buffers. */
static void post_ctrl_bufs(struct fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct h_buf b = {CTRL_BUF + 128ull * (f->h.avail_idx[CTRL_RX] % 64), 128, true};
        h_publish(&f->h, CTRL_RX, h_chain(&f->h, CTRL_RX, &b, 1));
    }
    h_notify(&f->h, CTRL_RX);
}

/* The driver sends one control message (len may be short: hostile). */
static void send_ctrl(struct fixture *f, uint32_t id, uint16_t event, uint16_t value, uint32_t len)
{
    uint64_t gpa = MSG_BUF + 16ull * (f->msg_no++ % 256);
    memcpy(h_ptr(&f->h, gpa), &id, 4);
    memcpy(h_ptr(&f->h, gpa + 4), &event, 2);
    memcpy(h_ptr(&f->h, gpa + 6), &value, 2);
    struct h_buf b = {gpa, len, false};
    h_publish(&f->h, CTRL_TX, h_chain(&f->h, CTRL_TX, &b, 1));
    h_notify(&f->h, CTRL_TX);
}

/* The next control message the device completed; false if none. */
static bool next_ctrl(struct fixture *f, uint32_t *id, uint16_t *event, uint16_t *value,
                      char *extra, size_t extra_size)
{
    if (f->ctrl_seen == h_used_idx(&f->h, CTRL_RX))
        return false;
    uint32_t head, len;
    h_used_elem(&f->h, CTRL_RX, f->ctrl_seen++, &head, &len);
    assert_true(len >= 8 && len <= 128);
    /* The harness allocates descriptors in order: head k is buffer k. */
    const uint8_t *p = h_ptr(&f->h, CTRL_BUF + 128ull * (head % 64));
    memcpy(id, p, 4);
    memcpy(event, p + 4, 2);
    memcpy(value, p + 6, 2);
    size_t n = len - 8 < extra_size - 1 ? len - 8 : extra_size - 1;
    memcpy(extra, p + 8, n);
    extra[n] = '\0';
    return true;
}

static void expect_ctrl(struct fixture *f, uint32_t id, uint16_t event, uint16_t value,
                        const char *extra)
{
    uint32_t i;
    uint16_t e, v;
    char x[128];
    assert_true(next_ctrl(f, &i, &e, &v, x, sizeof(x)));
    assert_int_equal(i, id);
    assert_int_equal(e, event);
    assert_int_equal(v, value);
    assert_string_equal(x, extra ? extra : "");
}

/* Bring-up through both ports' PORT_READY. */
static void handshake(struct fixture *f)
{
    assert_true(h_start(&f->h, H_F_V1 | F_MULTIPORT, NQ, 64));
    post_ctrl_bufs(f, 8);
    send_ctrl(f, 0xffffffff, 0 /* DEVICE_READY */, 1, 8);
    expect_ctrl(f, 0, 1 /* DEVICE_ADD */, 0, NULL);
    expect_ctrl(f, 1, 1, 0, NULL);
    send_ctrl(f, 0, 3 /* PORT_READY */, 1, 8);
    expect_ctrl(f, 0, 7 /* PORT_NAME */, 0, "org.qemu.guest_agent.0");
    expect_ctrl(f, 0, 6 /* PORT_OPEN */, 1, NULL);
    send_ctrl(f, 1, 3, 1, 8);
    expect_ctrl(f, 1, 7, 0, "wirt.test");
    expect_ctrl(f, 1, 6, 1, NULL);
}

static void test_config_and_features(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(h_rd(&f->h, 0x008), 3); /* a console device */
    assert_true(h_device_features(&f->h) & F_MULTIPORT);
    assert_int_equal(h_rd(&f->h, 0x100 + 4), VIRTIO_CHANNELS_MAX); /* max_nr_ports */
}

static void test_handshake_names_ports(void **state)
{
    struct fixture *f = *state;
    handshake(f);
    uint32_t i;
    uint16_t e, v;
    char x[8];
    assert_false(next_ctrl(f, &i, &e, &v, x, sizeof(x)));
    /* A second DEVICE_READY (driver reload without reset) adds nothing:
     * the ports exist. */
    send_ctrl(f, 0, 0, 1, 8);
    assert_false(next_ctrl(f, &i, &e, &v, x, sizeof(x)));
}

static void test_data_both_ways(void **state)
{
    struct fixture *f = *state;
    /* Nothing reaches a port before the driver set it up. */
    assert_int_equal(virtio_channels_input(f->h.vdev, 0, (const uint8_t *)"x", 1), 0);
    handshake(f);
    /* Guest to host on port 1 (transmitq 5). */
    memcpy(h_ptr(&f->h, H_DATA), "{\"return\": {}}\n", 15);
    struct h_buf out = {H_DATA, 15, false};
    h_publish(&f->h, 5, h_chain(&f->h, 5, &out, 1));
    h_notify(&f->h, 5);
    assert_int_equal(f->out_len, 15);
    assert_int_equal(f->out_port, 1);
    assert_memory_equal(f->out, "{\"return\": {}}\n", 15);
    /* Host to guest on port 0 (receiveq 0): the guest posting buffers is
     * what tells the host it may send. */
    struct h_buf in = {H_DATA + 0x100, 8, true};
    h_publish(&f->h, 0, h_chain(&f->h, 0, &in, 1));
    h_notify(&f->h, 0);
    assert_int_equal(f->ready_calls, 1);
    pthread_mutex_lock(&f->h.bus.io_lock);
    size_t n = virtio_channels_input(f->h.vdev, 0, (const uint8_t *)"guest-ping\n", 11);
    pthread_mutex_unlock(&f->h.bus.io_lock);
    assert_int_equal(n, 8);
    assert_memory_equal(h_ptr(&f->h, H_DATA + 0x100), "guest-pi", 8);
    /* Port 1's receiveq (4) has no buffers: nothing is taken. */
    pthread_mutex_lock(&f->h.bus.io_lock);
    n = virtio_channels_input(f->h.vdev, 1, (const uint8_t *)"x", 1);
    pthread_mutex_unlock(&f->h.bus.io_lock);
    assert_int_equal(n, 0);
    assert_int_equal(virtio_channels_input(f->h.vdev, 7, (const uint8_t *)"x", 1), 0);
}

/* A full host end leaves the guest's buffers in the ring (its writer
 * waits) until the host resumes the port: nothing is lost or reordered. */
static void test_full_host_end_holds_output(void **state)
{
    struct fixture *f = *state;
    handshake(f);
    f->full = true;
    memcpy(h_ptr(&f->h, H_DATA), "first second", 12);
    struct h_buf a = {H_DATA, 6, false}, b = {H_DATA + 6, 6, false};
    h_publish(&f->h, 5, h_chain(&f->h, 5, &a, 1));
    h_notify(&f->h, 5);
    h_publish(&f->h, 5, h_chain(&f->h, 5, &b, 1));
    h_notify(&f->h, 5);
    assert_int_equal(f->out_len, 0);
    assert_int_equal(h_used_idx(&f->h, 5), 0); /* the guest's writer waits */
    /* Resuming while still full takes nothing either. */
    pthread_mutex_lock(&f->h.bus.io_lock);
    virtio_channels_output_resume(f->h.vdev, 1);
    pthread_mutex_unlock(&f->h.bus.io_lock);
    assert_int_equal(f->out_len, 0);
    f->full = false;
    pthread_mutex_lock(&f->h.bus.io_lock);
    virtio_channels_output_resume(f->h.vdev, 1);
    virtio_channels_output_resume(f->h.vdev, 9); /* no such port: ignored */
    pthread_mutex_unlock(&f->h.bus.io_lock);
    assert_int_equal(f->out_len, 12);
    assert_memory_equal(f->out, "first second", 12);
    assert_int_equal(f->out_port, 1);
    assert_int_equal(h_used_idx(&f->h, 5), 2);
}

static void test_guest_open_close(void **state)
{
    struct fixture *f = *state;
    handshake(f);
    send_ctrl(f, 1, 6 /* PORT_OPEN */, 1, 8);
    assert_int_equal(f->open_calls, 1);
    assert_int_equal(f->last_open_port, 1);
    assert_true(f->last_open);
    assert_true(virtio_channels_guest_open(f->h.vdev, 1));
    assert_false(virtio_channels_guest_open(f->h.vdev, 0));
    send_ctrl(f, 1, 6, 1, 8); /* no change, no callback */
    assert_int_equal(f->open_calls, 1);
    send_ctrl(f, 1, 6, 0, 8);
    assert_int_equal(f->open_calls, 2);
    assert_false(f->last_open);
    /* A device reset closes what was open. */
    send_ctrl(f, 0, 6, 1, 8);
    assert_int_equal(f->open_calls, 3);
    h_wr(&f->h, 0x70, 0);
    assert_int_equal(f->open_calls, 4);
    assert_false(virtio_channels_guest_open(f->h.vdev, 0));
}

static void test_hostile_control(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1 | F_MULTIPORT, NQ, 64));
    /* Before DEVICE_READY no port exists: messages for ports are ignored. */
    send_ctrl(f, 0, 3, 1, 8);
    send_ctrl(f, 0, 6, 1, 8);
    assert_int_equal(f->open_calls, 0);
    /* DEVICE_READY with no control buffers: the announcements wait. */
    send_ctrl(f, 0, 0, 1, 8);
    /* Unknown ports, unknown events, short messages: ignored. */
    send_ctrl(f, 99, 3, 1, 8);
    send_ctrl(f, 0xffffffff, 6, 1, 8);
    send_ctrl(f, 0, 42, 1, 8);
    send_ctrl(f, 0, 3, 1, 4);
    /* Many PORT_READY before any buffer: each port answers once. */
    for (int i = 0; i < 100; i++)
        send_ctrl(f, (uint32_t)(i % 2), 3, 1, 8);
    assert_int_equal(h_used_idx(&f->h, CTRL_TX), 107);
    assert_false(h_needs_reset(&f->h));
    post_ctrl_bufs(f, 32);
    expect_ctrl(f, 0, 1, 0, NULL);
    expect_ctrl(f, 1, 1, 0, NULL);
    expect_ctrl(f, 0, 7, 0, "org.qemu.guest_agent.0");
    expect_ctrl(f, 0, 6, 1, NULL);
    expect_ctrl(f, 1, 7, 0, "wirt.test");
    expect_ctrl(f, 1, 6, 1, NULL);
    uint32_t i;
    uint16_t e, v;
    char x[8];
    assert_false(next_ctrl(f, &i, &e, &v, x, sizeof(x)));
}

static void test_bad_names_refused(void **state)
{
    struct fixture *f = *state;
    const char *bad[] = {"has space"};
    assert_null(virtio_channels_create(&f->h.bus, h_irq(&f->h), bad, 1, &ops, f));
    const char *empty[] = {""};
    assert_null(virtio_channels_create(&f->h.bus, h_irq(&f->h), empty, 1, &ops, f));
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *too_long[] = {longname};
    assert_null(virtio_channels_create(&f->h.bus, h_irq(&f->h), too_long, 1, &ops, f));
    const char *four[] = {"a", "b", "c", "d"};
    assert_null(virtio_channels_create(&f->h.bus, h_irq(&f->h), four, 4, &ops, f));
    assert_true(virtio_channel_name_ok("org.qemu.guest_agent.0"));
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    handshake(f);
    send_ctrl(f, 1, 6, 1, 8);
    struct state_writer w;
    state_writer_init(&w);
    pthread_mutex_lock(&f->h.bus.io_lock);
    virtio_mmio_dev_ops.save(f->h.vdev, &w);
    pthread_mutex_unlock(&f->h.bus.io_lock);
    assert_false(w.failed);

    struct virtio_dev *copy = make(f);
    assert_non_null(copy);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    int loaded = f->loaded_calls;
    assert_true(virtio_mmio_dev_ops.load(copy, &r, 1));
    assert_int_equal(f->loaded_calls, loaded + 1); /* the host end may resume */
    assert_true(virtio_channels_guest_open(copy, 1));
    assert_false(virtio_channels_guest_open(copy, 0));
    /* Every truncation of the stream is refused. */
    for (size_t cut = 0; cut < w.len; cut += 7) {
        struct virtio_dev *t = make(f);
        state_reader_init(&r, w.buf, cut);
        assert_false(virtio_mmio_dev_ops.load(t, &r, 1));
        virtio_mmio_dev_ops.destroy(t);
    }
    /* A device with other ports refuses the stream. */
    struct virtio_dev *other = virtio_channels_create(&f->h.bus, h_irq(&f->h), names, 1, &ops, f);
    state_reader_init(&r, w.buf, w.len);
    assert_false(virtio_mmio_dev_ops.load(other, &r, 1));
    virtio_mmio_dev_ops.destroy(other);
    virtio_mmio_dev_ops.destroy(copy);
    state_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_names_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_host_end_holds_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_open_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
