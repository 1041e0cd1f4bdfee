/* SPDX-License-Identifier: MIT */
#include "host/console.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "host/evloop.h"
#include "util/file.h"
#include "util/log.h"
#include "util/unix_socket.h"

#define CTRL_A      0x01
#define LOG_LIMIT   (1u << 20) /* rotate console.log to console.log.1 beyond this */
#define REPLAY_SIZE 4096       /* log tail sent to a client that attaches */
/* Detached output is gathered and written to the log and the client in
 * bursts, not a system call per byte: the UART hands over one byte at a
 * time, and a stream socket charges a whole buffer per send, so byte-sized
 * sends filled a client's socket after a few hundred bytes. */
#define BATCH_SIZE 4096
/* What a client has not read yet; beyond this the oldest is dropped (the
 * log keeps everything, and the guest never waits for a viewer). */
#define BACKLOG_SIZE (64u << 10)

struct console {
    struct evloop *loop;
    int in_fd, out_fd;
    console_quit_cb quit;
    void *quit_opaque;
    console_sink sink;
    void *sink_opaque;
    uint8_t pending[256]; /* input the sink has not taken yet */
    size_t pending_len, pending_pos;
    bool escape;  /* the previous byte was Ctrl-A */
    bool reading; /* fd is watched */
    bool eof;
    /* Detached mode: in_fd is the client (-1 for none), out_fd unused. */
    bool detached;
    int listen_fd;
    char *socket_path;
    struct log_file *log;
    char *log_path;
    uint8_t batch[BATCH_SIZE]; /* output not yet in the log nor sent */
    size_t batch_len;
    bool flush_posted;
    struct unix_backlog backlog; /* output the client's socket did not take */
    /* Progress matching CONSOLE_READY_MARKER in the output. */
    size_t marker_pos;
    bool guest_ready;
    void (*on_ready)(void *opaque);
    void *ready_opaque;
};

/* One saved terminal state for the process: restored at exit and on signals. */
static struct termios saved_termios;
static int saved_fd = -1;

static void restore_terminal(void)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSANOW, &saved_termios);
}

static void on_fatal_signal(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_raw(int fd)
{
    if (!isatty(fd) || saved_fd >= 0)
        return;
    if (tcgetattr(fd, &saved_termios) < 0)
        return;
    saved_fd = fd;
    atexit(restore_terminal);
    /* Only where nobody else listens: a VMM that turns SIGTERM into a
     * clean stop (--save-on-exit) keeps its handler, and exit() restores
     * the terminal then. */
    static const int sigs[] = {SIGTERM, SIGHUP, SIGQUIT};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            signal(sigs[i], on_fatal_signal);
    }
    struct termios raw = saved_termios;
    cfmakeraw(&raw);
    tcsetattr(fd, TCSANOW, &raw);
}

struct console *console_new(struct evloop *loop, int in_fd, int out_fd, console_quit_cb quit,
                            void *opaque)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->loop = loop;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->quit = quit;
    c->quit_opaque = opaque;
    c->listen_fd = -1;
    c->backlog = (struct unix_backlog){.cap = BACKLOG_SIZE, .drop_oldest = true};
    return c;
}

void console_set_sink(struct console *c, console_sink sink, void *opaque)
{
    c->sink = sink;
    c->sink_opaque = opaque;
}

static uint32_t wanted_events(const struct console *c)
{
    return (c->reading ? EPOLLIN : 0) | (c->backlog.len ? EPOLLOUT : 0);
}

static void watch(struct console *c, bool on)
{
    if (c->eof || c->in_fd < 0 || on == c->reading)
        return;
    c->reading = on;
    evloop_mod_fd(c->loop, c->in_fd, wanted_events(c));
}

/* Pushes pending bytes into the sink; stops reading while it is full. */
static void drain(struct console *c)
{
    while (c->pending_pos < c->pending_len && c->sink) {
        size_t n =
            c->sink(c->sink_opaque, c->pending + c->pending_pos, c->pending_len - c->pending_pos);
        if (n == 0)
            break;
        c->pending_pos += n;
    }
    bool empty = c->pending_pos >= c->pending_len;
    if (empty)
        c->pending_pos = c->pending_len = 0;
    watch(c, empty);
}

static void client_gone(struct console *c)
{
    evloop_del_fd(c->loop, c->in_fd);
    close(c->in_fd);
    c->in_fd = -1;
    c->reading = false;
    c->backlog.len = 0;
}

static void flush_backlog(struct console *c);

static void on_input(void *opaque, uint32_t events)
{
    struct console *c = opaque;
    if (c->detached && (events & EPOLLOUT)) {
        flush_backlog(c);
        if (c->in_fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            return;
    }
    uint8_t buf[sizeof(c->pending)];
    /* Injected input (console_inject) may occupy part of pending. */
    size_t room = sizeof(c->pending) - c->pending_len;
    if (room == 0) {
        watch(c, false);
        return;
    }
    ssize_t n = read(c->in_fd, buf, room);
    if (c->detached) {
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            /* The client detached; the guest keeps running. */
            client_gone(c);
            return;
        }
        if (n < 0)
            return;
        /* watch() stops reading while pending is not empty, so it fits. */
        memcpy(c->pending + c->pending_len, buf, (size_t)n);
        c->pending_len += (size_t)n;
        drain(c);
        return;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        /* No more input (e.g. stdin is /dev/null): keep the guest running. */
        evloop_del_fd(c->loop, c->in_fd);
        c->eof = true;
        c->reading = false;
        return;
    }
    if (n < 0)
        return;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t ch = buf[i];
        if (c->escape) {
            c->escape = false;
            if (ch == 'x' || ch == 'X') {
                if (c->quit)
                    c->quit(c->quit_opaque);
                return;
            }
            if (ch != CTRL_A)
                continue; /* unknown escape: swallow it, as QEMU does */
        } else if (ch == CTRL_A) {
            c->escape = true;
            continue;
        }
        c->pending[c->pending_len++] = ch;
    }
    drain(c);
}

static void on_accept(void *opaque, uint32_t events);

bool console_start(struct console *c)
{
    if (c->detached) {
        if (c->listen_fd >= 0 && !evloop_add_fd(c->loop, c->listen_fd, EPOLLIN, on_accept, c))
            return false;
        return true;
    }
    set_raw(c->in_fd);
    if (!evloop_add_fd(c->loop, c->in_fd, EPOLLIN, on_input, c)) {
        /* Not pollable (a regular file): treat it as no input. */
        c->eof = true;
        return true;
    }
    c->reading = true;
    return true;
}

void console_sink_ready(struct console *c)
{
    if (c->pending_len)
        drain(c);
}

static void track_marker(struct console *c, const uint8_t *buf, size_t len)
{
    static const char marker[] = CONSOLE_READY_MARKER;
    for (size_t i = 0; i < len && !c->guest_ready; i++) {
        if (buf[i] == (uint8_t)marker[c->marker_pos])
            c->marker_pos++;
        else
            c->marker_pos = buf[i] == (uint8_t)marker[0];
        if (c->marker_pos == sizeof(marker) - 1) {
            c->guest_ready = true;
            if (c->on_ready)
                c->on_ready(c->ready_opaque);
        }
    }
}

static void log_output(struct console *c, const uint8_t *buf, size_t len)
{
    if (c->log)
        log_file_write(c->log, buf, len);
}

/* EPOLLOUT is watched while output waits. */
static void backlog_changed(struct console *c, bool had)
{
    if (had != (c->backlog.len != 0) && c->in_fd >= 0)
        evloop_mod_fd(c->loop, c->in_fd, wanted_events(c));
}

/* The guest never waits for a client: what its socket does not take waits
 * in the backlog (sent on EPOLLOUT); a client that stops reading loses the
 * oldest output beyond BACKLOG_SIZE. */
static void send_client(struct console *c, const uint8_t *buf, size_t len)
{
    if (c->in_fd < 0 || !len)
        return;
    bool had = c->backlog.len != 0;
    unix_backlog_send(&c->backlog, c->in_fd, buf, len);
    backlog_changed(c, had);
}

static void flush_backlog(struct console *c)
{
    bool had = c->backlog.len != 0;
    unix_backlog_flush(&c->backlog, c->in_fd);
    backlog_changed(c, had);
}

/* The gathered output goes to the log and the client. */
static void flush_batch(struct console *c)
{
    if (!c->batch_len)
        return;
    log_output(c, c->batch, c->batch_len);
    send_client(c, c->batch, c->batch_len);
    c->batch_len = 0;
}

static void on_flush(void *opaque)
{
    struct console *c = opaque;
    c->flush_posted = false;
    flush_batch(c);
}

void console_set_ready_cb(struct console *c, void (*cb)(void *opaque), void *opaque)
{
    c->on_ready = cb;
    c->ready_opaque = opaque;
}

bool console_guest_ready(const struct console *c)
{
    return c->guest_ready;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
    track_marker(c, buf, len);
    if (c->detached) {
        /* Called with the I/O lock held, as on_flush runs. */
        while (len) {
            if (c->batch_len == sizeof(c->batch))
                flush_batch(c);
            size_t n = sizeof(c->batch) - c->batch_len;
            if (n > len)
                n = len;
            memcpy(c->batch + c->batch_len, buf, n);
            c->batch_len += n;
            buf += n;
            len -= n;
        }
        if (!c->flush_posted) {
            c->flush_posted = true;
            evloop_post(c->loop, on_flush, c);
        }
        return;
    }
    while (len) {
        ssize_t n = write(c->out_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return; /* the terminal went away: drop output, keep running */
        }
        buf += n;
        len -= (size_t)n;
    }
}

void console_free(struct console *c)
{
    if (!c)
        return;
    if (c->detached) {
        /* The event loop has stopped: a posted flush will not run. */
        if (c->in_fd >= 0)
            close(c->in_fd);
        c->in_fd = -1;
        flush_batch(c);
        unix_backlog_free(&c->backlog);
        if (c->listen_fd >= 0)
            close(c->listen_fd);
        if (c->socket_path)
            unlink(c->socket_path);
        log_file_close(c->log);
        free(c->socket_path);
        free(c->log_path);
    } else {
        restore_terminal();
    }
    free(c);
}

bool console_inject(struct console *c, const uint8_t *buf, size_t len)
{
    if (len > sizeof(c->pending) - c->pending_len)
        return false;
    memcpy(c->pending + c->pending_len, buf, len);
    c->pending_len += len;
    drain(c);
    return true;
}

/* Sends the tail of the log so a new client sees the current screen. */
static void replay_log(struct console *c)
{
    if (!c->log_path)
        return;
    char err[256];
    int fd = open_regular(c->log_path, O_RDONLY, 0, err, sizeof(err));
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        off_t from = st.st_size > REPLAY_SIZE ? st.st_size - REPLAY_SIZE : 0;
        uint8_t buf[REPLAY_SIZE];
        ssize_t n = pread(fd, buf, sizeof(buf), from);
        if (n > 0)
            send_client(c, buf, (size_t)n);
    }
    close(fd);
}

static void on_accept(void *opaque, uint32_t events)
{
    struct console *c = opaque;
    (void)events;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* Checked before the current client is replaced: a stranger must
     * neither get the console nor knock its owner off it. */
    uid_t uid;
    if (!unix_peer_allowed(fd, &uid)) {
        static const char msg[] = "wirt: only the VMM's user and root may attach\r\n";
        send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        log_warn("--serial-socket: refused a connection from uid %ld", (long)(int)uid);
        return;
    }
    /* The log gets what is gathered first: the replay below shows it. */
    flush_batch(c);
    if (c->in_fd >= 0) {
        static const char msg[] = "\r\n[wirt: another console attached here]\r\n";
        send_client(c, (const uint8_t *)msg, sizeof(msg) - 1);
        client_gone(c);
    }
    c->in_fd = fd;
    c->reading = c->pending_len == 0;
    if (!evloop_add_fd(c->loop, fd, wanted_events(c), on_input, c)) {
        close(fd);
        c->in_fd = -1;
        c->reading = false;
        return;
    }
    replay_log(c);
}

bool console_detach(struct console *c, const char *socket_path, const char *log_path, char *err,
                    size_t errlen)
{
    c->detached = true;
    c->in_fd = -1;
    c->eof = false;
    char why[400];
    if (log_path) {
        /* The guest fills it: rotated like vmm.log so it stays bounded. */
        c->log = log_file_open(log_path, LOG_LIMIT, why, sizeof(why));
        if (!c->log) {
            snprintf(err, errlen, "--serial-log: %s", why);
            return false;
        }
        c->log_path = strdup(log_path);
    }
    if (socket_path) {
        int fd = unix_listen_owner_only(socket_path, 4, why, sizeof(why));
        if (fd < 0) {
            snprintf(err, errlen, "--serial-socket: %s", why);
            return false;
        }
        c->listen_fd = fd;
        c->socket_path = strdup(socket_path);
    }
    return true;
}
