/* SPDX-License-Identifier: MIT */
/* The PLIC, from the RISC-V PLIC specification (/work/shared/specs/riscv-plic). */
#include "dev/plic.h"

#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/fdt_helpers.h"
#include "state/state.h"

#define PRIORITY_BASE  0x000000
#define PENDING_BASE   0x001000
#define ENABLE_BASE    0x002000
#define ENABLE_STRIDE  0x80
#define CONTEXT_BASE   0x200000
#define CONTEXT_STRIDE 0x1000
#define CONTEXT_CLAIM  4

struct plic {
    pthread_mutex_t lock;
    unsigned nsrc, nharts, nctx, nwords;
    uint32_t *priority;  /* [nsrc] */
    uint32_t *level;     /* [nwords]: input line levels */
    uint32_t *pending;   /* [nwords] */
    uint32_t *claimed;   /* [nwords]: claimed, not yet completed */
    uint32_t *enable;    /* [nctx * nwords] */
    uint32_t *threshold; /* [nctx] */
    bool *out;           /* [nctx]: current level of each context line */
    struct irq_line *lines;
    uint32_t *cpu_phandles; /* [nharts], 0 = look up in the tree */
};

static bool bit_get(const uint32_t *map, unsigned i)
{
    return (map[i / 32] >> (i % 32)) & 1;
}

static void bit_set(uint32_t *map, unsigned i, bool v)
{
    if (v)
        map[i / 32] |= 1u << (i % 32);
    else
        map[i / 32] &= ~(1u << (i % 32));
}

/* Bits of word w that name real sources (not source 0, not past nsrc). */
static uint32_t valid_mask(const struct plic *p, unsigned w)
{
    uint32_t m = UINT32_MAX;
    if (w == 0)
        m &= ~1u;
    unsigned first = w * 32;
    if (first + 32 > p->nsrc)
        m &= p->nsrc > first ? (1u << (p->nsrc - first)) - 1 : 0;
    return m;
}

/* The highest-priority pending source enabled for ctx with priority above
 * `floor` (ties to the lowest id), or 0. */
static unsigned best_source(const struct plic *p, unsigned ctx, uint32_t floor)
{
    const uint32_t *en = p->enable + (size_t)ctx * p->nwords;
    unsigned best = 0;
    uint32_t best_prio = floor;
    for (unsigned w = 0; w < p->nwords; w++) {
        uint32_t bits = p->pending[w] & en[w];
        while (bits) {
            unsigned b = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            unsigned src = w * 32 + b;
            if (p->priority[src] > best_prio) {
                best_prio = p->priority[src];
                best = src;
            }
        }
    }
    return best;
}

static void update_outputs(struct plic *p, bool force)
{
    for (unsigned c = 0; c < p->nctx; c++) {
        bool level = best_source(p, c, p->threshold[c]) != 0;
        if (level != p->out[c] || force) {
            p->out[c] = level;
            irq_set(&p->lines[c], level);
        }
    }
}

static void plic_free(struct plic *p)
{
    if (!p)
        return;
    free(p->priority);
    free(p->level);
    free(p->pending);
    free(p->claimed);
    free(p->enable);
    free(p->threshold);
    free(p->out);
    free(p->lines);
    free(p->cpu_phandles);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct plic *plic_new(unsigned num_sources, unsigned num_harts,
                      const struct irq_line *context_lines)
{
    if (num_sources < 2 || num_sources > PLIC_MAX_SOURCES || num_harts == 0 ||
        num_harts > PLIC_MAX_HARTS)
        return NULL;
    struct plic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->nsrc = num_sources;
    p->nharts = num_harts;
    p->nctx = 2 * num_harts;
    p->nwords = (num_sources + 31) / 32;
    p->priority = calloc(p->nsrc, sizeof(uint32_t));
    p->level = calloc(p->nwords, sizeof(uint32_t));
    p->pending = calloc(p->nwords, sizeof(uint32_t));
    p->claimed = calloc(p->nwords, sizeof(uint32_t));
    p->enable = calloc((size_t)p->nctx * p->nwords, sizeof(uint32_t));
    p->threshold = calloc(p->nctx, sizeof(uint32_t));
    p->out = calloc(p->nctx, sizeof(bool));
    p->lines = calloc(p->nctx, sizeof(struct irq_line));
    p->cpu_phandles = calloc(p->nharts, sizeof(uint32_t));
    if (!p->priority || !p->level || !p->pending || !p->claimed || !p->enable || !p->threshold ||
        !p->out || !p->lines || !p->cpu_phandles) {
        plic_free(p);
        return NULL;
    }
    if (context_lines)
        memcpy(p->lines, context_lines, p->nctx * sizeof(struct irq_line));
    return p;
}

void plic_set_source(void *opaque, unsigned source, bool level)
{
    struct plic *p = opaque;
    if (source == 0 || source >= p->nsrc)
        return;
    pthread_mutex_lock(&p->lock);
    bit_set(p->level, source, level);
    /* The gateway forwards a request unless one is already in service. */
    bit_set(p->pending, source, level && !bit_get(p->claimed, source));
    update_outputs(p, false);
    pthread_mutex_unlock(&p->lock);
}

struct irq_line plic_source_line(struct plic *plic, unsigned source)
{
    return (struct irq_line){.set = plic_set_source, .target = plic, .num = source};
}

void plic_set_cpu_phandles(struct plic *plic, const uint32_t *phandles, unsigned num_harts)
{
    for (unsigned h = 0; h < plic->nharts; h++)
        plic->cpu_phandles[h] = h < num_harts ? phandles[h] : 0;
}

static uint32_t claim(struct plic *p, unsigned ctx)
{
    /* Claims ignore the threshold (PLIC spec, "Interrupt Claim Process"). */
    unsigned src = best_source(p, ctx, 0);
    if (src) {
        bit_set(p->pending, src, false);
        bit_set(p->claimed, src, true);
        update_outputs(p, false);
    }
    return src;
}

static void complete(struct plic *p, unsigned ctx, uint32_t src)
{
    if (src == 0 || src >= p->nsrc || !bit_get(p->enable + (size_t)ctx * p->nwords, src))
        return; /* silently ignored, as the spec requires */
    bit_set(p->claimed, src, false);
    bit_set(p->pending, src, bit_get(p->level, src));
    update_outputs(p, false);
}

static uint64_t plic_read(void *dev, uint64_t offset, unsigned size)
{
    struct plic *p = dev;
    uint32_t val = 0;
    if (size != 4 || (offset & 3))
        return 0;
    pthread_mutex_lock(&p->lock);
    if (offset < PENDING_BASE) {
        unsigned src = (unsigned)(offset / 4);
        if (src < p->nsrc)
            val = p->priority[src];
    } else if (offset < ENABLE_BASE) {
        unsigned w = (unsigned)((offset - PENDING_BASE) / 4);
        if (w < p->nwords)
            val = p->pending[w];
    } else if (offset < CONTEXT_BASE) {
        unsigned ctx = (unsigned)((offset - ENABLE_BASE) / ENABLE_STRIDE);
        unsigned w = (unsigned)((offset - ENABLE_BASE) % ENABLE_STRIDE / 4);
        if (ctx < p->nctx && w < p->nwords)
            val = p->enable[(size_t)ctx * p->nwords + w];
    } else {
        uint64_t ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
        uint64_t reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
        if (ctx < p->nctx) {
            if (reg == 0)
                val = p->threshold[ctx];
            else if (reg == CONTEXT_CLAIM)
                val = claim(p, (unsigned)ctx);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return val;
}

static void plic_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct plic *p = dev;
    uint32_t val = (uint32_t)value;
    if (size != 4 || (offset & 3))
        return;
    pthread_mutex_lock(&p->lock);
    if (offset < PENDING_BASE) {
        unsigned src = (unsigned)(offset / 4);
        if (src > 0 && src < p->nsrc) {
            p->priority[src] = val & PLIC_MAX_PRIORITY;
            update_outputs(p, false);
        }
    } else if (offset < ENABLE_BASE) {
        /* Pending bits are read-only. */
    } else if (offset < CONTEXT_BASE) {
        unsigned ctx = (unsigned)((offset - ENABLE_BASE) / ENABLE_STRIDE);
        unsigned w = (unsigned)((offset - ENABLE_BASE) % ENABLE_STRIDE / 4);
        if (ctx < p->nctx && w < p->nwords) {
            p->enable[(size_t)ctx * p->nwords + w] = val & valid_mask(p, w);
            update_outputs(p, false);
        }
    } else {
        uint64_t ctx = (offset - CONTEXT_BASE) / CONTEXT_STRIDE;
        uint64_t reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
        if (ctx < p->nctx) {
            if (reg == 0) {
                p->threshold[ctx] = val & PLIC_MAX_PRIORITY;
                update_outputs(p, false);
            } else if (reg == CONTEXT_CLAIM) {
                complete(p, (unsigned)ctx, val);
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
}

static void plic_reset(void *dev)
{
    struct plic *p = dev;
    pthread_mutex_lock(&p->lock);
    memset(p->priority, 0, p->nsrc * sizeof(uint32_t));
    memset(p->claimed, 0, p->nwords * sizeof(uint32_t));
    memset(p->enable, 0, (size_t)p->nctx * p->nwords * sizeof(uint32_t));
    memset(p->threshold, 0, p->nctx * sizeof(uint32_t));
    /* Input lines belong to the devices; what is high stays pending. */
    memcpy(p->pending, p->level, p->nwords * sizeof(uint32_t));
    update_outputs(p, true);
    pthread_mutex_unlock(&p->lock);
}

static void plic_save(void *dev, struct state_writer *w)
{
    struct plic *p = dev;
    pthread_mutex_lock(&p->lock);
    state_put_u32(w, p->nsrc);
    state_put_u32(w, p->nctx);
    for (unsigned i = 0; i < p->nsrc; i++)
        state_put_u32(w, p->priority[i]);
    for (unsigned i = 0; i < p->nwords; i++) {
        state_put_u32(w, p->level[i]);
        state_put_u32(w, p->pending[i]);
        state_put_u32(w, p->claimed[i]);
    }
    for (unsigned c = 0; c < p->nctx; c++) {
        state_put_u32(w, p->threshold[c]);
        for (unsigned i = 0; i < p->nwords; i++)
            state_put_u32(w, p->enable[(size_t)c * p->nwords + i]);
    }
    pthread_mutex_unlock(&p->lock);
}

static bool plic_load(void *dev, struct state_reader *r, uint32_t version)
{
    struct plic *p = dev;
    if (version != 1)
        return false;
    if (state_get_u32(r) != p->nsrc || state_get_u32(r) != p->nctx || !state_reader_ok(r))
        return false;

    size_t nenable = (size_t)p->nctx * p->nwords;
    uint32_t *prio = calloc(p->nsrc, sizeof(uint32_t));
    uint32_t *bits = calloc(3 * p->nwords, sizeof(uint32_t));
    uint32_t *thr = calloc(p->nctx, sizeof(uint32_t));
    uint32_t *en = calloc(nenable, sizeof(uint32_t));
    bool ok = prio && bits && thr && en;

    for (unsigned i = 0; ok && i < p->nsrc; i++) {
        prio[i] = state_get_u32(r);
        ok = prio[i] <= PLIC_MAX_PRIORITY && (i > 0 || prio[i] == 0);
    }
    for (unsigned i = 0; ok && i < p->nwords; i++) {
        for (unsigned k = 0; k < 3; k++) {
            bits[k * p->nwords + i] = state_get_u32(r);
            ok = ok && !(bits[k * p->nwords + i] & ~valid_mask(p, i));
        }
        /* Pending and claimed exclude each other. */
        ok = ok && !(bits[p->nwords + i] & bits[2 * p->nwords + i]);
    }
    for (unsigned c = 0; ok && c < p->nctx; c++) {
        thr[c] = state_get_u32(r);
        ok = thr[c] <= PLIC_MAX_PRIORITY;
        for (unsigned i = 0; ok && i < p->nwords; i++) {
            en[(size_t)c * p->nwords + i] = state_get_u32(r);
            ok = !(en[(size_t)c * p->nwords + i] & ~valid_mask(p, i));
        }
    }
    ok = ok && state_reader_ok(r);
    if (ok) {
        pthread_mutex_lock(&p->lock);
        memcpy(p->priority, prio, p->nsrc * sizeof(uint32_t));
        memcpy(p->level, bits, p->nwords * sizeof(uint32_t));
        memcpy(p->pending, bits + p->nwords, p->nwords * sizeof(uint32_t));
        memcpy(p->claimed, bits + 2 * p->nwords, p->nwords * sizeof(uint32_t));
        memcpy(p->threshold, thr, p->nctx * sizeof(uint32_t));
        memcpy(p->enable, en, nenable * sizeof(uint32_t));
        update_outputs(p, true);
        pthread_mutex_unlock(&p->lock);
    }
    free(prio);
    free(bits);
    free(thr);
    free(en);
    return ok;
}

static void plic_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    struct plic *p = dev;
    static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    int node = dev_fdt_add_soc_node(fdt, "plic", where->base, where->size);
    if (node < 0)
        return;

    fdt32_t *ie = calloc(4 * (size_t)p->nharts, sizeof(fdt32_t));
    if (!ie) {
        log_error("plic: out of memory");
        return;
    }
    for (unsigned h = 0; h < p->nharts; h++) {
        uint32_t ph = p->cpu_phandles[h] ? p->cpu_phandles[h] : dev_fdt_cpu_intc_phandle(fdt, h);
        if (!ph)
            log_warn("plic: no interrupt-controller phandle for hart %u", h);
        ie[4 * h + 0] = cpu_to_fdt32(ph);
        ie[4 * h + 1] = cpu_to_fdt32(11); /* machine external interrupt */
        ie[4 * h + 2] = cpu_to_fdt32(ph);
        ie[4 * h + 3] = cpu_to_fdt32(9); /* supervisor external interrupt */
    }
    int err = fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "#address-cells", 0);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "#interrupt-cells", 1);
    if (err >= 0)
        err = fdt_setprop_empty(fdt, node, "interrupt-controller");
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "riscv,ndev", p->nsrc - 1);
    if (err >= 0)
        err = fdt_setprop(fdt, node, "interrupts-extended", ie,
                          4 * p->nharts * (unsigned)sizeof(fdt32_t));
    if (err >= 0 && where->phandle_plic)
        err = fdt_setprop_u32(fdt, node, "phandle", where->phandle_plic);
    free(ie);
    dev_fdt_failed("plic", err);
}

static void plic_destroy(void *dev)
{
    plic_free(dev);
}

const struct dev_ops plic_ops = {
    .name = "plic",
    .access_min = 4,
    .access_max = 4,
    .read = plic_read,
    .write = plic_write,
    .reset = plic_reset,
    .save = plic_save,
    .load = plic_load,
    .state_version = 1,
    .fdt = plic_fdt,
    .destroy = plic_destroy,
};
