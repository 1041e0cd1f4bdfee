/* SPDX-License-Identifier: MIT */
/*
 * A VMM's control group on the cgroup v2 unified hierarchy: one group per
 * VM under a `wirt` parent (`<root>/wirt/<name>`) with cpu.max,
 * cpu.weight, cpuset.cpus, memory.max and memory.low.  The root is a
 * parameter so the code runs against a fake tree in the tests; the real
 * one is /sys/fs/cgroup on a v2-only host (see cgroup.c).
 */
#ifndef WIRT_HOST_CGROUP2_H
#define WIRT_HOST_CGROUP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/cgroup.h"

struct cgroup2;

/* True when root is a cgroup v2 mount with controllers to hand out
 * (it has a cgroup.controllers file that names at least one). */
bool cgroup2_usable(const char *root);
/* Creates <root>/wirt/<name>, enables in root and wirt/ the controllers
 * root offers (cpu, cpuset, memory, io), writes l and moves pid in.  A
 * limit whose controller is missing is refused with one line naming the
 * control that would not be enforced.  NULL with one line in err. */
struct cgroup2 *cgroup2_create(const char *root, const char *name, pid_t pid,
                               const struct cgroup_limits *l, char *err, size_t errlen);
bool cgroup2_apply(struct cgroup2 *cg, const struct cgroup_limits *l, char *err, size_t errlen);
/* CPU time (cpu.stat usage_usec, in ns) and memory.current; 0 when unknown. */
void cgroup2_usage(const struct cgroup2 *cg, uint64_t *cpu_ns, uint64_t *mem_bytes);
const char *cgroup2_path(const struct cgroup2 *cg);
/* Moves pid back to the group it came from and removes the VM's group. */
void cgroup2_destroy(struct cgroup2 *cg);

/* Shared with cgroup.c (v1): writes value to dir/file (created when
 * missing, for a fake tree: cgroupfs refuses that), false with one line;
 * reads dir/file whole (NUL-terminated, may be empty). */
bool cgroup_put(const char *dir, const char *file, const char *value, char *err, size_t errlen);
bool cgroup_get(const char *dir, const char *file, char *out, size_t outlen);

#endif
