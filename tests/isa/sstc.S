/* SPDX-License-Identifier: MIT */
/* The time CSR and Sstc:
 *   time reads mtime (M, and S/U gated by mcounteren.TM / scounteren.TM),
 *   menvcfg.STCE enables stimecmp (CSR 0x14d): with STCE=0 S-mode access is
 *   illegal and mip.STIP is M-writable; with STCE=1 STIP = (time >= stimecmp),
 *   read-only in mip, S access additionally needs mcounteren.TM; a
 *   delegated supervisor timer interrupt from stimecmp reaches the S
 *   handler, including waking WFI.
 * Validation: QEMU's spike machine implements neither rdtime nor Sstc (the
 * CSRs trap), so `make isa-qemu` builds this test with -DPLATFORM_VIRT
 * (finisher/UART instead of HTIF) and runs it on `qemu-system-riscv64 -M
 * virt`, whose CLINT sits at the same addresses. */
#define TEST_NAME "sstc"
#include "isa.h"

#define MENVCFG_STCE (1 << 63)

.macro CHECK_ILLEGAL
    MREC a5, REC_CAUSE
    CHECK a5, CAUSE_ILLEGAL
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm
/* poll irq_count (bounded) */
.macro WAIT_IRQ
    li a4, 10000000
.Lw\@:
    la a5, irq_count
    ld a5, 0(a5)
    bnez a5, .Ld\@
    addi a4, a4, -1
    bnez a4, .Lw\@
.Ld\@:
.endm

TEST_MAIN
    csrw mie, zero
    csrw mideleg, zero
    li a0, -1
    li a1, CLINT_MTIMECMP
    sd a0, 0(a1)

    /* ---- time tracks mtime ---- */
    rdtime a0
    li a1, CLINT_MTIME
    ld a1, 0(a1)
    li a3, 2000
1:  addi a3, a3, -1
    bnez a3, 1b
    rdtime a2
    CHECK_GTU a0, 0
    NEXT_CHECK
    bltu a2, a0, 2f                 /* monotonic */
    bltu a1, a0, 2f                 /* mtime read in between */
    bltu a2, a1, 2f
    beq a2, a0, 2f                  /* and it advanced */
    j 3f
2:  j fail
3:  csrr a0, time
    CHECK_GTU a0, 0

    /* ---- STCE = 0 ---- */
    csrw CSR_MENVCFG, zero
    csrr a0, CSR_MENVCFG
    srli a0, a0, 63
    CHECK a0, 0
    li a0, 1 << IRQ_STI
    csrs mip, a0                      /* STIP writable by M */
    csrr a1, mip
    and a1, a1, a0
    CHECK_EQ a1, a0
    csrc mip, a0
    li a0, 7
    csrw mcounteren, a0
    csrw scounteren, a0
    ENTER_MODE PRV_S, s_nostce
s_nostce:
    EXPECT_TRAP
    csrr a0, CSR_STIMECMP
    CHECK_ILLEGAL
    EXPECT_TRAP
    csrw CSR_STIMECMP, zero
    CHECK_ILLEGAL
    /* time from S (TM enabled) */
    rdtime a0
    CHECK_GTU a0, 0
    BACK_TO_M m_stce
m_stce:
    la a5, m_rec
    sd zero, REC_COUNT(a5)

    /* ---- STCE = 1 ---- */
    li a0, MENVCFG_STCE
    csrs CSR_MENVCFG, a0
    csrr a0, CSR_MENVCFG
    srli a0, a0, 63
    CHECK a0, 1
    /* stimecmp = -1: STIP clear and not settable through mip */
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrr a1, CSR_STIMECMP
    CHECK a1, -1
    li a0, 1 << IRQ_STI
    csrs mip, a0
    csrr a1, mip
    and a1, a1, a0
    CHECK a1, 0
    /* stimecmp in the past: STIP set, and cleared again by a write */
    csrw CSR_STIMECMP, zero
    csrr a1, mip
    and a1, a1, a0
    CHECK a1, 1 << IRQ_STI
    csrc mip, a0                      /* read-only: no effect */
    csrr a1, mip
    and a1, a1, a0
    CHECK a1, 1 << IRQ_STI
    li a2, -1
    csrw CSR_STIMECMP, a2
    csrr a1, mip
    and a1, a1, a0
    CHECK a1, 0

    /* mcounteren.TM = 0: S access to stimecmp (and time) is illegal */
    li a0, 1 << 1
    csrc mcounteren, a0
    ENTER_MODE PRV_S, s_notm
s_notm:
    EXPECT_TRAP
    csrr a0, CSR_STIMECMP
    CHECK_ILLEGAL
    EXPECT_TRAP
    rdtime a0
    CHECK_ILLEGAL
    BACK_TO_M m_deleg
m_deleg:
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    li a0, 7
    csrw mcounteren, a0
    /* ---- delegated STI driven by stimecmp ---- */
    la t0, irq_s
    csrw stvec, t0
    li a0, 1 << IRQ_STI
    csrw mideleg, a0
    csrw mie, a0
    ENTER_MODE PRV_S, s_timer
s_timer:
    csrr a0, sie
    CHECK a0, 1 << IRQ_STI
    la a5, irq_count
    sd zero, 0(a5)
    rdtime a0
    addi a0, a0, 1000
    csrw CSR_STIMECMP, a0
    csrr a1, CSR_STIMECMP
    CHECK_EQ a1, a0
    csrsi sstatus, MSTATUS_SIE
    WAIT_IRQ
    csrci sstatus, MSTATUS_SIE
    la a5, irq_count
    ld a0, 0(a5)
    CHECK a0, 1
    la a5, irq_cause
    ld a0, 0(a5)
    CHECK a0, INTR_BIT | IRQ_STI
    /* it did not fire early */
    rdtime a1
    la a5, irq_time
    ld a3, 0(a5)
    la a5, irq_cmp
    ld a4, 0(a5)
    NEXT_CHECK
    bltu a3, a4, 9f
    j 8f
9:  j fail
8:  /* WFI in S wakes on the timer (SIE = 0: no trap, just wake) */
    la a5, irq_count
    sd zero, 0(a5)
    rdtime a0
    addi a0, a0, 500
    csrw CSR_STIMECMP, a0
    wfi
    csrr a1, sip
    andi a1, a1, 1 << IRQ_STI
    /* WFI may return early; wait for the pending bit */
    li a4, 10000000
7:  csrr a1, sip
    andi a1, a1, 1 << IRQ_STI
    bnez a1, 6f
    addi a4, a4, -1
    bnez a4, 7b
6:  CHECK a1, 1 << IRQ_STI
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrr a1, sip
    andi a1, a1, 1 << IRQ_STI
    CHECK a1, 0
    /* ---- time from U: needs TM in both counteren registers ---- */
    li a0, MSTATUS_SPP
    csrc sstatus, a0
    la a0, u_time
    csrw sepc, a0
    sret
u_time:
    rdtime a0
    CHECK_GTU a0, 0
    BACK_TO_M m_u2
m_u2:
    li a0, 1 << 1
    csrc scounteren, a0
    ENTER_MODE PRV_U, u_time2
u_time2:
    EXPECT_TRAP
    rdtime a0
    CHECK_ILLEGAL
    BACK_TO_M m_end
m_end:
    csrw mideleg, zero
    csrw mie, zero
    csrw CSR_MENVCFG, zero
    PASS

/* S handler for STI: record, then disarm by stimecmp = -1 */
    .align 6
irq_s:
    csrw sscratch, t0
    csrr t0, scause
    bltz t0, 1f
    csrr t0, sscratch
    j s_trap
1:  la t0, irq_save
    sd t1, 0(t0)
    la t0, irq_cause
    csrr t1, scause
    sd t1, 0(t0)
    la t0, irq_time
    rdtime t1
    sd t1, 0(t0)
    la t0, irq_cmp
    csrr t1, CSR_STIMECMP
    sd t1, 0(t0)
    la t0, irq_count
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    li t1, -1
    csrw CSR_STIMECMP, t1
    la t0, irq_save
    ld t1, 0(t0)
    csrr t0, sscratch
    sret

    .data
    .align 3
irq_count: .dword 0
irq_cause: .dword 0
irq_time:  .dword 0
irq_cmp:   .dword 0
irq_save:  .dword 0
