/* SPDX-License-Identifier: MIT */
/* A VMM's own control group (see cgroup.h). */
#include "host/cgroup.h"

#include "host/cgroup2.h"
#include "util/procid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CFS_PERIOD  100000 /* µs */

enum { C_CPU, C_CPUSET, C_MEMORY, C_CPUACCT, NCTRL };
static const char *const ctrl_name[NCTRL] = {"cpu", "cpuset", "memory", "cpuacct"};

struct vm_cgroup {
    char dir[NCTRL][PATH_MAX];    /* ours, "" when not created */
    char parent[NCTRL][PATH_MAX]; /* where the process was */
    struct cgroup2 *v2;           /* on a v2-only host, instead of the above */
};

/* A host with the unified hierarchy only (no v1 controllers mounted):
 * cgroup2.c does the work there. */
static bool v2_host(void)
{
    return access(CGROUP_ROOT "/cgroup.controllers", R_OK) == 0 && cgroup2_usable(CGROUP_ROOT);
}

static bool v2_apply(struct vm_cgroup *cg, const struct cgroup_limits *l, char *err, size_t errlen)
{
    if (cg->v2)
        return cgroup2_apply(cg->v2, l, err, errlen);
    char name[32];
    snprintf(name, sizeof(name), "wirt-%ld", wirt_host_pid());
    cg->v2 = cgroup2_create(CGROUP_ROOT, name, (pid_t)wirt_host_pid(), l, err, errlen);
    return cg->v2 != NULL;
}

bool cgroup_limits_empty(const struct cgroup_limits *l)
{
    return !l->cpu_limit_pct && !l->cpu_weight && !l->cpu_reservation_pct && !l->cpu_affinity[0] &&
           !l->memory_limit && !l->memory_reservation;
}

bool cgroup_parse_cpu_limit(const char *text, unsigned *pct, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    bool percent = *end == '%';
    if (percent)
        end++;
    if (end == text || *end || errno || v <= 0) {
        snprintf(err, errlen, "cpu-limit '%.40s': want a share of host CPUs, like 50%% or 1.5",
                 text);
        return false;
    }
    double p = percent ? v : v * 100;
    if (p < 1 || p > 100000) {
        snprintf(err, errlen, "cpu-limit '%.40s': from 1%% to 100000%%", text);
        return false;
    }
    *pct = (unsigned)(p + 0.5);
    return true;
}

bool cgroup_affinity_ok(const char *text, char *err, size_t errlen)
{
    /* "N" or "N-M", comma separated, N <= M, each a CPU this host has
     * (the kernel's own refusal, ERANGE from cpuset.cpus, names no value). */
    const char *p = text;
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (ncpu < 1 || ncpu > 4096)
        ncpu = 4096;
    if (!*p || strlen(text) >= sizeof(((struct cgroup_limits *)0)->cpu_affinity))
        goto bad;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0 || a >= 4096)
            goto bad;
        if (a >= ncpu)
            goto absent;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a || b >= 4096)
                goto bad;
            if (b >= ncpu)
                goto absent;
            p = end;
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    return true;
bad:
    snprintf(err, errlen, "cpu-affinity '%.40s': want host CPU numbers like 0-1,3", text);
    return false;
absent:
    snprintf(err, errlen, "cpu-affinity '%.40s': this host has CPUs 0-%ld", text, ncpu - 1);
    return false;
}

/* The first line of dir/file; false when missing or empty. */
static bool read_file(const char *dir, const char *file, char *out, size_t outlen)
{
    if (!cgroup_get(dir, file, out, outlen) || !out[0])
        return false;
    out[strcspn(out, "\n")] = '\0';
    return true;
}

unsigned cgroup_weight(const struct cgroup_limits *l)
{
    unsigned w = l->cpu_weight ? l->cpu_weight : 100;
    /* No CPU floor in either version: a reservation raises the weight
     * instead, so that under contention the group gets its reserved share
     * against up to ten default-weight siblings (r% of a CPU ~ weight
     * 10*r).  Admission control (wirt vm start) keeps the sum within the
     * host. */
    if (w < l->cpu_reservation_pct * 10)
        w = l->cpu_reservation_pct * 10 > 10000 ? 10000 : l->cpu_reservation_pct * 10;
    return w;
}

/* The directory of this process's cgroup for a v1 controller. */
static bool current_dir(int c, char *out, size_t outlen, char *err, size_t errlen)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[1024], rel[900] = "";
    bool found = false;
    while (f && fgets(line, sizeof(line), f)) {
        /* "4:memory:/a/b", or "1:cpu,cpuacct:/" where controllers share */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        for (char *save = NULL, *t = strtok_r(c1 + 1, ",", &save); t;
             t = strtok_r(NULL, ",", &save))
            if (!strcmp(t, ctrl_name[c])) {
                snprintf(rel, sizeof(rel), "%s", c2 + 1);
                rel[strcspn(rel, "\n")] = '\0';
                found = true;
            }
    }
    if (f)
        fclose(f);
    char mount[64];
    snprintf(mount, sizeof(mount), CGROUP_ROOT "/%s", ctrl_name[c]);
    if (!found || access(mount, W_OK) != 0) {
        snprintf(err, errlen,
                 "the cgroup v1 '%s' controller is not available here (%s is not a writable "
                 "mount)",
                 ctrl_name[c], mount);
        return false;
    }
    snprintf(out, outlen, "%s%s", mount, strcmp(rel, "/") ? rel : "");
    return true;
}

static bool make_group(struct vm_cgroup *cg, int c, char *err, size_t errlen)
{
    if (cg->dir[c][0])
        return true;
    if (!current_dir(c, cg->parent[c], sizeof(cg->parent[c]), err, errlen))
        return false;
    char parent[PATH_MAX];
    memcpy(parent, cg->parent[c], sizeof(parent));
    snprintf(cg->dir[c], sizeof(cg->dir[c]), "%.3900s/wirt-%ld", parent, wirt_host_pid());
    if (mkdir(cg->dir[c], 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", cg->dir[c], strerror(errno));
        cg->dir[c][0] = '\0';
        return false;
    }
    /* A cpuset group starts empty; it inherits the parent's CPUs and
     * memory nodes until the affinity narrows them. */
    char v[256];
    if (c == C_CPUSET && (!read_file(cg->parent[c], "cpuset.mems", v, sizeof(v)) ||
                          !cgroup_put(cg->dir[c], "cpuset.mems", v, err, errlen) ||
                          !read_file(cg->parent[c], "cpuset.cpus", v, sizeof(v)) ||
                          !cgroup_put(cg->dir[c], "cpuset.cpus", v, err, errlen)))
        return false;
    char pid[32];
    snprintf(pid, sizeof(pid), "0"); /* this process, in any PID namespace */
    return cgroup_put(cg->dir[c], "cgroup.procs", pid, err, errlen);
}

bool vm_cgroup_apply(struct vm_cgroup *cg, const struct cgroup_limits *l, char *err, size_t errlen)
{
    char v[64];
    if (cg->v2 || v2_host())
        return v2_apply(cg, l, err, errlen);
    if (l->cpu_limit_pct || l->cpu_weight || l->cpu_reservation_pct || cg->dir[C_CPU][0]) {
        if (!make_group(cg, C_CPU, err, errlen))
            return false;
        snprintf(v, sizeof(v), "%d", CFS_PERIOD);
        if (!cgroup_put(cg->dir[C_CPU], "cpu.cfs_period_us", v, err, errlen))
            return false;
        snprintf(v, sizeof(v), "%lld",
                 l->cpu_limit_pct ? (long long)l->cpu_limit_pct * CFS_PERIOD / 100 : -1LL);
        if (!cgroup_put(cg->dir[C_CPU], "cpu.cfs_quota_us", v, err, errlen))
            return false;
        /* v1 shares: 1024 is the default weight of 100. */
        unsigned w = cgroup_weight(l);
        snprintf(v, sizeof(v), "%u", w * 1024 / 100 < 2 ? 2 : w * 1024 / 100);
        if (!cgroup_put(cg->dir[C_CPU], "cpu.shares", v, err, errlen))
            return false;
    }
    if (l->cpu_affinity[0] || cg->dir[C_CPUSET][0]) {
        if (!make_group(cg, C_CPUSET, err, errlen))
            return false;
        char parent_cpus[256];
        const char *cpus = l->cpu_affinity;
        if (!cpus[0] &&
            read_file(cg->parent[C_CPUSET], "cpuset.cpus", parent_cpus, sizeof(parent_cpus)))
            cpus = parent_cpus;
        if (!cgroup_put(cg->dir[C_CPUSET], "cpuset.cpus", cpus, err, errlen))
            return false;
    }
    if (l->memory_limit || l->memory_reservation || cg->dir[C_MEMORY][0]) {
        if (!make_group(cg, C_MEMORY, err, errlen))
            return false;
        snprintf(v, sizeof(v), "%lld", l->memory_limit ? (long long)l->memory_limit : -1LL);
        if (!cgroup_put(cg->dir[C_MEMORY], "memory.limit_in_bytes", v, err, errlen))
            return false;
        snprintf(v, sizeof(v), "%lld",
                 l->memory_reservation ? (long long)l->memory_reservation : -1LL);
        if (!cgroup_put(cg->dir[C_MEMORY], "memory.soft_limit_in_bytes", v, err, errlen))
            return false;
    }
    /* CPU time is accounted where the cpuacct controller is, which may be
     * the cpu mount or its own. */
    if (cg->dir[C_CPU][0] && !cg->dir[C_CPUACCT][0] &&
        strcmp(ctrl_name[C_CPUACCT], "cpuacct") == 0) {
        char tmp[400];
        make_group(cg, C_CPUACCT, tmp, sizeof(tmp)); /* usage only: best effort */
    }
    return true;
}

struct vm_cgroup *vm_cgroup_create(const struct cgroup_limits *l, char *err, size_t errlen)
{
    struct vm_cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!vm_cgroup_apply(cg, l, err, errlen)) {
        vm_cgroup_destroy(cg);
        return NULL;
    }
    return cg;
}

void vm_cgroup_precreate(struct vm_cgroup **cgp)
{
    struct vm_cgroup *cg = *cgp ? *cgp : calloc(1, sizeof(*cg));
    if (!cg)
        return;
    char why[400];
    bool any = false;
    if (v2_host()) {
        struct cgroup_limits none = {0};
        any = cg->v2 || v2_apply(cg, &none, why, sizeof(why));
    } else
        for (int c = 0; c < NCTRL; c++)
            any |= make_group(cg, c, why, sizeof(why));
    if (!any && !*cgp) {
        free(cg);
        return;
    }
    *cgp = cg;
}

void vm_cgroup_usage(const struct vm_cgroup *cg, uint64_t *cpu_ns, uint64_t *mem_bytes)
{
    char v[64];
    *cpu_ns = *mem_bytes = 0;
    if (cg->v2) {
        cgroup2_usage(cg->v2, cpu_ns, mem_bytes);
        return;
    }
    if (cg->dir[C_CPUACCT][0] && read_file(cg->dir[C_CPUACCT], "cpuacct.usage", v, sizeof(v)))
        *cpu_ns = strtoull(v, NULL, 10);
    if (cg->dir[C_MEMORY][0] && read_file(cg->dir[C_MEMORY], "memory.usage_in_bytes", v, sizeof(v)))
        *mem_bytes = strtoull(v, NULL, 10);
}

const char *vm_cgroup_path(const struct vm_cgroup *cg, const char *controller)
{
    if (cg->v2)
        return cgroup2_path(cg->v2);
    for (int c = 0; c < NCTRL; c++)
        if (!strcmp(controller, ctrl_name[c]))
            return cg->dir[c][0] ? cg->dir[c] : NULL;
    return NULL;
}

void vm_cgroup_destroy(struct vm_cgroup *cg)
{
    if (!cg)
        return;
    char pid[32], err[400];
    cgroup2_destroy(cg->v2);
    snprintf(pid, sizeof(pid), "0"); /* this process, in any PID namespace */
    for (int c = 0; c < NCTRL; c++)
        if (cg->dir[c][0]) {
            cgroup_put(cg->parent[c], "cgroup.procs", pid, err, sizeof(err));
            rmdir(cg->dir[c]);
        }
    free(cg);
}

/* Removes the groups in dirs.  A task that has just exited may still
 * count for a moment, hence the retries.  Async-signal-safe. */
static void remove_groups(char dirs[NCTRL][PATH_MAX])
{
    for (int c = 0; c < NCTRL; c++)
        for (int tries = 0; dirs[c][0] && tries < 200; tries++) {
            if (rmdir(dirs[c]) == 0 || errno == ENOENT)
                break;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
}

/* The reaper's side: waits for EOF on fd (every copy of the write end is
 * gone, i.e. the VMM and any child it forked have exited), then removes
 * the groups.  Only async-signal-safe calls (we forked from a process
 * that may have threads). */
static void reap(int fd, char dirs[NCTRL][PATH_MAX])
{
    char buf[16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    remove_groups(dirs);
}

/* The groups process pid would have, on the controllers this process may
 * write; false: none. */
static bool group_dirs(long pid, char dirs[NCTRL][PATH_MAX])
{
    char parent[PATH_MAX], why[256];
    memset(dirs, 0, sizeof(char[NCTRL][PATH_MAX]));
    if (v2_host())
        snprintf(dirs[0], PATH_MAX, CGROUP_ROOT "/wirt/wirt-%ld", pid);
    else
        for (int c = 0; c < NCTRL; c++)
            if (current_dir(c, parent, sizeof(parent), why, sizeof(why)))
                snprintf(dirs[c], PATH_MAX, "%.3900s/wirt-%ld", parent, pid);
    bool any = false;
    for (int c = 0; c < NCTRL; c++)
        any |= dirs[c][0] != '\0';
    return any;
}

void cgroup_reap_now(long pid)
{
    static char dirs[NCTRL][PATH_MAX];
    if (group_dirs(pid, dirs))
        remove_groups(dirs);
}

bool cgroup_reaper_start(char *err, size_t errlen)
{
    /* The names first (they need stdio); the child only rmdirs. */
    static char dirs[NCTRL][PATH_MAX];
    if (!group_dirs(wirt_host_pid(), dirs)) /* no writable cgroups here: nothing to clean up */
        return true;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cgroup reaper: pipe: %s", strerror(errno));
        return false;
    }
    /* Twice forked, so the reaper is no child of the VMM (no zombie, no
     * SIGCHLD the VMM does not expect). */
    pid_t mid = fork();
    if (mid == 0) {
        if (fork() == 0) {
            /* Keep stderr; nothing else of the VMM's (sockets, disks). */
            close(p[1]);
            for (int fd = 3; fd < 1024; fd++)
                if (fd != p[0])
                    close(fd);
            signal(SIGINT, SIG_IGN);
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            /* Not in the VM directory: tools that find a VM's VMM by its
             * working directory must not take the reaper for it. */
            if (chdir("/") < 0)
                _exit(1);
            prctl(PR_SET_NAME, "wirt-reaper", 0, 0, 0);
            reap(p[0], dirs);
        }
        _exit(0);
    }
    int saved = errno;
    close(p[0]);
    if (mid < 0) {
        close(p[1]);
        snprintf(err, errlen, "cgroup reaper: fork: %s", strerror(saved));
        return false;
    }
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
    }
    /* p[1] stays open (close-on-exec) for the process's lifetime. */
    return true;
}
