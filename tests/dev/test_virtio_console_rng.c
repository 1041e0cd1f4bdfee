/* SPDX-License-Identifier: MIT */
/*
 * virtio-console and virtio-rng without a guest: console output reaches
 * the tx callback, input fills the guest's receive buffers; the entropy
 * device fills device-writable buffers with random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

struct fixture {
    struct harness h;
    uint8_t out[256];
    size_t out_len;
};

static void tx_cb(void *opaque, const uint8_t *buf, size_t len)
{
    struct fixture *f = opaque;
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
}

static int setup_console(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(h_init(&f->h));
    f->h.vdev = virtio_console_create(&f->h.bus, h_irq(&f->h), tx_cb, f);
    assert_non_null(f->h.vdev);
    *state = f;
    return 0;
}

static int setup_rng(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(h_init(&f->h));
    f->h.vdev = virtio_rng_create(&f->h.bus, h_irq(&f->h));
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

static void test_console_output(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_int_equal(h_rd(h, 0x008), 3);
    assert_true(h_start(h, H_F_V1, 2, 16));
    memcpy(h_ptr(h, H_DATA), "hello ", 6);
    memcpy(h_ptr(h, H_DATA + 0x100), "world\n", 6);
    struct h_buf b[] = {{H_DATA, 6, false}, {H_DATA + 0x100, 6, false}};
    h_publish(h, 1, h_chain(h, 1, b, 2));
    h_notify(h, 1);
    assert_int_equal(f->out_len, 12);
    assert_memory_equal(f->out, "hello world\n", 12);
    assert_int_equal(h_used_idx(h, 1), 1);
}

static void test_console_input(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    /* Nothing is accepted before the driver is ready. */
    assert_int_equal(virtio_console_input(h->vdev, (const uint8_t *)"x", 1), 0);
    assert_true(h_start(h, H_F_V1, 2, 16));
    struct h_buf b1[] = {{H_DATA, 4, true}};
    struct h_buf b2[] = {{H_DATA + 0x100, 4, true}};
    h_publish(h, 0, h_chain(h, 0, b1, 1));
    h_publish(h, 0, h_chain(h, 0, b2, 1));
    pthread_mutex_lock(&h->bus.io_lock);
    size_t n = virtio_console_input(h->vdev, (const uint8_t *)"abcdefghij", 10);
    pthread_mutex_unlock(&h->bus.io_lock);
    assert_int_equal(n, 8); /* two 4-byte buffers */
    assert_memory_equal(h_ptr(h, H_DATA), "abcd", 4);
    assert_memory_equal(h_ptr(h, H_DATA + 0x100), "efgh", 4);
    assert_int_equal(h_used_idx(h, 0), 2);
    assert_true(h->irq_level);
}

static void test_rng(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_int_equal(h_rd(h, 0x008), 4);
    assert_true(h_start(h, H_F_V1, 1, 16));
    memset(h_ptr(h, H_DATA), 0, 4096);
    struct h_buf b[] = {{H_DATA, 64, true}, {H_DATA + 0x100, 64, true}};
    h_publish(h, 0, h_chain(h, 0, b, 2));
    h_notify(h, 0);
    assert_int_equal(h_used_idx(h, 0), 1);
    uint32_t id, len;
    h_used_elem(h, 0, 0, &id, &len);
    assert_int_equal(len, 128);
    static const uint8_t zero[64];
    assert_memory_not_equal(h_ptr(h, H_DATA), zero, 64);
    assert_memory_not_equal(h_ptr(h, H_DATA + 0x100), zero, 64);
    assert_memory_not_equal(h_ptr(h, H_DATA), h_ptr(h, H_DATA + 0x100), 64);
    /* Bytes next to the buffers stay untouched. */
    assert_int_equal(h_ptr(h, H_DATA)[64], 0);
    /* A huge buffer is filled partially: 64 KiB. */
    memset(h_ptr(h, H_DATA), 0, 1 << 20);
    struct h_buf big[] = {{H_DATA, 1 << 20, true}};
    h_publish(h, 0, h_chain(h, 0, big, 1));
    h_notify(h, 0);
    h_used_elem(h, 0, 1, &id, &len);
    assert_int_equal(len, 64 * 1024);
    assert_memory_not_equal(h_ptr(h, H_DATA + 60 * 1024), zero, 64);
    assert_memory_equal(h_ptr(h, H_DATA + 64 * 1024), zero, 64);
}

/* Stands in for a driver on another hart that refills the queue each time
 * the device completes a buffer, for as long as the notify lasts. */
static struct harness *refill_h;
static unsigned refills;

static void refill_on_used(void *opaque, uint64_t pa, uint64_t len)
{
    (void)opaque;
    (void)len;
    if (pa == H_RING(0) + 0x8000 + 2 && refills < 100000) {
        refills++;
        h_publish(refill_h, 0, 0);
    }
}

static void test_rng_refilling_driver(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_EVENTIDX, 1, 16));
    struct h_buf b[] = {{H_DATA, 8, true}};
    uint16_t head = h_chain(h, 0, b, 1);
    refill_h = h;
    refills = 0;
    h->bus.ram_write_hook = refill_on_used;
    h_publish(h, 0, head);
    h_notify(h, 0);
    /* The notification returned after twice the queue size... */
    assert_int_equal(h_used_idx(h, 0), 32);
    assert_false(h_needs_reset(h));
    /* ...and asked for a notification on the next buffer. */
    assert_int_equal(h_avail_event(h, 0), h->avail_idx[0]);
    h->bus.ram_write_hook = NULL;
    h_notify(h, 0);
    assert_int_equal(h_used_idx(h, 0), h->avail_idx[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_console_output, setup_console, teardown),
        cmocka_unit_test_setup_teardown(test_console_input, setup_console, teardown),
        cmocka_unit_test_setup_teardown(test_rng, setup_rng, teardown),
        cmocka_unit_test_setup_teardown(test_rng_refilling_driver, setup_rng, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
