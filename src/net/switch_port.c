/* SPDX-License-Identifier: MIT */
/*
 * The `switch` backend: a port on a wirt virtual switch (wirt net), which
 * runs as a process of its own; the protocol is in switch_proto.h.
 *
 * A thread reads frames from the switch and hands them to the frontend
 * under the I/O lock (pausing while the frontend has no RX buffers, like
 * tap).  A VM outlives its switch: when the connection ends, the thread
 * tries again every second, and frames sent meanwhile are dropped, as on
 * a cable that was pulled.  The VM keeps its port settings across
 * reconnects because it sends the same hello.
 *
 * Frames carry the virtio-net header both ways (SWP_F_VHDR), so a guest's
 * TSO frame reaches another guest whole and its checksum is computed at
 * most once, by whoever finally needs it.
 *
 * Direct paths (switch_proto.h): the switch may hand this port a socket
 * to a peer VM; frames for that peer's MAC that the switch would only have
 * carried go straight there, one host wakeup and one copy less each way.
 * All sockets (the switch's and the direct ones) sit in the thread's epoll
 * set.  An idle hart that waits for them too (rx_watch) has them in its own
 * set, and both sets hold them with EPOLLEXCLUSIVE, the hart's first: the
 * kernel tries exclusive waiters in the order they were added and stops at
 * the first one asleep in epoll_wait, so a frame for an idle guest wakes
 * the hart alone (which then delivers it), and the thread only when the
 * hart is busy running the guest.  Two wakeups per frame, and the hart
 * sleeping on the I/O lock while the thread delivered, cost more than the
 * frame itself on a loaded host.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net_backends.h"
#include "net/offload.h"
#include "net/switch_proto.h"
#include "util/log.h"

#define BATCH        64
#define RECONNECT_MS 1000
#define MAX_DIRECT   64 /* direct paths to peers (a switch has at most 64 ports) */

struct switch_nb {
    struct net_backend nb;
    int fd; /* -1 while disconnected; written only by the thread */
    int wakefd;
    int epfd; /* the switch's socket and the direct paths */
    /* An idle hart's epoll set holding them too (rx_watch), or -1; the
     * key its events carry.  Both under the I/O lock. */
    int watch_epfd;
    uint64_t watch_key;
    bool more; /* a drain stopped at BATCH: messages may be left */
    struct {
        uint8_t mac[6];
        int fd;
    } direct[MAX_DIRECT];
    unsigned ndirect;
    pthread_mutex_t *lock;
    pthread_t thread;
    bool started, stop, paused;
    struct swp_hello hello;
    char path[NET_SWITCH_SOCKET_MAX + 1];
    char name[NET_SWITCH_NAME_MAX + 1];
    uint64_t dropped;
    size_t pending; /* a message in buf the front end could not take yet */
    uint8_t buf[NET_META_LEN + SWP_MAX_FRAME];
};

static void wake(struct switch_nb *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wakefd, &one, sizeof(one));
    (void)n;
}

/* Puts a socket into the epoll sets: the watcher's first, edge-triggered
 * (it is told once per arrival and hands what it leaves to the thread),
 * then the thread's (I/O lock held, or before the thread starts). */
static bool watch_fd(struct switch_nb *s, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE};
    ev.data.u64 = s->watch_key;
    if (s->watch_epfd >= 0 && epoll_ctl(s->watch_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return false;
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE};
    ev.data.fd = fd;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        if (s->watch_epfd >= 0)
            epoll_ctl(s->watch_epfd, EPOLL_CTL_DEL, fd, NULL);
        return false;
    }
    return true;
}

/* Gives up a direct path: shut down for the peer too, which then sends
 * through the switch again (the switch keeps a copy of both ends, so a
 * mere close would leave it sending into a queue no one reads). */
static void direct_reject(int fd)
{
    shutdown(fd, SHUT_RDWR);
    close(fd);
}

/* Frames for mac stop taking the direct path k (I/O lock held). */
static void direct_close(struct switch_nb *s, unsigned k)
{
    direct_reject(s->direct[k].fd); /* leaves the epoll set with it */
    s->direct[k] = s->direct[--s->ndirect];
}

static void direct_close_all(struct switch_nb *s)
{
    while (s->ndirect)
        direct_close(s, s->ndirect - 1);
}

/* A message from the switch carrying a descriptor: a direct path to the
 * VM with the MAC it names (I/O lock held).  Takes fd. */
static void direct_add(struct switch_nb *s, const uint8_t *msg, size_t len, int fd)
{
    struct swp_ctl c;
    if (len != sizeof(c)) {
        direct_reject(fd);
        return;
    }
    memcpy(&c, msg, sizeof(c));
    if (memcmp(c.magic, SWP_CTL_MAGIC, sizeof(c.magic)) || c.op != SWP_CTL_DIRECT ||
        (c.mac[0] & 1) || s->ndirect == MAX_DIRECT || !watch_fd(s, fd)) {
        direct_reject(fd);
        return;
    }
    for (unsigned k = 0; k < s->ndirect; k++)
        if (!memcmp(s->direct[k].mac, c.mac, 6))
            direct_close(s, k); /* the switch replaced it */
    memcpy(s->direct[s->ndirect].mac, c.mac, 6);
    s->direct[s->ndirect++].fd = fd;
}

/* Connects and says hello; the socket or -1 with the reason in err. */
static int join(struct switch_nb *s, char *err, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(err, errlen, "switch '%s' is not running (wirt net start %s): %s", s->name,
                 s->name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct swp_reply reply = {0};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (send(fd, &s->hello, sizeof(s->hello), MSG_NOSIGNAL) != (ssize_t)sizeof(s->hello) ||
        recv(fd, &reply, sizeof(reply), 0) != (ssize_t)sizeof(reply) ||
        memcmp(reply.magic, SWP_MAGIC, sizeof(SWP_MAGIC)) || reply.port < 0) {
        reply.error[sizeof(reply.error) - 1] = '\0';
        snprintf(err, errlen, "switch '%s' refused the port: %s", s->name,
                 reply.error[0] ? reply.error : "no answer");
        close(fd);
        return -1;
    }
    tv.tv_sec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    /* Room for bursts of large frames both ways. */
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    return fd;
}

static void deliver_complete(void *opaque, const uint8_t *frame, size_t len)
{
    struct switch_nb *s = opaque;
    s->nb.receive(s->nb.opaque, frame, len);
}

/* One message from the switch (I/O lock held): header, then the frame.
 * False when the front end has no room for it yet: it stays in buf. */
static bool deliver(struct switch_nb *s, size_t len)
{
    struct net_meta h;
    net_meta_unpack(s->buf, &h);
    uint8_t *frame = s->buf + NET_META_LEN;
    len -= NET_META_LEN;
    if (s->nb.receive_meta)
        return s->nb.receive_meta(s->nb.opaque, &h, frame, len);
    if (!net_meta_finish(&h, frame, len, deliver_complete, s))
        s->dropped++;
    return true;
}

/* One message from fd into buf: its length, 0 when the connection ended,
 * -1 when none is waiting, -2 when it was a direct path (taken here). */
static ssize_t take(struct switch_nb *s, int fd, bool from_switch)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } u;
    struct iovec iov = {s->buf, sizeof(s->buf)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (from_switch) {
        m.msg_control = u.buf;
        m.msg_controllen = sizeof(u.buf);
    }
    ssize_t len = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    /* The switch and the peers send no empty frames: 0 is the end. */
    if (len == 0 || (len < 0 && errno != EAGAIN && errno != EINTR))
        return 0;
    if (len < 0)
        return -1;
    int passed = -1;
    for (struct cmsghdr *c = from_switch ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (passed < 0)
                passed = f;
            else
                close(f);
        }
    }
    if (passed >= 0) {
        /* Only the switch can pass a descriptor: no guest frame is taken
         * for a control message. */
        direct_add(s, s->buf, (size_t)len, passed);
        return -2;
    }
    return len;
}

/* Takes up to BATCH messages from fd; true when its connection ended. */
static bool drain_fd(struct switch_nb *s, int fd, bool from_switch)
{
    int i;
    for (i = 0; i < BATCH && !s->pending; i++) {
        if (!s->nb.can_receive || !s->nb.can_receive(s->nb.opaque)) {
            __atomic_store_n(&s->paused, true, __ATOMIC_RELEASE);
            break;
        }
        ssize_t len = take(s, fd, from_switch);
        if (len == 0)
            return true;
        if (len == -2)
            continue;
        if (len < 0)
            break;
        if (len <= NET_META_LEN)
            continue;
        if (!deliver(s, (size_t)len))
            s->pending = (size_t)len;
    }
    if (i == BATCH)
        s->more = true;
    return false;
}

/* Takes what the switch and the direct peers sent (I/O lock held by the
 * caller); true when the connection to the switch ended. */
static bool rx_drain(struct switch_nb *s, int fd)
{
    /* A large frame the guest had no buffers for waits here, rather than
     * 64 KiB of a stream being lost. */
    if (s->pending && deliver(s, s->pending))
        s->pending = 0;
    bool gone = !s->pending && drain_fd(s, fd, true);
    for (unsigned k = 0; k < s->ndirect && !s->pending;)
        if (drain_fd(s, s->direct[k].fd, false))
            direct_close(s, k); /* the peer left or the switch revoked it */
        else
            k++;
    if (gone)
        direct_close_all(s); /* they were the old switch's decision */
    if (s->pending)
        __atomic_store_n(&s->paused, true, __ATOMIC_RELEASE);
    return gone;
}

static void *switch_thread(void *arg)
{
    struct switch_nb *s = arg;
    bool again = false; /* the last drain stopped at BATCH */
    for (;;) {
        int fd = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
        bool paused = __atomic_load_n(&s->paused, __ATOMIC_ACQUIRE);
        /* The switch's socket itself, for its hang-up while paused. */
        struct pollfd pfd[3] = {
            {.fd = fd < 0 ? -1 : s->epfd, .events = paused ? 0 : POLLIN},
            {.fd = s->wakefd, .events = POLLIN},
            {.fd = fd, .events = 0},
        };
        int n = poll(pfd, 3, fd < 0 ? RECONNECT_MS : again ? 0 : -1);
        if (n < 0 && errno != EINTR)
            break;
        bool woken = pfd[1].revents & POLLIN;
        if (woken) {
            uint64_t v;
            ssize_t r = read(s->wakefd, &v, sizeof(v));
            (void)r;
        }
        if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
            break;
        if (fd < 0) {
            char err[256];
            int nfd = join(s, err, sizeof(err));
            if (nfd < 0)
                continue;
            pthread_mutex_lock(s->lock);
            if (watch_fd(s, nfd)) {
                log_info("net: switch '%s': port reconnected", s->name);
                __atomic_store_n(&s->fd, nfd, __ATOMIC_RELEASE);
            } else
                close(nfd);
            pthread_mutex_unlock(s->lock);
            continue;
        }
        /* A hang-up of the switch's socket makes the epoll set readable;
         * rx_drain then reads the end of the connection, unless the guest
         * takes nothing now: then what is queued is lost with the switch. */
        bool gone = paused && (pfd[2].revents & (POLLHUP | POLLERR));
        /* Woken (receive_ready, or the watcher left messages): look even
         * though the epoll set may not say so, since the watcher's
         * exclusive wakeup did not put the sockets on this set's ready
         * list.  Likewise after a drain that stopped at BATCH. */
        bool look = (woken || again) && !__atomic_load_n(&s->paused, __ATOMIC_ACQUIRE);
        again = false;
        if (!gone && ((pfd[0].revents & POLLIN) || s->pending || look)) {
            if (!mutex_lock_unless_stopped(s->lock, &s->stop))
                break;
            /* An idle hart may have taken the frames already (rx_poll). */
            s->more = false;
            gone = rx_drain(s, fd);
            again = s->more;
            pthread_mutex_unlock(s->lock);
        }
        if (gone) {
            log_warn_ratelimited("net: switch '%s' went away; reconnecting every %d ms", s->name,
                                 RECONNECT_MS);
            /* The sender may be in send() with this fd under the I/O lock:
             * close it under that lock, so its number is not reused. */
            pthread_mutex_lock(s->lock);
            __atomic_store_n(&s->fd, -1, __ATOMIC_RELEASE);
            close(fd);
            direct_close_all(s);
            pthread_mutex_unlock(s->lock);
        }
    }
    return NULL;
}

/* The sockets of the moment, the switch's last (I/O lock held). */
static int socket_at(const struct switch_nb *s, unsigned k)
{
    return k < s->ndirect ? s->direct[k].fd : s->fd;
}

static bool switch_rx_watch(struct net_backend *nb, int epfd, uint64_t key)
{
    struct switch_nb *s = (struct switch_nb *)nb;
    bool ok = true;
    pthread_mutex_lock(s->lock);
    s->watch_epfd = epfd;
    s->watch_key = key;
    /* The thread's entries move behind the watcher's (a new entry goes to
     * the end of the socket's wait queue). */
    unsigned k;
    for (k = 0; ok && k <= s->ndirect; k++) {
        int fd = socket_at(s, k);
        if (fd >= 0) {
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
            ok = watch_fd(s, fd);
        }
    }
    if (!ok) {
        /* The thread alone serves, as before the call. */
        int e = errno;
        s->watch_epfd = -1;
        for (unsigned j = 0; j <= s->ndirect; j++)
            if (socket_at(s, j) >= 0) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, socket_at(s, j), NULL);
                watch_fd(s, socket_at(s, j)); /* EEXIST for those still there */
            }
        errno = e;
    }
    pthread_mutex_unlock(s->lock);
    return ok;
}

/* From the watcher: the same step as the thread's, under the I/O lock.
 * A connection that ended is left to the thread, which sees it too.  The
 * edge was the watcher's alone: what a drain leaves (more than BATCH
 * messages) goes to the thread, whose epoll set is level-triggered; a
 * guest without room wakes it through receive_ready. */
static void switch_rx_poll(struct net_backend *nb)
{
    struct switch_nb *s = (struct switch_nb *)nb;
    pthread_mutex_lock(s->lock);
    s->more = false;
    int fd = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
    if (fd >= 0)
        rx_drain(s, fd);
    bool more = s->more;
    pthread_mutex_unlock(s->lock);
    if (more)
        wake(s);
}

/* The direct path for this frame from the guest, or -1: a unicast for a
 * peer's MAC, untagged (both are access ports of one VLAN) and from our own
 * MAC (the switch's anti-spoofing); all else goes to the switch. */
static int direct_for(const struct switch_nb *s, const uint8_t *f, size_t len)
{
    if (len < 14 || memcmp(f + 6, s->hello.mac, 6))
        return -1;
    unsigned type = (unsigned)(f[12] << 8 | f[13]);
    if (type == 0x8100 || type == 0x88a8 || type == 0x9100)
        return -1;
    for (unsigned k = 0; k < s->ndirect; k++)
        if (!memcmp(f, s->direct[k].mac, 6))
            return (int)k;
    return -1;
}

static void switch_send_meta(struct net_backend *nb, const struct net_meta *h, const void *frame,
                             size_t len)
{
    struct switch_nb *s = (struct switch_nb *)nb;
    int fd = __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE);
    uint8_t hdr[NET_META_LEN];
    static const struct net_meta none = {0};
    net_meta_pack(h ? h : &none, hdr);
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)frame, len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    int k = s->ndirect && len <= SWP_MAX_FRAME ? direct_for(s, frame, len) : -1;
    if (k >= 0) {
        /* As the switch would pass it: offload metadata only when there is
         * an offload to finish. */
        if (h && h->gso_type == NET_META_GSO_NONE && !(h->flags & NET_META_F_NEEDS_CSUM))
            net_meta_pack(&none, hdr);
        if (sendmsg(s->direct[k].fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->dropped++; /* the peer's queue is full: a lost frame */
            return;
        }
        direct_close(s, (unsigned)k); /* revoked or the peer left: the switch decides */
        net_meta_pack(h ? h : &none, hdr);
    }
    if (fd < 0 || len > SWP_MAX_FRAME || sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        s->dropped++; /* no switch, or its queue is full: a lost frame */
}

static void switch_send(struct net_backend *nb, const void *frame, size_t len)
{
    switch_send_meta(nb, NULL, frame, len);
}

static void switch_receive_ready(struct net_backend *nb)
{
    struct switch_nb *s = (struct switch_nb *)nb;
    if (__atomic_exchange_n(&s->paused, false, __ATOMIC_ACQ_REL))
        wake(s);
}

static void switch_close(struct net_backend *nb)
{
    struct switch_nb *s = (struct switch_nb *)nb;
    if (s->started) {
        __atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
        wake(s);
        pthread_join(s->thread, NULL);
    }
    if (s->fd >= 0)
        close(s->fd);
    direct_close_all(s);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    free(s);
}

static const struct net_backend_ops switch_ops = {
    .name = "switch",
    .send = switch_send,
    .send_meta = switch_send_meta,
    .receive_ready = switch_receive_ready,
    .rx_watch = switch_rx_watch,
    .rx_poll = switch_rx_poll,
    .close = switch_close,
};

struct net_backend *net_switch_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                    size_t errlen)
{
    if (!nic->sw.socket[0]) {
        snprintf(err, errlen,
                 "switch '%s': no socket (wirt vm and wirt run find it in the store; a spec "
                 "file names it with \"socket\")",
                 nic->sw.name);
        return NULL;
    }
    struct switch_nb *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->nb.ops = &switch_ops;
    s->lock = io_lock;
    s->fd = -1;
    s->epfd = -1;
    s->watch_epfd = -1;
    snprintf(s->path, sizeof(s->path), "%s", nic->sw.socket);
    snprintf(s->name, sizeof(s->name), "%.64s", nic->sw.name[0] ? nic->sw.name : nic->sw.socket);
    memcpy(s->hello.magic, SWP_MAGIC, sizeof(SWP_MAGIC));
    memcpy(s->hello.mac, nic->mac, 6);
    s->hello.vlan = nic->sw.vlan;
    s->hello.ntrunk = (uint16_t)nic->sw.ntrunk;
    memcpy(s->hello.trunk, nic->sw.trunk, sizeof(nic->sw.trunk[0]) * nic->sw.ntrunk);
    s->hello.rate = nic->sw.rate;
    s->hello.flags = SWP_F_VHDR | SWP_F_DIRECT;
    snprintf(s->hello.owner, sizeof(s->hello.owner), "pid %ld", (long)getpid());
    s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->wakefd < 0 || s->epfd < 0) {
        snprintf(err, errlen, "eventfd/epoll: %s", strerror(errno));
        switch_close(&s->nb);
        return NULL;
    }
    if ((s->fd = join(s, err, errlen)) < 0) {
        switch_close(&s->nb);
        return NULL;
    }
    if (!watch_fd(s, s->fd)) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        switch_close(&s->nb);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, switch_thread, s) != 0) {
        snprintf(err, errlen, "cannot start the switch port thread");
        switch_close(&s->nb);
        return NULL;
    }
    s->started = true;
    return &s->nb;
}
