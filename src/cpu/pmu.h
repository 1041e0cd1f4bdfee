/* SPDX-License-Identifier: MIT */
/*
 * Zihpm counters with Sscofpmf: mhpmcounter3..3+PMU_HPM-1 count the
 * events that mhpmevent selects (the SBI PMU numbering OpenSBI writes for
 * hardware events without a platform table: 1 cycles, 2 instructions;
 * anything else counts nothing), filtered by privilege mode
 * (MINH/SINH/UINH) and mcountinhibit, and raise the local count-overflow
 * interrupt (LCOFI, mip bit 13) when a counter wraps with its OF bit clear.
 */
#ifndef WIRT_CPU_PMU_H
#define WIRT_CPU_PMU_H

#include <stdbool.h>
#include <stdint.h>

struct hart;

#define PMU_HPM        16 /* mhpmcounter3..18, like QEMU's virt CPU */
#define IRQ_LCOF       13
#define MIP_LCOFIP     (1ULL << IRQ_LCOF)
#define HPMEVENT_OF    (1ULL << 63)
#define HPMEVENT_MINH  (1ULL << 62)
#define HPMEVENT_SINH  (1ULL << 61)
#define HPMEVENT_UINH  (1ULL << 60)
#define HPMEVENT_EVENT ((1ULL << 56) - 1) /* the event selector, WARL as written */
#define CSR_SCOUNTOVF  0xda0

enum { PMU_EV_CYCLES = 1, PMU_EV_INSTRUCTIONS = 2 };

/* Adds n executed instructions (and as many cycles) to the counters that
 * count in the current privilege mode; called where mcycle/minstret are
 * brought up to date. */
void pmu_count(struct hart *h, uint64_t n);

/* mhpmcounterN, mhpmeventN, hpmcounterN (access already checked) and
 * scountovf: true when csr is one of them (then *val is set, or the
 * write is done). */
bool pmu_csr_read(struct hart *h, unsigned csr, uint64_t *val);
bool pmu_csr_write(struct hart *h, unsigned csr, uint64_t v);

/* Recomputes which counters may count (after mcountinhibit or a state
 * load changed). */
void pmu_update(struct hart *h);

/* mcountinhibit bits that exist: CY, IR and the implemented counters. */
#define PMU_INHIBIT_MASK (5u | (((1u << PMU_HPM) - 1) << 3))

#endif
