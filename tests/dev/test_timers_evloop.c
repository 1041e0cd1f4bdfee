/* SPDX-License-Identifier: MIT */
/*
 * The timer-driven devices (CLINT, Goldfish RTC) on the real event loop:
 * interrupts must arrive by themselves, on the loop's thread, with the
 * I/O lock held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <time.h>

#include "dev/clint.h"
#include "dev/goldfish_rtc.h"
#include "dev_test.h"
#include "host/evloop.h"
#include "host/vclock.h"

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;

/* Checks that the line is driven with the I/O lock held, then records it. */
static void locked_set(void *target, unsigned num, bool level)
{
    assert_int_equal(pthread_mutex_trylock(&io_lock), EBUSY);
    irq_rec_set(target, num, level);
}

/* Waits up to 2 s for rec->level[num]; returns the elapsed ms or -1. */
static long wait_level(struct irq_rec *rec, unsigned num)
{
    uint64_t start = host_monotonic_ns();
    for (;;) {
        pthread_mutex_lock(&io_lock);
        bool level = rec->level[num];
        pthread_mutex_unlock(&io_lock);
        uint64_t elapsed = host_monotonic_ns() - start;
        if (level)
            return (long)(elapsed / 1000000);
        if (elapsed > 2000000000ULL)
            return -1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void test_clint_timer_fires(void **state)
{
    (void)state;
    struct evloop *loop = evloop_new(&io_lock);
    assert_non_null(loop);
    assert_true(evloop_start(loop));
    struct vclock clock;
    vclock_init(&clock);
    struct irq_rec rec = {0};
    struct irq_line mtip = {.set = locked_set, .target = &rec, .num = 0};
    struct irq_line msip = {.set = locked_set, .target = &rec, .num = 1};

    pthread_mutex_lock(&io_lock);
    struct clint *c = clint_new(&clock, loop, 1, &mtip, &msip);
    assert_non_null(c);
    clint_ops.reset(c);
    uint64_t now = clint_ops.read(c, 0xbff8, 8);
    clint_ops.write(c, 0x4000, 8, now + VCLOCK_HZ / 20); /* 50 ms */
    assert_false(rec.level[0]);
    pthread_mutex_unlock(&io_lock);

    long ms = wait_level(&rec, 0);
    assert_true(ms >= 0);
    pthread_mutex_lock(&io_lock);
    assert_true(clint_ops.read(c, 0xbff8, 8) >= now + VCLOCK_HZ / 20);
    pthread_mutex_unlock(&io_lock);

    evloop_stop(loop);
    clint_ops.destroy(c);
    evloop_free(loop);
}

static void test_rtc_alarm_fires(void **state)
{
    (void)state;
    struct evloop *loop = evloop_new(&io_lock);
    assert_non_null(loop);
    assert_true(evloop_start(loop));
    struct irq_rec rec = {0};
    struct irq_line line = {.set = locked_set, .target = &rec, .num = 11};

    pthread_mutex_lock(&io_lock);
    struct goldfish_rtc *r = goldfish_rtc_new(loop, &line);
    assert_non_null(r);
    goldfish_rtc_ops.reset(r);
    uint64_t lo = goldfish_rtc_ops.read(r, 0x00, 4);
    uint64_t now = goldfish_rtc_ops.read(r, 0x04, 4) << 32 | lo;
    uint64_t alarm = now + 50000000ULL;
    goldfish_rtc_ops.write(r, 0x10, 4, 1);
    goldfish_rtc_ops.write(r, 0x0c, 4, (uint32_t)(alarm >> 32));
    goldfish_rtc_ops.write(r, 0x08, 4, (uint32_t)alarm);
    assert_int_equal(goldfish_rtc_ops.read(r, 0x18, 4), 1);
    pthread_mutex_unlock(&io_lock);

    assert_true(wait_level(&rec, 11) >= 0);
    pthread_mutex_lock(&io_lock);
    assert_int_equal(goldfish_rtc_ops.read(r, 0x18, 4), 0);
    goldfish_rtc_ops.write(r, 0x1c, 4, 1);
    assert_false(rec.level[11]);
    pthread_mutex_unlock(&io_lock);

    evloop_stop(loop);
    goldfish_rtc_ops.destroy(r);
    evloop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clint_timer_fires),
        cmocka_unit_test(test_rtc_alarm_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
