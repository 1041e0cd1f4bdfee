/* SPDX-License-Identifier: MIT */
/* Zcb (every instruction, reserved encodings next to them), Zacas
 * (amocas.w/d/q: success, failure, sign extension, rd = x0, odd register
 * pairs reserved, misaligned), Zawrs (wrs.nto/wrs.sto complete, with and
 * without a reservation) and Zihintntl (ntl.* and c.ntl.* change nothing).
 * binutils 2.40 knows neither Zcb nor Zacas nor Zihintntl: the macros
 * below encode them from the specifications. */
#define TEST_NAME "rv64ext"
#include "isa.h"
.option arch, +zawrs

/* Zcb; register operands are x8..x15 as 0..7 */
#define S0 0
#define S1 1
#define A0 2
#define A1 3
.macro C_LBU rd, rs1, off
    .hword 0x8000 | (\rs1 << 7) | ((\off & 1) << 6) | (((\off >> 1) & 1) << 5) | (\rd << 2)
.endm
.macro C_LHU rd, rs1, off
    .hword 0x8400 | (\rs1 << 7) | (((\off >> 1) & 1) << 5) | (\rd << 2)
.endm
.macro C_LH rd, rs1, off
    .hword 0x8440 | (\rs1 << 7) | (((\off >> 1) & 1) << 5) | (\rd << 2)
.endm
.macro C_SB rs2, rs1, off
    .hword 0x8800 | (\rs1 << 7) | ((\off & 1) << 6) | (((\off >> 1) & 1) << 5) | (\rs2 << 2)
.endm
.macro C_SH rs2, rs1, off
    .hword 0x8c00 | (\rs1 << 7) | (((\off >> 1) & 1) << 5) | (\rs2 << 2)
.endm
.macro C_UNARY rd, op
    .hword 0x9c61 | (\rd << 7) | (\op << 2)
.endm
.macro C_MUL rd, rs2
    .hword 0x9c41 | (\rd << 7) | (\rs2 << 2)
.endm
/* Zacas: amocas.{w,d,q} rd, rs2, (rs1) */
.macro AMOCAS_W rd, rs2, rs1
    .insn r 0x2f, 2, 0x14, \rd, \rs1, \rs2
.endm
.macro AMOCAS_D rd, rs2, rs1
    .insn r 0x2f, 3, 0x14, \rd, \rs1, \rs2
.endm
.macro AMOCAS_Q rd, rs2, rs1
    .insn r 0x2f, 4, 0x14, \rd, \rs1, \rs2
.endm
/* unary Zcb check: a0 = op(a), in place */
.macro TEST_CU op, res, a
    li a0, \a
    C_UNARY A0, \op
    CHECK a0, \res
.endm

TEST_MAIN
    la s0, cdata
    /* c.lbu / c.lhu / c.lh on 0x8180ff7f 0x12 ... */
    C_LBU A0, S0, 0
    CHECK a0, 0x7f
    C_LBU A0, S0, 1
    CHECK a0, 0xff
    C_LBU A0, S0, 3
    CHECK a0, 0x81
    C_LHU A0, S0, 0
    CHECK a0, 0xff7f
    C_LHU A0, S0, 2
    CHECK a0, 0x8180
    C_LH A0, S0, 2
    CHECK a0, 0xffffffffffff8180
    C_LH A0, S0, 0
    CHECK a0, 0xffffffffffffff7f
    li a1, 0x1234
    addi s1, s0, 4
    C_SB A1, S1, 1
    C_SH A1, S1, 2
    ld a0, 0(s0)
    CHECK a0, 0x123434008180ff7f
    /* c.zext.b 0, c.sext.b 1, c.zext.h 2, c.sext.h 3, c.zext.w 4, c.not 5 */
    TEST_CU 0, 0x80, 0xffffffffffffff80
    TEST_CU 1, 0xffffffffffffff80, 0x1280
    TEST_CU 1, 0x7f, 0xff7f
    TEST_CU 2, 0x8001, 0xffffffffffff8001
    TEST_CU 3, 0xffffffffffff8001, 0x8001
    TEST_CU 3, 0x7fff, 0x10007fff
    TEST_CU 4, 0x80000000, 0xffffffff80000000
    TEST_CU 5, 0xedcba9876543210f, 0x123456789abcdef0
    li a0, -7
    li a1, 6
    C_MUL A0, A1
    CHECK a0, -42
    /* reserved: c.sh with bit 6 set, c.unary 6 and 7 */
    li tp, 2
    .hword 0x8c40 | (S0 << 7) | (A1 << 2)
    CHECK_MTRAP CAUSE_ILLEGAL
    li tp, 2
    C_UNARY A0, 6
    CHECK_MTRAP CAUSE_ILLEGAL
    li tp, 2
    C_UNARY A0, 7
    CHECK_MTRAP CAUSE_ILLEGAL

    /* ---- Zacas ---- */
    la s1, adata
    li t0, 5
    sd t0, 0(s1)
    li a0, 5
    li a1, 9
    AMOCAS_W a0, a1, s1
    CHECK a0, 5
    ld t0, 0(s1)
    CHECK t0, 9
    li a0, 5
    li a1, 11
    AMOCAS_W a0, a1, s1
    CHECK a0, 9
    ld t0, 0(s1)
    CHECK t0, 9
    li t0, 0x80000000
    sw t0, 0(s1)
    li a0, 0x7777777780000000     /* only the low 32 bits compare */
    li a1, 1
    AMOCAS_W a0, a1, s1
    CHECK a0, 0xffffffff80000000
    lw t0, 0(s1)
    CHECK t0, 1
    li t0, -1
    sd t0, 8(s1)
    li a0, -1
    li a1, 0x123456789
    addi t1, s1, 8
    AMOCAS_D a0, a1, t1
    CHECK a0, -1
    ld t0, 8(s1)
    CHECK t0, 0x123456789
    li a0, 0
    AMOCAS_D a0, a1, t1
    CHECK a0, 0x123456789
    ld t0, 8(s1)
    CHECK t0, 0x123456789
    AMOCAS_D zero, zero, t1           /* compare with 0: fails, writes nothing */
    ld t0, 8(s1)
    CHECK t0, 0x123456789
    /* amocas.q at adata+16: (1, 2) -> (3, 4) */
    addi t1, s1, 16
    li t0, 1
    sd t0, 16(s1)
    li t0, 2
    sd t0, 24(s1)
    li a0, 1
    li a1, 2
    li a2, 3
    li a3, 4
    AMOCAS_Q a0, a2, t1
    CHECK a0, 1
    CHECK a1, 2
    ld t0, 16(s1)
    CHECK t0, 3
    ld t0, 24(s1)
    CHECK t0, 4
    li a0, 1
    li a1, 4                          /* low half matches, high does not */
    li a2, 7
    li a3, 7
    AMOCAS_Q a0, a2, t1
    CHECK a0, 3
    CHECK a1, 4
    ld t0, 16(s1)
    CHECK t0, 3
    sd zero, 16(s1)
    sd zero, 24(s1)
    li a0, 0x55
    AMOCAS_Q zero, a2, t1             /* rd = x0: compares with 0, writes no register */
    CHECK a0, 0x55
    ld t0, 16(s1)
    CHECK t0, 7
    ld t0, 24(s1)
    CHECK t0, 7
    li a0, 7
    li a1, 7
    AMOCAS_Q a0, zero, t1             /* rs2 = x0: swaps in zeros */
    ld t0, 24(s1)
    CHECK t0, 0
    EXPECT_TRAP
    AMOCAS_Q a1, a2, t1               /* odd rd: reserved */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    AMOCAS_Q a0, a3, t1               /* odd rs2: reserved */
    CHECK_MTRAP CAUSE_ILLEGAL
    addi t1, s1, 8
    EXPECT_TRAP
    AMOCAS_Q a0, a2, t1               /* 8-byte aligned only */
    CHECK_MTRAP CAUSE_MISALIGNED_STORE
    addi t1, s1, 2
    EXPECT_TRAP
    AMOCAS_W a0, a2, t1
    CHECK_MTRAP CAUSE_MISALIGNED_STORE

    /* ---- Zawrs ---- */
    wrs.nto
    wrs.sto
    lr.w t0, (s1)
    wrs.nto
    lr.w t0, (s1)
    wrs.sto
    CHECK_NO_MTRAP

    /* ---- Zihintntl: ntl.p1, ntl.pall, ntl.s1, ntl.all; c.ntl.* ---- */
    li a0, 3
    .insn r 0x33, 0, 0, x0, x0, x2
    .insn r 0x33, 0, 0, x0, x0, x3
    .insn r 0x33, 0, 0, x0, x0, x4
    .insn r 0x33, 0, 0, x0, x0, x5
    .hword 0x900a
    .hword 0x900e
    .hword 0x9012
    .hword 0x9016
    CHECK a0, 3
    CHECK_NO_MTRAP
    PASS

    .data
    .balign 16
cdata:
    .word 0x8180ff7f, 0
    .balign 16
adata:
    .fill 8, 8, 0
