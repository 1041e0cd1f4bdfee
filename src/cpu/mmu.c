/* SPDX-License-Identifier: MIT */
/*
 * Address translation (Sv39/Sv48), the software TLBs and the memory
 * slow paths.  The fast paths (TLB hits on RAM) are inlined in exec.c.
 */
#include <string.h>

#include "cpu/hart_internal.h"
#include "mem/bus.h"

#define PTE_V    (1ULL << 0)
#define PTE_R    (1ULL << 1)
#define PTE_W    (1ULL << 2)
#define PTE_X    (1ULL << 3)
#define PTE_U    (1ULL << 4)
#define PTE_A    (1ULL << 6)
#define PTE_D    (1ULL << 7)
#define PTE_N    (1ULL << 63)
#define PPN_MASK ((1ULL << 44) - 1)

/* The tlb_dirty bits of the V=1 sets (H extension). */
#define VIRT_DIRTY                                                                                 \
    ((MMU_VIRT_SETS << (ACC_FETCH * MMU_N)) | (MMU_VIRT_SETS << (ACC_LOAD * MMU_N)) |              \
     (MMU_VIRT_SETS << (ACC_STORE * MMU_N)))

/* Empties the load victims of the sets in mask (bit m: set m). */
static void victims_drop(struct hart *h, unsigned mask)
{
    for (unsigned m = 0; m < MMU_N; m++)
        if (mask & (1u << m))
            h->load_victim_valid[m] = 0;
}

void tlb_flush_all(struct hart *h)
{
    if (h->tlb_dirty & VIRT_DIRTY)
        tlb_flush_sets(h, MMU_VIRT_SETS);
    tlb_flush_live(h);
    tlb_ctx_drop_all(h);
}

void tlb_flush_live(struct hart *h)
{
    h->stats.tlb_flush++;
    /* Only sets that were filled since their last flush: a context switch
     * then costs what the previous context used, not the whole TLB.  The
     * V=1 sets do not depend on satp: they stay. */
    victims_drop(h, (1u << MMU_M) - 1);
    for (unsigned a = 0; a < ACC_N; a++)
        for (unsigned m = 0; m < MMU_M; m++) {
            uint32_t bit = 1u << (a * MMU_N + m);
            if (!(h->tlb_dirty & bit))
                continue;
            memset(h->tlb[a][m], 0xff, sizeof(h->tlb[a][m]));
            h->tlb_dirty &= ~bit;
        }
    /* The superpage maps serve the V=1 sets too: keep them while those
     * hold entries (too much scanning later, never a stale entry). */
    if (!(h->tlb_dirty & VIRT_DIRTY)) {
        h->tlb_super_regions = 0;
        memset(h->tlb_mega_map, 0, sizeof(h->tlb_mega_map));
    }
}

void tlb_flush_sets(struct hart *h, unsigned mask)
{
    h->stats.tlb_flush++;
    victims_drop(h, mask);
    for (unsigned a = 0; a < ACC_N; a++)
        for (unsigned m = 0; m < MMU_N; m++) {
            uint32_t bit = 1u << (a * MMU_N + m);
            if (!(mask & (1u << m)) || !(h->tlb_dirty & bit))
                continue;
            memset(h->tlb[a][m], 0xff, sizeof(h->tlb[a][m]));
            h->tlb_dirty &= ~bit;
        }
}

void tlb_flush_everything(struct hart *h)
{
    tlb_ctx_drop_all(h);
    memset(h->tlb, 0xff, sizeof(h->tlb));
    victims_drop(h, ~0u);
    h->tlb_dirty = 0;
    h->tlb_super_regions = 0;
    memset(h->tlb_mega_map, 0, sizeof(h->tlb_mega_map));
}

void tlb_flush_va(struct hart *h, uint64_t va)
{
    tlb_flush_va_sets(h, va, MMU_HS_SETS);
}

void tlb_flush_va_sets(struct hart *h, uint64_t va, unsigned mask)
{
    h->stats.tlb_flush_va++;
    victims_drop(h, mask); /* rarer than misses: not worth a search */
    unsigned mega = (unsigned)(va >> 21) & 4095;
    if ((h->tlb_super_regions & (1ULL << ((va >> 30) & 63))) ||
        (h->tlb_mega_map[mega / 64] & (1ULL << (mega % 64)))) {
        /* A superpage fills one entry per 4 KiB page it was used for: drop
         * the entries whose superpage contains va.  (Flushing everything
         * instead made each sfence.vma of a module page near the kernel's
         * megapages a full flush, and the refills cost more than this.) */
        h->stats.tlb_flush_scan++;
        for (unsigned a = 0; a < ACC_N; a++)
            for (unsigned m = 0; m < MMU_N; m++)
                for (unsigned i = 0; i < TLB_SIZE && (mask & (1u << m)); i++) {
                    unsigned level = h->tlb_level[a][m][i];
                    if (!level)
                        continue;
                    struct tlb_entry *e = &h->tlb[a][m][i];
                    unsigned shift = PAGE_SHIFT + 9 * level;
                    if (e->tag != TLB_INVALID && ((e->tag & ~TLB_FLAGS) >> shift) == (va >> shift))
                        e->tag = TLB_INVALID;
                }
    }
    uint64_t tag = va & PAGE_MASK;
    unsigned i = (va >> PAGE_SHIFT) & (TLB_SIZE - 1);
    for (unsigned a = 0; a < ACC_N; a++)
        for (unsigned m = 0; m < MMU_N; m++)
            if ((mask & (1u << m)) && (h->tlb[a][m][i].tag & ~TLB_FLAGS) == tag)
                h->tlb[a][m][i].tag = TLB_INVALID;
    if (mask & MMU_HS_SETS)
        tlb_ctx_flush_va(h, va); /* without an ASID it is for every address space */
}

/* Bits 63..54 of a PTE: N (Svnapot: level-0 leaves with PPN[3:0] = 1000,
 * a 64 KiB page), PBMT (Svpbmt, when menvcfg.PBMTE: 0-2, attributes the
 * host's coherent memory ignores; 3 is reserved) and reserved zeros. */
static bool pte_high_bits_ok(uint64_t envcfg, uint64_t pte, int level)
{
    if ((pte >> 54) & 0x7f)
        return false;
    unsigned pbmt = (unsigned)(pte >> 61) & 3;
    if (pbmt && (pbmt == 3 || !(envcfg & MENVCFG_PBMTE)))
        return false;
    if ((pte & PTE_N) && (level != 0 || ((pte >> 10) & 0xf) != 8 || !(pte & (PTE_R | PTE_X))))
        return false;
    return true;
}

/* ---- two-stage translation (H) ---- */

/* Reads the PTE at host-physical pte_pa (PMP-checked as an S-mode access). */
static uint64_t *pte_ptr(struct hart *h, uint64_t pte_pa)
{
    uint64_t *p = bus_ram_ptr(h->bus, pte_pa, 8);
    return p && pmp_allows(h, pte_pa, 8, ACC_LOAD, PRV_S) ? p : NULL;
}

/* Sets A (and D for a store) in a leaf with a CAS: false if the PTE
 * changed under us (walk again). */
static bool pte_set_ad(struct hart *h, uint64_t *ptep, uint64_t pte_pa, uint64_t pte, uint64_t need)
{
    uint64_t expected = pte;
    if (!__atomic_compare_exchange_n(ptep, &expected, pte | need, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return false;
    bus_dirty_note(h->bus, pte_pa, 8);
    return true;
}

/* The G-stage (hgatp: Sv39x4/Sv48x4): guest-physical gpa to host-physical.
 * Every leaf must be a U page; loads may use X with HS's MXR; HLVX wants
 * X instead of R.  A fault is MMU_GUEST_PAGE_FAULT (the caller records
 * which guest-physical address failed). */
static enum mmu_result gstage(struct hart *h, uint64_t gpa, int acc, uint64_t *hpa)
{
    uint64_t mode = h->arch.hgatp >> 60;
    if (mode == SATP_MODE_BARE) {
        *hpa = gpa;
        return MMU_OK;
    }
    int levels = mode == SATP_MODE_SV39 ? 3 : 4;
    if (gpa >> (12 + 9 * levels + 2))
        return MMU_GUEST_PAGE_FAULT; /* beyond the guest-physical space */
    for (;;) {
        uint64_t a = (h->arch.hgatp & PPN_MASK) << PAGE_SHIFT;
        uint64_t pte = 0, *ptep = NULL, pte_pa = 0;
        int i;
        for (i = levels - 1;; i--) {
            uint64_t vpn = (gpa >> (12 + 9 * i)) & (i == levels - 1 ? 2047 : 511);
            pte_pa = a + vpn * 8;
            if (!(ptep = pte_ptr(h, pte_pa)))
                return MMU_ACCESS_FAULT;
            pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
            if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) ||
                !pte_high_bits_ok(h->arch.menvcfg, pte, i))
                return MMU_GUEST_PAGE_FAULT;
            if (pte & (PTE_R | PTE_X))
                break;
            if (i == 0 || (pte >> 61))
                return MMU_GUEST_PAGE_FAULT;
            a = ((pte >> 10) & PPN_MASK) << PAGE_SHIFT;
        }
        if (!(pte & PTE_U))
            return MMU_GUEST_PAGE_FAULT;
        bool ok = acc == ACC_FETCH   ? (pte & PTE_X)
                  : acc == ACC_STORE ? (pte & PTE_W)
                  : h->hlvx          ? (pte & PTE_X)
                            : (pte & PTE_R) || ((h->arch.mstatus & MSTATUS_MXR) && (pte & PTE_X));
        if (!ok)
            return MMU_GUEST_PAGE_FAULT;
        uint64_t ppn = (pte >> 10) & PPN_MASK;
        if (ppn & ((1ULL << (9 * i)) - 1))
            return MMU_GUEST_PAGE_FAULT; /* misaligned superpage */
        uint64_t need = PTE_A | (acc == ACC_STORE ? PTE_D : 0);
        if ((pte & need) != need) {
            if (!pmp_allows(h, pte_pa, 8, ACC_STORE, PRV_S))
                return MMU_ACCESS_FAULT;
            if (!pte_set_ad(h, ptep, pte_pa, pte, need))
                continue;
        }
        if (pte & PTE_N)
            ppn = (ppn & ~0xfULL) | ((gpa >> PAGE_SHIFT) & 0xf);
        *hpa = (ppn << PAGE_SHIFT) | (gpa & ((1ULL << (12 + 9 * i)) - 1));
        return MMU_OK;
    }
}

/* G-stage translation of an implicit access to a VS-stage PTE at gpa:
 * a fault is reported as a guest-page fault of the original access with
 * the pseudoinstruction the spec requires in htinst/mtinst. */
static enum mmu_result gstage_pte(struct hart *h, uint64_t gpa, bool write, uint64_t **ptep,
                                  uint64_t *hpa)
{
    bool hlvx = h->hlvx;
    h->hlvx = false;
    enum mmu_result r = gstage(h, gpa, write ? ACC_STORE : ACC_LOAD, hpa);
    h->hlvx = hlvx;
    if (r == MMU_GUEST_PAGE_FAULT) {
        h->fault_gpa = gpa;
        h->fault_tinst = write ? 0x3020 : 0x3000;
    }
    if (r == MMU_OK && !(*ptep = pte_ptr(h, *hpa)))
        r = MMU_ACCESS_FAULT;
    return r;
}

/* V=1 translation: VS-stage (vsatp) whose table walk and result go
 * through the G-stage.  leaf_level is the VS-stage level (TLB flushes
 * by guest virtual address need it). */
static enum mmu_result walk_virt(struct hart *h, uint64_t va, int acc, unsigned idx, uint64_t *pa,
                                 unsigned *leaf_level)
{
    *leaf_level = 0;
    uint64_t mode = h->arch.vsatp >> 60;
    uint64_t gpa = va;
    enum mmu_result r;
    if (mode != SATP_MODE_BARE) {
        int levels = mode == SATP_MODE_SV39 ? 3 : 4;
        unsigned vabits = 12 + 9 * (unsigned)levels;
        if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va)
            return MMU_PAGE_FAULT;
        uint64_t pbmte = h->arch.henvcfg;
        bool mxr = (h->arch.mstatus | h->arch.vsstatus) & MSTATUS_MXR;
        for (;;) {
            uint64_t a = (h->arch.vsatp & PPN_MASK) << PAGE_SHIFT;
            uint64_t pte = 0, *ptep = NULL, pte_gpa = 0, pte_hpa;
            int i;
            for (i = levels - 1;; i--) {
                pte_gpa = a + ((va >> (12 + 9 * i)) & 511) * 8;
                if ((r = gstage_pte(h, pte_gpa, false, &ptep, &pte_hpa)) != MMU_OK)
                    return r;
                pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
                if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) ||
                    !pte_high_bits_ok(pbmte, pte, i))
                    return MMU_PAGE_FAULT;
                if (pte & (PTE_R | PTE_X))
                    break;
                if (i == 0 || (pte >> 61))
                    return MMU_PAGE_FAULT;
                a = ((pte >> 10) & PPN_MASK) << PAGE_SHIFT;
            }
            if (idx == MMU_VU) {
                if (!(pte & PTE_U))
                    return MMU_PAGE_FAULT;
            } else if ((pte & PTE_U) && (acc == ACC_FETCH || idx != MMU_VSSUM)) {
                return MMU_PAGE_FAULT;
            }
            bool ok = acc == ACC_FETCH   ? (pte & PTE_X)
                      : acc == ACC_STORE ? (pte & PTE_W)
                      : h->hlvx          ? (pte & PTE_X)
                                         : (pte & PTE_R) || (mxr && (pte & PTE_X));
            if (!ok)
                return MMU_PAGE_FAULT;
            uint64_t ppn = (pte >> 10) & PPN_MASK;
            if (ppn & ((1ULL << (9 * i)) - 1))
                return MMU_PAGE_FAULT;
            uint64_t need = PTE_A | (acc == ACC_STORE ? PTE_D : 0);
            if ((pte & need) != need) {
                /* The A/D write is a store at the G-stage. */
                if ((r = gstage_pte(h, pte_gpa, true, &ptep, &pte_hpa)) != MMU_OK)
                    return r;
                if (!pmp_allows(h, pte_hpa, 8, ACC_STORE, PRV_S))
                    return MMU_ACCESS_FAULT;
                if (!pte_set_ad(h, ptep, pte_hpa, pte, need))
                    continue;
            }
            if (pte & PTE_N) {
                ppn = (ppn & ~0xfULL) | ((va >> PAGE_SHIFT) & 0xf);
                i = 1; /* as in walk(): flushed as a 2 MiB entry */
                gpa = (ppn << PAGE_SHIFT) | (va & (PAGE_SIZE - 1));
            } else {
                gpa = (ppn << PAGE_SHIFT) | (va & ((1ULL << (12 + 9 * i)) - 1));
            }
            *leaf_level = (unsigned)i;
            break;
        }
    }
    r = gstage(h, gpa, acc, pa);
    if (r == MMU_GUEST_PAGE_FAULT)
        h->fault_gpa = gpa;
    return r;
}

/* mmu_translate, telling the level of the leaf (0: 4 KiB page). */
static enum mmu_result walk(struct hart *h, uint64_t va, int acc, unsigned idx, uint64_t *pa,
                            unsigned *leaf_level)
{
    if (idx > MMU_M)
        return walk_virt(h, va, acc, idx, pa, leaf_level);
    *leaf_level = 0;
    uint64_t mode = h->arch.satp >> 60;
    if (idx == MMU_M || mode == SATP_MODE_BARE) {
        *pa = va;
        return MMU_OK;
    }
    unsigned levels = mode == SATP_MODE_SV39 ? 3 : 4;
    unsigned vabits = 12 + 9 * levels;
    if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va)
        return MMU_PAGE_FAULT; /* not sign-extended */

    for (;;) {
        uint64_t a = (h->arch.satp & PPN_MASK) << PAGE_SHIFT;
        uint64_t pte, *ptep, pte_pa;
        int i;
        for (i = (int)levels - 1;; i--) {
            pte_pa = a + ((va >> (12 + 9 * i)) & 511) * 8;
            ptep = bus_ram_ptr(h->bus, pte_pa, 8);
            if (!ptep || !pmp_allows(h, pte_pa, 8, ACC_LOAD, PRV_S)) /* implicit: as S */
                return MMU_ACCESS_FAULT;
            pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
            if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)))
                return MMU_PAGE_FAULT;
            if (!pte_high_bits_ok(h->arch.menvcfg, pte, i))
                return MMU_PAGE_FAULT;
            if (pte & (PTE_R | PTE_X))
                break;
            if (i == 0 || (pte >> 61)) /* N and PBMT are for leaves only */
                return MMU_PAGE_FAULT;
            a = ((pte >> 10) & PPN_MASK) << PAGE_SHIFT;
        }
        /* Leaf: permissions. */
        if (idx == MMU_U) {
            if (!(pte & PTE_U))
                return MMU_PAGE_FAULT;
        } else if (pte & PTE_U) {
            if (acc == ACC_FETCH || idx != MMU_SSUM)
                return MMU_PAGE_FAULT;
        }
        if (acc == ACC_FETCH && !(pte & PTE_X))
            return MMU_PAGE_FAULT;
        if (acc == ACC_LOAD &&
            !((pte & PTE_R) || ((h->arch.mstatus & MSTATUS_MXR) && (pte & PTE_X))))
            return MMU_PAGE_FAULT;
        if (acc == ACC_STORE && !(pte & PTE_W))
            return MMU_PAGE_FAULT;
        uint64_t ppn = (pte >> 10) & PPN_MASK;
        uint64_t low = (1ULL << (9 * i)) - 1;
        if (ppn & low)
            return MMU_PAGE_FAULT; /* misaligned superpage */
        uint64_t need = PTE_A | (acc == ACC_STORE ? PTE_D : 0);
        if ((pte & need) != need) {
            if (!(h->arch.menvcfg & MENVCFG_ADUE))
                return MMU_PAGE_FAULT; /* Svade */
            if (!pmp_allows(h, pte_pa, 8, ACC_STORE, PRV_S))
                return MMU_ACCESS_FAULT;
            uint64_t expected = pte;
            if (!__atomic_compare_exchange_n(ptep, &expected, pte | need, false, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                continue; /* the PTE changed under us: walk again */
            /* A/D updates are RAM writes too. */
            bus_dirty_note(h->bus, pte_pa, 8);
        }
        uint64_t off_mask = (1ULL << (12 + 9 * i)) - 1;
        if (pte & PTE_N) { /* Svnapot 64 KiB: the low 4 PPN bits come from the va */
            ppn = (ppn & ~0xfULL) | ((va >> PAGE_SHIFT) & 0xf);
            /* Recorded as a 2 MiB entry, so an sfence.vma of any page of
             * the 64 KiB range drops it (too much, never too little). */
            *pa = (ppn << PAGE_SHIFT) | (va & off_mask);
            *leaf_level = 1;
            return MMU_OK;
        }
        *pa = (ppn << PAGE_SHIFT) | (va & off_mask);
        *leaf_level = (unsigned)i;
        return MMU_OK;
    }
}

enum mmu_result mmu_translate(struct hart *h, uint64_t va, int acc, unsigned idx, uint64_t *pa,
                              bool *super)
{
    unsigned level;
    enum mmu_result r = walk(h, va, acc, idx, pa, &level);
    *super = level > 0;
    return r;
}

static const uint8_t page_fault_cause[ACC_N] = {EXC_INSN_PAGE, EXC_LOAD_PAGE, EXC_STORE_PAGE};
static const uint8_t guest_page_fault_cause[ACC_N] = {EXC_INSN_GUEST_PAGE, EXC_LOAD_GUEST_PAGE,
                                                      EXC_STORE_GUEST_PAGE};
static const uint8_t access_fault_cause[ACC_N] = {EXC_INSN_ACCESS, EXC_LOAD_ACCESS,
                                                  EXC_STORE_ACCESS};

static unsigned idx_for(struct hart *h, int acc)
{
    return acc == ACC_FETCH ? h->fetch_idx : h->ls_idx;
}

/* The PMP check of a translated access of len bytes at pa.  A TLB entry
 * covers a page, so it may be made only when the page is allowed whole
 * (*whole); a page with a PMP boundary inside it (an NA4 or small TOR
 * entry) is checked access by access and never cached. */
static bool pmp_page_ok(struct hart *h, uint64_t pa, uint64_t len, int acc, unsigned idx,
                        bool *whole)
{
    unsigned priv = idx == MMU_M ? PRV_M : idx == MMU_U || idx == MMU_VU ? PRV_U : PRV_S;
    *whole = pmp_allows(h, pa & PAGE_MASK, PAGE_SIZE, acc, priv);
    return *whole || pmp_allows(h, pa, len, acc, priv);
}

/* Translates an access of len bytes (inside one page), raising the fault
 * on failure; *whole: the page may go into the TLB (see pmp_page_ok). */
static bool translate_len(struct hart *h, uint64_t va, uint64_t len, int acc, uint64_t *pa,
                          unsigned *level, bool *whole)
{
    enum mmu_result r = walk(h, va, acc, idx_for(h, acc), pa, level);
    if (r == MMU_OK && !pmp_page_ok(h, *pa, len, acc, idx_for(h, acc), whole))
        r = MMU_ACCESS_FAULT;
    if (r == MMU_OK)
        return true;
    hart_raise(h,
               r == MMU_PAGE_FAULT         ? page_fault_cause[acc]
               : r == MMU_GUEST_PAGE_FAULT ? guest_page_fault_cause[acc]
                                           : access_fault_cause[acc],
               va);
    return false;
}

/* translate_len for callers that make no TLB entry. */
static bool translate(struct hart *h, uint64_t va, uint64_t len, int acc, uint64_t *pa,
                      unsigned *level)
{
    bool whole;
    return translate_len(h, va, len, acc, pa, level, &whole);
}

bool mem_load_exec(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    /* HLVX: rare (KVM reads a trapped instruction), so no TLB: each
     * access walks, with execute permission standing for read. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (i == 0 || ((va + i) & (PAGE_SIZE - 1)) == 0) {
            uint64_t pa, b;
            unsigned level;
            h->hlvx = true;
            bool ok = translate(h, va + i, 1, ACC_LOAD, &pa, &level);
            h->hlvx = false;
            if (!ok)
                return false;
            unsigned n = size - i;
            if ((pa & (PAGE_SIZE - 1)) + n > PAGE_SIZE)
                n = (unsigned)(PAGE_SIZE - (pa & (PAGE_SIZE - 1)));
            for (unsigned k = 0; k < n; k++) {
                if (!bus_read(h->bus, pa + k, 1, &b)) {
                    hart_raise(h, EXC_LOAD_ACCESS, va + i + k);
                    return false;
                }
                v |= b << (8 * (i + k));
            }
        }
    }
    *val = v;
    return true;
}

static bool is_code_page(struct hart *h, uint64_t pa)
{
    uint64_t n = (pa - h->bus->ram_base) >> PAGE_SHIFT;
    return __atomic_load_n(&h->code_map[n], __ATOMIC_RELAXED) != 0;
}

/* Host pointer for the page of pa when it is plain RAM, else NULL. */
static uint8_t *plain_ram_page(struct hart *h, uint64_t pa)
{
    uint64_t page = pa & PAGE_MASK;
    uint8_t *p = bus_ram_ptr(h->bus, page, PAGE_SIZE);
    if (!p || !bus_page_is_plain_ram(h->bus, page))
        return NULL;
    return p;
}

/* Records that the entry came from a superpage of that level, so that
 * tlb_flush_va can find it. */
static void note_level(struct hart *h, int acc, unsigned idx, uint64_t va, unsigned level)
{
    h->tlb_level[acc][idx][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)] = (uint8_t)level;
    unsigned mega = (unsigned)(va >> 21) & 4095;
    if (level >= 3)
        h->tlb_super_regions = ~0ULL; /* 512 GiB: spans every 1 GiB region */
    else if (level == 2)
        h->tlb_super_regions |= 1ULL << ((va >> 30) & 63);
    else if (level == 1)
        h->tlb_mega_map[mega / 64] |= 1ULL << (mega % 64);
}

/* The load entry at index i of set idx is about to be replaced: keep it
 * among the set's victims (the oldest victim goes). */
static void victim_push(struct hart *h, unsigned idx, unsigned i)
{
    const struct tlb_entry *e = &h->tlb[ACC_LOAD][idx][i];
    if (e->tag == TLB_INVALID)
        return;
    unsigned slot = h->load_victim_next[idx]++ % TLB_VICTIMS;
    h->load_victim[idx][slot] = *e;
    h->load_victim_level[idx][slot] = h->tlb_level[ACC_LOAD][idx][i];
    h->load_victim_valid[idx] |= (uint8_t)(1u << slot);
}

/* The load entry for va's page from the victims, swapped into its set
 * (the entry there becomes the victim), or NULL. */
static struct tlb_entry *victim_take(struct hart *h, uint64_t va)
{
    unsigned idx = idx_for(h, ACC_LOAD), i = (va >> PAGE_SHIFT) & (TLB_SIZE - 1);
    for (unsigned bits = h->load_victim_valid[idx]; bits; bits &= bits - 1) {
        unsigned slot = (unsigned)__builtin_ctz(bits);
        struct tlb_entry *v = &h->load_victim[idx][slot];
        if ((v->tag & ~TLB_FLAGS) != (va & PAGE_MASK))
            continue;
        struct tlb_entry *e = &h->tlb[ACC_LOAD][idx][i], old = *e;
        uint8_t old_level = h->tlb_level[ACC_LOAD][idx][i];
        *e = *v;
        h->tlb_level[ACC_LOAD][idx][i] = h->load_victim_level[idx][slot];
        if (old.tag == TLB_INVALID) {
            h->load_victim_valid[idx] &= (uint8_t) ~(1u << slot);
        } else {
            *v = old;
            h->load_victim_level[idx][slot] = old_level;
        }
        h->stats.load_victim_hits++;
        return e;
    }
    return NULL;
}

static void tlb_fill(struct hart *h, int acc, uint64_t va, uint8_t *host_page, unsigned level,
                     bool code)
{
    unsigned idx = idx_for(h, acc);
    struct tlb_entry *e = &h->tlb[acc][idx][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (acc == ACC_LOAD && (e->tag & ~TLB_FLAGS) != (va & PAGE_MASK))
        victim_push(h, idx, (va >> PAGE_SHIFT) & (TLB_SIZE - 1));
    e->tag = (va & PAGE_MASK) | (code ? TLB_CODE : 0);
    e->addend = (uintptr_t)host_page - (uintptr_t)(va & PAGE_MASK);
    h->tlb_dirty |= 1u << (acc * MMU_N + idx);
    note_level(h, acc, idx, va, level);
}

/* Remembers that va's page is device space at physical page pa. */
static void tlb_fill_io(struct hart *h, int acc, uint64_t va, uint64_t pa, unsigned level)
{
    unsigned idx = idx_for(h, acc);
    struct tlb_entry *e = &h->tlb[acc][idx][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (acc == ACC_LOAD && (e->tag & ~TLB_FLAGS) != (va & PAGE_MASK))
        victim_push(h, idx, (va >> PAGE_SHIFT) & (TLB_SIZE - 1));
    e->tag = (va & PAGE_MASK) | TLB_IO;
    e->addend = (uintptr_t)((pa & PAGE_MASK) - (va & PAGE_MASK));
    h->tlb_dirty |= 1u << (acc * MMU_N + idx);
    note_level(h, acc, idx, va, level);
}

/* A TLB entry for va's page regardless of alignment and flags, or NULL. */
static struct tlb_entry *tlb_find(struct hart *h, int acc, uint64_t va)
{
    struct tlb_entry *e = &h->tlb[acc][idx_for(h, acc)][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    return (e->tag & ~TLB_FLAGS) == (va & PAGE_MASK) ? e : NULL;
}

static uint64_t io_pa(const struct tlb_entry *e, uint64_t va)
{
    return va + (uint64_t)e->addend;
}

/* The physical address a RAM TLB entry maps va to. */
static uint64_t ram_pa(struct hart *h, const struct tlb_entry *e, uint64_t va)
{
    return (uint64_t)((uint8_t *)(e->addend + va) - h->bus->ram) + h->bus->ram_base;
}

/* The store through a TLB_CODE entry changed decoded code. */
static void code_written(struct hart *h, const struct tlb_entry *e, uint64_t va, unsigned size)
{
    h->stats.code_store++;
    dcache_invalidate_range(h, ram_pa(h, e, va), size);
}

bool mem_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    h->stats.load_slow++;
    if ((va & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
        /* Misaligned across a page boundary: byte by byte, two translations. */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t b;
            if (!mem_load_slow(h, va + i, 1, &b))
                return false;
            v |= b << (8 * i);
        }
        *val = v;
        return true;
    }
    struct tlb_entry *e = tlb_find(h, ACC_LOAD, va);
    if (!e)
        e = victim_take(h, va);
    uint64_t pa;
    if (e && !(e->tag & TLB_IO)) {
        uint64_t v = 0;
        memcpy(&v, (void *)(e->addend + va), size);
        *val = v;
        return true;
    } else if (e) {
        pa = io_pa(e, va);
    } else {
        unsigned level;
        bool whole;
        if (!translate_len(h, va, size, ACC_LOAD, &pa, &level, &whole))
            return false;
        uint8_t *page = plain_ram_page(h, pa);
        if (page) {
            if (whole)
                tlb_fill(h, ACC_LOAD, va, page, level, false);
            uint64_t v = 0;
            memcpy(&v, page + (pa & (PAGE_SIZE - 1)), size);
            *val = v;
            return true;
        }
        if (whole)
            tlb_fill_io(h, ACC_LOAD, va, pa, level);
    }
    if (!bus_read(h->bus, pa, size, val)) {
        hart_raise(h, EXC_LOAD_ACCESS, va);
        return false;
    }
    return true;
}

/* A store checked on its own (no TLB entry): what the TLB path does after
 * the write, by physical address. */
static bool store_uncached(struct hart *h, uint64_t va, uint64_t pa, uint8_t *page, unsigned size,
                           uint64_t val)
{
    if (!page) {
        if (bus_write(h->bus, pa, size, val))
            return true;
        hart_raise(h, EXC_STORE_ACCESS, va);
        return false;
    }
    uint8_t *p = page + (pa & (PAGE_SIZE - 1));
    memcpy(p, &val, size);
    res_break(h->shared, p);
    bus_dirty_note(h->bus, pa, size);
    if (is_code_page(h, pa)) {
        h->stats.code_store++;
        dcache_invalidate_range(h, pa, size);
    }
    return true;
}

bool mem_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
    h->stats.store_slow++;
    if ((va & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
        /* Check both pages before writing anything, so a fault on the
         * second page leaves memory untouched (tval: that page's start). */
        uint64_t pa;
        unsigned level;
        uint64_t first = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (!translate(h, va, first, ACC_STORE, &pa, &level) ||
            !translate(h, (va + size - 1) & PAGE_MASK, size - first, ACC_STORE, &pa, &level))
            return false;
        for (unsigned i = 0; i < size; i++)
            if (!mem_store_slow(h, va + i, 1, (val >> (8 * i)) & 0xff))
                return false;
        return true;
    }
    struct tlb_entry *e = tlb_find(h, ACC_STORE, va);
    if (!e) {
        uint64_t pa;
        unsigned level;
        bool whole;
        if (!translate_len(h, va, size, ACC_STORE, &pa, &level, &whole))
            return false;
        uint8_t *page = plain_ram_page(h, pa);
        if (!whole) /* PMP inside the page: this access alone, no TLB entry */
            return store_uncached(h, va, pa, page, size, val);
        if (page)
            tlb_fill(h, ACC_STORE, va, page, level, is_code_page(h, pa));
        else
            tlb_fill_io(h, ACC_STORE, va, pa, level);
        e = tlb_find(h, ACC_STORE, va);
    }
    if (e->tag & TLB_IO) {
        if (!bus_write(h->bus, io_pa(e, va), size, val)) {
            hart_raise(h, EXC_STORE_ACCESS, va);
            return false;
        }
        return true;
    }
    memcpy((void *)(e->addend + va), &val, size);
    res_break(h->shared, (void *)(e->addend + va));
    /* While the dirty log is on, a store TLB entry exists only for pages
     * marked since the last bump of dirty_gen: the fast path needs no
     * check, and every fill (and every slow store) lands here. */
    bus_dirty_note(h->bus, ram_pa(h, e, va), size);
    if (e->tag & TLB_CODE)
        code_written(h, e, va, size);
    return true;
}

void *mem_atomic_ptr(struct hart *h, uint64_t va, unsigned size, bool is_lr)
{
    int acc = is_lr ? ACC_LOAD : ACC_STORE;
    if (va & (size - 1)) {
        hart_raise(h, is_lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED, va);
        return NULL;
    }
    struct tlb_entry *e = tlb_find(h, acc, va);
    if (!e) {
        uint64_t pa;
        unsigned level;
        bool whole;
        if (!translate_len(h, va, size, acc, &pa, &level, &whole))
            return NULL;
        uint8_t *page = plain_ram_page(h, pa);
        if (!page) {
            hart_raise(h, access_fault_cause[acc], va);
            return NULL;
        }
        if (!whole) { /* PMP inside the page: no TLB entry (see store_uncached) */
            if (acc == ACC_STORE) {
                if (is_code_page(h, pa))
                    dcache_invalidate_range(h, pa, size);
                bus_dirty_note(h->bus, pa, size);
            }
            return page + (pa & (PAGE_SIZE - 1));
        }
        tlb_fill(h, acc, va, page, level, acc == ACC_STORE && is_code_page(h, pa));
        e = tlb_find(h, acc, va);
    }
    if (e->tag & TLB_IO) { /* no atomics on devices */
        hart_raise(h, access_fault_cause[acc], va);
        return NULL;
    }
    /* Invalidating before the write is enough: slots re-decode lazily;
     * marking before it too, as the page is sent only after the harts
     * have acknowledged the next dirty_gen (they finish this AMO first). */
    if (e->tag & TLB_CODE)
        code_written(h, e, va, size);
    if (acc == ACC_STORE)
        bus_dirty_note(h->bus, ram_pa(h, e, va), size);
    return (void *)(e->addend + va);
}

bool mmu_fetch_page(struct hart *h, uint64_t pc, struct dpage **dp)
{
    h->stats.fetch_miss++;
    uint64_t pa;
    unsigned level;
    bool whole;
    if (!translate_len(h, pc, 2, ACC_FETCH, &pa, &level, &whole))
        return false;
    uint8_t *page = plain_ram_page(h, pa);
    if (!page || !whole) { /* fetched one instruction at a time (fetch_slow) */
        *dp = NULL;
        return true;
    }
    struct dpage *p = dcache_get(h, pa & PAGE_MASK);
    unsigned i = (pc >> PAGE_SHIFT) & (TLB_SIZE - 1);
    tlb_fill(h, ACC_FETCH, pc, page, level, false);
    h->tlb_dpage[h->fetch_idx][i] = p;
    *dp = p;
    return true;
}

static bool fetch16(struct hart *h, uint64_t va, uint16_t *out)
{
    uint64_t pa, v;
    unsigned level;
    if (!translate(h, va, 2, ACC_FETCH, &pa, &level))
        return false;
    if (!bus_read(h->bus, pa, 2, &v)) {
        hart_raise(h, EXC_INSN_ACCESS, va);
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

bool fetch_slow(struct hart *h, uint64_t pc, uint32_t *insn)
{
    uint16_t lo, hi = 0;
    if (!fetch16(h, pc, &lo))
        return false;
    if ((lo & 3) == 3 && !fetch16(h, pc + 2, &hi))
        return false;
    *insn = lo | ((uint32_t)hi << 16);
    return true;
}
