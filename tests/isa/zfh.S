/* SPDX-License-Identifier: MIT */
/* Zfh / Zfhmin: half-precision loads and stores (NaN-boxed to 64 bits),
 * arithmetic with its rounding, overflow, underflow and fused
 * multiply-add, conversions to and from single, double and integers,
 * compares, min/max, sign injection, classify, fmv, and NaN-boxing of
 * half operands (a single in the register reads as the canonical NaN). */
#define TEST_NAME "zfh"
#include "isa.h"
#include "fp.h"

.option arch, +zfh

#define H_ONE   0x3c00
#define H_TWO   0x4000
#define H_THREE 0x4200
#define H_MONE  0xbc00
#define H_HALF  0x3800
#define H_INF   0x7c00
#define H_NINF  0xfc00
#define H_QNAN  0x7e00
#define H_SNAN  0x7c01
#define H_MAX   0x7bff
#define H_MINN  0x0400
#define H_NZ    0x8000

.macro LD_H a, b, c
    li t5, \a
    fmv.h.x fa1, t5
    li t5, \b
    fmv.h.x fa2, t5
    li t5, \c
    fmv.h.x fa3, t5
.endm
/* fa0 holds half res, NaN-boxed, and fflags are flags */
.macro CHECK_H res, flags
    fmv.x.d a0, fa0
    srai a2, a0, 16
    slli a0, a0, 48
    srli a0, a0, 48
    CHECK a0, \res
    CHECK_MORE a2, -1
    FLAGS_ARE \flags
.endm
/* half result in fa0 from fa1..fa3 */
.macro TH insn, res, a, b=0, c=0, flags=0
    LD_H \a, \b, \c
    csrwi fflags, 0
    \insn
    CHECK_H \res, \flags
.endm
/* integer result in a0 from half inputs */
.macro TXH insn, res, a, b=0, flags=0
    LD_H \a, \b, 0
    csrwi fflags, 0
    \insn
    CHECK a0, \res
    FLAGS_ARE \flags
.endm
/* half result in fa0 from integer a1 */
.macro THX insn, res, ia, flags=0
    li a1, \ia
    csrwi fflags, 0
    \insn
    CHECK_H \res, \flags
.endm

TEST_MAIN
    csrwi fcsr, 0
    /* ---- loads and stores ---- */
    la s0, hbuf
    li t0, 0x1234bc00
    sw t0, 0(s0)
    flh fa0, 0(s0)
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffffffffbc00
    flh fa0, 2(s0)
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffffffff1234
    li t0, 0x55667788
    fmv.w.x fa1, t0
    fsh fa1, 4(s0)                     /* stores the low 16 bits, boxed or not */
    lw a0, 4(s0)
    CHECK a0, 0x7788

    /* ---- arithmetic ---- */
    TH "fadd.h fa0, fa1, fa2", H_THREE, H_ONE, H_TWO
    TH "fadd.h fa0, fa1, fa2, rne", H_ONE, H_ONE, 0x1000, 0, NX     /* 1 + 2^-11: tie to even */
    TH "fadd.h fa0, fa1, fa2, rup", 0x3c01, H_ONE, 0x1000, 0, NX
    TH "fsub.h fa0, fa1, fa2", H_MONE, H_ONE, H_TWO
    TH "fsub.h fa0, fa1, fa2, rdn", H_NZ, H_ONE, H_ONE
    TH "fsub.h fa0, fa1, fa2, rne", 0, H_ONE, H_ONE
    TH "fadd.h fa0, fa1, fa2", H_QNAN, H_INF, H_NINF, 0, NV
    TH "fadd.h fa0, fa1, fa2", H_QNAN, H_SNAN, H_ONE, 0, NV
    TH "fadd.h fa0, fa1, fa2", H_QNAN, H_QNAN, H_ONE, 0, 0
    TH "fmul.h fa0, fa1, fa2", H_INF, H_MAX, H_TWO, 0, OF|NX
    TH "fmul.h fa0, fa1, fa2, rtz", H_MAX, H_MAX, H_TWO, 0, OF|NX
    TH "fmul.h fa0, fa1, fa2", 0x0200, H_MINN, H_HALF, 0, 0       /* exact subnormal */
    TH "fmul.h fa0, fa1, fa2", 0, 0x0001, H_HALF, 0, UF|NX       /* tie to even 0 */
    TH "fmul.h fa0, fa1, fa2, rup", 0x0001, 0x0001, H_HALF, 0, UF|NX
    TH "fmul.h fa0, fa1, fa2", H_QNAN, H_INF, 0, 0, NV
    TH "fdiv.h fa0, fa1, fa2", 0x3555, H_ONE, H_THREE, 0, NX
    TH "fdiv.h fa0, fa1, fa2, rup", 0x3556, H_ONE, H_THREE, 0, NX
    TH "fdiv.h fa0, fa1, fa2", H_INF, H_ONE, 0, 0, DZ
    TH "fdiv.h fa0, fa1, fa2", H_QNAN, 0, 0, 0, NV
    TH "fsqrt.h fa0, fa1", 0x3da8, H_TWO, 0, 0, NX
    TH "fsqrt.h fa0, fa1", H_TWO, 0x4400, 0, 0, 0
    TH "fsqrt.h fa0, fa1", H_QNAN, H_MONE, 0, 0, NV
    TH "fsqrt.h fa0, fa1", H_NZ, H_NZ, 0, 0, 0
    /* fused: (1+2^-10)^2 - 1 = 2^-9 + 2^-20, a tie only a fused op sees */
    TH "fmadd.h fa0, fa1, fa2, fa3", 0x1800, 0x3c01, 0x3c01, H_MONE, NX
    TH "fmadd.h fa0, fa1, fa2, fa3, rup", 0x1801, 0x3c01, 0x3c01, H_MONE, NX
    TH "fmsub.h fa0, fa1, fa2, fa3", 0x4500, H_TWO, H_THREE, H_ONE, 0   /* 5 */
    TH "fnmadd.h fa0, fa1, fa2, fa3", 0xc700, H_TWO, H_THREE, H_ONE, 0  /* -7 */
    TH "fnmsub.h fa0, fa1, fa2, fa3", 0xc500, H_TWO, H_THREE, H_ONE, 0  /* -5 */
    TH "fmadd.h fa0, fa1, fa2, fa3", H_QNAN, H_INF, 0, H_QNAN, NV
    TH "fmadd.h fa0, fa1, fa2, fa3", H_QNAN, H_INF, H_ONE, H_NINF, NV

    /* ---- conversions ---- */
    li t5, 0x3555
    fmv.h.x fa1, t5
    fcvt.s.h fa0, fa1
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff3eaaa000
    li t5, 0x0001
    fmv.h.x fa1, t5
    fcvt.d.h fa0, fa1
    fmv.x.d a0, fa0
    CHECK a0, 0x3e70000000000000
    csrwi fflags, 0
    li t5, H_SNAN
    fmv.h.x fa1, t5
    fcvt.d.h fa0, fa1
    fmv.x.d a0, fa0
    CHECK a0, D_QNAN
    FLAGS_ARE NV
    csrwi fflags, 0
    li t5, 0x3eaaaaab
    fmv.w.x fa1, t5
    fcvt.h.s fa0, fa1
    fmv.x.h a0, fa0
    CHECK a0, 0x3555
    FLAGS_ARE NX
    csrwi fflags, 0
    li t5, 0x40effe0000000000       /* 65520: ties away from max to inf */
    fmv.d.x fa1, t5
    fcvt.h.d fa0, fa1
    fmv.x.h a0, fa0
    CHECK a0, H_INF
    FLAGS_ARE OF|NX
    csrwi fflags, 0
    fcvt.h.d fa0, fa1, rtz              /* truncated: no overflow */
    fmv.x.h a0, fa0
    CHECK a0, H_MAX
    FLAGS_ARE NX
    csrwi fflags, 0
    li t5, S_SNAN
    fmv.w.x fa1, t5
    fcvt.h.s fa0, fa1
    fmv.x.h a0, fa0
    CHECK a0, H_QNAN
    FLAGS_ARE NV
    TXH "fcvt.w.h a0, fa1", 3, H_THREE
    TXH "fcvt.w.h a0, fa1, rne", 2, 0x4100, 0, NX                  /* 2.5 */
    TXH "fcvt.w.h a0, fa1, rmm", 3, 0x4100, 0, NX
    TXH "fcvt.wu.h a0, fa1", 0, H_MONE, 0, NV
    TXH "fcvt.l.h a0, fa1", 0x7fffffffffffffff, H_INF, 0, NV
    TXH "fcvt.lu.h a0, fa1", 65504, H_MAX
    TXH "fcvt.w.h a0, fa1", 0x7fffffff, H_QNAN, 0, NV
    THX "fcvt.h.w fa0, a1", H_THREE, 3
    THX "fcvt.h.w fa0, a1", H_INF, 65535, OF|NX
    THX "fcvt.h.l fa0, a1", 0xe800, -2049, NX
    THX "fcvt.h.wu fa0, a1, rtz", H_MAX, 0xffffffff, OF|NX
    THX "fcvt.h.lu fa0, a1", 0, 0

    /* ---- compares, min/max, sign injection, classify, moves ---- */
    TXH "feq.h a0, fa1, fa2", 1, H_ONE, H_ONE
    TXH "feq.h a0, fa1, fa2", 1, 0, H_NZ
    TXH "feq.h a0, fa1, fa2", 0, H_QNAN, H_ONE
    TXH "feq.h a0, fa1, fa2", 0, H_SNAN, H_ONE, NV
    TXH "flt.h a0, fa1, fa2", 1, H_MONE, H_ONE
    TXH "flt.h a0, fa1, fa2", 0, H_QNAN, H_ONE, NV
    TXH "fle.h a0, fa1, fa2", 1, H_ONE, H_ONE
    TXH "fle.h a0, fa1, fa2", 1, 0x0001, 0x0002
    TH "fmin.h fa0, fa1, fa2", H_NZ, 0, H_NZ
    TH "fmax.h fa0, fa1, fa2", H_ONE, H_QNAN, H_ONE
    TH "fmax.h fa0, fa1, fa2", H_ONE, H_SNAN, H_ONE, 0, NV
    TH "fmin.h fa0, fa1, fa2", H_QNAN, H_QNAN, H_QNAN
    TH "fsgnjn.h fa0, fa1, fa2", H_MONE, H_ONE, H_ONE
    TH "fsgnjx.h fa0, fa1, fa2", H_ONE, H_MONE, H_MONE
    TH "fsgnj.h fa0, fa1, fa2", H_NINF, H_INF, H_MONE
    TXH "fclass.h a0, fa1", 1 << 5, 0x0001
    TXH "fclass.h a0, fa1", 1 << 8, H_SNAN
    TXH "fclass.h a0, fa1", 1 << 9, H_QNAN
    TXH "fclass.h a0, fa1", 1 << 0, H_NINF
    TXH "fclass.h a0, fa1", 1 << 3, H_NZ
    TXH "fclass.h a0, fa1", 1 << 6, H_MAX
    TXH "fmv.x.h a0, fa1", 0xffffffffffff8000, H_NZ

    /* ---- NaN-boxing: a single in the register is not a half ---- */
    li t5, 0x3c00
    fmv.w.x fa1, t5                     /* bits 63:16 are not all ones */
    csrwi fflags, 0
    fadd.h fa0, fa1, fa1
    fmv.x.h a0, fa0
    CHECK a0, H_QNAN
    FLAGS_ARE 0
    fclass.h a0, fa1
    CHECK a0, 1 << 9
    fmv.x.h a0, fa1                     /* moves raw bits, no unboxing */
    CHECK a0, 0x3c00
    PASS

.data
.balign 8
hbuf: .zero 16
