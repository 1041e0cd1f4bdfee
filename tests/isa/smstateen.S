/* SPDX-License-Identifier: MIT */
/* Smstateen: mstateen0-3 are zero from reset; mstateen0 keeps SE0 and
 * ENVCFG, mstateen1-3 only SE; below M, sstateenN needs mstateenN.SE and
 * senvcfg needs mstateen0.ENVCFG (else illegal instruction); sstateen0-3
 * read zero (nothing they gate exists); M-mode reaches everything. */
#define TEST_NAME "smstateen"
#include "isa.h"
#define CSR_SENVCFG   0x10a
#define CSR_SSTATEEN0 0x10c
#define CSR_SSTATEEN3 0x10f
#define CSR_MSTATEEN0 0x30c
#define CSR_MSTATEEN1 0x30d
#define CSR_MSTATEEN3 0x30f
#define SE     (1 << 63)
#define ENVCFG (1 << 62)

.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    csrr a0, CSR_MSTATEEN0
    CHECK a0, 0                     /* reset value */
    csrr a0, CSR_MSTATEEN3
    CHECK a0, 0
    li t0, -1
    csrw CSR_MSTATEEN0, t0
    csrr a0, CSR_MSTATEEN0
    CHECK a0, SE | ENVCFG
    csrw CSR_MSTATEEN1, t0
    csrr a0, CSR_MSTATEEN1
    CHECK a0, SE
    csrw CSR_MSTATEEN1, zero
    csrw CSR_MSTATEEN0, zero
    csrr a0, CSR_SENVCFG            /* M-mode: never gated */
    csrr a0, CSR_SSTATEEN0
    CHECK_NO_MTRAP

    ENTER_MODE PRV_S, s_off
s_off:
    EXPECT_TRAP
    csrr a0, CSR_SSTATEEN0
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrw CSR_SENVCFG, zero
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, CSR_SSTATEEN3
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M m_on
m_on:
    CLEAR_MREC
    li t0, SE | ENVCFG
    csrw CSR_MSTATEEN0, t0
    ENTER_MODE PRV_S, s_on
s_on:
    li a0, 5
    csrr a0, CSR_SSTATEEN0
    CHECK a0, 0
    li t0, -1
    csrw CSR_SSTATEEN0, t0
    csrr a0, CSR_SSTATEEN0
    CHECK a0, 0
    csrr a0, CSR_SENVCFG
    csrw CSR_SENVCFG, a0
    CHECK_NO_MTRAP
    EXPECT_TRAP
    csrr a0, CSR_SSTATEEN3          /* mstateen3.SE still clear */
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M m_env
m_env:
    CLEAR_MREC
    li t0, SE                       /* sstateen0 open, senvcfg closed */
    csrw CSR_MSTATEEN0, t0
    ENTER_MODE PRV_S, s_env
s_env:
    csrr a0, CSR_SSTATEEN0
    CHECK_NO_MTRAP
    EXPECT_TRAP
    csrr a0, CSR_SENVCFG
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M m_done
m_done:
    PASS
