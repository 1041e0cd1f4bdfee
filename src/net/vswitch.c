/* SPDX-License-Identifier: MIT */
/*
 * Forwarding core of the virtual switch; see vswitch.h.
 */
#include "net/vswitch.h"

#include <stdlib.h>
#include <string.h>

#define ETH_P_8021Q 0x8100
#define NS_PER_S    1000000000ull

struct vswitch *vsw_new(unsigned mac_entries, vsw_output_fn output, void *opaque)
{
    struct vswitch *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return NULL;
    sw->nsets = mac_entries / VSW_MAC_WAYS ? mac_entries / VSW_MAC_WAYS : 1;
    sw->table = calloc((size_t)sw->nsets * VSW_MAC_WAYS, sizeof(*sw->table));
    if (!sw->table) {
        free(sw);
        return NULL;
    }
    sw->ageing_ns = VSW_DEFAULT_AGEING;
    sw->output = output;
    sw->opaque = opaque;
    return sw;
}

void vsw_free(struct vswitch *sw)
{
    if (sw)
        free(sw->table);
    free(sw);
}

void vsw_vlan_allow(struct vsw_port_config *cfg, uint16_t vlan)
{
    if (vlan > 0 && vlan < 4095)
        cfg->allowed[vlan / 64] |= 1ull << (vlan % 64);
}

static bool vlan_allowed(const struct vsw_port_config *cfg, uint16_t vlan)
{
    return cfg->allowed[vlan / 64] >> (vlan % 64) & 1;
}

int vsw_port_add(struct vswitch *sw, const struct vsw_port_config *cfg)
{
    for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
        struct vsw_port *p = &sw->ports[i];
        if (p->used)
            continue;
        memset(p, 0, sizeof(*p));
        p->used = p->up = true;
        p->cfg = *cfg;
        if (!p->cfg.trunk && !p->cfg.pvid)
            p->cfg.pvid = VSW_DEFAULT_VLAN;
        p->tokens = cfg->burst_bytes;
        return (int)i;
    }
    return -1;
}

void vsw_port_remove(struct vswitch *sw, unsigned port)
{
    if (port >= VSW_MAX_PORTS)
        return;
    sw->ports[port].used = false;
    for (size_t i = 0; i < (size_t)sw->nsets * VSW_MAC_WAYS; i++)
        if (sw->table[i].vlan && sw->table[i].port == port)
            sw->table[i].vlan = 0;
}

void vsw_port_set_up(struct vswitch *sw, unsigned port, bool up)
{
    if (port < VSW_MAX_PORTS && sw->ports[port].used)
        sw->ports[port].up = up;
}

/* FNV-1a over MAC and VLAN: the set an address lives in. */
static struct vsw_mac_entry *mac_set(const struct vswitch *sw, const uint8_t mac[6], uint16_t vlan)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++)
        h = (h ^ mac[i]) * 16777619u;
    h = (h ^ (vlan & 0xff)) * 16777619u;
    h = (h ^ (vlan >> 8)) * 16777619u;
    return &sw->table[(size_t)(h % sw->nsets) * VSW_MAC_WAYS];
}

static bool entry_live(const struct vswitch *sw, const struct vsw_mac_entry *e, uint64_t now_ns)
{
    return e->vlan && (e->is_static || now_ns - e->seen_ns < sw->ageing_ns);
}

int vsw_lookup(const struct vswitch *sw, const uint8_t mac[6], uint16_t vlan, uint64_t now_ns)
{
    const struct vsw_mac_entry *set = mac_set(sw, mac, vlan);
    for (int w = 0; w < VSW_MAC_WAYS; w++)
        if (set[w].vlan == vlan && !memcmp(set[w].mac, mac, 6) && entry_live(sw, &set[w], now_ns))
            return set[w].port;
    return -1;
}

/* The slot for mac in its set: its own, else a free or aged one, else the
 * oldest learned one (a full table evicts); NULL if the set is all static. */
static struct vsw_mac_entry *slot_for(struct vswitch *sw, const uint8_t mac[6], uint16_t vlan,
                                      uint64_t now_ns)
{
    struct vsw_mac_entry *set = mac_set(sw, mac, vlan), *victim = NULL;
    for (int w = 0; w < VSW_MAC_WAYS; w++)
        if (set[w].vlan == vlan && !memcmp(set[w].mac, mac, 6))
            return &set[w];
    for (int w = 0; w < VSW_MAC_WAYS; w++) {
        struct vsw_mac_entry *e = &set[w];
        if (!entry_live(sw, e, now_ns))
            return e;
        if (!e->is_static && (!victim || e->seen_ns < victim->seen_ns))
            victim = e;
    }
    return victim;
}

bool vsw_add_static(struct vswitch *sw, const uint8_t mac[6], uint16_t vlan, unsigned port)
{
    struct vsw_mac_entry *e = slot_for(sw, mac, vlan, 0);
    if (!e || port >= VSW_MAX_PORTS || !vlan || vlan > 4094)
        return false;
    memcpy(e->mac, mac, 6);
    e->vlan = vlan;
    e->port = (uint16_t)port;
    e->is_static = true;
    return true;
}

static void learn(struct vswitch *sw, const uint8_t mac[6], uint16_t vlan, unsigned port,
                  uint64_t now_ns)
{
    struct vsw_mac_entry *e = slot_for(sw, mac, vlan, now_ns);
    if (!e || e->is_static)
        return; /* a static entry is not moved by what a port sends */
    memcpy(e->mac, mac, 6);
    e->vlan = vlan;
    e->port = (uint16_t)port;
    e->seen_ns = now_ns;
}

/* Token bucket: refills at the rate up to the burst; false: over the limit. */
static bool rate_take(struct vsw_port *p, size_t len, uint64_t now_ns)
{
    if (!p->cfg.rate_bytes_per_s)
        return true;
    if (now_ns > p->bucket_ns) {
        uint64_t dt = now_ns - p->bucket_ns;
        /* Cap dt so the product cannot overflow; a full bucket needs no more. */
        if (dt > 100 * NS_PER_S)
            dt = 100 * NS_PER_S;
        uint64_t add = (uint64_t)((unsigned __int128)dt * p->cfg.rate_bytes_per_s / NS_PER_S);
        /* Advance the clock only by the time the whole tokens stand for:
         * frames closer together than one token's time would otherwise
         * each lose their fraction, and the rate would fall short. */
        if (p->tokens + add >= p->cfg.burst_bytes) {
            p->tokens = p->cfg.burst_bytes;
            p->bucket_ns = now_ns;
        } else if (add) {
            p->tokens += add;
            p->bucket_ns += (uint64_t)((unsigned __int128)add * NS_PER_S / p->cfg.rate_bytes_per_s);
        }
    }
    if (p->tokens < len)
        return false;
    p->tokens -= len;
    return true;
}

bool vsw_acl_add(struct vswitch *sw, const struct vsw_acl *rule)
{
    if (sw->nacl >= VSW_MAX_ACL)
        return false;
    sw->acl[sw->nacl] = *rule;
    sw->acl[sw->nacl++].hits = 0;
    return true;
}

bool vsw_acl_remove(struct vswitch *sw, unsigned i)
{
    if (i >= sw->nacl)
        return false;
    memmove(&sw->acl[i], &sw->acl[i + 1], (sw->nacl - i - 1) * sizeof(sw->acl[0]));
    sw->nacl--;
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The first matching rule's verdict on the untagged frame f; true: pass.
 * A rule on an IP field never matches a frame that is not (whole) IPv4. */
static bool acl_pass(struct vswitch *sw, unsigned port, uint16_t vlan, const uint8_t *f, size_t len)
{
    bool ipv4 = len >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4;
    size_t ihl = ipv4 ? (size_t)(f[14] & 0xf) * 4 : 0;
    /* Only the first fragment carries the L4 header. */
    bool l4 = ipv4 && ihl >= 20 && len >= 14 + ihl + 4 && (f[23] == 6 || f[23] == 17) &&
              !((f[20] & 0x1f) | f[21]);
    for (unsigned i = 0; i < sw->nacl; i++) {
        struct vsw_acl *r = &sw->acl[i];
        unsigned m = r->match;
        if ((m & VSW_ACL_IN_PORT && r->in_port != port) || (m & VSW_ACL_VLAN && r->vlan != vlan) ||
            (m & VSW_ACL_SRC_MAC && memcmp(r->src_mac, f + 6, 6)) ||
            (m & VSW_ACL_DST_MAC && memcmp(r->dst_mac, f, 6)))
            continue;
        if (m & (VSW_ACL_SRC_IP | VSW_ACL_DST_IP | VSW_ACL_PROTO | VSW_ACL_DST_PORT)) {
            if (!ipv4 || (m & VSW_ACL_SRC_IP && (be32(f + 26) & r->src_mask) != r->src_ip) ||
                (m & VSW_ACL_DST_IP && (be32(f + 30) & r->dst_mask) != r->dst_ip) ||
                (m & VSW_ACL_PROTO && f[23] != r->proto))
                continue;
            if (m & VSW_ACL_DST_PORT &&
                (!l4 || ((f[14 + ihl + 2] << 8) | f[14 + ihl + 3]) != r->dst_port))
                continue;
        }
        r->hits++;
        return r->allow;
    }
    return true;
}

/* DHCP (RFC 2131) as the switch sees it: an untagged IPv4/UDP frame f of
 * len bytes whose ports are sport -> dport, its BOOTP message and the value
 * of option 53 (message type), or 0 when f is not such a message. */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define BOOTP_MIN        240 /* fixed part (236) and the magic cookie */
enum { DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7 };

static const uint8_t *udp_payload(const uint8_t *f, size_t len, unsigned sport, unsigned dport,
                                  size_t *plen)
{
    if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || f[23] != 17 ||
        ((f[20] & 0x3f) | f[21]))
        return NULL; /* not IPv4/UDP, or a fragment */
    size_t ihl = (size_t)(f[14] & 0xf) * 4;
    if (ihl < 20 || len < 14 + ihl + 8)
        return NULL;
    const uint8_t *u = f + 14 + ihl;
    if ((unsigned)((u[0] << 8) | u[1]) != sport || (unsigned)((u[2] << 8) | u[3]) != dport)
        return NULL;
    *plen = len - 14 - ihl - 8;
    return u + 8;
}

static int dhcp_type(const uint8_t *m, size_t mlen)
{
    if (mlen < BOOTP_MIN || be32(m + 236) != 0x63825363)
        return 0;
    for (size_t i = BOOTP_MIN; i < mlen;) {
        uint8_t opt = m[i];
        if (opt == 255)
            break;
        if (opt == 0) {
            i++;
            continue;
        }
        if (i + 2 > mlen || i + 2 + m[i + 1] > mlen)
            break;
        if (opt == 53 && m[i + 1] == 1)
            return m[i + 2];
        i += 2 + (size_t)m[i + 1];
    }
    return 0;
}

/* A DHCP server's answer seen on an unguarded port: an ACK binds its
 * address to the guarded port of the client's MAC, a NAK unbinds. */
static void snoop_server(struct vswitch *sw, const uint8_t *f, size_t len)
{
    size_t mlen;
    const uint8_t *m = udp_payload(f, len, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, &mlen);
    int type = m ? dhcp_type(m, mlen) : 0;
    if ((type != DHCPACK && type != DHCPNAK) || m[0] != 2 /* BOOTREPLY */ || m[1] != 1 || m[2] != 6)
        return;
    for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
        struct vsw_port *q = &sw->ports[i];
        if (q->used && q->cfg.ip_guard && !memcmp(q->cfg.mac, m + 28, 6)) {
            q->bound_ip = type == DHCPACK ? be32(m + 16) : 0;
            if (sw->on_bind)
                sw->on_bind(sw->opaque, i, q->bound_ip);
        }
    }
}

/* May the guarded port p send the untagged frame f?  Also drops its binding
 * when it releases the address. */
static bool ip_guard_pass(struct vswitch *sw, unsigned port, const uint8_t *f, size_t len)
{
    struct vsw_port *p = &sw->ports[port];
    unsigned type = (unsigned)(f[12] << 8 | f[13]);
    if (type == 0x0806) /* ARP: the sender's protocol address */
        return len >= 42 && (be32(f + 28) == 0 || (p->bound_ip && be32(f + 28) == p->bound_ip));
    if (type != 0x0800)
        return true;
    if (len < 34)
        return false;
    size_t mlen;
    if (udp_payload(f, len, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, &mlen))
        return false; /* a guest playing DHCP server */
    uint32_t src = be32(f + 26);
    const uint8_t *m = udp_payload(f, len, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, &mlen);
    if (m && src == 0)
        return true; /* DISCOVER/REQUEST before it has an address */
    if (!p->bound_ip || src != p->bound_ip)
        return false;
    if (m && dhcp_type(m, mlen) == DHCPRELEASE) {
        p->bound_ip = 0;
        if (sw->on_bind)
            sw->on_bind(sw->opaque, port, 0);
    }
    return true;
}

/* Sends the untagged frame (header dst,src then type/payload in body) out
 * of port in vlan, tagging it when the port carries vlan tagged. */
static void egress(struct vswitch *sw, unsigned port, uint16_t vlan, const uint8_t *frame,
                   size_t len)
{
    struct vsw_port *p = &sw->ports[port];
    if (!p->used || !p->up)
        return;
    const uint8_t *out = frame;
    size_t outlen = len;
    if (p->cfg.trunk && vlan != p->cfg.pvid) {
        if (!vlan_allowed(&p->cfg, vlan))
            return;
        /* Insert the 802.1Q tag after the addresses: TPID, then PCP 0, DEI 0, VID. */
        memmove(sw->scratch + 16, frame + 12, len - 12);
        memcpy(sw->scratch, frame, 12);
        sw->scratch[12] = ETH_P_8021Q >> 8;
        sw->scratch[13] = ETH_P_8021Q & 0xff;
        sw->scratch[14] = (uint8_t)(vlan >> 8);
        sw->scratch[15] = (uint8_t)vlan;
        out = sw->scratch;
        outlen = len + 4;
    } else if (!p->cfg.trunk && vlan != p->cfg.pvid) {
        return;
    }
    p->cnt.tx_frames++;
    p->cnt.tx_bytes += outlen;
    sw->output(sw->opaque, port, out, outlen);
}

void vsw_input(struct vswitch *sw, unsigned port, const void *data, size_t len, uint64_t now_ns)
{
    if (port >= VSW_MAX_PORTS || !sw->ports[port].used)
        return;
    struct vsw_port *p = &sw->ports[port];
    const uint8_t *f = data;
    if (len < VSW_MIN_FRAME) {
        p->cnt.drop_runt++;
        return;
    }
    if (len > VSW_MAX_FRAME) {
        p->cnt.drop_giant++;
        return;
    }
    if (!p->up) {
        p->cnt.drop_down++;
        return;
    }
    /* A multicast source address is never valid (802.1Q 8.6.3 would not learn it). */
    if ((f[6] & 1) || (p->cfg.anti_spoof && memcmp(f + 6, p->cfg.mac, 6))) {
        p->cnt.drop_spoof++;
        return;
    }
    /* Classify: the VLAN the frame belongs to, and the frame without its tag. */
    uint16_t vlan;
    size_t ulen = len;
    if (((f[12] << 8) | f[13]) == ETH_P_8021Q) {
        if (len < VSW_MIN_FRAME + 4) {
            p->cnt.drop_runt++;
            return;
        }
        vlan = (uint16_t)(((f[14] << 8) | f[15]) & 0xfff);
        /* VID 0 (priority tag) is the port's VLAN; 4095 is reserved. */
        if (vlan == 0)
            vlan = p->cfg.pvid;
        if (!vlan || vlan == 4095 ||
            (p->cfg.trunk ? vlan != p->cfg.pvid && !vlan_allowed(&p->cfg, vlan)
                          : vlan != p->cfg.pvid)) {
            p->cnt.drop_vlan++;
            return;
        }
        ulen = len - 4;
    } else {
        vlan = p->cfg.pvid;
        if (!vlan) {
            p->cnt.drop_vlan++;
            return;
        }
    }
    if (!rate_take(p, len, now_ns)) {
        p->cnt.drop_rate++;
        return;
    }
    p->cnt.rx_frames++;
    p->cnt.rx_bytes += len;
    if (len > p->cnt.rx_largest)
        p->cnt.rx_largest = len;
    if (sw->mirror)
        sw->mirror(sw->mirror_opaque, port, f, len);

    /* The untagged frame, kept apart from scratch where egress() tags. */
    uint8_t *body = sw->frame;
    memcpy(body, f, 12);
    memcpy(body + 12, f + (len - ulen) + 12, ulen - 12);

    if (p->cfg.ip_guard && !ip_guard_pass(sw, port, body, ulen)) {
        p->cnt.drop_spoof++;
        return;
    }
    if (!acl_pass(sw, port, vlan, body, ulen)) {
        p->cnt.drop_acl++;
        return;
    }
    if (!p->cfg.ip_guard)
        snoop_server(sw, body, ulen);
    learn(sw, f + 6, vlan, port, now_ns);
    int out = (f[0] & 1) ? -1 : vsw_lookup(sw, f, vlan, now_ns);
    bool split = p->cfg.split_horizon;
    if (out >= 0) {
        if ((unsigned)out != port && !(split && sw->ports[out].cfg.split_horizon))
            egress(sw, (unsigned)out, vlan, body, ulen);
        return; /* known on the port it came from: filtered */
    }
    for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
        if (i != port && !(split && sw->ports[i].cfg.split_horizon))
            egress(sw, i, vlan, body, ulen);
}
