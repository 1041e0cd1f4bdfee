/* SPDX-License-Identifier: MIT */
#include "host/numa.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NODE_DIR     "/sys/devices/system/node"
#define MAX_NODES    64 /* one word of node mask */
#define MPOL_BIND    2
#define MPOL_MF_MOVE (1 << 1)

static bool path_exists(const char *p)
{
    return access(p, F_OK) == 0;
}

enum numa_result numa_bind_to_cpus(void *addr, size_t len, char *nodes_text, size_t textlen,
                                   char *why, size_t whylen)
{
    nodes_text[0] = '\0';
    char p[128];
    unsigned nnodes = 0;
    for (unsigned n = 0; n < MAX_NODES; n++) {
        snprintf(p, sizeof(p), NODE_DIR "/node%u", n);
        nnodes += path_exists(p);
    }
    if (nnodes <= 1)
        return NUMA_SINGLE_NODE;
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) {
        snprintf(why, whylen, "sched_getaffinity: %s", strerror(errno));
        return NUMA_FAILED;
    }
    uint64_t mask = 0;
    for (unsigned n = 0; n < MAX_NODES; n++)
        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (!CPU_ISSET(c, &cpus))
                continue;
            snprintf(p, sizeof(p), NODE_DIR "/node%u/cpu%d", n, c);
            if (path_exists(p)) {
                mask |= 1ull << n;
                break;
            }
        }
    if (!mask || (unsigned)__builtin_popcountll(mask) >= nnodes)
        return NUMA_ALL_NODES;
    size_t used = 0;
    for (unsigned n = 0; n < MAX_NODES && used < textlen; n++)
        if (mask & (1ull << n))
            used += (size_t)snprintf(nodes_text + used, textlen - used, "%s%u", used ? "," : "", n);
    /* Pages touched already (firmware, kernel) move too. */
    if (syscall(SYS_mbind, addr, len, MPOL_BIND, &mask, (unsigned long)MAX_NODES + 1,
                MPOL_MF_MOVE) != 0) {
        snprintf(why, whylen, "mbind: %s", strerror(errno));
        return NUMA_FAILED;
    }
    return NUMA_BOUND;
}
