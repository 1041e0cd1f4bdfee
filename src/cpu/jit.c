/* SPDX-License-Identifier: MIT */
/*
 * The block compiler for x86-64 hosts (design in jit.h).
 *
 * Register use in generated code (all callee-saved, so calls into C keep
 * them): rbx = struct hart, r12 = load TLB set, r14 = store TLB set,
 * r13 = instruction budget left - JIT_MAX_INSNS (biased so that "room
 * for another whole block" is the sign flag of the sub that retires a
 * block's instructions), r15 = virtual pc of the running block's entry.
 * rax, rcx, rdx and the argument registers are scratch.  The stack stays
 * 16-byte aligned inside blocks, so they call C directly.
 *
 * Each block is a main line (the fast paths, straight through) followed
 * by its cold stubs (TLB misses, taken branches), so the common path
 * falls through without taken jumps.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/alu.h"
#include "cpu/bitmanip.h"
#include "cpu/fpu.h"
#include "cpu/jit_internal.h"
#include "mem/bus.h"
#include "util/compiler.h"

#if defined(__x86_64__)

/* CSRs the JIT leaves to the interpreter: the counters, which only the
 * interpreter keeps exact (it adds a block's instructions on return). */
static bool csr_counts(unsigned csr)
{
    return (csr >= 0xb00 && csr < 0xba0) || (csr >= 0xc00 && csr < 0xca0) ||
           (csr >= 0x320 && csr < 0x340) || csr == CSR_SCOUNTOVF;
}

/* ---- compiling a block ---- */

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
               (op >= OP_MUL && op <= OP_REMUW) || (op >= OP_SH1ADD && op <= OP_SM4KS3);
    if (op == OP_DECODE || op == OP_JIT || op == OP_FP || op == OP_LUI || op == OP_AUIPC ||
        op == OP_JAL)
        return 0;
    if (d->rs1 && d->rs1 < 32)
        src[n++] = d->rs1;
    if (rs2 && d->rs2 && d->rs2 < 32)
        src[n++] = d->rs2;
    return n;
}

/* Whether d writes an integer register (its rd). */
static bool writes_int_rd(const struct dinsn *d)
{
    return d->op != OP_FP && d->op != OP_FLW && d->op != OP_FLD && d->op != OP_FLH && d->rd != 0 &&
           d->rd < 32;
}

/* Loads guest registers the block uses, so that a branch back to the
 * entry can skip these loads (loop_body): every register of the loop
 * when a branch back to the entry is in reach and the loop uses no more
 * registers than the cache holds (nothing is reloaded per iteration:
 * a loop bound, a register the loop writes before it reads it), else
 * the first few the block reads. */
static void emit_loop_prologue(struct jc *c)
{
    enum { PRELOAD = NCACHE - 2 }; /* leave room for the body's results */
    unsigned n = 0, loop_end = 0;
    uint32_t written = 0, loop_regs = 0, loop_written = 0;
    for (unsigned off = c->entry, k = 0; off < PAGE_SIZE && k < 32; k++) {
        const struct dinsn *d = &c->dp->insn[off / 2];
        if (d->hidx == JIT_HIDX)
            d = jit_code_orig(jit_slot_code(d));
        if (d->op == OP_DECODE || d->op == OP_CROSS || d->op == OP_JAL || d->op == OP_JALR)
            break;
        unsigned src[2];
        for (unsigned i = 0, m = int_sources(d, src); i < m; i++)
            loop_regs |= 1u << src[i];
        if (writes_int_rd(d))
            loop_written |= 1u << d->rd;
        if (d->op >= OP_BEQ && d->op <= OP_BGEU && off + (int64_t)d->imm == c->entry) {
            loop_end = off + d->len;
            break;
        }
        off += d->len;
    }
    loop_regs |= loop_written;
    if (loop_end && __builtin_popcount(loop_regs) <= NCACHE) {
        for (unsigned g = 1; g < 32; g++)
            if (loop_regs >> g & 1)
                get(c, g);
        written = loop_written;
        n = NCACHE;
    }
    for (unsigned off = c->entry, k = 0; n < PRELOAD && off < PAGE_SIZE && k < 32; k++) {
        const struct dinsn *d = &c->dp->insn[off / 2];
        if (d->hidx == JIT_HIDX)
            d = jit_code_orig(jit_slot_code(d));
        if (d->op == OP_DECODE || d->op == OP_CROSS || d->op == OP_JAL || d->op == OP_JALR)
            break;
        if (writes_int_rd(d))
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
    alu_ri(e, F_W, G_SUB, R13, (int32_t)retired); /* r13 is biased: < 0 is no room */
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
        lea(e, R15, R15, (int32_t)delta); /* lea keeps the sub's flags */
    int64_t target = (int64_t)c->entry + delta;
    if (target < 0 || target >= (int64_t)PAGE_SIZE) {
        jmp_to(e, c->j->dispatch);
        return;
    }
    if (!retired)
        op_rr(e, F_W, 0x85, R13, R13);
    jcc_to(e, CC_L, c->j->exit); /* r13 is biased: < 0 is no room */
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

static void cold_jcc(struct jc *c, struct cold *k, int cc);

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

/* rdx = the TLB entry of the set in tlb_reg for the address in rax, and
 * the flags of comparing its tag with the page of the access's last byte
 * (TLB_FAST_TAG): not equal is a miss. */
static void emit_tlb_lookup(struct emit *e, int tlb_reg, unsigned size)
{
    mov_rr32(e, RDX, RAX);
    shift_ri(e, 0, SH_SHR, RDX, PAGE_SHIFT - 4); /* (va >> 12) * 16 ... */
    alu_ri(e, 0, G_AND, RDX, (TLB_SIZE - 1) << 4);
    op_rr(e, F_W, 0x01, tlb_reg, RDX); /* add rdx, tlb */
    lea(e, RCX, RAX, (int32_t)size - 1);
    alu_ri(e, F_W, G_AND, RCX, (int32_t)PAGE_MASK);
    op_mem(e, F_W, 0x3b, RCX, RDX, (int32_t)offsetof(struct tlb_entry, tag));
}

/* rdx = the TLB entry that maps the access: a store's host address goes
 * to rax; a load's is rax + rdx (rdx = the entry's addend, loaded off the
 * guest's critical path, so the address is not an add longer on it). */
static void emit_host_address(struct emit *e, enum cold_kind kind)
{
    op_mem(e, F_W, kind == COLD_LOAD ? 0x8b : 0x03, kind == COLD_LOAD ? RDX : RAX, RDX,
           (int32_t)offsetof(struct tlb_entry, addend));
}

/* The TLB lookup of a load or store (rax = guest address, then host
 * address, for a load rax + rdx: emit_host_address).  The entry's position
 * in the TLB set is a function of the address, which puts two dependent
 * loads (entry, then data) on the guest's critical path; so each site
 * first tries the entry it used last (offset kept in j->guess, loaded
 * independently of the address) and checks its tag against the address as
 * the full lookup would.  A stale guess costs the full lookup (a cold
 * stub, which updates the guess); it can never select a wrong entry:
 * entries sit at the index of their tag, and an access whose first byte
 * is not on the page of its last (the tag) is sent to the full
 * lookup.  That check (a test of alignment would be one instruction fewer)
 * keeps misaligned accesses in a page on the main line: the Linux kernel
 * rates misaligned word access against byte access at boot (2.9 with them
 * in the cold stub, QEMU about 7). */
static struct cold *emit_tlb_check(struct jc *c, const struct dinsn *d, unsigned size, int tlb_reg,
                                   enum cold_kind kind, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    struct jit *j = c->j;
    _Static_assert(sizeof(struct tlb_entry) == 16 && TLB_SIZE == 256, "index math below");
    if (j->nguess < ARRAY_SIZE(j->guess)) {
        struct cold *g = add_cold(c, COLD_GUESS, NULL, d, off, idx);
        g->guess = &j->guess[j->nguess++];
        g->tlb_reg = tlb_reg;
        mov_ri(e, RDX, (uint64_t)(uintptr_t)g->guess);
        op_mem(e, 0, 0x8b, RDX, RDX, 0); /* mov edx, [slot] */
        op_rr(e, F_W, 0x01, tlb_reg, RDX);
        lea(e, RCX, RAX, (int32_t)size - 1);
        alu_ri(e, F_W, G_AND, RCX, (int32_t)PAGE_MASK);
        op_mem(e, F_W, 0x3b, RCX, RDX, (int32_t)offsetof(struct tlb_entry, tag));
        cold_jcc(c, g, CC_NE);
        if (size > 1) {                    /* the first byte on the page of the last (rcx) */
            op_rr(e, F_W, 0x33, RCX, RAX); /* xor rcx, rax */
            alu_ri(e, F_W, G_CMP, RCX, (int32_t)PAGE_SIZE - 1);
            cold_jcc(c, g, CC_A);
        }
        g->resume = e->p;
        emit_host_address(e, kind);
        g->miss = add_cold(c, kind, NULL, d, off, idx);
        return g->miss;
    }
    emit_tlb_lookup(e, tlb_reg, size);
    struct cold *k = add_cold(c, kind, jcc_fwd(e, CC_NE), d, off, idx);
    emit_host_address(e, kind);
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
    case OP_FLH:
    case OP_FSH:
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
    return op == OP_FLW || op == OP_FLD || op == OP_FSW || op == OP_FSD || op == OP_FLH ||
           op == OP_FSH;
}

/* Jumps to an illegal-instruction stub when mstatus.FS is Off. */
static void emit_fs_check(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    op_mem(&c->e, 0, 0xf7, 0, RBX, HOFF(arch.mstatus)); /* test dword [mstatus], FS */
    e32(&c->e, (uint32_t)MSTATUS_FS);
    add_cold(c, COLD_ILLEGAL, jcc_fwd(&c->e, CC_E), d, off, idx);
}

/* Writes a loaded value (rax) to its destination: the cache register
 * dst, or the FP register file. */
static void emit_load_result(struct emit *e, const struct dinsn *d, int dst)
{
    if (d->op == OP_FLW || d->op == OP_FLH) { /* NaN-boxing */
        mov_ri(e, RCX, d->op == OP_FLW ? 0xffffffff00000000ULL : 0xffffffffffff0000ULL);
        op_rr(e, F_W, 0x09, RCX, RAX);
    }
    if (is_fp_access(d->op))
        op_mem(e, F_W, 0x89, RAX, RBX, FOFF(d->rd));
    else
        mov_rr(e, cache_regs[dst], RAX);
}

/* opc reg, [rax + rdx]: a load from its host address (emit_host_address) */
static void load_host(struct emit *e, unsigned f, unsigned opc, int reg)
{
    prefix(e, f, reg, RAX, opc);
    e8(e, 0x04 | (unsigned)(reg & 7) << 3); /* mod 00, rm 100: SIB */
    e8(e, RDX << 3 | RAX);                  /* scale 1, index rdx, base rax */
}

/* Integer loads and stores keep dirty guest registers in host registers
 * on the main line: their cold stubs write them back before the slow path
 * can trap or call C (k->rc is the cache as it is at the jump).  FP ones
 * write back first, for the FS check's illegal-instruction stub. */
static void emit_load(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    if (is_fp_access(d->op)) {
        rc_writeback(e, &c->rc);
        emit_fs_check(c, d, off, idx);
    }
    emit_address(c, d);
    int dst = -1;
    /* The cache as the registers hold it at the TLB check: allocating rd
     * below changes only bookkeeping (and may store an evicted value). */
    struct regcache at_check = c->rc;
    if (!is_fp_access(d->op)) {
        dst = rc_slot(c, d->rd, false);
        c->rc.dirty[dst] = true;
    }
    struct cold *k = emit_tlb_check(c, d, access_size(d->op), R12, COLD_LOAD, off, idx);
    k->rc = at_check;
    k->dst = dst;
    /* Integer loads go straight into rd's cache register. */
    int to = dst >= 0 ? cache_regs[dst] : RAX;
    switch (d->op) {
    case OP_LB:
        load_host(e, F_W, 0x0fbe, to);
        break;
    case OP_LH:
        load_host(e, F_W, 0x0fbf, to);
        break;
    case OP_LW:
        load_host(e, F_W, 0x63, to);
        break;
    case OP_LD:
    case OP_FLD:
        load_host(e, F_W, 0x8b, to);
        break;
    case OP_LBU:
        load_host(e, 0, 0x0fb6, to);
        break;
    case OP_LHU:
    case OP_FLH:
        load_host(e, 0, 0x0fb7, to);
        break;
    case OP_LWU:
    case OP_FLW:
        load_host(e, 0, 0x8b, to);
        break;
    }
    if (is_fp_access(d->op))
        emit_load_result(e, d, dst);
    k->resume = e->p;
    if (is_fp_access(d->op)) {
        op_mem(e, 0, 0x81, G_OR, RBX, HOFF(arch.mstatus));
        e32(e, (uint32_t)MSTATUS_FS);
    }
}

static void emit_store(struct jc *c, const struct dinsn *d, unsigned off, unsigned idx)
{
    struct emit *e = &c->e;
    unsigned size = access_size(d->op);
    if (is_fp_access(d->op)) {
        rc_writeback(e, &c->rc);
        emit_fs_check(c, d, off, idx);
    }
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

/* h->arch.pc = the pc of the instruction at off (for slow paths that raise). */
static void emit_set_pc(struct jc *c, unsigned off)
{
    lea(&c->e, RCX, R15, (int32_t)off - (int32_t)c->entry);
    op_mem(&c->e, F_W, 0x89, RCX, RBX, HOFF(arch.pc));
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
    case COLD_GUESS: /* the full lookup; rax = guest address */
        emit_tlb_lookup(e, k->tlb_reg, access_size(d->op));
        cold_jcc(c, k->miss, CC_NE);
        mov_rr(e, RCX, RDX);
        op_rr(e, F_W, 0x29, k->tlb_reg, RCX); /* sub rcx, tlb: the entry's offset */
        op_rr(e, F_W, 0x87, RCX, RAX);        /* xchg: eax = offset */
        e8(e, 0xa3);                          /* mov [slot], eax */
        e64(e, (uint64_t)(uintptr_t)k->guess);
        op_rr(e, F_W, 0x87, RCX, RAX);
        jmp_to(e, k->resume);
        return;
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
        struct regcache wb = k->rc;
        rc_writeback(e, &wb);
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
        struct regcache wb = k->rc;
        rc_writeback(e, &wb); /* stores only: rax and the value stay */
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
    /* srliw by 1..31 clears bit 31: the 32-bit op's zero extension is
     * the sign extension */
    if (!(imm && ext == SH_SHR && (d->imm & 31)))
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

/* DIV[U][W] and REM[U][W] inline (no call, guest registers stay cached):
 * x86 div/idiv fault where RISC-V defines a result, so a zero divisor
 * (quotient all ones, remainder the dividend) and, signed, a divisor of
 * -1 (quotient -a, which wraps for the most negative a as RISC-V's
 * overflow case says; remainder 0) take short side paths. */
static void emit_div(struct jc *c, const struct dinsn *d)
{
    struct emit *e = &c->e;
    unsigned op = d->op;
    bool w = op >= OP_DIVW, sgn = op == OP_DIV || op == OP_REM || op == OP_DIVW || op == OP_REMW;
    bool rem = op == OP_REM || op == OP_REMU || op == OP_REMW || op == OP_REMUW;
    unsigned f = w ? 0 : F_W;
    int a = get(c, d->rs1), b = get(c, d->rs2);
    (w ? mov_rr32 : mov_rr)(e, RCX, b);
    (w ? mov_rr32 : mov_rr)(e, RAX, a);
    op_rr(e, f, 0x85, RCX, RCX); /* test rcx, rcx */
    uint8_t *zero = jcc_fwd(e, CC_E), *minus1 = NULL;
    if (sgn) {
        alu_ri(e, f, G_CMP, RCX, -1);
        minus1 = jcc_fwd(e, CC_E);
        if (!w)
            e8(e, 0x48);
        e8(e, 0x99);               /* cqo / cdq */
        op_rr(e, f, 0xf7, 7, RCX); /* idiv rcx */
    } else {
        op_rr(e, 0, 0x33, RDX, RDX); /* xor edx, edx */
        op_rr(e, f, 0xf7, 6, RCX);   /* div rcx */
    }
    uint8_t *done1 = jmp_fwd(e), *done2 = NULL;
    patch(zero, e->p);
    if (rem)
        mov_rr(e, RDX, RAX);
    else
        mov_ri(e, RAX, ~0ULL);
    if (sgn) {
        done2 = jmp_fwd(e);
        patch(minus1, e->p);
        if (rem)
            op_rr(e, 0, 0x33, RDX, RDX);
        else
            op_rr(e, f, 0xf7, 3, RAX); /* neg */
    }
    patch(done1, e->p);
    if (done2)
        patch(done2, e->p);
    int r = rem ? RDX : RAX;
    if (w)
        op_rr(e, F_W, 0x63, r, r); /* movsxd: W results are sign-extended */
    emit_result(c, d, r);
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
    op_mem(e, 0, 0xf7, 0, RBX, HOFF(arch.mstatus)); /* test dword [mstatus], FS */
    e32(e, (uint32_t)MSTATUS_FS);
    cold_jcc(c, k, CC_E);
    op_mem(e, 0, 0xf6, 0, RBX, HOFF(arch.fp.fflags)); /* test byte [fflags], NX */
    e8(e, FFLAG_NX);
    cold_jcc(c, k, CC_E);
    if (rm == RM_DYN) {
        op_mem(e, 0, 0x83, G_CMP, RBX, HOFF(arch.fp.frm));
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
    op_mem(e, 0, 0x81, G_OR, RBX, HOFF(arch.mstatus));
    e32(e, (uint32_t)MSTATUS_FS);
    k->resume = e->p;
    return true;
}

/* ---- Zba, Zbb, Zbc, Zbs, Zbkb, Zbkc, Zbkx, Zicond ---- */

static uint64_t (*const bm_fns[])(uint64_t, uint64_t) = {
#define BM_FN(name) [OP_##name - OP_SH1ADD] = bm_##name,
    DECODE_OPS_RR(BM_FN) DECODE_OPS_RI(BM_FN)
#undef BM_FN
};

static bool is_bm_op(unsigned op)
{
    return op >= OP_SH1ADD && op - OP_SH1ADD < sizeof(bm_fns) / sizeof(bm_fns[0]);
}

/* lzcnt, tzcnt (BMI1) and popcnt, asked of cpuid once: without them the
 * same encodings mean bsr/bsf (other results) or fault. */
static unsigned host_bitcount(void)
{
    static int have = -1;
    if (have < 0) {
        unsigned a, b, c2, d, v = 0;
        if (__get_cpuid(1, &a, &b, &c2, &d) && (c2 >> 23 & 1))
            v |= 1; /* popcnt */
        if (__get_cpuid(0x80000001, &a, &b, &c2, &d) && (c2 >> 5 & 1))
            v |= 2; /* lzcnt */
        if (__get_cpuid_count(7, 0, &a, &b, &c2, &d) && (b >> 3 & 1))
            v |= 4; /* tzcnt */
        have = (int)v;
    }
    return (unsigned)have;
}

/* The bit-manipulation ops simple enough to be a few host instructions,
 * computed in rax; false for the others (a call to bitmanip.h). */
static bool emit_bm_inline(struct jc *c, const struct dinsn *d)
{
    struct emit *e = &c->e;
    unsigned op = d->op;
    switch (op) {
    case OP_ANDN:
    case OP_ORN:
        mov_rr(e, RAX, get(c, d->rs2));
        op_rr(e, F_W, 0xf7, 2, RAX); /* not rax */
        op_rr(e, F_W, op == OP_ANDN ? 0x23 : 0x0b, RAX, get(c, d->rs1));
        break;
    case OP_XNOR:
        mov_rr(e, RAX, get(c, d->rs1));
        op_rr(e, F_W, 0x33, RAX, get(c, d->rs2));
        op_rr(e, F_W, 0xf7, 2, RAX);
        break;
    case OP_SH1ADD:
    case OP_SH2ADD:
    case OP_SH3ADD:
    case OP_ADD_UW:
    case OP_SH1ADD_UW:
    case OP_SH2ADD_UW:
    case OP_SH3ADD_UW: {
        static const uint8_t sh[] = {1, 2, 3, 0, 1, 2, 3};
        unsigned k = op - OP_SH1ADD;
        (k >= 3 ? mov_rr32 : mov_rr)(e, RAX, get(c, d->rs1));
        if (sh[k])
            shift_ri(e, F_W, SH_SHL, RAX, sh[k]);
        op_rr(e, F_W, 0x03, RAX, get(c, d->rs2));
        break;
    }
    case OP_SLLI_UW:
        mov_rr32(e, RAX, get(c, d->rs1));
        if (d->imm)
            shift_ri(e, F_W, SH_SHL, RAX, (unsigned)d->imm);
        break;
    case OP_MIN:
    case OP_MAX:
    case OP_MINU:
    case OP_MAXU: {
        /* take b when a > b (min) or a < b (max) */
        static const unsigned cc[] = {[OP_MIN - OP_MAX] = 15,
                                      [OP_MAX - OP_MAX] = CC_L,
                                      [OP_MINU - OP_MAX] = 7,
                                      [OP_MAXU - OP_MAX] = CC_B};
        int a = get(c, d->rs1), b = get(c, d->rs2);
        mov_rr(e, RAX, a);
        op_rr(e, F_W, 0x3b, RAX, b);
        op_rr(e, F_W, 0x0f40 | cc[op - OP_MAX], RAX, b); /* cmovcc rax, b */
        break;
    }
    case OP_SEXT_B:
        op_rr(e, F_W, 0x0fbe, RAX, get(c, d->rs1)); /* movsx rax, r8 (REX: sil/dil/bpl) */
        break;
    case OP_SEXT_H:
        op_rr(e, F_W, 0x0fbf, RAX, get(c, d->rs1));
        break;
    case OP_ZEXT_H:
        op_rr(e, 0, 0x0fb7, RAX, get(c, d->rs1));
        break;
    case OP_REV8:
        mov_rr(e, RAX, get(c, d->rs1));
        e8(e, 0x48);
        e8(e, 0x0f);
        e8(e, 0xc8); /* bswap rax */
        break;
    case OP_CZERO_EQZ:
    case OP_CZERO_NEZ: {
        int a = get(c, d->rs1), b = get(c, d->rs2);
        mov_rr(e, RAX, a);
        op_rr(e, 0, 0x33, RCX, RCX);
        op_rr(e, F_W, 0x85, b, b);
        op_rr(e, F_W, 0x0f40 | (op == OP_CZERO_EQZ ? CC_E : CC_NE), RAX, RCX);
        break;
    }
    case OP_ROL:
    case OP_ROR:
    case OP_ROLW:
    case OP_RORW: {
        bool w = op == OP_ROL || op == OP_ROR;
        mov_rr32(e, RCX, get(c, d->rs2));
        mov_rr(e, RAX, get(c, d->rs1));
        op_rr(e, w ? F_W : 0, 0xd3, op == OP_ROL || op == OP_ROLW ? 0 : 1, RAX);
        if (!w)
            op_rr(e, F_W, 0x63, RAX, RAX);
        break;
    }
    case OP_RORI:
    case OP_RORIW:
        mov_rr(e, RAX, get(c, d->rs1));
        if (d->imm)
            shift_ri(e, op == OP_RORI ? F_W : 0, 1, RAX, (unsigned)d->imm);
        if (op == OP_RORIW)
            op_rr(e, F_W, 0x63, RAX, RAX);
        break;
    case OP_BSET:
    case OP_BCLR:
    case OP_BINV: {
        unsigned opc = op == OP_BSET ? 0x0fab : op == OP_BCLR ? 0x0fb3 : 0x0fbb;
        int b = get(c, d->rs2);
        mov_rr(e, RAX, get(c, d->rs1));
        op_rr(e, F_W, opc, b, RAX); /* bts/btr/btc rax, b (bit index mod 64) */
        break;
    }
    case OP_BSETI:
    case OP_BCLRI:
    case OP_BINVI:
        mov_rr(e, RAX, get(c, d->rs1));
        op_rr(e, F_W, 0x0fba, op == OP_BSETI ? 5 : op == OP_BCLRI ? 6 : 7, RAX);
        e8(e, (unsigned)d->imm);
        break;
    case OP_BEXT:
        mov_rr32(e, RCX, get(c, d->rs2));
        mov_rr(e, RAX, get(c, d->rs1));
        op_rr(e, F_W, 0xd3, SH_SHR, RAX);
        alu_ri(e, 0, G_AND, RAX, 1);
        break;
    case OP_BEXTI:
        mov_rr(e, RAX, get(c, d->rs1));
        if (d->imm)
            shift_ri(e, F_W, SH_SHR, RAX, (unsigned)d->imm);
        alu_ri(e, 0, G_AND, RAX, 1);
        break;
    case OP_CPOP:
    case OP_CPOPW:
    case OP_CLZ:
    case OP_CLZW:
    case OP_CTZ:
    case OP_CTZW: {
        unsigned need = op <= OP_CLZW ? 2 : op <= OP_CTZW ? 4 : 1;
        unsigned opc = need == 1 ? 0x0fb8 : need == 2 ? 0x0fbd : 0x0fbc;
        bool w = op == OP_CPOP || op == OP_CLZ || op == OP_CTZ;
        if (!(host_bitcount() & need))
            return false;
        op_rr(e, F_F3 | (w ? F_W : 0), opc, RAX, get(c, d->rs1));
        break;
    }
    default:
        return false;
    }
    emit_result(c, d, RAX);
    return true;
}

static void emit_bm(struct jc *c, const struct dinsn *d)
{
    if (emit_bm_inline(c, d))
        return;
    rc_flush(c);
    ld_x(&c->e, RDI, d->rs1);
    if (d->op <= OP_SM4KS3) /* the register-register list ends there */
        ld_x(&c->e, RSI, d->rs2);
    else
        mov_ri(&c->e, RSI, (uint64_t)(int64_t)d->imm);
    call_abs(&c->e, (const void *)bm_fns[d->op - OP_SH1ADD]);
    emit_result(c, d, RAX);
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
    case OP_FENCE: /* store -> load order: mfence, when another hart can see it */
        if (atomic_load_explicit(&c->h->shared->nharts, memory_order_relaxed) > 1) {
            e8(e, 0x0f);
            e8(e, 0xae);
            e8(e, 0xf0);
        }
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
        if (off + (int64_t)d->imm == c->entry) {
            /* A loop's back edge: the taken path goes on in line to the
             * loop's body, so an iteration takes one host jump, not two
             * (out to a cold stub and back). */
            uint8_t *stay = jcc_fwd(e, cc[d->op - OP_BEQ] ^ 1);
            emit_loop_back(c, &c->rc, idx + 1);
            patch(stay, e->p);
            break;
        }
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
    case OP_FLH:
        emit_load(c, d, off, idx);
        break;
    case OP_SB:
    case OP_SH:
    case OP_SW:
    case OP_SD:
    case OP_FSW:
    case OP_FSD:
    case OP_FSH:
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
    case OP_AMOMAXU_D:
    case OP_CBO_ZERO:
    case OP_CBO_CLEAN:
    case OP_CBO_INVAL: {
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
        call_abs(e, csr ? (const void *)jit_csr : (const void *)jit_amo); /* amo: cbo.* too */
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
        if (d->imm == 0 && d->rs1 != 0 && (c->sext >> d->rs1 & 1)) { /* sext.w of a sext value */
            if (d->rd != d->rs1) {
                int a = get(c, d->rs1);
                mov_rr(e, def(c, d->rd), a);
            }
            break;
        }
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
    case OP_DIVU:
    case OP_REM:
    case OP_REMU:
    case OP_DIVW:
    case OP_DIVUW:
    case OP_REMW:
    case OP_REMUW:
        emit_div(c, d);
        break;
    default:
        if (!is_bm_op(d->op))
            return INSN_NO;
        emit_bm(c, d);
        break;
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

/* x[rd] = the ALU op d of the cached registers, computed in rax; false
 * (nothing emitted) for ops this does not handle. */
static bool emit_alu_rax(struct jc *c, const struct dinsn *d)
{
    struct emit *e = &c->e;
    static const struct {
        unsigned op, f, opc;
        int ext;
    } rr[] = {
        {OP_ADD, F_W, 0x03, -1},   {OP_SUB, F_W, 0x2b, -1},   {OP_AND, F_W, 0x23, -1},
        {OP_OR, F_W, 0x0b, -1},    {OP_XOR, F_W, 0x33, -1},   {OP_ADDW, 0, 0x03, -1},
        {OP_SUBW, 0, 0x2b, -1},    {OP_ADDI, F_W, 0, G_ADD},  {OP_ANDI, F_W, 0, G_AND},
        {OP_ORI, F_W, 0, G_OR},    {OP_XORI, F_W, 0, G_XOR},  {OP_ADDIW, 0, 0, G_ADD},
        {OP_SLLI, F_W, 1, SH_SHL}, {OP_SRLI, F_W, 1, SH_SHR}, {OP_SRAI, F_W, 1, SH_SAR},
    };
    if (d->op == OP_LUI) {
        mov_ri(e, RAX, (uint64_t)(int64_t)d->imm);
        return true;
    }
    if (d->op == OP_ADDI && d->rs1 != 0) { /* one lea, not a copy and an add */
        lea(e, RAX, get(c, d->rs1), d->imm);
        return true;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(rr); i++) {
        if (rr[i].op != d->op)
            continue;
        mov_rr(e, RAX, get(c, d->rs1));
        if (rr[i].ext < 0)
            op_rr(e, rr[i].f, rr[i].opc, RAX, get(c, d->rs2));
        else if (rr[i].opc == 1)
            shift_ri(e, F_W, rr[i].ext, RAX, (unsigned)d->imm);
        else
            alu_ri(e, rr[i].f, rr[i].ext, RAX, d->imm);
        sext32_in_place(e, rr[i].f, RAX);
        return true;
    }
    return false;
}

/* A conditional branch over exactly one ALU instruction (`if (c) x = y op
 * z`, which compilers emit for selects) becomes a cmov: no host branch to
 * mispredict.  Both instructions count as retired; when the branch is
 * taken, the skipped one is given back to the budget (r13), so the count
 * stays exact.  False (nothing emitted) if the pair does not qualify. */
static bool emit_branch_over(struct jc *c, const struct dinsn *d, const struct dinsn *d2)
{
    static const int cc[] = {CC_E, CC_NE, CC_L, CC_GE, CC_B, CC_AE};
    struct emit *e = &c->e;
    if (d->op < OP_BEQ || d->op > OP_BGEU || d->imm != (int32_t)(d->len + d2->len) || d2->rd == 0 ||
        d2->rd >= 32)
        return false;
    uint8_t *start = e->p;
    struct regcache rc0 = c->rc;
    uint32_t stamp0 = c->stamp;
    if (!emit_alu_rax(c, d2)) {
        e->p = start;
        c->rc = rc0;
        c->stamp = stamp0;
        return false;
    }
    /* rd keeps its old value when the branch is taken: load it. */
    int r = cache_regs[rc_slot(c, d2->rd, true)];
    int a = get(c, d->rs1), b = d->rs2 ? get(c, d->rs2) : -1;
    int t = cc[d->op - OP_BEQ];
    bool carry = true; /* the carry flag is "taken" (CC_B) or "not taken" (CC_AE) */
    if ((d->op == OP_BEQ || d->op == OP_BNE) && b < 0) {
        alu_ri(e, F_W, G_CMP, a, 1); /* carry: a == 0 */
        t = d->op == OP_BEQ ? CC_B : CC_AE;
    } else if ((d->op == OP_BLTU || d->op == OP_BGEU) && b < 0) {
        op_rr(e, F_W, 0x85, a, a); /* carry clear, as for cmp a, 0 */
    } else if (d->op == OP_BLTU || d->op == OP_BGEU) {
        op_rr(e, F_W, 0x3b, a, b);
    } else {
        carry = false;
    }
    if (carry) {
        /* The carry goes into the budget directly: no setcc. */
        op_rr(e, F_W, 0x0f40 | (unsigned)(t ^ 1), r, RAX); /* cmov(not taken) r, rax */
        if (t == CC_B)
            alu_ri(e, F_W, G_ADC, R13, 0); /* skipped: not retired */
        else
            alu_ri(e, F_W, G_SBB, R13, -1); /* + 1 - carry */
        c->rc.dirty[rc_slot(c, d2->rd, false)] = true;
        return true;
    }
    op_rr(e, 0, 0x33, RCX, RCX); /* xor ecx, ecx (before the flags) */
    if (b < 0)
        op_rr(e, F_W, 0x85, a, a);
    else
        op_rr(e, F_W, 0x3b, a, b);
    op_rr(e, F_W, 0x0f40 | (unsigned)(t ^ 1), r, RAX); /* cmov(not taken) r, rax */
    op_rr(e, F_BYTE, 0x0f90 | (unsigned)t, 0, RCX);    /* setcc cl: taken */
    op_rr(e, F_W, 0x03, R13, RCX);                     /* skipped: not retired */
    c->rc.dirty[rc_slot(c, d2->rd, false)] = true;
    return true;
}

/* `slli t, s, k` (k = 1..3) followed by `add t, t, u` (either order, u
 * not t): t = u + (s << k) in one lea, which shortens the dependency
 * chain (array indexing; 3 * x as (x << 1) + x).  False (nothing
 * emitted) if the pair does not qualify. */
static bool emit_shift_add(struct jc *c, const struct dinsn *d, const struct dinsn *d2)
{
    if (d->op != OP_SLLI || d->imm < 1 || d->imm > 3 || d->rd == 0 || d->rd >= 32 || d->rs1 == 0 ||
        d2->op != OP_ADD || d2->rd != d->rd)
        return false;
    unsigned u;
    if (d2->rs1 == d->rd && d2->rs2 != d->rd)
        u = d2->rs2;
    else if (d2->rs2 == d->rd && d2->rs1 != d->rd)
        u = d2->rs1;
    else
        return false;
    if (u == 0 || u >= 32)
        return false;
    /* Both sources were just used, so allocating t evicts neither; lea
     * reads them before it writes t (t may be s). */
    int s = get(c, d->rs1), b = get(c, u);
    lea_sib(&c->e, def(c, d2->rd), b, s, (unsigned)d->imm);
    return true;
}

/* Whether d, a plain ALU instruction that cannot trap, may be compiled
 * after a shift-add pair it sits in the middle of: it neither reads nor
 * writes t, and does not write s or u (guest order reads them before it). */
static bool commutes_with_shift_add(const struct dinsn *d, unsigned t, unsigned s, unsigned u)
{
    bool rr =
        d->op == OP_ADD || d->op == OP_SUB || d->op == OP_AND || d->op == OP_OR || d->op == OP_XOR;
    bool ri = d->op == OP_ADDI || d->op == OP_ANDI || d->op == OP_ORI || d->op == OP_XORI ||
              d->op == OP_SLLI || d->op == OP_SRLI || d->op == OP_SRAI;
    if (!rr && !ri)
        return false;
    if (d->rd >= 32 || d->rd == t || d->rd == s || d->rd == u || d->rs1 == t)
        return false;
    return !rr || d->rs2 != t;
}

/* After d in guest order: whether its rd is known to hold the sign
 * extension of its low 32 bits (c->sext).  Any other instruction forgets
 * its rd (an op that writes no integer register only loses knowledge). */
static void track_sext(struct jc *c, const struct dinsn *d)
{
    unsigned op = d->op;
    if (d->rd == 0 || d->rd >= 32)
        return;
    bool w = (op >= OP_ADDIW && op <= OP_SRAW) || (op >= OP_MULW && op <= OP_REMUW);
    bool narrow = op == OP_LB || op == OP_LH || op == OP_LW || op == OP_LBU || op == OP_LHU ||
                  op == OP_LUI || op == OP_SLT || op == OP_SLTU || op == OP_SLTI || op == OP_SLTIU;
    bool rr = op == OP_XOR || op == OP_OR || op == OP_AND;
    bool logic = (rr || op == OP_XORI || op == OP_ORI || op == OP_ANDI) && d->rs1 < 32 &&
                 (c->sext >> d->rs1 & 1) && (!rr || (d->rs2 < 32 && (c->sext >> d->rs2 & 1)));
    if (w || narrow || logic)
        c->sext |= 1u << d->rd;
    else
        c->sext &= ~(1u << d->rd);
}

/* The decoded instruction at off of the page being compiled (decoded now
 * if it was not; the original when the slot holds a compiled entry). */
static const struct dinsn *insn_at(struct jc *c, unsigned off)
{
    struct dinsn *slot = &c->dp->insn[off / 2];
    if (slot->hidx == OP_DECODE * 2)
        dcache_decode_slot(c->h, c->dp, off);
    return slot->hidx == JIT_HIDX ? jit_code_orig(jit_slot_code(slot)) : slot;
}

/* Marks the halfword slots [from, to) as covered by the block. */
static void cover_range(uint64_t *cover, unsigned from, unsigned to)
{
    for (unsigned s = from / 2; s < to / 2; s++)
        cover[s / 64] |= 1ULL << (s % 64);
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
    c->sext = 1;
    uint8_t *start = j->free;
    uint8_t *code = start + sizeof(struct dinsn);
    c->e.p = code;
    emit_loop_prologue(c);
    unsigned off = entry, n = 0;
    bool ended = false;
    uint64_t cover[DPAGE_SLOTS / 64] = {0};
    while (n < JIT_MAX_INSNS && off < PAGE_SIZE && c->e.p - start < BLOCK_CODE_MAX / 2 &&
           c->ncold + 3 <= ARRAY_SIZE(c->cold)) {
        const struct dinsn *d = insn_at(c, off);
        for (unsigned i = 0; i < c->ncold; i++) {
            struct cold *k = &c->cold[i];
            if (k->kind == COLD_BRANCH && !k->join && k->off + (int64_t)k->d->imm == off) {
                k->join = c->e.p;
                k->join_rc = c->rc;
                k->join_idx = n;
                c->sext = 1; /* the branch's path knows nothing */
            }
        }
        /* A shift and an add that make one lea. */
        if (d->op == OP_SLLI && n + 2 <= JIT_MAX_INSNS && off + d->len < PAGE_SIZE) {
            unsigned off2 = off + d->len;
            const struct dinsn *d2 = insn_at(c, off2);
            if (emit_shift_add(c, d, d2)) {
                track_sext(c, d);
                track_sext(c, d2);
                cover_range(cover, off, off2 + d2->len);
                n += 2;
                off = off2 + d2->len;
                continue;
            }
            /* One independent instruction between them (`slli t, x, 1;
             * andi b, x, 1; add t, t, x`): the pair first, then it. */
            unsigned off3 = off2 + d2->len;
            if (n + 3 <= JIT_MAX_INSNS && off3 < PAGE_SIZE && d2->op != OP_DECODE &&
                d2->op != OP_CROSS) {
                const struct dinsn *d3 = insn_at(c, off3);
                unsigned u = d3->rs1 == d->rd ? d3->rs2 : d3->rs1;
                if (d3->op == OP_ADD && commutes_with_shift_add(d2, d->rd, d->rs1, u) &&
                    emit_shift_add(c, d, d3)) {
                    compile_insn(c, d2, off2, n + 2); /* a plain ALU op: always compiled */
                    track_sext(c, d);
                    track_sext(c, d2);
                    track_sext(c, d3);
                    cover_range(cover, off, off3 + d3->len);
                    n += 3;
                    off = off3 + d3->len;
                    continue;
                }
            }
        }
        /* A branch over one ALU instruction in this page: a cmov. */
        if (d->op >= OP_BEQ && d->op <= OP_BGEU && n + 2 <= JIT_MAX_INSNS &&
            off + d->len < PAGE_SIZE && (d->imm == d->len + 2 || d->imm == d->len + 4)) {
            unsigned off2 = off + d->len;
            const struct dinsn *d2 = insn_at(c, off2);
            if (d2->op != OP_DECODE && d2->op != OP_CROSS && emit_branch_over(c, d, d2)) {
                if (d2->rd < 32)
                    c->sext &= ~(1u << d2->rd); /* written or not */
                cover_range(cover, off, off2 + d2->len);
                n += 2;
                off = off2 + d2->len;
                continue;
            }
        }
        int r = compile_insn(c, d, off, n);
        if (r == INSN_NO) {
            if (d->op != OP_CROSS && off + d->len < PAGE_SIZE)
                *next = off + d->len;
            break;
        }
        track_sext(c, d);
        cover_range(cover, off, off + d->len);
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
        dp->insn[off / 2].op == OP_CROSS && c->ncold + 5 <= ARRAY_SIZE(c->cold) &&
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

#else /* not x86-64: the interpreter runs everything */

void jit_compile(struct hart *h, struct dpage *dp, unsigned off, uint64_t vpage)
{
    (void)h;
    (void)dp;
    (void)off;
    (void)vpage;
}

#endif
