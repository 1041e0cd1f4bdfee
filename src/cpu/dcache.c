/* SPDX-License-Identifier: MIT */
/*
 * The decoded-instruction cache: one struct dpage per physical RAM page
 * that has been executed from.  Slots start as OP_DECODE and are decoded
 * in place the first time they run.  Invalidation only resets slots to
 * OP_DECODE, so a dpage stays valid memory while the interpreter holds a
 * pointer into it; whole dpages are recycled only by dcache_flush_all(),
 * which the interpreter calls when it holds no slot pointer.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/hart_internal.h"
#include "cpu/jit.h"
#include "mem/bus.h"
#include "util/compiler.h"
#include "util/log.h"

static unsigned bucket(uint64_t pa_page)
{
    return (unsigned)((pa_page >> PAGE_SHIFT) * 0x9E3779B1u) >> (32 - 10) & (DCACHE_BUCKETS - 1);
}

static struct dpage *lookup(struct hart *h, uint64_t pa_page)
{
    for (struct dpage *p = h->dbuckets[bucket(pa_page)]; p; p = p->hnext)
        if (p->pa == pa_page)
            return p;
    return NULL;
}

static void clear_slots(struct hart *h, struct dpage *p)
{
    if (p->jit) {
        p->jit = false;
        memset(p->jit_cover, 0, sizeof(p->jit_cover));
        h->jit_inval++;
        h->stats.jit_inval++;
    }
    for (unsigned i = 0; i < DPAGE_SLOTS; i++)
        dinsn_set_pseudo(&p->insn[i], OP_DECODE);
}

/* Marks store-TLB entries that map the host page: stores there must take
 * the slow path, which invalidates decoded slots.  code = false clears
 * the mark on every entry. */
static void mark_store_tlb(struct hart *h, uintptr_t host_page, bool code)
{
    for (unsigned m = 0; m < MMU_N; m++)
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = &h->tlb[ACC_STORE][m][i];
            if (e->tag == TLB_INVALID || (e->tag & TLB_IO))
                continue;
            if (!code)
                e->tag &= ~TLB_CODE;
            else if ((e->tag & ~TLB_CODE) + e->addend == host_page)
                e->tag |= TLB_CODE;
        }
}

void dcache_flush_all(struct hart *h)
{
    h->stats.dcache_flush++;
    for (unsigned b = 0; b < DCACHE_BUCKETS; b++) {
        struct dpage *p = h->dbuckets[b];
        while (p) {
            struct dpage *next = p->hnext;
            __atomic_store_n(&h->code_map[(p->pa - h->bus->ram_base) >> PAGE_SHIFT], 0,
                             __ATOMIC_RELAXED);
            p->hnext = h->dfree;
            h->dfree = p;
            p = next;
        }
        h->dbuckets[b] = NULL;
    }
    h->dpages = 0;
    jit_reset(h);
    mark_store_tlb(h, 0, false);
    memset(h->tlb[ACC_FETCH], 0xff, sizeof(h->tlb[ACC_FETCH]));
    memset(h->tlb_dpage, 0, sizeof(h->tlb_dpage));
    tlb_ctx_drop_all(h); /* their fetch entries point at the freed pages */
}

static const uint8_t *ram_page(struct hart *h, uint64_t pa_page)
{
    return bus_ram_ptr(h->bus, pa_page, 0);
}

void dcache_validate(struct hart *h, struct dpage *p)
{
    const uint8_t *ram = ram_page(h, p->pa);
    if (p->dirty || memcmp(p->snap, ram, PAGE_SIZE) != 0) {
        clear_slots(h, p);
        memcpy(p->snap, ram, PAGE_SIZE);
        p->dirty = false;
    }
    p->gen = h->dgen;
}

/* A never-used dpage from the hart's arena: one reservation for the
 * cache's maximum size, backed by huge pages where the host allows, so
 * that filling the cache costs a few faults instead of one per 4 KiB.
 * At most DCACHE_MAX_PAGES dpages ever exist (dcache_flush_all recycles
 * them all before more would be needed). */
static struct dpage *arena_alloc(struct hart *h)
{
    if (!h->darena) {
        size_t size = (size_t)DCACHE_MAX_PAGES * sizeof(struct dpage);
        void *a = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (a == MAP_FAILED)
            fatal("out of memory for the decoded-instruction cache");
#ifdef MADV_HUGEPAGE
        madvise(a, size, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
        h->darena = a;
        h->darena_used = 0;
    }
    if (h->darena_used >= DCACHE_MAX_PAGES)
        fatal("decoded-instruction cache arena exhausted");
    return &((struct dpage *)h->darena)[h->darena_used++];
}

void dcache_release(struct hart *h)
{
    if (!h->darena)
        return;
    /* Zero again on the next touch, as arena_alloc expects of unused dpages. */
    madvise(h->darena, (size_t)DCACHE_MAX_PAGES * sizeof(struct dpage), MADV_DONTNEED);
    h->darena_used = 0;
    h->dfree = NULL;
}

void dcache_free_arena(struct hart *h)
{
    if (h->darena)
        munmap(h->darena, (size_t)DCACHE_MAX_PAGES * sizeof(struct dpage));
    h->darena = NULL;
    h->darena_used = 0;
    h->dfree = NULL;
}

struct dpage *dcache_get(struct hart *h, uint64_t pa_page)
{
    struct dpage *p = lookup(h, pa_page);
    if (p && p->detached) {
        p->detached = false;
        memcpy(p->snap, ram_page(h, pa_page), PAGE_SIZE);
        p->dirty = false;
        p->gen = h->dgen;
        __atomic_store_n(&h->code_map[(pa_page - h->bus->ram_base) >> PAGE_SHIFT], 1,
                         __ATOMIC_RELAXED);
        mark_store_tlb(h, (uintptr_t)ram_page(h, pa_page), true);
    }
    if (p) {
        p->stores = 0;
        if (p->gen != h->dgen)
            dcache_validate(h, p);
        return p;
    }
    if (h->dpages >= DCACHE_MAX_PAGES)
        dcache_flush_all(h);
    p = h->dfree;
    if (p) {
        h->dfree = p->hnext;
    } else {
        p = arena_alloc(h);
    }
    h->stats.dpage_alloc++;
    p->pa = pa_page;
    p->gen = h->dgen;
    p->dirty = false;
    p->jit = false;
    p->detached = false;
    p->detaches = 0;
    p->stores = 0;
    memcpy(p->snap, ram_page(h, pa_page), PAGE_SIZE);
    clear_slots(h, p);
    memset(&p->insn[DPAGE_SLOTS], 0, 2 * sizeof(p->insn[0]));
    dinsn_set_pseudo(&p->insn[DPAGE_SLOTS], OP_END);
    dinsn_set_pseudo(&p->insn[DPAGE_SLOTS + 1], OP_END);
    unsigned b = bucket(pa_page);
    p->hnext = h->dbuckets[b];
    h->dbuckets[b] = p;
    h->dpages++;
    __atomic_store_n(&h->code_map[(pa_page - h->bus->ram_base) >> PAGE_SHIFT], 1, __ATOMIC_RELAXED);
    mark_store_tlb(h, (uintptr_t)bus_ram_ptr(h->bus, pa_page, 0), true);
    return p;
}

/* Stores into a page that make it a detach candidate, and how many
 * detaches a page gets before it stays attached for good (a page really
 * mixing hot code and data would otherwise be recompiled over and over). */
#define DETACH_AFTER_STORES 256
#define DETACH_MAX          4

static void note_store(struct hart *h, struct dpage *p)
{
    if (++p->stores != DETACH_AFTER_STORES || p->detaches >= DETACH_MAX ||
        h->ndetach >= ARRAY_SIZE(h->detach_pending))
        return;
    h->detach_pending[h->ndetach++] = p->pa;
    atomic_store_explicit(&h->check, 1, memory_order_relaxed);
}

static bool covered(const struct dpage *p, unsigned first, unsigned last)
{
    for (unsigned i = first; i <= last && i < DPAGE_SLOTS; i++)
        if (p->jit_cover[i / 64] & (1ULL << (i % 64)))
            return true;
    return false;
}

void dcache_decode_slot(struct hart *h, struct dpage *p, unsigned off)
{
    struct dinsn *d = &p->insn[off / 2];
    const uint8_t *host = ram_page(h, p->pa) + off;
    uint16_t lo;
    memcpy(&lo, host, 2);
    unsigned n = 2;
    if ((lo & 3) == 3 && off == PAGE_SIZE - 2) {
        memset(d, 0, sizeof(*d));
        dinsn_set_pseudo(d, OP_CROSS);
        d->len = 4;
    } else if ((lo & 3) == 3) {
        uint32_t insn;
        memcpy(&insn, host, 4);
        decode_insn(d, insn);
        n = 4;
    } else {
        decode_insn(d, lo);
    }
    if (memcmp(host, p->snap + off, n) != 0)
        p->dirty = true; /* see hart_internal.h: FENCE.I on several harts */
}

void dcache_invalidate_range(struct hart *h, uint64_t pa, uint64_t len)
{
    if (!len)
        return;
    uint64_t end = pa + len; /* exclusive */
    for (uint64_t page = pa & PAGE_MASK; page < end; page += PAGE_SIZE) {
        struct dpage *p = lookup(h, page);
        if (!p)
            continue;
        uint64_t lo = pa > page ? pa - page : 0;
        uint64_t hi = end - page < PAGE_SIZE ? end - page : PAGE_SIZE; /* exclusive */
        note_store(h, p);
        /* A 4-byte instruction starting 2 bytes before lo covers lo. */
        unsigned first = lo >= 2 ? (unsigned)(lo - 2) / 2 : 0;
        unsigned last = (unsigned)(hi - 1) / 2;
        if (p->jit && covered(p, first, last)) {
            /* Compiled blocks do not know which slots they came from
             * beyond the page: drop them all. */
            clear_slots(h, p);
            continue;
        }
        for (unsigned i = first; i <= last; i++)
            dinsn_set_pseudo(&p->insn[i], OP_DECODE);
    }
}

void dcache_detach_pending(struct hart *h)
{
    for (unsigned k = 0; k < h->ndetach; k++) {
        struct dpage *p = lookup(h, h->detach_pending[k]);
        if (!p || p->detached)
            continue;
        clear_slots(h, p);
        p->detached = true;
        p->detaches++;
        __atomic_store_n(&h->code_map[(p->pa - h->bus->ram_base) >> PAGE_SHIFT], 0,
                         __ATOMIC_RELAXED);
        uintptr_t host_page = (uintptr_t)ram_page(h, p->pa);
        for (unsigned m = 0; m < MMU_N; m++)
            for (unsigned i = 0; i < TLB_SIZE; i++) {
                struct tlb_entry *e = &h->tlb[ACC_STORE][m][i];
                if (e->tag != TLB_INVALID && !(e->tag & TLB_IO) &&
                    (e->tag & ~TLB_CODE) + e->addend == host_page)
                    e->tag &= ~TLB_CODE;
                if (h->tlb_dpage[m][i] == p) {
                    h->tlb[ACC_FETCH][m][i].tag = TLB_INVALID;
                    h->tlb_dpage[m][i] = NULL;
                }
            }
        tlb_ctx_forget_dpage(h, p);
    }
    h->ndetach = 0;
}

void dcache_apply_dma(struct hart *h)
{
    uint64_t pages[DMA_PENDING_MAX];
    pthread_mutex_lock(&h->lock);
    unsigned n = h->ndma_pending;
    bool overflow = h->dma_overflow;
    memcpy(pages, h->dma_pending, n * sizeof(pages[0]));
    h->ndma_pending = 0;
    h->dma_overflow = false;
    pthread_mutex_unlock(&h->lock);
    if (overflow) {
        dcache_flush_all(h);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        struct dpage *p = lookup(h, pages[i]);
        if (p) {
            clear_slots(h, p);
            memcpy(p->snap, ram_page(h, p->pa), PAGE_SIZE);
            p->dirty = false;
        }
    }
}
