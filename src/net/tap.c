/* SPDX-License-Identifier: MIT */
/*
 * The `tap` backend: a host TAP interface through /dev/net/tun
 * (IFF_TAP | IFF_NO_PI: plain Ethernet frames, one per read/write).
 *
 * A thread polls the TAP fd and takes the I/O lock to hand frames to the
 * frontend.  The device is opened with IFF_VNET_HDR and told (TUNSETOFFLOAD)
 * that we take partial checksums and TCP segments of up to 64 KiB: each
 * frame comes with a 12-byte virtio-net header that goes to the frontend
 * as struct net_meta, so the host's large segments reach the guest whole
 * when it negotiated receive offloads (virtio/net.c cuts them otherwise).
 * Frames we write get a header saying "no offload".  When the frontend
 * has no RX buffers the thread stops polling for input (the kernel
 * queues, then drops) until receive_ready().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/net_backends.h"
#include "util/log.h"

#define VNET_HDR_LEN 12
/* The largest IP packet with an Ethernet header and a VLAN tag. */
#define FRAME_MAX (65535 + 18)
#define BATCH     64

struct tap_nb {
    struct net_backend nb;
    int fd, wakefd;
    pthread_mutex_t *lock;
    pthread_t thread;
    bool started, stop, paused;
    bool vnet_hdr;  /* frames carry a virtio-net header */
    size_t pending; /* a frame in buf the frontend had no room for, or 0 */
    char ifname[IFNAMSIZ];
    uint8_t buf[VNET_HDR_LEN + FRAME_MAX];
};

static void wake(struct tap_nb *t)
{
    uint64_t one = 1;
    ssize_t n = write(t->wakefd, &one, sizeof(one));
    (void)n;
}

static uint16_t le16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A frame read with its virtio-net header (the kernel writes it in the
 * host's order, little-endian here).  False: the frontend has no room yet
 * and the frame stays in buf. */
static bool deliver_with_hdr(struct tap_nb *t, size_t len)
{
    const uint8_t *h = t->buf;
    struct net_meta m = {
        .flags = h[0],
        .gso_type = h[1],
        .hdr_len = le16_at(h + 2),
        .gso_size = le16_at(h + 4),
        .csum_start = le16_at(h + 6),
        .csum_offset = le16_at(h + 8),
    };
    uint8_t *frame = t->buf + VNET_HDR_LEN;
    len -= VNET_HDR_LEN;
    if (t->nb.receive_meta)
        return t->nb.receive_meta(t->nb.opaque, &m, frame, len);
    if (m.gso_type == NET_META_GSO_NONE && !(m.flags & NET_META_F_NEEDS_CSUM))
        t->nb.receive(t->nb.opaque, frame, len);
    return true;
}

static void *tap_thread(void *arg)
{
    struct tap_nb *t = arg;
    /* The rate cap's next deadline and whether input waits for it (from
     * the last pass under the lock; a new TX deadline wakes us). */
    uint64_t wait_ns = 0;
    bool rx_blocked = false;
    for (;;) {
        bool paused = __atomic_load_n(&t->paused, __ATOMIC_ACQUIRE) || rx_blocked;
        struct pollfd pfd[2] = {
            {.fd = t->fd, .events = paused ? 0 : POLLIN},
            {.fd = t->wakefd, .events = POLLIN},
        };
        /* A frame held back goes first once the frontend has room. */
        bool held = t->pending && !paused;
        int n = poll(pfd, 2, net_shaper_timeout(held ? 0 : -1, wait_ns));
        if (n < 0 && errno != EINTR)
            break;
        bool woken = pfd[1].revents & POLLIN;
        if (woken) {
            uint64_t v;
            ssize_t r = read(t->wakefd, &v, sizeof(v));
            (void)r;
        }
        if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
            break;
        if (!(pfd[0].revents & POLLIN) && !held && !wait_ns && !(woken && t->nb.shaper))
            continue;
        if (!mutex_lock_unless_stopped(t->lock, &t->stop))
            break;
        wait_ns = net_shaper_poll(&t->nb, &rx_blocked);
        for (int i = 0; i < BATCH && !rx_blocked; i++) {
            if (!t->nb.can_receive || !t->nb.can_receive(t->nb.opaque)) {
                __atomic_store_n(&t->paused, true, __ATOMIC_RELEASE);
                break;
            }
            if (!net_shaper_rx_may(&t->nb))
                break;
            ssize_t len = (ssize_t)t->pending;
            if (!len && (len = read(t->fd, t->buf, sizeof(t->buf))) <= 0)
                break;
            t->pending = 0;
            if (!t->vnet_hdr) {
                t->nb.receive(t->nb.opaque, t->buf, (size_t)len);
            } else if (len > VNET_HDR_LEN && !deliver_with_hdr(t, (size_t)len)) {
                t->pending = (size_t)len; /* until receive_ready() */
                __atomic_store_n(&t->paused, true, __ATOMIC_RELEASE);
                break;
            }
            size_t hdr = t->vnet_hdr ? VNET_HDR_LEN : 0;
            net_shaper_rx_took(&t->nb, (size_t)len > hdr ? (size_t)len - hdr : 0);
        }
        wait_ns = net_shaper_poll(&t->nb, &rx_blocked);
        pthread_mutex_unlock(t->lock);
    }
    return NULL;
}

static void tap_send(struct net_backend *nb, const void *frame, size_t len)
{
    struct tap_nb *t = (struct tap_nb *)nb;
    static const uint8_t no_offload[VNET_HDR_LEN];
    struct iovec iov[2] = {{(void *)no_offload, VNET_HDR_LEN}, {(void *)frame, len}};
    ssize_t n = t->vnet_hdr ? writev(t->fd, iov, 2) : write(t->fd, frame, len);
    (void)n; /* a full TAP queue drops the frame, like a busy wire */
}

static void tap_wake(struct net_backend *nb)
{
    wake((struct tap_nb *)nb);
}

static void tap_receive_ready(struct net_backend *nb)
{
    struct tap_nb *t = (struct tap_nb *)nb;
    if (__atomic_exchange_n(&t->paused, false, __ATOMIC_ACQ_REL))
        wake(t);
}

static void tap_close(struct net_backend *nb)
{
    struct tap_nb *t = (struct tap_nb *)nb;
    if (t->started) {
        __atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
        wake(t);
        pthread_join(t->thread, NULL);
    }
    if (t->fd >= 0)
        close(t->fd);
    if (t->wakefd >= 0)
        close(t->wakefd);
    net_shaper_free(&t->nb);
    free(t);
}

static const struct net_backend_ops tap_ops = {
    .name = "tap",
    .send = tap_send,
    .receive_ready = tap_receive_ready,
    .close = tap_close,
};

struct net_backend *net_tap_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                 size_t errlen)
{
    struct tap_nb *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->nb.ops = &tap_ops;
    t->lock = io_lock;
    t->wakefd = -1;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        tap_close(&t->nb);
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic->tap.ifname);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            snprintf(err, errlen,
                     "no permission to use TAP device %s (needs CAP_NET_ADMIN, or create it "
                     "first: ip tuntap add %s mode tap user $USER)",
                     nic->tap.ifname, nic->tap.ifname);
        else
            snprintf(err, errlen, "cannot attach TAP device %s: %s", nic->tap.ifname, strerror(e));
        tap_close(&t->nb);
        return NULL;
    }
    snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
    int hdrsz = VNET_HDR_LEN;
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
        snprintf(err, errlen, "TAP device %s: cannot set the virtio-net header size: %s", t->ifname,
                 strerror(errno));
        tap_close(&t->nb);
        return NULL;
    }
    t->vnet_hdr = true;
    /* Without these the kernel segments and checksums for us: slower,
     * still correct. */
    if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0)
        log_warn("TAP device %s: no receive offloads (%s)", t->ifname, strerror(errno));
    t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wakefd < 0 || !net_shaper_init(&t->nb, nic, tap_wake) ||
        pthread_create(&t->thread, NULL, tap_thread, t) != 0) {
        snprintf(err, errlen, "cannot start the TAP thread");
        tap_close(&t->nb);
        return NULL;
    }
    t->started = true;
    return &t->nb;
}
