/* SPDX-License-Identifier: MIT */
/*
 * The machine's time base: mtime ticks at VCLOCK_HZ, derived from the
 * host's monotonic clock.  The offset lets a restored or paused machine
 * continue from the time it had.
 */
#ifndef WIRT_MACHINE_VCLOCK_H
#define WIRT_MACHINE_VCLOCK_H

#include <stdint.h>
#include <time.h>

#define VCLOCK_HZ   10000000ULL
#define NS_PER_TICK (1000000000ULL / VCLOCK_HZ)

struct vclock {
    int64_t offset_ns; /* host monotonic ns at which mtime was 0 */
};

static inline uint64_t host_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time the calling thread has used, in ns. */
static inline uint64_t host_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void vclock_init(struct vclock *c)
{
    c->offset_ns = (int64_t)host_monotonic_ns();
}

static inline uint64_t vclock_mtime(const struct vclock *c)
{
    /* Unsigned: a clock restored from a hostile state wraps, never overflows. */
    return (host_monotonic_ns() - (uint64_t)__atomic_load_n(&c->offset_ns, __ATOMIC_RELAXED)) /
           NS_PER_TICK;
}

/* Sets the clock so that it reads `mtime` now (restore). */
static inline void vclock_set(struct vclock *c, uint64_t mtime)
{
    /* Unsigned arithmetic: it wraps instead of overflowing for any mtime
     * (machine_load refuses absurd ones before they get here). */
    __atomic_store_n(&c->offset_ns, (int64_t)(host_monotonic_ns() - mtime * NS_PER_TICK),
                     __ATOMIC_RELAXED);
}

/* Host monotonic time in ns at which mtime reaches `mtime`. */
static inline uint64_t vclock_deadline_ns(const struct vclock *c, uint64_t mtime)
{
    if (mtime > (UINT64_MAX / 2) / NS_PER_TICK)
        return UINT64_MAX;
    return (uint64_t)__atomic_load_n(&c->offset_ns, __ATOMIC_RELAXED) + mtime * NS_PER_TICK;
}

#endif
