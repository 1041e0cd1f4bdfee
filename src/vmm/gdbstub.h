/* SPDX-License-Identifier: MIT */
/*
 * A GDB remote-protocol stub for one machine (`wirt run --gdb`): every
 * hart is a thread, registers include the FPU and the CSRs (target
 * description XML), memory goes through the current hart's MMU, and
 * breakpoints (Z0/Z1), watchpoints (Z2-Z4), single steps, continue,
 * Ctrl-C, detach and kill work in GDB's all-stop mode.  See
 * docs/debugging.md.
 *
 * The stub stops and restarts the harts with the board's pause and resume
 * and reaches them only through vcpu_ops.debug (cpu/vcpu_debug.h).
 */
#ifndef WIRT_VMM_GDBSTUB_H
#define WIRT_VMM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>

struct board;
struct gdbstub;

/* Checks an address: "tcp:[HOST]:PORT" (no host: 127.0.0.1) or
 * "unix:PATH".  false with the reason in why. */
bool gdbstub_address_ok(const char *addr, char *why, size_t whylen);

/* Listens on addr and serves one debugger at a time on its own thread.
 * wait: the machine starts paused until a debugger continues it (QEMU's
 * -S).  Call after board_boot, before board_run; NULL with one line in
 * err when the address cannot be used. */
struct gdbstub *gdbstub_new(struct board *b, const char *addr, bool wait, char *err, size_t errlen);
/* After board_run returned: tells a connected debugger the machine has
 * exited, and stops the thread. */
void gdbstub_free(struct gdbstub *g, int exit_code);

#endif
