/* SPDX-License-Identifier: MIT */
/*
 * Running an asynchronous control command (move-disk, migrate) from a
 * `wirt vm` verb: one connection that subscribes to job events, starts
 * the command and follows its job to the end, with a progress line on a
 * terminal.  The job-completed event arrives even when the VMM exits right
 * after it (a migrated source): the server flushes it before closing.
 * SIGINT/SIGTERM send job-cancel instead of killing the verb.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm/vm_int.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct line_reader {
    int fd;
    char buf[16384];
    size_t len;
};

/* The next line as JSON, NULL on EOF or after timeout_ms without one. */
static json_object *next_line(struct line_reader *lr, int timeout_ms)
{
    for (;;) {
        char *nl = memchr(lr->buf, '\n', lr->len);
        if (nl) {
            *nl = '\0';
            json_object *o = json_tokener_parse(lr->buf);
            size_t used = (size_t)(nl - lr->buf) + 1;
            memmove(lr->buf, nl + 1, lr->len - used);
            lr->len -= used;
            return o ? o : json_object_new_object();
        }
        if (lr->len == sizeof(lr->buf))
            lr->len = 0; /* a line longer than any reply: drop it */
        struct pollfd p = {.fd = lr->fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            return json_object_new_object(); /* a signal: let the caller look */
        if (r <= 0)
            return NULL;
        ssize_t n = read(lr->fd, lr->buf + lr->len, sizeof(lr->buf) - lr->len);
        if (n <= 0)
            return NULL;
        lr->len += (size_t)n;
    }
}

static bool send_request(int fd, const char *cmd, json_object *args)
{
    json_object *rq = json_object_new_object();
    json_object_object_add(rq, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(rq, "arguments", json_object_get(args));
    char line[4096];
    int n = snprintf(line, sizeof(line), "%s\n",
                     json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN));
    json_object_put(rq);
    return n > 0 && (size_t)n < sizeof(line) && send(fd, line, (size_t)n, MSG_NOSIGNAL) == n;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t num(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

bool vm_job_run(const struct vm_store *st, const char *name, const char *cmd, json_object *args,
                const char *label, struct vm_job_result *res, struct wirt_error *e)
{
    memset(res, 0, sizeof(*res));
    int fd = vm_connect_socket(st, name, VM_CONTROL);
    if (fd < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "cannot reach VM '%s' on its control socket: %s", name,
                       strerror(errno));
    struct line_reader lr = {.fd = fd};
    json_object *events = json_object_new_array(), *sub = json_object_new_object();
    json_object_array_add(events, json_object_new_string("job-progress"));
    json_object_array_add(events, json_object_new_string("job-completed"));
    json_object_object_add(sub, "events", events);
    bool ok = send_request(fd, "subscribe", sub) && send_request(fd, cmd, args);
    json_object_put(sub);
    int64_t job = 0;
    /* The replies to subscribe and to the command, in order. */
    for (int replies = 0; ok && replies < 2;) {
        json_object *o = next_line(&lr, 30000);
        json_object *ret, *err;
        if (!o) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "VM '%s' did not answer %s", name, cmd);
            break;
        }
        if (!str(o, "event")) {
            replies++;
            if (json_object_object_get_ex(o, "error", &err))
                ok = vm_fail(e, WIRT_ERR_FAILED, "%s: %s", cmd,
                             str(err, "desc") ? str(err, "desc") : "error");
            else if (replies == 2 && json_object_object_get_ex(o, "return", &ret))
                job = num(ret, "job");
        }
        json_object_put(o);
    }
    if (!ok || !job) {
        close(fd);
        return ok ? vm_fail(e, WIRT_ERR_FAILED, "%s: no job id in the reply", cmd) : false;
    }
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    interrupted = 0;
    bool tty = isatty(STDERR_FILENO), cancel_sent = false;
    snprintf(res->status, sizeof(res->status), "unknown");
    for (;;) {
        if (interrupted && !cancel_sent) {
            json_object *id = json_object_new_object();
            json_object_object_add(id, "id", json_object_new_int64(job));
            send_request(fd, "job-cancel", id);
            json_object_put(id);
            cancel_sent = true;
        }
        json_object *o = next_line(&lr, 600000), *data;
        if (!o) {
            snprintf(res->error, sizeof(res->error),
                     "lost VM '%s' before the job ended (it may have completed)", name);
            break;
        }
        const char *ev = str(o, "event");
        if (ev && json_object_object_get_ex(o, "data", &data) && num(data, "id") == job) {
            int64_t done = num(data, "done"), total = num(data, "total");
            if (tty && total > 0)
                fprintf(stderr, "\r%s: %3d%%", label, (int)(done * 100 / total));
            if (!strcmp(ev, "job-completed")) {
                snprintf(res->status, sizeof(res->status), "%s",
                         str(data, "status") ? str(data, "status") : "unknown");
                snprintf(res->error, sizeof(res->error), "%s",
                         str(data, "error") ? str(data, "error") : "");
                snprintf(res->result, sizeof(res->result), "%s",
                         str(data, "result") ? str(data, "result") : "");
                json_object_put(o);
                break;
            }
        }
        json_object_put(o);
    }
    if (tty)
        fputc('\n', stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(fd);
    return true;
}
