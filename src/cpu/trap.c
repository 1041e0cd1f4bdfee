/* SPDX-License-Identifier: MIT */
/* Traps, interrupts and the privilege-dependent MMU indexes. */
#include <inttypes.h>
#include <stdio.h>

#include "cpu/hart_internal.h"
#include "util/compiler.h"
#include "host/vclock.h"

void hart_update_mmu_idx(struct hart *h)
{
    h->fetch_idx = h->arch.priv == PRV_M ? MMU_M : h->arch.priv == PRV_S ? MMU_S : MMU_U;
    unsigned eff = h->arch.priv;
    if (eff == PRV_M && (h->arch.mstatus & MSTATUS_MPRV))
        eff = (unsigned)((h->arch.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    if (eff == PRV_M)
        h->ls_idx = MMU_M;
    else if (eff == PRV_S)
        h->ls_idx = (h->arch.mstatus & MSTATUS_SUM) ? MMU_SSUM : MMU_S;
    else
        h->ls_idx = MMU_U;
}

/* mip without the Sstc comparison (which needs the clock). */
static uint64_t mip_no_timer(struct hart *h)
{
    uint64_t mip = h->arch.mip_sw | atomic_load_explicit(&h->arch.mip_ext, memory_order_acquire);
    if (h->arch.menvcfg & MENVCFG_STCE)
        mip &= ~MIP_STIP;
    return mip;
}

uint64_t hart_read_mip(struct hart *h)
{
    uint64_t mip = mip_no_timer(h);
    if ((h->arch.menvcfg & MENVCFG_STCE) && vclock_mtime(h->clock) >= h->arch.stimecmp)
        mip |= MIP_STIP;
    return mip;
}

/* Standard priority: MEI, MSI, MTI, SEI, SSI, STI, LCOFI. */
static int highest(uint64_t bits)
{
    static const int order[] = {IRQ_M_EXT,  IRQ_M_SOFT,  IRQ_M_TIMER, IRQ_S_EXT,
                                IRQ_S_SOFT, IRQ_S_TIMER, IRQ_LCOF};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (bits & (1ULL << order[i]))
            return order[i];
    return -1;
}

int hart_pending_interrupt(struct hart *h)
{
    uint64_t mip = mip_no_timer(h);
    /* Reading the clock costs a vDSO call: only when STI could matter. */
    if ((h->arch.menvcfg & MENVCFG_STCE) && (h->arch.mie & MIP_STIP) &&
        vclock_mtime(h->clock) >= h->arch.stimecmp)
        mip |= MIP_STIP;
    uint64_t pend = mip & h->arch.mie;
    if (!pend)
        return -1;
    uint64_t m = pend & ~h->arch.mideleg;
    if (m && (h->arch.priv < PRV_M || (h->arch.mstatus & MSTATUS_MIE)))
        return highest(m);
    uint64_t s = pend & h->arch.mideleg;
    if (s && (h->arch.priv < PRV_S || (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_SIE))))
        return highest(s);
    return -1;
}

void hart_raise(struct hart *h, uint64_t cause, uint64_t tval)
{
    bool intr = cause >> 63;
    if (intr)
        h->stats.interrupts++;
    else
        h->stats.exceptions++;
    unsigned code = (unsigned)(cause & 63);
    uint64_t deleg = intr ? h->arch.mideleg : h->arch.medeleg;
    uint64_t st = h->arch.mstatus;
    unsigned from = h->arch.priv;

    if (h->arch.priv <= PRV_S && ((deleg >> code) & 1)) {
        h->arch.scause = cause;
        h->arch.sepc = h->arch.pc;
        h->arch.stval = tval;
        st &= ~(MSTATUS_SPIE | MSTATUS_SPP);
        if (st & MSTATUS_SIE)
            st |= MSTATUS_SPIE;
        if (h->arch.priv == PRV_S)
            st |= MSTATUS_SPP;
        st &= ~MSTATUS_SIE;
        h->arch.priv = PRV_S;
        h->arch.pc = h->arch.stvec & ~3ULL;
        if (intr && (h->arch.stvec & 1))
            h->arch.pc += 4ULL * code;
    } else {
        h->arch.mcause = cause;
        h->arch.mepc = h->arch.pc;
        h->arch.mtval = tval;
        st &= ~(MSTATUS_MPIE | MSTATUS_MPP);
        if (st & MSTATUS_MIE)
            st |= MSTATUS_MPIE;
        st |= (uint64_t)h->arch.priv << MSTATUS_MPP_SHIFT;
        st &= ~MSTATUS_MIE;
        h->arch.priv = PRV_M;
        h->arch.pc = h->arch.mtvec & ~3ULL;
        if (intr && (h->arch.mtvec & 1))
            h->arch.pc += 4ULL * code;
    }
    h->arch.mstatus = st;
    hart_update_mmu_idx(h);
    if (unlikely(h->trace_traps))
        fprintf(stderr,
                "wirt-trace: hart%u %s %u epc %016" PRIx64 " tval %016" PRIx64
                " p%u -> p%u handler %016" PRIx64 "\n",
                h->hartid, intr ? "interrupt" : "exception", code,
                h->arch.priv == PRV_M ? h->arch.mepc : h->arch.sepc, tval, from, h->arch.priv,
                h->arch.pc);
}

bool hart_take_interrupt(struct hart *h)
{
    int irq = hart_pending_interrupt(h);
    if (irq < 0)
        return false;
    hart_raise(h, (1ULL << 63) | (uint64_t)irq, 0);
    return true;
}
