/* SPDX-License-Identifier: MIT */
#include "vmm/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cpu/vcpu.h"
#include "machine/board.h"
#include "net/net.h"
#include "host/console.h"
#include "host/display.h"
#include "host/evloop.h"
#include "host/vclock.h"
#include "util/log.h"
#include "util/procid.h"
#include "util/unix_socket.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"
#include "vmm/state_file.h"
#include "vmm/ram_reclaim.h"
#include "vmm/resources.h"
#include "vmm/vmm_snapshot.h"
#include "vmm/vmm_migration.h"

#define MAX_CLIENTS    16
#define MAX_JSON_DEPTH 16
/* A client gets this long for each request line: an idle client, or one
 * trickling a line that never ends, is dropped when it runs out. */
#define CLIENT_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000)
/* An idle subscriber waits for events, not for its own next line. */
#define NO_DEADLINE UINT64_MAX

/* The event stream.  Board events come first, in enum board_event order. */
enum control_event {
    EVENT_PAUSED,
    EVENT_RESUMED,
    EVENT_RESET,
    EVENT_POWERED_OFF,
    EVENT_GUEST_READY,
    EVENT_JOB_PROGRESS,
    EVENT_JOB_COMPLETED,
    EVENT_COUNT,
};

static const char *const event_names[EVENT_COUNT] = {
    [EVENT_PAUSED] = "paused",
    [EVENT_RESUMED] = "resumed",
    [EVENT_RESET] = "reset",
    [EVENT_POWERED_OFF] = "powered-off",
    [EVENT_GUEST_READY] = "guest-ready",
    [EVENT_JOB_PROGRESS] = "job-progress",
    [EVENT_JOB_COMPLETED] = "job-completed",
};

_Static_assert((int)EVENT_PAUSED == (int)BOARD_EVENT_PAUSED &&
                   (int)EVENT_GUEST_READY == (int)BOARD_EVENT_GUEST_READY,
               "board events map onto control events one to one");

struct control;

struct control_client {
    struct control *owner;
    int fd; /* -1: free slot */
    char buf[CONTROL_MAX_LINE];
    size_t len;
    uint64_t deadline_ns; /* dropped at this time unless a line completes */
    /* Replies and events not yet taken by the socket, at most
     * CONTROL_MAX_OUTPUT bytes. */
    char *out;
    size_t out_len, out_cap;
    bool want_writable;     /* EPOLLOUT is watched */
    uint32_t subscriptions; /* bit per enum control_event */
};

static const char *const job_status_names[] = {
    [CONTROL_JOB_RUNNING] = "running",
    [CONTROL_JOB_COMPLETED] = "completed",
    [CONTROL_JOB_FAILED] = "failed",
    [CONTROL_JOB_CANCELLED] = "cancelled",
};

struct control_job {
    struct control *owner;
    uint32_t id; /* 0: free slot */
    const struct control_job_ops *ops;
    void *opaque;
    enum control_job_status status;
    bool cancel_requested;
    uint64_t done, total;
    uint64_t finished_seq; /* eviction order of finished jobs */
    char error[256];
    char result[256]; /* what a finished job reports besides its status ("" if nothing) */
};

struct control {
    struct board *board;
    int listen_fd;
    char *path;
    struct control_client clients[MAX_CLIENTS];
    struct evtimer *timeout_timer;
    struct control_job jobs[CONTROL_MAX_JOBS];
    uint32_t next_job_id;
    uint64_t finish_seq;
    bool debug_commands;
    json_object *spec; /* the VM spec the VMM runs (query-spec), or NULL */
    /* A save to a state file (at most one), its job and poll timer. */
    struct vmm_save *save;
    struct control_job *save_job;
    struct evtimer *save_timer;
    bool save_quit;
    void *snapshot_ctx; /* the save is a snapshot operation (vmm_snapshot.h) */
    /* The VMM's cgroup and its limits (set-resources), or NULL. */
    struct vm_cgroup **cgroup;
    struct vm_resources *limits;
    struct ram_reclaim *reclaim;
    /* The outgoing migration (at most one), its job and progress timer. */
    struct vmm_migration *migration;
    struct control_job *migration_job;
    struct evtimer *migration_timer;
    /* query-channels: the VMM's channels as JSON (new reference), or NULL */
    json_object *(*channels)(void *opaque);
    void *channels_opaque;
};

/* ---- guest powerdown ------------------------------------------------- */

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

/* ---- connections ----------------------------------------------------- */

/* Arms the timer for the earliest client deadline. */
static void arm_timeout(struct control *c)
{
    uint64_t first = NO_DEADLINE;
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i].fd >= 0 && c->clients[i].deadline_ns < first)
            first = c->clients[i].deadline_ns;
    if (first != NO_DEADLINE)
        evtimer_arm(c->timeout_timer, first);
    else
        evtimer_disarm(c->timeout_timer);
}

static void release_client(struct control_client *cl)
{
    cl->fd = -1;
    cl->len = 0;
    free(cl->out);
    cl->out = NULL;
    cl->out_len = cl->out_cap = 0;
    cl->want_writable = false;
    cl->subscriptions = 0;
}

static void drop_client(struct control *c, struct control_client *cl)
{
    if (cl->fd < 0)
        return;
    evloop_del_fd(c->board->loop, cl->fd);
    close(cl->fd);
    release_client(cl);
}

/* Best effort, for a client about to be closed. */
static void send_error_and_close(int fd, const char *line)
{
    send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

/* Closes a client with one last error line (after what it still had
 * queued, if the socket takes it). */
static void evict_client(struct control *c, struct control_client *cl, const char *line)
{
    evloop_del_fd(c->board->loop, cl->fd);
    if (cl->out_len)
        send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    send_error_and_close(cl->fd, line);
    release_client(cl);
}

static void on_timeout(void *opaque)
{
    struct control *c = opaque;
    uint64_t now = host_monotonic_ns();
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct control_client *cl = &c->clients[i];
        if (cl->fd < 0 || cl->deadline_ns > now)
            continue;
        evict_client(c, cl,
                     "{\"error\":{\"class\":\"Timeout\",\"desc\":\"no complete "
                     "request for 30 s; closing the connection\"}}\n");
    }
    arm_timeout(c);
}

/* Writes what the socket takes now; the rest waits for EPOLLOUT.
 * Returns false if the connection is broken. */
static bool flush_output(struct control *c, struct control_client *cl)
{
    size_t off = 0;
    while (off < cl->out_len) {
        ssize_t n = send(cl->fd, cl->out + off, cl->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    memmove(cl->out, cl->out + off, cl->out_len - off);
    cl->out_len -= off;
    bool want = cl->out_len > 0;
    if (want != cl->want_writable) {
        cl->want_writable = want;
        evloop_mod_fd(c->board->loop, cl->fd, want ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
    return true;
}

/* Queues one JSON line for the client and sends what the socket takes.
 * A client whose queue would pass CONTROL_MAX_OUTPUT (it does not read)
 * is dropped: the VMM never waits for a client.  One line always fits
 * an empty queue, so a long reply (a big spec) is never refused. */
static void send_line(struct control *c, struct control_client *cl, json_object *obj)
{
    if (cl->fd < 0)
        return;
    size_t len;
    const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
    if (cl->out_len && cl->out_len + len + 1 > CONTROL_MAX_OUTPUT) {
        drop_client(c, cl);
        return;
    }
    if (cl->out_len + len + 1 > cl->out_cap) {
        size_t cap = cl->out_cap ? cl->out_cap : 1024;
        while (cap < cl->out_len + len + 1)
            cap *= 2;
        char *out = realloc(cl->out, cap);
        if (!out) {
            drop_client(c, cl);
            return;
        }
        cl->out = out;
        cl->out_cap = cap;
    }
    memcpy(cl->out + cl->out_len, text, len);
    cl->out[cl->out_len + len] = '\n';
    cl->out_len += len + 1;
    if (!flush_output(c, cl))
        drop_client(c, cl);
}

/* ---- events ---------------------------------------------------------- */

/* Sends {"event": NAME, "data": DATA, "time": UNIX_SECONDS} to every
 * subscriber of ev.  Takes ownership of data. */
static void emit_event(struct control *c, enum control_event ev, json_object *data)
{
    json_object *o = NULL;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct control_client *cl = &c->clients[i];
        if (cl->fd < 0 || !(cl->subscriptions & (1u << ev)))
            continue;
        if (!o) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            char tbuf[32];
            double t = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
            snprintf(tbuf, sizeof(tbuf), "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
            o = json_object_new_object();
            json_object_object_add(o, "event", json_object_new_string(event_names[ev]));
            json_object_object_add(o, "data",
                                   data ? json_object_get(data) : json_object_new_object());
            json_object_object_add(o, "time", json_object_new_double_s(t, tbuf));
        }
        send_line(c, cl, o);
    }
    json_object_put(o);
    json_object_put(data);
}

static void on_board_event(void *opaque, enum board_event ev)
{
    emit_event(opaque, (enum control_event)ev, NULL);
}

/* ---- replies --------------------------------------------------------- */

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

/* Reads the optional integer argument `name` into *out, within [lo, hi].
 * Returns an error reply, or NULL when the argument is fine or absent. */
static json_object *int_arg(json_object *args, const char *name, int64_t lo, int64_t hi,
                            int64_t *out)
{
    json_object *v;
    if (!args || !json_object_object_get_ex(args, name, &v))
        return NULL;
    char desc[160];
    if (!json_object_is_type(v, json_type_int)) {
        snprintf(desc, sizeof(desc), "\"%s\" must be an integer", name);
        return error_reply("InvalidArgument", desc);
    }
    int64_t x = json_object_get_int64(v);
    if (x < lo || x > hi) {
        snprintf(desc, sizeof(desc), "\"%s\" must be between %lld and %lld", name, (long long)lo,
                 (long long)hi);
        return error_reply("InvalidArgument", desc);
    }
    *out = x;
    return NULL;
}

/* ---- jobs ------------------------------------------------------------ */

struct control_job *control_job_new(struct control *c, const struct control_job_ops *ops,
                                    void *opaque, char *err, size_t errlen)
{
    struct control_job *slot = NULL;
    for (unsigned i = 0; i < CONTROL_MAX_JOBS; i++) {
        struct control_job *j = &c->jobs[i];
        if (!j->id) {
            slot = j;
            break;
        }
        if (j->status != CONTROL_JOB_RUNNING && (!slot || j->finished_seq < slot->finished_seq))
            slot = j;
    }
    if (!slot) {
        snprintf(err, errlen, "%d jobs are running; wait for one to finish", CONTROL_MAX_JOBS);
        return NULL;
    }
    if (++c->next_job_id == 0)
        c->next_job_id = 1;
    *slot = (struct control_job){.owner = c,
                                 .id = c->next_job_id,
                                 .ops = ops,
                                 .opaque = opaque,
                                 .status = CONTROL_JOB_RUNNING};
    return slot;
}

uint32_t control_job_id(const struct control_job *job)
{
    return job->id;
}

static json_object *job_json(const struct control_job *j)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(j->id));
    json_object_object_add(o, "type", json_object_new_string(j->ops->type));
    json_object_object_add(o, "status", json_object_new_string(job_status_names[j->status]));
    json_object_object_add(o, "done", json_object_new_int64((int64_t)j->done));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)j->total));
    if (j->status == CONTROL_JOB_FAILED)
        json_object_object_add(o, "error", json_object_new_string(j->error));
    if (j->result[0])
        json_object_object_add(o, "result", json_object_new_string(j->result));
    return o;
}

void control_job_progress(struct control_job *job, uint64_t done, uint64_t total)
{
    job->done = done;
    job->total = total;
    emit_event(job->owner, EVENT_JOB_PROGRESS, job_json(job));
}

void control_job_finish(struct control_job *job, enum control_job_status status, const char *error)
{
    if (job->status != CONTROL_JOB_RUNNING)
        return;
    job->status = status == CONTROL_JOB_RUNNING ? CONTROL_JOB_FAILED : status;
    snprintf(job->error, sizeof(job->error), "%s", error ? error : "failed");
    job->finished_seq = ++job->owner->finish_seq;
    emit_event(job->owner, EVENT_JOB_COMPLETED, job_json(job));
}

static struct control_job *find_job(struct control *c, json_object *args, json_object **errp)
{
    int64_t id = 0;
    json_object *v;
    if (!args || !json_object_object_get_ex(args, "id", &v)) {
        *errp = error_reply("InvalidArgument", "\"id\" (the job id) is required");
        return NULL;
    }
    if ((*errp = int_arg(args, "id", 1, UINT32_MAX, &id)))
        return NULL;
    for (unsigned i = 0; i < CONTROL_MAX_JOBS; i++)
        if (c->jobs[i].id == (uint32_t)id)
            return &c->jobs[i];
    char desc[96];
    snprintf(desc, sizeof(desc), "no job %lld (finished jobs are forgotten after %d more)",
             (long long)id, CONTROL_MAX_JOBS);
    *errp = error_reply("JobNotFound", desc);
    return NULL;
}

/* debug-sleep: a job that only waits, in steps, for the protocol tests. */
struct sleep_job {
    struct control_job *job;
    struct evtimer *timer;
    uint64_t step_ns;
    uint64_t steps, done;
};

static void sleep_job_end(struct sleep_job *s, enum control_job_status status)
{
    evtimer_free(s->timer);
    control_job_finish(s->job, status, NULL);
    free(s);
}

static void sleep_job_tick(void *opaque)
{
    struct sleep_job *s = opaque;
    s->done++;
    control_job_progress(s->job, s->done, s->steps);
    if (s->done == s->steps)
        sleep_job_end(s, CONTROL_JOB_COMPLETED);
    else
        evtimer_arm(s->timer, host_monotonic_ns() + s->step_ns);
}

static void sleep_job_cancel(struct control_job *job, void *opaque)
{
    (void)job;
    sleep_job_end(opaque, CONTROL_JOB_CANCELLED);
}

static const struct control_job_ops sleep_job_ops = {
    .type = "debug-sleep",
    .cancel = sleep_job_cancel,
};

/* ---- commands -------------------------------------------------------- */

enum {
    CMD_NEEDS_RUNNING = 1u << 0, /* refused while the machine is paused */
    CMD_ASYNC = 1u << 1,         /* starts a job; returns {"job": ID} */
    CMD_DEBUG = 1u << 2,         /* only with WIRT_CONTROL_DEBUG=1 */
};

struct control_command;

/* What a handler gets: the server, the asking client, the command's row
 * and its "arguments" (NULL when absent). */
struct control_request {
    struct control *c;
    struct control_client *cl;
    const struct control_command *cmd;
    json_object *args;
};

struct control_command {
    const char *name;
    json_object *(*handler)(const struct control_request *rq);
    unsigned flags;
    const char *help;
    void (*board_action)(struct board *b); /* for cmd_board_action */
};

static bool command_available(const struct control *c, const struct control_command *cmd)
{
    return !(cmd->flags & CMD_DEBUG) || c->debug_commands;
}

/* They list the table below. */
static json_object *cmd_query_commands(const struct control_request *rq);
static json_object *cmd_help(const struct control_request *rq);

static json_object *cmd_query_status(const struct control_request *rq)
{
    struct board *b = rq->c->board;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(b->paused ? "paused" : "running"));
    uint64_t up = b->started_ns ? host_monotonic_ns() - b->started_ns : 0;
    char upbuf[32];
    snprintf(upbuf, sizeof(upbuf), "%.3f", (double)up / 1e9);
    json_object_object_add(o, "uptime", json_object_new_double_s((double)up / 1e9, upbuf));
    json_object_object_add(o, "pid", json_object_new_int64(wirt_host_pid()));
    json_object_object_add(o, "memory", json_object_new_int64((int64_t)b->cfg.ram_size));
    json_object_object_add(o, "cpus", json_object_new_int((int)b->nharts));
    json_object_object_add(o, "guest-ready",
                           json_object_new_boolean(b->console && console_guest_ready(b->console)));
    return return_reply(o);
}

static json_object *cmd_query_channels(const struct control_request *rq)
{
    struct control *c = rq->c;
    return return_reply(c->channels ? c->channels(c->channels_opaque) : json_object_new_array());
}

/* set-resources: {"cpu-limit": "150%", "memory-limit": "1G", ...}; keys
 * not named keep their value, "none" clears one. */
static json_object *cmd_set_resources(const struct control_request *rq)
{
    struct control *c = rq->c;
    if (!c->cgroup)
        return error_reply("NotAvailable", "this VMM does not manage resources");
    if (!rq->args)
        return error_reply("InvalidArgument", "which resources? (e.g. {\"cpu-limit\": \"50%\"})");
    struct vm_resources next = *c->limits;
    char why[400];
    if (!vm_resources_from_json(&next, rq->args, why, sizeof(why)))
        return error_reply("InvalidArgument", why);
    bool ok = *c->cgroup ? vm_cgroup_apply(*c->cgroup, &next.cg, why, sizeof(why))
              : cgroup_limits_empty(&next.cg)
                  ? true
                  : (*c->cgroup = vm_cgroup_create(&next.cg, why, sizeof(why))) != NULL;
    if (!ok)
        return error_reply("GenericError", why);
    if (next.page_sharing != c->limits->page_sharing)
        bus_ram_set_mergeable(&c->board->bus, next.page_sharing);
    if (next.reclaim_sec != c->limits->reclaim_sec)
        ram_reclaim_set_interval(c->reclaim, ram_reclaim_interval(next.reclaim_sec));
    *c->limits = next;
    return return_reply(vm_resources_to_json(&next));
}

static json_object *cmd_query_resources(const struct control_request *rq)
{
    struct control *c = rq->c;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "limits",
                           c->limits ? vm_resources_to_json(c->limits) : json_object_new_object());
    uint64_t cpu_ns = 0, mem = 0;
    if (c->cgroup && *c->cgroup)
        vm_cgroup_usage(*c->cgroup, &cpu_ns, &mem);
    json_object_object_add(o, "cpu-ns", json_object_new_int64((int64_t)cpu_ns));
    json_object_object_add(o, "memory-bytes", json_object_new_int64((int64_t)mem));
    /* Pages of this process that KSM merged (Linux 5.19+; -1 unknown). */
    FILE *f = fopen("/proc/self/ksm_merging_pages", "re");
    long long merged = -1;
    if (f) {
        if (fscanf(f, "%lld", &merged) != 1)
            merged = -1;
        fclose(f);
    }
    json_object_object_add(o, "ksm-merging-pages", json_object_new_int64(merged));
    json_object_object_add(o, "zero-pages-released-bytes",
                           json_object_new_int64((int64_t)ram_reclaim_released(c->reclaim)));
    return return_reply(o);
}

/* The board's first virtio device for which is() holds, if any. */
static struct virtio_dev *virtio_find(struct board *b, bool (*is)(const struct virtio_dev *))
{
    for (unsigned i = 0; i < b->ndevices; i++)
        if (b->devices[i].ops == &virtio_mmio_dev_ops && is(b->devices[i].dev))
            return b->devices[i].dev;
    return NULL;
}

/* The board's balloon, if it has one. */
static struct virtio_dev *virtio_balloon_find(struct board *b)
{
    return virtio_find(b, virtio_balloon_is);
}

/* balloon: {"target": BYTES}, the memory the guest should keep. */
static json_object *cmd_balloon(const struct control_request *rq)
{
    struct virtio_dev *vb = virtio_balloon_find(rq->c->board);
    if (!vb)
        return error_reply("NotAvailable", "this VM has no balloon device");
    json_object *v;
    if (!rq->args || !json_object_object_get_ex(rq->args, "target", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < (64 << 20))
        return error_reply("InvalidArgument",
                           "\"target\": the bytes of RAM the guest keeps (at least 64 MiB)");
    virtio_balloon_set_target(vb, (uint64_t)json_object_get_int64(v));
    return return_reply(NULL);
}

static json_object *cmd_query_balloon(const struct control_request *rq)
{
    struct virtio_dev *vb = virtio_balloon_find(rq->c->board);
    if (!vb)
        return error_reply("NotAvailable", "this VM has no balloon device");
    struct virtio_balloon_status st;
    virtio_balloon_status(vb, &st);
    virtio_balloon_request_stats(vb); /* fresher numbers for the next query */
    json_object *o = json_object_new_object();
    uint64_t ram = rq->c->board->bus.ram_size;
    json_object_object_add(o, "guest-memory",
                           json_object_new_int64((int64_t)(ram - st.actual_bytes)));
    json_object_object_add(o, "target", json_object_new_int64((int64_t)(ram - st.target_bytes)));
    json_object_object_add(o, "released", json_object_new_int64((int64_t)st.released_bytes));
    if (st.have_stats) {
        /* VIRTIO_BALLOON_S_MEMFREE (4), S_MEMTOT (5), S_AVAIL (6) */
        json_object_object_add(o, "guest-free", json_object_new_int64((int64_t)st.stats[4]));
        json_object_object_add(o, "guest-total", json_object_new_int64((int64_t)st.stats[5]));
        json_object_object_add(o, "guest-available", json_object_new_int64((int64_t)st.stats[6]));
    }
    return return_reply(o);
}

static json_object *cmd_query_cpus(const struct control_request *rq)
{
    struct board *b = rq->c->board;
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < b->nharts; i++) {
        struct vcpu_stats st;
        vcpu_get_stats(b->harts[i], &st);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int((int)i));
        json_object_object_add(o, "engine", json_object_new_string(b->harts[i]->ops->name));
        json_object_object_add(o, "instructions", json_object_new_int64((int64_t)st.instructions));
        json_object_object_add(o, "exits", json_object_new_int64((int64_t)st.exits));
        json_object_object_add(o, "interrupts", json_object_new_int64((int64_t)st.interrupts));
        json_object_object_add(o, "exceptions", json_object_new_int64((int64_t)st.exceptions));
        json_object_array_add(a, o);
    }
    return return_reply(a);
}

/* pause, resume, reset, quit: one board call, no arguments, no result. */
static json_object *cmd_board_action(const struct control_request *rq)
{
    rq->cmd->board_action(rq->c->board);
    return return_reply(NULL);
}

static void power_off_now(struct board *b)
{
    board_power_off(b, 0);
}

static json_object *cmd_powerdown(const struct control_request *rq)
{
    char err[256];
    if (!control_guest_powerdown(rq->c->board, err, sizeof(err)))
        return error_reply("GuestNotReady", err);
    return return_reply(NULL);
}

static json_object *subscription_list(uint32_t mask)
{
    json_object *a = json_object_new_array();
    for (unsigned e = 0; e < EVENT_COUNT; e++)
        if (mask & (1u << e))
            json_object_array_add(a, json_object_new_string(event_names[e]));
    return a;
}

static json_object *cmd_subscribe(const struct control_request *rq)
{
    json_object *names;
    uint32_t mask = (1u << EVENT_COUNT) - 1;
    if (rq->args && json_object_object_get_ex(rq->args, "events", &names)) {
        if (!json_object_is_type(names, json_type_array))
            return error_reply("InvalidArgument", "\"events\" must be an array of event names");
        mask = 0;
        for (size_t i = 0; i < json_object_array_length(names); i++) {
            json_object *n = json_object_array_get_idx(names, i);
            unsigned e = 0;
            while (e < EVENT_COUNT && !(json_object_is_type(n, json_type_string) &&
                                        !strcmp(json_object_get_string(n), event_names[e])))
                e++;
            if (e == EVENT_COUNT) {
                char desc[200];
                snprintf(desc, sizeof(desc),
                         "unknown event %.64s (known: paused, resumed, "
                         "reset, powered-off, guest-ready, job-progress, job-completed)",
                         json_object_to_json_string(n));
                return error_reply("InvalidArgument", desc);
            }
            mask |= 1u << e;
        }
    }
    rq->cl->subscriptions = mask;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "events", subscription_list(mask));
    return return_reply(o);
}

static json_object *cmd_unsubscribe(const struct control_request *rq)
{
    rq->cl->subscriptions = 0;
    return return_reply(NULL);
}

static json_object *cmd_query_spec(const struct control_request *rq)
{
    if (!rq->c->spec)
        return error_reply("NotAvailable", "this VMM was started without a spec");
    return return_reply(json_object_get(rq->c->spec));
}

static json_object *cmd_jobs(const struct control_request *rq)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < CONTROL_MAX_JOBS; i++)
        if (rq->c->jobs[i].id)
            json_object_array_add(a, job_json(&rq->c->jobs[i]));
    return return_reply(a);
}

static json_object *cmd_job_status(const struct control_request *rq)
{
    json_object *err;
    struct control_job *j = find_job(rq->c, rq->args, &err);
    return j ? return_reply(job_json(j)) : err;
}

static json_object *cmd_job_cancel(const struct control_request *rq)
{
    json_object *err;
    struct control_job *j = find_job(rq->c, rq->args, &err);
    if (!j)
        return err;
    if (j->status != CONTROL_JOB_RUNNING)
        return error_reply("InvalidState", "the job has already finished");
    if (!j->cancel_requested) {
        j->cancel_requested = true;
        j->ops->cancel(j, j->opaque);
    }
    return return_reply(NULL);
}

static json_object *cmd_debug_sleep(const struct control_request *rq)
{
    int64_t steps = 10, ms = 100;
    json_object *err;
    if ((err = int_arg(rq->args, "steps", 1, 1000, &steps)) ||
        (err = int_arg(rq->args, "step-ms", 1, 10000, &ms)))
        return err;
    struct sleep_job *s = calloc(1, sizeof(*s));
    if (!s || !(s->timer = evtimer_new(rq->c->board->loop, sleep_job_tick, s))) {
        free(s);
        return error_reply("GenericError", "out of memory");
    }
    char why[128];
    if (!(s->job = control_job_new(rq->c, &sleep_job_ops, s, why, sizeof(why)))) {
        evtimer_free(s->timer);
        free(s);
        return error_reply("Busy", why);
    }
    s->steps = (uint64_t)steps;
    s->step_ns = (uint64_t)ms * 1000000;
    evtimer_arm(s->timer, host_monotonic_ns() + s->step_ns);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", json_object_new_int64(control_job_id(s->job)));
    return return_reply(o);
}

/* move-disk: moves a disk to a new image while the guest runs
 * (virtio_blk_move_*); a timer reports the worker's progress. */
struct move_job {
    struct control_job *job;
    struct evtimer *timer;
    struct virtio_dev *vdev;
};

#define MOVE_POLL_NS (200ULL * 1000 * 1000)

static void move_job_tick(void *opaque)
{
    struct move_job *mj = opaque;
    struct virtio_blk_move_status st;
    virtio_blk_move_status(mj->vdev, &st);
    if (st.state == VIRTIO_BLK_MOVE_RUNNING) {
        control_job_progress(mj->job, st.copied, st.copied + st.remaining);
        evtimer_arm(mj->timer, host_monotonic_ns() + MOVE_POLL_NS);
        return;
    }
    if (st.state == VIRTIO_BLK_MOVE_COMPLETED)
        control_job_progress(mj->job, st.copied, st.copied);
    evtimer_free(mj->timer);
    control_job_finish(mj->job,
                       st.state == VIRTIO_BLK_MOVE_COMPLETED   ? CONTROL_JOB_COMPLETED
                       : st.state == VIRTIO_BLK_MOVE_CANCELLED ? CONTROL_JOB_CANCELLED
                                                               : CONTROL_JOB_FAILED,
                       st.error[0] ? st.error : NULL);
    free(mj);
}

static void move_job_cancel(struct control_job *job, void *opaque)
{
    (void)job;
    struct move_job *mj = opaque;
    virtio_blk_move_cancel(mj->vdev); /* the next tick sees it end */
}

static const struct control_job_ops move_job_ops = {
    .type = "move-disk",
    .cancel = move_job_cancel,
};

/* The virtio-blk device "disk" names: its index in the spec's order (0
 * is vda), as an integer or as "vdX". */
static struct virtio_dev *find_disk(struct board *b, json_object *args, json_object **errp)
{
    json_object *v;
    int64_t want = -1;
    if (args && json_object_object_get_ex(args, "disk", &v)) {
        const char *n = json_object_get_string(v);
        if (json_object_is_type(v, json_type_int))
            want = json_object_get_int64(v);
        else if (json_object_is_type(v, json_type_string) && strlen(n) == 3 && n[0] == 'v' &&
                 n[1] == 'd' && n[2] >= 'a' && n[2] <= 'z')
            want = n[2] - 'a';
    }
    if (want < 0) {
        *errp =
            error_reply("InvalidArgument", "\"disk\" (0, 1... or \"vda\", \"vdb\"...) is required");
        return NULL;
    }
    int64_t k = 0;
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct virtio_dev *vdev = b->devices[i].dev;
        if (b->devices[i].ops != &virtio_mmio_dev_ops || !virtio_blk_is(vdev))
            continue;
        if (k++ == want)
            return vdev;
    }
    *errp = error_reply("DeviceNotFound", "the VM has no such disk");
    return NULL;
}

/* set-io-limits: {"disk": 0, "iops": 100, "bps": "10M", ...}; limits not
 * named keep their value, 0 removes one. */
static json_object *cmd_set_io_limits(const struct control_request *rq)
{
    json_object *err = NULL;
    struct virtio_dev *vdev = find_disk(rq->c->board, rq->args, &err);
    if (!vdev)
        return err;
    struct io_limits l;
    virtio_blk_get_limits(vdev, &l);
    json_object *rest = json_object_new_object();
    json_object_object_foreach(rq->args, key, v)
    {
        if (strcmp(key, "disk"))
            json_object_object_add(rest, key, json_object_get(v));
    }
    char why[300];
    bool ok = io_limits_from_json(&l, rest, "set-io-limits", why, sizeof(why));
    json_object_put(rest);
    if (!ok)
        return error_reply("InvalidArgument", why);
    virtio_blk_set_limits(vdev, &l);
    return return_reply(io_limits_to_json(&l));
}

/* query-io: per disk, its limits and what the guest did. */
static json_object *cmd_query_io(const struct control_request *rq)
{
    struct board *b = rq->c->board;
    json_object *disks = json_object_new_array();
    int k = 0;
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct virtio_dev *vdev = b->devices[i].dev;
        if (b->devices[i].ops != &virtio_mmio_dev_ops || !virtio_blk_is(vdev))
            continue;
        struct io_limits l;
        struct virtio_blk_stats st;
        virtio_blk_get_limits(vdev, &l);
        virtio_blk_get_stats(vdev, &st);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "disk", json_object_new_int(k++));
        json_object_object_add(o, "limits", io_limits_to_json(&l));
#define ADD(key, val) json_object_object_add(o, key, json_object_new_int64((int64_t)(val)))
        ADD("rd-ops", st.rd_ops);
        ADD("wr-ops", st.wr_ops);
        ADD("rd-bytes", st.rd_bytes);
        ADD("wr-bytes", st.wr_bytes);
        ADD("throttled-ns", st.throttled_ns);
#undef ADD
        json_object_array_add(disks, o);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "disks", disks);
    return return_reply(o);
}

/* query-net: per NIC, its rate cap and what crossed it. */
static json_object *cmd_query_net(const struct control_request *rq)
{
    struct board *b = rq->c->board;
    json_object *nics = json_object_new_array();
    int k = 0;
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct virtio_dev *vdev = b->devices[i].dev;
        if (b->devices[i].ops != &virtio_mmio_dev_ops || !virtio_net_is(vdev))
            continue;
        struct virtio_net_stats st;
        virtio_net_get_stats(vdev, &st);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "nic", json_object_new_int(k++));
#define ADD(key, val) json_object_object_add(o, key, json_object_new_int64((int64_t)(val)))
        ADD("rate", st.rate);
        ADD("rx-frames", st.rx_frames);
        ADD("rx-bytes", st.rx_bytes);
        ADD("tx-frames", st.tx_frames);
        ADD("tx-bytes", st.tx_bytes);
        ADD("throttled-ns", st.throttled_ns);
#undef ADD
        json_object_array_add(nics, o);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "nics", nics);
    return return_reply(o);
}

/* set-net-rate: {"nic": 0, "rate": 500000 | "10M" | 0}: the NIC's cap
 * each way from now on (0 or "none": no cap). */
static json_object *cmd_set_net_rate(const struct control_request *rq)
{
    struct board *b = rq->c->board;
    json_object *v;
    int64_t want = -1;
    if (rq->args && json_object_object_get_ex(rq->args, "nic", &v) &&
        json_object_is_type(v, json_type_int))
        want = json_object_get_int64(v);
    if (want < 0)
        return error_reply("InvalidArgument", "\"nic\" (0, 1...) is required");
    uint64_t rate = 0;
    char why[160];
    if (!json_object_object_get_ex(rq->args, "rate", &v))
        return error_reply("InvalidArgument",
                           "\"rate\" (bytes per second, \"10M\", 0) is required");
    if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
        rate = (uint64_t)json_object_get_int64(v);
    else if (!json_object_is_type(v, json_type_string) ||
             !net_rate_text(json_object_get_string(v), &rate, why, sizeof(why)))
        return error_reply("InvalidArgument",
                           "\"rate\" must be bytes per second (500000, \"10M\"; 0: no cap)");
    int64_t k = 0;
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct virtio_dev *vdev = b->devices[i].dev;
        if (b->devices[i].ops != &virtio_mmio_dev_ops || !virtio_net_is(vdev) || k++ != want)
            continue;
        if (!virtio_net_set_rate(vdev, rate))
            return error_reply(
                "NotAvailable",
                "this NIC's rate is its switch port's: it changes at the next start");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "nic", json_object_new_int64(want));
        json_object_object_add(o, "rate", json_object_new_int64((int64_t)rate));
        return return_reply(o);
    }
    return error_reply("DeviceNotFound", "the VM has no such NIC");
}

static json_object *cmd_move_disk(const struct control_request *rq)
{
    json_object *err = NULL, *v;
    struct virtio_dev *vdev = find_disk(rq->c->board, rq->args, &err);
    if (!vdev)
        return err;
    if (rq->c->migration) /* it flushes and hands the disks over */
        return error_reply("Busy", "a migration is running");
    const char *target = NULL, *format = NULL;
    if (json_object_object_get_ex(rq->args, "target", &v) &&
        json_object_is_type(v, json_type_string))
        target = json_object_get_string(v);
    if (!target || !*target)
        return error_reply("InvalidArgument", "\"target\" (the new image's path) is required");
    if (json_object_object_get_ex(rq->args, "format", &v)) {
        format = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(format, "qcow2") != 0 && strcmp(format, "raw") != 0)
            return error_reply("InvalidArgument", "\"format\" must be \"qcow2\" or \"raw\"");
    }
    struct move_job *mj = calloc(1, sizeof(*mj));
    if (!mj || !(mj->timer = evtimer_new(rq->c->board->loop, move_job_tick, mj))) {
        free(mj);
        return error_reply("GenericError", "out of memory");
    }
    mj->vdev = vdev;
    char why[256];
    if (!(mj->job = control_job_new(rq->c, &move_job_ops, mj, why, sizeof(why)))) {
        evtimer_free(mj->timer);
        free(mj);
        return error_reply("Busy", why);
    }
    if (!virtio_blk_move_start(vdev, target, format, why, sizeof(why))) {
        /* The job slot is taken: finish it so it shows why. */
        evtimer_free(mj->timer);
        control_job_finish(mj->job, CONTROL_JOB_FAILED, why);
        free(mj);
        return error_reply("GenericError", why);
    }
    evtimer_arm(mj->timer, host_monotonic_ns() + MOVE_POLL_NS);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", json_object_new_int64(control_job_id(mj->job)));
    return return_reply(o);
}

/* save: the machine to a state file (state_file.h); "quit": power off
 * once it is durable, as `wirt vm suspend` wants. */
#define SAVE_POLL_NS (20ULL * 1000 * 1000)

static void save_tick(void *opaque)
{
    struct control *c = opaque;
    struct state_file_result res;
    char why[512] = "";
    int r = vmm_save_poll(c->save, &res, why, sizeof(why));
    if (r == 1) {
        evtimer_arm(c->save_timer, host_monotonic_ns() + SAVE_POLL_NS);
        return;
    }
    struct control_job *job = c->save_job;
    evtimer_free(c->save_timer);
    vmm_save_free(c->save);
    vmm_snapshot_free(c->snapshot_ctx);
    c->snapshot_ctx = NULL;
    c->save = NULL;
    c->save_timer = NULL;
    c->save_job = NULL;
    if (r == 0) {
        snprintf(job->result, sizeof(job->result),
                 "paused %.1f ms, total %.1f ms, %llu bytes of RAM written, file %llu bytes",
                 (double)res.pause_ns / 1e6, (double)res.total_ns / 1e6,
                 (unsigned long long)res.ram_bytes_written, (unsigned long long)res.file_bytes);
        log_info("saved: %s", job->result);
        control_job_finish(job, CONTROL_JOB_COMPLETED, NULL);
        if (c->save_quit)
            board_power_off(c->board, 0);
    } else {
        log_warn("save failed: %s", why);
        control_job_finish(job, CONTROL_JOB_FAILED, why);
    }
}

static void save_cancel(struct control_job *job, void *opaque)
{
    (void)job;
    (void)opaque; /* a save takes seconds at most and stops cleanly on its own */
}

static const struct control_job_ops save_job_ops = {
    .type = "save",
    .cancel = save_cancel,
};

/* The job around a vmm_save (save, snapshot): start() creates it. */
static json_object *start_save_job(struct control *c, bool quit,
                                   struct vmm_save *(*start)(struct control *c, void *arg,
                                                             char *why, size_t whylen),
                                   void *arg)
{
    if (c->save || c->migration)
        return error_reply("Busy",
                           c->save ? "a save or snapshot is already running" : "a migration runs");
    char why[256];
    if (!(c->save_timer = evtimer_new(c->board->loop, save_tick, c)))
        return error_reply("GenericError", "out of memory");
    if (!(c->save_job = control_job_new(c, &save_job_ops, c, why, sizeof(why)))) {
        evtimer_free(c->save_timer);
        c->save_timer = NULL;
        return error_reply("Busy", why);
    }
    if (!(c->save = start(c, arg, why, sizeof(why)))) {
        control_job_finish(c->save_job, CONTROL_JOB_FAILED, why);
        evtimer_free(c->save_timer);
        c->save_timer = NULL;
        c->save_job = NULL;
        return error_reply("GenericError", why);
    }
    c->save_quit = quit;
    evtimer_arm(c->save_timer, host_monotonic_ns() + SAVE_POLL_NS);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", json_object_new_int64(control_job_id(c->save_job)));
    return return_reply(o);
}

struct save_args {
    const char *file;
    bool quit;
    enum vmm_snapshot_op op;
    const char *name;
};

static struct vmm_save *start_save(struct control *c, void *arg, char *why, size_t whylen)
{
    struct save_args *a = arg;
    return vmm_save_start(c->board, a->file, a->quit, why, whylen);
}

static struct vmm_save *start_snapshot(struct control *c, void *arg, char *why, size_t whylen)
{
    struct save_args *a = arg;
    return vmm_snapshot_start(c->board, a->op, a->name, a->file, &c->snapshot_ctx, why, whylen);
}

/* snapshot: "op" create|revert|delete of snapshot "name" on every disk,
 * with the machine's state in "state" (create, revert). */
static json_object *cmd_snapshot(const struct control_request *rq)
{
    json_object *v;
    struct save_args a = {0};
    const char *op = NULL;
    if (rq->args && json_object_object_get_ex(rq->args, "op", &v) &&
        json_object_is_type(v, json_type_string))
        op = json_object_get_string(v);
    if (rq->args && json_object_object_get_ex(rq->args, "name", &v) &&
        json_object_is_type(v, json_type_string))
        a.name = json_object_get_string(v);
    if (rq->args && json_object_object_get_ex(rq->args, "state", &v) &&
        json_object_is_type(v, json_type_string))
        a.file = json_object_get_string(v);
    if (!op || (strcmp(op, "create") && strcmp(op, "revert") && strcmp(op, "delete")))
        return error_reply("InvalidArgument", "\"op\" must be create, revert or delete");
    a.op = !strcmp(op, "create")   ? VMM_SNAPSHOT_CREATE
           : !strcmp(op, "revert") ? VMM_SNAPSHOT_REVERT
                                   : VMM_SNAPSHOT_DELETE;
    if (!a.name || !*a.name)
        return error_reply("InvalidArgument", "\"name\" (the snapshot) is required");
    if (a.op != VMM_SNAPSHOT_DELETE && (!a.file || !*a.file))
        return error_reply("InvalidArgument", "\"state\" (the state file) is required");
    return start_save_job(rq->c, false, start_snapshot, &a);
}

static json_object *cmd_save(const struct control_request *rq)
{
    struct control *c = rq->c;
    json_object *v;
    const char *file = NULL;
    bool quit = false;
    if (rq->args && json_object_object_get_ex(rq->args, "file", &v) &&
        json_object_is_type(v, json_type_string))
        file = json_object_get_string(v);
    if (!file || !*file)
        return error_reply("InvalidArgument", "\"file\" (the state file to write) is required");
    if (rq->args && json_object_object_get_ex(rq->args, "quit", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return error_reply("InvalidArgument", "\"quit\" must be true or false");
        quit = json_object_get_boolean(v);
    }
    struct save_args a = {.file = file, .quit = quit};
    return start_save_job(c, quit, start_save, &a);
}

/* migrate: live migration to another wirt (vmm_migration.h).  A timer
 * reports progress; on success the guest runs there and this VMM exits. */
#define MIGRATE_POLL_NS (100ULL * 1000 * 1000)

static void migration_end(struct control *c)
{
    evtimer_free(c->migration_timer);
    vmm_migration_free(c->migration);
    c->migration = NULL;
    c->migration_timer = NULL;
    c->migration_job = NULL;
}

static void migrate_tick(void *opaque)
{
    struct control *c = opaque;
    struct migration_progress pr;
    char why[512] = "";
    int r = vmm_migration_poll(c->migration, &pr, why, sizeof(why));
    uint64_t total = atomic_load(&pr.ram_pages) + atomic_load(&pr.dirty_pages);
    control_job_progress(c->migration_job, atomic_load(&pr.pages_sent), total);
    if (r == 1) {
        evtimer_arm(c->migration_timer, host_monotonic_ns() + MIGRATE_POLL_NS);
        return;
    }
    struct control_job *job = c->migration_job;
    snprintf(job->result, sizeof(job->result),
             "%u rounds, %llu pages (%llu zero), %llu bytes (disks %llu), downtime %.1f ms "
             "(stop-and-copy %.1f ms), total %.1f ms",
             atomic_load(&pr.round), (unsigned long long)atomic_load(&pr.pages_sent),
             (unsigned long long)atomic_load(&pr.zero_pages),
             (unsigned long long)atomic_load(&pr.bytes_sent),
             (unsigned long long)atomic_load(&pr.disk_bytes),
             (double)atomic_load(&pr.downtime_ns) / 1e6,
             (double)atomic_load(&pr.stop_copy_ns) / 1e6, (double)atomic_load(&pr.total_ns) / 1e6);
    log_info("migration %s: %s", r == 0 ? "done" : "failed", job->result);
    migration_end(c);
    if (r == 0) {
        control_job_finish(job, CONTROL_JOB_COMPLETED, NULL);
        board_power_off(c->board, 0); /* the guest runs on the destination now */
    } else if (r == MIGRATION_UNCERTAIN) {
        control_job_finish(job, CONTROL_JOB_FAILED,
                           "handed over, but the destination did not confirm: the guest stays "
                           "paused here; resume it only if the destination is not running it");
    } else {
        control_job_finish(
            job, strstr(why, "cancelled") ? CONTROL_JOB_CANCELLED : CONTROL_JOB_FAILED, why);
    }
}

static void migrate_cancel(struct control_job *job, void *opaque)
{
    (void)job;
    struct control *c = opaque;
    if (c->migration)
        vmm_migration_cancel(c->migration); /* the next tick sees it end */
}

static const struct control_job_ops migrate_job_ops = {
    .type = "migrate",
    .cancel = migrate_cancel,
};

static json_object *cmd_migrate(const struct control_request *rq)
{
    struct control *c = rq->c;
    json_object *err, *v;
    const char *uri = NULL, *secret = vmm_migration_secret();
    int64_t down_ms = 100;
    if ((err = int_arg(rq->args, "max-downtime-ms", 1, 60000, &down_ms)))
        return err;
    if (rq->args && json_object_object_get_ex(rq->args, "uri", &v) &&
        json_object_is_type(v, json_type_string))
        uri = json_object_get_string(v);
    if (!uri)
        return error_reply("InvalidArgument", "\"uri\" (tcp:HOST:PORT) is required");
    if (rq->args && json_object_object_get_ex(rq->args, "secret", &v) &&
        json_object_is_type(v, json_type_string))
        secret = json_object_get_string(v);
    const char *preamble = NULL;
    if (rq->args && json_object_object_get_ex(rq->args, "preamble", &v) &&
        json_object_is_type(v, json_type_string))
        preamble = json_object_get_string(v);
    bool zalways = false, znever = false;
    if (rq->args && json_object_object_get_ex(rq->args, "compress", &v)) {
        const char *z = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        zalways = !strcmp(z, "always");
        znever = !strcmp(z, "never");
        if (!zalways && !znever && strcmp(z, "auto") != 0)
            return error_reply("InvalidArgument", "\"compress\" is auto, always or never");
    }
    bool copy_storage = false;
    if (rq->args && json_object_object_get_ex(rq->args, "copy-storage", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return error_reply("InvalidArgument", "\"copy-storage\" must be true or false");
        copy_storage = json_object_get_boolean(v);
    }
    if (c->migration || c->save) /* a save uses the dirty-page log too */
        return error_reply("Busy", c->migration ? "a migration is already running"
                                                : "a save or snapshot is running");
    struct migration_params p = {.max_downtime_ns = (uint64_t)down_ms * 1000000,
                                 .copy_storage = copy_storage,
                                 .always_compress = zalways,
                                 .no_compress = znever,
                                 .secret = secret,
                                 .secret_len = secret ? strlen(secret) : 0};
    char why[256];
    if (!(c->migration_timer = evtimer_new(c->board->loop, migrate_tick, c)))
        return error_reply("GenericError", "out of memory");
    if (!(c->migration_job = control_job_new(c, &migrate_job_ops, c, why, sizeof(why)))) {
        evtimer_free(c->migration_timer);
        c->migration_timer = NULL;
        return error_reply("Busy", why);
    }
    if (!(c->migration = vmm_migration_start(c->board, uri, &p, preamble, why, sizeof(why)))) {
        control_job_finish(c->migration_job, CONTROL_JOB_FAILED, why);
        evtimer_free(c->migration_timer);
        c->migration_timer = NULL;
        c->migration_job = NULL;
        return error_reply("InvalidArgument", why);
    }
    evtimer_arm(c->migration_timer, host_monotonic_ns() + MIGRATE_POLL_NS);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", json_object_new_int64(control_job_id(c->migration_job)));
    return return_reply(o);
}

static json_object *cmd_query_migration(const struct control_request *rq)
{
    struct control *c = rq->c;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "active", json_object_new_boolean(c->migration != NULL));
    if (c->migration) {
        struct migration_progress pr;
        char why[8];
        vmm_migration_poll(c->migration, &pr, why, sizeof(why));
        static const char *const phases[] = {"setup",  "precopy", "stopped",
                                             "commit", "done",    "failed"};
        int ph = atomic_load(&pr.phase);
        json_object_object_add(o, "phase",
                               json_object_new_string(ph >= 0 && ph <= 5 ? phases[ph] : "?"));
#define ADD(key, val) json_object_object_add(o, key, json_object_new_int64((int64_t)(val)))
        ADD("round", atomic_load(&pr.round));
        ADD("bytes-sent", atomic_load(&pr.bytes_sent));
        ADD("pages-sent", atomic_load(&pr.pages_sent));
        ADD("zero-pages", atomic_load(&pr.zero_pages));
        ADD("ram-pages", atomic_load(&pr.ram_pages));
        ADD("dirty-pages", atomic_load(&pr.dirty_pages));
        ADD("dirty-rate", atomic_load(&pr.dirty_rate));
        ADD("expected-downtime-ms", atomic_load(&pr.expected_downtime_ns) / 1000000);
        ADD("throttle", atomic_load(&pr.throttle));
        ADD("disk-bytes", atomic_load(&pr.disk_bytes));
        ADD("disk-pending", atomic_load(&pr.disk_pending));
#undef ADD
    }
    return return_reply(o);
}

/* screendump: {"filename": PATH}, the screen as a PNG (owner-only,
 * replaced atomically; a relative path is the VMM's directory's). */
static json_object *cmd_screendump(const struct control_request *rq)
{
    struct virtio_dev *gpu = virtio_find(rq->c->board, virtio_gpu_is);
    if (!gpu)
        return error_reply("NotAvailable", "this VM has no display (--display)");
    json_object *v;
    if (!rq->args || !json_object_object_get_ex(rq->args, "filename", &v) ||
        !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
        return error_reply("InvalidArgument", "\"filename\" (the PNG file to write) is required");
    char err[512];
    if (!display_write_png(virtio_gpu_display(gpu), json_object_get_string(v), err, sizeof(err)))
        return error_reply("GenericError", err);
    return return_reply(NULL);
}

/* query-display: the screen's size and how often the guest updated it. */
static json_object *cmd_query_display(const struct control_request *rq)
{
    struct virtio_dev *gpu = virtio_find(rq->c->board, virtio_gpu_is);
    if (!gpu)
        return error_reply("NotAvailable", "this VM has no display (--display)");
    struct display *d = virtio_gpu_display(gpu);
    pthread_mutex_lock(&d->lock);
    uint32_t w = d->width, h = d->height;
    uint64_t updates = d->updates;
    pthread_mutex_unlock(&d->lock);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "width", json_object_new_int64(w));
    json_object_object_add(o, "height", json_object_new_int64(h));
    json_object_object_add(o, "updates", json_object_new_int64((int64_t)updates));
    return return_reply(o);
}

/* Every command, in the order query-commands and help list them. */
static const struct control_command commands[] = {
    {"query-status", cmd_query_status, 0, "the machine's state, uptime, memory and CPUs", NULL},
    {"balloon", cmd_balloon, CMD_NEEDS_RUNNING,
     "asks the guest to keep \"target\" bytes of RAM and give the rest back", NULL},
    {"query-balloon", cmd_query_balloon, 0,
     "the balloon: guest memory, target, host memory released, the guest's statistics", NULL},
    {"screendump", cmd_screendump, 0, "writes the screen to the PNG file \"filename\"", NULL},
    {"query-display", cmd_query_display, 0,
     "the screen: width, height (0 while blank), updates the guest made", NULL},
    {"set-resources", cmd_set_resources, 0,
     "changes the VMM's cgroup limits (cpu-limit, cpu-weight, cpu-reservation, cpu-affinity, "
     "memory-limit, memory-reservation) and page-sharing",
     NULL},
    {"query-resources", cmd_query_resources, 0,
     "the cgroup limits and what the VMM used (cpu-ns, memory-bytes, zero pages given back)", NULL},
    {"query-cpus", cmd_query_cpus, 0, "per hart: engine and counters (instructions executed...)",
     NULL},
    {"query-channels", cmd_query_channels, 0,
     "the named channels: name, whether a guest program and a host client have them open", NULL},
    {"query-commands", cmd_query_commands, 0, "the names of the commands", NULL},
    {"query-spec", cmd_query_spec, 0, "the VM spec this VMM runs (docs/vm-spec.md)", NULL},
    {"help", cmd_help, 0, "every command with its flags and a line of help", NULL},
    {"pause", cmd_board_action, 0, "stops the harts; the guest's clock stands still", board_pause},
    {"resume", cmd_board_action, 0, "continues a paused machine", board_resume},
    {"reset", cmd_board_action, 0, "hard reset, like a power cycle; resumes a paused machine",
     board_request_reset},
    {"powerdown", cmd_powerdown, CMD_NEEDS_RUNNING, "asks the guest to shut down cleanly", NULL},
    {"quit", cmd_board_action, 0, "immediate power off; the VMM exits", power_off_now},
    {"power-off", cmd_board_action, 0, "the same as quit", power_off_now},
    {"subscribe", cmd_subscribe, 0, "receive events (all, or those named in \"events\")", NULL},
    {"unsubscribe", cmd_unsubscribe, 0, "stop receiving events", NULL},
    {"jobs", cmd_jobs, 0, "every running and recently finished job", NULL},
    {"job-status", cmd_job_status, 0, "one job by \"id\"", NULL},
    {"job-cancel", cmd_job_cancel, 0, "asks the job \"id\" to stop", NULL},
    {"snapshot", cmd_snapshot, CMD_ASYNC,
     "\"op\" create|revert|delete of snapshot \"name\" on every disk, with the machine in "
     "the state file \"state\"",
     NULL},
    {"save", cmd_save, CMD_ASYNC,
     "writes the machine to the state file \"file\" (\"quit\": power off once it is durable)",
     NULL},
    {"migrate", cmd_migrate, CMD_ASYNC,
     "live migration to \"uri\" (tcp:HOST:PORT; \"max-downtime-ms\", \"secret\", "
     "\"copy-storage\", \"preamble\", \"compress\")",
     NULL},
    {"query-migration", cmd_query_migration, 0,
     "the outgoing migration: round, bytes, dirty rate, expected downtime", NULL},
    {"set-io-limits", cmd_set_io_limits, 0,
     "changes \"disk\"'s I/O limits (iops, iops-rd, iops-wr, bps, bps-rd, bps-wr, iops-burst, "
     "bps-burst)",
     NULL},
    {"query-io", cmd_query_io, 0, "per disk: limits, operations and bytes read and written", NULL},
    {"query-net", cmd_query_net, 0,
     "per NIC: its rate cap, frames and bytes received and transmitted", NULL},
    {"set-net-rate", cmd_set_net_rate, 0,
     "changes \"nic\"'s rate cap (\"rate\": bytes per second each way, \"10M\", 0: none)", NULL},
    {"move-disk", cmd_move_disk, CMD_ASYNC,
     "moves \"disk\" to a new image \"target\" (\"format\": qcow2|raw) while the guest runs", NULL},
    {"debug-sleep", cmd_debug_sleep, CMD_ASYNC | CMD_DEBUG,
     "a job that waits \"steps\" times \"step-ms\" ms (tests only)", NULL},
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static json_object *cmd_query_commands(const struct control_request *rq)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < ncommands; i++)
        if (command_available(rq->c, &commands[i]))
            json_object_array_add(a, json_object_new_string(commands[i].name));
    return return_reply(a);
}

static json_object *cmd_help(const struct control_request *rq)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < ncommands; i++) {
        const struct control_command *cmd = &commands[i];
        if (!command_available(rq->c, cmd))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(cmd->name));
        json_object_object_add(o, "help", json_object_new_string(cmd->help));
        json_object_object_add(o, "async", json_object_new_boolean(!!(cmd->flags & CMD_ASYNC)));
        json_object_object_add(o, "needs-running",
                               json_object_new_boolean(!!(cmd->flags & CMD_NEEDS_RUNNING)));
        json_object_array_add(a, o);
    }
    return return_reply(a);
}

/* Runs one request and returns the reply. */
static json_object *execute(struct control *c, struct control_client *cl, json_object *req)
{
    json_object *jexec;
    if (!json_object_is_type(req, json_type_object))
        return error_reply("InvalidRequest", "a request is a JSON object");
    if (!json_object_object_get_ex(req, "execute", &jexec) ||
        !json_object_is_type(jexec, json_type_string))
        return error_reply("InvalidRequest", "the request has no \"execute\" string");
    json_object *args = NULL;
    if (json_object_object_get_ex(req, "arguments", &args) &&
        !json_object_is_type(args, json_type_object))
        return error_reply("InvalidRequest", "\"arguments\" must be an object");
    const char *name = json_object_get_string(jexec);

    for (size_t i = 0; i < ncommands; i++) {
        const struct control_command *cmd = &commands[i];
        if (strcmp(name, cmd->name) || !command_available(c, cmd))
            continue;
        if ((cmd->flags & CMD_NEEDS_RUNNING) && c->board->paused)
            return error_reply("InvalidState", "the machine is paused; resume it first");
        struct control_request rq = {.c = c, .cl = cl, .cmd = cmd, .args = args};
        return cmd->handler(&rq);
    }
    char desc[160];
    snprintf(desc, sizeof(desc), "unknown command '%.64s' (see query-commands)", name);
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
        reply = execute(c, cl, req);
    }
    json_tokener_free(tok);
    if (req) {
        /* Echo the client's id so it can match replies to requests. */
        json_object *id;
        if (json_object_is_type(req, json_type_object) && json_object_object_get_ex(req, "id", &id))
            json_object_object_add(reply, "id", json_object_get(id));
        json_object_put(req);
    }
    send_line(c, cl, reply);
    json_object_put(reply);
}

static void on_client(void *opaque, uint32_t events)
{
    struct control_client *cl = opaque;
    struct control *c = cl->owner;
    if (events & EPOLLOUT) {
        if (!flush_output(c, cl)) {
            drop_client(c, cl);
            return;
        }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
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
        send_line(c, cl, r);
        json_object_put(r);
        drop_client(c, cl);
        return;
    }
    /* A subscriber between requests is waiting for events, not idle; one
     * with half a line still has to finish it in time. */
    if (cl->subscriptions && cl->len == 0)
        cl->deadline_ns = NO_DEADLINE;
    else if (cl->deadline_ns == NO_DEADLINE)
        cl->deadline_ns = host_monotonic_ns() + CLIENT_TIMEOUT_NS;
    arm_timeout(c);
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
     * its timeout (the longest without a complete request; idle
     * subscribers last) makes room. */
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
    if (cl->fd >= 0)
        evict_client(c, cl,
                     "{\"error\":{\"class\":\"Busy\",\"desc\":\"too many "
                     "control connections; closing the least active one\"}}\n");
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
    const char *debug = getenv("WIRT_CONTROL_DEBUG");
    c->debug_commands = debug && !strcmp(debug, "1");
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        c->clients[i].fd = -1;
        c->clients[i].owner = c;
    }
    if (!evloop_add_fd(b->loop, fd, EPOLLIN, on_accept, c)) {
        snprintf(err, errlen, "--control: cannot watch the socket");
        control_free(c);
        return NULL;
    }
    b->event_opaque = c;
    b->on_event = on_board_event;
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    if (c->board->event_opaque == c) {
        c->board->on_event = NULL;
        c->board->event_opaque = NULL;
    }
    for (unsigned i = 0; i < CONTROL_MAX_JOBS; i++) {
        struct control_job *j = &c->jobs[i];
        if (j->id && j->status == CONTROL_JOB_RUNNING) {
            j->cancel_requested = true;
            j->ops->cancel(j, j->opaque);
        }
    }
    if (c->save) {
        vmm_save_free(c->save);
        vmm_snapshot_free(c->snapshot_ctx);
        evtimer_free(c->save_timer);
    }
    if (c->migration) { /* cancelled above: wait for its thread */
        vmm_migration_free(c->migration);
        evtimer_free(c->migration_timer);
    }
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct control_client *cl = &c->clients[i];
        if (cl->fd < 0)
            continue;
        if (cl->out_len) /* the last events (powered-off), if the socket takes them */
            send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(cl->fd);
        release_client(cl);
    }
    close(c->listen_fd);
    unlink(c->path);
    evtimer_free(c->timeout_timer);
    json_object_put(c->spec);
    free(c->path);
    free(c);
}

void control_set_channels(struct control *c, json_object *(*describe)(void *opaque), void *opaque)
{
    c->channels = describe;
    c->channels_opaque = opaque;
}

void control_set_resources(struct control *c, struct vm_cgroup **cgroup,
                           struct vm_resources *limits)
{
    c->cgroup = cgroup;
    c->limits = limits;
}

void control_set_reclaim(struct control *c, struct ram_reclaim *r)
{
    c->reclaim = r;
}

void control_set_spec(struct control *c, json_object *spec)
{
    json_object_put(c->spec);
    c->spec = json_object_get(spec);
}
