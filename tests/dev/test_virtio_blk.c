/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk without a guest: requests built by hand against a raw image
 * in a temporary file; checks data on the file, status bytes, read-only
 * disks, flush, discard / write-zeroes, get-id, hostile requests, reset
 * with requests in flight, and option parsing.
 */
#include <endian.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "block/block.h"
#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

#define DISK_SIZE (4u << 20)
#define T_IN      0
#define T_OUT     1
#define T_FLUSH   4
#define T_GET_ID  8
#define T_DISCARD 11
#define T_WZ      13
#define F_RO      (1ull << 5)
#define F_FLUSH   (1ull << 9)
#define F_DISCARD (1ull << 13)
#define F_WZ      (1ull << 14)

#define HDR    (H_DATA)
#define STATUS (H_DATA + 0x800)
#define BUF    (H_DATA + 0x10000)

struct fixture {
    struct harness h;
    char path[64];
    bool vdev_on_bus; /* the bus destroys h.vdev */
};

static void make_image(struct fixture *f)
{
    snprintf(f->path, sizeof(f->path), "/tmp/wirt-test-blk-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(DISK_SIZE);
    for (unsigned i = 0; i < DISK_SIZE; i++)
        buf[i] = (uint8_t)(i / 512 + i);
    assert_int_equal(write(fd, buf, DISK_SIZE), DISK_SIZE);
    free(buf);
    close(fd);
}

static void open_dev(struct fixture *f, bool ro, const char *serial, bool discard)
{
    struct block_dev *bd;
    char err[256];
    int r = block_open(f->path, "raw", ro ? BLOCK_OPEN_READ_ONLY : 0, &bd, err, sizeof(err));
    if (r < 0)
        fail_msg("block_open: %s", err);
    f->h.vdev = virtio_blk_create(&f->h.bus, h_irq(&f->h), bd, serial, discard);
    assert_non_null(f->h.vdev);
}

static int setup_common(void **state, bool ro)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_true(h_init(&f->h));
    make_image(f);
    open_dev(f, ro, "wirt-serial-1", true);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, false);
}

static int setup_ro(void **state)
{
    return setup_common(state, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->h.bad_writes, 0);
    if (f->vdev_on_bus)
        f->h.vdev = NULL;
    h_destroy(&f->h);
    unlink(f->path);
    free(f);
    return 0;
}

static void start(struct fixture *f)
{
    uint64_t feat = h_device_features(&f->h);
    assert_true(h_start(&f->h, feat, 1, 64));
}

static void put_hdr(struct harness *h, uint32_t type, uint64_t sector)
{
    uint8_t *p = h_ptr(h, HDR);
    uint32_t t = htole32(type), z = 0;
    uint64_t s = htole64(sector);
    memcpy(p, &t, 4);
    memcpy(p + 4, &z, 4);
    memcpy(p + 8, &s, 8);
    *h_ptr(h, STATUS) = 0xee;
}

/* Submits hdr + data + status and waits for completion; returns the status
 * byte and the used length. */
static uint8_t submit(struct fixture *f, uint32_t type, uint64_t sector, uint64_t data,
                      uint32_t len, bool data_write, uint32_t *used_len)
{
    struct harness *h = &f->h;
    put_hdr(h, type, sector);
    struct h_buf b[3];
    unsigned n = 0;
    b[n++] = (struct h_buf){HDR, 16, false};
    if (len)
        b[n++] = (struct h_buf){data, len, data_write};
    b[n++] = (struct h_buf){STATUS, 1, true};
    uint16_t want = (uint16_t)(h_used_idx(h, 0) + 1);
    h_publish(h, 0, h_chain(h, 0, b, n));
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, want));
    uint32_t id, ulen;
    h_used_elem(h, 0, (uint16_t)(want - 1), &id, &ulen);
    if (used_len)
        *used_len = ulen;
    return *h_ptr(h, STATUS);
}

static void read_file(struct fixture *f, uint64_t off, void *buf, size_t len)
{
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void test_config(void **state)
{
    struct fixture *f = *state;
    uint64_t cap = virtio_mmio_dev_ops.read(f->h.vdev, 0x100, 4) |
                   virtio_mmio_dev_ops.read(f->h.vdev, 0x104, 4) << 32;
    assert_int_equal(cap, DISK_SIZE / 512);
    assert_int_equal(h_rd(&f->h, 0x008), 2);
    uint64_t feat = h_device_features(&f->h);
    assert_true(feat & F_FLUSH);
    assert_true(feat & F_DISCARD);
    assert_true(feat & F_WZ);
    assert_false(feat & F_RO);
    assert_int_equal(virtio_mmio_dev_ops.read(f->h.vdev, 0x100 + 20, 4), 512); /* blk_size */
}

static void test_read(void **state)
{
    struct fixture *f = *state;
    start(f);
    uint32_t ulen;
    assert_int_equal(submit(f, T_IN, 3, BUF, 4096, true, &ulen), 0);
    assert_int_equal(ulen, 4097);
    uint8_t expect[4096];
    read_file(f, 3 * 512, expect, sizeof(expect));
    assert_memory_equal(h_ptr(&f->h, BUF), expect, 4096);
    assert_true(f->h.irq_level);
}

static void test_write_flush(void **state)
{
    struct fixture *f = *state;
    start(f);
    uint8_t *p = h_ptr(&f->h, BUF);
    for (int i = 0; i < 8192; i++)
        p[i] = (uint8_t)(i * 7);
    assert_int_equal(submit(f, T_OUT, 100, BUF, 8192, false, NULL), 0);
    assert_int_equal(submit(f, T_FLUSH, 0, 0, 0, false, NULL), 0);
    uint8_t got[8192];
    read_file(f, 100 * 512, got, sizeof(got));
    assert_memory_equal(got, p, sizeof(got));
}

static void test_out_of_range(void **state)
{
    struct fixture *f = *state;
    start(f);
    assert_int_equal(submit(f, T_IN, DISK_SIZE / 512 - 1, BUF, 1024, true, NULL), 1);
    assert_int_equal(submit(f, T_IN, ~0ull / 2, BUF, 512, true, NULL), 1);
    assert_int_equal(submit(f, T_OUT, DISK_SIZE / 512, BUF, 512, false, NULL), 1);
    /* Not a whole number of sectors. */
    assert_int_equal(submit(f, T_IN, 0, BUF, 100, true, NULL), 1);
    /* The last sector is fine. */
    assert_int_equal(submit(f, T_IN, DISK_SIZE / 512 - 1, BUF, 512, true, NULL), 0);
    assert_false(h_needs_reset(&f->h));
}

static void test_unknown_type(void **state)
{
    struct fixture *f = *state;
    start(f);
    assert_int_equal(submit(f, 77, 0, 0, 0, false, NULL), 2);
}

static void test_get_id(void **state)
{
    struct fixture *f = *state;
    start(f);
    memset(h_ptr(&f->h, BUF), 0x55, 32);
    uint32_t ulen;
    assert_int_equal(submit(f, T_GET_ID, 0, BUF, 20, true, &ulen), 0);
    assert_int_equal(ulen, 21);
    assert_string_equal((char *)h_ptr(&f->h, BUF), "wirt-serial-1");
    assert_int_equal(h_ptr(&f->h, BUF)[20], 0x55);
}

static void put_range(struct harness *h, uint64_t sector, uint32_t n, uint32_t flags)
{
    uint8_t *p = h_ptr(h, BUF);
    uint64_t s = htole64(sector);
    uint32_t nn = htole32(n), fl = htole32(flags);
    memcpy(p, &s, 8);
    memcpy(p + 8, &nn, 4);
    memcpy(p + 12, &fl, 4);
}

static void test_write_zeroes_discard(void **state)
{
    struct fixture *f = *state;
    start(f);
    put_range(&f->h, 8, 16, 0);
    assert_int_equal(submit(f, T_WZ, 0, BUF, 16, false, NULL), 0);
    uint8_t got[16 * 512], zero[16 * 512] = {0};
    read_file(f, 8 * 512, got, sizeof(got));
    assert_memory_equal(got, zero, sizeof(got));
    put_range(&f->h, 40, 8, 1); /* unmap allowed */
    assert_int_equal(submit(f, T_WZ, 0, BUF, 16, false, NULL), 0);
    read_file(f, 40 * 512, got, 8 * 512);
    assert_memory_equal(got, zero, 8 * 512);
    put_range(&f->h, 64, 8, 0);
    assert_int_equal(submit(f, T_DISCARD, 0, BUF, 16, false, NULL), 0);
    /* Unmap on discard and unknown flags are not supported; ranges past
     * the end are errors. */
    put_range(&f->h, 64, 8, 1);
    assert_int_equal(submit(f, T_DISCARD, 0, BUF, 16, false, NULL), 2);
    put_range(&f->h, 64, 8, 4);
    assert_int_equal(submit(f, T_WZ, 0, BUF, 16, false, NULL), 2);
    put_range(&f->h, DISK_SIZE / 512 - 4, 8, 0);
    assert_int_equal(submit(f, T_WZ, 0, BUF, 16, false, NULL), 1);
}

static void test_read_only(void **state)
{
    struct fixture *f = *state;
    uint64_t feat = h_device_features(&f->h);
    assert_true(feat & F_RO);
    assert_false(feat & F_WZ);
    start(f);
    uint8_t before[4096], after[4096];
    read_file(f, 0, before, sizeof(before));
    memset(h_ptr(&f->h, BUF), 0x99, 4096);
    assert_int_equal(submit(f, T_OUT, 0, BUF, 4096, false, NULL), 1);
    put_range(&f->h, 0, 8, 0);
    assert_int_equal(submit(f, T_WZ, 0, BUF, 16, false, NULL), 1);
    read_file(f, 0, after, sizeof(after));
    assert_memory_equal(before, after, sizeof(before));
    /* Reads still work. */
    assert_int_equal(submit(f, T_IN, 0, BUF, 4096, true, NULL), 0);
    assert_memory_equal(h_ptr(&f->h, BUF), before, 4096);
}

static void test_hostile_requests(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    start(f);
    /* A read whose data buffer is device-readable: the device cannot write
     * into it, so the request fails. */
    assert_int_equal(submit(f, T_IN, 0, BUF, 512, false, NULL), 1);
    /* Header shorter than 16 bytes. */
    struct h_buf b[] = {{HDR, 8, false}, {STATUS, 1, true}};
    uint16_t want = (uint16_t)(h_used_idx(h, 0) + 1);
    *h_ptr(h, STATUS) = 0xee;
    h_publish(h, 0, h_chain(h, 0, b, 2));
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, want));
    assert_int_equal(*h_ptr(h, STATUS), 1);
    /* No writable byte at all: completes with length 0. */
    struct h_buf c[] = {{HDR, 16, false}};
    put_hdr(h, T_IN, 0);
    want++;
    h_publish(h, 0, h_chain(h, 0, c, 1));
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, want));
    uint32_t id, len;
    h_used_elem(h, 0, (uint16_t)(want - 1), &id, &len);
    assert_int_equal(len, 0);
    assert_false(h_needs_reset(h));
    /* Data outside RAM breaks the queue rather than reaching the disk. */
    struct h_buf d[] = {
        {HDR, 16, false}, {H_RAM_BASE + H_RAM_SIZE - 256, 512, true}, {STATUS, 1, true}};
    put_hdr(h, T_IN, 0);
    h_publish(h, 0, h_chain(h, 0, d, 3));
    h_notify(h, 0);
    assert_true(h_needs_reset(h));
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
    /* And the device works again after a reset. */
    start(f);
    assert_int_equal(submit(f, T_IN, 0, BUF, 512, true, NULL), 0);
}

static void test_reset_in_flight(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    start(f);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 30; i++) {
            struct h_buf b[] = {{HDR, 16, false}, {BUF, 65536, true}, {STATUS, 1, true}};
            put_hdr(h, T_IN, 0);
            h_publish(h, 0, h_chain(h, 0, b, 3));
        }
        h_notify(h, 0);
        h_wr(h, 0x70, 0); /* reset with requests queued and running */
        assert_int_equal(h->vdev->vq[0].inflight, 0);
        start(f);
    }
    assert_int_equal(submit(f, T_IN, 0, BUF, 512, true, NULL), 0);
}

/* Chains a 1 MiB read of sector 0 and returns its head. */
static uint16_t big_read(struct harness *h)
{
    put_hdr(h, T_IN, 0);
    struct h_buf b[] = {{HDR, 16, false}, {BUF, 1u << 20, true}, {STATUS, 1, true}};
    return h_chain(h, 0, b, 3);
}

/* The guest keeps advancing avail->idx by a queue's worth and notifying
 * while nothing completes (the worker cannot take the I/O lock the notify
 * holds).  Before the bound every notify queued 64 more requests. */
static void test_avail_flood(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    start(f);
    uint16_t head = big_read(h);
    pthread_mutex_lock(&h->bus.io_lock);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 64; i++)
            h_publish(h, 0, head);
        virtio_mmio_dev_ops.write(h->vdev, 0x50, 4, 0);
    }
    uint16_t inflight = h->vdev->vq[0].inflight;
    pthread_mutex_unlock(&h->bus.io_lock);
    assert_true(inflight <= 64);
    assert_true(h_needs_reset(h));
    assert_true(h_rd(h, 0x60) & VIRTIO_INT_CONFIG);
    /* A reset drops it all and the device works again. */
    start(f);
    assert_int_equal(submit(f, T_IN, 0, BUF, 512, true, NULL), 0);
}

/* Stands in for the PLIC and the harts at power-off: once the board has
 * destroyed it, no device may raise a line or write RAM any more. */
static bool controller_gone;
static unsigned late_irqs, late_writes;

static void late_irq_set(void *target, unsigned num, bool level)
{
    (void)target;
    (void)num;
    (void)level;
    if (controller_gone)
        late_irqs++;
}

static void late_ram_written(void *opaque, uint64_t pa, uint64_t len)
{
    (void)opaque;
    (void)pa;
    (void)len;
    if (controller_gone)
        late_writes++;
}

static void controller_destroy(void *dev)
{
    (void)dev;
    controller_gone = true;
}

static const struct dev_ops controller_ops = {.name = "fake-plic", .destroy = controller_destroy};

/* Power-off right after a flood of requests: the board's bus tear-down
 * must stop the worker (and flush) before it destroys the interrupt
 * controller and the harts the worker reaches. */
static void test_power_off_under_load(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    h_destroy(h); /* this test builds its own bus */
    for (int round = 0; round < 10; round++) {
        controller_gone = false;
        late_irqs = late_writes = 0;
        assert_true(h_init(h));
        h->bus.ram_write_hook = late_ram_written;
        struct block_dev *bd;
        char err[256];
        assert_int_equal(block_open(f->path, "raw", 0, &bd, err, sizeof(err)), 0);
        struct irq_line line = {.set = late_irq_set, .target = h, .num = 1};
        /* Added first, like the PLIC on the board. */
        assert_true(bus_add_device(&h->bus, 0x0c000000, 0x1000, &controller_ops, h));
        h->vdev = virtio_blk_create(&h->bus, line, bd, NULL, false);
        assert_non_null(h->vdev);
        assert_true(bus_add_device(&h->bus, 0x10001000, 0x1000, &virtio_mmio_dev_ops, h->vdev));
        f->vdev_on_bus = true;
        start(f);
        uint16_t head = big_read(h);
        for (int i = 0; i < 64; i++)
            h_publish(h, 0, head);
        h_notify(h, 0);
        /* Power off once the worker is under way through the 64. */
        for (int i = 0; i < 5000 && h_used_idx(h, 0) == 0; i++)
            nanosleep(&(struct timespec){0, 100000}, NULL);
        bus_destroy(&h->bus);
        h->vdev = NULL;
        f->vdev_on_bus = false;
        assert_true(controller_gone);
        assert_int_equal(late_irqs, 0);
        assert_int_equal(late_writes, 0);
    }
    assert_true(h_init(h)); /* for teardown */
}

static void test_many_requests(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    start(f);
    /* Fill the queue with reads of different sectors into different buffers. */
    for (int i = 0; i < 64 / 3; i++) {
        uint64_t hdr = H_DATA + 0x20000 + 32ull * i, st = hdr + 16;
        uint8_t *p = h_ptr(h, hdr);
        uint32_t t = T_IN, z = 0;
        uint64_t s = (uint64_t)i;
        memcpy(p, &t, 4);
        memcpy(p + 4, &z, 4);
        memcpy(p + 8, &s, 8);
        struct h_buf b[] = {{hdr, 16, false}, {BUF + 512ull * i, 512, true}, {st, 1, true}};
        h_publish(h, 0, h_chain(h, 0, b, 3));
    }
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, 64 / 3));
    uint8_t expect[512];
    for (int i = 0; i < 64 / 3; i++) {
        read_file(f, 512ull * i, expect, 512);
        assert_memory_equal(h_ptr(h, BUF + 512ull * i), expect, 512);
        assert_int_equal(*h_ptr(h, H_DATA + 0x20000 + 32ull * i + 16), 0);
    }
}

/* Chains with many data segments of odd sizes (the bounce-buffer path). */
static void test_scatter_gather(void **state)
{
    struct fixture *f = *state;
    struct harness *h = &f->h;
    start(f);
    static const uint32_t wsz[] = {100, 412, 1536, 3000, 1096}; /* 6144 bytes */
    static const uint32_t rsz[] = {4096, 7, 505, 1536};         /* 6144 bytes */
    struct h_buf b[8];
    unsigned n = 0;
    uint8_t expect[6144];
    for (unsigned i = 0; i < sizeof(expect); i++)
        expect[i] = (uint8_t)(i * 13 + 5);
    put_hdr(h, T_OUT, 50);
    b[n++] = (struct h_buf){HDR, 16, false};
    uint64_t at = BUF, off = 0;
    for (unsigned i = 0; i < 5; i++) {
        memcpy(h_ptr(h, at), expect + off, wsz[i]);
        b[n++] = (struct h_buf){at, wsz[i], false};
        off += wsz[i];
        at += 0x2000;
    }
    b[n++] = (struct h_buf){STATUS, 1, true};
    h_publish(h, 0, h_chain(h, 0, b, n));
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, 1));
    assert_int_equal(*h_ptr(h, STATUS), 0);
    uint8_t got[6144];
    read_file(f, 50 * 512, got, sizeof(got));
    assert_memory_equal(got, expect, sizeof(got));

    n = 0;
    put_hdr(h, T_IN, 50);
    b[n++] = (struct h_buf){HDR, 16, false};
    at = BUF + 0x40000;
    for (unsigned i = 0; i < 4; i++) {
        memset(h_ptr(h, at), 0, rsz[i] + 1);
        b[n++] = (struct h_buf){at, rsz[i], true};
        at += 0x2000;
    }
    b[n++] = (struct h_buf){STATUS, 1, true};
    h_publish(h, 0, h_chain(h, 0, b, n));
    h_notify(h, 0);
    assert_true(h_wait_used(h, 0, 2));
    assert_int_equal(*h_ptr(h, STATUS), 0);
    at = BUF + 0x40000;
    off = 0;
    for (unsigned i = 0; i < 4; i++) {
        assert_memory_equal(h_ptr(h, at), expect + off, rsz[i]);
        assert_int_equal(h_ptr(h, at)[rsz[i]], 0); /* nothing past the segment */
        off += rsz[i];
        at += 0x2000;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_zeroes_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_off_under_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scatter_gather, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
