/* SPDX-License-Identifier: MIT */
/*
 * --net option parsing and the backend registry.
 *
 *   user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,net=A.B.C.D/N][,mac=XX:..]
 *   tap,ifname=NAME[,mac=XX:..]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/net_backends.h"

static pthread_mutex_t private_lock = PTHREAD_MUTEX_INITIALIZER;

static bool parse_mac(const char *s, uint8_t mac[6])
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

struct net_backend *net_backend_open(const char *spec, unsigned index, pthread_mutex_t *io_lock,
                                     char *err, size_t errlen)
{
    if (!io_lock)
        io_lock = &private_lock;
    if (!spec || !*spec) {
        snprintf(err, errlen, "--net: empty option (expected user[,...] or tap,ifname=NAME)");
        return NULL;
    }
    char *copy = strdup(spec);
    if (!copy) {
        snprintf(err, errlen, "--net %s: out of memory", spec);
        return NULL;
    }
    struct net_opts o = {.spec = spec,
                         .mac = {0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index)}};
    struct net_backend *nb = NULL;
    char *save = NULL;
    char *type = strtok_r(copy, ",", &save);
    if (!type || (strcmp(type, "user") && strcmp(type, "tap"))) {
        snprintf(err, errlen, "--net %s: unknown backend '%s' (expected user or tap)", spec,
                 type ? type : "");
        goto out;
    }
    bool is_user = !strcmp(type, "user");
    for (char *tok = strtok_r(NULL, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "--net %s: '%s' is not KEY=VALUE", spec, tok);
            goto out;
        }
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        if (!strcmp(key, "mac")) {
            if (!parse_mac(val, o.mac)) {
                snprintf(err, errlen,
                         "--net %s: bad mac '%s' (expected 6 hex bytes like 52:54:00:12:34:56, not "
                         "multicast)",
                         spec, val);
                goto out;
            }
        } else if (is_user && !strcmp(key, "hostfwd")) {
            struct net_hostfwd fwd;
            if (!net_parse_hostfwd(val, &fwd)) {
                snprintf(err, errlen,
                         "--net %s: bad hostfwd '%s' (expected "
                         "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)",
                         spec, val);
                goto out;
            }
            if (o.nhostfwd == NET_MAX_HOSTFWD) {
                snprintf(err, errlen, "--net %s: more than %d hostfwd rules", spec,
                         NET_MAX_HOSTFWD);
                goto out;
            }
            o.hostfwd[o.nhostfwd++] = val;
        } else if (is_user && !strcmp(key, "net")) {
            char addr[32];
            unsigned bits = 24;
            struct in_addr a;
            const char *slash = strchr(val, '/');
            size_t alen = slash ? (size_t)(slash - val) : strlen(val);
            char *end = NULL;
            if (slash)
                bits = (unsigned)strtoul(slash + 1, &end, 10);
            if (alen >= sizeof(addr) || (slash && (end == slash + 1 || *end)) || bits < 8 ||
                bits > 28) {
                snprintf(err, errlen, "--net %s: bad net '%s' (expected A.B.C.D/N, N 8..28)", spec,
                         val);
                goto out;
            }
            memcpy(addr, val, alen);
            addr[alen] = '\0';
            if (inet_pton(AF_INET, addr, &a) != 1) {
                snprintf(err, errlen, "--net %s: bad net '%s' (expected A.B.C.D/N)", spec, val);
                goto out;
            }
            o.net_mask = bits ? 0xffffffffu << (32 - bits) : 0;
            o.net_addr = ntohl(a.s_addr) & o.net_mask;
        } else if (!is_user && !strcmp(key, "ifname")) {
            if (!*val || strlen(val) >= 16) {
                snprintf(err, errlen, "--net %s: ifname must be 1 to 15 characters", spec);
                goto out;
            }
            o.ifname = val;
        } else {
            snprintf(err, errlen, "--net %s: unknown option '%s' for the %s backend", spec, key,
                     type);
            goto out;
        }
    }
    if (is_user) {
        nb = net_user_open(&o, io_lock, err, errlen);
    } else {
        if (!o.ifname) {
            snprintf(err, errlen, "--net %s: tap needs ifname=NAME", spec);
            goto out;
        }
        nb = net_tap_open(&o, io_lock, err, errlen);
    }
    if (nb)
        memcpy(nb->mac, o.mac, 6);
out:
    free(copy);
    return nb;
}

void net_backend_close(struct net_backend *nb)
{
    if (nb && nb->ops->close)
        nb->ops->close(nb);
}
