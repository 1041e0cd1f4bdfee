/* SPDX-License-Identifier: MIT */
/* C extension: executes compressed instructions of every format (CR, CI, CSS,
 * CIW, CL, CS, CA, CB, CJ) and checks their results, including the RV64-only
 * forms (c.addiw, c.addw, c.subw, c.ld/c.sd, c.ldsp/c.sdsp) and
 * c.addi16sp, c.addi4spn, c.lui, c.fld/c.fsd/c.fldsp/c.fsdsp, c.jr/c.jalr
 * link values (pc + 2), c.ebreak, and mixing 2- and 4-byte instructions at
 * 2-byte alignment. */
#define TEST_NAME "rv64c"
#include "isa.h"

/* Assemble one compressed instruction and verify at assembly time that it
 * really is 2 bytes. */
.macro C insn:vararg
.Lcs\@:
    \insn
.Lce\@:
    .if (.Lce\@ - .Lcs\@) != 2
    .error "not compressed"
    .endif
.endm

.macro C_ILLEGAL insn
    li tp, 2
    .hword \insn
    MREC a0, REC_CAUSE
    CHECK a0, CAUSE_ILLEGAL
    MREC a0, REC_TVAL
    beqz a0, .Ltv\@
    CHECK_MORE a0, \insn
.Ltv\@:
    la a0, m_rec
    sd zero, REC_COUNT(a0)
.endm

TEST_MAIN
    .option rvc
    /* CI: c.li, c.addi, c.addiw, c.lui, c.slli, c.nop */
    C c.li a0, -32
    CHECK a0, -32
    C c.li a0, 31
    CHECK a0, 31
    C c.addi a0, -1
    CHECK a0, 30
    C c.addi a0, 31
    CHECK a0, 61
    li a0, 0x7fffffff
    C c.addiw a0, 1
    CHECK a0, 0xffffffff80000000
    li a0, 0x123456789
    C c.addiw a0, 0
    CHECK a0, 0x23456789    /* sext.w */
    C c.lui a1, 1
    CHECK a1, 0x1000
    C c.lui a1, 0xfffe0     /* imm[17:12] = 0x20 -> sign-extended */
    CHECK a1, 0xfffffffffffe0000
    C c.lui a1, 0x1f
    CHECK a1, 0x1f000
    li a1, 0x8000000000000001
    C c.slli a1, 63
    CHECK a1, 0x8000000000000000
    li a1, 3
    C c.slli a1, 32
    CHECK a1, 0x300000000
    C c.nop
    CHECK a1, 0x300000000

    /* CR: c.mv, c.add */
    li a2, 0x1234
    C c.mv a3, a2
    CHECK a3, 0x1234
    li a4, -0x234
    C c.add a3, a4
    CHECK a3, 0x1000
    li a5, 0x7fffffffffffffff
    li a4, 1
    C c.add a5, a4
    CHECK a5, 0x8000000000000000

    /* CA: c.sub, c.xor, c.or, c.and, c.subw, c.addw (x8-x15) */
    li s0, 10
    li s1, 3
    C c.sub s0, s1
    CHECK s0, 7
    li a0, 0xff00ff00ff00ff00
    li a1, 0x0ff00ff00ff00ff0
    C c.xor a0, a1
    CHECK a0, 0xf0f0f0f0f0f0f0f0
    li a0, 0xff00
    C c.or a0, a1
    CHECK a0, 0x0ff00ff00ff0fff0
    li a0, 0xff00ff00ff00ff00
    C c.and a0, a1
    CHECK a0, 0x0f000f000f000f00
    li a2, 0x80000000
    li a3, 1
    C c.subw a2, a3
    CHECK a2, 0x7fffffff
    li a2, 0x7fffffff
    C c.addw a2, a3
    CHECK a2, 0xffffffff80000000
    li a2, 0x100000000
    C c.subw a2, a3
    CHECK a2, -1

    /* CB: c.srli, c.srai, c.andi */
    li a4, 0x8000000000000000
    C c.srli a4, 63
    CHECK a4, 1
    li a4, 0x8000000000000000
    C c.srai a4, 32
    CHECK a4, 0xffffffff80000000
    li a4, 0x8000000000000000
    C c.srli a4, 1
    CHECK a4, 0x4000000000000000
    li a5, 0x123
    C c.andi a5, -16
    CHECK a5, 0x120
    li a5, 0x123
    C c.andi a5, 15
    CHECK a5, 3

    /* CB: c.beqz / c.bnez taken and not taken, forward and backward */
    li a0, 0
    li s0, 0
    c.beqz s0, 1f
    li a0, 1
1:  CHECK a0, 0
    li s0, 5
    c.beqz s0, 2f
    li a0, 2
2:  CHECK a0, 2
    c.bnez s0, 3f
    li a0, 3
3:  CHECK a0, 2
    li s0, 0
    c.bnez s0, 4f
    li a0, 4
4:  CHECK a0, 4
    /* backward loop */
    li s1, 5
    li a0, 0
5:  addi a0, a0, 2
    C c.addi s1, -1
    c.bnez s1, 5b
    CHECK a0, 10

    /* CJ: c.j forward and backward */
    li a0, 0
    c.j 7f
6:  li a0, 6
    c.j 8f
7:  c.j 6b
    li a0, 99
8:  CHECK a0, 6

    /* CR: c.jr, c.jalr (link = pc + 2) */
    la t0, 9f
    li a0, 0
    c.jr t0
    li a0, 99
9:  CHECK a0, 0
    la t1, 11f
10: c.jalr t1
    li a0, 98
11: la t2, 10b
    addi t2, t2, 2
    CHECK_EQ ra, t2
    CHECK a0, 0

    /* CIW: c.addi4spn; CI: c.addi16sp; stack-relative loads/stores */
    mv s11, sp
    la sp, cstack_top
    C c.addi16sp sp, -64
    la t0, cstack_top
    addi t0, t0, -64
    CHECK_EQ sp, t0
    C c.addi16sp sp, 496
    addi t0, t0, 496
    CHECK_EQ sp, t0
    C c.addi16sp sp, -512
    addi t0, t0, -512
    CHECK_EQ sp, t0
    C c.addi4spn a0, sp, 1020
    addi t0, sp, 1020
    CHECK_EQ a0, t0
    C c.addi4spn a1, sp, 4
    addi t0, sp, 4
    CHECK_EQ a1, t0

    /* CSS / CI stack forms: c.sdsp c.swsp c.ldsp c.lwsp */
    li t3, 0x8877665544332211
    C c.sdsp t3, 8(sp)
    C c.ldsp t4, 8(sp)
    CHECK_EQ t4, t3
    ld t4, 8(sp)
    CHECK_EQ t4, t3
    li t3, 0x00000000f0000001
    C c.swsp t3, 16(sp)
    C c.lwsp t4, 16(sp)
    CHECK t4, 0xfffffffff0000001
    C c.sdsp t3, 504(sp)
    C c.ldsp t4, 504(sp)
    CHECK t4, 0xf0000001
    C c.swsp t3, 252(sp)
    C c.lwsp t4, 252(sp)
    CHECK t4, 0xfffffffff0000001

    /* CL / CS: c.ld c.sd c.lw c.sw (x8-x15, scaled offsets) */
    la s0, cdata
    li a0, 0x0102030405060708
    C c.sd a0, 248(s0)
    C c.ld a1, 248(s0)
    CHECK a1, 0x0102030405060708
    li a0, 0x80000000
    C c.sw a0, 124(s0)
    C c.lw a1, 124(s0)
    CHECK a1, 0xffffffff80000000
    C c.lw a1, 0(s0)
    CHECK a1, 0x22222222
    C c.ld a2, 0(s0)
    CHECK a2, 0x1111111122222222

    /* floating point: c.fld c.fsd c.fldsp c.fsdsp */
    li a0, 0x400921fb54442d18
    sd a0, 32(s0)
    C c.fld fa0, 32(s0)
    fmv.x.d a1, fa0
    CHECK a1, 0x400921fb54442d18
    C c.fsd fa0, 40(s0)
    ld a1, 40(s0)
    CHECK a1, 0x400921fb54442d18
    C c.fsdsp fa0, 48(sp)
    ld a1, 48(sp)
    CHECK a1, 0x400921fb54442d18
    li a2, 0xbff0000000000000
    sd a2, 56(sp)
    C c.fldsp ft1, 56(sp)
    fmv.x.d a1, ft1
    CHECK a1, 0xbff0000000000000

    /* c.ebreak raises a breakpoint with epc at the 2-byte instruction */
    li tp, 2
1:  C c.ebreak
    MREC a0, REC_CAUSE
    CHECK a0, CAUSE_BREAKPOINT
    MREC a0, REC_EPC
    la a1, 1b
    CHECK_EQ a0, a1

    /* reserved compressed encodings are illegal; mtval holds just the 16
     * instruction bits (or 0) */
    C_ILLEGAL 0x0000       /* c.unimp */
    C_ILLEGAL 0x6081       /* c.lui ra, 0 */
    C_ILLEGAL 0x6101       /* c.addi16sp sp, 0 */
    C_ILLEGAL 0x8002       /* c.jr x0 */

    /* a 4-byte instruction at a 2-byte-aligned (not 4-aligned) address */
    .balign 4
    C c.nop
    addi a0, zero, 123
    lui a1, 0x12345
    CHECK a0, 123
    CHECK a1, 0x12345000

    /* a 4-byte instruction straddling a page boundary */
    li a0, 5
    call straddle
    CHECK a0, 6

    mv sp, s11
    .option norvc
    PASS

    .pushsection .text.straddle, "ax", @progbits
    .balign 4096
    .skip 4096 - 2
straddle:
    .option norvc
    addi a0, a0, 1
    ret
    .option rvc
    .popsection

    .data
    .align 4
cdata:
    .dword 0x1111111122222222
    .skip 512
    .align 4
cstack:
    .skip 1024
cstack_top:
