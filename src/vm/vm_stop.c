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
static bool wait_stopped(const struct vm_store *st, const char *name, int timeout_ms)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    for (int waited = 0;; waited += 100) {
        int fd = vm_lock_try(st, name);
        if (fd >= 0) {
            vm_clean_runtime(st, name);
            vm_unlock(fd);
            return true;
        }
        if (waited >= timeout_ms)
            return false;
        nanosleep(&ts, NULL);
    }
}

/* The VMM's pid, only if that process really is a VMM of this VM. */
static long vmm_pid(const struct vm_store *st, const char *name)
{
    long pid = vm_read_pid(st, name);
    if (pid <= 0)
        return -1;
    char p[64], cwd[PATH_MAX], dir[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/%ld/cwd", pid);
    ssize_t n = readlink(p, cwd, sizeof(cwd) - 1);
    if (n <= 0)
        return -1;
    cwd[n] = '\0';
    vm_path(st, dir, sizeof(dir), name, NULL);
    char real[PATH_MAX];
    if (!realpath(dir, real) || strcmp(real, cwd))
        return -1;
    return pid;
}

static bool power_off(const struct vm_store *st, const char *name, struct vm_stop_result *how,
                      struct wirt_error *e)
{
    char err[512];
    json_object *r = vm_control(st, name, "quit", 3000, err, sizeof(err));
    json_object_put(r);
    if (wait_stopped(st, name, FORCE_WAIT_MS)) {
        how->how = VM_STOP_POWERED_OFF;
        return true;
    }
    long pid = vmm_pid(st, name);
    if (pid > 0) {
        kill((pid_t)pid, SIGKILL);
        if (wait_stopped(st, name, FORCE_WAIT_MS)) {
            how->how = VM_STOP_KILLED;
            how->pid = pid;
            return true;
        }
    }
    return vm_fail(e, WIRT_ERR_FAILED, "'%s' could not be stopped", name);
}

bool vm_stop(struct vm_store *st, const char *name, bool force, int timeout_s, bool timeout_given,
             struct vm_stop_result *how, struct wirt_error *e)
{
    if (!vm_require(st, name, e))
        return false;
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state == VM_STOPPED)
        return vm_fail(e, WIRT_ERR_STATE, "VM '%s' is not running", name);
    if (force && !timeout_given)
        return power_off(st, name, how, e);
    if (rt.state == VM_BUSY && !force)
        return vm_fail(e, WIRT_ERR_BUSY,
                       "VM '%s' does not answer on its control socket; use --force", name);
    char err[512];
    json_object *r, *je, *d, *cls;
    if (rt.state == VM_PAUSED) {
        /* A paused guest cannot act on the request: let it run again. */
        r = vm_control(st, name, "resume", 5000, err, sizeof(err));
        json_object_put(r);
    }
    /* The guest agent shuts down cleanly whatever the console shows; it
     * answers within a second or two when it runs at all. */
    r = rt.state == VM_RUNNING || rt.state == VM_PAUSED
            ? (vm_agent_present(st, name)
                   ? vm_agent_call(st, name, "guest-shutdown", NULL, 3000, false, err, sizeof(err))
                   : NULL)
            : NULL;
    if (r) {
        json_object_put(r);
        if (wait_stopped(st, name, timeout_s * 1000)) {
            how->how = VM_STOP_SHUTDOWN;
            return true;
        }
        if (force)
            return power_off(st, name, how, e);
        return vm_fail(e, WIRT_ERR_FAILED,
                       "'%s' did not shut down within %d s after its guest agent was asked; it is "
                       "still running (use --force to power it off)",
                       name, timeout_s);
    }
    /* A guest still booting cannot be asked yet: wait for it within the timeout. */
    struct timespec ts = {0, 500 * 1000 * 1000};
    for (int waited = 0;; waited += 500) {
        r = vm_control(st, name, "powerdown", 5000, err, sizeof(err));
        if (!r || !json_object_object_get_ex(r, "error", &je) ||
            !json_object_object_get_ex(je, "class", &cls) ||
            strcmp(json_object_get_string(cls), "GuestNotReady") || waited >= timeout_s * 1000)
            break;
        json_object_put(r);
        nanosleep(&ts, NULL);
    }
    if (!r || json_object_object_get_ex(r, "error", &je)) {
        if (r && json_object_object_get_ex(je, "desc", &d))
            snprintf(err, sizeof(err), "%s", json_object_get_string(d));
        json_object_put(r);
        if (!force)
            return vm_fail(e, WIRT_ERR_FAILED,
                           "cannot ask '%s' to shut down: %s (use --force to power it off)", name,
                           err);
        return power_off(st, name, how, e);
    }
    json_object_put(r);
    if (wait_stopped(st, name, timeout_s * 1000)) {
        how->how = VM_STOP_SHUTDOWN;
        return true;
    }
    if (force)
        return power_off(st, name, how, e);
    return vm_fail(e, WIRT_ERR_FAILED,
                   "'%s' did not shut down within %d s; it is still running (use --force to power "
                   "it off)",
                   name, timeout_s);
}

int vm_stop_vm(struct vm_store *st, const char *name, bool force, int timeout_s, bool timeout_given)
{
    struct vm_stop_result how;
    struct wirt_error e;
    if (!vm_stop(st, name, force, timeout_s, timeout_given, &how, &e))
        return vm_report(&e);
    if (how.how == VM_STOP_SHUTDOWN)
        printf("stopped VM '%s'\n", name);
    else if (how.how == VM_STOP_POWERED_OFF)
        printf("powered off VM '%s'\n", name);
    else
        printf("killed the VMM of '%s' (pid %ld)\n", name, how.pid);
    return 0;
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

int vm_cmd_stop(struct vm_store *st, int argc, char **argv)
{
    bool force, given, console;
    int timeout;
    const char *name = parse_stop(argc, argv, &force, &timeout, &given, &console, false);
    return vm_stop_vm(st, name, force, timeout, given);
}

int vm_cmd_restart(struct vm_store *st, int argc, char **argv)
{
    bool force, given, console;
    int timeout;
    const char *name = parse_stop(argc, argv, &force, &timeout, &given, &console, true);
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_STOPPED) {
        int status = vm_stop_vm(st, name, force, timeout, given);
        if (status)
            return status;
    }
    return vm_start_vm(st, name, console);
}
