/* SPDX-License-Identifier: MIT */
/*
 * Transmit offloads a virtual NIC performs for its guest: filling in a
 * checksum the guest left open, and TCP segmentation (TSO) of one large
 * frame into MSS-sized frames with their own IP/TCP headers.
 *
 * Everything here works on an Ethernet frame in a caller-owned buffer,
 * trusts nothing in it, and never reads or writes outside [frame, frame +
 * len).  No device or backend state: the virtio-net device and the unit
 * tests call the same functions.
 */
#ifndef WIRT_NET_OFFLOAD_H
#define WIRT_NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 16-bit ones' complement sum (RFC 1071) of len bytes, added to sum
 * and folded; not complemented.  The bytes are taken as big-endian 16-bit
 * words starting at an even offset of the checksummed stream, so sums of
 * consecutive pieces may be added as long as every piece but the last has
 * an even length. */
uint16_t net_csum_add(uint16_t sum, const void *data, size_t len);

/* Fills in a checksum the guest left to the device (virtio NEEDS_CSUM):
 * the complemented sum of everything from csum_start to the end, whose
 * field at csum_start + csum_offset holds the pseudo-header sum, stored in
 * that field.  Returns false, leaving the frame untouched, when the field
 * does not lie inside the frame. */
bool net_csum_fill(uint8_t *frame, size_t len, size_t csum_start, size_t csum_offset);

/* What the guest asked for, from its virtio-net header. */
enum net_gso_type {
    NET_GSO_TCPV4,
    NET_GSO_TCPV6,
};

struct net_gso {
    enum net_gso_type type;
    /* Payload bytes per segment (the MSS).  0 is refused. */
    uint32_t gso_size;
    /* The guest's header-length hint: refused if beyond the frame,
     * otherwise unused (the headers are parsed). */
    uint32_t hdr_len;
};

/* Receives each finished segment; the bytes are only valid during the
 * call. */
typedef void (*net_segment_cb)(void *opaque, const uint8_t *frame, size_t len);

/* Why a frame was refused; NET_TSO_OK when it was sent. */
enum net_tso_result {
    NET_TSO_OK = 0,
    NET_TSO_BAD_GSO, /* gso_size 0, hdr_len beyond the frame */
    NET_TSO_BAD_L2,  /* too short, or not the ethertype the gso type names */
    NET_TSO_BAD_L3,  /* truncated or inconsistent IP header, fragment, extension headers */
    NET_TSO_NOT_TCP, /* the IP payload is not TCP */
    NET_TSO_BAD_L4,  /* truncated TCP header */
};

/* Cuts a TCP frame (Ethernet, optional 802.1Q tag, IPv4 with or without
 * options or IPv6 without extension headers, TCP) into frames of at most
 * gso_size payload bytes each, in order, and hands each to emit.  Each
 * segment gets the original headers with: IPv4 total length and header
 * checksum, an IPv4 id one higher than the previous segment's, IPv6
 * payload length, the TCP sequence number advanced by the payload before
 * it, FIN and PSH only on the last segment, CWR only on the first, and a
 * complete TCP checksum (whatever the guest left in the field).  A frame
 * whose payload fits one segment is sent as one frame with the same
 * fix-ups.  The IP length fields decide where the packet ends (Ethernet
 * padding after it is dropped); a frame shorter than they say is refused.
 *
 * The frame buffer is used as scratch: each segment's headers are written
 * just before its payload, over bytes already emitted, so the caller must
 * not expect the frame to be intact afterwards.  Nothing is emitted unless
 * the whole frame is valid. */
enum net_tso_result net_tso_segment(uint8_t *frame, size_t len, const struct net_gso *gso,
                                    net_segment_cb emit, void *opaque);

struct net_meta;

/* Finishes what a frame's metadata left open, for a receiver that takes
 * only complete frames: cuts a TSO frame into segments (net_tso_segment),
 * or fills a partial checksum, and hands each finished frame to emit.
 * m may be NULL (the frame is complete).  The frame buffer is scratch.
 * Returns false, emitting nothing, for metadata that does not fit the
 * frame. */
bool net_meta_finish(const struct net_meta *m, uint8_t *frame, size_t len, net_segment_cb emit,
                     void *opaque);

#endif
