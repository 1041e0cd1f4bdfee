/* SPDX-License-Identifier: MIT */
/*
 * wirt vm top: a live view of the store's running VMs, like virt-top.
 *
 * Per VM: CPU use of each vCPU (its hart thread's time in /proc: hart 0
 * runs on the VMM's main thread, the others are named "hartN"), the
 * VMM's resident memory, the balloon (the memory the guest keeps) and
 * the disks' read and write rates (control query-io) and the NICs'
 * receive and transmit rates (query-net).  Rates are the difference of
 * two samples a second apart.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/vclock.h"
#include "util/log.h"
#include "vm/vm_int.h"

#define TOP_MAX_VCPUS 64

struct top_sample {
    char name[VM_NAME_MAX + 1];
    long pid;
    uint64_t t_ns;
    unsigned nvcpus;
    uint64_t vcpu_ticks[TOP_MAX_VCPUS]; /* utime + stime, clock ticks */
    uint64_t rss;                       /* bytes */
    int64_t balloon;                    /* guest memory the balloon leaves; -1: none */
    uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;
    uint64_t net_rx, net_tx; /* bytes, all NICs */
};

/* utime + stime of /proc/PID/task/TID/stat, or false. */
static bool task_ticks(long pid, long tid, uint64_t *ticks)
{
    char p[96], buf[1024];
    snprintf(p, sizeof(p), "/proc/%ld/task/%ld/stat", pid, tid);
    FILE *f = fopen(p, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The name in parentheses may hold spaces: fields count from the last ')'. */
    char *s = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return false;
    *ticks = ut + st;
    return true;
}

/* Each hart thread's CPU time; the VMM's main thread is hart 0. */
static unsigned vcpu_ticks(long pid, uint64_t *ticks)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%ld/task", pid);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    unsigned n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        long tid = atol(de->d_name);
        if (tid <= 0)
            continue;
        unsigned h;
        if (tid == pid) {
            h = 0;
        } else {
            char cp[96];
            snprintf(cp, sizeof(cp), "/proc/%ld/task/%ld/comm", pid, tid);
            FILE *f = fopen(cp, "re");
            if (!f)
                continue;
            bool named = fscanf(f, "hart%u", &h) == 1;
            fclose(f);
            if (!named || h >= TOP_MAX_VCPUS)
                continue;
        }
        if (task_ticks(pid, tid, &ticks[h]) && h + 1 > n)
            n = h + 1;
    }
    closedir(d);
    return n;
}

static uint64_t rss_bytes(long pid)
{
    char p[64], line[128];
    snprintf(p, sizeof(p), "/proc/%ld/status", pid);
    FILE *f = fopen(p, "re");
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static int64_t get_int(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void sample(const struct vm_store *st, const char *name, long pid, struct top_sample *s)
{
    char err[256];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->pid = pid;
    s->t_ns = host_monotonic_ns();
    s->nvcpus = vcpu_ticks(pid, s->vcpu_ticks);
    s->rss = rss_bytes(pid);
    s->balloon = -1;
    json_object *r = vm_control(st, name, "query-io", 2000, err, sizeof(err)), *ret, *disks;
    if (r && json_object_object_get_ex(r, "return", &ret) &&
        json_object_object_get_ex(ret, "disks", &disks))
        for (size_t i = 0; i < json_object_array_length(disks); i++) {
            json_object *d = json_object_array_get_idx(disks, i);
            s->rd_bytes += (uint64_t)get_int(d, "rd-bytes");
            s->wr_bytes += (uint64_t)get_int(d, "wr-bytes");
            s->rd_ops += (uint64_t)get_int(d, "rd-ops");
            s->wr_ops += (uint64_t)get_int(d, "wr-ops");
        }
    json_object_put(r);
    json_object *nics;
    r = vm_control(st, name, "query-net", 2000, err, sizeof(err));
    if (r && json_object_object_get_ex(r, "return", &ret) &&
        json_object_object_get_ex(ret, "nics", &nics))
        for (size_t i = 0; i < json_object_array_length(nics); i++) {
            json_object *n = json_object_array_get_idx(nics, i);
            s->net_rx += (uint64_t)get_int(n, "rx-bytes");
            s->net_tx += (uint64_t)get_int(n, "tx-bytes");
        }
    json_object_put(r);
    r = vm_control(st, name, "query-balloon", 2000, err, sizeof(err));
    if (r && json_object_object_get_ex(r, "return", &ret))
        s->balloon = get_int(ret, "guest-memory");
    json_object_put(r);
}

json_object *vm_top_usage(const struct vm_store *st, const char *name, long pid)
{
    struct top_sample s;
    sample(st, name, pid, &s);
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    long hz = sysconf(_SC_CLK_TCK);
    for (unsigned i = 0; i < s.nvcpus; i++)
        json_object_array_add(a, json_object_new_int64((int64_t)(s.vcpu_ticks[i] * 1000000000ull /
                                                                 (uint64_t)(hz > 0 ? hz : 100))));
    json_object_object_add(o, "vcpu-cpu-ns", a);
    json_object_object_add(o, "rss-bytes", json_object_new_int64((int64_t)s.rss));
    json_object_object_add(o, "balloon-guest-memory",
                           s.balloon >= 0 ? json_object_new_int64(s.balloon) : NULL);
#define ADD(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
    ADD("disk-rd-bytes", s.rd_bytes);
    ADD("disk-wr-bytes", s.wr_bytes);
    ADD("disk-rd-ops", s.rd_ops);
    ADD("disk-wr-ops", s.wr_ops);
    ADD("net-rx-bytes", s.net_rx);
    ADD("net-tx-bytes", s.net_tx);
#undef ADD
    return o;
}

/* The rates between a and b, one VM. */
static json_object *rates(const struct top_sample *a, const struct top_sample *b)
{
    double dt = (double)(b->t_ns - a->t_ns) / 1e9;
    if (dt <= 0)
        dt = 1;
    long hz = sysconf(_SC_CLK_TCK);
    json_object *o = json_object_new_object(), *cpu = json_object_new_array();
    json_object_object_add(o, "name", json_object_new_string(b->name));
    json_object_object_add(o, "pid", json_object_new_int64(b->pid));
    for (unsigned i = 0; i < b->nvcpus; i++) {
        uint64_t d = i < a->nvcpus && b->vcpu_ticks[i] >= a->vcpu_ticks[i]
                         ? b->vcpu_ticks[i] - a->vcpu_ticks[i]
                         : 0;
        double pct = 100.0 * (double)d / (double)(hz > 0 ? hz : 100) / dt;
        json_object_array_add(cpu, json_object_new_double((double)(long long)(pct * 10) / 10));
    }
    json_object_object_add(o, "vcpu-cpu-percent", cpu);
    json_object_object_add(o, "rss-bytes", json_object_new_int64((int64_t)b->rss));
    json_object_object_add(o, "balloon-guest-memory",
                           b->balloon >= 0 ? json_object_new_int64(b->balloon) : NULL);
#define RATE(k, f)                                                                                 \
    json_object_object_add(o, k, json_object_new_int64((int64_t)((double)(b->f - a->f) / dt)))
    RATE("disk-rd-bytes-per-s", rd_bytes);
    RATE("disk-wr-bytes-per-s", wr_bytes);
    RATE("disk-rd-ops-per-s", rd_ops);
    RATE("disk-wr-ops-per-s", wr_ops);
    RATE("net-rx-bytes-per-s", net_rx);
    RATE("net-tx-bytes-per-s", net_tx);
#undef RATE
    return o;
}

/* Samples every running VM, waits a second, samples again: their rates. */
static json_object *measure(struct vm_store *st, struct wirt_error *e)
{
    struct vm_summary *list;
    size_t n;
    if (!vm_list(st, &list, &n, e))
        return NULL;
    struct top_sample *a = calloc(n ? n : 1, sizeof(*a)), *b = calloc(n ? n : 1, sizeof(*b));
    json_object *out = json_object_new_array();
    if (!a || !b)
        fatal("out of memory");
    for (size_t i = 0; i < n; i++)
        if (list[i].rt.state == VM_RUNNING || list[i].rt.state == VM_PAUSED)
            sample(st, list[i].name, list[i].rt.pid, &a[i]);
    struct timespec one = {1, 0};
    nanosleep(&one, NULL);
    for (size_t i = 0; i < n; i++)
        if (a[i].pid > 0) {
            sample(st, list[i].name, list[i].rt.pid, &b[i]);
            json_object_array_add(out, rates(&a[i], &b[i]));
        }
    free(a);
    free(b);
    free(list);
    return out;
}

static void mib(char *out, size_t len, int64_t bytes)
{
    if (bytes < 0)
        snprintf(out, len, "-");
    else
        snprintf(out, len, "%.1fM", (double)bytes / 1048576.0);
}

static void print_table(json_object *vms)
{
    printf("%-20s %8s %9s %9s %9s %9s %7s %7s %9s %9s  %s\n", "NAME", "PID", "RSS", "BALLOON",
           "RD/s", "WR/s", "RDIO/s", "WRIO/s", "NETRX/s", "NETTX/s", "VCPU%");
    for (size_t i = 0; i < json_object_array_length(vms); i++) {
        json_object *v = json_object_array_get_idx(vms, i), *cpu, *bal;
        char rss[24], balloon[24], rd[24], wr[24], nrx[24], ntx[24], pcts[256] = "";
        mib(rss, sizeof(rss), get_int(v, "rss-bytes"));
        json_object_object_get_ex(v, "balloon-guest-memory", &bal);
        mib(balloon, sizeof(balloon), bal ? json_object_get_int64(bal) : -1);
        mib(rd, sizeof(rd), get_int(v, "disk-rd-bytes-per-s"));
        mib(wr, sizeof(wr), get_int(v, "disk-wr-bytes-per-s"));
        mib(nrx, sizeof(nrx), get_int(v, "net-rx-bytes-per-s"));
        mib(ntx, sizeof(ntx), get_int(v, "net-tx-bytes-per-s"));
        json_object_object_get_ex(v, "vcpu-cpu-percent", &cpu);
        size_t used = 0;
        for (size_t k = 0; cpu && k < json_object_array_length(cpu) && used < sizeof(pcts); k++)
            used += (size_t)snprintf(pcts + used, sizeof(pcts) - used, "%s%.1f", k ? " " : "",
                                     json_object_get_double(json_object_array_get_idx(cpu, k)));
        json_object *name;
        json_object_object_get_ex(v, "name", &name);
        printf("%-20s %8lld %9s %9s %9s %9s %7lld %7lld %9s %9s  %s\n",
               json_object_get_string(name), (long long)get_int(v, "pid"), rss, balloon, rd, wr,
               (long long)get_int(v, "disk-rd-ops-per-s"),
               (long long)get_int(v, "disk-wr-ops-per-s"), nrx, ntx, pcts);
    }
}

int vm_cmd_top(struct vm_store *st, int argc, char **argv)
{
    bool once = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--once"))
            once = true;
        else if (!strcmp(argv[i], "--json"))
            json = once = true; /* a script wants one answer */
        else
            vm_usage("top: unexpected argument '%.80s' (usage: wirt vm top [--once] [--json])",
                     argv[i]);
    }
    for (;;) {
        struct wirt_error e;
        json_object *vms = measure(st, &e);
        if (!vms)
            return vm_report(&e);
        if (json) {
            printf("%s\n", json_object_to_json_string_ext(vms, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
            if (!once)
                fputs("\033[H\033[2J", stdout); /* a fresh screen each second */
            print_table(vms);
        }
        json_object_put(vms);
        fflush(stdout);
        if (once)
            return 0;
    }
}
