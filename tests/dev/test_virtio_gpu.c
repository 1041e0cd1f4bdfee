/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu without a guest: the display info, the 2D pipeline (create,
 * attach a split backing, transfer, set scanout, flush) reaching the
 * screen in every pixel format's colours, partial transfers at an offset,
 * fences echoed, hostile requests answered with the right error and
 * nothing else (bounds on resources, bytes, entries, rectangles, backing
 * ranges), and the state surviving save/load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "host/display.h"
#include "state/state.h"
#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

#define REQ  (H_DATA)
#define RESP (H_DATA + 0x10000)
#define BACK (H_DATA + 0x20000) /* backing pages */

enum {
    GET_DISPLAY_INFO = 0x100,
    CREATE_2D,
    UNREF,
    SET_SCANOUT,
    FLUSH,
    TRANSFER,
    ATTACH,
    DETACH,
    OK_NODATA = 0x1100,
    OK_DISPLAY_INFO,
    ERR_UNSPEC = 0x1200,
    ERR_OOM,
    ERR_SCANOUT,
    ERR_RESOURCE,
    ERR_CONTEXT,
    ERR_PARAM,
};

struct fixture {
    struct harness h;
    struct display *d;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(h_init(&f->h));
    f->d = display_new();
    f->h.vdev = virtio_gpu_create(&f->h.bus, h_irq(&f->h), f->d, 0, 0);
    assert_non_null(f->h.vdev);
    assert_int_equal(h_rd(&f->h, 0x008), 16);
    assert_true(h_start(&f->h, H_F_V1, 2, 64));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->h.bad_writes, 0);
    h_destroy(&f->h);
    display_free(f->d);
    free(f);
    return 0;
}

/* Sends one command of `len` bytes (words little-endian after a 24-byte
 * header) and returns the response type. */
static uint32_t cmd_raw(struct harness *h, const void *req, uint32_t len, uint32_t resp_len)
{
    memcpy(h_ptr(h, REQ), req, len);
    memset(h_ptr(h, RESP), 0xee, 2048);
    struct h_buf b[] = {{REQ, len, false}, {RESP, resp_len, true}};
    uint16_t before = h_used_idx(h, 0);
    h_publish(h, 0, h_chain(h, 0, b, 2));
    h_notify(h, 0);
    assert_int_equal(h_used_idx(h, 0), (uint16_t)(before + 1));
    uint32_t t;
    memcpy(&t, h_ptr(h, RESP), 4);
    return t;
}

static uint32_t cmd(struct harness *h, uint32_t type, const uint32_t *args, unsigned nargs)
{
    uint8_t req[24 + 64] = {0};
    memcpy(req, &type, 4);
    if (nargs) /* args may be NULL then: memcpy's pointers must not be */
        memcpy(req + 24, args, 4 * nargs);
    return cmd_raw(h, req, 24 + 4 * nargs, 2048);
}

static uint32_t create(struct harness *h, uint32_t id, uint32_t fmt, uint32_t w, uint32_t hh)
{
    uint32_t a[] = {id, fmt, w, hh};
    return cmd(h, CREATE_2D, a, 4);
}

/* Attaches n entries given as (gpa, len) pairs. */
static uint32_t attach(struct harness *h, uint32_t id, const uint64_t *e, uint32_t n)
{
    uint8_t req[24 + 8 + 16 * 8] = {0};
    uint32_t t = ATTACH;
    memcpy(req, &t, 4);
    memcpy(req + 24, &id, 4);
    memcpy(req + 28, &n, 4);
    for (uint32_t i = 0; i < n && i < 8; i++) {
        memcpy(req + 32 + 16 * i, &e[2 * i], 8);
        uint32_t l = (uint32_t)e[2 * i + 1];
        memcpy(req + 40 + 16 * i, &l, 4);
    }
    return cmd_raw(h, req, 32 + 16 * (n < 8 ? n : 8), 512);
}

static uint32_t transfer(struct harness *h, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                         uint32_t hh, uint64_t off)
{
    uint32_t a[] = {x, y, w, hh, (uint32_t)off, (uint32_t)(off >> 32), id, 0};
    return cmd(h, TRANSFER, a, 8);
}

static uint32_t scanout(struct harness *h, uint32_t sid, uint32_t id, uint32_t w, uint32_t hh)
{
    uint32_t a[] = {0, 0, w, hh, sid, id};
    return cmd(h, SET_SCANOUT, a, 6);
}

static uint32_t flush(struct harness *h, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                      uint32_t hh)
{
    uint32_t a[] = {x, y, w, hh, id, 0};
    return cmd(h, FLUSH, a, 6);
}

static uint32_t pixel(struct display *d, uint32_t x, uint32_t y)
{
    return d->pixels[(size_t)y * d->width + x] & 0xffffff;
}

/* A 64x32 B8G8R8X8 resource 1 backed by two entries (split mid-row) and
 * shown on the scanout: pixel (x, y) = x | y << 8 | 0x40 << 16. */
static void show_resource(struct harness *h)
{
    uint32_t *px = (uint32_t *)h_ptr(h, BACK);
    for (uint32_t y = 0; y < 32; y++)
        for (uint32_t x = 0; x < 64; x++)
            px[y * 64 + x] = x | y << 8 | 0x40u << 16 | 0xffu << 24;
    /* The second half lives elsewhere in RAM. */
    memcpy(h_ptr(h, BACK + 0x10000), h_ptr(h, BACK + 4100), 64 * 32 * 4 - 4100);
    assert_int_equal(create(h, 1, 2, 64, 32), OK_NODATA);
    uint64_t e[] = {BACK, 4100, BACK + 0x10000, 64 * 32 * 4 - 4100};
    assert_int_equal(attach(h, 1, e, 2), OK_NODATA);
    assert_int_equal(transfer(h, 1, 0, 0, 64, 32, 0), OK_NODATA);
    assert_int_equal(scanout(h, 0, 1, 64, 32), OK_NODATA);
    assert_int_equal(flush(h, 1, 0, 0, 64, 32), OK_NODATA);
}

static void test_display_info(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(h_rd(&f->h, 0x108), 1); /* num_scanouts */
    assert_int_equal(cmd(&f->h, GET_DISPLAY_INFO, NULL, 0), OK_DISPLAY_INFO);
    uint32_t m[4];
    memcpy(m, h_ptr(&f->h, RESP + 24), sizeof(m));
    assert_int_equal(m[2], GPU_DEFAULT_WIDTH);
    assert_int_equal(m[3], GPU_DEFAULT_HEIGHT);
    uint32_t used_id, used_len;
    h_used_elem(&f->h, 0, 0, &used_id, &used_len);
    assert_int_equal(used_len, 24 + 16 * 24);
}

static void test_pipeline(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    show_resource(h);
    assert_int_equal(f->d->width, 64);
    assert_int_equal(f->d->height, 32);
    for (uint32_t y = 0; y < 32; y++)
        for (uint32_t x = 0; x < 64; x++)
            assert_int_equal(pixel(f->d, x, y), x | y << 8 | 0x40u << 16);
    /* A partial transfer: an 8x4 box at (10, 20), read at its offset in
     * the backing (the driver's y * stride + x * 4). */
    uint32_t *px = (uint32_t *)h_ptr(h, BACK);
    for (uint32_t y = 20; y < 24; y++)
        for (uint32_t x = 10; x < 18; x++)
            px[y * 64 + x] = 0x123456;
    memcpy(h_ptr(h, BACK + 0x10000), h_ptr(h, BACK + 4100), 64 * 32 * 4 - 4100);
    assert_int_equal(transfer(h, 1, 10, 20, 8, 4, (20 * 64 + 10) * 4), OK_NODATA);
    /* Not on screen before the flush... */
    assert_int_equal(pixel(f->d, 10, 20), 10 | 20 << 8 | 0x40u << 16);
    uint64_t gen = f->d->generation;
    assert_int_equal(flush(h, 1, 10, 20, 8, 4), OK_NODATA);
    assert_true(f->d->generation > gen);
    assert_int_equal(pixel(f->d, 10, 20), 0x123456);
    assert_int_equal(pixel(f->d, 17, 23), 0x123456);
    assert_int_equal(pixel(f->d, 18, 23), 18 | 23 << 8 | 0x40u << 16);
    uint32_t x, y, w, hh;
    pthread_mutex_lock(&f->d->lock);
    assert_true(display_take_dirty_locked(f->d, &x, &y, &w, &hh));
    assert_false(display_take_dirty_locked(f->d, &x, &y, &w, &hh));
    pthread_mutex_unlock(&f->d->lock);
    /* Unref of the shown resource blanks the screen. */
    uint32_t a[] = {1, 0};
    assert_int_equal(cmd(h, DETACH, a, 2), OK_NODATA);
    assert_int_equal(cmd(h, DETACH, a, 2), ERR_UNSPEC);
    assert_int_equal(transfer(h, 1, 0, 0, 1, 1, 0), ERR_UNSPEC); /* no backing */
    assert_int_equal(cmd(h, UNREF, a, 2), OK_NODATA);
    assert_int_equal(f->d->width, 0);
    assert_int_equal(cmd(h, UNREF, a, 2), ERR_RESOURCE);
}

static void test_formats(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    /* Bytes 0x11 0x22 0x33 0x44 in memory, read by each format. */
    static const struct {
        uint32_t fmt, want;
    } t[] = {{1, 0x332211},  {2, 0x332211},   {3, 0x223344},  {4, 0x223344},
             {67, 0x112233}, {134, 0x112233}, {68, 0x443322}, {121, 0x443322}};
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t id = 10 + i;
        memcpy(h_ptr(h, BACK), "\x11\x22\x33\x44", 4);
        assert_int_equal(create(h, id, t[i].fmt, 1, 1), OK_NODATA);
        uint64_t e[] = {BACK, 4};
        assert_int_equal(attach(h, id, e, 1), OK_NODATA);
        assert_int_equal(transfer(h, id, 0, 0, 1, 1, 0), OK_NODATA);
        assert_int_equal(scanout(h, 0, id, 1, 1), OK_NODATA);
        assert_int_equal(pixel(f->d, 0, 0), t[i].want);
    }
}

static void test_hostile(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    assert_int_equal(create(h, 0, 2, 8, 8), ERR_RESOURCE);
    assert_int_equal(create(h, 5, 999, 8, 8), ERR_PARAM);
    assert_int_equal(create(h, 5, 2, 0, 8), ERR_PARAM);
    assert_int_equal(create(h, 5, 2, GPU_MAX_DIM + 1, 1), ERR_PARAM);
    /* 16384 x 16384 x 4 = 1 GiB: over the per-VM budget. */
    assert_int_equal(create(h, 5, 2, GPU_MAX_DIM, GPU_MAX_DIM), ERR_OOM);
    assert_int_equal(create(h, 5, 2, 8, 8), OK_NODATA);
    assert_int_equal(create(h, 5, 2, 8, 8), ERR_RESOURCE); /* twice */
    /* Backing outside RAM, straddling its end, zero or too many entries. */
    uint64_t out[] = {0x1000, 256};
    assert_int_equal(attach(h, 5, out, 1), ERR_PARAM);
    uint64_t tail[] = {H_RAM_BASE + H_RAM_SIZE - 16, 256};
    assert_int_equal(attach(h, 5, tail, 1), ERR_PARAM);
    assert_int_equal(attach(h, 5, out, 0), ERR_PARAM);
    uint8_t req[40] = {0};
    uint32_t v = ATTACH;
    memcpy(req, &v, 4);
    v = 5;
    memcpy(req + 24, &v, 4);
    v = GPU_MAX_ENTRIES + 1;
    memcpy(req + 28, &v, 4);
    assert_int_equal(cmd_raw(h, req, 40, 64), ERR_PARAM);
    v = 100; /* claims 100 entries, carries none */
    memcpy(req + 28, &v, 4);
    assert_int_equal(cmd_raw(h, req, 40, 64), ERR_PARAM);
    assert_int_equal(attach(h, 77, out, 1), ERR_RESOURCE);
    /* A backing smaller than the resource: transfers past it fail. */
    uint64_t small[] = {BACK, 100};
    assert_int_equal(attach(h, 5, small, 1), OK_NODATA);
    assert_int_equal(attach(h, 5, small, 1), ERR_UNSPEC); /* already attached */
    assert_int_equal(transfer(h, 5, 0, 0, 8, 8, 0), ERR_PARAM);
    assert_int_equal(transfer(h, 5, 0, 0, 8, 1, 0), OK_NODATA);
    assert_int_equal(transfer(h, 5, 0, 0, 8, 1, ~0ull - 8), ERR_PARAM);
    assert_int_equal(transfer(h, 5, 4, 0, 5, 1, 0), ERR_PARAM);          /* past the right edge */
    assert_int_equal(transfer(h, 5, 0, 0xffffffff, 1, 2, 0), ERR_PARAM); /* wraps */
    /* Scanouts: only 0, rectangles inside the resource. */
    assert_int_equal(scanout(h, 1, 5, 8, 8), ERR_SCANOUT);
    assert_int_equal(scanout(h, 0, 5, 9, 8), ERR_PARAM);
    assert_int_equal(scanout(h, 0, 6, 8, 8), ERR_RESOURCE);
    assert_int_equal(flush(h, 5, 0, 0, 9, 9), ERR_PARAM);
    assert_int_equal(flush(h, 6, 0, 0, 1, 1), ERR_RESOURCE);
    /* Unknown commands (3D ones too), short requests. */
    assert_int_equal(cmd(h, 0x200, NULL, 0), ERR_UNSPEC);
    assert_int_equal(cmd(h, 0xdead, NULL, 0), ERR_UNSPEC);
    uint32_t t = CREATE_2D;
    memcpy(req, &t, 4);
    assert_int_equal(cmd_raw(h, req, 24, 64), ERR_PARAM);
    assert_int_equal(cmd_raw(h, req, 8, 64), ERR_PARAM);
    /* The resource count is bounded. */
    unsigned made = 1;
    for (uint32_t id = 100; id < 100 + GPU_MAX_RESOURCES + 2; id++)
        if (create(h, id, 2, 1, 1) == OK_NODATA)
            made++;
    assert_int_equal(made, GPU_MAX_RESOURCES);
    /* The device still works. */
    assert_int_equal(cmd(h, GET_DISPLAY_INFO, NULL, 0), OK_DISPLAY_INFO);
    assert_false(h_needs_reset(h));
}

static void test_edid(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    /* Not negotiated (the fixture's driver took VERSION_1 only). */
    uint32_t scanout[] = {0, 0};
    assert_int_equal(cmd(h, 0x10a, scanout, 2), ERR_UNSPEC);
    assert_true(h_device_features(h) & (1ull << 1));
    h_wr(h, 0x70, 0);
    assert_true(h_start(h, H_F_V1 | (1ull << 1), 2, 64));
    assert_int_equal(cmd(h, 0x10a, scanout, 2), 0x1104);
    uint32_t size;
    memcpy(&size, h_ptr(h, RESP + 24), 4);
    assert_int_equal(size, 128);
    const uint8_t *e = h_ptr(h, RESP + 32);
    static const uint8_t header[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
    assert_memory_equal(e, header, 8);
    uint8_t sum = 0;
    for (int i = 0; i < 128; i++)
        sum = (uint8_t)(sum + e[i]);
    assert_int_equal(sum, 0);
    /* The preferred mode is the offered one: 1024 x 768. */
    assert_int_equal(e[56] | (e[58] >> 4) << 8, GPU_DEFAULT_WIDTH);
    assert_int_equal(e[59] | (e[61] >> 4) << 8, GPU_DEFAULT_HEIGHT);
    uint32_t used_id, used_len;
    h_used_elem(h, 0, (uint16_t)(h_used_idx(h, 0) - 1), &used_id, &used_len);
    assert_int_equal(used_len, 24 + 8 + 1024);
    scanout[0] = 3;
    assert_int_equal(cmd(h, 0x10a, scanout, 2), ERR_SCANOUT);
}

static void test_fence(void **state)
{
    struct fixture *f = *state;
    uint8_t req[24] = {0};
    uint32_t t = GET_DISPLAY_INFO, fl = 1;
    uint64_t fence = 0x1122334455667788ull;
    memcpy(req, &t, 4);
    memcpy(req + 4, &fl, 4);
    memcpy(req + 8, &fence, 8);
    assert_int_equal(cmd_raw(&f->h, req, 24, 512), OK_DISPLAY_INFO);
    uint32_t rfl;
    uint64_t rfence;
    memcpy(&rfl, h_ptr(&f->h, RESP + 4), 4);
    memcpy(&rfence, h_ptr(&f->h, RESP + 8), 8);
    assert_int_equal(rfl & 1, 1);
    assert_true(rfence == fence);
}

static void test_state(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    show_resource(h);
    assert_int_equal(create(h, 2, 67, 4, 4), OK_NODATA);
    struct state_writer w;
    state_writer_init(&w);
    virtio_mmio_dev_ops.save(h->vdev, &w);
    struct display *d2 = display_new();
    struct virtio_dev *copy = virtio_gpu_create(&h->bus, h_irq(h), d2, 0, 0);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(virtio_mmio_dev_ops.load(copy, &r, 1));
    /* The screen comes back from the saved resource. */
    assert_int_equal(d2->width, 64);
    assert_int_equal(d2->height, 32);
    assert_memory_equal(d2->pixels, f->d->pixels, 64 * 32 * 4);
    virtio_mmio_dev_ops.destroy(copy);
    for (size_t cut = 0; cut < w.len; cut += 97) {
        struct virtio_dev *t = virtio_gpu_create(&h->bus, h_irq(h), d2, 0, 0);
        state_reader_init(&r, w.buf, cut);
        assert_false(virtio_mmio_dev_ops.load(t, &r, 1));
        virtio_mmio_dev_ops.destroy(t);
    }
    display_free(d2);
    state_writer_free(&w);
}

static void test_cursor_queue(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    uint8_t req[56] = {0};
    uint32_t t = 0x300;
    memcpy(req, &t, 4);
    memcpy(h_ptr(h, REQ), req, sizeof(req));
    struct h_buf b = {REQ, sizeof(req), false};
    h_publish(h, 1, h_chain(h, 1, &b, 1));
    h_notify(h, 1);
    assert_int_equal(h_used_idx(h, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_display_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
