/* SPDX-License-Identifier: MIT */
/*
 * CPU benchmark run inside the guest (wirt and QEMU): a few kernels with
 * different instruction mixes, each timed with CLOCK_MONOTONIC and each
 * with a checksum, so the two machines can be compared for speed and for
 * getting the same answers.
 *
 *   workload            run every phase, one line per phase:
 *                       "phase NAME SECONDS CHECKSUM", then "total ..."
 *   workload PHASE...   run only the named phases
 *   workload gen MIB    write MIB MiB of deterministic bytes to stdout
 *                       (input for sha256sum/gzip that doesn't compress
 *                       to nothing)
 *
 * Each phase runs enough repetitions for about half a second under QEMU's
 * TCG (see phases[]).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = xorshift(&s);
        memcpy(buf + i, &v, 8);
    }
    for (; i < len; i++)
        buf[i] = (uint8_t)xorshift(&s);
}

/* Branchy integer code with divisions: Collatz chain lengths. */
static uint32_t phase_int(void)
{
    uint64_t total = 0;
    for (uint64_t n = 1; n < 200000; n++) {
        uint64_t x = n;
        uint32_t steps = 0;
        while (x != 1) {
            x = (x % 2) ? 3 * x + 1 : x / 2;
            steps++;
        }
        total += steps * (n % 7 + 1);
    }
    return (uint32_t)(total ^ (total >> 32));
}

/* Table-driven CRC-32 (IEEE): loads, shifts, xors. */
static uint32_t crc_table[256];

static uint32_t crc32_buf(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t phase_crc32(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    size_t len = 8u << 20;
    uint8_t *buf = malloc(len);
    if (!buf)
        abort();
    fill(buf, len, 0x1234);
    uint32_t crc = 0;
    for (int r = 0; r < 2; r++)
        crc = crc32_buf(crc, buf, len);
    free(buf);
    return crc;
}

/* Double-precision matrix multiply: FP loads, multiply-adds. */
static uint32_t phase_matmul(void)
{
    enum { N = 160 };
    static double a[N][N], b[N][N], c[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 31 + j * 17) % 101) / 7.0;
            b[i][j] = (double)((i * 13 + j * 29) % 97) / 11.0;
            c[i][j] = 0.0;
        }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            double aik = a[i][k];
            for (int j = 0; j < N; j++)
                c[i][j] += aik * b[k][j];
        }
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum += c[i][j] * (double)((i + j) % 3 + 1);
    return (uint32_t)(uint64_t)(sum * 1000.0);
}

/* Bulk memory traffic through libc memcpy. */
static uint32_t phase_memcpy(void)
{
    size_t len = 4u << 20;
    uint8_t *a = malloc(len), *b = malloc(len);
    if (!a || !b)
        abort();
    fill(a, len, 99);
    for (int r = 0; r < 16; r++) {
        memcpy(b, a, len);
        a[r * 4097 % len] ^= b[(r * 7919) % len];
        memcpy(a, b, len);
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 64)
        sum = sum * 31 + a[i];
    free(a);
    free(b);
    return sum;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* qsort: indirect calls through the comparator, data-dependent branches. */
static uint32_t phase_qsort(void)
{
    size_t n = 300000;
    uint32_t *v = malloc(n * sizeof *v);
    if (!v)
        abort();
    uint64_t s = 7;
    for (size_t i = 0; i < n; i++)
        v[i] = (uint32_t)xorshift(&s);
    qsort(v, n, sizeof *v, cmp_u32);
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i += 97)
        sum = sum * 33 + v[i];
    for (size_t i = 1; i < n; i++)
        if (v[i - 1] > v[i])
            abort();
    free(v);
    return sum;
}

/* reps: how many times a phase runs, so that each takes about half a
 * second under QEMU's TCG on our CI machines (a phase of a few tens of
 * milliseconds is at the mercy of timer ticks and scheduling). */
static const struct {
    const char *name;
    uint32_t (*fn)(void);
    int reps;
} phases[] = {
    {"int", phase_int, 10},      {"crc32", phase_crc32, 3}, {"matmul", phase_matmul, 12},
    {"memcpy", phase_memcpy, 3}, {"qsort", phase_qsort, 3},
};

static int gen(long mib)
{
    static uint8_t buf[1 << 16];
    uint64_t s = 0xfeedface;
    for (long i = 0; i < mib * 16; i++) {
        for (size_t j = 0; j < sizeof buf; j += 8) {
            /* Half the bytes random, half small: gzip has work to do but
             * the output is not trivially compressible. */
            uint64_t v = xorshift(&s);
            v &= 0x0f0f0f0fffffffffull;
            memcpy(buf + j, &v, 8);
        }
        if (fwrite(buf, 1, sizeof buf, stdout) != sizeof buf)
            return 1;
    }
    return fflush(stdout) != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "gen") == 0)
        return gen(atol(argv[2]));
    uint32_t all = 0;
    double total = 0.0;
    int ran = 0;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        int want = argc == 1;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], phases[i].name) == 0;
        if (!want)
            continue;
        double t0 = now();
        uint32_t sum = 0;
        for (int r = 0; r < phases[i].reps; r++)
            sum = sum * 16777619u ^ phases[i].fn();
        double dt = now() - t0;
        printf("phase %s %.3f %08x\n", phases[i].name, dt, sum);
        fflush(stdout);
        all = all * 16777619u ^ sum;
        total += dt;
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "usage: workload [int|crc32|matmul|memcpy|qsort]... | gen MIB\n");
        return 2;
    }
    printf("total %.3f %08x\n", total, all);
    return 0;
}
