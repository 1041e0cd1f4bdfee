/* SPDX-License-Identifier: MIT */
/*
 * The send backlog (util/unix_socket.c) over a real socket pair whose
 * reader does not read: what the socket refuses waits, in order, up to
 * its capacity; beyond it a screen keeps the newest bytes and a stream
 * the oldest, and the count of dropped bytes is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/unix_socket.h"

#define CAP 1000

/* Fills the writer's socket until it refuses; returns the bytes it took. */
static size_t fill(int fd)
{
    static uint8_t junk[4096];
    size_t total = 0, n;
    while ((n = unix_send_some(fd, junk, sizeof(junk))) > 0)
        total += n;
    return total;
}

/* Reads what the reader holds into out (up to max); returns the count. */
static size_t drain(int fd, uint8_t *out, size_t max)
{
    size_t total = 0;
    ssize_t n;
    while (total < max && (n = recv(fd, out + total, max - total, MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    return total;
}

static void check(bool drop_oldest)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    size_t taken = fill(sv[0]);
    assert_true(taken > 0);
    struct unix_backlog b = {.cap = CAP, .drop_oldest = drop_oldest};
    uint8_t data[1500];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i % 251);
    /* 600 fit, then 900 more: 500 over the capacity. */
    assert_int_equal(unix_backlog_send(&b, sv[0], data, 600), 0);
    assert_int_equal(b.len, 600);
    assert_int_equal(unix_backlog_send(&b, sv[0], data + 600, 900), 500);
    assert_int_equal(b.len, CAP);
    /* The reader catches up: everything kept goes out, in order. */
    uint8_t *junk = malloc(taken), got[CAP + 1];
    assert_non_null(junk);
    assert_int_equal(drain(sv[1], junk, taken), taken);
    free(junk);
    unix_backlog_flush(&b, sv[0]);
    assert_int_equal(b.len, 0);
    assert_int_equal(drain(sv[1], got, sizeof(got)), CAP);
    assert_memory_equal(got, drop_oldest ? data + 500 : data, CAP);
    /* With nothing waiting, a send goes straight to the socket. */
    assert_int_equal(unix_backlog_send(&b, sv[0], data, 10), 0);
    assert_int_equal(b.len, 0);
    unix_backlog_free(&b);
    close(sv[0]);
    close(sv[1]);
}

static void test_screen_keeps_the_newest(void **state)
{
    (void)state;
    check(true);
}

static void test_stream_keeps_the_oldest(void **state)
{
    (void)state;
    check(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_keeps_the_newest),
        cmocka_unit_test(test_stream_keeps_the_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
