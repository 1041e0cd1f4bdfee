/* SPDX-License-Identifier: MIT */
/*
 * The dirty-page log (mem/bus.h, cpu/hart.c): every write path into guest
 * RAM marks its page while the log is on — interpreted and compiled
 * stores, AMOs, page-table A/D updates, device DMA and loaders — and a
 * take re-arms the harts so the next write to the same page is marked
 * again.  test_precopy_converges plays a migration's pre-copy against a
 * hart running on its own thread and checks that the copy ends up equal
 * to RAM: a lost mark would leave a stale page in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>

#include "test_cpu_asm.h"

#define B               TEST_RAM_BASE
#define ANDI(rd, rs, i) enc_i(i, rs, 7, rd, 0x13)
#define DATA            (B + 0x200000) /* pages the programs write */
#define NPAGES          (TEST_RAM_SIZE >> 12)

static uint64_t page_of(uint64_t pa)
{
    return (pa - B) >> 12;
}

static bool marked(const uint64_t *bm, uint64_t pa)
{
    uint64_t n = page_of(pa);
    return (bm[n / 64] >> (n % 64)) & 1;
}

/* What board_dirty_log_start/take do, for a machine without a board. */
static void rearm(struct test_machine *m)
{
    atomic_fetch_add(&m->bus.dirty_gen, 1);
    hart_dirty_log_sync(m->h);
}
static void log_start(struct test_machine *m)
{
    assert_true(bus_dirty_log_start(&m->bus));
    rearm(m);
}
static uint64_t take(struct test_machine *m, uint64_t *bm)
{
    uint64_t n = bus_dirty_log_take(&m->bus, bm);
    rearm(m);
    return n;
}

/* Two stores to two pages in a loop, interpreted or compiled. */
static void stores(bool jit)
{
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    hart_set_jit(h, jit, 1);
    uint64_t bm[NPAGES / 64];
    hart_set_x(h, 5, DATA);
    hart_set_x(h, 8, DATA + 0x5000 + 8);
    hart_set_x(h, 6, 0x1234);
    TM_CODE(m, B, SD(6, 5, 0), SD(6, 8, 0), ADDI(6, 6, 1), JAL(0, -12));
    hart_step(h, 3000); /* the log is off: nothing is recorded */
    log_start(m);
    assert_int_equal(bus_dirty_log_take(&m->bus, bm), 0);

    for (int round = 0; round < 3; round++) {
        hart_step(h, 3000);
        assert_int_equal(take(m, bm), 2);
        assert_true(marked(bm, DATA));
        assert_true(marked(bm, DATA + 0x5000));
        assert_false(marked(bm, B)); /* the code page is only read */
        assert_int_equal(take(m, bm), 0);
    }
    bus_dirty_log_stop(&m->bus);
    hart_step(h, 3000);
    assert_int_equal(bus_dirty_log_take(&m->bus, bm), 0);
    tm_free(m);
}
static void test_interpreted_stores(void **state)
{
    (void)state;
    stores(false);
}
static void test_compiled_stores(void **state)
{
    (void)state;
    stores(true);
}

/* A store to a page holding decoded code takes the slow path always. */
static void test_store_to_code_page(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    uint64_t bm[NPAGES / 64];
    hart_set_x(h, 5, B + 0x800);
    TM_CODE(m, B, SD(0, 5, 0), JAL(0, -4));
    log_start(m);
    hart_step(h, 100);
    assert_int_equal(take(m, bm), 1);
    assert_true(marked(bm, B));
    tm_free(m);
}

static void test_amo(void **state)
{
    (void)state;
    for (int jit = 0; jit < 2; jit++) {
        struct test_machine *m = tm_new();
        struct hart *h = m->h;
        hart_set_jit(h, jit, 1);
        uint64_t bm[NPAGES / 64];
        hart_set_x(h, 5, DATA + 0x3000);
        hart_set_x(h, 6, 1);
        TM_CODE(m, B, AMOADD_D(7, 5, 6), JAL(0, -4));
        log_start(m);
        for (int round = 0; round < 2; round++) {
            hart_step(h, 200);
            assert_int_equal(take(m, bm), 1);
            assert_true(marked(bm, DATA + 0x3000));
        }
        tm_free(m);
    }
}

/* The walker setting A and D writes the page table: that page is dirty. */
static void test_page_table_ad_updates(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    uint64_t bm[NPAGES / 64];
    uint64_t root = B + 0x100000;
    memset(tm_ptr(m, root), 0, 4096);
    /* One 1 GiB leaf mapping 0x80000000 to itself, A and D clear. */
    tm_w64(m, root + 2 * 8, ((B >> 12) << 10) | 0xf /* V R W X */);
    h->arch.satp = ((uint64_t)SATP_MODE_SV39 << 60) | (root >> 12);
    h->arch.priv = PRV_S;
    hart_update_mmu_idx(h);
    hart_set_x(h, 5, DATA);
    TM_CODE(m, B, SD(0, 5, 0), JAL(0, -4));
    log_start(m);
    hart_step(h, 50);
    take(m, bm);
    assert_true(marked(bm, root));
    assert_true(marked(bm, DATA));
    assert_int_equal(tm_r64(m, root + 2 * 8) & 0xc0, 0xc0); /* A and D set */
    tm_free(m);
}

/* Device DMA, loaders (bus_ram_written) and slow-path bus writes. */
static void test_dma_and_loaders(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    uint64_t bm[NPAGES / 64];
    uint8_t buf[3 * 4096] = {1};
    log_start(m);
    assert_true(bus_dma_write(&m->bus, DATA + 4000, buf, 200)); /* straddles 2 pages */
    assert_int_equal(take(m, bm), 2);
    assert_true(marked(bm, DATA) && marked(bm, DATA + 0x1000));

    memset(tm_ptr(m, DATA + 0x10000), 7, sizeof(buf)); /* a loader's write */
    bus_ram_written(&m->bus, DATA + 0x10000, sizeof(buf));
    assert_int_equal(take(m, bm), 3);

    assert_true(bus_write(&m->bus, DATA + 0x20000, 8, 42));
    assert_int_equal(take(m, bm), 1);
    assert_true(marked(bm, DATA + 0x20000));

    /* Past the end of RAM: clipped, never out of the bitmap. */
    bus_ram_written(&m->bus, B + TEST_RAM_SIZE - 4096, 1 << 20);
    assert_int_equal(take(m, bm), 1);
    assert_true(marked(bm, B + TEST_RAM_SIZE - 4096));
    tm_free(m);
}

/* ---- pre-copy against a running hart ---- */

struct runner {
    struct hart *h;
};
static void *run_hart(void *arg)
{
    hart_run(((struct runner *)arg)->h);
    return NULL;
}

static void precopy(bool jit)
{
    enum { N = 64 };
    struct test_machine *m = tm_new();
    struct hart *h = m->h;
    hart_set_jit(h, jit, 1);
    uint64_t bm[NPAGES / 64];
    /* x6 counts; each store goes to page x6 % 64 at an offset moving
     * with the count, so every round leaves different bytes. */
    hart_set_x(h, 5, DATA);
    TM_CODE(m, B, ANDI(7, 6, N - 1), SLLI(7, 7, 12), ADD(7, 7, 5), ANDI(28, 6, 0x7f8),
            ADD(7, 7, 28), SD(6, 7, 0), ADDI(6, 6, 1), JAL(0, -28));
    uint8_t *shadow = malloc(N * 4096);
    log_start(m);
    memcpy(shadow, tm_ptr(m, DATA), N * 4096); /* the bulk round */
    struct runner r = {h};
    pthread_t t;
    pthread_create(&t, NULL, run_hart, &r);
    uint64_t total = 0;
    for (int round = 0; round < 50; round++) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        total += take(m, bm);
        for (unsigned p = 0; p < N; p++)
            if (marked(bm, DATA + p * 4096ULL))
                memcpy(shadow + p * 4096, tm_ptr(m, DATA + p * 4096ULL), 4096);
    }
    hart_stop(h);
    pthread_join(t, NULL);
    take(m, bm); /* stop-and-copy */
    for (unsigned p = 0; p < N; p++)
        if (marked(bm, DATA + p * 4096ULL))
            memcpy(shadow + p * 4096, tm_ptr(m, DATA + p * 4096ULL), 4096);
    assert_true(hart_get_x(h, 6) > 10000); /* the guest did run */
    assert_true(total > N);                /* and was tracked across rounds */
    for (unsigned p = 0; p < N; p++)
        if (memcmp(shadow + p * 4096, tm_ptr(m, DATA + p * 4096ULL), 4096) != 0)
            fail_msg("page %u differs from its copy: a write was not logged", p);
    free(shadow);
    tm_free(m);
}
static void test_precopy_interpreted(void **state)
{
    (void)state;
    precopy(false);
}
static void test_precopy_compiled(void **state)
{
    (void)state;
    precopy(true);
}

/* Auto-converge's brake: with bus.throttle_pct at 90 a running hart gets
 * through far fewer instructions in the same time. */
static uint64_t run_for_ms(struct test_machine *m, unsigned ms)
{
    struct runner r = {m->h};
    pthread_t t;
    uint64_t before = hart_get_x(m->h, 6);
    pthread_create(&t, NULL, run_hart, &r);
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
    hart_stop(m->h);
    pthread_join(t, NULL);
    return hart_get_x(m->h, 6) - before;
}

static void test_throttle(void **state)
{
    (void)state;
    struct test_machine *m = tm_new();
    TM_CODE(m, B, ADDI(6, 6, 1), JAL(0, -4));
    hart_set_jit(m->h, false, 0);
    uint64_t full = run_for_ms(m, 200);
    atomic_store(&m->bus.throttle_pct, 90);
    uint64_t slow = run_for_ms(m, 200);
    atomic_store(&m->bus.throttle_pct, 0);
    assert_true(full > 0);
    if (slow * 2 > full)
        fail_msg("throttled to 90%%: %llu iterations, unthrottled %llu", (unsigned long long)slow,
                 (unsigned long long)full);
    tm_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpreted_stores),
        cmocka_unit_test(test_compiled_stores),
        cmocka_unit_test(test_store_to_code_page),
        cmocka_unit_test(test_amo),
        cmocka_unit_test(test_page_table_ad_updates),
        cmocka_unit_test(test_dma_and_loaders),
        cmocka_unit_test(test_precopy_interpreted),
        cmocka_unit_test(test_precopy_compiled),
        cmocka_unit_test(test_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
