/* SPDX-License-Identifier: MIT */
/* Svadu under Sv39, from S-mode: menvcfg.ADUE is writable and 1 from
 * reset; with ADUE=0 (Svade) a load, store or fetch through a PTE whose A
 * (or, for a store, D) bit is clear is a page fault and the PTE stays as
 * it was; with ADUE=1 the walk sets A (and D on a store) and the access
 * completes.  Faults are not delegated: m_rec records them.
 *
 * Map: VA 0x8000_0000 1 GiB -> PA 0x8000_0000 (S RWX, code and data)
 *      VA 0x10000 -> data4k (RW)   VA 0x11000 -> xpage (X) */
#define TEST_NAME "svadu"
#include "isa.h"

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define LEAF  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define SATP_SV39 (8 << 60)
#define CSR_MENVCFG 0x30a
#define MENVCFG_ADUE (1 << 61)

.macro MK_PTE pa, flags
    srli a0, \pa, 12
    slli a0, a0, 10
    li t0, \flags
    or a0, a0, t0
.endm

/* a1 = the A and D bits of the PTE at reg */
.macro AD_OF reg
    ld a1, 0(\reg)
    andi a1, a1, PTE_A | PTE_D
.endm

TEST_MAIN
    csrr a1, CSR_MENVCFG
    li t0, MENVCFG_ADUE
    and a1, a1, t0
    CHECK a1, MENVCFG_ADUE              /* on from reset */
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
    la s5, data4k
    li t1, 0x1122334455667788
    sd t1, 0(s5)
    MK_PTE s5, PTE_V | PTE_R | PTE_W    /* A = D = 0 */
    sd a0, 0x10 * 8(s4)
    addi s6, s4, 0x10 * 8               /* its PTE */
    la s7, xpage
    MK_PTE s7, PTE_V | PTE_X            /* A = 0 */
    sd a0, 0x11 * 8(s4)
    addi s8, s4, 0x11 * 8
    srli a0, s2, 12
    li t0, SATP_SV39
    or a0, a0, t0
    csrw satp, a0
    sfence.vma
    csrw CSR_MENVCFG, zero
    csrr a1, CSR_MENVCFG
    CHECK a1, 0

    /* ---- ADUE = 0: Svade ---- */
    ENTER_MODE PRV_S, s_svade
s_svade:
    li s9, 0x10000
    EXPECT_TRAP
    ld a1, 0(s9)
    CHECK_MTRAP CAUSE_LOAD_PAGE
    EXPECT_TRAP
    sd zero, 0(s9)
    CHECK_MTRAP CAUSE_STORE_PAGE
    li s10, 0x11000
    EXPECT_TRAP_AT m_after_fetch        /* the handler returns in M-mode */
    jalr ra, 0(s10)
m_after_fetch:
    CHECK_MTRAP CAUSE_FETCH_PAGE
    ENTER_MODE PRV_S, s_svade2
s_svade2:
    AD_OF s6
    CHECK a1, 0                         /* nothing was set */
    AD_OF s8
    CHECK a1, 0
    /* A set, D clear: loads go, stores still fault */
    ld a0, 0(s6)
    ori a0, a0, PTE_A
    sd a0, 0(s6)
    sfence.vma
    ld a1, 0(s9)
    CHECK a1, 0x1122334455667788
    EXPECT_TRAP
    sd zero, 0(s9)
    CHECK_MTRAP CAUSE_STORE_PAGE
    AD_OF s6
    CHECK a1, PTE_A
    BACK_TO_M m_adue

    /* ---- ADUE = 1: the walk sets A and D ---- */
m_adue:
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    li t0, MENVCFG_ADUE
    csrw CSR_MENVCFG, t0
    csrr a1, CSR_MENVCFG
    CHECK a1, MENVCFG_ADUE
    li t0, ~(PTE_A | PTE_D)
    ld a0, 0(s6)
    and a0, a0, t0
    sd a0, 0(s6)
    sfence.vma
    ENTER_MODE PRV_S, s_svadu
s_svadu:
    ld a1, 0(s9)
    CHECK a1, 0x1122334455667788
    AD_OF s6
    CHECK a1, PTE_A
    li a2, 42
    sd a2, 8(s9)
    AD_OF s6
    CHECK a1, PTE_A | PTE_D
    ld a1, 8(s9)
    CHECK a1, 42
    li s10, 0x11000
    jalr ra, 0(s10)                     /* xpage returns at once */
    AD_OF s8
    CHECK a1, PTE_A
    CHECK_NO_MTRAP
    BACK_TO_M m_done
m_done:
    csrw satp, zero
    PASS

.data
.balign 4096
root:   .zero 4096
l1:     .zero 4096
l0:     .zero 4096
data4k: .zero 4096
.text
.balign 4096
xpage:
    ret
    .balign 4096
