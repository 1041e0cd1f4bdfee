/* SPDX-License-Identifier: MIT */
/*
 * The block compiler's runtime (design in jit.h, register use in jit.c):
 * the code buffer, mapped W^X as two views of one memfd; the fixed stubs
 * (the entry trampoline from C, the dispatcher that chains blocks through
 * the fetch TLB, the exits); and the C slow paths generated code calls.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/jit.h"
#include "util/compiler.h"

#if defined(__x86_64__)

#include "cpu/jit_internal.h"

/* ---- the slow paths compiled code calls ---- */

/* kind: access size | 16 for sign extension */
uint64_t jit_load_slow(struct hart *h, uint64_t va, unsigned kind)
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
int jit_store_slow(struct hart *h, uint64_t va, uint64_t val, unsigned size)
{
    uint64_t inval = h->jit_inval;
    if (!mem_store_slow(h, va, size, val)) {
        h->jit_exc = true;
        return 1;
    }
    return h->jit_inval != inval ? 2 : 0;
}

void jit_illegal(struct hart *h, uint32_t raw)
{
    hart_raise(h, EXC_ILLEGAL, raw);
    h->jit_exc = true;
}

/* F/D computational instructions: 0 done, 1 trapped (illegal). */
int jit_fp(struct hart *h, uint32_t raw)
{
    bool ok = (h->arch.mstatus & MSTATUS_FS) && fpu_execute(&h->arch.fp, h->arch.x, raw);
    h->arch.x[0] = 0;
    if (!ok) {
        jit_illegal(h, raw);
        return 1;
    }
    h->arch.mstatus |= MSTATUS_FS;
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

/* AMOs, LR/SC and the Zicbom/Zicboz cbo.* instructions (Linux clears
 * pages with cbo.zero when the DT lists Zicboz; left to the interpreter,
 * each one ended the compiled block around it).  0: done; 1: trapped;
 * 2: done, but it wrote compiled code (an AMO, SC or cbo.zero into a code
 * page), so compiled code must leave. */
int jit_amo(struct hart *h, uint64_t lo, uint64_t hi)
{
    struct dinsn d = unpack(lo, hi);
    uint64_t inval = h->jit_inval;
    bool cbo = d.op >= OP_CBO_ZERO && d.op <= OP_CBO_INVAL;
    if (!(cbo ? cpu_cbo(h, &d) : cpu_amo(h, &d))) {
        h->jit_exc = true;
        return 1;
    }
    return h->jit_inval != inval ? 2 : 0;
}

/* 0: done; 1: trapped; 2: done, but privilege, translation or interrupt
 * state may have changed, so compiled code must leave.  (A new load/store
 * MMU index, as SUM and MPRV give, is no reason: the code reloads its TLB
 * set pointers after the call.) */
int jit_csr(struct hart *h, uint64_t lo, uint64_t hi)
{
    struct dinsn d = unpack(lo, hi);
    unsigned priv = h->arch.priv, fetch_idx = h->fetch_idx;
    if (!cpu_csr(h, &d)) {
        h->jit_exc = true;
        return 1;
    }
    if (h->arch.priv != priv || h->fetch_idx != fetch_idx ||
        ((unsigned)d.imm & 0xfff) == 0x180 /* satp */ ||
        atomic_load_explicit(&h->check, memory_order_relaxed))
        return 2;
    return 0;
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
    lea(&e, R13, RDX, -JIT_MAX_INSNS); /* biased: see jit.c */
    op_rr(&e, F_W, 0x89, RCX, R15);
    op_rr(&e, F_W, 0x89, R8, R12);
    op_rr(&e, F_W, 0x89, R9, R14);
    e8(&e, 0xff);
    e8(&e, 0xe6); /* jmp rsi */

    /* dispatch: r15 = next pc */
    j->dispatch = e.p;
    op_rr(&e, F_W, 0x85, R13, R13);
    uint8_t *f1 = jcc_fwd(&e, CC_L); /* less than a whole block left */
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

    /* exit: h->arch.pc = r15 */
    j->exit = e.p;
    patch(f1, j->exit);
    patch(f2, j->exit);
    patch(f3, j->exit);
    op_mem(&e, F_W, 0x89, R15, RBX, HOFF(arch.pc));
    j->epilogue = e.p;
    lea(&e, RAX, R13, JIT_MAX_INSNS);
    alu_ri(&e, F_W, G_ADD, RSP, 8);
    for (unsigned i = ARRAY_SIZE(saved); i-- > 0;) {
        if (saved[i] >= 8)
            e8(&e, 0x41);
        e8(&e, 0x58 + (unsigned)(saved[i] & 7));
    }
    e8(&e, 0xc3);
    j->blocks = (uint8_t *)(((uintptr_t)e.p + 63) & ~(uintptr_t)63);
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
    if (h->jit) {
        h->jit->free = h->jit->blocks;
        h->jit->nguess = 0;
    }
}

void jit_release(struct hart *h)
{
    struct jit *j = h->jit;
    if (!j)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)j->free + page - 1) & ~(page - 1);
    /* Shared memfd pages: MADV_REMOVE frees them for both views. */
    if (start < (uintptr_t)j->end)
        madvise((void *)start, (uintptr_t)j->end - start, MADV_REMOVE);
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
void jit_release(struct hart *h)
{
    (void)h;
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
