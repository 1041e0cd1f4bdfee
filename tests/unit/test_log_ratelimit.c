/* SPDX-License-Identifier: MIT */
/*
 * Rate-limited logging: a burst per call site, then one message per
 * interval, and a count of what was suppressed before the next one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/log.h"

static FILE *capture_start(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_file(f);
    return f;
}

/* Stops capturing; returns the number of lines and copies the last one. */
static unsigned capture_end(FILE *f, char *last, size_t lastlen)
{
    log_set_file(NULL);
    rewind(f);
    unsigned lines = 0;
    char buf[256];
    while (fgets(buf, sizeof(buf), f)) {
        lines++;
        if (last)
            snprintf(last, lastlen, "%s", buf);
    }
    fclose(f);
    return lines;
}

static void test_burst_then_silence(void **state)
{
    (void)state;
    FILE *f = capture_start();
    for (int i = 0; i < 100000; i++)
        log_warn_ratelimited("guest did something %d", i);
    assert_int_equal(capture_end(f, NULL, 0), LOG_RATELIMIT_BURST);
}

static void test_sites_are_independent(void **state)
{
    (void)state;
    FILE *f = capture_start();
    for (int i = 0; i < 100; i++) {
        log_warn_ratelimited("site a");
        log_warn_ratelimited("site b");
    }
    assert_int_equal(capture_end(f, NULL, 0), 2 * LOG_RATELIMIT_BURST);
}

static void test_refill_reports_suppressed(void **state)
{
    (void)state;
    struct log_ratelimit rl = {0};
    FILE *f = capture_start();
    for (int i = 0; i < LOG_RATELIMIT_BURST + 990; i++)
        log_msg_ratelimited(&rl, LOG_WARN, "flood");
    /* One interval later the site may speak once more, and says how many
     * messages it dropped first. */
    rl.refill_ms -= LOG_RATELIMIT_INTERVAL_MS;
    log_msg_ratelimited(&rl, LOG_WARN, "after");
    log_msg_ratelimited(&rl, LOG_WARN, "dropped again");
    char last[256];
    unsigned lines = capture_end(f, last, sizeof(last));
    assert_int_equal(lines, LOG_RATELIMIT_BURST + 2);
    assert_string_equal(last, "wirt: after\n");
    f = capture_start();
    rl.refill_ms -= LOG_RATELIMIT_INTERVAL_MS;
    log_msg_ratelimited(&rl, LOG_WARN, "x");
    char first[256] = "";
    FILE *g = f;
    log_set_file(NULL);
    rewind(g);
    assert_non_null(fgets(first, sizeof(first), g));
    fclose(g);
    assert_string_equal(first, "wirt: 1 similar messages suppressed\n");
}

static void test_suppressed_summary_text(void **state)
{
    (void)state;
    struct log_ratelimit rl = {0};
    for (int i = 0; i < LOG_RATELIMIT_BURST; i++)
        log_msg_ratelimited(&rl, LOG_DEBUG, "below the level: not counted");
    FILE *f = capture_start();
    for (int i = 0; i < LOG_RATELIMIT_BURST + 990; i++)
        log_msg_ratelimited(&rl, LOG_WARN, "flood");
    rl.refill_ms -= LOG_RATELIMIT_INTERVAL_MS;
    log_msg_ratelimited(&rl, LOG_WARN, "after");
    log_set_file(NULL);
    rewind(f);
    char buf[256], prev[256] = "";
    while (fgets(buf, sizeof(buf), f)) {
        if (!strcmp(buf, "wirt: after\n"))
            break;
        snprintf(prev, sizeof(prev), "%s", buf);
    }
    fclose(f);
    assert_string_equal(prev, "wirt: 990 similar messages suppressed\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_silence),
        cmocka_unit_test(test_sites_are_independent),
        cmocka_unit_test(test_refill_reports_suppressed),
        cmocka_unit_test(test_suppressed_summary_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
