/* SPDX-License-Identifier: MIT */
/* RV64I control flow, upper immediates, loads/stores and x0: LUI/AUIPC sign
 * extension, every branch taken / not taken in both directions, JAL/JALR
 * link values, JALR bit-0 clearing and rd=x0, loads of every width with
 * sign/zero extension, stores of every width, x0 hard-wired to zero. */
#define TEST_NAME "rv64i"
#include "isa.h"

/* Branch taken forward: a0 = 1 if taken. */
.macro BR_T inst, a, b
    li a1, \a
    li a2, \b
    li a0, 0
    \inst a1, a2, .Lt\@
    j .Ld\@
.Lt\@:
    li a0, 1
.Ld\@:
    CHECK a0, 1
.endm
/* Branch not taken: fallthrough. */
.macro BR_NT inst, a, b
    li a1, \a
    li a2, \b
    li a0, 1
    \inst a1, a2, .Lt\@
    j .Ld\@
.Lt\@:
    li a0, 0
.Ld\@:
    CHECK a0, 1
.endm
/* Branch taken backward. */
.macro BR_TB inst, a, b
    li a1, \a
    li a2, \b
    li a0, 0
    j .Lf\@
.Lb\@:
    li a0, 1
    j .Ld\@
.Lf\@:
    \inst a1, a2, .Lb\@
.Ld\@:
    CHECK a0, 1
.endm

TEST_MAIN
    /* LUI: imm << 12, sign-extended from bit 31 */
    lui a0, 0x12345
    CHECK a0, 0x12345000
    lui a0, 0x80000
    CHECK a0, 0xffffffff80000000
    lui a0, 0xfffff
    CHECK a0, 0xfffffffffffff000
    lui a0, 0x7ffff
    CHECK a0, 0x7ffff000
    lui a0, 0
    CHECK a0, 0

    /* AUIPC: pc + (imm << 12) */
1:  auipc a0, 0
    la a1, 1b
    CHECK_EQ a0, a1
2:  auipc a0, 1
    la a1, 2b
    sub a0, a0, a1
    CHECK a0, 0x1000
3:  auipc a0, 0xfffff
    la a1, 3b
    sub a0, a0, a1
    CHECK a0, -0x1000
4:  auipc a0, 0x80000
    la a1, 4b
    sub a0, a0, a1
    CHECK a0, 0xffffffff80000000

    /* branches */
    BR_T  beq, 5, 5
    BR_TB beq, -1, -1
    BR_NT beq, 5, 6
    BR_T  bne, 5, 6
    BR_TB bne, 0, 0x100000000
    BR_NT bne, 7, 7
    BR_T  blt, -1, 0
    BR_TB blt, 0x8000000000000000, 0x7fffffffffffffff
    BR_NT blt, 0, -1
    BR_NT blt, 3, 3
    BR_T  bge, 0, -1
    BR_TB bge, 3, 3
    BR_NT bge, -1, 0
    BR_NT bge, 0x8000000000000000, 0x7fffffffffffffff
    BR_T  bltu, 0, -1
    BR_TB bltu, 0x7fffffffffffffff, 0x8000000000000000
    BR_NT bltu, -1, 0
    BR_NT bltu, 3, 3
    BR_T  bgeu, -1, 0
    BR_TB bgeu, 3, 3
    BR_NT bgeu, 0, -1
    BR_NT bgeu, 0x7fffffffffffffff, 0x8000000000000000

    /* JAL: link = pc + 4, target pc-relative, forward and backward */
    li a0, 0
5:  jal ra, 6f
    li a0, 99
6:  la a1, 5b
    addi a1, a1, 4
    CHECK_EQ ra, a1
    CHECK a0, 0
    j 8f
7:  li a0, 42
    j 9f
8:  jal x0, 7b
    li a0, 0
9:  CHECK a0, 42

    /* JALR: target = (rs1 + imm) & ~1, link = pc + 4 */
    la a1, 10f
    addi a1, a1, -7
    li a0, 0
11: jalr t0, 8(a1)        /* a1 + 8 = label + 1 -> bit 0 cleared */
    li a0, 99
10: CHECK a0, 0
    la a2, 11b
    addi a2, a2, 4
    CHECK_EQ t0, a2
    /* rd == rs1: the target uses the old value */
    la a1, 12f
    jalr a1, 0(a1)
    li a0, 99
12: la a2, 12b
    addi a2, a2, -4
    CHECK_EQ a1, a2
    CHECK a0, 0
    /* rd = x0 discards the link */
    la a1, 13f
    jalr x0, 0(a1)
    li a0, 98
13: CHECK a0, 0
    CHECK zero, 0
    /* negative offset */
    la a1, 14f
    addi a1, a1, 16
    jalr ra, -16(a1)
    li a0, 97
14: CHECK a0, 0

    /* loads: every width, sign and zero extension */
    la s0, ldata
    lb a0, 0(s0)
    CHECK a0, 0xffffffffffffff81
    lbu a0, 0(s0)
    CHECK a0, 0x81
    lb a0, 1(s0)
    CHECK a0, 0x72
    lh a0, 0(s0)
    CHECK a0, 0x7281
    lh a0, 2(s0)
    CHECK a0, 0xffffffffffffe3d4
    lhu a0, 2(s0)
    CHECK a0, 0xe3d4
    lw a0, 0(s0)
    CHECK a0, 0xffffffffe3d47281
    lwu a0, 0(s0)
    CHECK a0, 0xe3d47281
    lw a0, 4(s0)
    CHECK a0, 0x0a1b2c3d
    ld a0, 0(s0)
    CHECK a0, 0x0a1b2c3de3d47281
    ld a0, 8(s0)
    CHECK a0, 0x8899aabbccddeeff
    /* negative offsets */
    addi s1, s0, 16
    lbu a0, -1(s1)
    CHECK a0, 0x88
    lw a0, -8(s1)
    CHECK a0, 0xffffffffccddeeff
    lh a0, -2(s1)
    CHECK a0, 0xffffffffffff8899
    /* large immediate offsets */
    addi s1, s0, -2047
    lbu a0, 2047(s1)
    CHECK a0, 0x81
    addi s1, s0, 2047
    addi s1, s1, 1
    lbu a0, -2048(s1)
    CHECK a0, 0x81

    /* stores: every width, only the addressed bytes change */
    la s0, sdata
    li a0, -1
    sd a0, 0(s0)
    sd a0, 8(s0)
    li a1, 0x1122334455667788
    sb a1, 0(s0)
    ld a0, 0(s0)
    CHECK a0, 0xffffffffffffff88
    sh a1, 2(s0)
    ld a0, 0(s0)
    CHECK a0, 0xffffffff7788ff88
    sw a1, 4(s0)
    ld a0, 0(s0)
    CHECK a0, 0x556677887788ff88
    sd a1, 8(s0)
    ld a0, 8(s0)
    CHECK a0, 0x1122334455667788
    sb zero, 15(s0)
    ld a0, 8(s0)
    CHECK a0, 0x0022334455667788
    addi s1, s0, 16
    sh a1, -16(s1)
    lhu a0, 0(s0)
    CHECK a0, 0x7788
    /* store then load back every width */
    li a1, 0x8000000080008080
    sd a1, 0(s0)
    lb a0, 0(s0)
    CHECK a0, -128
    lh a0, 0(s0)
    CHECK a0, 0xffffffffffff8080
    lhu a0, 2(s0)
    CHECK a0, 0x8000
    lw a0, 4(s0)
    CHECK a0, 0xffffffff80000000
    lwu a0, 4(s0)
    CHECK a0, 0x80000000

    /* x0: writes are discarded, reads give 0 */
    li x0, 5
    CHECK x0, 0
    addi x0, x0, 1
    CHECK zero, 0
    lui x0, 0x12345
    CHECK zero, 0
    la s0, ldata
    ld x0, 0(s0)
    CHECK zero, 0
    add a0, x0, x0
    CHECK a0, 0
    li a1, 5
    sub a0, x0, a1
    CHECK a0, -5
    auipc x0, 1
    CHECK zero, 0
    /* a store of x0 writes zeros */
    la s0, sdata
    sd x0, 0(s0)
    ld a0, 0(s0)
    CHECK a0, 0
    /* jal x0 / slt into x0 */
    slt x0, x0, a1
    CHECK zero, 0

    /* fence / fence.i execute as no-ops for a single hart */
    fence
    fence rw, rw
    fence.i
    li a0, 1
    CHECK a0, 1

    /* self-modifying code made visible by fence.i */
    la s0, smc
    li a1, 0x00700513     /* addi a0, x0, 7 */
    sw a1, 0(s0)
    fence.i
    li a0, 0
    call smc
    CHECK a0, 7
    li a1, 0x00900513     /* addi a0, x0, 9 */
    sw a1, 0(s0)
    fence.i
    call smc
    CHECK a0, 9
    /* the same in the page that is executing right now */
    la s0, smc_text
    call smc_text
    CHECK a0, 0
    li a1, 0x00b00513     /* addi a0, x0, 11 */
    sw a1, 0(s0)
    fence.i
    call smc_text
    CHECK a0, 11
    li a1, 0x00c00513     /* addi a0, x0, 12 */
    sw a1, 0(s0)
    fence.i
    call smc_text
    CHECK a0, 12
    PASS
smc_text:
    addi a0, x0, 0
    ret

    .data
    .align 3
ldata:
    .dword 0x0a1b2c3de3d47281
    .dword 0x8899aabbccddeeff
sdata:
    .dword 0, 0, 0
    .align 2
smc:
    nop
    ret
