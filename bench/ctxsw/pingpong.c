/* SPDX-License-Identifier: MIT */
/*
 * Context-switch cost inside the guest: two processes pass a byte back
 * and forth through two pipes N times (every pass is an address-space
 * switch), each touching P pages of its own between passes, so that what
 * the TLB kept across the switch matters.  Prints the time per round trip.
 *   pingpong [N] [P]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile char *pages;

static void touch(int p)
{
    for (int i = 0; i < p; i++)
        pages[(size_t)i * 4096] += 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    int p = argc > 2 ? atoi(argv[2]) : 32;
    int ab[2], ba[2];
    char c = 0;
    pages = calloc((size_t)p + 1, 4096);
    if (!pages || pipe(ab) || pipe(ba))
        return 1;
    touch(p);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < n; i++) {
            if (read(ab[0], &c, 1) != 1)
                return 1;
            touch(p);
            if (write(ba[1], &c, 1) != 1)
                return 1;
        }
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
            return 1;
        touch(p);
    }
    waitpid(pid, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
    printf("pingpong rounds=%d pages=%d us_per_round=%.2f\n", n, p, us);
    return 0;
}
