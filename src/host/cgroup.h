/* SPDX-License-Identifier: MIT */
/*
 * A VMM's own control group (cgroups v1: the cpu, cpuset and memory
 * controllers): CPU limit and weight, CPU affinity, memory limit and
 * reservation for the whole VMM process.
 *
 * The group is created inside the cgroup the process already is in, one
 * per controller it needs (`<current>/wirt-<pid>`), so every limit the
 * host already puts on the caller still holds and nothing outside wirt's
 * own groups is written.  At exit the process moves back to where it was
 * and the group is removed.
 */
#ifndef WIRT_HOST_CGROUP_H
#define WIRT_HOST_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_limits {
    unsigned cpu_limit_pct;       /* 150 = 1.5 host CPUs; 0 = none */
    unsigned cpu_weight;          /* 1..10000, 100 = the default share; 0 = default */
    unsigned cpu_reservation_pct; /* guaranteed share (admission control), 100 = 1 CPU */
    char cpu_affinity[64];        /* "0-1,3"; "" = any */
    uint64_t memory_limit;        /* bytes; 0 = none */
    uint64_t memory_reservation;  /* bytes kept under pressure (soft limit); 0 = none */
};

struct vm_cgroup;

/* True when l asks for nothing (no group is needed). */
/* The CPU weight to write (1..10000, default 100): cpu-weight, raised
 * for a cpu-reservation. */
unsigned cgroup_weight(const struct cgroup_limits *l);
bool cgroup_limits_empty(const struct cgroup_limits *l);
/* Checks the text forms: "150%" or "1.5" (CPUs), "0-1,3".  One line in
 * err. */
bool cgroup_parse_cpu_limit(const char *text, unsigned *pct, char *err, size_t errlen);
bool cgroup_affinity_ok(const char *text, char *err, size_t errlen);

/* Creates the groups l needs, writes the limits and moves this process
 * in.  NULL with one line in err (naming the controller) on failure. */
struct vm_cgroup *vm_cgroup_create(const struct cgroup_limits *l, char *err, size_t errlen);
/* New limits for a running VMM (only controllers it already has, or
 * creates them). */
bool vm_cgroup_apply(struct vm_cgroup *cg, const struct cgroup_limits *l, char *err, size_t errlen);
/* What the group used: CPU time (ns) and memory (bytes); 0 when unknown. */
void vm_cgroup_usage(const struct vm_cgroup *cg, uint64_t *cpu_ns, uint64_t *mem_bytes);
/* The group's directory for a controller ("cpu", "memory"), or NULL. */
const char *vm_cgroup_path(const struct vm_cgroup *cg, const char *controller);
/* Moves the process back and removes the groups. */
void vm_cgroup_destroy(struct vm_cgroup *cg);

/* For a VMM that drops its capabilities (--sandbox): starts a small
 * process, outside every group of this one, that keeps the caller's
 * rights and, once this process has exited (however it ends, SIGSYS
 * included), removes the groups named after it (`wirt-<pid>` under each
 * controller's parent, also those created later by set-resources).  Call
 * before vm_cgroup_create.  False with one line in err. */
bool cgroup_reaper_start(char *err, size_t errlen);
/* The reaper's work done at once, for process pid that has exited (the
 * jail's supervisor, for the VMM it ran in a PID namespace, where a
 * reaper forked by the VMM would die with it). */
void cgroup_reap_now(long pid);
/* Also for --sandbox: creates now, while the process may still write the
 * hierarchy's root directories, a group for every controller that is
 * available (no limit in it until set-resources sets one), so that
 * set-resources works without capabilities.  *cg is created when NULL;
 * stays NULL when no controller is writable. */
void vm_cgroup_precreate(struct vm_cgroup **cg);

#endif
