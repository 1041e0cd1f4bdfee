/* SPDX-License-Identifier: MIT */
/* Device tests for the Goldfish RTC, with a fake event loop for its alarm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "dev/goldfish_rtc.h"
#include "dev_test.h"
#include "fake_evloop.h"
#include "host/vclock.h"

#define TIME_LOW        0x00
#define TIME_HIGH       0x04
#define ALARM_LOW       0x08
#define ALARM_HIGH      0x0c
#define IRQ_ENABLED     0x10
#define CLEAR_ALARM     0x14
#define ALARM_STATUS    0x18
#define CLEAR_INTERRUPT 0x1c
#define SEC             1000000000ULL

struct fixture {
    struct goldfish_rtc *r;
    struct irq_rec irq;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct irq_line line = irq_rec_line(&f->irq, 11);
    f->r = goldfish_rtc_new((struct evloop *)f, &line);
    assert_non_null(f->r);
    goldfish_rtc_ops.reset(f->r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    goldfish_rtc_ops.destroy(f->r);
    assert_int_equal(fake_timers_live(), 0);
    free(f);
    return 0;
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
    return (uint32_t)goldfish_rtc_ops.read(f->r, off, 4);
}

static void wr(struct fixture *f, uint64_t off, uint32_t v)
{
    goldfish_rtc_ops.write(f->r, off, 4, v);
}

/* Reads the time the way Linux does: low (latching high), then high. */
static uint64_t read_time(struct fixture *f)
{
    uint64_t lo = rd(f, TIME_LOW);
    return (uint64_t)rd(f, TIME_HIGH) << 32 | lo;
}

static void set_time(struct fixture *f, uint64_t t)
{
    wr(f, TIME_HIGH, (uint32_t)(t >> 32));
    wr(f, TIME_LOW, (uint32_t)t);
}

static void set_alarm(struct fixture *f, uint64_t t)
{
    wr(f, ALARM_HIGH, (uint32_t)(t >> 32));
    wr(f, ALARM_LOW, (uint32_t)t);
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static bool irq(struct fixture *f)
{
    return f->irq.level[11];
}

static void test_time_is_host_time(void **state)
{
    struct fixture *f = *state;
    uint64_t before = realtime_ns();
    uint64_t t = read_time(f);
    uint64_t after = realtime_ns();
    assert_true(t >= before && t <= after);
    assert_int_equal(rd(f, IRQ_ENABLED), 0);
    assert_int_equal(rd(f, ALARM_STATUS), 0);
    assert_false(irq(f));
}

static void test_time_high_is_latched(void **state)
{
    struct fixture *f = *state;
    /* Just below a 2^32 ns boundary: high must match the low it was read with. */
    uint64_t t = 0x12ffffffffULL - 20000000ULL;
    set_time(f, t);
    uint32_t lo = rd(f, TIME_LOW);
    struct timespec ts = {0, 30000000};
    nanosleep(&ts, NULL);
    uint32_t hi = rd(f, TIME_HIGH);
    assert_int_equal(hi, 0x12);
    assert_true(lo >= 0xffffffffU - 20000000U);
    assert_int_equal(rd(f, TIME_HIGH), 0x12); /* unchanged until TIME_LOW is read */
    assert_true(rd(f, TIME_LOW) < 0x10000000U);
    assert_int_equal(rd(f, TIME_HIGH), 0x13);
}

static void test_set_time(void **state)
{
    struct fixture *f = *state;
    uint64_t y2000 = 946684800ULL * SEC;
    set_time(f, y2000);
    uint64_t t = read_time(f);
    assert_true(t >= y2000 && t - y2000 < SEC);
    /* Survives a reset, like a battery-backed clock. */
    goldfish_rtc_ops.reset(f->r);
    t = read_time(f);
    assert_true(t >= y2000 && t - y2000 < SEC);
    /* TIME_LOW alone keeps the current high half. */
    wr(f, TIME_LOW, 0);
    t = read_time(f);
    assert_true(t >= (y2000 & ~0xffffffffULL) && t - (y2000 & ~0xffffffffULL) < SEC);
}

static void test_alarm_in_the_past(void **state)
{
    struct fixture *f = *state;
    wr(f, IRQ_ENABLED, 1);
    set_alarm(f, read_time(f) - SEC);
    assert_true(irq(f));
    assert_int_equal(rd(f, ALARM_STATUS), 0);
    wr(f, CLEAR_INTERRUPT, 1);
    assert_false(irq(f));
}

static void test_alarm_timer(void **state)
{
    struct fixture *f = *state;
    wr(f, IRQ_ENABLED, 1);
    uint64_t now = read_time(f);
    set_alarm(f, now + 50000000ULL);
    assert_int_equal(rd(f, ALARM_STATUS), 1);
    assert_int_equal(rd(f, ALARM_LOW), (uint32_t)(now + 50000000ULL));
    assert_int_equal(rd(f, ALARM_HIGH), (now + 50000000ULL) >> 32);
    assert_false(irq(f));
    uint64_t mono = host_monotonic_ns();
    assert_int_equal(fake_timers_run(mono), 0); /* not due yet */
    struct timespec ts = {0, 60000000};
    nanosleep(&ts, NULL);
    assert_int_equal(fake_timers_run(host_monotonic_ns()), 1);
    assert_true(irq(f));
    assert_int_equal(rd(f, ALARM_STATUS), 0);
    /* Masking the interrupt lowers the line but keeps it pending. */
    wr(f, IRQ_ENABLED, 0);
    assert_false(irq(f));
    wr(f, IRQ_ENABLED, 1);
    assert_true(irq(f));
    wr(f, CLEAR_INTERRUPT, 1);
    assert_false(irq(f));
}

static void test_clear_alarm_and_time_jump(void **state)
{
    struct fixture *f = *state;
    wr(f, IRQ_ENABLED, 1);
    uint64_t now = read_time(f);
    set_alarm(f, now + 100 * SEC);
    wr(f, CLEAR_ALARM, 1);
    assert_int_equal(rd(f, ALARM_STATUS), 0);
    assert_int_equal(fake_timers_run(UINT64_MAX - 1), 0);
    /* Moving the clock past an armed alarm fires it. */
    set_alarm(f, now + 100 * SEC);
    assert_false(irq(f));
    set_time(f, now + 200 * SEC);
    assert_true(irq(f));
    assert_int_equal(rd(f, ALARM_STATUS), 0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    set_time(f, 1700000000ULL * SEC);
    wr(f, IRQ_ENABLED, 1);
    uint64_t now = read_time(f);
    set_alarm(f, now + 1000 * SEC);
    wr(f, TIME_HIGH, 0x1234); /* half-written time */
    dev_roundtrip(&goldfish_rtc_ops, f->r);
    assert_int_equal(rd(f, ALARM_STATUS), 1);
    assert_int_equal(rd(f, IRQ_ENABLED), 1);
    uint64_t t = read_time(f);
    assert_true(t >= now && t - now < SEC);
    assert_int_equal(fake_timers_run(UINT64_MAX - 1), 1); /* re-armed after load */
    assert_false(irq(f));
    /* The half-written TIME_HIGH survived and completes now. */
    wr(f, TIME_LOW, 0);
    assert_true(rd(f, TIME_LOW) < SEC);
    assert_int_equal(rd(f, TIME_HIGH), 0x1234);

    /* Bad flags are refused. */
    struct state_writer w;
    dev_save(&goldfish_rtc_ops, f->r, &w);
    w.buf[w.len - 1] = 0xff;
    assert_false(dev_load(&goldfish_rtc_ops, f->r, w.buf, w.len));
    state_writer_free(&w);
}

static void test_hostile_accesses(void **state)
{
    struct fixture *f = *state;
    for (uint64_t off = 0x20; off < 0x1000; off += 4) {
        wr(f, off, 0xffffffff);
        assert_int_equal(rd(f, off), 0);
    }
    wr(f, UINT64_MAX - 3, 0xffffffff);
    assert_int_equal(rd(f, UINT64_MAX - 3), 0);
    assert_false(irq(f));
    assert_int_equal(rd(f, ALARM_STATUS), 0);
}

static void test_fdt(void **state)
{
    struct fixture *f = *state;
    void *fdt = dev_test_fdt(1);
    struct dev_placement where = {.base = 0x101000, .size = 0x1000, .irq = 11, .phandle_plic = 3};
    goldfish_rtc_ops.fdt(f->r, fdt, &where);
    const char *path = "/soc/rtc@101000";
    uint32_t c[8];
    assert_int_equal(dev_fdt_cells(fdt, path, "reg", c, 8), 4);
    assert_int_equal(c[1], 0x101000);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupts", c, 8), 1);
    assert_int_equal(c[0], 11);
    assert_int_equal(dev_fdt_cells(fdt, path, "interrupt-parent", c, 8), 1);
    assert_int_equal(c[0], 3);
    assert_int_equal(
        fdt_node_check_compatible(fdt, fdt_path_offset(fdt, path), "google,goldfish-rtc"), 0);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_time_is_host_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_high_is_latched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_in_the_past, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_alarm_and_time_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
