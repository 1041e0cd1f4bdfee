/* SPDX-License-Identifier: MIT */
/*
 * The block compiler: turns hot runs of decoded instructions into x86-64
 * code (jit.c, with jit_x86.h, jit_regcache.c and jit_runtime.c: see
 * jit_internal.h).  Only src/cpu/ includes this header.
 *
 * A block starts at a slot of a decoded page (struct dpage) and runs
 * straight through the page, leaving at taken branches, jumps, the first
 * instruction it cannot compile, the page's end or JIT_MAX_INSNS
 * instructions.  Its entry slot keeps op and len but gets hidx JIT_HIDX
 * and the code's address in place of imm/raw; the original slot is kept
 * just before the code.  So every path the interpreter already had for
 * invalidating decoded slots (stores, DMA, FENCE.I, flushes) also drops
 * compiled blocks, once dcache.c clears the whole page when a slot a
 * block was made from changes (dpage.jit_cover).
 *
 * Compiled code is position-independent in guest addresses: r15 holds
 * the virtual pc of the block's entry, so a physical page mapped at
 * several virtual addresses shares its blocks.  Guest registers live in
 * struct hart (rbx) at block boundaries and are cached in host registers
 * inside a block (struct regcache, jit_regcache.c): written back before anything
 * that may leave the block or call C, reloaded after calls that return.
 * Loads and stores look up the same software TLBs as the interpreter
 * inline and call the interpreter's slow paths on a miss.  Blocks chain
 * to blocks in the same page by patched jumps (or, until patched, by
 * reading the target slot), to themselves as loops that keep registers in
 * host registers, and to other pages through the fetch TLB (jit_lookup),
 * as long as the instruction budget holds another whole block and no one
 * asked the hart to look up (hart.check).
 */
#ifndef WIRT_CPU_JIT_H
#define WIRT_CPU_JIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/hart_internal.h"

#define JIT_MAX_INSNS 64
#define JIT_HIDX      (OP_JIT * 2)

/* The compiled code a JIT slot points to, and the slot it replaced. */
static inline const uint8_t *jit_slot_code(const struct dinsn *d)
{
    const uint8_t *code;
    memcpy(&code, &d->imm, sizeof(code));
    return code;
}
static inline const struct dinsn *jit_code_orig(const uint8_t *code)
{
    return (const struct dinsn *)(const void *)(code - sizeof(struct dinsn));
}

/* Sets up the code buffer; false when the host cannot run generated code
 * (not x86-64, or no executable memory): the interpreter does it all. */
bool jit_init(struct hart *h);
void jit_free(struct hart *h);
/* Forgets every block (the decoded cache is being flushed). */
void jit_reset(struct hart *h);
/* After jit_reset: the code buffer's pages go back to the host (the
 * buffer stays reserved and fills again on demand). */
void jit_release(struct hart *h);

/* Compiles the block starting at byte offset off of page dp (mapped at
 * virtual page vpage for the current fetch), and the blocks after
 * instructions it stopped at.  May flush the whole decoded cache (code
 * buffer full), so the caller must not use dp afterwards. */
void jit_compile(struct hart *h, struct dpage *dp, unsigned off, uint64_t vpage);

/* Runs compiled code entered at pc with left instructions of budget
 * (>= JIT_MAX_INSNS); returns the budget left.  h->arch.pc is where to go on;
 * h->jit_exc says a trap was taken (h->arch.pc is then the trap handler). */
int64_t jit_enter(struct hart *h, const uint8_t *code, int64_t left, uint64_t pc,
                  struct tlb_entry *ltlb, struct tlb_entry *stlb);

#endif
