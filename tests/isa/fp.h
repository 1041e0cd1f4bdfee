/* SPDX-License-Identifier: MIT */
/* Constants and check macros shared by the F/D tests (fp_*.S).  Include
 * after isa.h.  Inputs go through fa1..fa3, results through fa0 / a0; each
 * macro is one check: result bits and the exact fflags afterwards. */
#define NV 16
#define DZ 8
#define OF 4
#define UF 2
#define NX 1

#define D_ONE   0x3ff0000000000000
#define D_TWO   0x4000000000000000
#define D_THREE 0x4008000000000000
#define D_MONE  0xbff0000000000000
#define D_PZ    0x0000000000000000
#define D_NZ    0x8000000000000000
#define D_INF   0x7ff0000000000000
#define D_NINF  0xfff0000000000000
#define D_QNAN  0x7ff8000000000000
#define D_SNAN  0x7ff0000000000001
#define D_MAX   0x7fefffffffffffff
#define D_MINN  0x0010000000000000
#define D_HALF  0x3fe0000000000000
#define S_ONE   0x3f800000
#define S_TWO   0x40000000
#define S_THREE 0x40400000
#define S_MONE  0xbf800000
#define S_NZ    0x80000000
#define S_INF   0x7f800000
#define S_NINF  0xff800000
#define S_QNAN  0x7fc00000
#define S_SNAN  0x7f800001
#define S_MAX   0x7f7fffff
#define S_HALF  0x3f000000

.macro FLAGS_ARE f
    csrr t5, fflags
    CHECK_MORE t5, \f
.endm
.macro LD_D a, b, c
    li t5, \a
    fmv.d.x fa1, t5
    li t5, \b
    fmv.d.x fa2, t5
    li t5, \c
    fmv.d.x fa3, t5
.endm
.macro LD_S a, b, c
    li t5, \a
    fmv.w.x fa1, t5
    li t5, \b
    fmv.w.x fa2, t5
    li t5, \c
    fmv.w.x fa3, t5
.endm
/* double result in fa0 from fa1..fa3 */
.macro TD insn, res, a, b=0, c=0, flags=0
    LD_D \a, \b, \c
    csrwi fflags, 0
    \insn
    fmv.x.d a0, fa0
    CHECK a0, \res
    FLAGS_ARE \flags
.endm
/* single result in fa0 from fa1..fa3: value and NaN-boxing */
.macro TS insn, res, a, b=0, c=0, flags=0
    LD_S \a, \b, \c
    csrwi fflags, 0
    \insn
    fmv.x.d a0, fa0
    srai a2, a0, 32
    slli a0, a0, 32
    srli a0, a0, 32
    CHECK a0, \res
    CHECK_MORE a2, -1
    FLAGS_ARE \flags
.endm
/* single result from double inputs */
.macro TSD insn, res, a, b=0, c=0, flags=0
    LD_D \a, \b, \c
    csrwi fflags, 0
    \insn
    fmv.x.d a0, fa0
    srai a2, a0, 32
    slli a0, a0, 32
    srli a0, a0, 32
    CHECK a0, \res
    CHECK_MORE a2, -1
    FLAGS_ARE \flags
.endm
/* integer result in a0 from double / single inputs */
.macro TXD insn, res, a, b=0, flags=0
    LD_D \a, \b, 0
    csrwi fflags, 0
    \insn
    CHECK a0, \res
    FLAGS_ARE \flags
.endm
.macro TXS insn, res, a, b=0, flags=0
    LD_S \a, \b, 0
    csrwi fflags, 0
    \insn
    CHECK a0, \res
    FLAGS_ARE \flags
.endm
/* double / single result in fa0 from integer a1 */
.macro TDX insn, res, ia, flags=0
    li a1, \ia
    csrwi fflags, 0
    \insn
    fmv.x.d a0, fa0
    CHECK a0, \res
    FLAGS_ARE \flags
.endm
.macro TSX insn, res, ia, flags=0
    li a1, \ia
    csrwi fflags, 0
    \insn
    fmv.x.d a0, fa0
    srai a2, a0, 32
    slli a0, a0, 32
    srli a0, a0, 32
    CHECK a0, \res
    CHECK_MORE a2, -1
    FLAGS_ARE \flags
.endm

