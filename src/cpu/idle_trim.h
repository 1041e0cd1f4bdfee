/* SPDX-License-Identifier: MIT */
/*
 * When an idle hart gives its code caches back to the host (hart.c).
 *
 * Booting decodes and compiles thousands of pages that an idle guest never
 * runs again (tens of MiB per VM).  So when a hart spent at least 90% of a
 * window of IDLE_WINDOW_NS asleep in WFI and holds more than
 * IDLE_TRIM_DPAGES decoded pages, both caches are emptied and their memory
 * released; what the guest still runs is decoded and compiled again.
 *
 * Once per idle spell, not every window: a guest that is idle by that
 * measure yet does the same small job again and again (answers a ping,
 * serves a request now and then) would otherwise lose its working set
 * every ten seconds and run it interpreted and cold until it was hot
 * again.  After a trim the caches are kept while the hart stays idle,
 * unless they grow to twice what the idle guest held after its first
 * window; a busy window ends the spell.  Pure logic, for the unit tests.
 */
#ifndef WIRT_CPU_IDLE_TRIM_H
#define WIRT_CPU_IDLE_TRIM_H

#include <stdbool.h>
#include <stdint.h>

#define IDLE_WINDOW_NS   (10ull * 1000000000ull)
#define IDLE_TRIM_DPAGES 64

struct idle_trim {
    uint64_t window_ns, slept_ns; /* the window's start and its time in WFI */
    bool trimmed;                 /* trimmed, and no busy window since */
    unsigned kept;                /* dpages after the first idle window since; 0: none yet */
};

/* Accounts slept_ns more in WFI at now (host monotonic ns); true when the
 * caches, holding dpages decoded pages, should be emptied now. */
static inline bool idle_trim_due(struct idle_trim *t, uint64_t now, uint64_t slept_ns,
                                 unsigned dpages)
{
    t->slept_ns += slept_ns;
    if (!t->window_ns)
        t->window_ns = now;
    uint64_t span = now - t->window_ns;
    if (span < IDLE_WINDOW_NS)
        return false;
    bool idle = t->slept_ns * 10 >= span * 9;
    t->window_ns = now;
    t->slept_ns = 0;
    if (!idle) {
        t->trimmed = false;
        return false;
    }
    if (t->trimmed) {
        if (!t->kept) {
            t->kept = dpages > IDLE_TRIM_DPAGES ? dpages : IDLE_TRIM_DPAGES;
            return false;
        }
        if (dpages <= 2 * t->kept)
            return false;
    } else if (dpages <= IDLE_TRIM_DPAGES) {
        return false;
    }
    t->trimmed = true;
    t->kept = 0;
    return true;
}

#endif
