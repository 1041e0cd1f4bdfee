/* SPDX-License-Identifier: MIT */
/* Sv48 translation from S-mode: 4-level walk to 4 KiB pages, 1 GiB pages
 * below a level-3 table, a 512 GiB page (level-3 leaf), a misaligned 512 GiB
 * page -> page fault, VAs needing bits 47:39 (valid in Sv48, beyond Sv39),
 * non-canonical VAs (bits 63:48 != bit 47) -> page fault, hardware A/D
 * updates.  Faults are not delegated: m_trap records them (m_rec).
 *
 * Map (VA -> PA):
 *   0x0000_0000_8000_0000 1 GiB   -> 0x8000_0000 S RWX (code/data)
 *   0x0000_0000_0000_1000 4 KiB   -> page0 S RW (A/D initially clear)
 *   0x0000_0080_0000_0000 512 GiB -> 0x0 S RW
 *   0x0000_0100_0000_0000 512 GiB -> 0x8000_0000: misaligned
 *   0x0000_7f80_0000_0000 1 GiB   -> 0x8000_0000 S R (L3 index 255)
 */
#define TEST_NAME "vm_sv48"
#include "isa.h"

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_SV48 (9 << 60)

.macro SET_PTE table, idx, pa, flags
    la a5, \table
    li a4, \pa
    srli a4, a4, 12
    slli a4, a4, 10
    ori a4, a4, \flags
    sd a4, (\idx * 8)(a5)
.endm
.macro SET_PTE_SYM table, idx, sym, flags
    la a5, \table
    la a4, \sym
    srli a4, a4, 12
    slli a4, a4, 10
    ori a4, a4, \flags
    sd a4, (\idx * 8)(a5)
.endm
.macro PF_CHECK cause, va
    MREC a5, REC_CAUSE
    CHECK a5, \cause
    MREC a5, REC_TVAL
    CHECK_MORE a5, \va
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm

TEST_MAIN
    la a0, page0
    li a1, 0x5678
    sd a1, 0(a0)
    SET_PTE_SYM l3, 0, l2, PTE_V
    SET_PTE l3, 1, 0, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SET_PTE l3, 2, 0x80000000, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SET_PTE_SYM l3, 255, l2b, PTE_V
    SET_PTE l2, 2, 0x80000000, PTE_V|PTE_R|PTE_W|PTE_X|PTE_A|PTE_D
    SET_PTE_SYM l2, 0, l1, PTE_V
    SET_PTE_SYM l1, 0, l0, PTE_V
    SET_PTE_SYM l0, 1, page0, PTE_V|PTE_R|PTE_W
    SET_PTE l2b, 0, 0x80000000, PTE_V|PTE_R|PTE_A

    /* satp writes with an unsupported (reserved) MODE are ignored */
    csrw satp, zero
    li a0, (2 << 60) | 0x1234
    csrw satp, a0
    csrr a1, satp
    CHECK a1, 0
    la a0, l3
    srli a0, a0, 12
    li a1, SATP_SV48
    or a0, a0, a1
    csrw satp, a0
    csrr a1, satp
    CHECK_EQ a0, a1                 /* Sv48 supported: mode reads back */
    sfence.vma
    csrw medeleg, zero
    ENTER_MODE PRV_S, s_main
s_main:
    /* 4-level walk; A then D set by hardware */
    li s0, 0x1000
    ld a0, 0(s0)
    CHECK a0, 0x5678
    la s1, l0
    ld a0, 8(s1)
    andi a0, a0, PTE_A|PTE_D
    CHECK a0, PTE_A
    sd a0, 8(s0)
    ld a0, 8(s1)
    andi a0, a0, PTE_A|PTE_D
    CHECK a0, PTE_A|PTE_D
    /* 512 GiB page: VA 0x80_0000_0000 + PA */
    la a1, probe
    li s0, 0x8000000000
    add s0, s0, a1
    ld a0, 0(s0)
    CHECK a0, 0x0123456789abcdef
    li a2, 0xfeed
    sd a2, 8(s0)
    ld a0, 8(a1)
    CHECK a0, 0xfeed
    /* misaligned 512 GiB page */
    li s0, 0x10000001000
    EXPECT_TRAP
    ld a0, 0(s0)
    PF_CHECK CAUSE_LOAD_PAGE, 0x10000001000
    /* L3 index 255 -> read-only gigapage */
    la a1, probe
    li a2, 0x80000000
    sub a1, a1, a2
    li s0, 0x7f8000000000
    add s0, s0, a1
    ld a0, 0(s0)
    CHECK a0, 0x0123456789abcdef
    EXPECT_TRAP
    sd a0, 0(s0)
    MREC a5, REC_CAUSE
    CHECK a5, CAUSE_STORE_PAGE
    MREC a5, REC_TVAL
    CHECK_EQ a5, s0
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    /* non-canonical: bit 47 set, bits 63:48 clear */
    li s0, 0x0000800000000000
    EXPECT_TRAP
    ld a0, 0(s0)
    PF_CHECK CAUSE_LOAD_PAGE, 0x0000800000000000
    li s0, 0x7fff000000001000
    EXPECT_TRAP
    sd a0, 0(s0)
    PF_CHECK CAUSE_STORE_PAGE, 0x7fff000000001000
    /* canonical upper half but unmapped (L3 index 256) */
    li s0, 0xffff800000000000
    EXPECT_TRAP
    ld a0, 0(s0)
    PF_CHECK CAUSE_LOAD_PAGE, 0xffff800000000000
    /* fetch from a non-executable 512 GiB mapping */
    la a1, s_ret_here
    li s0, 0x8000000000
    add s0, s0, a1
    EXPECT_TRAP_AT 1f
    jalr ra, 0(s0)
1:  MREC a5, REC_CAUSE
    CHECK a5, CAUSE_FETCH_PAGE
    MREC a5, REC_TVAL
    CHECK_EQ a5, s0
    BACK_TO_M m_end
m_end:
    csrw satp, zero
    sfence.vma
    PASS
s_ret_here:
    ret

    .data
    .align 12
l3:    .skip 4096
l2:    .skip 4096
l2b:   .skip 4096
l1:    .skip 4096
l0:    .skip 4096
page0: .skip 4096
    .align 3
probe: .dword 0x0123456789abcdef, 0
