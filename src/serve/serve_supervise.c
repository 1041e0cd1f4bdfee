/* SPDX-License-Identifier: MIT */
/*
 * The service's watch over the store: once a second it looks at every
 * VM, turns what changed into events (for GET /api/v1/events), and
 * restarts the VMs whose policy says so when their VMM died.
 *
 * VMs are not children of the service (they outlive it), so a death is
 * seen from the store: a VMM that stops removes its pid file, and the vm
 * library marks a VM whose pid file outlived its process as crashed.
 * Restarts back off: at most SUPERVISE_MAX_RESTARTS within
 * SUPERVISE_WINDOW_S, then the VM stays down and an event says why, so a
 * guest that kills its VMM at boot cannot make the host spin.
 *
 * Events live in a ring of SUPERVISE_RING entries; a reader that falls
 * further behind is told how many it lost instead of holding memory.
 */
#include "serve/serve_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "vm/vm_int.h"

#define SUPERVISE_RING         256
#define SUPERVISE_PERIOD_MS    1000
#define SUPERVISE_MAX_VMS      1024
#define SUPERVISE_MAX_RESTARTS 3
#define SUPERVISE_WINDOW_S     300

struct seen {
    char name[VM_NAME_MAX + 1];
    enum vm_state state;
    bool crashed;
    unsigned restarts; /* within the window that began at window_start */
    time_t window_start;
    bool gave_up;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t more;
    char *ring[SUPERVISE_RING]; /* JSON text of event seq % SUPERVISE_RING */
    uint64_t next_seq;          /* of the next event; the first is 1 */
    bool stop;
    pthread_t thread;
    bool running;
    const struct serve *sv;
    struct seen *seen;
    size_t nseen;
} sup = {.lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER, .next_seq = 1};

static void emit(const char *vm, const char *event, json_object *extra)
{
    json_object *o = extra ? extra : json_object_new_object();
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    pthread_mutex_lock(&sup.lock);
    json_object_object_add(o, "seq", json_object_new_int64((int64_t)sup.next_seq));
    json_object_object_add(o, "time", json_object_new_string(when));
    json_object_object_add(o, "vm", json_object_new_string(vm));
    json_object_object_add(o, "event", json_object_new_string(event));
    char **slot = &sup.ring[sup.next_seq % SUPERVISE_RING];
    free(*slot);
    *slot = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    sup.next_seq++;
    pthread_cond_broadcast(&sup.more);
    pthread_mutex_unlock(&sup.lock);
    json_object_put(o);
}

static void emit_state(const char *vm, enum vm_state now, enum vm_state before)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "state", json_object_new_string(vm_state_name(now)));
    json_object_object_add(o, "previous", json_object_new_string(vm_state_name(before)));
    emit(vm, "state", o);
}

static struct seen *find_seen(const char *name)
{
    for (size_t i = 0; i < sup.nseen; i++)
        if (!strcmp(sup.seen[i].name, name))
            return &sup.seen[i];
    return NULL;
}

/* Restarts a crashed VM whose policy asks for it, within the budget. */
static void maybe_restart(struct vm_store *st, const struct vm_summary *v, struct seen *s)
{
    time_t now = time(NULL);
    if (now - s->window_start > SUPERVISE_WINDOW_S) {
        s->window_start = now;
        s->restarts = 0;
        s->gave_up = false;
    }
    if (s->gave_up)
        return;
    if (s->restarts >= SUPERVISE_MAX_RESTARTS) {
        s->gave_up = true;
        char why[128];
        snprintf(why, sizeof(why), "crashed %u times within %d s: not restarting", s->restarts + 1,
                 SUPERVISE_WINDOW_S);
        struct wirt_error e = {.code = WIRT_ERR_FAILED};
        snprintf(e.msg, sizeof(e.msg), "%s", why);
        vm_event_log(st, v->name, "serve", "restart after crash", &e);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "reason", json_object_new_string(why));
        emit(v->name, "restart-given-up", o);
        return;
    }
    s->restarts++;
    struct wirt_error e = {0};
    struct vm_start_result res;
    bool ok = vm_start(st, v->name, &res, &e);
    vm_event_log(st, v->name, "serve", "restart after crash", ok ? NULL : &e);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(ok));
    if (!ok)
        json_object_object_add(o, "error", json_object_new_string(e.msg));
    emit(v->name, "restarted", o);
    if (ok) {
        /* What this tick now knows, so the next one reports a new death. */
        s->state = VM_RUNNING;
        s->crashed = false;
    }
}

static void tick(void)
{
    struct wirt_error e = {0};
    struct vm_store *st = vm_store_open(sup.sv->store, false, &e);
    if (!st)
        return;
    struct vm_summary *list = NULL;
    size_t n = 0;
    if (!vm_list(st, &list, &n, &e)) {
        vm_store_close(st);
        return;
    }
    if (n > SUPERVISE_MAX_VMS)
        n = SUPERVISE_MAX_VMS;
    struct seen *next = calloc(n ? n : 1, sizeof(*next));
    if (!next) {
        free(list);
        vm_store_close(st);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct vm_summary *v = &list[i];
        struct seen *old = find_seen(v->name);
        struct seen *s = &next[i];
        if (old)
            *s = *old;
        snprintf(s->name, sizeof(s->name), "%s", v->name);
        if (!old && sup.running) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "state", json_object_new_string(vm_state_name(v->rt.state)));
            emit(v->name, "created", o);
        } else if (old && old->state != v->rt.state) {
            emit_state(v->name, v->rt.state, old->state);
        }
        bool crashed = v->rt.state == VM_STOPPED && v->rt.crashed;
        if (crashed && (!old || !old->crashed))
            emit(v->name, "crashed", NULL);
        s->state = v->rt.state;
        s->crashed = crashed;
        if (crashed && v->config_ok && v->cfg.restart == VM_RESTART_ON_CRASH && !v->cfg.is_template)
            maybe_restart(st, v, s);
    }
    for (size_t i = 0; i < sup.nseen; i++) {
        bool still = false;
        for (size_t j = 0; j < n && !still; j++)
            still = !strcmp(sup.seen[i].name, list[j].name);
        if (!still)
            emit(sup.seen[i].name, "deleted", NULL);
    }
    free(sup.seen);
    sup.seen = next;
    sup.nseen = n;
    free(list);
    vm_store_close(st);
}

static void *supervise_thread(void *arg)
{
    (void)arg;
    tick(); /* what is there at start is not news */
    pthread_mutex_lock(&sup.lock);
    sup.running = true;
    while (!sup.stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SUPERVISE_PERIOD_MS / 1000;
        pthread_cond_timedwait(&sup.more, &sup.lock, &until);
        if (sup.stop)
            break;
        pthread_mutex_unlock(&sup.lock);
        tick();
        pthread_mutex_lock(&sup.lock);
    }
    pthread_mutex_unlock(&sup.lock);
    return NULL;
}

bool serve_supervise_start(const struct serve *sv)
{
    sup.sv = sv;
    return pthread_create(&sup.thread, NULL, supervise_thread, NULL) == 0;
}

void serve_supervise_stop(void)
{
    pthread_mutex_lock(&sup.lock);
    sup.stop = true;
    pthread_cond_broadcast(&sup.more);
    pthread_mutex_unlock(&sup.lock);
    pthread_join(sup.thread, NULL);
    for (size_t i = 0; i < SUPERVISE_RING; i++)
        free(sup.ring[i]);
    free(sup.seen);
}

uint64_t serve_events_next(void)
{
    pthread_mutex_lock(&sup.lock);
    uint64_t seq = sup.next_seq;
    pthread_mutex_unlock(&sup.lock);
    return seq;
}

char *serve_events_get(uint64_t *cursor, unsigned wait_ms, uint64_t *lost)
{
    *lost = 0;
    if (*cursor == 0)
        *cursor = 1; /* sequence numbers start at 1 */
    pthread_mutex_lock(&sup.lock);
    if (*cursor >= sup.next_seq && wait_ms && !sup.stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)wait_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&sup.more, &sup.lock, &until);
    }
    char *out = NULL;
    if (*cursor < sup.next_seq) {
        if (sup.next_seq - *cursor > SUPERVISE_RING) {
            *lost = sup.next_seq - SUPERVISE_RING - *cursor;
            *cursor = sup.next_seq - SUPERVISE_RING;
        }
        out = strdup(sup.ring[*cursor % SUPERVISE_RING]);
        (*cursor)++;
    }
    pthread_mutex_unlock(&sup.lock);
    return out;
}
