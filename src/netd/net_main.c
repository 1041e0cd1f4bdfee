/* SPDX-License-Identifier: MIT */
/* `wirt net`: create, inspect and program virtual switches. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "net/vswitch.h"
#include "netd/netd.h"
#include "util/json_file.h"

static const char usage_text[] =
    "usage: wirt net [--store DIR] VERB ...\n"
    "  create NAME [--subnet A.B.C.D/N] [--nat] [--dhcp] [--hostfwd RULE]...\n"
    "              [--vxlan vni=N,remote=ADDR[:PORT][,local=ADDR[:PORT]]]... [--mac-table N]\n"
    "              [--tap IFNAME[,vlan=V]] [--no-ip-guard]\n"
    "  list [--json]            info NAME [--json]        delete NAME\n"
    "  start NAME               stop NAME\n"
    "  stats NAME [--json]      per-port counters\n"
    "  dump NAME [--json]       the MAC table and the ACL rules\n"
    "  set NAME KEY=VALUE...    acl-add=RULE, acl-del=N, static-mac=MAC,port=N[,vlan=V],\n"
    "                           port-up=N, port-down=N, mirror=PORT|all|off[,file=NAME],\n"
    "                           vxlan=SPEC, hostfwd=RULE (at the next start)\n"
    "VMs join with --net switch=NAME[,vlan=V|,trunk=V1,V2...][,rate=BYTES/s][,mac=MAC];\n"
    "the switch starts with the first VM that joins.  See docs/networks.md.\n";

static char store[PATH_MAX];

static int die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wirt net: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wirt net: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see wirt net --help)\n", stderr);
    va_end(ap);
    return 2;
}

/* The network's directory, which must exist; false after saying why. */
static bool net_dir(const char *name, char *dir, size_t len)
{
    if (!netd_name_valid(name)) {
        usage_error("'%.70s' is not a valid network name (letters, digits, '-', '_', '.')", name);
        return false;
    }
    if (!netd_dir(store, name, dir, len)) {
        die("%s: path too long", name);
        return false;
    }
    char cfg[PATH_MAX + 16];
    snprintf(cfg, sizeof(cfg), "%s/%s", dir, NETD_CONFIG);
    if (access(cfg, F_OK) != 0) {
        die("no network named '%s' (see wirt net list)", name);
        return false;
    }
    return true;
}

/* One request to a running switch; the "return" value (the caller puts
 * the result) or NULL with why. */
static json_object *control(const char *dir, const char *cmd, json_object *args, char *why,
                            size_t whylen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, NETD_CONTROL);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(why, whylen, "the switch is not running (wirt net start)");
        if (fd >= 0)
            close(fd);
        json_object_put(args);
        return NULL;
    }
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    json_object *req = json_object_new_object();
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", args);
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    bool sent = send(fd, text, strlen(text), MSG_NOSIGNAL) >= 0 && send(fd, "\n", 1, MSG_NOSIGNAL);
    json_object_put(req);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (sent && buf) {
        if (len + 4096 > cap) {
            if (cap >= (16u << 20))
                break;
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    close(fd);
    json_object *reply = buf && len ? (buf[len] = '\0', json_tokener_parse(buf)) : NULL;
    free(buf);
    json_object *ret = NULL, *err, *desc;
    if (!reply)
        snprintf(why, whylen, "no answer from the switch");
    else if (json_object_object_get_ex(reply, "return", &ret))
        ret = json_object_get(ret);
    else if (json_object_object_get_ex(reply, "error", &err) &&
             json_object_object_get_ex(err, "desc", &desc))
        snprintf(why, whylen, "%s", json_object_get_string(desc));
    else
        snprintf(why, whylen, "a malformed answer from the switch");
    json_object_put(reply);
    return ret;
}

static int cmd_create(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return usage_error("create: usage: wirt net create NAME [options]");
    const char *name = argv[1];
    if (!netd_name_valid(name))
        return usage_error("'%.70s' is not a valid network name", name);
    struct netd_config cfg = {.net_addr = 0x0a0a0000,
                              .net_mask = 0xffffff00,
                              .mac_table = 4096,
                              .ip_guard = true,
                              .tap_vlan = VSW_DEFAULT_VLAN};
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char why[200];
        if (!strcmp(a, "--nat")) {
            cfg.nat = true;
        } else if (!strcmp(a, "--dhcp")) {
            cfg.dhcp = true;
        } else if (!strcmp(a, "--no-ip-guard")) {
            cfg.ip_guard = false;
        } else if (!strcmp(a, "--tap") && v) {
            char ifname[32];
            unsigned vlan = VSW_DEFAULT_VLAN;
            char tail;
            int k = sscanf(v, "%31[^,],vlan=%u%c", ifname, &vlan, &tail);
            if ((k != 1 && k != 2) || (k == 1 && strchr(v, ',')) || !netd_tap_name_valid(ifname) ||
                vlan < 1 || vlan > 4094)
                return usage_error("--tap %s: expected IFNAME[,vlan=1..4094] (an interface name "
                                   "of at most 15 characters)",
                                   v);
            memcpy(cfg.tap, ifname, strlen(ifname) + 1); /* valid: at most 15 */
            cfg.tap_vlan = (uint16_t)vlan;
            i++;
        } else if (!strcmp(a, "--subnet") && v) {
            char addr[32];
            unsigned bits;
            char tail;
            struct in_addr in;
            if (sscanf(v, "%31[0-9.]/%u%c", addr, &bits, &tail) != 2 || bits < 8 || bits > 28 ||
                inet_pton(AF_INET, addr, &in) != 1)
                return usage_error("--subnet %s: expected A.B.C.D/N with N from 8 to 28", v);
            cfg.net_mask = 0xffffffffu << (32 - bits);
            cfg.net_addr = ntohl(in.s_addr) & cfg.net_mask;
            i++;
        } else if (!strcmp(a, "--hostfwd") && v) {
            if (cfg.nhostfwd == NET_MAX_HOSTFWD ||
                !net_parse_hostfwd(v, &cfg.hostfwd[cfg.nhostfwd]))
                return usage_error("--hostfwd %s: expected [tcp|udp]:[HOSTADDR]:HOSTPORT-"
                                   "GUESTADDR:GUESTPORT (at most %d)",
                                   v, NET_MAX_HOSTFWD);
            cfg.nhostfwd++;
            i++;
        } else if (!strcmp(a, "--vxlan") && v) {
            if (cfg.nvxlan == NETD_MAX_VXLAN ||
                !netd_parse_vxlan(v, &cfg.vxlan[cfg.nvxlan], why, sizeof(why)))
                return usage_error("--vxlan %s: %s", v,
                                   cfg.nvxlan == NETD_MAX_VXLAN ? "too many tunnels" : why);
            cfg.nvxlan++;
            i++;
        } else if (!strcmp(a, "--mac-table") && v) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || n < 64 || n > (1u << 20))
                return usage_error("--mac-table %s: 64 to 1048576 entries", v);
            cfg.mac_table = (unsigned)n;
            i++;
        } else {
            return usage_error("create: unknown option or missing value '%s'", a);
        }
    }
    if (cfg.nhostfwd && !cfg.nat)
        return usage_error("--hostfwd needs --nat (the NAT router forwards)");
    for (unsigned i = 0; i < cfg.nhostfwd; i++)
        if (!cfg.hostfwd[i].guest_addr)
            return usage_error("--hostfwd: name the VM's address (…-10.10.0.5:80): a network "
                               "has many guests");
    time_t now = time(NULL);
    struct tm tm;
    strftime(cfg.created, sizeof(cfg.created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    char nets[PATH_MAX + 16], dir[PATH_MAX], why[512];
    snprintf(nets, sizeof(nets), "%s/nets", store);
    mkdir(store, 0700);
    mkdir(nets, 0700);
    if (!netd_dir(store, name, dir, sizeof(dir)))
        return die("%s: path too long", name);
    if (mkdir(dir, 0700) != 0)
        return die(errno == EEXIST ? "network '%s' exists already" : "%s: %s", name,
                   strerror(errno));
    if (!netd_config_save(dir, &cfg, why, sizeof(why))) {
        rmdir(dir);
        return die("%s", why);
    }
    printf("created network '%s'\n", name);
    return 0;
}

static int cmd_start(const char *name)
{
    char dir[PATH_MAX], why[512];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    if (!netd_start(dir, why, sizeof(why)))
        return die("%s: %s", name, why);
    long pid;
    netd_running(dir, &pid);
    printf("network '%s' is running (pid %ld)\n", name, pid);
    return 0;
}

static int cmd_stop(const char *name)
{
    char dir[PATH_MAX], why[512];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    long pid;
    if (!netd_running(dir, &pid)) {
        printf("network '%s' is not running\n", name);
        return 0;
    }
    json_object *r = control(dir, "stop", NULL, why, sizeof(why));
    json_object_put(r);
    if (!r && pid > 0)
        kill((pid_t)pid, SIGTERM);
    for (int i = 0; i < 100 && netd_running(dir, NULL); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (netd_running(dir, NULL))
        return die("%s: the switch did not stop (pid %ld)", name, pid);
    printf("network '%s' stopped; its VMs keep running and rejoin when it starts again\n", name);
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int cmd_delete(const char *name)
{
    char dir[PATH_MAX];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    if (netd_running(dir, NULL))
        return die("network '%s' is running; stop it first (wirt net stop %s)", name, name);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return die("%s: %s", dir, strerror(errno));
    printf("deleted network '%s'\n", name);
    return 0;
}

static json_object *info_json(const char *name, const char *dir)
{
    struct netd_config cfg;
    char why[512];
    if (!netd_config_load(dir, &cfg, why, sizeof(why))) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "error", json_object_new_string(why));
        return o;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/%s", dir, NETD_CONFIG);
    json_object *o = json_read_file(path, 256 * 1024, 8, why, sizeof(why));
    if (!o)
        o = json_object_new_object();
    long pid;
    bool running = netd_running(dir, &pid);
    json_object_object_add(o, "state", json_object_new_string(running ? "running" : "stopped"));
    json_object_object_add(o, "directory", json_object_new_string(dir));
    if (running) {
        json_object_object_add(o, "pid", json_object_new_int64(pid));
        json_object *ports = control(dir, "query-ports", NULL, why, sizeof(why)), *list;
        if (ports && json_object_object_get_ex(ports, "ports", &list))
            json_object_object_add(o, "ports", json_object_get(list));
        json_object_put(ports);
    }
    return o;
}

static int cmd_list(bool json)
{
    char nets[PATH_MAX + 16];
    snprintf(nets, sizeof(nets), "%s/nets", store);
    DIR *d = opendir(nets);
    json_object *all = json_object_new_array();
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!netd_name_valid(e->d_name))
            continue;
        char dir[PATH_MAX];
        if (netd_dir(store, e->d_name, dir, sizeof(dir)))
            json_object_array_add(all, info_json(e->d_name, dir));
    }
    if (d)
        closedir(d);
    if (json) {
        puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY));
    } else {
        printf("%-20s %-8s %-6s %-18s %s\n", "NAME", "STATE", "PORTS", "SUBNET", "UPLINKS");
        for (size_t i = 0; i < json_object_array_length(all); i++) {
            json_object *o = json_object_array_get_idx(all, i), *v;
            char uplinks[128] = "";
            size_t nports =
                json_object_object_get_ex(o, "ports", &v) ? json_object_array_length(v) : 0;
            if (json_object_object_get_ex(o, "nat", &v) && json_object_get_boolean(v))
                strcat(uplinks, "nat ");
            else if (json_object_object_get_ex(o, "dhcp", &v) && json_object_get_boolean(v))
                strcat(uplinks, "dhcp ");
            if (json_object_object_get_ex(o, "vxlan", &v) && json_object_array_length(v))
                snprintf(uplinks + strlen(uplinks), sizeof(uplinks) - strlen(uplinks), "vxlan×%zu",
                         json_object_array_length(v));
            const char *st =
                json_object_object_get_ex(o, "state", &v) ? json_object_get_string(v) : "broken";
            printf("%-20s %-8s %-6zu %-18s %s\n",
                   json_object_get_string(json_object_object_get(o, "name")), st, nports,
                   json_object_object_get_ex(o, "subnet", &v) ? json_object_get_string(v) : "-",
                   uplinks[0] ? uplinks : "-");
        }
    }
    json_object_put(all);
    return 0;
}

static int cmd_info(const char *name, bool json)
{
    char dir[PATH_MAX];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    json_object *o = info_json(name, dir);
    puts(json_object_to_json_string_ext(o, json ? JSON_C_TO_STRING_PRETTY
                                                : JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return 0;
}

static long long num(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : 0;
}

static int cmd_stats(const char *name, bool json)
{
    char dir[PATH_MAX], why[512];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    json_object *r = control(dir, "query-ports", NULL, why, sizeof(why)), *ports;
    if (!r)
        return die("%s: %s", name, why);
    if (json) {
        puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
    } else if (json_object_object_get_ex(r, "ports", &ports)) {
        printf("%-4s %-5s %-24s %-4s %10s %12s %10s %12s %8s\n", "PORT", "KIND", "OWNER", "UP",
               "RX-FRAMES", "RX-BYTES", "TX-FRAMES", "TX-BYTES", "DROPPED");
        for (size_t i = 0; i < json_object_array_length(ports); i++) {
            json_object *p = json_object_array_get_idx(ports, i);
            long long drops = num(p, "drop-runt") + num(p, "drop-giant") + num(p, "drop-down") +
                              num(p, "drop-spoof") + num(p, "drop-vlan") + num(p, "drop-rate") +
                              num(p, "drop-acl") + num(p, "tx-dropped");
            printf("%-4lld %-5s %-24.24s %-4s %10lld %12lld %10lld %12lld %8lld\n", num(p, "port"),
                   json_object_get_string(json_object_object_get(p, "kind")),
                   json_object_get_string(json_object_object_get(p, "owner")),
                   json_object_get_boolean(json_object_object_get(p, "up")) ? "yes" : "no",
                   num(p, "rx-frames"), num(p, "rx-bytes"), num(p, "tx-frames"), num(p, "tx-bytes"),
                   drops);
        }
        if (num(r, "vxlan-dropped"))
            printf("VXLAN packets dropped (unknown peer, bad header, wrong VNI): %lld\n",
                   num(r, "vxlan-dropped"));
    }
    json_object_put(r);
    return 0;
}

static int cmd_dump(const char *name, bool json)
{
    char dir[PATH_MAX], why[512];
    if (!net_dir(name, dir, sizeof(dir)))
        return 1;
    json_object *macs = control(dir, "query-macs", NULL, why, sizeof(why));
    if (!macs)
        return die("%s: %s", name, why);
    json_object *acl = control(dir, "query-acl", NULL, why, sizeof(why));
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "macs", macs);
        json_object_object_add(o, "acl", acl ? acl : json_object_new_array());
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        json_object_put(o);
        return 0;
    }
    printf("MAC table:\n%-18s %-5s %-5s %s\n", "MAC", "VLAN", "PORT", "AGE");
    for (size_t i = 0; i < json_object_array_length(macs); i++) {
        json_object *m = json_object_array_get_idx(macs, i), *v;
        char age[32] = "static";
        if (json_object_object_get_ex(m, "age-s", &v))
            snprintf(age, sizeof(age), "%.0f s", json_object_get_double(v));
        printf("%-18s %-5lld %-5lld %s\n", json_object_get_string(json_object_object_get(m, "mac")),
               num(m, "vlan"), num(m, "port"), age);
    }
    printf("ACL (first match decides; no match passes):\n");
    for (size_t i = 0; acl && i < json_object_array_length(acl); i++) {
        json_object *r = json_object_array_get_idx(acl, i);
        printf("%3lld  %-60s hits %lld\n", num(r, "index"),
               json_object_get_string(json_object_object_get(r, "rule")), num(r, "hits"));
    }
    json_object_put(macs);
    json_object_put(acl);
    return 0;
}

/* A persistent setting on a stopped network: edit net.json. */
static int set_stopped(const char *dir, const char *key, const char *v)
{
    struct netd_config cfg;
    char why[512];
    if (!netd_config_load(dir, &cfg, why, sizeof(why)))
        return die("%s", why);
    struct vsw_acl rule;
    if (!strcmp(key, "acl-add")) {
        if (!netd_parse_acl(v, &rule, why, sizeof(why)))
            return usage_error("set: acl-add: %s", why);
        if (cfg.nacl == NETD_MAX_ACL)
            return die("set: at most %d rules", NETD_MAX_ACL);
        snprintf(cfg.acl[cfg.nacl++], NETD_RULE_MAX, "%s", v);
    } else if (!strcmp(key, "acl-del")) {
        char *end;
        unsigned long i = strtoul(v, &end, 10);
        if (*end || !*v || i >= cfg.nacl)
            return usage_error("set: acl-del: no rule %s", v);
        memmove(cfg.acl[i], cfg.acl[i + 1], (cfg.nacl - i - 1) * NETD_RULE_MAX);
        cfg.nacl--;
    } else if (!strcmp(key, "static-mac")) {
        uint8_t mac[6];
        unsigned port;
        uint16_t vlan;
        if (!netd_parse_static(v, mac, &port, &vlan, why, sizeof(why)))
            return usage_error("set: static-mac: %s", why);
        if (cfg.nstatic == NETD_MAX_STATIC)
            return die("set: at most %d static entries", NETD_MAX_STATIC);
        snprintf(cfg.static_macs[cfg.nstatic++], sizeof(cfg.static_macs[0]), "%s", v);
    } else if (!strcmp(key, "vxlan")) {
        if (cfg.nvxlan == NETD_MAX_VXLAN)
            return die("set: at most %d VXLAN tunnels", NETD_MAX_VXLAN);
        if (!netd_parse_vxlan(v, &cfg.vxlan[cfg.nvxlan], why, sizeof(why)))
            return usage_error("set: vxlan: %s", why);
        cfg.nvxlan++;
    } else if (!strcmp(key, "hostfwd")) {
        if (cfg.nhostfwd == NET_MAX_HOSTFWD || !net_parse_hostfwd(v, &cfg.hostfwd[cfg.nhostfwd]) ||
            !cfg.hostfwd[cfg.nhostfwd].guest_addr)
            return usage_error("set: hostfwd: '%s' is not [tcp|udp]:[ADDR]:PORT-GUESTADDR:PORT", v);
        if (!cfg.nat)
            return usage_error("set: hostfwd needs a network created with --nat");
        cfg.nhostfwd++;
    } else {
        return usage_error("set: %s works on a running network only (wirt net start)", key);
    }
    if (!netd_config_save(dir, &cfg, why, sizeof(why)))
        return die("%s", why);
    return 0;
}

static int set_running(const char *dir, const char *key, const char *v)
{
    char why[512];
    json_object *args = json_object_new_object();
    const char *cmd = NULL;
    if (!strcmp(key, "acl-add")) {
        cmd = "acl-add";
        json_object_object_add(args, "rule", json_object_new_string(v));
    } else if (!strcmp(key, "acl-del")) {
        cmd = "acl-del";
        json_object_object_add(args, "index", json_object_new_int(atoi(v)));
    } else if (!strcmp(key, "static-mac")) {
        cmd = "mac-add";
        json_object_object_add(args, "entry", json_object_new_string(v));
    } else if (!strcmp(key, "port-up") || !strcmp(key, "port-down")) {
        cmd = "port-set";
        json_object_object_add(args, "port", json_object_new_int(atoi(v)));
        json_object_object_add(args, "up", json_object_new_boolean(!strcmp(key, "port-up")));
    } else if (!strcmp(key, "mirror")) {
        cmd = "mirror";
        char what[32] = "", *comma = strchr(v, ',');
        snprintf(what, sizeof(what), "%.*s", comma ? (int)(comma - v) : (int)strlen(v), v);
        if (!strcmp(what, "all") || !strcmp(what, "off"))
            json_object_object_add(args, "port", json_object_new_string(what));
        else
            json_object_object_add(args, "port", json_object_new_int(atoi(what)));
        if (comma && !strncmp(comma + 1, "file=", 5))
            json_object_object_add(args, "file", json_object_new_string(comma + 6));
    } else if (!strcmp(key, "vxlan")) {
        cmd = "vxlan-add";
        json_object_object_add(args, "spec", json_object_new_string(v));
    } else if (!strcmp(key, "hostfwd")) {
        json_object_put(args);
        int r = set_stopped(dir, key, v);
        if (!r)
            printf("hostfwd %s applies when the network starts again\n", v);
        return r;
    } else {
        json_object_put(args);
        return usage_error("set: unknown key '%s'", key);
    }
    json_object *r = control(dir, cmd, args, why, sizeof(why));
    if (!r)
        return die("set %s: %s", key, why);
    json_object *file;
    if (json_object_object_get_ex(r, "file", &file))
        printf("mirroring to %s\n", json_object_get_string(file));
    json_object_put(r);
    return 0;
}

static int cmd_set(int argc, char **argv)
{
    if (argc < 3)
        return usage_error("set: usage: wirt net set NAME KEY=VALUE...");
    char dir[PATH_MAX];
    if (!net_dir(argv[1], dir, sizeof(dir)))
        return 1;
    bool running = netd_running(dir, NULL);
    for (int i = 2; i < argc; i++) {
        char key[32];
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key))
            return usage_error("set: '%s' is not KEY=VALUE", argv[i]);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
        int r = running ? set_running(dir, key, eq + 1) : set_stopped(dir, key, eq + 1);
        if (r)
            return r;
    }
    return 0;
}

int net_main(int argc, char **argv)
{
    int i = 1;
    const char *given = NULL;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--store") && i + 1 < argc)
            given = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else
            break;
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *verb = argv[i];
    argc -= i;
    argv += i;
    if (!strcmp(verb, "__switch") && argc == 2)
        return switchd_run(argv[1]);
    if (given)
        snprintf(store, sizeof(store), "%s", given);
    else if (!netd_default_store(store, sizeof(store)))
        return usage_error("no store: set HOME, XDG_DATA_HOME, WIRT_STORE or pass --store DIR");
    bool json = argc >= 2 && !strcmp(argv[argc - 1], "--json");
    if (json)
        argc--;
    if (!strcmp(verb, "create"))
        return cmd_create(argc, argv);
    if (!strcmp(verb, "list"))
        return argc == 1 ? cmd_list(json) : usage_error("list takes no arguments");
    if (!strcmp(verb, "set"))
        return cmd_set(argc, argv);
    if (argc != 2)
        return usage_error("%s: usage: wirt net %s NAME", verb, verb);
    if (!strcmp(verb, "info"))
        return cmd_info(argv[1], json);
    if (!strcmp(verb, "delete"))
        return cmd_delete(argv[1]);
    if (!strcmp(verb, "start"))
        return cmd_start(argv[1]);
    if (!strcmp(verb, "stop"))
        return cmd_stop(argv[1]);
    if (!strcmp(verb, "stats"))
        return cmd_stats(argv[1], json);
    if (!strcmp(verb, "dump"))
        return cmd_dump(argv[1], json);
    return usage_error("unknown verb '%s'", verb);
}
