/* SPDX-License-Identifier: MIT */
/* Traps, interrupts and the privilege-dependent MMU indexes. */
#include <inttypes.h>
#include <stdio.h>

#include "cpu/hart_internal.h"
#include "util/compiler.h"
#include "host/vclock.h"

/* With H: V=1 uses the VU/VS/VSSUM sets (MMU_U.. + 4), and MPRV takes
 * MPV too; vsstatus.SUM decides SUM for a guest access. */
static void update_mmu_idx_h(struct hart *h)
{
    unsigned voff = MMU_VU - MMU_U;
    unsigned priv = h->arch.priv;
    h->fetch_idx =
        priv == PRV_M ? MMU_M : (priv == PRV_S ? MMU_S : MMU_U) + (h->arch.virt ? voff : 0);
    bool virt = h->arch.virt;
    if (priv == PRV_M && (h->arch.mstatus & MSTATUS_MPRV)) {
        priv = (unsigned)((h->arch.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
        virt = priv != PRV_M && (h->arch.mstatus & MSTATUS_MPV);
    }
    if (priv == PRV_M) {
        h->ls_idx = MMU_M;
        return;
    }
    uint64_t sum = (virt ? h->arch.vsstatus : h->arch.mstatus) & MSTATUS_SUM;
    h->ls_idx = (priv == PRV_S ? (sum ? MMU_SSUM : MMU_S) : MMU_U) + (virt ? voff : 0);
}

void hart_update_mmu_idx(struct hart *h)
{
    if (unlikely(h->h_on)) {
        update_mmu_idx_h(h);
        return;
    }
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
    if (unlikely(h->h_on))
        mip |= hart_vstip(h);
    return mip;
}

uint64_t hart_vstip(struct hart *h)
{
    if (!(h->arch.henvcfg & MENVCFG_STCE))
        return 0;
    return vclock_mtime(h->clock) + h->arch.htimedelta >= h->arch.vstimecmp ? MIP_VSTIP : 0;
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
    if (unlikely(h->h_on) && (h->arch.mie & MIP_VSTIP))
        mip |= hart_vstip(h);
    uint64_t pend = mip & h->arch.mie;
    if (!pend)
        return -1;
    if (unlikely(h->h_on))
        return hart_pending_interrupt_h(h, pend);
    uint64_t m = pend & ~h->arch.mideleg;
    if (m && (h->arch.priv < PRV_M || (h->arch.mstatus & MSTATUS_MIE)))
        return highest(m);
    uint64_t s = pend & h->arch.mideleg;
    if (s && (h->arch.priv < PRV_S || (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_SIE))))
        return highest(s);
    return -1;
}

/* H priority: after STI come SGEI, VSEI, VSSI, VSTI, then LCOFI. */
static int highest_h(uint64_t bits)
{
    int r = highest(bits & ~(1ULL << IRQ_LCOF));
    if (r >= 0)
        return r;
    static const int order[] = {12, 10, 2, 6, IRQ_LCOF};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (bits & (1ULL << order[i]))
            return order[i];
    return -1;
}

int hart_pending_interrupt_h(struct hart *h, uint64_t pend)
{
    unsigned priv = h->arch.priv;
    bool virt = h->arch.virt;
    uint64_t m = pend & ~h->arch.mideleg;
    if (m && (priv < PRV_M || (h->arch.mstatus & MSTATUS_MIE)))
        return highest_h(m);
    /* HS-level: always enabled while V=1 (the guest cannot mask them). */
    uint64_t hs = pend & h->arch.mideleg & ~h->arch.hideleg;
    if (hs && (virt || priv < PRV_S || (priv == PRV_S && (h->arch.mstatus & MSTATUS_SIE))))
        return highest_h(hs);
    uint64_t vs = pend & h->arch.mideleg & h->arch.hideleg;
    if (vs && virt && (priv == PRV_U || (h->arch.vsstatus & MSTATUS_SIE)))
        return highest_h(vs);
    return -1;
}

static void trace_trap(struct hart *h, bool intr, unsigned code, uint64_t epc, uint64_t tval,
                       unsigned from)
{
    fprintf(stderr,
            "wirt-trace: hart%u %s %u epc %016" PRIx64 " tval %016" PRIx64
            " p%u -> p%u%s handler %016" PRIx64 "\n",
            h->hartid, intr ? "interrupt" : "exception", code, epc, tval, from, h->arch.priv,
            h->arch.virt ? "v" : "", h->arch.pc);
}

/* An S-level status (mstatus's S view or vsstatus) on a trap into that
 * level from privilege from: SIE saved in SPIE and cleared, SPP set. */
static uint64_t s_trap_status(uint64_t st, unsigned from)
{
    uint64_t out = st & ~(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE);
    if (st & MSTATUS_SIE)
        out |= MSTATUS_SPIE;
    if (from == PRV_S)
        out |= MSTATUS_SPP;
    return out;
}

/* Exceptions whose tval is a virtual address: with V=1 (or for HLV/HSV)
 * it is a guest virtual address and GVA says so. */
#define GVA_CAUSES                                                                                 \
    ((1u << EXC_INSN_MISALIGNED) | (1u << EXC_INSN_ACCESS) | (1u << EXC_LOAD_MISALIGNED) |         \
     (1u << EXC_LOAD_ACCESS) | (1u << EXC_STORE_MISALIGNED) | (1u << EXC_STORE_ACCESS) |           \
     (1u << EXC_INSN_PAGE) | (1u << EXC_LOAD_PAGE) | (1u << EXC_STORE_PAGE) |                      \
     (1u << EXC_INSN_GUEST_PAGE) | (1u << EXC_LOAD_GUEST_PAGE) | (1u << EXC_STORE_GUEST_PAGE))

void hart_raise_h(struct hart *h, uint64_t cause, uint64_t tval)
{
    bool intr = cause >> 63;
    if (intr)
        h->stats.interrupts++;
    else
        h->stats.exceptions++;
    unsigned code = (unsigned)(cause & 63);
    unsigned from = h->arch.priv;
    bool from_virt = h->arch.virt;
    uint64_t gpa = h->fault_gpa, tinst = h->fault_tinst;
    h->fault_gpa = h->fault_tinst = 0;
    bool gva = !intr && (from_virt || h->hlsv) && ((GVA_CAUSES >> code) & 1);
    uint64_t deleg = intr ? h->arch.mideleg : h->arch.medeleg;
    uint64_t vdeleg = intr ? h->arch.hideleg : h->arch.hedeleg;
    uint64_t epc = h->arch.pc;

    if (from <= PRV_S && ((deleg >> code) & 1) && from_virt && ((vdeleg >> code) & 1)) {
        /* To VS-mode: V stays 1; VS interrupts arrive as their S codes. */
        if (intr)
            code--;
        h->arch.vscause = intr ? (1ULL << 63) | code : cause;
        h->arch.vsepc = epc;
        h->arch.vstval = tval;
        h->arch.vsstatus = s_trap_status(h->arch.vsstatus, from);
        h->arch.priv = PRV_S;
        h->arch.pc = h->arch.vstvec & ~3ULL;
        if (intr && (h->arch.vstvec & 1))
            h->arch.pc += 4ULL * code;
    } else if (from <= PRV_S && ((deleg >> code) & 1)) {
        hart_set_virt(h, false);
        uint64_t hs = h->arch.hstatus & ~(HSTATUS_SPV | HSTATUS_GVA);
        if (from_virt)
            hs = (hs & ~HSTATUS_SPVP) | HSTATUS_SPV | (from == PRV_S ? HSTATUS_SPVP : 0);
        h->arch.hstatus = hs | (gva ? HSTATUS_GVA : 0);
        h->arch.htval = gpa >> 2;
        h->arch.htinst = tinst;
        h->arch.scause = cause;
        h->arch.sepc = epc;
        h->arch.stval = tval;
        h->arch.mstatus = s_trap_status(h->arch.mstatus, from);
        h->arch.priv = PRV_S;
        h->arch.pc = h->arch.stvec & ~3ULL;
        if (intr && (h->arch.stvec & 1))
            h->arch.pc += 4ULL * code;
    } else {
        hart_set_virt(h, false);
        h->arch.mcause = cause;
        h->arch.mepc = epc;
        h->arch.mtval = tval;
        h->arch.mtval2 = gpa >> 2;
        h->arch.mtinst = tinst;
        uint64_t st = h->arch.mstatus & ~(MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPV | MSTATUS_GVA);
        if (st & MSTATUS_MIE)
            st |= MSTATUS_MPIE;
        st |= (uint64_t)from << MSTATUS_MPP_SHIFT;
        if (from_virt)
            st |= MSTATUS_MPV;
        if (gva)
            st |= MSTATUS_GVA;
        h->arch.mstatus = st & ~MSTATUS_MIE;
        tcontrol_trap_m(&h->arch);
        h->arch.priv = PRV_M;
        h->arch.pc = h->arch.mtvec & ~3ULL;
        if (intr && (h->arch.mtvec & 1))
            h->arch.pc += 4ULL * code;
    }
    hart_update_mmu_idx(h);
    if (unlikely(h->trace_traps))
        trace_trap(h, intr, code, epc, tval, from);
}

void hart_raise(struct hart *h, uint64_t cause, uint64_t tval)
{
    if (unlikely(h->h_on)) {
        hart_raise_h(h, cause, tval);
        return;
    }
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
        tcontrol_trap_m(&h->arch);
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
