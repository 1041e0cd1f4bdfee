/* SPDX-License-Identifier: MIT */
/* ASIDs under Sv39, from S-mode: two address spaces (ASID 1 and 2) map VA
 * 0x10000 to different pages; switching satp back and forth (no fence, as
 * an ASID-using OS does) always reads the right page; a PTE of a space that
 * is not current changed and then fenced by address (rs2 = x0: every
 * ASID) or by its ASID (rs1 = x0) is seen when that space comes back; a
 * fence of another ASID leaves the current space alone.
 *
 * Map (both spaces): VA 0x8000_0000 1 GiB -> PA 0x8000_0000 (S RWX);
 *      VA 0x10000 -> pa_a (space 1) / pa_b (space 2); pa_c: a third page */
#define TEST_NAME "asid"
#include "isa.h"

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define LEAF  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define SATP_SV39 (8 << 60)

.macro MK_PTE pa, flags
    srli a0, \pa, 12
    slli a0, a0, 10
    li t0, \flags
    or a0, a0, t0
.endm

/* reg = satp for root table at rt with ASID asid */
.macro MK_SATP reg, rt, asid
    srli \reg, \rt, 12
    li t0, SATP_SV39 | (\asid << 44)
    or \reg, \reg, t0
.endm

/* one space: root rt, l1 t1r, l0 t0r, VA 0x10000 -> page pg */
.macro MK_SPACE rt, l1, l0, pg
    li t1, 0x80000000
    MK_PTE t1, LEAF | PTE_X
    sd a0, 16(\rt)
    MK_PTE \l1, PTE_V
    sd a0, 0(\rt)
    MK_PTE \l0, PTE_V
    sd a0, 0(\l1)
    MK_PTE \pg, LEAF
    sd a0, 0x10 * 8(\l0)
.endm

TEST_MAIN
    la s2, root1
    la s3, l1_1
    la s4, l0_1
    la s5, root2
    la s6, l1_2
    la s7, l0_2
    la a1, pa_a
    la a2, pa_b
    la a3, pa_c
    li t1, 0xaaaa
    sd t1, 0(a1)
    li t1, 0xbbbb
    sd t1, 0(a2)
    li t1, 0xcccc
    sd t1, 0(a3)
    MK_SPACE s2, s3, s4, a1
    MK_SPACE s5, s6, s7, a2
    MK_SATP s8, s2, 1
    MK_SATP s9, s5, 2
    li s10, 0x10000
    ENTER_MODE PRV_S, s_main
s_main:
    csrw satp, s8
    sfence.vma
    ld a0, 0(s10)
    CHECK a0, 0xaaaa
    csrw satp, s9
    ld a0, 0(s10)
    CHECK a0, 0xbbbb
    csrw satp, s8
    ld a0, 0(s10)
    CHECK a0, 0xaaaa
    csrw satp, s9
    ld a0, 0(s10)
    CHECK a0, 0xbbbb
    /* space 1's PTE -> pa_c, fenced by address for every ASID */
    MK_PTE a3, LEAF
    sd a0, 0x10 * 8(s4)
    sfence.vma s10, zero
    ld a0, 0(s10)
    CHECK a0, 0xbbbb                    /* space 2 unchanged */
    csrw satp, s8
    ld a0, 0(s10)
    CHECK a0, 0xcccc
    /* back to pa_a, fenced by ASID 1 from space 2 */
    csrw satp, s9
    ld a0, 0(s10)
    CHECK a0, 0xbbbb
    MK_PTE a1, LEAF
    sd a0, 0x10 * 8(s4)
    li t2, 1
    sfence.vma zero, t2
    csrw satp, s8
    ld a0, 0(s10)
    CHECK a0, 0xaaaa
    /* fencing ASID 2 from space 1 keeps space 1 working */
    li t2, 2
    sfence.vma zero, t2
    ld a0, 0(s10)
    CHECK a0, 0xaaaa
    /* the current space fenced by its own ASID sees a change */
    MK_PTE a3, LEAF
    sd a0, 0x10 * 8(s4)
    li t2, 1
    sfence.vma zero, t2
    ld a0, 0(s10)
    CHECK a0, 0xcccc
    /* space 2's page changed, everything fenced, both spaces right */
    MK_PTE a1, LEAF
    sd a0, 0x10 * 8(s7)
    sfence.vma
    ld a0, 0(s10)
    CHECK a0, 0xcccc
    csrw satp, s9
    ld a0, 0(s10)
    CHECK a0, 0xaaaa
    csrw satp, zero
    BACK_TO_M m_done
m_done:
    PASS

.data
.balign 4096
root1: .zero 4096
l1_1:  .zero 4096
l0_1:  .zero 4096
root2: .zero 4096
l1_2:  .zero 4096
l0_2:  .zero 4096
pa_a:  .zero 4096
pa_b:  .zero 4096
pa_c:  .zero 4096
