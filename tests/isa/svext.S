/* SPDX-License-Identifier: MIT */
/* Svpbmt, Svnapot and Svinval under Sv39, from S-mode:
 *   PBMT bits in a leaf are a page fault unless menvcfg.PBMTE (then NC
 *   and IO map normally, 3 is reserved), PBMT in a non-leaf PTE faults;
 *   a NAPOT 64 KiB leaf takes the low PPN bits from the VA, other N
 *   encodings (PPN[3:0] != 1000, N on a non-leaf) fault; sinval.vma works
 *   as sfence.vma, sfence.w.inval / sfence.inval.ir are S-mode only.
 * Faults are not delegated: m_rec records them (tp = 4 skips).
 *
 * Map: VA 0x8000_0000 1 GiB -> PA 0x8000_0000 (S RWX, code and data)
 *      VA 0x10000 -> data4k (PBMT varies)   VA 0x200000: non-leaf with PBMT
 *      VA 0x20000..0x2ffff -> napot (N, 64 KiB) */
#define TEST_NAME "svext"
#include "isa.h"
.option arch, +svinval

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define LEAF  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define PBMT_NC (1 << 61)
#define PBMT_IO (2 << 61)
#define PBMT_3  (3 << 61)
#define PTE_N   (1 << 63)
#define SATP_SV39 (8 << 60)
#define CSR_MENVCFG 0x30a
#define MENVCFG_PBMTE (1 << 62)

/* a0 = PTE for the PA in reg `pa` with flags (64-bit immediate), clobbers t0 */
.macro MK_PTE pa, flags
    srli a0, \pa, 12
    slli a0, a0, 10
    li t0, \flags
    or a0, a0, t0
.endm

TEST_MAIN
    /* tables: root[2] gigapage, root[0] -> l1, l1[0] -> l0, l1[1] -> l0 with PBMT */
    la s2, root
    la s3, l1
    la s4, l0
    li t1, 0x80000000
    MK_PTE t1, LEAF | PTE_X
    sd a0, 16(s2)
    MK_PTE s3, PTE_V
    sd a0, 0(s2)
    MK_PTE s4, PTE_V
    sd a0, 0(s3)
    MK_PTE s4, PTE_V | PBMT_NC
    sd a0, 8(s3)
    la s5, data4k
    li t1, 0x1122334455667788
    sd t1, 0(s5)
    MK_PTE s5, LEAF | PBMT_NC
    sd a0, 0x10 * 8(s4)                 /* VA 0x10000 */
    /* napot region: marker at +0x5008; PTE for VA 0x25000 */
    la s6, napot
    li t1, 0x5008
    add t1, s6, t1
    li t2, 0xabcdef
    sd t2, 0(t1)
    srli a0, s6, 12
    ori a0, a0, 8                       /* PPN[3:0] = 1000 */
    slli a0, a0, 10
    li t0, LEAF | PTE_N
    or a0, a0, t0
    sd a0, 0x25 * 8(s4)
    li t0, 8 << 10
    xor a0, a0, t0                      /* PPN[3:0] = 0000: reserved */
    sd a0, 0x26 * 8(s4)
    srli a0, s2, 12
    li t0, SATP_SV39
    or a0, a0, t0
    csrw satp, a0
    sfence.vma
    csrw CSR_MENVCFG, zero

    ENTER_MODE PRV_S, s_nopbmt
s_nopbmt:
    li s7, 0x10000
#ifndef QEMU_QUIRKS /* QEMU 7.2 ignores menvcfg.PBMTE */
    EXPECT_TRAP
    ld a1, 0(s7)                        /* PBMT without PBMTE */
    CHECK_MTRAP CAUSE_LOAD_PAGE
#endif
    li s8, 0x25008
    ld a1, 0(s8)                        /* NAPOT */
    CHECK a1, 0xabcdef
    li s8, 0x26008
    EXPECT_TRAP
    ld a1, 0(s8)                        /* N with PPN[3:0] != 1000 */
    CHECK_MTRAP CAUSE_LOAD_PAGE
    sfence.w.inval
    sinval.vma zero, zero
    sfence.inval.ir
    CHECK_NO_MTRAP
    BACK_TO_M m_pbmt

m_pbmt:
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    li t0, MENVCFG_PBMTE
    csrw CSR_MENVCFG, t0
    csrr a1, CSR_MENVCFG
    CHECK a1, MENVCFG_PBMTE
    ENTER_MODE PRV_S, s_pbmt
s_pbmt:
    ld a1, 0(s7)                        /* NC */
    CHECK a1, 0x1122334455667788
    li t1, ~(3 << 61)
    ld a0, 0x10 * 8(s4)
    and a0, a0, t1
    li t1, PBMT_IO
    or a0, a0, t1
    sd a0, 0x10 * 8(s4)
    sfence.w.inval
    sinval.vma s7, zero
    sfence.inval.ir
    ld a1, 0(s7)                        /* IO */
    CHECK a1, 0x1122334455667788
    li t1, PBMT_3
    or a0, a0, t1
    sd a0, 0x10 * 8(s4)
    sinval.vma s7, zero                 /* without the fences around it too */
#ifndef QEMU_QUIRKS /* QEMU 7.2 maps PBMT 3 */
    EXPECT_TRAP
    ld a1, 0(s7)                        /* PBMT 3: reserved */
    CHECK_MTRAP CAUSE_LOAD_PAGE
#endif
#ifndef QEMU_QUIRKS /* QEMU 7.2 walks through it */
    li s8, 0x200000
    EXPECT_TRAP
    ld a1, 0(s8)                        /* PBMT on a non-leaf */
    CHECK_MTRAP CAUSE_LOAD_PAGE
#endif
    BACK_TO_M m_u

m_u:
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    csrw satp, zero
    ENTER_MODE PRV_U, u_inval
u_inval:
#ifndef QEMU_QUIRKS /* QEMU 7.2 lets U-mode run them */
    EXPECT_TRAP
    sfence.w.inval
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    sfence.inval.ir
    CHECK_MTRAP CAUSE_ILLEGAL
#endif
    EXPECT_TRAP
    sinval.vma zero, zero
    CHECK_MTRAP CAUSE_ILLEGAL
    BACK_TO_M done
done:
    PASS

    .data
    .balign 4096
root: .fill 512, 8, 0
l1:   .fill 512, 8, 0
l0:   .fill 512, 8, 0
data4k: .fill 512, 8, 0
    .bss
    .balign 65536
napot: .skip 65536
