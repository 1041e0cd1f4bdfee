/* SPDX-License-Identifier: MIT */
/*
 * Hardware performance monitor: mhpmcounter3..18 and Sscofpmf.
 *
 * Counters are brought up to date in batches, where mcycle and minstret
 * are (the end of an interpreter run, and before a counter CSR
 * instruction), so an overflow is seen, and LCOFI raised, at the end of
 * the batch it happened in ("eventually", as Sscofpmf allows), and the
 * privilege filter applies to a batch as a whole: a batch ends at every
 * xRET and interrupt, but an exception taken inside one is counted in
 * the mode it entered.  A cycle is an instruction here, as for mcycle.
 */
#include "cpu/pmu.h"

#include "cpu/hart_internal.h"

/* Whether counter i (0 = mhpmcounter3) can count at all. */
static bool counts(const struct hart *h, unsigned i)
{
    uint64_t ev = h->arch.hpmevent[i] & HPMEVENT_EVENT;
    if (h->arch.mcountinhibit & (1u << (i + 3)))
        return false;
    return ev == PMU_EV_CYCLES || ev == PMU_EV_INSTRUCTIONS;
}

static uint64_t inhibit_bit(unsigned priv)
{
    return priv == PRV_M ? HPMEVENT_MINH : priv == PRV_S ? HPMEVENT_SINH : HPMEVENT_UINH;
}

void pmu_update(struct hart *h)
{
    uint32_t act = 0;
    for (unsigned i = 0; i < PMU_HPM; i++)
        if (counts(h, i))
            act |= 1u << i;
    h->pmu_active = act;
}

void pmu_count(struct hart *h, uint64_t n)
{
    uint32_t act = h->pmu_active, skip = h->pmu_skip;
    uint64_t inh = inhibit_bit(h->arch.priv);
    bool raise = false;

    h->pmu_skip = 0;
    while (act) {
        unsigned i = (unsigned)__builtin_ctz(act);
        act &= act - 1;
        uint64_t *ev = &h->arch.hpmevent[i];
        if (*ev & inh)
            continue;
        /* A counter written by the instruction that ends this batch does
         * not count that instruction (it reads back what was written). */
        uint64_t add = n - ((skip >> i) & 1);
        uint64_t old = h->arch.hpmcounter[i];
        h->arch.hpmcounter[i] = old + add;
        if (old + add < old && !(*ev & HPMEVENT_OF)) {
            *ev |= HPMEVENT_OF;
            raise = true;
        }
    }
    if (raise) {
        h->arch.mip_sw |= MIP_LCOFIP;
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
    }
}

static uint32_t scountovf(const struct hart *h)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < PMU_HPM; i++)
        if (h->arch.hpmevent[i] & HPMEVENT_OF)
            v |= 1u << (i + 3);
    if (h->arch.priv < PRV_M)
        v &= h->arch.mcounteren;
    return v;
}

bool pmu_csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr == CSR_SCOUNTOVF) {
        *val = scountovf(h);
        return true;
    }
    unsigned base = csr & ~0x1fu, n = csr & 0x1f;
    if ((base != 0xb00 && base != 0xc00 && base != 0x320) || n < 3)
        return false;
    if (n - 3 >= PMU_HPM)
        *val = 0; /* not implemented: read-only zero */
    else
        *val = base == 0x320 ? h->arch.hpmevent[n - 3] : h->arch.hpmcounter[n - 3];
    return true;
}

bool pmu_csr_write(struct hart *h, unsigned csr, uint64_t v)
{
    unsigned base = csr & ~0x1fu, n = csr & 0x1f;
    if ((base != 0xb00 && base != 0x320) || n < 3)
        return false;
    if (n - 3 >= PMU_HPM)
        return true;
    unsigned i = n - 3;
    if (base == 0x320) {
        /* VSINH/VUINH (no H extension) and bits 57-56 read as zero. */
        h->arch.hpmevent[i] =
            v & (HPMEVENT_OF | HPMEVENT_MINH | HPMEVENT_SINH | HPMEVENT_UINH | HPMEVENT_EVENT);
    } else {
        h->arch.hpmcounter[i] = v;
        if ((h->pmu_active >> i & 1) && !(h->arch.hpmevent[i] & inhibit_bit(h->arch.priv)))
            h->pmu_skip |= 1u << i;
    }
    pmu_update(h);
    return true;
}
