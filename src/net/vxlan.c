/* SPDX-License-Identifier: MIT */
/*
 * VXLAN header; see vxlan.h.
 */
#include "net/vxlan.h"

#include <string.h>

void vxlan_encap(uint8_t hdr[VXLAN_HLEN], uint32_t vni)
{
    memset(hdr, 0, VXLAN_HLEN);
    hdr[0] = VXLAN_FLAG_I;
    hdr[4] = (uint8_t)(vni >> 16);
    hdr[5] = (uint8_t)(vni >> 8);
    hdr[6] = (uint8_t)vni;
}

bool vxlan_decap(const uint8_t *pkt, size_t len, uint32_t *vni)
{
    if (len < VXLAN_HLEN + VXLAN_MIN_INNER || !(pkt[0] & VXLAN_FLAG_I))
        return false;
    *vni = (uint32_t)pkt[4] << 16 | (uint32_t)pkt[5] << 8 | pkt[6];
    return true;
}
