/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virtio-gpu and virtio-input, driven by a hostile
 * guest: control and cursor commands of any bytes and length, guest
 * memory for backings filled with anything, config-space selects and
 * host input events on a keyboard and a tablet, device resets, and save/
 * load round trips of both devices' state in the middle of it all.
 *
 * Guest RAM sits between two inaccessible pages (a device touching memory
 * outside RAM faults), every write the device reports must lie in RAM,
 * and libFuzzer's -rss_limit_mb / -malloc_limit_mb catch a device that
 * lets a guest grow the host beyond its bounds.
 *
 * Input: commands (see run_command), each starting with an op byte.
 * fuzz/gen_corpus.py writes the seed corpus (fuzz/corpus-gpu).
 *
 * Build: make fuzz-gpu; run: tests/fuzz/test_fuzz.sh or make fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "host/display.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio_devices.h"
#include "virtio_harness.h"

#define RAM_SIZE (4u << 20)
#define PAGE     4096u
#define REQ      (H_DATA)
#define RESP     (H_DATA + 0x1000)
#define BACKING  (H_DATA + 0x2000)
#define QSIZE    64

enum op {
    OP_CMD,     /* le16 len, len bytes: a control command */
    OP_CURSOR,  /* le16 len, len bytes: a cursor command */
    OP_DATA,    /* le32 off, u8 n, n bytes: guest memory for backings */
    OP_FILL,    /* le32 off, le32 len, u8 byte */
    OP_RESET,   /* status 0, then the bring-up again */
    OP_SAVE,    /* both devices through save and load into fresh ones */
    OP_SELECT,  /* u8 sel, u8 sub, u8 which: an input device's config */
    OP_EVENTS,  /* u8 which, u8 n, n x (le16 type, le16 code, le32 value) */
    OP_BUFFERS, /* u8 which, u8 n: event buffers posted */
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

struct fuzz_guest {
    uint8_t *mapping;
    struct harness gpu; /* guarded RAM */
    struct harness kbd; /* a tablet, on RAM of its own */
    struct display *display;
};

static struct fuzz_guest g;

static bool ram_new(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    g.mapping = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.mapping == MAP_FAILED || mprotect(g.mapping + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE))
        return false;
    h->bus.ram = g.mapping + PAGE;
    h->bus.ram_base = H_RAM_BASE;
    h->bus.ram_size = RAM_SIZE;
    pthread_mutex_init(&h->bus.io_lock, NULL);
    h->bus.ram_write_hook = h_ram_written;
    h->bus.ram_write_hook_opaque = h;
    return true;
}

static void bring_up(struct harness *h)
{
    for (unsigned q = 0; q < 2; q++)
        h->qnum[q] = QSIZE;
    if (!h_negotiate(h, H_F_V1 | H_F_INDIRECT | H_F_EVENTIDX))
        return;
    for (unsigned q = 0; q < 2; q++)
        h_setup_queue(h, q, QSIZE);
    h_driver_ok(h);
}

/* One chain of a readable request and a writable response. */
static void send(struct harness *h, unsigned q, struct input *in)
{
    uint16_t len = (uint16_t)(take(in, 2) % 2048);
    for (uint16_t i = 0; i < len; i++)
        h_ptr(h, REQ)[i] = (uint8_t)take(in, 1);
    struct h_buf b[] = {{REQ, len, false}, {RESP, 512, true}};
    h_publish(h, q, h_chain(h, q, b, 2));
    h_notify(h, q);
}

static struct virtio_dev *round_trip(struct harness *h,
                                     struct virtio_dev *(*make)(struct harness *))
{
    struct state_writer w;
    state_writer_init(&w);
    pthread_mutex_lock(&h->bus.io_lock);
    virtio_mmio_dev_ops.save(h->vdev, &w);
    pthread_mutex_unlock(&h->bus.io_lock);
    struct virtio_dev *copy = make(h);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    if (!virtio_mmio_dev_ops.load(copy, &r, 1)) {
        fprintf(stderr, "fuzz_gpu: %s refused its own state\n", copy->ops->name);
        abort();
    }
    state_writer_free(&w);
    return copy;
}

static struct virtio_dev *make_gpu(struct harness *h)
{
    return virtio_gpu_create(&h->bus, h_irq(h), g.display, 0, 0);
}

static struct virtio_dev *make_kbd(struct harness *h)
{
    return virtio_input_create(&h->bus, h_irq(h), VIRTIO_INPUT_TABLET);
}

static void run_command(struct input *in)
{
    struct harness *h = &g.gpu;
    switch (take(in, 1) % OP_COUNT) {
    case OP_CMD:
        send(h, 0, in);
        break;
    case OP_CURSOR:
        send(h, 1, in);
        break;
    case OP_DATA: {
        uint32_t off = (uint32_t)take(in, 4) % (RAM_SIZE - 0x200000);
        unsigned n = (unsigned)take(in, 1);
        for (unsigned i = 0; i < n; i++)
            h_ptr(h, BACKING + off)[i] = (uint8_t)take(in, 1);
        break;
    }
    case OP_FILL: {
        uint32_t off = (uint32_t)take(in, 4) % (RAM_SIZE - 0x200000);
        uint32_t len = (uint32_t)take(in, 4) % (RAM_SIZE - 0x200000 - off);
        memset(h_ptr(h, BACKING + off), (int)take(in, 1), len);
        break;
    }
    case OP_RESET:
        h_wr(h, 0x70, 0);
        bring_up(h);
        break;
    case OP_SAVE: {
        struct virtio_dev *c = round_trip(h, make_gpu);
        virtio_mmio_dev_ops.destroy(h->vdev);
        h->vdev = c;
        c = round_trip(&g.kbd, make_kbd);
        virtio_mmio_dev_ops.destroy(g.kbd.vdev);
        g.kbd.vdev = c;
        break;
    }
    case OP_SELECT: {
        uint8_t sel = (uint8_t)take(in, 1), sub = (uint8_t)take(in, 1);
        h_wr(&g.kbd, 0x100, sel | (uint32_t)sub << 8);
        /* The answer: size, then up to 128 bytes (reads past the end of
         * config space return 0). */
        for (unsigned off = 0; off < 140; off += 4)
            h_rd(&g.kbd, 0x100 + off);
        take(in, 1);
        break;
    }
    case OP_EVENTS: {
        struct virtio_input_event ev[64];
        take(in, 1);
        unsigned n = (unsigned)take(in, 1) % 64;
        for (unsigned i = 0; i < n; i++) {
            ev[i].type = (uint16_t)take(in, 2);
            ev[i].code = (uint16_t)take(in, 2);
            ev[i].value = (uint32_t)take(in, 4);
        }
        pthread_mutex_lock(&g.kbd.bus.io_lock);
        virtio_input_send(g.kbd.vdev, ev, n);
        pthread_mutex_unlock(&g.kbd.bus.io_lock);
        break;
    }
    case OP_BUFFERS: {
        take(in, 1);
        unsigned n = (unsigned)take(in, 1) % QSIZE;
        for (unsigned i = 0; i < n; i++) {
            struct h_buf b = {RESP + 8 * i, 8, true};
            h_publish(&g.kbd, 0, h_chain(&g.kbd, 0, &b, 1));
        }
        h_notify(&g.kbd, 0);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        log_set_file(fopen(getenv("FUZZ_LOG") ? getenv("FUZZ_LOG") : "/dev/null", "w"));
        once = true;
    }
    struct input in = {data, size};
    if (!ram_new(&g.gpu))
        abort();
    if (!h_init(&g.kbd))
        abort();
    g.display = display_new();
    g.gpu.vdev = make_gpu(&g.gpu);
    g.kbd.vdev = make_kbd(&g.kbd);
    bring_up(&g.gpu);
    bring_up(&g.kbd);
    while (in.left)
        run_command(&in);
    virtio_mmio_dev_ops.destroy(g.gpu.vdev);
    g.gpu.vdev = NULL;
    display_free(g.display);
    if (g.gpu.bad_writes || g.kbd.bad_writes) {
        fprintf(stderr, "fuzz_gpu: a device wrote outside guest RAM\n");
        abort();
    }
    h_destroy(&g.kbd);
    pthread_mutex_destroy(&g.gpu.bus.io_lock);
    munmap(g.mapping, RAM_SIZE + 2 * PAGE);
    return 0;
}
