/* SPDX-License-Identifier: MIT */
/*
 * WebSockets (RFC 6455): the browser's serial console, bridged to a VM's
 * serial socket, and the event stream of serve_supervise.c.
 *
 * libmicrohttpd answers the upgrade and hands over the socket; wslay does
 * the framing (we only compute the handshake's accept key, with nettle).
 * Each console runs on a thread of its own, so a slow browser or a chatty
 * guest never stalls the API thread.  Memory is bounded: a message from
 * the browser is at most WS_MAX_MESSAGE bytes, and the VM is read only
 * while fewer than WS_MAX_QUEUED messages wait to go out, so a browser
 * that stops reading pushes back on the guest's console instead of
 * growing the service.
 */
#include "serve/serve_int.h"

#include <errno.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "vm/vm_int.h"

#define WS_MAX_CONSOLES 16
#define WS_MAX_MESSAGE  (64 * 1024)
#define WS_MAX_QUEUED   64
#define WS_GUID         "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static atomic_int consoles_open;
static atomic_bool consoles_stop;

struct ws_console {
    int sock;  /* the browser, after the upgrade */
    int vm_fd; /* the VM's serial socket; -1 for the event stream */
    uint64_t event_cursor;
    struct MHD_UpgradeResponseHandle *urh;
    char *extra; /* bytes MHD read past the request: the first frames */
    size_t extra_len, extra_off;
    bool vm_closed;
};

/* Sec-WebSocket-Accept for a client's key: base64(SHA-1(key GUID)). */
static bool accept_key(const char *key, char out[29])
{
    if (!key || strlen(key) != 24) /* base64 of the 16 random bytes */
        return false;
    struct sha1_ctx h;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&h);
    sha1_update(&h, 24, (const uint8_t *)key);
    sha1_update(&h, strlen(WS_GUID), (const uint8_t *)WS_GUID);
    sha1_digest(&h, sizeof(digest), digest);
    base64_encode_raw(out, sizeof(digest), digest);
    out[28] = '\0';
    return true;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    struct ws_console *w = user;
    if (w->extra_off < w->extra_len) {
        size_t n = w->extra_len - w->extra_off;
        n = n < len ? n : len;
        memcpy(buf, w->extra + w->extra_off, n);
        w->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(w->sock, buf, len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    struct ws_console *w = user;
    ssize_t n = send(w->sock, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

/* A server never masks, but wslay wants the callback. */
static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx, (void)user;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* Keystrokes from the browser go to the guest as they are. */
static void ws_on_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
                          void *user)
{
    struct ws_console *w = user;
    if (wslay_is_ctrl_frame(m->opcode) || w->vm_closed)
        return;
    const uint8_t *p = m->msg;
    size_t left = m->msg_length;
    while (left) {
        ssize_t n = send(w->vm_fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->vm_closed = true;
            wslay_event_queue_close(ctx, 1011, (const uint8_t *)"VM console write failed", 23);
            return;
        }
        p += n;
        left -= (size_t)n;
    }
}

static void *console_thread(void *arg)
{
    struct ws_console *w = arg;
    struct wslay_event_callbacks cb = {
        .recv_callback = ws_recv,
        .send_callback = ws_send,
        .genmask_callback = ws_genmask,
        .on_msg_recv_callback = ws_on_message,
    };
    wslay_event_context_ptr ctx = NULL;
    if (wslay_event_context_server_init(&ctx, &cb, w) != 0)
        goto out;
    wslay_event_config_set_max_recv_msg_length(ctx, WS_MAX_MESSAGE);

    uint8_t buf[4096];
    while (!atomic_load(&consoles_stop) &&
           (wslay_event_want_read(ctx) || wslay_event_want_write(ctx))) {
        /* Bytes MHD already read are framed data: hand them over first. */
        if (w->extra_off < w->extra_len && wslay_event_recv(ctx) != 0)
            break;
        struct pollfd p[2] = {
            {.fd = w->sock,
             .events = (short)((wslay_event_want_read(ctx) ? POLLIN : 0) |
                               (wslay_event_want_write(ctx) ? POLLOUT : 0))},
            {.fd = -1, .events = POLLIN},
        };
        bool room = wslay_event_get_queued_msg_count(ctx) < WS_MAX_QUEUED;
        if (!w->vm_closed && room)
            p[1].fd = w->vm_fd; /* -1 for events: poll ignores it */
        for (int i = 0; w->vm_fd < 0 && room && i < WS_MAX_QUEUED / 2; i++) {
            uint64_t lost;
            char *ev = serve_events_get(&w->event_cursor, 0, &lost);
            if (lost) {
                char note[96];
                int len = snprintf(note, sizeof(note), "{\"event\":\"lost\",\"count\":%llu}",
                                   (unsigned long long)lost);
                struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)note, (size_t)len};
                wslay_event_queue_msg(ctx, &msg);
            }
            if (!ev)
                break;
            struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)ev, strlen(ev)};
            wslay_event_queue_msg(ctx, &msg);
            free(ev);
        }
        if (w->vm_fd < 0 && wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0)
            break;
        int r = poll(p, 2, 250); /* wakes to notice a stopping service */
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(ctx) != 0)
            break;
        if (p[1].revents) {
            ssize_t n = read(w->vm_fd, buf, sizeof(buf));
            if (n > 0) {
                struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, buf, (size_t)n};
                wslay_event_queue_msg(ctx, &msg); /* copies buf */
            } else if (n == 0 || errno != EINTR) {
                /* The VM stopped, or another console took the serial port. */
                w->vm_closed = true;
                static const char why[] = "the VM closed its console";
                wslay_event_queue_close(ctx, 1000, (const uint8_t *)why, sizeof(why) - 1);
            }
        }
        if (wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0)
            break;
    }
    wslay_event_context_free(ctx);
out:
    if (w->vm_fd >= 0)
        close(w->vm_fd);
    MHD_upgrade_action(w->urh, MHD_UPGRADE_ACTION_CLOSE);
    free(w->extra);
    free(w);
    atomic_fetch_sub(&consoles_open, 1);
    return NULL;
}

/* The state of an upgrade from the 101 being queued until the request is
 * done.  It belongs to the request (serve.c frees it when libmicrohttpd
 * says the request completed): a client that goes away between the 101
 * being queued and the upgrade handler running means the handler never
 * runs, and then serve_ws_release gives back the VM's socket and the slot
 * (they used to leak). */
struct serve_ws_pending {
    int vm_fd;     /* -1: the event stream, or handed to the thread */
    bool upgraded; /* on_upgraded ran: the slot is the thread's now */
};

void serve_ws_release(struct serve_ws_pending *u)
{
    if (!u)
        return;
    if (!u->upgraded) {
        if (u->vm_fd >= 0)
            close(u->vm_fd);
        atomic_fetch_sub(&consoles_open, 1);
    }
    free(u);
}

/* libmicrohttpd runs this on its own thread once the 101 is out. */
static void on_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
    (void)c, (void)con_cls;
    struct serve_ws_pending *u = cls;
    int vm_fd = u->vm_fd;
    u->upgraded = true;
    u->vm_fd = -1;
    struct ws_console *w = calloc(1, sizeof(*w));
    if (w && extra_in_size) {
        w->extra = malloc(extra_in_size);
        if (w->extra) {
            memcpy(w->extra, extra_in, extra_in_size);
            w->extra_len = extra_in_size;
        }
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (!w || (extra_in_size && !w->extra)) {
        free(w);
        goto fail;
    }
    w->sock = sock;
    w->vm_fd = vm_fd;
    w->event_cursor = serve_events_next();
    w->urh = urh;
    if (pthread_create(&t, &attr, console_thread, w) != 0) {
        free(w->extra);
        free(w);
        goto fail;
    }
    pthread_attr_destroy(&attr);
    return;
fail:
    pthread_attr_destroy(&attr);
    if (vm_fd >= 0)
        close(vm_fd);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    atomic_fetch_sub(&consoles_open, 1);
}

static bool header_has_token(struct MHD_Connection *c, const char *header, const char *token)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
    if (!v)
        return false;
    size_t n = strlen(token);
    for (const char *p = v; (p = strcasestr(p, token)); p += n) {
        bool start = p == v || p[-1] == ' ' || p[-1] == ',';
        bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

bool serve_ws_is_upgrade(struct MHD_Connection *c)
{
    return header_has_token(c, "Upgrade", "websocket");
}

/* The checks of an upgrade request: true when it may go on, else the
 * response is queued (*ret). */
static bool ws_admit(struct MHD_Connection *c, char accept[29], enum MHD_Result *ret)
{
    const char *version = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    if (!header_has_token(c, "Connection", "upgrade") || !version || strcmp(version, "13") ||
        !accept_key(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key"), accept)) {
        *ret = serve_send_error(c, 400, "a WebSocket (version 13) upgrade is expected");
        return false;
    }
    if (atomic_fetch_add(&consoles_open, 1) >= WS_MAX_CONSOLES) {
        atomic_fetch_sub(&consoles_open, 1);
        *ret = serve_send_error(c, 503, "%d WebSockets are open already", WS_MAX_CONSOLES);
        return false;
    }
    return true;
}

/* Answers 101 and, once it is out, hands the socket to a thread bridging
 * it to vm_fd (or to the event stream when vm_fd is -1).  Owns vm_fd and
 * one slot; *pending owns them from here until the upgrade. */
static enum MHD_Result ws_upgrade(struct MHD_Connection *c, const char *accept, int vm_fd,
                                  struct serve_ws_pending **pending)
{
    struct serve_ws_pending *u = malloc(sizeof(*u));
    struct MHD_Response *r = u ? MHD_create_response_for_upgrade(on_upgraded, u) : NULL;
    if (!r) {
        if (vm_fd >= 0)
            close(vm_fd);
        free(u);
        atomic_fetch_sub(&consoles_open, 1);
        return serve_send_error(c, 500, "out of memory");
    }
    *u = (struct serve_ws_pending){.vm_fd = vm_fd};
    serve_ws_release(*pending); /* none: one upgrade per request */
    *pending = u;
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result serve_ws_console(struct serve *sv, struct MHD_Connection *c, const char *name,
                                 struct serve_ws_pending **pending)
{
    char accept[29];
    enum MHD_Result ret;
    if (!ws_admit(c, accept, &ret))
        return ret;
    struct wirt_error e = {0};
    struct vm_store *st = vm_store_open(sv->store, false, &e);
    int fd = -1;
    if (st && vm_require(st, name, &e)) {
        fd = vm_connect_socket(st, name, VM_SERIAL);
        if (fd < 0)
            vm_fail(&e, WIRT_ERR_STATE, "'%s' is not running", name);
    }
    if (st)
        vm_store_close(st);
    if (fd < 0) {
        atomic_fetch_sub(&consoles_open, 1);
        return serve_send_wirt_error(c, &e);
    }
    return ws_upgrade(c, accept, fd, pending);
}

enum MHD_Result serve_ws_events(struct MHD_Connection *c, struct serve_ws_pending **pending)
{
    char accept[29];
    enum MHD_Result ret;
    if (!ws_admit(c, accept, &ret))
        return ret;
    return ws_upgrade(c, accept, -1, pending);
}

void serve_ws_stop(void)
{
    atomic_store(&consoles_stop, true);
    for (int i = 0; i < 40 && atomic_load(&consoles_open) > 0; i++)
        usleep(25 * 1000);
}
