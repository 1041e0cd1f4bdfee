/* SPDX-License-Identifier: MIT */
/* Zfa: fli.{s,d,h} (all 32 constants of each), fminm/fmaxm (NaN wins),
 * fround/froundnx in every rounding mode, fcvtmod.w.d (modular, flags of
 * fcvt.w.d), fleq/fltq (quiet), and the reserved encodings around them.
 * binutils 2.40 does not know Zfa and QEMU 7.2 does not implement it: the
 * instructions are .insn-encoded and the expected values come from the
 * spec's definitions (the fli table is checked against it by a script in
 * the commit that added this test). */
#define TEST_NAME "zfa"
#include "isa.h"
#include "fp.h"

.option arch, +zfh

/* fmt: 0 S, 1 D, 2 H (the low bits of funct7) */
.macro FLI rd, idx, fmt
    .insn r 0x53, 0, 0x78 + \fmt, \rd, x\idx, x1
.endm
.macro FLI_CHECK idx, s, d, h
    FLI fa0, \idx, 0
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff00000000 | \s
    FLI fa0, \idx, 1
    fmv.x.d a0, fa0
    CHECK_MORE a0, \d
    FLI fa0, \idx, 2
    fmv.x.d a0, fa0
    CHECK_MORE a0, 0xffffffffffff0000 | \h
.endm
/* fminm (f3 2) / fmaxm (f3 3) */
.macro fminm_d rd, a, b
    .insn r 0x53, 2, 0x15, \rd, \a, \b
.endm
.macro fmaxm_d rd, a, b
    .insn r 0x53, 3, 0x15, \rd, \a, \b
.endm
.macro fminm_s rd, a, b
    .insn r 0x53, 2, 0x14, \rd, \a, \b
.endm
.macro fmaxm_h rd, a, b
    .insn r 0x53, 3, 0x16, \rd, \a, \b
.endm
/* fround (rs2 4) / froundnx (rs2 5), rm in funct3 */
.macro fround_d rd, a, rm
    .insn r 0x53, \rm, 0x21, \rd, \a, x4
.endm
.macro froundnx_d rd, a, rm
    .insn r 0x53, \rm, 0x21, \rd, \a, x5
.endm
.macro fround_s rd, a, rm
    .insn r 0x53, \rm, 0x20, \rd, \a, x4
.endm
.macro froundnx_h rd, a, rm
    .insn r 0x53, \rm, 0x22, \rd, \a, x5
.endm
.macro fcvtmod_w_d rd, a
    .insn r 0x53, 1, 0x61, \rd, \a, x8
.endm
.macro fleq_d rd, a, b
    .insn r 0x53, 4, 0x51, \rd, \a, \b
.endm
.macro fltq_d rd, a, b
    .insn r 0x53, 5, 0x51, \rd, \a, \b
.endm
.macro fltq_s rd, a, b
    .insn r 0x53, 5, 0x50, \rd, \a, \b
.endm
.macro fleq_h rd, a, b
    .insn r 0x53, 4, 0x52, \rd, \a, \b
.endm

.equ RNE, 0
.equ RTZ, 1
.equ RDN, 2
.equ RUP, 3
.equ RMM, 4

TEST_MAIN
    csrwi fcsr, 0
    /* ---- fli: no flags ever ---- */
    FLI_CHECK 0, 0xbf800000, 0xbff0000000000000, 0xbc00
    FLI_CHECK 1, 0x800000, 0x10000000000000, 0x400
    FLI_CHECK 2, 0x37800000, 0x3ef0000000000000, 0x100
    FLI_CHECK 3, 0x38000000, 0x3f00000000000000, 0x200
    FLI_CHECK 4, 0x3b800000, 0x3f70000000000000, 0x1c00
    FLI_CHECK 5, 0x3c000000, 0x3f80000000000000, 0x2000
    FLI_CHECK 6, 0x3d800000, 0x3fb0000000000000, 0x2c00
    FLI_CHECK 7, 0x3e000000, 0x3fc0000000000000, 0x3000
    FLI_CHECK 8, 0x3e800000, 0x3fd0000000000000, 0x3400
    FLI_CHECK 9, 0x3ea00000, 0x3fd4000000000000, 0x3500
    FLI_CHECK 10, 0x3ec00000, 0x3fd8000000000000, 0x3600
    FLI_CHECK 11, 0x3ee00000, 0x3fdc000000000000, 0x3700
    FLI_CHECK 12, 0x3f000000, 0x3fe0000000000000, 0x3800
    FLI_CHECK 13, 0x3f200000, 0x3fe4000000000000, 0x3900
    FLI_CHECK 14, 0x3f400000, 0x3fe8000000000000, 0x3a00
    FLI_CHECK 15, 0x3f600000, 0x3fec000000000000, 0x3b00
    FLI_CHECK 16, 0x3f800000, 0x3ff0000000000000, 0x3c00
    FLI_CHECK 17, 0x3fa00000, 0x3ff4000000000000, 0x3d00
    FLI_CHECK 18, 0x3fc00000, 0x3ff8000000000000, 0x3e00
    FLI_CHECK 19, 0x3fe00000, 0x3ffc000000000000, 0x3f00
    FLI_CHECK 20, 0x40000000, 0x4000000000000000, 0x4000
    FLI_CHECK 21, 0x40200000, 0x4004000000000000, 0x4100
    FLI_CHECK 22, 0x40400000, 0x4008000000000000, 0x4200
    FLI_CHECK 23, 0x40800000, 0x4010000000000000, 0x4400
    FLI_CHECK 24, 0x41000000, 0x4020000000000000, 0x4800
    FLI_CHECK 25, 0x41800000, 0x4030000000000000, 0x4c00
    FLI_CHECK 26, 0x43000000, 0x4060000000000000, 0x5800
    FLI_CHECK 27, 0x43800000, 0x4070000000000000, 0x5c00
    FLI_CHECK 28, 0x47000000, 0x40e0000000000000, 0x7800
    FLI_CHECK 29, 0x47800000, 0x40f0000000000000, 0x7c00
    FLI_CHECK 30, 0x7f800000, 0x7ff0000000000000, 0x7c00
    FLI_CHECK 31, 0x7fc00000, 0x7ff8000000000000, 0x7e00
    frflags a0
    CHECK a0, 0

    /* ---- fminm / fmaxm ---- */
    TD "fminm_d fa0, fa1, fa2", D_QNAN, D_ONE, D_QNAN
    TD "fmaxm_d fa0, fa1, fa2", D_QNAN, 0x7ff8000000000055, D_ONE
    TD "fminm_d fa0, fa1, fa2", D_QNAN, D_SNAN, D_ONE, 0, NV
    TD "fminm_d fa0, fa1, fa2", D_NZ, D_PZ, D_NZ
    TD "fmaxm_d fa0, fa1, fa2", D_PZ, D_NZ, D_PZ
    TD "fmaxm_d fa0, fa1, fa2", D_TWO, D_ONE, D_TWO
    TD "fminm_d fa0, fa1, fa2", D_NINF, D_NINF, D_MAX
    TS "fminm_s fa0, fa1, fa2", S_QNAN, S_QNAN, S_ONE
    TS "fminm_s fa0, fa1, fa2", S_MONE, S_ONE, S_MONE

    /* ---- fround / froundnx ---- */
    TD "fround_d fa0, fa1, RNE", D_TWO, 0x4004000000000000          /* 2.5 */
    TD "froundnx_d fa0, fa1, RNE", D_TWO, 0x4004000000000000, 0, 0, NX
    TD "fround_d fa0, fa1, RMM", D_THREE, 0x4004000000000000
    TD "fround_d fa0, fa1, RUP", D_THREE, 0x4004000000000000
    TD "fround_d fa0, fa1, RDN", 0xc008000000000000, 0xc004000000000000  /* -2.5 */
    TD "fround_d fa0, fa1, RUP", 0xc000000000000000, 0xc004000000000000
    TD "fround_d fa0, fa1, RTZ", D_NZ, 0xbfe0000000000000           /* -0.5 -> -0 */
    TD "froundnx_d fa0, fa1, RTZ", D_NZ, 0xbfe0000000000000, 0, 0, NX
    TD "froundnx_d fa0, fa1, RUP", D_ONE, 0x0000000000000001, 0, 0, NX
    TD "froundnx_d fa0, fa1, RNE", 0x4340000000000001, 0x4340000000000001  /* 2^54+2 */
    TD "froundnx_d fa0, fa1, RNE", D_THREE, D_THREE
    TD "froundnx_d fa0, fa1, RNE", D_NINF, D_NINF
    TD "froundnx_d fa0, fa1, RNE", D_NZ, D_NZ
    TD "froundnx_d fa0, fa1, RNE", D_QNAN, D_SNAN, 0, 0, NV
    TD "froundnx_d fa0, fa1, RNE", D_QNAN, 0x7ff8000000000055
    TD "froundnx_d fa0, fa1, RNE", 0x4330000000000000, 0x432fffffffffffff, 0, 0, NX  /* 2^52-0.5 */
    TD "fround_d fa0, fa1, RDN", 0x432ffffffffffffe, 0x432fffffffffffff
    TS "fround_s fa0, fa1, RNE", S_TWO, S_ONE | 0x400000                  /* 1.5 */
    TS "fround_s fa0, fa1, RDN", 0, 0x3e99999a                            /* 0.3 */
    TS "fround_s fa0, fa1, RDN", S_MONE, 0xbe99999a
    /* ---- fcvtmod.w.d ---- */
    TXD "fcvtmod_w_d a0, fa1", 3, 0x400d99999999999a, 0, NX               /* 3.7 */
    TXD "fcvtmod_w_d a0, fa1", -3, 0xc00d99999999999a, 0, NX
    TXD "fcvtmod_w_d a0, fa1", 5, 0x41f0000000500000, 0, NV               /* 2^32+5 */
    TXD "fcvtmod_w_d a0, fa1", 0xffffffff80000000, 0x41e0000000000000, 0, NV  /* 2^31 */
    TXD "fcvtmod_w_d a0, fa1", 0xffffffff80000000, 0xc1e0000000000000     /* -2^31 */
    TXD "fcvtmod_w_d a0, fa1", 0x63100000, 0x4415af1d78b58c40, 0, NV      /* 1e20 */
    TXD "fcvtmod_w_d a0, fa1", 0, 0x44f0000000000000, 0, NV               /* 2^80 */
    TXD "fcvtmod_w_d a0, fa1", 0, D_INF, 0, NV
    TXD "fcvtmod_w_d a0, fa1", 0, D_QNAN, 0, NV
    TXD "fcvtmod_w_d a0, fa1", 0, 0x0000000000000001, 0, NX
    TXD "fcvtmod_w_d a0, fa1", -7, 0xc01c000000000000                     /* -7 */
    /* ---- fleq / fltq: quiet NaNs raise nothing ---- */
    TXD "fleq_d a0, fa1, fa2", 0, D_QNAN, D_ONE
    TXD "fltq_d a0, fa1, fa2", 0, D_ONE, D_QNAN
    TXD "fleq_d a0, fa1, fa2", 0, D_SNAN, D_ONE, NV
    TXD "fltq_d a0, fa1, fa2", 1, D_ONE, D_TWO
    TXD "fltq_d a0, fa1, fa2", 0, D_TWO, D_TWO
    TXD "fleq_d a0, fa1, fa2", 1, D_TWO, D_TWO
    TXD "fleq_d a0, fa1, fa2", 1, D_NZ, D_PZ
    TXS "fltq_s a0, fa1, fa2", 0, S_QNAN, S_ONE
    TXS "fltq_s a0, fa1, fa2", 1, S_MONE, S_ONE
    /* ---- half forms ---- */
    li t5, 0x4100                        /* 2.5 */
    fmv.h.x fa1, t5
    csrwi fflags, 0
    froundnx_h fa0, fa1, RNE
    fmv.x.h a0, fa0
    CHECK a0, 0x4000
    FLAGS_ARE NX
    li t5, 0x7e00
    fmv.h.x fa2, t5
    fmaxm_h fa0, fa1, fa2
    fmv.x.h a0, fa0
    CHECK a0, 0x7e00
    fleq_h a0, fa2, fa1
    CHECK a0, 0
    FLAGS_ARE NX
    fleq_h a0, fa1, fa1
    CHECK a0, 1

    /* ---- reserved encodings ---- */
    EXPECT_TRAP
    .insn r 0x53, 0, 0x61, a0, fa1, x8   /* fcvtmod.w.d with rm != RTZ */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x53, 1, 0x78, fa0, x3, x1   /* fli with funct3 != 0 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x53, 6, 0x51, a0, fa1, fa2  /* fleq/fltq neighbour */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x53, 5, 0x21, fa0, fa1, x4  /* fround with reserved rm 5 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x53, 0, 0x71, a0, fa1, x1   /* fmvh.x.d: RV32 only */
    CHECK_MTRAP CAUSE_ILLEGAL
    PASS
