/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the request handling of `wirt serve`
 * (src/serve/): the input is what one client sends on one connection,
 * HTTP or not: request lines, paths with tricks, headers (the bearer
 * token, cookies, Origin, WebSocket upgrades), JSON bodies.  The real
 * libmicrohttpd daemon with the service's handlers and limits runs once;
 * each input arrives on a fresh socketpair through MHD_add_connection.
 *
 * The store is a temporary one with no VMs and no default template (its
 * first-run marker is there), so no input can create or start a VM: the
 * target exercises parsing, routing, authentication and validation, and
 * every VM verb down to the store's "no VM named" answer.
 *
 * Besides crashes, sanitizer reports, hangs and leaks it checks the
 * answer: the first response is an HTTP/1.x status line, and a JSON one
 * (Content-Type application/json with a Content-Length) parses as JSON.
 *
 * Build: make fuzz-serve; run: tests/fuzz/test_fuzz.sh or make fuzz.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "serve/serve_int.h"

/* The token the corpus uses ("Authorization: Bearer " + this). */
#define FUZZ_TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct serve sv;
static struct MHD_Daemon *daemon_;
static char root[64];

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
}

static void cleanup(void)
{
    if (daemon_)
        MHD_stop_daemon(daemon_);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (root[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz_serve: cannot remove %s\n", root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(root, sizeof(root), "/tmp/wirt-fuzz-serve-XXXXXX");
    if (!mkdtemp(root))
        abort();
    char p[PATH_MAX];
    snprintf(sv.store, sizeof(sv.store), "%s/store", root);
    mkdir(sv.store, 0700);
    snprintf(p, sizeof(p), "%s/vms", sv.store);
    mkdir(p, 0700);
    /* The store counts as initialised: no default template gets made. */
    snprintf(p, sizeof(p), "%s/.initialized", sv.store);
    write_file(p, "wirt store\n");
    snprintf(sv.web_dir, sizeof(sv.web_dir), "%s/web", root);
    mkdir(sv.web_dir, 0700);
    snprintf(p, sizeof(p), "%s/index.html", sv.web_dir);
    write_file(p, "<html></html>\n");
    snprintf(p, sizeof(p), "%s/app.js", sv.web_dir);
    write_file(p, "// app\n");
    sv.tcp = true; /* the token and cookie checks are the interesting half */
    snprintf(sv.token, sizeof(sv.token), "%s", FUZZ_TOKEN);
    signal(SIGPIPE, SIG_IGN);
    daemon_ = serve_http_start(&sv, MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE, -1, NULL,
                               NULL, NULL);
    if (!daemon_) {
        fprintf(stderr, "fuzz_serve: cannot start the HTTP daemon\n");
        abort();
    }
    atexit(cleanup);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first response in buf must be well formed. */
static void check_response(const char *buf, size_t len)
{
    if (len == 0)
        return; /* MHD may drop a connection that never made a request */
    if (len < 12 || (strncmp(buf, "HTTP/1.1 ", 9) && strncmp(buf, "HTTP/1.0 ", 9)) ||
        buf[9] < '1' || buf[9] > '5') {
        fprintf(stderr, "fuzz_serve: not an HTTP response: %.40s\n", buf);
        abort();
    }
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return; /* cut short by the client's close: fine */
    size_t hlen = (size_t)(end - buf) + 4;
    char *head = strndup(buf, hlen);
    if (!head)
        abort();
    const char *cl = strcasestr(head, "\r\nContent-Length: ");
    bool json = strcasestr(head, "\r\nContent-Type: application/json") != NULL;
    /* A HEAD answer has a Content-Length but no body: what follows is the
     * next response, if anything. */
    bool body_follows = len - hlen >= 7 ? strncmp(buf + hlen, "HTTP/1.", 7) != 0 : true;
    if (json && cl && body_follows) {
        size_t n = strtoul(cl + 18, NULL, 10);
        if (hlen + n <= len && n > 0) {
            json_tokener *tok = json_tokener_new();
            json_object *o = json_tokener_parse_ex(tok, buf + hlen, (int)n);
            if (!o) {
                fprintf(stderr, "fuzz_serve: a JSON response does not parse: %.*s\n", (int)n,
                        buf + hlen);
                abort();
            }
            json_object_put(o);
            json_tokener_free(tok);
        }
    }
    free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        abort();
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    if (MHD_add_connection(daemon_, sp[1], (const struct sockaddr *)&peer, sizeof(peer)) !=
        MHD_YES) {
        /* The connection limit: earlier WebSockets still closing. */
        close(sp[0]);
        usleep(10000);
        return 0;
    }
    /* The whole input, then end of input: a request cut short is one of
     * the things to try. */
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(sp[0], data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server closed early (a bad request line) */
        off += (size_t)n;
    }
    shutdown(sp[0], SHUT_WR);
    /* The answer, until the server closes (it does on end of input) or a
     * hang that the per-input timeout would report anyway. */
    static char buf[256 * 1024];
    size_t len = 0;
    double deadline = now() + 10;
    for (;;) {
        struct pollfd p = {.fd = sp[0], .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0) {
            ssize_t n = recv(sp[0], buf + len, sizeof(buf) - 1 - len, 0);
            if (n <= 0)
                break;
            len += (size_t)n;
            if (len == sizeof(buf) - 1)
                break;
        }
        if (now() > deadline)
            break;
    }
    buf[len] = '\0';
    close(sp[0]);
    if (getenv("FUZZ_SERVE_VERBOSE")) /* for looking at what the corpus gets */
        fprintf(stderr, "fuzz_serve: %.*s\n", (int)strcspn(buf, "\r"), buf);
    check_response(buf, len);
    return 0;
}
