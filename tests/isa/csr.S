/* SPDX-License-Identifier: MIT */
/* Zicsr and machine CSRs: csrrw/csrrs/csrrc and immediate forms (old value
 * returned, set/clear semantics), rs1=x0 / uimm=0 forms not writing (so they
 * may read read-only CSRs), writes to read-only CSRs -> illegal instruction
 * with mtval = instruction bits, mscratch, misa, mhartid, mstatus WARL fields,
 * sstatus as a view of mstatus, mcycle/minstret/time counting,
 * mcounteren/scounteren gating from S and U, M-mode CSR from S -> illegal. */
#define TEST_NAME "csr"
#include "isa.h"

/* Expect an illegal-instruction trap from the next instruction, which must
 * be at label lbl; check mcause and mtval (instruction bits, or 0). */
.macro CHECK_ILLEGAL_AT lbl
    MREC a5, REC_CAUSE
    CHECK a5, CAUSE_ILLEGAL
    MREC a5, REC_TVAL
    la a4, \lbl
    lwu a4, 0(a4)
    beqz a5, .Lz\@
    CHECK_EQ a5, a4
.Lz\@:
    la a5, m_rec
    sd zero, REC_COUNT(a5)
    sd zero, REC_CAUSE(a5)
.endm

TEST_MAIN
    /* csrrw / csrrs / csrrc on mscratch */
    li a1, 0x0123456789abcdef
    csrw mscratch, a1
    csrr a0, mscratch
    CHECK a0, 0x0123456789abcdef
    li a1, 0xf0
    csrrw a0, mscratch, a1
    CHECK a0, 0x0123456789abcdef
    csrr a0, mscratch
    CHECK a0, 0xf0
    li a1, 0x0f0f
    csrrs a0, mscratch, a1
    CHECK a0, 0xf0
    csrr a0, mscratch
    CHECK a0, 0x0fff
    li a1, 0x00ff
    csrrc a0, mscratch, a1
    CHECK a0, 0xfff
    csrr a0, mscratch
    CHECK a0, 0xf00
    /* immediate forms: 5-bit zero-extended uimm */
    csrrwi a0, mscratch, 31
    CHECK a0, 0xf00
    csrr a0, mscratch
    CHECK a0, 31
    csrrci a0, mscratch, 0x11
    CHECK a0, 31
    csrr a0, mscratch
    CHECK a0, 0x0e
    csrrsi a0, mscratch, 0x10
    CHECK a0, 0x0e
    csrr a0, mscratch
    CHECK a0, 0x1e
    /* csrrs/csrrc with rs1=x0 and uimm=0 leave the CSR alone */
    csrrs a0, mscratch, x0
    csrrc a0, mscratch, x0
    csrrsi a0, mscratch, 0
    csrrci a0, mscratch, 0
    csrr a0, mscratch
    CHECK a0, 0x1e
    /* rd = x0 forms still write */
    li a1, -1
    csrrw x0, mscratch, a1
    csrr a0, mscratch
    CHECK a0, -1
    /* rd == rs1: old value to rd, CSR gets the original rs1 */
    li a1, 77
    csrrw a1, mscratch, a1
    CHECK a1, -1
    csrr a0, mscratch
    CHECK a0, 77

    /* identification CSRs */
    csrr a0, mhartid
    CHECK a0, 0
    csrr a0, misa
    srli a1, a0, 62
    CHECK a1, 2                         /* MXL = 64 */
    li a2, (1<<0)|(1<<2)|(1<<3)|(1<<5)|(1<<8)|(1<<12)|(1<<18)|(1<<20)  /* A C D F I M S U */
    and a1, a0, a2
    CHECK_EQ a1, a2
    csrr a0, mvendorid
    csrr a0, marchid
    csrr a0, mimpid

    /* read-only CSRs: reading via csrrs x0 / csrrsi 0 is fine ... */
    csrrs a0, mhartid, x0
    CHECK a0, 0
    csrrsi a0, mhartid, 0
    CHECK a0, 0
    CHECK_NO_MTRAP
    /* ... but any write form traps, even one that would not change bits */
    EXPECT_TRAP
1:  csrw mhartid, zero
    CHECK_ILLEGAL_AT 1b
    EXPECT_TRAP
2:  csrrwi x0, mvendorid, 0
    CHECK_ILLEGAL_AT 2b
#ifndef QEMU_QUIRKS
    /* rs1 != x0 is a write even when the register holds 0 (Zicsr).  QEMU 7.2
     * looks at the value instead and does not trap. */
    li a1, 0
    EXPECT_TRAP
3:  csrrs a0, mhartid, a1
    CHECK_ILLEGAL_AT 3b
#endif
    li a1, 1
    EXPECT_TRAP
4:  csrrsi a0, mimpid, 1
    CHECK_ILLEGAL_AT 4b
    EXPECT_TRAP
5:  csrw cycle, a1
    CHECK_ILLEGAL_AT 5b
    EXPECT_TRAP
6:  csrrc a0, instret, a1
    CHECK_ILLEGAL_AT 6b

    /* mstatus WARL: SXL/UXL fixed at 2 (64-bit) */
    csrr a0, mstatus
    srli a1, a0, 32
    andi a1, a1, 0xf
    CHECK a1, 0xa
    li a1, 0xf << 32
    csrc mstatus, a1
    csrr a0, mstatus
    srli a1, a0, 32
    andi a1, a1, 0xf
    CHECK a1, 0xa
    /* MPP: 0, 1, 3 are legal; 2 (reserved) never reads back */
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, 0
    li a2, 1 << 11
    csrs mstatus, a2
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, 1 << 11
    csrs mstatus, a1
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, 3 << 11
    csrc mstatus, a1
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 stores the reserved value 2 in MPP (WARL violation). */
    li a2, 2 << 11
    csrs mstatus, a2
    csrr a0, mstatus
    and a0, a0, a1
    CHECK_NE a0, 2 << 11
    csrc mstatus, a1
#endif
    /* SPP, SIE, SPIE, MPIE, SUM, MXR, TVM, TW, TSR, MPRV are writable */
    li a1, MSTATUS_SPP|MSTATUS_SPIE|MSTATUS_MPIE|MSTATUS_SUM|MSTATUS_MXR|MSTATUS_TVM|MSTATUS_TW|MSTATUS_TSR
    csrs mstatus, a1
    csrr a0, mstatus
    and a0, a0, a1
    CHECK_EQ a0, a1
    csrc mstatus, a1
    csrr a0, mstatus
    and a0, a0, a1
    CHECK a0, 0
    /* FS: writable, SD (bit 63) summarises FS == Dirty */
    li a1, MSTATUS_FS
    csrs mstatus, a1
    csrr a0, mstatus
    srli a2, a0, 63
    CHECK a2, 1
    li a1, MSTATUS_FS
    csrc mstatus, a1
    li a1, MSTATUS_FS_CLEAN
    csrs mstatus, a1
    /* Clean reads back as Clean, or as Dirty on a hart that does not track
     * dirtiness; SD follows */
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    srli a3, a0, 63
    li a4, MSTATUS_FS_DIRTY
    beq a2, a4, 11f
    CHECK a2, MSTATUS_FS_CLEAN
    CHECK a3, 0
    j 12f
11: CHECK a3, 1
12:
    /* sstatus is a restricted view: SIE/SPP/SUM visible, MIE/MPP not */
    li a1, MSTATUS_SIE|MSTATUS_SUM|MSTATUS_SPP
    csrs sstatus, a1
    csrr a0, mstatus
    and a2, a0, a1
    CHECK_EQ a2, a1
    csrc mstatus, a1
    csrr a0, sstatus
    and a2, a0, a1
    CHECK a2, 0
    li a1, MSTATUS_MPP|MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_TVM|MSTATUS_MPRV
    csrs mstatus, a1
    csrr a0, sstatus
    and a2, a0, a1
    CHECK a2, 0
    csrc mstatus, a1
    /* writing MPP bits through sstatus has no effect */
    li a1, MSTATUS_MPP
    csrs sstatus, a1
    csrr a0, mstatus
    and a2, a0, a1
    CHECK a2, 0
    li a1, MSTATUS_FS
    csrs mstatus, a1

#ifndef QEMU_QUIRKS
    /* mepc/sepc: bit 0 always zero (IALIGN=16 with C: bit 1 writable).
     * QEMU 7.2 reads back the written bit 0. */
    li a1, 0x80000003
    csrw mepc, a1
    csrr a0, mepc
    CHECK a0, 0x80000002
    csrw sepc, a1
    csrr a0, sepc
    CHECK a0, 0x80000002
#endif
    /* mtvec: reserved modes 2/3 never read back */
    csrr s1, mtvec
    la a1, m_trap
    ori a1, a1, 2
    csrw mtvec, a1
    csrr a0, mtvec
    andi a0, a0, 3
    NEXT_CHECK
    li a2, 2
    bltu a0, a2, 13f
    j fail
13: csrw mtvec, s1
    csrr a0, mtvec
    CHECK_EQ a0, s1
    /* mie: all six standard enables are writable */
    li a1, -1
    csrw mie, a1
    csrr a0, mie
    li a2, 0xaaa
    and a0, a0, a2
    CHECK a0, 0xaaa
    csrw mie, zero
    csrr a0, mie
    CHECK a0, 0
    /* mideleg: the S-level interrupts are delegatable */
    li a1, 0x222
    csrw mideleg, a1
    csrr a0, mideleg
    andi a0, a0, 0x222
    CHECK a0, 0x222
    /* sie is mie restricted to delegated interrupts */
    csrw mideleg, zero
    li a1, 0x222
    csrs sie, a1
    csrr a0, sie
    CHECK a0, 0
    csrr a0, mie
    CHECK a0, 0
    li a1, 1 << IRQ_STI
    csrw mideleg, a1
    li a1, 0x222
    csrs sie, a1
    csrr a0, sie
    CHECK a0, 1 << IRQ_STI
    csrr a0, mie
    CHECK a0, 1 << IRQ_STI
    csrw mie, zero
    csrw mideleg, zero

    /* counters count up */
    csrr a0, mcycle
    csrr a1, minstret
    li a2, 100
7:  addi a2, a2, -1
    bnez a2, 7b
    csrr a3, mcycle
    csrr a4, minstret
    sub a3, a3, a0
    CHECK_GTU a3, 0
    sub a4, a4, a1
    CHECK_GTU a4, 199              /* at least the 200 loop instructions */
    /* the user-level aliases read the same counters */
    rdcycle a0
    csrr a1, mcycle
    CHECK_GTU a1, 0
    sub a2, a1, a0
    li a3, 1000000
    CHECK_GTU a3, 0
    bltu a2, a3, 8f
    j fail
8:
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 (without -icount) returns host ticks for instret, so an
     * exact instruction count can only be checked on wirt. */
    rdinstret a0
    csrr a1, minstret
    sub a2, a1, a0
    li a3, 100
    NEXT_CHECK
    bltu a2, a3, 9f
    j fail
9:  /* minstret is writable and keeps counting from the written value */
    li a1, 1000
    csrw minstret, a1
    csrr a0, minstret
    li a2, 1000
    CHECK_GTU a0, 999
    li a3, 1100
    bltu a0, a3, 10f
    j fail
10:
    /* a write is not counted on top of the written value: the next
     * instruction reads exactly it, the one after that one more */
    li a1, 5000
    csrw minstret, a1
    csrr a0, minstret
    CHECK a0, 5000
    csrw minstret, a1
    nop
    csrr a0, minstret
    CHECK a0, 5001
    li a1, 7000
    csrw mcycle, a1
    csrr a0, mcycle
    CHECK a0, 7000
    csrrw a0, minstret, a1            /* reads the count, then writes */
    csrr a0, minstret
    CHECK a0, 7000
#endif
    li a1, 0x100000000
    csrw mcycle, a1
    csrr a0, mcycle
    CHECK_GTU a0, 0xffffffff
    /* the time CSR is covered by sstc.S */

    /* counter gating: mcounteren/scounteren (CY=0, TM=1, IR=2) */
    la t0, s_trap
    csrw stvec, t0
    csrw mcounteren, zero
    csrw scounteren, zero
    ENTER_MODE PRV_S, s_part1
s_part1:
    EXPECT_TRAP
1:  rdcycle a0
    CHECK_ILLEGAL_AT 1b
    EXPECT_TRAP
2:  rdinstret a0
    CHECK_ILLEGAL_AT 2b
    EXPECT_TRAP
3:  rdtime a0
    CHECK_ILLEGAL_AT 3b
    /* an M-mode CSR from S */
    EXPECT_TRAP
4:  csrr a0, mscratch
    CHECK_ILLEGAL_AT 4b
    EXPECT_TRAP
5:  csrw mstatus, zero
    CHECK_ILLEGAL_AT 5b
    EXPECT_TRAP
6:  csrr a0, mcycle
    CHECK_ILLEGAL_AT 6b
    /* S CSRs are fine */
    li a1, 0x55
    csrw sscratch, a1
    csrr a0, sscratch
    CHECK a0, 0x55
    CHECK_NO_MTRAP
    BACK_TO_M m_part2
m_part2:
    MREC a0, REC_CAUSE
    CHECK a0, CAUSE_ECALL_S
    la a0, m_rec
    sd zero, REC_COUNT(a0)
    li a1, 7
    csrw mcounteren, a1
    ENTER_MODE PRV_S, s_part2
s_part2:
    rdcycle a0
    rdinstret a0
    CHECK_NO_MTRAP
    /* scounteren written from S */
    csrw scounteren, zero
    BACK_TO_M m_part3
m_part3:
    la a0, m_rec
    sd zero, REC_COUNT(a0)
    ENTER_MODE PRV_U, u_part1
u_part1:
    /* mcounteren set, scounteren clear -> U traps */
    EXPECT_TRAP
1:  rdcycle a0
    CHECK_ILLEGAL_AT 1b
    EXPECT_TRAP
2:  rdinstret a0
    CHECK_ILLEGAL_AT 2b
    /* S CSRs from U */
    EXPECT_TRAP
3:  csrr a0, sstatus
    CHECK_ILLEGAL_AT 3b
    EXPECT_TRAP
4:  csrw sscratch, a0
    CHECK_ILLEGAL_AT 4b
    BACK_TO_M m_part4
m_part4:
    MREC a0, REC_CAUSE
    CHECK a0, CAUSE_ECALL_U
    la a0, m_rec
    sd zero, REC_COUNT(a0)
    li a1, 7
    csrw scounteren, a1
    csrw mcounteren, zero
    ENTER_MODE PRV_U, u_part2
u_part2:
    /* scounteren set but mcounteren clear -> still traps */
    EXPECT_TRAP
1:  rdcycle a0
    CHECK_ILLEGAL_AT 1b
    BACK_TO_M m_part5
m_part5:
    la a0, m_rec
    sd zero, REC_COUNT(a0)
    li a1, 5
    csrw mcounteren, a1
    li a1, 1
    csrw scounteren, a1
    ENTER_MODE PRV_U, u_part3
u_part3:
    rdcycle a0                  /* both enable CY */
    CHECK_NO_MTRAP
    EXPECT_TRAP
1:  rdinstret a0                /* scounteren.IR clear */
    CHECK_ILLEGAL_AT 1b
    BACK_TO_M m_done
m_done:
    PASS
