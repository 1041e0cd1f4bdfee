/* SPDX-License-Identifier: MIT */
/*
 * The guest agent client: qemu-guest-agent's protocol over the VM's agent
 * channel (VM_AGENT, the host end of the guest port
 * org.qemu.guest_agent.0; see vmm/channels.c).
 *
 * The protocol is JSON commands and replies, one object per line.  The
 * channel may hold a stale reply (an earlier client gave up waiting) or a
 * half-parsed command, so every session starts with guest-sync-delimited:
 * a 0xFF byte resets the agent's parser, and its reply comes after a 0xFF
 * byte of its own carrying our random id; everything before it is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm_int.h"

#define REPLY_MAX (256 * 1024) /* a reply larger than this is refused */

struct agent_conn {
    int fd;
    char *buf;
    size_t len, cap;
    uint64_t deadline_ms;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool agent_send(struct agent_conn *c, const char *text, size_t len)
{
    return send(c->fd, text, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* Reads until buf holds a newline or the deadline passes. */
static bool read_line(struct agent_conn *c, char *err, size_t errlen)
{
    while (!memchr(c->buf, '\n', c->len)) {
        uint64_t now = now_ms();
        if (now >= c->deadline_ms) {
            snprintf(err, errlen, "the guest agent did not answer");
            return false;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)(c->deadline_ms - now)) <= 0)
            continue;
        if (c->len + 4096 > c->cap) {
            if (c->cap >= REPLY_MAX) {
                snprintf(err, errlen, "the guest agent sent a reply over %d KiB", REPLY_MAX / 1024);
                return false;
            }
            char *nb = realloc(c->buf, c->cap ? c->cap * 2 : 8192);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                return false;
            }
            c->buf = nb;
            c->cap = c->cap ? c->cap * 2 : 8192;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (n <= 0) {
            snprintf(err, errlen, "the agent channel closed");
            return false;
        }
        c->len += (size_t)n;
    }
    return true;
}

/* Takes the first line out of buf (without its newline) as a string the
 * caller frees. */
static char *take_line(struct agent_conn *c)
{
    char *nl = memchr(c->buf, '\n', c->len);
    size_t n = (size_t)(nl - c->buf);
    char *line = strndup(c->buf, n);
    memmove(c->buf, nl + 1, c->len - n - 1);
    c->len -= n + 1;
    return line;
}

static bool agent_sync(struct agent_conn *c, char *err, size_t errlen)
{
    uint32_t id;
    if (getrandom(&id, sizeof(id), 0) != sizeof(id))
        id = (uint32_t)now_ms();
    id &= 0x7fffffff;
    char req[128];
    int n = snprintf(req, sizeof(req),
                     "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%u}}\n", id);
    if (!agent_send(c, req, (size_t)n)) {
        snprintf(err, errlen, "agent channel: %s", strerror(errno));
        return false;
    }
    for (;;) {
        if (!read_line(c, err, errlen))
            return false;
        char *line = take_line(c);
        char *start = strrchr(line, '\xff'); /* the agent's delimiter */
        json_object *o = start ? json_tokener_parse(start + 1) : NULL;
        free(line);
        json_object *ret;
        bool ok = o && json_object_object_get_ex(o, "return", &ret) &&
                  json_object_is_type(ret, json_type_int) && json_object_get_int64(ret) == id;
        json_object_put(o);
        if (ok)
            return true;
    }
}

json_object *vm_agent_call(const struct vm_store *st, const char *name, const char *cmd,
                           json_object *args, int timeout_ms, bool expect_reply, char *err,
                           size_t errlen)
{
    struct agent_conn c = {.fd = vm_connect_socket(st, name, VM_AGENT)};
    if (c.fd < 0) {
        snprintf(err, errlen, "VM '%s' has no guest agent channel (%s)", name,
                 errno == ENOENT ? "not running, or created before agents" : strerror(errno));
        return NULL;
    }
    c.deadline_ms = now_ms() + (uint64_t)timeout_ms;
    json_object *result = NULL;
    if (!agent_sync(&c, err, errlen))
        goto out;
    json_object *req = json_object_new_object();
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", json_object_get(args));
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    bool sent = agent_send(&c, text, strlen(text)) && agent_send(&c, "\n", 1);
    json_object_put(req);
    if (!sent) {
        snprintf(err, errlen, "agent channel: %s", strerror(errno));
        goto out;
    }
    if (!expect_reply) {
        result = json_object_new_object();
        goto out;
    }
    if (!read_line(&c, err, errlen))
        goto out;
    char *line = take_line(&c);
    json_object *o = json_tokener_parse(line);
    free(line);
    json_object *ret, *e, *desc;
    if (o && json_object_object_get_ex(o, "return", &ret)) {
        result = json_object_get(ret);
        if (!result)
            result = json_object_new_object(); /* "return": null */
    } else if (o && json_object_object_get_ex(o, "error", &e)) {
        snprintf(err, errlen, "the guest agent refused %s: %s", cmd,
                 json_object_object_get_ex(e, "desc", &desc) ? json_object_get_string(desc)
                                                             : "no reason given");
    } else {
        snprintf(err, errlen, "the guest agent sent a malformed reply");
    }
    json_object_put(o);
out:
    close(c.fd);
    free(c.buf);
    return result;
}

bool vm_agent_present(const struct vm_store *st, const char *name)
{
    char err[256];
    json_object *r = vm_control(st, name, "query-channels", 2000, err, sizeof(err)), *list;
    bool open = false;
    if (r && json_object_object_get_ex(r, "return", &list) &&
        json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *c = json_object_array_get_idx(list, i), *n, *g;
            if (json_object_object_get_ex(c, "name", &n) &&
                !strcmp(json_object_get_string(n), VM_AGENT_CHANNEL) &&
                json_object_object_get_ex(c, "guest-open", &g))
                open = json_object_get_boolean(g);
        }
    json_object_put(r);
    return open;
}

/* "eth0 10.0.2.15/24, ..." from guest-network-get-interfaces, skipping
 * loopback; "" when the guest has no address. */
void vm_agent_format_addresses(json_object *ifaces, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t used = 0;
    size_t n = json_object_is_type(ifaces, json_type_array) ? json_object_array_length(ifaces) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *ifc = json_object_array_get_idx(ifaces, i), *name, *addrs;
        if (!json_object_object_get_ex(ifc, "name", &name) ||
            !strcmp(json_object_get_string(name), "lo") ||
            !json_object_object_get_ex(ifc, "ip-addresses", &addrs) ||
            !json_object_is_type(addrs, json_type_array))
            continue;
        for (size_t k = 0; k < json_object_array_length(addrs); k++) {
            json_object *a = json_object_array_get_idx(addrs, k), *ip, *prefix;
            if (!json_object_object_get_ex(a, "ip-address", &ip))
                continue;
            int prefix_len =
                json_object_object_get_ex(a, "prefix", &prefix) ? json_object_get_int(prefix) : -1;
            int w = snprintf(out + used, outlen - used, "%s%.32s %.64s", used ? ", " : "",
                             json_object_get_string(name), json_object_get_string(ip));
            if (w < 0 || (size_t)w >= outlen - used)
                return;
            used += (size_t)w;
            if (prefix_len >= 0) {
                w = snprintf(out + used, outlen - used, "/%d", prefix_len);
                if (w < 0 || (size_t)w >= outlen - used)
                    return;
                used += (size_t)w;
            }
        }
    }
}

/* wirt vm agent NAME COMMAND [ARGUMENTS-JSON] [--timeout SECONDS] */
int vm_cmd_agent(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL, *cmd = NULL, *args_text = NULL;
    int timeout_s = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 3600)
                vm_usage("agent: --timeout: '%s' is not a number of seconds (1-3600)", argv[i]);
            timeout_s = (int)t;
        } else if (!name) {
            name = argv[i];
        } else if (!cmd) {
            cmd = argv[i];
        } else if (!args_text) {
            args_text = argv[i];
        } else {
            vm_usage("agent: unexpected argument '%.80s' (see wirt vm --help)", argv[i]);
        }
    }
    if (!name || !cmd)
        vm_usage("agent: wirt vm agent NAME COMMAND [ARGUMENTS-JSON] (e.g. guest-ping, "
                 "guest-network-get-interfaces)");
    /* Short names for the common commands. */
    static const char *const alias[][2] = {{"ping", "guest-ping"},
                                           {"info", "guest-info"},
                                           {"ips", "guest-network-get-interfaces"},
                                           {"shutdown", "guest-shutdown"},
                                           {"fsfreeze", "guest-fsfreeze-freeze"},
                                           {"fsthaw", "guest-fsfreeze-thaw"},
                                           {"time-sync", "guest-set-time"}};
    bool ips = !strcmp(cmd, "ips");
    for (size_t i = 0; i < ARRAY_SIZE(alias); i++)
        if (!strcmp(cmd, alias[i][0]))
            cmd = alias[i][1];
    if (strlen(cmd) > 64 || strspn(cmd, "abcdefghijklmnopqrstuvwxyz-0123456789") != strlen(cmd))
        vm_usage("agent: '%.80s' is not a guest agent command name", cmd);
    json_object *args = NULL;
    if (args_text) {
        args = json_tokener_parse(args_text);
        if (!args || !json_object_is_type(args, json_type_object))
            vm_usage("agent: arguments '%.80s' are not a JSON object", args_text);
    }
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    char err[512];
    bool reply = strcmp(cmd, "guest-shutdown") != 0; /* the agent never answers it */
    json_object *r = vm_agent_call(st, name, cmd, args, timeout_s * 1000, reply, err, sizeof(err));
    json_object_put(args);
    if (!r) {
        vm_fail(&e, WIRT_ERR_FAILED, "%s", err);
        return vm_report(&e);
    }
    if (ips) {
        char text[1024];
        vm_agent_format_addresses(r, text, sizeof(text));
        printf("%s\n", text);
    } else {
        printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
    }
    json_object_put(r);
    return 0;
}
