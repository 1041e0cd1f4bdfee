/* SPDX-License-Identifier: MIT */
/*
 * Address-space contexts of the software TLB.
 *
 * The live TLB holds one address space.  When satp switches to another
 * one, the fetch and load sets of the old one are copied into one of
 * TLB_CTX_SLOTS slots keyed by the whole satp (mode, ASID and root), and
 * the new one's are copied back if a slot holds them; so a guest that uses
 * ASIDs (Linux does when satp keeps ASID bits, and switches address spaces
 * without any sfence.vma) finds its translations again after a switch.
 * That is an ASID-tagged TLB: saved entries obey every sfence.vma as live
 * ones do (by address, for every address space; by ASID; everything), and
 * any other reason to empty the TLB (MXR, menvcfg, PMP, the decoded cache
 * being freed) drops the slots too.  Store entries are not kept: the dirty
 * log and the code-page marks act on the live set only.  Slots are only
 * ever compared by satp, so keying on the root as well as the ASID is
 * stricter than the architecture needs.
 */
#include <string.h>

#include "cpu/hart_internal.h"

static const int ctx_acc[2] = {ACC_FETCH, ACC_LOAD};

static uint64_t asid_of(uint64_t satp)
{
    return (satp >> 44) & 0xffff;
}

static bool translates(uint64_t satp)
{
    return (satp >> 60) != SATP_MODE_BARE;
}

static struct tlb_ctx *find(struct hart *h, uint64_t satp)
{
    for (unsigned s = 0; s < TLB_CTX_SLOTS; s++)
        if (h->tlb_ctx[s].satp == satp)
            return &h->tlb_ctx[s];
    return NULL;
}

static void save(struct hart *h, uint64_t satp)
{
    uint32_t live = 0;
    for (unsigned k = 0; k < 2; k++)
        for (unsigned m = 0; m < MMU_M; m++)
            if (h->tlb_dirty & (1u << (ctx_acc[k] * MMU_N + m)))
                live |= 1u << (k * MMU_M + m);
    if (!live)
        return;
    struct tlb_ctx *c = find(h, satp);
    if (!c)
        c = find(h, 0); /* a free slot */
    if (!c) {           /* the least recently used one */
        c = &h->tlb_ctx[0];
        for (unsigned s = 1; s < TLB_CTX_SLOTS; s++)
            if (h->tlb_ctx[s].used < c->used)
                c = &h->tlb_ctx[s];
    }
    c->satp = satp;
    c->used = ++h->tlb_ctx_clock;
    c->sets = live;
    c->super_regions = h->tlb_super_regions;
    memcpy(c->mega_map, h->tlb_mega_map, sizeof(c->mega_map));
    for (unsigned k = 0; k < 2; k++)
        for (unsigned m = 0; m < MMU_M; m++) {
            if (!(live & (1u << (k * MMU_M + m))))
                continue;
            memcpy(c->e[k][m], h->tlb[ctx_acc[k]][m], sizeof(c->e[k][m]));
            memcpy(c->level[k][m], h->tlb_level[ctx_acc[k]][m], sizeof(c->level[k][m]));
            if (k == 0)
                memcpy(c->dpage[m], h->tlb_dpage[m], sizeof(c->dpage[m]));
        }
}

/* Into the live sets, which are empty. */
static void restore(struct hart *h, struct tlb_ctx *c)
{
    for (unsigned k = 0; k < 2; k++)
        for (unsigned m = 0; m < MMU_M; m++) {
            if (!(c->sets & (1u << (k * MMU_M + m))))
                continue;
            memcpy(h->tlb[ctx_acc[k]][m], c->e[k][m], sizeof(c->e[k][m]));
            memcpy(h->tlb_level[ctx_acc[k]][m], c->level[k][m], sizeof(c->level[k][m]));
            if (k == 0)
                memcpy(h->tlb_dpage[m], c->dpage[m], sizeof(c->dpage[m]));
            h->tlb_dirty |= 1u << (ctx_acc[k] * MMU_N + m);
        }
    h->tlb_super_regions |= c->super_regions;
    for (unsigned i = 0; i < 64; i++)
        h->tlb_mega_map[i] |= c->mega_map[i];
    c->satp = 0; /* live again: the live set is the only copy */
}

void tlb_switch_satp(struct hart *h, uint64_t old_satp, uint64_t new_satp)
{
    if (old_satp == new_satp)
        return; /* a satp write orders nothing: the entries stay valid */
    if (translates(old_satp))
        save(h, old_satp);
    tlb_flush_live(h);
    struct tlb_ctx *c = translates(new_satp) ? find(h, new_satp) : NULL;
    if (c)
        restore(h, c);
}

void tlb_flush_asid(struct hart *h, uint64_t asid)
{
    asid &= 0xffff;
    if (translates(h->arch.satp) && asid_of(h->arch.satp) == asid)
        tlb_flush_live(h);
    for (unsigned s = 0; s < TLB_CTX_SLOTS; s++)
        if (h->tlb_ctx[s].satp && asid_of(h->tlb_ctx[s].satp) == asid)
            h->tlb_ctx[s].satp = 0;
}

void tlb_ctx_drop_all(struct hart *h)
{
    for (unsigned s = 0; s < TLB_CTX_SLOTS; s++)
        h->tlb_ctx[s].satp = 0;
}

void tlb_ctx_flush_va(struct hart *h, uint64_t va)
{
    unsigned i = (va >> PAGE_SHIFT) & (TLB_SIZE - 1);
    unsigned mega = (unsigned)(va >> 21) & 4095;
    for (unsigned s = 0; s < TLB_CTX_SLOTS; s++) {
        struct tlb_ctx *c = &h->tlb_ctx[s];
        if (!c->satp)
            continue;
        if ((c->super_regions & (1ULL << ((va >> 30) & 63))) ||
            (c->mega_map[mega / 64] & (1ULL << (mega % 64)))) {
            c->satp = 0; /* a superpage may cover va: drop the context */
            continue;
        }
        for (unsigned k = 0; k < 2; k++)
            for (unsigned m = 0; m < MMU_M; m++)
                if ((c->e[k][m][i].tag & ~TLB_FLAGS) == (va & PAGE_MASK))
                    c->e[k][m][i].tag = TLB_INVALID;
    }
}

void tlb_ctx_forget_dpage(struct hart *h, const struct dpage *p)
{
    for (unsigned s = 0; s < TLB_CTX_SLOTS; s++) {
        struct tlb_ctx *c = &h->tlb_ctx[s];
        if (!c->satp)
            continue;
        for (unsigned m = 0; m < MMU_M; m++)
            for (unsigned i = 0; i < TLB_SIZE; i++)
                if (c->dpage[m][i] == p) {
                    c->e[0][m][i].tag = TLB_INVALID;
                    c->dpage[m][i] = NULL;
                }
    }
}
