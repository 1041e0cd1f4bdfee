/* SPDX-License-Identifier: MIT */
/* wirt vm start: launch a detached VMM (`wirt run --spec run.json`) that
 * holds the VM's lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/vm_int.h"

#define START_TIMEOUT_MS 20000

static void need_file(const char *name, const char *what, const char *file)
{
    char p[PATH_MAX];
    vm_path(p, sizeof(p), name, file);
    if (access(p, R_OK) != 0)
        vm_die("cannot start '%s': its %s %s is missing (%s)", name, what, p, strerror(errno));
}

/* The last non-empty line of vmm.log: why the VMM gave up. */
static void last_log_line(const char *name, char *out, size_t outlen)
{
    char p[PATH_MAX], buf[1000];
    vm_path(p, sizeof(p), name, VM_VMMLOG);
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
static int open_vmm_log(const char *name)
{
    char p[PATH_MAX], err[PATH_MAX + 128];
    vm_path(p, sizeof(p), name, VM_VMMLOG);
    struct log_file *log = log_file_open(p, VMM_LOG_LIMIT, err, sizeof(err));
    if (!log)
        vm_die("cannot open %s", err);
    int fd = fcntl(log_file_fd(log), F_DUPFD_CLOEXEC, 0);
    log_file_close(log);
    if (fd < 0)
        vm_die("cannot open %s: %s", p, strerror(errno));
    time_t now = time(NULL);
    struct tm tm;
    char stamp[64];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "--- wirt vm start %s at %s\n", name, stamp);
    return fd;
}

int vm_start_vm(const char *name, bool console)
{
    vm_require(name);
    struct vm_config cfg;
    vm_config_load_or_die(name, &cfg);
    if (cfg.is_template)
        vm_die("'%s' is a template and cannot be started; create a VM from it: "
               "wirt vm create NEW --from %s",
               name, name);
    /* Someone holds the lock: a VMM (then it answers soon), or a short
     * command such as list or set (then the lock comes free soon). */
    int lock = -1;
    for (int tries = 0; lock < 0; tries++) {
        lock = vm_lock_try(name);
        if (lock >= 0)
            break;
        struct vm_runtime rt;
        vm_runtime_get(name, &rt);
        if (rt.state == VM_RUNNING || rt.state == VM_PAUSED)
            vm_die("VM '%s' is already running (pid %ld)", name, rt.pid);
        if (tries == 50)
            vm_die("VM '%s' is busy (starting, or locked by another wirt vm command)", name);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (cfg.kernel[0])
        need_file(name, "kernel", cfg.kernel);
    if (cfg.initrd[0])
        need_file(name, "initrd", cfg.initrd);
    if (cfg.bios[0])
        need_file(name, "firmware", cfg.bios);
    for (unsigned i = 0; i < cfg.ndisks; i++)
        need_file(name, "disk", cfg.disks[i].file);
    if (cfg.linked_to[0] && !vm_exists(cfg.linked_to))
        vm_die("cannot start '%s': its disk is a linked clone of '%s', which is gone", name,
               cfg.linked_to);
    if (vm_clean_runtime(name))
        vm_warn("%s: removed stale runtime files", name);

    /* The VMM gets its whole configuration as one spec file, written
     * owner-only next to vm.json; it runs in the VM directory, where the
     * spec's plain file names resolve (and socket paths stay short). */
    struct vm_spec spec;
    char err[1024], specpath[PATH_MAX];
    bool ok = vm_config_to_spec(&cfg, &spec, err, sizeof(err));
    vm_path(specpath, sizeof(specpath), name, VM_RUNSPEC);
    if (ok)
        ok = vm_spec_save(specpath, &spec, err, sizeof(err));
    vm_spec_free(&spec);
    if (!ok)
        vm_die("cannot start '%s': %s", name, err);
    char *args[] = {"wirt", "run", "--spec", VM_RUNSPEC, NULL};

    char dir[PATH_MAX];
    vm_path(dir, sizeof(dir), name, NULL);
    int logfd = open_vmm_log(name);
    const char *exe = vm_self_exe();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        vm_die("cannot start '%s': fork: %s", name, strerror(errno));
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
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char why[1024];
            last_log_line(name, why, sizeof(why));
            vm_die("'%s' failed to start: %s", name, why);
        }
        char err[256];
        json_object *r = vm_control(name, "query-status", 1000, err, sizeof(err));
        if (r) {
            json_object_put(r);
            printf("started VM '%s' (pid %ld)\n", name, (long)pid);
            fflush(stdout);
            return console ? vm_attach_console(name) : 0;
        }
        nanosleep(&ts, NULL);
    }
    vm_die("'%s' did not come up within %d s; see its vmm.log", name, START_TIMEOUT_MS / 1000);
}

int vm_cmd_start(int argc, char **argv)
{
    const char *name = NULL;
    bool console = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--console"))
            console = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            vm_usage("start: unexpected argument '%.80s' (see wirt vm start --help)", argv[i]);
    }
    if (!name)
        vm_usage("start: which VM? (wirt vm start NAME)");
    return vm_start_vm(name, console);
}
