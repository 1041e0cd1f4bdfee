/* SPDX-License-Identifier: MIT */
/*
 * The block compiler against the interpreter.
 *
 * Every test runs the same code on two test machines from identical
 * state: one hart interprets (hart_set_jit(h, false, 0)), the other
 * compiles blocks the first time a jump reaches them (threshold 1).
 * Whatever the JIT does, the architectural state after each hart_step()
 * must be the interpreter's: x and f registers, fcsr, pc, privilege,
 * minstret/mcycle, trap CSRs, the LR reservation and memory.
 *
 * test_random_programs generates random RV64IMAFDC programs: bounded
 * (nested) loops, calls and returns (direct, indirect, RVC), forward
 * branches and jumps, loads and stores of every width around a page
 * boundary (misaligned too), F/D arithmetic and loads/stores, AMOs,
 * LR/SC and cbo.zero, CSR reads of the counters, edge values, division by zero and
 * overflow, stores that rewrite other instructions of the program, and
 * instructions that trap (access and page faults, illegal instructions,
 * ebreak/ecall: a handler skips them).  Programs run in M mode, or in S
 * or U mode under Sv39, and are stepped with budgets around the JIT's
 * limits (1, 63, 64, 65, 128...).  Reproduce a failure with
 * WIRT_JIT_TEST_SEED=<seed> WIRT_JIT_TEST_N=1 build/tests/unit/test_jit;
 * WIRT_JIT_TEST_N=<n> runs more programs, WIRT_JIT_TEST_VERBOSE=1 prints
 * what they did.
 *
 * The directed tests cover faults in the middle of compiled blocks,
 * self-modifying code (same block, other block, generated code), an
 * interrupt stopping a compiled loop, one code page at two virtual
 * addresses, MMIO in a compiled block, and instructions that straddle two
 * pages (rewritten, remapped, unmapped).
 *
 * One difference is allowed and is not architectural: how far a
 * hart_step() runs after it took a trap.  hart_step() counts traps
 * against the budget but checks that only on the interpreter's fetch
 * path; a compiled block's slot reached with under JIT_MAX_INSNS left is
 * interpreted from a copy (exec_handlers.h, LBL(JIT)), whose successor
 * goes through the fetch path, so the run can stop a few instructions
 * earlier than without the JIT.  The random test lets the hart behind
 * catch up in single steps, and then everything must match.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "cpu/jit.h"
#include "util/compiler.h"
#include "test_cpu_asm.h"

#define B TEST_RAM_BASE

/* ---- extra encoders (RV64I/M forms missing from test_cpu_asm.h, RVC) ---- */

#define R_OP(f7, f3, rd, a, b)  enc_r(f7, b, a, f3, rd, 0x33)
#define R_OPW(f7, f3, rd, a, b) enc_r(f7, b, a, f3, rd, 0x3b)
#define SLTI(rd, rs1, imm)      enc_i(imm, rs1, 2, rd, 0x13)
#define SLTIU(rd, rs1, imm)     enc_i(imm, rs1, 3, rd, 0x13)
#define XORI(rd, rs1, imm)      enc_i(imm, rs1, 4, rd, 0x13)
#define ANDI(rd, rs1, imm)      enc_i(imm, rs1, 7, rd, 0x13)
#define SLLIW(rd, rs1, sh)      enc_i(sh, rs1, 1, rd, 0x1b)
#define SRLIW(rd, rs1, sh)      enc_i(sh, rs1, 5, rd, 0x1b)
#define SRAIW(rd, rs1, sh)      enc_i(0x400 | (sh), rs1, 5, rd, 0x1b)
#define BGE(a, b, off)          enc_b(off, b, a, 5)
#define BLTU(a, b, off)         enc_b(off, b, a, 6)
#define CBO_ZERO(rs1)           enc_i(4, rs1, 2, 0, 0x0f)

static uint16_t c_ci(unsigned f3, int imm6, unsigned rd, unsigned op)
{
    unsigned u = (unsigned)imm6 & 63;
    return (uint16_t)(f3 << 13 | ((u >> 5) & 1) << 12 | rd << 7 | (u & 31) << 2 | op);
}
#define C_ADDI(rd, imm)  c_ci(0, imm, rd, 1)
#define C_ADDIW(rd, imm) c_ci(1, imm, rd, 1)
#define C_LI(rd, imm)    c_ci(2, imm, rd, 1)
#define C_LUI(rd, nz6)   c_ci(3, nz6, rd, 1) /* nz6 = imm[17:12] */
#define C_SLLI(rd, sh)   c_ci(0, sh, rd, 2)
static uint16_t c_cb_alu(unsigned f2, unsigned rdp, int imm6)
{
    unsigned u = (unsigned)imm6 & 63;
    return (uint16_t)(4u << 13 | ((u >> 5) & 1) << 12 | f2 << 10 | rdp << 7 | (u & 31) << 2 | 1);
}
#define C_SRLI(rdp, sh)  c_cb_alu(0, rdp, sh)
#define C_SRAI(rdp, sh)  c_cb_alu(1, rdp, sh)
#define C_ANDI(rdp, imm) c_cb_alu(2, rdp, imm)
/* C.SUB/XOR/OR/AND (w = 0, f2 0..3), C.SUBW/ADDW (w = 1, f2 0..1) */
static uint16_t c_alu(unsigned w, unsigned f2, unsigned rdp, unsigned rs2p)
{
    return (uint16_t)(4u << 13 | w << 12 | 3u << 10 | rdp << 7 | f2 << 5 | rs2p << 2 | 1);
}
#define C_MV(rd, rs2)  ((uint16_t)(4u << 13 | (rd) << 7 | (rs2) << 2 | 2))
#define C_ADD(rd, rs2) ((uint16_t)(4u << 13 | 1u << 12 | (rd) << 7 | (rs2) << 2 | 2))
#define C_JR(rs1)      ((uint16_t)(4u << 13 | (rs1) << 7 | 2))
#define C_JALR(rs1)    ((uint16_t)(4u << 13 | 1u << 12 | (rs1) << 7 | 2))
#define C_NOP          ((uint16_t)1)
static uint16_t C_LWSP(unsigned rd, unsigned u)
{
    return (uint16_t)(2u << 13 | ((u >> 5) & 1) << 12 | rd << 7 | ((u >> 2) & 7) << 4 |
                      ((u >> 6) & 3) << 2 | 2);
}
static uint16_t C_LDSP(unsigned rd, unsigned u)
{
    return (uint16_t)(3u << 13 | ((u >> 5) & 1) << 12 | rd << 7 | ((u >> 3) & 3) << 5 |
                      ((u >> 6) & 7) << 2 | 2);
}
static uint16_t C_SWSP(unsigned rs2, unsigned u)
{
    return (uint16_t)(6u << 13 | ((u >> 2) & 15) << 9 | ((u >> 6) & 3) << 7 | rs2 << 2 | 2);
}
static uint16_t C_SDSP(unsigned rs2, unsigned u)
{
    return (uint16_t)(7u << 13 | ((u >> 3) & 7) << 10 | ((u >> 6) & 7) << 7 | rs2 << 2 | 2);
}
/* C.LW / C.SW (f3 2 / 6) and C.LD / C.SD (f3 3 / 7) */
static uint16_t c_lsw(unsigned f3, unsigned rp, unsigned rs1p, unsigned u)
{
    return (uint16_t)(f3 << 13 | ((u >> 3) & 7) << 10 | rs1p << 7 | ((u >> 2) & 1) << 6 |
                      ((u >> 6) & 1) << 5 | rp << 2);
}
static uint16_t c_lsd(unsigned f3, unsigned rp, unsigned rs1p, unsigned u)
{
    return (uint16_t)(f3 << 13 | ((u >> 3) & 7) << 10 | rs1p << 7 | ((u >> 6) & 3) << 5 | rp << 2);
}
static uint16_t C_ADDI4SPN(unsigned rdp, unsigned u)
{
    return (uint16_t)(((u >> 4) & 3) << 11 | ((u >> 6) & 15) << 7 | ((u >> 2) & 1) << 6 |
                      ((u >> 3) & 1) << 5 | rdp << 2);
}
static uint16_t C_J(int32_t imm)
{
    unsigned u = (unsigned)imm;
    return (uint16_t)(5u << 13 | ((u >> 11) & 1) << 12 | ((u >> 4) & 1) << 11 |
                      ((u >> 8) & 3) << 9 | ((u >> 10) & 1) << 8 | ((u >> 6) & 1) << 7 |
                      ((u >> 7) & 1) << 6 | ((u >> 1) & 7) << 3 | ((u >> 5) & 1) << 2 | 1);
}
/* C.BEQZ (f3 6) / C.BNEZ (f3 7) */
static uint16_t c_bz(unsigned f3, unsigned rs1p, int32_t imm)
{
    unsigned u = (unsigned)imm;
    return (uint16_t)(f3 << 13 | ((u >> 8) & 1) << 12 | ((u >> 3) & 3) << 10 | rs1p << 7 |
                      ((u >> 6) & 3) << 5 | ((u >> 1) & 3) << 3 | ((u >> 5) & 1) << 2 | 1);
}

/* ---- a tiny assembler with forward/backward labels ---- */

enum fix_kind { FX_B, FX_J, FX_CB, FX_CJ, FX_AUIPC_ADDI };

struct fixup {
    uint32_t pos;
    enum fix_kind kind;
    unsigned label;
};

#define ASM_MAX    0x3000
#define MAX_LABELS 512
#define MAX_FIXUPS 1024

struct as {
    uint8_t buf[ASM_MAX];
    uint32_t len;
    int64_t label[MAX_LABELS];
    unsigned nlabels;
    struct fixup fix[MAX_FIXUPS];
    unsigned nfix;
    bool overflow;
};

static void as_init(struct as *a)
{
    a->len = 0;
    a->nlabels = 0;
    a->nfix = 0;
    a->overflow = false;
}

static void check_decodes(uint32_t insn)
{
    struct dinsn d;
    decode_insn(&d, insn);
    if (d.op == OP_ILLEGAL) {
        fprintf(stderr, "test encoder produced an illegal instruction %08x\n", insn);
        fail();
    }
}

static void as32(struct as *a, uint32_t insn)
{
    if (a->len + 4 > ASM_MAX) {
        a->overflow = true;
        return;
    }
    check_decodes(insn);
    memcpy(a->buf + a->len, &insn, 4);
    a->len += 4;
}
static void as16(struct as *a, uint16_t insn)
{
    if (a->len + 2 > ASM_MAX) {
        a->overflow = true;
        return;
    }
    check_decodes(insn);
    memcpy(a->buf + a->len, &insn, 2);
    a->len += 2;
}
static unsigned as_new_label(struct as *a)
{
    assert_true(a->nlabels < MAX_LABELS);
    a->label[a->nlabels] = -1;
    return a->nlabels++;
}
static void as_bind(struct as *a, unsigned l)
{
    a->label[l] = a->len;
}
static void as_fix(struct as *a, enum fix_kind k, unsigned l)
{
    assert_true(a->nfix < MAX_FIXUPS);
    a->fix[a->nfix++] = (struct fixup){a->len, k, l};
}
/* Branch/jump to a label: the instruction is emitted with offset 0 (an
 * encoding the decoder accepts), the offset is ORed in by as_finish. */
static void as_branch(struct as *a, uint32_t insn_off0, unsigned l)
{
    as_fix(a, FX_B, l);
    as32(a, insn_off0);
}
static void as_jal(struct as *a, unsigned rd, unsigned l)
{
    as_fix(a, FX_J, l);
    as32(a, JAL(rd, 0));
}
static void as_cbz(struct as *a, unsigned f3, unsigned rs1p, unsigned l)
{
    as_fix(a, FX_CB, l);
    as16(a, c_bz(f3, rs1p, 0));
}
static void as_cj(struct as *a, unsigned l)
{
    as_fix(a, FX_CJ, l);
    as16(a, C_J(0));
}
/* rd = address of label l (auipc + addi) */
static void as_la(struct as *a, unsigned rd, unsigned l)
{
    as_fix(a, FX_AUIPC_ADDI, l);
    as32(a, AUIPC(rd, 0));
    as32(a, ADDI(rd, rd, 0));
}

static void as_finish(struct as *a)
{
    for (unsigned i = 0; i < a->nfix; i++) {
        const struct fixup *f = &a->fix[i];
        if (f->pos + 4 > a->len && f->kind != FX_CB && f->kind != FX_CJ)
            continue; /* truncated by overflow */
        assert_true(a->label[f->label] >= 0);
        int32_t off = (int32_t)(a->label[f->label] - f->pos);
        uint8_t *p = a->buf + f->pos;
        uint32_t w;
        uint16_t hw;
        switch (f->kind) {
        case FX_B:
            assert_true(off >= -4096 && off < 4096);
            memcpy(&w, p, 4);
            w |= enc_b(off, 0, 0, 0);
            memcpy(p, &w, 4);
            break;
        case FX_J:
            memcpy(&w, p, 4);
            w |= enc_j(off, 0);
            memcpy(p, &w, 4);
            break;
        case FX_CB:
            assert_true(off >= -256 && off < 256);
            memcpy(&hw, p, 2);
            hw |= c_bz(0, 0, off);
            memcpy(p, &hw, 2);
            break;
        case FX_CJ:
            assert_true(off >= -2048 && off < 2048);
            memcpy(&hw, p, 2);
            hw |= C_J(off);
            memcpy(p, &hw, 2);
            break;
        case FX_AUIPC_ADDI: {
            int32_t lo = (int32_t)((uint32_t)off << 20) >> 20;
            int32_t hi = off - lo;
            memcpy(&w, p, 4);
            w |= (uint32_t)hi & 0xfffff000u;
            memcpy(p, &w, 4);
            memcpy(&w, p + 4, 4);
            w |= (uint32_t)lo << 20;
            memcpy(p + 4, &w, 4);
            break;
        }
        }
    }
}

/* ---- random numbers (splitmix64: reproducible from one seed) ---- */

struct rng {
    uint64_t s;
};
static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static unsigned rn(struct rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}
static int rrange(struct rng *r, int lo, int hi)
{
    return lo + (int)rn(r, (unsigned)(hi - lo + 1));
}

static const uint64_t edge_values[] = {
    0,
    1,
    2,
    3,
    UINT64_MAX,
    (uint64_t)INT64_MIN,
    (uint64_t)INT64_MAX,
    0x7fffffffULL,
    0x80000000ULL,
    0xffffffff80000000ULL,
    0xffffffffULL,
    0x100000000ULL,
    0xfffffffeULL,
    (uint64_t)-2,
    31,
    32,
    63,
    64,
    0x8000000000000001ULL,
    0x00000000ffff8000ULL,
};
static uint64_t rnd_value(struct rng *r)
{
    switch (rn(r, 4)) {
    case 0:
    case 1:
        return edge_values[rn(r, ARRAY_SIZE(edge_values))];
    case 2:
        return (uint64_t)(int64_t)(int32_t)rnd(r);
    default:
        return rnd(r);
    }
}

static const uint64_t fp_edge[] = {
    0x0000000000000000ULL, /* +0.0 */
    0x8000000000000000ULL, /* -0.0 */
    0x3ff0000000000000ULL, /* 1.0 */
    0xbff8000000000000ULL, /* -1.5 */
    0x7ff0000000000000ULL, /* +inf */
    0xfff0000000000000ULL, /* -inf */
    0x7ff8000000000000ULL, /* qNaN */
    0x7ff4000000000000ULL, /* sNaN */
    0x0000000000000001ULL, /* smallest subnormal */
    0x7fefffffffffffffULL, /* largest finite */
    0x43e0000000000000ULL, /* 2^63 */
    0xc3e0000000000000ULL, /* -2^63 */
    0x41dfffffffc00000ULL, /* 2^31 - 1 */
    0xffffffff3f800000ULL, /* boxed 1.0f */
    0xffffffff7fc00000ULL, /* boxed qNaN f */
    0xffffffff00000001ULL, /* boxed subnormal f */
    0xffffffff4f000000ULL, /* boxed 2^31 f */
    0x000000003f800000ULL, /* unboxed 1.0f: a NaN as single */
    0xffffffffff800000ULL, /* boxed -inf f */
    0x3fb999999999999aULL, /* 0.1 */
};

/* ---- the two machines ---- */

struct pair {
    struct test_machine *mi; /* interpreter */
    struct test_machine *mj; /* block compiler, threshold 1 */
};

static int setup_pair(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    p->mi = tm_new();
    p->mj = tm_new();
    *state = p;
    return 0;
}
static int teardown_pair(void **state)
{
    struct pair *p = *state;
    tm_free(p->mi);
    tm_free(p->mj);
    free(p);
    return 0;
}

/* Resets both harts to pc and sets the JIT modes (which also forgets the
 * hot counters, so that threshold 1 compiles on the first jump again). */
static void pair_reset(struct pair *p, uint64_t pc)
{
    hart_reset(p->mi->h, pc, 0, 0);
    test_pmp_open(p->mi->h);
    hart_reset(p->mj->h, pc, 0, 0);
    test_pmp_open(p->mj->h);
    hart_set_jit(p->mi->h, false, 0);
    hart_set_jit(p->mj->h, true, 1);
}

static bool jit_available(struct pair *p)
{
    return p->mj->h->jit != NULL;
}

/* Writes the same bytes into both machines' RAM (reported as DMA). */
static void pair_write(struct pair *p, uint64_t pa, const void *data, size_t len)
{
    memcpy(tm_ptr(p->mi, pa), data, len);
    bus_ram_written(&p->mi->bus, pa, len);
    memcpy(tm_ptr(p->mj, pa), data, len);
    bus_ram_written(&p->mj->bus, pa, len);
}
static void pair_code(struct pair *p, uint64_t pa, const uint32_t *insns, size_t n)
{
    pair_write(p, pa, insns, n * 4);
}
#define PAIR_CODE(p, pa, ...)                                                                      \
    do {                                                                                           \
        const uint32_t code_[] = {__VA_ARGS__};                                                    \
        pair_code(p, pa, code_, ARRAY_SIZE(code_));                                                \
    } while (0)
static void pair_w64(struct pair *p, uint64_t pa, uint64_t v)
{
    pair_write(p, pa, &v, 8);
}
static void pair_set_x(struct pair *p, unsigned r, uint64_t v)
{
    hart_set_x(p->mi->h, r, v);
    hart_set_x(p->mj->h, r, v);
}

/* Compares the architectural state; prints every difference under ctx. */
static bool same_state_q(struct pair *p, const char *ctx, bool quiet)
{
    const struct hart_arch *a = &p->mi->h->arch, *b = &p->mj->h->arch;
    bool ok = true;
#define CMP(what, x, y)                                                                            \
    do {                                                                                           \
        if ((x) != (y)) {                                                                          \
            if (!quiet)                                                                            \
                fprintf(stderr, "%s: %s: interpreter %#llx, jit %#llx\n", ctx, what,               \
                        (unsigned long long)(x), (unsigned long long)(y));                         \
            ok = false;                                                                            \
        }                                                                                          \
    } while (0)
    for (unsigned r = 0; r < 32; r++) {
        char name[8];
        snprintf(name, sizeof(name), "x%u", r);
        CMP(name, hart_get_x(p->mi->h, r), hart_get_x(p->mj->h, r));
    }
    CMP("pc", a->pc, b->pc);
    CMP("priv", a->priv, b->priv);
    CMP("minstret", a->minstret, b->minstret);
    CMP("mcycle", a->mcycle, b->mcycle);
    CMP("mcause", a->mcause, b->mcause);
    CMP("mepc", a->mepc, b->mepc);
    CMP("mtval", a->mtval, b->mtval);
    CMP("scause", a->scause, b->scause);
    CMP("sepc", a->sepc, b->sepc);
    CMP("stval", a->stval, b->stval);
    CMP("mstatus", a->mstatus, b->mstatus);
    CMP("wfi", a->wfi, b->wfi);
    CMP("mscratch", a->mscratch, b->mscratch);
    CMP("sscratch", a->sscratch, b->sscratch);
    CMP("satp", a->satp, b->satp);
    CMP("res_valid", a->res_valid, b->res_valid);
    /* a host address (LR/SC): compare its offset into RAM */
    CMP("res_addr", a->res_valid ? a->res_addr - (uintptr_t)p->mi->bus.ram : 0,
        b->res_valid ? b->res_addr - (uintptr_t)p->mj->bus.ram : 0);
    CMP("res_val", a->res_valid ? a->res_val : 0, b->res_valid ? b->res_val : 0);
    for (unsigned r = 0; r < 32; r++) {
        char name[8];
        snprintf(name, sizeof(name), "f%u", r);
        CMP(name, a->fp.f[r], b->fp.f[r]);
    }
    CMP("fflags", a->fp.fflags, b->fp.fflags);
    CMP("frm", a->fp.frm, b->fp.frm);
#undef CMP
    return ok;
}
static bool same_state(struct pair *p, const char *ctx)
{
    return same_state_q(p, ctx, false);
}

static bool same_mem(struct pair *p, uint64_t pa, size_t len, const char *ctx)
{
    const uint8_t *a = tm_ptr(p->mi, pa), *b = tm_ptr(p->mj, pa);
    if (memcmp(a, b, len) == 0)
        return true;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i]) {
            fprintf(stderr, "%s: memory at %#llx: interpreter %02x, jit %02x\n", ctx,
                    (unsigned long long)(pa + i), a[i], b[i]);
            break;
        }
    return false;
}

/* Steps both harts by budget; false (after printing) on any difference. */
static uint64_t last_ret[2]; /* what the last pair_step's hart_step()s returned */

static bool pair_step_q(struct pair *p, uint64_t budget, const char *ctx, bool quiet)
{
    uint64_t ni = hart_step(p->mi->h, budget);
    uint64_t nj = hart_step(p->mj->h, budget);
    last_ret[0] = ni;
    last_ret[1] = nj;
    bool ok = same_state_q(p, ctx, quiet);
    if (ni != nj && !quiet) {
        fprintf(stderr, "%s: hart_step(%llu) returned %llu (interpreter) and %llu (jit)\n", ctx,
                (unsigned long long)budget, (unsigned long long)ni, (unsigned long long)nj);
    }
    return ok && ni == nj;
}
static bool pair_step(struct pair *p, uint64_t budget, const char *ctx)
{
    return pair_step_q(p, budget, ctx, false);
}

/* ---- Sv39 ---- */

#define PTE_V   (1ULL << 0)
#define PTE_R   (1ULL << 1)
#define PTE_W   (1ULL << 2)
#define PTE_X   (1ULL << 3)
#define PTE_A   (1ULL << 6)
#define PTE_D   (1ULL << 7)
#define PT_ROOT (B + 0x100000)

/* Maps a 4 KiB page in both machines (tables from a bump allocator). */
static void map4k(struct pair *p, uint64_t *next_table, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t table = PT_ROOT;
    for (int lvl = 2; lvl > 0; lvl--) {
        uint64_t slot = table + ((va >> (12 + 9 * lvl)) & 511) * 8;
        uint64_t e = tm_r64(p->mi, slot);
        if (!(e & PTE_V)) {
            uint64_t t = *next_table;
            *next_table += 4096;
            static const uint8_t zero[4096];
            pair_write(p, t, zero, sizeof(zero));
            e = ((t >> 12) << 10) | PTE_V;
            pair_w64(p, slot, e);
        }
        table = (e >> 10) << 12;
    }
    pair_w64(p, table + ((va >> 12) & 511) * 8, ((pa >> 12) << 10) | flags);
}

/* Page tables at PT_ROOT; both harts go to S-mode at pc with Sv39. */
static uint64_t sv39_begin(struct pair *p)
{
    static const uint8_t zero[4096];
    pair_write(p, PT_ROOT, zero, sizeof(zero));
    return PT_ROOT + 4096;
}
static void sv39_enter(struct pair *p, uint64_t pc)
{
    struct hart *hs[2] = {p->mi->h, p->mj->h};
    for (unsigned i = 0; i < 2; i++) {
        struct hart *h = hs[i];
        h->arch.satp = ((uint64_t)SATP_MODE_SV39 << 60) | (PT_ROOT >> 12);
        h->arch.priv = PRV_S;
        h->arch.pc = pc;
        hart_update_mmu_idx(h);
        tlb_flush_all(h);
    }
}

/* ---- random programs ---- */

/* Memory map of a random program (physical, M-mode, no translation). */
#define RP_HANDLER     (B + 0xf000)  /* mtvec: skips the instruction that trapped... */
#define RP_HANDLER_END (B + 0xf020)  /* ...except ecall from S/U: wfi here, the end */
#define RP_CODE        (B + 0x10000) /* three pages of code */
#define RP_DATA        (B + 0x20000) /* three pages of data */
#define RP_DATA_SZ     0x3000
#define RP_SP          (RP_DATA + 0x1000)        /* x2: on the data pages' boundary */
#define RP_S0          (RP_DATA + 0x1000 - 0x80) /* x8: C.LD/C.SD base, crossing it too */

/* Reserved registers: x1 (ra), x2 (sp, data base), x8 (s0, data base for
 * RVC), x29 (address temporary), x30 and x31 (loop counters).  Random
 * instructions write only these: */
static const unsigned dest_regs[] = {0,  3,  4,  5,  6,  7,  9,  10, 11, 12, 13, 14, 15,
                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
/* RVC 3-bit registers a random instruction may write (x9..x15). */
#define RVC_DEST() (1 + rn(r, 7))

struct gen {
    struct as *a;
    struct rng *r;
    unsigned funcs[8]; /* labels of leaf functions */
    unsigned nfuncs;
    unsigned depth; /* loop nesting */
    bool fp_on;     /* mstatus.FS != Off: RVC FP loads/stores cannot trap */
    bool traps;     /* may generate instructions that trap */
    bool plain;     /* only instructions every block compiler version compiles */
    unsigned priv;  /* the privilege the program runs at (S and U: under Sv39) */
    /* Self-modifying code: sites are single ALU instructions that stores
     * elsewhere in the program (before or after them, maybe in the same
     * block) replace with other ALU instructions of the same length. */
    unsigned site[8];
    unsigned site_len[8];
    bool site_bound[8];
    unsigned nsites;
};

static unsigned rd_any(struct rng *r)
{
    return dest_regs[rn(r, ARRAY_SIZE(dest_regs))];
}
static unsigned rs_any(struct rng *r)
{
    return rn(r, 4) == 0 ? rn(r, 32) : rd_any(r);
}

/* A random Zba/Zbb/Zbc/Zbs/Zbkb/Zbkx/Zicond/Zk* instruction (the reserved
 * encodings next to them are rv64b.S's: the test assembler refuses them). */
static uint32_t gen_bitmanip(struct rng *r, unsigned rd, unsigned x, unsigned y)
{
    static const unsigned rr[][3] = {
        {0x10, 2, 0x33}, {0x10, 4, 0x33}, {0x10, 6, 0x33}, {0x04, 0, 0x3b}, {0x10, 2, 0x3b},
        {0x10, 4, 0x3b}, {0x10, 6, 0x3b}, {0x20, 7, 0x33}, {0x20, 6, 0x33}, {0x20, 4, 0x33},
        {0x05, 4, 0x33}, {0x05, 5, 0x33}, {0x05, 6, 0x33}, {0x05, 7, 0x33}, {0x30, 1, 0x33},
        {0x30, 5, 0x33}, {0x30, 1, 0x3b}, {0x30, 5, 0x3b}, {0x05, 1, 0x33}, {0x05, 2, 0x33},
        {0x05, 3, 0x33}, {0x24, 1, 0x33}, {0x24, 5, 0x33}, {0x34, 1, 0x33}, {0x14, 1, 0x33},
        {0x04, 4, 0x33}, {0x04, 7, 0x33}, {0x04, 4, 0x3b}, {0x14, 2, 0x33}, {0x14, 4, 0x33},
        {0x07, 5, 0x33}, {0x07, 7, 0x33}, {0x19, 0, 0x33}, {0x1b, 0, 0x33}, {0x1d, 0, 0x33},
        {0x1f, 0, 0x33}, {0x3f, 0, 0x33}, {0x18, 0, 0x33}, {0x38, 0, 0x33}, {0x58, 0, 0x33},
        {0x78, 0, 0x33}, {0x1a, 0, 0x33}, {0x3a, 0, 0x33}, {0x5a, 0, 0x33}, {0x7a, 0, 0x33}};
    /* imm12 (unary) or imm12 base | shamt, funct3, opcode, shamt bits */
    static const unsigned ri[][4] = {
        {0x600, 1, 0x13, 0}, {0x601, 1, 0x13, 0}, {0x602, 1, 0x13, 0}, {0x604, 1, 0x13, 0},
        {0x605, 1, 0x13, 0}, {0x600, 1, 0x1b, 0}, {0x601, 1, 0x1b, 0}, {0x602, 1, 0x1b, 0},
        {0x287, 5, 0x13, 0}, {0x6b8, 5, 0x13, 0}, {0x687, 5, 0x13, 0}, {0x080, 4, 0x3b, 0},
        {0x080, 1, 0x1b, 6}, {0x600, 5, 0x13, 6}, {0x600, 5, 0x1b, 5}, {0x480, 1, 0x13, 6},
        {0x480, 5, 0x13, 6}, {0x680, 1, 0x13, 6}, {0x280, 1, 0x13, 6}, {0x100, 1, 0x13, 0},
        {0x103, 1, 0x13, 0}, {0x104, 1, 0x13, 0}, {0x107, 1, 0x13, 0}, {0x108, 1, 0x13, 0},
        {0x109, 1, 0x13, 0}, {0x300, 1, 0x13, 0}, {0x310, 1, 0x13, 3}};
    if (rn(r, 2)) {
        unsigned i = rn(r, ARRAY_SIZE(rr));
        return enc_r(rr[i][0], y, x, rr[i][1], rd, rr[i][2]);
    }
    unsigned i = rn(r, ARRAY_SIZE(ri));
    unsigned imm = ri[i][0];
    if (ri[i][3])
        imm |= rn(r, imm == 0x310 ? 11 : 1u << ri[i][3]); /* aes64ks1i: rnum 0..10 */
    if (ri[i][2] == 0x3b)                                 /* zext.h: packw with rs2 = 0 */
        return enc_r(0x04, 0, x, 4, rd, 0x3b);
    return enc_i((int32_t)imm, x, ri[i][1], rd, ri[i][2]);
}

static void gen_alu(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned rd = rd_any(r), x = rs_any(r), y = rs_any(r);
    static const unsigned rr[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4},
                                     {0, 5}, {0x20, 5}, {0, 6}, {0, 7}, {1, 0}, {1, 1},
                                     {1, 2}, {1, 3},    {1, 4}, {1, 5}, {1, 6}, {1, 7}};
    static const unsigned rw[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 5}, {0x20, 5},
                                     {1, 0}, {1, 4},    {1, 5}, {1, 6}, {1, 7}};
    switch (rn(r, 11)) {
    case 9:
    case 10:
        as32(a, gen_bitmanip(r, rd, x, y));
        break;
    case 0:
    case 1: {
        unsigned i = rn(r, ARRAY_SIZE(rr));
        as32(a, R_OP(rr[i][0], rr[i][1], rd, x, y));
        break;
    }
    case 2: {
        unsigned i = rn(r, ARRAY_SIZE(rw));
        as32(a, R_OPW(rw[i][0], rw[i][1], rd, x, y));
        break;
    }
    case 3: {
        int imm = rn(r, 3) == 0 ? rrange(r, -2048, 2047) : rrange(r, -8, 8);
        switch (rn(r, 7)) {
        case 0:
            as32(a, ADDI(rd, x, imm));
            break;
        case 1:
            as32(a, SLTI(rd, x, imm));
            break;
        case 2:
            as32(a, SLTIU(rd, x, imm));
            break;
        case 3:
            as32(a, XORI(rd, x, imm));
            break;
        case 4:
            as32(a, ORI(rd, x, imm));
            break;
        case 5:
            as32(a, ANDI(rd, x, imm));
            break;
        default:
            as32(a, ADDIW(rd, x, imm));
            break;
        }
        break;
    }
    case 4: {
        unsigned sh = rn(r, 3) == 0 ? (rn(r, 2) ? 0 : 63) : rn(r, 64);
        switch (rn(r, 6)) {
        case 0:
            as32(a, SLLI(rd, x, sh));
            break;
        case 1:
            as32(a, SRLI(rd, x, sh));
            break;
        case 2:
            as32(a, SRAI(rd, x, sh));
            break;
        case 3:
            as32(a, SLLIW(rd, x, sh & 31));
            break;
        case 4:
            as32(a, SRLIW(rd, x, sh & 31));
            break;
        default:
            as32(a, SRAIW(rd, x, sh & 31));
            break;
        }
        break;
    }
    case 5:
        as32(a, rn(r, 2) ? LUI(rd, (int32_t)rnd(r)) : AUIPC(rd, (int32_t)rnd(r)));
        break;
    case 6: {
        /* Division overflow and by zero, on purpose. */
        unsigned t = rd_any(r), u = rd_any(r);
        if (!t || !u)
            break;
        as32(a, ADDI(t, 0, rn(r, 2) ? -1 : 0));
        if (rn(r, 2)) {
            as32(a, ADDI(u, 0, -1));
            as32(a, SLLI(u, u, 63));
        } else {
            as32(a, LUI(u, (int32_t)0x80000000));
        }
        static const unsigned ops[][3] = {{1, 4, 0x33}, {1, 5, 0x33}, {1, 6, 0x33}, {1, 7, 0x33},
                                          {1, 4, 0x3b}, {1, 5, 0x3b}, {1, 6, 0x3b}, {1, 7, 0x3b}};
        unsigned i = rn(r, ARRAY_SIZE(ops));
        as32(a, enc_r(ops[i][0], t, u, ops[i][1], rd, ops[i][2]));
        break;
    }
    default: {
        /* An edge value in a register (addi + shifts), then an op on it. */
        unsigned t = rd_any(r);
        if (!t)
            break;
        as32(a, ADDI(t, 0, rrange(r, -2, 1)));
        if (rn(r, 2))
            as32(a, SLLI(t, t, rrange(r, 30, 63)));
        else
            as32(a, SRLI(t, t, rrange(r, 1, 33)));
        unsigned i = rn(r, ARRAY_SIZE(rr));
        as32(a, R_OP(rr[i][0], rr[i][1], rd, rn(r, 2) ? t : x, rn(r, 2) ? t : y));
        break;
    }
    }
}

static void gen_rvc(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned rd = rd_any(r), x = rs_any(r);
    unsigned rdp = RVC_DEST(), rsp = rn(r, 8);
    switch (rn(r, 16)) {
    case 0:
        if (rd) {
            int imm = rrange(r, -32, 31);
            as16(a, C_ADDI(rd, imm ? imm : 1));
        }
        break;
    case 1:
        if (rd)
            as16(a, C_ADDIW(rd, rrange(r, -32, 31)));
        break;
    case 2:
        if (rd)
            as16(a, C_LI(rd, rrange(r, -32, 31)));
        break;
    case 3:
        if (rd) {
            int nz = rrange(r, -32, 31);
            as16(a, C_LUI(rd, nz ? nz : 1));
        }
        break;
    case 4:
        if (rd)
            as16(a, C_SLLI(rd, rrange(r, 1, 63)));
        break;
    case 5:
        as16(a, C_SRLI(rdp, rrange(r, 1, 63)));
        break;
    case 6:
        as16(a, C_SRAI(rdp, rrange(r, 1, 63)));
        break;
    case 7:
        as16(a, C_ANDI(rdp, rrange(r, -32, 31)));
        break;
    case 8:
        as16(a, c_alu(0, rn(r, 4), rdp, rsp));
        break;
    case 9:
        as16(a, c_alu(1, rn(r, 2), rdp, rsp));
        break;
    case 10:
        if (rd && x)
            as16(a, C_MV(rd, x));
        break;
    case 11:
        if (rd && x)
            as16(a, C_ADD(rd, x));
        break;
    case 12:
        as16(a, C_ADDI4SPN(rdp, 4 * (unsigned)rrange(r, 1, 255)));
        break;
    case 13:
        as16(a, C_NOP);
        break;
    case 14: /* loads: sp-based and x8-based */
        switch (rn(r, 4)) {
        case 0:
            if (rd)
                as16(a, C_LWSP(rd, 4 * rn(r, 64)));
            break;
        case 1:
            if (rd)
                as16(a, C_LDSP(rd, 8 * rn(r, 64)));
            break;
        case 2:
            as16(a, c_lsw(2, rdp, 0, 4 * rn(r, 32)));
            break;
        default:
            as16(a, c_lsd(3, rdp, 0, 8 * rn(r, 32)));
            break;
        }
        break;
    default: /* stores */
        switch (rn(r, 4)) {
        case 0:
            as16(a, C_SWSP(rs_any(r), 4 * rn(r, 64)));
            break;
        case 1:
            as16(a, C_SDSP(rs_any(r), 8 * rn(r, 64)));
            break;
        case 2:
            as16(a, c_lsw(6, rsp, 0, 4 * rn(r, 32)));
            break;
        default:
            as16(a, c_lsd(7, rsp, 0, 8 * rn(r, 32)));
            break;
        }
        break;
    }
}

static void gen_mem(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned base = 2;
    if (rn(r, 2)) {
        /* x29 = sp + (some register & 0x7ff): any alignment */
        as32(a, ANDI(29, rs_any(r), 0x7ff));
        as32(a, ADD(29, 29, 2));
        base = 29;
    }
    int off;
    switch (rn(r, 3)) {
    case 0:
        off = rrange(r, -16, 16); /* around the page boundary at sp */
        break;
    case 1:
        off = 8 * rrange(r, -20, 20);
        break;
    default:
        off = rrange(r, -2048, 2047);
        break;
    }
    if (rn(r, 2)) {
        static const unsigned f3[] = {0, 1, 2, 3, 4, 5, 6};
        as32(a, enc_i(off, base, f3[rn(r, 7)], rd_any(r), 0x03));
    } else {
        as32(a, enc_s(off, rs_any(r), base, rn(r, 4), 0x23));
    }
}

/* x29 = sp + (random register & mask): an address in the data area */
static void gen_addr29(struct gen *g, int mask)
{
    as32(g->a, ANDI(29, rs_any(g->r), mask));
    as32(g->a, ADD(29, 29, 2));
}

/* F/D/Zfh: loads and stores (also RVC), arithmetic, moves and conversions
 * between the register files, fused multiply-adds; Zfa's additions. */
static void gen_fp(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned fd = rn(r, 32), f1 = rn(r, 32), f2 = rn(r, 32), f3 = rn(r, 32);
    static const unsigned rms[] = {0, 1, 2, 3, 4, 7, 7, 7};
    unsigned rm = rn(r, 64) || !g->traps ? rms[rn(r, ARRAY_SIZE(rms))] : 5; /* 5: illegal */
    unsigned dbl = rn(r, 3); /* the fmt field: S, D or H */
    switch (rn(r, 13)) {
    case 0: { /* FLW/FLD/FSW/FSD off sp or x29, any alignment */
        int off = rn(r, 2) ? rrange(r, -16, 16) : rrange(r, -2048, 2047);
        unsigned base = 2;
        if (rn(r, 2)) {
            gen_addr29(g, 0x7ff);
            base = 29;
        }
        if (rn(r, 2))
            as32(a, enc_i(off, base, dbl == 2 ? 1 : dbl ? 3 : 2, fd, 0x07));
        else
            as32(a, enc_s(off, f1, base, dbl == 2 ? 1 : dbl ? 3 : 2, 0x27));
        break;
    }
    case 1: /* C.FLD/C.FSD/C.FLDSP/C.FSDSP: only where they cannot trap */
        if (!g->fp_on)
            break;
        switch (rn(r, 4)) {
        case 0:
            as16(a, c_lsd(1, rn(r, 8), 0, 8 * rn(r, 32)));
            break;
        case 1:
            as16(a, c_lsd(5, rn(r, 8), 0, 8 * rn(r, 32)));
            break;
        case 2:
            as16(a, (uint16_t)(C_LDSP(fd, 8 * rn(r, 64)) & ~(2u << 13))); /* f3 3 -> 1 */
            break;
        default:
            as16(a, (uint16_t)(C_SDSP(f1, 8 * rn(r, 64)) & ~(2u << 13))); /* f3 7 -> 5 */
            break;
        }
        break;
    case 2:
    case 3: { /* FADD/FSUB/FMUL/FDIV/FMIN/FMAX/FSGNJ* */
        static const unsigned f5[] = {0x00, 0x01, 0x02, 0x03};
        switch (rn(r, 3)) {
        case 0:
            as32(a, enc_r(f5[rn(r, 4)] << 2 | dbl, f2, f1, rm, fd, 0x53));
            break;
        case 1:
            as32(a, enc_r(0x05 << 2 | dbl, f2, f1, rn(r, 2), fd, 0x53)); /* FMIN/FMAX */
            break;
        default:
            as32(a, enc_r(0x04 << 2 | dbl, f2, f1, rn(r, 3), fd, 0x53)); /* FSGNJ/N/X */
            break;
        }
        break;
    }
    case 4: /* FSQRT, FCVT.S.D / FCVT.D.S */
        if (rn(r, 2))
            as32(a, enc_r(0x0b << 2 | dbl, 0, f1, rm, fd, 0x53));
        else /* FCVT between S, D and H (rs2 = the source fmt) */
            as32(a, enc_r(0x08 << 2 | dbl, (dbl + 1 + rn(r, 2)) % 3, f1, rm, fd, 0x53));
        break;
    case 5: /* FMADD/FMSUB/FNMSUB/FNMADD */
        as32(a, (f3 << 27) | enc_r(dbl, f2, f1, rm, fd, 0x43 + 4 * rn(r, 4)));
        break;
    case 6: /* FEQ/FLT/FLE, FCLASS, FMV.X.W/D -> x */
        if (rn(r, 2))
            as32(a, enc_r(0x14 << 2 | dbl, f2, f1, rn(r, 3), rd_any(r), 0x53));
        else
            as32(a, enc_r(0x1c << 2 | dbl, 0, f1, rn(r, 2), rd_any(r), 0x53));
        break;
    case 7: /* FCVT.W/WU/L/LU.S/D -> x */
        as32(a, enc_r(0x18 << 2 | dbl, rn(r, 4), f1, rm, rd_any(r), 0x53));
        break;
    case 8: /* FCVT.S/D.W/WU/L/LU <- x */
        as32(a, enc_r(0x1a << 2 | dbl, rn(r, 4), rs_any(r), rm, fd, 0x53));
        break;
    case 9: /* FMV.W/D.X <- x */
        as32(a, enc_r(0x1e << 2 | dbl, 0, rs_any(r), 0, fd, 0x53));
        break;
    case 11: /* Zfa: FLI, FMINM/FMAXM, FROUND[NX], FCVTMOD.W.D, FLEQ/FLTQ */
        switch (rn(r, 5)) {
        case 0:
            as32(a, enc_r(0x1e << 2 | dbl, 1, rn(r, 32), 0, fd, 0x53));
            break;
        case 1:
            as32(a, enc_r(0x05 << 2 | dbl, f2, f1, 2 + rn(r, 2), fd, 0x53));
            break;
        case 2:
            as32(a, enc_r(0x08 << 2 | dbl, 4 + rn(r, 2), f1, rm, fd, 0x53));
            break;
        case 3:
            as32(a, enc_r(0x18 << 2 | 1, 8, f1, 1, rd_any(r), 0x53));
            break;
        default:
            as32(a, enc_r(0x14 << 2 | dbl, f2, f1, 4 + rn(r, 2), rd_any(r), 0x53));
            break;
        }
        break;
    case 10: /* fflags, frm, fcsr */
        switch (rn(r, 3)) {
        case 0:
            as32(a, CSRRS(rd_any(r), 1 + rn(r, 3), 0));
            break;
        case 1:
            as32(a, CSRRWI(rd_any(r), 2, rn(r, 5)));
            break;
        default:
            as32(a, CSRRW(rd_any(r), 1, rs_any(r)));
            break;
        }
        break;
    default: /* an edge value into an FP register */
        as32(a, enc_r(0x1e << 2 | 1, 0, rs_any(r), 0, fd, 0x53));
        break;
    }
}

/* AMOs and LR/SC on the data area, sometimes misaligned (which traps). */
static void gen_amo(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned dbl = rn(r, 2);
    bool misaligned = g->traps && rn(r, 16) == 0;
    gen_addr29(g, misaligned ? 0x7ff : dbl ? 0x7f8 : 0x7fc);
    static const unsigned f5[] = {0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c};
    unsigned f3 = dbl ? 3 : 2;
    if (rn(r, 8) == 0) {
        as32(a, CBO_ZERO(29)); /* the data area's 64-byte block around x29 */
        return;
    }
    if (rn(r, 3)) {
        as32(a, AMO(f5[rn(r, ARRAY_SIZE(f5))], f3, rd_any(r), 29, rs_any(r)));
        return;
    }
    as32(a, AMO(0x02, f3, rd_any(r), 29, 0)); /* LR */
    unsigned k = rn(r, 3);
    for (unsigned i = 0; i < k; i++)
        gen_alu(g);                                   /* x29 is not theirs to write */
    as32(a, AMO(0x03, f3, rd_any(r), 29, rs_any(r))); /* SC */
}

/* Instructions the handler at RP_HANDLER skips after their trap (all 4
 * bytes long), and ones that end compiled blocks. */
static void gen_system(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    switch (g->traps ? rn(r, 8) : 3 + rn(r, 5)) {
    case 0: /* access fault: nothing at 0..2 KiB or at the top of memory */
        if (rn(r, 2))
            as32(a, enc_i(rrange(r, -2048, 2047), 0, rn(r, 7), rd_any(r), 0x03));
        else
            as32(a, enc_s(rrange(r, -2048, 2047), rs_any(r), 0, rn(r, 4), 0x23));
        break;
    case 1: /* under Sv39, ecall ends the program (see RP_HANDLER) */
        as32(a, rn(r, 2) && g->priv == PRV_M ? ECALL : EBREAK);
        break;
    case 2: {
        /* illegal instructions: all-ones, a reserved rounding mode; not
         * through as32, which rejects them */
        uint32_t bad = rn(r, 2) ? 0xffffffffu : enc_r(0, 1, 2, 5, 3, 0x53);
        if (a->len + 4 <= ASM_MAX) {
            memcpy(a->buf + a->len, &bad, 4);
            a->len += 4;
        }
        break;
    }
    case 3: { /* counters, read mid-block: instret must be exact */
        static const unsigned m[] = {0xb02, 0xb00, 0xc02, 0xc00, 0x340},
                              s[] = {0xc02, 0xc00, 0x140};
        const unsigned *csrs = g->priv == PRV_M ? m : s;
        unsigned n = g->priv == PRV_M ? 5 : g->priv == PRV_S ? 3 : 2;
        as32(a, CSRRS(rd_any(r), csrs[rn(r, n)], 0));
        break;
    }
    case 4: /* mscratch / sscratch */
        if (g->priv == PRV_U)
            as32(a, CSRRS(rd_any(r), 0xc02, 0));
        else
            as32(a, CSRRW(rd_any(r), g->priv == PRV_M ? 0x340 : 0x140, rs_any(r)));
        break;
    case 5:
        as32(a, FENCE_I);
        break;
    case 6:
        as32(a, 0x0ff0000fu); /* fence iorw, iorw */
        break;
    default:
        if (g->priv == PRV_M)
            as32(a, CSRRS(rd_any(r), rn(r, 2) ? 0x300 : 0xf14, 0)); /* mstatus, mhartid */
        else if (g->priv == PRV_S)
            as32(a, CSRRS(rd_any(r), rn(r, 2) ? 0x100 : 0x104, 0)); /* sstatus, sie */
        else
            as32(a, CSRRS(rd_any(r), 0xc00, 0));
        break;
    }
}

/* A random ALU instruction of len bytes writing only dest_regs. */
static uint32_t site_insn(struct rng *r, unsigned len)
{
    unsigned rd = rd_any(r), x = rs_any(r), y = rs_any(r);
    if (len == 2) {
        if (!rd)
            rd = 5;
        switch (rn(r, 4)) {
        case 0:
            return C_LI(rd, rrange(r, -32, 31));
        case 1:
            return C_ADDI(rd, rrange(r, 1, 31));
        case 2:
            return x ? C_MV(rd, x) : C_NOP;
        default:
            return x ? C_ADD(rd, x) : C_SLLI(rd, 1);
        }
    }
    switch (rn(r, 4)) {
    case 0:
        return ADDI(rd, x, rrange(r, -2048, 2047));
    case 1:
        return R_OP(rn(r, 2) ? 0x20 : 0, 0, rd, x, y); /* add/sub */
    case 2:
        return R_OP(1, 0, rd, x, y); /* mul */
    default:
        return XORI(rd, x, rrange(r, -2048, 2047));
    }
}

static void gen_site(struct gen *g, unsigned i)
{
    as_bind(g->a, g->site[i]);
    g->site_bound[i] = true;
    if (g->site_len[i] == 2)
        as16(g->a, (uint16_t)site_insn(g->r, 2));
    else
        as32(g->a, site_insn(g->r, 4));
}

/* Binds a site here, or stores a new instruction over one. */
static void gen_smc(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    if (!g->nsites)
        return;
    unsigned i = rn(r, g->nsites);
    if (!g->site_bound[i] && rn(r, 2)) {
        gen_site(g, i);
        return;
    }
    unsigned t = rd_any(r);
    if (!t)
        t = 28;
    uint32_t enc = site_insn(r, g->site_len[i]);
    uint32_t hi = (enc + 0x800) & 0xfffff000u;
    as32(a, LUI(t, (int32_t)hi));
    as32(a, ADDIW(t, t, (int32_t)(enc - hi)));
    as_la(a, 29, g->site[i]);
    if (g->site_len[i] == 2)
        as32(a, SH(t, 29, 0));
    else if (rn(r, 4))
        as32(a, SW(t, 29, 0));
    else {
        /* in two halves: the instruction is torn in between */
        as32(a, SH(t, 29, 0));
        as32(a, SRLI(t, t, 16));
        as32(a, SH(t, 29, 2));
    }
}

static void gen_simple(struct gen *g)
{
    if (g->nsites && !g->plain && rn(g->r, 24) == 0) {
        gen_smc(g);
        return;
    }
    switch (rn(g->r, g->plain ? 19 : 24)) {
    case 0 ... 7:
        gen_alu(g);
        break;
    case 8 ... 13:
        gen_rvc(g);
        break;
    case 14 ... 18:
        gen_mem(g);
        break;
    case 19:
    case 20:
        gen_fp(g);
        break;
    case 21:
        gen_amo(g);
        break;
    default:
        gen_system(g);
        break;
    }
}

/* Straight-line code, maybe with forward branches over parts of it. */
static void gen_straight(struct gen *g, unsigned n)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    for (unsigned i = 0; i < n; i++) {
        if (rn(r, 8) == 0) {
            unsigned skip = as_new_label(a);
            switch (rn(r, 5)) {
            case 0:
                as_cbz(a, rn(r, 2) ? 6 : 7, rn(r, 8), skip);
                break;
            case 1:
                as_cj(a, skip);
                break;
            case 2:
                as_jal(a, 0, skip);
                break;
            default: {
                static const unsigned f3[] = {0, 1, 4, 5, 6, 7};
                as_branch(a, enc_b(0, rs_any(r), rs_any(r), f3[rn(r, 6)]), skip);
                break;
            }
            }
            unsigned k = rn(r, 6);
            for (unsigned j = 0; j < k; j++)
                gen_simple(g);
            as_bind(a, skip);
        } else {
            gen_simple(g);
        }
    }
}

static void gen_call(struct gen *g)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    if (!g->nfuncs)
        return;
    unsigned f = g->funcs[rn(r, g->nfuncs)];
    if (rn(r, 3)) {
        as_jal(a, 1, f);
    } else {
        as_la(a, 29, f);
        if (rn(r, 2))
            as16(a, C_JALR(29));
        else
            as32(a, JALR(1, 29, 0));
    }
}

static void gen_block(struct gen *g, unsigned budget);

/* A loop run 1..12 times by a counter nobody else writes. */
static void gen_loop(struct gen *g, unsigned budget)
{
    struct rng *r = g->r;
    struct as *a = g->a;
    unsigned cnt = g->depth == 0 ? 31 : 30;
    as32(a, ADDI(cnt, 0, rrange(r, 1, 12)));
    unsigned top = as_new_label(a);
    as_bind(a, top);
    g->depth++;
    gen_block(g, budget);
    g->depth--;
    if (rn(r, 2))
        as16(a, C_ADDI(cnt, -1));
    else
        as32(a, ADDI(cnt, cnt, -1));
    switch (rn(r, 3)) {
    case 0:
        as_branch(a, BNE(cnt, 0, 0), top);
        break;
    case 1:
        as_branch(a, BLT(0, cnt, 0), top);
        break;
    default:
        as_branch(a, BLTU(0, cnt, 0), top);
        break;
    }
}

static void gen_block(struct gen *g, unsigned budget)
{
    struct rng *r = g->r;
    unsigned parts = 1 + rn(r, 4);
    for (unsigned i = 0; i < parts && !g->a->overflow; i++) {
        switch (rn(r, 5)) {
        case 0:
            if (g->depth < 2 && budget > 4) {
                gen_loop(g, budget / 2);
                break;
            }
            /* fall through */
        case 1:
            gen_call(g);
            /* fall through */
        default:
            gen_straight(g, 1 + rn(r, budget));
            break;
        case 4:
            if (rn(r, 3) == 0) {
                /* long blocks: JIT_MAX_INSNS and the budget checks
                 * before chaining into a whole block matter */
                g->plain = true;
                gen_straight(g, 30 + rn(r, 80));
                g->plain = false;
            } else {
                gen_straight(g, 1 + rn(r, budget));
            }
            break;
        }
    }
}

struct program {
    struct as a;
    bool fp_on;
    uint64_t code_pa; /* where a.buf goes */
    uint64_t entry;
    uint64_t done_pc; /* pc after the final wfi */
    unsigned priv;
};

static void gen_program(struct program *pg, uint64_t seed)
{
    struct rng r = {seed};
    struct as *a = &pg->a;
    as_init(a);
    /* A third of the programs cannot trap: they are compared after every
     * step, however it ends (see run_program). */
    struct gen g = {.a = a, .r = &r, .traps = rn(&r, 3) != 0};
    g.fp_on = !g.traps || rn(&r, 5) != 0;
    static const unsigned privs[] = {PRV_M, PRV_M, PRV_S, PRV_U};
    g.priv = pg->priv = privs[rn(&r, 4)];
    pg->fp_on = g.fp_on;
    if (rn(&r, 2)) {
        g.nsites = 1 + rn(&r, 8);
        for (unsigned i = 0; i < g.nsites; i++) {
            g.site[i] = as_new_label(a);
            g.site_len[i] = rn(&r, 3) ? 4 : 2;
        }
    }
    /* Functions first or last; the program starts anywhere in the first
     * page, so that code often crosses into the next page (an instruction
     * may straddle it). */
    unsigned start = 2 * rn(&r, 0x800);
    pg->code_pa = RP_CODE + start;
    g.nfuncs = 1 + rn(&r, 4);
    for (unsigned i = 0; i < g.nfuncs; i++)
        g.funcs[i] = as_new_label(a);
    unsigned main_l = as_new_label(a);
    bool funcs_first = rn(&r, 2);
    if (!funcs_first)
        as_jal(a, 0, main_l);
    for (unsigned pass = 0; pass < 2; pass++) {
        if ((pass == 0) == funcs_first) {
            unsigned n = g.nfuncs;
            g.nfuncs = 0; /* leaf functions: no calls inside */
            for (unsigned i = 0; i < n; i++) {
                if (a->len & 2 && rn(&r, 2))
                    as16(a, C_NOP);
                as_bind(a, g.funcs[i]);
                gen_straight(&g, 1 + rn(&r, 20));
                if (rn(&r, 2))
                    as16(a, C_JR(1));
                else
                    as32(a, JALR(0, 1, 0));
            }
            g.nfuncs = n;
        } else {
            as_bind(a, main_l);
            unsigned n = 2 + rn(&r, 6);
            for (unsigned i = 0; i < n && !a->overflow; i++)
                gen_block(&g, 24);
            for (unsigned i = 0; i < g.nsites; i++)
                if (!g.site_bound[i])
                    gen_site(&g, i);
            if (g.priv == PRV_M) {
                pg->done_pc = pg->code_pa + a->len + 4;
                as32(a, WFI);
            } else {
                pg->done_pc = RP_HANDLER_END + 4;
                as32(a, ECALL);
            }
        }
    }
    assert_false(a->overflow);
    as_finish(a);
    pg->entry = funcs_first ? pg->code_pa + (uint64_t)a->label[main_l] : pg->code_pa;
}

static void install_program(struct pair *p, const struct program *pg, uint64_t seed)
{
    static uint8_t zero[0x3000];
    pair_write(p, RP_CODE, zero, sizeof(zero));
    pair_write(p, pg->code_pa, pg->a.buf, pg->a.len);
    /* The trap handler skips the (4-byte) instruction that trapped, but
     * an ecall from S or U (mcause 8, 9) is the end of the program. */
    PAIR_CODE(p, RP_HANDLER, CSRRS(29, 0x342, 0), ADDI(29, 29, -8), SLTIU(29, 29, 2),
              BNE(29, 0, RP_HANDLER_END - RP_HANDLER - 12), CSRRS(29, 0x341, 0), ADDI(29, 29, 4),
              CSRRW(0, 0x341, 29), MRET, WFI);
    struct rng r = {seed ^ 0xda7a};
    uint8_t data[RP_DATA_SZ];
    for (size_t i = 0; i < sizeof(data); i += 8) {
        uint64_t v = rnd_value(&r);
        memcpy(data + i, &v, 8);
    }
    pair_write(p, RP_DATA, data, sizeof(data));
    pair_reset(p, pg->entry);
    /* mostly threshold 1; sometimes blocks compiled after a few passes */
    static const unsigned thresholds[] = {1, 1, 1, 1, 2, 3, 16};
    hart_set_jit(p->mj->h, true, thresholds[rn(&r, ARRAY_SIZE(thresholds))]);
    for (unsigned reg = 3; reg < 32; reg++)
        pair_set_x(p, reg, rnd_value(&r));
    pair_set_x(p, 2, RP_SP);
    pair_set_x(p, 8, RP_S0);
    struct hart *hs[2] = {p->mi->h, p->mj->h};
    uint64_t f[32];
    for (unsigned i = 0; i < 32; i++)
        f[i] = rn(&r, 2) ? fp_edge[rn(&r, ARRAY_SIZE(fp_edge))] : rnd_value(&r);
    uint32_t frm = rn(&r, 5), fflags = rn(&r, 32);
    for (unsigned i = 0; i < 2; i++) {
        hs[i]->arch.mtvec = RP_HANDLER;
        if (pg->fp_on)
            hs[i]->arch.mstatus |= 1ULL << MSTATUS_FS_SHIFT; /* Initial */
        memcpy(hs[i]->arch.fp.f, f, sizeof(f));
        hs[i]->arch.mcounteren = hs[i]->arch.scounteren = 7;
        hs[i]->arch.fp.frm = frm;
        hs[i]->arch.fp.fflags = fflags;
    }
    if (pg->priv == PRV_M)
        return;
    /* S or U under Sv39: code and data mapped 1:1 (the last data page
     * read-only), nothing at low addresses (x0-based accesses fault) */
    uint64_t nt = sv39_begin(p);
    uint64_t u = pg->priv == PRV_U ? 1ULL << 4 : 0;
    for (uint64_t off = 0; off < 0x3000; off += 0x1000) {
        map4k(p, &nt, RP_CODE + off, RP_CODE + off,
              PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | u);
        uint64_t w = off < 0x2000 ? PTE_W | PTE_D : 0;
        map4k(p, &nt, RP_DATA + off, RP_DATA + off, PTE_V | PTE_R | PTE_A | w | u);
    }
    sv39_enter(p, pg->entry);
    for (unsigned i = 0; i < 2; i++) {
        hs[i]->arch.priv = pg->priv;
        hart_update_mmu_idx(hs[i]);
    }
}

/* Budgets around the JIT's limits: it enters a block only with at least
 * JIT_MAX_INSNS left and chains only while another whole block fits. */
static const uint64_t budgets[] = {1,   2,   7,   63,  64,   65,    66,     100,
                                   127, 128, 129, 191, 1000, 10000, 1000000};

static uint64_t pick_budget(struct rng *r)
{
    if (rn(r, 4) == 0)
        return budgets[rn(r, 4)]; /* below JIT_MAX_INSNS: interpreted */
    return budgets[4 + rn(r, ARRAY_SIZE(budgets) - 4)];
}

static unsigned loose_runs; /* steps after which one hart had to catch up */

/* Progress: instructions retired, then traps taken. */
static bool behind(const struct hart *a, const struct hart *b)
{
    return a->arch.minstret < b->arch.minstret ||
           (a->arch.minstret == b->arch.minstret && a->stats.exceptions < b->stats.exceptions);
}

/* Steps the hart that is behind by single instructions (or traps) until
 * both have done the same; true if they then agree. */
static bool catch_up(struct pair *p)
{
    for (unsigned n = 0; n < 256; n++) {
        struct hart *a = p->mi->h, *b = p->mj->h;
        if (behind(a, b))
            hart_step(a, 1);
        else if (behind(b, a))
            hart_step(b, 1);
        else
            return same_state_q(p, "", true);
    }
    return false;
}

/* Runs one program to its wfi on both harts; false on a difference. */
static bool run_program(struct pair *p, uint64_t seed, bool *reached_end)
{
    static struct program pg;
    gen_program(&pg, seed);
    install_program(p, &pg, seed);
    struct rng r = {seed ^ 0xb0d6e7};
    /* one large step, one budget throughout, or a new one each step */
    unsigned mode = rn(&r, 3);
    uint64_t fixed = pick_budget(&r);
    char ctx[96];
    unsigned step;
    for (step = 0; step < 1000000; step++) {
        uint64_t budget = mode == 0 ? 1000000 : mode == 1 ? fixed : pick_budget(&r);
        snprintf(ctx, sizeof(ctx), "seed %#llx step %u budget %llu", (unsigned long long)seed, step,
                 (unsigned long long)budget);
        uint64_t traps = p->mi->h->stats.exceptions + p->mj->h->stats.exceptions;
        if (!pair_step_q(p, budget, ctx, true)) {
            /* hart_step() counts traps against the budget, but where a
             * run stops after a trap depends on when the interpreter
             * next goes through its fetch path, which compiled blocks
             * change (see the header comment).  Not architectural:
             * after a step with a trap, let the hart that is behind
             * catch up one instruction at a time, then both must agree. */
            if (p->mi->h->stats.exceptions + p->mj->h->stats.exceptions != traps && catch_up(p)) {
                loose_runs++;
                continue;
            }
            fprintf(stderr, "%s: hart_step() returned %llu (interpreter), %llu (jit)\n", ctx,
                    (unsigned long long)last_ret[0], (unsigned long long)last_ret[1]);
            same_state(p, ctx); /* prints the differences */
            return false;
        }
        if ((step & 63) == 0 && !same_mem(p, RP_DATA, RP_DATA_SZ, ctx))
            return false;
        if (p->mi->h->arch.wfi)
            break;
    }
    snprintf(ctx, sizeof(ctx), "seed %#llx at the end", (unsigned long long)seed);
    if (!same_state(p, ctx) || !same_mem(p, RP_DATA, RP_DATA_SZ, ctx))
        return false;
    *reached_end = p->mi->h->arch.wfi && p->mi->h->arch.pc == pg.done_pc;
    if (!*reached_end)
        fprintf(stderr, "seed %#llx: the program did not end at its wfi (pc %#llx mcause %llu)\n",
                (unsigned long long)seed, (unsigned long long)p->mi->h->arch.pc,
                (unsigned long long)p->mi->h->arch.mcause);
    return true;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : def;
}

static void test_random_programs(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    uint64_t base = env_u64("WIRT_JIT_TEST_SEED", 0x5eed0001);
    uint64_t n = env_u64("WIRT_JIT_TEST_N", 400);
    uint64_t blocks = 0, enters = 0, ended = 0, insns = 0;
    uint64_t inval0 = p->mj->h->stats.jit_inval, cs0 = p->mj->h->stats.code_store;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seed = base + i;
        bool end = false;
        uint64_t b0 = p->mj->h->stats.jit_blocks, e0 = p->mj->h->stats.jit_enter;
        if (!run_program(p, seed, &end)) {
            fprintf(stderr,
                    "random program differs: reproduce with WIRT_JIT_TEST_SEED=%#llx "
                    "WIRT_JIT_TEST_N=1\n",
                    (unsigned long long)seed);
            fail();
        }
        ended += end;
        insns += p->mi->h->arch.minstret;
        blocks += p->mj->h->stats.jit_blocks - b0;
        enters += p->mj->h->stats.jit_enter - e0;
    }
    if (getenv("WIRT_JIT_TEST_VERBOSE"))
        fprintf(stderr,
                "%llu programs from seed %#llx: %llu instructions, %llu blocks compiled, "
                "%llu entries, %u catch-ups after traps, %llu stores into code, %llu "
                "invalidations\n",
                (unsigned long long)n, (unsigned long long)base, (unsigned long long)insns,
                (unsigned long long)blocks, (unsigned long long)enters, loose_runs,
                (unsigned long long)(p->mj->h->stats.code_store - cs0),
                (unsigned long long)(p->mj->h->stats.jit_inval - inval0));
    /* The generator must make sane programs and the JIT must have run them. */
    assert_int_equal(ended, n);
    assert_true(blocks >= n);
    assert_true(enters >= n);
}

/* ---- directed tests ---- */

static void run_both(struct pair *p, uint64_t budget, const char *ctx)
{
    if (!pair_step(p, budget, ctx))
        fail_msg("%s: the JIT differs from the interpreter", ctx);
}

/* An access fault in the middle of a compiled block, on the block's
 * fourth pass (it ran compiled three times before). */
static void test_access_fault_in_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    /* x7 walks off the end of RAM in steps of 8: the 4th ld faults. */
    PAIR_CODE(p, B, ADDI(31, 0, 10), JAL(0, 0x100 - 4));
    PAIR_CODE(p, B + 0x100, ADDI(5, 5, 1), LD(10, 7, 0), ADD(11, 11, 10), ADDI(7, 7, 8),
              ADDI(31, 31, -1), BNE(31, 0, -20), WFI);
    PAIR_CODE(p, B + 0x800, CSRRS(20, 0xb02, 0), WFI);
    pair_set_x(p, 7, B + TEST_RAM_SIZE - 24);
    p->mi->h->arch.mtvec = p->mj->h->arch.mtvec = B + 0x800;
    for (unsigned i = 0; i < 3; i++)
        pair_w64(p, B + TEST_RAM_SIZE - 24 + 8 * i, 100u << i);
    run_both(p, 100000, "access fault");
    struct hart *h = p->mj->h;
    assert_int_equal(h->arch.mcause, EXC_LOAD_ACCESS);
    assert_int_equal(h->arch.mtval, B + TEST_RAM_SIZE);
    assert_int_equal(h->arch.mepc, B + 0x104);
    assert_int_equal(hart_get_x(h, 5), 4); /* the addi before the ld retired */
    assert_int_equal(hart_get_x(h, 11), 700);
    assert_int_equal(hart_get_x(h, 31), 7);
    /* retired: 2 + 3 * 6 loop insns + the 4th addi; then the handler's csrr */
    assert_int_equal(hart_get_x(h, 20), 2 + 18 + 1);
    assert_true(h->stats.jit_enter > 0);

    /* The same with a store, and with budgets that end inside the loop. */
    pair_reset(p, B);
    PAIR_CODE(p, B + 0x100, ADDI(5, 5, 1), SD(5, 7, 0), ADD(11, 11, 5), ADDI(7, 7, 8),
              ADDI(31, 31, -1), BNE(31, 0, -20), WFI);
    pair_set_x(p, 7, B + TEST_RAM_SIZE - 24);
    p->mi->h->arch.mtvec = p->mj->h->arch.mtvec = B + 0x800;
    for (unsigned i = 0; i < 40; i++)
        run_both(p, 65, "store access fault");
    assert_int_equal(h->arch.mcause, EXC_STORE_ACCESS);
    assert_int_equal(h->arch.mtval, B + TEST_RAM_SIZE);
    assert_int_equal(h->arch.mepc, B + 0x104);
    assert_int_equal(hart_get_x(h, 20), 2 + 18 + 1);
    assert_int_equal(tm_r64(p->mj, B + TEST_RAM_SIZE - 8), 3);
    assert_true(same_mem(p, B + TEST_RAM_SIZE - 24, 24, "store access fault"));
}

/* A load page fault, then a store page fault (read-only page), in the
 * middle of compiled S-mode blocks. */
static void test_page_fault_in_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    const uint32_t loop[] = {
        ADDI(5, 5, 1),   LD(10, 7, 0), ADD(11, 11, 10), ADDI(7, 7, 0x400), ADDI(31, 31, -1),
        BNE(31, 0, -20), WFI};
    const uint32_t sloop[] = {
        ADDI(5, 5, 1),   SD(5, 7, 0), ADD(11, 11, 5), ADDI(7, 7, 0x400), ADDI(31, 31, -1),
        BNE(31, 0, -20), WFI};
    for (unsigned t = 0; t < 2; t++) {
        pair_reset(p, B);
        uint64_t nt = sv39_begin(p);
        map4k(p, &nt, 0x10000, B + 0x10000, PTE_V | PTE_R | PTE_X | PTE_A);
        /* data: 0x20000 writable, 0x21000 read-only, 0x22000 unmapped */
        map4k(p, &nt, 0x20000, B + 0x20000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
        map4k(p, &nt, 0x21000, B + 0x21000, PTE_V | PTE_R | PTE_A);
        pair_code(p, B + 0x10000, t ? sloop : loop, ARRAY_SIZE(loop));
        PAIR_CODE(p, B + 0x800, CSRRS(20, 0xb02, 0), WFI);
        for (unsigned i = 0; i < 8; i++)
            pair_w64(p, B + 0x20000 + 0x400 * i, i + 1);
        pair_set_x(p, 7, 0x20000);
        pair_set_x(p, 31, 100);
        p->mi->h->arch.mtvec = p->mj->h->arch.mtvec = B + 0x800;
        sv39_enter(p, 0x10000);
        run_both(p, 100000, t ? "store page fault" : "load page fault");
        struct hart *h = p->mj->h;
        unsigned passes = t ? 5 : 9; /* the faulting pass is the last */
        assert_int_equal(h->arch.mcause, t ? EXC_STORE_PAGE : EXC_LOAD_PAGE);
        assert_int_equal(h->arch.mtval, 0x20000 + 0x400 * (passes - 1));
        assert_int_equal(h->arch.mepc, 0x10004);
        assert_int_equal(hart_get_x(h, 5), passes);
        assert_int_equal(hart_get_x(h, 20), 6 * (passes - 1) + 1);
        assert_int_equal(hart_get_x(h, 31), 100 - (passes - 1));
        assert_int_equal((h->arch.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, PRV_S);
        assert_true(same_mem(p, B + 0x20000, 0x2000, "page fault"));
    }
}

/* A store that rewrites the very next instruction of its own compiled
 * block: the new instruction runs.  Also a halfword store into the upper
 * half of a later 4-byte instruction (its immediate). */
static void test_smc_same_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    PAIR_CODE(p, B, JAL(0, 0x100));
    PAIR_CODE(p, B + 0x100, SW(12, 11, 8), ADDI(6, 0, 1), ADDI(5, 0, 1), SH(14, 11, 0x16),
              ADDI(7, 0, 1), ADDI(8, 0, 3), WFI);
    pair_set_x(p, 11, B + 0x100);
    pair_set_x(p, 12, ADDI(5, 0, 2));
    pair_set_x(p, 14, ADDI(8, 0, 0x123) >> 16); /* 0x123 in the imm of the addi at +0x14 */
    run_both(p, 1000, "smc same block");
    struct hart *h = p->mj->h;
    assert_true(h->stats.jit_blocks > 0);
    assert_int_equal(hart_get_x(h, 6), 1);
    assert_int_equal(hart_get_x(h, 5), 2);
    assert_int_equal(hart_get_x(h, 7), 1);
    assert_int_equal(hart_get_x(h, 8), 0x123);
    assert_int_equal(h->arch.minstret, 8); /* the wfi retires too */
    assert_true(h->arch.wfi);
}

/* An AMO or SC in a compiled block that writes an instruction later in
 * the same block: the block must leave after it, as after a plain store
 * that changed code.  (Found by the random test: an SC to its own code
 * page, then blocks of that page, cleared but still chained by patched
 * jumps, ran stale code.) */
static void test_smc_amo(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    bool ok = true;
    for (unsigned t = 0; t < 2; t++) {
        pair_reset(p, B);
        PAIR_CODE(p, B, JAL(0, 0x100));
        /* t = 0: amoswap.w writes the addi at +0x110; t = 1: lr.w/sc.w do */
        if (t == 0)
            PAIR_CODE(p, B + 0x100, ADDI(7, 0, 1), AMOSWAP_D(0, 11, 12) & ~(1u << 12),
                      ADDI(6, 0, 1), ADDI(8, 0, 1), ADDI(5, 0, 1), WFI);
        else
            PAIR_CODE(p, B + 0x100, LR_W(7, 11), SC_W(9, 11, 12), ADDI(6, 0, 1), ADDI(8, 0, 1),
                      ADDI(5, 0, 1), WFI);
        pair_set_x(p, 11, B + 0x110);
        pair_set_x(p, 12, ADDI(5, 0, 2));
        ok &= pair_step(p, 1000, t ? "sc.w over a later instruction" : "amoswap.w over one");
        ok &= hart_get_x(p->mj->h, 5) == 2 && p->mj->h->arch.wfi;
    }
    assert_true(ok);
}

/* A store rewrites an instruction of another compiled block in the same
 * page (a function called in a loop); each call must see the last store. */
static void test_smc_other_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    /* x13 = function, x12 = "addi x5,x0,1", bumped by 1 << 20 (imm + 1) each pass */
    PAIR_CODE(p, B, JALR(1, 13, 0), ADD(21, 21, 5), ADD(12, 12, 14), SW(12, 13, 0),
              ADDI(31, 31, -1), BNE(31, 0, -20), WFI);
    PAIR_CODE(p, B + 0x200, ADDI(5, 0, 100), JALR(0, 1, 0));
    pair_set_x(p, 13, B + 0x200);
    pair_set_x(p, 12, ADDI(5, 0, 0));
    pair_set_x(p, 14, 1u << 20);
    pair_set_x(p, 31, 10);
    run_both(p, 100000, "smc other block");
    struct hart *h = p->mj->h;
    /* 100 + 1 + 2 + ... + 9 */
    assert_int_equal(hart_get_x(h, 21), 145);
    assert_true(h->arch.wfi);
    assert_true(h->stats.jit_inval > 0);

    /* Same, stepping with budgets around the block size. */
    pair_reset(p, B);
    PAIR_CODE(p, B + 0x200, ADDI(5, 0, 100), JALR(0, 1, 0));
    pair_set_x(p, 13, B + 0x200);
    pair_set_x(p, 12, ADDI(5, 0, 0));
    pair_set_x(p, 14, 1u << 20);
    pair_set_x(p, 31, 10);
    for (unsigned i = 0; i < 200 && !p->mi->h->arch.wfi; i++)
        run_both(p, budgets[i % 12], "smc other block, budgets");
    assert_int_equal(hart_get_x(h, 21), 145);
}

/* Code written by stores into a fresh page, run, rewritten, run again
 * (no FENCE.I: a single hart sees its own stores). */
static void test_smc_generated_code(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    static const uint8_t zero[4096];
    pair_write(p, B + 0x5000, zero, sizeof(zero));
    /* table at B+0x3000: per pass the two words of "addi x5,x0,v; ret" */
    const uint32_t table[] = {ADDI(5, 0, 11),          JALR(0, 1, 0),  ADDI(5, 0, 22),
                              C_JR(1) | (C_NOP << 16), ADDI(5, 0, 33), JALR(0, 1, 0)};
    pair_write(p, B + 0x3000, table, sizeof(table));
    /* x9 = table, x13 = code page, x15 = results */
    PAIR_CODE(p, B, LW(12, 9, 0), SW(12, 13, 0), LW(12, 9, 4), SW(12, 13, 4), JALR(1, 13, 0),
              SD(5, 15, 0), ADDI(9, 9, 8), ADDI(15, 15, 8), ADDI(31, 31, -1), BNE(31, 0, -36), WFI);
    pair_set_x(p, 9, B + 0x3000);
    pair_set_x(p, 13, B + 0x5000);
    pair_set_x(p, 15, B + 0x4000);
    pair_set_x(p, 31, 3);
    run_both(p, 100000, "generated code");
    assert_int_equal(tm_r64(p->mj, B + 0x4000), 11);
    assert_int_equal(tm_r64(p->mj, B + 0x4008), 22);
    assert_int_equal(tm_r64(p->mj, B + 0x4010), 33);
    assert_true(p->mj->h->arch.wfi);
    assert_true(same_mem(p, B + 0x4000, 24, "generated code"));
}

static void interrupt_timeout(int sig)
{
    static const char msg[] = "test_interrupt_stops_loop: the hart ran on for 20 s after the "
                              "interrupt was raised: compiled code ignores hart.check\n";
    (void)sig;
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    _exit(1);
}

struct irq_arg {
    struct hart *h;
    unsigned delay_ms;
};

static void *raise_irq_later(void *arg)
{
    struct irq_arg *a = arg;
    struct timespec ts = {0, (long)a->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    hart_set_irq(a->h, IRQ_M_TIMER, true);
    return NULL;
}

/* An interrupt raised by another thread while the hart spins in a
 * compiled loop is taken, long before the budget runs out. */
static void test_interrupt_stops_loop(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    struct test_machine *m = p->mj;
    struct hart *h = m->h;
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_jit(h, true, 1);
    /* loop: x5++, x6 += x5, forever; handler: x21 = 1; mie = 0 (the line
     * stays high); wfi */
    TM_CODE(m, B, ADDI(5, 5, 1), ADD(6, 6, 5), JAL(0, -8));
    TM_CODE(m, B + 0x400, ADDI(21, 0, 1), CSRRW(0, 0x304, 0), WFI);
    h->arch.mtvec = B + 0x400;
    h->arch.mie = MIP_MTIP;
    h->arch.mstatus |= MSTATUS_MIE;
    /* A JIT that ignores the request would spin for hours: fail instead. */
    signal(SIGALRM, interrupt_timeout);
    alarm(20);
    pthread_t t;
    struct irq_arg arg = {h, 30};
    pthread_create(&t, NULL, raise_irq_later, &arg);
    uint64_t done = hart_step(h, 1ULL << 40);
    pthread_join(t, NULL);
    alarm(0);
    assert_true(done < (1ULL << 40));
    assert_int_equal(h->arch.mcause, (1ULL << 63) | IRQ_M_TIMER);
    assert_int_equal(hart_get_x(h, 21), 1);
    assert_true(h->arch.wfi);
    assert_true(h->arch.mepc == B || h->arch.mepc == B + 4 || h->arch.mepc == B + 8);
    uint64_t n = hart_get_x(h, 5);
    assert_true(n > 1000);
    assert_int_equal(hart_get_x(h, 6), n * (n + 1) / 2 - (h->arch.mepc == B + 4 ? n : 0));
    /* instructions retired: 3 per iteration, + the one(s) of the
     * interrupted pass, + the handler's three */
    uint64_t pass = h->arch.mepc == B ? 0 : h->arch.mepc == B + 4 ? 1 : 2;
    assert_int_equal(h->arch.minstret, 3 * (n - (pass ? 1 : 0)) + pass + 3);
    assert_true(h->stats.jit_enter > 0);
}

/* One physical code page at two virtual addresses: AUIPC and JAL links
 * follow the virtual pc the code runs at. */
static void test_alias_mapping(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    uint64_t nt = sv39_begin(p);
    uint64_t rx = PTE_V | PTE_R | PTE_X | PTE_A;
    map4k(p, &nt, 0x10000, B + 0x10000, rx); /* the shared page */
    map4k(p, &nt, 0x7654000, B + 0x10000, rx);
    map4k(p, &nt, 0x30000, B + 0x30000, rx); /* main */
    /* shared: auipc x5; jal x6,+8; (skipped); addi x7,x5,4; ret */
    PAIR_CODE(p, B + 0x10000, AUIPC(5, 0x3000), JAL(6, 8), ADDI(7, 0, 99), ADDI(7, 5, 4),
              JALR(0, 1, 0));
    /* main: call one alias, keep results, call the other, 3 times */
    PAIR_CODE(p, B + 0x30000, JALR(1, 28, 0), ADD(10, 10, 5), ADD(11, 11, 6), JALR(1, 29, 0),
              ADD(12, 12, 5), ADD(13, 13, 6), ADD(14, 14, 7), ADDI(31, 31, -1), BNE(31, 0, -32),
              WFI);
    pair_set_x(p, 28, 0x10000);
    pair_set_x(p, 29, 0x7654000);
    pair_set_x(p, 31, 3);
    sv39_enter(p, 0x30000);
    run_both(p, 100000, "alias mapping");
    struct hart *h = p->mj->h;
    assert_true(h->arch.wfi);
    assert_int_equal(hart_get_x(h, 10), 3 * (0x10000 + 0x3000));
    assert_int_equal(hart_get_x(h, 11), 3 * 0x10008);
    assert_int_equal(hart_get_x(h, 12), 3 * (0x7654000 + 0x3000));
    assert_int_equal(hart_get_x(h, 13), 3 * 0x7654008);
    assert_int_equal(hart_get_x(h, 14), 3 * (0x7654000 + 0x3004));
}

struct scratch_dev {
    uint64_t reg[4];
    unsigned reads, writes;
};
static uint64_t scratch_read(void *dev, uint64_t off, unsigned size)
{
    struct scratch_dev *d = dev;
    (void)size;
    d->reads++;
    return d->reg[off / 8 % 4] + d->reads;
}
static void scratch_write(void *dev, uint64_t off, unsigned size, uint64_t v)
{
    struct scratch_dev *d = dev;
    (void)size;
    d->writes++;
    d->reg[off / 8 % 4] = v;
}
static const struct dev_ops scratch_ops = {
    .name = "scratch", .read = scratch_read, .write = scratch_write};

/* MMIO loads and stores inside a compiled loop go to the device every
 * time (the slow path), with RAM accesses around them on the fast path. */
static void test_mmio_in_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    /* static: the buses outlive this frame until teardown */
    static struct scratch_dev di, dj;
    di = (struct scratch_dev){.reg = {0, 1000}};
    dj = di;
    assert_true(bus_add_device(&p->mi->bus, 0x10000000, 0x1000, &scratch_ops, &di));
    assert_true(bus_add_device(&p->mj->bus, 0x10000000, 0x1000, &scratch_ops, &dj));
    pair_reset(p, B);
    PAIR_CODE(p, B, LD(3, 1, 8), ADD(4, 4, 3), SD(4, 1, 0), LW(6, 2, 0), ADD(4, 4, 6),
              ADDI(31, 31, -1), BNE(31, 0, -24), LD(7, 1, 0), WFI);
    pair_set_x(p, 1, 0x10000000);
    pair_set_x(p, 2, B + 0x2000);
    pair_w64(p, B + 0x2000, 5);
    pair_set_x(p, 31, 20);
    run_both(p, 100000, "mmio");
    struct hart *h = p->mj->h;
    assert_true(h->arch.wfi);
    assert_int_equal(dj.reads, 21);
    assert_int_equal(dj.writes, 20);
    assert_int_equal(di.reads, dj.reads);
    /* x4 = sum over i = 1..20 of (1000 + i + 5) */
    assert_int_equal(hart_get_x(h, 4), 20 * 1005 + 210);
    /* the last store was before the last "+ 5"; the 21st read adds 21 */
    assert_int_equal(hart_get_x(h, 7), hart_get_x(h, 4) - 5 + 21);
    assert_true(h->stats.jit_enter > 0);
}

/* Misaligned loads and stores: inside one page they take the TLB fast
 * path (interpreter and compiled code: only the first access of each kind
 * misses), across a page boundary the slow path, with the same results. */
static void misaligned_loop(struct pair *p, uint64_t data, uint64_t *slow_i, uint64_t *slow_j)
{
    pair_reset(p, B);
    /* x7 = data: 20 times ld/lw/lhu at odd offsets, add, sd/sw/sh back. */
    PAIR_CODE(p, B, LD(10, 7, 0), LW(11, 7, 1), LHU(12, 7, 3), ADD(13, 13, 10), ADD(13, 13, 11),
              ADD(13, 13, 12), SD(13, 7, 0), SW(13, 7, 1), SH(10, 7, 3), ADDI(31, 31, -1),
              BNE(31, 0, -40), WFI);
    pair_set_x(p, 7, data);
    pair_set_x(p, 31, 20);
    for (unsigned i = 0; i < 16; i++)
        pair_w64(p, (data & ~7ULL) - 8 + 8 * i, 0x0123456789abcdefULL * (i + 1));
    uint64_t li = p->mi->h->stats.load_slow + p->mi->h->stats.store_slow;
    uint64_t lj = p->mj->h->stats.load_slow + p->mj->h->stats.store_slow;
    run_both(p, 100000, "misaligned");
    assert_true(p->mj->h->arch.wfi);
    assert_true(same_mem(p, (data & ~7ULL) - 8, 128, "misaligned"));
    *slow_i = p->mi->h->stats.load_slow + p->mi->h->stats.store_slow - li;
    *slow_j = p->mj->h->stats.load_slow + p->mj->h->stats.store_slow - lj;
}

/* Branches over one ALU instruction (compiled as a cmov, with the skipped
 * instruction given back to the budget when taken): every branch kind,
 * with x0 as the second operand, rd equal to a branch operand, taken and
 * not taken in the same loop (whose back edge is compiled in line); the
 * state, minstret included, must match the interpreter's at every slice. */
static void test_branch_over_one(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    /* clang-format off: one instruction per line */
    const uint32_t body[] = {
        ANDI(7, 5, 1),  BEQ(7, 0, 8),
        ADDI(5, 5, 7),                 /* odd: += 7 */
        BNE(7, 0, 8),                  /* with x0: the carry flag is the condition */
        ADDI(9, 9, 3),  BLTU(7, 0, 8), /* never taken */
        ADDI(9, 9, 5),  BGEU(7, 0, 8), /* always taken */
        ADDI(9, 9, 11), SRLI(8, 5, 1),
        BNE(8, 5, 8),   enc_r(0, 5, 9, 4, 9, 0x33), /* xor x9 */
        BLT(5, 9, 8),   SUB(10, 10, 9),
        BGE(10, 5, 8),  SLLI(11, 10, 3),
        BLTU(11, 5, 8), ADDW(12, 12, 11),
        BGEU(9, 12, 8), LUI(13, 0x12345000),
        BLT(12, 0, 8),  SUB(12, 0, 12),     /* rd is the branch operand */
        BEQ(7, 0, 8),   ADDI(14, 9, -2048), /* addi as a lea: rd is not rs1 */
        BNE(7, 0, 8),   ADDI(14, 14, 2047),
        BNE(7, 0, 8),   ADDI(15, 0, -5), /* li: no lea */
        ADD(5, 5, 8),   enc_r(0, 11, 5, 4, 5, 0x33),
        ADD(5, 5, 14),  SUB(9, 9, 15),
        ADDI(1, 1, -1),
    };
    /* clang-format on */
    uint32_t code[ARRAY_SIZE(body) + 2];
    memcpy(code, body, sizeof(body));
    code[ARRAY_SIZE(body)] = BNE(1, 0, -(int32_t)sizeof(body));
    code[ARRAY_SIZE(body) + 1] = WFI;
    pair_code(p, B, code, ARRAY_SIZE(code));
    pair_set_x(p, 1, 500);
    pair_set_x(p, 5, 0x123456789abcdefULL);
    pair_set_x(p, 9, 77);
    for (unsigned i = 0; i < 40; i++) /* slices end mid-loop: counts exact */
        run_both(p, 333, "branch over one");
    run_both(p, 100000, "branch over one");
    assert_true(p->mj->h->arch.wfi);
    assert_true(p->mj->h->stats.jit_enter > 0);
}

/* A shift left by 1..3 and an add into the same register compile to one
 * lea: both operand orders, the shifted register equal to the added one
 * (3 * x) or to the destination, enough live registers that rbp (a base
 * that needs a displacement byte) is used, pairs that must not fuse (u is
 * the destination, shift by 4), a branch into the middle of a pair, and
 * pairs with one instruction between them (fused only when it is
 * independent of both).
 * The state must match the interpreter's at every slice. */
static void test_shift_add_pairs(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    const uint32_t body[] = {
        SLLI(6, 5, 1),
        ADD(6, 6, 5), /* 3 * x5 */
        SLLI(7, 6, 2),
        ADD(7, 9, 7), /* x9 + x6 * 4 */
        SLLI(8, 8, 3),
        ADD(8, 8, 10), /* shifted register is the destination */
        SLLI(11, 7, 3),
        ADD(11, 11, 12),
        SLLI(12, 11, 1),
        ADD(12, 12, 13),
        SLLI(13, 12, 2),
        ADD(13, 14, 13),
        SLLI(14, 13, 1),
        ADD(14, 14, 6),
        SLLI(15, 14, 1),
        ADD(15, 15, 15), /* u is t: no lea */
        SLLI(9, 15, 4),
        ADD(9, 9, 5), /* shift by 4: no lea */
        ANDI(16, 1, 1),
        BEQ(16, 0, 8),
        SLLI(10, 8, 2),
        ADD(10, 10, 11), /* into the middle */
        SLLI(17, 5, 1),
        ANDI(18, 5, 1),
        ADD(17, 17, 5), /* one between: fused */
        SLLI(19, 6, 2),
        ADDI(6, 6, 1),
        ADD(19, 19, 6), /* it writes u: not */
        SLLI(20, 7, 1),
        ADD(21, 20, 7),
        ADD(20, 20, 7), /* it reads t: not */
        SLLI(22, 8, 3),
        XORI(8, 8, 5),
        ADD(22, 22, 9), /* it writes s: not */
        ADD(13, 13, 17),
        ADD(13, 13, 19),
        ADD(13, 13, 21),
        ADD(14, 14, 22),
        ADD(14, 14, 18),
        ADD(5, 5, 13),
        enc_r(0, 14, 5, 4, 5, 0x33),
        ADDI(1, 1, -1), /* xor */
    };
    uint32_t code[ARRAY_SIZE(body) + 2];
    memcpy(code, body, sizeof(body));
    code[ARRAY_SIZE(body)] = BNE(1, 0, -(int32_t)sizeof(body));
    code[ARRAY_SIZE(body) + 1] = WFI;
    pair_code(p, B, code, ARRAY_SIZE(code));
    pair_set_x(p, 1, 300);
    pair_set_x(p, 5, 0x123456789abcdefULL);
    pair_set_x(p, 8, 99);
    pair_set_x(p, 9, 77);
    pair_set_x(p, 10, 5);
    for (unsigned i = 0; i < 30; i++)
        run_both(p, 333, "shift add");
    run_both(p, 100000, "shift add");
    assert_true(p->mj->h->arch.wfi);
    assert_true(p->mj->h->stats.jit_enter > 0);
}

/* Loops whose registers all fit in the register cache are entered with
 * every one of them loaded (a bound only read, a register written before
 * it is read, one only written): the state must match the interpreter's
 * at every slice, also with one register too many (the first few read
 * are preloaded) and with a load in the loop (its TLB miss path calls C
 * and reloads the cache). */
static void test_loop_registers(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    /* clang-format off: one instruction per line */
    const uint32_t code[] = {
        ADDI(10, 11, 3), /* 7 registers: x10 written before read */
        ADD(12, 12, 10),
        enc_r(0, 14, 12, 4, 13, 0x33), /* xor x13 */
        SLLI(15, 13, 1),               /* x15 only written */
        ADDI(11, 11, 1),
        BNE(11, 16, -20), /* x16 only read: the bound */
        ADDI(10, 11, 5),  /* 8 registers */
        ADD(12, 12, 10),
        enc_r(0, 14, 12, 4, 13, 0x33),
        SLLI(15, 13, 1),
        ADD(17, 17, 15),
        ADDI(11, 11, 1),
        BNE(11, 18, -24),
        LD(10, 7, 0), /* a load: cold path calls C */
        ADD(12, 12, 10),
        ADDI(7, 7, 8),
        ADDI(31, 31, -1),
        BNE(31, 0, -16),
        WFI,
    };
    /* clang-format on */
    pair_code(p, B, code, ARRAY_SIZE(code));
    pair_set_x(p, 11, 0);
    pair_set_x(p, 12, 0x5555);
    pair_set_x(p, 14, 0xf0f0f0f0f0f0ULL);
    pair_set_x(p, 15, 1234);
    pair_set_x(p, 16, 400);
    pair_set_x(p, 17, 9);
    pair_set_x(p, 18, 800);
    pair_set_x(p, 7, B + 0x3000);
    pair_set_x(p, 31, 60);
    for (unsigned i = 0; i < 64; i++)
        pair_w64(p, B + 0x3000 + 8 * i, 0x9e3779b97f4a7c15ULL * (i + 1));
    for (unsigned i = 0; i < 30; i++) /* slices end mid-loop: counts exact */
        run_both(p, 333, "loop registers");
    run_both(p, 100000, "loop registers");
    assert_true(p->mj->h->arch.wfi);
    assert_true(p->mj->h->stats.jit_enter > 0);
}

/* sext.w (addiw rd, rs, 0) of a register known to hold a sign-extended
 * 32-bit value (lw, *w ops, logic of two such values) is a copy; it must
 * still sign-extend after a 64-bit add, lwu, ld, a logic op with one
 * 64-bit operand, a CSR read, an srliw by 0, and where a branch joins with
 * a 64-bit value on its path.  The state must match the interpreter's. */
static void test_sext_known(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    /* clang-format off: one instruction per line */
    const uint32_t body[] = {
        ANDI(8, 31, 0x1f8),
        ADD(8, 8, 7),
        LW(10, 8, 0),
        SRLIW(11, 10, 8),
        enc_r(0, 11, 10, 4, 13, 0x33), /* xor: both sign-extended */
        ADDIW(13, 13, 0),              /* a copy */
        LD(12, 8, 0),
        ADD(14, 10, 10), /* 64-bit add */
        ADDIW(14, 14, 0),
        LWU(15, 8, 4),
        ADDIW(15, 15, 0),
        enc_r(0, 12, 10, 4, 20, 0x33), /* xor with a 64-bit value */
        ADDIW(20, 20, 0),
        ADDIW(22, 13, 0), /* rd is not rs1 */
        SRLIW(23, 12, 0), /* by 0: sign-extends */
        SRLIW(24, 12, 1),
        ANDI(17, 31, 8),
        LD(16, 8, 0),
        BEQ(17, 0, 8),
        LW(16, 8, 4),
        ADDIW(16, 16, 0), /* joined: the taken path has ld's value */
        LW(19, 8, 0),
        enc_i(0x340, 12, 1, 0, 0x73), /* csrw mscratch, x12 */
        CSRRS(19, 0x340, 0),
        ADDIW(19, 19, 0),
        ADD(5, 5, 13),
        ADD(5, 5, 14),
        ADD(5, 5, 15),
        ADD(5, 5, 20),
        ADD(5, 5, 22),
        ADD(5, 5, 23),
        ADD(5, 5, 24),
        ADD(5, 5, 16),
        ADD(5, 5, 19),
        ADDI(31, 31, -1),
    };
    /* clang-format on */
    uint32_t code[ARRAY_SIZE(body) + 2];
    memcpy(code, body, sizeof(body));
    code[ARRAY_SIZE(body)] = BNE(31, 0, -(int32_t)sizeof(body));
    code[ARRAY_SIZE(body) + 1] = WFI;
    pair_code(p, B, code, ARRAY_SIZE(code));
    pair_set_x(p, 7, B + 0x3000);
    pair_set_x(p, 31, 300);
    for (unsigned i = 0; i < 64; i++)
        pair_w64(p, B + 0x3000 + 8 * i, 0x9e3779b97f4a7c15ULL * (i + 1));
    for (unsigned i = 0; i < 30; i++) /* slices end mid-loop: counts exact */
        run_both(p, 333, "sext known");
    run_both(p, 100000, "sext known");
    assert_true(p->mj->h->arch.wfi);
    assert_true(p->mj->h->stats.jit_enter > 0);
}

/* One load site alternating between the page after a boundary and an
 * access crossing into it: the site's TLB entry guess (the next page's
 * entry) matches the crossing access's last byte, and must not be used
 * for it (the crossing access takes the slow path, as in the interpreter). */
static void test_tlb_guess_crossing(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    uint64_t inside = B + 0x3010, crossing = B + 0x2ffc;
    PAIR_CODE(p, B, LD(10, 7, 0), ADD(13, 13, 10), enc_r(0, 5, 7, 4, 7, 0x33), /* x7 ^= x5 */
              SLLI(13, 13, 1), ADDI(31, 31, -1), BNE(31, 0, -20), WFI);
    pair_set_x(p, 7, inside);
    pair_set_x(p, 5, inside ^ crossing);
    pair_set_x(p, 31, 40);
    for (unsigned i = 0; i < 8; i++)
        pair_w64(p, B + 0x2ff0 + 8 * i, 0x0123456789abcdefULL * (i + 3));
    uint64_t lj = p->mj->h->stats.load_slow;
    run_both(p, 100000, "tlb guess, crossing");
    assert_true(p->mj->h->arch.wfi);
    assert_true(p->mj->h->stats.load_slow - lj >= 20); /* every crossing load */
}

static void test_misaligned_fast_path(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    uint64_t si, sj;
    misaligned_loop(p, B + 0x2101, &si, &sj); /* everything inside the page */
    assert_true(p->mj->h->stats.jit_enter > 0);
    assert_true(si <= 2);
    assert_true(sj <= 2);
    misaligned_loop(p, B + 0x2ffb, &si, &sj); /* ld/sd at +0..+7 cross to the next page */
    assert_true(si >= 40);
    assert_true(sj >= 40);
}

/* cbo.zero in a compiled loop (Linux clears pages so when the DT lists
 * Zicboz): it runs in the block, which does not leave for it, and zeroes
 * exactly its 64-byte blocks, from any address inside one.  Then one that
 * zeroes the rest of its own block: the block must leave after it and the
 * zeroed instructions (illegal) trap where the interpreter's do. */
static void test_cbo_zero_in_block(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    const uint64_t data = B + 0x3000;
    PAIR_CODE(p, B, CBO_ZERO(11), ADDI(11, 11, 64), ADDI(12, 12, -1), BNE(12, 0, -12), WFI);
    pair_set_x(p, 11, data + 0x40 + 13); /* not block-aligned: the block around it */
    pair_set_x(p, 12, 32);
    for (unsigned i = 0; i < 0x900 / 8; i++)
        pair_w64(p, data + 8 * i, 0x0123456789abcdefULL * (i + 1));
    uint64_t enters = p->mj->h->stats.jit_enter;
    run_both(p, 100000, "cbo.zero loop");
    struct hart *h = p->mj->h;
    assert_true(h->arch.wfi);
    assert_true(same_mem(p, data, 0x900, "cbo.zero loop"));
    assert_true(h->stats.jit_enter - enters <= 3); /* not once per cbo.zero */
    uint64_t v;
    memcpy(&v, tm_ptr(p->mj, data + 0x38), 8);
    assert_true(v == 0x0123456789abcdefULL * 8); /* below the first block: kept */
    memcpy(&v, tm_ptr(p->mj, data + 0x40), 8);
    assert_true(v == 0);
    memcpy(&v, tm_ptr(p->mj, data + 0x838), 8);
    assert_true(v == 0);
    memcpy(&v, tm_ptr(p->mj, data + 0x840), 8);
    assert_true(v == 0x0123456789abcdefULL * 265); /* above the last: kept */

    pair_reset(p, B);
    PAIR_CODE(p, B, JAL(0, 0x100));
    PAIR_CODE(p, B + 0x100, ADDI(5, 0, 1), CBO_ZERO(11), ADDI(6, 0, 1), ADDI(7, 0, 1), WFI);
    pair_set_x(p, 11, B + 0x108); /* the cbo's own block: itself and all after it */
    run_both(p, 1000, "cbo.zero over its own block");
    h = p->mj->h;
    assert_int_equal(hart_get_x(h, 5), 1);
    assert_int_equal(hart_get_x(h, 6), 0);
    assert_false(h->arch.wfi);
}

/* A block as long as blocks get, of instructions that each need two
 * cold stubs (FP loads: an FS check and a TLB miss path), with FS on and
 * then off (an illegal-instruction trap in the middle of the block). */
static void test_long_block_of_fp_loads(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    uint32_t code[JIT_MAX_INSNS + 8];
    unsigned n = 0;
    for (unsigned i = 0; i < JIT_MAX_INSNS + 4; i++)
        code[n++] = FLD(i % 32, 1, (int32_t)(i * 8) & 0x7f8);
    code[n++] = ADDI(31, 31, -1);
    int32_t back = -(int32_t)n * 4; /* to the first FLD */
    code[n++] = BNE(31, 0, back);
    code[n++] = WFI;
    for (unsigned t = 0; t < 2; t++) {
        pair_reset(p, B);
        pair_code(p, B, code, n);
        pair_set_x(p, 1, B + 0x3000);
        for (unsigned i = 0; i < 256; i++)
            pair_w64(p, B + 0x3000 + i * 8, 0x3ff0000000000000ULL + i);
        pair_set_x(p, 31, 5);
        p->mi->h->arch.mstatus |= t ? 0 : MSTATUS_FS;
        p->mj->h->arch.mstatus |= t ? 0 : MSTATUS_FS;
        p->mi->h->arch.mtvec = p->mj->h->arch.mtvec = B + 0x1000; /* an illegal FLD traps there */
        pair_code(p, B + 0x1000, (const uint32_t[]){WFI}, 1);
        run_both(p, 100000, t ? "FP loads, FS off" : "FP loads");
        assert_true(p->mj->h->arch.wfi);
        assert_true(p->mj->h->stats.jit_blocks > 0 || t);
    }
}

/* A 4-byte instruction straddling two pages, in a compiled loop whose
 * other half (in the next page) rewrites the upper half of it each pass:
 * every pass must run the new immediate. */
static void test_cross_page_insn(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    for (unsigned t = 0; t < 2; t++) {
        /* Start in the next page, so that its fetch TLB entry exists
         * when the block is compiled: only then can the block take the
         * page-crossing instruction in. */
        pair_reset(p, B + 0x2100);
        PAIR_CODE(p, B + 0x2100, JAL(0, -(0x2100 - 0x1ff0)));
        uint32_t cross = ADDI(5, 5, 1);
        PAIR_CODE(p, B + 0x1ff0, ADDI(6, 6, 1), ADDI(7, 7, 1), ADDI(9, 9, 1));
        const uint16_t pre = C_NOP;
        pair_write(p, B + 0x1ffc, &pre, 2);
        pair_write(p, B + 0x1ffe, &cross, 4);
        /* next page: bump the immediate (t = 1: leave it), loop 8 times */
        PAIR_CODE(p, B + 0x2002, ADDI(12, 12, t ? 0 : 16), SH(12, 13, 0), ADDI(31, 31, -1),
                  BNE(31, 0, -(int32_t)(0x2002 + 12 - 0x1ff0)), WFI);
        pair_set_x(p, 12, cross >> 16);
        pair_set_x(p, 13, B + 0x2000);
        pair_set_x(p, 31, 8);
        char ctx[48];
        snprintf(ctx, sizeof(ctx), "cross-page instruction %u", t);
        for (unsigned i = 0; i < 100 && !p->mi->h->arch.wfi; i++)
            run_both(p, t ? 1000 : budgets[4 + i % 8], ctx);
        struct hart *h = p->mj->h;
        assert_true(h->arch.wfi);
        assert_int_equal(hart_get_x(h, 6), 8);
        assert_int_equal(hart_get_x(h, 5), t ? 8 : 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8);
    }
}

/* The page after a page-crossing instruction is remapped (to a page with
 * another upper half), then unmapped (an instruction page fault), under
 * a block compiled while it was mapped. */
static void test_cross_page_remap(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    uint64_t nt = sv39_begin(p);
    uint64_t rx = PTE_V | PTE_R | PTE_X | PTE_A;
    map4k(p, &nt, 0x40000, B + 0x40000, rx);
    map4k(p, &nt, 0x41000, B + 0x41000, rx);
    uint64_t pte_slot = PT_ROOT; /* found below: the leaf of 0x41000 */
    {
        uint64_t t = PT_ROOT;
        for (int lvl = 2; lvl > 0; lvl--)
            t = (tm_r64(p->mi, t + ((0x41000ULL >> (12 + 9 * lvl)) & 511) * 8) >> 10) << 12;
        pte_slot = t + ((0x41000ULL >> 12) & 511) * 8;
    }
    /* 0x40ff8: addi x6; addi x7; c.nop; [0x40ffe] addi x5,x5,1 / +100 */
    PAIR_CODE(p, B + 0x40ff4, ADDI(6, 6, 1), ADDI(7, 7, 1));
    const uint16_t nop = C_NOP;
    pair_write(p, B + 0x40ffc, &nop, 2);
    uint32_t a1 = ADDI(5, 5, 1), a100 = ADDI(5, 5, 100);
    pair_write(p, B + 0x40ffe, &a1, 2);
    uint16_t hi1 = (uint16_t)(a1 >> 16), hi100 = (uint16_t)(a100 >> 16);
    pair_write(p, B + 0x41000, &hi1, 2);
    pair_write(p, B + 0x50000, &hi100, 2); /* the other page's upper half */
    /* wfi; and a way in through the upper page (see test_cross_page_insn) */
    PAIR_CODE(p, B + 0x41002, WFI, JAL(0, -(0x41006 - 0x40ff4)));
    PAIR_CODE(p, B + 0x50002, WFI, JAL(0, -(0x41006 - 0x40ff4)));
    PAIR_CODE(p, B + 0x800, CSRRS(20, 0xb02, 0), WFI);
    p->mi->h->arch.mtvec = p->mj->h->arch.mtvec = B + 0x800;
    static const char *const what[] = {"cross-page, mapped", "cross-page, remapped",
                                       "cross-page, unmapped"};
    for (unsigned t = 0; t < 3; t++) {
        if (t == 1)
            pair_w64(p, pte_slot, ((B + 0x50000) >> 12) << 10 | rx);
        if (t == 2)
            pair_w64(p, pte_slot, 0);
        sv39_enter(p, 0x40ff4); /* also flushes the TLBs, as sfence.vma would */
        struct hart *hs[2] = {p->mi->h, p->mj->h};
        for (unsigned i = 0; i < 2; i++)
            hs[i]->arch.wfi = false;
        /* first go: through the interpreter's fetch path, which maps the
         * next page; then again so that the compiled block runs */
        for (unsigned pass = 0; pass < 2; pass++) {
            for (unsigned i = 0; i < 2; i++) {
                hs[i]->arch.pc = t < 2 ? 0x41006 : 0x40ff4;
                hs[i]->arch.wfi = false;
                hs[i]->arch.priv = PRV_S;
                hart_update_mmu_idx(hs[i]);
            }
            run_both(p, 1000, what[t]);
        }
    }
    struct hart *h = p->mj->h;
    assert_int_equal(hart_get_x(h, 5), 2 * 1 + 2 * 100);
    assert_int_equal(h->arch.mcause, EXC_INSN_PAGE);
    assert_int_equal(h->arch.mepc, 0x40ffe);
    assert_int_equal(hart_get_x(h, 6), 6);
    assert_true(h->stats.jit_blocks > 0);
}

/* The code buffer is mapped W^X (two views of one memfd): after blocks
 * were compiled, chained and run, no mapping of the process is writable
 * and executable at once. */
static void test_code_buffer_wx(void **state)
{
    struct pair *p = *state;
    if (!jit_available(p))
        skip();
    pair_reset(p, B);
    PAIR_CODE(p, B, ADDI(5, 0, 3), ADDI(5, 5, -1), BNE(5, 0, -4), ADDI(6, 0, 7), WFI);
    run_both(p, 1000, "w^x");
    assert_true(p->mj->h->stats.jit_blocks > 0);
    assert_int_equal(hart_get_x(p->mj->h, 6), 7);
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        skip();
    char line[512];
    unsigned rwx = 0, rx_memfd = 0;
    while (fgets(line, sizeof(line), f)) {
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) != 1)
            continue;
        if (strncmp(perms, "rwx", 3) == 0) {
            fprintf(stderr, "rwx mapping: %s", line);
            rwx++;
        }
        if (strncmp(perms, "r-x", 3) == 0 && strstr(line, "wirt-jit"))
            rx_memfd++;
    }
    fclose(f);
    assert_int_equal(rwx, 0);
    assert_true(rx_memfd > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_programs, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_access_fault_in_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_page_fault_in_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_smc_same_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_smc_other_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_smc_amo, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_cbo_zero_in_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_smc_generated_code, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_interrupt_stops_loop, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_alias_mapping, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_mmio_in_block, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_shift_add_pairs, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_branch_over_one, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_loop_registers, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_sext_known, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_tlb_guess_crossing, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_misaligned_fast_path, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_cross_page_insn, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_long_block_of_fp_loads, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_cross_page_remap, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_code_buffer_wx, setup_pair, teardown_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
