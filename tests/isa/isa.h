/* SPDX-License-Identifier: MIT */
/*
 * Common runtime for wirt's bare-metal ISA tests.
 *
 * A test file does:
 *     #define TEST_NAME "rv64i"
 *     #include "isa.h"
 *     TEST_MAIN
 *         ...checks...
 *         PASS
 *
 * Contract:
 *  - Execution starts in M-mode at _start (0x80000000) which sets mtvec to
 *    m_trap, opens PMP entry 0 to all memory (S/U may then touch RAM),
 *    sets mstatus.FS=Initial, zeroes fcsr and jumps to test_main.
 *  - gp holds the number of the check in progress.  Check macros number
 *    themselves in source order (1, 2, 3, ...); the Nth check macro in a file
 *    is check N.  `objdump -d` and look for `li gp,N` to locate one.
 *  - t6 is the check macros' scratch register; tp controls trap handling.
 *  - Failure prints "FAIL <name> check N" through HTIF and exits with code
 *    min(N, 255); success prints "PASS <name>" and exits with code 0.
 *  - Traps (both M and S handlers, selected by mtvec/stvec):
 *      tp == 0   : unexpected trap -> failure of the current check (the
 *                  message adds cause/epc/tval)
 *      tp == 2/4 : record, then return to epc + tp (same privilege)
 *      tp >= 16  : record, then return to address tp; the M handler returns
 *                  in M-mode (MPP := M), the S handler in S-mode (SPP := S)
 *    Interrupts never advance epc in skip mode.  tp is cleared (one-shot).
 *    The record is in m_rec / s_rec: +0 cause, +8 epc, +16 tval, +24 count,
 *    +32 mstatus/sstatus at trap time.  Handlers preserve every register
 *    except tp and mscratch/sscratch.
 *  - Test code after TEST_MAIN is assembled with .option norvc, so every
 *    instruction (and therefore every trapping instruction) is 4 bytes.
 */

#ifndef TEST_NAME
#error "define TEST_NAME before including isa.h"
#endif

/* ---- CSR and platform constants ---------------------------------------- */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15

#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define INTR_BIT (1 << 63)

#define CLINT_BASE     0x2000000
#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8

#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG  0x30a

#define REC_CAUSE  0
#define REC_EPC    8
#define REC_TVAL   16
#define REC_COUNT  24
#define REC_STATUS 32

/* ---- check macros ------------------------------------------------------- */
    .set chk_n, 0

.macro NEXT_CHECK
    .set chk_n, chk_n + 1
    li gp, chk_n
.endm

/* Fail the current check unless reg == val (val: 64-bit immediate). */
.macro CHECK reg, val
    NEXT_CHECK
    li t6, \val
    beq \reg, t6, .Lok\@
    j fail
.Lok\@:
.endm

/* Same check number as the preceding CHECK (several facts, one check). */
.macro CHECK_MORE reg, val
    li t6, \val
    beq \reg, t6, .Lok\@
    j fail
.Lok\@:
.endm

.macro CHECK_EQ ra, rb
    NEXT_CHECK
    beq \ra, \rb, .Lok\@
    j fail
.Lok\@:
.endm

/* Fail unless reg != val. */
.macro CHECK_NE reg, val
    NEXT_CHECK
    li t6, \val
    bne \reg, t6, .Lok\@
    j fail
.Lok\@:
.endm

/* Fail unless reg (unsigned) > val. */
.macro CHECK_GTU reg, val
    NEXT_CHECK
    li t6, \val
    bltu t6, \reg, .Lok\@
    j fail
.Lok\@:
.endm

/* a0 = inst a1, a2 with a1 = a, a2 = b; check a0 == res. */
.macro TEST_RR inst, res, a, b
    li a1, \a
    li a2, \b
    \inst a0, a1, a2
    CHECK a0, \res
.endm

/* a0 = inst a1, imm. */
.macro TEST_RI inst, res, a, imm
    li a1, \a
    \inst a0, a1, \imm
    CHECK a0, \res
.endm

/* a0 = inst a1 (unary) */
.macro TEST_R inst, res, a
    li a1, \a
    \inst a0, a1
    CHECK a0, \res
.endm

/* Arm the trap handlers to record the next trap and skip the faulting
 * (4-byte) instruction. */
.macro EXPECT_TRAP
    li tp, 4
.endm

/* Arm the trap handlers to record the next trap and resume at label. */
.macro EXPECT_TRAP_AT label
    la tp, \label
.endm

/* Check that exactly the armed trap happened: m_rec cause == cause, and
 * clear the record count afterwards.  Uses t5. */
.macro CHECK_MTRAP cause
    la t5, m_rec
    ld t5, REC_CAUSE(t5)
    CHECK t5, \cause
    la t5, m_rec
    ld t5, REC_COUNT(t5)
    CHECK_MORE t5, 1
    la t5, m_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

.macro CHECK_STRAP cause
    la t5, s_rec
    ld t5, REC_CAUSE(t5)
    CHECK t5, \cause
    la t5, s_rec
    ld t5, REC_COUNT(t5)
    CHECK_MORE t5, 1
    la t5, s_rec
    sd zero, REC_COUNT(t5)
    sd zero, REC_CAUSE(t5)
.endm

/* Check no trap has been recorded since the last CHECK_*TRAP. */
.macro CHECK_NO_MTRAP
    la t5, m_rec
    ld t5, REC_COUNT(t5)
    CHECK t5, 0
.endm

/* Load a field of the M (or S) trap record into reg. */
.macro MREC reg, off
    la \reg, m_rec
    ld \reg, \off(\reg)
.endm
.macro SREC reg, off
    la \reg, s_rec
    ld \reg, \off(\reg)
.endm

/* Drop from M-mode to privilege prv (PRV_S/PRV_U) at label, with the given
 * mstatus.MPIE left as is.  Clobbers t5. */
.macro ENTER_MODE prv, label
    li t5, MSTATUS_MPP
    csrc mstatus, t5
    li t5, (\prv) << 11
    csrs mstatus, t5
    la t5, \label
    csrw mepc, t5
    mret
.endm

/* From any mode: trap to M-mode (ecall, not delegated) and continue at
 * label in M-mode.  Requires medeleg not delegating the ecall cause.  The
 * target is loaded as an absolute address, so this also works from code
 * running at a virtual alias of its link address. */
.macro BACK_TO_M label
    .pushsection .data
    .balign 8
.Lbtm\@: .dword \label
    .popsection
    la tp, .Lbtm\@
    ld tp, 0(tp)
    ecall
.endm

.macro PASS
    j pass
.endm

/* ---- runtime ------------------------------------------------------------ */
    .section .text.init, "ax", @progbits
    .option push
    .option norvc
    .globl _start
_start:
    la t0, m_trap
    csrw mtvec, t0
    la sp, stack_top
    li gp, 0
    /* PMP entry 0: NAPOT over the whole address space, RWX, so S and U may
     * access memory.  A hart without PMP may trap here: skip in that case. */
    li tp, 4
    li t0, -1
    csrw pmpaddr0, t0
    li tp, 4
    li t0, 0x1f
    csrw pmpcfg0, t0
    li tp, 0
    la t0, m_rec
    sd zero, REC_COUNT(t0)
    sd zero, REC_CAUSE(t0)
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    csrwi fcsr, 0
    j test_main

/* Machine-mode trap handler. */
    .align 6
    .globl m_trap
m_trap:
    csrw mscratch, t0
    la t0, m_save
    sd t1, 0(t0)
    sd t2, 8(t0)
    sd a0, 16(t0)
    la t0, m_rec
    csrr t1, mcause
    sd t1, REC_CAUSE(t0)
    csrr t1, mepc
    sd t1, REC_EPC(t0)
    csrr t1, mtval
    sd t1, REC_TVAL(t0)
    ld t1, REC_COUNT(t0)
    addi t1, t1, 1
    sd t1, REC_COUNT(t0)
    csrr t1, mstatus
    sd t1, REC_STATUS(t0)
    beqz tp, unexpected_m
    li t1, 16
    bgeu tp, t1, 2f
    csrr t1, mcause
    bltz t1, 1f
    csrr t1, mepc
    add t1, t1, tp
    csrw mepc, t1
1:  li tp, 0
    j 3f
2:  csrw mepc, tp
    li tp, 0
    li t1, MSTATUS_MPP
    csrs mstatus, t1
3:  la t0, m_save
    ld t1, 0(t0)
    ld t2, 8(t0)
    ld a0, 16(t0)
    csrr t0, mscratch
    mret

unexpected_m:
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    la sp, stack_top
    la a0, msg_fail
    call puts
    mv a0, gp
    call putdec
    la a0, msg_trap
    call puts
    csrr a0, mcause
    call puthex
    la a0, msg_epc
    call puts
    csrr a0, mepc
    call puthex
    la a0, msg_tval
    call puts
    csrr a0, mtval
    call puthex
    li a0, '\n'
    call putchar
    j exit_gp

/* Supervisor-mode trap handler (used when a test delegates). */
    .align 6
    .globl s_trap
s_trap:
    csrw sscratch, t0
    la t0, s_save
    sd t1, 0(t0)
    la t0, s_rec
    csrr t1, scause
    sd t1, REC_CAUSE(t0)
    csrr t1, sepc
    sd t1, REC_EPC(t0)
    csrr t1, stval
    sd t1, REC_TVAL(t0)
    ld t1, REC_COUNT(t0)
    addi t1, t1, 1
    sd t1, REC_COUNT(t0)
    csrr t1, sstatus
    sd t1, REC_STATUS(t0)
    beqz tp, unexpected_s
    li t1, 16
    bgeu tp, t1, 2f
    csrr t1, scause
    bltz t1, 1f
    csrr t1, sepc
    add t1, t1, tp
    csrw sepc, t1
1:  li tp, 0
    j 3f
2:  csrw sepc, tp
    li tp, 0
    li t1, MSTATUS_SPP
    csrs sstatus, t1
3:  la t0, s_save
    ld t1, 0(t0)
    csrr t0, sscratch
    sret

unexpected_s:
    /* Can't print from S-mode portably: leave to M via ecall. */
    la tp, fail_m_abs
    ld tp, 0(tp)
    ecall
    j fail_m

/* fail: report check gp.  Works from any privilege: escapes to M first
 * (from M, the ecall lands in m_trap, which resumes at fail_m). */
    .globl fail
fail:
    la tp, fail_m_abs
    ld tp, 0(tp)
    ecall
fail_m:
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    la sp, stack_top
    la a0, msg_fail
    call puts
    mv a0, gp
    call putdec
    li a0, '\n'
    call putchar
exit_gp:
    mv a0, gp
    li t0, 255
    bleu a0, t0, 1f
    mv a0, t0
1:  bnez a0, 2f
    li a0, 255
2:  j exit

    .globl pass
pass:
    la tp, pass_m_abs
    ld tp, 0(tp)
    ecall
pass_m:
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    la sp, stack_top
    la a0, msg_pass
    call puts
    li a0, 0
    j exit

#ifdef PLATFORM_VIRT
/* Build variant for QEMU's virt board (no HTIF), used only to validate
 * tests that need what QEMU's spike machine lacks (rdtime, Sstc): exit via
 * the SiFive test finisher, print via the 16550 UART. */
exit:
    li t0, 0x100000
    bnez a0, 1f
    li t1, 0x5555
    sw t1, 0(t0)
    j .
1:  slli t1, a0, 16
    li t2, 0x3333
    or t1, t1, t2
    sw t1, 0(t0)
    j .

putchar:
    li t0, 0x10000000
1:  lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, 1b
    sb a0, 0(t0)
    ret
#else
/* exit(a0): HTIF exit with code a0. */
exit:
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
1:  sd a0, 0(t0)
    j 1b

/* putchar(a0): HTIF console device 1 command 1.  Gives up waiting for the
 * host's acknowledgement after a bounded number of polls. */
putchar:
    li t0, 0x0101000000000000
    andi a0, a0, 0xff
    or t0, t0, a0
    la t1, tohost
    sd t0, 0(t1)
    la t1, fromhost
    li t2, 200000
1:  ld t0, 0(t1)
    bnez t0, 2f
    addi t2, t2, -1
    bnez t2, 1b
2:  sd zero, 0(t1)
    ret
#endif

/* puts(a0 = NUL-terminated string) */
puts:
    addi sp, sp, -16
    sd ra, 0(sp)
    sd s0, 8(sp)
    mv s0, a0
1:  lbu a0, 0(s0)
    beqz a0, 2f
    call putchar
    addi s0, s0, 1
    j 1b
2:  ld ra, 0(sp)
    ld s0, 8(sp)
    addi sp, sp, 16
    ret

/* puthex(a0): "0x" and 16 hex digits */
puthex:
    addi sp, sp, -32
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    mv s0, a0
    li a0, '0'
    call putchar
    li a0, 'x'
    call putchar
    li s1, 60
1:  srl a0, s0, s1
    andi a0, a0, 15
    li t0, 10
    blt a0, t0, 2f
    addi a0, a0, 'a' - 10 - '0'
2:  addi a0, a0, '0'
    call putchar
    addi s1, s1, -4
    bgez s1, 1b
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    addi sp, sp, 32
    ret

/* putdec(a0): unsigned decimal */
putdec:
    addi sp, sp, -48
    sd ra, 0(sp)
    mv t1, a0
    addi t2, sp, 40
    sb zero, 0(t2)
    li t0, 10
1:  remu a0, t1, t0
    addi a0, a0, '0'
    addi t2, t2, -1
    sb a0, 0(t2)
    divu t1, t1, t0
    bnez t1, 1b
    mv a0, t2
    call puts
    ld ra, 0(sp)
    addi sp, sp, 48
    ret
    .option pop

    .section .rodata
    .balign 8
fail_m_abs: .dword fail_m
pass_m_abs: .dword pass_m
msg_fail:
    .string "FAIL " TEST_NAME " check "
msg_pass:
    .string "PASS " TEST_NAME "\n"
msg_trap:
    .string " unexpected trap mcause="
msg_epc:
    .string " mepc="
msg_tval:
    .string " mtval="

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .size tohost, 8
    .align 6
    .globl fromhost
fromhost: .dword 0
    .size fromhost, 8

    .section .bss
    .align 4
m_save: .skip 64
s_save: .skip 64
    .align 4
    .globl m_rec
m_rec:  .skip 64
    .globl s_rec
s_rec:  .skip 64
    .align 12
stack:  .skip 8192
stack_top:

    .text
    .option norvc

#define TEST_MAIN \
    .text; .globl test_main; test_main:
