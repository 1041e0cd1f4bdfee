/* SPDX-License-Identifier: MIT */
/*
 * Token buckets (util/ratelimit.c) on a simulated clock: the long-run
 * rate is the set one, a burst passes at once, a request larger than the
 * burst still passes, and the limit texts parse or fail with one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/ratelimit.h"

#define SEC 1000000000ull

/* Runs requests of `cost` back to back for `secs` simulated seconds,
 * waiting whenever the bucket says so; returns the units that started. */
static uint64_t drive(struct token_bucket *b, uint64_t cost, uint64_t secs)
{
    uint64_t now = 0, done = 0;
    while (now < secs * SEC) {
        uint64_t wait = token_bucket_delay(b, now);
        if (wait) {
            now += wait;
            continue;
        }
        token_bucket_take(b, cost);
        done += cost;
    }
    return done;
}

static void test_long_run_rate(void **state)
{
    (void)state;
    struct token_bucket b;
    token_bucket_set(&b, 1000, 0, 0); /* 1000/s, burst 100 */
    uint64_t done = drive(&b, 1, 10);
    /* 10 s at 1000/s plus the initial burst (and one request in debt). */
    assert_in_range(done, 10000, 10000 + 100 + 1);
}

static void test_large_requests_pass(void **state)
{
    (void)state;
    struct token_bucket b;
    /* 1 MB/s with a 64 KB burst; 1 MB requests, each above the burst. */
    token_bucket_set(&b, 1000000, 65536, 0);
    uint64_t done = drive(&b, 1000000, 10);
    assert_in_range(done, 10 * 1000000, 11 * 1000000);
}

static void test_burst_and_unlimited(void **state)
{
    (void)state;
    struct token_bucket b;
    token_bucket_set(&b, 10, 5, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(token_bucket_delay(&b, 0), 0);
        token_bucket_take(&b, 1);
    }
    /* The burst is spent: the sixth waits a tenth of a second. */
    assert_int_equal(token_bucket_delay(&b, 0), 0); /* level 0 is not debt */
    token_bucket_take(&b, 1);
    uint64_t w = token_bucket_delay(&b, 0);
    assert_in_range(w, SEC / 10, SEC / 10 + 2);
    /* Idle time refills at most to the burst. */
    assert_int_equal(token_bucket_delay(&b, 100 * SEC), 0);
    assert_true(b.level <= 5.0);
    token_bucket_set(&b, 0, 0, 0);
    token_bucket_take(&b, 1u << 30);
    assert_int_equal(token_bucket_delay(&b, 0), 0);
}

static void test_limit_text(void **state)
{
    (void)state;
    struct io_limits l;
    memset(&l, 0, sizeof(l));
    char err[200];
    assert_true(io_limits_empty(&l));
    assert_true(io_limit_set_text(&l, io_limit_find("bps-wr"), "10M", "x", err, sizeof(err)));
    assert_int_equal(l.v[IO_LIMIT_BPS_WR], 10 << 20);
    assert_true(io_limit_set_text(&l, io_limit_find("iops"), "250", "x", err, sizeof(err)));
    assert_int_equal(l.v[IO_LIMIT_IOPS], 250);
    assert_false(io_limit_set_text(&l, IO_LIMIT_IOPS, "1k", "--disk d", err, sizeof(err)));
    assert_string_equal(err, "--disk d: iops=1k: expected operations per second (0 or none: no "
                             "limit)");
    assert_false(io_limit_set_text(&l, IO_LIMIT_BPS, "-1", "x", err, sizeof(err)));
    assert_true(io_limit_set_text(&l, IO_LIMIT_IOPS, "none", "x", err, sizeof(err)));
    assert_int_equal(l.v[IO_LIMIT_IOPS], 0);
    assert_int_equal(io_limit_find("speed"), -1);
    json_object *j = io_limits_to_json(&l);
    assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
                        "{\"bps-wr\":10485760}");
    json_object_put(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_run_rate),
        cmocka_unit_test(test_large_requests_pass),
        cmocka_unit_test(test_burst_and_unlimited),
        cmocka_unit_test(test_limit_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
