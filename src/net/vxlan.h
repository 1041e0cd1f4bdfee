/* SPDX-License-Identifier: MIT */
/*
 * The VXLAN header (RFC 7348 section 5): 8 bytes in front of the inner
 * Ethernet frame, carried in UDP (IANA port 4789).  Byte 0 holds the flags,
 * of which only I (0x08, "VNI valid") is defined; bytes 4..6 hold the
 * 24-bit VNI; the other bits are reserved: zero when sent, ignored when
 * received.  For the virtual switch's tunnel ports.
 */
#ifndef WIRT_NET_VXLAN_H
#define WIRT_NET_VXLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VXLAN_HLEN      8
#define VXLAN_PORT      4789
#define VXLAN_FLAG_I    0x08
#define VXLAN_MAX_VNI   0xffffff
#define VXLAN_MIN_INNER 14 /* an inner Ethernet header */

/* Writes the header for vni into hdr. */
void vxlan_encap(uint8_t hdr[VXLAN_HLEN], uint32_t vni);

/* Checks a received UDP payload of len bytes: the I flag is set, an inner
 * Ethernet header follows; the VNI in *vni.  false: drop it. */
bool vxlan_decap(const uint8_t *pkt, size_t len, uint32_t *vni);

#endif
