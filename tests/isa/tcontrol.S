/* SPDX-License-Identifier: MIT */
/* Sdtrig's tcontrol: WARL (only MTE, bit 3, and MPTE, bit 7), zero from
 * reset; an action-0 trigger in M-mode fires only while MTE is set; a
 * trap into M-mode sets MPTE = MTE and clears MTE (a trigger on the
 * handler's own code does not fire); mret sets MTE = MPTE (MPTE stays);
 * a trap into M-mode from S with MTE clear leaves both clear; triggers in
 * S-mode ignore MTE; tcontrol is illegal from S-mode. */
#define TEST_NAME "tcontrol"
#include "isa.h"
#define CSR_TSELECT  0x7a0
#define CSR_TDATA1   0x7a1
#define CSR_TDATA2   0x7a2
#define CSR_TCONTROL 0x7a5
#define MTE          0x08
#define MPTE         0x80
#define MC6          (6 << 60)
#define MC6_M        0x40
#define MC6_S        0x10
#define MC6_EXEC     0x04

/* mret to label in M-mode (MPP = M).  Clobbers t5. */
.macro MRET_TO_M label
    li t5, MSTATUS_MPP
    csrs mstatus, t5
    la t5, \label
    csrw mepc, t5
    mret
.endm

TEST_MAIN
    csrr a0, CSR_TCONTROL
    CHECK a0, 0
    li t0, -1
    csrw CSR_TCONTROL, t0
    csrr a0, CSR_TCONTROL
    CHECK a0, MTE | MPTE
    csrw CSR_TCONTROL, zero

    /* trigger 0: execute in M at target; trigger 1: execute in M at the
     * probe inside our trap handler */
    la t0, target
    csrw CSR_TDATA2, t0
    li t0, MC6 | MC6_M | MC6_EXEC
    csrw CSR_TDATA1, t0
    csrwi CSR_TSELECT, 1
    la t0, probe
    csrw CSR_TDATA2, t0
    li t0, MC6 | MC6_M | MC6_EXEC
    csrw CSR_TDATA1, t0
    la t0, tc_trap
    csrw mtvec, t0

    /* MTE clear: no trigger fires in M-mode */
    li a0, 0
    jal ra, target
    CHECK a0, 1
    CHECK_NO_MTRAP

    /* MTE set: trigger 0 fires; the handler saw MPTE set, MTE clear, and
     * its probe did not fire (one trap); mret brought MTE back */
    csrwi CSR_TCONTROL, MTE
    li a0, 0
    EXPECT_TRAP
    jal ra, target                  /* the handler skips target's li: a0 stays 0 */
    CHECK a0, 0
    la t0, tc_seen
    ld a1, 0(t0)
    CHECK a1, MPTE
    MREC a1, REC_COUNT
    CHECK a1, 1
    CHECK_MTRAP CAUSE_BREAKPOINT
    csrr a1, CSR_TCONTROL
    CHECK a1, MTE | MPTE

    /* mret alone: MTE = MPTE, MPTE kept */
    li t0, MPTE
    csrw CSR_TCONTROL, t0
    MRET_TO_M 1f
1:  csrr a1, CSR_TCONTROL
    CHECK a1, MTE | MPTE
    csrwi CSR_TCONTROL, MTE
    MRET_TO_M 2f
2:  csrr a1, CSR_TCONTROL
    CHECK a1, 0
    li a0, 0
    jal ra, target                  /* MTE clear again: no trigger */
    CHECK a0, 1
    CHECK_NO_MTRAP

    /* an ecall (a trap into M-mode) with MTE set: MPTE = 1, MTE = 0; the
     * handler's mret restores MTE */
    csrwi CSR_TCONTROL, MTE
    EXPECT_TRAP
    ecall
    la t0, tc_seen
    ld a1, 0(t0)
    CHECK a1, MPTE
    CHECK_MTRAP CAUSE_ECALL_M
    csrr a1, CSR_TCONTROL
    CHECK a1, MTE | MPTE

    /* S-mode: trigger 0 retargeted to S fires with MTE clear; the trap
     * into M from S copies MTE (0) into MPTE */
    csrwi CSR_TCONTROL, 0
    csrwi CSR_TSELECT, 1
    csrw CSR_TDATA1, zero
    csrwi CSR_TSELECT, 0
    li t0, MC6 | MC6_S | MC6_EXEC
    csrw CSR_TDATA1, t0
    ENTER_MODE PRV_S, in_s
in_s:
    li a0, 0
    EXPECT_TRAP
    jal ra, target
    nop
    CHECK_MTRAP CAUSE_BREAKPOINT
    la t0, tc_seen
    ld a1, 0(t0)
    CHECK a1, 0
    EXPECT_TRAP
    csrr a1, CSR_TCONTROL           /* an M-mode CSR: illegal from S */
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M back_in_m
back_in_m:
    csrr a1, CSR_TCONTROL
    CHECK a1, 0
    csrw CSR_TDATA1, zero
    la t0, m_trap
    csrw mtvec, t0
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    PASS

target:
    li a0, 1
    ret

/* M-mode trap vector for this test: keeps tcontrol as the handler sees
 * it in tc_seen, then goes on to the common handler. */
    .align 6
tc_trap:
    csrw mscratch, t0
    la t0, tc_seen
    sd t1, 8(t0)
probe:
    csrr t1, CSR_TCONTROL
    sd t1, 0(t0)
    ld t1, 8(t0)
    csrr t0, mscratch
    j m_trap

    .data
    .align 3
tc_seen:
    .dword 0, 0
