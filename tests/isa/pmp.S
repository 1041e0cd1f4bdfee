/* SPDX-License-Identifier: MIT */
/* PMP enforcement: S-mode loads/stores against NAPOT and TOR entries
 * (store to a read-only region -> store access fault, tval = address),
 * the first matching entry decides, a pmpcfg write takes effect at once
 * (no stale TLB entry), M-mode ignores unlocked entries, a locked entry
 * binds M-mode too and its pmpcfg/pmpaddr ignore writes. */
#define TEST_NAME "pmp"
#include "isa.h"

#define NAPOT_R   0x19
#define TOR_RW    0x0b
#define TOR_R     0x09
#define ALL_RWX   0x1f
#define LOCKED    0x80

/* after BACK_TO_M: forget its ecall */
.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    la s0, prot
    /* entry 0: NAPOT 4 KiB over prot, R; entry 1: everything, RWX */
    srli t0, s0, 2
    ori t0, t0, (4096 / 8 - 1)     /* NAPOT: base | (size/8 - 1) */
    csrw pmpaddr0, t0
    li t0, -1
    csrw pmpaddr1, t0
    li t0, NAPOT_R | (ALL_RWX << 8)
    csrw pmpcfg0, t0
    li t1, 0x55
    sd t1, 0(s0)                    /* M: unlocked entries do not apply */
    ENTER_MODE PRV_S, s1
s1:
    ld a0, 0(s0)
    CHECK a0, 0x55
    EXPECT_TRAP
    sd zero, 8(s0)
    CHECK_MTRAP CAUSE_STORE_ACCESS
    MREC a1, REC_TVAL
    addi a2, s0, 8
    CHECK_EQ a1, a2
    li t2, 4096
    add t2, s0, t2
    ld a0, 0(t2)                    /* the next page: entry 1 */
    sd a0, 0(t2)
    CHECK_NO_MTRAP
    BACK_TO_M m2

    /* TOR: entry 0 off (its address is the base), entry 1 TOR RW */
m2:
    CLEAR_MREC
    srli t0, s0, 2
    csrw pmpaddr0, t0
    addi t0, s0, 2047
    addi t0, t0, 2047
    addi t0, t0, 2
    srli t0, t0, 2
    csrw pmpaddr1, t0
    li t0, -1
    csrw pmpaddr2, t0
    li t0, (TOR_RW << 8) | (ALL_RWX << 16)
    csrw pmpcfg0, t0
    ENTER_MODE PRV_S, s2
s2:
    li t1, 0x66
    sd t1, 16(s0)                   /* allowed, and now in the TLB */
    CHECK_NO_MTRAP
    BACK_TO_M m3
m3:
    CLEAR_MREC
    li t0, (TOR_R << 8) | (ALL_RWX << 16)
    csrw pmpcfg0, t0                /* read-only from now on */
    ENTER_MODE PRV_S, s3
s3:
    ld a0, 16(s0)
    CHECK a0, 0x66
    EXPECT_TRAP
    sd zero, 16(s0)
    CHECK_MTRAP CAUSE_STORE_ACCESS
    ld a0, 16(s0)
    CHECK a0, 0x66
    BACK_TO_M m4

    /* locked: binds M, ignores writes */
m4:
    CLEAR_MREC
    li t0, ((TOR_R | LOCKED) << 8) | (ALL_RWX << 16)
    csrw pmpcfg0, t0
    ld a0, 16(s0)
    CHECK a0, 0x66
    EXPECT_TRAP
    sd zero, 16(s0)
    CHECK_MTRAP CAUSE_STORE_ACCESS
    li t0, (TOR_RW << 8) | (ALL_RWX << 16)
    csrw pmpcfg0, t0
    csrr a0, pmpcfg0
    srli a0, a0, 8
    andi a0, a0, 0xff
    CHECK a0, TOR_R | LOCKED
    csrr a1, pmpaddr1
    csrw pmpaddr1, zero
    csrr a0, pmpaddr1
    CHECK_EQ a0, a1
    csrr a1, pmpaddr0               /* the base of a locked TOR entry is locked too */
    csrw pmpaddr0, zero
    csrr a0, pmpaddr0
    CHECK_EQ a0, a1
    PASS

    .data
    .balign 4096
prot:
    .fill 1024, 8, 0
    .fill 512, 8, 0                 /* the page after it */
