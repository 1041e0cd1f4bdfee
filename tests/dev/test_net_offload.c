/* SPDX-License-Identifier: MIT */
/*
 * src/net/offload.c without a device: TCP segmentation of crafted IPv4 and
 * IPv6 TSO frames (segment count and sizes, payload reassembled byte for
 * byte, every IP and TCP checksum checked with a checksum routine of the
 * test's own, lengths, ids, sequence numbers and flags), checksum fill-in,
 * and hostile frames, which must be refused without a single segment and
 * without touching memory outside the frame (each frame lives in a heap
 * block of exactly its size, so the ASan build catches any stray access).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/offload.h"

#define L3 14

/* ---- an independent checksum: one 16-bit big-endian word at a time ---- */

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A received TCP/IP packet is valid when its sums (with the pseudo header
 * for TCP) come to 0xffff. */
static bool ipv4_header_ok(const uint8_t *ip)
{
    return ref_fold(ref_sum(0, ip, (size_t)(ip[0] & 15) * 4)) == 0xffff;
}

static bool tcp_ok(const uint8_t *ip, bool v4, const uint8_t *tcp, size_t tcplen)
{
    uint32_t s = v4 ? ref_sum(0, ip + 12, 8) : ref_sum(0, ip + 8, 32);
    s += 6 + (uint32_t)tcplen;
    return ref_fold(ref_sum(s, tcp, tcplen)) == 0xffff;
}

/* ---- frame builder ---- */

struct spec {
    bool v6;
    bool vlan;
    unsigned ip_opts;  /* IPv4 option bytes (multiple of 4) */
    unsigned tcp_opts; /* TCP option bytes (multiple of 4) */
    size_t payload;
    uint8_t flags;
    uint32_t seq;
    size_t pad; /* Ethernet padding after the IP packet */
};

struct built {
    uint8_t *frame; /* malloc'ed, exactly len bytes */
    size_t len, l3, l4, hdr;
};

static uint8_t payload_byte(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
}

static struct built build(const struct spec *s)
{
    struct built b;
    b.l3 = L3 + (s->vlan ? 4 : 0);
    size_t iphl = s->v6 ? 40 : 20 + s->ip_opts;
    b.l4 = b.l3 + iphl;
    b.hdr = b.l4 + 20 + s->tcp_opts;
    b.len = b.hdr + s->payload + s->pad;
    b.frame = malloc(b.len);
    assert_non_null(b.frame);
    uint8_t *f = b.frame;
    memset(f, 0, b.hdr);
    memcpy(f, "\x52\x55\x0a\x00\x02\x02\x52\x54\x00\x12\x34\x56", 12);
    if (s->vlan)
        memcpy(f + 12, "\x81\x00\x00\x2a", 4);
    memcpy(f + b.l3 - 2, s->v6 ? "\x86\xdd" : "\x08\x00", 2);
    uint8_t *ip = f + b.l3;
    size_t iplen = iphl + 20 + s->tcp_opts + s->payload;
    if (s->v6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)((iplen - 40) >> 8), ip[5] = (uint8_t)(iplen - 40);
        ip[6] = 6, ip[7] = 64;
        for (int i = 0; i < 32; i++)
            ip[8 + i] = (uint8_t)(0xfe + i * 3);
    } else {
        ip[0] = (uint8_t)(0x40 | iphl / 4);
        ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen;
        ip[4] = 0xff, ip[5] = 0xfe; /* id: wraps after the second segment */
        ip[6] = 0x40;               /* DF */
        ip[8] = 64, ip[9] = 6;
        ip[10] = 0xde, ip[11] = 0xad; /* a stale checksum */
        memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
        for (unsigned i = 0; i < s->ip_opts; i++)
            ip[20 + i] = i + 1 < s->ip_opts ? 0x01 : 0x00; /* NOPs, then EOL */
    }
    uint8_t *tcp = f + b.l4;
    memcpy(tcp, "\x9c\x40\x1f\x90", 4);
    tcp[4] = (uint8_t)(s->seq >> 24), tcp[5] = (uint8_t)(s->seq >> 16);
    tcp[6] = (uint8_t)(s->seq >> 8), tcp[7] = (uint8_t)s->seq;
    memcpy(tcp + 8, "\x11\x22\x33\x44", 4);
    tcp[12] = (uint8_t)((20 + s->tcp_opts) / 4 << 4);
    tcp[13] = s->flags;
    tcp[14] = 0xff, tcp[15] = 0xff;
    tcp[16] = 0x12, tcp[17] = 0x34; /* a pseudo-header seed, wrong for every segment */
    for (unsigned i = 0; i < s->tcp_opts; i++)
        tcp[20 + i] = (uint8_t)(0x80 + i);
    for (size_t i = 0; i < s->payload; i++)
        f[b.hdr + i] = payload_byte(i);
    memset(f + b.hdr + s->payload, 0xee, s->pad);
    return b;
}

/* ---- segment collector ---- */

struct seg {
    uint8_t *data;
    size_t len;
};

struct collect {
    struct seg seg[4096];
    unsigned n;
    /* The frame the segments must lie in. */
    const uint8_t *lo, *hi;
};

static void collect_cb(void *opaque, const uint8_t *frame, size_t len)
{
    struct collect *c = opaque;
    assert_true(frame >= c->lo && len <= (size_t)(c->hi - frame));
    assert_true(c->n < 4096);
    struct seg *s = &c->seg[c->n++];
    s->data = malloc(len ? len : 1);
    assert_non_null(s->data);
    memcpy(s->data, frame, len);
    s->len = len;
}

static void collect_free(struct collect *c)
{
    for (unsigned i = 0; i < c->n; i++)
        free(c->seg[i].data);
    free(c);
}

static struct collect *run(struct built *b, enum net_gso_type type, uint32_t mss,
                           enum net_tso_result want)
{
    struct collect *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->lo = b->frame;
    c->hi = b->frame + b->len;
    struct net_gso g = {.type = type, .gso_size = mss, .hdr_len = (uint32_t)b->hdr};
    assert_int_equal(net_tso_segment(b->frame, b->len, &g, collect_cb, c), want);
    if (want != NET_TSO_OK)
        assert_int_equal(c->n, 0);
    return c;
}

/* Checks every segment against the spec the frame was built from. */
static void check_segments(const struct spec *s, const struct built *b, const struct collect *c,
                           size_t mss, const uint8_t *orig_hdr)
{
    size_t want_n = s->payload ? (s->payload + mss - 1) / mss : 1;
    assert_int_equal(c->n, want_n);
    size_t off = 0;
    for (unsigned i = 0; i < c->n; i++) {
        const uint8_t *f = c->seg[i].data;
        size_t seg = c->seg[i].len - b->hdr;
        bool first = i == 0, last = i + 1 == c->n;
        assert_true(c->seg[i].len >= b->hdr);
        assert_int_equal(seg, last ? s->payload - off : mss);
        /* Ethernet (and VLAN) header unchanged. */
        assert_memory_equal(f, orig_hdr, b->l3);
        const uint8_t *ip = f + b->l3, *tcp = f + b->l4;
        if (s->v6) {
            assert_int_equal(be16(ip + 4), c->seg[i].len - b->l3 - 40);
            assert_memory_equal(ip + 6, orig_hdr + b->l3 + 6, 34);
        } else {
            assert_int_equal(be16(ip + 2), c->seg[i].len - b->l3);
            assert_int_equal(be16(ip + 4), (uint16_t)(0xfffe + i));
            assert_true(ipv4_header_ok(ip));
            /* Options and addresses replicated. */
            assert_memory_equal(ip + 12, orig_hdr + b->l3 + 12, b->l4 - b->l3 - 12);
            assert_int_equal(ip[6], 0x40);
        }
        assert_int_equal(be32(tcp + 4), (uint32_t)(s->seq + off));
        assert_memory_equal(tcp + 8, orig_hdr + b->l4 + 8, 5); /* ack, data offset */
        assert_memory_equal(tcp + 18, orig_hdr + b->l4 + 18, b->hdr - b->l4 - 18);
        uint8_t want_flags = s->flags;
        if (!last)
            want_flags &= (uint8_t) ~(0x01 | 0x08); /* FIN, PSH */
        if (!first)
            want_flags &= (uint8_t)~0x80; /* CWR */
        assert_int_equal(tcp[13], want_flags);
        assert_true(tcp_ok(ip, !s->v6, tcp, c->seg[i].len - b->l4));
        for (size_t k = 0; k < seg; k++)
            if (f[b->hdr + k] != payload_byte(off + k))
                fail_msg("segment %u payload byte %zu wrong", i, k);
        off += seg;
    }
    assert_int_equal(off, s->payload);
}

static void segment_and_check(const struct spec *s, enum net_gso_type type, uint32_t mss)
{
    struct built b = build(s);
    uint8_t orig[200];
    memcpy(orig, b.frame, b.hdr);
    struct collect *c = run(&b, type, mss, NET_TSO_OK);
    check_segments(s, &b, c, mss, orig);
    collect_free(c);
    free(b.frame);
}

/* ---- tests ---- */

static void test_csum_add(void **state)
{
    (void)state;
    uint8_t buf[1031];
    srand(1);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (size_t len = 0; len <= sizeof(buf); len += len < 40 ? 1 : 37) {
        assert_int_equal(net_csum_add(0, buf, len), ref_fold(ref_sum(0, buf, len)));
        /* Any start (unaligned loads) and a seed. */
        assert_int_equal(net_csum_add(0xfff0, buf + 1, len - (len > 0)),
                         ref_fold(ref_sum(0xfff0, buf + 1, len - (len > 0))));
        /* Pieces of even length add up. */
        size_t half = len / 4 * 2;
        assert_int_equal(net_csum_add(net_csum_add(0, buf, half), buf + half, len - half),
                         net_csum_add(0, buf, len));
    }
    /* 0xffff is zero in ones' complement: adding it changes nothing. */
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(net_csum_add(0xffff, buf, sizeof(buf) - 1), 0xffff);
    assert_int_equal(net_csum_add(0xffff, buf, sizeof(buf)), 0xff00);
}

static void test_csum_fill(void **state)
{
    (void)state;
    struct spec s = {.payload = 333, .flags = 0x18};
    struct built b = build(&s);
    /* The guest leaves the pseudo-header sum (of the real length) in the field. */
    uint8_t *ip = b.frame + b.l3, *tcp = b.frame + b.l4;
    size_t tcplen = b.len - b.l4;
    uint16_t seed = ref_fold(ref_sum(6 + (uint32_t)tcplen, ip + 12, 8));
    tcp[16] = (uint8_t)(seed >> 8), tcp[17] = (uint8_t)seed;
    assert_true(net_csum_fill(b.frame, b.len, b.l4, 16));
    assert_true(tcp_ok(ip, true, tcp, tcplen));
    /* The field must lie inside the frame. */
    uint8_t copy[600];
    memcpy(copy, b.frame, b.len);
    assert_false(net_csum_fill(b.frame, b.len, b.len, 0));
    assert_false(net_csum_fill(b.frame, b.len, b.len - 1, 0));
    assert_false(net_csum_fill(b.frame, b.len, b.l4, b.len - b.l4 - 1));
    assert_false(net_csum_fill(b.frame, b.len, SIZE_MAX, 16));
    assert_false(net_csum_fill(b.frame, b.len, b.l4, SIZE_MAX));
    assert_memory_equal(copy, b.frame, b.len);
    assert_true(net_csum_fill(b.frame, b.len, b.l4, b.len - b.l4 - 2)); /* last two bytes */
    free(b.frame);
    /* UDP: a sum that comes out as zero is sent as 0xffff. */
    uint8_t udp[10] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    assert_true(net_csum_fill(udp, sizeof(udp), 0, 6));
    assert_int_equal(be16(udp + 6), 0xffff);
}

static void test_tso4_64k(void **state)
{
    (void)state;
    /* The biggest frame Linux sends: 65535-byte IP packet, timestamps. */
    struct spec s = {.tcp_opts = 12, .flags = 0x80 | 0x10 | 0x08 | 0x01, .seq = 0xffffd000};
    s.payload = 65535 - 20 - 32;
    segment_and_check(&s, NET_GSO_TCPV4, 1448);
    assert_int_equal((s.payload + 1447) / 1448, 46);
    /* An MSS that divides the payload exactly: no empty last segment. */
    s.payload = 1448 * 10;
    segment_and_check(&s, NET_GSO_TCPV4, 1448);
}

static void test_tso6(void **state)
{
    (void)state;
    struct spec s = {.v6 = true, .tcp_opts = 12, .payload = 60000, .flags = 0x19, .seq = 7};
    segment_and_check(&s, NET_GSO_TCPV6, 1428);
}

static void test_tso_vlan_options_padding(void **state)
{
    (void)state;
    /* VLAN tag, IPv4 options, an odd last segment, Ethernet padding that
     * must not be sent. */
    struct spec s = {
        .vlan = true, .ip_opts = 8, .tcp_opts = 4, .payload = 5001, .flags = 0x18, .pad = 6};
    segment_and_check(&s, NET_GSO_TCPV4, 1000);
    s.v6 = true;
    s.ip_opts = 0;
    segment_and_check(&s, NET_GSO_TCPV6, 999);
}

static void test_tso_one_segment(void **state)
{
    (void)state;
    /* Payload within one MSS (or a huge gso_size): one frame, lengths and
     * checksums set anyway; also a payload-free frame. */
    struct spec s = {.payload = 500, .flags = 0x99};
    segment_and_check(&s, NET_GSO_TCPV4, 1448);
    s.payload = 40000;
    segment_and_check(&s, NET_GSO_TCPV4, 0xffffffff);
    s.payload = 0;
    segment_and_check(&s, NET_GSO_TCPV4, 1448);
    /* A tiny MSS: headers overlap several earlier segments in place. */
    s.payload = 3000;
    segment_and_check(&s, NET_GSO_TCPV4, 1);
}

/* Rebuilds the frame, lets mutate() break it, and expects a refusal. */
static void expect_refused(const struct spec *s, enum net_gso_type type, uint32_t mss,
                           void (*mutate)(struct built *), enum net_tso_result want)
{
    struct built b = build(s);
    if (mutate)
        mutate(&b);
    struct collect *c = run(&b, type, mss, want);
    collect_free(c);
    free(b.frame);
}

static void m_udp(struct built *b)
{
    b->frame[b->l3 + 9] = 17;
}
static void m_ihl4(struct built *b)
{
    b->frame[b->l3] = 0x44;
}
static void m_ipver(struct built *b)
{
    b->frame[b->l3] ^= 0x20;
}
static void m_totlen_long(struct built *b)
{
    uint16_t t = (uint16_t)(be16(b->frame + b->l3 + 2) + 1);
    b->frame[b->l3 + 2] = (uint8_t)(t >> 8), b->frame[b->l3 + 3] = (uint8_t)t;
}
static void m_totlen_short(struct built *b)
{
    b->frame[b->l3 + 2] = 0, b->frame[b->l3 + 3] = 39; /* ends inside the TCP header */
}
static void m_totlen_tiny(struct built *b)
{
    b->frame[b->l3 + 2] = 0, b->frame[b->l3 + 3] = 19; /* shorter than the IP header */
}
static void m_fragment(struct built *b)
{
    b->frame[b->l3 + 6] = 0x20; /* MF */
}
static void m_fragoff(struct built *b)
{
    b->frame[b->l3 + 7] = 0x01;
}
static void m_doff_small(struct built *b)
{
    b->frame[b->l4 + 12] = 0x40;
}
static void m_doff_big(struct built *b)
{
    b->frame[b->l4 + 12] = 0xf0; /* 60 bytes, past the end of a short packet */
}
static void m_v6_plen0(struct built *b)
{
    b->frame[b->l3 + 4] = 0, b->frame[b->l3 + 5] = 0;
}
static void m_v6_ext(struct built *b)
{
    b->frame[b->l3 + 6] = 0; /* hop-by-hop options */
}
static void m_v6_plen_long(struct built *b)
{
    b->frame[b->l3 + 4] = 0xff;
}
static void m_ethertype_arp(struct built *b)
{
    b->frame[12] = 0x08, b->frame[13] = 0x06;
}

static void test_hostile(void **state)
{
    (void)state;
    struct spec v4 = {.payload = 3000, .flags = 0x18};
    struct spec v6 = {.v6 = true, .payload = 3000, .flags = 0x18};
    struct spec small = {.payload = 10, .flags = 0x18};
    expect_refused(&v4, NET_GSO_TCPV4, 0, NULL, NET_TSO_BAD_GSO);
    expect_refused(&v4, NET_GSO_TCPV6, 1000, NULL, NET_TSO_BAD_L2);
    expect_refused(&v6, NET_GSO_TCPV4, 1000, NULL, NET_TSO_BAD_L2);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_ethertype_arp, NET_TSO_BAD_L2);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_udp, NET_TSO_NOT_TCP);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_ihl4, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_ipver, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_totlen_long, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_totlen_short, NET_TSO_BAD_L4);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_totlen_tiny, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_fragment, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_fragoff, NET_TSO_BAD_L3);
    expect_refused(&v4, NET_GSO_TCPV4, 1000, m_doff_small, NET_TSO_BAD_L4);
    expect_refused(&small, NET_GSO_TCPV4, 1000, m_doff_big, NET_TSO_BAD_L4);
    expect_refused(&v6, NET_GSO_TCPV6, 1000, m_v6_plen0, NET_TSO_BAD_L3);
    expect_refused(&v6, NET_GSO_TCPV6, 1000, m_v6_ext, NET_TSO_NOT_TCP);
    expect_refused(&v6, NET_GSO_TCPV6, 1000, m_v6_plen_long, NET_TSO_BAD_L3);
    expect_refused(&v6, NET_GSO_TCPV6, 1000, m_ipver, NET_TSO_BAD_L3);

    /* hdr_len beyond the frame. */
    struct built b = build(&v4);
    struct collect *c = calloc(1, sizeof(*c));
    struct net_gso g = {.type = NET_GSO_TCPV4, .gso_size = 1000, .hdr_len = (uint32_t)b.len + 1};
    assert_int_equal(net_tso_segment(b.frame, b.len, &g, collect_cb, c), NET_TSO_BAD_GSO);
    assert_int_equal(c->n, 0);
    free(c);
    free(b.frame);

    /* Every truncation of valid frames, down to nothing, in a heap block
     * of exactly that size. */
    const struct spec *all[] = {&v4, &v6};
    for (unsigned k = 0; k < 2; k++) {
        struct built full = build(all[k]);
        for (size_t len = 0; len < full.len; len += len < full.hdr + 4 ? 1 : 97) {
            struct built t = full;
            t.len = len;
            t.frame = malloc(len ? len : 1);
            assert_non_null(t.frame);
            memcpy(t.frame, full.frame, len);
            struct collect *tc = calloc(1, sizeof(*tc));
            tc->lo = t.frame;
            tc->hi = t.frame + len;
            struct net_gso tg = {.type = all[k]->v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4,
                                 .gso_size = 1000};
            assert_int_not_equal(net_tso_segment(t.frame, len, &tg, collect_cb, tc), NET_TSO_OK);
            assert_int_equal(tc->n, 0);
            free(tc);
            free(t.frame);
        }
        free(full.frame);
    }
}

/* Random corruption of header bytes and lengths: whatever happens, no
 * access outside the frame (ASan), segments inside the frame (collect_cb),
 * and accepted frames' segments carry valid checksums. */
static void test_fuzz(void **state)
{
    (void)state;
    srand(42);
    unsigned accepted = 0;
    for (int iter = 0; iter < 3000; iter++) {
        struct spec s = {.v6 = rand() % 2,
                         .vlan = rand() % 4 == 0,
                         .tcp_opts = (unsigned)(rand() % 4) * 4,
                         .payload = (size_t)(rand() % 9000),
                         .flags = (uint8_t)rand()};
        if (!s.v6)
            s.ip_opts = (unsigned)(rand() % 3) * 4;
        struct built b = build(&s);
        int flips = rand() % 4;
        for (int i = 0; i < flips; i++)
            b.frame[(size_t)rand() % b.hdr] = (uint8_t)rand();
        size_t len = b.len;
        if (rand() % 3 == 0)
            len = (size_t)rand() % (b.len + 1);
        uint8_t *f = malloc(len ? len : 1);
        assert_non_null(f);
        memcpy(f, b.frame, len);
        struct collect *c = calloc(1, sizeof(*c));
        c->lo = f;
        c->hi = f + len;
        struct net_gso g = {.type = rand() % 2 ? NET_GSO_TCPV6 : NET_GSO_TCPV4,
                            .gso_size = (uint32_t)(rand() % 3000),
                            .hdr_len = (uint32_t)(rand() % 200)};
        if (g.gso_size && s.payload / g.gso_size > 4000) /* the collector's limit */
            g.gso_size = (uint32_t)(s.payload / 4000 + 1);
        if (net_tso_segment(f, len, &g, collect_cb, c) == NET_TSO_OK) {
            accepted++;
            assert_true(c->n >= 1);
            for (unsigned i = 0; i < c->n; i++) {
                const uint8_t *sg = c->seg[i].data;
                size_t l3 = be16(sg + 12) == 0x8100 ? 18 : 14;
                bool v4 = g.type == NET_GSO_TCPV4;
                size_t l4 = l3 + (v4 ? (size_t)(sg[l3] & 15) * 4 : 40);
                if (v4)
                    assert_true(ipv4_header_ok(sg + l3));
                assert_true(tcp_ok(sg + l3, v4, sg + l4, c->seg[i].len - l4));
            }
        } else {
            assert_int_equal(c->n, 0);
        }
        collect_free(c);
        free(f);
        free(b.frame);
    }
    /* Both paths were exercised. */
    printf("fuzz: %u of 3000 frames accepted\n", accepted);
    assert_true(accepted > 100 && accepted < 2900);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_add),
        cmocka_unit_test(test_csum_fill),
        cmocka_unit_test(test_tso4_64k),
        cmocka_unit_test(test_tso6),
        cmocka_unit_test(test_tso_vlan_options_padding),
        cmocka_unit_test(test_tso_one_segment),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
