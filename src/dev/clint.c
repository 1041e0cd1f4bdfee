/* SPDX-License-Identifier: MIT */
/* The CLINT: machine software and timer interrupts (SiFive CLINT layout). */
#include "dev/clint.h"

#include <libfdt.h>
#include <stdlib.h>

#include "hw/fdt_helpers.h"
#include "host/evloop.h"
#include "state/state.h"

#define MSIP_BASE     0x0000
#define MTIMECMP_BASE 0x4000
#define MTIME_OFFSET  0xbff8

/* Timers further away than this are armed for this long and re-armed when
 * they fire: keeps the event loop's arithmetic far from overflow. */
#define MAX_TIMER_NS (3600ULL * 1000000000ULL)

struct clint_hart {
    struct clint *clint;
    unsigned index;
    uint32_t msip;
    uint64_t mtimecmp;
    bool mtip;
    struct evtimer *timer;
    struct irq_line mtip_line, msip_line;
};

struct clint {
    struct vclock *clock;
    unsigned nharts;
    uint32_t *cpu_phandles;
    struct clint_hart harts[];
};

/* Drives MTIP from the comparison and arms the timer for the moment it
 * will become true. */
static void evaluate(struct clint_hart *h, bool force)
{
    bool level = vclock_mtime(h->clint->clock) >= h->mtimecmp;
    if (level != h->mtip || force) {
        h->mtip = level;
        irq_set(&h->mtip_line, level);
    }
    if (!h->timer)
        return;
    uint64_t deadline = vclock_deadline_ns(h->clint->clock, h->mtimecmp);
    if (level || deadline == UINT64_MAX) { /* UINT64_MAX: centuries away */
        evtimer_disarm(h->timer);
        return;
    }
    uint64_t limit = host_monotonic_ns() + MAX_TIMER_NS;
    evtimer_arm(h->timer, deadline < limit ? deadline : limit);
}

static void timer_fired(void *opaque)
{
    evaluate(opaque, false);
}

static void evaluate_all(struct clint *c, bool force)
{
    for (unsigned i = 0; i < c->nharts; i++)
        evaluate(&c->harts[i], force);
}

void clint_clock_changed(struct clint *c)
{
    evaluate_all(c, false);
}

void clint_poll(struct clint *c)
{
    evaluate_all(c, false);
}

static void clint_free(struct clint *c)
{
    for (unsigned i = 0; i < c->nharts; i++)
        if (c->harts[i].timer)
            evtimer_free(c->harts[i].timer);
    free(c->cpu_phandles);
    free(c);
}

struct clint *clint_new(struct vclock *clock, struct evloop *loop, unsigned num_harts,
                        const struct irq_line *mtip, const struct irq_line *msip)
{
    if (!clock || num_harts == 0 || num_harts > CLINT_MAX_HARTS)
        return NULL;
    struct clint *c = calloc(1, sizeof(*c) + num_harts * sizeof(struct clint_hart));
    if (!c)
        return NULL;
    c->clock = clock;
    c->nharts = num_harts;
    c->cpu_phandles = calloc(num_harts, sizeof(uint32_t));
    if (!c->cpu_phandles) {
        free(c);
        return NULL;
    }
    for (unsigned i = 0; i < num_harts; i++) {
        struct clint_hart *h = &c->harts[i];
        h->clint = c;
        h->index = i;
        h->mtimecmp = UINT64_MAX;
        if (mtip)
            h->mtip_line = mtip[i];
        if (msip)
            h->msip_line = msip[i];
        if (loop) {
            h->timer = evtimer_new(loop, timer_fired, h);
            if (!h->timer) {
                clint_free(c);
                return NULL;
            }
        }
    }
    return c;
}

void clint_set_cpu_phandles(struct clint *c, const uint32_t *phandles, unsigned num_harts)
{
    for (unsigned h = 0; h < c->nharts; h++)
        c->cpu_phandles[h] = h < num_harts ? phandles[h] : 0;
}

static uint64_t replace_half(uint64_t old, unsigned half, uint32_t v)
{
    if (half)
        return (old & 0xffffffffULL) | ((uint64_t)v << 32);
    return (old & ~0xffffffffULL) | v;
}

static uint32_t read32(struct clint *c, uint64_t off)
{
    if (off < MTIMECMP_BASE) {
        uint64_t i = (off - MSIP_BASE) / 4;
        return i < c->nharts ? c->harts[i].msip : 0;
    }
    if (off < MTIMECMP_BASE + 8ULL * c->nharts) {
        uint64_t cmp = c->harts[(off - MTIMECMP_BASE) / 8].mtimecmp;
        return (uint32_t)(off & 4 ? cmp >> 32 : cmp);
    }
    if (off == MTIME_OFFSET || off == MTIME_OFFSET + 4) {
        uint64_t t = vclock_mtime(c->clock);
        return (uint32_t)(off & 4 ? t >> 32 : t);
    }
    return 0;
}

static void set_mtime(struct clint *c, uint64_t t)
{
    vclock_set(c->clock, t);
    evaluate_all(c, false);
}

static void set_mtimecmp(struct clint_hart *h, uint64_t v)
{
    h->mtimecmp = v;
    evaluate(h, false);
}

static void write32(struct clint *c, uint64_t off, uint32_t v)
{
    if (off < MTIMECMP_BASE) {
        uint64_t i = (off - MSIP_BASE) / 4;
        if (i < c->nharts) {
            struct clint_hart *h = &c->harts[i];
            h->msip = v & 1;
            irq_set(&h->msip_line, h->msip);
        }
    } else if (off < MTIMECMP_BASE + 8ULL * c->nharts) {
        struct clint_hart *h = &c->harts[(off - MTIMECMP_BASE) / 8];
        set_mtimecmp(h, replace_half(h->mtimecmp, off & 4 ? 1 : 0, v));
    } else if (off == MTIME_OFFSET || off == MTIME_OFFSET + 4) {
        set_mtime(c, replace_half(vclock_mtime(c->clock), off & 4 ? 1 : 0, v));
    }
}

static bool is_mtimecmp(const struct clint *c, uint64_t off)
{
    return off >= MTIMECMP_BASE && off < MTIMECMP_BASE + 8ULL * c->nharts;
}

static uint64_t clint_read(void *dev, uint64_t offset, unsigned size)
{
    struct clint *c = dev;
    if (offset & (size - 1))
        return 0;
    if (size == 4)
        return read32(c, offset);
    if (size != 8)
        return 0;
    /* Whole 64-bit registers are read in one go so they cannot tear. */
    if (offset == MTIME_OFFSET)
        return vclock_mtime(c->clock);
    if (is_mtimecmp(c, offset))
        return c->harts[(offset - MTIMECMP_BASE) / 8].mtimecmp;
    return read32(c, offset) | (uint64_t)read32(c, offset + 4) << 32;
}

static void clint_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct clint *c = dev;
    if (offset & (size - 1))
        return;
    if (size == 4) {
        write32(c, offset, (uint32_t)value);
    } else if (size == 8) {
        if (offset == MTIME_OFFSET) {
            set_mtime(c, value);
        } else if (is_mtimecmp(c, offset)) {
            set_mtimecmp(&c->harts[(offset - MTIMECMP_BASE) / 8], value);
        } else {
            write32(c, offset, (uint32_t)value);
            write32(c, offset + 4, (uint32_t)(value >> 32));
        }
    }
}

static void clint_reset(void *dev)
{
    struct clint *c = dev;
    /* mtime belongs to the board's vclock and keeps running. */
    for (unsigned i = 0; i < c->nharts; i++) {
        struct clint_hart *h = &c->harts[i];
        h->msip = 0;
        irq_set(&h->msip_line, false);
        h->mtimecmp = UINT64_MAX;
        evaluate(h, true);
    }
}

static void clint_save(void *dev, struct state_writer *w)
{
    struct clint *c = dev;
    state_put_u32(w, c->nharts);
    state_put_u64(w, vclock_mtime(c->clock));
    for (unsigned i = 0; i < c->nharts; i++) {
        state_put_u32(w, c->harts[i].msip);
        state_put_u64(w, c->harts[i].mtimecmp);
    }
}

static bool clint_load(void *dev, struct state_reader *r, uint32_t version)
{
    struct clint *c = dev;
    if (version != 1)
        return false;
    if (state_get_u32(r) != c->nharts || !state_reader_ok(r))
        return false;
    uint64_t mtime = state_get_u64(r);
    uint32_t *msip = calloc(c->nharts, sizeof(uint32_t));
    uint64_t *cmp = calloc(c->nharts, sizeof(uint64_t));
    bool ok = msip && cmp;
    for (unsigned i = 0; ok && i < c->nharts; i++) {
        msip[i] = state_get_u32(r);
        cmp[i] = state_get_u64(r);
        ok = msip[i] <= 1;
    }
    ok = ok && state_reader_ok(r);
    if (ok) {
        vclock_set(c->clock, mtime);
        for (unsigned i = 0; i < c->nharts; i++) {
            struct clint_hart *h = &c->harts[i];
            h->msip = msip[i];
            irq_set(&h->msip_line, h->msip);
            h->mtimecmp = cmp[i];
            evaluate(h, true);
        }
    }
    free(msip);
    free(cmp);
    return ok;
}

static void clint_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    struct clint *c = dev;
    static const char compat[] = "sifive,clint0\0riscv,clint0";
    int node = dev_fdt_add_soc_node(fdt, "clint", where->base, where->size);
    if (node < 0)
        return;
    fdt32_t *ie = calloc(4 * (size_t)c->nharts, sizeof(fdt32_t));
    if (!ie) {
        log_error("clint: out of memory");
        return;
    }
    for (unsigned h = 0; h < c->nharts; h++) {
        uint32_t ph = c->cpu_phandles[h] ? c->cpu_phandles[h] : dev_fdt_cpu_intc_phandle(fdt, h);
        if (!ph)
            log_warn("clint: no interrupt-controller phandle for hart %u", h);
        ie[4 * h + 0] = cpu_to_fdt32(ph);
        ie[4 * h + 1] = cpu_to_fdt32(3); /* machine software interrupt */
        ie[4 * h + 2] = cpu_to_fdt32(ph);
        ie[4 * h + 3] = cpu_to_fdt32(7); /* machine timer interrupt */
    }
    int err = fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    if (err >= 0)
        err = fdt_setprop(fdt, node, "interrupts-extended", ie,
                          4 * c->nharts * (unsigned)sizeof(fdt32_t));
    free(ie);
    dev_fdt_failed("clint", err);
}

static void clint_destroy(void *dev)
{
    clint_free(dev);
}

const struct dev_ops clint_ops = {
    .name = "clint",
    .access_min = 4,
    .access_max = 8,
    .read = clint_read,
    .write = clint_write,
    .reset = clint_reset,
    .save = clint_save,
    .load = clint_load,
    .state_version = 1,
    .fdt = clint_fdt,
    .destroy = clint_destroy,
};
