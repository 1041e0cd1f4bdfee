/* SPDX-License-Identifier: MIT */
#include "machine/console.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "machine/evloop.h"

#define CTRL_A 0x01

struct console {
    struct evloop *loop;
    int in_fd, out_fd;
    console_quit_cb quit;
    void *quit_opaque;
    console_sink sink;
    void *sink_opaque;
    uint8_t pending[256]; /* input the sink has not taken yet */
    size_t pending_len, pending_pos;
    bool escape;      /* the previous byte was Ctrl-A */
    bool reading;     /* fd is watched */
    bool eof;
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
    signal(SIGTERM, on_fatal_signal);
    signal(SIGHUP, on_fatal_signal);
    signal(SIGQUIT, on_fatal_signal);
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
    return c;
}

void console_set_sink(struct console *c, console_sink sink, void *opaque)
{
    c->sink = sink;
    c->sink_opaque = opaque;
}

static void watch(struct console *c, bool on)
{
    if (c->eof || on == c->reading)
        return;
    c->reading = on;
    evloop_mod_fd(c->loop, c->in_fd, on ? EPOLLIN : 0);
}

/* Pushes pending bytes into the sink; stops reading while it is full. */
static void drain(struct console *c)
{
    while (c->pending_pos < c->pending_len && c->sink) {
        size_t n = c->sink(c->sink_opaque, c->pending + c->pending_pos,
                           c->pending_len - c->pending_pos);
        if (n == 0)
            break;
        c->pending_pos += n;
    }
    bool empty = c->pending_pos >= c->pending_len;
    if (empty)
        c->pending_pos = c->pending_len = 0;
    watch(c, empty);
}

static void on_input(void *opaque, uint32_t events)
{
    struct console *c = opaque;
    (void)events;
    uint8_t buf[sizeof(c->pending)];
    ssize_t n = read(c->in_fd, buf, sizeof(buf));
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

bool console_start(struct console *c)
{
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

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
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
    restore_terminal();
    free(c);
}
