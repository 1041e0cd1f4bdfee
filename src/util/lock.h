/* SPDX-License-Identifier: MIT */
#ifndef WIRT_UTIL_LOCK_H
#define WIRT_UTIL_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/*
 * Takes lock unless *stop becomes true first (checked every 50 ms).  For
 * worker threads that need the I/O lock: whoever stops them may hold that
 * lock while it waits for them, so a plain lock could deadlock.  Returns
 * false, without the lock, when told to stop.
 */
static inline bool mutex_lock_unless_stopped(pthread_mutex_t *lock, const bool *stop)
{
    for (;;) {
        if (__atomic_load_n(stop, __ATOMIC_ACQUIRE))
            return false;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_mutex_timedlock(lock, &ts) == 0)
            return true;
    }
}

#endif
