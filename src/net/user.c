/* SPDX-License-Identifier: MIT */
/*
 * The `user` backend: NAT through libslirp (guest 10.0.2.15 by DHCP,
 * gateway/host 10.0.2.2 which reaches the host's loopback, DNS 10.0.2.3),
 * with hostfwd rules for host -> guest connections.
 *
 * Threading: slirp runs on a thread of its own.  The thread builds the
 * poll set and the timeout with slirp_pollfds_fill(), polls without any
 * lock, then takes the I/O lock for slirp_pollfds_poll() and the expired
 * timers.  Frames slirp emits go to the frontend right there (I/O lock
 * held), or into a bounded queue when the frontend has no RX buffers; the
 * frontend's receive_ready() drains it.  The frontend's send() calls
 * slirp_input() under the I/O lock and wakes the thread so that new
 * sockets are polled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "net/net_backends.h"
#include "util/log.h"

/* Loaded state and hostfwd rules waiting for their port, for the thread. */
struct user_blob {
    size_t len;
    uint8_t data[]; /* the libslirp state version (LE32), then its state */
};
struct user_state_hook {
    struct user_blob *load; /* exchanged atomically: set by load_state, taken by the thread */
    struct net_hostfwd wait[NET_MAX_HOSTFWD];
    unsigned nwait;
    int64_t wait_until, next_try; /* ns */
};
struct user_nb;
static void user_state_apply(struct user_nb *u);
static bool user_add_hostfwds(struct user_nb *u, const struct nic_spec *nic, char *err,
                              size_t errlen);

#define QUEUE_MAX 1024

struct utimer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
    struct utimer *next;
};

struct qframe {
    struct qframe *next;
    size_t len;
    uint8_t data[];
};

struct user_nb {
    struct net_backend nb; /* first: the frontend sees this */
    Slirp *slirp;
    pthread_mutex_t *lock;
    pthread_t thread;
    bool started, stop;
    int wakefd;
    struct pollfd *pfd;
    unsigned npfd, cap;
    struct utimer *timers;
    struct qframe *qhead, *qtail;
    unsigned qlen;
    struct user_state_hook st; /* saved state and hostfwd waiting (end of file) */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(struct user_nb *u)
{
    uint64_t one = 1;
    ssize_t n = write(u->wakefd, &one, sizeof(one));
    (void)n;
}

static void deliver_queue(struct user_nb *u)
{
    while (u->qhead && u->nb.can_receive && u->nb.can_receive(u->nb.opaque) &&
           net_shaper_rx_may(&u->nb)) {
        struct qframe *f = u->qhead;
        u->qhead = f->next;
        if (!u->qhead)
            u->qtail = NULL;
        u->qlen--;
        u->nb.receive(u->nb.opaque, f->data, f->len);
        net_shaper_rx_took(&u->nb, f->len);
        free(f);
    }
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct user_nb *u = opaque;
    deliver_queue(u);
    if (!u->qhead && u->nb.receive && u->nb.can_receive && u->nb.can_receive(u->nb.opaque) &&
        net_shaper_rx_may(&u->nb)) {
        u->nb.receive(u->nb.opaque, buf, len);
        net_shaper_rx_took(&u->nb, len);
        return (ssize_t)len;
    }
    if (u->qlen >= QUEUE_MAX)
        return (ssize_t)len; /* dropped; TCP will retransmit */
    struct qframe *f = malloc(sizeof(*f) + len);
    if (!f)
        return (ssize_t)len;
    f->next = NULL;
    f->len = len;
    memcpy(f->data, buf, len);
    if (u->qtail)
        u->qtail->next = f;
    else
        u->qhead = f;
    u->qtail = f;
    u->qlen++;
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    log_warn_ratelimited("net user: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct user_nb *u = opaque;
    struct utimer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = u->timers;
    u->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct user_nb *u = opaque;
    for (struct utimer **p = &u->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct utimer *t = timer;
    if (t)
        t->expire_ms = expire_ms;
    wake(opaque);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_notify(void *opaque)
{
    wake(opaque);
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
    struct user_nb *u = opaque;
    if (u->npfd == u->cap) {
        unsigned cap = u->cap ? u->cap * 2 : 16;
        struct pollfd *p = realloc(u->pfd, cap * sizeof(*p));
        if (!p)
            return -1;
        u->pfd = p;
        u->cap = cap;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    if (events & SLIRP_POLL_ERR)
        ev |= POLLERR;
    if (events & SLIRP_POLL_HUP)
        ev |= POLLHUP;
    u->pfd[u->npfd] = (struct pollfd){.fd = fd, .events = ev};
    return (int)u->npfd++;
}

static int get_revents(int idx, void *opaque)
{
    struct user_nb *u = opaque;
    if (idx < 0 || (unsigned)idx >= u->npfd)
        return 0;
    short r = u->pfd[idx].revents;
    int ev = 0;
    if (r & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (r & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (r & POLLERR)
        ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

static void run_timers(struct user_nb *u)
{
    int64_t now_ms = now_ns() / 1000000;
    /* A callback may free or re-arm timers: restart the scan after each. */
    bool again = true;
    while (again) {
        again = false;
        for (struct utimer *t = u->timers; t; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                t->cb(t->cb_opaque);
                again = true;
                break;
            }
        }
    }
}

static void *user_thread(void *arg)
{
    struct user_nb *u = arg;
    if (!mutex_lock_unless_stopped(u->lock, &u->stop))
        return NULL;
    for (;;) {
        u->npfd = 0;
        add_poll(u->wakefd, SLIRP_POLL_IN, u);
        uint32_t timeout = u->st.nwait ? 100 : 1000;
        slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
        bool rx_blocked;
        timeout = (uint32_t)net_shaper_timeout((int)timeout, net_shaper_poll(&u->nb, &rx_blocked));
        int64_t now_ms = now_ns() / 1000000;
        for (struct utimer *t = u->timers; t; t = t->next) {
            if (t->expire_ms >= 0) {
                int64_t d = t->expire_ms - now_ms;
                if (d < 0)
                    d = 0;
                if (d < timeout)
                    timeout = (uint32_t)d;
            }
        }
        pthread_mutex_unlock(u->lock);

        int n = poll(u->pfd, u->npfd, (int)timeout);
        if (u->pfd[0].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(u->wakefd, &v, sizeof(v));
            (void)r;
        }
        if (!mutex_lock_unless_stopped(u->lock, &u->stop))
            return NULL;
        user_state_apply(u);
        slirp_pollfds_poll(u->slirp, n < 0, get_revents, u);
        run_timers(u);
        net_shaper_poll(&u->nb, &rx_blocked); /* a held-back transmit may go now */
        deliver_queue(u);
    }
}

static void user_send(struct net_backend *nb, const void *frame, size_t len)
{
    struct user_nb *u = (struct user_nb *)nb;
    if (len > 65536)
        return;
    slirp_input(u->slirp, frame, (int)len);
    wake(u);
}

static void user_wake(struct net_backend *nb)
{
    wake((struct user_nb *)nb);
}

static void user_receive_ready(struct net_backend *nb)
{
    deliver_queue((struct user_nb *)nb);
}

static void user_close(struct net_backend *nb)
{
    struct user_nb *u = (struct user_nb *)nb;
    if (u->started) {
        __atomic_store_n(&u->stop, true, __ATOMIC_RELEASE);
        wake(u);
        pthread_join(u->thread, NULL);
    }
    if (u->slirp)
        slirp_cleanup(u->slirp);
    while (u->timers) {
        struct utimer *t = u->timers;
        u->timers = t->next;
        free(t);
    }
    while (u->qhead) {
        struct qframe *f = u->qhead;
        u->qhead = f->next;
        free(f);
    }
    if (u->wakefd >= 0)
        close(u->wakefd);
    free(u->st.load);
    free(u->pfd);
    net_shaper_free(&u->nb);
    free(u);
}

static bool user_save_state(struct net_backend *nb, uint8_t **blob, size_t *len);
static bool user_load_state(struct net_backend *nb, const uint8_t *blob, size_t len, char *err,
                            size_t errlen);

static const struct net_backend_ops user_ops = {
    .name = "user",
    .tso4_max_frame = 65536, /* user_send's frame limit */
    .send = user_send,
    .receive_ready = user_receive_ready,
    .close = user_close,
    .save_state = user_save_state,
    .load_state = user_load_state,
};

static struct in_addr ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a;
}

struct net_backend *net_user_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                  size_t errlen)
{
    struct user_nb *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->nb.ops = &user_ops;
    u->lock = io_lock;
    u->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->wakefd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(u);
        return NULL;
    }
    SlirpConfig cfg = {
        .version = 1,
        .restricted = nic->user.restricted,
        .in_enabled = true,
        .vnetwork = ip4("10.0.2.0"),
        .vnetmask = ip4("255.255.255.0"),
        .vhost = ip4("10.0.2.2"),
        .in6_enabled = false,
        /* No DHCP host name: a guest that did not ask for one would try
         * to take it (systemd logs "Could not set hostname"). */
        .vhostname = NULL,
        .vdhcp_start = ip4("10.0.2.15"),
        .vnameserver = ip4("10.0.2.3"),
        .if_mtu = 1500,
        .if_mru = 1500,
        .disable_host_loopback = false,
        .enable_emu = false,
    };
    if (nic->user.net_mask) {
        uint32_t net = nic->user.net_addr;
        cfg.vnetwork.s_addr = htonl(net);
        cfg.vnetmask.s_addr = htonl(nic->user.net_mask);
        cfg.vhost.s_addr = htonl(net | 2);
        cfg.vdhcp_start.s_addr = htonl(net | 15);
        cfg.vnameserver.s_addr = htonl(net | 3);
    }
    u->slirp = slirp_new(&cfg, &callbacks, u);
    if (!u->slirp) {
        snprintf(err, errlen, "cannot start user networking (libslirp)");
        user_close(&u->nb);
        return NULL;
    }
    if (!user_add_hostfwds(u, nic, err, errlen)) {
        user_close(&u->nb);
        return NULL;
    }
    if (!net_shaper_init(&u->nb, nic, user_wake)) {
        snprintf(err, errlen, "out of memory");
        user_close(&u->nb);
        return NULL;
    }
    if (pthread_create(&u->thread, NULL, user_thread, u) != 0) {
        snprintf(err, errlen, "cannot start the network thread");
        user_close(&u->nb);
        return NULL;
    }
    u->started = true;
    return &u->nb;
}

/* ---- state for snapshots and migration; hostfwd ports still in use ----
 *
 * libslirp's state (slirp_state_save) holds its DHCP leases, the IP id and
 * the TCP connections of guestfwd rules; it does not hold connections
 * through hostfwd (their host sockets cannot move), so those end at a
 * restore or a migration and the guest's side is reset.  The hostfwd
 * listeners are the options', opened again by the destination; on the
 * same host the source holds them until it hands over, so an incoming
 * machine waits for them (nic_spec.user.hostfwd_wait). */

#define HOSTFWD_WAIT_NS (30LL * 1000000000)

static bool add_hostfwd(struct user_nb *u, const struct net_hostfwd *f)
{
    struct in_addr ha = {.s_addr = f->host_addr}, ga = {.s_addr = f->guest_addr};
    return slirp_add_hostfwd(u->slirp, f->udp, ha, f->host_port, ga, f->guest_port) == 0;
}

static bool user_add_hostfwds(struct user_nb *u, const struct nic_spec *nic, char *err,
                              size_t errlen)
{
    for (unsigned i = 0; i < nic->user.nhostfwd; i++) {
        const struct net_hostfwd *f = &nic->user.hostfwd[i];
        errno = 0;
        if (add_hostfwd(u, f))
            continue;
        int e = errno ? errno : EADDRINUSE;
        if (nic->user.hostfwd_wait && e == EADDRINUSE) {
            /* Waits without end until the guest's state arrives. */
            u->st.wait[u->st.nwait++] = *f;
            u->st.wait_until = INT64_MAX;
            continue;
        }
        char text[64];
        net_format_hostfwd(f, text, sizeof(text));
        snprintf(err, errlen, "hostfwd '%s': cannot listen on host port %u: %s", text, f->host_port,
                 strerror(e));
        return false;
    }
    return true;
}

static ssize_t state_write(const void *buf, size_t len, void *opaque)
{
    uint8_t **b = opaque; /* {buf, (uint8_t *)len, (uint8_t *)cap} */
    size_t n = (size_t)b[1], cap = (size_t)b[2];
    if (n + len > cap) {
        size_t c = cap ? cap : 4096;
        while (c < n + len)
            c *= 2;
        uint8_t *nb = realloc(b[0], c);
        if (!nb)
            return -1;
        b[0] = nb;
        b[2] = (uint8_t *)c;
    }
    memcpy(b[0] + n, buf, len);
    b[1] = (uint8_t *)(n + len);
    return (ssize_t)len;
}

static bool user_save_state(struct net_backend *nb, uint8_t **blob, size_t *len)
{
    struct user_nb *u = (struct user_nb *)nb;
    uint32_t v = (uint32_t)slirp_state_version();
    uint8_t *b[3] = {NULL, NULL, NULL};
    uint8_t head[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (state_write(head, 4, b) < 0)
        return false;
    slirp_state_save(u->slirp, state_write, b);
    if ((size_t)b[1] < 4 || !b[0]) {
        free(b[0]);
        return false;
    }
    *blob = b[0];
    *len = (size_t)b[1];
    return true;
}

static bool user_load_state(struct net_backend *nb, const uint8_t *blob, size_t len, char *err,
                            size_t errlen)
{
    struct user_nb *u = (struct user_nb *)nb;
    uint32_t v = len >= 4 ? (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
                                (uint32_t)blob[3] << 24
                          : 0;
    if (len < 4 || v == 0 || v > (uint32_t)slirp_state_version()) {
        snprintf(err, errlen, "user network state version %u, libslirp %s reads up to %d", v,
                 slirp_version_string(), slirp_state_version());
        return false;
    }
    struct user_blob *copy = malloc(sizeof(*copy) + len);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    copy->len = len;
    memcpy(copy->data, blob, len);
    /* The thread applies it under the I/O lock, before its next poll. */
    free(__atomic_exchange_n(&u->st.load, copy, __ATOMIC_ACQ_REL));
    wake(u);
    return true;
}

struct reader {
    const uint8_t *p;
    size_t left;
};

static ssize_t state_read(void *buf, size_t len, void *opaque)
{
    struct reader *r = opaque;
    if (len > r->left)
        return -1;
    memcpy(buf, r->p, len);
    r->p += len;
    r->left -= len;
    return (ssize_t)len;
}

/* The thread, I/O lock held. */
static void user_state_apply(struct user_nb *u)
{
    struct user_blob *b = __atomic_exchange_n(&u->st.load, NULL, __ATOMIC_ACQ_REL);
    if (b) {
        const uint8_t *d = b->data;
        struct reader r = {d + 4, b->len - 4};
        int v = (int)((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                      (uint32_t)d[3] << 24);
        if (slirp_state_load(u->slirp, v, state_read, &r) < 0)
            log_warn("user network: the saved libslirp state does not load; starting afresh");
        free(b);
        u->st.wait_until = now_ns() + HOSTFWD_WAIT_NS; /* the source lets go about now */
    }
    if (!u->st.nwait || now_ns() < u->st.next_try)
        return;
    u->st.next_try = now_ns() + 100000000;
    for (unsigned i = 0; i < u->st.nwait;) {
        if (add_hostfwd(u, &u->st.wait[i])) {
            u->st.wait[i] = u->st.wait[--u->st.nwait];
            continue;
        }
        if (now_ns() > u->st.wait_until) {
            char text[64];
            net_format_hostfwd(&u->st.wait[i], text, sizeof(text));
            log_warn("user network: hostfwd '%s': host port %u stays in use; given up", text,
                     u->st.wait[i].host_port);
            u->st.wait[i] = u->st.wait[--u->st.nwait];
            continue;
        }
        i++;
    }
}
