/* SPDX-License-Identifier: MIT */
/*
 * wirt vm migrate: live-migrates a running VM through the VMM's control
 * command `migrate`; on success the VM runs at the destination and its
 * VMM here has exited (the VM stays in this store, stopped).  --cancel
 * stops a running migration (the VM keeps running here).  The shared
 * secret is $WIRT_MIGRATION_SECRET on both sides.  Destinations:
 *  - tcp:HOST:PORT: `wirt run --incoming tcp:ADDR:PORT` with the same
 *    machine options, or `wirt vm receive NAME --listen ADDR:PORT`, which
 *    makes the VM in its store from the preamble sent first
 *    (vm_receive.c);
 *  - store:DIR: another store on this host (a `wirt vm receive` there,
 *    on a loopback port);
 *  - ssh://[USER@]HOST[:PORT][/STORE]: `ssh ... wirt vm [--store STORE]
 *    receive NAME --stdio` on the far side, the stream relayed between a
 *    loopback port the VMM connects to and ssh's stdin/stdout.
 * store: and ssh:// copy the disks (--copy-storage).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/vm_int.h"

/* The far side of store: and ssh:// destinations. */
struct far {
    pid_t pid;
    int listener;             /* ssh: the loopback port the VMM connects to */
    int to_child, from_child; /* ssh: its stdin, stdout */
    struct vm_relay *relay;
    pthread_t acceptor;
    bool accepting;
};

static void *accept_and_relay(void *arg)
{
    struct far *f = arg;
    int c = accept4(f->listener, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0)
        f->relay = vm_relay_start(c, f->from_child, f->to_child);
    return NULL;
}

static int loopback_listener(unsigned *port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &l) < 0) {
        if (ls >= 0)
            close(ls);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return ls;
}

/* Starts the far side for `to` (store:DIR or ssh://...); fills uri with
 * the tcp: address the VMM is to migrate to. */
static bool far_start(struct far *f, const char *name, const char *to, char *uri, size_t urilen,
                      struct wirt_error *e)
{
    *f = (struct far){.pid = -1, .listener = -1, .to_child = -1, .from_child = -1};
    const char *exe = vm_self_exe();
    char *argv[16];
    int n = 0;
    char host[256] = "", port[16] = "", store[1024] = "";
    bool ssh = !strncmp(to, "ssh://", 6);
    if (ssh) {
        const char *h = to + 6, *slash = strchr(h, '/');
        size_t hl = slash ? (size_t)(slash - h) : strlen(h);
        if (!hl || hl >= sizeof(host))
            return vm_fail(e, WIRT_ERR_INVALID, "migrate: --to '%s' is not ssh://[USER@]HOST", to);
        memcpy(host, h, hl);
        char *colon = strrchr(host, ':');
        if (colon && !strchr(colon, ']')) {
            *colon = '\0';
            snprintf(port, sizeof(port), "%s", colon + 1);
        }
        if (slash)
            snprintf(store, sizeof(store), "%s", slash);
        if (!host[0] || host[0] == '-' || (port[0] && strspn(port, "0123456789") != strlen(port)))
            return vm_fail(e, WIRT_ERR_INVALID,
                           "migrate: --to '%s' is not ssh://[USER@]HOST[:PORT]", to);
        argv[n++] = "ssh";
        if (port[0]) {
            argv[n++] = "-p";
            argv[n++] = port;
        }
        argv[n++] = "--";
        argv[n++] = host;
        argv[n++] = "wirt";
    } else {
        snprintf(store, sizeof(store), "%s", to + 6);
        if (!store[0])
            return vm_fail(e, WIRT_ERR_INVALID, "migrate: --to store: needs a directory");
        if (!exe)
            return vm_fail(e, WIRT_ERR_FAILED, "cannot find the wirt executable");
        argv[n++] = (char *)exe;
    }
    argv[n++] = "vm";
    if (store[0]) {
        argv[n++] = "--store";
        argv[n++] = store;
    }
    argv[n++] = "receive";
    argv[n++] = (char *)name;
    argv[n++] = ssh ? "--stdio" : "--listen";
    if (!ssh)
        argv[n++] = "127.0.0.1:0";
    argv[n] = NULL;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: pipe: %s", strerror(errno));
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: pipe: %s", strerror(errno));
    }
    fflush(NULL);
    f->pid = fork();
    if (f->pid == 0) {
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(127);
        if (ssh)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        dprintf(2, "wirt: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->to_child = in[1];
    f->from_child = out[0];
    if (f->pid < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: fork: %s", strerror(errno));
    if (!ssh) {
        /* "listening on 127.0.0.1:PORT" */
        char line[128];
        size_t len = 0;
        while (len + 1 < sizeof(line)) {
            ssize_t k = read(f->from_child, line + len, 1);
            if (k <= 0 || line[len] == '\n')
                break;
            len++;
        }
        line[len] = '\0';
        const char *p = strrchr(line, ':');
        if (strncmp(line, "listening on ", 13) != 0 || !p)
            return vm_fail(e, WIRT_ERR_FAILED, "migrate: the receiving store did not listen");
        snprintf(uri, urilen, "tcp:127.0.0.1%s", p);
        return true;
    }
    unsigned lp;
    if ((f->listener = loopback_listener(&lp)) < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: cannot listen on loopback: %s",
                       strerror(errno));
    if (pthread_create(&f->acceptor, NULL, accept_and_relay, f) != 0)
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: cannot start the relay");
    f->accepting = true;
    snprintf(uri, urilen, "tcp:127.0.0.1:%u", lp);
    return true;
}

/* Waits for the far side; false with its status in e when it failed. */
static bool far_end(struct far *f, bool kill_it, struct wirt_error *e)
{
    if (f->listener >= 0)
        shutdown(f->listener, SHUT_RDWR); /* an acceptor still waiting gives up */
    if (f->accepting)
        pthread_join(f->acceptor, NULL);
    if (f->relay)
        vm_relay_wait(f->relay);
    else if (f->to_child >= 0)
        close(f->to_child);
    if (f->listener >= 0)
        close(f->listener);
    int status = 0;
    if (f->pid > 0) {
        if (kill_it)
            kill(f->pid, SIGTERM);
        while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (f->from_child >= 0)
        close(f->from_child);
    if (!kill_it && f->pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        return vm_fail(e, WIRT_ERR_FAILED, "migrate: the receiving side failed (status %d)",
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return true;
}

static const char usage[] =
    "migrate: usage: wirt vm migrate NAME --to tcp:HOST:PORT|store:DIR|ssh://[USER@]HOST[:PORT]"
    "[/STORE] [--max-downtime MS] [--copy-storage] [--compress auto|always|never] | "
    "wirt vm migrate NAME --cancel";

static bool cancel(const struct vm_store *st, const char *name, struct wirt_error *e)
{
    char why[512];
    json_object *r = vm_control(st, name, "jobs", 5000, why, sizeof(why)), *ret;
    if (!r)
        return vm_fail(e, WIRT_ERR_FAILED, "%s", why);
    bool found = false;
    if (json_object_object_get_ex(r, "return", &ret) && json_object_is_type(ret, json_type_array))
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
            json_object *j = json_object_array_get_idx(ret, i), *t, *s, *id;
            if (json_object_object_get_ex(j, "type", &t) &&
                !strcmp(json_object_get_string(t), "migrate") &&
                json_object_object_get_ex(j, "status", &s) &&
                !strcmp(json_object_get_string(s), "running") &&
                json_object_object_get_ex(j, "id", &id)) {
                json_object *args = json_object_new_object();
                json_object_object_add(args, "id", json_object_get(id));
                json_object_put(
                    vm_control_args(st, name, "job-cancel", args, 5000, why, sizeof(why)));
                json_object_put(args);
                found = true;
            }
        }
    json_object_put(r);
    return found ? true : vm_fail(e, WIRT_ERR_STATE, "migrate: VM '%s' is not migrating", name);
}

int vm_cmd_migrate(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL, *to = NULL;
    long down = 0;
    bool want_cancel = false, copy_storage = false;
    const char *compress = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to = argv[++i];
        } else if (!strcmp(argv[i], "--max-downtime") && i + 1 < argc) {
            char *end;
            down = strtol(argv[++i], &end, 10);
            if (*end || down < 1 || down > 60000)
                vm_usage("migrate: --max-downtime: '%s' is not 1..60000 (milliseconds)", argv[i]);
        } else if (!strcmp(argv[i], "--cancel")) {
            want_cancel = true;
        } else if (!strcmp(argv[i], "--copy-storage")) {
            copy_storage = true;
        } else if (!strcmp(argv[i], "--compress") && i + 1 < argc) {
            compress = argv[++i];
            if (strcmp(compress, "auto") && strcmp(compress, "always") && strcmp(compress, "never"))
                vm_usage("migrate: --compress: '%s' is not auto, always or never", compress);
        } else if (argv[i][0] == '-' || name) {
            vm_usage("%s", usage);
        } else {
            name = argv[i];
        }
    }
    if (!name || (!to && !want_cancel) || (to && want_cancel))
        vm_usage("%s", usage);
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED) {
        vm_fail(&e, WIRT_ERR_STATE, "migrate: VM '%s' is not running", name);
        return vm_report(&e);
    }
    if (want_cancel) {
        if (!cancel(st, name, &e))
            return vm_report(&e);
        printf("cancelling the migration of VM '%s'\n", name);
        return 0;
    }
    bool far_side = !strncmp(to, "store:", 6) || !strncmp(to, "ssh://", 6);
    if (!far_side && (strncmp(to, "tcp:", 4) != 0 || !strchr(to + 4, ':'))) {
        vm_fail(&e, WIRT_ERR_INVALID,
                "migrate: --to '%s' is not tcp:HOST:PORT, store:DIR or ssh://[USER@]HOST", to);
        return vm_report(&e);
    }
    copy_storage = copy_storage || far_side; /* a new store has no disks */
    /* The preamble for a `wirt vm receive`, in the VM's directory: only
     * with the disks copied (receive makes a VM with new disks), so a
     * shared-disk migration to `wirt run --incoming` sends no boot files. */
    char preamble[PATH_MAX] = "", uri[300];
    if (copy_storage) {
        vm_path(st, preamble, sizeof(preamble), name, "migrate.preamble");
        if (!vm_migration_preamble(st, name, preamble, copy_storage, &e))
            return vm_report(&e);
        vm_hand_over(st, name, preamble); /* the VMM sends it */
    }
    struct far far = {.pid = -1};
    snprintf(uri, sizeof(uri), "%s", to);
    if (far_side && !far_start(&far, name, to, uri, sizeof(uri), &e)) {
        far_end(&far, true, &e);
        if (preamble[0])
            unlink(preamble);
        return vm_report(&e);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "uri", json_object_new_string(uri));
    if (preamble[0])
        json_object_object_add(args, "preamble", json_object_new_string(preamble));
    if (down)
        json_object_object_add(args, "max-downtime-ms", json_object_new_int64(down));
    if (copy_storage)
        json_object_object_add(args, "copy-storage", json_object_new_boolean(true));
    if (compress)
        json_object_object_add(args, "compress", json_object_new_string(compress));
    const char *secret = getenv("WIRT_MIGRATION_SECRET");
    if (secret && *secret)
        json_object_object_add(args, "secret", json_object_new_string(secret));
    char label[128];
    snprintf(label, sizeof(label), "migrating %s", name);
    struct vm_job_result res;
    bool started = vm_job_run(st, name, "migrate", args, label, &res, &e);
    json_object_put(args);
    bool done = started && !strcmp(res.status, "completed");
    if (started && !done)
        vm_fail(&e, WIRT_ERR_FAILED, "migrate: %s%s%s", res.status, res.error[0] ? ": " : "",
                res.error);
    if (preamble[0])
        unlink(preamble);
    struct wirt_error fe;
    if (far_side && !far_end(&far, !done, &fe) && done) {
        e = fe;
        done = false;
    }
    if (!done)
        return vm_report(&e);
    printf("migrated VM '%s' to %s (%s)\n", name, to, res.result);
    return 0;
}
