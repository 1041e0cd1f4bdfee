/* SPDX-License-Identifier: MIT */
/*
 * The switch process of one virtual network (`wirt net __switch DIR`).
 *
 * One thread polls everything: the ports socket where VMMs join
 * (SOCK_SEQPACKET, switch_proto.h), one connection per VM port, the VXLAN
 * UDP sockets, the control socket, and an eventfd for the NAT port.  The
 * forwarding itself is net/vswitch.c; this file carries frames to and from
 * it.  The NAT router port is the `user` NIC backend (libslirp) opened
 * inside the switch, so the whole network shares one DHCP server, DNS and
 * way out; its thread hands frames to a bounded queue that the main loop
 * drains, because forwarding is not re-entrant and slirp answers some
 * frames from inside its input call.
 *
 * The lock (sw_lock) is the NAT backend's "I/O lock": the main thread
 * holds it except while it sleeps in poll().
 *
 * Everything a guest can send is bounded: frames by SWP_MAX_FRAME, ports
 * by VSW_MAX_PORTS, the MAC table by its size (it evicts), the NAT queue
 * by NAT_QUEUE_MAX, and each port's reads per wakeup by BATCH so one VM
 * cannot starve the others.  VXLAN packets are taken only from configured
 * remotes with the configured VNI and a valid header; all else is counted
 * and dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "net/net_backends.h"
#include "net/offload.h"
#include "net/pcap.h"
#include "net/switch_proto.h"
#include "net/vswitch.h"
#include "net/vxlan.h"
#include "netd/netd.h"
#include "util/log.h"
#include "util/unix_socket.h"

#define BATCH          32
#define NAT_QUEUE_MAX  1024
#define MAX_CONTROL    8
#define CONTROL_LINE   (64 * 1024)
#define MAX_VX_SOCKETS NETD_MAX_VXLAN
#define MAX_BINDINGS   256
#define MAX_DIRECT     256 /* direct paths between VM ports (switch_proto.h) */
/* A guest drives the bindings (every DHCP REQUEST or RELEASE changes
 * them): they are written and fsynced at most once per this interval, so
 * a guest cannot turn its DHCP traffic into a stream of host fsyncs, and a
 * binding is on disk at most this long after it changed. */
#define BINDINGS_SAVE_NS 1000000000ull

enum port_kind { PORT_NONE, PORT_VM, PORT_NAT, PORT_VXLAN, PORT_TAP };

struct port {
    enum port_kind kind;
    int fd;      /* PORT_VM: its connection */
    unsigned vx; /* PORT_VXLAN: index into vxlan[] */
    char owner[64];
    uint8_t mac[6];
    bool vhdr;           /* PORT_VM: frames carry a virtio-net header */
    bool direct;         /* PORT_VM: the VMM takes direct paths (SWP_F_DIRECT) */
    uint64_t tx_dropped; /* frames the peer had no room for */
};

struct vx_socket {
    int fd;
    struct netd_endpoint local;
};

/* A frame from a backend port's thread (NAT, tap), waiting for the loop. */
struct qframe {
    struct qframe *next;
    int port;
    bool has_meta; /* the tap's large segments and partial checksums */
    struct net_meta meta;
    size_t len;
    uint8_t data[];
};

struct control_client {
    int fd;
    char *buf;
    size_t len;
};

static struct {
    char dir[PATH_MAX];
    struct netd_config cfg;
    pthread_mutex_t lock;
    struct vswitch *sw;
    struct port ports[VSW_MAX_PORTS];
    int listen_fd, control_fd, wakefd;
    struct control_client clients[MAX_CONTROL];
    struct vx_socket vxs[MAX_VX_SOCKETS];
    unsigned nvxs;
    uint64_t vx_bad; /* VXLAN packets dropped: unknown peer, bad header, wrong VNI */
    struct net_backend *nat, *tap;
    int nat_port, tap_port;
    struct qframe *qhead, *qtail;
    unsigned qlen;
    struct {
        uint8_t mac[6];
        uint32_t ip;
    } bindings[MAX_BINDINGS];
    unsigned nbindings;
    /* Direct paths handed out: both ends of each stay here too, so that a
     * shutdown() cuts the path in both VMMs at once, whatever they do. */
    struct {
        unsigned a, b;
        int fd[2];
    } directs[MAX_DIRECT];
    unsigned ndirects;
    uint64_t direct_granted;  /* paths handed out (`wirt net stats --json`) */
    bool bindings_dirty;      /* changed since the last save */
    uint64_t bindings_saved;  /* now_ns() of the last save */
    uint64_t bindings_writes; /* saves tried (`wirt net stats --json`) */
    uint64_t nat_dropped;     /* frames of the backend ports the queue had no room for */
    struct pcap_writer pcap;
    bool mirroring;
    int mirror_port; /* -1: every port */
    char mirror_file[NET_SWITCH_NAME_MAX + 16];
    volatile sig_atomic_t stop;
    volatile sig_atomic_t wake_ready; /* wakefd exists: signals may use it */
    /* The metadata of the frame being forwarded (from a port with
     * headers), and its length as it came in: egress may add or remove a
     * VLAN tag, which moves every offset in it. */
    struct net_meta cur;
    bool cur_valid;
    size_t cur_len;
    uint8_t buf[NET_META_LEN + SWP_MAX_FRAME + VXLAN_HLEN];
    uint8_t seg[VSW_MAX_FRAME + 8]; /* a copy to finish for a port without headers */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .nat_port = -1,
       .tap_port = -1,
       .listen_fd = -1,
       .control_fd = -1};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- out of the switch ---- */

static void output_complete(unsigned port, const void *frame, size_t len)
{
    struct port *p = &S.ports[port];
    switch (p->kind) {
    case PORT_VM:
        if (send(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            p->tx_dropped++;
        break;
    case PORT_NAT:
        S.nat->ops->send(S.nat, frame, len);
        break;
    case PORT_TAP:
        S.tap->ops->send(S.tap, frame, len);
        break;
    case PORT_VXLAN: {
        const struct netd_vxlan *vx = &S.cfg.vxlan[p->vx];
        uint8_t hdr[VXLAN_HLEN];
        vxlan_encap(hdr, vx->vni);
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = vx->remote.addr,
                                 .sin_port = htons(vx->remote.port)};
        struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)frame, len}};
        struct msghdr m = {
            .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov, .msg_iovlen = 2};
        int fd = -1;
        for (unsigned i = 0; i < S.nvxs; i++)
            if (S.vxs[i].local.addr == vx->local.addr && S.vxs[i].local.port == vx->local.port)
                fd = S.vxs[i].fd;
        if (fd < 0 || sendmsg(fd, &m, MSG_DONTWAIT) < 0)
            p->tx_dropped++;
        break;
    }
    case PORT_NONE:
        break;
    }
}

static void emit_complete(void *opaque, const uint8_t *frame, size_t len)
{
    output_complete((unsigned)(uintptr_t)opaque, frame, len);
}

/* A port that takes headers gets the frame as it is, with its metadata;
 * any other gets it finished here (segmented, checksummed), once. */
static void output(void *opaque, unsigned port, const void *frame, size_t len)
{
    (void)opaque;
    struct port *p = &S.ports[port];
    struct net_meta h = {0};
    if (S.cur_valid) {
        h = S.cur;
        long delta = (long)len - (long)S.cur_len; /* a tag added (+4) or taken off (-4) */
        h.csum_start = (uint16_t)(h.csum_start + delta);
        if (h.hdr_len)
            h.hdr_len = (uint16_t)(h.hdr_len + delta);
    }
    if (p->kind == PORT_VM && p->vhdr) {
        uint8_t hdr[NET_META_LEN];
        net_meta_pack(&h, hdr);
        struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)frame, len}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
        if (sendmsg(p->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            p->tx_dropped++;
        return;
    }
    if (!S.cur_valid) {
        output_complete(port, frame, len);
        return;
    }
    if (len > sizeof(S.seg)) {
        p->tx_dropped++;
        return;
    }
    memcpy(S.seg, frame, len);
    if (!net_meta_finish(&h, S.seg, len, emit_complete, (void *)(uintptr_t)port))
        p->tx_dropped++; /* metadata that does not fit its frame */
}

static void mirror(void *opaque, unsigned port, const void *frame, size_t len)
{
    (void)opaque;
    if (S.mirroring && (S.mirror_port < 0 || (unsigned)S.mirror_port == port))
        pcap_write(&S.pcap, frame, len, wall_ns());
}

/* ---- DHCP snooping's bindings, kept across restarts ---- */

/* What DHCP gave each MAC, saved in NETD_BINDINGS so that a restarted
 * switch does not cut off guests until their next renewal (hours). */
static uint32_t binding_lookup(const uint8_t mac[6])
{
    for (unsigned i = 0; i < S.nbindings; i++)
        if (!memcmp(S.bindings[i].mac, mac, 6))
            return S.bindings[i].ip;
    return 0;
}

static void bindings_save(void)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof(path), "%s/%s", S.dir, NETD_BINDINGS);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    /* A failed save is tried again an interval later, not on every frame. */
    S.bindings_saved = now_ns();
    S.bindings_writes++;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < S.nbindings; i++) {
        const uint8_t *m = S.bindings[i].mac;
        uint32_t ip = S.bindings[i].ip;
        dprintf(fd, "%02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u\n", m[0], m[1], m[2], m[3], m[4],
                m[5], ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
    }
    bool ok = fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    else
        S.bindings_dirty = false;
}

/* Saves the bindings when they changed and the last save is at least
 * BINDINGS_SAVE_NS old; returns the ms until a save is due (for poll), or
 * -1 when none is pending. */
static int bindings_flush(bool force)
{
    if (!S.bindings_dirty)
        return -1;
    uint64_t now = now_ns();
    if (force || !S.bindings_saved || now - S.bindings_saved >= BINDINGS_SAVE_NS) {
        bindings_save();
        return -1;
    }
    return (int)((S.bindings_saved + BINDINGS_SAVE_NS - now + 999999) / 1000000);
}

static void bindings_load(void)
{
    char path[PATH_MAX + 32], line[128];
    snprintf(path, sizeof(path), "%s/%s", S.dir, NETD_BINDINGS);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while (S.nbindings < MAX_BINDINGS && fgets(line, sizeof(line), f)) {
        unsigned m[6], a[4];
        char tail;
        if (sscanf(line, "%2x:%2x:%2x:%2x:%2x:%2x %u.%u.%u.%u%c", &m[0], &m[1], &m[2], &m[3], &m[4],
                   &m[5], &a[0], &a[1], &a[2], &a[3], &tail) != 11 ||
            tail != '\n' || (a[0] | a[1] | a[2] | a[3]) > 255)
            continue; /* not ours: skipped, never trusted half */
        for (int k = 0; k < 6; k++)
            S.bindings[S.nbindings].mac[k] = (uint8_t)m[k];
        S.bindings[S.nbindings++].ip = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    }
    fclose(f);
}

/* The switch core saw DHCP bind (ip) or unbind (0) a port's address. */
static void on_bind(void *opaque, unsigned port, uint32_t ip)
{
    (void)opaque;
    const uint8_t *mac = S.sw->ports[port].cfg.mac;
    unsigned i = 0;
    while (i < S.nbindings && memcmp(S.bindings[i].mac, mac, 6))
        i++;
    if (i < S.nbindings && S.bindings[i].ip == ip)
        return;
    if (i == S.nbindings) {
        if (!ip)
            return;
        if (S.nbindings == MAX_BINDINGS) /* forget the oldest */
            memmove(&S.bindings[0], &S.bindings[1], --S.nbindings * sizeof(S.bindings[0]));
        i = S.nbindings++;
        memcpy(S.bindings[i].mac, mac, 6);
    }
    if (ip) {
        S.bindings[i].ip = ip;
    } else {
        memmove(&S.bindings[i], &S.bindings[i + 1], (S.nbindings - i - 1) * sizeof(S.bindings[0]));
        S.nbindings--;
    }
    /* The first change after a quiet spell is written at once; a burst
     * after it is coalesced into one write when the interval is up. */
    S.bindings_dirty = true;
    bindings_flush(false);
}

/* ---- backend ports (NAT, tap): frames from their threads, queued ---- */

/* Called with S.lock held, from the backend's thread. */
static bool enqueue(int port, const struct net_meta *meta, const void *frame, size_t len)
{
    struct qframe *f = S.qlen < NAT_QUEUE_MAX ? malloc(sizeof(*f) + len) : NULL;
    if (!f) {
        S.nat_dropped++;
        return false;
    }
    f->next = NULL;
    f->port = port;
    f->has_meta = meta != NULL;
    if (meta)
        f->meta = *meta;
    f->len = len;
    memcpy(f->data, frame, len);
    if (S.qtail)
        S.qtail->next = f;
    else
        S.qhead = f;
    S.qtail = f;
    S.qlen++;
    uint64_t one = 1;
    ssize_t n = write(S.wakefd, &one, sizeof(one));
    (void)n;
    return true;
}

static void nat_receive(void *opaque, const void *frame, size_t len)
{
    (void)opaque;
    enqueue(S.nat_port, NULL, frame, len);
}

static void tap_receive(void *opaque, const void *frame, size_t len)
{
    (void)opaque;
    enqueue(S.tap_port, NULL, frame, len);
}

static bool tap_receive_meta(void *opaque, const struct net_meta *m, uint8_t *frame, size_t len)
{
    (void)opaque;
    bool offloaded = m->gso_type != NET_META_GSO_NONE || (m->flags & NET_META_F_NEEDS_CSUM);
    enqueue(S.tap_port, offloaded ? m : NULL, frame, len);
    return true; /* taken or counted as dropped; never held back */
}

static bool nat_can_receive(void *opaque)
{
    (void)opaque;
    return true; /* the queue bounds itself */
}

static bool tap_can_receive(void *opaque)
{
    (void)opaque;
    /* The tap thread then stops reading and the kernel queues for us. */
    return S.qlen < NAT_QUEUE_MAX;
}

static void drain_backend_queue(void)
{
    bool tap_was_full = S.qlen >= NAT_QUEUE_MAX;
    while (S.qhead) {
        struct qframe *f = S.qhead;
        S.qhead = f->next;
        if (!S.qhead)
            S.qtail = NULL;
        S.qlen--;
        if (f->has_meta) {
            S.cur = f->meta;
            S.cur_valid = true;
            S.cur_len = f->len;
        }
        vsw_input(S.sw, (unsigned)f->port, f->data, f->len, now_ns());
        S.cur_valid = false;
        free(f);
    }
    if (S.tap && tap_was_full && S.tap->ops->receive_ready)
        S.tap->ops->receive_ready(S.tap);
}

/* The host tap uplink: a host interface (possibly in a Linux bridge) as an
 * untagged access port of the switch. */
static bool open_tap(char *err, size_t errlen)
{
    if (!S.cfg.tap[0])
        return true;
    struct nic_spec nic = {0};
    nic.backend = net_backend_find("tap");
    snprintf(nic.tap.ifname, sizeof(nic.tap.ifname), "%s", S.cfg.tap);
    char why[300];
    S.tap = net_backend_open(&nic, &S.lock, why, sizeof(why));
    if (!S.tap) {
        snprintf(err, errlen, "tap uplink: %s", why);
        return false;
    }
    S.tap->receive = tap_receive;
    S.tap->receive_meta = tap_receive_meta;
    S.tap->can_receive = tap_can_receive;
    struct vsw_port_config pc = {.pvid = S.cfg.tap_vlan};
    S.tap_port = vsw_port_add(S.sw, &pc);
    S.ports[S.tap_port] = (struct port){.kind = PORT_TAP, .fd = -1};
    snprintf(S.ports[S.tap_port].owner, sizeof(S.ports[0].owner), "tap %s", S.cfg.tap);
    return true;
}

static bool open_nat(char *err, size_t errlen)
{
    if (!S.cfg.nat && !S.cfg.dhcp)
        return true;
    struct nic_spec nic = {0};
    nic.backend = net_backend_find("user");
    nic.user.net_addr = S.cfg.net_addr;
    nic.user.net_mask = S.cfg.net_mask;
    nic.user.restricted = !S.cfg.nat; /* DHCP and DNS only: no way out */
    memcpy(nic.user.hostfwd, S.cfg.hostfwd, sizeof(S.cfg.hostfwd));
    nic.user.nhostfwd = S.cfg.nhostfwd;
    /* The router's own address is slirp's; this MAC is the switch port's. */
    static const uint8_t mac[6] = {0x52, 0x56, 0x00, 0x00, 0x00, 0x02};
    memcpy(nic.mac, mac, 6);
    S.nat = net_backend_open(&nic, &S.lock, err, errlen);
    if (!S.nat)
        return false;
    S.nat->receive = nat_receive;
    S.nat->can_receive = nat_can_receive;
    struct vsw_port_config pc = {.pvid = VSW_DEFAULT_VLAN};
    S.nat_port = vsw_port_add(S.sw, &pc);
    S.ports[S.nat_port] = (struct port){.kind = PORT_NAT, .fd = -1};
    snprintf(S.ports[S.nat_port].owner, sizeof(S.ports[0].owner), "%s router",
             S.cfg.nat ? "NAT" : "DHCP");
    return true;
}

/* ---- VXLAN tunnel ports ---- */

static int vx_socket_for(const struct netd_endpoint *local, char *err, size_t errlen)
{
    for (unsigned i = 0; i < S.nvxs; i++)
        if (S.vxs[i].local.addr == local->addr && S.vxs[i].local.port == local->port)
            return (int)i;
    if (S.nvxs == MAX_VX_SOCKETS) {
        snprintf(err, errlen, "too many VXLAN local endpoints");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = local->addr, .sin_port = htons(local->port)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(err, errlen, "VXLAN: cannot bind UDP %s:%u: %s", inet_ntoa(sa.sin_addr),
                 local->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    S.vxs[S.nvxs] = (struct vx_socket){.fd = fd, .local = *local};
    return (int)S.nvxs++;
}

static bool add_vxlan_port(unsigned idx, char *err, size_t errlen)
{
    const struct netd_vxlan *vx = &S.cfg.vxlan[idx];
    if (vx_socket_for(&vx->local, err, errlen) < 0)
        return false;
    /* A tunnel carries every VLAN, tagged as the frames are, and never
     * forwards to another tunnel (split horizon: a mesh must not loop). */
    struct vsw_port_config pc = {.trunk = true, .pvid = VSW_DEFAULT_VLAN, .split_horizon = true};
    for (uint16_t v = 1; v < 4095; v++)
        vsw_vlan_allow(&pc, v);
    int port = vsw_port_add(S.sw, &pc);
    if (port < 0) {
        snprintf(err, errlen, "no free switch port for the VXLAN tunnel");
        return false;
    }
    S.ports[port] = (struct port){.kind = PORT_VXLAN, .fd = -1, .vx = idx};
    netd_format_vxlan(vx, S.ports[port].owner, sizeof(S.ports[port].owner));
    return true;
}

static void vxlan_readable(struct vx_socket *vs)
{
    for (int i = 0; i < BATCH; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n =
            recvfrom(vs->fd, S.buf, sizeof(S.buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        uint32_t vni;
        int port = -1;
        for (unsigned p = 0; p < VSW_MAX_PORTS && port < 0; p++) {
            const struct port *pp = &S.ports[p];
            if (pp->kind != PORT_VXLAN)
                continue;
            const struct netd_vxlan *vx = &S.cfg.vxlan[pp->vx];
            /* The peer's source port is its entropy (RFC 7348 5): match
             * the address and our local endpoint only. */
            if (vx->remote.addr == from.sin_addr.s_addr && vx->local.port == vs->local.port &&
                vx->local.addr == vs->local.addr)
                port = (int)p;
        }
        if (port < 0 || !vxlan_decap(S.buf, (size_t)n, &vni) ||
            vni != S.cfg.vxlan[S.ports[port].vx].vni) {
            S.vx_bad++;
            continue;
        }
        vsw_input(S.sw, (unsigned)port, S.buf + VXLAN_HLEN, (size_t)n - VXLAN_HLEN, now_ns());
    }
}

/* ---- direct paths between two VMs (switch_proto.h) ---- */

/* May frames between VM ports a and b bypass the switch?  Only when the
 * switch would do nothing to them but carry them: same VLAN on two access
 * ports, MACs fixed by anti-spoofing, and no policy that must see, count
 * or shape each frame. */
static bool direct_allowed(unsigned a, unsigned b)
{
    const struct port *pa = &S.ports[a], *pb = &S.ports[b];
    const struct vsw_port *va = &S.sw->ports[a], *vb = &S.sw->ports[b];
    return a != b && pa->kind == PORT_VM && pb->kind == PORT_VM && pa->direct && pb->direct &&
           pa->vhdr && pb->vhdr && va->up && vb->up && !va->cfg.trunk && !vb->cfg.trunk &&
           va->cfg.pvid == vb->cfg.pvid && va->cfg.anti_spoof && vb->cfg.anti_spoof &&
           !va->cfg.ip_guard && !vb->cfg.ip_guard && !va->cfg.rate_bytes_per_s &&
           !vb->cfg.rate_bytes_per_s && !S.sw->nacl && !S.cfg.nstatic && !S.mirroring;
}

static void direct_drop(unsigned i)
{
    for (int k = 0; k < 2; k++) {
        shutdown(S.directs[i].fd[k], SHUT_RDWR); /* both VMMs see it now */
        close(S.directs[i].fd[k]);
    }
    S.directs[i] = S.directs[--S.ndirects];
}

/* Cuts the direct paths of port (every one for -1): the policy changed or
 * the port left; their frames come through the switch again. */
static void direct_revoke(int port)
{
    for (unsigned i = 0; i < S.ndirects;)
        if (port < 0 || S.directs[i].a == (unsigned)port || S.directs[i].b == (unsigned)port)
            direct_drop(i);
        else
            i++;
}

static bool send_direct(int to, const uint8_t mac[6], int fd)
{
    struct swp_ctl c = {.op = SWP_CTL_DIRECT};
    memcpy(c.magic, SWP_CTL_MAGIC, sizeof(c.magic));
    memcpy(c.mac, mac, 6);
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {&c, sizeof(c)};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return sendmsg(to, &m, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(c);
}

/* The VM port a unicast frame is for, or -1. */
static int direct_peer(const uint8_t *f, size_t len)
{
    if (len < 14 || (f[0] & 1) || S.ndirects == MAX_DIRECT)
        return -1;
    for (unsigned b = 0; b < VSW_MAX_PORTS; b++)
        if (S.ports[b].kind == PORT_VM && S.ports[b].direct && !memcmp(S.ports[b].mac, f, 6))
            return (int)b;
    return -1;
}

/* The switch just delivered a unicast frame from VM port a to VM port b:
 * hands the pair a path of their own when allowed. */
static void direct_offer(unsigned a, unsigned b)
{
    if (S.ndirects == MAX_DIRECT || !direct_allowed(a, b))
        return;
    for (unsigned i = 0; i < S.ndirects; i++) {
        if (!((S.directs[i].a == a && S.directs[i].b == b) ||
              (S.directs[i].a == b && S.directs[i].b == a)))
            continue;
        /* Frames still in flight while the VMMs take their ends, or one
         * gave its end up (shut down): then the pair may have a new one. */
        struct pollfd pf = {.fd = S.directs[i].fd[0], .events = POLLRDHUP};
        if (poll(&pf, 1, 0) <= 0 || !(pf.revents & (POLLRDHUP | POLLHUP)))
            return;
        direct_drop(i);
        break;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        return;
    int buf = 1 << 20;
    for (int k = 0; k < 2; k++) {
        setsockopt(sv[k], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        setsockopt(sv[k], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    }
    unsigned i = S.ndirects++;
    S.directs[i].a = a;
    S.directs[i].b = b;
    S.directs[i].fd[0] = sv[0];
    S.directs[i].fd[1] = sv[1];
    /* Half a path is no path: a VMM whose peer never got its end sees
     * the shutdown and falls back to the switch. */
    if (!send_direct(S.ports[a].fd, S.ports[b].mac, sv[0]) ||
        !send_direct(S.ports[b].fd, S.ports[a].mac, sv[1]))
        direct_drop(i);
    else
        S.direct_granted++;
}

/* ---- VM ports ---- */

static void remove_port(unsigned port)
{
    struct port *p = &S.ports[port];
    if (p->kind == PORT_VM) {
        direct_revoke((int)port);
        close(p->fd);
        log_info("switch %s: port %u (%s) left", S.cfg.name, port, p->owner);
    }
    vsw_port_remove(S.sw, port);
    *p = (struct port){.fd = -1};
}

static void reply_hello(int fd, int port, const char *error)
{
    struct swp_reply r = {.port = port};
    memcpy(r.magic, SWP_MAGIC, sizeof(SWP_MAGIC));
    snprintf(r.error, sizeof(r.error), "%s", error ? error : "");
    ssize_t n = send(fd, &r, sizeof(r), MSG_NOSIGNAL);
    (void)n;
}

static void accept_port(void)
{
    int fd = accept4(S.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    uid_t uid;
    if (!unix_peer_allowed(fd, &uid)) {
        log_warn_ratelimited("switch %s: refused a port from uid %d", S.cfg.name, (int)uid);
        close(fd);
        return;
    }
    /* The hello comes at once after connect; a peer that stalls is dropped. */
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct swp_hello h;
    ssize_t n = recv(fd, &h, sizeof(h), 0);
    if (n != (ssize_t)sizeof(h) || memcmp(h.magic, SWP_MAGIC, sizeof(SWP_MAGIC))) {
        reply_hello(fd, -1, "not a wirt switch port hello");
        close(fd);
        return;
    }
    struct vsw_port_config pc = {.pvid = h.vlan ? h.vlan : VSW_DEFAULT_VLAN, .anti_spoof = true};
    memcpy(pc.mac, h.mac, 6);
    const char *bad = NULL;
    if (h.vlan > 4094 || h.ntrunk > SWP_MAX_TRUNK || (h.mac[0] & 1))
        bad = "bad port settings";
    if (h.ntrunk) {
        pc.trunk = true;
        pc.pvid = VSW_DEFAULT_VLAN; /* untagged frames of a trunk: VLAN 1 */
        for (unsigned i = 0; !bad && i < h.ntrunk; i++) {
            if (h.trunk[i] < 1 || h.trunk[i] > 4094)
                bad = "bad trunk VLAN";
            else
                vsw_vlan_allow(&pc, h.trunk[i]);
        }
    }
    /* Trunk ports carry the guest's own VLAN subinterfaces, whose addresses
     * no DHCP of ours hands out: only their MACs are checked. */
    pc.ip_guard = S.cfg.ip_guard && (S.cfg.nat || S.cfg.dhcp) && !pc.trunk;
    if (h.rate) {
        pc.rate_bytes_per_s = h.rate;
        pc.burst_bytes = h.rate / 10 > 65536 ? h.rate / 10 : 65536;
    }
    int port = bad ? -1 : vsw_port_add(S.sw, &pc);
    if (port < 0) {
        reply_hello(fd, -1, bad ? bad : "the switch has no free port");
        close(fd);
        return;
    }
    /* A VM that got its address before the switch restarted keeps it. */
    if (pc.ip_guard)
        S.sw->ports[port].bound_ip = binding_lookup(pc.mac);
    tv.tv_sec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct port *p = &S.ports[port];
    *p = (struct port){.kind = PORT_VM,
                       .fd = fd,
                       .vhdr = (h.flags & SWP_F_VHDR) != 0,
                       .direct = (h.flags & SWP_F_DIRECT) != 0};
    memcpy(p->mac, h.mac, 6);
    h.owner[sizeof(h.owner) - 1] = '\0';
    for (char *c = h.owner; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    snprintf(p->owner, sizeof(p->owner), "%s", h.owner);
    reply_hello(fd, port, NULL);
    log_info("switch %s: port %d joined (%s)", S.cfg.name, port, p->owner);
}

static void port_readable(unsigned port, short revents)
{
    struct port *p = &S.ports[port];
    for (int i = 0; i < BATCH; i++) {
        /* MSG_TRUNC: the frame's real length, so a giant is seen as one. */
        ssize_t n = recv(p->fd, S.buf, sizeof(S.buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            remove_port(port);
            return;
        }
        if (n < 0)
            return;
        /* An empty message reads like the end of a SEQPACKET connection;
         * only a hang-up is one. */
        if (n == 0 && (revents & POLLHUP)) {
            remove_port(port);
            return;
        }
        size_t hl = p->vhdr ? NET_META_LEN : 0;
        if ((size_t)n > hl + SWP_MAX_FRAME) {
            S.sw->ports[port].cnt.drop_giant++;
            continue;
        }
        if ((size_t)n < hl) {
            S.sw->ports[port].cnt.drop_runt++;
            continue;
        }
        if (hl) {
            net_meta_unpack(S.buf, &S.cur);
            S.cur_valid =
                S.cur.gso_type != NET_META_GSO_NONE || (S.cur.flags & NET_META_F_NEEDS_CSUM);
            S.cur_len = (size_t)n - hl;
        }
        /* A unicast frame for a VM port, from one that may go direct. */
        int b = p->direct ? direct_peer(S.buf + hl, (size_t)n - hl) : -1;
        uint64_t sent = b >= 0 ? S.sw->ports[b].cnt.tx_frames : 0;
        vsw_input(S.sw, port, S.buf + hl, (size_t)n - hl, now_ns());
        if (b >= 0 && S.sw->ports[b].cnt.tx_frames != sent && S.ports[port].kind == PORT_VM)
            direct_offer(port, (unsigned)b);
        S.cur_valid = false;
    }
}

/* ---- ACL rules and static entries, as text ---- */

static bool parse_ip_mask(const char *v, uint32_t *ip, uint32_t *mask)
{
    char host[32];
    const char *slash = strchr(v, '/');
    size_t hl = slash ? (size_t)(slash - v) : strlen(v);
    unsigned bits = 32;
    if (hl >= sizeof(host))
        return false;
    memcpy(host, v, hl);
    host[hl] = '\0';
    if (slash) {
        char *end;
        bits = (unsigned)strtoul(slash + 1, &end, 10);
        if (*end || bits > 32 || !slash[1])
            return false;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1)
        return false;
    *mask = bits ? 0xffffffffu << (32 - bits) : 0;
    *ip = ntohl(a.s_addr) & *mask;
    return true;
}

bool netd_parse_acl(const char *text, struct vsw_acl *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof(*r));
    char copy[NETD_RULE_MAX];
    if (strlen(text) >= sizeof(copy)) {
        snprintf(why, whylen, "rule too long");
        return false;
    }
    strcpy(copy, text);
    char *save = NULL, *tok = strtok_r(copy, ",", &save);
    if (!tok || (strcmp(tok, "drop") && strcmp(tok, "allow"))) {
        snprintf(why, whylen, "a rule starts with drop or allow");
        return false;
    }
    r->allow = !strcmp(tok, "allow");
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *v = strchr(tok, '=');
        if (!v) {
            snprintf(why, whylen, "'%.30s' is not KEY=VALUE", tok);
            return false;
        }
        *v++ = '\0';
        char *end;
        bool ok = true;
        if (!strcmp(tok, "src-mac")) {
            ok = net_parse_mac(v, r->src_mac);
            r->match |= VSW_ACL_SRC_MAC;
        } else if (!strcmp(tok, "dst-mac")) {
            unsigned m[6];
            ok = sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) ==
                     6 &&
                 strlen(v) == 17;
            for (int i = 0; ok && i < 6; i++)
                r->dst_mac[i] = (uint8_t)m[i];
            r->match |= VSW_ACL_DST_MAC;
        } else if (!strcmp(tok, "vlan")) {
            unsigned long n = strtoul(v, &end, 10);
            ok = *v && !*end && n >= 1 && n <= 4094;
            r->vlan = (uint16_t)n;
            r->match |= VSW_ACL_VLAN;
        } else if (!strcmp(tok, "src-ip")) {
            ok = parse_ip_mask(v, &r->src_ip, &r->src_mask);
            r->match |= VSW_ACL_SRC_IP;
        } else if (!strcmp(tok, "dst-ip")) {
            ok = parse_ip_mask(v, &r->dst_ip, &r->dst_mask);
            r->match |= VSW_ACL_DST_IP;
        } else if (!strcmp(tok, "proto")) {
            if (!strcmp(v, "icmp"))
                r->proto = 1;
            else if (!strcmp(v, "tcp"))
                r->proto = 6;
            else if (!strcmp(v, "udp"))
                r->proto = 17;
            else {
                unsigned long n = strtoul(v, &end, 10);
                ok = *v && !*end && n <= 255;
                r->proto = (uint8_t)n;
            }
            r->match |= VSW_ACL_PROTO;
        } else if (!strcmp(tok, "dst-port")) {
            unsigned long n = strtoul(v, &end, 10);
            ok = *v && !*end && n >= 1 && n <= 65535;
            r->dst_port = (uint16_t)n;
            r->match |= VSW_ACL_DST_PORT;
        } else if (!strcmp(tok, "in-port")) {
            unsigned long n = strtoul(v, &end, 10);
            ok = *v && !*end && n < VSW_MAX_PORTS;
            r->in_port = (uint16_t)n;
            r->match |= VSW_ACL_IN_PORT;
        } else {
            snprintf(why, whylen,
                     "unknown key '%.20s' (src-mac, dst-mac, vlan, src-ip, dst-ip, proto, "
                     "dst-port, in-port)",
                     tok);
            return false;
        }
        if (!ok) {
            snprintf(why, whylen, "bad value '%.40s' for %s", v, tok);
            return false;
        }
    }
    return true;
}

bool netd_parse_static(const char *text, uint8_t mac[6], unsigned *port, uint16_t *vlan, char *why,
                       size_t whylen)
{
    char copy[64];
    snprintf(copy, sizeof(copy), "%s", text);
    char *save = NULL, *tok = strtok_r(copy, ",", &save);
    *port = VSW_MAX_PORTS;
    *vlan = VSW_DEFAULT_VLAN;
    if (!tok || !net_parse_mac(tok, mac)) {
        snprintf(why, whylen, "a static entry is MAC,port=N[,vlan=V]");
        return false;
    }
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *end;
        if (!strncmp(tok, "port=", 5))
            *port = (unsigned)strtoul(tok + 5, &end, 10);
        else if (!strncmp(tok, "vlan=", 5))
            *vlan = (uint16_t)strtoul(tok + 5, &end, 10);
        else
            end = tok;
        if (*end || end == tok) {
            snprintf(why, whylen, "'%.30s': expected port=N or vlan=V", tok);
            return false;
        }
    }
    if (*port >= VSW_MAX_PORTS || !*vlan || *vlan > 4094) {
        snprintf(why, whylen, "a static entry needs port=0..%d and vlan=1..4094",
                 VSW_MAX_PORTS - 1);
        return false;
    }
    return true;
}

/* ---- control ---- */

static json_object *counters_json(unsigned i)
{
    const struct vsw_port *vp = &S.sw->ports[i];
    const struct port *p = &S.ports[i];
    json_object *o = json_object_new_object();
    static const char *const kinds[] = {"none", "vm", "nat", "vxlan", "tap"};
    json_object_object_add(o, "port", json_object_new_int((int)i));
    json_object_object_add(o, "kind", json_object_new_string(kinds[p->kind]));
    json_object_object_add(o, "owner", json_object_new_string(p->owner));
    json_object_object_add(o, "up", json_object_new_boolean(vp->up));
    if (p->kind == PORT_VM) {
        char mac[18];
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2],
                 p->mac[3], p->mac[4], p->mac[5]);
        json_object_object_add(o, "mac", json_object_new_string(mac));
    }
    if (vp->cfg.ip_guard) {
        char ip[16];
        uint32_t a = vp->bound_ip;
        snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        json_object_object_add(o, "ip", a ? json_object_new_string(ip) : NULL);
    }
    json_object_object_add(o, "trunk", json_object_new_boolean(vp->cfg.trunk));
    json_object_object_add(o, "vlan", json_object_new_int(vp->cfg.pvid));
    if (vp->cfg.rate_bytes_per_s)
        json_object_object_add(o, "rate", json_object_new_int64((int64_t)vp->cfg.rate_bytes_per_s));
    const struct vsw_counters *c = &vp->cnt;
    struct {
        const char *k;
        uint64_t v;
    } f[] = {
        {"rx-frames", c->rx_frames},   {"rx-bytes", c->rx_bytes},     {"tx-frames", c->tx_frames},
        {"tx-bytes", c->tx_bytes},     {"tx-dropped", p->tx_dropped}, {"drop-runt", c->drop_runt},
        {"drop-giant", c->drop_giant}, {"drop-down", c->drop_down},   {"drop-spoof", c->drop_spoof},
        {"drop-vlan", c->drop_vlan},   {"drop-rate", c->drop_rate},   {"drop-acl", c->drop_acl},
        {"rx-largest", c->rx_largest}};
    for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
        json_object_object_add(o, f[k].k, json_object_new_int64((int64_t)f[k].v));
    return o;
}

static json_object *query_ports(void)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
        if (S.sw->ports[i].used)
            json_object_array_add(a, counters_json(i));
    return a;
}

static json_object *query_macs(void)
{
    json_object *a = json_object_new_array();
    uint64_t now = now_ns();
    for (unsigned i = 0; i < S.sw->nsets * VSW_MAC_WAYS; i++) {
        const struct vsw_mac_entry *e = &S.sw->table[i];
        if (!e->vlan || (!e->is_static && now - e->seen_ns > S.sw->ageing_ns))
            continue;
        json_object *o = json_object_new_object();
        char mac[18];
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1], e->mac[2],
                 e->mac[3], e->mac[4], e->mac[5]);
        json_object_object_add(o, "mac", json_object_new_string(mac));
        json_object_object_add(o, "vlan", json_object_new_int(e->vlan));
        json_object_object_add(o, "port", json_object_new_int(e->port));
        json_object_object_add(o, "static", json_object_new_boolean(e->is_static));
        if (!e->is_static)
            json_object_object_add(o, "age-s",
                                   json_object_new_double((double)(now - e->seen_ns) / 1e9));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *query_acl(void)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < S.sw->nacl && i < S.cfg.nacl; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "index", json_object_new_int((int)i));
        json_object_object_add(o, "rule", json_object_new_string(S.cfg.acl[i]));
        json_object_object_add(o, "hits", json_object_new_int64((int64_t)S.sw->acl[i].hits));
        json_object_array_add(a, o);
    }
    return a;
}

static const char *arg_string(json_object *args, const char *key)
{
    json_object *v;
    if (args && json_object_object_get_ex(args, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static bool arg_int(json_object *args, const char *key, int *out)
{
    json_object *v;
    if (!args || !json_object_object_get_ex(args, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int(v);
    return true;
}

static bool save_config(char *why, size_t whylen)
{
    return netd_config_save(S.dir, &S.cfg, why, whylen);
}

/* One request; the reply object (or NULL and why). */
static json_object *execute(const char *cmd, json_object *args, char *why, size_t whylen)
{
    /* Whatever changes policy ends the direct paths first: from then on
     * every frame passes the switch, until it approves a pair again. */
    static const char *const policy[] = {"acl-add", "acl-del", "mac-add", "port-set", "mirror"};
    for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++)
        if (!strcmp(cmd, policy[i]))
            direct_revoke(-1);
    if (!strcmp(cmd, "query-ports")) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ports", query_ports());
        json_object_object_add(o, "vxlan-dropped", json_object_new_int64((int64_t)S.vx_bad));
        json_object_object_add(o, "nat-dropped", json_object_new_int64((int64_t)S.nat_dropped));
        json_object_object_add(o, "direct-paths", json_object_new_int((int)S.ndirects));
        json_object_object_add(o, "direct-granted",
                               json_object_new_int64((int64_t)S.direct_granted));
        json_object_object_add(o, "bindings-writes",
                               json_object_new_int64((int64_t)S.bindings_writes));
        if (S.mirroring) {
            json_object_object_add(o, "mirror-file", json_object_new_string(S.mirror_file));
            json_object_object_add(o, "mirror-records",
                                   json_object_new_int64((int64_t)S.pcap.records));
        }
        return o;
    }
    if (!strcmp(cmd, "query-macs"))
        return query_macs();
    if (!strcmp(cmd, "query-acl"))
        return query_acl();
    if (!strcmp(cmd, "acl-add")) {
        const char *text = arg_string(args, "rule");
        struct vsw_acl r;
        if (!text || !netd_parse_acl(text, &r, why, whylen))
            return text ? NULL : (snprintf(why, whylen, "acl-add needs \"rule\""), NULL);
        if (S.cfg.nacl == NETD_MAX_ACL || !vsw_acl_add(S.sw, &r)) {
            snprintf(why, whylen, "at most %d rules", NETD_MAX_ACL);
            return NULL;
        }
        snprintf(S.cfg.acl[S.cfg.nacl++], NETD_RULE_MAX, "%s", text);
        return save_config(why, whylen) ? json_object_new_int((int)S.cfg.nacl - 1) : NULL;
    }
    if (!strcmp(cmd, "acl-del")) {
        int i;
        if (!arg_int(args, "index", &i) || i < 0 || (unsigned)i >= S.cfg.nacl ||
            !vsw_acl_remove(S.sw, (unsigned)i)) {
            snprintf(why, whylen, "acl-del: no rule with that index");
            return NULL;
        }
        memmove(S.cfg.acl[i], S.cfg.acl[i + 1], (S.cfg.nacl - (unsigned)i - 1) * NETD_RULE_MAX);
        S.cfg.nacl--;
        return save_config(why, whylen) ? json_object_new_object() : NULL;
    }
    if (!strcmp(cmd, "mac-add")) {
        const char *text = arg_string(args, "entry");
        uint8_t mac[6];
        unsigned port;
        uint16_t vlan;
        if (!text || !netd_parse_static(text, mac, &port, &vlan, why, whylen))
            return text ? NULL : (snprintf(why, whylen, "mac-add needs \"entry\""), NULL);
        if (S.cfg.nstatic == NETD_MAX_STATIC || !vsw_add_static(S.sw, mac, vlan, port)) {
            snprintf(why, whylen, "no room for another static entry");
            return NULL;
        }
        snprintf(S.cfg.static_macs[S.cfg.nstatic++], sizeof(S.cfg.static_macs[0]), "%s", text);
        return save_config(why, whylen) ? json_object_new_object() : NULL;
    }
    if (!strcmp(cmd, "port-set")) {
        int port;
        json_object *up;
        if (!arg_int(args, "port", &port) || port < 0 || port >= VSW_MAX_PORTS ||
            !S.sw->ports[port].used || !json_object_object_get_ex(args, "up", &up)) {
            snprintf(why, whylen, "port-set needs an existing \"port\" and \"up\"");
            return NULL;
        }
        vsw_port_set_up(S.sw, (unsigned)port, json_object_get_boolean(up));
        return json_object_new_object();
    }
    if (!strcmp(cmd, "mirror")) {
        const char *what = arg_string(args, "port");
        int port = -1;
        bool off = what && !strcmp(what, "off");
        if (!off && !(what && !strcmp(what, "all")) && !arg_int(args, "port", &port)) {
            snprintf(why, whylen, "mirror needs \"port\": a number, \"all\" or \"off\"");
            return NULL;
        }
        if (S.mirroring) {
            pcap_close(&S.pcap);
            S.mirroring = false;
        }
        if (off)
            return json_object_new_object();
        const char *file = arg_string(args, "file");
        if (!file)
            file = "capture.pcap";
        if (!netd_name_valid(file) || strlen(file) >= sizeof(S.mirror_file)) {
            snprintf(why, whylen, "mirror: the file is a plain name in the network's directory");
            return NULL;
        }
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s", S.dir, file);
        if (!pcap_open(&S.pcap, path, why, whylen))
            return NULL;
        snprintf(S.mirror_file, sizeof(S.mirror_file), "%s", file);
        S.mirror_port = port;
        S.mirroring = true;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "file", json_object_new_string(path));
        return o;
    }
    if (!strcmp(cmd, "vxlan-add")) {
        const char *text = arg_string(args, "spec");
        if (!text || S.cfg.nvxlan == NETD_MAX_VXLAN) {
            snprintf(why, whylen, text ? "at most %d VXLAN tunnels" : "vxlan-add needs \"spec\"",
                     NETD_MAX_VXLAN);
            return NULL;
        }
        if (!netd_parse_vxlan(text, &S.cfg.vxlan[S.cfg.nvxlan], why, whylen))
            return NULL;
        if (!add_vxlan_port(S.cfg.nvxlan, why, whylen))
            return NULL;
        S.cfg.nvxlan++;
        return save_config(why, whylen) ? json_object_new_object() : NULL;
    }
    if (!strcmp(cmd, "stop")) {
        S.stop = 1;
        return json_object_new_object();
    }
    snprintf(why, whylen,
             "unknown command '%.40s' (query-ports, query-macs, query-acl, acl-add, acl-del, "
             "mac-add, port-set, mirror, vxlan-add, stop)",
             cmd);
    return NULL;
}

static void control_line(struct control_client *c, const char *line)
{
    char why[300] = "";
    json_object *req = json_tokener_parse(line), *cmd, *args = NULL, *ret = NULL;
    if (!req || !json_object_is_type(req, json_type_object) ||
        !json_object_object_get_ex(req, "execute", &cmd) ||
        !json_object_is_type(cmd, json_type_string))
        snprintf(why, sizeof(why), "a request is {\"execute\": NAME, \"arguments\": {...}}");
    else {
        json_object_object_get_ex(req, "arguments", &args);
        ret = execute(json_object_get_string(cmd), args, why, sizeof(why));
    }
    json_object *reply = json_object_new_object();
    if (ret) {
        json_object_object_add(reply, "return", ret);
    } else {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "desc", json_object_new_string(why));
        json_object_object_add(reply, "error", e);
    }
    const char *text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
    size_t len = strlen(text);
    /* Replies are small but a table dump may not be: write it all. */
    fcntl(c->fd, F_SETFL, 0);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    bool ok = send(c->fd, text, len, MSG_NOSIGNAL) == (ssize_t)len &&
              send(c->fd, "\n", 1, MSG_NOSIGNAL) == 1;
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    (void)ok;
    json_object_put(reply);
    json_object_put(req);
}

static void control_readable(struct control_client *c)
{
    char tmp[4096];
    ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
        c->len + (size_t)(n > 0 ? n : 0) > CONTROL_LINE) {
        close(c->fd);
        free(c->buf);
        *c = (struct control_client){.fd = -1};
        return;
    }
    if (n < 0)
        return;
    char *nb = realloc(c->buf, c->len + (size_t)n + 1);
    if (!nb)
        return;
    c->buf = nb;
    memcpy(c->buf + c->len, tmp, (size_t)n);
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    char *nl;
    while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
        *nl = '\0';
        control_line(c, c->buf);
        size_t rest = c->len - (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, rest);
        c->len = rest;
    }
}

static void accept_control(void)
{
    int fd = accept4(S.control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    uid_t uid;
    if (!unix_peer_allowed(fd, &uid)) {
        close(fd);
        return;
    }
    for (int i = 0; i < MAX_CONTROL; i++)
        if (S.clients[i].fd < 0) {
            S.clients[i] = (struct control_client){.fd = fd};
            return;
        }
    close(fd); /* too many: the client sees EOF */
}

/* ---- the process ---- */

/* The signal may land on a backend's thread, not the loop's: the loop
 * is woken through wakefd rather than left to its next timeout. */
static void on_signal(int sig)
{
    (void)sig;
    S.stop = 1;
    if (S.wake_ready) {
        int saved = errno;
        uint64_t one = 1;
        ssize_t n = write(S.wakefd, &one, sizeof(one));
        (void)n;
        errno = saved;
    }
}

static bool setup(char *err, size_t errlen)
{
    if (!netd_config_load(S.dir, &S.cfg, err, errlen))
        return false;
    S.sw = vsw_new(S.cfg.mac_table, output, NULL);
    if (!S.sw) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    S.sw->mirror = mirror;
    S.sw->on_bind = on_bind;
    bindings_load();
    S.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    S.wake_ready = S.wakefd >= 0;
    for (int i = 0; i < MAX_CONTROL; i++)
        S.clients[i].fd = -1;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", S.dir, NETD_PORTS_SOCK);
    S.listen_fd = unix_listen_owner_only_type(path, SOCK_SEQPACKET, 64, err, errlen);
    if (S.listen_fd < 0)
        return false;
    snprintf(path, sizeof(path), "%s/%s", S.dir, NETD_CONTROL);
    S.control_fd = unix_listen_owner_only(path, 16, err, errlen);
    if (S.control_fd < 0)
        return false;
    if (!open_nat(err, errlen) || !open_tap(err, errlen))
        return false;
    for (unsigned i = 0; i < S.cfg.nvxlan; i++)
        if (!add_vxlan_port(i, err, errlen))
            return false;
    for (unsigned i = 0; i < S.cfg.nacl; i++) {
        struct vsw_acl r;
        char why[200];
        if (!netd_parse_acl(S.cfg.acl[i], &r, why, sizeof(why)) || !vsw_acl_add(S.sw, &r)) {
            snprintf(err, errlen, "%s: acl[%u]: %s", NETD_CONFIG, i, why);
            return false;
        }
    }
    for (unsigned i = 0; i < S.cfg.nstatic; i++) {
        uint8_t mac[6];
        unsigned port;
        uint16_t vlan;
        char why[200];
        if (!netd_parse_static(S.cfg.static_macs[i], mac, &port, &vlan, why, sizeof(why)) ||
            !vsw_add_static(S.sw, mac, vlan, port)) {
            snprintf(err, errlen, "%s: static-macs[%u]: %s", NETD_CONFIG, i, why);
            return false;
        }
    }
    return true;
}

int switchd_run(const char *dir)
{
    snprintf(S.dir, sizeof(S.dir), "%s", dir);
    char path[PATH_MAX + 32], err[512];
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_LOCK);
    int lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "wirt net: %s: the switch runs already\n", dir);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_mutex_lock(&S.lock);
    if (!setup(err, sizeof(err))) {
        fprintf(stderr, "wirt net: switch %s: %s\n", dir, err);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_PIDFILE);
    /* Owner-only whatever the umask, and never through a symlink planted
     * in the network's directory. */
    int pf = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (pf >= 0) {
        dprintf(pf, "%ld\n", (long)getpid());
        fchmod(pf, 0600);
        close(pf);
    }
    log_info("switch %s: running (%s%s%u VXLAN tunnels)", S.cfg.name, S.cfg.nat ? "NAT, " : "",
             S.cfg.dhcp ? "DHCP, " : "", S.cfg.nvxlan);

    enum { MAXFD = 3 + MAX_CONTROL + VSW_MAX_PORTS + MAX_VX_SOCKETS };
    struct pollfd pfd[MAXFD];
    int owner[MAXFD]; /* what each pollfd is: see below */
    while (!S.stop) {
        unsigned n = 0;
        pfd[n] = (struct pollfd){S.listen_fd, POLLIN, 0}, owner[n++] = -1;
        pfd[n] = (struct pollfd){S.control_fd, POLLIN, 0}, owner[n++] = -2;
        pfd[n] = (struct pollfd){S.wakefd, POLLIN, 0}, owner[n++] = -3;
        for (int i = 0; i < MAX_CONTROL; i++)
            if (S.clients[i].fd >= 0)
                pfd[n] = (struct pollfd){S.clients[i].fd, POLLIN, 0}, owner[n++] = 1000 + i;
        for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
            if (S.ports[i].kind == PORT_VM)
                pfd[n] = (struct pollfd){S.ports[i].fd, POLLIN, 0}, owner[n++] = (int)i;
        for (unsigned i = 0; i < S.nvxs; i++)
            pfd[n] = (struct pollfd){S.vxs[i].fd, POLLIN, 0}, owner[n++] = 2000 + (int)i;
        int due = bindings_flush(false);
        pthread_mutex_unlock(&S.lock);
        int r = poll(pfd, n, due >= 0 && due < 1000 ? due : 1000);
        pthread_mutex_lock(&S.lock);
        if (r <= 0)
            continue;
        for (unsigned i = 0; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            int o = owner[i];
            if (o == -1)
                accept_port();
            else if (o == -2)
                accept_control();
            else if (o == -3) {
                uint64_t v;
                ssize_t rd = read(S.wakefd, &v, sizeof(v));
                (void)rd;
            } else if (o >= 2000)
                vxlan_readable(&S.vxs[o - 2000]);
            else if (o >= 1000)
                control_readable(&S.clients[o - 1000]);
            else if (S.ports[o].kind == PORT_VM && S.ports[o].fd == pfd[i].fd)
                port_readable((unsigned)o, pfd[i].revents);
        }
        drain_backend_queue();
    }
    log_info("switch %s: stopping", S.cfg.name);
    direct_revoke(-1);
    bindings_flush(true);
    for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
        if (S.ports[i].kind == PORT_VM)
            remove_port(i);
    pthread_mutex_unlock(&S.lock);
    if (S.nat)
        net_backend_close(S.nat);
    if (S.tap)
        net_backend_close(S.tap);
    if (S.mirroring)
        pcap_close(&S.pcap);
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_PORTS_SOCK);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_CONTROL);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_PIDFILE);
    unlink(path);
    vsw_free(S.sw);
    close(lockfd);
    return 0;
}
