/* SPDX-License-Identifier: MIT */
/*
 * Multi-threaded guest workload for the SMP benchmark and stress test
 * (static riscv64 binary, put into the guest's initramfs).
 *
 *   smp_work par T N      N rounds of integer work split over T threads;
 *                         prints "par T <seconds> <checksum>" (the checksum
 *                         does not depend on T: each index is hashed alone)
 *   smp_work stress T S   T threads for S seconds hammering shared state:
 *                         an atomic counter, a counter behind a mutex, an
 *                         LR/SC-built compare-and-swap counter and a
 *                         seqlock-style message (writer stores a, b with
 *                         a == b; readers must never see them differ);
 *                         prints "stress OK <ops>" or "stress FAIL ...".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXT 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- par ---- */
struct par_arg {
    uint64_t lo, hi, sum;
    char pad[40]; /* own cache line: no false sharing between threads */
};

static uint64_t mix(uint64_t x)
{
    for (int i = 0; i < 64; i++) {
        x ^= x >> 31;
        x *= 0x9e3779b97f4a7c15ULL;
        x += (uint64_t)i;
    }
    return x;
}

static void *par_thread(void *p)
{
    struct par_arg *a = p;
    uint64_t s = 0;
    for (uint64_t i = a->lo; i < a->hi; i++)
        s += mix(i);
    a->sum = s;
    return NULL;
}

static int par(unsigned t, uint64_t n)
{
    static struct par_arg args[MAXT] __attribute__((aligned(64)));
    pthread_t th[MAXT];
    double t0 = now();
    for (unsigned i = 0; i < t; i++) {
        args[i].lo = n * i / t;
        args[i].hi = n * (i + 1) / t;
        if (pthread_create(&th[i], NULL, par_thread, &args[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < t; i++) {
        pthread_join(th[i], NULL);
        sum += args[i].sum;
    }
    printf("par %u %.3f %016llx\n", t, now() - t0, (unsigned long long)sum);
    return 0;
}

/* ---- stress ---- */
static atomic_ullong a_ctr;
static _Alignas(64) unsigned long long m_ctr;
static _Alignas(64) pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) atomic_ullong cas_ctr;
static _Alignas(64) atomic_ullong seq;
static _Alignas(64) atomic_ullong msg_a, msg_b;
static _Alignas(64) atomic_int stop;
static atomic_ullong torn;

struct st_arg {
    unsigned id;
    unsigned long long ops;
    char pad[48];
};

static void *stress_thread(void *p)
{
    struct st_arg *a = p;
    unsigned long long ops = 0, v = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int k = 0; k < 256; k++) {
            atomic_fetch_add(&a_ctr, 1);
            pthread_mutex_lock(&mtx);
            m_ctr++;
            pthread_mutex_unlock(&mtx);
            unsigned long long o = atomic_load_explicit(&cas_ctr, memory_order_relaxed);
            while (!atomic_compare_exchange_weak(&cas_ctr, &o, o + 1))
                ;
            if (a->id == 0) { /* the one writer of the seqlock message */
                atomic_fetch_add_explicit(&seq, 1, memory_order_acq_rel); /* odd: writing */
                v++;
                atomic_store_explicit(&msg_a, v, memory_order_relaxed);
                atomic_store_explicit(&msg_b, v, memory_order_relaxed);
                atomic_fetch_add_explicit(&seq, 1, memory_order_release);
            } else {
                unsigned long long s1 = atomic_load_explicit(&seq, memory_order_acquire);
                unsigned long long x = atomic_load_explicit(&msg_a, memory_order_relaxed);
                unsigned long long y = atomic_load_explicit(&msg_b, memory_order_relaxed);
                atomic_thread_fence(memory_order_acquire);
                unsigned long long s2 = atomic_load_explicit(&seq, memory_order_relaxed);
                if (s1 == s2 && !(s1 & 1) && x != y)
                    atomic_fetch_add(&torn, 1);
            }
            ops++;
        }
    }
    a->ops = ops;
    return NULL;
}

static int stress(unsigned t, unsigned secs)
{
    static struct st_arg args[MAXT] __attribute__((aligned(64)));
    pthread_t th[MAXT];
    for (unsigned i = 0; i < t; i++) {
        args[i].id = i;
        if (pthread_create(&th[i], NULL, stress_thread, &args[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    struct timespec ts = {.tv_sec = secs};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    unsigned long long ops = 0;
    for (unsigned i = 0; i < t; i++) {
        pthread_join(th[i], NULL);
        ops += args[i].ops;
    }
    unsigned long long a = atomic_load(&a_ctr), c = atomic_load(&cas_ctr);
    if (a != ops || m_ctr != ops || c != ops || atomic_load(&torn)) {
        printf("stress FAIL ops %llu atomic %llu mutex %llu cas %llu torn %llu\n", ops, a, m_ctr,
               c, (unsigned long long)atomic_load(&torn));
        return 1;
    }
    printf("stress OK %llu\n", ops);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "par") == 0) {
        unsigned t = (unsigned)atoi(argv[2]);
        if (t < 1 || t > MAXT)
            goto usage;
        return par(t, strtoull(argv[3], NULL, 0));
    }
    if (argc == 4 && strcmp(argv[1], "stress") == 0) {
        unsigned t = (unsigned)atoi(argv[2]);
        if (t < 1 || t > MAXT)
            goto usage;
        return stress(t, (unsigned)atoi(argv[3]));
    }
usage:
    fprintf(stderr, "usage: smp_work par THREADS N | stress THREADS SECONDS\n");
    return 2;
}
