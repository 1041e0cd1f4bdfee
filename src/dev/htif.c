/* SPDX-License-Identifier: MIT */
/* HTIF tohost/fromhost, as the riscv-tests environment drives it. */
#include "dev/htif.h"

#include <inttypes.h>
#include <stdlib.h>

#include "mem/bus.h"
#include "state/state.h"
#include "util/log.h"

#define MAGIC_WORDS 8

struct htif {
    struct htif_callbacks cb;
    struct bus *bus;
    uint64_t tohost, fromhost;
};

struct htif *htif_new(const struct htif_callbacks *cb, struct bus *bus)
{
    struct htif *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    if (cb)
        h->cb = *cb;
    h->bus = bus;
    return h;
}

static void power_off(struct htif *h, int code)
{
    if (h->cb.power)
        h->cb.power(h->cb.opaque, POWER_OFF, code);
}

static void put_byte(struct htif *h, uint8_t c)
{
    if (h->cb.tx)
        h->cb.tx(h->cb.opaque, c);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Copies the guest buffer to tx in chunks; returns false if it is not RAM. */
static bool sys_write(struct htif *h, uint64_t buf, uint64_t len)
{
    uint8_t chunk[256];
    while (len) {
        uint64_t n = len < sizeof(chunk) ? len : sizeof(chunk);
        if (!bus_dma_read(h->bus, buf, chunk, n))
            return false;
        for (uint64_t i = 0; i < n; i++)
            put_byte(h, chunk[i]);
        buf += n;
        len -= n;
    }
    return true;
}

/* Runs a magic_mem syscall block; returns false when it exited the machine. */
static bool run_syscall(struct htif *h, uint64_t addr)
{
    uint8_t raw[MAGIC_WORDS * 8];
    uint64_t mm[MAGIC_WORDS];
    if (!h->bus || !bus_dma_read(h->bus, addr, raw, sizeof(raw))) {
        log_error_ratelimited("htif: syscall block at 0x%" PRIx64 " is not in RAM", addr);
        power_off(h, HTIF_EXIT_UNSUPPORTED);
        return false;
    }
    for (unsigned i = 0; i < MAGIC_WORDS; i++)
        mm[i] = le64(raw + 8 * i);

    int64_t ret;
    switch (mm[0]) {
    case HTIF_SYS_EXIT:
        power_off(h, (int)mm[1]);
        return false;
    case HTIF_SYS_WRITE:
        if (mm[1] != 1 && mm[1] != 2) {
            ret = -9; /* EBADF */
            break;
        }
        ret = sys_write(h, mm[2], mm[3]) ? (int64_t)mm[3] : -14; /* EFAULT */
        break;
    default:
        log_error_ratelimited("htif: unsupported syscall %" PRIu64, mm[0]);
        power_off(h, HTIF_EXIT_UNSUPPORTED);
        return false;
    }
    uint8_t out[8];
    for (unsigned i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)ret >> (8 * i));
    bus_dma_write(h->bus, addr, out, sizeof(out));
    return true;
}

static void run_command(struct htif *h)
{
    uint64_t v = h->tohost;
    if (!v)
        return;
    uint8_t device = (uint8_t)(v >> 56), cmd = (uint8_t)(v >> 48);
    uint64_t payload = v & 0xffffffffffffULL;

    h->tohost = 0;
    if (device == 0 && cmd == 0) {
        if (payload & 1) {
            int code = (int)(payload >> 1);
            if (code)
                log_info("htif: test failed (tohost = %d)", code);
            power_off(h, code);
            return;
        }
        if (!run_syscall(h, payload))
            return;
    } else if (device == 1 && cmd == 1) {
        put_byte(h, (uint8_t)payload);
    } else {
        /* Console input (device 1, cmd 0) and other devices: not here. */
        log_debug_ratelimited("htif: ignoring device %u command %u", device, cmd);
        return;
    }
    h->fromhost = (uint64_t)device << 56 | (uint64_t)cmd << 48 | 1;
}

/* Reads `size` bytes at byte `pos` of the 16-byte tohost/fromhost window. */
static uint64_t window_read(struct htif *h, uint64_t pos, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && pos + i < 16; i++) {
        uint64_t reg = pos + i < 8 ? h->tohost : h->fromhost;
        v |= (reg >> (8 * ((pos + i) % 8)) & 0xff) << (8 * i);
    }
    return v;
}

static void window_write(struct htif *h, uint64_t pos, unsigned size, uint64_t value)
{
    bool completes_tohost = false;
    for (unsigned i = 0; i < size && pos + i < 16; i++) {
        uint64_t *reg = pos + i < 8 ? &h->tohost : &h->fromhost;
        unsigned shift = 8 * ((pos + i) % 8);
        *reg = (*reg & ~(0xffULL << shift)) | ((value >> (8 * i)) & 0xff) << shift;
        if (pos + i == 7)
            completes_tohost = true;
    }
    if (completes_tohost)
        run_command(h);
}

static uint64_t htif_read(void *dev, uint64_t offset, unsigned size)
{
    if (offset >= 16)
        return 0;
    return window_read(dev, offset, size);
}

static void htif_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    if (offset < 16)
        window_write(dev, offset, size, value);
}

static uint64_t fromhost_read(void *dev, uint64_t offset, unsigned size)
{
    if (offset >= 8)
        return 0;
    return window_read(dev, 8 + offset, size);
}

static void fromhost_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    if (offset < 8)
        window_write(dev, 8 + offset, size, value);
}

static void htif_reset(void *dev)
{
    struct htif *h = dev;
    h->tohost = 0;
    h->fromhost = 0;
}

static void htif_save(void *dev, struct state_writer *w)
{
    struct htif *h = dev;
    state_put_u64(w, h->tohost);
    state_put_u64(w, h->fromhost);
}

static bool htif_load(void *dev, struct state_reader *r, uint32_t version)
{
    struct htif *h = dev;
    if (version != 1)
        return false;
    uint64_t to = state_get_u64(r), from = state_get_u64(r);
    if (!state_reader_ok(r))
        return false;
    h->tohost = to;
    h->fromhost = from;
    return true;
}

/* HTIF is found through ELF symbols, not the device tree. */
static void htif_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    (void)dev, (void)fdt, (void)where;
}

static void htif_destroy(void *dev)
{
    free(dev);
}

/* The fromhost alias shares the device: the board must reset, save and
 * destroy it through htif_ops only. */
static void nop_reset(void *dev)
{
    (void)dev;
}

static void nop_save(void *dev, struct state_writer *w)
{
    (void)dev, (void)w;
}

static bool nop_load(void *dev, struct state_reader *r, uint32_t version)
{
    (void)dev, (void)r;
    return version == 1;
}

static void nop_destroy(void *dev)
{
    (void)dev;
}

const struct dev_ops htif_ops = {
    .name = "htif",
    .access_min = 1,
    .access_max = 8,
    .read = htif_read,
    .write = htif_write,
    .reset = htif_reset,
    .save = htif_save,
    .load = htif_load,
    .state_version = 1,
    .fdt = htif_fdt,
    .destroy = htif_destroy,
};

const struct dev_ops htif_fromhost_ops = {
    .name = "htif-fromhost",
    .access_min = 1,
    .access_max = 8,
    .read = fromhost_read,
    .write = fromhost_write,
    .reset = nop_reset,
    .save = nop_save,
    .load = nop_load,
    .state_version = 1,
    .fdt = htif_fdt,
    .destroy = nop_destroy,
};
