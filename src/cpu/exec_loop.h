/* SPDX-License-Identifier: MIT */
/*
 * The interpreter loop, included by exec.c once per variant:
 * EXEC_NAME is the function's name, EXEC_TRACE (0/1) compiles the
 * instruction trace in or out, so the normal loop pays nothing for it.
 */
EXEC_ATTRS static uint64_t EXEC_NAME(struct hart *h, uint64_t max)
{
    static const void *const labels[OP_COUNT * 2] = {
#define LABEL(name) [OP_##name * 2] = &&do_##name##_4, [OP_##name * 2 + 1] = &&do_##name##_2,
        DECODE_OPS(LABEL)
#undef LABEL
    };
    uint64_t *const x = h->arch.x;
    uint64_t pc = h->arch.pc;
    /* Dispatches left in the budget: counting down lets one flag-setting
     * subtract both count and test.  Instructions executed = max - left. */
    if (max > INT64_MAX)
        max = INT64_MAX; /* left is tested for going negative */
    uint64_t left = max, synced = 0, ntraps = 0;
    struct dinsn *d;
    /* The slots of `page` are at h->cur_dbase, kept in memory: only the
     * fetch path needs them, and a register copy cost moves on every
     * dispatch. */
    uint64_t page = TLB_INVALID;
    /* The load/store TLB sets for the current privilege (and MPRV/SUM);
     * reloaded wherever ls_idx can change: traps and CSR writes (xRET
     * leaves the loop). */
    struct tlb_entry *ltlb = h->tlb[ACC_LOAD][h->ls_idx];
    struct tlb_entry *stlb = h->tlb[ACC_STORE][h->ls_idx];

/* A handler address in each slot would be one load less per dispatch,
 * but 24-byte slots made the kernel's large code footprint miss the
 * cache more and booting slower: the slots stay 16 bytes. */
/* The instrumented variant (EXEC_TRACE) also runs while debug triggers
 * are armed: it asks before each instruction. */
#define GOTO_HANDLER()                                                                             \
    do {                                                                                           \
        if (EXEC_TRACE) {                                                                          \
            if (h->debug)                                                                          \
                switch (hart_debug_check(h, pc, d)) {                                              \
                case 1:                                                                            \
                    goto debug_stop;                                                               \
                case 2:                                                                            \
                    goto trap;                                                                     \
                }                                                                                  \
            if (h->trace)                                                                          \
                trace_insn(h, pc, d);                                                              \
        }                                                                                          \
        goto *labels[d->hidx];                                                                     \
    } while (0)
#define DISPATCH()                                                                                 \
    do {                                                                                           \
        left--;                                                                                    \
        GOTO_HANDLER();                                                                            \
    } while (0)
/* Counts a jump to slot d towards compiling a block there. */
#define JIT_COUNT()                                                                                \
    do {                                                                                           \
        if (!EXEC_TRACE && h->jit_threshold && d->hidx != JIT_HIDX &&                              \
            unlikely(++h->jit_hot[((uintptr_t)d >> 4) & (sizeof(h->jit_hot) - 1)] ==               \
                     h->jit_threshold))                                                            \
            goto jit_compile;                                                                      \
    } while (0)
/* DISPATCH for a caller that has already taken the instruction from
 * the budget. */
#define DISPATCH_COUNTED() GOTO_HANDLER()
#define NEXT()                                                                                     \
    do {                                                                                           \
        pc += LEN;                                                                                 \
        d += LEN >> 1;                                                                             \
        if (unlikely((int64_t)--left < 0))                                                         \
            goto out_empty;                                                                        \
        DISPATCH_COUNTED();                                                                        \
    } while (0)
/* A jump to target: inside the current decoded page (page is
 * TLB_INVALID when d is not in one), go straight to the target's slot;
 * otherwise through the fetch path. */
#define JUMP(target)                                                                               \
    do {                                                                                           \
        uint64_t target_ = (target);                                                               \
        if (likely((target_ & PAGE_MASK) == page)) {                                               \
            d += (int64_t)(target_ - pc) >> 1;                                                     \
            pc = target_;                                                                          \
            if (unlikely(left == 0 || atomic_load_explicit(&h->check, memory_order_relaxed)))      \
                goto out;                                                                          \
            JIT_COUNT();                                                                           \
            DISPATCH();                                                                            \
        }                                                                                          \
        pc = target_;                                                                              \
        goto fetch;                                                                                \
    } while (0)
#define RAISE(cause, tval)                                                                         \
    do {                                                                                           \
        h->arch.pc = pc;                                                                           \
        hart_raise(h, (cause), (tval));                                                            \
        goto trap;                                                                                 \
    } while (0)
#define ILLEGAL() RAISE(EXC_ILLEGAL, d->raw)
#define SYNC_COUNTERS()                                                                            \
    do {                                                                                           \
        counters_add(h, max - left - 1 - synced);                                                  \
        synced = max - left - 1;                                                                   \
    } while (0)

fetch:
    if (unlikely(ntraps >= left || atomic_load_explicit(&h->check, memory_order_relaxed)))
        goto out;
    if ((pc & PAGE_MASK) == page) {
        d = h->cur_dbase + ((pc & (PAGE_SIZE - 1)) >> 1);
        JIT_COUNT();
        DISPATCH();
    }
    {
        unsigned i = (pc >> PAGE_SHIFT) & (TLB_SIZE - 1);
        struct tlb_entry *e = &h->tlb[ACC_FETCH][h->fetch_idx][i];
        struct dpage *dp;
        if (likely(e->tag == (pc & PAGE_MASK))) {
            dp = h->tlb_dpage[h->fetch_idx][i];
            if (unlikely(dp->gen != h->dgen))
                dcache_validate(h, dp);
        } else {
            h->arch.pc = pc;
            if (!mmu_fetch_page(h, pc, &dp))
                goto trap_fetch;
            if (!dp)
                goto slow_fetch;
        }
        h->cur_dbase = dp->insn;
        page = pc & PAGE_MASK;
        d = dp->insn + ((pc & (PAGE_SIZE - 1)) >> 1);
        JIT_COUNT();
        DISPATCH();
    }

jit_compile:
    /* d is in the page of h->cur_dbase.  Compiling may flush the decoded
     * cache, so fetch again afterwards. */
    jit_compile(h, (struct dpage *)((char *)h->cur_dbase - offsetof(struct dpage, insn)),
                (unsigned)(d - h->cur_dbase) * 2, pc & PAGE_MASK);
    page = TLB_INVALID;
    goto fetch;

slow_fetch : {
    /* Code outside plain RAM, or an instruction crossing a page. */
    uint32_t insn;
    h->arch.pc = pc;
    if (!fetch_slow(h, pc, &insn))
        goto trap_fetch;
    decode_insn(&h->tmp_insn[0], insn);
    page = TLB_INVALID;
    d = &h->tmp_insn[0];
    DISPATCH();
}

trap:
    left++; /* the trapping instruction did not retire */
trap_fetch:
    ntraps++; /* counts against the budget: a trap loop must end the run */
    pc = h->arch.pc;
    ltlb = h->tlb[ACC_LOAD][h->ls_idx];
    stlb = h->tlb[ACC_STORE][h->ls_idx];
    page = TLB_INVALID;
    goto fetch;

#define LEN       4
#define LBL(name) do_##name##_4
#include "cpu/exec_handlers.h"
#undef LEN
#undef LBL
#define LEN       2
#define LBL(name) do_##name##_2
#include "cpu/exec_handlers.h"
#undef LEN
#undef LBL

debug_stop:
    left++; /* the instruction did not run */
    goto out;
out_empty:
    left = 0; /* NEXT took it to -1 */
out:
    h->arch.pc = pc;
    counters_add(h, max - left - synced);
    h->stats.insns += max - left;
    return max - left + ntraps;
}

#undef ALU
#undef BRANCH
#undef DISPATCH
#undef DISPATCH_COUNTED
#undef GOTO_HANDLER
#undef ILLEGAL
#undef JUMP
#undef JIT_COUNT
#undef LABEL
#undef LOAD
#undef NEXT
#undef RAISE
#undef STORE
#undef STORE_VAL
#undef SYNC_COUNTERS
