/* SPDX-License-Identifier: MIT */
/* Control and status registers (Zicsr, Zicntr, the privileged CSRs, Sstc). */
#include <sys/random.h>

#include "cpu/hart_internal.h"
#include "util/compiler.h"
#include "host/vclock.h"

#define MISA_VALUE                                                                                 \
    ((2ULL << 62) | (1u << ('a' - 'a')) | (1u << ('c' - 'a')) | (1u << ('d' - 'a')) |              \
     (1u << ('f' - 'a')) | (1u << ('i' - 'a')) | (1u << ('m' - 'a')) | (1u << ('s' - 'a')) |       \
     (1u << ('u' - 'a')))

#define MSTATUS_WRITABLE                                                                           \
    (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |         \
     MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |            \
     MSTATUS_TSR)
#define SSTATUS_READ                                                                               \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS |            \
     MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE                                                                           \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)

#define MIE_WRITABLE (MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP | MIP_LCOFIP)
#define S_INTS       (MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_LCOFIP)
/* Exceptions that may be delegated: all standard ones but ecall from M. */
#define MEDELEG_WRITABLE 0xb3ffULL
/* With H also ecall from VS, the guest-page faults, virtual instruction. */
#define MEDELEG_H      ((1ULL << EXC_ECALL_VS) | (0xfULL << 20))
#define MIDELEG_H_ONES (VS_INTS | MIP_SGEIP)

enum {
    CSR_FFLAGS = 0x001,
    CSR_FRM = 0x002,
    CSR_FCSR = 0x003,
    CSR_SSTATUS = 0x100,
    CSR_SIE = 0x104,
    CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a,
    CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141,
    CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143,
    CSR_SIP = 0x144,
    CSR_STIMECMP = 0x14d,
    CSR_SATP = 0x180,
    CSR_MSTATUS = 0x300,
    CSR_MISA = 0x301,
    CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304,
    CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306,
    CSR_MENVCFG = 0x30a,
    CSR_SEED = 0x015,
    CSR_SSTATEEN0 = 0x10c, /* ..0x10f */
    CSR_MSTATEEN0 = 0x30c, /* ..0x30f */
    CSR_HSTATEEN0 = 0x60c, /* ..0x60f (H) */
    CSR_HENVCFG = 0x60a,   /* (H) */
    CSR_MSECCFG = 0x747,
    CSR_MCOUNTINHIBIT = 0x320,
    CSR_MSCRATCH = 0x340,
    CSR_MEPC = 0x341,
    CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0,
    CSR_PMPADDR0 = 0x3b0,
    CSR_MCYCLE = 0xb00,
    CSR_MINSTRET = 0xb02,
    CSR_CYCLE = 0xc00,
    CSR_TIME = 0xc01,
    CSR_INSTRET = 0xc02,
    CSR_MVENDORID = 0xf11,
    CSR_MARCHID = 0xf12,
    CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14,
    CSR_MCONFIGPTR = 0xf15,
};

/* With H: HS reaches the hypervisor level (2); from VS/VU, what HS
 * could access is a virtual-instruction exception, the rest illegal. */
static bool csr_access_ok_h(struct hart *h, unsigned csr, bool write)
{
    unsigned need = (csr >> 8) & 3, priv = h->arch.priv;
    if (write && (csr >> 10) == 3)
        return false;
    unsigned level = priv == PRV_M ? 3 : priv == PRV_S ? (h->arch.virt ? 1 : 2) : 0;
    if (level < need) {
        if (need < 3 && h->arch.virt)
            h->csr_virtual = true;
        return false;
    }
    if (priv != PRV_M) { /* Smstateen: mstateen, then (V=1) hstateen */
        bool virt = h->arch.virt;
        unsigned n = csr & 3;
        if ((csr & ~3u) == CSR_SSTATEEN0 || (csr & ~3u) == CSR_HSTATEEN0) {
            if (!(h->arch.mstateen[n] & MSTATEEN_SE))
                return false;
            if (virt && !(h->arch.hstateen[n] & MSTATEEN_SE)) {
                h->csr_virtual = true;
                return false;
            }
        }
        if (csr == CSR_SENVCFG || csr == CSR_HENVCFG) {
            if (!(h->arch.mstateen[0] & MSTATEEN0_ENVCFG))
                return false;
            if (virt && !(h->arch.hstateen[0] & MSTATEEN0_ENVCFG)) {
                h->csr_virtual = true;
                return false;
            }
        }
    }
    if (csr == CSR_SEED) /* Zkr, as below (no V distinction) */
        return write && (priv == PRV_M ||
                         (h->arch.mseccfg & (priv == PRV_S ? MSECCFG_SSEED : MSECCFG_USEED)));
    return true;
}

bool csr_access_ok(struct hart *h, unsigned csr, bool write)
{
    if (unlikely(h->h_on))
        return csr_access_ok_h(h, csr, write);
    if (h->arch.priv < ((csr >> 8) & 3))
        return false;
    if (write && (csr >> 10) == 3)
        return false;
    if (h->arch.priv != PRV_M) { /* Smstateen */
        if (csr >= CSR_SSTATEEN0 && csr <= CSR_SSTATEEN0 + 3 &&
            !(h->arch.mstateen[csr - CSR_SSTATEEN0] & MSTATEEN_SE))
            return false;
        if (csr == CSR_SENVCFG && !(h->arch.mstateen[0] & MSTATEEN0_ENVCFG))
            return false;
    }
    if (csr == CSR_SEED) /* Zkr: only by a write, S/U as mseccfg allows */
        return write &&
               (h->arch.priv == PRV_M ||
                (h->arch.mseccfg & (h->arch.priv == PRV_S ? MSECCFG_SSEED : MSECCFG_USEED)));
    return true;
}

uint64_t csr_rmw_base(struct hart *h, unsigned csr, uint64_t old)
{
    if (csr == CSR_MIP)
        return (old & ~MIP_SEIP) | (h->arch.mip_sw & MIP_SEIP);
    return old;
}

static uint64_t read_mstatus(struct hart *h)
{
    uint64_t v = h->arch.mstatus | (2ULL << 32) | (2ULL << 34);
    if ((v & MSTATUS_FS) == MSTATUS_FS)
        v |= MSTATUS_SD;
    return v;
}

static void write_mstatus(struct hart *h, uint64_t v, uint64_t mask)
{
    uint64_t old = h->arch.mstatus;
    uint64_t nv = (old & ~mask) | (v & mask);
    if (((nv & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2) /* reserved: keep the old mode */
        nv = (nv & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
    h->arch.mstatus = nv;
    if ((old ^ nv) & MSTATUS_MXR)
        tlb_flush_all(h);
    hart_update_mmu_idx(h);
    /* An interrupt already pending may just have been enabled: make the
     * run loop look.  (Disabling needs nothing, and interrupts that
     * arrive later set check themselves.  The kernel toggles SIE all the
     * time, so this keeps compiled code from leaving each time.) */
    uint64_t enables = MSTATUS_SIE | MSTATUS_MIE;
    if ((nv & ~old & enables) && (hart_read_mip(h) & h->arch.mie))
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
}

/* Zicntr / Zihpm access from lower modes is gated by the counter-enables. */
static bool counter_allowed(struct hart *h, unsigned idx)
{
    uint32_t bit = 1u << idx;
    if (h->arch.priv < PRV_M && !(h->arch.mcounteren & bit))
        return false;
    if (h->arch.priv == PRV_U && !(h->arch.scounteren & bit))
        return false;
    return true;
}

static bool fs_on(struct hart *h)
{
    return (h->arch.mstatus & MSTATUS_FS) != 0;
}

static void fs_dirty(struct hart *h)
{
    h->arch.mstatus |= MSTATUS_FS;
}

static bool stimecmp_allowed(struct hart *h)
{
    if (h->arch.priv == PRV_M)
        return true;
    return (h->arch.mcounteren & 2) && (h->arch.menvcfg & MENVCFG_STCE);
}

bool csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr >= 0x7a0 && csr <= 0x7a5) /* Sdtrig (debug.c) */
        return hart_trigger_csr_read(h, csr, val);
    uint64_t v;
    if (unlikely(h->h_on)) {
        int r = csr_read_h(h, csr, val);
        if (r)
            return r > 0;
    }
    switch (csr) {
    case CSR_FFLAGS:
        if (!fs_on(h))
            return false;
        v = h->arch.fp.fflags & 0x1f;
        break;
    case CSR_FRM:
        if (!fs_on(h))
            return false;
        v = h->arch.fp.frm & 7;
        break;
    case CSR_FCSR:
        if (!fs_on(h))
            return false;
        v = (h->arch.fp.fflags & 0x1f) | ((h->arch.fp.frm & 7) << 5);
        break;
    case CSR_SSTATUS:
        v = read_mstatus(h) & SSTATUS_READ;
        break;
    case CSR_SIE:
        v = h->arch.mie & h->arch.mideleg & S_INTS;
        break;
    case CSR_STVEC:
        v = h->arch.stvec;
        break;
    case CSR_SCOUNTEREN:
        v = h->arch.scounteren;
        break;
    case CSR_SENVCFG:
        v = h->arch.senvcfg;
        break;
    case CSR_SSTATEEN0:
    case CSR_SSTATEEN0 + 1:
    case CSR_SSTATEEN0 + 2:
    case CSR_SSTATEEN0 + 3:
        v = 0; /* none of the state they gate (custom, Zfinx fcsr, Zcmt jvt) exists */
        break;
    case CSR_MSTATEEN0:
    case CSR_MSTATEEN0 + 1:
    case CSR_MSTATEEN0 + 2:
    case CSR_MSTATEEN0 + 3:
        v = h->arch.mstateen[csr - CSR_MSTATEEN0];
        break;
    case CSR_SEED: { /* OPST = ES16 with 16 bits of host entropy, WAIT if none yet */
        uint16_t e;
        v = getrandom(&e, sizeof(e), GRND_NONBLOCK) == (ssize_t)sizeof(e) ? (2ULL << 30) | e
                                                                          : 1ULL << 30;
        break;
    }
    case CSR_MSECCFG:
        v = h->arch.mseccfg;
        break;
    case CSR_SSCRATCH:
        v = h->arch.sscratch;
        break;
    case CSR_SEPC:
        v = h->arch.sepc;
        break;
    case CSR_SCAUSE:
        v = h->arch.scause;
        break;
    case CSR_STVAL:
        v = h->arch.stval;
        break;
    case CSR_SIP:
        v = hart_read_mip(h) & h->arch.mideleg & S_INTS;
        break;
    case CSR_STIMECMP:
        if (!stimecmp_allowed(h))
            return false;
        v = h->arch.stimecmp;
        break;
    case CSR_SATP:
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM))
            return false;
        v = h->arch.satp;
        break;
    case CSR_MSTATUS:
        v = read_mstatus(h);
        break;
    case CSR_MISA:
        v = MISA_VALUE | (h->h_on ? 1u << ('h' - 'a') : 0);
        break;
    case CSR_MEDELEG:
        v = h->arch.medeleg;
        break;
    case CSR_MIDELEG:
        v = h->arch.mideleg;
        break;
    case CSR_MIE:
        v = h->arch.mie;
        break;
    case CSR_MTVEC:
        v = h->arch.mtvec;
        break;
    case CSR_MCOUNTEREN:
        v = h->arch.mcounteren;
        break;
    case CSR_MENVCFG:
        v = h->arch.menvcfg;
        break;
    case CSR_MCOUNTINHIBIT:
        v = h->arch.mcountinhibit;
        break;
    case CSR_MSCRATCH:
        v = h->arch.mscratch;
        break;
    case CSR_MEPC:
        v = h->arch.mepc;
        break;
    case CSR_MCAUSE:
        v = h->arch.mcause;
        break;
    case CSR_MTVAL:
        v = h->arch.mtval;
        break;
    case CSR_MIP:
        v = hart_read_mip(h);
        break;
    case CSR_MCYCLE:
        v = h->arch.mcycle;
        break;
    case CSR_MINSTRET:
        v = h->arch.minstret;
        break;
    case CSR_MVENDORID:
    case CSR_MARCHID:
    case CSR_MIMPID:
    case CSR_MCONFIGPTR:
        v = 0;
        break;
    case CSR_MHARTID:
        v = h->hartid;
        break;
    default:
        if (csr >= CSR_CYCLE && csr <= CSR_CYCLE + 31) {
            unsigned idx = csr - CSR_CYCLE;
            if (!counter_allowed(h, idx))
                return false;
            if (idx > 2)
                return pmu_csr_read(h, csr, val);
            v = idx == 0 ? h->arch.mcycle : idx == 1 ? vclock_mtime(h->clock) : h->arch.minstret;
        } else if (pmu_csr_read(h, csr, &v)) {
            /* mhpmcounterN, mhpmeventN, scountovf */
        } else if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
            unsigned n = csr - CSR_PMPCFG0;
            if (n & 1)
                return false; /* odd pmpcfg registers do not exist on RV64 */
            v = 0;
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)h->arch.pmpcfg[n * 4 + i] << (8 * i);
        } else if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR0 + 63) {
            v = h->arch.pmpaddr[csr - CSR_PMPADDR0];
        } else {
            return false;
        }
    }
    *val = v;
    return true;
}

static void write_pmpcfg(struct hart *h, unsigned n, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        uint8_t *cfg = &h->arch.pmpcfg[n * 4 + i];
        if (*cfg & 0x80) /* locked */
            continue;
        uint8_t b = (uint8_t)(v >> (8 * i)) & 0x9f;
        if ((b & 3) == 2) /* W without R is reserved */
            b &= (uint8_t)~2;
        *cfg = b;
    }
}

/* menvcfg/senvcfg: `keep` plus the Zicbom/Zicboz enables; CBIE's
 * reserved value 10 reads as 00 (WARL). */
static uint64_t envcfg_cb(uint64_t v, uint64_t keep)
{
    uint64_t r = v & (keep | MENVCFG_CBIE | MENVCFG_CBCFE | MENVCFG_CBZE);
    if ((r & MENVCFG_CBIE) == (2ULL << 4))
        r &= ~MENVCFG_CBIE;
    return r;
}

bool csr_write(struct hart *h, unsigned csr, uint64_t v)
{
    if (csr >= 0x7a0 && csr <= 0x7a5) /* Sdtrig (debug.c) */
        return hart_trigger_csr_write(h, csr, v);
    if (unlikely(h->h_on)) {
        int r = csr_write_h(h, csr, v);
        if (r)
            return r > 0;
    }
    switch (csr) {
    case CSR_FFLAGS:
        if (!fs_on(h))
            return false;
        h->arch.fp.fflags = v & 0x1f;
        fs_dirty(h);
        return true;
    case CSR_FRM:
        if (!fs_on(h))
            return false;
        h->arch.fp.frm = v & 7;
        fs_dirty(h);
        return true;
    case CSR_FCSR:
        if (!fs_on(h))
            return false;
        h->arch.fp.fflags = v & 0x1f;
        h->arch.fp.frm = (v >> 5) & 7;
        fs_dirty(h);
        return true;
    case CSR_SSTATUS:
        write_mstatus(h, v, SSTATUS_WRITABLE);
        return true;
    case CSR_SIE: {
        uint64_t mask = h->arch.mideleg & S_INTS;
        h->arch.mie = (h->arch.mie & ~mask) | (v & mask);
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    }
    case CSR_STVEC:
        h->arch.stvec = v & ~2ULL;
        return true;
    case CSR_SCOUNTEREN:
        h->arch.scounteren = (uint32_t)v;
        return true;
    case CSR_SENVCFG:
        h->arch.senvcfg = envcfg_cb(v, MENVCFG_FIOM);
        return true;
    case CSR_SSTATEEN0:
    case CSR_SSTATEEN0 + 1:
    case CSR_SSTATEEN0 + 2:
    case CSR_SSTATEEN0 + 3:
        return true; /* all read-only zero */
    case CSR_MSTATEEN0:
    case CSR_MSTATEEN0 + 1:
    case CSR_MSTATEEN0 + 2:
    case CSR_MSTATEEN0 + 3:
        h->arch.mstateen[csr - CSR_MSTATEEN0] = mstateen_warl(csr - CSR_MSTATEEN0, v);
        h->arch.hstateen[csr - CSR_MSTATEEN0] &= h->arch.mstateen[csr - CSR_MSTATEEN0];
        return true;
    case CSR_SEED: /* the written value is ignored */
        return true;
    case CSR_MSECCFG:
        h->arch.mseccfg = v & (MSECCFG_SSEED | MSECCFG_USEED);
        return true;
    case CSR_SSCRATCH:
        h->arch.sscratch = v;
        return true;
    case CSR_SEPC:
        h->arch.sepc = v & ~1ULL;
        return true;
    case CSR_SCAUSE:
        h->arch.scause = v;
        return true;
    case CSR_STVAL:
        h->arch.stval = v;
        return true;
    case CSR_SIP: {
        uint64_t mask = h->arch.mideleg & (MIP_SSIP | MIP_LCOFIP);
        h->arch.mip_sw = (h->arch.mip_sw & ~mask) | (v & mask);
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    }
    case CSR_STIMECMP:
        if (!stimecmp_allowed(h))
            return false;
        h->arch.stimecmp = v;
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    case CSR_SATP: {
        if (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM))
            return false;
        uint64_t mode = v >> 60;
        if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48)
            return true; /* unsupported mode: satp keeps its value */
        tlb_switch_satp(h, h->arch.satp, v);
        h->arch.satp = v;
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    }
    case CSR_MSTATUS:
        write_mstatus(h, v, MSTATUS_WRITABLE | (h->h_on ? MSTATUS_MPV | MSTATUS_GVA : 0));
        return true;
    case CSR_MISA:
        return true; /* read-only WARL */
    case CSR_MEDELEG:
        h->arch.medeleg = v & (MEDELEG_WRITABLE | (h->h_on ? MEDELEG_H : 0));
        return true;
    case CSR_MIDELEG: /* with H, the VS-level interrupts are always HS's */
        h->arch.mideleg = (v & S_INTS) | (h->h_on ? MIDELEG_H_ONES : 0);
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    case CSR_MIE:
        h->arch.mie = v & (MIE_WRITABLE | (h->h_on ? VS_INTS : 0));
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    case CSR_MTVEC:
        h->arch.mtvec = v & ~2ULL;
        return true;
    case CSR_MCOUNTEREN:
        h->arch.mcounteren = (uint32_t)v;
        return true;
    case CSR_MENVCFG:
        h->arch.menvcfg = envcfg_cb(v, MENVCFG_FIOM | MENVCFG_PBMTE | MENVCFG_ADUE | MENVCFG_STCE);
        tlb_flush_all(h); /* PBMTE changes which PTEs are valid, ADUE which fault */
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    case CSR_MCOUNTINHIBIT:
        h->arch.mcountinhibit = (uint32_t)v & PMU_INHIBIT_MASK;
        pmu_update(h);
        return true;
    case CSR_MSCRATCH:
        h->arch.mscratch = v;
        return true;
    case CSR_MEPC:
        h->arch.mepc = v & ~1ULL;
        return true;
    case CSR_MCAUSE:
        h->arch.mcause = v;
        return true;
    case CSR_MTVAL:
        h->arch.mtval = v;
        return true;
    case CSR_MIP: {
        uint64_t mask = MIP_SSIP | MIP_SEIP | MIP_LCOFIP | (h->h_on ? MIP_VSSIP : 0);
        if (!(h->arch.menvcfg & MENVCFG_STCE))
            mask |= MIP_STIP;
        h->arch.mip_sw = (h->arch.mip_sw & ~mask) | (v & mask);
        atomic_store_explicit(&h->check, 1, memory_order_relaxed);
        return true;
    }
    case CSR_MCYCLE:
        h->arch.mcycle = v;
        return true;
    case CSR_MINSTRET:
        h->arch.minstret = v;
        return true;
    default:
        if (pmu_csr_write(h, csr, v))
            return true;
        if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
            unsigned n = csr - CSR_PMPCFG0;
            if (n & 1)
                return false;
            write_pmpcfg(h, n, v);
            pmp_changed(h);
            tlb_flush_everything(h); /* TLB entries were checked against the old PMP */
            return true;
        }
        if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR0 + 63) {
            unsigned i = csr - CSR_PMPADDR0;
            /* locked, or the top of a locked TOR entry above */
            bool tor_above = i < 63 && (h->arch.pmpcfg[i + 1] & 0x98) == 0x88;
            if (!(h->arch.pmpcfg[i] & 0x80) && !tor_above)
                h->arch.pmpaddr[i] = v & ((1ULL << 54) - 1);
            pmp_changed(h);
            tlb_flush_everything(h);
            return true;
        }
        return false;
    }
}
