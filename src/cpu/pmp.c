/* SPDX-License-Identifier: MIT */
/*
 * Physical memory protection (privileged spec, "Physical Memory
 * Protection"): the 64 pmpcfg/pmpaddr entries checked in order, the
 * first one that matches any byte of an access decides; an access only
 * partly inside it fails.  M-mode is checked only against locked entries;
 * S and U fail when nothing matches.
 *
 * mmu.c checks a whole 4 KiB page when it fills a TLB entry, so the TLB
 * keeps working at page granularity; a page with an entry's boundary
 * inside it gets no TLB entry and each access is checked on its own
 * (fetches there go one instruction at a time).  pmpcfg/pmpaddr writes
 * flush the TLB.
 */

#include "cpu/hart_internal.h"

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_A 0x18
#define PMP_L 0x80
enum { PMP_OFF = 0, PMP_TOR = 1, PMP_NA4 = 2, PMP_NAPOT = 3 };

/* Entry i's range [*lo, *hi] (inclusive, so the top of the address space
 * fits); false when it matches nothing. */
static bool pmp_range(const struct hart *h, unsigned i, uint64_t *lo, uint64_t *hi)
{
    uint8_t cfg = h->arch.pmpcfg[i];
    uint64_t addr = h->arch.pmpaddr[i];
    switch ((cfg & PMP_A) >> 3) {
    case PMP_TOR: {
        uint64_t base = i ? h->arch.pmpaddr[i - 1] << 2 : 0, top = addr << 2;
        if (base >= top)
            return false;
        *lo = base;
        *hi = top - 1;
        return true;
    }
    case PMP_NA4:
        *lo = addr << 2;
        *hi = *lo + 3;
        return true;
    case PMP_NAPOT: {
        unsigned ones = (unsigned)__builtin_ctzll(~addr); /* pmpaddr is 54 bits: never all ones */
        uint64_t size_m1 = ones >= 61 ? UINT64_MAX : (1ULL << (ones + 3)) - 1;
        *lo = (addr << 2) & ~size_m1;
        *hi = *lo + size_m1;
        return true;
    }
    default:
        return false;
    }
}

void pmp_changed(struct hart *h)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 64; i++) {
        uint64_t lo, hi;
        if ((h->arch.pmpcfg[i] & PMP_A) && pmp_range(h, i, &lo, &hi))
            h->pmp_rules[n++] = (struct pmp_rule){.lo = lo, .hi = hi, .cfg = h->arch.pmpcfg[i]};
    }
    h->pmp_nrules = n;
}

bool pmp_allows(const struct hart *h, uint64_t pa, uint64_t len, int acc, unsigned priv)
{
    uint64_t last = pa + len - 1;
    static const uint8_t need[ACC_N] = {
        [ACC_FETCH] = PMP_X, [ACC_LOAD] = PMP_R, [ACC_STORE] = PMP_W};
    /* Every page table walk step and TLB fill comes here: the entries come
     * decoded (firmware uses a few of the 64). */
    for (unsigned i = 0; i < h->pmp_nrules; i++) {
        const struct pmp_rule *r = &h->pmp_rules[i];
        if (last < r->lo || pa > r->hi)
            continue;
        if (pa < r->lo || last > r->hi)
            return false; /* only partly inside the first entry that matches */
        if (priv == PRV_M && !(r->cfg & PMP_L))
            return true;
        return (r->cfg & need[acc]) != 0;
    }
    return priv == PRV_M;
}
