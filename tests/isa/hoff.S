/* SPDX-License-Identifier: MIT */
/* Without the hypervisor extension (the default, `wirt run` without
 * --cpu h=on; QEMU's default CPU): misa.H clear, mideleg has no
 * read-only VS bits, the hypervisor/VS CSRs and mtval2/mtinst are
 * illegal, and so are HLV/HLVX/HSV, HFENCE.VVMA/GVMA in M and S. */
#define TEST_NAME "hoff"
#include "isa.h"

    .option arch, +h

TEST_MAIN
    csrr a0, misa
    srli a0, a0, 7
    andi a0, a0, 1
    CHECK a0, 0
    li a1, -1
    csrw mideleg, a1
    csrr a0, mideleg
    andi a1, a0, 0x222
    CHECK a1, 0x222
#ifndef QEMU_QUIRKS
    /* QEMU 7.2 with h=false still shows (some of) the VS bits. */
    li a2, 0x1444               /* no VS-level bits */
    and a1, a0, a2
    CHECK a1, 0
#endif
    csrw mideleg, zero
    csrr a0, mideleg
    CHECK a0, 0

    EXPECT_TRAP
    csrr a0, hstatus
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, hgatp
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, vsstatus
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, vsatp
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrw hvip, zero
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, 0x34b              /* mtval2 */
    CHECK_MTRAP CAUSE_ILLEGAL

    la a1, scratch
    EXPECT_TRAP
    hlv.d a0, (a1)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hlv.bu a0, (a1)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hlvx.wu a0, (a1)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hsv.w a0, (a1)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hfence.vvma
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hfence.gvma
    CHECK_MTRAP CAUSE_ILLEGAL

    ENTER_MODE PRV_S, s_mode
s_mode:
    la a1, scratch
    EXPECT_TRAP
    hlv.w a0, (a1)
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    hfence.gvma
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    csrr a0, hstatus
    CHECK_MTRAP CAUSE_ILLEGAL
    EXPECT_TRAP
    ecall                       /* from S: 9 (never 10 without V) */
    CHECK_MTRAP CAUSE_ECALL_S
    PASS

    .data
scratch: .dword 0
