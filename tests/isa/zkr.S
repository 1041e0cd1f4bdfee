/* SPDX-License-Identifier: MIT */
/* Zkr: the seed CSR returns ES16 with changing entropy, only through a
 * write (csrrs/csrr is illegal), from S/U only as mseccfg.SSEED/USEED
 * allow; mseccfg keeps just those bits (Smstateen: smstateen.S). */
#define TEST_NAME "zkr"
#include "isa.h"
.option arch, +zkr
#define CSR_SEED      0x015
#define CSR_SENVCFG   0x10a
#define CSR_MSTATEEN0 0x30c
#define CSR_MSECCFG   0x747

.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    csrrw a0, CSR_SEED, zero
    srli a1, a0, 30
    CHECK a1, 2                     /* ES16 */
    slli a1, a0, 34
    srli a1, a1, 50
    CHECK a1, 0                     /* bits 29:16 reserved zero */
    /* four reads are not all the same */
    csrrw s1, CSR_SEED, zero
    csrrw s2, CSR_SEED, zero
    csrrw s3, CSR_SEED, zero
    xor t0, a0, s1
    xor t1, a0, s2
    or t0, t0, t1
    xor t1, a0, s3
    or t0, t0, t1
    CHECK_NE t0, 0
    EXPECT_TRAP
    csrr a0, CSR_SEED               /* read-only access */
    CHECK_MTRAP CAUSE_ILLEGAL
    li t0, -1
    csrw CSR_MSECCFG, t0
    csrr a0, CSR_MSECCFG
    CHECK a0, 0x300
    csrw CSR_MSECCFG, zero
    li t0, 1 << 62                  /* mstateen0.ENVCFG: senvcfg open to S */
    csrw CSR_MSTATEEN0, t0

    ENTER_MODE PRV_S, s_off
s_off:
    EXPECT_TRAP
    csrrw a0, CSR_SEED, zero
    CHECK_MTRAP CAUSE_ILLEGAL
    csrr a0, CSR_SENVCFG
    CHECK_NO_MTRAP
    BACK_TO_M m_on
m_on:
    CLEAR_MREC
    li t0, 0x200                    /* SSEED */
    csrw CSR_MSECCFG, t0
    ENTER_MODE PRV_S, s_on
s_on:
    csrrw a0, CSR_SEED, zero
    srli a1, a0, 30
    CHECK a1, 2
    CHECK_NO_MTRAP
    BACK_TO_M m_u
m_u:
    CLEAR_MREC
    ENTER_MODE PRV_U, u_off         /* USEED clear */
u_off:
    EXPECT_TRAP
    csrrw a0, CSR_SEED, zero
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M m_u2
m_u2:
    CLEAR_MREC
    li t0, 0x100                    /* USEED */
    csrw CSR_MSECCFG, t0
    ENTER_MODE PRV_U, u_on
u_on:
    csrrw a0, CSR_SEED, zero
    srli a1, a0, 30
    CHECK a1, 2
    CHECK_NO_MTRAP
    BACK_TO_M done
done:
    PASS
