/* SPDX-License-Identifier: MIT */
/*
 * Checksum fill-in and TCP segmentation for virtual NICs (see offload.h).
 *
 * Segmentation works in place: segment i's payload already sits at
 * hdr + i * mss in the frame, so its headers are written into the hdr
 * bytes just before it, which belong to payload (or headers) already
 * emitted.  The original headers are kept in a small template.  That way
 * no segment is copied, and the only pass over the payload is the
 * checksum.
 */
#include "net/offload.h"

#include "net/net.h"

#include <string.h>

#define ETH_HLEN       14
#define VLAN_HLEN      4
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP_   6
#define IPV4_MIN_HLEN  20
#define IPV4_MAX_HLEN  60
#define IPV6_HLEN      40
#define TCP_MIN_HLEN   20
#define TCP_MAX_HLEN   60
#define TCP_FIN        0x01
#define TCP_PSH        0x08
#define TCP_CWR        0x80
/* The largest header we replicate: Ethernet + VLAN + IPv4 with options +
 * TCP with options (IPv6 without extension headers is smaller). */
#define MAX_HDR (ETH_HLEN + VLAN_HLEN + IPV4_MAX_HLEN + TCP_MAX_HLEN)

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t net_csum_add(uint16_t sum, const void *data, size_t len)
{
    /* Native-order words: the ones' complement sum commutes with byte
     * swapping (RFC 1071), so summing little-endian loads and swapping
     * the folded result gives the big-endian sum, 8 bytes per step. */
    const uint8_t *p = data;
    uint64_t acc = 0;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        acc += (w & 0xffffffff) + (w >> 32);
    }
    for (; len >= 2; p += 2, len -= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        acc += w;
    }
    uint16_t native = fold(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    native = (uint16_t)(native << 8 | native >> 8);
#endif
    uint64_t total = (uint64_t)sum + native;
    if (len)
        total += (uint32_t)p[0] << 8; /* an odd last byte is a high byte */
    return fold(total);
}

bool net_csum_fill(uint8_t *frame, size_t len, size_t csum_start, size_t csum_offset)
{
    if (csum_start >= len || len - csum_start < 2 || csum_offset > len - csum_start - 2)
        return false;
    uint16_t c = (uint16_t)~net_csum_add(0, frame + csum_start, len - csum_start);
    /* UDP (checksum at offset 6) sends a computed zero as 0xffff, since
     * zero there means "no checksum"; for TCP both are the same value. */
    if (c == 0 && csum_offset == 6)
        c = 0xffff;
    put16(frame + csum_start + csum_offset, c);
    return true;
}

/* Where the headers of a valid frame are. */
struct tcp_frame {
    bool v4;
    size_t l3;  /* IP header */
    size_t l4;  /* TCP header */
    size_t hdr; /* payload */
    size_t end; /* end of the IP packet */
};

static enum net_tso_result parse(const uint8_t *f, size_t len, enum net_gso_type type,
                                 struct tcp_frame *t)
{
    if (len < ETH_HLEN)
        return NET_TSO_BAD_L2;
    uint16_t ethertype = get16(f + 12);
    t->l3 = ETH_HLEN;
    if (ethertype == ETHERTYPE_VLAN) {
        if (len < ETH_HLEN + VLAN_HLEN)
            return NET_TSO_BAD_L2;
        ethertype = get16(f + 16);
        t->l3 += VLAN_HLEN;
    }
    t->v4 = type == NET_GSO_TCPV4;
    if (ethertype != (t->v4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6))
        return NET_TSO_BAD_L2;
    const uint8_t *ip = f + t->l3;
    size_t room = len - t->l3;
    size_t iplen;
    if (t->v4) {
        if (room < IPV4_MIN_HLEN || ip[0] >> 4 != 4)
            return NET_TSO_BAD_L3;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        iplen = get16(ip + 2);
        /* A fragment (MF or an offset) cannot be segmented; DF may be set. */
        if (ihl < IPV4_MIN_HLEN || iplen < ihl || iplen > room || (get16(ip + 6) & 0x3fff))
            return NET_TSO_BAD_L3;
        if (ip[9] != IPPROTO_TCP_)
            return NET_TSO_NOT_TCP;
        t->l4 = t->l3 + ihl;
    } else {
        if (room < IPV6_HLEN || ip[0] >> 4 != 6)
            return NET_TSO_BAD_L3;
        iplen = IPV6_HLEN + (size_t)get16(ip + 4);
        /* A zero payload length is a jumbogram (or nonsense). */
        if (iplen == IPV6_HLEN || iplen > room)
            return NET_TSO_BAD_L3;
        /* Extension headers count as "not TCP": Linux does not put them
         * on TSO frames and skipping them safely is not worth it. */
        if (ip[6] != IPPROTO_TCP_)
            return NET_TSO_NOT_TCP;
        t->l4 = t->l3 + IPV6_HLEN;
    }
    t->end = t->l3 + iplen;
    if (t->end - t->l4 < TCP_MIN_HLEN)
        return NET_TSO_BAD_L4;
    size_t doff = (size_t)(f[t->l4 + 12] >> 4) * 4;
    if (doff < TCP_MIN_HLEN || doff > t->end - t->l4)
        return NET_TSO_BAD_L4;
    t->hdr = t->l4 + doff;
    return NET_TSO_OK;
}

enum net_tso_result net_tso_segment(uint8_t *frame, size_t len, const struct net_gso *gso,
                                    net_segment_cb emit, void *opaque)
{
    if (gso->gso_size == 0 || gso->hdr_len > len)
        return NET_TSO_BAD_GSO;
    struct tcp_frame t;
    enum net_tso_result r = parse(frame, len, gso->type, &t);
    if (r != NET_TSO_OK)
        return r;

    uint8_t tmpl[MAX_HDR];
    memcpy(tmpl, frame, t.hdr);
    size_t payload = t.end - t.hdr, mss = gso->gso_size;
    size_t iphl = t.l4 - t.l3, tcphl = t.hdr - t.l4;
    uint16_t id0 = t.v4 ? get16(tmpl + t.l3 + 4) : 0;
    uint32_t seq0 = get32(tmpl + t.l4 + 4);
    uint8_t flags0 = tmpl[t.l4 + 13];
    /* Source and destination addresses, the pseudo header's constant part. */
    uint16_t addr_sum =
        t.v4 ? net_csum_add(0, tmpl + t.l3 + 12, 8) : net_csum_add(0, tmpl + t.l3 + 8, 32);

    for (size_t off = 0, i = 0;; off += mss, i++) {
        size_t seg = payload - off < mss ? payload - off : mss;
        bool last = off + seg == payload;
        uint8_t *s = frame + off; /* headers end where this payload starts */
        memcpy(s, tmpl, t.hdr);
        uint8_t *ip = s + t.l3, *tcp = s + t.l4;
        if (t.v4) {
            put16(ip + 2, (uint16_t)(iphl + tcphl + seg));
            put16(ip + 4, (uint16_t)(id0 + i));
            put16(ip + 10, 0);
            put16(ip + 10, (uint16_t)~net_csum_add(0, ip, iphl));
        } else {
            put16(ip + 4, (uint16_t)(tcphl + seg));
        }
        put32(tcp + 4, seq0 + (uint32_t)off);
        uint8_t flags = flags0;
        if (!last)
            flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        if (i > 0)
            flags &= (uint8_t)~TCP_CWR;
        tcp[13] = flags;
        put16(tcp + 16, 0);
        uint16_t sum = fold((uint64_t)addr_sum + IPPROTO_TCP_ + tcphl + seg);
        sum = net_csum_add(sum, tcp, tcphl + seg);
        put16(tcp + 16, (uint16_t)~sum);
        emit(opaque, s, t.hdr + seg);
        if (last)
            return NET_TSO_OK;
    }
}

bool net_meta_finish(const struct net_meta *m, uint8_t *frame, size_t len, net_segment_cb emit,
                     void *opaque)
{
    if (!m || (m->gso_type == NET_META_GSO_NONE && !(m->flags & NET_META_F_NEEDS_CSUM))) {
        emit(opaque, frame, len);
        return true;
    }
    uint8_t type = m->gso_type & (uint8_t)~NET_META_GSO_ECN;
    if (type == NET_META_GSO_NONE) {
        if (!net_csum_fill(frame, len, m->csum_start, m->csum_offset))
            return false;
        emit(opaque, frame, len);
        return true;
    }
    if (type != NET_META_GSO_TCPV4 && type != NET_META_GSO_TCPV6)
        return false;
    struct net_gso gso = {.type = type == NET_META_GSO_TCPV4 ? NET_GSO_TCPV4 : NET_GSO_TCPV6,
                          .gso_size = m->gso_size,
                          .hdr_len = m->hdr_len};
    return net_tso_segment(frame, len, &gso, emit, opaque) == NET_TSO_OK;
}
