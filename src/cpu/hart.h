/* SPDX-License-Identifier: MIT */
/*
 * A RISC-V hart (RV64IMAFDC, Zicsr, Zifencei, M/S/U, Sv39/Sv48, Sstc).
 *
 * The architectural state is struct hart_arch (hart_internal.h), the
 * first member of struct hart; the rest of struct hart is the software
 * engine's caches (TLBs, decoded pages, the JIT).  Other threads talk to a hart
 * only through hart_set_irq() and hart_stop(), which are thread-safe.
 * Devices never call these directly: the machine builder turns them into
 * irq_lines (see hw/device.h).
 */
#ifndef WIRT_CPU_HART_H
#define WIRT_CPU_HART_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/vcpu.h" /* IRQ_*; boards use the hart through vcpu_soft */

struct bus;
struct vclock;
struct state_writer;
struct state_reader;

struct hart;

/* What a finished run means to the machine. */
enum hart_exit { HART_EXIT_STOPPED };

struct hart *hart_new(unsigned hartid, struct bus *bus, const struct vclock *clock);
void hart_free(struct hart *h);

/* Architectural reset: M-mode, pc, a0, a1 as firmware expects them. */
void hart_reset(struct hart *h, uint64_t pc, uint64_t a0, uint64_t a1);

/* Turns the hypervisor extension on or off (before the first reset; the
 * device tree must then advertise "h", see hart_isa_string_h). */
void hart_set_h(struct hart *h, bool on);

/* Runs instructions on the calling thread until hart_stop() is called.
 * WFI sleeps on the host (no spinning) until an interrupt is pending. */
void hart_run(struct hart *h);

/* Asks hart_run() to return soon. Any thread. */
void hart_stop(struct hart *h);

/* Raises or lowers an interrupt line into mip (num is IRQ_M_EXT etc.).
 * Signature matches irq_line.set: target is the struct hart. Any thread. */
void hart_set_irq(void *hart, unsigned num, bool level);

/* Architectural state for snapshots (call only while the hart is stopped). */
void hart_save(struct hart *h, struct state_writer *w);
bool hart_load(struct hart *h, struct state_reader *r, uint32_t version);
/* 2: + mseccfg, mstateen0-3 (version 1 loads with them zero); 3: + the
 * hpm counters and events (older versions load with them zero);
 * 4: + whether H is on and, if so, V and the hypervisor/VS CSRs (older
 *    versions load as H off; a snapshot loads only into a hart with the
 *    same H setting);
 * 5: + the Sdtrig triggers (tselect, tdata1-3 of each) and tcontrol
 *    (older versions load with every trigger disabled) */
#define HART_STATE_VERSION 5

/* The ISA the device tree advertises: exactly what hart_run implements. */
extern const char hart_isa_string[];            /* "rv64imafdc_zicsr_zifencei..." */
extern const char *const hart_isa_extensions[]; /* NULL-terminated, for riscv,isa-extensions */
extern const char hart_isa_string_h[];          /* the same with the H extension ("...dch_...") */
extern const unsigned hart_mmu_type_bits;       /* highest paging mode: 48 for sv48 */
/* Zicbom/Zicboz cache block size (riscv,cbom-block-size, cboz-block-size). */
#define CBO_BLOCK_SIZE 64

/* Prints pc, privilege, x registers and the main CSRs (debugging; call
 * while the hart is stopped, or accept a torn snapshot). */
void hart_dump(const struct hart *h, FILE *f);

/* The block compiler (x86-64 hosts; elsewhere the interpreter runs
 * everything).  On by default unless WIRT_JIT=0.  threshold: how many
 * times jumps must reach a block start before it is compiled (0 keeps
 * the default); tests use 1 to compile everything. */
void hart_set_jit(struct hart *h, bool on, unsigned threshold);

/* Register access for tests, loaders and debugging. */
uint64_t hart_get_pc(const struct hart *h);
uint64_t hart_get_x(const struct hart *h, unsigned reg);
void hart_set_x(struct hart *h, unsigned reg, uint64_t value);

#endif
