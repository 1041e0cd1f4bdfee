/* SPDX-License-Identifier: MIT */
/* The VMM's life: a machine from a spec, run until the guest powers off. */
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/console.h"
#include "host/evloop.h"
#include "host/numa.h"
#include "host/jail.h"
#include "host/sandbox.h"
#include "machine/board.h"
#include "util/file.h"
#include "util/log.h"
#include "util/procid.h"
#include "vmm/channels.h"
#include "vmm/control.h"
#include "vmm/gdbstub.h"
#include "vmm/ram_reclaim.h"
#include "vmm/state_file.h"
#include "vmm/vmm_display.h"
#include "vmm/vmm_migration.h"

/* A detached VMM turns SIGTERM/SIGINT (host shutdown, kill) into a
 * clean power-off on the event loop, so its runtime files are removed. */
static int term_pipe[2] = {-1, -1};

static void on_term_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(term_pipe[1], "t", 1) < 0) {
        /* the pipe is full: a power-off is already pending */
    }
    errno = saved;
}

/* --save-on-exit: a stop request saves the machine first. */
static struct {
    const char *path;
    struct vmm_save *save;
    struct evtimer *timer;
} exit_save;

static void exit_save_tick(void *opaque)
{
    struct board *b = opaque;
    struct state_file_result res;
    char why[512];
    int r = vmm_save_poll(exit_save.save, &res, why, sizeof(why));
    if (r == 1) {
        evtimer_arm(exit_save.timer, host_monotonic_ns() + 20 * 1000 * 1000);
        return;
    }
    if (r == 0)
        log_info("saved the machine to %s (paused %.1f ms, %llu bytes of RAM written)",
                 exit_save.path, (double)res.pause_ns / 1e6,
                 (unsigned long long)res.ram_bytes_written);
    else
        log_error("--save-on-exit: %s; powering off without a saved state", why);
    board_power_off(b, r == 0 ? 0 : 1);
}

/* What SIGTERM and Ctrl-A x ask for: power off, or save and then power off. */
static void request_exit(struct board *b)
{
    if (!exit_save.path) {
        board_power_off(b, 0);
        return;
    }
    if (exit_save.save)
        return; /* already saving */
    char why[256];
    if (!(exit_save.timer = evtimer_new(b->loop, exit_save_tick, b)) ||
        !(exit_save.save = vmm_save_start(b, exit_save.path, true, why, sizeof(why)))) {
        log_error("--save-on-exit: cannot start saving; powering off");
        board_power_off(b, 1);
        return;
    }
    evtimer_arm(exit_save.timer, host_monotonic_ns() + 20 * 1000 * 1000);
}

static void on_term_event(void *opaque, uint32_t events)
{
    (void)events;
    char buf[16];
    while (read(term_pipe[0], buf, sizeof(buf)) > 0) {
    }
    request_exit(opaque);
}

static void catch_term_signals(struct board *b)
{
    if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
        !evloop_add_fd(b->loop, term_pipe[0], EPOLLIN, on_term_event, b))
        return;
    struct sigaction sa = {.sa_handler = on_term_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Written whole (temporary file + rename): a reader never sees half a pid. */
static bool write_pidfile(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    char why[400]; /* a FIFO left at tmp would block a plain open */
    int fd = open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, why, sizeof(why));
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", wirt_host_pid());
    if (fd < 0) {
        snprintf(err, errlen, "--pidfile: %s", why);
        return false;
    }
    if (write(fd, line, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "--pidfile: %s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

static void on_console_quit(void *opaque)
{
    request_exit(opaque);
}

/* The host side of the guest's console: the terminal, or (detached) a
 * socket and a log.  The board owns it once attached. */
static bool open_console(struct board *b, const struct vm_spec *s, char *err, size_t errlen)
{
    struct console *c = console_new(b->loop, STDIN_FILENO, STDOUT_FILENO, on_console_quit, b);
    if (!c) {
        snprintf(err, errlen, "cannot set up the console: %s", strerror(errno));
        return false;
    }
    board_attach_console(b, c);
    const char *sock = s->console.serial_socket, *log = s->console.serial_log;
    return !(sock || log) || console_detach(c, sock, log, err, errlen);
}

/* A pinned VM's RAM on its CPUs' memory node; says once what it did. */
static void bind_numa(struct board *b)
{
    char nodes[64], why[160];
    enum numa_result r =
        numa_bind_to_cpus(b->bus.ram, b->bus.ram_size, nodes, sizeof(nodes), why, sizeof(why));
    switch (r) {
    case NUMA_BOUND:
        log_info("numa: guest memory bound to node %s, where its CPUs are", nodes);
        break;
    case NUMA_SINGLE_NODE:
        log_info("numa: this host has one memory node; no memory binding needed");
        break;
    case NUMA_ALL_NODES:
        log_info("numa: the VM's CPUs span every memory node; no memory binding");
        break;
    case NUMA_FAILED:
        log_warn("numa: memory binding not enforced: %s", why);
        break;
    }
}

/* The jail's network namespace would cut the guest off: libslirp opens
 * host sockets for the guest's connections at run time, tap and switch
 * ports live in the host's namespace, and migrate connects when told.  So
 * only a VM without NICs and without a control socket gets one. */
static bool enter_jail(const struct vm_spec *spec, const struct vm_cgroup *cg, char *err,
                       size_t errlen)
{
    static const char *const ctrl[] = {"cpu", "cpuset", "memory", "cpuacct"};
    const char *extra[4] = {NULL};
    for (size_t i = 0; cg && i < 4; i++)
        extra[i] = vm_cgroup_path(cg, ctrl[i]);
    bool netns = spec->nnics == 0 && !spec->control;
    if (!jail_enter(spec->resources.jail, extra, 4, netns, err, errlen))
        return false;
    /* Its own uid last: the jail's mounts needed root. */
    return !spec->resources.run_uid || jail_become(spec->resources.jail, spec->resources.run_uid,
                                                   spec->resources.run_gid, extra, 4, err, errlen);
}

int vmm_run(struct vm_spec *spec, char *err, size_t errlen)
{
    if (spec->resources.run_uid && (spec->resources.jail[0] != '/' || geteuid() != 0)) {
        snprintf(err, errlen, "--uid: only for a VMM started as root with --jail DIR");
        return -1;
    }
    /* A jailed VMM runs in a PID namespace of its own (as root; a user
     * namespace would be needed first otherwise), entered before anything
     * is open or running: only a child can be in it. */
    if (spec->resources.jail[0] == '/' && geteuid() == 0 &&
        !jail_pid_namespace(cgroup_reap_now, err, errlen))
        return -1;
    /* WIRT_LOG=info or debug: more than warnings (restore times, channel
     * opens, saves). */
    const char *level = getenv("WIRT_LOG");
    if (level && !strcmp(level, "info"))
        log_set_level(LOG_INFO);
    else if (level && !strcmp(level, "debug"))
        log_set_level(LOG_DEBUG);
    /* Opened first so every later message, guest-triggered ones included,
     * lands in a file that stays bounded while the machine runs. */
    if (spec->log) {
        struct log_file *log = log_file_open(spec->log, VMM_LOG_LIMIT, err, errlen);
        if (!log) {
            char why[512];
            snprintf(why, sizeof(why), "%s", err);
            snprintf(err, errlen, "--log: %s", why);
            return -1;
        }
        log_set_output(log); /* lives as long as the process */
    }
    /* The cgroup first: everything the VMM allocates and every thread it
     * starts is then inside its limits. */
    struct vm_cgroup *cgroup = NULL;
    /* Without capabilities the VMM may not be able to remove its groups
     * at exit: a helper that keeps them does. */
    if (spec->resources.sandbox && !wirt_in_pid_namespace() && !cgroup_reaper_start(err, errlen))
        return -1;
    if (!cgroup_limits_empty(&spec->resources.cg) &&
        !(cgroup = vm_cgroup_create(&spec->resources.cg, err, errlen)))
        return -1;
    if (spec->resources.sandbox)
        vm_cgroup_precreate(&cgroup);
    struct board_config cfg;
    vm_spec_board_config(spec, &cfg);
    struct board *b = board_new(&cfg, err, errlen);
    if (!b) {
        vm_cgroup_destroy(cgroup);
        return -1;
    }
    if (spec->resources.page_sharing)
        bus_ram_set_mergeable(&b->bus, true);
    if (spec->resources.pin || spec->resources.cg.cpu_affinity[0])
        bind_numa(b);
    bool detached = spec->console.serial_socket || spec->console.serial_log;
    struct control *control = NULL;
    struct vmm_channels *channels = NULL;
    struct vmm_display *display = NULL;
    struct gdbstub *gdb = NULL;
    struct ram_reclaim *reclaim = NULL;
    int status = -1;
    /* Sockets may lose their peer at any moment; that is never fatal. */
    if (detached || spec->control)
        signal(SIGPIPE, SIG_IGN);
    b->incoming = spec->incoming != NULL;
    if (!open_console(b, spec, err, errlen) || !vmm_add_devices(b, spec, err, errlen))
        goto out;
    err[0] = '\0';
    if (!(channels = vmm_channels_new(b, spec, err, errlen)) && err[0])
        goto out;
    if (!(display = vmm_display_new(b, spec, err, errlen)) && err[0])
        goto out;
    /* A state file replaces RAM and harts before anything runs: booting
     * the images first would be thrown away. */
    if (spec->restore)
        board_skip_boot(b);
    else if (!board_boot(b, err, errlen))
        goto out;
    /* A migrated or saved guest replaces the booted one before anything runs. */
    if (spec->incoming && vmm_incoming(b, spec->incoming, err, errlen) != 0)
        goto out;
    if (spec->restore && !state_file_restore(b, spec->restore, err, errlen))
        goto out;
    exit_save.path = spec->save_on_exit;
    if (detached || spec->save_on_exit)
        catch_term_signals(b);
    if (spec->control) {
        if (!(control = control_new(b, spec->control, err, errlen)))
            goto out;
        json_object *j = vm_spec_to_json(spec);
        control_set_spec(control, j);
        control_set_channels(control, vmm_channels_to_json, channels);
        control_set_resources(control, &cgroup, &spec->resources);
        json_object_put(j);
    }
    if (spec->gdb && !(gdb = gdbstub_new(b, spec->gdb, spec->gdb_wait, err, errlen)))
        goto out;
    if (spec->pidfile && !write_pidfile(spec->pidfile, err, errlen))
        goto out;
    /* Last: every file and socket is open, and the harts inherit it. */
    if (spec->resources.jail[0] == '/' && !enter_jail(spec, cgroup, err, errlen))
        goto out;
    if (spec->resources.sandbox && !sandbox_enter(err, errlen))
        goto out;
    if (spec->resources.sandbox && getenv("WIRT_DEBUG_FORBIDDEN_SYSCALL"))
        sandbox_selftest();
    reclaim = ram_reclaim_start(b, ram_reclaim_interval(spec->resources.reclaim_sec));
    if (control)
        control_set_reclaim(control, reclaim);
    status = board_run(b);
    if (spec->pidfile)
        unlink(spec->pidfile);
out:
    gdbstub_free(gdb, status); /* before the board: it may be using it */
    control_free(control);
    ram_reclaim_stop(reclaim); /* after the control server, which reads it */
    if (exit_save.save) {
        vmm_save_free(exit_save.save);
        evtimer_free(exit_save.timer);
        exit_save.save = NULL;
    }
    vmm_display_stop(display);
    board_free(b);
    vmm_display_free(display);
    vmm_channels_free(channels);
    vm_cgroup_destroy(cgroup);
    return status;
}
