/* SPDX-License-Identifier: MIT */
/*
 * F, D, Zfh and Zfa computational instructions (everything except loads
 * and stores).
 *
 * The CPU calls fpu_execute() for the OP-FP, FMADD, FMSUB, FNMSUB and
 * FNMADD major opcodes after checking mstatus.FS != Off, and marks FS
 * Dirty afterwards.  Registers in struct fpu_regs hold NaN-boxed values.
 */
#ifndef WIRT_CPU_FPU_H
#define WIRT_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

struct fpu_regs {
    uint64_t f[32];
    uint32_t fflags; /* accrued exceptions, fcsr[4:0]: NV DZ OF UF NX */
    uint32_t frm;    /* dynamic rounding mode, fcsr[7:5] */
};

enum { FFLAG_NX = 1, FFLAG_UF = 2, FFLAG_OF = 4, FFLAG_DZ = 8, FFLAG_NV = 16 };
enum { RM_RNE = 0, RM_RTZ = 1, RM_RDN = 2, RM_RUP = 3, RM_RMM = 4, RM_DYN = 7 };

/* Executes insn. x is the integer register file (x[0] must read as 0 and
 * is rewritten to 0 by the caller). Returns false for an illegal
 * instruction (unknown encoding, reserved rounding mode); then no state
 * has changed.  Uses the host FPU: the calling thread's floating-point
 * environment must be the default one (round to nearest, exceptions
 * masked, no flush-to-zero), and is left that way (host exception flags
 * are clobbered). Thread-safe (no mutable global state). */
bool fpu_execute(struct fpu_regs *fp, uint64_t *x, uint32_t insn);

/* Whether the host has FMA3 (fused multiply-add in one rounding). */
bool fpu_host_has_fma(void);

/* NaN-boxing helpers used by the CPU's FLW/FSW/C.FLW... */
static inline uint64_t fpu_box32(uint32_t v)
{
    return 0xffffffff00000000ULL | v;
}

static inline uint64_t fpu_box16(uint16_t v)
{
    return 0xffffffffffff0000ULL | v;
}

#endif
