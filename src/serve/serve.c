/* SPDX-License-Identifier: MIT */
/*
 * `wirt serve`: the REST API of docs/api.md on top of the vm/ library.
 *
 * libmicrohttpd runs one internal polling thread, so requests are handled
 * one at a time: the vm/ library keeps no state between calls and locks
 * each VM itself, and serialising here means the service never races
 * itself on the store.  VMs are detached processes (vm_start), so this
 * process dying never takes one down; a restarted service finds them
 * again through the pid files and control sockets in the VM directories.
 */
#include "serve/serve.h"
#include "serve/serve_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "util/size.h"
#include "util/unix_socket.h"
#include "vm/vm.h"
#include "vm/vm_int.h"

#define SERVE_MAX_BODY   (64 * 1024) /* larger request bodies get 413 */
#define SERVE_MAX_DRAIN  (16 << 20)  /* larger ones are not even read */
#define SERVE_MAX_CONNS  512
#define SERVE_TIMEOUT_S  15 /* idle connections (slowloris) are dropped */
#define SERVE_TOKEN_FILE "serve.token"

/* One TCP peer gets at most half of the connections: a slowloris that
 * drips its headers (so the idle timeout never fires) cannot take them all. */
#define SERVE_MAX_CONNS_PER_IP (SERVE_MAX_CONNS / 2)

/* Per-request state: the body, bounded by SERVE_MAX_BODY. */
struct request {
    char *body;
    size_t len;
    bool too_big;
    struct serve_ws_pending *ws; /* a WebSocket upgrade under way */
};

/* SIGINT/SIGTERM may land on any thread (libmicrohttpd's, the
 * supervisor's, a console's), not the one waiting for it: the handler
 * writes to a pipe that the main thread reads, so whichever thread takes
 * the signal, the main thread wakes.  (A flag and pause() missed it.) */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t n = write(stop_pipe[1], "x", 1); /* full: a wakeup is pending */
    (void)n;
    errno = saved;
}

static void usage_exit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wirt serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_object *o)
{
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    json_object_put(o);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result serve_send_json(struct MHD_Connection *c, unsigned status, json_object *o)
{
    return send_json(c, status, o);
}

enum MHD_Result serve_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(msg));
    return send_json(c, status, o);
}

static unsigned status_of(const struct wirt_error *e)
{
    switch (e->code) {
    case WIRT_ERR_INVALID:
        return MHD_HTTP_BAD_REQUEST;
    case WIRT_ERR_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case WIRT_ERR_EXISTS:
    case WIRT_ERR_BUSY:
    case WIRT_ERR_STATE:
        return MHD_HTTP_CONFLICT;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

enum MHD_Result serve_send_wirt_error(struct MHD_Connection *c, const struct wirt_error *e)
{
    return serve_send_error(c, status_of(e), "%s", e->msg);
}

static enum MHD_Result send_ok(struct MHD_Connection *c, unsigned status)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(true));
    return send_json(c, status, o);
}

static void log_event(struct vm_store *st, const char *name, const char *who, const char *action,
                      const struct wirt_error *err)
{
    vm_event_log(st, name, who, action, err);
}

/* A JSON object body, or NULL (an empty body counts as {}). */
static json_object *parse_body(const struct request *rq, bool *bad)
{
    *bad = false;
    if (rq->len == 0)
        return json_object_new_object();
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o = tok ? json_tokener_parse_ex(tok, rq->body, (int)rq->len) : NULL;
    bool complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
                    (size_t)json_tokener_get_parse_end(tok) == rq->len;
    if (tok)
        json_tokener_free(tok);
    if (!o || !complete || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        *bad = true;
        return NULL;
    }
    return o;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* A size given as a number of bytes or a string like "512M". */
static bool get_size(json_object *o, const char *key, uint64_t *out, bool *present)
{
    json_object *v;
    *present = json_object_object_get_ex(o, key, &v);
    if (!*present)
        return true;
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        *out = (uint64_t)n;
        return n > 0;
    }
    return json_object_is_type(v, json_type_string) && parse_size(json_object_get_string(v), out);
}

static json_object *summary_json(const struct vm_summary *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(s->name));
    json_object_object_add(o, "state", json_object_new_string(vm_state_name(s->rt.state)));
    if (s->config_ok) {
        json_object_object_add(o, "memory", json_object_new_int64((int64_t)s->cfg.memory));
        json_object_object_add(o, "cpus", json_object_new_int((int)s->cfg.cpus));
        json_object_object_add(o, "template", json_object_new_boolean(s->cfg.is_template));
        json_object_object_add(o, "restart",
                               json_object_new_string(vm_restart_name(s->cfg.restart)));
        json_object_object_add(o, "disk-usage", json_object_new_int64((int64_t)s->disk_usage));
    } else {
        json_object_object_add(o, "error", json_object_new_string(s->error));
    }
    if (s->rt.state == VM_STOPPED && s->rt.crashed)
        json_object_object_add(o, "crashed", json_object_new_boolean(true));
    if (s->rt.pid > 0 && s->rt.state != VM_STOPPED) {
        json_object_object_add(o, "pid", json_object_new_int64(s->rt.pid));
        json_object_object_add(o, "uptime", json_object_new_double(s->rt.uptime));
        json_object_object_add(o, "guest-ready", json_object_new_boolean(s->rt.guest_ready));
    }
    return o;
}

/* CPU seconds and resident bytes of a process, from /proc/PID/stat. */
static bool proc_usage(long pid, double *cpu_s, uint64_t *rss)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    if (!p)
        return false;
    unsigned long utime = 0, stime = 0;
    long rss_pages = 0;
    /* After ") ": state(3) ... utime(14) stime(15) ... rss(24). */
    if (sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
               "%*d %*u %*u %ld",
               &utime, &stime, &rss_pages) != 3)
        return false;
    *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    *rss = (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
    return true;
}

static enum MHD_Result metrics(struct MHD_Connection *c, struct vm_store *st)
{
    struct vm_summary *list = NULL;
    size_t n = 0;
    struct wirt_error e = {0};
    if (!vm_list(st, &list, &n, &e))
        return serve_send_wirt_error(c, &e);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        free(list);
        return serve_send_error(c, 500, "out of memory");
    }
    fputs("# HELP wirt_vm_running 1 if the VM's VMM runs.\n# TYPE wirt_vm_running gauge\n", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "wirt_vm_running{vm=\"%s\"} %d\n", list[i].name,
                list[i].rt.state != VM_STOPPED && list[i].rt.state != VM_SUSPENDED);
    fputs("# HELP wirt_vm_memory_bytes Guest RAM configured.\n# TYPE wirt_vm_memory_bytes gauge\n",
          out);
    for (size_t i = 0; i < n; i++)
        if (list[i].config_ok)
            fprintf(out, "wirt_vm_memory_bytes{vm=\"%s\"} %llu\n", list[i].name,
                    (unsigned long long)list[i].cfg.memory);
    fputs("# HELP wirt_vm_disk_usage_bytes Host bytes of the VM's own disks.\n"
          "# TYPE wirt_vm_disk_usage_bytes gauge\n",
          out);
    for (size_t i = 0; i < n; i++)
        if (list[i].config_ok)
            fprintf(out, "wirt_vm_disk_usage_bytes{vm=\"%s\"} %llu\n", list[i].name,
                    (unsigned long long)list[i].disk_usage);
    fputs("# HELP wirt_vm_cpu_seconds_total CPU time of the VM's VMM process.\n"
          "# TYPE wirt_vm_cpu_seconds_total counter\n"
          "# HELP wirt_vm_rss_bytes Resident memory of the VM's VMM process.\n"
          "# TYPE wirt_vm_rss_bytes gauge\n",
          out);
    for (size_t i = 0; i < n; i++) {
        double cpu;
        uint64_t rss;
        if (list[i].rt.state != VM_STOPPED && list[i].rt.pid > 0 &&
            proc_usage(list[i].rt.pid, &cpu, &rss)) {
            fprintf(out, "wirt_vm_cpu_seconds_total{vm=\"%s\"} %.2f\n", list[i].name, cpu);
            fprintf(out, "wirt_vm_rss_bytes{vm=\"%s\"} %llu\n", list[i].name,
                    (unsigned long long)rss);
        }
    }
    fclose(out);
    free(list);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result read_log(struct MHD_Connection *c, struct vm_store *st, const char *name)
{
    return send_json(c, MHD_HTTP_OK, vm_event_read(st, name));
}

static bool is(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* The API proper: path is what follows /api/v1/. */
static enum MHD_Result api(struct serve *sv, struct MHD_Connection *c, const char *method,
                           const char *path, const struct request *rq, const char *who)
{
    char parts[4][VM_NAME_MAX + 2];
    unsigned np = 0;
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (np == 4 || len >= sizeof(parts[0]))
            return serve_send_error(c, 404, "no such resource: /api/v1/%.100s", path);
        memcpy(parts[np], p, len);
        parts[np++][len] = '\0';
        p += len + (slash != NULL);
    }
    if (np == 1 && is(parts[0], "metrics") && is(method, "GET")) {
        struct wirt_error e = {0};
        struct vm_store *st = vm_store_open(sv->store, false, &e);
        if (!st)
            return serve_send_wirt_error(c, &e);
        enum MHD_Result r = metrics(c, st);
        vm_store_close(st);
        return r;
    }
    if (np == 1 && is(parts[0], "events") && is(method, "GET")) {
        /* The events still in the ring after ?since=SEQ (default: all);
         * GET with a WebSocket upgrade streams them instead. */
        const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
        uint64_t cursor = since ? strtoull(since, NULL, 10) + 1 : 0;
        json_object *arr = json_object_new_array();
        char *ev;
        uint64_t lost;
        while (json_object_array_length(arr) < 1024 && (ev = serve_events_get(&cursor, 0, &lost))) {
            json_object_array_add(arr, json_tokener_parse(ev));
            free(ev);
        }
        return send_json(c, 200, arr);
    }
    if (np == 0 || !is(parts[0], "vms"))
        return serve_send_error(c, 404, "no such resource: /api/v1/%.100s", path);
    if (np >= 2 && !vm_name_valid(parts[1]))
        return serve_send_error(c, 400, "bad VM name '%.70s' (letters, digits, '-', '_', '.')",
                                parts[1]);

    bool bad = false;
    json_object *body = parse_body(rq, &bad);
    if (bad)
        return serve_send_error(c, 400, "the request body is not a JSON object");

    struct wirt_error e = {0};
    bool creates = np == 1 || (np == 3 && is(parts[2], "clone"));
    struct vm_store *st = vm_store_open(sv->store, creates, &e);
    if (!st) {
        json_object_put(body);
        return serve_send_wirt_error(c, &e);
    }
    enum MHD_Result ret;
    const char *name = np >= 2 ? parts[1] : NULL;
    const char *verb = np >= 3 ? parts[2] : NULL;
    bool ok = false, logged = true;
    char action[128] = "";

    if (np == 1 && is(method, "GET")) {
        struct vm_summary *list = NULL;
        size_t n = 0;
        logged = false;
        if (!vm_list(st, &list, &n, &e)) {
            ret = serve_send_wirt_error(c, &e);
        } else {
            json_object *arr = json_object_new_array();
            for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, summary_json(&list[i]));
            free(list);
            ret = send_json(c, 200, arr);
        }
    } else if (np == 1 && is(method, "POST")) {
        const char *vname = get_str(body, "name");
        struct vm_create_opts o = {.from = get_str(body, "from"),
                                   .display = get_str(body, "display")};
        bool have;
        json_object *v;
        char why[256];
        if (!vname || !vm_name_valid(vname)) {
            ret = serve_send_error(c, 400, "\"name\": a valid VM name is required");
            logged = false;
        } else if (o.display && strcmp(o.display, "none") &&
                   (strlen(o.display) >= 96 || !vm_display_text_ok(o.display, why, sizeof(why)))) {
            ret = serve_send_error(c, 400, "\"display\": gpu, vnc, vnc=ADDR:PORT or none");
            logged = false;
        } else if (!get_size(body, "memory", &o.memory, &have) ||
                   !get_size(body, "disk-size", &o.disk_size, &have)) {
            ret = serve_send_error(c, 400, "\"memory\"/\"disk-size\": a size like 512M or bytes");
            logged = false;
        } else if (json_object_object_get_ex(body, "cpus", &v) &&
                   (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
                    json_object_get_int(v) > 64)) {
            ret = serve_send_error(c, 400, "\"cpus\": an integer from 1 to 64");
            logged = false;
        } else {
            if (v && json_object_is_type(v, json_type_int))
                o.cpus = (unsigned)json_object_get_int(v);
            if (!o.from)
                o.from = VM_DEFAULT_TEMPLATE;
            name = vname;
            snprintf(action, sizeof(action), "create from %.64s", o.from);
            ok = vm_create(st, vname, &o, &e);
            ret = ok ? send_ok(c, 201) : serve_send_wirt_error(c, &e);
        }
    } else if (np == 2 && is(method, "GET")) {
        struct vm_config cfg;
        struct vm_runtime rt;
        logged = false;
        json_object *info = vm_info(st, name, &cfg, &rt, &e);
        ret = info ? send_json(c, 200, info) : serve_send_wirt_error(c, &e);
    } else if (np == 2 && is(method, "DELETE")) {
        snprintf(action, sizeof(action), "delete");
        ok = vm_delete(st, name, &e);
        logged = false; /* the directory, and its log, are gone */
        ret = ok ? send_ok(c, 200) : serve_send_wirt_error(c, &e);
    } else if (np == 2 && (is(method, "PATCH") || is(method, "POST"))) {
        /* Settings as `wirt vm set` takes them: {"memory": "1G", "cpus": 2}. */
        char *settings[16];
        size_t n = 0;
        bool badval = false;
        json_object_object_foreach(body, key, val)
        {
            if (n == 16 || strlen(key) > 32 ||
                !(json_object_is_type(val, json_type_string) ||
                  json_object_is_type(val, json_type_int))) {
                badval = true;
                break;
            }
            if (asprintf(&settings[n], "%s=%s", key, json_object_get_string(val)) < 0) {
                badval = true;
                break;
            }
            n++;
        }
        if (badval || n == 0) {
            ret = serve_send_error(c, 400,
                                   "the body must map up to 16 settings to strings or numbers");
            logged = false;
        } else {
            snprintf(action, sizeof(action), "set");
            for (size_t i = 0; i < n; i++) {
                size_t l = strlen(action);
                snprintf(action + l, sizeof(action) - l, " %.40s", settings[i]);
            }
            ok = vm_set(st, name, settings, n, &e);
            ret = ok ? send_ok(c, 200) : serve_send_wirt_error(c, &e);
        }
        for (size_t i = 0; i < n; i++)
            free(settings[i]);
    } else if (np == 3 && is(method, "GET") && is(verb, "log")) {
        logged = false;
        ret = vm_require(st, name, &e) ? read_log(c, st, name) : serve_send_wirt_error(c, &e);
    } else if (np == 3 && is(method, "GET") && is(verb, "snapshots")) {
        logged = false;
        struct vm_config cfg;
        struct vm_runtime rt;
        json_object *info = vm_info(st, name, &cfg, &rt, &e);
        if (!info) {
            ret = serve_send_wirt_error(c, &e);
        } else {
            /* Every disk carries the same snapshots (vm_snapshot does them
             * all); the first disk's list is the VM's. */
            json_object *disks, *d0, *snaps;
            json_object *arr = NULL;
            if (json_object_object_get_ex(info, "disks", &disks) &&
                (d0 = json_object_array_get_idx(disks, 0)) &&
                json_object_object_get_ex(d0, "snapshots", &snaps))
                arr = json_object_get(snaps);
            json_object_put(info);
            ret = send_json(c, 200, arr ? arr : json_object_new_array());
        }
    } else if (np == 3 && is(method, "POST") && is(verb, "snapshots")) {
        const char *snap = get_str(body, "name");
        if (!snap || !vm_file_name_valid(snap)) {
            ret = serve_send_error(c, 400, "\"name\": a snapshot name is required");
            logged = false;
        } else {
            snprintf(action, sizeof(action), "snapshot create %.64s", snap);
            ok = vm_snapshot(st, name, "create", snap, &e);
            ret = ok ? send_ok(c, 201) : serve_send_wirt_error(c, &e);
        }
    } else if (np == 4 && is(verb, "snapshots") && (is(method, "DELETE") || is(method, "POST"))) {
        const char *snap = parts[3];
        const char *op = is(method, "DELETE") ? "delete" : "revert";
        if (!vm_file_name_valid(snap)) {
            ret = serve_send_error(c, 400, "bad snapshot name");
            logged = false;
        } else {
            snprintf(action, sizeof(action), "snapshot %s %.64s", op, snap);
            ok = vm_snapshot(st, name, op, snap, &e);
            ret = ok ? send_ok(c, 200) : serve_send_wirt_error(c, &e);
        }
    } else if (np == 3 && is(method, "POST") &&
               (is(verb, "start") || is(verb, "stop") || is(verb, "restart"))) {
        json_object *v;
        bool force = json_object_object_get_ex(body, "force", &v) && json_object_get_boolean(v);
        int timeout = 60;
        bool tgiven = json_object_object_get_ex(body, "timeout", &v);
        if (tgiven)
            timeout = json_object_get_int(v);
        if (timeout < 1 || timeout > 3600) {
            ret = serve_send_error(c, 400, "\"timeout\": seconds from 1 to 3600");
            logged = false;
        } else {
            snprintf(action, sizeof(action), "%s%s", verb, force ? " (force)" : "");
            struct vm_stop_result sr = {0};
            struct vm_start_result str = {0};
            ok = true;
            if (!is(verb, "start"))
                ok = vm_stop(st, name, force, timeout, tgiven, &sr, &e);
            if (ok && !is(verb, "stop"))
                ok = vm_start(st, name, &str, &e);
            if (!ok) {
                ret = serve_send_wirt_error(c, &e);
            } else {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "ok", json_object_new_boolean(true));
                if (str.pid)
                    json_object_object_add(o, "pid", json_object_new_int64(str.pid));
                ret = send_json(c, 200, o);
            }
        }
    } else if (np == 3 && is(method, "POST") && is(verb, "clone")) {
        const char *dst = get_str(body, "name");
        json_object *v;
        bool linked = json_object_object_get_ex(body, "linked", &v) && json_object_get_boolean(v);
        if (!dst || !vm_name_valid(dst)) {
            ret = serve_send_error(c, 400, "\"name\": a valid name for the clone is required");
            logged = false;
        } else {
            snprintf(action, sizeof(action), "clone to %.64s%s", dst, linked ? " (linked)" : "");
            ok = vm_clone(st, name, dst, linked, &e);
            ret = ok ? send_ok(c, 201) : serve_send_wirt_error(c, &e);
        }
    } else if (np == 3 && is(method, "POST") && is(verb, "template")) {
        snprintf(action, sizeof(action), "template");
        ok = vm_make_template(st, name, &e);
        ret = ok ? send_ok(c, 200) : serve_send_wirt_error(c, &e);
    } else {
        logged = false;
        ret = serve_send_error(c, 404, "no such resource: %s /api/v1/%.100s", method, path);
    }
    if (logged && name)
        log_event(st, name, who, action, ok ? NULL : &e);
    vm_store_close(st);
    json_object_put(body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    struct serve *sv = cls;
    struct request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        /* A body announced too big is refused before it is read when the
         * client waits for that (Expect: 100-continue, as curl does) or
         * announces something absurd; libmicrohttpd then closes the
         * connection.  Other clients send their body before they read,
         * so theirs is read and dropped (on_request keeps none of it) and
         * then refused: they see the 413 instead of a reset. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
        unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        if (announced > SERVE_MAX_DRAIN ||
            (announced > SERVE_MAX_BODY && expect && !strcasecmp(expect, "100-continue")))
            return serve_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                    "the request body exceeds %d bytes", SERVE_MAX_BODY);
        return MHD_YES;
    }
    if (*data_size) {
        if (rq->too_big || rq->len + *data_size > SERVE_MAX_BODY) {
            rq->too_big = true;
        } else {
            char *nb = realloc(rq->body, rq->len + *data_size + 1);
            if (!nb)
                return MHD_NO;
            rq->body = nb;
            memcpy(rq->body + rq->len, data, *data_size);
            rq->len += *data_size;
            rq->body[rq->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (serve_web_handles(url))
        return serve_web(sv, c, method, url, rq->body, rq->len);
    enum serve_auth auth = serve_web_auth(sv, c);
    if (auth == SERVE_AUTH_NONE) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error",
                               json_object_new_string("a bearer token is required (Authorization: "
                                                      "Bearer <STORE/serve.token>)"));
        const char *text = json_object_to_json_string(o);
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
        json_object_put(o);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
        MHD_destroy_response(r);
        return ret;
    }
    const char *why = NULL;
    if (auth == SERVE_AUTH_COOKIE && !serve_web_same_origin(c, method, &why))
        return serve_send_error(c, 403, "%s", why);
    if (rq->too_big)
        return serve_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the request body exceeds %d bytes",
                                SERVE_MAX_BODY);
    if (!strncmp(url, "/api/v1/", 8)) {
        const char *who = auth == SERVE_AUTH_COOKIE   ? "api-browser"
                          : auth == SERVE_AUTH_BEARER ? "api-token"
                                                      : "api-unix";
        if (!strcmp(url + 8, "events") && !strcmp(method, "GET") && serve_ws_is_upgrade(c))
            return serve_ws_events(c, &rq->ws);
        char name[VM_NAME_MAX + 1];
        int end = 0;
        if (!strcmp(method, "GET") && serve_ws_is_upgrade(c) &&
            sscanf(url + 8, "vms/%64[^/]/console%n", name, &end) == 1 && url[8 + end] == '\0') {
            if (!vm_name_valid(name))
                return serve_send_error(c, 400, "bad VM name '%.70s'", name);
            return serve_ws_console(sv, c, name, &rq->ws);
        }
        /* The display: its VNC endpoint (GET), or a WebSocket to it. */
        if (!strcmp(method, "GET") && sscanf(url + 8, "vms/%64[^/]/display%n", name, &end) == 1 &&
            url[8 + end] == '\0') {
            if (!vm_name_valid(name))
                return serve_send_error(c, 400, "bad VM name '%.70s'", name);
            return serve_display(sv, c, name, serve_ws_is_upgrade(c), &rq->ws);
        }
        return api(sv, c, method, url + 8, rq, who);
    }
    return serve_send_error(c, 404, "no such resource: %.100s", url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct request *rq = *con_cls;
    if (rq) {
        serve_ws_release(rq->ws);
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The token in STORE/serve.token, made (0600, 32 random bytes in hex) on
 * the first TCP start. */
static bool load_token(struct serve *sv)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", sv->store, SERVE_TOKEN_FILE);
    mkdir(sv->store, 0700);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        ssize_t n = read(fd, sv->token, 64);
        close(fd);
        if (n != 64) {
            fprintf(stderr, "wirt serve: %s: not a 64-digit token\n", path);
            return false;
        }
        sv->token[64] = '\0';
        return true;
    }
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return false;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(sv->token + 2 * i, 3, "%02x", raw[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, sv->token, 64) != 64) {
        fprintf(stderr, "wirt serve: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    return true;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The URL's %HH escapes, decoded in place, except %00: a NUL would cut
 * the path short where the handlers read it ("/api/v1/vms/%00" would be
 * "/api/v1/vms/"), so it stays "%00", which no name accepts. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    char *out = s;
    for (const char *in = s; *in;) {
        int hi = in[0] == '%' ? hex_digit(in[1]) : -1;
        int lo = hi >= 0 ? hex_digit(in[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *out++ = (char)(hi << 4 | lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

struct MHD_Daemon *serve_http_start(struct serve *sv, unsigned flags, int lfd,
                                    const struct sockaddr_in *sin, const char *cert_pem,
                                    const char *key_pem)
{
    struct MHD_OptionItem opts[4];
    unsigned n = 0;
    if (sin)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)sin};
    else if (lfd >= 0)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, lfd, NULL};
    if (cert_pem) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem};
    }
    opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (!sin && lfd < 0)
        flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    return MHD_start_daemon(
        flags, sin ? ntohs(sin->sin_port) : 0, NULL, NULL, on_request, sv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)SERVE_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)SERVE_MAX_CONNS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_UNESCAPE_CALLBACK,
        unescape, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static const char usage[] =
    "usage: wirt serve [--store DIR] [--socket PATH | --listen ADDR:PORT\n"
    "                  [--tls-cert FILE --tls-key FILE]] [--web DIR]\n"
    "Serves the REST API of docs/api.md.  Default: the owner-only Unix socket\n"
    "STORE/serve.sock.  On TCP every request needs the bearer token in\n"
    "STORE/serve.token; any address but loopback also needs TLS.  On TCP\n"
    "the web UI is at http(s)://ADDR:PORT/ (built by `make web`).\n";

int serve_main(int argc, char **argv)
{
    struct serve sv = {0};
    const char *store = getenv("WIRT_STORE");
    const char *sock = NULL, *listen_at = NULL, *cert = NULL, *key = NULL, *web = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc)
            usage_exit("%s: unknown option or missing value (see wirt serve --help)", a);
        if (!strcmp(a, "--store"))
            store = argv[++i];
        else if (!strcmp(a, "--socket"))
            sock = argv[++i];
        else if (!strcmp(a, "--listen"))
            listen_at = argv[++i];
        else if (!strcmp(a, "--tls-cert"))
            cert = argv[++i];
        else if (!strcmp(a, "--tls-key"))
            key = argv[++i];
        else if (!strcmp(a, "--web"))
            web = argv[++i];
        else
            usage_exit("%s: unknown option (see wirt serve --help)", a);
    }
    if (!store) {
        const char *home = getenv("HOME");
        snprintf(sv.store, sizeof(sv.store), "%s/.local/share/wirt", home ? home : ".");
    } else if (strlen(store) >= VM_STORE_ROOT_MAX) {
        usage_exit("--store: path too long");
    } else {
        snprintf(sv.store, sizeof(sv.store), "%s", store);
    }
    if (sock && listen_at)
        usage_exit("--socket and --listen: give one");
    if (!cert != !key)
        usage_exit("--tls-cert and --tls-key go together");
    if (cert && !listen_at)
        usage_exit("--tls-cert: TLS is for --listen");

    serve_web_locate(&sv, web);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
    int lfd = -1;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    char *cert_pem = NULL, *key_pem = NULL;
    char sockpath[PATH_MAX + 32];
    if (listen_at) {
        char host[64];
        unsigned port = 0;
        const char *colon = strrchr(listen_at, ':');
        if (!colon || (size_t)(colon - listen_at) >= sizeof(host) ||
            sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535)
            usage_exit("--listen %s: want ADDR:PORT (IPv4)", listen_at);
        memcpy(host, listen_at, (size_t)(colon - listen_at));
        host[colon - listen_at] = '\0';
        if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
            usage_exit("--listen %s: '%s' is not an IPv4 address", listen_at, host);
        sin.sin_port = htons((uint16_t)port);
        bool loopback = (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
        if (!loopback && !cert)
            usage_exit("--listen %s: not loopback, so --tls-cert and --tls-key are required",
                       listen_at);
        if (cert) {
            cert_pem = read_small_file(cert);
            key_pem = read_small_file(key);
            if (!cert_pem || !key_pem)
                usage_exit("%s: cannot read", !cert_pem ? cert : key);
            flags |= MHD_USE_TLS;
            sv.tls = true;
        }
        sv.tcp = true;
        if (!load_token(&sv))
            return 1;
    } else {
        if (!sock) {
            mkdir(sv.store, 0700);
            snprintf(sockpath, sizeof(sockpath), "%s/serve.sock", sv.store);
        } else {
            snprintf(sockpath, sizeof(sockpath), "%s", sock);
        }
        char err[PATH_MAX + 128];
        lfd = unix_listen_owner_only(sockpath, 128, err, sizeof(err));
        if (lfd < 0) {
            fprintf(stderr, "wirt serve: %s\n", err);
            return 1;
        }
    }

    signal(SIGPIPE, SIG_IGN);
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "wirt serve: pipe: %s\n", strerror(errno));
        return 1;
    }
    /* The reading end waits; only the writing end must not block. */
    fcntl(stop_pipe[0], F_SETFL, 0);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct MHD_Daemon *d =
        serve_http_start(&sv, flags, lfd, listen_at ? &sin : NULL, cert_pem, key_pem);
    if (!d) {
        fprintf(stderr, "wirt serve: cannot start the HTTP server on %s\n",
                listen_at ? listen_at : sockpath);
        return 1;
    }
    if (!serve_supervise_start(&sv)) {
        fprintf(stderr, "wirt serve: cannot start the supervisor thread\n");
        MHD_stop_daemon(d);
        return 1;
    }
    fprintf(stderr, "wirt serve: serving %s on %s\n", sv.store, listen_at ? listen_at : sockpath);
    if (listen_at && sv.web_dir[0])
        /* The token rides in the fragment, which never leaves the browser;
         * the page trades it for a cookie and forgets it. */
        fprintf(stderr, "wirt serve: web UI: %s://%s/#token=%s\n", sv.tls ? "https" : "http",
                listen_at, sv.token);
    else if (listen_at)
        fprintf(stderr, "wirt serve: no web UI (run `make web`, or give --web DIR)\n");
    char byte;
    while (read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR)
        ;
    serve_ws_stop();
    serve_supervise_stop();
    MHD_stop_daemon(d);
    if (!listen_at)
        unlink(sockpath);
    free(cert_pem);
    free(key_pem);
    return 0;
}
