/* SPDX-License-Identifier: MIT */
/* The store of virtual networks: net.json, and starting a switch. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netd/netd.h"
#include "util/json_file.h"

#define CONFIG_MAX (256 * 1024)

bool netd_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NET_SWITCH_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

bool netd_tap_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

bool netd_dir(const char *store, const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/nets/%s", store, name);
    return n > 0 && (size_t)n < outlen;
}

bool netd_default_store(char *out, size_t outlen)
{
    const char *s = getenv("WIRT_STORE"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (s && *s)
        n = snprintf(out, outlen, "%s", s);
    else if (xdg && *xdg)
        n = snprintf(out, outlen, "%s/wirt", xdg);
    else if (home && *home)
        n = snprintf(out, outlen, "%s/.local/share/wirt", home);
    else
        return false;
    return n > 0 && (size_t)n < outlen;
}

static bool parse_endpoint(const char *text, struct netd_endpoint *ep, uint16_t def_port)
{
    char host[64];
    const char *colon = strchr(text, ':');
    size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
    if (hlen >= sizeof(host))
        return false;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    struct in_addr a;
    if (hlen == 0)
        a.s_addr = 0;
    else if (inet_pton(AF_INET, host, &a) != 1)
        return false;
    ep->addr = a.s_addr;
    ep->port = def_port;
    if (colon) {
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || p == 0 || p > 65535)
            return false;
        ep->port = (uint16_t)p;
    }
    return true;
}

bool netd_parse_vxlan(const char *text, struct netd_vxlan *vx, char *why, size_t whylen)
{
    memset(vx, 0, sizeof(*vx));
    vx->local.port = 4789;
    bool have_vni = false, have_remote = false;
    char copy[256];
    if (strlen(text) >= sizeof(copy)) {
        snprintf(why, whylen, "too long");
        return false;
    }
    strcpy(copy, text);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(why, whylen, "'%.40s' is not KEY=VALUE", tok);
            return false;
        }
        *eq++ = '\0';
        if (!strcmp(tok, "vni")) {
            char *end;
            unsigned long v = strtoul(eq, &end, 10);
            if (!*eq || *end || v > 0xffffff) {
                snprintf(why, whylen, "vni '%.20s' is not 0 to 16777215", eq);
                return false;
            }
            vx->vni = (uint32_t)v;
            have_vni = true;
        } else if (!strcmp(tok, "remote")) {
            if (!parse_endpoint(eq, &vx->remote, 4789) || !vx->remote.addr) {
                snprintf(why, whylen, "remote '%.40s' is not ADDR[:PORT] (IPv4)", eq);
                return false;
            }
            have_remote = true;
        } else if (!strcmp(tok, "local")) {
            if (!parse_endpoint(eq, &vx->local, 4789)) {
                snprintf(why, whylen, "local '%.40s' is not ADDR[:PORT] (IPv4)", eq);
                return false;
            }
        } else {
            snprintf(why, whylen, "unknown key '%.20s' (vni, remote, local)", tok);
            return false;
        }
    }
    if (!have_vni || !have_remote) {
        snprintf(why, whylen, "needs vni=N and remote=ADDR[:PORT]");
        return false;
    }
    return true;
}

void netd_format_vxlan(const struct netd_vxlan *vx, char *out, size_t outlen)
{
    char r[INET_ADDRSTRLEN], l[INET_ADDRSTRLEN] = "";
    struct in_addr ra = {.s_addr = vx->remote.addr}, la = {.s_addr = vx->local.addr};
    inet_ntop(AF_INET, &ra, r, sizeof(r));
    if (vx->local.addr)
        inet_ntop(AF_INET, &la, l, sizeof(l));
    snprintf(out, outlen, "vni=%u,remote=%s:%u,local=%s:%u", vx->vni, r, vx->remote.port, l,
             vx->local.port);
}

static json_object *string_list(const char (*items)[NETD_RULE_MAX], unsigned n)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(items[i]));
    return a;
}

bool netd_config_save(const char *dir, const struct netd_config *cfg, char *err, size_t errlen)
{
    json_object *o = json_object_new_object();
    char text[128];
    json_object_object_add(o, "name", json_object_new_string(cfg->name));
    struct in_addr a = {.s_addr = htonl(cfg->net_addr)};
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, addr, sizeof(addr));
    snprintf(text, sizeof(text), "%s/%d", addr, 32 - __builtin_ctz(cfg->net_mask));
    json_object_object_add(o, "subnet", json_object_new_string(text));
    json_object_object_add(o, "nat", json_object_new_boolean(cfg->nat));
    json_object_object_add(o, "dhcp", json_object_new_boolean(cfg->dhcp));
    json_object_object_add(o, "ip-guard", json_object_new_boolean(cfg->ip_guard));
    if (cfg->tap[0]) {
        json_object_object_add(o, "tap", json_object_new_string(cfg->tap));
        json_object_object_add(o, "tap-vlan", json_object_new_int(cfg->tap_vlan));
    }
    json_object *fw = json_object_new_array();
    for (unsigned i = 0; i < cfg->nhostfwd; i++) {
        net_format_hostfwd(&cfg->hostfwd[i], text, sizeof(text));
        json_object_array_add(fw, json_object_new_string(text));
    }
    json_object_object_add(o, "hostfwd", fw);
    json_object *vx = json_object_new_array();
    for (unsigned i = 0; i < cfg->nvxlan; i++) {
        netd_format_vxlan(&cfg->vxlan[i], text, sizeof(text));
        json_object_array_add(vx, json_object_new_string(text));
    }
    json_object_object_add(o, "vxlan", vx);
    json_object_object_add(o, "acl", string_list(cfg->acl, cfg->nacl));
    json_object *sm = json_object_new_array();
    for (unsigned i = 0; i < cfg->nstatic; i++)
        json_object_array_add(sm, json_object_new_string(cfg->static_macs[i]));
    json_object_object_add(o, "static-macs", sm);
    json_object_object_add(o, "mac-table", json_object_new_int((int)cfg->mac_table));
    json_object_object_add(o, "created", json_object_new_string(cfg->created));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_CONFIG);
    bool ok = json_write_file(path, o, err, errlen);
    json_object_put(o);
    return ok;
}

static bool subnet_parse(const char *text, uint32_t *addr, uint32_t *mask)
{
    char host[32];
    const char *slash = strchr(text, '/');
    if (!slash || (size_t)(slash - text) >= sizeof(host))
        return false;
    memcpy(host, text, (size_t)(slash - text));
    host[slash - text] = '\0';
    char *end;
    unsigned long bits = strtoul(slash + 1, &end, 10);
    struct in_addr a;
    if (*end || bits < 8 || bits > 28 || inet_pton(AF_INET, host, &a) != 1)
        return false;
    *mask = 0xffffffffu << (32 - bits);
    *addr = ntohl(a.s_addr) & *mask;
    return true;
}

/* A string list into items (each < size), at most max. */
static bool get_list(json_object *v, const char *key, char *items, size_t size, unsigned max,
                     unsigned *n, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max) {
        snprintf(err, errlen, "\"%s\" must be a list of at most %u strings", key, max);
        return false;
    }
    *n = 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string) ||
            strlen(json_object_get_string(s)) >= size) {
            snprintf(err, errlen, "\"%s\"[%zu] must be a string of under %zu characters", key, i,
                     size);
            return false;
        }
        strcpy(items + (*n)++ * size, json_object_get_string(s));
    }
    return true;
}

bool netd_config_load(const char *dir, struct netd_config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX + 32], why[256];
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_CONFIG);
    json_object *o = json_read_file(path, CONFIG_MAX, 8, err, errlen);
    if (!o)
        return false;
    memset(cfg, 0, sizeof(*cfg));
    cfg->net_addr = 0x0a0a0000; /* 10.10.0.0/24 */
    cfg->net_mask = 0xffffff00;
    cfg->mac_table = 4096;
    cfg->ip_guard = true;
    cfg->tap_vlan = 1;
    bool ok = json_object_is_type(o, json_type_object);
    if (!ok)
        snprintf(why, sizeof(why), "not a JSON object");
    json_object_object_foreach(ok ? o : NULL, key, v)
    {
        if (!ok)
            break;
        if (!strcmp(key, "name")) {
            ok = json_object_is_type(v, json_type_string) &&
                 netd_name_valid(json_object_get_string(v));
            if (ok)
                snprintf(cfg->name, sizeof(cfg->name), "%s", json_object_get_string(v));
            else
                snprintf(why, sizeof(why), "\"name\" is not a valid network name");
        } else if (!strcmp(key, "subnet")) {
            ok = json_object_is_type(v, json_type_string) &&
                 subnet_parse(json_object_get_string(v), &cfg->net_addr, &cfg->net_mask);
            if (!ok)
                snprintf(why, sizeof(why), "\"subnet\" is not A.B.C.D/N (N 8..28)");
        } else if (!strcmp(key, "nat") || !strcmp(key, "dhcp")) {
            ok = json_object_is_type(v, json_type_boolean);
            if (ok)
                *(key[0] == 'n' ? &cfg->nat : &cfg->dhcp) = json_object_get_boolean(v);
            else
                snprintf(why, sizeof(why), "\"%s\" must be true or false", key);
        } else if (!strcmp(key, "ip-guard")) {
            ok = json_object_is_type(v, json_type_boolean);
            if (ok)
                cfg->ip_guard = json_object_get_boolean(v);
            else
                snprintf(why, sizeof(why), "\"ip-guard\" must be true or false");
        } else if (!strcmp(key, "tap")) {
            ok = json_object_is_type(v, json_type_string) &&
                 netd_tap_name_valid(json_object_get_string(v));
            if (ok)
                snprintf(cfg->tap, sizeof(cfg->tap), "%s", json_object_get_string(v));
            else
                snprintf(why, sizeof(why), "\"tap\" is not an interface name");
        } else if (!strcmp(key, "tap-vlan")) {
            ok = json_object_is_type(v, json_type_int) && json_object_get_int(v) >= 1 &&
                 json_object_get_int(v) <= 4094;
            if (ok)
                cfg->tap_vlan = (uint16_t)json_object_get_int(v);
            else
                snprintf(why, sizeof(why), "\"tap-vlan\" must be 1 to 4094");
        } else if (!strcmp(key, "hostfwd")) {
            char items[NET_MAX_HOSTFWD][NETD_RULE_MAX];
            unsigned n = 0;
            ok = get_list(v, key, &items[0][0], NETD_RULE_MAX, NET_MAX_HOSTFWD, &n, why,
                          sizeof(why));
            for (unsigned i = 0; ok && i < n; i++) {
                ok = net_parse_hostfwd(items[i], &cfg->hostfwd[i]);
                if (!ok)
                    snprintf(why, sizeof(why), "\"hostfwd\"[%u]: '%.60s' is not a rule", i,
                             items[i]);
            }
            cfg->nhostfwd = n;
        } else if (!strcmp(key, "vxlan")) {
            char items[NETD_MAX_VXLAN][NETD_RULE_MAX];
            unsigned n = 0;
            ok =
                get_list(v, key, &items[0][0], NETD_RULE_MAX, NETD_MAX_VXLAN, &n, why, sizeof(why));
            for (unsigned i = 0; ok && i < n; i++) {
                char w[128];
                ok = netd_parse_vxlan(items[i], &cfg->vxlan[i], w, sizeof(w));
                if (!ok)
                    snprintf(why, sizeof(why), "\"vxlan\"[%u]: %s", i, w);
            }
            cfg->nvxlan = n;
        } else if (!strcmp(key, "acl")) {
            ok = get_list(v, key, &cfg->acl[0][0], NETD_RULE_MAX, NETD_MAX_ACL, &cfg->nacl, why,
                          sizeof(why));
        } else if (!strcmp(key, "static-macs")) {
            ok = get_list(v, key, &cfg->static_macs[0][0], sizeof(cfg->static_macs[0]),
                          NETD_MAX_STATIC, &cfg->nstatic, why, sizeof(why));
        } else if (!strcmp(key, "mac-table")) {
            ok = json_object_is_type(v, json_type_int) && json_object_get_int(v) >= 64 &&
                 json_object_get_int(v) <= 1 << 20;
            if (ok)
                cfg->mac_table = (unsigned)json_object_get_int(v);
            else
                snprintf(why, sizeof(why), "\"mac-table\" must be 64 to 1048576");
        } else if (!strcmp(key, "created")) {
            ok = json_object_is_type(v, json_type_string);
            if (ok)
                snprintf(cfg->created, sizeof(cfg->created), "%s", json_object_get_string(v));
            else
                snprintf(why, sizeof(why), "\"created\" must be a string");
        } else {
            ok = false;
            snprintf(why, sizeof(why), "unknown key \"%.40s\"", key);
        }
    }
    json_object_put(o);
    if (ok && !cfg->name[0]) {
        ok = false;
        snprintf(why, sizeof(why), "\"name\" is missing");
    }
    if (!ok)
        snprintf(err, errlen, "%s: %s", path, why);
    return ok;
}

static int lock_try(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool netd_running(const char *dir, long *pid)
{
    if (pid)
        *pid = -1;
    int fd = lock_try(dir);
    if (fd >= 0) {
        close(fd);
        return false;
    }
    if (pid) {
        char path[PATH_MAX + 32], buf[32] = "";
        snprintf(path, sizeof(path), "%s/%s", dir, NETD_PIDFILE);
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(buf, sizeof(buf), f))
                *pid = strtol(buf, NULL, 10);
            fclose(f);
        }
    }
    return true;
}

/* The switch's own error line ("wirt net: switch DIR: why") written to
 * its log after offset from, as "why" in err; false if there is none. */
static bool start_failure(const char *logpath, off_t from, char *err, size_t errlen)
{
    char buf[4096];
    int fd = open(logpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, from) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *line = strstr(buf, "wirt net: switch ");
    const char *why = line ? strstr(line + 17, ": ") : NULL;
    if (!why)
        return false;
    why += 2;
    size_t len = strcspn(why, "\n");
    snprintf(err, errlen, "%.*s", (int)len, why);
    return true;
}

bool netd_start(const char *dir, char *err, size_t errlen)
{
    if (netd_running(dir, NULL))
        return true;
    struct stat st;
    char cfgpath[PATH_MAX + 32];
    snprintf(cfgpath, sizeof(cfgpath), "%s/%s", dir, NETD_CONFIG);
    if (stat(cfgpath, &st) != 0) {
        snprintf(err, errlen, "no network at %s (wirt net create)", dir);
        return false;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(err, errlen, "cannot find the wirt executable: %s", strerror(errno));
        return false;
    }
    exe[n] = '\0';
    char logpath[PATH_MAX + 32];
    snprintf(logpath, sizeof(logpath), "%s/%s", dir, NETD_LOG);
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (logfd < 0) {
        snprintf(err, errlen, "%s: %s", logpath, strerror(errno));
        return false;
    }
    struct stat lst;
    off_t log_start = fstat(logfd, &lst) == 0 ? lst.st_size : 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        /* The switch: its own session, stdio to its log; it outlives us. */
        setsid();
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
            _exit(127);
        /* Nothing of the caller's: `wirt vm start` holds the VM's lock on
         * an inherited fd, which a switch must not keep alive. */
        close_range(3, ~0u, 0);
        /* Detach fully: the grandchild is the switch, reparented to init. */
        if (fork() != 0)
            _exit(0);
        execl(exe, "wirt", "net", "__switch", dir, (char *)NULL);
        _exit(127);
    }
    close(logfd);
    int status;
    waitpid(pid, &status, 0);
    /* Ready when its ports socket answers. */
    char sock[PATH_MAX + 32];
    snprintf(sock, sizeof(sock), "%s/%s", dir, NETD_CONTROL);
    for (int i = 0; i < 100; i++) {
        if (netd_running(dir, NULL) && access(sock, F_OK) == 0)
            return true;
        /* A switch that gave up said why in its log: pass that line on. */
        if (start_failure(logpath, log_start, err, errlen))
            return false;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(err, errlen, "the switch did not start; see %s", logpath);
    return false;
}

bool netd_attach_nic(const char *store, struct nic_spec *nic, const char *seed, unsigned index,
                     char *err, size_t errlen)
{
    if (strcmp(nic->backend ? nic->backend->name : "", "switch") || nic->sw.socket[0])
        return true;
    if (!nic->mac_given) {
        /* FNV-1a of seed and index; random without a seed.  52:54:00 is
         * the prefix QEMU's and our other NICs use. */
        uint32_t h = 2166136261u;
        if (seed) {
            for (const char *p = seed; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
            h = (h ^ index) * 16777619u;
        } else if (getentropy(&h, sizeof(h)) != 0) {
            h = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
        }
        uint8_t mac[6] = {0x52, 0x54, 0x00, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
        memcpy(nic->mac, mac, 6);
        nic->mac_given = true;
    }
    char dir[PATH_MAX];
    if (!netd_dir(store, nic->sw.name, dir, sizeof(dir))) {
        snprintf(err, errlen, "switch=%s: path too long", nic->sw.name);
        return false;
    }
    char cfg[PATH_MAX + 32];
    snprintf(cfg, sizeof(cfg), "%s/%s", dir, NETD_CONFIG);
    if (access(cfg, F_OK) != 0) {
        snprintf(err, errlen, "switch=%s: no such network in %s (wirt net create %s)", nic->sw.name,
                 store, nic->sw.name);
        return false;
    }
    int n = snprintf(nic->sw.socket, sizeof(nic->sw.socket), "%s/%s", dir, NETD_PORTS_SOCK);
    if (n < 0 || (size_t)n >= sizeof(nic->sw.socket)) {
        snprintf(err, errlen, "switch=%s: the socket path %s/%s is too long for a Unix socket",
                 nic->sw.name, dir, NETD_PORTS_SOCK);
        return false;
    }
    char why[512];
    if (!netd_start(dir, why, sizeof(why))) {
        snprintf(err, errlen, "switch=%s: %s", nic->sw.name, why);
        return false;
    }
    return true;
}
