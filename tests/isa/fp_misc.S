/* SPDX-License-Identifier: MIT */
/* F and D, part 2: fmin/fmax with NaN/sNaN/±0, feq/flt/fle with NaN and
 * their flags, fcvt to/from each integer width with rounding and
 * saturation, float<->double conversion, fclass (all 10 classes), fused
 * multiply-add with a single rounding, sign injection, and mstatus.FS:
 * Off -> illegal instruction, Initial/Clean -> Dirty on FP writes. */
#define TEST_NAME "fp_misc"
#include "isa.h"
#include "fp.h"

TEST_MAIN
    csrwi fcsr, 0
    la s0, fpbuf
    /* ---- fmin / fmax ---- */
    TD "fmin.d fa0, fa1, fa2", D_ONE, D_ONE, D_TWO
    TD "fmax.d fa0, fa1, fa2", D_TWO, D_ONE, D_TWO
    TD "fmin.d fa0, fa1, fa2", D_ONE, D_ONE, D_QNAN
    TD "fmin.d fa0, fa1, fa2", D_ONE, D_QNAN, D_ONE
    TD "fmax.d fa0, fa1, fa2", D_ONE, D_SNAN, D_ONE, 0, NV
    TD "fmin.d fa0, fa1, fa2", D_QNAN, D_QNAN, D_QNAN
    TD "fmin.d fa0, fa1, fa2", D_QNAN, D_SNAN, 0x7ff8000000000055, 0, NV
    TD "fmin.d fa0, fa1, fa2", D_NZ, D_PZ, D_NZ
    TD "fmin.d fa0, fa1, fa2", D_NZ, D_NZ, D_PZ
    TD "fmax.d fa0, fa1, fa2", D_PZ, D_NZ, D_PZ
    TD "fmax.d fa0, fa1, fa2", D_PZ, D_PZ, D_NZ
    TD "fmin.d fa0, fa1, fa2", D_NINF, D_NINF, D_MAX
    TS "fmin.s fa0, fa1, fa2", S_MONE, S_ONE, S_MONE
    TS "fmax.s fa0, fa1, fa2", S_ONE, S_QNAN, S_ONE
    TS "fmin.s fa0, fa1, fa2", S_ONE, S_ONE, S_SNAN, 0, NV
    TS "fmax.s fa0, fa1, fa2", 0, S_NZ, 0
    TS "fmin.s fa0, fa1, fa2", S_NZ, 0, S_NZ
    TS "fmax.s fa0, fa1, fa2", S_QNAN, S_SNAN, S_SNAN, 0, NV

    /* ---- compares ---- */
    TXD "feq.d a0, fa1, fa2", 1, D_ONE, D_ONE
    TXD "feq.d a0, fa1, fa2", 1, D_PZ, D_NZ
    TXD "feq.d a0, fa1, fa2", 0, D_QNAN, D_QNAN
    TXD "feq.d a0, fa1, fa2", 0, D_SNAN, D_ONE, NV
    TXD "flt.d a0, fa1, fa2", 1, D_ONE, D_TWO
    TXD "flt.d a0, fa1, fa2", 0, D_NZ, D_PZ
    TXD "flt.d a0, fa1, fa2", 0, D_QNAN, D_ONE, NV
    TXD "fle.d a0, fa1, fa2", 1, D_NZ, D_PZ
    TXD "fle.d a0, fa1, fa2", 0, D_ONE, D_QNAN, NV
    TXD "fle.d a0, fa1, fa2", 1, D_NINF, D_NINF
    TXS "feq.s a0, fa1, fa2", 1, S_ONE, S_ONE
    TXS "feq.s a0, fa1, fa2", 0, S_QNAN, S_ONE
    TXS "feq.s a0, fa1, fa2", 0, S_ONE, S_SNAN, NV
    TXS "flt.s a0, fa1, fa2", 1, S_MONE, S_ONE
    TXS "flt.s a0, fa1, fa2", 0, S_ONE, S_QNAN, NV
    TXS "fle.s a0, fa1, fa2", 0, S_QNAN, S_QNAN, NV
    TXS "fle.s a0, fa1, fa2", 1, S_ONE, S_ONE

    /* ---- fcvt float -> integer ---- */
    TXD "fcvt.w.d a0, fa1, rne", 4, 0x400d99999999999a, 0, NX     /* 3.7 */
    TXD "fcvt.w.d a0, fa1, rtz", 3, 0x400d99999999999a, 0, NX
    TXD "fcvt.w.d a0, fa1, rdn", 3, 0x400d99999999999a, 0, NX
    TXD "fcvt.w.d a0, fa1, rup", 4, 0x400d99999999999a, 0, NX
    TXD "fcvt.w.d a0, fa1, rmm", 4, 0x400d99999999999a, 0, NX
    TXD "fcvt.w.d a0, fa1, rne", -4, 0xc00c000000000000, 0, NX     /* -3.5 */
    TXD "fcvt.w.d a0, fa1, rtz", -3, 0xc00c000000000000, 0, NX
    TXD "fcvt.w.d a0, fa1, rdn", -4, 0xc00c000000000000, 0, NX
    TXD "fcvt.w.d a0, fa1, rup", -3, 0xc00c000000000000, 0, NX
    TXD "fcvt.w.d a0, fa1, rmm", -4, 0xc00c000000000000, 0, NX
    TXD "fcvt.w.d a0, fa1, rne", 2, 0x4004000000000000, 0, NX      /* 2.5 */
    TXD "fcvt.w.d a0, fa1, rmm", 3, 0x4004000000000000, 0, NX
    TXD "fcvt.w.d a0, fa1, rtz", 3, D_THREE
    TXD "fcvt.w.d a0, fa1, rtz", 0x7fffffff, 0x4202a05f20000000, 0, NV   /* 1e10 */
    TXD "fcvt.w.d a0, fa1, rtz", 0xffffffff80000000, 0xc202a05f20000000, 0, NV
    TXD "fcvt.w.d a0, fa1, rtz", 0x7fffffff, D_QNAN, 0, NV
    TXD "fcvt.w.d a0, fa1, rtz", 0x7fffffff, D_INF, 0, NV
    TXD "fcvt.w.d a0, fa1, rtz", 0xffffffff80000000, D_NINF, 0, NV
    TXD "fcvt.w.d a0, fa1, rtz", 0xffffffff80000000, 0xc1e0000000000000   /* -2^31 exact */
    TXD "fcvt.wu.d a0, fa1, rtz", 0xffffffffb2d05e00, 0x41e65a0bc0000000  /* 3e9, sign-extended */
    TXD "fcvt.wu.d a0, fa1, rtz", 0, D_MONE, 0, NV
    TXD "fcvt.wu.d a0, fa1, rtz", 0, 0xbfe0000000000000, 0, NX       /* -0.5 -> 0 */
    TXD "fcvt.wu.d a0, fa1, rdn", 0, 0xbfe0000000000000, 0, NV       /* -0.5 -> -1 */
    TXD "fcvt.wu.d a0, fa1, rtz", 0xffffffffffffffff, 0x4202a05f20000000, 0, NV
    TXD "fcvt.wu.d a0, fa1, rtz", 0xffffffffffffffff, D_QNAN, 0, NV
    TXD "fcvt.l.d a0, fa1, rtz", 0x7fffffffffffffff, 0x43e0000000000000, 0, NV  /* 2^63 */
    TXD "fcvt.l.d a0, fa1, rtz", 0x8000000000000000, 0xc3e0000000000000          /* -2^63 */
    TXD "fcvt.l.d a0, fa1, rtz", 10000000000, 0x4202a05f20000000
    TXD "fcvt.l.d a0, fa1, rtz", 0x7fffffffffffffff, D_SNAN, 0, NV
    TXD "fcvt.l.d a0, fa1, rtz", 0x8000000000000000, D_NINF, 0, NV
    TXD "fcvt.l.d a0, fa1, rup", -1, 0xbff8000000000000, 0, NX          /* -1.5 */
    TXD "fcvt.lu.d a0, fa1, rtz", 0x8000000000000000, 0x43e0000000000000
    TXD "fcvt.lu.d a0, fa1, rtz", 0xffffffffffffffff, 0x43f0000000000000, 0, NV  /* 2^64 */
    TXD "fcvt.lu.d a0, fa1, rtz", 0, D_NINF, 0, NV
    TXD "fcvt.lu.d a0, fa1, rtz", 0xffffffffffffffff, D_QNAN, 0, NV
    TXD "fcvt.lu.d a0, fa1, rne", 0, D_NZ
    TXS "fcvt.w.s a0, fa1, rne", 2, 0x40200000, 0, NX        /* 2.5f */
    TXS "fcvt.w.s a0, fa1, rmm", 3, 0x40200000, 0, NX
    TXS "fcvt.w.s a0, fa1, rtz", -1, 0xbfc00000, 0, NX       /* -1.5f */
    TXS "fcvt.w.s a0, fa1, rdn", -2, 0xbfc00000, 0, NX
    TXS "fcvt.w.s a0, fa1, rtz", 0x7fffffff, 0x501502f9, 0, NV
    TXS "fcvt.w.s a0, fa1, rtz", 0x7fffffff, S_QNAN, 0, NV
    TXS "fcvt.wu.s a0, fa1, rtz", 0, S_MONE, 0, NV
    TXS "fcvt.wu.s a0, fa1, rtz", 0xffffffff80000000, 0x4f000000    /* 2^31 */
    TXS "fcvt.l.s a0, fa1, rtz", 0x7fffffffffffffff, S_INF, 0, NV
    TXS "fcvt.l.s a0, fa1, rtz", 10000000000, 0x501502f9
    TXS "fcvt.lu.s a0, fa1, rtz", 0, S_NINF, 0, NV
    TXS "fcvt.lu.s a0, fa1, rup", 1, 0x3f000000, 0, NX
    TXS "fcvt.w.s a0, fa1, rne", 0, S_NZ
    TXD "fcvt.w.d a0, fa1, rdn", 0, 0x3fefffffffffffff, 0, NX     /* just below 1 */
    TXD "fcvt.wu.d a0, fa1, rtz", 0xffffffffffffffff, 0x41efffffffe00000  /* 2^32 - 1 exact */
    /* the dynamic rounding mode applies to conversions too */
    csrwi frm, 3
    TXD "fcvt.l.d a0, fa1", 4, 0x400d99999999999a, 0, NX
    csrwi frm, 0

    /* ---- fcvt integer -> float ---- */
    TDX "fcvt.d.w fa0, a1", 0xc1e0000000000000, 0xffffffff80000000
    TDX "fcvt.d.w fa0, a1", 0xbff0000000000000, 0x00000000ffffffff  /* upper bits ignored */
    TDX "fcvt.d.wu fa0, a1", 0x41efffffffe00000, 0xffffffffffffffff
    TDX "fcvt.d.l fa0, a1", 0xc3e0000000000000, 0x8000000000000000
    TDX "fcvt.d.l fa0, a1, rne", 0x43e0000000000000, 0x7fffffffffffffff, NX
    TDX "fcvt.d.l fa0, a1, rtz", 0x43dfffffffffffff, 0x7fffffffffffffff, NX
    TDX "fcvt.d.lu fa0, a1, rne", 0x43f0000000000000, 0xffffffffffffffff, NX
    TDX "fcvt.d.lu fa0, a1", 0, 0
    TSX "fcvt.s.w fa0, a1", 0xcf000000, 0xffffffff80000000
    TSX "fcvt.s.w fa0, a1, rne", 0x4b800000, 0x1000001, NX     /* 2^24 + 1 */
    TSX "fcvt.s.w fa0, a1, rup", 0x4b800001, 0x1000001, NX
    TSX "fcvt.s.wu fa0, a1, rtz", 0x4f7fffff, 0xffffffff, NX
    TSX "fcvt.s.l fa0, a1", 0xdf000000, 0x8000000000000000
    TSX "fcvt.s.lu fa0, a1, rne", 0x5f800000, 0xffffffffffffffff, NX
    /* float <-> double */
    TD "fcvt.d.s fa0, fa1", 0x3ff8000000000000, 0xffffffff3fc00000
    TD "fcvt.d.s fa0, fa1", D_QNAN, 0xffffffff7f800001, 0, 0, NV     /* sNaN */
    TD "fcvt.d.s fa0, fa1", 0x36a0000000000000, 0xffffffff00000001  /* subnormal */
    TSD "fcvt.s.d fa0, fa1", S_ONE, 0x3ff0000000400000, 0, 0, NX      /* 1 + 2^-30 */
    TSD "fcvt.s.d fa0, fa1, rup", 0x3f800001, 0x3ff0000000400000, 0, 0, NX
    TSD "fcvt.s.d fa0, fa1", S_INF, D_MAX, 0, 0, OF|NX
    TSD "fcvt.s.d fa0, fa1", 0, 0x3690000000000000, 0, 0, UF|NX       /* 2^-150 */
    TSD "fcvt.s.d fa0, fa1", S_QNAN, D_SNAN, 0, 0, NV

    /* ---- fclass: all ten classes ---- */
    TXD "fclass.d a0, fa1", 1 << 0, D_NINF
    TXD "fclass.d a0, fa1", 1 << 1, D_MONE
    TXD "fclass.d a0, fa1", 1 << 2, 0x800fffffffffffff
    TXD "fclass.d a0, fa1", 1 << 3, D_NZ
    TXD "fclass.d a0, fa1", 1 << 4, D_PZ
    TXD "fclass.d a0, fa1", 1 << 5, 0x0000000000000001
    TXD "fclass.d a0, fa1", 1 << 6, D_MINN
    TXD "fclass.d a0, fa1", 1 << 7, D_INF
    TXD "fclass.d a0, fa1", 1 << 8, D_SNAN
    TXD "fclass.d a0, fa1", 1 << 9, D_QNAN
    TXD "fclass.d a0, fa1", 1 << 8, 0xfff4000000000000
    TXS "fclass.s a0, fa1", 1 << 0, S_NINF
    TXS "fclass.s a0, fa1", 1 << 1, 0xff7fffff
    TXS "fclass.s a0, fa1", 1 << 2, 0x80000001
    TXS "fclass.s a0, fa1", 1 << 3, S_NZ
    TXS "fclass.s a0, fa1", 1 << 4, 0
    TXS "fclass.s a0, fa1", 1 << 5, 0x007fffff
    TXS "fclass.s a0, fa1", 1 << 6, S_ONE
    TXS "fclass.s a0, fa1", 1 << 7, S_INF
    TXS "fclass.s a0, fa1", 1 << 8, S_SNAN
    TXS "fclass.s a0, fa1", 1 << 9, 0xffc00000

    /* ---- fused multiply-add: one rounding ---- */
    /* a = b = 1 + 2^-30, c = -(1 + 2^-29): a*b + c = 2^-60 exactly */
    TD "fmadd.d fa0, fa1, fa2, fa3", 0x3c30000000000000, 0x3ff0000000400000, 0x3ff0000000400000, 0xbff0000000800000
    /* the unfused sequence loses it */
    LD_D 0x3ff0000000400000, 0x3ff0000000400000, 0xbff0000000800000
    fmul.d fa0, fa1, fa2
    fadd.d fa0, fa0, fa3
    fmv.x.d a0, fa0
    CHECK a0, 0
    TD "fmsub.d fa0, fa1, fa2, fa3", 0x3c30000000000000, 0x3ff0000000400000, 0x3ff0000000400000, 0x3ff0000000800000
    TD "fnmadd.d fa0, fa1, fa2, fa3", 0xbc30000000000000, 0x3ff0000000400000, 0x3ff0000000400000, 0xbff0000000800000
    TD "fnmsub.d fa0, fa1, fa2, fa3", 0xbc30000000000000, 0x3ff0000000400000, 0x3ff0000000400000, 0x3ff0000000800000
    TD "fmadd.d fa0, fa1, fa2, fa3", 0x401c000000000000, D_TWO, D_THREE, D_ONE     /* 7 */
    TD "fmsub.d fa0, fa1, fa2, fa3", 0x4014000000000000, D_TWO, D_THREE, D_ONE     /* 5 */
    TD "fnmadd.d fa0, fa1, fa2, fa3", 0xc01c000000000000, D_TWO, D_THREE, D_ONE   /* -7 */
    TD "fnmsub.d fa0, fa1, fa2, fa3", 0xc014000000000000, D_TWO, D_THREE, D_ONE   /* -5 */
    /* single: a = b = 1 + 2^-12, c = -(1 + 2^-11) -> 2^-24 */
    TS "fmadd.s fa0, fa1, fa2, fa3", 0x33800000, 0x3f800800, 0x3f800800, 0xbf801000
    TS "fnmsub.s fa0, fa1, fa2, fa3", 0xb3800000, 0x3f800800, 0x3f800800, 0x3f801000
    /* inf * 0 + qNaN: invalid regardless of the NaN addend */
    TD "fmadd.d fa0, fa1, fa2, fa3", D_QNAN, D_INF, D_PZ, D_QNAN, NV
    TD "fmadd.d fa0, fa1, fa2, fa3", D_QNAN, D_INF, D_ONE, D_NINF, NV
    /* signalling NaN anywhere: NV, canonical NaN */
    TD "fmadd.d fa0, fa1, fa2, fa3", D_QNAN, D_ONE, D_ONE, D_SNAN, NV
    TS "fmsub.s fa0, fa1, fa2, fa3", S_QNAN, S_SNAN, S_ONE, S_ONE, NV
    /* exact zero results: sign by the rounding mode */
    TD "fmadd.d fa0, fa1, fa2, fa3", D_PZ, D_ONE, D_ONE, D_MONE
    TD "fmadd.d fa0, fa1, fa2, fa3, rdn", D_NZ, D_ONE, D_ONE, D_MONE
    /* rounding of the fused result */
    TD "fmadd.d fa0, fa1, fa2, fa3, rup", 0x3ff0000000000001, D_ONE, D_ONE, 0x3ca0000000000000, NX
    TD "fmadd.d fa0, fa1, fa2, fa3, rne", D_ONE, D_ONE, D_ONE, 0x3ca0000000000000, NX

    /* ---- sign injection ---- */
    TD "fsgnj.d fa0, fa1, fa2", D_MONE, D_ONE, D_NZ
    TD "fsgnjn.d fa0, fa1, fa2", D_MONE, D_ONE, D_PZ
    TD "fsgnjx.d fa0, fa1, fa2", D_ONE, D_MONE, D_NINF
    TD "fsgnj.d fa0, fa1, fa2", 0xfff0000000000001, D_SNAN, D_MONE    /* no canonicalisation, no NV */
    TS "fsgnj.s fa0, fa1, fa2", S_MONE, S_ONE, S_NZ
    TS "fsgnjn.s fa0, fa1, fa2", 0x7f800001, S_SNAN, S_MONE
    TS "fsgnjx.s fa0, fa1, fa2", S_ONE, S_MONE, S_MONE

    /* ---- mstatus.FS ---- */
    /* Off: every FP instruction and fcsr access is illegal */
    li a1, MSTATUS_FS
    csrc mstatus, a1
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, 0
    EXPECT_TRAP
1:  fadd.d fa0, fa1, fa2
    CHECK_MTRAP CAUSE_ILLEGAL
    MREC a0, REC_TVAL
    la a1, 1b
    lwu a1, 0(a1)
    beqz a0, 2f
    CHECK_EQ a0, a1
2:  EXPECT_TRAP
    fld fa0, 0(s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    fsd fa0, 0(s0)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    fmv.x.d a0, fa0
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    fmv.w.x fa0, a0
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    frcsr a0
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrwi fflags, 1
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    fcvt.d.l fa0, a0
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    fmadd.s fa0, fa1, fa2, fa3
    CHECK_MTRAP CAUSE_ILLEGAL
    /* mstatus.SD is clear with FS = Off */
    csrr a0, mstatus
    srli a0, a0, 63
    CHECK a0, 0
    /* Clean -> Dirty after an arithmetic write */
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    fadd.d fa0, fa1, fa2
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    CHECK a2, MSTATUS_FS_DIRTY
    srli a0, a0, 63
    CHECK a0, 1
    /* Initial -> Dirty after a load */
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_INITIAL
    csrs mstatus, a1
    fld fa0, 0(s0)
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    CHECK a2, MSTATUS_FS_DIRTY
    /* Clean -> Dirty after an fcsr write */
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    csrwi frm, 0
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    CHECK a2, MSTATUS_FS_DIRTY
    /* Clean -> Dirty when an operation only sets flags (integer result) */
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    fmv.d.x fa1, zero
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    LD_D D_SNAN, D_ONE, 0
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    feq.d a0, fa1, fa2           /* writes fflags.NV */
#ifndef QEMU_QUIRKS
    /* fflags is FP state covered by FS; QEMU 7.2 does not mark FS Dirty
     * when an instruction only accrues flags. */
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    CHECK a2, MSTATUS_FS_DIRTY
#endif
    PASS

    .data
    .align 4
fpbuf: .dword 0, 0, 0, 0
