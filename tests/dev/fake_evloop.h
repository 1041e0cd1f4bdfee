/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for host/evloop.c's timers in device tests: timers are
 * recorded, never run by themselves; the test fires the due ones with
 * fake_timers_run(now).  Defining these symbols in the test keeps the
 * linker from pulling the real event loop out of libwirt.a.
 */
#ifndef WIRT_TESTS_FAKE_EVLOOP_H
#define WIRT_TESTS_FAKE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "host/evloop.h"

#define FAKE_MAX_TIMERS 16

struct evtimer {
    evloop_cb cb;
    void *opaque;
    bool armed, live;
    uint64_t deadline;
};

static struct evtimer fake_timers[FAKE_MAX_TIMERS];

struct evtimer *evtimer_new(struct evloop *loop, evloop_cb cb, void *opaque)
{
    (void)loop;
    for (unsigned i = 0; i < FAKE_MAX_TIMERS; i++) {
        if (!fake_timers[i].live) {
            fake_timers[i] = (struct evtimer){.cb = cb, .opaque = opaque, .live = true};
            return &fake_timers[i];
        }
    }
    return NULL;
}

void evtimer_arm(struct evtimer *t, uint64_t deadline_monotonic_ns)
{
    t->armed = true;
    t->deadline = deadline_monotonic_ns;
}

void evtimer_disarm(struct evtimer *t)
{
    t->armed = false;
}

void evtimer_free(struct evtimer *t)
{
    t->live = false;
    t->armed = false;
}

/* Runs every armed timer whose deadline is <= now; returns how many ran. */
static inline unsigned fake_timers_run(uint64_t now)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_MAX_TIMERS; i++) {
        struct evtimer *t = &fake_timers[i];
        if (t->live && t->armed && t->deadline <= now) {
            t->armed = false;
            t->cb(t->opaque);
            n++;
        }
    }
    return n;
}

static inline unsigned fake_timers_live(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_MAX_TIMERS; i++)
        n += fake_timers[i].live;
    return n;
}

#endif
