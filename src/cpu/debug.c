/* SPDX-License-Identifier: MIT */
/*
 * The software engine's side of debugging (cpu/vcpu_debug.h): registers
 * and memory for the debugger, its breakpoints and watchpoints, single
 * steps.
 *
 * Nothing is patched into guest memory or compiled code.  While anything
 * is armed, hart_step runs the instrumented interpreter (exec_trace),
 * which never enters or makes compiled blocks and calls
 * hart_debug_check before every instruction; with nothing armed the hart
 * runs at full speed again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/hart_internal.h"
#include "cpu/vcpu_debug.h"
#include "mem/bus.h"
#include "state/state.h"
#include "util/log.h"

/* Sdtrig (the RISC-V debug spec's trigger module, without Debug Mode):
 * N_TRIGGERS triggers of type mcontrol6 (6) or disabled (15), address
 * match (equal, >=, <) on execute, load and store per privilege mode,
 * action 0 (a breakpoint exception before the instruction or access).
 * tcontrol's MTE gates them in M-mode (a trap into M-mode clears it, so
 * a handler is not trapped again; mret restores it from MPTE).  tdata3
 * (textra) is not implemented (reads 0). */
#define N_TRIGGERS        HART_N_TRIGGERS
#define TDATA1_TYPE_SHIFT 60
#define TYPE_MCONTROL6    6ULL
#define TYPE_DISABLED     15ULL
#define MC6_HIT0          (1ULL << 22)
#define MC6_MATCH_SHIFT   7
#define MC6_M             (1ULL << 6)
#define MC6_S             (1ULL << 4)
#define MC6_U             (1ULL << 3)
#define MC6_EXECUTE       (1ULL << 2)
#define MC6_STORE         (1ULL << 1)
#define MC6_LOAD          (1ULL << 0)
/* What a write keeps: hit0, match, m, s, u, execute, store, load. */
#define MC6_WRITABLE                                                                               \
    (MC6_HIT0 | (15ULL << MC6_MATCH_SHIFT) | MC6_M | MC6_S | MC6_U | MC6_EXECUTE | MC6_STORE |     \
     MC6_LOAD)
#define TINFO_VALUE ((1ULL << 24) | (1ULL << TYPE_DISABLED) | (1ULL << TYPE_MCONTROL6))

struct trigger {
    uint64_t tdata1, tdata2;
};

struct hart_debug {
    unsigned tselect;
    struct trigger trig[N_TRIGGERS];
    bool trig_armed; /* some trigger can fire */
    struct vcpu_breakpoints bp;
    vcpu_debug_stop_cb on_stop;
    void *opaque;
    struct vcpu_stop stop; /* to report; reason NONE: nothing */
    bool skip_valid;       /* ignore a breakpoint at skip_pc, once */
    uint64_t skip_pc;
    /* A watched access ran: reported before the next instruction unless
     * it trapped (the exception count moved). */
    bool watch_pending;
    struct vcpu_stop watch_hit;
    uint64_t watch_exc;
};

static struct hart *soft_hart(struct vcpu *v)
{
    return (struct hart *)(void *)((char *)v - offsetof(struct hart, vcpu));
}

static void trig_reset_all(struct hart_debug *g);

static struct hart_debug *dbg_get(struct hart *h)
{
    if (!h->dbg && (h->dbg = calloc(1, sizeof(*h->dbg))) != NULL)
        trig_reset_all(h->dbg);
    return h->dbg;
}

void hart_debug_free(struct hart *h)
{
    free(h->dbg);
    h->dbg = NULL;
}

static void update_armed(struct hart *h)
{
    const struct hart_debug *g = h->dbg;
    bool armed = g && (g->bp.nbreak || g->bp.nwatch || g->watch_pending || g->trig_armed);
    h->debug = (uint8_t)((h->debug & ~HART_DEBUG_ARMED) | (armed ? HART_DEBUG_ARMED : 0));
}

/* The data access instruction d makes: false when it makes none. */
static bool mem_access(const struct hart *h, const struct dinsn *d, uint64_t *va, uint64_t *len,
                       unsigned *kind)
{
    const uint64_t *x = h->arch.x;
    unsigned op = d->op;
    *va = x[d->rs1] + (uint64_t)(int64_t)d->imm;
    switch (op) {
    case OP_LB:
    case OP_LBU:
        *len = 1, *kind = VCPU_WATCH_READ;
        return true;
    case OP_LH:
    case OP_LHU:
        *len = 2, *kind = VCPU_WATCH_READ;
        return true;
    case OP_LW:
    case OP_LWU:
    case OP_FLW:
        *len = 4, *kind = VCPU_WATCH_READ;
        return true;
    case OP_LD:
    case OP_FLD:
        *len = 8, *kind = VCPU_WATCH_READ;
        return true;
    case OP_SB:
        *len = 1, *kind = VCPU_WATCH_WRITE;
        return true;
    case OP_SH:
        *len = 2, *kind = VCPU_WATCH_WRITE;
        return true;
    case OP_SW:
    case OP_FSW:
        *len = 4, *kind = VCPU_WATCH_WRITE;
        return true;
    case OP_SD:
    case OP_FSD:
        *len = 8, *kind = VCPU_WATCH_WRITE;
        return true;
    case OP_CBO_ZERO:
        *va = x[d->rs1] & ~(uint64_t)(CBO_BLOCK_SIZE - 1);
        *len = CBO_BLOCK_SIZE, *kind = VCPU_WATCH_WRITE;
        return true;
    default:
        break;
    }
    /* A: the address is rs1 alone (AMOCAS keeps its rd in imm). */
    *va = x[d->rs1];
    if (op == OP_LR_W || op == OP_LR_D) {
        *len = op == OP_LR_W ? 4 : 8, *kind = VCPU_WATCH_READ;
        return true;
    }
    if (op == OP_SC_W || op == OP_SC_D) {
        *len = op == OP_SC_W ? 4 : 8, *kind = VCPU_WATCH_WRITE;
        return true;
    }
    if (op >= OP_AMOSWAP_W && op <= OP_AMOMAXU_W) {
        *len = 4, *kind = VCPU_WATCH_ACCESS;
        return true;
    }
    if (op >= OP_AMOSWAP_D && op <= OP_AMOMAXU_D) {
        *len = 8, *kind = VCPU_WATCH_ACCESS;
        return true;
    }
    if (op == OP_AMOCAS_W || op == OP_AMOCAS_D || op == OP_AMOCAS_Q) {
        *len = op == OP_AMOCAS_W ? 4 : op == OP_AMOCAS_D ? 8 : 16, *kind = VCPU_WATCH_ACCESS;
        return true;
    }
    return false;
}

/* ---- Sdtrig ---- */

static void trig_reset_all(struct hart_debug *g)
{
    g->tselect = 0;
    for (unsigned i = 0; i < N_TRIGGERS; i++)
        g->trig[i] = (struct trigger){TYPE_DISABLED << TDATA1_TYPE_SHIFT, 0};
    g->trig_armed = false;
}

void hart_debug_reset(struct hart *h)
{
    if (h->dbg) {
        trig_reset_all(h->dbg);
        update_armed(h);
    }
}

static bool trig_enabled(const struct trigger *t)
{
    return (t->tdata1 >> TDATA1_TYPE_SHIFT) == TYPE_MCONTROL6 &&
           (t->tdata1 & (MC6_EXECUTE | MC6_STORE | MC6_LOAD)) &&
           (t->tdata1 & (MC6_M | MC6_S | MC6_U));
}

static bool trig_match(const struct trigger *t, uint64_t addr)
{
    switch ((t->tdata1 >> MC6_MATCH_SHIFT) & 15) {
    case 2:
        return addr >= t->tdata2;
    case 3:
        return addr < t->tdata2;
    default:
        return addr == t->tdata2;
    }
}

/* The first trigger of kind `what` (MC6_EXECUTE/LOAD/STORE) that fires in
 * the current mode on any byte of [addr, addr + len), or -1. */
static int trig_fire(struct hart *h, uint64_t what, uint64_t addr, uint64_t len)
{
    struct hart_debug *g = h->dbg;
    uint64_t mode = h->arch.priv == PRV_M ? MC6_M : h->arch.priv == PRV_S ? MC6_S : MC6_U;
    if (mode == MC6_M && !(h->arch.tcontrol & TCONTROL_MTE))
        return -1;
    for (unsigned i = 0; i < N_TRIGGERS; i++) {
        struct trigger *t = &g->trig[i];
        if (!trig_enabled(t) || !(t->tdata1 & what) || !(t->tdata1 & mode))
            continue;
        unsigned match = (unsigned)(t->tdata1 >> MC6_MATCH_SHIFT) & 15;
        /* equal: any accessed byte; >= / <: the first byte (as the spec's
         * size = any lets an implementation choose). */
        bool hit = match == 0 ? (t->tdata2 >= addr && t->tdata2 - addr < len) : trig_match(t, addr);
        if (hit) {
            t->tdata1 |= MC6_HIT0;
            return (int)i;
        }
    }
    return -1;
}

/* After a trigger changed: whether any can fire, and the run loop told. */
static void trig_rearm(struct hart *h)
{
    struct hart_debug *g = h->dbg;
    g->trig_armed = false;
    for (unsigned i = 0; i < N_TRIGGERS; i++)
        g->trig_armed |= trig_enabled(&g->trig[i]);
    update_armed(h);
    atomic_store_explicit(&h->check, 1, memory_order_relaxed); /* end a compiled slice */
}

bool hart_trigger_csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
    struct hart_debug *g = dbg_get(h);
    if (!g)
        return false;
    const struct trigger *t = &g->trig[g->tselect];
    switch (csr) {
    case 0x7a0:
        *val = g->tselect;
        return true;
    case 0x7a1:
        *val = t->tdata1;
        return true;
    case 0x7a2:
        *val = t->tdata2;
        return true;
    case 0x7a3:
        *val = 0;
        return true;
    case 0x7a4:
        *val = TINFO_VALUE;
        return true;
    case 0x7a5:
        *val = h->arch.tcontrol;
        return true;
    }
    return false;
}

bool hart_trigger_csr_write(struct hart *h, unsigned csr, uint64_t v)
{
    struct hart_debug *g = dbg_get(h);
    if (!g)
        return false;
    struct trigger *t = &g->trig[g->tselect];
    switch (csr) {
    case 0x7a0: /* WARL: an index past the last trigger keeps the old one */
        if (v < N_TRIGGERS)
            g->tselect = (unsigned)v;
        return true;
    case 0x7a1: {
        uint64_t type = v >> TDATA1_TYPE_SHIFT;
        if (type == TYPE_MCONTROL6) {
            uint64_t match = (v >> MC6_MATCH_SHIFT) & 15;
            if (match != 0 && match != 2 && match != 3)
                v &= ~(15ULL << MC6_MATCH_SHIFT); /* WARL: unsupported -> equal */
            t->tdata1 = (TYPE_MCONTROL6 << TDATA1_TYPE_SHIFT) | (v & MC6_WRITABLE);
        } else {
            t->tdata1 = TYPE_DISABLED << TDATA1_TYPE_SHIFT; /* 0 and the rest: disabled */
        }
        break;
    }
    case 0x7a2:
        t->tdata2 = v;
        break;
    case 0x7a3: /* textra: nothing implemented, reads 0 */
    case 0x7a4: /* tinfo: read-only */
        return true;
    case 0x7a5:
        h->arch.tcontrol = (uint8_t)(v & (TCONTROL_MTE | TCONTROL_MPTE));
        return true;
    default:
        return false;
    }
    trig_rearm(h);
    return true;
}

/* ---- the triggers in a snapshot ---- */

void hart_trig_state_save(struct hart *h, struct state_writer *w)
{
    const struct hart_debug *g = h->dbg;
    state_put_u32(w, N_TRIGGERS);
    state_put_u32(w, g ? g->tselect : 0);
    state_put_u8(w, h->arch.tcontrol);
    for (unsigned i = 0; i < N_TRIGGERS; i++) {
        state_put_u64(w, g ? g->trig[i].tdata1 : TYPE_DISABLED << TDATA1_TYPE_SHIFT);
        state_put_u64(w, g ? g->trig[i].tdata2 : 0);
        state_put_u64(w, 0); /* tdata3: room for textra */
    }
}

void hart_trig_state_get(struct state_reader *r, struct hart_trig_state *s)
{
    memset(s, 0, sizeof(*s));
    s->n = state_get_u32(r);
    s->tselect = state_get_u32(r);
    s->tcontrol = state_get_u8(r);
    for (unsigned i = 0; i < s->n && state_reader_ok(r); i++)
        for (unsigned j = 0; j < 3; j++) {
            uint64_t v = state_get_u64(r);
            if (i < N_TRIGGERS)
                s->tdata[i][j] = v;
            else if (v != (j == 0 ? TYPE_DISABLED << TDATA1_TYPE_SHIFT : 0))
                s->n = UINT32_MAX; /* a trigger this hart lacks is in use */
        }
}

/* tdata1 values a guest write can leave: mcontrol6 with match 0, 2 or 3,
 * or disabled. */
static bool tdata1_possible(uint64_t v)
{
    uint64_t type = v >> TDATA1_TYPE_SHIFT;
    if (type == TYPE_DISABLED)
        return v == TYPE_DISABLED << TDATA1_TYPE_SHIFT;
    uint64_t match = (v >> MC6_MATCH_SHIFT) & 15;
    return type == TYPE_MCONTROL6 && !(v & ~(MC6_WRITABLE | TYPE_MCONTROL6 << TDATA1_TYPE_SHIFT)) &&
           (match == 0 || match == 2 || match == 3);
}

bool hart_trig_state_valid(const struct hart *h, const struct hart_trig_state *s)
{
    if (s->n == UINT32_MAX) {
        log_error("hart %u: the state arms a debug trigger past the %u this hart has", h->hartid,
                  N_TRIGGERS);
        return false;
    }
    if (s->tselect >= N_TRIGGERS || s->tcontrol & ~(TCONTROL_MTE | TCONTROL_MPTE)) {
        log_error("hart %u: bad debug trigger state (tselect %u, tcontrol %#x)", h->hartid,
                  s->tselect, s->tcontrol);
        return false;
    }
    for (unsigned i = 0; i < N_TRIGGERS; i++) {
        uint64_t t1 = i < s->n ? s->tdata[i][0] : TYPE_DISABLED << TDATA1_TYPE_SHIFT;
        if (!tdata1_possible(t1) || s->tdata[i][2]) {
            log_error("hart %u: debug trigger %u in the state (tdata1 %#" PRIx64
                      ", tdata3 %#" PRIx64
                      ") is not one this hart has: only mcontrol6 address matches (equal, >=, "
                      "<) and disabled triggers",
                      h->hartid, i, t1, s->tdata[i][2]);
            return false;
        }
    }
    return true;
}

bool hart_trig_state_set(struct hart *h, const struct hart_trig_state *s)
{
    struct hart_debug *g = dbg_get(h);
    if (!g)
        return false;
    g->tselect = s->tselect;
    for (unsigned i = 0; i < N_TRIGGERS; i++)
        g->trig[i] = i < s->n ? (struct trigger){s->tdata[i][0], s->tdata[i][1]}
                              : (struct trigger){TYPE_DISABLED << TDATA1_TYPE_SHIFT, 0};
    h->arch.tcontrol = s->tcontrol;
    trig_rearm(h);
    return true;
}

static int stop_here(struct hart *h, struct vcpu_stop why)
{
    h->dbg->stop = why;
    atomic_store_explicit(&h->stop_req, true, memory_order_release);
    return 1;
}

int hart_debug_check(struct hart *h, uint64_t pc, const struct dinsn *d)
{
    unsigned op = d->op;
    if (op == OP_DECODE || op == OP_END || op == OP_CROSS || op == OP_JIT)
        return 0; /* not an instruction: the real one comes next */
    struct hart_debug *g = h->dbg;
    if (!g)
        return 0;
    if (g->watch_pending) {
        g->watch_pending = false;
        update_armed(h);
        if (h->stats.exceptions == g->watch_exc)
            return stop_here(h, g->watch_hit);
    }
    bool skip = g->skip_valid && g->skip_pc == pc;
    g->skip_valid = false;
    for (unsigned i = 0; i < g->bp.nbreak; i++)
        if (g->bp.brk[i] == pc && !skip)
            return stop_here(h, (struct vcpu_stop){VCPU_STOP_BREAK, 0, pc});
    uint64_t va, len;
    unsigned kind;
    if (g->trig_armed) {
        if (trig_fire(h, MC6_EXECUTE, pc, d->len) >= 0) {
            h->arch.pc = pc;
            hart_raise(h, EXC_BREAKPOINT, pc);
            return 2;
        }
        if (mem_access(h, d, &va, &len, &kind) &&
            (((kind & VCPU_WATCH_READ) && trig_fire(h, MC6_LOAD, va, len) >= 0) ||
             ((kind & VCPU_WATCH_WRITE) && trig_fire(h, MC6_STORE, va, len) >= 0))) {
            h->arch.pc = pc;
            hart_raise(h, EXC_BREAKPOINT, va);
            return 2;
        }
    }
    if (g->bp.nwatch && mem_access(h, d, &va, &len, &kind)) {
        for (unsigned i = 0; i < g->bp.nwatch; i++) {
            const uint64_t a = g->bp.watch[i].addr, l = g->bp.watch[i].len;
            if (!(g->bp.watch[i].kind & kind) || va >= a + l || a >= va + len)
                continue;
            /* Reported once the access is done (before the next one). */
            g->watch_pending = true;
            g->watch_hit = (struct vcpu_stop){VCPU_STOP_WATCH, g->bp.watch[i].kind, a};
            g->watch_exc = h->stats.exceptions;
            break;
        }
    }
    return 0;
}

void hart_debug_after_run(struct hart *h)
{
    struct hart_debug *g = h->dbg;
    if (!g || g->stop.reason == VCPU_STOP_NONE || !g->on_stop)
        return;
    g->on_stop(g->opaque, &h->vcpu);
    /* Its pause stopped this hart again, after the run ended: that stop
     * request is stale. */
    atomic_store(&h->stop_req, false);
}

/* ---- vcpu_debug_ops ---- */

static bool csr_get(struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr == 0x015) /* seed: reading it has an effect */
        return false;
    unsigned priv = h->arch.priv;
    h->arch.priv = PRV_M; /* the debugger sees every CSR there is */
    bool ok = csr_read(h, csr, val);
    h->arch.priv = priv;
    return ok;
}

static bool dbg_get_reg(struct vcpu *v, unsigned reg, uint64_t *val)
{
    struct hart *h = soft_hart(v);
    if (reg < 32)
        *val = reg ? h->arch.x[reg] : 0;
    else if (reg == VCPU_REG_PC)
        *val = h->arch.pc;
    else if (reg < VCPU_REG_CSR0)
        *val = h->arch.fp.f[reg - VCPU_REG_F0];
    else if (reg < VCPU_REG_PRIV)
        return csr_get(h, reg - VCPU_REG_CSR0, val);
    else if (reg == VCPU_REG_PRIV)
        *val = h->arch.priv;
    else
        return false;
    return true;
}

static bool dbg_set_reg(struct vcpu *v, unsigned reg, uint64_t val)
{
    struct hart *h = soft_hart(v);
    if (reg < 32) {
        if (reg)
            h->arch.x[reg] = val;
    } else if (reg == VCPU_REG_PC) {
        h->arch.pc = val & ~1ULL;
        h->arch.wfi = false;
    } else if (reg < VCPU_REG_CSR0) {
        h->arch.fp.f[reg - VCPU_REG_F0] = val;
    } else if (reg < VCPU_REG_PRIV) {
        unsigned csr = reg - VCPU_REG_CSR0, priv = h->arch.priv;
        if (csr == 0x015 || (csr >> 10) == 3) /* seed; read-only CSRs */
            return false;
        h->arch.priv = PRV_M;
        bool ok = csr_write(h, csr, val);
        h->arch.priv = priv;
        hart_update_mmu_idx(h);
        return ok;
    } else if (reg == VCPU_REG_PRIV) {
        if (val != PRV_U && val != PRV_S && val != PRV_M)
            return false;
        h->arch.priv = (unsigned)val;
        hart_update_mmu_idx(h);
    } else {
        return false;
    }
    return true;
}

static size_t dbg_access_mem(struct vcpu *v, uint64_t va, void *buf, size_t len, bool write)
{
    struct hart *h = soft_hart(v);
    /* The current privilege's view; S-mode's includes user pages. */
    unsigned idx = h->fetch_idx == MMU_S ? MMU_SSUM : h->fetch_idx;
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done, pa;
        size_t n = (size_t)(PAGE_SIZE - (a & (PAGE_SIZE - 1)));
        if (n > len - done)
            n = len - done;
        bool super;
        if (mmu_translate(h, a, ACC_LOAD, idx, &pa, &super) != MMU_OK &&
            mmu_translate(h, a, ACC_FETCH, h->fetch_idx, &pa, &super) != MMU_OK)
            break;
        uint8_t *p = bus_ram_ptr(h->bus, pa, n);
        if (!p)
            break;
        if (write) {
            memcpy(p, (const uint8_t *)buf + done, n);
            bus_ram_written(h->bus, pa, n); /* decoded and compiled code follow */
        } else {
            memcpy((uint8_t *)buf + done, p, n);
        }
        done += n;
    }
    return done;
}

static void dbg_set_breakpoints(struct vcpu *v, const struct vcpu_breakpoints *bp,
                                vcpu_debug_stop_cb on_stop, void *opaque)
{
    struct hart *h = soft_hart(v);
    struct hart_debug *g = dbg_get(h);
    if (!g)
        return;
    if (bp) {
        g->bp = *bp;
        if (g->bp.nbreak > VCPU_MAX_BREAKPOINTS)
            g->bp.nbreak = VCPU_MAX_BREAKPOINTS;
        if (g->bp.nwatch > VCPU_MAX_WATCHPOINTS)
            g->bp.nwatch = VCPU_MAX_WATCHPOINTS;
    } else {
        memset(&g->bp, 0, sizeof(g->bp));
    }
    g->on_stop = on_stop;
    g->opaque = opaque;
    update_armed(h);
}

static void dbg_step(struct vcpu *v)
{
    struct hart *h = soft_hart(v);
    struct hart_debug *g = dbg_get(h);
    if (!g)
        return;
    g->skip_valid = true;
    g->skip_pc = h->arch.pc;
    g->stop.reason = VCPU_STOP_NONE;
    h->debug |= HART_DEBUG_STEP;
    atomic_store(&h->stop_req, false);
    hart_step(h, 1);
    h->debug &= (uint8_t)~HART_DEBUG_STEP;
    atomic_store(&h->stop_req, false);
    g->skip_valid = false;
    if (g->stop.reason == VCPU_STOP_NONE) {
        g->stop.reason = VCPU_STOP_STEP;
        if (g->watch_pending && h->stats.exceptions == g->watch_exc)
            g->stop = g->watch_hit;
    }
    g->watch_pending = false;
    update_armed(h);
}

static struct vcpu_stop dbg_take_stop(struct vcpu *v)
{
    struct hart *h = soft_hart(v);
    struct vcpu_stop s = {VCPU_STOP_NONE, 0, 0};
    if (h->dbg) {
        s = h->dbg->stop;
        h->dbg->stop.reason = VCPU_STOP_NONE;
    }
    return s;
}

static void dbg_skip_breakpoint_once(struct vcpu *v)
{
    struct hart *h = soft_hart(v);
    struct hart_debug *g = dbg_get(h);
    if (g) {
        g->skip_valid = true;
        g->skip_pc = h->arch.pc;
    }
}

const struct vcpu_debug_ops hart_debug_ops = {
    .get_reg = dbg_get_reg,
    .set_reg = dbg_set_reg,
    .access_mem = dbg_access_mem,
    .set_breakpoints = dbg_set_breakpoints,
    .step = dbg_step,
    .take_stop = dbg_take_stop,
    .skip_breakpoint_once = dbg_skip_breakpoint_once,
};
