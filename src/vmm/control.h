/* SPDX-License-Identifier: MIT */
/*
 * The VMM's control socket: a Unix stream socket speaking newline-
 * delimited JSON (docs/control-protocol.md).  `wirt vm` and later the
 * host service use it to query and steer a running machine.
 *
 * The server lives on the board's event loop; every request is handled
 * with the I/O lock held and answered at once.  Commands are rows of one
 * table (name, handler, flags); long work runs as a job that answers with
 * a job id at once and reports progress and completion as events.  A
 * client may subscribe to events (state changes, jobs); they are queued
 * in its bounded output buffer between replies.
 *
 * Input is untrusted: lines are bounded, bad JSON gets an error reply, a
 * client that floods or stops reading (its output buffer fills) is
 * disconnected, and so is one without a complete request for 30 s unless
 * it is an idle subscriber.  Only the VMM's user and root may connect
 * (the socket is 0600 and peer credentials are checked); a full client
 * table makes room by closing its least active client.
 */
#ifndef WIRT_MACHINE_CONTROL_H
#define WIRT_MACHINE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;
struct control;
struct control_job;

/* Maximum length of one request line, newline included. */
#define CONTROL_MAX_LINE 4096
/* Replies and events waiting for a client that does not read: past this
 * the client is dropped. */
#define CONTROL_MAX_OUTPUT (64 * 1024)
/* Jobs remembered at once (running plus finished ones kept for
 * job-status); a new job evicts the oldest finished one. */
#define CONTROL_MAX_JOBS 16

/* Listens on `path` (a stale socket file there is replaced; a live one,
 * or any other kind of file, is an error).  Call after board_new() and
 * before board_run().  Returns NULL with one line in err on failure.
 * Debug commands (debug-sleep) exist only when WIRT_CONTROL_DEBUG=1 is
 * in the environment. */
struct control *control_new(struct board *b, const char *path, char *err, size_t errlen);
/* Cancels the running jobs, closes every connection and removes the
 * socket file.  Call after board_run() returned (the event loop is
 * stopped). */
void control_free(struct control *c);

/* The VM spec (its JSON form, docs/vm-spec.md) that query-spec returns;
 * the server keeps a reference.  The control server stays below the VMM
 * layer: it serves the document without knowing its shape. */
struct json_object;
void control_set_spec(struct control *c, struct json_object *spec);
/* set-resources/query-resources act on *cgroup (created on first use) and
 * keep *limits current; both stay the caller's. */
struct vm_cgroup;
struct vm_resources;
void control_set_resources(struct control *c, struct vm_cgroup **cgroup,
                           struct vm_resources *limits);
/* query-resources reports the zero pages r gave back (NULL: none); r
 * stays the caller's and outlives the control server's event loop. */
struct ram_reclaim;
void control_set_reclaim(struct control *c, struct ram_reclaim *r);
/* query-channels replies with what describe(opaque) returns (a new
 * reference); without it, with []. */
void control_set_channels(struct control *c, struct json_object *(*describe)(void *opaque),
                          void *opaque);

/* Asks the guest to shut down cleanly.  The one place that knows how:
 * today it types `poweroff` on the serial console once the guest printed
 * its ready marker (a stop-gap for shell guests, see docs/vm.md); a guest
 * agent replaces it later.  Returns false with a reason in err. */
bool control_guest_powerdown(struct board *b, char *err, size_t errlen);

/*
 * Jobs: how an asynchronous command (save-state, migrate, mirror ...)
 * reports.  Its handler calls control_job_new() and returns the job's id
 * at once; the work runs on a timer or a worker thread (which hands
 * results back with evloop_post) and calls control_job_progress() and
 * finally control_job_finish().  Every call is made with the I/O lock
 * held.  `job-cancel` calls ops->cancel, which must stop the work and
 * finish the job (at once or later) with CONTROL_JOB_CANCELLED.
 */
enum control_job_status {
    CONTROL_JOB_RUNNING,
    CONTROL_JOB_COMPLETED,
    CONTROL_JOB_FAILED,
    CONTROL_JOB_CANCELLED,
};

struct control_job_ops {
    const char *type; /* the command that started it, e.g. "save-state" */
    void (*cancel)(struct control_job *job, void *opaque);
};

/* Returns NULL with a reason in err when CONTROL_MAX_JOBS are running. */
struct control_job *control_job_new(struct control *c, const struct control_job_ops *ops,
                                    void *opaque, char *err, size_t errlen);
uint32_t control_job_id(const struct control_job *job);
/* Emits a job-progress event (done out of total, in the job's own unit). */
void control_job_progress(struct control_job *job, uint64_t done, uint64_t total);
/* Ends the job (status is not CONTROL_JOB_RUNNING; error is the reason
 * for FAILED, else NULL) and emits job-completed.  The job's opaque is
 * the caller's to free; the job stays visible to job-status until it is
 * evicted. */
void control_job_finish(struct control_job *job, enum control_job_status status, const char *error);

#endif
