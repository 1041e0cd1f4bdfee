/* SPDX-License-Identifier: MIT */
/*
 * Interpreter speed: runs loop kernels for a fixed instruction count and
 * prints instructions per second (the assertion is on the result, not the
 * speed, so that slow CI hosts still pass).  WIRT_BENCH_INSNS sets the
 * count (default 200 million).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_cpu_asm.h"

#define B                  TEST_RAM_BASE
#define XOR(rd, a, b)      enc_r(0, b, a, 4, rd, 0x33)
#define SRLIW(rd, rs1, sh) enc_i(sh, rs1, 5, rd, 0x1b)

static uint64_t insns_wanted(void)
{
    const char *e = getenv("WIRT_BENCH_INSNS");
    return e ? strtoull(e, NULL, 0) : 200000000ULL;
}

static double run_timed(struct hart *h, uint64_t n)
{
    uint64_t t0 = host_monotonic_ns();
    uint64_t done = 0;
    while (done < n) {
        uint64_t k = hart_step(h, n - done);
        if (!k)
            break;
        done += k;
    }
    uint64_t t1 = host_monotonic_ns();
    return (double)done / ((double)(t1 - t0) / 1e9);
}

/* Loads, ALU, stores and a branch over a 1024-word array, forever. */
/* Register-only integer code with a short forward branch (the Collatz
 * step): what dependency chains through guest registers cost. */
static void test_bench_branchy(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    hart_set_x(h, 1, 1);
    TM_CODE(m, B, ADDI(5, 0, 27), /* outer: x = 27 */
            SLLI(14, 5, 1), enc_i(1, 5, 7, 13, 0x13) /* andi x13, x5, 1 */, ADD(14, 14, 5),
            SRLI(5, 5, 1), BEQ(13, 0, 8), ADDI(5, 14, 1), ADDIW(12, 12, 1), BNE(5, 1, -28),
            JAL(0, -36));
    uint64_t n = insns_wanted();
    double ips = run_timed(h, n);
    print_message("branchy kernel (Collatz step: slli/andi/add/srli/beq/addi/addiw/bne): %.1f M "
                  "instructions/s\n",
                  ips / 1e6);
    assert_true(h->arch.minstret >= n - 16);
    assert_true(hart_get_x(h, 12) > n / 10);
    tm_free(m);
}

static void test_bench_loop(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x10000);
    TM_CODE(m, B, ADDI(4, 1, 0), ADDI(5, 0, 1024), /* outer: */
            LD(6, 4, 0), ADD(7, 7, 6), SLLI(8, 7, 3), XOR(7, 7, 8), SD(7, 4, 0), ADDI(4, 4, 8),
            ADDI(5, 5, -1), BNE(5, 0, -28), JAL(0, -40));
    uint64_t n = insns_wanted();
    double ips = run_timed(h, n);
    print_message("loop kernel (ld/add/slli/xor/sd/addi/addi/bne): %.1f M instructions/s\n",
                  ips / 1e6);
    assert_true(h->arch.minstret >= n - 16);
    assert_int_equal(hart_get_pc(h) >= B && hart_get_pc(h) < B + 44, true);
    tm_free(m);
}

/* Table-driven CRC-32 as gcc compiles it (lbu, a table lw, sext.w):
 * what a load on the dependency chain through a guest register costs. */
static void test_bench_crc32(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (unsigned i = 0; i < 1024; i += 8) { /* table (1 KiB) and buffer (1 KiB of 2) */
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        tm_w64(m, B + 0x20000 + i, s);
        tm_w64(m, B + 0x10000 + i, s * 3);
    }
    hart_set_x(h, 1, B + 0x10000);                   /* buffer */
    hart_set_x(h, 9, B + 0x20000);                   /* table */
    TM_CODE(m, B, ADDI(10, 1, 0), ADDI(12, 1, 2047), /* outer: p, end */
            LBU(15, 10, 0), SRLIW(13, 8, 8), ADDI(10, 10, 1), XOR(15, 15, 8),
            enc_i(0xff, 15, 7, 15, 0x13) /* andi */, SLLI(15, 15, 2), ADD(15, 9, 15), LW(15, 15, 0),
            XOR(8, 15, 13), ADDIW(8, 8, 0), BNE(10, 12, -40), JAL(0, -52));
    uint64_t n = insns_wanted();
    double ips = run_timed(h, n);
    print_message("crc32 kernel (lbu/srliw/xor/andi/slli/add/lw/xor/sext.w/bne): %.1f M "
                  "instructions/s\n",
                  ips / 1e6);
    assert_true(h->arch.minstret >= n - 16);
    assert_int_equal(hart_get_pc(h) >= B && hart_get_pc(h) < B + 56, true);
    tm_free(m);
}

/* Calls and returns with compressed code in S-mode under Sv39 (TLB hits). */
static void test_bench_sv39_calls(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    /* One gigapage identity map at 0x80000000. */
    uint64_t root = B + 0x100000;
    memset(tm_ptr(m, root), 0, 4096);
    tm_w64(m, root + 2 * 8, ((B >> 12) << 10) | 0xcf);
    h->arch.satp = (8ULL << 60) | (root >> 12);
    h->arch.priv = PRV_S;
    hart_update_mmu_idx(h);
    tlb_flush_all(h);
    hart_set_x(h, 2, B + 0x20000); /* sp */
    /* main: c.addi sp,-16; c.sdsp ra,8(sp); jal f; c.ldsp ra,8(sp); c.addi sp,16; c.j main */
    const uint16_t main_code[] = {0x1141, 0xe406, 0x00ef, 0x0100, 0x60a2, 0x0141, 0xbfd5};
    /* The jal: 0x010000ef = jal ra,+16 -> f at B+0x14 (16 bytes after the jal at B+4). */
    memcpy(tm_ptr(m, B), main_code, sizeof(main_code));
    /* f at B+0x14: c.addi a0,1; c.slli a1,1; c.add a1,a0; c.ret */
    const uint16_t f_code[] = {0x0505, 0x0586, 0x95aa, 0x8082};
    memcpy(tm_ptr(m, B + 0x14), f_code, sizeof(f_code));
    uint64_t n = insns_wanted();
    double ips = run_timed(h, n);
    print_message("Sv39 call/return kernel (compressed, stack traffic): %.1f M instructions/s\n",
                  ips / 1e6);
    assert_int_equal(h->arch.priv, PRV_S);
    assert_true(hart_get_x(h, 10) > n / 12);
    tm_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_branchy),
        cmocka_unit_test(test_bench_loop),
        cmocka_unit_test(test_bench_crc32),
        cmocka_unit_test(test_bench_sv39_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
