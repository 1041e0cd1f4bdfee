/* SPDX-License-Identifier: MIT */
/* Zihpm + Sscofpmf: mhpmcounter3.. are 64-bit and writable, the ones past
 * the implemented 16 read as zero; mhpmevent keeps OF/MINH/SINH/UINH and
 * the event (VSINH/VUINH and bits 57:56 read zero); events 1 (cycles) and
 * 2 (instructions) count, exactly, gated by mcountinhibit and the mode
 * filter; an overflow sets OF, mip.LCOFIP and scountovf once (not again
 * while OF is set, never from a write); the LCOF interrupt is taken in M
 * (from S) and, delegated, in S (from U); sip.LCOFIP is S-writable when
 * delegated; scountovf/hpmcounter3 follow mcounteren/scounteren. */
#define TEST_NAME "pmu"
#include "isa.h"

#define SCOUNTOVF 0xda0
#define LCOFIP    (1 << 13)
#define OF        (1 << 63)
#define MINH      (1 << 62)
#define UINH      (1 << 60)

/* LCOFIP is set "eventually" (Sscofpmf): on wirt, when the counters are
 * brought up to date, which a counter CSR access does in both engines
 * (compiled code may run on past an overflow until then). */
.macro SYNC_COUNTERS
    csrr a5, mhpmcounter3
.endm

/* n nops */
.macro NOPS n
    .rept \n
    nop
    .endr
.endm

TEST_MAIN
    /* ---- counters and events as registers ---- */
    li a0, -1
    csrw mcountinhibit, a0
    csrr a1, mcountinhibit
#ifdef QEMU_QUIRKS
    li a2, 0x7fffd                     /* QEMU 7.2 keeps every bit written, TM too */
    and a1, a1, a2
#endif
    CHECK a1, 0x7fffd                  /* CY, IR, HPM3..18; TM is zero */
    csrw mhpmcounter3, a0
    csrr a1, mhpmcounter3
    CHECK a1, -1                       /* 64 bits, as OpenSBI probes */
    li a0, 1
    csrw mhpmcounter18, a0
    csrr a1, mhpmcounter18
    CHECK a1, 1
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 raises illegal instruction for counters past pmu-num; the
     * spec has all 29 exist, those not implemented read-only zero. */
    csrw mhpmcounter19, a0
    csrr a1, mhpmcounter19
    CHECK a1, 0
#endif
    li a0, -1
    csrw mhpmevent3, a0
    csrr a1, mhpmevent3
#ifndef QEMU_QUIRKS
    CHECK a1, 0xf0ffffffffffffff       /* QEMU 7.2 keeps VSINH/VUINH and 57:56 */
#endif
    csrw mhpmevent3, zero
    csrr a1, SCOUNTOVF
    CHECK a1, 0                        /* writing OF is not an overflow */

    /* ---- counting ---- */
    csrw mhpmcounter3, zero
    li a0, 2                           /* instructions */
    csrw mhpmevent3, a0
    li a0, 1                           /* cycles */
    csrw mhpmevent4, a0
    csrw mhpmcounter4, zero
    csrw mhpmevent5, zero              /* no event: never counts */
    csrw mhpmcounter5, zero
    csrw mcountinhibit, zero
    csrr a0, mhpmcounter3
    csrr a2, mhpmcounter4
    NOPS 10
    csrr a1, mhpmcounter3
    csrr a3, mhpmcounter4
    sub a1, a1, a0
    sub a3, a3, a2
#ifndef QEMU_QUIRKS
    CHECK a1, 12                       /* 2 csrr + 10 nops */
    CHECK a3, 12
#else
    CHECK_GTU a1, 0
#endif
    csrr a0, mhpmcounter5
    CHECK a0, 0
    /* a write is not counted on top of the written value */
    li a0, 1000
    csrw mhpmcounter3, a0
    csrr a1, mhpmcounter3
#ifndef QEMU_QUIRKS
    CHECK a1, 1000
#endif
#ifndef QEMU_QUIRKS
    /* mcountinhibit stops it (QEMU 7.2 derives the counters from host
     * ticks and does not filter them by mcountinhibit or by mode) */
    li a0, 1 << 3
    csrw mcountinhibit, a0
    csrr a0, mhpmcounter3
    NOPS 5
    csrr a1, mhpmcounter3
    CHECK_EQ a0, a1
    csrw mcountinhibit, zero
    /* MINH: not in M-mode */
    li a0, MINH | 2
    csrw mhpmevent3, a0
    csrr a0, mhpmcounter3
    NOPS 5
    csrr a1, mhpmcounter3
    CHECK_EQ a0, a1
    /* UINH does not stop M-mode counting */
    li a0, UINH | 2
    csrw mhpmevent3, a0
    csrr a0, mhpmcounter3
    NOPS 5
    csrr a1, mhpmcounter3
    sub a1, a1, a0
#ifndef QEMU_QUIRKS
    CHECK a1, 6
#endif

#endif
#ifdef QEMU_QUIRKS
    /* QEMU 7.2 only overflows instruction counters with -icount: the rest
     * is checked on wirt alone. */
    PASS
#endif

    /* ---- overflow without an interrupt (LCOFIE clear) ---- */
    csrw mie, zero
    li a0, -3
    csrw mhpmcounter3, a0
    li a0, 2
    csrw mhpmevent3, a0                /* OF clear */
    NOPS 10
    SYNC_COUNTERS
    csrr a0, mip
    li a1, LCOFIP
    and a0, a0, a1
    CHECK a0, LCOFIP
    csrr a0, mhpmevent3
    srli a0, a0, 63
    CHECK a0, 1
    csrr a0, SCOUNTOVF
    CHECK a0, 1 << 3
    csrr a0, mhpmcounter3
    CHECK_GTU a0, 5                    /* wrapped and kept counting */
    li a1, 100
    bltu a0, a1, 1f
    j fail
1:  /* OF still set: another wrap raises nothing */
    csrc mip, a1
    li a1, LCOFIP
    csrc mip, a1
    SYNC_COUNTERS
    csrr a0, mip
    and a0, a0, a1
    CHECK a0, 0
    li a0, -3
    csrw mhpmcounter3, a0
    NOPS 10
    SYNC_COUNTERS
    csrr a0, mip
    and a0, a0, a1
    CHECK a0, 0
    /* no overflow from writing a counter */
    li a0, 2
    csrw mhpmevent3, a0
    li a0, -1
    csrw mhpmcounter3, a0
    csrw mhpmcounter3, zero
    csrr a0, mhpmevent3
    CHECK a0, 2
    csrw mhpmevent3, zero

    /* ---- LCOFI taken in M from S (M interrupts are on below M) ---- */
    csrw mideleg, zero
    li a0, LCOFIP
    csrw mie, a0
    csrci mstatus, MSTATUS_MIE
    li a0, MSTATUS_MPIE
    csrc mstatus, a0                   /* MIE stays 0 when the trap returns */
    li a0, -20
    csrw mhpmcounter4, a0
    li a0, 2
    csrw mhpmevent4, a0
    la tp, m_lcof
    ENTER_MODE PRV_S, s_spin
s_spin:
    j s_spin
m_lcof:
    CHECK_MTRAP (1 << 63) | 13
    csrr a0, SCOUNTOVF
    CHECK a0, 1 << 4
    li a0, LCOFIP
    csrc mip, a0

    /* ---- delegated: taken in S from U, cleared through sip ---- */
    la t0, s_trap
    csrw stvec, t0
    li a0, LCOFIP
    csrw mideleg, a0
    csrr a1, mideleg
    CHECK a1, LCOFIP
    csrw sie, a0
    csrr a1, sie
    CHECK a1, LCOFIP
    li a0, 1 << 4
    csrw mcounteren, a0
    csrw scounteren, a0
    li a0, -20
    csrw mhpmcounter4, a0
    li a0, 2
    csrw mhpmevent4, a0                /* OF clear again */
    la tp, s_lcof
    ENTER_MODE PRV_U, u_spin
u_spin:
    csrr a3, hpmcounter4               /* allowed by both counter-enables */
    j u_spin
s_lcof:
    CHECK_STRAP (1 << 63) | 13
    csrr a0, SCOUNTOVF
    CHECK a0, 1 << 4                   /* mcounteren bit 4 is set */
    csrr a0, sip
    li a1, LCOFIP
    CHECK a0, LCOFIP
    csrc sip, a1
    csrr a0, sip
    CHECK a0, 0
    BACK_TO_M m_back
m_back:
    csrw mcounteren, zero
    la tp, m_back2
    ENTER_MODE PRV_S, s_ovf_hidden
s_ovf_hidden:
    csrr a0, SCOUNTOVF
    CHECK a0, 0                        /* hidden by mcounteren */
    BACK_TO_M m_back2
m_back2:
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    li a0, 1 << 4
    csrw mcounteren, a0
    csrw scounteren, zero
    EXPECT_TRAP_AT m_back3
    ENTER_MODE PRV_U, u_denied
u_denied:
    csrr a0, hpmcounter4               /* scounteren bit 4 clear: illegal */
    j fail
m_back3:
    CHECK_MTRAP CAUSE_ILLEGAL
    PASS
