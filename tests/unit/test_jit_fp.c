/* SPDX-License-Identifier: MIT */
/*
 * The JIT's inline double-precision arithmetic (add, sub, mul and the four
 * fused multiply-adds, see emit_fp_fast in src/cpu/jit.c) against the
 * interpreter's FPU path: results and per-operation fflags must match bit
 * for bit, over operands chosen to hit every reason the fast path has to
 * decline (NaNs, infinities, zeros, subnormals, the smallest normal,
 * overflow, underflow, other rounding modes, NX not yet accrued).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_cpu_asm.h"

#define B     TEST_RAM_BASE
#define DATA  (B + 0x10000)
#define CASES 3000

static const uint64_t specials[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, /* +-0 */
    0x0000000000000001ULL, 0x000fffffffffffffULL, /* subnormals */
    0x0010000000000000ULL, 0x8010000000000000ULL, /* +-smallest normal */
    0x0010000000000001ULL, 0x3ff0000000000000ULL, /* 1 */
    0xbff0000000000000ULL, 0x3fe0000000000000ULL, /* -1, 0.5 */
    0x7fefffffffffffffULL, 0xffefffffffffffffULL, /* +-max */
    0x7ff0000000000000ULL, 0xfff0000000000000ULL, /* +-inf */
    0x7ff8000000000000ULL, 0x7ff4000000000000ULL, /* qNaN, sNaN */
    0x2000000000000000ULL, 0x1ff0000000000000ULL, /* products near underflow */
    0x5ff0000000000000ULL, 0x3ff0000000000001ULL,
};

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t operand(uint64_t *s)
{
    uint64_t r = rng(s);
    if (r % 4 == 0)
        return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
    /* ordinary doubles over a wide exponent range, either sign */
    uint64_t exp = 0x300 + (rng(s) % 0x200);
    return (r & 0x800fffffffffffffULL) | exp << 52;
}

static uint32_t fp_r(unsigned f7, unsigned rm)
{
    return enc_r(f7, 2, 1, rm, 4, 0x53); /* op.d f4, f1, f2 */
}
static uint32_t fp_r4(unsigned opc, unsigned rm)
{
    return (3u << 27) | (1u << 25) | (2u << 20) | (1u << 15) | (rm << 12) | (4u << 7) | opc;
}

/* Runs CASES operations of insn over the same operands on a machine with
 * the JIT off and one compiling at once; returns how many results
 * (value or flags) differ. */
static unsigned run(uint32_t insn, uint64_t seed, unsigned frm)
{
    struct test_machine *m[2] = {tm_new(), tm_new()};
    hart_set_jit(m[0]->h, false, 0);
    hart_set_jit(m[1]->h, true, 1);
    for (int i = 0; i < 2; i++) {
        struct hart *h = m[i]->h;
        uint64_t s = seed;
        for (unsigned k = 0; k < CASES; k++) {
            uint64_t rec = DATA + k * 48;
            for (unsigned j = 0; j < 3; j++)
                tm_w64(m[i], rec + j * 8, operand(&s));
            /* flags to start this operation with: mostly NX accrued */
            tm_w64(m[i], rec + 40, rng(&s) % 4 ? FFLAG_NX : 0);
        }
        /* x10 = record, x11 = count; per record: f1, f2, f3 in, f4 out at
         * +24, the operation's fflags at +32, starting flags at +40 */
        TM_CODE(m[i], B, LD(13, 10, 40), CSRRW(0, 0x001, 13), FLD(1, 10, 0), FLD(2, 10, 8),
                FLD(3, 10, 16), insn, FSD(4, 10, 24), CSRRS(12, 0x001, 0), SD(12, 10, 32),
                ADDI(10, 10, 48), ADDI(11, 11, -1), BNE(11, 0, -44), WFI);
        hart_set_x(h, 10, DATA);
        hart_set_x(h, 11, CASES);
        h->arch.mstatus |= MSTATUS_FS;
        h->arch.fp.frm = frm;
        for (int n = 0; n < 1000 && !h->arch.wfi; n++)
            hart_step(h, 1000000);
        assert_true(h->arch.wfi);
    }
    unsigned diffs = 0;
    for (unsigned k = 0; k < CASES; k++) {
        uint64_t rec = DATA + k * 48;
        for (unsigned off = 24; off <= 32; off += 8)
            if (tm_r64(m[0], rec + off) != tm_r64(m[1], rec + off)) {
                if (diffs++ < 5)
                    print_error("insn %08x frm %u case %u: %s interp %016llx jit %016llx\n", insn,
                                frm, k, off == 24 ? "result" : "fflags",
                                (unsigned long long)tm_r64(m[0], rec + off),
                                (unsigned long long)tm_r64(m[1], rec + off));
            }
    }
    assert_true(m[1]->h->stats.jit_blocks > 0);
    tm_free(m[0]);
    tm_free(m[1]);
    return diffs;
}

static void test_arith_matches_interpreter(void **state)
{
    (void)state;
    static const unsigned f7s[] = {0x01, 0x05, 0x09}; /* fadd.d, fsub.d, fmul.d */
    static const unsigned rms[] = {RM_RNE, RM_RTZ, RM_DYN};
    unsigned diffs = 0;
    for (unsigned i = 0; i < 3; i++)
        for (unsigned r = 0; r < 3; r++)
            for (unsigned frm = 0; frm < 2; frm++)
                diffs += run(fp_r(f7s[i], rms[r]), 0x9e3779b97f4a7c15ULL + i * 7 + r, frm);
    assert_int_equal(diffs, 0);
}

static void test_fma_matches_interpreter(void **state)
{
    (void)state;
    static const unsigned opcs[] = {0x43, 0x47, 0x4b, 0x4f};
    unsigned diffs = 0;
    for (unsigned i = 0; i < 4; i++) {
        diffs += run(fp_r4(opcs[i], RM_RNE), 0x1234567ULL + i, 0);
        diffs += run(fp_r4(opcs[i], RM_DYN), 0x7654321ULL + i, i & 1 ? RM_RUP : RM_RNE);
    }
    assert_int_equal(diffs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arith_matches_interpreter),
        cmocka_unit_test(test_fma_matches_interpreter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
