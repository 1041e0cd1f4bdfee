/* SPDX-License-Identifier: MIT */
/* F and D, part 1: fcsr layout, exact bit-pattern results of arithmetic,
 * every rounding mode via the static rm field and via frm (dyn), reserved
 * rm values -> illegal, fflags per operation class (NV DZ OF UF NX) and
 * their accrual, canonical NaN results, NaN boxing (improperly boxed single
 * inputs act as the canonical NaN; single results are boxed), fmv sign
 * extension. */
#define TEST_NAME "fp_arith"
#include "isa.h"
#include "fp.h"

TEST_MAIN
    csrwi frm, 0
    /* ---- fcsr layout ---- */
    csrwi fcsr, 0
    li a1, 0xff
    csrw fcsr, a1
    csrr a0, frm
    CHECK a0, 7
    csrr a0, fflags
    CHECK a0, 0x1f
    csrwi frm, 2
    csrr a0, fcsr
    CHECK a0, 0x5f
    csrwi fcsr, 0

    /* ---- basic arithmetic, exact patterns (RNE) ---- */
    TD "fadd.d fa0, fa1, fa2", D_THREE, D_ONE, D_TWO
    TD "fsub.d fa0, fa1, fa2", D_MONE, D_ONE, D_TWO
    TD "fmul.d fa0, fa1, fa2", 0xc002000000000000, 0x3ff8000000000000, 0xbff8000000000000
    TD "fdiv.d fa0, fa1, fa2", 0x3fd5555555555555, D_ONE, D_THREE, 0, NX
    TD "fsqrt.d fa0, fa1", 0x3ff6a09e667f3bcd, D_TWO, 0, 0, NX
    TD "fsqrt.d fa0, fa1", 0x4008000000000000, 0x4022000000000000
    TD "fadd.d fa0, fa1, fa2", 0x3fd3333333333334, 0x3fb999999999999a, 0x3fc999999999999a, 0, NX
    TS "fadd.s fa0, fa1, fa2", S_THREE, S_ONE, S_TWO
    TS "fsub.s fa0, fa1, fa2", S_MONE, S_ONE, S_TWO
    TS "fmul.s fa0, fa1, fa2", 0xc0900000, 0x3fc00000, 0xc0400000
    TS "fdiv.s fa0, fa1, fa2", 0x3eaaaaab, S_ONE, S_THREE, 0, NX
    TS "fsqrt.s fa0, fa1", 0x3fb504f3, S_TWO, 0, 0, NX
    TS "fadd.s fa0, fa1, fa2", 0x3e99999a, 0x3dcccccd, 0x3e4ccccd, 0, NX
    /* x + (-x) = +0 in RNE, -0 in RDN */
    TD "fadd.d fa0, fa1, fa2", D_PZ, D_ONE, D_MONE
    TD "fadd.d fa0, fa1, fa2, rdn", D_NZ, D_ONE, D_MONE
    TD "fsub.d fa0, fa1, fa2", D_NZ, D_NZ, D_PZ
    TD "fsqrt.d fa0, fa1", D_NZ, D_NZ

    /* ---- rounding modes: static rm ---- */
    /* 1 + 2^-53: an exact tie */
    TD "fadd.d fa0, fa1, fa2, rne", D_ONE, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rtz", D_ONE, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rdn", D_ONE, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rup", 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rmm", 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, 0, NX
    /* -1 - 2^-53 */
    TD "fadd.d fa0, fa1, fa2, rne", D_MONE, D_MONE, 0xbca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rtz", D_MONE, D_MONE, 0xbca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rdn", 0xbff0000000000001, D_MONE, 0xbca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rup", D_MONE, D_MONE, 0xbca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rmm", 0xbff0000000000001, D_MONE, 0xbca0000000000000, 0, NX
    /* 1 + 0.75 ulp: not a tie */
    TD "fadd.d fa0, fa1, fa2, rne", 0x3ff0000000000001, D_ONE, 0x3ca8000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rtz", D_ONE, D_ONE, 0x3ca8000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rdn", D_ONE, D_ONE, 0x3ca8000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rup", 0x3ff0000000000001, D_ONE, 0x3ca8000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rmm", 0x3ff0000000000001, D_ONE, 0x3ca8000000000000, 0, NX
    /* tie to even going up: (1 + 2^-52) + 2^-53 */
    TD "fadd.d fa0, fa1, fa2, rne", 0x3ff0000000000002, 0x3ff0000000000001, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rmm", 0x3ff0000000000002, 0x3ff0000000000001, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rtz", 0x3ff0000000000001, 0x3ff0000000000001, 0x3ca0000000000000, 0, NX
    /* single: 1 + 2^-24 */
    TS "fadd.s fa0, fa1, fa2, rne", S_ONE, S_ONE, 0x33800000, 0, NX
    TS "fadd.s fa0, fa1, fa2, rtz", S_ONE, S_ONE, 0x33800000, 0, NX
    TS "fadd.s fa0, fa1, fa2, rdn", S_ONE, S_ONE, 0x33800000, 0, NX
    TS "fadd.s fa0, fa1, fa2, rup", 0x3f800001, S_ONE, 0x33800000, 0, NX
    TS "fadd.s fa0, fa1, fa2, rmm", 0x3f800001, S_ONE, 0x33800000, 0, NX
    /* division rounding: 1/3 */
    TD "fdiv.d fa0, fa1, fa2, rup", 0x3fd5555555555556, D_ONE, D_THREE, 0, NX
    TD "fdiv.d fa0, fa1, fa2, rdn", 0x3fd5555555555555, D_ONE, D_THREE, 0, NX
    TD "fdiv.d fa0, fa1, fa2, rtz", 0xbfd5555555555555, D_MONE, D_THREE, 0, NX
    TD "fdiv.d fa0, fa1, fa2, rdn", 0xbfd5555555555556, D_MONE, D_THREE, 0, NX
    TS "fdiv.s fa0, fa1, fa2, rtz", 0x3eaaaaaa, S_ONE, S_THREE, 0, NX
    /* ---- rounding modes: dynamic (frm) ---- */
    csrwi frm, 3           /* RUP */
    TD "fadd.d fa0, fa1, fa2", 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, dyn", 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2, rne", D_ONE, D_ONE, 0x3ca0000000000000, 0, NX   /* static wins */
    csrwi frm, 1           /* RTZ */
    TD "fdiv.d fa0, fa1, fa2", 0x3fd5555555555555, D_ONE, D_THREE, 0, NX
    TS "fadd.s fa0, fa1, fa2", S_ONE, S_ONE, 0x33800000, 0, NX
    csrwi frm, 2           /* RDN */
    TD "fadd.d fa0, fa1, fa2", 0xbff0000000000001, D_MONE, 0xbca0000000000000, 0, NX
    TD "fadd.d fa0, fa1, fa2", D_NZ, D_ONE, D_MONE
    csrwi frm, 4           /* RMM */
    TD "fadd.d fa0, fa1, fa2", 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, 0, NX
    csrwi frm, 0
    /* reserved rm values are illegal: static 5/6, and dyn with frm = 5..7 */
    EXPECT_TRAP
    .word 0x02c5d553       /* fadd.d fa0, fa1, fa2 with rm = 5 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .word 0x02c5e553       /* rm = 6 */
    CHECK_MTRAP CAUSE_ILLEGAL
    csrwi frm, 5
    EXPECT_TRAP
    fadd.d fa0, fa1, fa2
    CHECK_MTRAP CAUSE_ILLEGAL
    csrwi frm, 7
    EXPECT_TRAP
    fadd.d fa0, fa1, fa2
    CHECK_MTRAP CAUSE_ILLEGAL
    csrwi frm, 0

    /* ---- exception flags ---- */
    TD "fsqrt.d fa0, fa1", D_QNAN, D_MONE, 0, 0, NV
    TS "fsqrt.s fa0, fa1", S_QNAN, S_NINF, 0, 0, NV
    TS "fsqrt.s fa0, fa1", S_INF, S_INF
    TD "fmul.d fa0, fa1, fa2", D_QNAN, D_INF, D_PZ, 0, NV
    TD "fsub.d fa0, fa1, fa2", D_QNAN, D_INF, D_INF, 0, NV
    TD "fdiv.d fa0, fa1, fa2", D_QNAN, D_PZ, D_PZ, 0, NV
    TD "fdiv.d fa0, fa1, fa2", D_INF, D_ONE, D_PZ, 0, DZ
    TD "fdiv.d fa0, fa1, fa2", D_NINF, D_ONE, D_NZ, 0, DZ
    TD "fdiv.d fa0, fa1, fa2", D_INF, D_INF, D_PZ       /* inf/0: exact, no DZ */
    TS "fdiv.s fa0, fa1, fa2", S_NINF, S_MONE, 0, 0, DZ
    TD "fmul.d fa0, fa1, fa2", D_INF, D_MAX, D_TWO, 0, OF|NX
    TD "fmul.d fa0, fa1, fa2, rtz", D_MAX, D_MAX, D_TWO, 0, OF|NX
    TD "fmul.d fa0, fa1, fa2, rdn", D_MAX, D_MAX, D_TWO, 0, OF|NX
    TD "fmul.d fa0, fa1, fa2, rdn", D_NINF, D_MAX, 0xc000000000000000, 0, OF|NX
    TS "fadd.s fa0, fa1, fa2", S_INF, S_MAX, S_MAX, 0, OF|NX
    TS "fadd.s fa0, fa1, fa2, rtz", S_MAX, S_MAX, S_MAX, 0, OF|NX
    /* underflow: tiny and inexact */
    TD "fmul.d fa0, fa1, fa2", D_PZ, 0x0000000000000001, D_HALF, 0, UF|NX
    TD "fmul.d fa0, fa1, fa2, rup", 0x0000000000000001, 0x0000000000000001, D_HALF, 0, UF|NX
    TD "fmul.d fa0, fa1, fa2", 0x0000000000000002, 0x0000000000000003, D_HALF, 0, UF|NX
    /* exact subnormal result: no UF */
    TD "fmul.d fa0, fa1, fa2", 0x0008000000000000, D_MINN, D_HALF
    TS "fmul.s fa0, fa1, fa2", 0x00000000, 0x00000001, S_HALF, 0, UF|NX
    TS "fmul.s fa0, fa1, fa2", 0x00400000, 0x00800000, S_HALF
    /* flags accumulate until cleared */
    csrwi fflags, 0
    LD_D D_ONE, D_PZ, D_THREE
    fdiv.d fa0, fa1, fa2
    fdiv.d fa0, fa1, fa3
    csrr a0, fflags
    CHECK a0, DZ|NX
    /* fsflags / frflags / fsrm */
    li a1, 0x13
    fsflags a2, a1
    CHECK a2, DZ|NX
    frflags a0
    CHECK a0, 0x13
    fsrmi a2, 3
    frrm a0
    CHECK a0, 3
    fsrm a2
    frrm a0
    CHECK a0, 0
    csrwi fflags, 0

    /* ---- NaN propagation: canonical NaN results ---- */
    TD "fadd.d fa0, fa1, fa2", D_QNAN, 0x7ff8000000000123, D_ONE
    TD "fadd.d fa0, fa1, fa2", D_QNAN, D_SNAN, D_ONE, 0, NV
    TD "fmul.d fa0, fa1, fa2", D_QNAN, 0xfff8000000000000, D_TWO
    TS "fadd.s fa0, fa1, fa2", S_QNAN, 0xffc00123, S_ONE
    TS "fadd.s fa0, fa1, fa2", S_QNAN, S_ONE, S_SNAN, 0, NV
    TD "fsqrt.d fa0, fa1", D_QNAN, D_SNAN, 0, 0, NV

    /* ---- NaN boxing ---- */
    /* an improperly boxed single acts as the canonical NaN (quiet: no NV) */
    li t5, 0x000000003f800000
    fmv.d.x fa1, t5
    li t5, 0xffffffff3f800000
    fmv.d.x fa2, t5
    csrwi fflags, 0
    fadd.s fa0, fa1, fa2
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff7fc00000
    FLAGS_ARE 0
    fadd.s fa0, fa2, fa2
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff40000000
    /* ... also for sign injection, fclass, compares, conversions */
    fsgnj.s fa0, fa1, fa2
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff7fc00000
    fclass.s a0, fa1
    CHECK a0, 1 << 9
    li t5, 0xffff00003f800000   /* partly boxed: still improper */
    fmv.d.x fa3, t5
    fclass.s a0, fa3
    CHECK a0, 1 << 9
    feq.s a0, fa1, fa1
    CHECK a0, 0
    fcvt.d.s fa0, fa1
    fmv.x.d a0, fa0
    CHECK a0, D_QNAN
    /* fmv.x.w and fsw move the low 32 bits whatever the upper bits */
    fmv.x.w a0, fa1
    CHECK a0, 0x3f800000
    la s0, fpbuf
    fsw fa1, 0(s0)
    lwu a0, 0(s0)
    CHECK a0, 0x3f800000
    /* flw and fmv.w.x box; fsd stores all 64 bits */
    li a1, 0x40490fdb
    sw a1, 0(s0)
    flw fa0, 0(s0)
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff40490fdb
    fsd fa0, 8(s0)
    ld a0, 8(s0)
    CHECK a0, 0xffffffff40490fdb
    fcvt.s.d fa0, fa2           /* single results are boxed */
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff7fc00000  /* fa2 = boxed 1.0f is a NaN as a double */

    /* ---- fmv sign extension ---- */
    li a1, 0x80000000
    fmv.w.x fa0, a1
    fmv.x.w a0, fa0
    CHECK a0, 0xffffffff80000000
    li a1, 0x123456787f800000
    fmv.w.x fa0, a1              /* upper bits of the integer ignored */
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff7f800000
    li a1, 0x8000000000000001
    fmv.d.x fa0, a1
    fmv.x.d a0, fa0
    CHECK a0, 0x8000000000000001

    PASS

    .data
    .align 4
fpbuf: .dword 0, 0, 0, 0
