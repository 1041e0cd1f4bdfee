/* SPDX-License-Identifier: MIT */
/* Device tests for the PLIC: registers poked through its dev_ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "dev/plic.h"
#include "dev_test.h"

#define NSRC   96
#define NHARTS 2

#define PRIO(s)      (4ULL * (s))
#define PENDING(w)   (0x1000ULL + 4 * (w))
#define ENABLE(c, w) (0x2000ULL + 0x80ULL * (c) + 4 * (w))
#define THRESHOLD(c) (0x200000ULL + 0x1000ULL * (c))
#define CLAIM(c)     (0x200004ULL + 0x1000ULL * (c))

struct fixture {
    struct plic *p;
    struct irq_rec ctx; /* line n = context n */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct irq_line lines[2 * NHARTS];
    for (unsigned i = 0; i < 2 * NHARTS; i++)
        lines[i] = irq_rec_line(&f->ctx, i);
    f->p = plic_new(NSRC, NHARTS, lines);
    assert_non_null(f->p);
    plic_ops.reset(f->p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    plic_ops.destroy(f->p);
    free(f);
    return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
    return (uint32_t)plic_ops.read(f->p, off, 4);
}

static void wr(struct fixture *f, uint64_t off, uint32_t v)
{
    plic_ops.write(f->p, off, 4, v);
}

static void enable(struct fixture *f, unsigned ctx, unsigned src)
{
    wr(f, ENABLE(ctx, src / 32), rd(f, ENABLE(ctx, src / 32)) | 1u << (src % 32));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(plic_new(1, 1, NULL));
    assert_null(plic_new(NSRC, 0, NULL));
    assert_null(plic_new(PLIC_MAX_SOURCES + 1, 1, NULL));
}

static void test_registers(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(0), 5);
    assert_int_equal(rd(f, PRIO(0)), 0); /* source 0 does not exist */
    wr(f, PRIO(5), 0xffffffff);
    assert_int_equal(rd(f, PRIO(5)), PLIC_MAX_PRIORITY); /* WARL */
    wr(f, PRIO(NSRC - 1), 3);
    assert_int_equal(rd(f, PRIO(NSRC - 1)), 3);
    assert_int_equal(rd(f, PRIO(NSRC)), 0);
    wr(f, ENABLE(1, 0), 0xffffffff);
    assert_int_equal(rd(f, ENABLE(1, 0)), 0xfffffffe);
    wr(f, ENABLE(1, 2), 0xffffffff); /* sources 64..95 */
    assert_int_equal(rd(f, ENABLE(1, 2)), 0xffffffff);
    wr(f, ENABLE(1, 3), 0xffffffff);
    assert_int_equal(rd(f, ENABLE(1, 3)), 0);
    assert_int_equal(rd(f, ENABLE(0, 0)), 0);
    wr(f, THRESHOLD(3), 0xff);
    assert_int_equal(rd(f, THRESHOLD(3)), PLIC_MAX_PRIORITY);
    wr(f, THRESHOLD(4), 1); /* no such context */
    assert_int_equal(rd(f, THRESHOLD(4)), 0);
    for (unsigned c = 0; c < 2 * NHARTS; c++)
        assert_false(f->ctx.level[c]);
}

static void test_level_claim_complete(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(10), 1);
    enable(f, 1, 10);
    plic_set_source(f->p, 10, true);
    assert_int_equal(rd(f, PENDING(0)), 1u << 10);
    assert_true(f->ctx.level[1]);
    assert_false(f->ctx.level[0]); /* not enabled for M-mode */
    assert_int_equal(rd(f, CLAIM(1)), 10);
    assert_false(f->ctx.level[1]);
    assert_int_equal(rd(f, PENDING(0)), 0);
    assert_int_equal(rd(f, CLAIM(1)), 0);
    /* While in service, the still-high line does not pend again. */
    plic_set_source(f->p, 10, true);
    assert_int_equal(rd(f, PENDING(0)), 0);
    assert_false(f->ctx.level[1]);
    /* Completing with the line still high makes it pending again. */
    wr(f, CLAIM(1), 10);
    assert_int_equal(rd(f, PENDING(0)), 1u << 10);
    assert_true(f->ctx.level[1]);
    assert_int_equal(rd(f, CLAIM(1)), 10);
    plic_set_source(f->p, 10, false);
    wr(f, CLAIM(1), 10);
    assert_int_equal(rd(f, PENDING(0)), 0);
    assert_false(f->ctx.level[1]);
}

static void test_line_drop_withdraws(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(3), 1);
    enable(f, 0, 3);
    plic_set_source(f->p, 3, true);
    assert_true(f->ctx.level[0]);
    plic_set_source(f->p, 3, false);
    assert_false(f->ctx.level[0]);
    assert_int_equal(rd(f, CLAIM(0)), 0);
}

static void test_priority_and_threshold(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(40), 2);
    wr(f, PRIO(70), 5);
    wr(f, PRIO(20), 5);
    enable(f, 2, 40);
    enable(f, 2, 70);
    enable(f, 2, 20);
    plic_set_source(f->p, 40, true);
    plic_set_source(f->p, 70, true);
    assert_int_equal(rd(f, PENDING(1)), 1u << 8);
    assert_int_equal(rd(f, PENDING(2)), 1u << 6);
    assert_true(f->ctx.level[2]);
    wr(f, THRESHOLD(2), 5);
    assert_false(f->ctx.level[2]); /* nothing above the threshold */
    wr(f, THRESHOLD(2), 4);
    assert_true(f->ctx.level[2]);
    /* Equal priorities go to the lowest id; claims ignore the threshold. */
    plic_set_source(f->p, 20, true);
    wr(f, THRESHOLD(2), 7);
    assert_false(f->ctx.level[2]);
    assert_int_equal(rd(f, CLAIM(2)), 20);
    assert_int_equal(rd(f, CLAIM(2)), 70);
    assert_int_equal(rd(f, CLAIM(2)), 40);
    assert_int_equal(rd(f, CLAIM(2)), 0);
    /* Priority 0 never interrupts. */
    wr(f, PRIO(41), 0);
    enable(f, 2, 41);
    wr(f, THRESHOLD(2), 0);
    plic_set_source(f->p, 41, true);
    assert_false(f->ctx.level[2]);
    assert_int_equal(rd(f, CLAIM(2)), 0);
    wr(f, PRIO(41), 1);
    assert_true(f->ctx.level[2]);
}

static void test_complete_needs_enable(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(7), 1);
    enable(f, 3, 7);
    plic_set_source(f->p, 7, true);
    assert_int_equal(rd(f, CLAIM(3)), 7);
    wr(f, ENABLE(3, 0), 0);
    wr(f, CLAIM(3), 7); /* not enabled: ignored */
    enable(f, 3, 7);
    assert_false(f->ctx.level[3]);
    wr(f, CLAIM(3), 7);
    assert_true(f->ctx.level[3]);
    wr(f, CLAIM(3), 0); /* bogus ids are harmless */
    wr(f, CLAIM(3), 5000);
}

static void test_two_contexts_one_source(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(9), 1);
    enable(f, 1, 9);
    enable(f, 3, 9);
    plic_set_source(f->p, 9, true);
    assert_true(f->ctx.level[1]);
    assert_true(f->ctx.level[3]);
    assert_int_equal(rd(f, CLAIM(3)), 9);
    assert_false(f->ctx.level[1]);
    assert_int_equal(rd(f, CLAIM(1)), 0);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(9), 1);
    enable(f, 1, 9);
    plic_set_source(f->p, 9, true);
    assert_int_equal(rd(f, CLAIM(1)), 9);
    plic_ops.reset(f->p);
    assert_int_equal(rd(f, PRIO(9)), 0);
    assert_int_equal(rd(f, ENABLE(1, 0)), 0);
    /* The line is still high, so after reset it is pending again. */
    assert_int_equal(rd(f, PENDING(0)), 1u << 9);
    assert_false(f->ctx.level[1]);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    wr(f, PRIO(1), 1);
    wr(f, PRIO(2), 6);
    wr(f, PRIO(95), 7);
    enable(f, 0, 1);
    enable(f, 1, 2);
    enable(f, 3, 95);
    wr(f, THRESHOLD(0), 2);
    plic_set_source(f->p, 1, true);
    plic_set_source(f->p, 2, true);
    plic_set_source(f->p, 95, true);
    assert_int_equal(rd(f, CLAIM(1)), 2);
    assert_false(f->ctx.level[0]);
    assert_true(f->ctx.level[3]);
    dev_roundtrip(&plic_ops, f->p);
    assert_int_equal(rd(f, PRIO(95)), 7);
    assert_int_equal(rd(f, THRESHOLD(0)), 2);
    assert_false(f->ctx.level[0]);
    assert_false(f->ctx.level[1]);
    assert_true(f->ctx.level[3]);
    wr(f, CLAIM(1), 2); /* completion survives the round trip */
    assert_true(f->ctx.level[1]);
}

static void test_load_validates(void **state)
{
    struct fixture *f = *state;
    struct plic *other = plic_new(32, 1, NULL);
    struct state_writer w;
    dev_save(&plic_ops, other, &w);
    assert_false(dev_load(&plic_ops, f->p, w.buf, w.len)); /* geometry differs */
    state_writer_free(&w);
    plic_ops.destroy(other);

    dev_save(&plic_ops, f->p, &w);
    /* Corrupt source 1's priority (just after nsrc, nctx and source 0). */
    size_t hdr = 1 + strlen("plic") + 4 + 8;
    w.buf[hdr + 12] = 9;
    assert_false(dev_load(&plic_ops, f->p, w.buf, w.len));
    assert_int_equal(rd(f, PRIO(1)), 0);
    state_writer_free(&w);
}

static void test_hostile_accesses(void **state)
{
    struct fixture *f = *state;
    static const uint64_t offs[] = {0x1000 + 4 * 3, 0x1fff,   0x2000 + 0x80 * 4,
                                    0x1ffffc,       0x200008, 0x204000,
                                    0x3ffffc,       0x5ffffc, UINT64_MAX - 3};
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        plic_ops.write(f->p, offs[i], 4, 0xffffffff);
        assert_int_equal(plic_ops.read(f->p, offs[i], 4), 0);
    }
    plic_ops.write(f->p, PRIO(1), 1, 7); /* wrong size: ignored */
    plic_ops.write(f->p, PRIO(1) + 1, 4, 7);
    assert_int_equal(rd(f, PRIO(1)), 0);
    wr(f, PENDING(0), 0xffffffff); /* pending is read-only */
    assert_int_equal(rd(f, PENDING(0)), 0);
    plic_set_source(f->p, 0, true);
    plic_set_source(f->p, NSRC, true);
    plic_set_source(f->p, UINT32_MAX, true);
    assert_int_equal(rd(f, PENDING(0)), 0);
    assert_int_equal(rd(f, PENDING(3)), 0);
}

static void test_source_line(void **state)
{
    struct fixture *f = *state;
    struct irq_line l = plic_source_line(f->p, 33);
    irq_set(&l, true);
    assert_int_equal(rd(f, PENDING(1)), 2);
}

struct raiser {
    struct plic *p;
    unsigned first;
};

static void *raise_sources(void *arg)
{
    struct raiser *r = arg;
    for (unsigned s = r->first; s < r->first + 20; s++) {
        plic_set_source(r->p, s, true);
        plic_set_source(r->p, s, false);
        plic_set_source(r->p, s, true);
    }
    return NULL;
}

/* plic_set_source from several threads while a hart claims: every raised
 * source is claimed exactly once. */
static void test_concurrent_sources(void **state)
{
    struct fixture *f = *state;
    for (unsigned s = 1; s <= 80; s++) {
        wr(f, PRIO(s), 1);
        enable(f, 1, s);
    }
    pthread_t th[4];
    struct raiser r[4];
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (struct raiser){.p = f->p, .first = 1 + 20 * i};
        assert_int_equal(pthread_create(&th[i], NULL, raise_sources, &r[i]), 0);
    }
    bool seen[81] = {false};
    unsigned count = 0;
    for (unsigned spins = 0; count < 80 && spins < 10000000; spins++) {
        uint32_t s = rd(f, CLAIM(1));
        if (!s)
            continue;
        assert_true(s >= 1 && s <= 80);
        assert_false(seen[s]);
        seen[s] = true;
        count++;
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(count, 80);
    assert_int_equal(rd(f, CLAIM(1)), 0);
    /* All still high and in service: completing makes them pending again. */
    wr(f, CLAIM(1), 80);
    assert_int_equal(rd(f, CLAIM(1)), 80);
}

static void test_fdt(void **state)
{
    struct fixture *f = *state;
    void *fdt = dev_test_fdt(NHARTS);
    struct dev_placement where = {.base = 0x0c000000, .size = 0x600000, .phandle_plic = 3};
    plic_ops.fdt(f->p, fdt, &where);
    const char *path = "/soc/plic@c000000";
    uint32_t c[16];
    assert_int_equal(dev_fdt_cells(fdt, path, "reg", c, 16), 4);
    assert_int_equal(c[1], 0x0c000000);
    assert_int_equal(c[3], 0x600000);
    assert_int_equal(dev_fdt_cells(fdt, path, "riscv,ndev", c, 16), 1);
    assert_int_equal(c[0], NSRC - 1);
    assert_int_equal(dev_fdt_cells(fdt, path, "#interrupt-cells", c, 16), 1);
    assert_int_equal(c[0], 1);
    assert_int_equal(dev_fdt_cells(fdt, path, "#address-cells", c, 16), 1);
    assert_int_equal(c[0], 0);
    assert_int_equal(dev_fdt_cells(fdt, path, "phandle", c, 16), 1);
    assert_int_equal(c[0], 3);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupt-controller", c, 16), 0);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupts-extended", c, 16), 8);
    uint32_t want[8] = {0x10, 11, 0x10, 9, 0x11, 11, 0x11, 9};
    assert_memory_equal(c, want, sizeof(want));
    int node = fdt_path_offset(fdt, path);
    assert_int_equal(fdt_node_check_compatible(fdt, node, "riscv,plic0"), 0);
    assert_int_equal(fdt_node_check_compatible(fdt, node, "sifive,plic-1.0.0"), 0);
    free(fdt);

    /* Phandles set by the board win over the tree's. */
    fdt = dev_test_fdt(NHARTS);
    uint32_t ph[NHARTS] = {0x41, 0x42};
    plic_set_cpu_phandles(f->p, ph, NHARTS);
    plic_ops.fdt(f->p, fdt, &where);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupts-extended", c, 16), 8);
    assert_int_equal(c[0], 0x41);
    assert_int_equal(c[4], 0x42);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_claim_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_drop_withdraws, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_needs_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_contexts_one_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_validates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
