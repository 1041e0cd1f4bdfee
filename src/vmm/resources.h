/* SPDX-License-Identifier: MIT */
/* A VM's resource settings as text and JSON (vmm/resources.c). */
#ifndef WIRT_VMM_RESOURCES_H
#define WIRT_VMM_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "host/cgroup.h"

/* What a VM may take from the host: its cgroup's limits, and whether its
 * RAM is offered to the kernel's same-page merging (KSM). */
struct vm_resources {
    struct cgroup_limits cg;
    bool page_sharing;
    bool pin;       /* each hart's thread on its own host CPU (at start) */
    bool sandbox;   /* seccomp filter and no_new_privs before the harts start */
    char jail[256]; /* the only directory the VMM sees (host/jail.h); "" = no jail */
    /* Zero-page reclaim (vmm/ram_reclaim.c): 0 = the default (on, every
     * RAM_RECLAIM_DEFAULT_SEC), VM_RECLAIM_OFF = never, else seconds
     * between passes. */
    int reclaim_sec;
    /* Root only, with a jail: the VMM's own unprivileged uid and gid once
     * its devices are open (host/jail.h jail_become); 0 = keep root's. */
    unsigned run_uid, run_gid;
};

#define VM_RECLAIM_OFF     (-1)
#define VM_RECLAIM_MAX_SEC 86400

bool vm_resources_empty(const struct vm_resources *r);

/* key is cpu-limit, cpu-weight, cpu-reservation, cpu-affinity, memory-limit,
 * memory-reservation, page-sharing (on|off) or reclaim (on|off|SECONDS); "" or "none" clears it.
 * false with one line in err naming the key, or with err empty for a key that is not one of them.
 */
bool vm_resources_set_text(struct vm_resources *r, const char *key, const char *value, char *err,
                           size_t errlen);
/* {"cpu-limit": "150%", "memory-limit": 1073741824, ...}: each key set,
 * the others kept. */
bool vm_resources_from_json(struct vm_resources *r, json_object *o, char *err, size_t errlen);
/* Only what is set; a new reference. */
json_object *vm_resources_to_json(const struct vm_resources *r);

#endif
