/* SPDX-License-Identifier: MIT */
/*
 * The host end of the named channels (virtio/channels.c): one listening
 * Unix socket per channel, owner-only, with at most one client; the
 * newest client wins, so a stale connection never locks an agent out.
 *
 * Guest to host: bytes go to the client with a non-blocking send; what
 * its socket does not take at once waits in a backlog, sent as the socket
 * drains (EPOLLOUT).  From TO_CLIENT_HIGH bytes on, the device is told
 * the port is full: the guest's buffers stay in its ring and its writer
 * waits until the client reads (flow control, as a pipe), so a slow
 * client loses nothing and the guest cannot grow the VMM.  Only what a
 * guest puts in one buffer past TO_CLIENT_MAX is dropped, and everything
 * while no client is connected (a channel is a message pipe such as the
 * guest agent's, whose client resynchronises with guest-sync; a writer
 * must not hang because nobody listens).
 * Host to guest: read from the client only as far as the guest has
 * receive buffers, through a small pending buffer; when it is full the
 * socket is not read until the guest posts more (flow control, no loss).
 *
 * Everything runs on the event loop or in device callbacks, both under
 * the I/O lock.
 */
#include "vmm/channels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/evloop.h"
#include "machine/board.h"
#include "util/log.h"
#include "util/unix_socket.h"
#include "vmm/devices.h"

#define TO_GUEST_MAX   4096
#define TO_CLIENT_HIGH (64u << 10)
#define TO_CLIENT_MAX  (256u << 10) /* HIGH plus the largest buffer we expect */

struct channel {
    struct vmm_channels *owner;
    unsigned port;
    char *name, *path;
    int listen_fd, client_fd;
    bool reading; /* client_fd is watched for input */
    uint8_t to_guest[TO_GUEST_MAX];
    size_t to_guest_len;
    struct unix_backlog to_client; /* what the client's socket has not taken */
    uint64_t dropped;              /* guest bytes no client took */
    bool tx_held;                  /* the device was told the port is full */
};

struct vmm_channels {
    struct board *board;
    struct virtio_dev *vdev;
    unsigned n;
    struct channel ch[VIRTIO_CHANNELS_MAX];
};

/* The port takes output again: the guest's waiting buffers go on. */
static void resume_output(struct channel *c)
{
    if (!c->tx_held || (c->client_fd >= 0 && c->to_client.len >= TO_CLIENT_HIGH))
        return;
    c->tx_held = false;
    virtio_channels_output_resume(c->owner->vdev, c->port);
}

static void close_client(struct channel *c)
{
    if (c->client_fd < 0)
        return;
    evloop_del_fd(c->owner->board->loop, c->client_fd);
    close(c->client_fd);
    c->client_fd = -1;
    c->reading = false;
    c->to_guest_len = 0;
    c->dropped += c->to_client.len;
    c->to_client.len = 0;
    resume_output(c); /* nobody listens now: what waits is dropped */
}

static uint32_t client_events(const struct channel *c, bool reading)
{
    return EPOLLRDHUP | (reading ? EPOLLIN : 0) | (c->to_client.len ? EPOLLOUT : 0);
}

static void watch_input(struct channel *c)
{
    bool want = c->client_fd >= 0 && c->to_guest_len < TO_GUEST_MAX;
    if (want != c->reading &&
        evloop_mod_fd(c->owner->board->loop, c->client_fd, client_events(c, want)))
        c->reading = want;
}

/* EPOLLOUT is watched while output waits. */
static void backlog_changed(struct channel *c, bool had)
{
    if (had != (c->to_client.len != 0) && c->client_fd >= 0)
        evloop_mod_fd(c->owner->board->loop, c->client_fd, client_events(c, c->reading));
}

static void flush_backlog(struct channel *c)
{
    bool had = c->to_client.len != 0;
    unix_backlog_flush(&c->to_client, c->client_fd);
    backlog_changed(c, had);
    resume_output(c);
}

static void push_to_guest(struct channel *c)
{
    if (!c->to_guest_len)
        return;
    size_t n = virtio_channels_input(c->owner->vdev, c->port, c->to_guest, c->to_guest_len);
    memmove(c->to_guest, c->to_guest + n, c->to_guest_len - n);
    c->to_guest_len -= n;
}

static void on_client(void *opaque, uint32_t events)
{
    struct channel *c = opaque;
    if (events & EPOLLOUT) {
        flush_backlog(c);
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
            return;
    }
    if (events & EPOLLIN) {
        ssize_t n = recv(c->client_fd, c->to_guest + c->to_guest_len,
                         TO_GUEST_MAX - c->to_guest_len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            close_client(c);
            return;
        }
        if (n > 0) {
            c->to_guest_len += (size_t)n;
            push_to_guest(c);
        }
    } else if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
        close_client(c);
        return;
    }
    watch_input(c);
}

static void on_accept(void *opaque, uint32_t events)
{
    (void)events;
    struct channel *c = opaque;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    uid_t uid;
    if (!unix_peer_allowed(fd, &uid)) {
        close(fd);
        log_warn("channel %s: refused a connection from uid %ld", c->name, (long)(int)uid);
        return;
    }
    close_client(c);
    if (!evloop_add_fd(c->owner->board->loop, fd, EPOLLIN | EPOLLRDHUP, on_client, c)) {
        close(fd);
        return;
    }
    c->client_fd = fd;
    c->reading = true;
}

static void on_guest_output(void *opaque, unsigned port, const uint8_t *buf, size_t len)
{
    struct vmm_channels *v = opaque;
    struct channel *c = &v->ch[port];
    size_t lost = len;
    if (c->client_fd >= 0) {
        bool had = c->to_client.len != 0;
        lost = unix_backlog_send(&c->to_client, c->client_fd, buf, len);
        backlog_changed(c, had);
    }
    if (lost) {
        c->dropped += lost;
        if (c->client_fd >= 0)
            log_warn_ratelimited("channel %s: the client is not reading; dropped %zu bytes",
                                 c->name, lost);
    }
}

static bool on_output_full(void *opaque, unsigned port)
{
    struct vmm_channels *v = opaque;
    struct channel *c = &v->ch[port];
    if (c->client_fd < 0 || c->to_client.len < TO_CLIENT_HIGH)
        return false;
    c->tx_held = true;
    return true;
}

/* After a restore or a revert the guest's buffers may wait in the rings
 * with no kick to come: take them once the loop runs. */
static void resume_all(void *opaque)
{
    struct vmm_channels *v = opaque;
    for (unsigned i = 0; i < v->n; i++) {
        v->ch[i].tx_held = true;
        resume_output(&v->ch[i]);
    }
}

static void on_loaded(void *opaque)
{
    struct vmm_channels *v = opaque;
    evloop_post(v->board->loop, resume_all, v);
}

static void on_guest_open(void *opaque, unsigned port, bool open)
{
    struct vmm_channels *v = opaque;
    log_info("channel %s: %s by the guest", v->ch[port].name, open ? "opened" : "closed");
}

static void on_input_ready(void *opaque, unsigned port)
{
    struct vmm_channels *v = opaque;
    struct channel *c = &v->ch[port];
    push_to_guest(c);
    watch_input(c);
}

json_object *vmm_channels_to_json(void *opaque)
{
    const struct vmm_channels *v = opaque;
    json_object *a = json_object_new_array();
    for (unsigned i = 0; v && i < v->n; i++) {
        const struct channel *c = &v->ch[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "guest-open",
                               json_object_new_boolean(virtio_channels_guest_open(v->vdev, i)));
        json_object_object_add(o, "client", json_object_new_boolean(c->client_fd >= 0));
        json_object_object_add(o, "dropped", json_object_new_int64((int64_t)c->dropped));
        json_object_array_add(a, o);
    }
    return a;
}

static const struct virtio_channel_ops channel_ops = {
    .output = on_guest_output,
    .guest_open = on_guest_open,
    .input_ready = on_input_ready,
    .output_full = on_output_full,
    .loaded = on_loaded,
};

/* loop: where the sockets are watched, or NULL when it is gone. */
static void release(struct vmm_channels *v, struct evloop *loop)
{
    if (!v)
        return;
    for (unsigned i = 0; i < v->n; i++) {
        struct channel *c = &v->ch[i];
        int fds[] = {c->client_fd, c->listen_fd};
        for (unsigned k = 0; k < 2; k++)
            if (fds[k] >= 0) {
                if (loop)
                    evloop_del_fd(loop, fds[k]);
                close(fds[k]);
            }
        if (c->listen_fd >= 0)
            unlink(c->path);
        unix_backlog_free(&c->to_client);
        free(c->name);
        free(c->path);
    }
    free(v);
}

struct vmm_channels *vmm_channels_new(struct board *b, const struct vm_spec *s, char *err,
                                      size_t errlen)
{
    if (!s->nchannels)
        return NULL;
    struct vmm_channels *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "channels: out of memory");
        return NULL;
    }
    v->board = b;
    const char *names[VIRTIO_CHANNELS_MAX];
    for (unsigned i = 0; i < s->nchannels; i++) {
        struct channel *c = &v->ch[i];
        c->owner = v;
        c->port = i;
        c->listen_fd = c->client_fd = -1;
        c->to_client = (struct unix_backlog){.cap = TO_CLIENT_MAX};
        c->name = strdup(s->channels[i].name);
        c->path = strdup(s->channels[i].socket);
        names[i] = s->channels[i].name;
        v->n++;
        char why[400];
        if (!c->name || !c->path) {
            snprintf(err, errlen, "channels: out of memory");
            goto fail;
        }
        c->listen_fd = unix_listen_owner_only(c->path, 4, why, sizeof(why));
        if (c->listen_fd < 0) {
            snprintf(err, errlen, "--channel %s: %s", c->name, why);
            goto fail;
        }
        if (!evloop_add_fd(b->loop, c->listen_fd, EPOLLIN, on_accept, c)) {
            snprintf(err, errlen, "--channel %s: cannot watch the socket", c->name);
            goto fail;
        }
    }
    char why[400];
    v->vdev = virtio_channels_add(b, names, s->nchannels, &channel_ops, v, why, sizeof(why));
    if (!v->vdev) {
        snprintf(err, errlen, "channels: %s", why);
        goto fail;
    }
    return v;
fail:
    release(v, b->loop);
    return NULL;
}

void vmm_channels_free(struct vmm_channels *v)
{
    release(v, NULL); /* the event loop went with the board */
}
