/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V Platform-Level Interrupt Controller (DT "sifive,plic-1.0.0",
 * "riscv,plic0"), laid out as in the RISC-V PLIC specification and QEMU's
 * virt board: two contexts per hart, context 2h for M-mode and 2h+1 for
 * S-mode, priorities 0..7.
 *
 * Sources are level-triggered: a source whose line is high is pending
 * unless it has been claimed and not yet completed; a line that drops
 * withdraws an unclaimed request; completing a source whose line is still
 * high makes it pending again.
 *
 * Locking: the PLIC has its own mutex, so plic_set_source() may be called
 * from any thread, with or without the I/O lock (devices normally call it
 * with the I/O lock held).  Context lines are driven with that mutex held,
 * so their set() must neither call back into the PLIC nor take the I/O
 * lock (an atomic update of the hart's mip is what is expected).
 */
#ifndef WIRT_DEV_PLIC_H
#define WIRT_DEV_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/device.h"

#define PLIC_MAX_PRIORITY 7
#define PLIC_MAX_SOURCES  1024
#define PLIC_MAX_HARTS    64

struct plic;

/* num_sources counts source 0 (reserved), so sources are 1..num_sources-1.
 * context_lines holds 2 * num_harts lines: [2h] to hart h's MEIP, [2h+1]
 * to its SEIP.  Returns NULL on bad arguments or out of memory. */
struct plic *plic_new(unsigned num_sources, unsigned num_harts,
                      const struct irq_line *context_lines);

/* Sets the level of source `source`'s input line; the signature of
 * irq_line.set, with target = the plic.  Out-of-range sources are ignored. */
void plic_set_source(void *plic, unsigned source, bool level);

/* The irq_line for a source, for handing to a device. */
struct irq_line plic_source_line(struct plic *plic, unsigned source);

/* Phandles of the harts' interrupt-controller nodes, for the PLIC's
 * interrupts-extended property.  Without them fdt() looks them up at
 * /cpus/cpu@N/interrupt-controller. */
void plic_set_cpu_phandles(struct plic *plic, const uint32_t *phandles, unsigned num_harts);

extern const struct dev_ops plic_ops;

#endif
