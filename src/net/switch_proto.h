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
 *
 * Direct paths (SWP_F_DIRECT): a unicast frame between two VMs on the same
 * switch would cost two host wakeups on its way (the switch's, then the
 * receiving VMM's) and one copy more.  When the switch has forwarded a
 * frame from one such port to another and nothing in its policy needs to
 * see their frames (no ACL, static entry, mirror, rate limit or IP guard,
 * both access ports of one VLAN, both up), it creates a SOCK_SEQPACKET
 * pair and passes one end to each VMM (struct swp_ctl SWP_CTL_DIRECT,
 * SCM_RIGHTS).  A VMM then sends its guest's frames for that peer's MAC
 * straight to it, when they are untagged and carry its own source MAC (what
 * the switch checks for such a port; anything else still goes to the
 * switch, which drops and counts it).  Frames on a direct path have the
 * same format as the switch's.  On any policy change the switch sends
 * SWP_CTL_REVOKE to every port, and frames flow through it again until it
 * approves the pair anew; a VMM that leaves closes its ends, and a VMM
 * whose switch went away drops them all.  Only a message with a passed
 * file descriptor can be a swp_ctl: a guest cannot forge one.
 */
#ifndef WIRT_NET_SWITCH_PROTO_H
#define WIRT_NET_SWITCH_PROTO_H

#include <stdint.h>

#define SWP_MAGIC     "WIRTSW1"
#define SWP_MAX_TRUNK 64
#define SWP_MAX_FRAME 65600 /* a TSO frame: 64 KiB of IP, Ethernet header, tag */
#define SWP_F_VHDR    1u    /* frames carry a virtio-net header both ways */
#define SWP_F_DIRECT  2u    /* the VMM takes direct paths to its peers */

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

#define SWP_CTL_MAGIC  "WIRTSC1"
#define SWP_CTL_DIRECT 1 /* the passed socket reaches the VM with mac */
#define SWP_CTL_REVOKE 2 /* close every direct path (a placeholder fd comes along) */

struct swp_ctl {
    char magic[8]; /* SWP_CTL_MAGIC */
    uint32_t op;   /* SWP_CTL_* */
    uint8_t mac[6];
    uint16_t reserved;
};

#endif
