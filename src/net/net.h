/* SPDX-License-Identifier: MIT */
/*
 * Network backends behind one ops table, found by name in a registry:
 * user (libslirp NAT), tap, ...
 *
 * A backend is opened from a parsed struct nic_spec (the VMM's spec parser
 * fills it through the registry's option table; no backend sees option
 * text).  Each backend polls its host side on a thread of its own and
 * delivers received Ethernet frames through the receive callback with the
 * I/O lock held; send() is called with the I/O lock held too.
 */
#ifndef WIRT_NET_NET_H
#define WIRT_NET_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_HOSTFWD       16
#define NET_IFNAME_MAX        15 /* IFNAMSIZ - 1 */
#define NET_SWITCH_NAME_MAX   64
#define NET_SWITCH_SOCKET_MAX 107 /* sun_path - 1 */
#define NET_SWITCH_MAX_TRUNK  64

struct net_backend;
struct net_backend_type;

typedef void (*net_receive_cb)(void *opaque, const void *frame, size_t len);

/* Offload metadata of a received frame, the fields of a virtio-net header
 * (virtio 1.x "Device Operation") in host byte order and with virtio's
 * values, from a backend that can produce it (tap with IFF_VNET_HDR).
 * Such a frame may be a TCP segment of up to 64 KiB (gso_type TCPV4 or
 * TCPV6 cut into gso_size pieces by whoever puts it on a wire) and may
 * carry a partial checksum (NEEDS_CSUM at csum_start + csum_offset). */
#define NET_META_F_NEEDS_CSUM 1
#define NET_META_F_DATA_VALID 2
#define NET_META_GSO_NONE     0
#define NET_META_GSO_TCPV4    1
#define NET_META_GSO_TCPV6    4
#define NET_META_GSO_ECN      0x80
struct net_meta {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
/* On a wire between processes (the switch): the 12-byte virtio 1.x
 * header, little-endian, num_buffers 1. */
#define NET_META_LEN 12
void net_meta_pack(const struct net_meta *m, uint8_t out[NET_META_LEN]);
void net_meta_unpack(const uint8_t in[NET_META_LEN], struct net_meta *m);
/* The frame buffer is the backend's and may be used as scratch (software
 * segmentation works in place).  Returns false when the frontend has no
 * room for this frame yet (a large segment, too few receive buffers): the
 * backend keeps it and offers it again after receive_ready(), instead of
 * dropping 64 KiB of a TCP stream. */
typedef bool (*net_receive_meta_cb)(void *opaque, const struct net_meta *m, uint8_t *frame,
                                    size_t len);
/* Asked before delivering: may the frontend take a frame now? */
typedef bool (*net_can_receive_cb)(void *opaque);
/* A NIC's rate cap allows transmitting again after net_tx_may_send said
 * no (called from the backend's thread, I/O lock held). */
typedef void (*net_tx_ready_cb)(void *opaque);

struct net_backend_ops {
    const char *name;
    /* The largest IPv4 TCP frame the backend takes whole (a TCP/IP stack
     * of its own, like libslirp, has no MTU); 0: frames are put on a wire,
     * so the front end cuts large TCP frames to the MSS first. */
    size_t tso4_max_frame;
    /* Sends one Ethernet frame to the outside; drops it if it cannot. */
    void (*send)(struct net_backend *nb, const void *frame, size_t len);
    /* NULL, or: sends a frame with its metadata, whole (a TSO frame is not
     * cut, a partial checksum not filled): the far end finishes it, or
     * hands both on to a guest that takes them (the switch port). */
    void (*send_meta)(struct net_backend *nb, const struct net_meta *m, const void *frame,
                      size_t len);
    /* The frontend can receive again after refusing. */
    void (*receive_ready)(struct net_backend *nb);
    /* NULL, or: puts the sockets frames arrive on into epfd, another
     * thread's epoll set (an idle hart's, bus.h), with data.u64 = key,
     * edge-triggered and EPOLLEXCLUSIVE ahead of the backend's own thread,
     * and keeps them there as sockets come and go; false: cannot (errno).
     * A frame then wakes that thread alone while it waits in epoll_wait,
     * and the backend's thread only when it does not.  rx_poll is the
     * receive step of the backend's own thread, run by that thread when
     * epfd reported key (it takes the I/O lock; what it leaves, it hands
     * to the backend's thread, since an edge is reported once). */
    bool (*rx_watch)(struct net_backend *nb, int epfd, uint64_t key);
    void (*rx_poll)(struct net_backend *nb);
    void (*close)(struct net_backend *nb);
    /* The backend's own state for snapshots and migration (libslirp's for
     * user), NULL: it has none.  save_state (I/O lock held) returns a
     * malloc'd blob; load_state takes one into a backend opened with the
     * same options, applied before its next packet (false: one line in
     * err, e.g. a newer format). */
    bool (*save_state)(struct net_backend *nb, uint8_t **blob, size_t *len);
    bool (*load_state)(struct net_backend *nb, const uint8_t *blob, size_t len, char *err,
                       size_t errlen);
};

struct net_backend {
    const struct net_backend_ops *ops;
    net_receive_cb receive;
    net_receive_meta_cb receive_meta; /* frames with offload metadata */
    net_can_receive_cb can_receive;
    net_tx_ready_cb tx_ready;
    void *opaque;
    uint8_t mac[6];            /* the guest's MAC (nic_spec.mac) */
    struct net_shaper *shaper; /* the rate= cap, NULL: none (net_rate.c) */
};

/* One host -> guest forwarding rule of the user backend. */
struct net_hostfwd {
    bool udp;
    uint32_t host_addr, guest_addr; /* network byte order; 0 = any / default guest */
    uint16_t host_port, guest_port;
};

/* One network card: its backend and that backend's typed options. */
struct nic_spec {
    const struct net_backend_type *backend;
    uint8_t mac[6];
    bool mac_given; /* false: the spec parser chose the default for the NIC's index */
    /* user and tap: rate=, bytes per second in each direction; 0: none.
     * Frames wait (the guest's in its TX ring, the host's in the backend)
     * instead of being dropped, so TCP runs at the cap. */
    uint64_t rate;
    struct {
        struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
        unsigned nhostfwd;
        /* The guest network; 0/0 = 10.0.2.0/24.  The host is .2, DNS .3,
         * the first DHCP address .15. */
        uint32_t net_addr, net_mask; /* host byte order */
        bool restricted;             /* no way out: DHCP, DNS and hostfwd only */
        /* Not an option: a hostfwd port in use is retried for a while
         * instead of failing (an incoming migration on the same host,
         * whose source still listens until it hands the guest over). */
        bool hostfwd_wait;
    } user;
    struct {
        char ifname[NET_IFNAME_MAX + 1];
    } tap;
    /* A port on a wirt virtual switch (wirt net). */
    struct {
        char name[NET_SWITCH_NAME_MAX + 1];     /* the network */
        char socket[NET_SWITCH_SOCKET_MAX + 1]; /* its ports socket (filled by wirt vm/run) */
        uint16_t vlan;                          /* access port VLAN; 0: 1 */
        uint16_t trunk[NET_SWITCH_MAX_TRUNK];   /* trunk port: VLANs carried tagged */
        unsigned ntrunk;
        uint64_t rate; /* ingress limit, bytes per second; 0: none */
    } sw;
};

/* One option of a backend: KEY=VALUE in `--net` text, "KEY": value in a
 * spec file (a list of strings when repeated). */
struct net_option {
    const char *key;
    bool repeated;
    /* Parses one value into nic; false with what is wrong in why (the
     * caller names the option). */
    bool (*parse)(struct nic_spec *nic, const char *value, char *why, size_t whylen);
    /* The i-th value as text, as parse takes it; false past the last. */
    bool (*format)(const struct nic_spec *nic, unsigned i, char *out, size_t outlen);
};

/* A registry entry. */
struct net_backend_type {
    const char *name;
    const struct net_option *options; /* ends with {NULL}; "mac" is every backend's */
    /* What single options cannot check (a required option); NULL: nothing. */
    bool (*check)(const struct nic_spec *nic, char *why, size_t whylen);
    struct net_backend *(*open)(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                size_t errlen);
};

/* The backend registered under name, or NULL. */
const struct net_backend_type *net_backend_find(const char *name);
/* "user, tap": the registered names, for messages. */
void net_backend_names(char *out, size_t outlen);
/* The option key of backend t (the common "mac" included), or NULL. */
const struct net_option *net_option_find(const struct net_backend_type *t, const char *key);
/* All options of t in order, the common ones first: the i-th or NULL. */
const struct net_option *net_option_at(const struct net_backend_type *t, unsigned i);
/* The default MAC of the NIC with this index: 52:54:00:12:34:56+index. */
void net_default_mac(uint8_t mac[6], unsigned index);

/* Value parsers, shared with tests. */
bool net_parse_hostfwd(const char *text, struct net_hostfwd *fwd);
void net_format_hostfwd(const struct net_hostfwd *fwd, char *out, size_t outlen);
bool net_parse_mac(const char *text, uint8_t mac[6]);

/* Opens nic's backend.  io_lock is the lock the backend's thread holds
 * around calls into the front end (the board's I/O lock); NULL gives a
 * private one, for tests with nothing else running.  Returns NULL with
 * one line in err (the caller prefixes the NIC's name). */
struct net_backend *net_backend_open(const struct nic_spec *nic, pthread_mutex_t *io_lock,
                                     char *err, size_t errlen);
void net_backend_close(struct net_backend *nb);

/* The rate cap, frontend side (I/O lock held).  May a frame go out now?
 * False: leave it in the TX ring; tx_ready is called once it may. */
bool net_tx_may_send(struct net_backend *nb);
/* Counts a frame that went out against the cap. */
void net_tx_sent(struct net_backend *nb, size_t len);
/* The cap in bytes per second, 0: none. */
uint64_t net_rate_of(const struct net_backend *nb);
/* A new cap (0: none) each way, from now on, for a running NIC; I/O lock
 * held.  False when the backend has no shaper (a switch port: the switch
 * enforces its rate). */
bool net_rate_set(struct net_backend *nb, uint64_t rate);
/* A rate as written after rate=: bytes per second with an optional K, M
 * or G (powers of 1000); "0", "none" or "" is no cap.  False with one
 * line in why. */
bool net_rate_text(const char *v, uint64_t *rate, char *why, size_t whylen);
/* Frames or bytes rate= kept waiting so far, in ns (TX + RX). */
uint64_t net_throttled_ns(const struct net_backend *nb);

#endif
