/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue and virtio-mmio transport tests with a probe device:
 * register layout, feature negotiation, status machine, queue setup,
 * interrupt suppression, and crafted hostile rings (loops, overlong
 * chains, nested indirect tables, addresses outside RAM, wrapping
 * lengths, wrong directions, bad sizes, avail index jumps).  Hostile input
 * must put the device in DEVICE_NEEDS_RESET with a config interrupt,
 * never crash or write outside RAM, and a reset must bring it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "state/state.h"
#include "util/log.h"
#include "virtio_harness.h"

#define PROBE_ID 0x42

struct probe {
    int last_ret; /* last virtq_pop result */
    bool hold;    /* keep popped elements in flight (a device with a worker) */
    unsigned popped;
    unsigned nout, nin;
    uint64_t out_len, in_len;
    uint8_t first_out[16];
};

static void probe_notify(struct virtio_dev *vdev, unsigned q)
{
    struct probe *p = vdev->opaque;
    struct virtq *vq = &vdev->vq[q];
    struct virtq_elem *e;
    int r;
    bool pushed = false;
    while ((r = virtq_pop(vq, &e)) > 0) {
        p->popped++;
        p->nout = e->nout;
        p->nin = e->nin;
        p->out_len = e->out_len;
        p->in_len = e->in_len;
        virtq_elem_read(e, 0, p->first_out, sizeof(p->first_out));
        if (p->hold) {
            free(e);
            continue;
        }
        static const uint8_t fill[64] = {[0 ... 63] = 0xab};
        size_t n = 0;
        while (n < e->in_len) {
            size_t c = e->in_len - n < sizeof(fill) ? e->in_len - n : sizeof(fill);
            n += virtq_elem_write(vdev->bus, e, n, fill, c);
        }
        virtq_push(vq, e, (uint32_t)e->in_len);
        free(e);
        pushed = true;
    }
    p->last_ret = r;
    if (pushed)
        virtq_notify(vq);
}

static const struct virtio_dev_ops probe_ops = {
    .name = "probe",
    .device_id = PROBE_ID,
    .num_queues = 2,
    .queue_max = 16,
    .queue_notify = probe_notify,
};

struct fixture {
    struct harness h;
    struct probe p;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_true(h_init(&f->h));
    f->h.vdev = virtio_mmio_new(&probe_ops, &f->p, &f->h.bus, h_irq(&f->h), 0, 8);
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

static void test_registers(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_int_equal(h_rd(h, 0x000), 0x74726976);
    assert_int_equal(h_rd(h, 0x004), 2);
    assert_int_equal(h_rd(h, 0x008), PROBE_ID);
    assert_int_equal(h_rd(h, 0x00c), VIRTIO_MMIO_VENDOR);
    h_wr(h, 0x14, 1);
    assert_int_equal(h_rd(h, 0x10) & 1, 1); /* VERSION_1 is bit 32 */
    h_wr(h, 0x14, 0);
    uint32_t lo = h_rd(h, 0x10);
    assert_true(lo & (1u << VIRTIO_F_INDIRECT_DESC));
    assert_true(lo & (1u << VIRTIO_F_EVENT_IDX));
    h_wr(h, 0x30, 0);
    assert_int_equal(h_rd(h, 0x34), 16);
    h_wr(h, 0x30, 2); /* beyond num_queues */
    assert_int_equal(h_rd(h, 0x34), 0);
    /* Registers only answer 32-bit accesses. */
    assert_int_equal(virtio_mmio_dev_ops.read(h->vdev, 0, 2), 0);
}

static void test_version1_required(void **state)
{
    struct fixture *f = *state;
    assert_false(h_negotiate(&f->h, H_F_INDIRECT));
    /* Features the device does not offer are refused too. */
    assert_false(h_negotiate(&f->h, H_F_V1 | (1ull << 40)));
    assert_true(h_negotiate(&f->h, H_F_V1));
}

static void test_simple_chain(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    memcpy(h_ptr(h, H_DATA), "hello, device!!!", 16);
    struct h_buf b[] = {
        {H_DATA, 16, false}, {H_DATA + 0x1000, 100, true}, {H_DATA + 0x2000, 28, true}};
    h_publish(h, 0, h_chain(h, 0, b, 3));
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 1);
    assert_int_equal(f->p.nout, 1);
    assert_int_equal(f->p.nin, 2);
    assert_int_equal(f->p.in_len, 128);
    assert_memory_equal(f->p.first_out, "hello, device!!!", 16);
    assert_int_equal(h_used_idx(h, 0), 1);
    uint32_t id, len;
    h_used_elem(h, 0, 0, &id, &len);
    assert_int_equal(id, 0);
    assert_int_equal(len, 128);
    assert_int_equal(h_ptr(h, H_DATA + 0x2000)[27], 0xab);
    assert_int_equal(h_ptr(h, H_DATA + 0x2000)[28], 0); /* not beyond the buffer */
    assert_true(h->irq_level);
    assert_int_equal(h_rd(h, 0x60), VIRTIO_INT_USED);
    h_wr(h, 0x64, VIRTIO_INT_USED);
    assert_false(h->irq_level);
    assert_int_equal(h_rd(h, 0x60), 0);
}

static void test_ring_wraps(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 4));
    for (int i = 0; i < 70000; i++) { /* wraps the 16-bit indices */
        struct h_buf b[] = {{H_DATA, 8, true}};
        h_publish(h, 0, h_chain(h, 0, b, 1));
        if (i % 3 == 2 || i == 69999)
            h_notify(h, 0);
    }
    assert_int_equal(f->p.popped, 70000);
    assert_int_equal(h_used_idx(h, 0), (uint16_t)70000);
    assert_false(h_needs_reset(h));
}

static void test_indirect(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    uint64_t table = H_DATA + 0x10000;
    memcpy(h_ptr(h, H_DATA), "indirect-out....", 16);
    h_desc_at(h, table, 0, H_DATA, 16, VIRTQ_DESC_F_NEXT, 1);
    h_desc_at(h, table, 1, H_DATA + 0x100, 32, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    h_desc_at(h, table, 2, H_DATA + 0x200, 32, VIRTQ_DESC_F_WRITE, 0);
    h_desc(h, 0, 0, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
    h_publish(h, 0, 0);
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 1);
    assert_int_equal(f->p.nout, 1);
    assert_int_equal(f->p.nin, 2);
    assert_memory_equal(f->p.first_out, "indirect-out....", 16);
    assert_false(h_needs_reset(h));
}

/* Publishes a chain starting at descriptor 0 and expects the device to
 * refuse it with NEEDS_RESET plus a config interrupt. */
static void expect_broken(struct fixture *f)
{
    struct harness *h = &f->h;
    h_publish(h, 0, 0);
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 0);
    assert_int_equal(f->p.last_ret, -1);
    assert_true(h_needs_reset(h));
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
    assert_true(h->irq_level);
    assert_int_equal(h_used_idx(h, 0), 0);
    /* Further notifies do nothing, and a reset brings the device back. */
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 0);
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    assert_false(h_needs_reset(h));
    struct h_buf b[] = {{H_DATA, 8, true}};
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 1);
}

static void test_loop(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, H_DATA, 8, VIRTQ_DESC_F_NEXT, 1);
    h_desc(&f->h, 0, 1, H_DATA, 8, VIRTQ_DESC_F_NEXT, 0);
    expect_broken(f);
}

static void test_self_loop(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, H_DATA, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
    expect_broken(f);
}

static void test_next_out_of_table(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, H_DATA, 8, VIRTQ_DESC_F_NEXT, 200);
    expect_broken(f);
}

static void test_indirect_loop(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    uint64_t table = H_DATA + 0x10000;
    for (unsigned i = 0; i < 4; i++)
        h_desc_at(h, table, i, H_DATA, 8, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
    h_desc(h, 0, 0, table, 64, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_nested_indirect(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    uint64_t t1 = H_DATA + 0x10000, t2 = H_DATA + 0x20000;
    h_desc_at(h, t2, 0, H_DATA, 8, 0, 0);
    h_desc_at(h, t1, 0, t2, 16, VIRTQ_DESC_F_INDIRECT, 0);
    h_desc(h, 0, 0, t1, 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_indirect_without_feature(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    uint64_t t1 = H_DATA + 0x10000;
    h_desc_at(h, t1, 0, H_DATA, 8, 0, 0);
    h_desc(h, 0, 0, t1, 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_indirect_bad_len(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    h_desc(h, 0, 0, H_DATA + 0x10000, 17, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_indirect_table_outside_ram(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    h_desc(h, 0, 0, H_RAM_BASE + H_RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_huge_indirect_table(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_INDIRECT, 1, 8));
    h_desc(h, 0, 0, H_DATA, 16 * 100000, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f);
}

static void test_buffer_outside_ram(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, 0x1000, 8, VIRTQ_DESC_F_WRITE, 0); /* below RAM */
    expect_broken(f);
}

static void test_buffer_crosses_ram_end(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, H_RAM_BASE + H_RAM_SIZE - 4, 8, VIRTQ_DESC_F_WRITE, 0);
    expect_broken(f);
}

static void test_length_wraps(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, 0xfffffffffffff000ull, 0x2000, VIRTQ_DESC_F_WRITE, 0);
    expect_broken(f);
}

static void test_readable_after_writable(void **state)
{
    struct fixture *f = *state;
    assert_true(h_start(&f->h, H_F_V1, 1, 8));
    h_desc(&f->h, 0, 0, H_DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    h_desc(&f->h, 0, 1, H_DATA + 8, 8, 0, 0);
    expect_broken(f);
}

static void test_head_out_of_range(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    h_publish(h, 0, 9);
    h_notify(h, 0);
    assert_int_equal(f->p.last_ret, -1);
    assert_true(h_needs_reset(h));
}

static void test_avail_jump(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    h_set_avail_idx(h, 0, 9); /* 9 new entries in a queue of 8 */
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 0);
    assert_true(h_needs_reset(h));
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
}

/* A device that completes later (on a worker) keeps what it popped in
 * flight.  A guest advancing avail->idx again before anything was used
 * would otherwise add a queue's worth of requests per notify, without
 * bound: the in-flight count must stay within the queue size and the
 * device must ask for a reset. */
static void test_avail_flood_in_flight(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    f->p.hold = true;
    assert_true(h_start(h, H_F_V1, 1, 8));
    struct h_buf b[] = {{H_DATA, 8, true}};
    uint16_t head = h_chain(h, 0, b, 1);
    for (int i = 0; i < 8; i++)
        h_publish(h, 0, head);
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 8);
    assert_false(h_needs_reset(h));
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 8; i++)
            h_publish(h, 0, head);
        h_notify(h, 0);
    }
    assert_int_equal(f->p.popped, 8);
    assert_int_equal(f->p.last_ret, -1);
    assert_true(h_needs_reset(h));
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
}

/* Buffers used meanwhile free their slots: a driver reusing them is fine. */
static void test_avail_refill_after_use(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    struct h_buf b[] = {{H_DATA, 8, true}};
    uint16_t head = h_chain(h, 0, b, 1);
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 8; i++)
            h_publish(h, 0, head);
        h_notify(h, 0);
    }
    assert_int_equal(f->p.popped, 800);
    assert_false(h_needs_reset(h));
}

/* A guest that breaks a queue and resets the device in a loop must not
 * fill the host's disk with log lines. */
static void test_reset_loop_log_bounded(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    FILE *log = tmpfile();
    assert_non_null(log);
    log_set_file(log);
    for (int i = 0; i < 2000; i++) {
        assert_true(h_start(h, H_F_V1, 1, 8));
        h_set_avail_idx(h, 0, 9);
        h_notify(h, 0);
        assert_true(h_needs_reset(h));
    }
    log_set_file(NULL);
    rewind(log);
    unsigned lines = 0;
    for (int c; (c = fgetc(log)) != EOF;)
        lines += c == '\n';
    fclose(log);
    /* Two call sites (the queue and the transport) with a burst each
     * (less if earlier tests used them), then one line per interval plus a
     * "suppressed" summary. */
    assert_true(lines <= 4 * LOG_RATELIMIT_BURST);
}

static void test_bad_queue_sizes(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    static const uint16_t sizes[] = {0, 3, 12, 32 /* > QueueNumMax */};
    for (unsigned i = 0; i < 4; i++) {
        assert_true(h_negotiate(h, H_F_V1));
        h_setup_queue(h, 0, sizes[i]);
        assert_int_equal(h_rd(h, 0x44), 0);
        assert_true(h_needs_reset(h));
    }
    /* Rings outside RAM and misaligned rings are refused too. */
    assert_true(h_negotiate(h, H_F_V1));
    h_wr(h, 0x30, 0);
    h_wr(h, 0x38, 8);
    h_wr(h, 0x80, 0x1000);
    h_wr(h, 0x90, (uint32_t)H_RING(0) + 0x4000);
    h_wr(h, 0x94, 0);
    h_wr(h, 0xa0, (uint32_t)H_RING(0) + 0x8000);
    h_wr(h, 0x44, 1);
    assert_int_equal(h_rd(h, 0x44), 0);
    assert_true(h_needs_reset(h));
    assert_true(h_negotiate(h, H_F_V1));
    h_wr(h, 0x30, 0);
    h_wr(h, 0x38, 8);
    h_wr(h, 0x80, (uint32_t)H_RING(0) + 8);
    h_wr(h, 0x44, 1);
    assert_true(h_needs_reset(h));
    /* A notify on a queue that never became ready does nothing. */
    h_notify(h, 0);
    assert_int_equal(f->p.popped, 0);
}

static void test_notify_bad_queue(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 2, 8));
    h_notify(h, 7);
    h_notify(h, 0xffffffffu);
    assert_false(h_needs_reset(h));
    assert_int_equal(f->p.popped, 0);
}

static void test_no_interrupt_flag(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    h_set_avail_flags(h, 0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    struct h_buf b[] = {{H_DATA, 8, true}};
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_int_equal(h_used_idx(h, 0), 1);
    assert_false(h->irq_level);
    h_set_avail_flags(h, 0, 0);
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_true(h->irq_level);
}

static void test_event_idx(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_EVENTIDX, 1, 8));
    struct h_buf b[] = {{H_DATA, 8, true}};
    /* Driver wants an interrupt only once used idx passes 2. */
    h_set_used_event(h, 0, 2);
    for (int i = 0; i < 2; i++) {
        h_publish(h, 0, h_chain(h, 0, b, 1));
        h_notify(h, 0);
    }
    assert_int_equal(h_used_idx(h, 0), 2);
    assert_int_equal(h->irq_raises, 0);
    /* The device keeps avail_event at the next entry it wants to hear about. */
    assert_int_equal(h_avail_event(h, 0), 2);
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_int_equal(h->irq_raises, 1);
}

static void test_reset_clears(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1, 1, 8));
    struct h_buf b[] = {{H_DATA, 8, true}};
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_true(h->irq_level);
    h_wr(h, 0x70, 0);
    assert_int_equal(h_rd(h, 0x70), 0);
    assert_int_equal(h_rd(h, 0x60), 0);
    assert_false(h->irq_level);
    h_wr(h, 0x30, 0);
    assert_int_equal(h_rd(h, 0x44), 0);
    assert_int_equal(h_rd(h, 0x80), 0);
    /* Status bits the driver sets before negotiation, without FEATURES_OK. */
    h_wr(h, 0x70, 1);
    assert_int_equal(h_rd(h, 0x70), 1);
}

static void test_config_and_generation(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    h->vdev->config[0] = 0x11;
    h->vdev->config[1] = 0x22;
    assert_int_equal(virtio_mmio_dev_ops.read(h->vdev, 0x100, 1), 0x11);
    assert_int_equal(virtio_mmio_dev_ops.read(h->vdev, 0x100, 2), 0x2211);
    assert_int_equal(virtio_mmio_dev_ops.read(h->vdev, 0x107, 2), 0); /* crosses the end */
    assert_int_equal(virtio_mmio_dev_ops.read(h->vdev, 0x800, 4), 0);
    uint32_t gen = h_rd(h, 0xfc);
    assert_true(h_start(h, H_F_V1, 1, 8));
    virtio_config_changed(h->vdev);
    assert_int_equal(h_rd(h, 0xfc), gen + 1);
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_true(h_start(h, H_F_V1 | H_F_EVENTIDX, 2, 8));
    struct h_buf b[] = {{H_DATA, 8, true}};
    for (int i = 0; i < 3; i++) {
        h_publish(h, 0, h_chain(h, 0, b, 1));
        h_notify(h, 0);
    }
    struct state_writer w;
    state_writer_init(&w);
    state_begin_section(&w, "virtio", 1);
    virtio_mmio_dev_ops.save(h->vdev, &w);
    state_end_section(&w);
    assert_false(w.failed);

    struct probe p2 = {0};
    struct virtio_dev *v2 = virtio_mmio_new(&probe_ops, &p2, &h->bus, h_irq(h), 0, 8);
    assert_non_null(v2);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    char name[32];
    uint32_t ver;
    assert_true(state_next_section(&r, name, sizeof(name), &ver));
    pthread_mutex_lock(&h->bus.io_lock);
    assert_true(virtio_mmio_dev_ops.load(v2, &r, ver));
    pthread_mutex_unlock(&h->bus.io_lock);
    assert_int_equal(v2->status, h->vdev->status);
    assert_int_equal(v2->driver_features, h->vdev->driver_features);
    assert_true(v2->vq[0].ready);
    assert_int_equal(v2->vq[0].last_avail, 3);
    assert_int_equal(v2->vq[0].used_idx, 3);

    /* The restored device carries on where the first one stopped. */
    virtio_mmio_dev_ops.destroy(h->vdev);
    h->vdev = v2;
    h_publish(h, 0, h_chain(h, 0, b, 1));
    h_notify(h, 0);
    assert_int_equal(p2.popped, 1);
    assert_int_equal(h_used_idx(h, 0), 4);

    /* A truncated stream is refused without changing the device. */
    struct state_reader bad;
    state_reader_init(&bad, w.buf, w.len / 2);
    if (state_next_section(&bad, name, sizeof(name), &ver)) {
        pthread_mutex_lock(&h->bus.io_lock);
        assert_false(virtio_mmio_dev_ops.load(v2, &bad, ver));
        pthread_mutex_unlock(&h->bus.io_lock);
    }
    assert_true(v2->vq[0].ready);
    state_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simple_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_out_of_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_indirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_without_feature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_bad_len, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_table_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_indirect_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_crosses_ram_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readable_after_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_flood_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_refill_after_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_loop_log_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_queue_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_bad_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_clears, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
