/* SPDX-License-Identifier: MIT */
/*
 * Zero pages of guest RAM given back to the host; see ram_reclaim.h.
 *
 * A pass has two steps.  The look (harts running): mincore() names the
 * resident pages of RAM, and each one that reads as all zeros becomes a
 * candidate.  The discard (harts held, I/O lock held, no disk request in
 * flight, so nothing writes RAM): each candidate is checked again and, if
 * still zero, discarded.  The look reads only resident pages and a
 * non-zero page usually differs in its first bytes, so it costs about a
 * read of the zero pages; the hold covers only the candidates, in batches,
 * a few milliseconds each, and the guest's clock runs on through it.
 *
 * A page discarded in an earlier pass that is resident and zero again has
 * most likely been read by the guest (the host then maps its shared zero
 * page, which mincore counts as resident): it is left alone until it is
 * seen holding data.
 */
#include "vmm/ram_reclaim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "machine/board.h"
#include "util/log.h"
#include "vmm/machine_state.h"

#define PAGE       4096u
#define LOOK_PAGES 16384u /* 64 MiB of RAM per mincore() call */
#define BATCH      2048u  /* candidates per hold: 8 MiB, about a millisecond */

struct ram_reclaim {
    struct board *b;
    uint64_t npages;
    uint64_t *dropped; /* one bit per page discarded and not seen with data since */
    uint32_t *cand;    /* page numbers of this batch's candidates */
    unsigned char *vec;
    atomic_uint_least64_t released;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    int interval_sec;
    bool quit;
};

static const uint8_t zero_page[PAGE];

static bool is_zero(const uint8_t *p)
{
    return !memcmp(p, zero_page, PAGE);
}

static bool bit(const uint64_t *map, uint64_t i)
{
    return map[i / 64] >> (i % 64) & 1;
}

static void set_bit(uint64_t *map, uint64_t i, bool on)
{
    if (on)
        map[i / 64] |= 1ull << (i % 64);
    else
        map[i / 64] &= ~(1ull << (i % 64));
}

/* Discards the candidates that are still zero, with the harts held.
 * Returns false when the machine could not be held (paused, stopping, a
 * disk busy): the pass ends, the next one tries again. */
static bool discard(struct ram_reclaim *r, unsigned n, uint64_t *bytes)
{
    struct board *b = r->b;
    uint8_t *ram = b->bus.ram;
    pthread_mutex_lock(&b->bus.io_lock);
    if (!board_hold(b)) {
        pthread_mutex_unlock(&b->bus.io_lock);
        return false;
    }
    bool ok = machine_disks_idle(b);
    for (unsigned i = 0; ok && i < n;) {
        if (!is_zero(ram + (uint64_t)r->cand[i] * PAGE)) {
            i++;
            continue;
        }
        /* A run of consecutive zero pages goes in one call. */
        unsigned j = i + 1;
        while (j < n && r->cand[j] == r->cand[j - 1] + 1 &&
               is_zero(ram + (uint64_t)r->cand[j] * PAGE))
            j++;
        if (madvise(ram + (uint64_t)r->cand[i] * PAGE, (size_t)(j - i) * PAGE, MADV_DONTNEED) ==
            0) {
            for (unsigned k = i; k < j; k++)
                set_bit(r->dropped, r->cand[k], true);
            *bytes += (uint64_t)(j - i) * PAGE;
        }
        i = j;
    }
    board_release(b);
    pthread_mutex_unlock(&b->bus.io_lock);
    return ok;
}

static uint64_t pass(struct ram_reclaim *r)
{
    uint8_t *ram = r->b->bus.ram;
    uint64_t bytes = 0;
    unsigned n = 0;
    if (r->b->bus.ram_from_file) /* a restore after the start */
        return 0;
    for (uint64_t first = 0; first < r->npages; first += LOOK_PAGES) {
        uint64_t count = r->npages - first < LOOK_PAGES ? r->npages - first : LOOK_PAGES;
        if (mincore(ram + first * PAGE, count * PAGE, r->vec) < 0)
            return bytes;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t pg = first + i;
            if (!(r->vec[i] & 1))
                continue;
            bool zero = is_zero(ram + pg * PAGE);
            if (!zero) {
                set_bit(r->dropped, pg, false);
                continue;
            }
            if (bit(r->dropped, pg))
                continue;
            r->cand[n++] = (uint32_t)pg;
            if (n == BATCH) {
                if (!discard(r, n, &bytes))
                    return bytes;
                n = 0;
            }
        }
    }
    if (n)
        discard(r, n, &bytes);
    return bytes;
}

static struct ram_reclaim *reclaim_new(struct board *b)
{
    struct ram_reclaim *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->b = b;
    r->npages = b->bus.ram_size / PAGE;
    r->dropped = calloc((r->npages + 63) / 64, 8);
    r->cand = malloc(BATCH * sizeof(*r->cand));
    r->vec = malloc(LOOK_PAGES);
    if (!r->dropped || !r->cand || !r->vec || r->npages > UINT32_MAX) {
        free(r->dropped);
        free(r->cand);
        free(r->vec);
        free(r);
        return NULL;
    }
    return r;
}

static void reclaim_free(struct ram_reclaim *r)
{
    free(r->dropped);
    free(r->cand);
    free(r->vec);
    free(r);
}

static void *reclaim_thread(void *arg)
{
    struct ram_reclaim *r = arg;
    struct timespec when;
    clock_gettime(CLOCK_MONOTONIC, &when);
    pthread_mutex_lock(&r->lock);
    /* The first pass no sooner than the default: boot is mostly over. */
    when.tv_sec +=
        r->interval_sec > RAM_RECLAIM_DEFAULT_SEC ? r->interval_sec : RAM_RECLAIM_DEFAULT_SEC;
    int seen = r->interval_sec;
    while (!r->quit) {
        if (r->interval_sec != seen) { /* changed: the next pass one new interval from now */
            seen = r->interval_sec;
            clock_gettime(CLOCK_MONOTONIC, &when);
            when.tv_sec += seen;
        }
        if (seen <= 0) { /* off: nothing until it is turned on or stopped */
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        if (pthread_cond_timedwait(&r->cond, &r->lock, &when) != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&r->lock);
        uint64_t bytes = pass(r);
        if (bytes)
            log_debug("ram reclaim: %llu KiB of zero pages given back",
                      (unsigned long long)(bytes / 1024));
        atomic_fetch_add(&r->released, bytes);
        pthread_mutex_lock(&r->lock);
        clock_gettime(CLOCK_MONOTONIC, &when);
        when.tv_sec += seen;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct ram_reclaim *ram_reclaim_start(struct board *b, int interval_sec)
{
    if (b->bus.ram_from_file)
        return NULL;
    struct ram_reclaim *r = reclaim_new(b);
    if (!r)
        return NULL;
    r->interval_sec = interval_sec;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    /* A small stack (plus the static TLS): the thread calls nothing deep. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int e = pthread_create(&r->thread, &attr, reclaim_thread, r);
    pthread_attr_destroy(&attr);
    if (e) {
        log_warn("ram reclaim: no thread (%s); zero pages stay resident", strerror(e));
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        reclaim_free(r);
        return NULL;
    }
    return r;
}

void ram_reclaim_set_interval(struct ram_reclaim *r, int interval_sec)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->interval_sec = interval_sec > 0 ? interval_sec : 0;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

uint64_t ram_reclaim_released(const struct ram_reclaim *r)
{
    return r ? atomic_load(&r->released) : 0;
}

void ram_reclaim_stop(struct ram_reclaim *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->quit = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    reclaim_free(r);
}
