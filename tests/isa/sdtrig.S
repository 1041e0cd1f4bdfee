/* SPDX-License-Identifier: MIT */
/* Sdtrig without Debug Mode: tinfo (types mcontrol6 and disabled, version
 * 1), tselect WARL over 4 triggers, tdata1 WARL (reset and 0 -> disabled,
 * dmode/action/chain/size read 0, unsupported match -> equal), and
 * mcontrol6 address triggers with action 0: execute (before the
 * instruction, epc = tval = its address, hit0 set), store (before the
 * access: memory unchanged; any accessed byte matches), load with
 * match < only in S-mode, several triggers armed at once.  M-mode
 * triggers run with tcontrol.MTE set (the handler's mret restores it). */
#define TEST_NAME "sdtrig"
#include "isa.h"
#define CSR_TSELECT 0x7a0
#define CSR_TDATA1  0x7a1
#define CSR_TDATA2  0x7a2
#define CSR_TDATA3  0x7a3
#define CSR_TINFO   0x7a4
#define CSR_TCONTROL 0x7a5
#define TCONTROL_MTE 0x08
#define MC6         (6 << 60)
#define MC6_HIT0    (1 << 22)
#define MC6_M       0x40
#define MC6_S       0x10
#define MC6_U       0x08
#define MC6_EXEC    0x04
#define MC6_STORE   0x02
#define MC6_LOAD    0x01

.macro CLEAR_MREC
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

TEST_MAIN
    csrr a0, CSR_TINFO
    CHECK a0, 0x01008040
    /* tselect: 0..3, anything else keeps the old value */
    csrwi CSR_TSELECT, 1
    csrr a0, CSR_TSELECT
    CHECK a0, 1
    csrwi CSR_TSELECT, 4
    csrr a0, CSR_TSELECT
    CHECK a0, 1
    csrwi CSR_TSELECT, 3
    li t0, -1
    csrw CSR_TSELECT, t0
    csrr a0, CSR_TSELECT
    CHECK a0, 3
    /* tdata1 after reset, and after writing 0: disabled (type 15) */
    csrwi CSR_TSELECT, 0
    csrr a0, CSR_TDATA1
    CHECK a0, 0xf000000000000000
    li t0, MC6 | MC6_M | MC6_EXEC
    csrw CSR_TDATA1, t0
    csrw CSR_TDATA1, zero
    csrr a0, CSR_TDATA1
    CHECK a0, 0xf000000000000000
    /* dmode (59), action (12), chain (11), size (16) read 0 */
    li t0, MC6 | (1 << 59) | (1 << 16) | (1 << 12) | (1 << 11) | MC6_M | MC6_S | MC6_U | MC6_EXEC
    csrw CSR_TDATA1, t0
    csrr a0, CSR_TDATA1
    CHECK a0, MC6 | MC6_M | MC6_S | MC6_U | MC6_EXEC
    /* match 1 (napot) is not there: equal */
    li t0, MC6 | (1 << 7) | MC6_U
    csrw CSR_TDATA1, t0
    csrr a0, CSR_TDATA1
    CHECK a0, MC6 | MC6_U
    csrw CSR_TDATA3, t0
    csrr a0, CSR_TDATA3
    CHECK a0, 0
    csrw CSR_TDATA1, zero

    /* execute trigger 0 in M-mode: fires before exec_target runs
     * (tcontrol.MTE lets M-mode triggers fire; see tcontrol.S) */
    csrwi CSR_TCONTROL, TCONTROL_MTE
    la t0, exec_target
    csrw CSR_TDATA2, t0
    csrr a0, CSR_TDATA2
    CHECK_EQ a0, t0
    li t0, MC6 | MC6_M | MC6_EXEC
    csrw CSR_TDATA1, t0
    li a0, 0
    EXPECT_TRAP
exec_target:
    li a0, 1                        /* skipped by the handler */
    CHECK_MTRAP CAUSE_BREAKPOINT
    CHECK a0, 0
    la t0, exec_target
    MREC a1, REC_EPC
    CHECK_EQ a1, t0
    MREC a1, REC_TVAL
    CHECK_EQ a1, t0
    csrr a0, CSR_TDATA1
    CHECK a0, MC6 | MC6_HIT0 | MC6_M | MC6_EXEC
    csrw CSR_TDATA1, zero
    jal ra, exec_call               /* off now: runs */
    CHECK a0, 7
    CHECK_NO_MTRAP

    /* store trigger 1 on tword, with trigger 0 (execute, U only) armed */
    li t0, MC6 | MC6_U | MC6_EXEC
    csrw CSR_TDATA1, t0
    csrwi CSR_TSELECT, 1
    la t0, tword
    csrw CSR_TDATA2, t0
    li t1, MC6 | MC6_M | MC6_STORE
    csrw CSR_TDATA1, t1
    li a1, 0x55
    ld a0, 0(t0)                    /* a load: no */
    sb a1, 4(t0)                    /* another byte: no */
    CHECK_NO_MTRAP
    EXPECT_TRAP
    sd a1, 0(t0)
    CHECK_MTRAP CAUSE_BREAKPOINT
    MREC a2, REC_TVAL
    CHECK_EQ a2, t0
    ld a0, 0(t0)
    CHECK a0, 0x0000005500000000    /* the sd did not happen */
    EXPECT_TRAP
    sd a1, -4(t0)                   /* covers tword's first byte */
    CHECK_MTRAP CAUSE_BREAKPOINT
    csrw CSR_TDATA1, zero

    /* load trigger 2, match < (lword + 16), S-mode only; lword is the
     * lowest data there is, so only these loads are below it */
    csrwi CSR_TSELECT, 2
    la t0, lword
    addi t0, t0, 16
    csrw CSR_TDATA2, t0
    li t1, MC6 | (3 << 7) | MC6_S | MC6_LOAD
    csrw CSR_TDATA1, t1
    la t0, lword
    ld a0, 8(t0)                    /* M-mode: no */
    CHECK_NO_MTRAP
    ENTER_MODE PRV_S, in_s
in_s:
    la t0, lword
    ld a0, 16(t0)                   /* not below: no */
    CHECK_NO_MTRAP
    EXPECT_TRAP
    ld a0, 8(t0)                    /* below: yes, back in S after the handler */
    CHECK_MTRAP CAUSE_BREAKPOINT
    addi t0, t0, 8
    MREC a2, REC_TVAL
    CHECK_EQ a2, t0
    BACK_TO_M back_in_m
back_in_m:
    CLEAR_MREC
    csrr a0, CSR_TDATA1
    CHECK a0, MC6 | MC6_HIT0 | (3 << 7) | MC6_S | MC6_LOAD
    csrw CSR_TDATA1, zero
    csrwi CSR_TSELECT, 0
    csrw CSR_TDATA1, zero
    la t0, lword
    ENTER_MODE PRV_S, in_s2
in_s2:
    ld a0, 8(t0)                    /* all off */
    CHECK_NO_MTRAP
    BACK_TO_M done_m
done_m:
    CLEAR_MREC
    PASS

exec_call:
    li a0, 7
    ret

    .pushsection .text.init, "ax", @progbits
    .align 3
lword:
    .dword 0, 0, 0
    .popsection

    .data
    .align 3
    .dword 0
tword:
    .dword 0
    .dword 0
