/* SPDX-License-Identifier: MIT */
/* Misaligned loads and stores complete without trapping (the platform
 * supports them in hardware, as QEMU's TCG does): every width at every
 * misaligned offset, sign/zero extension, stores that straddle 8-byte and page
 * boundaries, misaligned FP loads/stores.  Any trap fails the check.
 * The sweeps repeat ld/lw/lhu and sd/sh at every offset of 32 bytes around
 * a page boundary 64 times (so the JIT compiles them at its default
 * threshold): inside the page they take the TLB fast path, across it the
 * slow path, and the results must not tell which.  A misaligned sh also
 * patches an instruction that already ran (a page with decoded code).
 * gen_misaligned.py computed the SWEEP_* values. */
#define TEST_NAME "misaligned"
#include "isa.h"

/* acc = rol(acc, 7) ^ v */
.macro MIX acc, v
    slli t1, \acc, 7
    srli t2, \acc, 57
    or \acc, t1, t2
    xor \acc, \acc, \v
.endm

.macro MLOAD inst, off, val
    la s0, mbuf
    \inst a0, \off(s0)
    CHECK a0, \val
.endm

TEST_MAIN
    MLOAD lh, 1, 0xffffffffffffa291
    MLOAD lh, 3, 0xffffffffffffc4b3
    MLOAD lh, 5, 0xffffffffffffe6d5
    MLOAD lh, 7, 0x8f7
    MLOAD lhu, 1, 0xa291
    MLOAD lhu, 3, 0xc4b3
    MLOAD lhu, 5, 0xe6d5
    MLOAD lhu, 7, 0x8f7
    MLOAD lw, 1, 0xffffffffc4b3a291
    MLOAD lw, 2, 0xffffffffd5c4b3a2
    MLOAD lw, 3, 0xffffffffe6d5c4b3
    MLOAD lw, 5, 0x8f7e6d5
    MLOAD lw, 6, 0x1908f7e6
    MLOAD lw, 7, 0x2a1908f7
    MLOAD lwu, 1, 0xc4b3a291
    MLOAD lwu, 2, 0xd5c4b3a2
    MLOAD lwu, 3, 0xe6d5c4b3
    MLOAD lwu, 5, 0x8f7e6d5
    MLOAD lwu, 6, 0x1908f7e6
    MLOAD lwu, 7, 0x2a1908f7
    MLOAD ld, 1, 0x8f7e6d5c4b3a291
    MLOAD ld, 2, 0x1908f7e6d5c4b3a2
    MLOAD ld, 3, 0x2a1908f7e6d5c4b3
    MLOAD ld, 4, 0x3b2a1908f7e6d5c4
    MLOAD ld, 5, 0x4c3b2a1908f7e6d5
    MLOAD ld, 6, 0x5d4c3b2a1908f7e6
    MLOAD ld, 7, 0x6e5d4c3b2a1908f7
    /* misaligned stores of each width; check bytes around them */
    la s0, sbuf
    li a0, -1
    sd a0, 0(s0)
    sd a0, 8(s0)
    li a1, 0x1122334455667788
    sh a1, 1(s0)
    ld a0, 0(s0)
    CHECK a0, 0xffffffffff7788ff
    sw a1, 5(s0)
    ld a0, 0(s0)
    CHECK a0, 0x667788ffff7788ff
    ld a0, 8(s0)
    CHECK a0, 0xffffffffffffff55
    sd a1, 3(s0)
    ld a0, 0(s0)
    CHECK a0, 0x44556677887788ff
    ld a0, 8(s0)
    CHECK a0, 0xffffffffff112233
    sh a1, 7(s0)
    lhu a0, 7(s0)
    CHECK a0, 0x7788
    sd zero, 0(s0)
    sd zero, 8(s0)
    li a1, 0x0102030405060708
    sd a1, 1(s0)
    ld a0, 0(s0)
    CHECK a0, 0x0203040506070800
    ld a0, 8(s0)
    CHECK a0, 0x01

    /* across a page boundary */
    la s0, page2
    li a1, 0xa1a2a3a4a5a6a7a8
    sd a1, -3(s0)
    ld a0, -3(s0)
    CHECK a0, 0xa1a2a3a4a5a6a7a8
    lw a0, -2(s0)
    CHECK a0, 0xffffffffa4a5a6a7
    lbu a0, -1(s0)
    CHECK a0, 0xa6
    lbu a0, 0(s0)
    CHECK a0, 0xa5
    sw a1, -1(s0)
    lwu a0, -1(s0)
    CHECK a0, 0xa5a6a7a8
    lh a0, -1(s0)
    CHECK a0, 0xffffffffffffa7a8

    /* misaligned FP */
    la s0, sbuf
    li a1, 0x3ff0000000000000
    sd zero, 0(s0)
    sd zero, 8(s0)
    sd a1, 3(s0)
    fld fa0, 3(s0)
    fmv.x.d a0, fa0
    CHECK a0, 0x3ff0000000000000
    fsd fa0, 9(s0)
    ld a0, 9(s0)
    CHECK a0, 0x3ff0000000000000
    li a1, 0x3f800000
    sw a1, 2(s0)
    flw fa1, 2(s0)
    fmv.x.w a0, fa1
    CHECK a0, 0x3f800000
    fsw fa1, 5(s0)
    lw a0, 5(s0)
    CHECK a0, 0x3f800000

    /* load sweep: offsets 0..23 of xbuf, ld/lw/lhu, 64 times */
    li s2, 64
1:  la s0, xbuf
    li s3, 0
    li a5, 0
2:  add t0, s0, s3
    ld a0, 0(t0)
    MIX a5, a0
    lw a0, 1(t0)
    MIX a5, a0
    lhu a0, 2(t0)
    MIX a5, a0
    addi s3, s3, 1
    li t1, 24
    blt s3, t1, 2b
    addi s2, s2, -1
    bnez s2, 1b
    CHECK a5, 0xe20f1007621e53a6

    /* store sweep: sd (off+1)*K at off, sh its bits 8..23 at off+5, ld back */
    li s2, 64
    li t3, 0x0123456789abcdef
1:  la s0, xbuf
    li s3, 0
    li a5, 0
2:  add t0, s0, s3
    addi t4, s3, 1
    mul t4, t4, t3
    sd t4, 0(t0)
    srli t5, t4, 8
    sh t5, 5(t0)
    ld a0, 0(t0)
    MIX a5, a0
    addi s3, s3, 1
    li t1, 24
    blt s3, t1, 2b
    addi s2, s2, -1
    bnez s2, 1b
    CHECK a5, 0x7213a2aba7c169f9
    la s0, xbuf
    ld a0, 0(s0)
    CHECK a0, 0x78899aabbccddeef
    ld a0, 8(s0)
    CHECK a0, 0xf001122334455667
    ld a0, 16(s0)
    CHECK a0, 0x68798a9bacbdcedf
    ld a0, 24(s0)
    CHECK a0, 0xb71b1b4eb4e81b4e

    /* a misaligned store into code that ran: addi a0, zero, 5 -> 6 */
    jal ra, patchme
    CHECK a0, 5
    la s0, patchme
    lhu a0, 1(s0)       /* bits 8..23: imm[3:0] is bits 12..15 of it */
    li t1, 0x3000
    xor a0, a0, t1
    sh a0, 1(s0)
    fence.i
    jal ra, patchme
    CHECK a0, 6
    CHECK_NO_MTRAP
    PASS

patchme:
    addi a0, zero, 5
    ret

    .data
    .align 4
mbuf:
    .byte 0x80,0x91,0xa2,0xb3,0xc4,0xd5,0xe6,0xf7,0x8,0x19,0x2a,0x3b,0x4c,0x5d,0x6e,0x7f,0x90,0xa1,0xb2,0xc3,0xd4,0xe5,0xf6,0x7,0x18,0x29,0x3a,0x4b,0x5c,0x6d,0x7e,0x8f
    .align 4
sbuf:
    .skip 32
    .align 12
    .skip 4096
page2:
    .skip 64
    .align 12
    .skip 4096 - 16
xbuf: /* xbuf + 16 is page-aligned */
    .byte 0x3c,0x61,0x86,0xab,0xd0,0xf5,0x1a,0x3f,0x64,0x89,0xae,0xd3,0xf8,0x1d,0x42,0x67,0x8c,0xb1,0xd6,0xfb,0x20,0x45,0x6a,0x8f,0xb4,0xd9,0xfe,0x23,0x48,0x6d,0x92,0xb7
