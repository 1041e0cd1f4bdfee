/* SPDX-License-Identifier: MIT */
/*
 * The forwarding core of a virtual switch (issue 13), written from IEEE
 * 802.1Q: MAC learning with ageing, flooding of unknown unicast and
 * broadcast, VLAN access and trunk ports, source-MAC anti-spoofing,
 * source-IPv4 anti-spoofing by DHCP snooping, per-port token-bucket rate
 * limits and counters.
 *
 * No I/O and no clock of its own: the caller hands in each frame with the
 * port it came from and the current time, and receives the frames to send
 * through the output callback.  That keeps the logic testable without any
 * guest and reusable by whatever process carries the frames.
 *
 * Everything is bounded: a fixed number of ports, a set-associative MAC
 * table that evicts the oldest entry of a full set instead of growing, and
 * two frame buffers.
 */
#ifndef WIRT_NET_VSWITCH_H
#define WIRT_NET_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSW_MAX_PORTS      64
#define VSW_MAC_WAYS       4
#define VSW_MAX_FRAME      65600 /* largest frame taken (a whole TSO frame) */
#define VSW_MIN_FRAME      14    /* an Ethernet header */
#define VSW_DEFAULT_VLAN   1
#define VSW_DEFAULT_AGEING 300000000000ull /* 300 s, 802.1Q's default */

struct vsw_counters {
    uint64_t rx_frames, rx_bytes; /* taken in from the port */
    uint64_t rx_largest;          /* the largest frame taken in: offloads show here */
    uint64_t tx_frames, tx_bytes; /* sent out of the port */
    uint64_t drop_runt, drop_giant, drop_down, drop_spoof, drop_vlan, drop_rate, drop_acl;
};

struct vsw_port_config {
    bool trunk;
    /* Access port: its VLAN.  Trunk port: the native VLAN carried untagged
     * (0: untagged frames are dropped). */
    uint16_t pvid;
    uint64_t allowed[4096 / 64]; /* trunk: VLANs carried tagged */
    bool anti_spoof;             /* only frames from mac are taken */
    uint8_t mac[6];
    /* DHCP snooping (RFC 7513's SAVI-DHCP idea): the port sends IPv4 and ARP
     * only from the address a DHCP server on an unguarded port acknowledged
     * for its mac, plus DHCP requests from 0.0.0.0; it may not answer as a
     * DHCP server.  Other EtherTypes (IPv6) are not judged. */
    bool ip_guard;
    /* Frames are never forwarded between two split-horizon ports (the
     * tunnels of a full mesh, which would loop a flood back). */
    bool split_horizon;
    uint64_t rate_bytes_per_s; /* 0: unlimited */
    uint64_t burst_bytes;      /* the bucket's size */
};

struct vsw_mac_entry {
    uint8_t mac[6];
    uint16_t vlan; /* 0: the slot is free */
    uint16_t port;
    bool is_static;
    uint64_t seen_ns;
};

#define VSW_MAX_ACL 64

/* One ACL rule; a field is matched only when its bit is in `match`.  The
 * first rule that matches a frame decides; no match: the frame passes. */
enum {
    VSW_ACL_SRC_MAC = 1 << 0,
    VSW_ACL_DST_MAC = 1 << 1,
    VSW_ACL_VLAN = 1 << 2,
    VSW_ACL_SRC_IP = 1 << 3, /* IPv4, under mask */
    VSW_ACL_DST_IP = 1 << 4,
    VSW_ACL_PROTO = 1 << 5,    /* IPv4 protocol */
    VSW_ACL_DST_PORT = 1 << 6, /* TCP/UDP destination port */
    VSW_ACL_IN_PORT = 1 << 7,  /* the switch port the frame came from */
};

struct vsw_acl {
    unsigned match;
    bool allow;
    uint8_t src_mac[6], dst_mac[6];
    uint16_t vlan;
    uint32_t src_ip, src_mask, dst_ip, dst_mask; /* host byte order */
    uint8_t proto;
    uint16_t dst_port;
    uint16_t in_port;
    uint64_t hits;
};

typedef void (*vsw_output_fn)(void *opaque, unsigned port, const void *frame, size_t len);
/* Port mirroring: every frame a port takes in, as it came (tagged or not). */
typedef void (*vsw_mirror_fn)(void *opaque, unsigned port, const void *frame, size_t len);
/* DHCP snooping bound an address to an ip_guard port (0: unbound it). */
typedef void (*vsw_bind_fn)(void *opaque, unsigned port, uint32_t ip);

struct vsw_port {
    bool used, up;
    struct vsw_port_config cfg;
    struct vsw_counters cnt;
    uint64_t tokens, bucket_ns;
    uint32_t bound_ip; /* ip_guard: the address DHCP gave it (host order); 0: none */
};

struct vswitch {
    struct vsw_port ports[VSW_MAX_PORTS];
    struct vsw_mac_entry *table;
    unsigned nsets; /* the table has nsets * VSW_MAC_WAYS entries */
    uint64_t ageing_ns;
    struct vsw_acl acl[VSW_MAX_ACL];
    unsigned nacl;
    vsw_output_fn output;
    void *opaque;
    vsw_mirror_fn mirror; /* NULL: no mirroring */
    void *mirror_opaque;
    vsw_bind_fn on_bind;                /* NULL: not told (called with opaque) */
    uint8_t frame[VSW_MAX_FRAME];       /* the frame being forwarded, untagged */
    uint8_t scratch[VSW_MAX_FRAME + 4]; /* its tagged copy for a trunk port */
};

/* A switch whose MAC table holds at most mac_entries (rounded to the ways);
 * NULL when out of memory. */
struct vswitch *vsw_new(unsigned mac_entries, vsw_output_fn output, void *opaque);
void vsw_free(struct vswitch *sw);

/* Adds a port (up) with cfg; its number, or -1 when all are used. */
int vsw_port_add(struct vswitch *sw, const struct vsw_port_config *cfg);
/* Removes a port and forgets the MACs learned on it. */
void vsw_port_remove(struct vswitch *sw, unsigned port);
void vsw_port_set_up(struct vswitch *sw, unsigned port, bool up);
void vsw_vlan_allow(struct vsw_port_config *cfg, uint16_t vlan);

/* One frame from port at now_ns: checks it, learns its source, forwards. */
void vsw_input(struct vswitch *sw, unsigned port, const void *frame, size_t len, uint64_t now_ns);

/* The port a MAC is known on in vlan at now_ns, or -1. */
int vsw_lookup(const struct vswitch *sw, const uint8_t mac[6], uint16_t vlan, uint64_t now_ns);
/* A static entry, never aged out nor moved by learning; false if its set is
 * all static. */
bool vsw_add_static(struct vswitch *sw, const uint8_t mac[6], uint16_t vlan, unsigned port);

/* Appends a rule; false when the list is full. */
bool vsw_acl_add(struct vswitch *sw, const struct vsw_acl *rule);
/* Removes rule i (later rules move up); false when there is none. */
bool vsw_acl_remove(struct vswitch *sw, unsigned i);

#endif
