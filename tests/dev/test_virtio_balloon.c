/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon without a guest: inflated pages are released (read as
 * zero again) and counted, page numbers outside RAM are ignored, free page
 * reports outside RAM break the queue rather than release anything, the target reaches the config
 * space with a config interrupt, statistics are parsed, and the state survives save/load.
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

#define F_STATS     (1ull << 1)
#define F_REPORTING (1ull << 5)
#define PAGE        4096u

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    assert_true(h_init(h));
    h->vdev = virtio_balloon_create(&h->bus, h_irq(h));
    assert_non_null(h->vdev);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    assert_int_equal(h->bad_writes, 0);
    h_destroy(h);
    free(h);
    return 0;
}

static void test_inflate_releases_pages(void **state)
{
    struct harness *h = *state;
    assert_int_equal(h_rd(h, 0x008), 5);
    uint64_t f = h_device_features(h);
    assert_true((f & F_STATS) && (f & F_REPORTING));
    assert_true(h_start(h, H_F_V1 | F_STATS | F_REPORTING, 4, 16));
    /* Two pages of guest data, one page number past RAM, one below it. */
    uint64_t p1 = H_RAM_BASE + 0x200000, p2 = H_RAM_BASE + 0x300000;
    memset(h_ptr(h, p1), 0xaa, PAGE);
    memset(h_ptr(h, p2), 0xbb, PAGE);
    uint32_t pfns[] = {(uint32_t)(p1 / PAGE), (uint32_t)(p2 / PAGE),
                       (uint32_t)((H_RAM_BASE + H_RAM_SIZE) / PAGE), 5};
    memcpy(h_ptr(h, H_DATA), pfns, sizeof(pfns));
    struct h_buf b = {H_DATA, sizeof(pfns), false};
    h_publish(h, 0, h_chain(h, 0, &b, 1));
    h_notify(h, 0);
    assert_int_equal(h_used_idx(h, 0), 1);
    static const uint8_t zero[PAGE];
    assert_memory_equal(h_ptr(h, p1), zero, PAGE);
    assert_memory_equal(h_ptr(h, p2), zero, PAGE);
    struct virtio_balloon_status st;
    virtio_balloon_status(h->vdev, &st);
    assert_int_equal(st.released_bytes, 2 * PAGE);
}

static void test_reporting_is_clipped(void **state)
{
    struct harness *h = *state;
    assert_true(h_start(h, H_F_V1 | F_STATS | F_REPORTING, 4, 16));
    uint64_t last = H_RAM_BASE + H_RAM_SIZE - PAGE;
    memset(h_ptr(h, last), 0xcc, PAGE);
    /* The last page of RAM is released... */
    struct h_buf b[] = {{last, PAGE, true}};
    h_publish(h, 3, h_chain(h, 3, b, 1));
    h_notify(h, 3);
    assert_int_equal(h_used_idx(h, 3), 1);
    static const uint8_t zero[PAGE];
    assert_memory_equal(h_ptr(h, last), zero, PAGE);
    struct virtio_balloon_status st;
    virtio_balloon_status(h->vdev, &st);
    assert_int_equal(st.released_bytes, PAGE);
    /* ...a range running past the end of RAM is a broken queue (the
     * transport's check), and nothing more is released. */
    struct h_buf past[] = {{last, PAGE + (1 << 20), true}};
    h_publish(h, 3, h_chain(h, 3, past, 1));
    h_notify(h, 3);
    assert_true(h_needs_reset(h));
    virtio_balloon_status(h->vdev, &st);
    assert_int_equal(st.released_bytes, PAGE);
}

static void test_target_stats_and_state(void **state)
{
    struct harness *h = *state;
    assert_true(h_start(h, H_F_V1 | F_STATS | F_REPORTING, 4, 16));
    unsigned irqs = h->irq_raises;
    pthread_mutex_lock(&h->bus.io_lock);
    virtio_balloon_set_target(h->vdev, H_RAM_SIZE - (4u << 20)); /* give back 4 MiB */
    pthread_mutex_unlock(&h->bus.io_lock);
    assert_int_equal(h_rd(h, 0x100), (4u << 20) / PAGE); /* num_pages */
    assert_int_equal(h_rd(h, 0x060) & 2, 2);             /* config change */
    assert_true(h->irq_raises > irqs);
    h_wr(h, 0x104, 1024); /* the driver's actual */
    /* Stats: MEMFREE (4) and MEMTOT (5), and a tag out of range. */
    uint8_t items[30];
    uint16_t tags[] = {4, 5, 999};
    uint64_t vals[] = {123456, 999999, 7};
    for (int i = 0; i < 3; i++) {
        memcpy(items + 10 * i, &tags[i], 2);
        memcpy(items + 10 * i + 2, &vals[i], 8);
    }
    memcpy(h_ptr(h, H_DATA), items, sizeof(items));
    struct h_buf b = {H_DATA, sizeof(items), false};
    h_publish(h, 2, h_chain(h, 2, &b, 1));
    h_notify(h, 2);
    struct virtio_balloon_status st;
    virtio_balloon_status(h->vdev, &st);
    assert_true(st.have_stats);
    assert_int_equal(st.stats[4], 123456);
    assert_int_equal(st.stats[5], 999999);
    assert_int_equal(st.actual_bytes, 1024ull * PAGE);
    /* The buffer is held until the host wants fresh numbers. */
    assert_int_equal(h_used_idx(h, 2), 0);
    pthread_mutex_lock(&h->bus.io_lock);
    virtio_balloon_request_stats(h->vdev);
    pthread_mutex_unlock(&h->bus.io_lock);
    assert_int_equal(h_used_idx(h, 2), 1);

    struct state_writer w;
    state_writer_init(&w);
    virtio_mmio_dev_ops.save(h->vdev, &w);
    struct virtio_dev *copy = virtio_balloon_create(&h->bus, h_irq(h));
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(virtio_mmio_dev_ops.load(copy, &r, 1));
    struct virtio_balloon_status cst;
    virtio_balloon_status(copy, &cst);
    assert_int_equal(cst.target_bytes, 4u << 20);
    for (size_t cut = 0; cut < w.len; cut += 5) {
        struct virtio_dev *t = virtio_balloon_create(&h->bus, h_irq(h));
        state_reader_init(&r, w.buf, cut);
        assert_false(virtio_mmio_dev_ops.load(t, &r, 1));
        virtio_mmio_dev_ops.destroy(t);
    }
    virtio_mmio_dev_ops.destroy(copy);
    state_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inflate_releases_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reporting_is_clipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_stats_and_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
