/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control socket (src/vmm/control.c): the
 * input is what one client sends, JSON lines or not.  The real server runs
 * on a real event loop over a real Unix socket; the board and the console
 * behind it are fakes that record what they were asked to do.
 *
 * Besides crashes, sanitizer reports, hangs and leaks it checks the
 * protocol: every reply is one JSON object with "return" or "error", and
 * when no line is over the limit each request line gets exactly one
 * reply (blank lines none).
 *
 * Build: make fuzz-control; run: tests/fuzz/test_fuzz.sh or make fuzz.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cpu/vcpu.h"
#include "machine/board.h"
#include "host/console.h"
#include "vmm/control.h"
#include "vmm/ram_reclaim.h"
#include "host/evloop.h"
#include "util/log.h"

/* ---- the fake board and console (the I/O lock is held in all of them) ---- */

struct console {
    bool ready;
    unsigned injected;
};

void board_power_off(struct board *b, int exit_code)
{
    b->exit_code = exit_code;
    b->power_off = true;
}

void board_request_reset(struct board *b)
{
    b->reset_requested = true;
}

void board_pause(struct board *b)
{
    b->paused = true;
}

void board_resume(struct board *b)
{
    b->paused = false;
}

/* Live migration's dirty-page log is the board's; nothing migrates here. */
bool board_dirty_log_start(struct board *b)
{
    (void)b;
    return false;
}

uint64_t board_dirty_log_take(struct board *b, uint64_t *bitmap)
{
    (void)b;
    (void)bitmap;
    return 0;
}

void board_dirty_log_stop(struct board *b)
{
    (void)b;
}

/* query-resources asks the zero-page reclaim what it gave back: nothing. */
uint64_t ram_reclaim_released(const struct ram_reclaim *r)
{
    (void)r;
    return 0;
}

/* set-resources' reclaim=: no thread here to tell. */
void ram_reclaim_set_interval(struct ram_reclaim *r, int interval_sec)
{
    (void)r, (void)interval_sec;
}

bool console_guest_ready(const struct console *c)
{
    return c->ready;
}

bool console_inject(struct console *c, const uint8_t *buf, size_t len)
{
    (void)buf;
    c->injected += (unsigned)len;
    return true;
}

/* ---- the server, set up once ---- */

static struct board board;
static struct console fake_console;

/* The board's one hart, as far as the control server looks at it
 * (query-cpus reads its name and counters). */
static void fake_vcpu_stats(struct vcpu *v, struct vcpu_stats *out)
{
    (void)v;
    *out = (struct vcpu_stats){0};
}
static const struct vcpu_ops fake_vcpu_ops = {.name = "fake", .stats = fake_vcpu_stats};
static struct vcpu fake_vcpu = {.ops = &fake_vcpu_ops};
static struct control *control;
static char dir[64], sock_path[128];

static void cleanup(void)
{
    unlink(sock_path);
    rmdir(dir);
}

static void start_server(void)
{
    log_set_file(fopen("/dev/null", "w"));
    snprintf(dir, sizeof(dir), "/tmp/wirt-fuzz-control-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(sock_path, sizeof(sock_path), "%s/control.sock", dir);
    atexit(cleanup);
    pthread_mutex_init(&board.bus.io_lock, NULL);
    pthread_cond_init(&board.state_cond, NULL);
    board.loop = evloop_new(&board.bus.io_lock);
    board.console = &fake_console;
    board.cfg.ram_size = 64 << 20;
    board.nharts = 1;
    board.harts[0] = &fake_vcpu;
    char err[256];
    if (!board.loop || !(control = control_new(&board, sock_path, err, sizeof(err))) ||
        !evloop_start(board.loop)) {
        fprintf(stderr, "fuzz_control: cannot start the server: %s\n", err);
        abort();
    }
}

/* ---- one client session ---- */

/* The replies the protocol owes this input, or -1 when a line is over the
 * limit (the server answers that with an error and hangs up). */
static long expected_replies(const uint8_t *data, size_t size)
{
    long n = 0;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n')
            continue;
        size_t len = i - start;
        if (len + 1 > CONTROL_MAX_LINE)
            return -1;
        while (len && (data[start + len - 1] == '\r' || data[start + len - 1] == ' ' ||
                       data[start + len - 1] == '\t'))
            len--;
        if (len)
            n++;
        start = i + 1;
    }
    if (size - start >= CONTROL_MAX_LINE)
        return -1;
    return n;
}

static void check_reply(const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *r = json_tokener_parse_ex(tok, line, (int)len);
    bool ok = r && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(r, json_type_object) &&
              (json_object_object_get_ex(r, "return", NULL) ||
               json_object_object_get_ex(r, "error", NULL));
    if (!ok) {
        fprintf(stderr, "fuzz_control: malformed reply: %.*s\n", (int)len, line);
        abort();
    }
    json_object_put(r);
    json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!control)
        start_server();
    pthread_mutex_lock(&board.bus.io_lock);
    board.paused = board.power_off = board.reset_requested = false;
    fake_console.ready = size && (data[0] & 1); /* powerdown succeeds or not */
    pthread_mutex_unlock(&board.bus.io_lock);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "fuzz_control: connect: %s\n", strerror(errno));
        abort();
    }
    /* Send everything, then read replies until the server hangs up. */
    static char replies[1 << 20];
    size_t sent = 0, got = 0;
    if (size == 0)
        shutdown(fd, SHUT_WR);
    bool eof = false;
    while (!eof) {
        struct pollfd p = {fd, POLLIN | (sent < size ? POLLOUT : 0), 0};
        int ready = poll(&p, 1, 10000);
        if (ready < 0 && errno == EINTR)
            continue; /* libFuzzer's -timeout ticks with SIGALRM */
        if (ready <= 0 || (p.revents & POLLNVAL)) {
            fprintf(stderr,
                    "fuzz_control: the server stopped answering (%zu of %zu bytes sent, %zu "
                    "bytes of replies)\n",
                    sent, size, got);
            abort();
        }
        if ((p.revents & POLLOUT) && sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                sent = size; /* the server hung up on us */
            if (sent == size)
                shutdown(fd, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, replies + got, sizeof(replies) - got);
            if (n <= 0 || got + (size_t)n == sizeof(replies))
                eof = true;
            if (n > 0)
                got += (size_t)n;
        }
    }
    close(fd);

    long lines = 0;
    for (size_t start = 0, i = 0; i < got; i++) {
        if (replies[i] != '\n')
            continue;
        check_reply(replies + start, i - start);
        lines++;
        start = i + 1;
    }
    /* A client that does not keep up with its replies is dropped (by
     * design); a few hundred fit in the socket buffer whatever we do. */
    long want = expected_replies(data, size);
    if (want >= 0 && (want <= 500 ? lines != want : lines > want)) {
        fprintf(stderr, "fuzz_control: %ld replies to %ld requests\n", lines, want);
        abort();
    }
    return 0;
}
