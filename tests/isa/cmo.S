/* SPDX-License-Identifier: MIT */
/* Zicbom, Zicboz, Zicbop, Zihintpause: cbo.zero zeroes exactly the 64-byte
 * block holding its (unaligned) address; a fault reports rs1 in tval;
 * cbo.clean/flush/inval and the prefetches change nothing; the envcfg
 * enables (menvcfg for S and U, senvcfg for U) make cbo.* illegal when
 * clear, prefetches never trap; CBIE's reserved value 10 reads as 00. */
#define TEST_NAME "cmo"
#include "isa.h"
.option arch, +zicbom, +zicboz, +zicbop, +zihintpause
#define CSR_MENVCFG 0x30a
#define CSR_SENVCFG 0x10a
#define UNMAPPED 0x50000000

/* buf[0..24) dwords = -1 */
.macro FILL
    la s0, buf
    li t0, -1
    li t1, 24
    mv t2, s0
1:  sd t0, 0(t2)
    addi t2, t2, 8
    addi t1, t1, -1
    bnez t1, 1b
.endm

/* after BACK_TO_M: forget its ecall */
.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    FILL
    addi a0, s0, 64 + 13
    cbo.zero (a0)
    ld a1, 56(s0)
    CHECK a1, -1
    ld a1, 64(s0)
    CHECK a1, 0
    ld a1, 96(s0)
    CHECK a1, 0
    ld a1, 120(s0)
    CHECK a1, 0
    ld a1, 128(s0)
    CHECK a1, -1
    cbo.clean (s0)
    cbo.flush (s0)
    cbo.inval (s0)
    prefetch.r 0(s0)
    prefetch.w 64(s0)
    prefetch.i 0(s0)
    prefetch.r 0(zero)
    pause
    ld a1, 0(s0)
    CHECK a1, -1
    CHECK_NO_MTRAP

    /* a fault: tval is rs1 */
    li a0, UNMAPPED + 0x45
    EXPECT_TRAP
    cbo.zero (a0)
    CHECK_MTRAP CAUSE_STORE_ACCESS
    MREC a1, REC_TVAL
    CHECK a1, UNMAPPED + 0x45

    /* envcfg fields */
    li t0, 0xf0
    csrw CSR_MENVCFG, t0
    csrr a0, CSR_MENVCFG
    andi a0, a0, 0xf0
    CHECK a0, 0xf0
    li t0, 0xe0
    csrw CSR_MENVCFG, t0
    csrr a0, CSR_MENVCFG
    andi a0, a0, 0xf0
    CHECK a0, 0xc0
    li t0, 0xd0
    csrw CSR_SENVCFG, t0
    csrr a0, CSR_SENVCFG
    andi a0, a0, 0xf0
    CHECK a0, 0xd0

    /* S-mode, menvcfg clear: every cbo.* is illegal */
    csrw CSR_MENVCFG, zero
    ENTER_MODE PRV_S, s_off
s_off:
    EXPECT_TRAP
    cbo.zero (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    cbo.clean (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    cbo.flush (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    cbo.inval (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    prefetch.w 0(s0)
    CHECK_NO_MTRAP
    ld a1, 0(s0)
    CHECK a1, -1
    BACK_TO_M m_on

    /* S-mode, menvcfg set (CBIE = 01: inval as flush): all allowed */
m_on:
    CLEAR_MREC
    li t0, 0xd0
    csrw CSR_MENVCFG, t0
    csrw CSR_SENVCFG, zero
    ENTER_MODE PRV_S, s_on
s_on:
    cbo.zero (s0)
    cbo.clean (s0)
    cbo.flush (s0)
    cbo.inval (s0)
    CHECK_NO_MTRAP
    ld a1, 0(s0)
    CHECK a1, 0
    ld a1, 64(s0)
    CHECK a1, 0
    BACK_TO_M m_u

    /* U-mode: menvcfg set but senvcfg clear: illegal */
m_u:
    CLEAR_MREC
    ENTER_MODE PRV_U, u_off
u_off:
    EXPECT_TRAP
    cbo.zero (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    cbo.clean (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    cbo.inval (s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M m_u2

    /* U-mode: both set */
m_u2:
    CLEAR_MREC
    FILL
    li t0, 0xd0
    csrw CSR_SENVCFG, t0
    addi s1, s0, 128
    ENTER_MODE PRV_U, u_on
u_on:
    cbo.zero (s1)
    cbo.flush (s1)
    cbo.inval (s1)
    CHECK_NO_MTRAP
    ld a1, 128(s0)
    CHECK a1, 0
    ld a1, 184(s0)
    CHECK a1, 0
    ld a1, 120(s0)
    CHECK a1, -1
    BACK_TO_M done
done:
    CLEAR_MREC
    PASS

    .data
    .balign 64
buf:
    .fill 24, 8, 0
