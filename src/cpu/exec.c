/* SPDX-License-Identifier: MIT */
/*
 * The interpreter: a computed-goto loop over decoded instructions.
 *
 * Local state: pc, the current instruction slot d, and (dbase, page) for
 * the decoded page pc is in, so that straight-line code and branches
 * inside one page never touch the TLB.  Anything that may change
 * translation or privilege resets `page` so the next fetch translates.
 * Straight-line execution off the end of a page lands on an OP_END
 * sentinel, which goes back to the fetch path.
 */
#include <inttypes.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cpu/alu.h"
#include "cpu/bitmanip.h"
#include "cpu/hart_internal.h"
#include "cpu/jit.h"
#include "mem/bus.h"
#include "util/compiler.h"

static void trace_insn(struct hart *h, uint64_t pc, const struct dinsn *d)
{
    if (d->op == OP_DECODE || d->op == OP_END || d->op == OP_CROSS)
        return;
    fprintf(stderr, "wirt-trace: hart%u p%u pc %016" PRIx64 " insn %0*x %s\n", h->hartid,
            h->arch.priv, pc, d->len == 2 ? 4 : 8, d->raw, decode_op_name(d->op));
}

static void counters_add(struct hart *h, uint64_t n)
{
    if (!(h->arch.mcountinhibit & 1))
        h->arch.mcycle += n;
    if (!(h->arch.mcountinhibit & 4))
        h->arch.minstret += n;
    if (h->pmu_active)
        pmu_count(h, n);
}

static bool fp_enabled(const struct hart *h)
{
    return (h->arch.mstatus & MSTATUS_FS) != 0;
}

/* GCC merges the identical dispatch tails of all handlers into one
 * indirect jump unless told not to; one jump per handler predicts far
 * better. */
#if defined(__GNUC__) && !defined(__clang__)
#define EXEC_ATTRS __attribute__((optimize("no-crossjumping", "no-gcse")))
#else
#define EXEC_ATTRS
#endif

#define EXEC_NAME  exec_fast
#define EXEC_TRACE 0
#include "cpu/exec_loop.h"
#undef EXEC_NAME
#undef EXEC_TRACE

#define EXEC_NAME  exec_trace
#define EXEC_TRACE 1
#include "cpu/exec_loop.h"
#undef EXEC_NAME
#undef EXEC_TRACE

uint64_t hart_step(struct hart *h, uint64_t max_insns)
{
    uint64_t done = 0;
    /* Sequentially consistent with the dirty-log syncer's bump of
     * dirty_gen: either it sees us in here and waits, or we see its gen. */
    atomic_store(&h->in_step, true);
    hart_dirty_log_follow(h);
    while (done < max_insns && !atomic_load_explicit(&h->stop_req, memory_order_relaxed)) {
        if (atomic_exchange_explicit(&h->check, 0, memory_order_acq_rel)) {
            dcache_apply_dma(h);
            dcache_detach_pending(h);
            hart_dirty_log_follow(h);
        }
        if (hart_take_interrupt(h))
            h->arch.wfi = false;
        if (h->arch.wfi) {
            if ((hart_read_mip(h) & h->arch.mie) == 0)
                break;
            h->arch.wfi = false;
        }
        h->stats.runs++;
        done += h->trace ? exec_trace(h, max_insns - done) : exec_fast(h, max_insns - done);
    }
    atomic_store(&h->in_step, false);
    return done;
}
