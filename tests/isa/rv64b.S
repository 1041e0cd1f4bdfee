/* SPDX-License-Identifier: MIT */
/* Zba, Zbb, Zbc, Zbs, Zbkb, Zbkc, Zbkx and Zicond: every instruction on
 * edge values (zero, all ones, sign bits, 32-bit boundaries, byte
 * patterns) and shift amounts 0, 1, mid and max; expected values from a
 * Python model of the specifications (gen_b.py).  Then reserved encodings
 * next to them still trap as illegal, and rd = x0 writes nothing. */
#define TEST_NAME "rv64b"
#include "isa.h"
/* binutils 2.40 predates Zicond; QEMU 7.2 lacks it, so the QEMU build
 * computes the same with base instructions (to validate the other checks). */
#ifdef QEMU_QUIRKS
.macro czero_eqz rd, rs1, rs2
    snez t4, \rs2
    neg t4, t4
    and \rd, \rs1, t4
.endm
.macro czero_nez rd, rs1, rs2
    seqz t4, \rs2
    neg t4, t4
    and \rd, \rs1, t4
.endm
#else
.macro czero_eqz rd, rs1, rs2
    .insn r 0x33, 5, 7, \rd, \rs1, \rs2
.endm
.macro czero_nez rd, rs1, rs2
    .insn r 0x33, 7, 7, \rd, \rs1, \rs2
.endm
#endif
.option arch, +zba, +zbb, +zbc, +zbs, +zbkb, +zbkc, +zbkx
TEST_MAIN
    TEST_RR sh1add, 0x0, 0x0, 0x0
    TEST_RR sh1add, 0x2, 0x1, 0x0
    TEST_RR sh1add, 0x1, 0x0, 0x1
    TEST_RR sh1add, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR sh1add, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR sh1add, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh1add, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh1add, 0x23456789abcdeff0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh1add, 0xfdb97530eca86444, 0xfedcba9876543210, 0x24
    TEST_RR sh1add, 0x100000041, 0x80000001, 0x3f
    TEST_RR sh1add, 0xffffffff00000021, 0xffffffff80000000, 0x21
    TEST_RR sh1add, 0xe0d0c0b0a090807, 0x706050403020100, 0x1020304050607
    TEST_RR sh1add, 0xce5a5a9a2e73c9ae, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR sh2add, 0x0, 0x0, 0x0
    TEST_RR sh2add, 0x4, 0x1, 0x0
    TEST_RR sh2add, 0x1, 0x0, 0x1
    TEST_RR sh2add, 0xfffffffffffffffd, 0xffffffffffffffff, 0x1
    TEST_RR sh2add, 0x3, 0x1, 0xffffffffffffffff
    TEST_RR sh2add, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh2add, 0x7ffffffffffffffc, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh2add, 0x47ae147ae147add0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh2add, 0xfb72ea61d950c864, 0xfedcba9876543210, 0x24
    TEST_RR sh2add, 0x200000043, 0x80000001, 0x3f
    TEST_RR sh2add, 0xfffffffe00000021, 0xffffffff80000000, 0x21
    TEST_RR sh2add, 0x1c191613100d0a07, 0x706050403020100, 0x1020304050607
    TEST_RR sh2add, 0x8bb5d879c4713f2a, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR sh3add, 0x0, 0x0, 0x0
    TEST_RR sh3add, 0x8, 0x1, 0x0
    TEST_RR sh3add, 0x1, 0x0, 0x1
    TEST_RR sh3add, 0xfffffffffffffff9, 0xffffffffffffffff, 0x1
    TEST_RR sh3add, 0x7, 0x1, 0xffffffffffffffff
    TEST_RR sh3add, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh3add, 0x7ffffffffffffff8, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh3add, 0x907f6e5d4c3b2990, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh3add, 0xf6e5d4c3b2a190a4, 0xfedcba9876543210, 0x24
    TEST_RR sh3add, 0x400000047, 0x80000001, 0x3f
    TEST_RR sh3add, 0xfffffffc00000021, 0xffffffff80000000, 0x21
    TEST_RR sh3add, 0x38312a231c150e07, 0x706050403020100, 0x1020304050607
    TEST_RR sh3add, 0x66cd438f06c2a22, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR add.uw, 0x0, 0x0, 0x0
    TEST_RR add.uw, 0x1, 0x1, 0x0
    TEST_RR add.uw, 0x1, 0x0, 0x1
    TEST_RR add.uw, 0x100000000, 0xffffffffffffffff, 0x1
    TEST_RR add.uw, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR add.uw, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR add.uw, 0x80000000ffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR add.uw, 0xfedcba9911111100, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR add.uw, 0x76543234, 0xfedcba9876543210, 0x24
    TEST_RR add.uw, 0x80000040, 0x80000001, 0x3f
    TEST_RR add.uw, 0x80000021, 0xffffffff80000000, 0x21
    TEST_RR add.uw, 0x1020307070707, 0x706050403020100, 0x1020304050607
    TEST_RR add.uw, 0x10fedcbb63750ef0, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR sh1add.uw, 0x0, 0x0, 0x0
    TEST_RR sh1add.uw, 0x2, 0x1, 0x0
    TEST_RR sh1add.uw, 0x1, 0x0, 0x1
    TEST_RR sh1add.uw, 0x1ffffffff, 0xffffffffffffffff, 0x1
    TEST_RR sh1add.uw, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR sh1add.uw, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh1add.uw, 0x80000001fffffffe, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh1add.uw, 0xfedcba99abcdeff0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh1add.uw, 0xeca86444, 0xfedcba9876543210, 0x24
    TEST_RR sh1add.uw, 0x100000041, 0x80000001, 0x3f
    TEST_RR sh1add.uw, 0x100000021, 0xffffffff80000000, 0x21
    TEST_RR sh1add.uw, 0x102030a090807, 0x706050403020100, 0x1020304050607
    TEST_RR sh1add.uw, 0x10fedcbc2e73c9ae, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR sh2add.uw, 0x0, 0x0, 0x0
    TEST_RR sh2add.uw, 0x4, 0x1, 0x0
    TEST_RR sh2add.uw, 0x1, 0x0, 0x1
    TEST_RR sh2add.uw, 0x3fffffffd, 0xffffffffffffffff, 0x1
    TEST_RR sh2add.uw, 0x3, 0x1, 0xffffffffffffffff
    TEST_RR sh2add.uw, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh2add.uw, 0x80000003fffffffc, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh2add.uw, 0xfedcba9ae147add0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh2add.uw, 0x1d950c864, 0xfedcba9876543210, 0x24
    TEST_RR sh2add.uw, 0x200000043, 0x80000001, 0x3f
    TEST_RR sh2add.uw, 0x200000021, 0xffffffff80000000, 0x21
    TEST_RR sh2add.uw, 0x10203100d0a07, 0x706050403020100, 0x1020304050607
    TEST_RR sh2add.uw, 0x10fedcbdc4713f2a, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR sh3add.uw, 0x0, 0x0, 0x0
    TEST_RR sh3add.uw, 0x8, 0x1, 0x0
    TEST_RR sh3add.uw, 0x1, 0x0, 0x1
    TEST_RR sh3add.uw, 0x7fffffff9, 0xffffffffffffffff, 0x1
    TEST_RR sh3add.uw, 0x7, 0x1, 0xffffffffffffffff
    TEST_RR sh3add.uw, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR sh3add.uw, 0x80000007fffffff8, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR sh3add.uw, 0xfedcba9d4c3b2990, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR sh3add.uw, 0x3b2a190a4, 0xfedcba9876543210, 0x24
    TEST_RR sh3add.uw, 0x400000047, 0x80000001, 0x3f
    TEST_RR sh3add.uw, 0x400000021, 0xffffffff80000000, 0x21
    TEST_RR sh3add.uw, 0x102031c150e07, 0x706050403020100, 0x1020304050607
    TEST_RR sh3add.uw, 0x10fedcc0f06c2a22, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR andn, 0x0, 0x0, 0x0
    TEST_RR andn, 0x1, 0x1, 0x0
    TEST_RR andn, 0x0, 0x0, 0x1
    TEST_RR andn, 0xfffffffffffffffe, 0xffffffffffffffff, 0x1
    TEST_RR andn, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR andn, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR andn, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR andn, 0x20446088a8cce0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR andn, 0xfedcba9876543210, 0xfedcba9876543210, 0x24
    TEST_RR andn, 0x80000000, 0x80000001, 0x3f
    TEST_RR andn, 0xffffffff80000000, 0xffffffff80000000, 0x21
    TEST_RR andn, 0x706050403020100, 0x706050403020100, 0x1020304050607
    TEST_RR andn, 0xce0122454288aa8c, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR orn, 0xffffffffffffffff, 0x0, 0x0
    TEST_RR orn, 0xffffffffffffffff, 0x1, 0x0
    TEST_RR orn, 0xfffffffffffffffe, 0x0, 0x1
    TEST_RR orn, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR orn, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR orn, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR orn, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR orn, 0x1337577f9bbfdfff, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR orn, 0xffffffffffffffdb, 0xfedcba9876543210, 0x24
    TEST_RR orn, 0xffffffffffffffc1, 0x80000001, 0x3f
    TEST_RR orn, 0xffffffffffffffde, 0xffffffff80000000, 0x21
    TEST_RR orn, 0xfffefdfcfbfaf9f8, 0x706050403020100, 0x1020304050607
    TEST_RR orn, 0xffadbfefefffbbff, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR xnor, 0xffffffffffffffff, 0x0, 0x0
    TEST_RR xnor, 0xfffffffffffffffe, 0x1, 0x0
    TEST_RR xnor, 0xfffffffffffffffe, 0x0, 0x1
    TEST_RR xnor, 0x1, 0xffffffffffffffff, 0x1
    TEST_RR xnor, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR xnor, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR xnor, 0x0, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR xnor, 0x1317131f1317131f, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR xnor, 0x123456789abcdcb, 0xfedcba9876543210, 0x24
    TEST_RR xnor, 0xffffffff7fffffc1, 0x80000001, 0x3f
    TEST_RR xnor, 0x7fffffde, 0xffffffff80000000, 0x21
    TEST_RR xnor, 0xf8f8f8f8f8f8f8f8, 0x706050403020100, 0x1020304050607
    TEST_RR xnor, 0x31ac9daaad771173, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR max, 0x0, 0x0, 0x0
    TEST_RR max, 0x1, 0x1, 0x0
    TEST_RR max, 0x1, 0x0, 0x1
    TEST_RR max, 0x1, 0xffffffffffffffff, 0x1
    TEST_RR max, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR max, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR max, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR max, 0x123456789abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR max, 0x24, 0xfedcba9876543210, 0x24
    TEST_RR max, 0x80000001, 0x80000001, 0x3f
    TEST_RR max, 0x21, 0xffffffff80000000, 0x21
    TEST_RR max, 0x706050403020100, 0x706050403020100, 0x1020304050607
    TEST_RR max, 0x10fedcba98765432, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR maxu, 0x0, 0x0, 0x0
    TEST_RR maxu, 0x1, 0x1, 0x0
    TEST_RR maxu, 0x1, 0x0, 0x1
    TEST_RR maxu, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR maxu, 0xffffffffffffffff, 0x1, 0xffffffffffffffff
    TEST_RR maxu, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR maxu, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR maxu, 0xfedcba9876543210, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR maxu, 0xfedcba9876543210, 0xfedcba9876543210, 0x24
    TEST_RR maxu, 0x80000001, 0x80000001, 0x3f
    TEST_RR maxu, 0xffffffff80000000, 0xffffffff80000000, 0x21
    TEST_RR maxu, 0x706050403020100, 0x706050403020100, 0x1020304050607
    TEST_RR maxu, 0xdeadbeefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR min, 0x0, 0x0, 0x0
    TEST_RR min, 0x0, 0x1, 0x0
    TEST_RR min, 0x0, 0x0, 0x1
    TEST_RR min, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR min, 0xffffffffffffffff, 0x1, 0xffffffffffffffff
    TEST_RR min, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR min, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR min, 0xfedcba9876543210, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR min, 0xfedcba9876543210, 0xfedcba9876543210, 0x24
    TEST_RR min, 0x3f, 0x80000001, 0x3f
    TEST_RR min, 0xffffffff80000000, 0xffffffff80000000, 0x21
    TEST_RR min, 0x1020304050607, 0x706050403020100, 0x1020304050607
    TEST_RR min, 0xdeadbeefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR minu, 0x0, 0x0, 0x0
    TEST_RR minu, 0x0, 0x1, 0x0
    TEST_RR minu, 0x0, 0x0, 0x1
    TEST_RR minu, 0x1, 0xffffffffffffffff, 0x1
    TEST_RR minu, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR minu, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR minu, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR minu, 0x123456789abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR minu, 0x24, 0xfedcba9876543210, 0x24
    TEST_RR minu, 0x3f, 0x80000001, 0x3f
    TEST_RR minu, 0x21, 0xffffffff80000000, 0x21
    TEST_RR minu, 0x1020304050607, 0x706050403020100, 0x1020304050607
    TEST_RR minu, 0x10fedcba98765432, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR rol, 0x0, 0x0, 0x0
    TEST_RR rol, 0x1, 0x1, 0x0
    TEST_RR rol, 0x0, 0x0, 0x1
    TEST_RR rol, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR rol, 0x8000000000000000, 0x1, 0xffffffffffffffff
    TEST_RR rol, 0x4000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR rol, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR rol, 0x56789abcdef01234, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR rol, 0x6543210fedcba987, 0xfedcba9876543210, 0x24
    TEST_RR rol, 0x8000000040000000, 0x80000001, 0x3f
    TEST_RR rol, 0x1ffffffff, 0xffffffff80000000, 0x21
    TEST_RR rol, 0x8302820181008003, 0x706050403020100, 0x1020304050607
    TEST_RR rol, 0xeafb7ab6fbbf2bfa, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR ror, 0x0, 0x0, 0x0
    TEST_RR ror, 0x1, 0x1, 0x0
    TEST_RR ror, 0x0, 0x0, 0x1
    TEST_RR ror, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR ror, 0x2, 0x1, 0xffffffffffffffff
    TEST_RR ror, 0x1, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR ror, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR ror, 0xdef0123456789abc, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR ror, 0x876543210fedcba9, 0xfedcba9876543210, 0x24
    TEST_RR ror, 0x100000002, 0x80000001, 0x3f
    TEST_RR ror, 0xc00000007fffffff, 0xffffffff80000000, 0x21
    TEST_RR ror, 0xe0c0a08060402, 0x706050403020100, 0x1020304050607
    TEST_RR ror, 0x6fbbf2bfaeafb7ab, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR rolw, 0x0, 0x0, 0x0
    TEST_RR rolw, 0x1, 0x1, 0x0
    TEST_RR rolw, 0x0, 0x0, 0x1
    TEST_RR rolw, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR rolw, 0xffffffff80000000, 0x1, 0xffffffffffffffff
    TEST_RR rolw, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR rolw, 0xffffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR rolw, 0xffffffffdef09abc, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR rolw, 0x65432107, 0xfedcba9876543210, 0x24
    TEST_RR rolw, 0xffffffffc0000000, 0x80000001, 0x3f
    TEST_RR rolw, 0x1, 0xffffffff80000000, 0x21
    TEST_RR rolw, 0xffffffff81008001, 0x706050403020100, 0x1020304050607
    TEST_RR rolw, 0xffffffffeafb2bfa, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR rorw, 0x0, 0x0, 0x0
    TEST_RR rorw, 0x1, 0x1, 0x0
    TEST_RR rorw, 0x0, 0x0, 0x1
    TEST_RR rorw, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR rorw, 0x2, 0x1, 0xffffffffffffffff
    TEST_RR rorw, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR rorw, 0xffffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR rorw, 0xffffffffdef09abc, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR rorw, 0x7654321, 0xfedcba9876543210, 0x24
    TEST_RR rorw, 0x3, 0x80000001, 0x3f
    TEST_RR rorw, 0x40000000, 0xffffffff80000000, 0x21
    TEST_RR rorw, 0x60402, 0x706050403020100, 0x1020304050607
    TEST_RR rorw, 0xffffffffaeafb2bf, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR clmul, 0x0, 0x0, 0x0
    TEST_RR clmul, 0x0, 0x1, 0x0
    TEST_RR clmul, 0x0, 0x0, 0x1
    TEST_RR clmul, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR clmul, 0xffffffffffffffff, 0x1, 0xffffffffffffffff
    TEST_RR clmul, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR clmul, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR clmul, 0xa0789828c810f00, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR clmul, 0x20e5b96f13d68a40, 0xfedcba9876543210, 0x24
    TEST_RR clmul, 0x1f8000003f, 0x80000001, 0x3f
    TEST_RR clmul, 0xf80000000, 0xffffffff80000000, 0x21
    TEST_RR clmul, 0x10071800080700, 0x706050403020100, 0x1020304050607
    TEST_RR clmul, 0x155026f9060b115c, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR clmulh, 0x0, 0x0, 0x0
    TEST_RR clmulh, 0x0, 0x1, 0x0
    TEST_RR clmulh, 0x0, 0x0, 0x1
    TEST_RR clmulh, 0x0, 0xffffffffffffffff, 0x1
    TEST_RR clmulh, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR clmulh, 0x3fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR clmulh, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR clmulh, 0xe038d8688850b04, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR clmulh, 0x1c, 0xfedcba9876543210, 0x24
    TEST_RR clmulh, 0x0, 0x80000001, 0x3f
    TEST_RR clmulh, 0x1f, 0xffffffff80000000, 0x21
    TEST_RR clmulh, 0x70800180710, 0x706050403020100, 0x1020304050607
    TEST_RR clmulh, 0xda07b548762d568, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR clmulr, 0x0, 0x0, 0x0
    TEST_RR clmulr, 0x0, 0x1, 0x0
    TEST_RR clmulr, 0x0, 0x0, 0x1
    TEST_RR clmulr, 0x1, 0xffffffffffffffff, 0x1
    TEST_RR clmulr, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR clmulr, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR clmulr, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR clmulr, 0x1c071b0d110a1608, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR clmulr, 0x38, 0xfedcba9876543210, 0x24
    TEST_RR clmulr, 0x0, 0x80000001, 0x3f
    TEST_RR clmulr, 0x3e, 0xffffffff80000000, 0x21
    TEST_RR clmulr, 0xe1000300e20, 0x706050403020100, 0x1020304050607
    TEST_RR clmulr, 0x1b40f6a90ec5aad0, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR bclr, 0x0, 0x0, 0x0
    TEST_RR bclr, 0x0, 0x1, 0x0
    TEST_RR bclr, 0x0, 0x0, 0x1
    TEST_RR bclr, 0xfffffffffffffffd, 0xffffffffffffffff, 0x1
    TEST_RR bclr, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR bclr, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR bclr, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR bclr, 0x123456789abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR bclr, 0xfedcba8876543210, 0xfedcba9876543210, 0x24
    TEST_RR bclr, 0x80000001, 0x80000001, 0x3f
    TEST_RR bclr, 0xfffffffd80000000, 0xffffffff80000000, 0x21
    TEST_RR bclr, 0x706050403020100, 0x706050403020100, 0x1020304050607
    TEST_RR bclr, 0xdea9beefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR bext, 0x0, 0x0, 0x0
    TEST_RR bext, 0x1, 0x1, 0x0
    TEST_RR bext, 0x0, 0x0, 0x1
    TEST_RR bext, 0x1, 0xffffffffffffffff, 0x1
    TEST_RR bext, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR bext, 0x1, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR bext, 0x1, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR bext, 0x0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR bext, 0x1, 0xfedcba9876543210, 0x24
    TEST_RR bext, 0x0, 0x80000001, 0x3f
    TEST_RR bext, 0x1, 0xffffffff80000000, 0x21
    TEST_RR bext, 0x0, 0x706050403020100, 0x1020304050607
    TEST_RR bext, 0x1, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR binv, 0x1, 0x0, 0x0
    TEST_RR binv, 0x0, 0x1, 0x0
    TEST_RR binv, 0x2, 0x0, 0x1
    TEST_RR binv, 0xfffffffffffffffd, 0xffffffffffffffff, 0x1
    TEST_RR binv, 0x8000000000000001, 0x1, 0xffffffffffffffff
    TEST_RR binv, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR binv, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR binv, 0x123456789abddef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR binv, 0xfedcba8876543210, 0xfedcba9876543210, 0x24
    TEST_RR binv, 0x8000000080000001, 0x80000001, 0x3f
    TEST_RR binv, 0xfffffffd80000000, 0xffffffff80000000, 0x21
    TEST_RR binv, 0x706050403020180, 0x706050403020100, 0x1020304050607
    TEST_RR binv, 0xdea9beefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR bset, 0x1, 0x0, 0x0
    TEST_RR bset, 0x1, 0x1, 0x0
    TEST_RR bset, 0x2, 0x0, 0x1
    TEST_RR bset, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR bset, 0x8000000000000001, 0x1, 0xffffffffffffffff
    TEST_RR bset, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR bset, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR bset, 0x123456789abddef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR bset, 0xfedcba9876543210, 0xfedcba9876543210, 0x24
    TEST_RR bset, 0x8000000080000001, 0x80000001, 0x3f
    TEST_RR bset, 0xffffffff80000000, 0xffffffff80000000, 0x21
    TEST_RR bset, 0x706050403020180, 0x706050403020100, 0x1020304050607
    TEST_RR bset, 0xdeadbeefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR pack, 0x0, 0x0, 0x0
    TEST_RR pack, 0x1, 0x1, 0x0
    TEST_RR pack, 0x100000000, 0x0, 0x1
    TEST_RR pack, 0x1ffffffff, 0xffffffffffffffff, 0x1
    TEST_RR pack, 0xffffffff00000001, 0x1, 0xffffffffffffffff
    TEST_RR pack, 0xffffffff00000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR pack, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR pack, 0x765432109abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR pack, 0x2476543210, 0xfedcba9876543210, 0x24
    TEST_RR pack, 0x3f80000001, 0x80000001, 0x3f
    TEST_RR pack, 0x2180000000, 0xffffffff80000000, 0x21
    TEST_RR pack, 0x405060703020100, 0x706050403020100, 0x1020304050607
    TEST_RR pack, 0x98765432cafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR packh, 0x0, 0x0, 0x0
    TEST_RR packh, 0x1, 0x1, 0x0
    TEST_RR packh, 0x100, 0x0, 0x1
    TEST_RR packh, 0x1ff, 0xffffffffffffffff, 0x1
    TEST_RR packh, 0xff01, 0x1, 0xffffffffffffffff
    TEST_RR packh, 0xff00, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR packh, 0xff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR packh, 0x10f0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR packh, 0x2410, 0xfedcba9876543210, 0x24
    TEST_RR packh, 0x3f01, 0x80000001, 0x3f
    TEST_RR packh, 0x2100, 0xffffffff80000000, 0x21
    TEST_RR packh, 0x700, 0x706050403020100, 0x1020304050607
    TEST_RR packh, 0x32be, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR packw, 0x0, 0x0, 0x0
    TEST_RR packw, 0x1, 0x1, 0x0
    TEST_RR packw, 0x10000, 0x0, 0x1
    TEST_RR packw, 0x1ffff, 0xffffffffffffffff, 0x1
    TEST_RR packw, 0xffffffffffff0001, 0x1, 0xffffffffffffffff
    TEST_RR packw, 0xffffffffffff0000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR packw, 0xffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR packw, 0x3210def0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR packw, 0x243210, 0xfedcba9876543210, 0x24
    TEST_RR packw, 0x3f0001, 0x80000001, 0x3f
    TEST_RR packw, 0x210000, 0xffffffff80000000, 0x21
    TEST_RR packw, 0x6070100, 0x706050403020100, 0x1020304050607
    TEST_RR packw, 0x5432babe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR xperm4, 0x0, 0x0, 0x0
    TEST_RR xperm4, 0x1111111111111111, 0x1, 0x0
    TEST_RR xperm4, 0x0, 0x0, 0x1
    TEST_RR xperm4, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR xperm4, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR xperm4, 0x888888888888888, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR xperm4, 0xffffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR xperm4, 0x123456789abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR xperm4, 0x24, 0xfedcba9876543210, 0x24
    TEST_RR xperm4, 0x1111111111111100, 0x80000001, 0x3f
    TEST_RR xperm4, 0x0, 0xffffffff80000000, 0x21
    TEST_RR xperm4, 0x10002000300, 0x706050403020100, 0x1020304050607
    TEST_RR xperm4, 0xbedeadbeefcafeba, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR xperm8, 0x0, 0x0, 0x0
    TEST_RR xperm8, 0x101010101010101, 0x1, 0x0
    TEST_RR xperm8, 0x0, 0x0, 0x1
    TEST_RR xperm8, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR xperm8, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR xperm8, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR xperm8, 0xffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR xperm8, 0x0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR xperm8, 0x1010101010101000, 0xfedcba9876543210, 0x24
    TEST_RR xperm8, 0x101010101010100, 0x80000001, 0x3f
    TEST_RR xperm8, 0x0, 0xffffffff80000000, 0x21
    TEST_RR xperm8, 0x1020304050607, 0x706050403020100, 0x1020304050607
    TEST_RR xperm8, 0x0, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR czero_eqz, 0x0, 0x0, 0x0
    TEST_RR czero_eqz, 0x0, 0x1, 0x0
    TEST_RR czero_eqz, 0x0, 0x0, 0x1
    TEST_RR czero_eqz, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
    TEST_RR czero_eqz, 0x1, 0x1, 0xffffffffffffffff
    TEST_RR czero_eqz, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR czero_eqz, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR czero_eqz, 0x123456789abcdef0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR czero_eqz, 0xfedcba9876543210, 0xfedcba9876543210, 0x24
    TEST_RR czero_eqz, 0x80000001, 0x80000001, 0x3f
    TEST_RR czero_eqz, 0xffffffff80000000, 0xffffffff80000000, 0x21
    TEST_RR czero_eqz, 0x706050403020100, 0x706050403020100, 0x1020304050607
    TEST_RR czero_eqz, 0xdeadbeefcafebabe, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_RR czero_nez, 0x0, 0x0, 0x0
    TEST_RR czero_nez, 0x1, 0x1, 0x0
    TEST_RR czero_nez, 0x0, 0x0, 0x1
    TEST_RR czero_nez, 0x0, 0xffffffffffffffff, 0x1
    TEST_RR czero_nez, 0x0, 0x1, 0xffffffffffffffff
    TEST_RR czero_nez, 0x0, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR czero_nez, 0x0, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR czero_nez, 0x0, 0x123456789abcdef0, 0xfedcba9876543210
    TEST_RR czero_nez, 0x0, 0xfedcba9876543210, 0x24
    TEST_RR czero_nez, 0x0, 0x80000001, 0x3f
    TEST_RR czero_nez, 0x0, 0xffffffff80000000, 0x21
    TEST_RR czero_nez, 0x0, 0x706050403020100, 0x1020304050607
    TEST_RR czero_nez, 0x0, 0xdeadbeefcafebabe, 0x10fedcba98765432
    TEST_R clz, 0x40, 0x0
    TEST_R clz, 0x3f, 0x1
    TEST_R clz, 0x0, 0xffffffffffffffff
    TEST_R clz, 0x0, 0x8000000000000000
    TEST_R clz, 0x1, 0x7fffffffffffffff
    TEST_R clz, 0x20, 0x80000000
    TEST_R clz, 0x0, 0xffffffff80000000
    TEST_R clz, 0x3, 0x123456789abcdef0
    TEST_R clz, 0x0, 0xfedcba9876543210
    TEST_R clz, 0x10, 0xff00000000ff
    TEST_R clz, 0x0, 0x8040201008040201
    TEST_R clz, 0x39, 0x7f
    TEST_R clzw, 0x20, 0x0
    TEST_R clzw, 0x1f, 0x1
    TEST_R clzw, 0x0, 0xffffffffffffffff
    TEST_R clzw, 0x20, 0x8000000000000000
    TEST_R clzw, 0x0, 0x7fffffffffffffff
    TEST_R clzw, 0x0, 0x80000000
    TEST_R clzw, 0x0, 0xffffffff80000000
    TEST_R clzw, 0x0, 0x123456789abcdef0
    TEST_R clzw, 0x1, 0xfedcba9876543210
    TEST_R clzw, 0x18, 0xff00000000ff
    TEST_R clzw, 0x4, 0x8040201008040201
    TEST_R clzw, 0x19, 0x7f
    TEST_R ctz, 0x40, 0x0
    TEST_R ctz, 0x0, 0x1
    TEST_R ctz, 0x0, 0xffffffffffffffff
    TEST_R ctz, 0x3f, 0x8000000000000000
    TEST_R ctz, 0x0, 0x7fffffffffffffff
    TEST_R ctz, 0x1f, 0x80000000
    TEST_R ctz, 0x1f, 0xffffffff80000000
    TEST_R ctz, 0x4, 0x123456789abcdef0
    TEST_R ctz, 0x4, 0xfedcba9876543210
    TEST_R ctz, 0x0, 0xff00000000ff
    TEST_R ctz, 0x0, 0x8040201008040201
    TEST_R ctz, 0x0, 0x7f
    TEST_R ctzw, 0x20, 0x0
    TEST_R ctzw, 0x0, 0x1
    TEST_R ctzw, 0x0, 0xffffffffffffffff
#ifndef QEMU_QUIRKS
    TEST_R ctzw, 0x20, 0x8000000000000000
#endif
    TEST_R ctzw, 0x0, 0x7fffffffffffffff
    TEST_R ctzw, 0x1f, 0x80000000
    TEST_R ctzw, 0x1f, 0xffffffff80000000
    TEST_R ctzw, 0x4, 0x123456789abcdef0
    TEST_R ctzw, 0x4, 0xfedcba9876543210
    TEST_R ctzw, 0x0, 0xff00000000ff
    TEST_R ctzw, 0x0, 0x8040201008040201
    TEST_R ctzw, 0x0, 0x7f
    TEST_R cpop, 0x0, 0x0
    TEST_R cpop, 0x1, 0x1
    TEST_R cpop, 0x40, 0xffffffffffffffff
    TEST_R cpop, 0x1, 0x8000000000000000
    TEST_R cpop, 0x3f, 0x7fffffffffffffff
    TEST_R cpop, 0x1, 0x80000000
    TEST_R cpop, 0x21, 0xffffffff80000000
    TEST_R cpop, 0x20, 0x123456789abcdef0
    TEST_R cpop, 0x20, 0xfedcba9876543210
    TEST_R cpop, 0x10, 0xff00000000ff
    TEST_R cpop, 0x8, 0x8040201008040201
    TEST_R cpop, 0x7, 0x7f
    TEST_R cpopw, 0x0, 0x0
    TEST_R cpopw, 0x1, 0x1
    TEST_R cpopw, 0x20, 0xffffffffffffffff
    TEST_R cpopw, 0x0, 0x8000000000000000
    TEST_R cpopw, 0x20, 0x7fffffffffffffff
    TEST_R cpopw, 0x1, 0x80000000
    TEST_R cpopw, 0x1, 0xffffffff80000000
    TEST_R cpopw, 0x13, 0x123456789abcdef0
    TEST_R cpopw, 0xc, 0xfedcba9876543210
    TEST_R cpopw, 0x8, 0xff00000000ff
    TEST_R cpopw, 0x4, 0x8040201008040201
    TEST_R cpopw, 0x7, 0x7f
    TEST_R sext.b, 0x0, 0x0
    TEST_R sext.b, 0x1, 0x1
    TEST_R sext.b, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sext.b, 0x0, 0x8000000000000000
    TEST_R sext.b, 0xffffffffffffffff, 0x7fffffffffffffff
    TEST_R sext.b, 0x0, 0x80000000
    TEST_R sext.b, 0x0, 0xffffffff80000000
    TEST_R sext.b, 0xfffffffffffffff0, 0x123456789abcdef0
    TEST_R sext.b, 0x10, 0xfedcba9876543210
    TEST_R sext.b, 0xffffffffffffffff, 0xff00000000ff
    TEST_R sext.b, 0x1, 0x8040201008040201
    TEST_R sext.b, 0x7f, 0x7f
    TEST_R sext.h, 0x0, 0x0
    TEST_R sext.h, 0x1, 0x1
    TEST_R sext.h, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R sext.h, 0x0, 0x8000000000000000
    TEST_R sext.h, 0xffffffffffffffff, 0x7fffffffffffffff
    TEST_R sext.h, 0x0, 0x80000000
    TEST_R sext.h, 0x0, 0xffffffff80000000
    TEST_R sext.h, 0xffffffffffffdef0, 0x123456789abcdef0
    TEST_R sext.h, 0x3210, 0xfedcba9876543210
    TEST_R sext.h, 0xff, 0xff00000000ff
    TEST_R sext.h, 0x201, 0x8040201008040201
    TEST_R sext.h, 0x7f, 0x7f
    TEST_R zext.h, 0x0, 0x0
    TEST_R zext.h, 0x1, 0x1
    TEST_R zext.h, 0xffff, 0xffffffffffffffff
    TEST_R zext.h, 0x0, 0x8000000000000000
    TEST_R zext.h, 0xffff, 0x7fffffffffffffff
    TEST_R zext.h, 0x0, 0x80000000
    TEST_R zext.h, 0x0, 0xffffffff80000000
    TEST_R zext.h, 0xdef0, 0x123456789abcdef0
    TEST_R zext.h, 0x3210, 0xfedcba9876543210
    TEST_R zext.h, 0xff, 0xff00000000ff
    TEST_R zext.h, 0x201, 0x8040201008040201
    TEST_R zext.h, 0x7f, 0x7f
    TEST_R zext.w, 0x0, 0x0
    TEST_R zext.w, 0x1, 0x1
    TEST_R zext.w, 0xffffffff, 0xffffffffffffffff
    TEST_R zext.w, 0x0, 0x8000000000000000
    TEST_R zext.w, 0xffffffff, 0x7fffffffffffffff
    TEST_R zext.w, 0x80000000, 0x80000000
    TEST_R zext.w, 0x80000000, 0xffffffff80000000
    TEST_R zext.w, 0x9abcdef0, 0x123456789abcdef0
    TEST_R zext.w, 0x76543210, 0xfedcba9876543210
    TEST_R zext.w, 0xff, 0xff00000000ff
    TEST_R zext.w, 0x8040201, 0x8040201008040201
    TEST_R zext.w, 0x7f, 0x7f
    TEST_R orc.b, 0x0, 0x0
    TEST_R orc.b, 0xff, 0x1
    TEST_R orc.b, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R orc.b, 0xff00000000000000, 0x8000000000000000
    TEST_R orc.b, 0xffffffffffffffff, 0x7fffffffffffffff
    TEST_R orc.b, 0xff000000, 0x80000000
    TEST_R orc.b, 0xffffffffff000000, 0xffffffff80000000
    TEST_R orc.b, 0xffffffffffffffff, 0x123456789abcdef0
    TEST_R orc.b, 0xffffffffffffffff, 0xfedcba9876543210
    TEST_R orc.b, 0xff00000000ff, 0xff00000000ff
    TEST_R orc.b, 0xffffffffffffffff, 0x8040201008040201
    TEST_R orc.b, 0xff, 0x7f
    TEST_R rev8, 0x0, 0x0
    TEST_R rev8, 0x100000000000000, 0x1
    TEST_R rev8, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R rev8, 0x80, 0x8000000000000000
    TEST_R rev8, 0xffffffffffffff7f, 0x7fffffffffffffff
    TEST_R rev8, 0x8000000000, 0x80000000
    TEST_R rev8, 0x80ffffffff, 0xffffffff80000000
    TEST_R rev8, 0xf0debc9a78563412, 0x123456789abcdef0
    TEST_R rev8, 0x1032547698badcfe, 0xfedcba9876543210
    TEST_R rev8, 0xff00000000ff0000, 0xff00000000ff
    TEST_R rev8, 0x102040810204080, 0x8040201008040201
    TEST_R rev8, 0x7f00000000000000, 0x7f
    TEST_R brev8, 0x0, 0x0
    TEST_R brev8, 0x80, 0x1
    TEST_R brev8, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_R brev8, 0x100000000000000, 0x8000000000000000
    TEST_R brev8, 0xfeffffffffffffff, 0x7fffffffffffffff
    TEST_R brev8, 0x1000000, 0x80000000
    TEST_R brev8, 0xffffffff01000000, 0xffffffff80000000
    TEST_R brev8, 0x482c6a1e593d7b0f, 0x123456789abcdef0
    TEST_R brev8, 0x7f3b5d196e2a4c08, 0xfedcba9876543210
    TEST_R brev8, 0xff00000000ff, 0xff00000000ff
    TEST_R brev8, 0x102040810204080, 0x8040201008040201
    TEST_R brev8, 0xfe, 0x7f
    TEST_RI slli.uw, 0x0, 0x0, 0
    TEST_RI slli.uw, 0x0, 0x0, 1
    TEST_RI slli.uw, 0x0, 0x0, 31
    TEST_RI slli.uw, 0x0, 0x0, 32
    TEST_RI slli.uw, 0x0, 0x0, 63
    TEST_RI slli.uw, 0x1, 0x1, 0
    TEST_RI slli.uw, 0x2, 0x1, 1
    TEST_RI slli.uw, 0x80000000, 0x1, 31
    TEST_RI slli.uw, 0x100000000, 0x1, 32
    TEST_RI slli.uw, 0x8000000000000000, 0x1, 63
    TEST_RI slli.uw, 0xffffffff, 0xffffffffffffffff, 0
    TEST_RI slli.uw, 0x1fffffffe, 0xffffffffffffffff, 1
    TEST_RI slli.uw, 0x7fffffff80000000, 0xffffffffffffffff, 31
    TEST_RI slli.uw, 0xffffffff00000000, 0xffffffffffffffff, 32
    TEST_RI slli.uw, 0x8000000000000000, 0xffffffffffffffff, 63
    TEST_RI slli.uw, 0x0, 0x8000000000000000, 0
    TEST_RI slli.uw, 0x0, 0x8000000000000000, 1
    TEST_RI slli.uw, 0x0, 0x8000000000000000, 31
    TEST_RI slli.uw, 0x0, 0x8000000000000000, 32
    TEST_RI slli.uw, 0x0, 0x8000000000000000, 63
    TEST_RI slli.uw, 0xffffffff, 0x7fffffffffffffff, 0
    TEST_RI slli.uw, 0x1fffffffe, 0x7fffffffffffffff, 1
    TEST_RI slli.uw, 0x7fffffff80000000, 0x7fffffffffffffff, 31
    TEST_RI slli.uw, 0xffffffff00000000, 0x7fffffffffffffff, 32
    TEST_RI slli.uw, 0x8000000000000000, 0x7fffffffffffffff, 63
    TEST_RI slli.uw, 0x80000000, 0x80000000, 0
    TEST_RI slli.uw, 0x100000000, 0x80000000, 1
    TEST_RI slli.uw, 0x4000000000000000, 0x80000000, 31
    TEST_RI slli.uw, 0x8000000000000000, 0x80000000, 32
    TEST_RI slli.uw, 0x0, 0x80000000, 63
    TEST_RI slli.uw, 0x80000000, 0xffffffff80000000, 0
    TEST_RI slli.uw, 0x100000000, 0xffffffff80000000, 1
    TEST_RI slli.uw, 0x4000000000000000, 0xffffffff80000000, 31
    TEST_RI slli.uw, 0x8000000000000000, 0xffffffff80000000, 32
    TEST_RI slli.uw, 0x0, 0xffffffff80000000, 63
    TEST_RI slli.uw, 0x9abcdef0, 0x123456789abcdef0, 0
    TEST_RI slli.uw, 0x13579bde0, 0x123456789abcdef0, 1
    TEST_RI slli.uw, 0x4d5e6f7800000000, 0x123456789abcdef0, 31
    TEST_RI slli.uw, 0x9abcdef000000000, 0x123456789abcdef0, 32
    TEST_RI slli.uw, 0x0, 0x123456789abcdef0, 63
    TEST_RI slli.uw, 0x76543210, 0xfedcba9876543210, 0
    TEST_RI slli.uw, 0xeca86420, 0xfedcba9876543210, 1
    TEST_RI slli.uw, 0x3b2a190800000000, 0xfedcba9876543210, 31
    TEST_RI slli.uw, 0x7654321000000000, 0xfedcba9876543210, 32
    TEST_RI slli.uw, 0x0, 0xfedcba9876543210, 63
    TEST_RI rori, 0x0, 0x0, 0
    TEST_RI rori, 0x0, 0x0, 1
    TEST_RI rori, 0x0, 0x0, 31
    TEST_RI rori, 0x0, 0x0, 32
    TEST_RI rori, 0x0, 0x0, 63
    TEST_RI rori, 0x1, 0x1, 0
    TEST_RI rori, 0x8000000000000000, 0x1, 1
    TEST_RI rori, 0x200000000, 0x1, 31
    TEST_RI rori, 0x100000000, 0x1, 32
    TEST_RI rori, 0x2, 0x1, 63
    TEST_RI rori, 0xffffffffffffffff, 0xffffffffffffffff, 0
    TEST_RI rori, 0xffffffffffffffff, 0xffffffffffffffff, 1
    TEST_RI rori, 0xffffffffffffffff, 0xffffffffffffffff, 31
    TEST_RI rori, 0xffffffffffffffff, 0xffffffffffffffff, 32
    TEST_RI rori, 0xffffffffffffffff, 0xffffffffffffffff, 63
    TEST_RI rori, 0x8000000000000000, 0x8000000000000000, 0
    TEST_RI rori, 0x4000000000000000, 0x8000000000000000, 1
    TEST_RI rori, 0x100000000, 0x8000000000000000, 31
    TEST_RI rori, 0x80000000, 0x8000000000000000, 32
    TEST_RI rori, 0x1, 0x8000000000000000, 63
    TEST_RI rori, 0x7fffffffffffffff, 0x7fffffffffffffff, 0
    TEST_RI rori, 0xbfffffffffffffff, 0x7fffffffffffffff, 1
    TEST_RI rori, 0xfffffffeffffffff, 0x7fffffffffffffff, 31
    TEST_RI rori, 0xffffffff7fffffff, 0x7fffffffffffffff, 32
    TEST_RI rori, 0xfffffffffffffffe, 0x7fffffffffffffff, 63
    TEST_RI rori, 0x80000000, 0x80000000, 0
    TEST_RI rori, 0x40000000, 0x80000000, 1
    TEST_RI rori, 0x1, 0x80000000, 31
    TEST_RI rori, 0x8000000000000000, 0x80000000, 32
    TEST_RI rori, 0x100000000, 0x80000000, 63
    TEST_RI rori, 0xffffffff80000000, 0xffffffff80000000, 0
    TEST_RI rori, 0x7fffffffc0000000, 0xffffffff80000000, 1
    TEST_RI rori, 0x1ffffffff, 0xffffffff80000000, 31
    TEST_RI rori, 0x80000000ffffffff, 0xffffffff80000000, 32
    TEST_RI rori, 0xffffffff00000001, 0xffffffff80000000, 63
    TEST_RI rori, 0x123456789abcdef0, 0x123456789abcdef0, 0
    TEST_RI rori, 0x91a2b3c4d5e6f78, 0x123456789abcdef0, 1
    TEST_RI rori, 0x3579bde02468acf1, 0x123456789abcdef0, 31
    TEST_RI rori, 0x9abcdef012345678, 0x123456789abcdef0, 32
    TEST_RI rori, 0x2468acf13579bde0, 0x123456789abcdef0, 63
    TEST_RI rori, 0xfedcba9876543210, 0xfedcba9876543210, 0
    TEST_RI rori, 0x7f6e5d4c3b2a1908, 0xfedcba9876543210, 1
    TEST_RI rori, 0xeca86421fdb97530, 0xfedcba9876543210, 31
    TEST_RI rori, 0x76543210fedcba98, 0xfedcba9876543210, 32
    TEST_RI rori, 0xfdb97530eca86421, 0xfedcba9876543210, 63
    TEST_RI roriw, 0x0, 0x0, 0
    TEST_RI roriw, 0x0, 0x0, 1
    TEST_RI roriw, 0x0, 0x0, 15
    TEST_RI roriw, 0x0, 0x0, 16
    TEST_RI roriw, 0x0, 0x0, 31
    TEST_RI roriw, 0x1, 0x1, 0
    TEST_RI roriw, 0xffffffff80000000, 0x1, 1
    TEST_RI roriw, 0x20000, 0x1, 15
    TEST_RI roriw, 0x10000, 0x1, 16
    TEST_RI roriw, 0x2, 0x1, 31
    TEST_RI roriw, 0xffffffffffffffff, 0xffffffffffffffff, 0
    TEST_RI roriw, 0xffffffffffffffff, 0xffffffffffffffff, 1
    TEST_RI roriw, 0xffffffffffffffff, 0xffffffffffffffff, 15
    TEST_RI roriw, 0xffffffffffffffff, 0xffffffffffffffff, 16
    TEST_RI roriw, 0xffffffffffffffff, 0xffffffffffffffff, 31
    TEST_RI roriw, 0x0, 0x8000000000000000, 0
    TEST_RI roriw, 0x0, 0x8000000000000000, 1
    TEST_RI roriw, 0x0, 0x8000000000000000, 15
    TEST_RI roriw, 0x0, 0x8000000000000000, 16
    TEST_RI roriw, 0x0, 0x8000000000000000, 31
    TEST_RI roriw, 0xffffffffffffffff, 0x7fffffffffffffff, 0
    TEST_RI roriw, 0xffffffffffffffff, 0x7fffffffffffffff, 1
    TEST_RI roriw, 0xffffffffffffffff, 0x7fffffffffffffff, 15
    TEST_RI roriw, 0xffffffffffffffff, 0x7fffffffffffffff, 16
    TEST_RI roriw, 0xffffffffffffffff, 0x7fffffffffffffff, 31
    TEST_RI roriw, 0xffffffff80000000, 0x80000000, 0
    TEST_RI roriw, 0x40000000, 0x80000000, 1
    TEST_RI roriw, 0x10000, 0x80000000, 15
    TEST_RI roriw, 0x8000, 0x80000000, 16
    TEST_RI roriw, 0x1, 0x80000000, 31
    TEST_RI roriw, 0xffffffff80000000, 0xffffffff80000000, 0
    TEST_RI roriw, 0x40000000, 0xffffffff80000000, 1
    TEST_RI roriw, 0x10000, 0xffffffff80000000, 15
    TEST_RI roriw, 0x8000, 0xffffffff80000000, 16
    TEST_RI roriw, 0x1, 0xffffffff80000000, 31
    TEST_RI roriw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0
    TEST_RI roriw, 0x4d5e6f78, 0x123456789abcdef0, 1
    TEST_RI roriw, 0xffffffffbde13579, 0x123456789abcdef0, 15
    TEST_RI roriw, 0xffffffffdef09abc, 0x123456789abcdef0, 16
    TEST_RI roriw, 0x3579bde1, 0x123456789abcdef0, 31
    TEST_RI roriw, 0x76543210, 0xfedcba9876543210, 0
    TEST_RI roriw, 0x3b2a1908, 0xfedcba9876543210, 1
    TEST_RI roriw, 0x6420eca8, 0xfedcba9876543210, 15
    TEST_RI roriw, 0x32107654, 0xfedcba9876543210, 16
    TEST_RI roriw, 0xffffffffeca86420, 0xfedcba9876543210, 31
    TEST_RI bclri, 0x0, 0x0, 0
    TEST_RI bclri, 0x0, 0x0, 1
    TEST_RI bclri, 0x0, 0x0, 31
    TEST_RI bclri, 0x0, 0x0, 32
    TEST_RI bclri, 0x0, 0x0, 63
    TEST_RI bclri, 0x0, 0x1, 0
    TEST_RI bclri, 0x1, 0x1, 1
    TEST_RI bclri, 0x1, 0x1, 31
    TEST_RI bclri, 0x1, 0x1, 32
    TEST_RI bclri, 0x1, 0x1, 63
    TEST_RI bclri, 0xfffffffffffffffe, 0xffffffffffffffff, 0
    TEST_RI bclri, 0xfffffffffffffffd, 0xffffffffffffffff, 1
    TEST_RI bclri, 0xffffffff7fffffff, 0xffffffffffffffff, 31
    TEST_RI bclri, 0xfffffffeffffffff, 0xffffffffffffffff, 32
    TEST_RI bclri, 0x7fffffffffffffff, 0xffffffffffffffff, 63
    TEST_RI bclri, 0x8000000000000000, 0x8000000000000000, 0
    TEST_RI bclri, 0x8000000000000000, 0x8000000000000000, 1
    TEST_RI bclri, 0x8000000000000000, 0x8000000000000000, 31
    TEST_RI bclri, 0x8000000000000000, 0x8000000000000000, 32
    TEST_RI bclri, 0x0, 0x8000000000000000, 63
    TEST_RI bclri, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0
    TEST_RI bclri, 0x7ffffffffffffffd, 0x7fffffffffffffff, 1
    TEST_RI bclri, 0x7fffffff7fffffff, 0x7fffffffffffffff, 31
    TEST_RI bclri, 0x7ffffffeffffffff, 0x7fffffffffffffff, 32
    TEST_RI bclri, 0x7fffffffffffffff, 0x7fffffffffffffff, 63
    TEST_RI bclri, 0x80000000, 0x80000000, 0
    TEST_RI bclri, 0x80000000, 0x80000000, 1
    TEST_RI bclri, 0x0, 0x80000000, 31
    TEST_RI bclri, 0x80000000, 0x80000000, 32
    TEST_RI bclri, 0x80000000, 0x80000000, 63
    TEST_RI bclri, 0xffffffff80000000, 0xffffffff80000000, 0
    TEST_RI bclri, 0xffffffff80000000, 0xffffffff80000000, 1
    TEST_RI bclri, 0xffffffff00000000, 0xffffffff80000000, 31
    TEST_RI bclri, 0xfffffffe80000000, 0xffffffff80000000, 32
    TEST_RI bclri, 0x7fffffff80000000, 0xffffffff80000000, 63
    TEST_RI bclri, 0x123456789abcdef0, 0x123456789abcdef0, 0
    TEST_RI bclri, 0x123456789abcdef0, 0x123456789abcdef0, 1
    TEST_RI bclri, 0x123456781abcdef0, 0x123456789abcdef0, 31
    TEST_RI bclri, 0x123456789abcdef0, 0x123456789abcdef0, 32
    TEST_RI bclri, 0x123456789abcdef0, 0x123456789abcdef0, 63
    TEST_RI bclri, 0xfedcba9876543210, 0xfedcba9876543210, 0
    TEST_RI bclri, 0xfedcba9876543210, 0xfedcba9876543210, 1
    TEST_RI bclri, 0xfedcba9876543210, 0xfedcba9876543210, 31
    TEST_RI bclri, 0xfedcba9876543210, 0xfedcba9876543210, 32
    TEST_RI bclri, 0x7edcba9876543210, 0xfedcba9876543210, 63
    TEST_RI bexti, 0x0, 0x0, 0
    TEST_RI bexti, 0x0, 0x0, 1
    TEST_RI bexti, 0x0, 0x0, 31
    TEST_RI bexti, 0x0, 0x0, 32
    TEST_RI bexti, 0x0, 0x0, 63
    TEST_RI bexti, 0x1, 0x1, 0
    TEST_RI bexti, 0x0, 0x1, 1
    TEST_RI bexti, 0x0, 0x1, 31
    TEST_RI bexti, 0x0, 0x1, 32
    TEST_RI bexti, 0x0, 0x1, 63
    TEST_RI bexti, 0x1, 0xffffffffffffffff, 0
    TEST_RI bexti, 0x1, 0xffffffffffffffff, 1
    TEST_RI bexti, 0x1, 0xffffffffffffffff, 31
    TEST_RI bexti, 0x1, 0xffffffffffffffff, 32
    TEST_RI bexti, 0x1, 0xffffffffffffffff, 63
    TEST_RI bexti, 0x0, 0x8000000000000000, 0
    TEST_RI bexti, 0x0, 0x8000000000000000, 1
    TEST_RI bexti, 0x0, 0x8000000000000000, 31
    TEST_RI bexti, 0x0, 0x8000000000000000, 32
    TEST_RI bexti, 0x1, 0x8000000000000000, 63
    TEST_RI bexti, 0x1, 0x7fffffffffffffff, 0
    TEST_RI bexti, 0x1, 0x7fffffffffffffff, 1
    TEST_RI bexti, 0x1, 0x7fffffffffffffff, 31
    TEST_RI bexti, 0x1, 0x7fffffffffffffff, 32
    TEST_RI bexti, 0x0, 0x7fffffffffffffff, 63
    TEST_RI bexti, 0x0, 0x80000000, 0
    TEST_RI bexti, 0x0, 0x80000000, 1
    TEST_RI bexti, 0x1, 0x80000000, 31
    TEST_RI bexti, 0x0, 0x80000000, 32
    TEST_RI bexti, 0x0, 0x80000000, 63
    TEST_RI bexti, 0x0, 0xffffffff80000000, 0
    TEST_RI bexti, 0x0, 0xffffffff80000000, 1
    TEST_RI bexti, 0x1, 0xffffffff80000000, 31
    TEST_RI bexti, 0x1, 0xffffffff80000000, 32
    TEST_RI bexti, 0x1, 0xffffffff80000000, 63
    TEST_RI bexti, 0x0, 0x123456789abcdef0, 0
    TEST_RI bexti, 0x0, 0x123456789abcdef0, 1
    TEST_RI bexti, 0x1, 0x123456789abcdef0, 31
    TEST_RI bexti, 0x0, 0x123456789abcdef0, 32
    TEST_RI bexti, 0x0, 0x123456789abcdef0, 63
    TEST_RI bexti, 0x0, 0xfedcba9876543210, 0
    TEST_RI bexti, 0x0, 0xfedcba9876543210, 1
    TEST_RI bexti, 0x0, 0xfedcba9876543210, 31
    TEST_RI bexti, 0x0, 0xfedcba9876543210, 32
    TEST_RI bexti, 0x1, 0xfedcba9876543210, 63
    TEST_RI binvi, 0x1, 0x0, 0
    TEST_RI binvi, 0x2, 0x0, 1
    TEST_RI binvi, 0x80000000, 0x0, 31
    TEST_RI binvi, 0x100000000, 0x0, 32
    TEST_RI binvi, 0x8000000000000000, 0x0, 63
    TEST_RI binvi, 0x0, 0x1, 0
    TEST_RI binvi, 0x3, 0x1, 1
    TEST_RI binvi, 0x80000001, 0x1, 31
    TEST_RI binvi, 0x100000001, 0x1, 32
    TEST_RI binvi, 0x8000000000000001, 0x1, 63
    TEST_RI binvi, 0xfffffffffffffffe, 0xffffffffffffffff, 0
    TEST_RI binvi, 0xfffffffffffffffd, 0xffffffffffffffff, 1
    TEST_RI binvi, 0xffffffff7fffffff, 0xffffffffffffffff, 31
    TEST_RI binvi, 0xfffffffeffffffff, 0xffffffffffffffff, 32
    TEST_RI binvi, 0x7fffffffffffffff, 0xffffffffffffffff, 63
    TEST_RI binvi, 0x8000000000000001, 0x8000000000000000, 0
    TEST_RI binvi, 0x8000000000000002, 0x8000000000000000, 1
    TEST_RI binvi, 0x8000000080000000, 0x8000000000000000, 31
    TEST_RI binvi, 0x8000000100000000, 0x8000000000000000, 32
    TEST_RI binvi, 0x0, 0x8000000000000000, 63
    TEST_RI binvi, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0
    TEST_RI binvi, 0x7ffffffffffffffd, 0x7fffffffffffffff, 1
    TEST_RI binvi, 0x7fffffff7fffffff, 0x7fffffffffffffff, 31
    TEST_RI binvi, 0x7ffffffeffffffff, 0x7fffffffffffffff, 32
    TEST_RI binvi, 0xffffffffffffffff, 0x7fffffffffffffff, 63
    TEST_RI binvi, 0x80000001, 0x80000000, 0
    TEST_RI binvi, 0x80000002, 0x80000000, 1
    TEST_RI binvi, 0x0, 0x80000000, 31
    TEST_RI binvi, 0x180000000, 0x80000000, 32
    TEST_RI binvi, 0x8000000080000000, 0x80000000, 63
    TEST_RI binvi, 0xffffffff80000001, 0xffffffff80000000, 0
    TEST_RI binvi, 0xffffffff80000002, 0xffffffff80000000, 1
    TEST_RI binvi, 0xffffffff00000000, 0xffffffff80000000, 31
    TEST_RI binvi, 0xfffffffe80000000, 0xffffffff80000000, 32
    TEST_RI binvi, 0x7fffffff80000000, 0xffffffff80000000, 63
    TEST_RI binvi, 0x123456789abcdef1, 0x123456789abcdef0, 0
    TEST_RI binvi, 0x123456789abcdef2, 0x123456789abcdef0, 1
    TEST_RI binvi, 0x123456781abcdef0, 0x123456789abcdef0, 31
    TEST_RI binvi, 0x123456799abcdef0, 0x123456789abcdef0, 32
    TEST_RI binvi, 0x923456789abcdef0, 0x123456789abcdef0, 63
    TEST_RI binvi, 0xfedcba9876543211, 0xfedcba9876543210, 0
    TEST_RI binvi, 0xfedcba9876543212, 0xfedcba9876543210, 1
    TEST_RI binvi, 0xfedcba98f6543210, 0xfedcba9876543210, 31
    TEST_RI binvi, 0xfedcba9976543210, 0xfedcba9876543210, 32
    TEST_RI binvi, 0x7edcba9876543210, 0xfedcba9876543210, 63
    TEST_RI bseti, 0x1, 0x0, 0
    TEST_RI bseti, 0x2, 0x0, 1
    TEST_RI bseti, 0x80000000, 0x0, 31
    TEST_RI bseti, 0x100000000, 0x0, 32
    TEST_RI bseti, 0x8000000000000000, 0x0, 63
    TEST_RI bseti, 0x1, 0x1, 0
    TEST_RI bseti, 0x3, 0x1, 1
    TEST_RI bseti, 0x80000001, 0x1, 31
    TEST_RI bseti, 0x100000001, 0x1, 32
    TEST_RI bseti, 0x8000000000000001, 0x1, 63
    TEST_RI bseti, 0xffffffffffffffff, 0xffffffffffffffff, 0
    TEST_RI bseti, 0xffffffffffffffff, 0xffffffffffffffff, 1
    TEST_RI bseti, 0xffffffffffffffff, 0xffffffffffffffff, 31
    TEST_RI bseti, 0xffffffffffffffff, 0xffffffffffffffff, 32
    TEST_RI bseti, 0xffffffffffffffff, 0xffffffffffffffff, 63
    TEST_RI bseti, 0x8000000000000001, 0x8000000000000000, 0
    TEST_RI bseti, 0x8000000000000002, 0x8000000000000000, 1
    TEST_RI bseti, 0x8000000080000000, 0x8000000000000000, 31
    TEST_RI bseti, 0x8000000100000000, 0x8000000000000000, 32
    TEST_RI bseti, 0x8000000000000000, 0x8000000000000000, 63
    TEST_RI bseti, 0x7fffffffffffffff, 0x7fffffffffffffff, 0
    TEST_RI bseti, 0x7fffffffffffffff, 0x7fffffffffffffff, 1
    TEST_RI bseti, 0x7fffffffffffffff, 0x7fffffffffffffff, 31
    TEST_RI bseti, 0x7fffffffffffffff, 0x7fffffffffffffff, 32
    TEST_RI bseti, 0xffffffffffffffff, 0x7fffffffffffffff, 63
    TEST_RI bseti, 0x80000001, 0x80000000, 0
    TEST_RI bseti, 0x80000002, 0x80000000, 1
    TEST_RI bseti, 0x80000000, 0x80000000, 31
    TEST_RI bseti, 0x180000000, 0x80000000, 32
    TEST_RI bseti, 0x8000000080000000, 0x80000000, 63
    TEST_RI bseti, 0xffffffff80000001, 0xffffffff80000000, 0
    TEST_RI bseti, 0xffffffff80000002, 0xffffffff80000000, 1
    TEST_RI bseti, 0xffffffff80000000, 0xffffffff80000000, 31
    TEST_RI bseti, 0xffffffff80000000, 0xffffffff80000000, 32
    TEST_RI bseti, 0xffffffff80000000, 0xffffffff80000000, 63
    TEST_RI bseti, 0x123456789abcdef1, 0x123456789abcdef0, 0
    TEST_RI bseti, 0x123456789abcdef2, 0x123456789abcdef0, 1
    TEST_RI bseti, 0x123456789abcdef0, 0x123456789abcdef0, 31
    TEST_RI bseti, 0x123456799abcdef0, 0x123456789abcdef0, 32
    TEST_RI bseti, 0x923456789abcdef0, 0x123456789abcdef0, 63
    TEST_RI bseti, 0xfedcba9876543211, 0xfedcba9876543210, 0
    TEST_RI bseti, 0xfedcba9876543212, 0xfedcba9876543210, 1
    TEST_RI bseti, 0xfedcba98f6543210, 0xfedcba9876543210, 31
    TEST_RI bseti, 0xfedcba9976543210, 0xfedcba9876543210, 32
    TEST_RI bseti, 0xfedcba9876543210, 0xfedcba9876543210, 63
    /* rd = x0 */
    li a1, -1
    li a2, 5
    sh1add x0, a1, a2
    clz x0, a1
    li t0, 0
    CHECK t0, 0
    CHECK x0, 0
    /* reserved encodings next to the new ones */
    EXPECT_TRAP
    .insn i 0x13, 1, a0, a1, 0x603          /* clz family, funct 3 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn i 0x13, 5, a0, a1, 0x288          /* next to orc.b */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x33, 3, 0x07, a0, a1, a2       /* next to Zicond: funct3 3 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn r 0x3b, 1, 0x05, a0, a1, a2       /* OP-32 funct7 5 */
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    .insn i 0x1b, 1, a0, a1, 0x603          /* clzw family, funct 3 */
    CHECK_MTRAP CAUSE_ILLEGAL
    PASS
