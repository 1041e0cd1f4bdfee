/* SPDX-License-Identifier: MIT */
/*
 * Between a VMM's switch port (switch_port.c) and the switch process
 * (src/netd/switchd.c): a Unix SOCK_SEQPACKET connection per port.
 *
 * The first message from the VMM is a struct swp_hello; the switch answers
 * with a struct swp_reply.  After that every message either way is one
 * Ethernet frame, as it is on the wire (no header).  SOCK_SEQPACKET keeps
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
#define SWP_MAX_FRAME 65536

struct swp_hello {
    char magic[8]; /* SWP_MAGIC */
    uint8_t mac[6];
    uint16_t vlan;   /* access port VLAN, 0 for 1; ignored on a trunk */
    uint16_t ntrunk; /* > 0: a trunk port carrying these VLANs */
    uint16_t trunk[SWP_MAX_TRUNK];
    uint64_t rate;  /* bytes per second into the switch; 0: unlimited */
    char owner[64]; /* a label for `wirt net stats` (the VM's name or pid) */
};

struct swp_reply {
    char magic[8];
    int32_t port; /* the port number, or -1 */
    char error[116];
};

#endif
