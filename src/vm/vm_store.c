/* SPDX-License-Identifier: MIT */
/* The store: paths, names, locks, runtime state, files, control client. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "block/block.h"
#include "vmm/guest_files.h"
#include "machine/board.h"
#include "util/file.h"
#include "vm/vm_int.h"

/* Messages quote names and config text: no terminal control codes. */
static void sanitize(char *msg)
{
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

bool vm_fail(struct wirt_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    sanitize(err->msg);
    err->code = code;
    return false;
}

int vm_error_exit_status(const struct wirt_error *err)
{
    return err->code == WIRT_ERR_INVALID ? 2 : 1;
}

static void vwarn(const char *fmt, va_list ap)
{
    fflush(stdout);
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    sanitize(msg);
    fprintf(stderr, "wirt vm: %s\n", msg);
}

int vm_report(const struct wirt_error *err)
{
    vm_warn("%s", err->msg);
    return vm_error_exit_status(err);
}

void vm_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

NORETURN static void vdie(int status, const char *fmt, va_list ap)
{
    vwarn(fmt, ap);
    exit(status);
}

void vm_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(1, fmt, ap);
}

void vm_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(2, fmt, ap);
}

bool vm_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > VM_NAME_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            return false;
    }
    return !strstr(name, "..");
}

bool vm_file_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= VM_FILE_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch == '/' || ch == ',' || ch < 0x20 || ch == 0x7f)
            return false;
    }
    /* Runtime and bookkeeping files are not disks or images. */
    static const char *const reserved[] = {VM_CONFIG,  VM_LOCK,       VM_CONTROL, VM_SERIAL,
                                           VM_PIDFILE, VM_CONSOLELOG, VM_VMMLOG,  VM_CRASHED};
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
        if (!strcmp(name, reserved[i]))
            return false;
    return true;
}

bool vm_check_name(const char *name, struct wirt_error *err)
{
    if (!vm_name_valid(name))
        return vm_fail(err, WIRT_ERR_INVALID,
                       "'%.80s' is not a valid VM name (1-64 characters from A-Z a-z 0-9 . _ -, "
                       "starting with a letter or digit, no '..')",
                       name);
    return true;
}

void vm_path(const struct vm_store *st, char *out, size_t outlen, const char *name,
             const char *file)
{
    /* Cannot be cut short: the root is at most VM_STORE_ROOT_MAX and
     * names and files are bounded. */
    int n = file ? snprintf(out, outlen, "%s/%s/%s", st->vms, name, file)
                 : snprintf(out, outlen, "%s/%s", st->vms, name);
    if (n < 0 || (size_t)n >= outlen)
        out[0] = '\0'; /* unreachable; an empty path names nothing */
}

void vm_hand_over(const struct vm_store *st, const char *name, const char *path)
{
    char dir[PATH_MAX];
    struct stat sd;
    vm_path(st, dir, sizeof(dir), name, NULL);
    if (geteuid() == 0 && lstat(dir, &sd) == 0 && sd.st_uid != 0 &&
        lchown(path, sd.st_uid, sd.st_gid) < 0)
        vm_warn("%s: cannot hand it to the VM's uid %u: %s", path, (unsigned)sd.st_uid,
                strerror(errno));
}

bool vm_exists(const struct vm_store *st, const char *name)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, VM_CONFIG);
    return access(p, F_OK) == 0;
}

bool vm_require(const struct vm_store *st, const char *name, struct wirt_error *err)
{
    if (!vm_check_name(name, err))
        return false;
    if (!vm_exists(st, name))
        return vm_fail(err, WIRT_ERR_NOT_FOUND, "no VM named '%s' (see wirt vm list)", name);
    return true;
}

static bool mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

/* The default template, made from the cached default guest. */
static bool make_default_template(const struct vm_store *st, char *err, size_t errlen)
{
    const char *g = default_guest_dir();
    char src[PATH_MAX + 64], dst[PATH_MAX + 64], dir[PATH_MAX];
    snprintf(src, sizeof(src), "%s/Image", g);
    if (access(src, R_OK) != 0) {
        snprintf(err, errlen, "the default guest is missing (%s): run tools/fetch-guest.sh", g);
        return false;
    }
    struct vm_config cfg;
    vm_config_defaults(&cfg, VM_DEFAULT_TEMPLATE);
    /* VMs made from it get user networking (NAT, DHCP), as `wirt run` does. */
    snprintf(cfg.nets[0], sizeof(cfg.nets[0]), "user");
    cfg.nnets = 1;
    struct wirt_error e;
    if (!vm_tempdir(st, dir, sizeof(dir), VM_DEFAULT_TEMPLATE, &e)) {
        snprintf(err, errlen, "%s", e.msg);
        return false;
    }
    static const char *const files[][2] = {{"Image", "Image"},
                                           {"initrd.cpio.gz", "initrd.cpio.gz"},
                                           {"fw_dynamic.bin", "fw_dynamic.bin"}};
    bool ok = true;
    for (size_t i = 0; ok && i < ARRAY_SIZE(files); i++) {
        snprintf(src, sizeof(src), "%s/%s", g, files[i][0]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, files[i][1]);
        ok = vm_link_or_copy(src, dst, err, errlen);
    }
    snprintf(cfg.kernel, sizeof(cfg.kernel), "Image");
    snprintf(cfg.initrd, sizeof(cfg.initrd), "initrd.cpio.gz");
    snprintf(cfg.bios, sizeof(cfg.bios), "fw_dynamic.bin");
    char *cmdline = default_guest_cmdline();
    if (cmdline)
        snprintf(cfg.append, sizeof(cfg.append), "%s", cmdline);
    free(cmdline);
    if (ok) {
        snprintf(dst, sizeof(dst), "%s/disk.qcow2", dir);
        struct image_create_opts o = {.format = "qcow2", .size = 8ULL << 30};
        ok = image_create(dst, &o, err, errlen) == 0 && chmod(dst, 0400) == 0;
        cfg.ndisks = 1;
        snprintf(cfg.disks[0].file, sizeof(cfg.disks[0].file), "disk.qcow2");
        snprintf(cfg.disks[0].format, sizeof(cfg.disks[0].format), "qcow2");
    }
    cfg.is_template = true;
    ok = ok && vm_config_save_dir(dir, &cfg, err, errlen) &&
         vm_commit_dir(st, dir, VM_DEFAULT_TEMPLATE, err, errlen);
    if (!ok)
        vm_rmtree(st, dir);
    return ok;
}

/* Takes group and world access away from fd (a file or directory of the
 * store; nothing else).  A file with several links is left alone: an
 * older wirt hard-linked kernels from outside the store, and changing
 * such a file would reach beyond it (the 0700 directory protects it). */
static void restrict_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink == 1)) &&
        (st.st_mode & 077))
        fchmod(fd, st.st_mode & 0700);
}

/* Opens directory name (relative to at), never through a symbolic link,
 * and makes it owner-only. */
static DIR *open_restricted_dir(int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    restrict_fd(fd);
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

/* Stores made by older versions have 0755 directories and 0644 files
 * (disks, console logs, vm.json): make every VM directory found group-
 * or world-accessible owner-only, with everything in it. */
static void restrict_store_modes(const struct vm_store *st)
{
    DIR *vms = open_restricted_dir(AT_FDCWD, st->vms);
    if (!vms)
        return;
    struct dirent *e;
    while ((e = readdir(vms))) {
        struct stat st;
        if (e->d_name[0] == '.' || fstatat(dirfd(vms), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode) || !(st.st_mode & 077))
            continue;
        DIR *d = open_restricted_dir(dirfd(vms), e->d_name);
        struct dirent *f;
        while (d && (f = readdir(d))) {
            if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, ".."))
                continue;
            int fd = openat(dirfd(d), f->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0) {
                restrict_fd(fd);
                close(fd);
            }
        }
        if (d)
            closedir(d);
    }
    closedir(vms);
}

/* root made absolute, without trailing slashes, into st->root. */
static bool set_root(struct vm_store *st, const char *root, struct wirt_error *err)
{
    if (!root || !*root)
        return vm_fail(err, WIRT_ERR_INVALID, "--store: empty directory name");
    if (strchr(root, '\n'))
        return vm_fail(err, WIRT_ERR_INVALID, "--store: the directory name contains a newline");
    char cwd[PATH_MAX] = "";
    if (root[0] != '/' && !getcwd(cwd, sizeof(cwd)))
        return vm_fail(err, WIRT_ERR_FAILED, "cannot tell the current directory: %s",
                       strerror(errno));
    int n = root[0] == '/' ? snprintf(st->root, sizeof(st->root), "%s", root)
                           : snprintf(st->root, sizeof(st->root), "%s/%s", cwd, root);
    if (n < 0 || n >= VM_STORE_ROOT_MAX)
        return vm_fail(err, WIRT_ERR_INVALID, "--store: path too long (at most %d bytes)",
                       VM_STORE_ROOT_MAX - 1);
    size_t len = strlen(st->root);
    while (len > 1 && st->root[len - 1] == '/')
        st->root[--len] = '\0';
    n = snprintf(st->vms, sizeof(st->vms), "%s/vms", st->root);
    return n > 0 && (size_t)n < sizeof(st->vms);
}

/* First run: one process makes the default template, others wait. */
static void first_run(struct vm_store *st)
{
    char marker[PATH_MAX + 32];
    snprintf(marker, sizeof(marker), "%s/.initialized", st->root);
    if (access(marker, F_OK) == 0)
        return;
    char lockpath[PATH_MAX + 32];
    snprintf(lockpath, sizeof(lockpath), "%s/.lock", st->root);
    int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd >= 0)
        flock(lfd, LOCK_EX);
    if (access(marker, F_OK) != 0) {
        char err[512];
        if (vm_exists(st, VM_DEFAULT_TEMPLATE) || make_default_template(st, err, sizeof(err))) {
            char e2[256];
            vm_write_atomic(marker, "wirt store\n", 11, e2, sizeof(e2));
        } else {
            snprintf(st->note, sizeof(st->note), "note: the '%s' template was not created: %.400s",
                     VM_DEFAULT_TEMPLATE, err);
        }
    }
    if (lfd >= 0)
        close(lfd);
}

struct vm_store *vm_store_open(const char *root, bool create, struct wirt_error *err)
{
    struct vm_store *st = calloc(1, sizeof(*st));
    if (!st) {
        vm_fail(err, WIRT_ERR_FAILED, "out of memory");
        return NULL;
    }
    if (!set_root(st, root, err)) {
        free(st);
        return NULL;
    }
    /* Only verbs that add a VM make a store; the others find none. */
    struct stat sb;
    if (!create && stat(st->vms, &sb) < 0 && errno == ENOENT) {
        st->missing = true;
        return st;
    }
    if (!mkdir_p(st->vms)) {
        vm_fail(err, WIRT_ERR_FAILED, "cannot create the store %s: %s", st->vms, strerror(errno));
        free(st);
        return NULL;
    }
    restrict_store_modes(st);
    if (create)
        first_run(st);
    return st;
}

void vm_store_close(struct vm_store *st)
{
    free(st);
}

const char *vm_store_note(const struct vm_store *st)
{
    return st->note;
}

const char *vm_store_root(const struct vm_store *st)
{
    return st->root;
}

static int lock_try(const struct vm_store *st, const char *name, int op)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, VM_LOCK);
    /* Not O_CLOEXEC: `start` hands this very lock to the VMM process. */
    int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, op | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int vm_lock_try(const struct vm_store *st, const char *name)
{
    return lock_try(st, name, LOCK_EX);
}

int vm_lock(const struct vm_store *st, const char *name, bool shared, struct wirt_error *err)
{
    /* Short mutating commands hold the lock briefly: wait a little for them. */
    for (int i = 0; i < 30; i++) {
        int fd = lock_try(st, name, shared ? LOCK_SH : LOCK_EX);
        if (fd >= 0)
            return fd;
        if (errno != EWOULDBLOCK) {
            vm_fail(err, WIRT_ERR_FAILED, "cannot lock VM '%s': %s", name, strerror(errno));
            return -1;
        }
        long pid = vm_read_pid(st, name);
        if (pid > 0 && vm_pid_alive(pid)) {
            vm_fail(err, WIRT_ERR_BUSY, "VM '%s' is running; stop it first (wirt vm stop %s)", name,
                    name);
            return -1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    vm_fail(err, WIRT_ERR_BUSY,
            "VM '%s' is busy (running, starting, or locked by another wirt vm command)", name);
    return -1;
}

int vm_lock_config(const struct vm_store *st, const char *name, bool shared, struct vm_config *cfg,
                   struct wirt_error *err)
{
    if (!vm_require(st, name, err))
        return -1;
    int fd = vm_lock(st, name, shared, err);
    if (fd < 0)
        return -1;
    char why[sizeof(err->msg)];
    if (!vm_config_load(st, name, cfg, why, sizeof(why))) {
        vm_unlock(fd);
        vm_fail(err, WIRT_ERR_FAILED, "%s", why);
        return -1;
    }
    return fd;
}

void vm_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

long vm_read_pid(const struct vm_store *st, const char *name)
{
    char p[PATH_MAX], buf[32] = "";
    vm_path(st, p, sizeof(p), name, VM_PIDFILE);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? pid : -1;
}

bool vm_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

bool vm_clean_runtime(const struct vm_store *st, const char *name)
{
    static const char *const files[] = {VM_CONTROL, VM_SERIAL, VM_AGENT, VM_PIDFILE};
    bool any = false, pidfile = false;
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, files[i]);
        if (unlink(p) == 0) {
            any = true;
            pidfile |= !strcmp(files[i], VM_PIDFILE);
        }
    }
    /* A VMM that stops removes its pid file; one left behind means it was
     * killed or crashed.  Say so once, where the restart policy and the
     * user will look. */
    if (pidfile) {
        char p[PATH_MAX], when[32];
        vm_path(st, p, sizeof(p), name, VM_CRASHED);
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ\n", gmtime_r(&now, &tm));
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            if (write(fd, when, strlen(when)) < 0) {
                /* the marker is advisory */
            }
            close(fd);
        }
        vm_event_log(st, name, "wirt", "the VMM died without stopping the VM (killed or crashed)",
                     NULL);
    }
    return any;
}

bool vm_crashed(const struct vm_store *st, const char *name)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, VM_CRASHED);
    return access(p, F_OK) == 0;
}

const char *vm_state_name(enum vm_state s)
{
    switch (s) {
    case VM_STOPPED:
        return "stopped";
    case VM_RUNNING:
        return "running";
    case VM_PAUSED:
        return "paused";
    case VM_BUSY:
        return "busy";
    case VM_SUSPENDED:
        return "suspended";
    }
    return "?";
}

void vm_runtime_get(const struct vm_store *st, const char *name, struct vm_runtime *rt)
{
    *rt = (struct vm_runtime){.state = VM_STOPPED, .pid = -1};
    int fd = vm_lock_try(st, name);
    if (fd >= 0) {
        /* Nobody holds the lock, so no VMM runs: leftovers are stale
         * (the VMM was killed or the host crashed). */
        rt->cleaned_stale = vm_clean_runtime(st, name);
        vm_unlock(fd);
        rt->crashed = vm_crashed(st, name);
        if (vm_is_suspended(st, name))
            rt->state = VM_SUSPENDED;
        return;
    }
    rt->state = VM_BUSY;
    rt->pid = vm_read_pid(st, name);
    char err[256];
    json_object *r = vm_control(st, name, "query-status", 2000, err, sizeof(err));
    json_object *ret, *v;
    if (r && json_object_object_get_ex(r, "return", &ret)) {
        if (json_object_object_get_ex(ret, "status", &v))
            rt->state = !strcmp(json_object_get_string(v), "paused") ? VM_PAUSED : VM_RUNNING;
        if (json_object_object_get_ex(ret, "uptime", &v))
            rt->uptime = json_object_get_double(v);
        if (json_object_object_get_ex(ret, "pid", &v))
            rt->pid = (long)json_object_get_int64(v);
        if (json_object_object_get_ex(ret, "guest-ready", &v))
            rt->guest_ready = json_object_get_boolean(v);
    }
    json_object_put(r);
}

int vm_connect_socket(const struct vm_store *st, const char *name, const char *file)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, file);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int dirfd = -1;
    if (strlen(p) < sizeof(addr.sun_path)) {
        strcpy(addr.sun_path, p);
    } else {
        /* Too long for sun_path: reach it through the directory's fd. */
        vm_path(st, p, sizeof(p), name, NULL);
        dirfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            return -1;
        snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd, file);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        e = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    if (dirfd >= 0)
        close(dirfd);
    errno = e;
    return fd;
}

static int connect_control(const struct vm_store *st, const char *name, char *err, size_t errlen)
{
    int fd = vm_connect_socket(st, name, VM_CONTROL);
    if (fd < 0)
        snprintf(err, errlen, "cannot reach VM '%s' on its control socket: %s", name,
                 strerror(errno));
    return fd;
}

json_object *vm_control(const struct vm_store *st, const char *name, const char *cmd,
                        int timeout_ms, char *err, size_t errlen)
{
    return vm_control_args(st, name, cmd, NULL, timeout_ms, err, errlen);
}

json_object *vm_control_args(const struct vm_store *st, const char *name, const char *cmd,
                             json_object *args, int timeout_ms, char *err, size_t errlen)
{
    json_object *rq = json_object_new_object();
    json_object_object_add(rq, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(rq, "arguments", json_object_get(args));
    char req[4096];
    int n = snprintf(req, sizeof(req), "%s\n",
                     json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN));
    json_object_put(rq);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        snprintf(err, errlen, "VM '%s': control request too long", name);
        return NULL;
    }
    int fd = connect_control(st, name, err, errlen);
    if (fd < 0)
        return NULL;
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(err, errlen, "VM '%s': control socket: %s", name, strerror(errno));
        close(fd);
        return NULL;
    }
    char buf[8192];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
        if (poll(&pfd, 1, timeout_ms) <= 0) {
            snprintf(err, errlen, "VM '%s' did not answer on its control socket", name);
            close(fd);
            return NULL;
        }
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0) {
            snprintf(err, errlen, "VM '%s' closed its control socket", name);
            close(fd);
            return NULL;
        }
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    json_object *o = json_tokener_parse(buf);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        snprintf(err, errlen, "VM '%s' sent a malformed control reply", name);
        return NULL;
    }
    return o;
}

bool vm_control_ok(const struct vm_store *st, const char *name, const char *cmd,
                   struct wirt_error *err)
{
    char why[sizeof(err->msg)];
    json_object *r = vm_control(st, name, cmd, 5000, why, sizeof(why));
    if (!r)
        return vm_fail(err, WIRT_ERR_FAILED, "%s", why);
    json_object *e, *d;
    bool ok = !json_object_object_get_ex(r, "error", &e);
    if (!ok)
        vm_fail(err, WIRT_ERR_FAILED, "%s: %s", name,
                json_object_object_get_ex(e, "desc", &d) ? json_object_get_string(d) : "error");
    json_object_put(r);
    return ok;
}

void vm_dependents(const struct vm_store *st, const char *name, bool count_broken, char *out,
                   size_t outlen)
{
    out[0] = '\0';
    DIR *d = opendir(st->vms);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!vm_name_valid(e->d_name) || !strcmp(e->d_name, name))
            continue;
        struct vm_config cfg;
        char err[256];
        bool broken = !vm_config_load(st, e->d_name, &cfg, err, sizeof(err));
        /* A VM whose config cannot be read might depend on it: count it. */
        if (!broken && strcmp(cfg.linked_to, name))
            continue;
        if (broken && (!count_broken || !vm_exists(st, e->d_name)))
            continue;
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "%s%s%s", l ? ", " : "", e->d_name,
                 broken ? " (broken config)" : "");
    }
    closedir(d);
}

bool vm_check_memory(const char *what, uint64_t bytes, struct wirt_error *err)
{
    char why[256];
    if (!vm_spec_memory_ok(bytes, true, why, sizeof(why)))
        return vm_fail(err, WIRT_ERR_INVALID, "%s: %s", what, why);
    return true;
}

uint64_t vm_disk_usage(const struct vm_store *st, const char *name, const struct vm_config *cfg)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, cfg->disks[i].file);
        total += vm_allocated_bytes(p);
    }
    return total;
}

bool vm_owner_only(const char *path, char *err, size_t errlen)
{
    if (chmod(path, 0600) == 0)
        return true;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return false;
}

bool vm_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    return write_file_atomic(path, data, len, err, errlen);
}

bool vm_copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
    int in = open_regular(src, O_RDONLY, 0, err, errlen);
    if (in < 0)
        return false;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        snprintf(err, errlen, "%s: %s", dst, strerror(errno));
        close(in);
        return false;
    }
    struct stat st;
    int e = 0; /* the first failure's errno */
    if (fstat(in, &st) < 0)
        e = errno;
    /* Copy only the data extents so sparse images stay sparse. */
    off_t pos = 0, end = e ? 0 : st.st_size;
    /* On the heap: a service may copy on several threads at once. */
    enum { COPY_CHUNK = 1 << 20 };
    char *buf = malloc(COPY_CHUNK);
    if (!buf)
        e = ENOMEM;
    while (!e && pos < end) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break; /* only a hole remains */
            data = pos;
        }
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            hole = end;
        for (off_t p = data; !e && p < hole;) {
            size_t want = (size_t)(hole - p) < COPY_CHUNK ? (size_t)(hole - p) : COPY_CHUNK;
            ssize_t n = pread(in, buf, want, p);
            if (n <= 0) {
                e = n < 0 ? errno : EIO;
                break;
            }
            ssize_t w = pwrite(out, buf, (size_t)n, p);
            if (w != n) {
                e = w < 0 ? errno : ENOSPC;
                break;
            }
            p += n;
        }
        pos = hole;
    }
    free(buf);
    if (!e && (ftruncate(out, end) < 0 || fsync(out) < 0))
        e = errno;
    close(in);
    if (close(out) < 0 && !e)
        e = errno;
    bool ok = !e;
    if (!ok)
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, dst, strerror(e));
    if (!ok)
        unlink(dst);
    return ok;
}

bool vm_link_or_copy(const char *src, const char *dst, char *err, size_t errlen)
{
    /* Never a hard link to a FIFO or a device (vm create --kernel /dev/zero). */
    if (!is_regular_file(src, err, errlen))
        return false;
    /* A link shares the mode: only files that are already owner-only
     * (the store's own) are linked; others are copied, then 0600. */
    struct stat st;
    if (stat(src, &st) == 0 && !(st.st_mode & 077) && link(src, dst) == 0)
        return true;
    return vm_copy_file(src, dst, err, errlen);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

bool vm_rmtree(const struct vm_store *st, const char *dir)
{
    size_t n = strlen(st->vms);
    /* Defence in depth: only ever below STORE/vms/, never through "..". */
    if (strncmp(dir, st->vms, n) || dir[n] != '/' || strstr(dir + n, "/..") || !dir[n + 1] ||
        strchr(dir + n + 1, '/'))
        return false;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0;
}

uint64_t vm_allocated_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

bool vm_tempdir(const struct vm_store *st, char *out, size_t outlen, const char *name,
                struct wirt_error *err)
{
    int n = snprintf(out, outlen, "%s/.new-%s-XXXXXX", st->vms, name);
    if (n < 0 || (size_t)n >= outlen)
        return vm_fail(err, WIRT_ERR_INVALID, "store path too long: %s", st->vms);
    /* mkdtemp makes it 0700 whatever the umask: disks, console logs and
     * sockets are the owner's alone. */
    if (!mkdtemp(out))
        return vm_fail(err, WIRT_ERR_FAILED, "cannot create a directory in %s: %s", st->vms,
                       strerror(errno));
    return true;
}

bool vm_commit_dir(const struct vm_store *st, const char *tmpdir, const char *name, char *err,
                   size_t errlen)
{
    char dst[PATH_MAX];
    vm_path(st, dst, sizeof(dst), name, NULL);
    if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST)
            snprintf(err, errlen, "a VM named '%s' already exists", name);
        else
            snprintf(err, errlen, "cannot create %s: %s", dst, strerror(errno));
        return false;
    }
    return true;
}

const char *vm_self_exe(void)
{
    static char path[PATH_MAX];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        if (n <= 0)
            return NULL;
        path[n] = '\0';
    }
    return path;
}

int vm_run_self(char *const argv[])
{
    const char *exe = vm_self_exe();
    if (!exe)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execv(exe, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void vm_format_size(char *out, size_t outlen, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    if (bytes < 1024 || bytes % 1024) {
        snprintf(out, outlen, "%llu", (unsigned long long)bytes);
        return;
    }
    int u = -1;
    while (bytes % 1024 == 0 && bytes >= 1024 && u < 5) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, outlen, "%llu%c", (unsigned long long)bytes, units[u]);
}

void vm_format_duration(char *out, size_t outlen, double s)
{
    unsigned long t = (unsigned long)s;
    if (t < 60)
        snprintf(out, outlen, "%lus", t);
    else if (t < 3600)
        snprintf(out, outlen, "%lum%02lus", t / 60, t % 60);
    else if (t < 86400)
        snprintf(out, outlen, "%luh%02lum", t / 3600, t / 60 % 60);
    else
        snprintf(out, outlen, "%lud%02luh", t / 86400, t / 3600 % 24);
}
