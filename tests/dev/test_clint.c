/* SPDX-License-Identifier: MIT */
/* Device tests for the CLINT, with a fake event loop for its timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/clint.h"
#include "dev_test.h"
#include "fake_evloop.h"

#define NHARTS      2
#define MSIP(h)     (4ULL * (h))
#define MTIMECMP(h) (0x4000ULL + 8 * (h))
#define MTIME       0xbff8ULL
#define SECOND      VCLOCK_HZ

/* Lines 0..NHARTS-1 are MTIP, NHARTS.. are MSIP. */
struct fixture {
    struct vclock clock;
    struct clint *c;
    struct irq_rec irq;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct irq_line mtip[NHARTS], msip[NHARTS];
    for (unsigned i = 0; i < NHARTS; i++) {
        mtip[i] = irq_rec_line(&f->irq, i);
        msip[i] = irq_rec_line(&f->irq, NHARTS + i);
    }
    vclock_init(&f->clock);
    vclock_set(&f->clock, 1000 * SECOND);
    f->c = clint_new(&f->clock, (struct evloop *)f /* any non-NULL */, NHARTS, mtip, msip);
    assert_non_null(f->c);
    assert_int_equal(fake_timers_live(), NHARTS);
    clint_ops.reset(f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clint_ops.destroy(f->c);
    assert_int_equal(fake_timers_live(), 0);
    free(f);
    return 0;
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned size)
{
    return clint_ops.read(f->c, off, size);
}

static void wr(struct fixture *f, uint64_t off, unsigned size, uint64_t v)
{
    clint_ops.write(f->c, off, size, v);
}

static bool mtip(struct fixture *f, unsigned h)
{
    return f->irq.level[h];
}

static bool msip(struct fixture *f, unsigned h)
{
    return f->irq.level[NHARTS + h];
}

/* Moves the virtual clock forward as if time had passed. */
static void advance(struct fixture *f, uint64_t ticks)
{
    f->clock.offset_ns -= (int64_t)(ticks * NS_PER_TICK);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    for (unsigned h = 0; h < NHARTS; h++) {
        assert_int_equal(rd(f, MSIP(h), 4), 0);
        assert_true(rd(f, MTIMECMP(h), 8) == UINT64_MAX);
        assert_false(mtip(f, h));
        assert_false(msip(f, h));
    }
    assert_null(clint_new(&f->clock, NULL, 0, NULL, NULL));
}

static void test_msip(void **state)
{
    struct fixture *f = *state;
    wr(f, MSIP(1), 4, 0xffffffff);
    assert_int_equal(rd(f, MSIP(1), 4), 1);
    assert_true(msip(f, 1));
    assert_false(msip(f, 0));
    wr(f, MSIP(1), 4, 0xfffffffe);
    assert_false(msip(f, 1));
    /* A 64-bit access covers two harts' words. */
    wr(f, MSIP(0), 8, 0x100000001ULL);
    assert_true(msip(f, 0));
    assert_true(msip(f, 1));
    assert_int_equal(rd(f, MSIP(0), 8), 0x100000001ULL);
}

static void test_mtime(void **state)
{
    struct fixture *f = *state;
    uint64_t t = rd(f, MTIME, 8);
    assert_true(t >= 1000 * SECOND && t < 1001 * SECOND);
    uint64_t lo = rd(f, MTIME, 4), hi = rd(f, MTIME + 4, 4);
    assert_true(((hi << 32) | lo) - t < SECOND);
    wr(f, MTIME, 8, 5 * SECOND);
    t = vclock_mtime(&f->clock);
    assert_true(t >= 5 * SECOND && t < 6 * SECOND);
    wr(f, MTIME + 4, 4, 2);
    t = rd(f, MTIME, 8);
    assert_true(t >> 32 == 2);
    /* Time goes on. */
    uint64_t a = rd(f, MTIME, 8);
    advance(f, 100);
    assert_true(rd(f, MTIME, 8) >= a + 100);
}

static void test_timer_interrupt(void **state)
{
    struct fixture *f = *state;
    uint64_t now = rd(f, MTIME, 8);
    /* A compare value in the past raises MTIP at once. */
    wr(f, MTIMECMP(0), 8, now - 10);
    assert_true(mtip(f, 0));
    assert_false(mtip(f, 1));
    /* Writing a future value lowers it and arms the timer. */
    uint64_t cmp = now + 10 * SECOND;
    wr(f, MTIMECMP(0), 8, cmp);
    assert_false(mtip(f, 0));
    uint64_t deadline = vclock_deadline_ns(&f->clock, cmp);
    assert_int_equal(fake_timers_run(deadline - 1), 0);
    /* Firing before the guest time got there changes nothing. */
    assert_int_equal(fake_timers_run(deadline), 1);
    assert_false(mtip(f, 0));
    assert_int_equal(fake_timers_run(deadline), 1); /* re-armed */
    advance(f, 10 * SECOND);
    assert_int_equal(fake_timers_run(deadline), 1);
    assert_true(mtip(f, 0));
    assert_int_equal(fake_timers_run(UINT64_MAX - 1), 0); /* disarmed */
    assert_int_equal(rd(f, MTIMECMP(0), 8), cmp);
}

static void test_mtimecmp_halves(void **state)
{
    struct fixture *f = *state;
    uint64_t now = rd(f, MTIME, 8);
    /* The usual RV32 sequence: low = -1, high, low. */
    uint64_t cmp = now + SECOND;
    wr(f, MTIMECMP(1), 4, 0xffffffff);
    wr(f, MTIMECMP(1) + 4, 4, cmp >> 32);
    wr(f, MTIMECMP(1), 4, (uint32_t)cmp);
    assert_int_equal(rd(f, MTIMECMP(1), 8), cmp);
    assert_int_equal(rd(f, MTIMECMP(1), 4), (uint32_t)cmp);
    assert_int_equal(rd(f, MTIMECMP(1) + 4, 4), cmp >> 32);
    assert_false(mtip(f, 1));
    /* Moving mtime past the compare value raises MTIP. */
    wr(f, MTIME, 8, cmp + 5);
    assert_true(mtip(f, 1));
    wr(f, MTIME, 8, 0);
    assert_false(mtip(f, 1));
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    uint64_t now = rd(f, MTIME, 8);
    wr(f, MSIP(1), 4, 1);
    wr(f, MTIMECMP(0), 8, now - 1);
    wr(f, MTIMECMP(1), 8, now + 100 * SECOND);
    struct state_writer w;
    dev_save(&clint_ops, f->c, &w);
    clint_ops.reset(f->c);
    assert_false(msip(f, 1));
    assert_false(mtip(f, 0));
    wr(f, MTIME, 8, 1);
    assert_true(dev_load(&clint_ops, f->c, w.buf, w.len));
    assert_true(msip(f, 1));
    assert_true(mtip(f, 0));
    assert_false(mtip(f, 1));
    assert_int_equal(rd(f, MTIMECMP(1), 8), now + 100 * SECOND);
    uint64_t t = rd(f, MTIME, 8);
    assert_true(t >= now && t - now < SECOND);

    /* Truncated streams and wrong versions are refused without effect. */
    size_t hdr = 1 + strlen("clint") + 4 + 8;
    for (size_t cut = 1; cut <= w.len - hdr; cut++) {
        uint64_t payload = w.len - hdr - cut;
        for (unsigned i = 0; i < 8; i++)
            w.buf[hdr - 8 + i] = (uint8_t)(payload >> (8 * i));
        assert_false(dev_load(&clint_ops, f->c, w.buf, w.len - cut));
    }
    assert_true(msip(f, 1));
    assert_int_equal(rd(f, MTIMECMP(1), 8), now + 100 * SECOND);
    state_writer_free(&w);

    struct state_reader r;
    char name[16];
    uint32_t v;
    dev_save(&clint_ops, f->c, &w);
    state_reader_init(&r, w.buf, w.len);
    assert_true(state_next_section(&r, name, sizeof(name), &v));
    assert_false(clint_ops.load(f->c, &r, 2));
    /* An msip value a register cannot hold. */
    w.buf[hdr + 4 + 8] = 2;
    assert_false(dev_load(&clint_ops, f->c, w.buf, w.len));
    state_writer_free(&w);
}

static void test_hostile_accesses(void **state)
{
    struct fixture *f = *state;
    static const uint64_t offs[] = {MSIP(NHARTS), 0x3ffc, MTIMECMP(NHARTS), 0xbff0,
                                    0xc000,       0xfffc, UINT64_MAX - 7};
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        wr(f, offs[i], 4, 0xffffffff);
        wr(f, offs[i], 8, UINT64_MAX);
        assert_int_equal(rd(f, offs[i], 4), 0);
        assert_int_equal(rd(f, offs[i], 8), 0);
    }
    wr(f, MTIMECMP(0) + 4, 8, 0); /* misaligned 64-bit: ignored */
    wr(f, MSIP(0) + 2, 4, 1);
    assert_true(rd(f, MTIMECMP(0), 8) == UINT64_MAX);
    assert_false(msip(f, 0));
    for (unsigned h = 0; h < NHARTS; h++)
        assert_false(mtip(f, h));
}

static void test_fdt(void **state)
{
    struct fixture *f = *state;
    void *fdt = dev_test_fdt(NHARTS);
    struct dev_placement where = {.base = 0x2000000, .size = 0x10000};
    clint_ops.fdt(f->c, fdt, &where);
    const char *path = "/soc/clint@2000000";
    uint32_t c[16];
    assert_int_equal(dev_fdt_cells(fdt, path, "reg", c, 16), 4);
    assert_int_equal(c[1], 0x2000000);
    assert_int_equal(c[3], 0x10000);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupts-extended", c, 16), 8);
    uint32_t want[8] = {0x10, 3, 0x10, 7, 0x11, 3, 0x11, 7};
    assert_memory_equal(c, want, sizeof(want));
    int node = fdt_path_offset(fdt, path);
    assert_int_equal(fdt_node_check_compatible(fdt, node, "sifive,clint0"), 0);
    assert_int_equal(fdt_node_check_compatible(fdt, node, "riscv,clint0"), 0);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtimecmp_halves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
