/* SPDX-License-Identifier: MIT */
/* The VMM's jail (see jail.h). */
#include "host/jail.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/procid.h"

/* The tmpfs that becomes the root is mounted on a directory every Debian
 * host has; only this process's mount namespace sees it there. */
#define JAIL_MOUNTPOINT "/mnt"

static bool fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "--jail: %s%s%s: %s", what, path ? " " : "", path ? path : "",
             strerror(errno));
    return false;
}

/* mkdir -p of path under root (path is absolute). */
static bool make_path(const char *root, const char *path, bool file)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s%s", root, path);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return false;
        *s = '/';
    }
    if (file) {
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return false;
        close(fd);
        return true;
    }
    return mkdir(p, 0755) == 0 || errno == EEXIST;
}

/* Binds what fd refers to (opened before the tmpfs hid it) at path. */
static bool bind_fd(int fd, const char *path, bool file, bool readonly, char *err, size_t errlen)
{
    char src[64], dst[PATH_MAX * 2];
    snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
    snprintf(dst, sizeof(dst), JAIL_MOUNTPOINT "%s", path);
    if (!make_path(JAIL_MOUNTPOINT, path, file))
        return fail(err, errlen, "cannot make", dst);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail(err, errlen, "cannot bind", path);
    if (readonly &&
        mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return fail(err, errlen, "cannot make read-only", path);
    return true;
}

static bool write_map(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

bool jail_enter(const char *dir, const char *const *extra, size_t nextra, bool netns, char *err,
                size_t errlen)
{
    char real[PATH_MAX], cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        snprintf(cwd, sizeof(cwd), "/");
    if (!realpath(dir, real))
        return fail(err, errlen, "the VM directory", dir);
    /* A user namespace first when not root: it grants what the others
     * need, inside it only (this uid mapped to itself). */
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (uid != 0) {
        if (unshare(CLONE_NEWUSER) < 0)
            return fail(err, errlen, "user namespace", NULL);
        char m[64];
        snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        write_map("/proc/self/setgroups", "deny");
        if (!write_map("/proc/self/uid_map", m))
            return fail(err, errlen, "uid_map", NULL);
        snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if (!write_map("/proc/self/gid_map", m))
            return fail(err, errlen, "gid_map", NULL);
    }
    int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (netns ? CLONE_NEWNET : 0);
    if (unshare(flags) < 0)
        return fail(err, errlen, "namespaces", NULL);
    /* Nothing this namespace mounts goes back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(err, errlen, "cannot make the mounts private", NULL);
    /* What the new root will show, opened while the host's tree is there. */
    enum { MAX_FDS = 16 };
    int fds[MAX_FDS];
    const char *paths[MAX_FDS];
    bool files[MAX_FDS];
    size_t n = 0;
    paths[n] = real, files[n++] = false;
    paths[n] = "/dev/null", files[n++] = true;
    paths[n] = "/dev/urandom", files[n++] = true;
    /* Its own /proc/PID (and /proc/self pointing there): pagemap for
     * sparse saves, ksm_merging_pages, status; not the other processes. */
    char self[32];
    snprintf(self, sizeof(self), "/proc/%ld", wirt_host_pid());
    paths[n] = self, files[n++] = false;
    for (size_t i = 0; i < nextra && n < MAX_FDS; i++)
        if (extra[i])
            paths[n] = extra[i], files[n++] = false;
    for (size_t i = 0; i < n; i++)
        if ((fds[i] = open(paths[i], O_PATH | O_CLOEXEC)) < 0) {
            while (i)
                close(fds[--i]);
            return fail(err, errlen, "cannot open", paths[i]);
        }
    bool ok = mount("tmpfs", JAIL_MOUNTPOINT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
    if (!ok)
        fail(err, errlen, "tmpfs on", JAIL_MOUNTPOINT);
    for (size_t i = 0; i < n && ok; i++)
        ok = bind_fd(fds[i], paths[i], files[i], false, err, errlen);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    if (ok && symlink(self + strlen("/proc/"), JAIL_MOUNTPOINT "/proc/self") < 0)
        ok = fail(err, errlen, "cannot link", "/proc/self");
    if (!ok)
        return false;
    /* pivot_root(".", "."): the old root ends up stacked under the new
     * one and is detached at once. */
    if (chdir(JAIL_MOUNTPOINT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        return fail(err, errlen, "pivot_root into", JAIL_MOUNTPOINT);
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return fail(err, errlen, "cannot detach the host's root", NULL);
    /* `wirt vm start` runs the VMM in the VM directory with relative
     * paths: the same directory, if it is inside the jail. */
    if (chdir(cwd) < 0 && chdir("/") < 0)
        return fail(err, errlen, "chdir", cwd);
    /* The jail's root itself: read-only, nothing to add there. */
    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
    sethostname("wirt-jail", 9);
    return true;
}

/* ---- the PID namespace: the VMM runs as its PID 1 ---- */

static volatile sig_atomic_t vmm_pid;

static void forward(int sig)
{
    if (vmm_pid > 0)
        kill((pid_t)vmm_pid, sig);
}

bool jail_pid_namespace(void (*reap)(long pid), char *err, size_t errlen)
{
    if (unshare(CLONE_NEWPID) < 0)
        return fail(err, errlen, "PID namespace", NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return fail(err, errlen, "fork into the PID namespace", NULL);
    if (pid == 0) {
        /* Gone with the supervisor, whatever kills it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* The host's /proc is still mounted: its /proc/self is the pid
         * the host knows this process by. */
        char self[32];
        ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
        if (n <= 0)
            return fail(err, errlen, "cannot read", "/proc/self");
        self[n] = '\0';
        wirt_set_host_pid(atol(self));
        return true;
    }
    /* The supervisor: what the caller started.  It holds nothing of the
     * VM's (no fd, not in its directory: tools find a VM's VMM by its
     * working directory), passes termination signals on, removes the
     * VMM's groups after it (a reaper inside the namespace would die
     * with it) and ends as the VMM ended. */
    vmm_pid = pid;
    struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    if (chdir("/") < 0) {
        /* nothing here needs a directory */
    }
    prctl(PR_SET_NAME, "wirt-jailer", 0, 0, 0);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (reap)
        reap((long)pid);
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

/* ---- a uid of its own ---- */

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    /* lchown: a link is the link's own, its target is not handed over. */
    return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

/* dir and the files directly in it (a cgroup: its control files). */
static bool chown_flat(const char *dir)
{
    if (chown(dir, chown_uid, chown_gid) < 0)
        return false;
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool ok = true;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_type == DT_REG &&
            fchownat(dirfd(d), e->d_name, chown_uid, chown_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
            errno != EPERM && errno != EACCES)
            ok = false;
    closedir(d);
    return ok;
}

bool jail_become(const char *dir, unsigned uid, unsigned gid, const char *const *cgdirs, size_t ncg,
                 char *err, size_t errlen)
{
    if (geteuid() != 0) {
        snprintf(err, errlen, "--uid: only a VMM started as root changes its uid");
        return false;
    }
    chown_uid = (uid_t)uid;
    chown_gid = (gid_t)gid;
    /* Inside the jail only the VM directory is there to walk: nothing
     * outside it can be reached, by a link or otherwise. */
    if (nftw(dir, chown_one, 16, FTW_PHYS | FTW_MOUNT) != 0)
        return fail(err, errlen, "cannot hand over to the VM's uid", dir);
    for (size_t i = 0; i < ncg; i++)
        if (cgdirs[i] && !chown_flat(cgdirs[i]))
            return fail(err, errlen, "cannot hand over to the VM's uid", cgdirs[i]);
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
            break;
    if (setgroups(0, NULL) < 0 || setresgid(chown_gid, chown_gid, chown_gid) < 0 ||
        setresuid(chown_uid, chown_uid, chown_uid) < 0)
        return fail(err, errlen, "cannot become the VM's uid", NULL);
    /* A changed uid makes the process undumpable, and its /proc files
     * root's: it could no longer read its own pagemap or status. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return true;
}
