/* SPDX-License-Identifier: MIT */
/* Stub while the real implementation is written. */
#include "cpu/fpu.h"

bool fpu_execute(struct fpu_regs *fp, uint64_t *x, uint32_t insn)
{
    (void)fp;
    (void)x;
    (void)insn;
    return false;
}
