/* SPDX-License-Identifier: MIT */
/* The hypervisor (H) extension, run with `wirt run --cpu h=on` (and on
 * QEMU with -cpu rv64,h=true):
 *   misa.H, CSR masks (mideleg's read-only VS bits, hedeleg, hideleg,
 *   medeleg's new causes, hstatus.VSXL), hvip -> mip/hip, vsip/vsie as
 *   hip/hie through hideleg;
 *   two-stage translation through HLV/HLVX/HSV from M-mode: loads and
 *   stores, sign/zero extension, G-stage read-only page (store guest-page
 *   fault 23, mtval = GVA, mtval2 = GPA >> 2, mstatus.GVA), unmapped GPA
 *   (21), G-stage page without U (21), VS-stage invalid PTE (13, mtval2 0),
 *   VS-stage U page vs SPVP/SUM, VS page-table page at an unmapped GPA
 *   (21 with the PTE's GPA and the pseudoinstruction 0x3000 in mtinst),
 *   A/D set at both stages, execute-only pages (HLVX, vsstatus.MXR), GPA
 *   beyond Sv39x4's 41 bits, hinval.gvma / hfence.vvma after PTE changes;
 *   VS-mode: virtual-instruction exceptions (hypervisor CSRs, HLV, HFENCE,
 *   counters without hcounteren, cbo.zero without henvcfg.CBZE,
 *   VTSR/VTW/VTVM), M CSRs illegal, ecall
 *   from VS (10) with mstatus.MPV, FP with vsstatus.FS off (illegal) and
 *   Dirty propagated to vsstatus and mstatus, loads/stores through both
 *   stages with guest-page faults to M (MPV, GVA), delegation of a page
 *   fault to VS (hedeleg) and to HS (hstatus.SPV/GVA, SRET back to VS),
 *   a VS software interrupt injected through hvip and taken in VS as
 *   scause 1; vstimecmp with htimedelta (wirt only: spike has no time);
 *   hstateen0 bounded by mstateen0 (wirt only: QEMU 7.2 lacks Smstateen).
 * Traps go to M unless a check delegates.
 */
#define TEST_NAME "hext"
#include "isa.h"

    .option arch, +h, +svinval, +zicboz

#define CSR_MTINST 0x34a
#define CSR_MTVAL2 0x34b
#define CSR_TIME   0xc01

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_SV39   (8 << 60)
#define HGATP_SV39X4 (8 << 60)
#define MSTATUS_GVA (1 << 38)
#define MSTATUS_MPV (1 << 39)
#define HSTATUS_GVA  (1 << 6)
#define HSTATUS_SPV  (1 << 7)
#define HSTATUS_SPVP (1 << 8)
#define HSTATUS_VTVM (1 << 20)
#define HSTATUS_VTW  (1 << 21)
#define HSTATUS_VTSR (1 << 22)
#define CAUSE_ECALL_VS   10
#define CAUSE_FETCH_GPF  20
#define CAUSE_LOAD_GPF   21
#define CAUSE_VIRTUAL    22
#define CAUSE_STORE_GPF  23

#ifdef QEMU_QUIRKS
/* QEMU 7.2 turns a VS-stage page fault of an HLV in M-mode into a load
 * access fault. */
#define HLV_PAGE_FAULT CAUSE_LOAD_ACCESS
#else
#define HLV_PAGE_FAULT CAUSE_LOAD_PAGE
#endif

#define GPA   0x100000000 /* the 4 KiB guest-physical pages the G-stage maps */
#define VA    0x40000000  /* the VS-stage's 4 KiB pages */
#define VA_PT 0xc0000000  /* its page table sits at an unmapped GPA */
#define MAGIC 0x1122334455667788

/* table[idx] = (pa >> 12) << 10 | flags.  Clobbers a4, a5. */
.macro SET_PTE table, idx, pa, flags
    la a5, \table
    li a4, \pa
    srli a4, a4, 12
    slli a4, a4, 10
    ori a4, a4, \flags
    sd a4, (\idx * 8)(a5)
.endm
.macro SET_PTE_SYM table, idx, sym, flags
    la a5, \table
    la a4, \sym
    srli a4, a4, 12
    slli a4, a4, 10
    ori a4, a4, \flags
    sd a4, (\idx * 8)(a5)
.endm

/* The armed trap reached M with this cause, tval and mtval2. */
.macro GFAULT cause, tval, tval2
    MREC a5, REC_CAUSE
    CHECK a5, \cause
    MREC a5, REC_TVAL
    CHECK_MORE a5, \tval
    csrr a5, CSR_MTVAL2
    CHECK_MORE a5, \tval2
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm

/* Forget the ecall of BACK_TO_M. */
.macro CLEAR_MREC
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm

/* a0 = (csr >> shift) & 1 */
.macro CSR_BIT csr, shift
    csrr a0, \csr
    srli a0, a0, \shift
    andi a0, a0, 1
.endm

/* mret into VS-mode at label. */
.macro ENTER_VS label
    li t5, MSTATUS_MPV
    csrs mstatus, t5
    ENTER_MODE PRV_S, \label
.endm

TEST_MAIN
    /* ---- CSRs ---- */
    CSR_BIT misa, 7
    CHECK a0, 1
    csrw mideleg, zero
    csrr a0, mideleg
    CHECK a0, 0x1444            /* VSSI, VSTI, VSEI, SGEI always delegated */
    csrr a0, hstatus
    srli a0, a0, 32
    andi a0, a0, 3
    CHECK a0, 2                 /* VSXL = 64 */
    li a1, -1
    csrw hedeleg, a1
    csrr a0, hedeleg
    CHECK a0, 0xb1ff
    csrw hedeleg, zero
    csrw hideleg, a1
    csrr a0, hideleg
    CHECK a0, 0x444
    csrw medeleg, a1
    csrr a0, medeleg
    li a2, 0xf00400             /* ecall from VS, guest-page faults, virtual insn */
    and a0, a0, a2
    CHECK a0, 0xf00400
    csrw medeleg, zero
    li a1, 4
    csrw hvip, a1               /* VSSIP */
    csrr a0, mip
    andi a0, a0, 0x444
    CHECK a0, 4
    csrr a0, hip
    CHECK a0, 4
    li a1, 0x444
    csrw hie, a1
    csrr a0, vsie               /* hideleg is 0x444: every VS bit, moved down */
    CHECK a0, 0x222
    csrr a0, vsip
    CHECK a0, 2
    csrw hideleg, zero
    csrr a0, vsip
    CHECK a0, 0
    csrr a0, vsie
    CHECK a0, 0
    csrw hvip, zero
    csrw hie, zero
    csrr a0, hgeip              /* no guest external interrupt files */
    CHECK a0, 0

    /* ---- two-stage translation through HLV/HSV from M ---- */
    call build_tables
    la a0, groot
    srli a0, a0, 12
    li a1, HGATP_SV39X4
    or a0, a0, a1
    csrw hgatp, a0
    la a0, vsroot
    srli a0, a0, 12
    li a1, SATP_SV39
    or a0, a0, a1
    csrw vsatp, a0
    li a1, HSTATUS_SPVP         /* HLV as VS-mode */
    csrs hstatus, a1
    hfence.gvma

    li a1, VA
    hlv.d a0, (a1)
    CHECK a0, MAGIC
    li a2, 0x5a5a
    addi a1, a1, 16
    hsv.h a2, (a1)
    la a3, gdata
    ld a0, 16(a3)
    CHECK a0, 0x5a5a
    li a1, VA + 8               /* gdata+8: 0x87 86 .. 81 80 (little-endian) */
    hlv.b a0, (a1)
    CHECK a0, 0xffffffffffffff87
    hlv.bu a0, (a1)
    CHECK a0, 0x87
    hlv.h a0, (a1)
    CHECK a0, 0xffffffffffff8687
    hlv.hu a0, (a1)
    CHECK a0, 0x8687
    hlv.w a0, (a1)
    CHECK a0, 0xffffffff84858687
    hlv.wu a0, (a1)
    CHECK a0, 0x84858687

    li a1, VA + 0x1008          /* G-stage read-only */
    hlv.d a0, (a1)
    CHECK a0, 0x2222
    EXPECT_TRAP
    hsv.w a2, (a1)
    GFAULT CAUSE_STORE_GPF, VA + 0x1008, (GPA + 0x1008) >> 2
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 leaves GVA clear for an HLV/HSV fault taken in M-mode. */
    CSR_BIT mstatus, 38         /* GVA: mtval is a guest virtual address */
    CHECK a0, 1
#endif
    CSR_BIT mstatus, 39         /* MPV: the trap came from V=0 */
    CHECK a0, 0

    li a1, VA + 0x2000          /* VS-stage invalid: a plain page fault */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT HLV_PAGE_FAULT, VA + 0x2000, 0

    li a1, VA + 0x3010          /* GPA not mapped by the G-stage */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_GPF, VA + 0x3010, (GPA + 0x2010) >> 2

    li a1, VA + 0x7000          /* G-stage leaf without U */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_GPF, VA + 0x7000, (GPA + 0x3000) >> 2

#ifndef QEMU_QUIRKS
    /* QEMU 7.2 ignores SPVP and SUM for an HLV from M-mode (it checks
     * nothing, as for M); the spec has it act as VS or VU. */
    li a1, VA + 0x4000          /* VS U page from VS-mode without SUM */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_PAGE, VA + 0x4000, 0
    li a2, MSTATUS_SUM
    csrs vsstatus, a2
    hlv.d a0, (a1)
    CHECK a0, MAGIC
    csrc vsstatus, a2
    li a2, HSTATUS_SPVP         /* as VU-mode: the U page is fine, S pages fault */
    csrc hstatus, a2
    hlv.d a0, (a1)
    CHECK a0, MAGIC
    li a1, VA
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_PAGE, VA, 0
    csrs hstatus, a2

#endif
    li a1, VA_PT + 0x18         /* the VS page table itself is unmapped */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_GPF, VA_PT + 0x18, (GPA + 0x2000) >> 2
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 writes 0 to mtinst, which the spec forbids here. */
    csrr a0, CSR_MTINST
    CHECK a0, 0x3000
#endif

    li a1, VA + 0x5000          /* A/D at both stages */
    hlv.d a0, (a1)
    la a3, vsl0
    ld a0, (5 * 8)(a3)
    andi a0, a0, PTE_A | PTE_D
    CHECK a0, PTE_A
    la a3, gl0
    ld a0, (5 * 8)(a3)
    andi a0, a0, PTE_A | PTE_D
    CHECK a0, PTE_A
    addi a2, a1, 8
    hsv.d a1, (a2)
    la a3, vsl0
    ld a0, (5 * 8)(a3)
    andi a0, a0, PTE_A | PTE_D
    CHECK a0, PTE_A | PTE_D
    la a3, gl0
    ld a0, (5 * 8)(a3)
    andi a0, a0, PTE_A | PTE_D
    CHECK a0, PTE_A | PTE_D

    li a1, VA + 0x6000          /* VS execute-only page */
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT HLV_PAGE_FAULT, VA + 0x6000, 0
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 faults these HLVX from M-mode (load access fault). */
    hlvx.wu a0, (a1)
    CHECK a0, 0x55667788
    hlvx.hu a0, (a1)
    CHECK a0, 0x7788
    li a2, MSTATUS_MXR
    csrs vsstatus, a2
    hlv.d a0, (a1)
    CHECK a0, MAGIC
    csrc vsstatus, a2
#endif

    /* Remapping: hfence.gvma for the G-stage, hfence.vvma for VS. */
    SET_PTE_SYM gl0, 0, gdata2, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    sfence.w.inval              /* Svinval's form, as KVM uses it */
    hinval.gvma zero, zero
    sfence.inval.ir
    li a1, VA + 8
    hlv.d a0, (a1)
    CHECK a0, 0x2222
    SET_PTE vsl0, 0, GPA + 0x5000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    li a1, VA
    hfence.vvma a1
    hlv.d a0, (a1)
    CHECK a0, 0x3333
    SET_PTE vsl0, 0, GPA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SET_PTE_SYM gl0, 0, gdata, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    hfence.vvma
    hfence.gvma
    hlv.d a0, (a1)
    CHECK a0, MAGIC

    csrw vsatp, zero            /* guest-physical beyond Sv39x4's 41 bits */
    li a1, 1 << 41
    EXPECT_TRAP
    hlv.d a0, (a1)
    GFAULT CAUSE_LOAD_GPF, 1 << 41, 1 << 39

    /* ---- VS-mode (vsatp bare: guest-physical = host-physical RAM) ---- */
    li a0, -1
    csrw mcounteren, a0
    csrw hcounteren, zero
#ifndef QEMU_QUIRKS
    li a0, 1 << 7               /* menvcfg.CBZE */
    csrs CSR_MENVCFG, a0
#endif
    ENTER_VS vs1
vs1:
    csrr a0, sstatus            /* vsstatus */
    EXPECT_TRAP
    csrr a1, hstatus
    CHECK_MTRAP CAUSE_VIRTUAL
    MREC a0, REC_TVAL
    CHECK a0, 0x600025f3        /* the instruction */
    MREC a0, REC_STATUS
    srli a0, a0, 39
    andi a0, a0, 1
    CHECK a0, 1                 /* MPV */
    EXPECT_TRAP
    csrr a1, mstatus
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a1, vsatp              /* VS CSRs are hypervisor-level */
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    ecall
    CHECK_MTRAP CAUSE_ECALL_VS
    EXPECT_TRAP
    hlv.d a0, (sp)
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    hfence.vvma
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    rdcycle a0                  /* mcounteren allows, hcounteren does not */
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    fmv.d.x f1, zero            /* vsstatus.FS is Off */
    CHECK_MTRAP CAUSE_ILLEGAL
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 has no Zicboz: menvcfg allows cbo.zero, henvcfg does not. */
    la a1, vs_irq_cause
    EXPECT_TRAP
    cbo.zero (a1)
    CHECK_MTRAP CAUSE_VIRTUAL
#endif
    BACK_TO_M m1
m1:
    CLEAR_MREC
    li a0, HSTATUS_VTSR | HSTATUS_VTW | HSTATUS_VTVM
    csrs hstatus, a0
    ENTER_VS vs2
vs2:
    EXPECT_TRAP
    sret
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    wfi
    CHECK_MTRAP CAUSE_VIRTUAL
    EXPECT_TRAP
    sfence.vma
    CHECK_MTRAP CAUSE_VIRTUAL
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 lets VS read satp (vsatp) despite VTVM. */
    EXPECT_TRAP
    csrr a0, satp
    CHECK_MTRAP CAUSE_VIRTUAL
#endif
    BACK_TO_M m2
m2:
    CLEAR_MREC
    li a0, HSTATUS_VTSR | HSTATUS_VTW | HSTATUS_VTVM
    csrc hstatus, a0
    li a0, MSTATUS_FS_INITIAL
    csrs vsstatus, a0
    ENTER_VS vs3
vs3:
    li a0, 7
    fmv.d.x f1, a0              /* dirties FS at both levels */
    BACK_TO_M m3
m3:
    CLEAR_MREC
    csrr a0, vsstatus
    li a1, MSTATUS_FS
    and a0, a0, a1
    CHECK a0, MSTATUS_FS_DIRTY
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, MSTATUS_FS_DIRTY

#ifndef QEMU_QUIRKS
    /* QEMU 7.2 raises load guest-page faults for every VS-mode access
     * here, the VS page-table reads included (not investigated: the same
     * translations through HLV above work there). */
    /* ---- VS-mode through both stages ---- */
    la a0, vsroot
    srli a0, a0, 12
    li a1, SATP_SV39
    or a0, a0, a1
    csrw vsatp, a0
    hfence.vvma
    ENTER_VS vs4
vs4:
    li a1, VA
    ld a0, (a1)
    CHECK a0, MAGIC
    li a1, VA + 0x2000
    EXPECT_TRAP
    ld a0, (a1)
    CHECK_MTRAP CAUSE_LOAD_PAGE
    li a1, VA + 0x1000
    .pushsection .data
    .balign 8
m4_abs: .dword m4
    .popsection
    la tp, m4_abs
    ld tp, (tp)
    sd a0, (a1)                 /* to M, resuming at m4 in M-mode */
    j fail
m4:
    GFAULT CAUSE_STORE_GPF, VA + 0x1000, (GPA + 0x1000) >> 2
    MREC a0, REC_STATUS
    srli a0, a0, 38
    andi a0, a0, 3
    CHECK a0, 3                 /* MPV and GVA */
    CLEAR_MREC
    /* A load page fault delegated to VS: taken by s_trap in VS-mode. */
    li a0, 1 << CAUSE_LOAD_PAGE
    csrw medeleg, a0
    csrw hedeleg, a0
    la a0, s_trap
    csrw vstvec, a0
    ENTER_VS vs5
vs5:
    li a1, VA + 0x2000
    EXPECT_TRAP
    ld a0, (a1)
    CHECK_STRAP CAUSE_LOAD_PAGE
    SREC a0, REC_TVAL
    CHECK a0, VA + 0x2000
    csrr a0, scause             /* vscause */
    CHECK a0, CAUSE_LOAD_PAGE
    BACK_TO_M m5
m5:
    CLEAR_MREC
    csrr a0, vscause
    CHECK a0, CAUSE_LOAD_PAGE
    csrr a0, vstval
    CHECK a0, VA + 0x2000
    /* Only to HS: s_trap in HS-mode, SRET returns to VS through SPV. */
    csrw hedeleg, zero
    la a0, s_trap
    csrw stvec, a0
    csrw scause, zero
    ENTER_VS vs6
vs6:
    li a1, VA + 0x2000
    EXPECT_TRAP
    ld a0, (a1)
    CHECK_STRAP CAUSE_LOAD_PAGE
    BACK_TO_M m6
m6:
    CLEAR_MREC
    csrw medeleg, zero
    csrr a0, scause
    CHECK a0, CAUSE_LOAD_PAGE
    csrr a0, stval
    CHECK a0, VA + 0x2000
    csrr a0, hstatus
    andi a0, a0, HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP
    CHECK a0, HSTATUS_GVA | HSTATUS_SPVP /* SRET cleared SPV */
    csrr a0, vscause            /* untouched */
    CHECK a0, CAUSE_LOAD_PAGE

    csrw vsatp, zero
#endif

#ifndef QEMU_QUIRKS
    /* QEMU 7.2 takes it with pc = 0 (not investigated). */
    /* A VS software interrupt injected through hvip, taken in VS. */
    li a0, 4
    csrw hideleg, a0
    csrw hie, a0
    la a0, vs_irq
    csrw vstvec, a0
    li a0, MSTATUS_SIE
    csrc vsstatus, a0
    li a0, 4
    csrw hvip, a0
    ENTER_VS vs7
vs7:
    li a0, MSTATUS_SIE
    csrs sstatus, a0            /* taken here */
    nop
    la a0, vs_irq_cause
    ld a0, (a0)
    CHECK a0, (1 << 63) | IRQ_SSI
    csrr a0, sip
    CHECK a0, 0                 /* the handler cleared it through vsip */
    BACK_TO_M m7
m7:
    CLEAR_MREC
    csrr a0, hvip
    CHECK a0, 0
    csrw hideleg, zero
    csrw hie, zero

#endif
#ifndef QEMU_QUIRKS
    /* vstimecmp against time + htimedelta (spike has no time CSR). */
    li a0, 1 << 63
    csrs CSR_MENVCFG, a0
    csrs henvcfg, a0
    li a0, -1
    csrw vstimecmp, a0
    CSR_BIT hip, 6
    CHECK a0, 0
    csrr a1, CSR_TIME
    li a2, 1 << 40
    add a1, a1, a2
    csrw vstimecmp, a1
    CSR_BIT mip, 6
    CHECK a0, 0
    li a2, 1 << 41
    csrw htimedelta, a2
    CSR_BIT mip, 6
    CHECK a0, 1
    csrw htimedelta, zero
    CSR_BIT hip, 6
    CHECK a0, 0

    /* Smstateen with H: hstateen0 keeps only what mstateen0 allows. */
    li a1, -1
    csrw 0x60c, a1              /* hstateen0 */
    csrr a0, 0x60c
    CHECK a0, 0
    li a2, (3 << 62)            /* SE0, ENVCFG */
    csrw 0x30c, a2              /* mstateen0 */
    csrw 0x60c, a1
    csrr a0, 0x60c
    CHECK a0, (3 << 62)
    csrw 0x30c, zero
    csrr a0, 0x60c
    CHECK a0, 0
#endif
    PASS

/* VS handler for the injected interrupt: records scause, clears
 * vsip.SSIP (hvip.VSSIP underneath) and returns. */
    .align 6
vs_irq:
    csrw sscratch, a0
    la a0, vs_irq_cause
    csrr tp, scause
    sd tp, (a0)
    li tp, 2
    csrc sip, tp
    li tp, 0
    csrr a0, sscratch
    sret

build_tables:
    /* G-stage: RAM 1:1 as one 1 GiB U page; GPA 0x1_0000_0000.. 4 KiB pages. */
    SET_PTE groot, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    SET_PTE_SYM groot, 4, gl1, PTE_V
    SET_PTE_SYM gl1, 0, gl0, PTE_V
    SET_PTE_SYM gl0, 0, gdata, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    SET_PTE_SYM gl0, 1, gdata2, PTE_V | PTE_R | PTE_U | PTE_A
    SET_PTE_SYM gl0, 3, gdata, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SET_PTE_SYM gl0, 5, gdata3, PTE_V | PTE_R | PTE_W | PTE_U
    /* VS-stage: code 1:1 (1 GiB), VA 0x4000_0000.. 4 KiB pages. */
    SET_PTE vsroot, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    SET_PTE_SYM vsroot, 1, vsl1, PTE_V
    SET_PTE vsroot, 3, GPA + 0x2000, PTE_V
    SET_PTE_SYM vsl1, 0, vsl0, PTE_V
    SET_PTE vsl0, 0, GPA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SET_PTE vsl0, 1, GPA + 0x1000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    SET_PTE vsl0, 3, GPA + 0x2000, PTE_V | PTE_R | PTE_A
    SET_PTE vsl0, 4, GPA, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    SET_PTE vsl0, 5, GPA + 0x5000, PTE_V | PTE_R | PTE_W
    SET_PTE vsl0, 6, GPA, PTE_V | PTE_X | PTE_A
    SET_PTE vsl0, 7, GPA + 0x3000, PTE_V | PTE_R | PTE_A | PTE_D
    ret

    .data
    .balign 16384
groot:  .skip 16384
gl1:    .skip 4096
gl0:    .skip 4096
vsroot: .skip 4096
vsl1:   .skip 4096
vsl0:   .skip 4096
gdata:  .dword MAGIC, 0x8081828384858687, 0
    .balign 4096
gdata2: .dword 0x1111, 0x2222
    .balign 4096
gdata3: .dword 0x3333
    .balign 4096
vs_irq_cause: .dword 0
