/* SPDX-License-Identifier: MIT */
/* PMP entries smaller than a page (NA4): checked access by access, never
 * through a TLB entry made by an allowed access elsewhere in the page.
 * S-mode stores next to a read-only NA4 word work (also in a loop long
 * enough to be compiled), a store, an AMO and a misaligned store touching
 * the word fault with tval = the address, loads of it work but a load
 * only partly inside it faults; a fetch in a
 * page whose second instruction is in an NA4 entry without X faults on
 * that instruction after running the first.  The M-mode handler's
 * accesses are not affected (M ignores unlocked entries). */
#define TEST_NAME "pmp_subpage"
#include "isa.h"

#define NA4_R     0x11
#define NAPOT_RWX 0x1f

.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    la s0, prot
    /* entry 0: NA4 over prot + 8, R; entry 1: NA4 over code + 4, R (no X);
     * entry 2: everything, RWX */
    addi t0, s0, 8
    srli t0, t0, 2
    csrw pmpaddr0, t0
    la t0, code
    addi t0, t0, 4
    srli t0, t0, 2
    csrw pmpaddr1, t0
    li t0, -1
    csrw pmpaddr2, t0
    li t0, NA4_R | (NA4_R << 8) | (NAPOT_RWX << 16)
    csrw pmpcfg0, t0
    li t1, 0x77
    sw t1, 8(s0)                    /* M: unlocked entries do not apply */
    ENTER_MODE PRV_S, s1
s1:
    li t1, 0x55
    sd t1, 0(s0)                    /* allowed: entry 2 */
    sd t1, 16(s0)
    lwu a0, 8(s0)                   /* the NA4 word is readable */
    CHECK a0, 0x77
    CHECK_NO_MTRAP
    EXPECT_TRAP
    sw zero, 8(s0)                  /* not writable, though its page was just written */
    CHECK_MTRAP CAUSE_STORE_ACCESS
    MREC a1, REC_TVAL
    addi a2, s0, 8
    CHECK_EQ a1, a2
    li a3, 2
    addi a2, s0, 8
    EXPECT_TRAP
    amoadd.w a4, a3, (a2)           /* an AMO writes: no */
    CHECK_MTRAP CAUSE_STORE_ACCESS
    EXPECT_TRAP
    sw zero, 6(s0)                  /* misaligned, half in the word: no */
    CHECK_MTRAP CAUSE_STORE_ACCESS
    /* a loop of allowed stores, compiled, then the word again */
    li a5, 200
1:  sd a5, 0(s0)
    sd a5, 16(s0)
    addi a5, a5, -1
    bnez a5, 1b
    EXPECT_TRAP
    sw zero, 8(s0)
    CHECK_MTRAP CAUSE_STORE_ACCESS
    EXPECT_TRAP
    sd zero, 8(s0)                  /* 8 bytes, 4 in the word: partly inside fails */
    CHECK_MTRAP CAUSE_STORE_ACCESS
    lwu a0, 8(s0)
    CHECK a0, 0x77                  /* nothing got through */
    CHECK_NO_MTRAP
    EXPECT_TRAP
    ld a0, 4(s0)                    /* partly in the word (first match): no */
    CHECK_MTRAP CAUSE_LOAD_ACCESS

#ifndef QEMU_QUIRKS
    /* fetch: code's first instruction runs, its second is not executable
     * (QEMU 7.2 checks a fetch from its address to the end of the page, so
     * it faults on the first: left out of its build) */
    li a0, 0
    EXPECT_TRAP_AT after_code
    jal ra, code
after_code:
    CHECK a0, 1
    CHECK_MTRAP CAUSE_FETCH_ACCESS
    MREC a1, REC_TVAL
    la a2, code
    addi a2, a2, 4
    CHECK_EQ a1, a2
#endif
    BACK_TO_M m_done
m_done:
    CLEAR_MREC
    /* with entry 1 off, code runs whole */
    li t0, NA4_R | (NAPOT_RWX << 16)
    csrw pmpcfg0, t0
    ENTER_MODE PRV_S, s2
s2:
    li a0, 0
    jal ra, code
    CHECK a0, 2
    CHECK_NO_MTRAP
    BACK_TO_M m_end
m_end:
    CLEAR_MREC
    PASS

    .text
    .balign 4096
code:
    li a0, 1
    li a0, 2
    ret

    .data
    .balign 4096
prot:
    .fill 512, 8, 0
