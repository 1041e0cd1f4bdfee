/* SPDX-License-Identifier: MIT */
/* Entry of the bare-metal program tests/gdb/test_gdb.py debugs. */
    .section .text.init, "ax"
    .globl _start
_start:
    li t0, 1 << 13          /* mstatus.FS = Initial: main_loop uses the FPU */
    csrs mstatus, t0
    la sp, stack_top
    call main_loop
1:  j 1b
    .bss
    .align 4
    .space 4096
stack_top:
