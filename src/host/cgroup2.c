/* SPDX-License-Identifier: MIT */
/* A VMM's control group on cgroup v2 (see cgroup2.h). */
#include "host/cgroup2.h"
#include "util/procid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFS_PERIOD 100000 /* µs */

enum { K_CPU = 1, K_CPUSET = 2, K_MEMORY = 4, K_IO = 8 };
static const struct {
    const char *name;
    unsigned bit;
} known[] = {{"cpu", K_CPU}, {"cpuset", K_CPUSET}, {"memory", K_MEMORY}, {"io", K_IO}};

struct cgroup2 {
    char root[PATH_MAX];
    char dir[PATH_MAX];  /* <root>/wirt/<name> */
    char back[PATH_MAX]; /* where pid was */
    pid_t pid;
    unsigned have; /* K_* the root offers */
};

bool cgroup_put(const char *dir, const char *file, const char *value, char *err, size_t errlen)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    /* O_CREAT only matters for a fake tree: on cgroupfs the files exist
     * and creating one is refused. */
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t n = strlen(value);
    if (fd < 0 || write(fd, value, n) != (ssize_t)n) {
        snprintf(err, errlen, "%s: %s", p, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    return true;
}

bool cgroup_get(const char *dir, const char *file, char *out, size_t outlen)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n < 0)
        return false;
    out[n] = '\0';
    return true;
}

static unsigned controllers(const char *dir)
{
    char v[512];
    unsigned have = 0;
    if (!cgroup_get(dir, "cgroup.controllers", v, sizeof(v)))
        return 0;
    for (char *save = NULL, *t = strtok_r(v, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (!strcmp(t, known[i].name))
                have |= known[i].bit;
    return have;
}

bool cgroup2_usable(const char *root)
{
    return controllers(root) != 0;
}

/* Each controller on its own: one the kernel refuses leaves the others. */
static void enable(const char *dir, unsigned have)
{
    char why[256], v[32];
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (have & known[i].bit) {
            snprintf(v, sizeof(v), "+%s", known[i].name);
            cgroup_put(dir, "cgroup.subtree_control", v, why, sizeof(why));
        }
}

static bool need(const struct cgroup2 *cg, unsigned bit, const char *control, char *err,
                 size_t errlen)
{
    if (cg->have & bit)
        return true;
    const char *ctrl = "";
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].bit == bit)
            ctrl = known[i].name;
    snprintf(err, errlen,
             "%s is not enforced: the cgroup v2 '%s' controller is not available in %s "
             "(cgroup.controllers)",
             control, ctrl, cg->root);
    return false;
}

bool cgroup2_apply(struct cgroup2 *cg, const struct cgroup_limits *l, char *err, size_t errlen)
{
    char v[64];
    if (l->cpu_limit_pct && !need(cg, K_CPU, "cpu-limit", err, errlen))
        return false;
    if ((l->cpu_weight || l->cpu_reservation_pct) && !need(cg, K_CPU, "cpu-weight", err, errlen))
        return false;
    if (l->cpu_affinity[0] && !need(cg, K_CPUSET, "cpu-affinity", err, errlen))
        return false;
    if (l->memory_limit && !need(cg, K_MEMORY, "memory-limit", err, errlen))
        return false;
    if (l->memory_reservation && !need(cg, K_MEMORY, "memory-reservation", err, errlen))
        return false;
    if (cg->have & K_CPU) {
        if (l->cpu_limit_pct)
            snprintf(v, sizeof(v), "%llu %d",
                     (unsigned long long)l->cpu_limit_pct * CFS_PERIOD / 100, CFS_PERIOD);
        else
            snprintf(v, sizeof(v), "max %d", CFS_PERIOD);
        if (!cgroup_put(cg->dir, "cpu.max", v, err, errlen))
            return false;
        /* v2 weights are ours (1..10000, default 100). */
        snprintf(v, sizeof(v), "%u", cgroup_weight(l));
        if (!cgroup_put(cg->dir, "cpu.weight", v, err, errlen))
            return false;
    }
    /* An empty cpuset.cpus in v2 means "the parent's". */
    if ((cg->have & K_CPUSET) && !cgroup_put(cg->dir, "cpuset.cpus", l->cpu_affinity, err, errlen))
        return false;
    if (cg->have & K_MEMORY) {
        if (l->memory_limit)
            snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory_limit);
        else
            snprintf(v, sizeof(v), "max");
        if (!cgroup_put(cg->dir, "memory.max", v, err, errlen))
            return false;
        snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory_reservation);
        if (!cgroup_put(cg->dir, "memory.low", v, err, errlen))
            return false;
    }
    return true;
}

/* pid's group on the unified hierarchy ("0::/path"), under root. */
static void origin(struct cgroup2 *cg)
{
    char p[64], line[PATH_MAX];
    snprintf(cg->back, sizeof(cg->back), "%s", cg->root);
    snprintf(p, sizeof(p), "/proc/%ld/cgroup", (long)cg->pid);
    FILE *f = fopen(p, "re");
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = '\0';
            char d[PATH_MAX * 2];
            snprintf(d, sizeof(d), "%s%s", cg->root, strcmp(line + 3, "/") ? line + 3 : "");
            struct stat st;
            if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
                snprintf(cg->back, sizeof(cg->back), "%.4000s", d);
        }
    if (f)
        fclose(f);
}

struct cgroup2 *cgroup2_create(const char *root, const char *name, pid_t pid,
                               const struct cgroup_limits *l, char *err, size_t errlen)
{
    struct cgroup2 *cg = calloc(1, sizeof(*cg));
    if (!cg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(cg->root, sizeof(cg->root), "%s", root);
    cg->pid = pid;
    cg->have = controllers(root);
    origin(cg);
    char parent[PATH_MAX + 8];
    snprintf(parent, sizeof(parent), "%s/wirt", root);
    snprintf(cg->dir, sizeof(cg->dir), "%.3000s/%.200s", parent, name);
    if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", parent, strerror(errno));
        free(cg);
        return NULL;
    }
    enable(root, cg->have);
    enable(parent, cg->have);
    if (mkdir(cg->dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", cg->dir, strerror(errno));
        free(cg);
        return NULL;
    }
    char v[32];
    /* "0" is the writer itself, also inside the jail's PID namespace,
     * where the host's pid means nothing. */
    snprintf(v, sizeof(v), "%ld", pid == (pid_t)wirt_host_pid() ? 0L : (long)pid);
    if (!cgroup2_apply(cg, l, err, errlen) ||
        !cgroup_put(cg->dir, "cgroup.procs", v, err, errlen)) {
        rmdir(cg->dir);
        free(cg);
        return NULL;
    }
    return cg;
}

void cgroup2_usage(const struct cgroup2 *cg, uint64_t *cpu_ns, uint64_t *mem_bytes)
{
    char v[1024];
    *cpu_ns = *mem_bytes = 0;
    if (cgroup_get(cg->dir, "cpu.stat", v, sizeof(v))) {
        char *u = strstr(v, "usage_usec ");
        if (u)
            *cpu_ns = strtoull(u + 11, NULL, 10) * 1000;
    }
    if (cgroup_get(cg->dir, "memory.current", v, sizeof(v)))
        *mem_bytes = strtoull(v, NULL, 10);
}

const char *cgroup2_path(const struct cgroup2 *cg)
{
    return cg->dir;
}

void cgroup2_destroy(struct cgroup2 *cg)
{
    if (!cg)
        return;
    char v[32], why[256];
    snprintf(v, sizeof(v), "%ld", cg->pid == (pid_t)wirt_host_pid() ? 0L : (long)cg->pid);
    cgroup_put(cg->back, "cgroup.procs", v, why, sizeof(why));
    rmdir(cg->dir);
    free(cg);
}
