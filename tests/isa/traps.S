/* SPDX-License-Identifier: MIT */
/* Synchronous traps and privilege transitions: illegal instruction (mtval =
 * instruction bits), ecall from M/S/U (causes 11/9/8, mepc = the ecall),
 * ebreak, load/store/fetch access faults on unmapped physical addresses
 * (mtval = address), medeleg to S (scause/sepc/stval; M-mode traps never
 * delegated), MRET/SRET updates of MIE/MPIE/MPP/SIE/SPIE/SPP and MPRV
 * clearing, xRET from a lower privilege -> illegal, mstatus.TSR/TW/TVM. */
#define TEST_NAME "traps"
#include "isa.h"

#define ILLEGAL_WORD 0x04000033     /* ADD with a reserved funct7 */
#define UNMAPPED1 0x0
#define UNMAPPED2 0x50000000

.macro CHECK_MREC off, val
    MREC a5, \off
    CHECK a5, \val
.endm
.macro CHECK_MREC_LBL off, lbl
    MREC a5, \off
    la a4, \lbl
    CHECK_EQ a5, a4
.endm
.macro CLEAR_MREC
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm
.macro CLEAR_SREC
    la a5, s_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm

TEST_MAIN
    la t0, s_trap
    csrw stvec, t0
    /* ---- M-mode exceptions ---- */
    EXPECT_TRAP
1:  .word ILLEGAL_WORD
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CHECK_MREC REC_TVAL, ILLEGAL_WORD
    CHECK_MREC_LBL REC_EPC, 1b
    CLEAR_MREC
    EXPECT_TRAP
2:  .word 0x00000000            /* the all-zero encoding is illegal */
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CHECK_MREC REC_TVAL, 0
    CHECK_MREC_LBL REC_EPC, 2b
    CLEAR_MREC
    EXPECT_TRAP
3:  ecall
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_M
    CHECK_MREC_LBL REC_EPC, 3b
    CHECK_MREC REC_TVAL, 0
    CLEAR_MREC
    EXPECT_TRAP
4:  ebreak
    CHECK_MREC REC_CAUSE, CAUSE_BREAKPOINT
    CHECK_MREC_LBL REC_EPC, 4b
    /* mtval for ebreak: 0 or the pc */
    MREC a5, REC_TVAL
    beqz a5, 5f
    la a4, 4b
    CHECK_EQ a5, a4
5:  CLEAR_MREC
    /* the trap saved MIE into MPIE and MPP = M */
    li a1, MSTATUS_MIE
    csrs mstatus, a1
    csrw mie, zero
    EXPECT_TRAP
    ecall
    csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    CHECK a0, MSTATUS_MIE                /* restored by the handler's mret */
    csrci mstatus, MSTATUS_MIE
    MREC a0, REC_STATUS
    li a1, MSTATUS_MPIE|MSTATUS_MIE|MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPIE|MSTATUS_MPP   /* MIE cleared inside the handler */
    CLEAR_MREC

    /* ---- access faults on unmapped physical memory ---- */
    li s0, UNMAPPED1
    EXPECT_TRAP
6:  ld a0, 0(s0)
    CHECK_MREC REC_CAUSE, CAUSE_LOAD_ACCESS
    CHECK_MREC REC_TVAL, UNMAPPED1
    CHECK_MREC_LBL REC_EPC, 6b
    CLEAR_MREC
    li s0, UNMAPPED2
    EXPECT_TRAP
    lw a0, 16(s0)
    CHECK_MREC REC_CAUSE, CAUSE_LOAD_ACCESS
    CHECK_MREC REC_TVAL, UNMAPPED2 + 16
    CLEAR_MREC
    EXPECT_TRAP
    sd a0, 8(s0)
    CHECK_MREC REC_CAUSE, CAUSE_STORE_ACCESS
    CHECK_MREC REC_TVAL, UNMAPPED2 + 8
    CLEAR_MREC
    EXPECT_TRAP
    sb a0, 3(s0)
    CHECK_MREC REC_CAUSE, CAUSE_STORE_ACCESS
    CHECK_MREC REC_TVAL, UNMAPPED2 + 3
    CLEAR_MREC
    li s0, UNMAPPED1
    EXPECT_TRAP
    amoadd.d a0, a1, (s0)
#ifdef QEMU_QUIRKS
    /* QEMU 7.2 reports an AMO access fault as a load access fault; the spec
     * says Store/AMO access fault (7). */
    CHECK_MREC REC_CAUSE, CAUSE_LOAD_ACCESS
#else
    CHECK_MREC REC_CAUSE, CAUSE_STORE_ACCESS
#endif
    CHECK_MREC REC_TVAL, UNMAPPED1
    CLEAR_MREC
    /* instruction fetch: mepc = mtval = target */
    li s0, UNMAPPED2
    EXPECT_TRAP_AT 7f
    jalr ra, 0(s0)
7:  CHECK_MREC REC_CAUSE, CAUSE_FETCH_ACCESS
    CHECK_MREC REC_TVAL, UNMAPPED2
    CHECK_MREC REC_EPC, UNMAPPED2
    CLEAR_MREC

    /* ---- MRET ---- */
    /* MPP=M, MPIE=0: MIE := 0, MPIE := 1, MPP := U */
    csrw mie, zero
    li a1, MSTATUS_MPP
    csrs mstatus, a1
    li a1, MSTATUS_MPIE
    csrc mstatus, a1
    la a0, 8f
    csrw mepc, a0
    mret
    j fail
8:  csrr a0, mstatus
    li a1, MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPIE
    /* MPP=M, MPIE=1: MIE := 1 */
    li a1, MSTATUS_MPP
    csrs mstatus, a1
    la a0, 9f
    csrw mepc, a0
    mret
    j fail
9:  csrr a0, mstatus
    li a1, MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MIE|MSTATUS_MPIE
    csrci mstatus, MSTATUS_MIE
    /* MRET to S with MPRV set: MPRV is cleared */
    li a1, MSTATUS_MPRV
    csrs mstatus, a1
    ENTER_MODE PRV_S, s_mret1
s_mret1:
    BACK_TO_M m_mret1
m_mret1:
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_S
    CHECK_MREC_LBL REC_EPC, s_mret1 + 12
    MREC a0, REC_STATUS
#ifdef QEMU_QUIRKS
    /* QEMU 7.2 does not clear MPRV on an MRET to a lower privilege, which
     * priv spec 1.12 requires. */
    li a1, MSTATUS_MPRV
    csrc mstatus, a1
    li a1, MSTATUS_MPP
#else
    li a1, MSTATUS_MPRV|MSTATUS_MPP
#endif
    and a0, a0, a1
    CHECK a0, MSTATUS_MPP_S              /* trap from S, MPRV cleared */
    CLEAR_MREC
    /* ecall from U */
    ENTER_MODE PRV_U, u_ecall
u_ecall:
    BACK_TO_M m_uecall
m_uecall:
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_U
    CHECK_MREC_LBL REC_EPC, u_ecall + 12
    MREC a0, REC_STATUS
    li a1, MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, 0
    CLEAR_MREC

    /* ---- xRET from too low a privilege ---- */
    ENTER_MODE PRV_S, s_mret
s_mret:
    EXPECT_TRAP
1:  mret
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CHECK_MREC_LBL REC_EPC, 1b
    CLEAR_MREC
    BACK_TO_M m_xret2
m_xret2:
    CLEAR_MREC
    ENTER_MODE PRV_U, u_xret
u_xret:
    EXPECT_TRAP
1:  sret
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    EXPECT_TRAP
2:  mret
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    EXPECT_TRAP
3:  .word ILLEGAL_WORD
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CHECK_MREC REC_TVAL, ILLEGAL_WORD
    CLEAR_MREC
    BACK_TO_M m_xret3
m_xret3:
    CLEAR_MREC

    /* ---- SRET ---- */
    ENTER_MODE PRV_S, s_sret
s_sret:
    /* S -> U with SPIE=1: SIE := 1, SPIE := 1, SPP := U */
    li a1, MSTATUS_SPP
    csrc sstatus, a1
    li a1, MSTATUS_SPIE
    csrs sstatus, a1
    la a0, u_sret
    csrw sepc, a0
    sret
    j fail
u_sret:
    BACK_TO_M m_sret
m_sret:
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_U
    MREC a0, REC_STATUS
    li a1, MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP
    and a0, a0, a1
    CHECK a0, MSTATUS_SIE|MSTATUS_SPIE
    CLEAR_MREC
    csrci mstatus, MSTATUS_SIE
    ENTER_MODE PRV_S, s_sret2
s_sret2:
    /* S -> S with SPIE=0: SIE := 0, SPIE := 1, SPP := U */
    li a1, MSTATUS_SPP
    csrs sstatus, a1
    li a1, MSTATUS_SPIE
    csrc sstatus, a1
    csrsi sstatus, MSTATUS_SIE
    csrw sie, zero
    la a0, s_sret3
    csrw sepc, a0
    sret
    j fail
s_sret3:
    csrr a0, sstatus
    li a1, MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP
    and a0, a0, a1
    CHECK a0, MSTATUS_SPIE
    /* ecall from S */
    EXPECT_TRAP
1:  ecall
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_S
    CHECK_MREC_LBL REC_EPC, 1b
    CLEAR_MREC

    /* ---- TSR / TW / TVM (set by M, observed in S) ---- */
    BACK_TO_M m_tsr
m_tsr:
    CLEAR_MREC
    li a1, MSTATUS_TSR|MSTATUS_TW|MSTATUS_TVM
    csrs mstatus, a1
    ENTER_MODE PRV_S, s_tsr
s_tsr:
    la a0, 2f
    csrw sepc, a0
    EXPECT_TRAP
1:  sret
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CHECK_MREC_LBL REC_EPC, 1b
    CLEAR_MREC
    EXPECT_TRAP
2:  wfi
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    EXPECT_TRAP
    csrr a0, satp
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    EXPECT_TRAP
    csrw satp, zero
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    EXPECT_TRAP
    sfence.vma
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    BACK_TO_M m_tsr2
m_tsr2:
    CLEAR_MREC
    li a1, MSTATUS_TSR|MSTATUS_TW|MSTATUS_TVM
    csrc mstatus, a1
    ENTER_MODE PRV_S, s_tsr2
s_tsr2:
    /* all allowed again */
    csrr a0, satp
    csrw satp, zero
    sfence.vma
    la a0, 3f
    csrw sepc, a0
    li a1, MSTATUS_SPP
    csrs sstatus, a1
    sret
    j fail
3:  CHECK_NO_MTRAP
    /* TW also applies in M-mode?  No: TW affects only modes below M. */
    BACK_TO_M m_tw
m_tw:
    CLEAR_MREC
    li a1, MSTATUS_TW
    csrs mstatus, a1
    csrci mstatus, MSTATUS_MIE
    /* WFI in M-mode with TW=1 must not trap; make sure it wakes by having an
     * interrupt pending-and-enabled (MIE=0 globally, so no trap is taken). */
    li a1, CLINT_MSIP
    li a0, 1
    sw a0, 0(a1)
    li a0, 1 << IRQ_MSI
    csrs mie, a0
    wfi
    csrc mie, a0
    li a1, CLINT_MSIP
    sw zero, 0(a1)
    CHECK_NO_MTRAP
    li a1, MSTATUS_TW
    csrc mstatus, a1

    /* ---- medeleg ---- */
    li a0, (1 << CAUSE_ILLEGAL)|(1 << CAUSE_BREAKPOINT)|(1 << CAUSE_ECALL_U)|(1 << CAUSE_LOAD_ACCESS)
    csrw medeleg, a0
    csrr a1, medeleg
    CHECK_EQ a0, a1
#ifndef QEMU_QUIRKS
    /* medeleg[11] (ecall from M) is read-only zero; QEMU 7.2 lets it be
     * set (harmless there: M-mode traps are never delegated anyway). */
    li a2, 1 << CAUSE_ECALL_M
    csrs medeleg, a2
    csrr a1, medeleg
    CHECK_EQ a0, a1
#endif
    /* M-mode exceptions are never delegated */
    EXPECT_TRAP
    .word ILLEGAL_WORD
    CHECK_MREC REC_CAUSE, CAUSE_ILLEGAL
    CLEAR_MREC
    CLEAR_SREC
    ENTER_MODE PRV_U, u_deleg
u_deleg:
    EXPECT_TRAP
1:  .word ILLEGAL_WORD
    CHECK_STRAP CAUSE_ILLEGAL
    SREC a0, REC_EPC
    la a1, 1b
    CHECK_EQ a0, a1
    SREC a0, REC_TVAL
    CHECK a0, ILLEGAL_WORD
    SREC a0, REC_STATUS
    andi a0, a0, MSTATUS_SPP
    CHECK a0, 0                     /* came from U */
    EXPECT_TRAP
2:  ebreak
    CHECK_STRAP CAUSE_BREAKPOINT
    li s0, UNMAPPED2
    EXPECT_TRAP
3:  lw a0, 4(s0)
    CHECK_STRAP CAUSE_LOAD_ACCESS
    SREC a0, REC_TVAL
    CHECK a0, UNMAPPED2 + 4
    EXPECT_TRAP
4:  ecall
    CHECK_STRAP CAUSE_ECALL_U
    SREC a0, REC_EPC
    la a1, 4b
    CHECK_EQ a0, a1
    /* nothing reached M */
    CHECK_NO_MTRAP
    /* a non-delegated cause from U still goes to M */
    li s0, UNMAPPED2
    EXPECT_TRAP
    sw a0, 0(s0)
    CHECK_MREC REC_CAUSE, CAUSE_STORE_ACCESS
    CLEAR_MREC
    /* ecall from U is delegated now: leave U through an S-mode resume */
    la tp, s_deleg
    ecall
s_deleg:
    /* in S (the S handler resumed here with SPP := S) */
    CHECK_STRAP CAUSE_ECALL_U
    csrr a0, sstatus            /* legal in S, proves the privilege */
    /* a delegated cause raised in S is handled in S with SPP = S */
    EXPECT_TRAP
1:  .word ILLEGAL_WORD
    CHECK_STRAP CAUSE_ILLEGAL
    SREC a0, REC_STATUS
    andi a0, a0, MSTATUS_SPP
    CHECK a0, MSTATUS_SPP
    CHECK_NO_MTRAP
    /* ecall from S is not delegated */
    BACK_TO_M m_end
m_end:
    CHECK_MREC REC_CAUSE, CAUSE_ECALL_S
    csrw medeleg, zero
    PASS
