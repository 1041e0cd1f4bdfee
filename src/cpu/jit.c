/* SPDX-License-Identifier: MIT */
/*
 * The block compiler for x86-64 hosts (design in jit.h).
 *
 * Register use in generated code (all callee-saved, so calls into C keep
 * them): rbx = struct hart, r12 = load TLB set, r14 = store TLB set,
 * r13 = instruction budget left, r15 = virtual pc of the running block's
 * entry.  rax, rcx, rdx and the argument registers are scratch.  The
 * stack stays 16-byte aligned inside blocks, so they call C directly.
 *
 * Each block is a main line (the fast paths, straight through) followed
 * by its cold stubs (TLB misses, taken branches), so the common path
 * falls through without taken jumps.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/alu.h"
#include "cpu/fpu.h"
#include "cpu/jit.h"
#include "mem/bus.h"
#include "util/compiler.h"

#if defined(__x86_64__)

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
    uint8_t *epilogue;         /* leave with h->pc already set */
    uint8_t *blocks;           /* first byte after the stubs */
    FILE *perf_map;            /* WIRT_JIT_PERFMAP=1: /tmp/perf-PID.map names blocks for perf */
};

/* ---- x86-64 encoding ---- */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_L = 12, CC_GE = 13 };
enum { F_W = 1, F_66 = 2, F_BYTE = 4 };
/* Group-1 (0x81/0x83) and shift (0xc1/0xd3) opcode extensions. */
enum { G_ADD = 0, G_OR = 1, G_AND = 4, G_SUB = 5, G_XOR = 6, G_CMP = 7 };
enum { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct emit {
    uint8_t *p;
};

static void e8(struct emit *e, unsigned v)
{
    *e->p++ = (uint8_t)v;
}
static void e32(struct emit *e, uint32_t v)
{
    memcpy(e->p, &v, 4);
    e->p += 4;
}
static void e64(struct emit *e, uint64_t v)
{
    memcpy(e->p, &v, 8);
    e->p += 8;
}

static void prefix(struct emit *e, unsigned f, int reg, int rm, unsigned opc)
{
    if (f & F_66)
        e8(e, 0x66);
    unsigned rex = 0x40 | ((f & F_W) ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
    if (rex != 0x40 || (f & F_BYTE))
        e8(e, rex);
    if (opc > 0xff)
        e8(e, opc >> 8);
    e8(e, opc & 0xff);
}

static void modrm_mem(struct emit *e, int reg, int base, int32_t disp)
{
    unsigned r = (unsigned)(reg & 7) << 3, b = (unsigned)base & 7;
    unsigned sib = b == 4;
    if (disp == 0 && b != 5) {
        e8(e, r | b);
        if (sib)
            e8(e, 0x24);
    } else if (disp >= -128 && disp <= 127) {
        e8(e, 0x40 | r | b);
        if (sib)
            e8(e, 0x24);
        e8(e, (unsigned)disp & 0xff);
    } else {
        e8(e, 0x80 | r | b);
        if (sib)
            e8(e, 0x24);
        e32(e, (uint32_t)disp);
    }
}

/* opc reg, [base + disp] */
static void op_mem(struct emit *e, unsigned f, unsigned opc, int reg, int base, int32_t disp)
{
    prefix(e, f, reg, base, opc);
    modrm_mem(e, reg, base, disp);
}

/* Scalar-double SSE op xmm, [base + disp] (F2 0F opc); xmm0..7 only. */
static void sse_sd(struct emit *e, unsigned opc, int xmm, int base, int32_t disp)
{
    e8(e, 0xf2);
    op_mem(e, 0, 0x0f00 | opc, xmm, base, disp);
}

/* VEX-encoded vfm*213sd xmm0, xmm1, [rbx + disp]: xmm0 = xmm1 * xmm0 +- [m] */
static void fma213sd_xmm0_xmm1(struct emit *e, unsigned opc, int32_t disp)
{
    e8(e, 0xc4);
    e8(e, 0xe2); /* R X B not extended, map 0F38 */
    e8(e, 0xf1); /* W1, vvvv = ~xmm1, L0, pp = 66 */
    e8(e, opc);
    modrm_mem(e, 0, RBX, disp);
}

/* opc reg, rm (register direct) */
static void op_rr(struct emit *e, unsigned f, unsigned opc, int reg, int rm)
{
    prefix(e, f, reg, rm, opc);
    e8(e, 0xc0 | (unsigned)(reg & 7) << 3 | (unsigned)(rm & 7));
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}
static bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* group-1 op rm, imm32 */
static void alu_ri(struct emit *e, unsigned f, int ext, int rm, int32_t imm)
{
    if (fits8(imm)) {
        op_rr(e, f, 0x83, ext, rm);
        e8(e, (unsigned)imm & 0xff);
    } else {
        op_rr(e, f, 0x81, ext, rm);
        e32(e, (uint32_t)imm);
    }
}

static void shift_ri(struct emit *e, unsigned f, int ext, int rm, unsigned n)
{
    op_rr(e, f, 0xc1, ext, rm);
    e8(e, n);
}

static void mov_ri(struct emit *e, int reg, uint64_t v)
{
    if (v <= UINT32_MAX) { /* mov r32, imm32 zero-extends */
        if (reg >= 8)
            e8(e, 0x41);
        e8(e, 0xb8 + (unsigned)(reg & 7));
        e32(e, (uint32_t)v);
    } else if (fits32((int64_t)v)) {
        op_rr(e, F_W, 0xc7, 0, reg);
        e32(e, (uint32_t)v);
    } else {
        e8(e, 0x48 | ((reg >> 3) & 1));
        e8(e, 0xb8 + (unsigned)(reg & 7));
        e64(e, v);
    }
}

static uint8_t *jcc_fwd(struct emit *e, int cc)
{
    e8(e, 0x0f);
    e8(e, 0x80 | (unsigned)cc);
    e32(e, 0);
    return e->p - 4;
}
static uint8_t *jmp_fwd(struct emit *e)
{
    e8(e, 0xe9);
    e32(e, 0);
    return e->p - 4;
}
static void patch(uint8_t *fix, const uint8_t *target)
{
    int32_t rel = (int32_t)(target - (fix + 4));
    memcpy(fix, &rel, 4);
}
static void jcc_to(struct emit *e, int cc, const uint8_t *target)
{
    patch(jcc_fwd(e, cc), target);
}
static void jmp_to(struct emit *e, const uint8_t *target)
{
    patch(jmp_fwd(e), target);
}

static void call_abs(struct emit *e, const void *fn)
{
    mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
    e8(e, 0xff);
    e8(e, 0xd0); /* call rax */
}

#define XOFF(r)  ((int32_t)(offsetof(struct hart, x) + 8 * (r)))
#define FOFF(r)  ((int32_t)(offsetof(struct hart, fp) + offsetof(struct fpu_regs, f) + 8 * (r)))
#define HOFF(fl) ((int32_t)offsetof(struct hart, fl))

static void ld_x(struct emit *e, int reg, unsigned xr)
{
    op_mem(e, F_W, 0x8b, reg, RBX, XOFF(xr));
}
static void st_x(struct emit *e, int reg, unsigned xr)
{
    op_mem(e, F_W, 0x89, reg, RBX, XOFF(xr));
}
static void lea(struct emit *e, int reg, int base, int32_t disp)
{
    op_mem(e, F_W, 0x8d, reg, base, disp);
}

/* ---- the slow paths compiled code calls ---- */

/* kind: access size | 16 for sign extension */
static uint64_t jit_load_slow(struct hart *h, uint64_t va, unsigned kind)
{
    uint64_t v;
    if (!mem_load_slow(h, va, kind & 15, &v)) {
        h->jit_exc = true;
        return 0;
    }
    if (kind & 16) {
        switch (kind & 15) {
        case 1:
            return (uint64_t)(int64_t)(int8_t)v;
        case 2:
            return (uint64_t)(int64_t)(int16_t)v;
        case 4:
            return (uint64_t)(int64_t)(int32_t)v;
        }
    }
    return v;
}

/* 0: stored; 1: trapped; 2: stored, and compiled code was invalidated */
static int jit_store_slow(struct hart *h, uint64_t va, uint64_t val, unsigned size)
{
    uint64_t inval = h->jit_inval;
    if (!mem_store_slow(h, va, size, val)) {
        h->jit_exc = true;
        return 1;
    }
    return h->jit_inval != inval ? 2 : 0;
}

static void jit_illegal(struct hart *h, uint32_t raw)
{
    hart_raise(h, EXC_ILLEGAL, raw);
    h->jit_exc = true;
}

/* F/D computational instructions: 0 done, 1 trapped (illegal). */
static int jit_fp(struct hart *h, uint32_t raw)
{
    bool ok = (h->mstatus & MSTATUS_FS) && fpu_execute(&h->fp, h->x, raw);
    h->x[0] = 0;
    if (!ok) {
        jit_illegal(h, raw);
        return 1;
    }
    h->mstatus |= MSTATUS_FS;
    return 0;
}

/* A decoded instruction travels to these helpers as two immediates. */
static struct dinsn unpack(uint64_t lo, uint64_t hi)
{
    struct dinsn d;
    _Static_assert(sizeof(d) == 16, "two registers");
    memcpy(&d, &lo, 8);
    memcpy((char *)&d + 8, &hi, 8);
    return d;
}

/* 0: done; 1: trapped; 2: done, but it wrote compiled code (an AMO or
 * SC into a code page), so compiled code must leave. */
static int jit_amo(struct hart *h, uint64_t lo, uint64_t hi)
{
    struct dinsn d = unpack(lo, hi);
    uint64_t inval = h->jit_inval;
    if (!cpu_amo(h, &d)) {
        h->jit_exc = true;
        return 1;
    }
    return h->jit_inval != inval ? 2 : 0;
}

/* 0: done; 1: trapped; 2: done, but privilege, translation or interrupt
 * state may have changed, so compiled code must leave.  (A new load/store
 * MMU index, as SUM and MPRV give, is no reason: the code reloads its TLB
 * set pointers after the call.) */
static int jit_csr(struct hart *h, uint64_t lo, uint64_t hi)
{
    struct dinsn d = unpack(lo, hi);
    unsigned priv = h->priv, fetch_idx = h->fetch_idx;
    if (!cpu_csr(h, &d)) {
        h->jit_exc = true;
        return 1;
    }
    if (h->priv != priv || h->fetch_idx != fetch_idx ||
        ((unsigned)d.imm & 0xfff) == 0x180 /* satp */ ||
        atomic_load_explicit(&h->check, memory_order_relaxed))
        return 2;
    return 0;
}

/* CSRs the JIT leaves to the interpreter: the counters, which only the
 * interpreter keeps exact (it adds a block's instructions on return). */
static bool csr_counts(unsigned csr)
{
    return (csr >= 0xb00 && csr < 0xba0) || (csr >= 0xc00 && csr < 0xca0) || csr == 0x320;
}

/* The code of the block at pc if it can be entered right away, else NULL
 * (the interpreter's fetch path then does the work). */
static const uint8_t *jit_lookup(struct hart *h, uint64_t pc)
{
    unsigned i = (pc >> PAGE_SHIFT) & (TLB_SIZE - 1);
    const struct tlb_entry *e = &h->tlb[ACC_FETCH][h->fetch_idx][i];
    if (e->tag != (pc & PAGE_MASK))
        return NULL;
    const struct dpage *dp = h->tlb_dpage[h->fetch_idx][i];
    if (dp->gen != h->dgen)
        return NULL;
    const struct dinsn *d = &dp->insn[(pc & (PAGE_SIZE - 1)) >> 1];
    return d->hidx == JIT_HIDX ? jit_slot_code(d) : NULL;
}

/* ---- fixed stubs ---- */

static void emit_stubs(struct jit *j)
{
    struct emit e = {j->buf};
    static const int saved[] = {RBX, RBP, R12, R13, R14, R15};

    /* enter(h = rdi, code = rsi, left = rdx, pc = rcx, ltlb = r8, stlb = r9) */
    j->enter = e.p + j->rx_delta;
    for (unsigned i = 0; i < ARRAY_SIZE(saved); i++) {
        if (saved[i] >= 8)
            e8(&e, 0x41);
        e8(&e, 0x50 + (unsigned)(saved[i] & 7));
    }
    alu_ri(&e, F_W, G_SUB, RSP, 8); /* 16-byte alignment for calls */
    op_rr(&e, F_W, 0x89, RDI, RBX);
    op_rr(&e, F_W, 0x89, RDX, R13);
    op_rr(&e, F_W, 0x89, RCX, R15);
    op_rr(&e, F_W, 0x89, R8, R12);
    op_rr(&e, F_W, 0x89, R9, R14);
    e8(&e, 0xff);
    e8(&e, 0xe6); /* jmp rsi */

    /* dispatch: r15 = next pc */
    j->dispatch = e.p;
    alu_ri(&e, F_W, G_CMP, R13, JIT_MAX_INSNS);
    uint8_t *f1 = jcc_fwd(&e, CC_L);
    op_mem(&e, 0, 0x83, G_CMP, RBX, HOFF(check));
    e8(&e, 0);
    uint8_t *f2 = jcc_fwd(&e, CC_NE);
    op_rr(&e, F_W, 0x89, RBX, RDI);
    op_rr(&e, F_W, 0x89, R15, RSI);
    call_abs(&e, (const void *)jit_lookup);
    op_rr(&e, F_W, 0x85, RAX, RAX);
    uint8_t *f3 = jcc_fwd(&e, CC_E);
    e8(&e, 0xff);
    e8(&e, 0xe0); /* jmp rax */

    /* exit: h->pc = r15 */
    j->exit = e.p;
    patch(f1, j->exit);
    patch(f2, j->exit);
    patch(f3, j->exit);
    op_mem(&e, F_W, 0x89, R15, RBX, HOFF(pc));
    j->epilogue = e.p;
    op_rr(&e, F_W, 0x89, R13, RAX);
    alu_ri(&e, F_W, G_ADD, RSP, 8);
    for (unsigned i = ARRAY_SIZE(saved); i-- > 0;) {
        if (saved[i] >= 8)
            e8(&e, 0x41);
        e8(&e, 0x58 + (unsigned)(saved[i] & 7));
    }
    e8(&e, 0xc3);
    j->blocks = (uint8_t *)(((uintptr_t)e.p + 63) & ~(uintptr_t)63);
}

/* ---- compiling a block ---- */

/* Host registers that hold guest registers inside a block.  At block
 * boundaries, and wherever code may leave the block or call C, guest
 * state is in struct hart again ("written back"); cold stubs that call C
 * and come back reload what the main line expects. */
static const int cache_regs[] = {RSI, RDI, R8, R9, R10, R11, RBP};
#define NCACHE ((int)ARRAY_SIZE(cache_regs))

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
    uint8_t *more[8];   /* further main-line jumps to this stub */
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
    struct cold cold[2 * JIT_MAX_INSNS + 8]; /* an instruction adds at most 2 */
    unsigned ncold;
    struct chain_site sites[MAX_SITES];
    unsigned nsites;
    /* A branch back to the block's entry jumps to loop_body, after the
     * loads of the guest registers in loop_rc, when those are still where
     * loop_rc has them: the loop's registers stay in host registers. */
    uint8_t *loop_body;
    struct regcache loop_rc;
};

static void mov_rr(struct emit *e, int dst, int src)
{
    op_rr(e, F_W, 0x89, src, dst);
}
static void mov_rr32(struct emit *e, int dst, int src)
{
    op_rr(e, 0, 0x89, src, dst);
}

static void rc_clear(struct regcache *rc)
{
    memset(rc, 0, sizeof(*rc));
    memset(rc->guest, -1, sizeof(rc->guest));
}

static void rc_writeback(struct emit *e, struct regcache *rc)
{
    for (int i = 0; i < NCACHE; i++)
        if (rc->guest[i] >= 0 && rc->dirty[i]) {
            st_x(e, cache_regs[i], (unsigned)rc->guest[i]);
            rc->dirty[i] = false;
        }
}

/* After a call into C: the caller-saved cache registers are garbage. */
static void rc_reload(struct emit *e, const struct regcache *rc, int except)
{
    for (int i = 0; i < NCACHE; i++)
        if (rc->guest[i] >= 0 && i != except)
            ld_x(e, cache_regs[i], (unsigned)rc->guest[i]);
}

/* Turns cache state `from` into `to` at a jump between two points of
 * compiled code: stores what `to` does not keep dirty in the same
 * register, then loads what `to` holds that `from` had elsewhere. */
static void rc_reconcile(struct emit *e, const struct regcache *from, const struct regcache *to)
{
    for (int i = 0; i < NCACHE; i++) {
        bool same = from->guest[i] >= 0 && from->guest[i] == to->guest[i];
        if (from->guest[i] >= 0 && from->dirty[i] && !(same && to->dirty[i]))
            st_x(e, cache_regs[i], (unsigned)from->guest[i]);
    }
    for (int i = 0; i < NCACHE; i++)
        if (to->guest[i] >= 0 && from->guest[i] != to->guest[i])
            ld_x(e, cache_regs[i], (unsigned)to->guest[i]);
}

static int rc_slot(struct jc *c, unsigned g, bool load)
{
    struct regcache *rc = &c->rc;
    int i, victim = 0;
    for (i = 0; i < NCACHE; i++)
        if (rc->guest[i] == (int)g)
            goto found;
    for (i = 0; i < NCACHE; i++) {
        if (rc->guest[i] < 0)
            break;
        if (rc->used[i] < rc->used[victim])
            victim = i;
    }
    if (i == NCACHE) {
        i = victim;
        if (rc->dirty[i])
            st_x(&c->e, cache_regs[i], (unsigned)rc->guest[i]);
    }
    rc->guest[i] = (int8_t)g;
    rc->dirty[i] = false;
    if (load)
        ld_x(&c->e, cache_regs[i], g);
found:
    rc->used[i] = ++c->stamp;
    return i;
}

/* The host register holding guest register g's value. */
static int get(struct jc *c, unsigned g)
{
    return cache_regs[rc_slot(c, g, true)];
}

/* The host register to write guest register g into. */
static int def(struct jc *c, unsigned g)
{
    int i = rc_slot(c, g, false);
    c->rc.dirty[i] = true;
    return cache_regs[i];
}

/* Guest registers back to struct hart, and forgotten (before calls). */
static void rc_flush(struct jc *c)
{
    rc_writeback(&c->e, &c->rc);
    rc_clear(&c->rc);
}

/* r12, r14 = the load and store TLB sets of h->ls_idx. */
static void emit_tlb_sets(struct emit *e)
{
    _Static_assert(sizeof(((struct hart *)0)->tlb[0][0]) == 4096, "shift below");
    op_mem(e, 0, 0x8b, RAX, RBX, HOFF(ls_idx));
    shift_ri(e, 0, SH_SHL, RAX, 12);
    op_rr(e, F_W, 0x01, RBX, RAX);
    lea(e, R12, RAX, HOFF(tlb[ACC_LOAD]));
    lea(e, R14, RAX, HOFF(tlb[ACC_STORE]));
}

/* Guest registers that ops read as integer registers (for preloading). */
static unsigned int_sources(const struct dinsn *d, unsigned src[2])
{
    unsigned op = d->op, n = 0;
    bool rs2 = (op >= OP_BEQ && op <= OP_BGEU) || (op >= OP_SB && op <= OP_SD) ||
               (op >= OP_ADD && op <= OP_AND) || (op >= OP_ADDW && op <= OP_SRAW) ||
               (op >= OP_MUL && op <= OP_REMUW);
    if (op == OP_DECODE || op == OP_JIT || op == OP_FP || op == OP_LUI || op == OP_AUIPC ||
        op == OP_JAL)
        return 0;
    if (d->rs1 && d->rs1 < 32)
        src[n++] = d->rs1;
    if (rs2 && d->rs2 && d->rs2 < 32)
        src[n++] = d->rs2;
    return n;
}

/* Loads the first few guest registers the block's instructions read,
 * so that a branch back to the entry can skip these loads (loop_body). */
static void emit_loop_prologue(struct jc *c)
{
    enum { PRELOAD = NCACHE - 2 }; /* leave room for the body's results */
    unsigned n = 0;
    uint32_t written = 0;
    for (unsigned off = c->entry, k = 0; off < PAGE_SIZE && k < 32; k++) {
        const struct dinsn *d = &c->dp->insn[off / 2];
        if (d->hidx == JIT_HIDX)
            d = jit_code_orig(jit_slot_code(d));
        if (d->op == OP_DECODE || d->op == OP_CROSS || d->op == OP_JAL || d->op == OP_JALR)
            break;
        if (d->op != OP_FP && d->op != OP_FLW && d->op != OP_FLD && d->rd < 32)
            written |= 1u << d->rd;
        unsigned src[2];
        for (unsigned i = 0, m = int_sources(d, src); i < m && n < PRELOAD; i++) {
            bool have = false;
            for (int r = 0; r < NCACHE; r++)
                have |= c->rc.guest[r] == (int)src[i];
            if (!have) {
                get(c, src[i]);
                n++;
            }
        }
        off += d->len;
    }
    /* The loop's target starts a 16-byte fetch block. */
    static const uint8_t nops[9][8] = {
        {0},
        {0x90},
        {0x66, 0x90},
        {0x0f, 0x1f, 0x00},
        {0x0f, 0x1f, 0x40, 0x00},
        {0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
        {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
        {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    };
    unsigned pad = (unsigned)(-(uintptr_t)c->e.p & 15);
    while (pad) {
        unsigned n = pad > 8 ? 8 : pad;
        memcpy(c->e.p, nops[n], n);
        c->e.p += n;
        pad -= n;
    }
    /* Preloaded registers the loop writes start out dirty (a value equal
     * to memory costs nothing but a store at an exit), so a back-edge has
     * nothing to store for them each iteration. */
    for (int i = 0; i < NCACHE; i++)
        if (c->rc.guest[i] > 0 && (written >> c->rc.guest[i] & 1))
            c->rc.dirty[i] = true;
    c->loop_body = c->e.p;
    c->loop_rc = c->rc;
}

/* A jump back to the block's own entry with the register cache as rc:
 * to loop_body with the cache as it is there, after the checks every
 * chain makes. */
static void emit_loop_back(struct jc *c, const struct regcache *rc, unsigned retired)
{
    struct emit *e = &c->e;
    rc_reconcile(e, rc, &c->loop_rc);
    alu_ri(e, F_W, G_SUB, R13, (int32_t)retired);
    alu_ri(e, F_W, G_CMP, R13, JIT_MAX_INSNS);
    uint8_t *out1 = jcc_fwd(e, CC_L);
    op_mem(e, 0, 0x83, G_CMP, RBX, HOFF(check));
    e8(e, 0);
    uint8_t *out2 = jcc_fwd(e, CC_NE);
    jmp_to(e, c->loop_body);
    /* Leaving: what loop_rc keeps dirty goes to struct hart first (r15 is
     * the entry pc already). */
    patch(out1, e->p);
    patch(out2, e->p);
    struct regcache out = c->loop_rc;
    rc_writeback(e, &out);
    jmp_to(e, c->j->exit);
}

/* Leaves the block for pc = entry pc + delta after `retired`
 * instructions (guest registers already written back): straight into the
 * target's block when it is in this page and compiled, else through the
 * dispatcher. */
static void emit_exit(struct jc *c, int64_t delta, unsigned retired)
{
    struct emit *e = &c->e;
    if (retired)
        alu_ri(e, F_W, G_SUB, R13, (int32_t)retired);
    if (delta)
        lea(e, R15, R15, (int32_t)delta);
    int64_t target = (int64_t)c->entry + delta;
    if (target < 0 || target >= (int64_t)PAGE_SIZE) {
        jmp_to(e, c->j->dispatch);
        return;
    }
    alu_ri(e, F_W, G_CMP, R13, JIT_MAX_INSNS);
    jcc_to(e, CC_L, c->j->exit);
    op_mem(e, 0, 0x83, G_CMP, RBX, HOFF(check));
    e8(e, 0);
    jcc_to(e, CC_NE, c->j->exit);
    /* Falls through to the slot check until patched to the block. */
    if (c->nsites < MAX_SITES)
        c->sites[c->nsites++] = (struct chain_site){jmp_fwd(e), (unsigned)target};
    mov_ri(e, RAX, (uint64_t)(uintptr_t)&c->dp->insn[target >> 1]);
    op_mem(e, F_66, 0x81, G_CMP, RAX, (int32_t)offsetof(struct dinsn, hidx));
    e8(e, JIT_HIDX & 0xff);
    e8(e, JIT_HIDX >> 8);
    jcc_to(e, CC_NE, c->j->exit);
    op_mem(e, 0, 0xff, 4, RAX, (int32_t)offsetof(struct dinsn, imm)); /* jmp [rax + imm] */
}

static struct cold *add_cold(struct jc *c, enum cold_kind kind, uint8_t *fix, const struct dinsn *d,
                             unsigned off, unsigned idx)
{
    struct cold *k = &c->cold[c->ncold++];
    *k = (struct cold){.kind = kind,
                       .fix = fix,
                       .d = d,
                       .off = off,
                       .idx = idx,
                       .rc = c->rc,
                       .dst = -1,
                       .val = -1};
    return k;
}

/* rax = guest address x[rs1] + imm, then rax = host address; jumps to a
 * new cold stub when the TLB entry does not map it. */
static void emit_address(struct jc *c, const struct dinsn *d)
{
    mov_rr(&c->e, RAX, get(c, d->rs1));
    if (d->imm)
        alu_ri(&c->e, F_W, G_ADD, RAX, d->imm);
}

static struct cold *emit_tlb_check(struct jc *c, const struct dinsn *d, unsigned size, int tlb_reg,
                                   enum cold_kind kind, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    _Static_assert(sizeof(struct tlb_entry) == 16 && TLB_SIZE == 256, "index math below");
    mov_rr32(e, RDX, RAX);
    shift_ri(e, 0, SH_SHR, RDX, PAGE_SHIFT - 4); /* (va >> 12) * 16 ... */
    alu_ri(e, 0, G_AND, RDX, (TLB_SIZE - 1) << 4);
    op_rr(e, F_W, 0x01, tlb_reg, RDX); /* add rdx, tlb */
    mov_rr(e, RCX, RAX);
    alu_ri(e, F_W, G_AND, RCX, (int32_t)(PAGE_MASK | (size - 1)));
    op_mem(e, F_W, 0x3b, RCX, RDX, (int32_t)offsetof(struct tlb_entry, tag));
    struct cold *k = add_cold(c, kind, jcc_fwd(e, CC_NE), d, off, idx);
    op_mem(e, F_W, 0x03, RAX, RDX, (int32_t)offsetof(struct tlb_entry, addend));
    return k;
}

static unsigned access_size(unsigned op)
{
    switch (op) {
    case OP_LB:
    case OP_LBU:
    case OP_SB:
        return 1;
    case OP_LH:
    case OP_LHU:
    case OP_SH:
        return 2;
    case OP_LW:
    case OP_LWU:
    case OP_SW:
    case OP_FLW:
    case OP_FSW:
        return 4;
    default:
        return 8;
    }
}

static bool load_signed(unsigned op)
{
    return op == OP_LB || op == OP_LH || op == OP_LW;
}

static bool is_fp_access(unsigned op)
{
    return op == OP_FLW || op == OP_FLD || op == OP_FSW || op == OP_FSD;
}

/* Jumps to an illegal-instruction stub when mstatus.FS is Off. */
static void emit_fs_check(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    op_mem(&c->e, 0, 0xf7, 0, RBX, HOFF(mstatus)); /* test dword [mstatus], FS */
    e32(&c->e, (uint32_t)MSTATUS_FS);
    add_cold(c, COLD_ILLEGAL, jcc_fwd(&c->e, CC_E), d, off, idx);
}

/* Writes a loaded value (rax) to its destination: the cache register
 * dst, or the FP register file. */
static void emit_load_result(struct emit *e, const struct dinsn *d, int dst)
{
    if (d->op == OP_FLW) {
        mov_ri(e, RCX, 0xffffffff00000000ULL); /* NaN-boxing */
        op_rr(e, F_W, 0x09, RCX, RAX);
    }
    if (is_fp_access(d->op))
        op_mem(e, F_W, 0x89, RAX, RBX, FOFF(d->rd));
    else
        mov_rr(e, cache_regs[dst], RAX);
}

/* Loads and stores write every guest register back first, so that their
 * slow paths can trap or call C with struct hart up to date. */
static void emit_load(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    rc_writeback(e, &c->rc);
    if (is_fp_access(d->op))
        emit_fs_check(c, d, off, idx);
    emit_address(c, d);
    int dst = -1;
    if (!is_fp_access(d->op)) {
        dst = rc_slot(c, d->rd, false); /* nothing dirty: evicts without a store */
        c->rc.dirty[dst] = true;
    }
    struct cold *k = emit_tlb_check(c, d, access_size(d->op), R12, COLD_LOAD, off, idx);
    k->dst = dst;
    switch (d->op) {
    case OP_LB:
        op_mem(e, F_W, 0x0fbe, RAX, RAX, 0);
        break;
    case OP_LH:
        op_mem(e, F_W, 0x0fbf, RAX, RAX, 0);
        break;
    case OP_LW:
        op_mem(e, F_W, 0x63, RAX, RAX, 0);
        break;
    case OP_LD:
    case OP_FLD:
        op_mem(e, F_W, 0x8b, RAX, RAX, 0);
        break;
    case OP_LBU:
        op_mem(e, 0, 0x0fb6, RAX, RAX, 0);
        break;
    case OP_LHU:
        op_mem(e, 0, 0x0fb7, RAX, RAX, 0);
        break;
    case OP_LWU:
    case OP_FLW:
        op_mem(e, 0, 0x8b, RAX, RAX, 0);
        break;
    }
    emit_load_result(e, d, dst);
    k->resume = e->p;
    if (is_fp_access(d->op)) {
        op_mem(e, 0, 0x81, G_OR, RBX, HOFF(mstatus));
        e32(e, (uint32_t)MSTATUS_FS);
    }
}

static void emit_store(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    unsigned size = access_size(d->op);
    rc_writeback(e, &c->rc);
    if (is_fp_access(d->op))
        emit_fs_check(c, d, off, idx);
    emit_address(c, d);
    int val = is_fp_access(d->op) ? -1 : get(c, d->rs2);
    struct cold *k = emit_tlb_check(c, d, size, R14, COLD_STORE, off, idx);
    k->val = val;
    if (val < 0) {
        op_mem(e, F_W, 0x8b, RCX, RBX, FOFF(d->rs2));
        val = RCX;
    }
    switch (size) {
    case 1:
        op_mem(e, F_BYTE, 0x88, val, RAX, 0);
        break;
    case 2:
        op_mem(e, F_66, 0x89, val, RAX, 0);
        break;
    case 4:
        op_mem(e, 0, 0x89, val, RAX, 0);
        break;
    default:
        op_mem(e, F_W, 0x89, val, RAX, 0);
        break;
    }
    k->resume = e->p;
}

/* h->pc = the pc of the instruction at off (for slow paths that raise). */
static void emit_set_pc(struct jc *c, unsigned off)
{
    lea(&c->e, RCX, R15, (int32_t)off - (int32_t)c->entry);
    op_mem(&c->e, F_W, 0x89, RCX, RBX, HOFF(pc));
}

static void emit_trap_exit(struct jc *c, unsigned retired)
{
    if (retired)
        alu_ri(&c->e, F_W, G_SUB, R13, (int32_t)retired);
    jmp_to(&c->e, c->j->epilogue);
}

/* To the interpreter at offset off, `retired` instructions done. */
static void emit_leave(struct jc *c, unsigned off, unsigned retired)
{
    if (retired)
        alu_ri(&c->e, F_W, G_SUB, R13, (int32_t)retired);
    lea(&c->e, R15, R15, (int32_t)off - (int32_t)c->entry);
    jmp_to(&c->e, c->j->exit);
}

/* After a call that returned eax = 1 (it trapped) or something else
 * (it is done, but compiled code must leave after it). */
static void emit_trap_or_leave(struct jc *c, const struct cold *k)
{
    alu_ri(&c->e, 0, G_CMP, RAX, 1);
    uint8_t *leave = jcc_fwd(&c->e, CC_NE);
    emit_trap_exit(c, k->idx);
    patch(leave, c->e.p);
    emit_leave(c, k->off + k->d->len, k->idx + 1);
}

static void emit_cold(struct jc *c, struct cold *k)
{
    struct emit *e = &c->e;
    const struct dinsn *d = k->d;
    patch(k->fix, e->p);
    for (unsigned i = 0; i < k->nmore; i++)
        patch(k->more[i], e->p);
    switch (k->kind) {
    case COLD_FP: { /* the inline fast path declined: the FPU helper decides */
        rc_writeback(e, &k->rc);
        emit_set_pc(c, k->off);
        mov_rr(e, RDI, RBX);
        mov_ri(e, RSI, d->raw);
        call_abs(e, (const void *)jit_fp);
        op_rr(e, 0, 0x85, RAX, RAX);
        uint8_t *ok = jcc_fwd(e, CC_E);
        emit_trap_exit(c, k->idx);
        patch(ok, e->p);
        rc_reload(e, &k->rc, -1);
        jmp_to(e, k->resume);
        return;
    }
    case COLD_BRANCH:
        if (k->off + (int64_t)d->imm == c->entry) {
            emit_loop_back(c, &k->rc, k->idx + 1);
            return;
        }
        if (k->join) {
            /* Into the block's own code further on: guest registers as
             * the main line has them there, and the skipped instructions
             * given back to the budget (exits count from the entry). */
            rc_reconcile(e, &k->rc, &k->join_rc);
            alu_ri(e, F_W, G_ADD, R13, (int32_t)(k->join_idx - k->idx - 1));
            jmp_to(e, k->join);
            return;
        }
        rc_writeback(e, &k->rc);
        emit_exit(c, (int64_t)k->off - c->entry + d->imm, k->idx + 1);
        return;
    case COLD_CALL: /* the call returned 1 (trapped) or 2 (leave after it) */
        emit_trap_or_leave(c, k);
        return;
    case COLD_LEAVE: /* to the interpreter, at this instruction (never
                      * chained: the block may start right here) */
        rc_writeback(e, &k->rc);
        emit_leave(c, k->off, k->idx);
        return;
    case COLD_ILLEGAL:
        emit_set_pc(c, k->off);
        mov_rr(e, RDI, RBX);
        mov_ri(e, RSI, d->raw);
        call_abs(e, (const void *)jit_illegal);
        emit_trap_exit(c, k->idx);
        return;
    case COLD_LOAD: {
        emit_set_pc(c, k->off);
        mov_rr(e, RDI, RBX);
        mov_rr(e, RSI, RAX);
        mov_ri(e, RDX, access_size(d->op) | (load_signed(d->op) ? 16 : 0));
        call_abs(e, (const void *)jit_load_slow);
        op_mem(e, 0, 0x80, G_CMP, RBX, HOFF(jit_exc));
        e8(e, 0);
        uint8_t *ok = jcc_fwd(e, CC_E);
        emit_trap_exit(c, k->idx); /* x[rd] in struct hart is still the old value */
        patch(ok, e->p);
        rc_reload(e, &k->rc, k->dst);
        emit_load_result(e, d, k->dst);
        jmp_to(e, k->resume);
        return;
    }
    case COLD_STORE: {
        if (k->val >= 0)
            mov_rr(e, RDX, k->val); /* before the argument moves clobber it */
        else
            op_mem(e, F_W, 0x8b, RDX, RBX, FOFF(d->rs2));
        emit_set_pc(c, k->off);
        mov_rr(e, RDI, RBX);
        mov_rr(e, RSI, RAX);
        mov_ri(e, RCX, access_size(d->op));
        call_abs(e, (const void *)jit_store_slow);
        op_rr(e, 0, 0x85, RAX, RAX);
        uint8_t *failed = jcc_fwd(e, CC_NE);
        rc_reload(e, &k->rc, -1);
        jmp_to(e, k->resume);
        patch(failed, e->p);
        /* 2: the store changed compiled code (maybe this block) */
        emit_trap_or_leave(c, k);
        return;
    }
    }
}

/* Puts a result computed in a scratch register into rd's cache register. */
static void emit_result(struct jc *c, const struct dinsn *d, int reg)
{
    mov_rr(&c->e, def(c, d->rd), reg);
}

/* The register rd = rs1 op ... is computed in: rd's cache register, with
 * rs1's value copied in unless they are the same.  a was just used, so
 * allocating rd never evicts it (least recently used goes first). */
static int dest_from(struct jc *c, const struct dinsn *d, int a, unsigned f)
{
    int r = def(c, d->rd);
    if (r != a)
        (f & F_W ? mov_rr : mov_rr32)(&c->e, r, a);
    return r;
}

static void sext32_in_place(struct emit *e, unsigned f, int r)
{
    if (!(f & F_W))
        op_rr(e, F_W, 0x63, r, r); /* movsxd r, r32 */
}

/* x[rd] = x[rs1] op x[rs2] for an op with a "reg, r/m" form. */
static void emit_rrr(struct jc *c, unsigned f, unsigned opc, const struct dinsn *d)
{
    struct emit *e = &c->e;
    int a = get(c, d->rs1), b = get(c, d->rs2);
    if (d->rd == d->rs2 && d->rs1 != d->rs2) {
        /* rd would overwrite b: compute in rax */
        (f & F_W ? mov_rr : mov_rr32)(e, RAX, a);
        op_rr(e, f, opc, RAX, b);
        sext32_in_place(e, f, RAX);
        emit_result(c, d, RAX);
        return;
    }
    int r = dest_from(c, d, a, f);
    op_rr(e, f, opc, r, b);
    sext32_in_place(e, f, r);
}

static void emit_rri(struct jc *c, unsigned f, int ext, const struct dinsn *d)
{
    struct emit *e = &c->e;
    if (d->rs1 == 0 && ext != G_AND) { /* li: 0 op imm = imm */
        int64_t v = f & F_W ? d->imm : (int64_t)(int32_t)d->imm;
        mov_ri(e, def(c, d->rd), (uint64_t)v);
        return;
    }
    int a = get(c, d->rs1);
    if (!(f & F_W) && ext == G_ADD) { /* addiw: one lea and a sign extension */
        int r = def(c, d->rd);
        if (d->imm)
            op_mem(e, 0, 0x8d, r, a, d->imm);   /* lea r32, [a + imm] */
        op_rr(e, F_W, 0x63, r, d->imm ? r : a); /* movsxd r, r32 */
        return;
    }
    int r = dest_from(c, d, a, f);
    alu_ri(e, f, ext, r, d->imm);
    sext32_in_place(e, f, r);
}

static void emit_shift(struct jc *c, unsigned f, int ext, const struct dinsn *d, bool imm)
{
    struct emit *e = &c->e;
    if (!imm)
        mov_rr32(e, RCX, get(c, d->rs2));
    int r = dest_from(c, d, get(c, d->rs1), f);
    if (imm)
        shift_ri(e, f, ext, r, (unsigned)d->imm);
    else
        op_rr(e, f, 0xd3, ext, r);
    sext32_in_place(e, f, r);
}

/* x[rd] = (x[rs1] cmp x[rs2] or imm) ? 1 : 0 */
static void emit_set(struct jc *c, int cc, const struct dinsn *d, bool imm)
{
    struct emit *e = &c->e;
    mov_rr(e, RAX, get(c, d->rs1));
    int b = imm ? -1 : get(c, d->rs2);
    op_rr(e, 0, 0x33, RCX, RCX);
    if (imm)
        alu_ri(e, F_W, G_CMP, RAX, d->imm);
    else
        op_rr(e, F_W, 0x3b, RAX, b);
    op_rr(e, F_BYTE, 0x0f90 | (unsigned)cc, 0, RCX);
    emit_result(c, d, RCX);
}

static void emit_call2(struct jc *c, uint64_t (*fn)(uint64_t, uint64_t), const struct dinsn *d)
{
    rc_flush(c);
    ld_x(&c->e, RDI, d->rs1);
    ld_x(&c->e, RSI, d->rs2);
    call_abs(&c->e, (const void *)fn);
    emit_result(c, d, RAX);
}

static void emit_mulh(struct jc *c, int ext, const struct dinsn *d)
{
    mov_rr(&c->e, RAX, get(c, d->rs1));
    op_rr(&c->e, F_W, 0xf7, ext, get(c, d->rs2)); /* rdx:rax = rax * r64 */
    emit_result(c, d, RDX);
}

/* A jump from the main line to cold stub k. */
static void cold_jcc(struct jc *c, struct cold *k, int cc)
{
    uint8_t *fix = jcc_fwd(&c->e, cc);
    if (!k->fix)
        k->fix = fix;
    else
        k->more[k->nmore++] = fix;
}

/* F/D add, sub, mul and fused multiply-add in double precision, inline,
 * under the FPU's accrued-inexact fast path conditions (fpu.c): FS on,
 * NX already accrued, round to nearest even, finite operands, and a
 * result that is neither tiny nor infinite, so no flag can change.
 * Anything else takes the cold stub to the FPU helper. */
static bool emit_fp_fast(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    uint32_t raw = d->raw, opc = raw & 0x7f, rm = raw >> 12 & 7, f7 = raw >> 25;
    unsigned rd = raw >> 7 & 31, rs1 = raw >> 15 & 31, rs2 = raw >> 20 & 31, rs3 = raw >> 27;
    bool fma = opc == 0x43 || opc == 0x47 || opc == 0x4b || opc == 0x4f;
    unsigned sse_op = 0, vex_op = 0;
    if (rm != RM_RNE && rm != RM_DYN)
        return false;
    if (fma) {
        if ((f7 & 3) != 1 || !fpu_host_has_fma())
            return false;
        /* vfmadd213sd, vfmsub213sd, vfnmadd213sd, vfnmsub213sd */
        vex_op = 0xa9 + ((opc - 0x43) >> 2) * 2;
    } else if (opc == 0x53 && f7 == 0x01) {
        sse_op = 0x58; /* addsd */
    } else if (opc == 0x53 && f7 == 0x05) {
        sse_op = 0x5c; /* subsd */
    } else if (opc == 0x53 && f7 == 0x09) {
        sse_op = 0x59; /* mulsd */
    } else {
        return false;
    }
    struct cold *k = add_cold(c, COLD_FP, NULL, d, off, idx);
    op_mem(e, 0, 0xf7, 0, RBX, HOFF(mstatus)); /* test dword [mstatus], FS */
    e32(e, (uint32_t)MSTATUS_FS);
    cold_jcc(c, k, CC_E);
    op_mem(e, 0, 0xf6, 0, RBX, HOFF(fp.fflags)); /* test byte [fflags], NX */
    e8(e, FFLAG_NX);
    cold_jcc(c, k, CC_E);
    if (rm == RM_DYN) {
        op_mem(e, 0, 0x83, G_CMP, RBX, HOFF(fp.frm));
        e8(e, RM_RNE);
        cold_jcc(c, k, CC_NE);
    }
    const uint64_t exp_mask = 0x7ff0000000000000ULL;
    mov_ri(e, RCX, exp_mask);
    unsigned ops[3] = {rs1, rs2, rs3};
    for (unsigned i = 0; i < (fma ? 3u : 2u); i++) {
        op_mem(e, F_W, 0x8b, RAX, RBX, FOFF(ops[i]));
        op_rr(e, F_W, 0x23, RAX, RCX);
        op_rr(e, F_W, 0x3b, RAX, RCX);
        cold_jcc(c, k, CC_E); /* infinity or NaN */
    }
    sse_sd(e, 0x10, 0, RBX, FOFF(rs1)); /* movsd xmm0, [rs1] */
    if (fma) {
        sse_sd(e, 0x10, 1, RBX, FOFF(rs2));
        fma213sd_xmm0_xmm1(e, vex_op, FOFF(rs3));
    } else {
        sse_sd(e, sse_op, 0, RBX, FOFF(rs2));
    }
    op_rr(e, F_66 | F_W, 0x0f7e, 0, RAX); /* movq rax, xmm0 */
    mov_rr(e, RDX, RAX);
    op_rr(e, F_W, 0x0fba, 6, RDX); /* btr rdx, 63: the magnitude */
    e8(e, 63);
    mov_ri(e, RCX, 0x0010000000000000ULL);
    op_rr(e, F_W, 0x3b, RDX, RCX);
    cold_jcc(c, k, CC_BE); /* zero, subnormal or smallest normal: maybe tiny */
    mov_ri(e, RCX, exp_mask);
    op_rr(e, F_W, 0x3b, RDX, RCX);
    cold_jcc(c, k, CC_AE); /* overflow */
    op_mem(e, F_W, 0x89, RAX, RBX, FOFF(rd));
    op_mem(e, 0, 0x81, G_OR, RBX, HOFF(mstatus));
    e32(e, (uint32_t)MSTATUS_FS);
    k->resume = e->p;
    return true;
}

enum { INSN_NO, INSN_OK, INSN_ENDS };

/* Emits one instruction; INSN_NO (nothing emitted) when it must be left to
 * the interpreter, INSN_ENDS when it ends the block. */
static int compile_insn(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    int32_t rel = (int32_t)off - (int32_t)c->entry; /* this pc - entry pc */
    switch (d->op) {
    case OP_NOP:
        break;
    case OP_LUI:
        mov_ri(e, def(c, d->rd), (uint64_t)(int64_t)d->imm);
        break;
    case OP_AUIPC: {
        int64_t v = (int64_t)rel + d->imm;
        if (fits32(v)) {
            lea(e, RAX, R15, (int32_t)v);
        } else {
            mov_ri(e, RAX, (uint64_t)v);
            op_rr(e, F_W, 0x01, R15, RAX);
        }
        emit_result(c, d, RAX);
        break;
    }
    case OP_JAL:
        lea(e, def(c, d->rd), R15, rel + d->len);
        if (rel + d->imm == 0) {
            emit_loop_back(c, &c->rc, idx + 1);
            return INSN_ENDS;
        }
        rc_writeback(e, &c->rc);
        emit_exit(c, (int64_t)rel + d->imm, idx + 1);
        return INSN_ENDS;
    case OP_JALR:
        mov_rr(e, RAX, get(c, d->rs1));
        if (d->imm)
            alu_ri(e, F_W, G_ADD, RAX, d->imm);
        alu_ri(e, F_W, G_AND, RAX, -2);
        lea(e, def(c, d->rd), R15, rel + d->len);
        rc_writeback(e, &c->rc);
        alu_ri(e, F_W, G_SUB, R13, (int32_t)idx + 1);
        mov_rr(e, R15, RAX);
        jmp_to(e, c->j->dispatch);
        return INSN_ENDS;
    case OP_BEQ:
    case OP_BNE:
    case OP_BLT:
    case OP_BGE:
    case OP_BLTU:
    case OP_BGEU: {
        static const int cc[] = {CC_E, CC_NE, CC_L, CC_GE, CC_B, CC_AE};
        int a = get(c, d->rs1);
        if (d->rs2 == 0)
            op_rr(e, F_W, 0x85, a, a); /* test a, a: flags as for cmp a, 0 */
        else
            op_rr(e, F_W, 0x3b, a, get(c, d->rs2));
        add_cold(c, COLD_BRANCH, jcc_fwd(e, cc[d->op - OP_BEQ]), d, off, idx);
        break;
    }
    case OP_LB:
    case OP_LH:
    case OP_LW:
    case OP_LD:
    case OP_LBU:
    case OP_LHU:
    case OP_LWU:
    case OP_FLW:
    case OP_FLD:
        emit_load(c, d, off, idx);
        break;
    case OP_SB:
    case OP_SH:
    case OP_SW:
    case OP_SD:
    case OP_FSW:
    case OP_FSD:
        emit_store(c, d, off, idx);
        break;
    case OP_CSRRW:
    case OP_CSRRS:
    case OP_CSRRC:
    case OP_CSRRWI:
    case OP_CSRRSI:
    case OP_CSRRCI:
    case OP_LR_W:
    case OP_SC_W:
    case OP_AMOSWAP_W:
    case OP_AMOADD_W:
    case OP_AMOXOR_W:
    case OP_AMOAND_W:
    case OP_AMOOR_W:
    case OP_AMOMIN_W:
    case OP_AMOMAX_W:
    case OP_AMOMINU_W:
    case OP_AMOMAXU_W:
    case OP_LR_D:
    case OP_SC_D:
    case OP_AMOSWAP_D:
    case OP_AMOADD_D:
    case OP_AMOXOR_D:
    case OP_AMOAND_D:
    case OP_AMOOR_D:
    case OP_AMOMIN_D:
    case OP_AMOMAX_D:
    case OP_AMOMINU_D:
    case OP_AMOMAXU_D: {
        bool csr = d->op <= OP_CSRRCI;
        if (csr && csr_counts((unsigned)d->imm & 0xfff))
            return INSN_NO;
        uint64_t lo, hi;
        memcpy(&lo, d, 8);
        memcpy(&hi, (const char *)d + 8, 8);
        rc_flush(c); /* they read and write x[] */
        emit_set_pc(c, off);
        mov_rr(e, RDI, RBX);
        mov_ri(e, RSI, lo);
        mov_ri(e, RDX, hi);
        call_abs(e, csr ? (const void *)jit_csr : (const void *)jit_amo);
        op_rr(e, 0, 0x85, RAX, RAX);
        add_cold(c, COLD_CALL, jcc_fwd(e, CC_NE), d, off, idx);
        if (csr)
            emit_tlb_sets(e);
        break;
    }
    case OP_FP:
        if (emit_fp_fast(c, d, off, idx))
            break;
        rc_flush(c); /* fpu_execute reads and writes x[] */
        emit_set_pc(c, off);
        mov_rr(e, RDI, RBX);
        mov_ri(e, RSI, d->raw);
        call_abs(e, (const void *)jit_fp);
        op_rr(e, 0, 0x85, RAX, RAX);
        add_cold(c, COLD_CALL, jcc_fwd(e, CC_NE), d, off, idx);
        break;
    case OP_ADDI:
        emit_rri(c, F_W, G_ADD, d);
        break;
    case OP_XORI:
        emit_rri(c, F_W, G_XOR, d);
        break;
    case OP_ORI:
        emit_rri(c, F_W, G_OR, d);
        break;
    case OP_ANDI:
        emit_rri(c, F_W, G_AND, d);
        break;
    case OP_ADDIW:
        emit_rri(c, 0, G_ADD, d);
        break;
    case OP_SLTI:
        emit_set(c, CC_L, d, true);
        break;
    case OP_SLTIU:
        emit_set(c, CC_B, d, true);
        break;
    case OP_SLT:
        emit_set(c, CC_L, d, false);
        break;
    case OP_SLTU:
        emit_set(c, CC_B, d, false);
        break;
    case OP_SLLI:
        emit_shift(c, F_W, SH_SHL, d, true);
        break;
    case OP_SRLI:
        emit_shift(c, F_W, SH_SHR, d, true);
        break;
    case OP_SRAI:
        emit_shift(c, F_W, SH_SAR, d, true);
        break;
    case OP_SLLIW:
        emit_shift(c, 0, SH_SHL, d, true);
        break;
    case OP_SRLIW:
        emit_shift(c, 0, SH_SHR, d, true);
        break;
    case OP_SRAIW:
        emit_shift(c, 0, SH_SAR, d, true);
        break;
    case OP_SLL:
        emit_shift(c, F_W, SH_SHL, d, false);
        break;
    case OP_SRL:
        emit_shift(c, F_W, SH_SHR, d, false);
        break;
    case OP_SRA:
        emit_shift(c, F_W, SH_SAR, d, false);
        break;
    case OP_SLLW:
        emit_shift(c, 0, SH_SHL, d, false);
        break;
    case OP_SRLW:
        emit_shift(c, 0, SH_SHR, d, false);
        break;
    case OP_SRAW:
        emit_shift(c, 0, SH_SAR, d, false);
        break;
    case OP_ADD:
        emit_rrr(c, F_W, 0x03, d);
        break;
    case OP_SUB:
        emit_rrr(c, F_W, 0x2b, d);
        break;
    case OP_AND:
        emit_rrr(c, F_W, 0x23, d);
        break;
    case OP_OR:
        emit_rrr(c, F_W, 0x0b, d);
        break;
    case OP_XOR:
        emit_rrr(c, F_W, 0x33, d);
        break;
    case OP_ADDW:
        emit_rrr(c, 0, 0x03, d);
        break;
    case OP_SUBW:
        emit_rrr(c, 0, 0x2b, d);
        break;
    case OP_MUL:
        emit_rrr(c, F_W, 0x0faf, d);
        break;
    case OP_MULW:
        emit_rrr(c, 0, 0x0faf, d);
        break;
    case OP_MULH:
        emit_mulh(c, 5, d);
        break;
    case OP_MULHU:
        emit_mulh(c, 4, d);
        break;
    case OP_MULHSU:
        emit_call2(c, alu_mulhsu, d);
        break;
    case OP_DIV:
        emit_call2(c, alu_div, d);
        break;
    case OP_DIVU:
        emit_call2(c, alu_divu, d);
        break;
    case OP_REM:
        emit_call2(c, alu_rem, d);
        break;
    case OP_REMU:
        emit_call2(c, alu_remu, d);
        break;
    case OP_DIVW:
        emit_call2(c, alu_divw, d);
        break;
    case OP_DIVUW:
        emit_call2(c, alu_divuw, d);
        break;
    case OP_REMW:
        emit_call2(c, alu_remw, d);
        break;
    case OP_REMUW:
        emit_call2(c, alu_remuw, d);
        break;
    default:
        return INSN_NO;
    }
    return INSN_OK;
}

/* A 4-byte instruction in the last two bytes of the page: its upper half
 * is in whatever page follows virtually, so the code checks at run time,
 * through the fetch TLB, that those two bytes are still the ones it was
 * compiled from, and leaves to the interpreter if not.  Ends the block. */
static bool emit_cross(struct jc *c, unsigned off, unsigned idx)
{
    struct hart *h = c->h;
    uint64_t va = c->vpage + PAGE_SIZE;
    const struct tlb_entry *te =
        &h->tlb[ACC_FETCH][h->fetch_idx][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (te->tag != va)
        return false;
    uint16_t lo, hi;
    memcpy(&lo, (const uint8_t *)bus_ram_ptr(h->bus, c->dp->pa, 0) + off, 2);
    memcpy(&hi, (const void *)(te->addend + va), 2);
    decode_insn(&c->cross, lo | (uint32_t)hi << 16);

    struct emit *e = &c->e;
    uint8_t *rollback = e->p;
    unsigned ncold = c->ncold;
    int32_t rel = (int32_t)off - (int32_t)c->entry;
    lea(e, RAX, R15, rel + 2);
    mov_rr32(e, RDX, RAX);
    shift_ri(e, 0, SH_SHR, RDX, PAGE_SHIFT - 4);
    alu_ri(e, 0, G_AND, RDX, (TLB_SIZE - 1) << 4);
    op_mem(e, 0, 0x8b, RCX, RBX, HOFF(fetch_idx));
    shift_ri(e, 0, SH_SHL, RCX, TLB_BITS + 4); /* * sizeof one MMU index's set */
    op_rr(e, F_W, 0x01, RCX, RDX);
    op_rr(e, F_W, 0x01, RBX, RDX); /* rdx = &tlb[ACC_FETCH][fetch_idx][i] - HOFF(tlb) */
    mov_rr(e, RCX, RAX);
    alu_ri(e, F_W, G_AND, RCX, (int32_t)PAGE_MASK);
    op_mem(e, F_W, 0x3b, RCX, RDX, HOFF(tlb) + (int32_t)offsetof(struct tlb_entry, tag));
    add_cold(c, COLD_LEAVE, jcc_fwd(e, CC_NE), &c->cross, off, idx);
    op_mem(e, F_W, 0x03, RAX, RDX, HOFF(tlb) + (int32_t)offsetof(struct tlb_entry, addend));
    op_mem(e, F_66, 0x81, G_CMP, RAX, 0);
    e8(e, hi & 0xff);
    e8(e, hi >> 8);
    add_cold(c, COLD_LEAVE, jcc_fwd(e, CC_NE), &c->cross, off, idx);

    int r = compile_insn(c, &c->cross, off, idx);
    if (r == INSN_NO) {
        e->p = rollback;
        c->ncold = ncold;
        return false;
    }
    if (r == INSN_OK) {
        rc_writeback(e, &c->rc);
        emit_exit(c, rel + 4, idx + 1);
    }
    return true;
}

/* Compiles one block at entry; *next is where a following block could
 * start (after an instruction left to the interpreter), or PAGE_SIZE. */
static bool compile_block(struct jc *c, unsigned entry, unsigned *next)
{
    struct jit *j = c->j;
    struct dpage *dp = c->dp;
    *next = PAGE_SIZE;
    c->entry = entry;
    c->ncold = 0;
    rc_clear(&c->rc);
    uint8_t *start = j->free;
    uint8_t *code = start + sizeof(struct dinsn);
    c->e.p = code;
    emit_loop_prologue(c);
    unsigned off = entry, n = 0;
    bool ended = false;
    uint64_t cover[DPAGE_SLOTS / 64] = {0};
    while (n < JIT_MAX_INSNS && off < PAGE_SIZE && c->e.p - start < BLOCK_CODE_MAX / 2 &&
           c->ncold + 2 <= ARRAY_SIZE(c->cold)) {
        struct dinsn *slot = &dp->insn[off / 2];
        if (slot->hidx == OP_DECODE * 2)
            dcache_decode_slot(c->h, dp, off);
        const struct dinsn *d = slot->hidx == JIT_HIDX ? jit_code_orig(jit_slot_code(slot)) : slot;
        for (unsigned i = 0; i < c->ncold; i++) {
            struct cold *k = &c->cold[i];
            if (k->kind == COLD_BRANCH && !k->join && k->off + (int64_t)k->d->imm == off) {
                k->join = c->e.p;
                k->join_rc = c->rc;
                k->join_idx = n;
            }
        }
        int r = compile_insn(c, d, off, n);
        if (r == INSN_NO) {
            if (d->op != OP_CROSS && off + d->len < PAGE_SIZE)
                *next = off + d->len;
            break;
        }
        for (unsigned s = off / 2; s < (off + d->len) / 2; s++)
            cover[s / 64] |= 1ULL << (s % 64);
        n++;
        off += d->len;
        if (r == INSN_ENDS) {
            ended = true;
            break;
        }
    }
    /* Not as a block's first instruction: leaving to the interpreter at
     * the entry would re-enter the same block forever. */
    if (!ended && n > 0 && off == PAGE_SIZE - 2 && n < JIT_MAX_INSNS &&
        dp->insn[off / 2].op == OP_CROSS && c->ncold + 4 <= ARRAY_SIZE(c->cold) &&
        emit_cross(c, off, n)) {
        cover[(off / 2) / 64] |= 1ULL << ((off / 2) % 64);
        n++;
        ended = true;
    }
    if (n == 0)
        return false;
    if (!ended) {
        rc_writeback(&c->e, &c->rc);
        emit_exit(c, (int64_t)off - entry, n);
    }
    for (unsigned i = 0; i < c->ncold; i++)
        emit_cold(c, &c->cold[i]);

    struct dinsn *slot = &dp->insn[entry / 2];
    memcpy(start, slot, sizeof(*slot));
    const uint8_t *run = code + j->rx_delta;
    slot->hidx = JIT_HIDX;
    memcpy(&slot->imm, &run, sizeof(run));
    dp->jit = true;
    for (unsigned i = 0; i < DPAGE_SLOTS / 64; i++)
        dp->jit_cover[i] |= cover[i];
    if (j->perf_map)
        fprintf(j->perf_map, "%lx %lx wirt-jit-pa-%llx\n", (unsigned long)(uintptr_t)run,
                (unsigned long)(c->e.p - code), (unsigned long long)(dp->pa + entry));
    j->free = (uint8_t *)(((uintptr_t)c->e.p + 15) & ~(uintptr_t)15);
    c->h->stats.jit_blocks++;
    return true;
}

void jit_compile(struct hart *h, struct dpage *dp, unsigned off, uint64_t vpage)
{
    struct jit *j = h->jit;
    if (!j)
        return;
    if ((size_t)(j->end - j->free) < BLOCK_ROOM) {
        h->stats.jit_flush++;
        dcache_flush_all(h); /* also drops every block: jit_reset() */
        return;
    }
    struct jc *c = malloc(sizeof(*c));
    if (!c)
        return;
    c->j = j;
    c->h = h;
    c->dp = dp;
    c->vpage = vpage;
    c->nsites = 0;
    c->stamp = 0;
    unsigned todo[COMPILE_MAX_BLOCKS], ntodo = 0, nsite_seen = 0;
    todo[ntodo++] = off;
    for (unsigned done = 0; done < ntodo; done++) {
        unsigned at = todo[done], next;
        if (dp->insn[at / 2].hidx == JIT_HIDX)
            continue;
        compile_block(c, at, &next);
        if (next < PAGE_SIZE && ntodo < COMPILE_MAX_BLOCKS)
            todo[ntodo++] = next;
        for (; nsite_seen < c->nsites && ntodo < COMPILE_MAX_BLOCKS; nsite_seen++)
            todo[ntodo++] = c->sites[nsite_seen].target;
    }
    for (unsigned i = 0; i < c->nsites; i++) {
        const struct dinsn *t = &dp->insn[c->sites[i].target / 2];
        if (t->hidx == JIT_HIDX)
            patch(c->sites[i].fix, jit_slot_code(t) - j->rx_delta);
    }
    free(c);
}

int64_t jit_enter(struct hart *h, const uint8_t *code, int64_t left, uint64_t pc,
                  struct tlb_entry *ltlb, struct tlb_entry *stlb)
{
    int64_t (*fn)(struct hart *, const uint8_t *, int64_t, uint64_t, struct tlb_entry *,
                  struct tlb_entry *);
    memcpy(&fn, &h->jit->enter, sizeof(fn));
    return fn(h, code, left, pc, ltlb, stlb);
}

bool jit_init(struct hart *h)
{
    if (h->jit)
        return true;
    struct jit *j = calloc(1, sizeof(*j));
    if (!j)
        return false;
    /* No mapping is ever writable and executable at once, so a sandbox
     * may forbid new executable mappings once this is done. */
    int fd = memfd_create("wirt-jit", MFD_CLOEXEC);
    if (fd < 0) {
        free(j);
        return false;
    }
    void *rw = MAP_FAILED, *rx = MAP_FAILED;
    if (ftruncate(fd, CODE_SIZE) == 0) {
        rw = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        rx = mmap(NULL, CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_NORESERVE, fd, 0);
    }
    close(fd); /* the mappings keep the memory */
    if (rw == MAP_FAILED || rx == MAP_FAILED) {
        if (rw != MAP_FAILED)
            munmap(rw, CODE_SIZE);
        if (rx != MAP_FAILED)
            munmap(rx, CODE_SIZE);
        free(j);
        return false;
    }
    j->buf = rw;
    j->end = j->buf + CODE_SIZE;
    j->rx_delta = (uint8_t *)rx - (uint8_t *)rw;
    emit_stubs(j);
    j->free = j->blocks;
    const char *pm = getenv("WIRT_JIT_PERFMAP");
    if (pm && *pm && strcmp(pm, "0") != 0) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        j->perf_map = fopen(path, "a");
        if (j->perf_map)
            setvbuf(j->perf_map, NULL, _IOLBF, 0);
    }
    h->jit = j;
    return true;
}

void jit_reset(struct hart *h)
{
    if (h->jit)
        h->jit->free = h->jit->blocks;
}

void jit_free(struct hart *h)
{
    if (!h->jit)
        return;
    if (h->jit->perf_map)
        fclose(h->jit->perf_map);
    munmap(h->jit->buf + h->jit->rx_delta, CODE_SIZE);
    munmap(h->jit->buf, CODE_SIZE);
    free(h->jit);
    h->jit = NULL;
}

#else /* not x86-64: no code generator; the interpreter runs everything */

bool jit_init(struct hart *h)
{
    (void)h;
    return false;
}
void jit_free(struct hart *h)
{
    (void)h;
}
void jit_reset(struct hart *h)
{
    (void)h;
}
void jit_compile(struct hart *h, struct dpage *dp, unsigned off, uint64_t vpage)
{
    (void)h;
    (void)dp;
    (void)off;
    (void)vpage;
}
int64_t jit_enter(struct hart *h, const uint8_t *code, int64_t left, uint64_t pc,
                  struct tlb_entry *ltlb, struct tlb_entry *stlb)
{
    (void)h;
    (void)code;
    (void)pc;
    (void)ltlb;
    (void)stlb;
    return left;
}

#endif
