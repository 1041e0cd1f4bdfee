/* SPDX-License-Identifier: MIT */
/* wirt vm stop / restart: graceful shutdown through the guest, or power off. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm_int.h"

#define DEFAULT_TIMEOUT 30
#define FORCE_WAIT_MS   5000

/* Waits until the VMM released the lock (it exited); cleans leftovers. */
static bool wait_stopped(const char *name, int timeout_ms)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    for (int waited = 0;; waited += 100) {
        int fd = vm_lock_try(name);
        if (fd >= 0) {
            vm_clean_runtime(name);
            vm_unlock(fd);
            return true;
        }
        if (waited >= timeout_ms)
            return false;
        nanosleep(&ts, NULL);
    }
}

/* The VMM's pid, only if that process really is a VMM of this VM. */
static long vmm_pid(const char *name)
{
    long pid = vm_read_pid(name);
    if (pid <= 0)
        return -1;
    char p[64], cwd[PATH_MAX], dir[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/%ld/cwd", pid);
    ssize_t n = readlink(p, cwd, sizeof(cwd) - 1);
    if (n <= 0)
        return -1;
    cwd[n] = '\0';
    vm_path(dir, sizeof(dir), name, NULL);
    char real[PATH_MAX];
    if (!realpath(dir, real) || strcmp(real, cwd))
        return -1;
    return pid;
}

static int power_off(const char *name)
{
    char err[512];
    json_object *r = vm_control(name, "quit", 3000, err, sizeof(err));
    json_object_put(r);
    if (wait_stopped(name, FORCE_WAIT_MS)) {
        printf("powered off VM '%s'\n", name);
        return 0;
    }
    long pid = vmm_pid(name);
    if (pid > 0) {
        kill((pid_t)pid, SIGKILL);
        if (wait_stopped(name, FORCE_WAIT_MS)) {
            printf("killed the VMM of '%s' (pid %ld)\n", name, pid);
            return 0;
        }
    }
    vm_warn("'%s' could not be stopped", name);
    return 1;
}

int vm_stop_vm(const char *name, bool force, int timeout_s, bool timeout_given)
{
    vm_require(name);
    struct vm_runtime rt;
    vm_runtime_get(name, &rt);
    if (rt.state == VM_STOPPED)
        vm_die("VM '%s' is not running", name);
    if (force && !timeout_given)
        return power_off(name);
    if (rt.state == VM_BUSY && !force)
        vm_die("VM '%s' does not answer on its control socket; use --force", name);
    char err[512];
    json_object *r, *e, *d, *cls;
    if (rt.state == VM_PAUSED) {
        /* A paused guest cannot act on the request: let it run again. */
        r = vm_control(name, "resume", 5000, err, sizeof(err));
        json_object_put(r);
    }
    /* A guest still booting cannot be asked yet: wait for it within the timeout. */
    struct timespec ts = {0, 500 * 1000 * 1000};
    for (int waited = 0;; waited += 500) {
        r = vm_control(name, "powerdown", 5000, err, sizeof(err));
        if (!r || !json_object_object_get_ex(r, "error", &e) ||
            !json_object_object_get_ex(e, "class", &cls) ||
            strcmp(json_object_get_string(cls), "GuestNotReady") || waited >= timeout_s * 1000)
            break;
        json_object_put(r);
        nanosleep(&ts, NULL);
    }
    if (!r || json_object_object_get_ex(r, "error", &e)) {
        if (r && json_object_object_get_ex(e, "desc", &d))
            snprintf(err, sizeof(err), "%s", json_object_get_string(d));
        json_object_put(r);
        if (!force)
            vm_die("cannot ask '%s' to shut down: %s (use --force to power it off)", name, err);
        return power_off(name);
    }
    json_object_put(r);
    if (wait_stopped(name, timeout_s * 1000)) {
        printf("stopped VM '%s'\n", name);
        return 0;
    }
    if (force)
        return power_off(name);
    vm_die("'%s' did not shut down within %d s; it is still running (use --force to power it "
           "off)",
           name, timeout_s);
}

/* Options shared by stop and restart; returns the VM name. */
static const char *parse_stop(int argc, char **argv, bool *force, int *timeout, bool *given,
                              bool *console, bool allow_console)
{
    const char *name = NULL;
    *force = *given = *console = false;
    *timeout = DEFAULT_TIMEOUT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            *force = true;
        } else if (!strcmp(argv[i], "--timeout") || !strncmp(argv[i], "--timeout=", 10)) {
            const char *v = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[++i] : "");
            char *end;
            long t = strtol(v, &end, 10);
            if (!*v || *end || t < 1 || t > 86400)
                vm_usage("%s: --timeout: '%s' is not a number of seconds (1-86400)", argv[0], v);
            *timeout = (int)t;
            *given = true;
        } else if (allow_console && !strcmp(argv[i], "--console")) {
            *console = true;
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            vm_usage("%s: unexpected argument '%.80s' (see wirt vm %s --help)", argv[0], argv[i],
                     argv[0]);
        }
    }
    if (!name)
        vm_usage("%s: which VM? (wirt vm %s NAME)", argv[0], argv[0]);
    return name;
}

int vm_cmd_stop(int argc, char **argv)
{
    bool force, given, console;
    int timeout;
    const char *name = parse_stop(argc, argv, &force, &timeout, &given, &console, false);
    return vm_stop_vm(name, force, timeout, given);
}

int vm_cmd_restart(int argc, char **argv)
{
    bool force, given, console;
    int timeout;
    const char *name = parse_stop(argc, argv, &force, &timeout, &given, &console, true);
    vm_require(name);
    struct vm_runtime rt;
    vm_runtime_get(name, &rt);
    if (rt.state != VM_STOPPED) {
        int st = vm_stop_vm(name, force, timeout, given);
        if (st)
            return st;
    }
    return vm_start_vm(name, console);
}
