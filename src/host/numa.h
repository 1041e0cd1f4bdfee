/* SPDX-License-Identifier: MIT */
/*
 * NUMA placement: a pinned VM's RAM on the memory node(s) of the CPUs it
 * may run on, so its harts do not reach across the interconnect.
 * Uses the mbind system call directly (no libnuma).
 */
#ifndef WIRT_HOST_NUMA_H
#define WIRT_HOST_NUMA_H

#include <stddef.h>

enum numa_result {
    NUMA_BOUND,       /* memory bound to the CPUs' nodes */
    NUMA_SINGLE_NODE, /* the host has one memory node: nothing to do */
    NUMA_ALL_NODES,   /* the CPUs span every node: nothing to do */
    NUMA_FAILED,      /* not enforced; why says so */
};

/* Binds [addr, addr+len) to the nodes of the CPUs this process may run
 * on (sched_getaffinity).  nodes_text gets the nodes ("0", "0,1"). */
enum numa_result numa_bind_to_cpus(void *addr, size_t len, char *nodes_text, size_t textlen,
                                   char *why, size_t whylen);

#endif
