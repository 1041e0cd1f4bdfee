/* SPDX-License-Identifier: MIT */
/* Entry and M-mode trap handler of the hostile-guest program.  Access and
 * misaligned faults (the device attacks make some on purpose) are counted
 * and skipped; anything else ends the run with exit code 99. */
    .section .text.init
    .globl _start
_start:
    la sp, stack_top
    la t0, trap_save
    csrw mscratch, t0
    la t0, trap
    csrw mtvec, t0
    csrw mie, zero
    call main
    /* main returned: exit through HTIF with its status. */
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b

    .align 4
trap:
    csrrw t0, mscratch, t0
    sd t1, 0(t0)
    sd t2, 8(t0)
    ld t1, 16(t0)
    addi t1, t1, 1
    sd t1, 16(t0)
    csrr t1, mcause
    sd t1, 24(t0)
    addi t2, t1, -4
    li t1, 3
    bgtu t2, t1, bad_trap
    csrr t1, mepc
    lhu t2, 0(t1)
    andi t2, t2, 3
    addi t1, t1, 2
    addi t2, t2, -3
    bnez t2, 1f
    addi t1, t1, 2
1:  csrw mepc, t1
    ld t1, 0(t0)
    ld t2, 8(t0)
    csrrw t0, mscratch, t0
    mret

bad_trap:
    li t1, (99 << 1) | 1
    la t2, tohost
    sd t1, 0(t2)
1:  j 1b

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0

    .bss
    .align 4
    .globl trap_save
trap_save: .zero 32
    .align 12
    .zero 65536
stack_top:
