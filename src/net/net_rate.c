/* SPDX-License-Identifier: MIT */
/*
 * A NIC's rate cap (`--net user,rate=10M`, tap likewise): one token bucket
 * per direction (util/ratelimit.h), bytes per second, a tenth of a second
 * of burst.
 *
 * It shapes rather than polices: dropping what is over the rate would make
 * TCP halve its window again and again and run well below the cap.  So a
 * frame the guest transmits over the rate stays in its TX ring
 * (net_tx_may_send says no, virtio-net stops popping) until the backend's
 * thread, woken at the bucket's deadline, calls the frontend's tx_ready;
 * a received frame waits in the backend (tap: in the kernel's queue, the
 * thread stops reading; user: libslirp's frames in its bounded queue).
 * Everything here runs with the I/O lock held, except the wake-up and the
 * control server's read of throttled_ns (atomic).  The cap may change
 * while the VM runs (control set-net-rate, `wirt vm set NAME
 * net.N.rate=R`): every tap and user NIC has a shaper, uncapped at rate 0.
 */
#include <stdlib.h>
#include <time.h>

#include "net/net_backends.h"
#include "util/ratelimit.h"

struct net_shaper {
    struct token_bucket tx, rx;
    bool tx_waiting, rx_waiting;
    uint64_t tx_since, rx_since; /* when each began to wait */
    uint64_t throttled_ns;
    void (*wake)(struct net_backend *nb);
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool net_shaper_init(struct net_backend *nb, const struct nic_spec *nic,
                     void (*wake)(struct net_backend *nb))
{
    /* Always made, so that a cap can be set later (net_rate_set); rate 0
     * is no cap, and the checks below return at once. */
    struct net_shaper *s = calloc(1, sizeof(*s));
    if (!s)
        return false;
    uint64_t now = mono_ns();
    token_bucket_set(&s->tx, nic->rate, 0, now);
    token_bucket_set(&s->rx, nic->rate, 0, now);
    s->wake = wake;
    nb->shaper = s;
    return true;
}

bool net_rate_set(struct net_backend *nb, uint64_t rate)
{
    struct net_shaper *s = nb ? nb->shaper : NULL;
    if (!s)
        return false;
    uint64_t now = mono_ns();
    token_bucket_set(&s->tx, rate, 0, now);
    token_bucket_set(&s->rx, rate, 0, now);
    /* Frames waiting for the old rate's deadline: the thread looks again
     * (a lifted cap lets them go at once). */
    s->wake(nb);
    return true;
}

void net_shaper_free(struct net_backend *nb)
{
    free(nb->shaper);
    nb->shaper = NULL;
}

bool net_tx_may_send(struct net_backend *nb)
{
    struct net_shaper *s = nb->shaper;
    if (!s || (!s->tx.rate && !s->tx_waiting))
        return true;
    uint64_t now = mono_ns();
    if (!token_bucket_delay(&s->tx, now))
        return true;
    if (!s->tx_waiting) {
        s->tx_waiting = true;
        s->tx_since = now;
        s->wake(nb); /* its poll timeout does not know this deadline yet */
    }
    return false;
}

void net_tx_sent(struct net_backend *nb, size_t len)
{
    if (nb->shaper)
        token_bucket_take(&nb->shaper->tx, len);
}

bool net_shaper_rx_may(struct net_backend *nb)
{
    struct net_shaper *s = nb->shaper;
    if (!s || (!s->rx.rate && !s->rx_waiting))
        return true;
    uint64_t now = mono_ns();
    bool may = !token_bucket_delay(&s->rx, now);
    if (may && s->rx_waiting)
        __atomic_fetch_add(&s->throttled_ns, now - s->rx_since, __ATOMIC_RELAXED);
    else if (!may && !s->rx_waiting)
        s->rx_since = now;
    s->rx_waiting = !may;
    return may;
}

void net_shaper_rx_took(struct net_backend *nb, size_t len)
{
    if (nb->shaper)
        token_bucket_take(&nb->shaper->rx, len);
}

uint64_t net_shaper_poll(struct net_backend *nb, bool *rx_blocked)
{
    struct net_shaper *s = nb->shaper;
    *rx_blocked = false;
    if (!s || (!s->tx_waiting && !s->rx_waiting))
        return 0;
    uint64_t now = mono_ns(), wait = 0;
    if (s->tx_waiting) {
        wait = token_bucket_delay(&s->tx, now);
        if (!wait) {
            s->tx_waiting = false;
            __atomic_fetch_add(&s->throttled_ns, now - s->tx_since, __ATOMIC_RELAXED);
            if (nb->tx_ready)
                nb->tx_ready(nb->opaque); /* may block again: asks for a new deadline */
            if (s->tx_waiting)
                wait = token_bucket_delay(&s->tx, now);
        }
    }
    if (s->rx_waiting) {
        uint64_t r = token_bucket_delay(&s->rx, now);
        *rx_blocked = r != 0;
        if (r && (!wait || r < wait))
            wait = r;
    }
    return wait;
}

int net_shaper_timeout(int timeout_ms, uint64_t wait_ns)
{
    if (!wait_ns)
        return timeout_ms;
    uint64_t ms = (wait_ns + 999999) / 1000000;
    if (ms > 1000)
        ms = 1000;
    return timeout_ms >= 0 && (uint64_t)timeout_ms < ms ? timeout_ms : (int)ms;
}

uint64_t net_rate_of(const struct net_backend *nb)
{
    return nb && nb->shaper ? nb->shaper->tx.rate : 0;
}

uint64_t net_throttled_ns(const struct net_backend *nb)
{
    return nb && nb->shaper ? __atomic_load_n(&nb->shaper->throttled_ns, __ATOMIC_RELAXED) : 0;
}
