/* SPDX-License-Identifier: MIT */
/*
 * What the block compiler's files share (x86-64 only; design in jit.h):
 *   jit_x86.h      the x86-64 encoder
 *   jit_runtime.c  the code buffer (W^X), the fixed entry/exit stubs, and
 *                  the C helpers generated code calls (slow paths)
 *   jit_regcache.c guest registers held in host registers inside a block
 *   jit.c          the block compiler proper (main lines, cold stubs,
 *                  chaining)
 */
#ifndef WIRT_CPU_JIT_INTERNAL_H
#define WIRT_CPU_JIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/jit.h"
#include "cpu/jit_x86.h"

#define CODE_SIZE (64u << 20)
/* A block's code: 64 instructions of at most ~250 bytes, main line and
 * cold stubs; compile_block() ends a block early rather than pass it. */
#define BLOCK_CODE_MAX (20u << 10)
#define BLOCK_ROOM     (COMPILE_MAX_BLOCKS * BLOCK_CODE_MAX) /* one jit_compile() call */

/* The code buffer is one memfd mapped twice (W^X): the emitter and the
 * patchers write through buf (read/write), the host runs the same bytes
 * at buf + rx_delta (read/execute).  Every pointer the compiler keeps is
 * in the write view; rel32 jumps within the buffer are the same in both
 * views, so only addresses that code or C jumps to (slot code pointers,
 * the entry trampoline, perf map names) are turned into the run view. */
struct jit {
    uint8_t *buf, *end, *free; /* write view */
    ptrdiff_t rx_delta;        /* run view - write view */
    uint8_t *enter;            /* trampoline from C (run view) */
    uint8_t *dispatch;         /* r15 = next pc: chain through the fetch TLB or leave */
    uint8_t *exit;             /* r15 = next pc: leave */
    uint8_t *epilogue;         /* leave with h->arch.pc already set */
    uint8_t *blocks;           /* first byte after the stubs */
    FILE *perf_map;            /* WIRT_JIT_PERFMAP=1: /tmp/perf-PID.map names blocks for perf */
    /* Per load/store site: the offset in its TLB set of the entry it used
     * last (see emit_tlb_check); handed out until the code is reset. */
    unsigned nguess;
    uint32_t guess[1u << 19]; /* calloc: pages are touched as sites appear */
};

/* ---- the slow paths compiled code calls (jit_runtime.c) ---- */

/* kind: access size | 16 for sign extension */
uint64_t jit_load_slow(struct hart *h, uint64_t va, unsigned kind);
/* 0: stored; 1: trapped; 2: stored, and compiled code was invalidated */
int jit_store_slow(struct hart *h, uint64_t va, uint64_t val, unsigned size);
void jit_illegal(struct hart *h, uint32_t raw);
/* F/D computational instructions: 0 done, 1 trapped (illegal). */
int jit_fp(struct hart *h, uint32_t raw);
/* A decoded instruction travels to these as two immediates.  0: done;
 * 1: trapped; 2: done, but compiled code must leave (see jit_runtime.c). */
int jit_amo(struct hart *h, uint64_t lo, uint64_t hi);
int jit_csr(struct hart *h, uint64_t lo, uint64_t hi);

/* ---- the block compiler's state (jit.c) ---- */

/* Host registers that hold guest registers inside a block.  At block
 * boundaries, and wherever code may leave the block or call C, guest
 * state is in struct hart again ("written back"); cold stubs that call C
 * and come back reload what the main line expects. */
#define NCACHE 7
static const int cache_regs[NCACHE] = {RSI, RDI, R8, R9, R10, R11, RBP};

struct regcache {
    int8_t guest[NCACHE]; /* guest register held, or -1 */
    bool dirty[NCACHE];   /* newer than struct hart */
    uint32_t used[NCACHE];
};

enum cold_kind {
    COLD_LOAD,
    COLD_STORE,
    COLD_BRANCH,
    COLD_ILLEGAL,
    COLD_LEAVE,
    COLD_CALL,
    COLD_FP,
    COLD_GUESS,
};

struct cold {
    enum cold_kind kind;
    uint8_t *fix;    /* the main line's rel32 to this stub */
    uint8_t *resume; /* where the main line goes on */
    const struct dinsn *d;
    unsigned off;       /* the instruction's offset in the page */
    unsigned idx;       /* instructions before it in the block */
    struct regcache rc; /* the cache as the main line has it there */
    int dst;            /* cache slot a load writes, or -1 */
    int val;            /* host register holding a store's value, or -1 */
    uint32_t *guess;    /* COLD_GUESS: the site's slot ... */
    struct cold *miss;  /* ... and the TLB miss stub it ends in */
    int tlb_reg;
    uint8_t *more[8]; /* further main-line jumps to this stub */
    unsigned nmore;
    /* A branch forward into its own block: where the main line reached
     * the target, with which cache state, after how many instructions. */
    uint8_t *join;
    struct regcache join_rc;
    unsigned join_idx;
};

/* Blocks one jit_compile() call may compile: the hot one, those after
 * instructions left to the interpreter, and the in-page targets of
 * their branches, so that a loop's blocks chain directly. */
#define COMPILE_MAX_BLOCKS 16
#define MAX_SITES          (COMPILE_MAX_BLOCKS * (JIT_MAX_INSNS + 1))

/* A direct jump to a block of the same page, patched once that block
 * exists (same-page blocks are dropped together, so it cannot dangle). */
struct chain_site {
    uint8_t *fix;
    unsigned target; /* offset in the page */
};

struct jc {
    struct emit e;
    struct jit *j;
    struct hart *h;
    struct dpage *dp;
    uint64_t vpage;     /* where the fetch that asked for the compile saw dp */
    unsigned entry;     /* the block's offset in the page */
    struct dinsn cross; /* the page-crossing instruction that ends the block */
    struct regcache rc;
    uint32_t stamp;
    struct cold cold[3 * JIT_MAX_INSNS + 8]; /* an instruction adds at most 3 */
    unsigned ncold;
    struct chain_site sites[MAX_SITES];
    unsigned nsites;
    /* A branch back to the block's entry jumps to loop_body, after the
     * loads of the guest registers in loop_rc, when those are still where
     * loop_rc has them: the loop's registers stay in host registers. */
    uint8_t *loop_body;
    /* Guest registers whose value is known to be the sign extension of its
     * low 32 bits at this point of the main line (bit 0 always): a
     * sext.w of one is a copy.  Nothing is known at the block's entry nor
     * where a branch joins the main line. */
    uint32_t sext;
    struct regcache loop_rc;
};

/* ---- the register cache (jit_regcache.c) ---- */

void rc_clear(struct regcache *rc);
void rc_writeback(struct emit *e, struct regcache *rc);
/* After a call into C: the caller-saved cache registers are garbage. */
void rc_reload(struct emit *e, const struct regcache *rc, int except);
/* Turns cache state `from` into `to` at a jump between two points of
 * compiled code: stores what `to` does not keep dirty in the same
 * register, then loads what `to` holds that `from` had elsewhere. */
void rc_reconcile(struct emit *e, const struct regcache *from, const struct regcache *to);
/* The cache slot for guest register g (loaded from struct hart if load),
 * evicting the least recently used one. */
int rc_slot(struct jc *c, unsigned g, bool load);
/* Guest registers back to struct hart, and forgotten (before calls). */
void rc_flush(struct jc *c);

/* The host register holding guest register g's value. */
static inline int get(struct jc *c, unsigned g)
{
    return cache_regs[rc_slot(c, g, true)];
}

/* The host register to write guest register g into. */
static inline int def(struct jc *c, unsigned g)
{
    int i = rc_slot(c, g, false);
    c->rc.dirty[i] = true;
    return cache_regs[i];
}

#endif
