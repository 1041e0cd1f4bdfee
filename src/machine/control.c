/* SPDX-License-Identifier: MIT */
#include "machine/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "machine/board.h"
#include "machine/console.h"
#include "machine/evloop.h"
#include "machine/vclock.h"
#include "util/log.h"
#include "util/unix_socket.h"

#define MAX_CLIENTS    16
#define MAX_JSON_DEPTH 16
/* A client gets this long for each request line: an idle client, or one
 * trickling a line that never ends, is dropped when it runs out. */
#define CLIENT_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000)

struct control;

struct control_client {
    struct control *owner;
    int fd; /* -1: free slot */
    char buf[CONTROL_MAX_LINE];
    size_t len;
    uint64_t deadline_ns; /* dropped at this time unless a line completes */
};

struct control {
    struct board *board;
    int listen_fd;
    char *path;
    struct control_client clients[MAX_CLIENTS];
    struct evtimer *timeout_timer;
    json_object *spec; /* the VM spec the VMM runs (query-spec), or NULL */
};

/* The powerdown stop-gap: Ctrl-U clears a half-typed line first. */
static const char powerdown_line[] = "\x15poweroff\n";

bool control_guest_powerdown(struct board *b, char *err, size_t errlen)
{
    if (!b->console || !console_guest_ready(b->console)) {
        snprintf(err, errlen,
                 "the guest has not signalled that it is ready (" CONSOLE_READY_MARKER
                 " on the console); it cannot be asked to shut down");
        return false;
    }
    if (!console_inject(b->console, (const uint8_t *)powerdown_line, sizeof(powerdown_line) - 1)) {
        snprintf(err, errlen, "the console input is busy; try again");
        return false;
    }
    return true;
}

/* Arms the timer for the earliest client deadline. */
static void arm_timeout(struct control *c)
{
    uint64_t first = 0;
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i].fd >= 0 && (!first || c->clients[i].deadline_ns < first))
            first = c->clients[i].deadline_ns;
    if (first)
        evtimer_arm(c->timeout_timer, first);
    else
        evtimer_disarm(c->timeout_timer);
}

static void drop_client(struct control *c, struct control_client *cl)
{
    evloop_del_fd(c->board->loop, cl->fd);
    close(cl->fd);
    cl->fd = -1;
    cl->len = 0;
}

/* Best effort, for a client about to be closed. */
static void send_error_and_close(int fd, const char *line)
{
    send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

static void on_timeout(void *opaque)
{
    struct control *c = opaque;
    uint64_t now = host_monotonic_ns();
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct control_client *cl = &c->clients[i];
        if (cl->fd < 0 || cl->deadline_ns > now)
            continue;
        evloop_del_fd(c->board->loop, cl->fd);
        send_error_and_close(cl->fd, "{\"error\":{\"class\":\"Timeout\",\"desc\":\"no complete "
                                     "request for 30 s; closing the connection\"}}\n");
        cl->fd = -1;
        cl->len = 0;
    }
    arm_timeout(c);
}

/* Replies are small; a client whose socket buffer is full is dropped
 * rather than allowed to stall the event loop. */
static bool send_reply(struct control_client *cl, json_object *reply)
{
    size_t len;
    const char *text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);
    char *line = malloc(len + 1);
    if (!line)
        return false;
    memcpy(line, text, len);
    line[len] = '\n';
    size_t off = 0;
    bool ok = true;
    while (off < len + 1) {
        ssize_t n = send(cl->fd, line + off, len + 1 - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        off += (size_t)n;
    }
    free(line);
    return ok;
}

static json_object *error_reply(const char *cls, const char *desc)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "class", json_object_new_string(cls));
    json_object_object_add(e, "desc", json_object_new_string(desc));
    json_object *r = json_object_new_object();
    json_object_object_add(r, "error", e);
    return r;
}

static json_object *return_reply(json_object *value)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "return", value ? value : json_object_new_object());
    return r;
}

static json_object *cmd_query_status(struct control *c)
{
    struct board *b = c->board;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(b->paused ? "paused" : "running"));
    uint64_t up = b->started_ns ? host_monotonic_ns() - b->started_ns : 0;
    char upbuf[32];
    snprintf(upbuf, sizeof(upbuf), "%.3f", (double)up / 1e9);
    json_object_object_add(o, "uptime", json_object_new_double_s((double)up / 1e9, upbuf));
    json_object_object_add(o, "pid", json_object_new_int64(getpid()));
    json_object_object_add(o, "memory", json_object_new_int64((int64_t)b->cfg.ram_size));
    json_object_object_add(o, "cpus", json_object_new_int((int)b->nharts));
    json_object_object_add(o, "guest-ready",
                           json_object_new_boolean(b->console && console_guest_ready(b->console)));
    return o;
}

static const char *const command_names[] = {
    "query-status", "query-commands", "query-spec", "pause",     "resume",
    "reset",        "powerdown",      "quit",       "power-off",
};

/* Runs one request and returns the reply. */
static json_object *execute(struct control *c, json_object *req)
{
    struct board *b = c->board;
    json_object *jexec;
    if (!json_object_is_type(req, json_type_object))
        return error_reply("InvalidRequest", "a request is a JSON object");
    if (!json_object_object_get_ex(req, "execute", &jexec) ||
        !json_object_is_type(jexec, json_type_string))
        return error_reply("InvalidRequest", "the request has no \"execute\" string");
    json_object *args;
    if (json_object_object_get_ex(req, "arguments", &args) &&
        !json_object_is_type(args, json_type_object))
        return error_reply("InvalidRequest", "\"arguments\" must be an object");
    const char *cmd = json_object_get_string(jexec);

    if (!strcmp(cmd, "query-status"))
        return return_reply(cmd_query_status(c));
    if (!strcmp(cmd, "query-commands")) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < sizeof(command_names) / sizeof(command_names[0]); i++)
            json_object_array_add(a, json_object_new_string(command_names[i]));
        return return_reply(a);
    }
    if (!strcmp(cmd, "query-spec")) {
        if (!c->spec)
            return error_reply("NotAvailable", "this VMM was started without a spec");
        return return_reply(json_object_get(c->spec));
    }
    if (!strcmp(cmd, "pause")) {
        board_pause(b);
        return return_reply(NULL);
    }
    if (!strcmp(cmd, "resume")) {
        board_resume(b);
        return return_reply(NULL);
    }
    if (!strcmp(cmd, "reset")) {
        board_request_reset(b);
        return return_reply(NULL);
    }
    if (!strcmp(cmd, "powerdown")) {
        char err[256];
        if (b->paused)
            return error_reply("InvalidState", "the machine is paused; resume it first");
        if (!control_guest_powerdown(b, err, sizeof(err)))
            return error_reply("GuestNotReady", err);
        return return_reply(NULL);
    }
    if (!strcmp(cmd, "quit") || !strcmp(cmd, "power-off")) {
        board_power_off(b, 0);
        return return_reply(NULL);
    }
    char desc[160];
    snprintf(desc, sizeof(desc), "unknown command '%.64s' (see query-commands)", cmd);
    return error_reply("CommandNotFound", desc);
}

static void handle_line(struct control *c, struct control_client *cl, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return; /* blank lines are allowed between requests */
    json_tokener *tok = json_tokener_new_ex(MAX_JSON_DEPTH);
    if (!tok) {
        drop_client(c, cl);
        return;
    }
    json_object *req = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_object *reply;
    if (!req || jerr != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
        char desc[160];
        snprintf(desc, sizeof(desc), "malformed JSON: %s",
                 jerr == json_tokener_success    ? "trailing data after the request"
                 : jerr == json_tokener_continue ? "incomplete request"
                                                 : json_tokener_error_desc(jerr));
        reply = error_reply("ParseError", desc);
    } else {
        reply = execute(c, req);
    }
    json_tokener_free(tok);
    if (req) {
        /* Echo the client's id so it can match replies to requests. */
        json_object *id;
        if (json_object_is_type(req, json_type_object) && json_object_object_get_ex(req, "id", &id))
            json_object_object_add(reply, "id", json_object_get(id));
        json_object_put(req);
    }
    bool ok = send_reply(cl, reply);
    json_object_put(reply);
    if (!ok)
        drop_client(c, cl);
}

static void on_client(void *opaque, uint32_t events)
{
    struct control_client *cl = opaque;
    struct control *c = cl->owner;
    (void)events;
    ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        drop_client(c, cl);
        return;
    }
    cl->len += (size_t)n;
    size_t start = 0;
    for (size_t i = cl->len - (size_t)n; i < cl->len && cl->fd >= 0; i++) {
        if (cl->buf[i] != '\n')
            continue;
        handle_line(c, cl, cl->buf + start, i - start);
        start = i + 1;
        cl->deadline_ns = host_monotonic_ns() + CLIENT_TIMEOUT_NS;
    }
    if (cl->fd < 0)
        return;
    memmove(cl->buf, cl->buf + start, cl->len - start);
    cl->len -= start;
    if (cl->len == sizeof(cl->buf)) {
        json_object *r =
            error_reply("ParseError", "request line too long (the limit is 4096 bytes)");
        send_reply(cl, r);
        json_object_put(r);
        drop_client(c, cl);
    }
}

static void on_accept(void *opaque, uint32_t events)
{
    struct control *c = opaque;
    (void)events;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    uid_t uid;
    if (!unix_peer_allowed(fd, &uid)) {
        log_warn("--control: refused a connection from uid %ld (only the VMM's user and root "
                 "may connect)",
                 (long)(int)uid);
        send_error_and_close(fd, "{\"error\":{\"class\":\"PermissionDenied\",\"desc\":\"only "
                                 "the VMM's user and root may connect\"}}\n");
        return;
    }
    /* A full table must not lock the owner out: the client closest to
     * its timeout (the longest without a complete request) makes room. */
    struct control_client *cl = NULL;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct control_client *k = &c->clients[i];
        if (k->fd < 0) {
            cl = k;
            break;
        }
        if (!cl || k->deadline_ns < cl->deadline_ns)
            cl = k;
    }
    if (cl->fd >= 0) {
        evloop_del_fd(c->board->loop, cl->fd);
        send_error_and_close(cl->fd, "{\"error\":{\"class\":\"Busy\",\"desc\":\"too many "
                                     "control connections; closing the least active one\"}}\n");
        cl->fd = -1;
    }
    cl->fd = fd;
    cl->len = 0;
    cl->deadline_ns = host_monotonic_ns() + CLIENT_TIMEOUT_NS;
    if (!evloop_add_fd(c->board->loop, fd, EPOLLIN, on_client, cl)) {
        close(fd);
        cl->fd = -1;
    }
    arm_timeout(c);
}

struct control *control_new(struct board *b, const char *path, char *err, size_t errlen)
{
    char why[400];
    int fd = unix_listen_owner_only(path, 8, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "--control: %s", why);
        return NULL;
    }
    struct control *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(path)) ||
        !(c->timeout_timer = evtimer_new(b->loop, on_timeout, c))) {
        if (c)
            free(c->path);
        free(c);
        close(fd);
        unlink(path);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->board = b;
    c->listen_fd = fd;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        c->clients[i].fd = -1;
        c->clients[i].owner = c;
    }
    if (!evloop_add_fd(b->loop, fd, EPOLLIN, on_accept, c)) {
        snprintf(err, errlen, "--control: cannot watch the socket");
        control_free(c);
        return NULL;
    }
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i].fd >= 0)
            close(c->clients[i].fd);
    close(c->listen_fd);
    unlink(c->path);
    evtimer_free(c->timeout_timer);
    json_object_put(c->spec);
    free(c->path);
    free(c);
}

void control_set_spec(struct control *c, json_object *spec)
{
    json_object_put(c->spec);
    c->spec = json_object_get(spec);
}
