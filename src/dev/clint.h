/* SPDX-License-Identifier: MIT */
/*
 * The SiFive CLINT (DT "sifive,clint0", "riscv,clint0"): per-hart msip
 * (0x0 + 4h), mtimecmp (0x4000 + 8h) and the shared mtime (0xbff8).
 *
 * mtime is the board's vclock; writing mtime moves the vclock's offset,
 * so the harts' time CSR moves with it.  MTIP of hart h is the level
 * mtime >= mtimecmp[h], re-evaluated on every mtimecmp or mtime write and
 * by an event-loop timer armed for the moment mtime reaches mtimecmp.
 *
 * Loading a saved state sets the vclock to the saved mtime.  If the board
 * moves the vclock itself (pause/resume), it must call clint_clock_changed()
 * afterwards.  All entry points run with the I/O lock held.
 */
#ifndef WIRT_DEV_CLINT_H
#define WIRT_DEV_CLINT_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/device.h"
#include "host/vclock.h"

#define CLINT_MAX_HARTS 4095

struct clint;
struct evloop;

/* mtip and msip hold num_harts lines each (to the harts' MTIP / MSIP).
 * loop may be NULL (no timers: MTIP is then only evaluated on register
 * writes and clint_poll()). */
struct clint *clint_new(struct vclock *clock, struct evloop *loop, unsigned num_harts,
                        const struct irq_line *mtip, const struct irq_line *msip);

/* Re-evaluates every MTIP line and re-arms the timers. */
void clint_clock_changed(struct clint *c);
/* Same as clint_clock_changed(): for boards or tests without an event loop. */
void clint_poll(struct clint *c);

/* Phandles of the harts' interrupt-controller nodes for
 * interrupts-extended; without them fdt() looks them up under /cpus. */
void clint_set_cpu_phandles(struct clint *c, const uint32_t *phandles, unsigned num_harts);

extern const struct dev_ops clint_ops;

#endif
