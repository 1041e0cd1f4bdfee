/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor (H) extension: the virtualization mode V, the hypervisor
 * and VS CSRs, the S CSRs' redirection while V=1, trap returns and the
 * hypervisor instructions (HLV/HLVX/HSV, HFENCE).  Traps and interrupts
 * with V are in trap.c (hart_raise_h), two-stage translation in mmu.c.
 *
 * Everything here runs only when hart.h_on: with H off the hart never
 * calls into this file, and the hot paths test nothing.
 */
#include "cpu/hart_internal.h"
#include "host/vclock.h"

enum {
    CSR_SSTATUS = 0x100,
    CSR_SIE = 0x104,
    CSR_STVEC = 0x105,
    CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141,
    CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143,
    CSR_SIP = 0x144,
    CSR_STIMECMP = 0x14d,
    CSR_SATP = 0x180,
    CSR_VSSTATUS = 0x200,
    CSR_VSIE = 0x204,
    CSR_VSTVEC = 0x205,
    CSR_VSSCRATCH = 0x240,
    CSR_VSEPC = 0x241,
    CSR_VSCAUSE = 0x242,
    CSR_VSTVAL = 0x243,
    CSR_VSIP = 0x244,
    CSR_VSTIMECMP = 0x24d,
    CSR_VSATP = 0x280,
    CSR_MTINST = 0x34a,
    CSR_MTVAL2 = 0x34b,
    CSR_HSTATUS = 0x600,
    CSR_HEDELEG = 0x602,
    CSR_HIDELEG = 0x603,
    CSR_HIE = 0x604,
    CSR_HTIMEDELTA = 0x605,
    CSR_HCOUNTEREN = 0x606,
    CSR_HGEIE = 0x607,
    CSR_HENVCFG = 0x60a,
    CSR_HTVAL = 0x643,
    CSR_HIP = 0x644,
    CSR_HVIP = 0x645,
    CSR_HTINST = 0x64a,
    CSR_HGATP = 0x680,
    CSR_HGEIP = 0xe12,
    CSR_HSTATEEN0 = 0x60c, /* ..0x60f */
    CSR_CYCLE = 0xc00,
    CSR_TIME = 0xc01,
    CSR_INSTRET = 0xc02,
};

#define VSSTATUS_READ                                                                              \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR |           \
     MSTATUS_UXL | MSTATUS_SD)
#define VSSTATUS_WRITABLE                                                                          \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)
#define HSTATUS_WRITABLE                                                                           \
    (HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_HU | HSTATUS_VTVM | HSTATUS_VTW |          \
     HSTATUS_VTSR)
/* Exceptions HS may pass on to VS: not the ecalls from HS/VS/M, not the
 * guest-page faults nor the virtual-instruction exception. */
#define HEDELEG_WRITABLE  0xb1ffULL
#define HGATP_MODE_SV39X4 8
#define HGATP_MODE_SV48X4 9
#define HGATP_VMID_MASK   (0x3fffULL << 44)

void hart_set_virt(struct hart *h, bool v)
{
    if (v == h->arch.virt)
        return;
    uint64_t st = h->arch.mstatus;
    if (v) {
        /* The effective FS while V=1: off unless both levels have it on. */
        h->hs_fs = (uint8_t)((st & MSTATUS_FS) >> MSTATUS_FS_SHIFT);
        uint64_t eff = h->hs_fs ? h->arch.vsstatus & MSTATUS_FS : 0;
        h->arch.mstatus = (st & ~MSTATUS_FS) | eff;
    } else {
        uint64_t eff = st & MSTATUS_FS;
        if (h->hs_fs)
            h->arch.vsstatus = (h->arch.vsstatus & ~MSTATUS_FS) | eff;
        /* Dirtied in V=1: both levels' FS read Dirty (may be dirty). */
        uint64_t hs = eff == MSTATUS_FS ? MSTATUS_FS : (uint64_t)h->hs_fs << MSTATUS_FS_SHIFT;
        h->arch.mstatus = (st & ~MSTATUS_FS) | hs;
    }
    h->arch.virt = v;
}

/* vsstatus as the guest sees it (FS: see hart_set_virt). */
static uint64_t read_vsstatus(struct hart *h)
{
    uint64_t v = h->arch.vsstatus;
    if (h->arch.virt && h->hs_fs)
        v = (v & ~MSTATUS_FS) | (h->arch.mstatus & MSTATUS_FS);
    v = (v & VSSTATUS_READ) | (2ULL << 32);
    if ((v & MSTATUS_FS) == MSTATUS_FS)
        v |= MSTATUS_SD;
    return v;
}

static void write_vsstatus(struct hart *h, uint64_t v)
{
    uint64_t old = h->arch.vsstatus;
    uint64_t nv = (old & ~VSSTATUS_WRITABLE) | (v & VSSTATUS_WRITABLE);
    h->arch.vsstatus = nv;
    if (h->arch.virt && h->hs_fs)
        h->arch.mstatus = (h->arch.mstatus & ~MSTATUS_FS) | (nv & MSTATUS_FS);
    if ((old ^ nv) & MSTATUS_MXR)
        tlb_flush_sets(h, MMU_VIRT_SETS);
    hart_update_mmu_idx(h);
    if ((nv & ~old & MSTATUS_SIE) && (hart_read_mip(h) & h->arch.mie))
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
}

static void kick_self(struct hart *h)
{
    atomic_store_explicit(&h->check, 1, memory_order_relaxed);
}

/* A counter (cycle/time/instret...) read with V=1: mcounteren decides
 * illegal, hcounteren (and scounteren in VU) virtual-instruction. */
static int virt_counter(struct hart *h, unsigned idx, uint64_t *val)
{
    uint32_t bit = 1u << idx;
    if (!(h->arch.mcounteren & bit))
        return -1;
    if (!(h->arch.hcounteren & bit) || (h->arch.priv == PRV_U && !(h->arch.scounteren & bit))) {
        h->csr_virtual = true;
        return -1;
    }
    *val = idx == 0   ? h->arch.mcycle
           : idx == 1 ? vclock_mtime(h->clock) + h->arch.htimedelta
           : idx == 2 ? h->arch.minstret
                      : 0;
    return 1;
}

/* stimecmp (as vstimecmp) from VS, or vstimecmp from HS. */
static int vstimecmp_ok(struct hart *h)
{
    if (h->arch.priv == PRV_M)
        return 1;
    if (!(h->arch.mcounteren & 2) || !(h->arch.menvcfg & MENVCFG_STCE))
        return -1;
    if (h->arch.virt && (!(h->arch.hcounteren & 2) || !(h->arch.henvcfg & MENVCFG_STCE))) {
        h->csr_virtual = true;
        return -1;
    }
    return 1;
}

/* vsip/vsie: the VS bits of hip/hie that hideleg gives the guest, moved
 * down to the S positions. */
static uint64_t vs_view(struct hart *h, uint64_t bits)
{
    return (bits & h->arch.hideleg & VS_INTS) >> 1;
}

static int read_vs(struct hart *h, unsigned csr, uint64_t *v)
{
    switch (csr) {
    case CSR_VSSTATUS:
        *v = read_vsstatus(h);
        return 1;
    case CSR_VSIE:
        *v = vs_view(h, h->arch.mie);
        return 1;
    case CSR_VSTVEC:
        *v = h->arch.vstvec;
        return 1;
    case CSR_VSSCRATCH:
        *v = h->arch.vsscratch;
        return 1;
    case CSR_VSEPC:
        *v = h->arch.vsepc;
        return 1;
    case CSR_VSCAUSE:
        *v = h->arch.vscause;
        return 1;
    case CSR_VSTVAL:
        *v = h->arch.vstval;
        return 1;
    case CSR_VSIP:
        *v = vs_view(h, hart_read_mip(h));
        return 1;
    case CSR_VSTIMECMP:
        if (vstimecmp_ok(h) < 0)
            return -1;
        *v = h->arch.vstimecmp;
        return 1;
    case CSR_VSATP:
        if (h->arch.virt && (h->arch.hstatus & HSTATUS_VTVM)) {
            h->csr_virtual = true;
            return -1;
        }
        *v = h->arch.vsatp;
        return 1;
    }
    return 0;
}

static bool satp_mode_ok(uint64_t v)
{
    uint64_t mode = v >> 60;
    return mode == SATP_MODE_BARE || mode == SATP_MODE_SV39 || mode == SATP_MODE_SV48;
}

static int write_vs(struct hart *h, unsigned csr, uint64_t v)
{
    switch (csr) {
    case CSR_VSSTATUS:
        write_vsstatus(h, v);
        return 1;
    case CSR_VSIE: {
        uint64_t mask = h->arch.hideleg & VS_INTS;
        h->arch.mie = (h->arch.mie & ~mask) | ((v << 1) & mask);
        kick_self(h);
        return 1;
    }
    case CSR_VSTVEC:
        h->arch.vstvec = v & ~2ULL;
        return 1;
    case CSR_VSSCRATCH:
        h->arch.vsscratch = v;
        return 1;
    case CSR_VSEPC:
        h->arch.vsepc = v & ~1ULL;
        return 1;
    case CSR_VSCAUSE:
        h->arch.vscause = v;
        return 1;
    case CSR_VSTVAL:
        h->arch.vstval = v;
        return 1;
    case CSR_VSIP:
        if (h->arch.hideleg & MIP_VSSIP)
            h->arch.mip_sw = (h->arch.mip_sw & ~MIP_VSSIP) | ((v << 1) & MIP_VSSIP);
        kick_self(h);
        return 1;
    case CSR_VSTIMECMP:
        if (vstimecmp_ok(h) < 0)
            return -1;
        h->arch.vstimecmp = v;
        kick_self(h);
        return 1;
    case CSR_VSATP:
        if (h->arch.virt && (h->arch.hstatus & HSTATUS_VTVM)) {
            h->csr_virtual = true;
            return -1;
        }
        if (satp_mode_ok(v)) {
            h->arch.vsatp = v;
            tlb_flush_sets(h, MMU_VIRT_SETS);
            kick_self(h);
        }
        return 1;
    }
    return 0;
}

/* The S CSR that V=1 turns into its VS counterpart, or 0. */
static unsigned vs_alias(unsigned csr)
{
    switch (csr) {
    case CSR_SSTATUS:
    case CSR_SIE:
    case CSR_STVEC:
    case CSR_SSCRATCH:
    case CSR_SEPC:
    case CSR_SCAUSE:
    case CSR_STVAL:
    case CSR_SIP:
    case CSR_STIMECMP:
    case CSR_SATP:
        return csr + 0x100;
    }
    return 0;
}

int csr_read_h(struct hart *h, unsigned csr, uint64_t *v)
{
    if (h->arch.virt) {
        if (csr >= CSR_CYCLE && csr <= CSR_CYCLE + 31)
            return virt_counter(h, csr - CSR_CYCLE, v);
        unsigned a = vs_alias(csr);
        return a ? read_vs(h, a, v) : 0;
    }
    int r = read_vs(h, csr, v);
    if (r)
        return r;
    switch (csr) {
    case CSR_HSTATUS:
        *v = h->arch.hstatus | (2ULL << 32);
        return 1;
    case CSR_HEDELEG:
        *v = h->arch.hedeleg;
        return 1;
    case CSR_HIDELEG:
        *v = h->arch.hideleg;
        return 1;
    case CSR_HIE:
        *v = h->arch.mie & VS_INTS;
        return 1;
    case CSR_HIP:
        *v = hart_read_mip(h) & VS_INTS;
        return 1;
    case CSR_HVIP:
        *v = h->arch.mip_sw & VS_INTS;
        return 1;
    case CSR_HGEIE:
    case CSR_HGEIP: /* GEILEN = 0: no guest external interrupt files */
        *v = 0;
        return 1;
    case CSR_HENVCFG:
        *v = h->arch.henvcfg;
        return 1;
    case CSR_HCOUNTEREN:
        *v = h->arch.hcounteren;
        return 1;
    case CSR_HTIMEDELTA:
        *v = h->arch.htimedelta;
        return 1;
    case CSR_HTVAL:
        *v = h->arch.htval;
        return 1;
    case CSR_HTINST:
        *v = h->arch.htinst;
        return 1;
    case CSR_HGATP:
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM))
            return -1;
        *v = h->arch.hgatp;
        return 1;
    case CSR_HSTATEEN0:
    case CSR_HSTATEEN0 + 1:
    case CSR_HSTATEEN0 + 2:
    case CSR_HSTATEEN0 + 3:
        *v = h->arch.hstateen[csr - CSR_HSTATEEN0];
        return 1;
    case CSR_MTVAL2:
        *v = h->arch.mtval2;
        return 1;
    case CSR_MTINST:
        *v = h->arch.mtinst;
        return 1;
    }
    return 0;
}

int csr_write_h(struct hart *h, unsigned csr, uint64_t v)
{
    if (h->arch.virt) {
        unsigned a = vs_alias(csr);
        return a ? write_vs(h, a, v) : 0;
    }
    int r = write_vs(h, csr, v);
    if (r)
        return r;
    switch (csr) {
    case CSR_HSTATUS:
        h->arch.hstatus = v & HSTATUS_WRITABLE;
        return 1;
    case CSR_HEDELEG:
        h->arch.hedeleg = v & HEDELEG_WRITABLE;
        return 1;
    case CSR_HIDELEG:
        h->arch.hideleg = v & VS_INTS;
        kick_self(h);
        return 1;
    case CSR_HIE:
        h->arch.mie = (h->arch.mie & ~VS_INTS) | (v & VS_INTS);
        kick_self(h);
        return 1;
    case CSR_HIP: /* only VSSIP is writable here (an alias of hvip's) */
        h->arch.mip_sw = (h->arch.mip_sw & ~MIP_VSSIP) | (v & MIP_VSSIP);
        kick_self(h);
        return 1;
    case CSR_HVIP:
        h->arch.mip_sw = (h->arch.mip_sw & ~VS_INTS) | (v & VS_INTS);
        kick_self(h);
        return 1;
    case CSR_HGEIE:
        return 1;
    case CSR_HENVCFG: {
        uint64_t keep = MENVCFG_FIOM | MENVCFG_CBIE | MENVCFG_CBCFE | MENVCFG_CBZE;
        uint64_t nv = v & (keep | MENVCFG_PBMTE | MENVCFG_STCE);
        if ((nv & MENVCFG_CBIE) == (2ULL << 4))
            nv &= ~MENVCFG_CBIE;
        /* Bits menvcfg clears are read-only zero here. */
        nv &= h->arch.menvcfg | keep;
        h->arch.henvcfg = nv;
        tlb_flush_sets(h, MMU_VIRT_SETS); /* PBMTE */
        kick_self(h);
        return 1;
    }
    case CSR_HCOUNTEREN:
        h->arch.hcounteren = (uint32_t)v;
        return 1;
    case CSR_HTIMEDELTA:
        h->arch.htimedelta = v;
        kick_self(h);
        return 1;
    case CSR_HTVAL:
        h->arch.htval = v;
        return 1;
    case CSR_HTINST:
        h->arch.htinst = v;
        return 1;
    case CSR_HGATP: {
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM))
            return -1;
        uint64_t mode = v >> 60;
        if (mode != SATP_MODE_BARE && mode != HGATP_MODE_SV39X4 && mode != HGATP_MODE_SV48X4)
            return 1; /* unsupported mode: the write has no effect */
        /* The root table is 16 KiB: PPN's low two bits are zero. */
        h->arch.hgatp = (v & (0xfULL << 60)) | (v & HGATP_VMID_MASK) | (v & ((1ULL << 44) - 4));
        if (mode == SATP_MODE_BARE)
            h->arch.hgatp = v & HGATP_VMID_MASK;
        tlb_flush_sets(h, MMU_VIRT_SETS);
        kick_self(h);
        return 1;
    }
    case CSR_HSTATEEN0:
    case CSR_HSTATEEN0 + 1:
    case CSR_HSTATEEN0 + 2:
    case CSR_HSTATEEN0 + 3: { /* what mstateenN does not allow stays 0 */
        unsigned n = csr - CSR_HSTATEEN0;
        h->arch.hstateen[n] = mstateen_warl(n, v) & h->arch.mstateen[n];
        return 1;
    }
    case CSR_MTVAL2:
        h->arch.mtval2 = v;
        return 1;
    case CSR_MTINST:
        h->arch.mtinst = v;
        return 1;
    }
    return 0;
}

unsigned hart_mret_h(struct hart *h)
{
    if (h->arch.priv != PRV_M)
        return EXC_ILLEGAL;
    uint64_t st = h->arch.mstatus;
    unsigned mpp = (unsigned)((st & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    bool mpv = mpp != PRV_M && (st & MSTATUS_MPV);
    st = (st & ~MSTATUS_MIE) | ((st & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
    st |= MSTATUS_MPIE;
    st &= ~(MSTATUS_MPP | MSTATUS_MPV);
    if (mpp != PRV_M)
        st &= ~MSTATUS_MPRV;
    h->arch.mstatus = st;
    tcontrol_mret(&h->arch);
    h->arch.priv = mpp;
    hart_set_virt(h, mpv);
    hart_update_mmu_idx(h);
    h->arch.pc = h->arch.mepc;
    return 0;
}

unsigned hart_sret_h(struct hart *h)
{
    if (h->arch.priv == PRV_U)
        return h->arch.virt ? EXC_VIRTUAL_INSN : EXC_ILLEGAL;
    if (h->arch.virt) {
        if (h->arch.hstatus & HSTATUS_VTSR)
            return EXC_VIRTUAL_INSN;
        uint64_t vs = h->arch.vsstatus;
        unsigned spp = (vs & MSTATUS_SPP) ? PRV_S : PRV_U;
        vs = (vs & ~MSTATUS_SIE) | ((vs & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
        h->arch.vsstatus = (vs | MSTATUS_SPIE) & ~MSTATUS_SPP;
        h->arch.priv = spp;
        h->arch.pc = h->arch.vsepc;
    } else {
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TSR))
            return EXC_ILLEGAL;
        uint64_t st = h->arch.mstatus;
        unsigned spp = (st & MSTATUS_SPP) ? PRV_S : PRV_U;
        st = (st & ~MSTATUS_SIE) | ((st & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
        st |= MSTATUS_SPIE;
        st &= ~(MSTATUS_SPP | MSTATUS_MPRV);
        h->arch.mstatus = st;
        h->arch.priv = spp;
        bool spv = h->arch.hstatus & HSTATUS_SPV;
        h->arch.hstatus &= ~HSTATUS_SPV;
        hart_set_virt(h, spv);
        h->arch.pc = h->arch.sepc;
    }
    hart_update_mmu_idx(h);
    return 0;
}

unsigned hart_priv_check_h(struct hart *h, int op)
{
    unsigned priv = h->arch.priv;
    if (priv == PRV_M)
        return 0;
    bool virt = h->arch.virt;
    if (op == OP_WFI) {
        if (h->arch.mstatus & MSTATUS_TW)
            return EXC_ILLEGAL;
        if (virt && (priv == PRV_U || (h->arch.hstatus & HSTATUS_VTW)))
            return EXC_VIRTUAL_INSN;
        return priv == PRV_U ? EXC_ILLEGAL : 0;
    }
    /* SFENCE.VMA (and sinval.vma) */
    if (priv == PRV_U)
        return virt ? EXC_VIRTUAL_INSN : EXC_ILLEGAL;
    if (virt)
        return (h->arch.hstatus & HSTATUS_VTVM) ? EXC_VIRTUAL_INSN : 0;
    return (h->arch.mstatus & MSTATUS_TVM) ? EXC_ILLEGAL : 0;
}

/* Illegal with H off, and from U-mode unless hstatus.HU; a virtual
 * instruction from VS/VU. */
static bool hinsn_allowed(struct hart *h, const struct dinsn *d, bool hu_ok)
{
    unsigned cause = 0;
    if (!h->h_on)
        cause = EXC_ILLEGAL;
    else if (h->arch.virt)
        cause = EXC_VIRTUAL_INSN;
    else if (h->arch.priv == PRV_U && !(hu_ok && (h->arch.hstatus & HSTATUS_HU)))
        cause = EXC_ILLEGAL;
    if (cause)
        hart_raise(h, cause, d->raw);
    return !cause;
}

bool cpu_hfence(struct hart *h, const struct dinsn *d)
{
    if (!hinsn_allowed(h, d, false))
        return false;
    if (d->imm) { /* gvma: guest-physical mappings feed every VS entry */
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM)) {
            hart_raise(h, EXC_ILLEGAL, d->raw);
            return false;
        }
        tlb_flush_sets(h, MMU_VIRT_SETS);
    } else if (d->rs1) {
        tlb_flush_va_sets(h, h->arch.x[d->rs1], MMU_VIRT_SETS);
    } else {
        tlb_flush_sets(h, MMU_VIRT_SETS);
    }
    return true;
}

bool cpu_hlsv(struct hart *h, const struct dinsn *d)
{
    if (!hinsn_allowed(h, d, true))
        return false;
    unsigned f7 = (unsigned)d->imm;
    unsigned size = 1u << ((f7 >> 1) & 3);
    bool store = f7 & 1;
    bool is_signed = !store && d->rs2 == 0;
    uint64_t va = h->arch.x[d->rs1];
    /* As a V=1 access at privilege SPVP (vsstatus.SUM applies). */
    unsigned saved = h->ls_idx;
    unsigned idx = (h->arch.hstatus & HSTATUS_SPVP)
                       ? ((h->arch.vsstatus & MSTATUS_SUM) ? MMU_VSSUM : MMU_VS)
                       : MMU_VU;
    h->ls_idx = idx;
    h->hlsv = true;
    uint64_t v = 0;
    bool ok;
    if (store)
        ok = mem_store_slow(h, va, size, h->arch.x[d->rs2]);
    else if (d->rs2 == 3)
        ok = mem_load_exec(h, va, size, &v);
    else
        ok = mem_load_slow(h, va, size, &v);
    h->hlsv = false;
    if (!ok)
        return false; /* the trap chose the MMU indexes */
    h->ls_idx = saved;
    if (!store) {
        if (is_signed && size < 8) {
            unsigned sh = 64 - 8 * size;
            v = (uint64_t)((int64_t)(v << sh) >> sh);
        }
        h->arch.x[d->rd] = v;
    }
    return true;
}
