/* SPDX-License-Identifier: MIT */
/*
 * Instructions with enough work of their own that a call costs little:
 * the A extension, Zacas, Zicbom/Zicboz and the Zicsr instructions.  The
 * interpreter's handlers and the JIT's generated code (A, Zicsr) call
 * these, so there is one definition of their semantics.
 */
#include <string.h>

#include "cpu/alu.h"
#include "cpu/hart_internal.h"

#define AMO_SIMPLE(T, fn)                                                                          \
    do {                                                                                           \
        T *p = mem_atomic_ptr(h, h->arch.x[d->rs1], sizeof(T), false);                             \
        if (!p)                                                                                    \
            return false;                                                                          \
        T old = fn(p, src, __ATOMIC_SEQ_CST);                                                      \
        res_break(h->shared, p);                                                                   \
        h->arch.x[d->rd] = sizeof(T) == 4 ? SEXT32(old) : (uint64_t)old;                           \
        return true;                                                                               \
    } while (0)
#define AMO_CAS(T, ST, pick)                                                                       \
    do {                                                                                           \
        T *p = mem_atomic_ptr(h, h->arch.x[d->rs1], sizeof(T), false);                             \
        if (!p)                                                                                    \
            return false;                                                                          \
        T old = __atomic_load_n(p, __ATOMIC_RELAXED), nv;                                          \
        do {                                                                                       \
            nv = ((ST)old pick(ST) src) ? old : src;                                               \
        } while (                                                                                  \
            !__atomic_compare_exchange_n(p, &old, nv, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));  \
        res_break(h->shared, p);                                                                   \
        h->arch.x[d->rd] = sizeof(T) == 4 ? SEXT32(old) : (uint64_t)old;                           \
        return true;                                                                               \
    } while (0)

static bool amo_w(struct hart *h, const struct dinsn *d)
{
    uint32_t src = (uint32_t)h->arch.x[d->rs2];
    switch (d->op) {
    case OP_AMOSWAP_W:
        AMO_SIMPLE(uint32_t, __atomic_exchange_n);
    case OP_AMOADD_W:
        AMO_SIMPLE(uint32_t, __atomic_fetch_add);
    case OP_AMOXOR_W:
        AMO_SIMPLE(uint32_t, __atomic_fetch_xor);
    case OP_AMOAND_W:
        AMO_SIMPLE(uint32_t, __atomic_fetch_and);
    case OP_AMOOR_W:
        AMO_SIMPLE(uint32_t, __atomic_fetch_or);
    case OP_AMOMIN_W:
        AMO_CAS(uint32_t, int32_t, <);
    case OP_AMOMAX_W:
        AMO_CAS(uint32_t, int32_t, >);
    case OP_AMOMINU_W:
        AMO_CAS(uint32_t, uint32_t, <);
    default:
        AMO_CAS(uint32_t, uint32_t, >); /* AMOMAXU_W */
    }
}

static bool amo_d(struct hart *h, const struct dinsn *d)
{
    uint64_t src = h->arch.x[d->rs2];
    switch (d->op) {
    case OP_AMOSWAP_D:
        AMO_SIMPLE(uint64_t, __atomic_exchange_n);
    case OP_AMOADD_D:
        AMO_SIMPLE(uint64_t, __atomic_fetch_add);
    case OP_AMOXOR_D:
        AMO_SIMPLE(uint64_t, __atomic_fetch_xor);
    case OP_AMOAND_D:
        AMO_SIMPLE(uint64_t, __atomic_fetch_and);
    case OP_AMOOR_D:
        AMO_SIMPLE(uint64_t, __atomic_fetch_or);
    case OP_AMOMIN_D:
        AMO_CAS(uint64_t, int64_t, <);
    case OP_AMOMAX_D:
        AMO_CAS(uint64_t, int64_t, >);
    case OP_AMOMINU_D:
        AMO_CAS(uint64_t, uint64_t, <);
    default:
        AMO_CAS(uint64_t, uint64_t, >); /* AMOMAXU_D */
    }
}

#define LR(T)                                                                                      \
    do {                                                                                           \
        T *p = mem_atomic_ptr(h, h->arch.x[d->rs1], sizeof(T), true);                              \
        if (!p)                                                                                    \
            return false;                                                                          \
        if (atomic_load_explicit(&h->shared->nharts, memory_order_relaxed) > 1)                    \
            h->arch.res_seq = atomic_load_explicit(res_seq(h->shared, p), memory_order_acquire);   \
        T v = __atomic_load_n(p, __ATOMIC_SEQ_CST);                                                \
        h->arch.res_valid = true;                                                                  \
        h->arch.res_addr = (uint64_t)(uintptr_t)p;                                                 \
        h->arch.res_val = v;                                                                       \
        h->arch.x[d->rd] = sizeof(T) == 4 ? SEXT32(v) : (uint64_t)v;                               \
        return true;                                                                               \
    } while (0)
#define SC(T)                                                                                      \
    do {                                                                                           \
        T src = (T)h->arch.x[d->rs2];                                                              \
        T *p = mem_atomic_ptr(h, h->arch.x[d->rs1], sizeof(T), false);                             \
        if (!p)                                                                                    \
            return false;                                                                          \
        bool ok = false;                                                                           \
        if (h->arch.res_valid && h->arch.res_addr == (uint64_t)(uintptr_t)p) {                     \
            T expected = (T)h->arch.res_val;                                                       \
            if (atomic_load_explicit(&h->shared->nharts, memory_order_relaxed) > 1) {              \
                _Atomic uint64_t *seq = res_seq(h->shared, p);                                     \
                uint64_t s0 = h->arch.res_seq;                                                     \
                if (atomic_compare_exchange_strong(seq, &s0, s0 + 1)) {                            \
                    ok = __atomic_compare_exchange_n(p, &expected, src, false, __ATOMIC_SEQ_CST,   \
                                                     __ATOMIC_SEQ_CST);                            \
                    atomic_fetch_add(seq, 1);                                                      \
                }                                                                                  \
            } else {                                                                               \
                ok = __atomic_compare_exchange_n(p, &expected, src, false, __ATOMIC_SEQ_CST,       \
                                                 __ATOMIC_SEQ_CST);                                \
            }                                                                                      \
        }                                                                                          \
        h->arch.res_valid = false;                                                                 \
        h->arch.x[d->rd] = !ok;                                                                    \
        return true;                                                                               \
    } while (0)

bool cpu_amo(struct hart *h, const struct dinsn *d)
{
    switch (d->op) {
    case OP_LR_W:
        LR(uint32_t);
    case OP_SC_W:
        SC(uint32_t);
    case OP_LR_D:
        LR(uint64_t);
    case OP_SC_D:
        SC(uint64_t);
    default:
        return d->op < OP_LR_D ? amo_w(h, d) : amo_d(h, d);
    }
}

bool cpu_csr(struct hart *h, const struct dinsn *d)
{
    unsigned kind = (unsigned)(d->op - OP_CSRRW); /* RW, RS, RC, RWI, RSI, RCI */
    unsigned csr = (unsigned)d->imm & 0xfff;
    uint64_t src = kind >= 3 ? d->rs1 : h->arch.x[d->rs1];
    bool wr = kind % 3 == 0 || d->rs1 != 0;
    uint64_t old = 0;
    if (!csr_access_ok(h, csr, wr))
        goto illegal;
    if ((kind % 3 != 0 || d->rd != 32) && !csr_read(h, csr, &old))
        goto illegal;
    if (wr) {
        uint64_t base = csr_rmw_base(h, csr, old);
        uint64_t nv = kind % 3 == 0 ? src : kind % 3 == 1 ? (base | src) : (base & ~src);
        if (!csr_write(h, csr, nv))
            goto illegal;
        /* This instruction is still to be counted (SYNC_COUNTERS stops
         * before it), but a counter it writes must read back exactly
         * what was written at the next instruction. */
        if (csr == 0xb00 && !(h->arch.mcountinhibit & 1))
            h->arch.mcycle--;
        if (csr == 0xb02 && !(h->arch.mcountinhibit & 4))
            h->arch.minstret--;
    }
    h->arch.x[d->rd] = old;
    return true;
illegal:
    hart_raise(h, h->csr_virtual ? EXC_VIRTUAL_INSN : EXC_ILLEGAL, d->raw);
    h->csr_virtual = false;
    return false;
}

/* The exception a cbo.* whose enable is `bits` in the envcfg registers
 * raises at the current privilege, or 0 (CMO spec: M always; S needs
 * menvcfg; U needs menvcfg and senvcfg; with V=1 henvcfg too, whose
 * refusals, like senvcfg's for VU, are virtual-instruction exceptions). */
static unsigned cbo_fault(const struct hart *h, uint64_t bits)
{
    if (h->arch.priv == PRV_M)
        return 0;
    if (!(h->arch.menvcfg & bits))
        return EXC_ILLEGAL;
    if (h->arch.virt && !(h->arch.henvcfg & bits))
        return EXC_VIRTUAL_INSN;
    if (h->arch.priv == PRV_U && !(h->arch.senvcfg & bits))
        return h->arch.virt ? EXC_VIRTUAL_INSN : EXC_ILLEGAL;
    return 0;
}

bool cpu_cbo(struct hart *h, const struct dinsn *d)
{
    uint64_t bits = d->op == OP_CBO_ZERO    ? MENVCFG_CBZE
                    : d->op == OP_CBO_CLEAN ? MENVCFG_CBCFE
                                            : MENVCFG_CBIE;
    unsigned cause = cbo_fault(h, bits);
    if (cause) {
        hart_raise(h, cause, d->raw);
        return false;
    }
    if (d->op != OP_CBO_ZERO)
        return true; /* the host keeps guest memory coherent: nothing to write back */
    uint64_t va = h->arch.x[d->rs1];
    uint64_t base = va & ~(uint64_t)(CBO_BLOCK_SIZE - 1);
    /* Plain RAM without code (no flag bits in the tag) in the store TLB
     * takes the same fast path as a store would: a block never crosses a
     * page, and is one reservation granule (broken, as an SC's would be). */
    _Static_assert(CBO_BLOCK_SIZE == 64, "one reservation granule");
    struct tlb_entry *e = &h->tlb[ACC_STORE][h->ls_idx][(base >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (e->tag == (base & PAGE_MASK)) {
        memset((void *)(e->addend + base), 0, CBO_BLOCK_SIZE);
        res_break(h->shared, (void *)(e->addend + base));
        return true;
    }
    /* Else a one-byte store at rs1 first: a fault reports rs1 itself in
     * tval, as the spec asks, and writes nothing the zeroing would not;
     * it also fills the store TLB for the next time. */
    if (!mem_store_slow(h, va, 1, 0))
        return false;
    if (e->tag == (base & PAGE_MASK)) {
        memset((void *)(e->addend + base), 0, CBO_BLOCK_SIZE);
        res_break(h->shared, (void *)(e->addend + base));
        return true;
    }
    for (unsigned i = 0; i < CBO_BLOCK_SIZE; i += 8)
        if (!mem_store_slow(h, base + i, 8, 0))
            return false;
    return true;
}

/* 16 bytes compared and exchanged at once (cmpxchg16b, x86-64 hosts). */
static bool cas16(uint64_t *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
    bool ok;
    __asm__ volatile("lock cmpxchg16b %1"
                     : "=@ccz"(ok), "+m"(*(volatile unsigned __int128 *)p), "+a"(*lo), "+d"(*hi)
                     : "b"(nlo), "c"(nhi)
                     : "memory");
    return ok;
}

bool cpu_amocas(struct hart *h, const struct dinsn *d)
{
    uint64_t *x = h->arch.x;
    unsigned rd = (unsigned)d->imm; /* d->rd is the write sink when rd is x0 */
    if (d->op == OP_AMOCAS_Q) {
        uint64_t *p = mem_atomic_ptr(h, x[d->rs1], 16, false);
        if (!p)
            return false;
        uint64_t lo = rd ? x[rd] : 0, hi = rd ? x[rd + 1] : 0;
        uint64_t nlo = d->rs2 ? x[d->rs2] : 0, nhi = d->rs2 ? x[d->rs2 + 1] : 0;
        cas16(p, &lo, &hi, nlo, nhi);
        if (rd) {
            x[rd] = lo;
            x[rd + 1] = hi;
        }
        return true;
    }
    if (d->op == OP_AMOCAS_W) {
        uint32_t *p = mem_atomic_ptr(h, x[d->rs1], 4, false);
        if (!p)
            return false;
        uint32_t old = (uint32_t)x[rd];
        __atomic_compare_exchange_n(p, &old, (uint32_t)x[d->rs2], false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        x[d->rd] = SEXT32(old);
        return true;
    }
    uint64_t *p = mem_atomic_ptr(h, x[d->rs1], 8, false);
    if (!p)
        return false;
    uint64_t old = x[rd];
    __atomic_compare_exchange_n(p, &old, x[d->rs2], false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    x[d->rd] = old;
    return true;
}
