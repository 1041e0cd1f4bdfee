/* SPDX-License-Identifier: MIT */
/*
 * The backend registry: each backend's name, its options (parsed into a
 * struct nic_spec by the value parsers here) and its open function.
 * Option text is split by the VMM's spec parser (src/vmm/vm_spec.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/net_backends.h"

static pthread_mutex_t private_lock = PTHREAD_MUTEX_INITIALIZER;

bool net_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) !=
        6)
        return false;
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    /* A multicast address cannot be a NIC's own. */
    return !(mac[0] & 1);
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool parse_addr(const char *s, size_t len, uint32_t *addr)
{
    char buf[32];
    if (len == 0) {
        *addr = 0;
        return true;
    }
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *addr = a.s_addr;
    return true;
}

/* "ADDR:PORT" with ADDR possibly empty. */
static bool parse_endpoint(const char *s, size_t len, uint32_t *addr, uint16_t *port)
{
    const char *colon = memchr(s, ':', len);
    if (!colon)
        return false;
    size_t alen = (size_t)(colon - s);
    return parse_addr(s, alen, addr) && parse_port(colon + 1, len - alen - 1, port);
}

bool net_parse_hostfwd(const char *text, struct net_hostfwd *fwd)
{
    memset(fwd, 0, sizeof(*fwd));
    const char *colon = strchr(text, ':');
    if (!colon)
        return false;
    size_t plen = (size_t)(colon - text);
    if (plen == 3 && !strncmp(text, "udp", 3))
        fwd->udp = true;
    else if (!(plen == 0 || (plen == 3 && !strncmp(text, "tcp", 3))))
        return false;
    const char *host = colon + 1;
    const char *dash = strchr(host, '-');
    if (!dash || strchr(dash + 1, '-'))
        return false;
    return parse_endpoint(host, (size_t)(dash - host), &fwd->host_addr, &fwd->host_port) &&
           parse_endpoint(dash + 1, strlen(dash + 1), &fwd->guest_addr, &fwd->guest_port);
}

void net_format_hostfwd(const struct net_hostfwd *fwd, char *out, size_t outlen)
{
    char host[INET_ADDRSTRLEN] = "", guest[INET_ADDRSTRLEN] = "";
    struct in_addr h = {.s_addr = fwd->host_addr}, g = {.s_addr = fwd->guest_addr};
    if (fwd->host_addr)
        inet_ntop(AF_INET, &h, host, sizeof(host));
    if (fwd->guest_addr)
        inet_ntop(AF_INET, &g, guest, sizeof(guest));
    snprintf(out, outlen, "%s:%s:%u-%s:%u", fwd->udp ? "udp" : "tcp", host, fwd->host_port, guest,
             fwd->guest_port);
}

void net_default_mac(uint8_t mac[6], unsigned index)
{
    static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(base[5] + index);
}

/* ---- the options of each backend ---- */

static bool mac_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    if (!net_parse_mac(v, nic->mac)) {
        snprintf(why, whylen,
                 "bad mac '%.40s' (expected 6 hex bytes like 52:54:00:12:34:56, not multicast)", v);
        return false;
    }
    nic->mac_given = true;
    return true;
}

static bool mac_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    const uint8_t *m = nic->mac;
    if (i > 0)
        return false;
    snprintf(out, outlen, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return true;
}

static bool hostfwd_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    struct net_hostfwd fwd;
    if (!net_parse_hostfwd(v, &fwd)) {
        snprintf(
            why, whylen,
            "bad hostfwd '%.60s' (expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)",
            v);
        return false;
    }
    if (nic->user.nhostfwd == NET_MAX_HOSTFWD) {
        snprintf(why, whylen, "more than %d hostfwd rules", NET_MAX_HOSTFWD);
        return false;
    }
    nic->user.hostfwd[nic->user.nhostfwd++] = fwd;
    return true;
}

static bool hostfwd_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i >= nic->user.nhostfwd)
        return false;
    net_format_hostfwd(&nic->user.hostfwd[i], out, outlen);
    return true;
}

static bool user_net_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    char addr[32];
    unsigned bits = 24;
    struct in_addr a;
    const char *slash = strchr(v, '/');
    size_t alen = slash ? (size_t)(slash - v) : strlen(v);
    char *end = NULL;
    if (slash)
        bits = (unsigned)strtoul(slash + 1, &end, 10);
    if (alen >= sizeof(addr) || (slash && (end == slash + 1 || *end)) || bits < 8 || bits > 28) {
        snprintf(why, whylen, "bad net '%.40s' (expected A.B.C.D/N, N 8..28)", v);
        return false;
    }
    memcpy(addr, v, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, &a) != 1) {
        snprintf(why, whylen, "bad net '%.40s' (expected A.B.C.D/N)", v);
        return false;
    }
    nic->user.net_mask = 0xffffffffu << (32 - bits);
    nic->user.net_addr = ntohl(a.s_addr) & nic->user.net_mask;
    return true;
}

static bool user_net_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->user.net_mask)
        return false;
    struct in_addr a = {.s_addr = htonl(nic->user.net_addr)};
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, text, sizeof(text));
    snprintf(out, outlen, "%s/%d", text, 32 - __builtin_ctz(nic->user.net_mask));
    return true;
}

static bool ifname_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    if (!*v || strlen(v) > NET_IFNAME_MAX) {
        snprintf(why, whylen, "ifname must be 1 to %d characters", NET_IFNAME_MAX);
        return false;
    }
    memcpy(nic->tap.ifname, v, strlen(v) + 1);
    return true;
}

static bool ifname_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->tap.ifname[0])
        return false;
    snprintf(out, outlen, "%s", nic->tap.ifname);
    return true;
}

static bool switch_name_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    size_t n = strlen(v);
    bool ok = n > 0 && n <= NET_SWITCH_NAME_MAX && v[0] != '.' && v[0] != '-';
    for (const char *p = v; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_' || *p == '.';
    if (!ok) {
        snprintf(why, whylen, "bad switch name '%.40s' (letters, digits, '-', '_', '.')", v);
        return false;
    }
    memcpy(nic->sw.name, v, n + 1);
    return true;
}

static bool switch_name_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->sw.name[0])
        return false;
    snprintf(out, outlen, "%s", nic->sw.name);
    return true;
}

static bool socket_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    if (!*v || strlen(v) > NET_SWITCH_SOCKET_MAX) {
        snprintf(why, whylen, "socket must be a path of 1 to %d characters", NET_SWITCH_SOCKET_MAX);
        return false;
    }
    memcpy(nic->sw.socket, v, strlen(v) + 1);
    return true;
}

static bool socket_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->sw.socket[0])
        return false;
    snprintf(out, outlen, "%s", nic->sw.socket);
    return true;
}

static bool parse_vid(const char *v, uint16_t *vid)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || n < 1 || n > 4094)
        return false;
    *vid = (uint16_t)n;
    return true;
}

static bool vlan_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    if (!parse_vid(v, &nic->sw.vlan)) {
        snprintf(why, whylen, "bad vlan '%.20s' (1 to 4094)", v);
        return false;
    }
    return true;
}

static bool vlan_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->sw.vlan)
        return false;
    snprintf(out, outlen, "%u", nic->sw.vlan);
    return true;
}

static bool trunk_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    uint16_t vid;
    if (!parse_vid(v, &vid)) {
        snprintf(why, whylen, "bad trunk VLAN '%.20s' (1 to 4094)", v);
        return false;
    }
    if (nic->sw.ntrunk == NET_SWITCH_MAX_TRUNK) {
        snprintf(why, whylen, "a trunk carries at most %d VLANs", NET_SWITCH_MAX_TRUNK);
        return false;
    }
    nic->sw.trunk[nic->sw.ntrunk++] = vid;
    return true;
}

static bool trunk_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i >= nic->sw.ntrunk)
        return false;
    snprintf(out, outlen, "%u", nic->sw.trunk[i]);
    return true;
}

/* Bytes per second with an optional K/M/G (powers of 1000), or 0. */
static uint64_t parse_rate(const char *v, char *why, size_t whylen)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1000, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1000000, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1000000000, end++;
    if (!*v || *end || n == 0 || n > (1ull << 40) / mult) {
        snprintf(why, whylen, "bad rate '%.20s' (bytes per second, e.g. 10M)", v);
        return 0;
    }
    return n * mult;
}

bool net_rate_text(const char *v, uint64_t *rate, char *why, size_t whylen)
{
    if (!*v || !strcmp(v, "0") || !strcmp(v, "none")) {
        *rate = 0;
        return true;
    }
    return (*rate = parse_rate(v, why, whylen)) != 0;
}

static bool format_rate(uint64_t rate, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !rate)
        return false;
    snprintf(out, outlen, "%llu", (unsigned long long)rate);
    return true;
}

/* The switch's rate= is the port's ingress limit, enforced by the switch. */
static bool rate_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    return (nic->sw.rate = parse_rate(v, why, whylen)) != 0;
}

static bool rate_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    return format_rate(nic->sw.rate, i, out, outlen);
}

/* user and tap: the NIC's own cap, both directions (net_rate.c). */
static bool nic_rate_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    return (nic->rate = parse_rate(v, why, whylen)) != 0;
}

static bool nic_rate_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    return format_rate(nic->rate, i, out, outlen);
}

static bool switch_check(const struct nic_spec *nic, char *why, size_t whylen)
{
    if (!nic->sw.name[0] && !nic->sw.socket[0]) {
        snprintf(why, whylen, "switch needs a network: switch=NAME");
        return false;
    }
    if (nic->sw.vlan && nic->sw.ntrunk) {
        snprintf(why, whylen,
                 "vlan= (an access port) and trunk= (a trunk port) exclude each other");
        return false;
    }
    return true;
}

static bool restrict_parse(struct nic_spec *nic, const char *v, char *why, size_t whylen)
{
    if (!strcmp(v, "on") || !strcmp(v, "off")) {
        nic->user.restricted = !strcmp(v, "on");
        return true;
    }
    snprintf(why, whylen, "restrict must be on or off");
    return false;
}

static bool restrict_format(const struct nic_spec *nic, unsigned i, char *out, size_t outlen)
{
    if (i > 0 || !nic->user.restricted)
        return false;
    snprintf(out, outlen, "on");
    return true;
}

static bool tap_check(const struct nic_spec *nic, char *why, size_t whylen)
{
    if (nic->tap.ifname[0])
        return true;
    snprintf(why, whylen, "tap needs ifname=NAME");
    return false;
}

static const struct net_option common_options[] = {
    {"mac", false, mac_parse, mac_format},
    {NULL, false, NULL, NULL},
};

static const struct net_option user_options[] = {
    {"hostfwd", true, hostfwd_parse, hostfwd_format},
    {"net", false, user_net_parse, user_net_format},
    {"restrict", false, restrict_parse, restrict_format},
    {"rate", false, nic_rate_parse, nic_rate_format},
    {NULL, false, NULL, NULL},
};

static const struct net_option switch_options[] = {
    {"switch", false, switch_name_parse, switch_name_format},
    {"socket", false, socket_parse, socket_format},
    {"vlan", false, vlan_parse, vlan_format},
    {"trunk", true, trunk_parse, trunk_format},
    {"rate", false, rate_parse, rate_format},
    {NULL, false, NULL, NULL},
};

static const struct net_option tap_options[] = {
    {"ifname", false, ifname_parse, ifname_format},
    {"rate", false, nic_rate_parse, nic_rate_format},
    {NULL, false, NULL, NULL},
};

/* The registry.  A new backend (a switch port) is one more line. */
static const struct net_backend_type backends[] = {
    {"user", user_options, NULL, net_user_open},
    {"tap", tap_options, tap_check, net_tap_open},
    {"switch", switch_options, switch_check, net_switch_open},
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

const struct net_backend_type *net_backend_find(const char *name)
{
    for (size_t i = 0; name && i < NBACKENDS; i++)
        if (!strcmp(backends[i].name, name))
            return &backends[i];
    return NULL;
}

void net_backend_names(char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NBACKENDS && used < outlen; i++)
        used +=
            (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", backends[i].name);
}

const struct net_option *net_option_at(const struct net_backend_type *t, unsigned i)
{
    unsigned ncommon = sizeof(common_options) / sizeof(common_options[0]) - 1;
    if (i < ncommon)
        return &common_options[i];
    for (const struct net_option *o = t->options; o->key; o++)
        if (i-- == ncommon)
            return o;
    return NULL;
}

const struct net_option *net_option_find(const struct net_backend_type *t, const char *key)
{
    const struct net_option *o;
    for (unsigned i = 0; (o = net_option_at(t, i)); i++)
        if (!strcmp(o->key, key))
            return o;
    return NULL;
}

struct net_backend *net_backend_open(const struct nic_spec *nic, pthread_mutex_t *io_lock,
                                     char *err, size_t errlen)
{
    if (!io_lock)
        io_lock = &private_lock;
    if (!nic->backend) {
        snprintf(err, errlen, "no backend given");
        return NULL;
    }
    if (nic->backend->check && !nic->backend->check(nic, err, errlen))
        return NULL;
    struct net_backend *nb = nic->backend->open(nic, io_lock, err, errlen);
    if (nb)
        memcpy(nb->mac, nic->mac, 6);
    return nb;
}

void net_backend_close(struct net_backend *nb)
{
    if (nb && nb->ops->close)
        nb->ops->close(nb);
}

void net_meta_pack(const struct net_meta *m, uint8_t out[NET_META_LEN])
{
    const uint16_t v[5] = {m->hdr_len, m->gso_size, m->csum_start, m->csum_offset, 1};
    out[0] = m->flags;
    out[1] = m->gso_type;
    for (int i = 0; i < 5; i++) {
        out[2 + 2 * i] = (uint8_t)v[i];
        out[3 + 2 * i] = (uint8_t)(v[i] >> 8);
    }
}

void net_meta_unpack(const uint8_t in[NET_META_LEN], struct net_meta *m)
{
    m->flags = in[0];
    m->gso_type = in[1];
    m->hdr_len = (uint16_t)(in[2] | in[3] << 8);
    m->gso_size = (uint16_t)(in[4] | in[5] << 8);
    m->csum_start = (uint16_t)(in[6] | in[7] << 8);
    m->csum_offset = (uint16_t)(in[8] | in[9] << 8);
}
