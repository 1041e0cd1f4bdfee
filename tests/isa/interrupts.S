/* SPDX-License-Identifier: MIT */
/* Interrupts: CLINT msip -> mip.MSIP and machine software interrupts, CLINT
 * mtimecmp/mtime -> mip.MTIP and machine timer interrupts, mie and
 * mstatus.MIE masking (M-level interrupts always enabled in S/U), priority
 * (MSI before MTI), WFI woken by an interrupt, mtvec vectored mode,
 * mideleg of SSI/STI to S (sstatus.SIE/sie masking, SSIP set by software,
 * STIP driven by M), delegated interrupts not taken in M, and interrupt
 * mepc pointing at the next instruction to execute. */
#define TEST_NAME "interrupts"
#include "isa.h"

/* irq_rec: +0 count, +8 last cause, +16 last epc, +24 first cause */
.macro CLEAR_IRQ
    la a5, irq_rec
    sd zero, 0(a5)
    sd zero, 8(a5)
    sd zero, 16(a5)
    sd zero, 24(a5)
.endm
/* An interrupt made pending by an MMIO write need only be taken within a
 * bounded time: poll irq_rec's count (bounded). Clobbers a4, a5. */
.macro WAIT_IRQ
    li a4, 10000000
.Lw\@:
    la a5, irq_rec
    ld a5, 0(a5)
    bnez a5, .Ld\@
    addi a4, a4, -1
    bnez a4, .Lw\@
.Ld\@:
.endm
.macro IRQ_FIELD reg, off
    la \reg, irq_rec
    ld \reg, \off(\reg)
.endm

/* Arm mtimecmp = mtime + delta.  Clobbers a5, a4. */
.macro TIMER_IN delta
    li a5, CLINT_MTIME
    ld a4, 0(a5)
    addi a4, a4, \delta
    li a5, CLINT_MTIMECMP
    sd a4, 0(a5)
.endm
.macro TIMER_OFF
    li a5, CLINT_MTIMECMP
    li a4, -1
    sd a4, 0(a5)
.endm

TEST_MAIN
    csrw mie, zero
    csrci mstatus, MSTATUS_MIE
    TIMER_OFF
    li a5, CLINT_MSIP
    sw zero, 0(a5)
    la t0, irq_m
    csrw mtvec, t0
    la t0, irq_s
    csrw stvec, t0
    CLEAR_IRQ

    /* ---- msip reflects into mip.MSIP ---- */
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MSI
    CHECK a0, 0
    li a5, CLINT_MSIP
    li a0, 1
    sw a0, 0(a5)
    lw a1, 0(a5)
    CHECK a1, 1
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MSI
    CHECK a0, 1 << IRQ_MSI
    /* pending but masked by mie -> nothing */
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    IRQ_FIELD a0, 0
    CHECK a0, 0
    /* enabled in mie but MIE=0 in M-mode -> nothing */
    li a0, 1 << IRQ_MSI
    csrs mie, a0
    nop
    nop
    IRQ_FIELD a0, 0
    CHECK a0, 0
    /* both -> taken; mepc is the next instruction */
    csrsi mstatus, MSTATUS_MIE
1:  nop
    csrci mstatus, MSTATUS_MIE
    IRQ_FIELD a0, 0
    CHECK a0, 1
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_MSI
    IRQ_FIELD a0, 16
    la a1, 1b
    CHECK_EQ a0, a1
    /* the handler cleared msip */
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MSI
    CHECK a0, 0
    /* mip.MSIP is read-only through the CSR */
    csrsi mip, 1 << IRQ_MSI
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MSI
    CHECK a0, 0
    csrw mie, zero
    CLEAR_IRQ

    /* ---- machine timer ---- */
    li a5, CLINT_MTIME
    ld a0, 0(a5)
    li a1, 10000
2:  addi a1, a1, -1
    bnez a1, 2b
    ld a2, 0(a5)
    CHECK_GTU a2, 0
    sub a2, a2, a0
    CHECK_GTU a2, 0                       /* mtime advances */
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MTI
    CHECK a0, 0                           /* mtimecmp = -1: not pending */
    /* mtimecmp in the past -> MTIP */
    TIMER_IN 0
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MTI
    CHECK a0, 1 << IRQ_MTI
    /* mip.MTIP is read-only via the CSR */
    li a1, 1 << IRQ_MTI
    csrc mip, a1
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MTI
    CHECK a0, 1 << IRQ_MTI
    /* moving mtimecmp into the future clears it */
    TIMER_OFF
    csrr a0, mip
    andi a0, a0, 1 << IRQ_MTI
    CHECK a0, 0
    /* an armed timer eventually fires and is taken */
    li a0, 1 << IRQ_MTI
    csrs mie, a0
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN 200
    li a1, 100000000
3:  IRQ_FIELD a0, 0
    bnez a0, 4f
    addi a1, a1, -1
    bnez a1, 3b
4:  csrci mstatus, MSTATUS_MIE
    IRQ_FIELD a0, 0
    CHECK a0, 1
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_MTI
    CLEAR_IRQ

    /* ---- WFI is woken by an interrupt, which is then taken ---- */
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN 500
5:  wfi
    IRQ_FIELD a0, 0
    beqz a0, 5b                           /* WFI may also wake spuriously */
    csrci mstatus, MSTATUS_MIE
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_MTI
    CLEAR_IRQ

    /* ---- priority: MSI is taken before MTI ---- */
    li a0, (1 << IRQ_MSI) | (1 << IRQ_MTI)
    csrs mie, a0
    TIMER_IN 0
    li a5, CLINT_MSIP
    li a0, 1
    sw a0, 0(a5)
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    IRQ_FIELD a0, 0
    CHECK a0, 2
    IRQ_FIELD a0, 24
    CHECK a0, INTR_BIT | IRQ_MSI
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_MTI
    CLEAR_IRQ
    csrw mie, zero

    /* ---- M interrupts are enabled in S regardless of mstatus.MIE ---- */
    li a0, 1 << IRQ_MSI
    csrs mie, a0
    csrci mstatus, MSTATUS_MIE
    li a0, MSTATUS_MPIE
    csrc mstatus, a0                      /* MIE stays 0 after mret */
    ENTER_MODE PRV_S, s_msi
s_msi:
    li a5, CLINT_MSIP
    li a0, 1
    sw a0, 0(a5)
    WAIT_IRQ
    IRQ_FIELD a0, 0
    CHECK a0, 1
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_MSI
    MREC a0, REC_COUNT
    CHECK a0, 0
    /* the interrupt returned to S (mret with MPP = S) */
    csrr a0, sscratch
    CLEAR_IRQ
    BACK_TO_M m_after_s
m_after_s:
    la t0, irq_m
    csrw mtvec, t0
    csrw mie, zero
    la a5, m_rec
    sd zero, REC_COUNT(a5)

    /* ---- supervisor software interrupt, not delegated -> M ---- */
    csrw mideleg, zero
    li a0, 1 << IRQ_SSI
    csrs mie, a0
    csrs mip, a0
    csrr a1, mip
    and a1, a1, a0
    CHECK_EQ a1, a0                       /* SSIP writable by M */
    ENTER_MODE PRV_S, s_ssi_m
s_ssi_m:
    nop
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_SSI
    CLEAR_IRQ
    BACK_TO_M m_deleg

    /* ---- mideleg SSI/STI to S ---- */
m_deleg:
    la t0, irq_m
    csrw mtvec, t0
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    li a0, (1 << IRQ_SSI) | (1 << IRQ_STI)
    csrw mideleg, a0
    csrr a1, mideleg
    and a1, a1, a0
    CHECK_EQ a1, a0
    csrw mie, a0
    /* delegated interrupts are never taken in M, even with MIE = 1 */
    csrs mip, a0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    IRQ_FIELD a1, 0
    CHECK a1, 0
    csrc mip, a0
    /* sie/sip show the delegated bits */
    csrr a1, sie
    CHECK a1, (1 << IRQ_SSI) | (1 << IRQ_STI)
    ENTER_MODE PRV_S, s_deleg
s_deleg:
    /* SSIP set by S software, masked by SIE=0 in S */
    csrsi sip, 1 << IRQ_SSI
    csrr a0, sip
    andi a0, a0, 1 << IRQ_SSI
    CHECK a0, 1 << IRQ_SSI
    nop
    IRQ_FIELD a0, 0
    CHECK a0, 0
    /* masked by sie */
    csrci sie, 1 << IRQ_SSI
    csrsi sstatus, MSTATUS_SIE
    nop
    IRQ_FIELD a0, 0
    CHECK a0, 0
    /* enabled -> S handler, scause = INTR|1, sepc = next instruction */
    csrsi sie, 1 << IRQ_SSI
6:  nop
    csrci sstatus, MSTATUS_SIE
    IRQ_FIELD a0, 0
    CHECK a0, 1
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_SSI
    IRQ_FIELD a0, 16
    la a1, 6b
    CHECK_EQ a0, a1
    csrr a0, sip
    andi a0, a0, 1 << IRQ_SSI
    CHECK a0, 0                           /* cleared by the handler */
    MREC a0, REC_COUNT
    CHECK a0, 0
    CLEAR_IRQ
    /* STIP is read-only in S: writing it through sip has no effect */
    li a1, 1 << IRQ_STI
    csrs sip, a1
    csrr a0, sip
    and a0, a0, a1
    CHECK a0, 0
    BACK_TO_M m_sti
m_sti:
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    /* M raises STIP (no Sstc: mip.STIP is writable by M) */
    li a0, 1 << IRQ_STI
    csrs mip, a0
    ENTER_MODE PRV_S, s_sti
s_sti:
    csrr a0, sip
    andi a0, a0, 1 << IRQ_STI
    CHECK a0, 1 << IRQ_STI
    csrsi sstatus, MSTATUS_SIE
    nop
    csrci sstatus, MSTATUS_SIE
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_STI
    CLEAR_IRQ
    /* in U, S interrupts are enabled regardless of SIE: re-enable STIE
     * (the handler masked it) and drop to U */
    li a0, 1 << IRQ_STI
    csrs sie, a0
    li a0, MSTATUS_SPP | MSTATUS_SPIE
    csrc sstatus, a0
    la a0, u_sti
    csrw sepc, a0
    sret
u_sti:
    nop
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_STI
    IRQ_FIELD a0, 16
    la a1, u_sti
    CHECK_EQ a0, a1
    CLEAR_IRQ
    BACK_TO_M m_sei
m_sei:
    /* ---- SEIP injected by M, delegated: S external interrupt ---- */
    li a0, 1 << IRQ_STI
    csrc mip, a0
    li a0, 1 << IRQ_SEI
    csrs mideleg, a0
    csrs mie, a0
    csrs mip, a0
    csrr a1, mip
    and a1, a1, a0
    CHECK_EQ a1, a0                       /* SEIP writable by M */
    ENTER_MODE PRV_S, s_sei
s_sei:
    csrsi sstatus, MSTATUS_SIE
    nop
    csrci sstatus, MSTATUS_SIE
    IRQ_FIELD a0, 8
    CHECK a0, INTR_BIT | IRQ_SEI
    CLEAR_IRQ
    /* SEIP is read-only in sip */
    li a1, 1 << IRQ_SEI
    csrc sip, a1
    csrr a0, sip
    and a0, a0, a1
    CHECK_EQ a0, a1
    BACK_TO_M m_vec
m_vec:
    li a0, 1 << IRQ_SEI
    csrc mip, a0
    li a0, 1 << IRQ_STI
    csrc mip, a0
    csrw mideleg, zero
    csrw mie, zero
    la a5, m_rec
    sd zero, REC_COUNT(a5)

    /* ---- mtvec vectored mode ---- */
    la t0, vec_table
    ori t0, t0, 1
    csrw mtvec, t0
    csrr a0, mtvec
    CHECK_EQ a0, t0
    la a5, vec_hit
    sd zero, 0(a5)
    li a0, (1 << IRQ_MSI) | (1 << IRQ_MTI)
    csrs mie, a0
    li a5, CLINT_MSIP
    li a0, 1
    sw a0, 0(a5)
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    la a5, vec_hit
    ld a0, 0(a5)
    CHECK a0, 3                           /* entry base + 4*3 */
    sd zero, 0(a5)
    TIMER_IN 0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    la a5, vec_hit
    ld a0, 0(a5)
    CHECK a0, 7
    /* exceptions use the base address */
    sd zero, 0(a5)
    EXPECT_TRAP
    ecall
    la a5, vec_hit
    ld a0, 0(a5)
    CHECK a0, 100
    MREC a0, REC_CAUSE
    CHECK a0, CAUSE_ECALL_M
    csrw mie, zero
    la t0, m_trap
    csrw mtvec, t0

    /* ---- stvec vectored mode (delegated SSI -> base + 4*1) ---- */
    li a0, 1 << IRQ_SSI
    csrw mideleg, a0
    csrw mie, a0
    la t0, svec_table
    ori t0, t0, 1
    csrw stvec, t0
    la a5, vec_hit
    sd zero, 0(a5)
    ENTER_MODE PRV_S, s_vec
s_vec:
    csrr a0, stvec
    CHECK_EQ a0, t0
    csrsi sip, 1 << IRQ_SSI
    csrsi sstatus, MSTATUS_SIE
    nop
    csrci sstatus, MSTATUS_SIE
    la a5, vec_hit
    ld a0, 0(a5)
    CHECK a0, 1
    csrr a0, sip
    andi a0, a0, 1 << IRQ_SSI
    CHECK a0, 0
    BACK_TO_M m_vec_end
m_vec_end:
    csrw mideleg, zero
    csrw mie, zero
    PASS

    .align 8
svec_table:
    j fail
    j svec_ssi
    .rept 14
    j fail
    .endr
svec_ssi:
    csrw sscratch, t0
    la t0, vec_save
    sd t1, 0(t0)
    li t1, 1 << IRQ_SSI
    csrc sip, t1
    li t1, 1
    la t0, vec_hit
    sd t1, 0(t0)
    la t0, vec_save
    ld t1, 0(t0)
    csrr t0, sscratch
    sret

/* ---- handlers ---------------------------------------------------------- */
/* M handler: interrupts are recorded in irq_rec and their source cleared;
 * exceptions go on to the common m_trap. */
    .align 6
irq_m:
    csrw mscratch, t0
    csrr t0, mcause
    bltz t0, 1f
    csrr t0, mscratch
    j m_trap
1:  la t0, irq_save
    sd t1, 0(t0)
    sd t2, 8(t0)
    la t0, irq_rec
    csrr t1, mcause
    sd t1, 8(t0)
    ld t2, 0(t0)
    bnez t2, 2f
    sd t1, 24(t0)
2:  addi t2, t2, 1
    sd t2, 0(t0)
    csrr t2, mepc
    sd t2, 16(t0)
    slli t1, t1, 1
    srli t1, t1, 1
    li t2, IRQ_MSI
    bne t1, t2, 3f
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    j 9f
3:  li t2, IRQ_MTI
    bne t1, t2, 4f
    li t0, CLINT_MTIMECMP
    li t2, -1
    sd t2, 0(t0)
    j 9f
4:  li t2, 1
    sll t2, t2, t1
    csrc mip, t2                          /* SSIP (and STIP) writable here */
9:  la t0, irq_save
    ld t1, 0(t0)
    ld t2, 8(t0)
    csrr t0, mscratch
    mret

/* S handler: same for delegated interrupts. */
    .align 6
irq_s:
    csrw sscratch, t0
    csrr t0, scause
    bltz t0, 1f
    csrr t0, sscratch
    j s_trap
1:  la t0, irq_save
    sd t1, 16(t0)
    sd t2, 24(t0)
    la t0, irq_rec
    csrr t1, scause
    sd t1, 8(t0)
    ld t2, 0(t0)
    bnez t2, 2f
    sd t1, 24(t0)
2:  addi t2, t2, 1
    sd t2, 0(t0)
    csrr t2, sepc
    sd t2, 16(t0)
    slli t1, t1, 1
    srli t1, t1, 1
    li t2, 1
    sll t2, t2, t1
    li t1, 1 << IRQ_STI
    beq t1, t2, 3f
    li t1, 1 << IRQ_SEI
    beq t1, t2, 3f
    csrc sip, t2
    j 9f
3:  csrc sie, t2                          /* STIP/SEIP can't be cleared from S */
9:  la t0, irq_save
    ld t1, 16(t0)
    ld t2, 24(t0)
    csrr t0, sscratch
    sret

/* vectored table: entry i records i in vec_hit and clears the source */
    .align 8
vec_table:
    j vec_exc
    .rept 2
    j fail
    .endr
    j vec_msi
    .rept 3
    j fail
    .endr
    j vec_mti
    .rept 8
    j fail
    .endr
vec_exc:
    csrw mscratch, t0
    la t0, vec_save
    sd t1, 0(t0)
    li t1, 100
    la t0, vec_hit
    sd t1, 0(t0)
    la t0, vec_save
    ld t1, 0(t0)
    csrr t0, mscratch
    j m_trap
vec_msi:
    csrw mscratch, t0
    la t0, vec_save
    sd t1, 0(t0)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    li t1, 3
    j vec_store
vec_mti:
    csrw mscratch, t0
    la t0, vec_save
    sd t1, 0(t0)
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
    li t1, 7
vec_store:
    la t0, vec_hit
    sd t1, 0(t0)
    la t0, vec_save
    ld t1, 0(t0)
    csrr t0, mscratch
    mret

    .data
    .align 4
irq_rec:  .skip 32
irq_save: .skip 32
vec_hit:  .dword 0
vec_save: .dword 0
