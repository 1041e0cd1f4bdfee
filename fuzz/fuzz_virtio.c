/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtqueue and the virtio-blk / virtio-net
 * request paths, driven by a hostile guest.  The input is a small program
 * a fake driver runs against one device on a bare bus (the device tests'
 * harness, tests/dev/virtio_harness.h): descriptors anywhere (inside the
 * data area, on top of the rings, outside RAM), available-ring entries and
 * raw indices, request bytes, notifies, raw register accesses, resets and
 * (virtio-net) frames arriving from the backend.
 *
 * Guest RAM sits between two inaccessible pages, so a device touching
 * memory outside RAM faults; every write the device reports must lie in
 * RAM; libFuzzer's -timeout and -rss_limit_mb catch loops and unbounded
 * growth, its leak check lost requests.
 *
 * Input: a 12-byte header, then commands (see run_command):
 *   [0]     bit 0: virtio-net (else virtio-blk); bit 1: read-only disk;
 *           bit 2: discard on
 *   [1..8]  le64 mask ANDed with the offered features (VERSION_1 ...)
 *   [9..10] le16 queue size written to QueueNum (the device checks it)
 *   [11]    reserved
 * fuzz/gen_virtio_corpus.py writes the seed corpus.
 *
 * Build: make fuzz-virtio; run: tests/fuzz/test_fuzz.sh or make fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "net/net.h"
#include "util/log.h"
#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

#define RAM_SIZE  (2u << 20) /* rings at +64 KiB.., the data area at +1 MiB */
#define PAGE      4096u
#define DISK_SIZE (1u << 20)
#define DATA_SIZE (RAM_SIZE - (H_DATA - H_RAM_BASE))
#define NQ_MAX    2

enum op {
    OP_DESC,       /* u8 q, u8 where, u16 idx, u8 mode, addr, le32 len, le16 flags, le16 next */
    OP_PUBLISH,    /* u8 q, le16 head: the next available entry */
    OP_AVAIL_IDX,  /* u8 q, le16 idx: avail->idx set to anything */
    OP_DATA,       /* le16 off, u8 n, n bytes: written into the data area */
    OP_NOTIFY,     /* u8 q (not checked: the device must) */
    OP_WAIT,       /* lets the virtio-blk worker catch up */
    OP_RESET,      /* status 0, then the bring-up again */
    OP_MMIO_WRITE, /* le16 off, le32 value */
    OP_MMIO_READ,  /* le16 off, u8 width */
    OP_RX,         /* le16 len, len bytes: a frame from the network */
    OP_EVENT,      /* u8 q, le16 used_event, le16 avail flags */
    OP_COUNT
};

struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t b = in->left ? (in->left--, *in->p++) : 0;
        v |= b << (8 * i);
    }
    return v;
}

struct fake_net {
    struct net_backend nb;
    unsigned frames_sent;
};

static void fake_send(struct net_backend *nb, const void *frame, size_t len)
{
    (void)frame;
    (void)len;
    ((struct fake_net *)nb)->frames_sent++;
}

static void fake_close(struct net_backend *nb)
{
    (void)nb;
}

static const struct net_backend_ops fake_net_ops = {
    .name = "fuzz", .tso4_max_frame = 0, .send = fake_send, .close = fake_close};

struct fuzz_guest {
    struct harness h;
    uint8_t *mapping; /* RAM plus one guard page each side */
    struct fake_net net;
    bool is_net;
    uint64_t feature_mask;
    uint16_t qsize;
    unsigned nq;
};

static int disk_fd = -1;

static bool guest_ram_new(struct fuzz_guest *g)
{
    memset(&g->h, 0, sizeof(g->h));
    g->mapping = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->mapping == MAP_FAILED)
        return false;
    if (mprotect(g->mapping + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE)) {
        munmap(g->mapping, RAM_SIZE + 2 * PAGE);
        return false;
    }
    struct bus *bus = &g->h.bus;
    bus->ram = g->mapping + PAGE;
    bus->ram_base = H_RAM_BASE;
    bus->ram_size = RAM_SIZE;
    pthread_mutex_init(&bus->io_lock, NULL);
    bus->ram_write_hook = h_ram_written;
    bus->ram_write_hook_opaque = &g->h;
    return true;
}

static void guest_ram_free(struct fuzz_guest *g)
{
    pthread_mutex_destroy(&g->h.bus.io_lock);
    munmap(g->mapping, RAM_SIZE + 2 * PAGE);
}

/* The driver's bring-up; the device may refuse any step. */
static void bring_up(struct fuzz_guest *g)
{
    struct harness *h = &g->h;
    /* The harness indexes its rings by qnum: keep it usable whatever the
     * device made of the size, or of the bring-up. */
    uint16_t usable = g->qsize && g->qsize <= 256 ? g->qsize : 1;
    for (unsigned q = 0; q < g->nq; q++) {
        h->qnum[q] = usable;
    }
    if (!h_negotiate(h, h_device_features(h) & g->feature_mask))
        return;
    for (unsigned q = 0; q < g->nq; q++) {
        h_setup_queue(h, q, g->qsize);
        h->qnum[q] = usable;
    }
    h_driver_ok(h);
}

static uint64_t address(struct input *in, unsigned mode)
{
    switch (mode % 4) {
    case 0: /* the data area */
        return H_DATA + take(in, 4) % DATA_SIZE;
    case 1: /* anywhere from the start of RAM on, past its end too */
        return H_RAM_BASE + take(in, 4);
    case 2: /* the rings: buffers overlapping the device's own structures */
        return H_RAM_BASE + take(in, 4) % (H_DATA - H_RAM_BASE);
    default:
        return take(in, 8);
    }
}

/* Waits until virtio-blk has completed every request it took (the
 * virtqueue counts them in flight); virtio-net completes within the notify. */
static void wait_for_device(struct fuzz_guest *g)
{
    struct harness *h = &g->h;
    /* Bounded: a device that really hangs shows up in -timeout. */
    for (int i = 0; i < 20000; i++) {
        unsigned inflight = 0;
        pthread_mutex_lock(&h->bus.io_lock);
        for (unsigned q = 0; q < g->nq; q++)
            inflight += h->vdev->vq[q].inflight;
        pthread_mutex_unlock(&h->bus.io_lock);
        if (!inflight)
            return;
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
}

/* A driver cannot have more requests outstanding than its queue has
 * entries (the split-ring rules: an avail index further ahead is an error);
 * a device that takes more lets a guest grow host memory without bound. */
static void check_inflight(struct fuzz_guest *g)
{
    struct harness *h = &g->h;
    pthread_mutex_lock(&h->bus.io_lock);
    for (unsigned q = 0; q < g->nq; q++) {
        const struct virtq *vq = &h->vdev->vq[q];
        if (vq->inflight > vq->num) {
            fprintf(stderr, "fuzz_virtio: queue %u: %u requests in flight, the queue has %u\n", q,
                    vq->inflight, vq->num);
            abort();
        }
    }
    pthread_mutex_unlock(&h->bus.io_lock);
}

static void inject_frame(struct fuzz_guest *g, struct input *in)
{
    size_t len = (size_t)take(in, 2);
    static uint8_t frame[65536];
    size_t n = len < in->left ? len : in->left;
    memcpy(frame, in->p, n);
    memset(frame + n, 0xab, len - n);
    in->p += n;
    in->left -= n;
    struct net_backend *nb = &g->net.nb;
    pthread_mutex_lock(&g->h.bus.io_lock);
    if (nb->can_receive && nb->can_receive(nb->opaque))
        nb->receive(nb->opaque, frame, len);
    pthread_mutex_unlock(&g->h.bus.io_lock);
}

static void run_command(struct fuzz_guest *g, struct input *in)
{
    struct harness *h = &g->h;
    unsigned op = (unsigned)take(in, 1) % OP_COUNT;
    switch (op) {
    case OP_DESC: {
        unsigned q = (unsigned)take(in, 1) % g->nq;
        bool in_data = take(in, 1) & 1;
        unsigned idx = (unsigned)take(in, 2);
        unsigned mode = (unsigned)take(in, 1);
        uint64_t addr = address(in, mode);
        uint32_t len = (uint32_t)take(in, 4);
        uint16_t flags = (uint16_t)take(in, 2), next = (uint16_t)take(in, 2);
        /* An indirect table lives at the start of the data area. */
        uint64_t table = in_data ? H_DATA : H_RING(q);
        idx %= in_data ? 4096 : h->qnum[q];
        h_desc_at(h, table, idx, addr, len, flags, next);
        break;
    }
    case OP_PUBLISH: {
        unsigned q = (unsigned)take(in, 1) % g->nq;
        h_publish(h, q, (uint16_t)take(in, 2));
        break;
    }
    case OP_AVAIL_IDX: {
        unsigned q = (unsigned)take(in, 1) % g->nq;
        h->avail_idx[q] = (uint16_t)take(in, 2);
        h_set_avail_idx(h, q, h->avail_idx[q]);
        break;
    }
    case OP_DATA: {
        uint64_t off = take(in, 2);
        size_t n = (size_t)take(in, 1);
        if (n > in->left)
            n = in->left;
        memcpy(h_ptr(h, H_DATA + off), in->p, n);
        in->p += n;
        in->left -= n;
        break;
    }
    case OP_NOTIFY:
        h_notify(h, (unsigned)take(in, 1));
        check_inflight(g);
        break;
    case OP_WAIT:
        wait_for_device(g);
        break;
    case OP_RESET:
        h_wr(h, 0x70, 0);
        bring_up(g);
        break;
    case OP_MMIO_WRITE: {
        uint64_t off = take(in, 2) & 0x1fc;
        h_wr(h, off, (uint32_t)take(in, 4));
        break;
    }
    case OP_MMIO_READ: {
        uint64_t off = take(in, 2) & 0x1ff;
        unsigned width = 1u << (take(in, 1) % 3);
        pthread_mutex_lock(&h->bus.io_lock);
        virtio_mmio_dev_ops.read(h->vdev, off & ~(uint64_t)(width - 1), width);
        pthread_mutex_unlock(&h->bus.io_lock);
        break;
    }
    case OP_RX:
        if (g->is_net)
            inject_frame(g, in);
        break;
    case OP_EVENT: {
        unsigned q = (unsigned)take(in, 1) % g->nq;
        h_set_used_event(h, q, (uint16_t)take(in, 2));
        h_set_avail_flags(h, q, (uint16_t)take(in, 2));
        break;
    }
    }
}

static bool create_device(struct fuzz_guest *g, uint8_t kind)
{
    g->is_net = kind & 1;
    if (g->is_net) {
        memset(&g->net, 0, sizeof(g->net));
        g->net.nb.ops = &fake_net_ops;
        memcpy(g->net.nb.mac, "\x52\x54\x00\x12\x34\x56", 6);
        g->h.vdev = virtio_net_create(&g->h.bus, h_irq(&g->h), &g->net.nb);
        g->nq = 2;
    } else {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", disk_fd);
        struct block_dev *bd;
        char err[256];
        unsigned flags = BLOCK_OPEN_NO_LOCK | (kind & 2 ? BLOCK_OPEN_READ_ONLY : 0);
        if (block_open(path, "raw", flags, &bd, err, sizeof(err)) < 0) {
            fprintf(stderr, "fuzz_virtio: %s\n", err);
            abort();
        }
        g->h.vdev = virtio_blk_create(&g->h.bus, h_irq(&g->h), bd, "fuzz", kind & 4);
        if (!g->h.vdev)
            block_close(bd);
        g->nq = 1;
    }
    return g->h.vdev != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (disk_fd < 0) {
        log_set_file(fopen(getenv("FUZZ_LOG") ? getenv("FUZZ_LOG") : "/dev/null", "w"));
        disk_fd = memfd_create("fuzz-virtio-disk", 0);
        if (disk_fd < 0 || ftruncate(disk_fd, DISK_SIZE) < 0)
            abort();
    }
    if (size < 12)
        return 0;
    struct input in = {data, size};
    static struct fuzz_guest g;
    if (!guest_ram_new(&g))
        return 0;
    uint8_t kind = (uint8_t)take(&in, 1);
    g.feature_mask = take(&in, 8);
    g.qsize = (uint16_t)take(&in, 2);
    take(&in, 1);
    if (create_device(&g, kind)) {
        bring_up(&g);
        while (in.left)
            run_command(&g, &in);
        wait_for_device(&g);
        virtio_mmio_dev_ops.destroy(g.h.vdev);
        g.h.vdev = NULL;
        if (g.h.bad_writes) {
            fprintf(stderr, "fuzz_virtio: the device wrote outside guest RAM\n");
            abort();
        }
    }
    guest_ram_free(&g);
    return 0;
}
