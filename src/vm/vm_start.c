/* SPDX-License-Identifier: MIT */
/* wirt vm start: launch a detached VMM (`wirt run --spec run.json`) that
 * holds the VM's lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netd/netd.h"
#include "util/log.h"
#include "vm/vm_int.h"

#define START_TIMEOUT_MS 20000

static bool need_file(const struct vm_store *st, const char *name, const char *what,
                      const char *file, struct wirt_error *e)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, file);
    if (access(p, R_OK) != 0)
        return vm_fail(e, WIRT_ERR_FAILED, "cannot start '%s': its %s %s is missing (%s)", name,
                       what, p, strerror(errno));
    return true;
}

/* The last non-empty line of vmm.log: why the VMM gave up. */
static void last_log_line(const struct vm_store *st, const char *name, char *out, size_t outlen)
{
    char p[PATH_MAX], buf[1000];
    vm_path(st, p, sizeof(p), name, VM_VMMLOG);
    snprintf(out, outlen, "see %.900s", p);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    if (!strncmp(line, "wirt: ", 6))
        line += 6;
    if (*line)
        snprintf(out, outlen, "%s", line);
}

/* The VMM's stdout and stderr until it opens vmm.log itself (--log), which
 * then keeps it bounded while it runs. */
static int open_vmm_log(const struct vm_store *st, const char *name, struct wirt_error *e)
{
    char p[PATH_MAX], err[PATH_MAX + 128];
    vm_path(st, p, sizeof(p), name, VM_VMMLOG);
    struct log_file *log = log_file_open(p, VMM_LOG_LIMIT, err, sizeof(err));
    if (!log) {
        vm_fail(e, WIRT_ERR_FAILED, "cannot open %s", err);
        return -1;
    }
    int fd = fcntl(log_file_fd(log), F_DUPFD_CLOEXEC, 0);
    log_file_close(log);
    if (fd < 0) {
        vm_fail(e, WIRT_ERR_FAILED, "cannot open %s: %s", p, strerror(errno));
        return -1;
    }
    time_t now = time(NULL);
    struct tm tm;
    char stamp[64];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "--- wirt vm start %s at %s\n", name, stamp);
    return fd;
}

static uint64_t host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
}

bool vm_admit(struct vm_store *st, const char *name, const struct cgroup_limits *want,
              struct wirt_error *e)
{
    if (!want->cpu_reservation_pct && !want->memory_reservation)
        return true;
    struct vm_summary *all;
    size_t n;
    if (!vm_list(st, &all, &n, e))
        return false;
    /* What the other running VMs hold; their reservations are honoured
     * first, like VMware's admission control. */
    uint64_t cpu = 0, mem = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vm_summary *v = &all[i];
        if (!v->config_ok || !strcmp(v->name, name) ||
            (v->rt.state != VM_RUNNING && v->rt.state != VM_PAUSED))
            continue;
        cpu += v->cfg.resources.cg.cpu_reservation_pct;
        mem += v->cfg.resources.cg.memory_reservation;
    }
    free(all);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t cpu_cap = (uint64_t)(ncpu > 0 ? ncpu : 1) * 100, mem_cap = host_memory();
    if (want->cpu_reservation_pct && cpu + want->cpu_reservation_pct > cpu_cap)
        return vm_fail(e, WIRT_ERR_STATE,
                       "cannot start '%s': cpu-reservation %u%% with %llu%% already reserved by "
                       "running VMs exceeds the host's %llu%% (%ld CPUs)",
                       name, want->cpu_reservation_pct, (unsigned long long)cpu,
                       (unsigned long long)cpu_cap, ncpu);
    if (want->memory_reservation && mem_cap && mem + want->memory_reservation > mem_cap)
        return vm_fail(e, WIRT_ERR_STATE,
                       "cannot start '%s': memory-reservation %llu MiB with %llu MiB already "
                       "reserved by running VMs exceeds the host's %llu MiB",
                       name, (unsigned long long)(want->memory_reservation >> 20),
                       (unsigned long long)(mem >> 20), (unsigned long long)(mem_cap >> 20));
    return true;
}

/* A root VMM's own uid (and gid of the same number), like Firecracker's
 * jailer: each VM one from this range, none of them a host account's. */
#define VM_UID_BASE  1500000000u
#define VM_UID_COUNT 65536u

static bool wirt_uid(unsigned uid)
{
    return uid >= VM_UID_BASE && uid < VM_UID_BASE + VM_UID_COUNT;
}

/* The uid a VM's VMM runs as: its directory's owner once it has one of
 * the range (so it stays the same across restarts, and the directory
 * records it), else the lowest one no other VM directory of the store
 * owns, given to the directory now (the VMM hands it the rest, jail.c).
 * 0: none (the directory cannot change owner), the VMM keeps root's. */
static unsigned vm_uid(const struct vm_store *st, const char *dir)
{
    struct stat sd;
    if (lstat(dir, &sd) < 0 || !S_ISDIR(sd.st_mode))
        return 0;
    if (wirt_uid(sd.st_uid))
        return sd.st_uid;
    static uint64_t used[VM_UID_COUNT / 64];
    memset(used, 0, sizeof(used));
    /* The scan and the chown under one store-wide lock (the vms
     * directory's): two new VMs started at once must not get one uid. */
    DIR *vms = opendir(st->vms);
    if (vms)
        flock(dirfd(vms), LOCK_EX);
    for (struct dirent *e; vms && (e = readdir(vms));) {
        struct stat s;
        if (e->d_name[0] != '.' && fstatat(dirfd(vms), e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 &&
            wirt_uid(s.st_uid))
            used[(s.st_uid - VM_UID_BASE) / 64] |= 1ull << ((s.st_uid - VM_UID_BASE) % 64);
    }
    unsigned uid = 0;
    bool tried = false;
    for (unsigned i = 0; i < VM_UID_COUNT && !uid && !tried; i++)
        if (!(used[i / 64] >> (i % 64) & 1)) {
            tried = true;
            if (chown(dir, VM_UID_BASE + i, VM_UID_BASE + i) < 0)
                vm_warn("not enforced: a uid of its own for %s (%s); its VMM runs as root "
                        "without capabilities",
                        dir, strerror(errno));
            else
                uid = VM_UID_BASE + i;
        }
    if (vms)
        closedir(vms); /* and the lock with it */
    if (!tried)
        vm_warn("not enforced: a uid of its own for %s (all %u in use)", dir, VM_UID_COUNT);
    return uid;
}

/* Every VMM of a store runs sandboxed and, where the host allows it
 * (root, or unprivileged user namespaces), jailed in its VM directory
 * (issue 14).  "jail": "off" in vm.json opts out of both defaults.  Not
 * jailed: a VM on a virtual switch, whose port reconnects at run time to
 * the switch's socket outside the VM directory. */
static void default_isolation(const struct vm_store *st, const char *name, struct vm_spec *spec)
{
    struct vm_resources *r = &spec->resources;
    if (!strcmp(r->jail, "off"))
        return;
    r->sandbox = true;
    if (r->jail[0])
        return;
    for (unsigned i = 0; i < spec->nnics; i++)
        if (spec->nics[i].backend && !strcmp(spec->nics[i].backend->name, "switch"))
            return;
    if (geteuid() != 0) {
        FILE *f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re");
        int on = 1;
        if (f && fscanf(f, "%d", &on) != 1)
            on = 0;
        if (f)
            fclose(f);
        if (!on)
            return;
    }
    char dir[PATH_MAX];
    vm_path(st, dir, sizeof(dir), name, NULL);
    char real[PATH_MAX];
    size_t n = realpath(dir, real) ? strlen(real) : sizeof(r->jail);
    if (n >= sizeof(r->jail))
        return; /* a path too long for the jail: no jail */
    memcpy(r->jail, real, n + 1);
    /* Root: the jailed VMM drops to a uid of its own, unless vm.json
     * names one. */
    if (geteuid() == 0 && !r->run_uid)
        r->run_uid = r->run_gid = vm_uid(st, real);
}

bool vm_start(struct vm_store *st, const char *name, struct vm_start_result *res,
              struct wirt_error *e)
{
    return vm_start_fresh(st, name, false, res, e);
}

static bool start_vmm(struct vm_store *st, const char *name, bool fresh, const char *incoming,
                      struct vm_start_result *res, struct wirt_error *e);

bool vm_start_fresh(struct vm_store *st, const char *name, bool fresh, struct vm_start_result *res,
                    struct wirt_error *e)
{
    return start_vmm(st, name, fresh, NULL, res, e);
}

bool vm_start_incoming(struct vm_store *st, const char *name, const char *incoming,
                       struct vm_start_result *res, struct wirt_error *e)
{
    return start_vmm(st, name, true, incoming, res, e);
}

/* An incoming VMM answers once the migration is done: give it time. */
#define INCOMING_TIMEOUT_MS (30 * 60 * 1000)

static bool start_vmm(struct vm_store *st, const char *name, bool fresh, const char *incoming,
                      struct vm_start_result *res, struct wirt_error *e)
{
    *res = (struct vm_start_result){.pid = -1};
    if (!vm_require(st, name, e))
        return false;
    struct vm_config cfg;
    char why[1024];
    if (!vm_config_load(st, name, &cfg, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", why);
    if (cfg.is_template)
        return vm_fail(e, WIRT_ERR_STATE,
                       "'%s' is a template and cannot be started; create a VM from it: "
                       "wirt vm create NEW --from %s",
                       name, name);
    /* Someone holds the lock: a VMM (then it answers soon), or a short
     * command such as list or set (then the lock comes free soon). */
    int lock = -1;
    for (int tries = 0; lock < 0; tries++) {
        lock = vm_lock_try(st, name);
        if (lock >= 0)
            break;
        struct vm_runtime rt;
        vm_runtime_get(st, name, &rt);
        if (rt.state == VM_RUNNING || rt.state == VM_PAUSED)
            return vm_fail(e, WIRT_ERR_BUSY, "VM '%s' is already running (pid %ld)", name, rt.pid);
        if (tries == 50)
            return vm_fail(e, WIRT_ERR_BUSY,
                           "VM '%s' is busy (starting, or locked by another wirt vm command)",
                           name);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    bool ok = vm_admit(st, name, &cfg.resources.cg, e) &&
              (!cfg.kernel[0] || need_file(st, name, "kernel", cfg.kernel, e)) &&
              (!cfg.initrd[0] || need_file(st, name, "initrd", cfg.initrd, e)) &&
              (!cfg.bios[0] || need_file(st, name, "firmware", cfg.bios, e));
    for (unsigned i = 0; ok && i < cfg.ndisks; i++)
        ok = need_file(st, name, "disk", cfg.disks[i].file, e);
    if (ok && cfg.linked_to[0] && !vm_exists(st, cfg.linked_to))
        ok = vm_fail(e, WIRT_ERR_FAILED,
                     "cannot start '%s': its disk is a linked clone of '%s', which is gone", name,
                     cfg.linked_to);
    bool resume = !fresh && vm_is_suspended(st, name);
    if (ok && resume)
        ok = vm_suspend_check(st, name, &cfg, e);
    if (!ok) {
        vm_unlock(lock);
        return false;
    }
    if (fresh)
        vm_suspend_forget(st, name);
    res->cleaned_stale = vm_clean_runtime(st, name);

    /* The VMM gets its whole configuration as one spec file, written
     * owner-only next to vm.json; it runs in the VM directory, where the
     * spec's plain file names resolve (and socket paths stay short). */
    struct vm_spec spec;
    char specpath[PATH_MAX];
    ok = vm_config_to_spec(&cfg, &spec, why, sizeof(why));
    /* switch=NAME: the store's network, its switch started on demand. */
    for (unsigned i = 0; ok && i < spec.nnics; i++)
        ok = netd_attach_nic(st->root, &spec.nics[i], name, i, why, sizeof(why));
    vm_path(st, specpath, sizeof(specpath), name, VM_RUNSPEC);
    if (ok)
        default_isolation(st, name, &spec);
    if (ok && spec.display.vnc)
        ok = vm_vnc_password_make(st, name, why, sizeof(why));
    if (ok)
        ok = vm_spec_save(specpath, &spec, why, sizeof(why));
    vm_spec_free(&spec);
    if (!ok) {
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_INVALID, "cannot start '%s': %s", name, why);
    }
    char *args[] = {"wirt", "run", "--spec", VM_RUNSPEC, NULL, NULL, NULL};
    if (resume) {
        args[4] = "--restore";
        args[5] = VM_SUSPEND_STATE;
    } else if (incoming) {
        args[4] = "--incoming";
        args[5] = (char *)incoming;
    }

    char dir[PATH_MAX];
    vm_path(st, dir, sizeof(dir), name, NULL);
    const char *exe = vm_self_exe();
    if (!exe) {
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_FAILED, "cannot find the wirt executable: %s", strerror(errno));
    }
    int logfd = open_vmm_log(st, name, e);
    if (logfd < 0) {
        vm_unlock(lock);
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_FAILED, "cannot start '%s': fork: %s", name, strerror(errno));
    }
    if (pid == 0) {
        /* The VMM: its own session (no terminal), stdio to vmm.log, and
         * the inherited lock fd, held until it exits. */
        setsid();
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || chdir(dir) < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 ||
            dup2(logfd, 2) < 0)
            _exit(127);
        execv(exe, args);
        dprintf(2, "wirt: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    close(logfd);
    vm_unlock(lock); /* the child keeps its copy */

    struct timespec ts = {0, 50 * 1000 * 1000};
    int timeout_ms = incoming ? INCOMING_TIMEOUT_MS : START_TIMEOUT_MS;
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            last_log_line(st, name, why, sizeof(why));
            return vm_fail(e, WIRT_ERR_FAILED, "'%s' failed to start: %s", name, why);
        }
        char err[256];
        json_object *r = vm_control(st, name, "query-status", 1000, err, sizeof(err));
        if (r) {
            /* The VMM's own pid: a jailed one runs in a child of the
             * process started here (host/jail.c). */
            json_object *ret, *v;
            res->pid = (long)pid;
            if (json_object_object_get_ex(r, "return", &ret) &&
                json_object_object_get_ex(ret, "pid", &v))
                res->pid = (long)json_object_get_int64(v);
            json_object_put(r);
            /* The VMM answers only after the restore: the state is in its
             * memory now (the file stays mapped until it exits). */
            if (resume)
                vm_suspend_forget(st, name);
            res->resumed = resume;
            char marker[PATH_MAX];
            vm_path(st, marker, sizeof(marker), name, VM_CRASHED);
            unlink(marker);
            return true;
        }
        nanosleep(&ts, NULL);
    }
    return vm_fail(e, WIRT_ERR_FAILED, "'%s' did not come up within %d s; see its vmm.log", name,
                   timeout_ms / 1000);
}

int vm_start_vm(struct vm_store *st, const char *name, bool console)
{
    return vm_start_vm_fresh(st, name, console, false);
}

int vm_start_vm_fresh(struct vm_store *st, const char *name, bool console, bool fresh)
{
    struct vm_start_result res;
    struct wirt_error e;
    bool ok = vm_start_fresh(st, name, fresh, &res, &e);
    if (res.cleaned_stale)
        vm_warn("%s: removed stale runtime files", name);
    if (!ok)
        return vm_report(&e);
    printf("%s VM '%s' (pid %ld)\n", res.resumed ? "resumed" : "started", name, res.pid);
    if (res.resumed && vm_agent_present(st, name)) {
        /* The guest's clock stood still while it was suspended: its agent
         * sets it from the host's (guest-set-time without a time reads
         * the RTC, which runs on the host clock). */
        char why[256];
        json_object_put(
            vm_agent_call(st, name, "guest-set-time", NULL, 3000, true, why, sizeof(why)));
    }
    fflush(stdout);
    return console ? vm_attach_console(st, name) : 0;
}

int vm_cmd_start(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL;
    bool console = false, fresh = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--console"))
            console = true;
        else if (!strcmp(argv[i], "--fresh"))
            fresh = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            vm_usage("start: unexpected argument '%.80s' (see wirt vm start --help)", argv[i]);
    }
    if (!name)
        vm_usage("start: which VM? (wirt vm start NAME)");
    return vm_start_vm_fresh(st, name, console, fresh);
}
