/* SPDX-License-Identifier: MIT */
/* Traps, interrupts and the privilege-dependent MMU indexes. */
#include <inttypes.h>
#include <stdio.h>

#include "cpu/hart_internal.h"
#include "util/compiler.h"
#include "machine/vclock.h"

void hart_update_mmu_idx(struct hart *h)
{
    h->fetch_idx = h->priv == PRV_M ? MMU_M : h->priv == PRV_S ? MMU_S : MMU_U;
    unsigned eff = h->priv;
    if (eff == PRV_M && (h->mstatus & MSTATUS_MPRV))
        eff = (unsigned)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    if (eff == PRV_M)
        h->ls_idx = MMU_M;
    else if (eff == PRV_S)
        h->ls_idx = (h->mstatus & MSTATUS_SUM) ? MMU_SSUM : MMU_S;
    else
        h->ls_idx = MMU_U;
}

/* mip without the Sstc comparison (which needs the clock). */
static uint64_t mip_no_timer(struct hart *h)
{
    uint64_t mip = h->mip_sw | atomic_load_explicit(&h->mip_ext, memory_order_acquire);
    if (h->menvcfg & MENVCFG_STCE)
        mip &= ~MIP_STIP;
    return mip;
}

uint64_t hart_read_mip(struct hart *h)
{
    uint64_t mip = mip_no_timer(h);
    if ((h->menvcfg & MENVCFG_STCE) && vclock_mtime(h->clock) >= h->stimecmp)
        mip |= MIP_STIP;
    return mip;
}

/* Standard priority: MEI, MSI, MTI, SEI, SSI, STI. */
static int highest(uint64_t bits)
{
    static const int order[] = {IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER,
                                IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (bits & (1ULL << order[i]))
            return order[i];
    return -1;
}

int hart_pending_interrupt(struct hart *h)
{
    uint64_t mip = mip_no_timer(h);
    /* Reading the clock costs a vDSO call: only when STI could matter. */
    if ((h->menvcfg & MENVCFG_STCE) && (h->mie & MIP_STIP) && vclock_mtime(h->clock) >= h->stimecmp)
        mip |= MIP_STIP;
    uint64_t pend = mip & h->mie;
    if (!pend)
        return -1;
    uint64_t m = pend & ~h->mideleg;
    if (m && (h->priv < PRV_M || (h->mstatus & MSTATUS_MIE)))
        return highest(m);
    uint64_t s = pend & h->mideleg;
    if (s && (h->priv < PRV_S || (h->priv == PRV_S && (h->mstatus & MSTATUS_SIE))))
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
    uint64_t deleg = intr ? h->mideleg : h->medeleg;
    uint64_t st = h->mstatus;
    unsigned from = h->priv;

    if (h->priv <= PRV_S && ((deleg >> code) & 1)) {
        h->scause = cause;
        h->sepc = h->pc;
        h->stval = tval;
        st &= ~(MSTATUS_SPIE | MSTATUS_SPP);
        if (st & MSTATUS_SIE)
            st |= MSTATUS_SPIE;
        if (h->priv == PRV_S)
            st |= MSTATUS_SPP;
        st &= ~MSTATUS_SIE;
        h->priv = PRV_S;
        h->pc = h->stvec & ~3ULL;
        if (intr && (h->stvec & 1))
            h->pc += 4ULL * code;
    } else {
        h->mcause = cause;
        h->mepc = h->pc;
        h->mtval = tval;
        st &= ~(MSTATUS_MPIE | MSTATUS_MPP);
        if (st & MSTATUS_MIE)
            st |= MSTATUS_MPIE;
        st |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
        st &= ~MSTATUS_MIE;
        h->priv = PRV_M;
        h->pc = h->mtvec & ~3ULL;
        if (intr && (h->mtvec & 1))
            h->pc += 4ULL * code;
    }
    h->mstatus = st;
    hart_update_mmu_idx(h);
    if (unlikely(h->trace_traps))
        fprintf(stderr,
                "wirt-trace: hart%u %s %u epc %016" PRIx64 " tval %016" PRIx64
                " p%u -> p%u handler %016" PRIx64 "\n",
                h->hartid, intr ? "interrupt" : "exception", code,
                h->priv == PRV_M ? h->mepc : h->sepc, tval, from, h->priv, h->pc);
}

bool hart_take_interrupt(struct hart *h)
{
    int irq = hart_pending_interrupt(h);
    if (irq < 0)
        return false;
    hart_raise(h, (1ULL << 63) | (uint64_t)irq, 0);
    return true;
}
