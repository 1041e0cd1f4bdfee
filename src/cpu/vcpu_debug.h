/* SPDX-License-Identifier: MIT */
/*
 * What a debugger (vmm/gdbstub.c) may do to a vCPU: small operations an
 * engine provides through vcpu_ops.debug, so that the debugger never
 * reaches into an engine's hart.  Every operation runs while the vCPU is
 * not running (the board paused and its harts parked), on the debugger's
 * thread; only the on_stop callback comes from the vCPU's thread.
 *
 * Registers use GDB's RISC-V numbering, so the stub needs no table:
 * x0..x31 are 0..31, pc 32, f0..f31 33..64, CSR n is 65 + n (fflags,
 * frm, fcsr: 66..68) and the privilege level (GDB's virtual "priv") is
 * 65 + 4096.
 *
 * Breakpoints and watchpoints belong to the debugger, not to the guest:
 * memory is not patched and the guest cannot see or disturb them.  A
 * breakpoint stops the vCPU before the instruction at its address
 * executes; a watchpoint stops it after the access completed, before the
 * next instruction (GDB's usual "continuable" watchpoints).
 */
#ifndef WIRT_CPU_VCPU_DEBUG_H
#define WIRT_CPU_VCPU_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

enum {
    VCPU_REG_PC = 32,
    VCPU_REG_F0 = 33,
    VCPU_REG_CSR0 = 65,
    VCPU_REG_PRIV = 65 + 4096,
    VCPU_REG_COUNT = VCPU_REG_PRIV + 1,
};

#define VCPU_MAX_BREAKPOINTS 64
#define VCPU_MAX_WATCHPOINTS 16

enum vcpu_watch_kind { VCPU_WATCH_WRITE = 1, VCPU_WATCH_READ = 2, VCPU_WATCH_ACCESS = 3 };

struct vcpu_breakpoints {
    unsigned nbreak;
    uint64_t brk[VCPU_MAX_BREAKPOINTS]; /* virtual addresses */
    unsigned nwatch;
    struct {
        uint64_t addr, len;
        enum vcpu_watch_kind kind;
    } watch[VCPU_MAX_WATCHPOINTS];
};

enum vcpu_stop_reason {
    VCPU_STOP_NONE,  /* stopped from outside (pause), or nothing yet */
    VCPU_STOP_BREAK, /* pc is at a breakpoint */
    VCPU_STOP_WATCH, /* addr: the watchpoint hit; kind: how */
    VCPU_STOP_STEP,  /* step completed */
};

struct vcpu_stop {
    enum vcpu_stop_reason reason;
    enum vcpu_watch_kind kind;
    uint64_t addr;
};

/* Called on the vCPU's own thread when run returns because of a
 * breakpoint or watchpoint (before it returns): the debugger pauses the
 * machine from there. */
typedef void (*vcpu_debug_stop_cb)(void *opaque, struct vcpu *v);

struct vcpu_debug_ops {
    /* false: no such register here (or not readable now: f regs need
     * nothing, fflags/frm/fcsr need mstatus.FS on). */
    bool (*get_reg)(struct vcpu *v, unsigned reg, uint64_t *val);
    bool (*set_reg)(struct vcpu *v, unsigned reg, uint64_t val);
    /* Guest-virtual memory through the vCPU's current translation (its
     * privilege; S-mode sees user pages too, as with SUM), RAM only, no
     * permission checks.  Returns the bytes done (short at the first
     * unmapped or non-RAM byte).  Writes reach every hart's decoded and
     * compiled code like DMA. */
    size_t (*access_mem)(struct vcpu *v, uint64_t va, void *buf, size_t len, bool write);
    /* Arms the breakpoints and watchpoints (copied; NULL or empty: none).
     * While any is armed the engine may run slower (interpreted). */
    void (*set_breakpoints)(struct vcpu *v, const struct vcpu_breakpoints *bp,
                            vcpu_debug_stop_cb on_stop, void *opaque);
    /* Executes one instruction (or takes one exception) with interrupts
     * held off, ignoring a breakpoint at the current pc. */
    void (*step)(struct vcpu *v);
    /* Why the last run or step stopped, once; and forgets it. */
    struct vcpu_stop (*take_stop)(struct vcpu *v);
    /* Run ignores a breakpoint at the current pc for its first instruction
     * (resuming from a breakpoint without stepping over it first). */
    void (*skip_breakpoint_once)(struct vcpu *v);
};

#endif
