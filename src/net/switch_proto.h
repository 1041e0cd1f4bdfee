/* SPDX-License-Identifier: MIT */
/*
 * Between a VMM's switch port (switch_port.c) and the switch process
 * (src/netd/switchd.c): a Unix SOCK_SEQPACKET connection per port.
 *
 * The first message from the VMM is a struct swp_hello; the switch answers
 * with a struct swp_reply.  After that every message either way is one
 * Ethernet frame, as it is on the wire, preceded by a 12-byte virtio-net
 * header (struct net_meta, NET_META_LEN) when the port said
 * SWP_F_VHDR in its hello: then a TSO frame crosses whole and a partial
 * checksum stays partial, to be finished only by the guest that gets it
 * (or by the switch for a port that cannot take them).  SOCK_SEQPACKET keeps
 * frame boundaries (one send, one frame), ties the port's life to the
 * connection, lets the switch check the peer's uid, and gives
 * back-pressure through the socket buffer; a frame that does not fit is
 * dropped, as on a congested wire.
 */
#ifndef WIRT_NET_SWITCH_PROTO_H
#define WIRT_NET_SWITCH_PROTO_H

#include <stdint.h>

#define SWP_MAGIC     "WIRTSW1"
#define SWP_MAX_TRUNK 64
#define SWP_MAX_FRAME 65600 /* a TSO frame: 64 KiB of IP, Ethernet header, tag */
#define SWP_F_VHDR    1u    /* frames carry a virtio-net header both ways */

struct swp_hello {
    char magic[8]; /* SWP_MAGIC */
    uint8_t mac[6];
    uint16_t vlan;   /* access port VLAN, 0 for 1; ignored on a trunk */
    uint16_t ntrunk; /* > 0: a trunk port carrying these VLANs */
    uint16_t trunk[SWP_MAX_TRUNK];
    uint64_t rate;  /* bytes per second into the switch; 0: unlimited */
    uint32_t flags; /* SWP_F_* */
    uint32_t reserved;
    char owner[64]; /* a label for `wirt net stats` (the VM's name or pid) */
};

struct swp_reply {
    char magic[8];
    int32_t port; /* the port number, or -1 */
    char error[116];
};

#endif
