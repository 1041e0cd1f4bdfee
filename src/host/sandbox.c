/* SPDX-License-Identifier: MIT */
#include "host/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/*
 * The allow list: the system calls the VMM makes once its devices are
 * open, found with `strace -f` on real runs (default guest with user and
 * tap networking, raw and qcow2 disks with backing files, the control
 * socket's pause/resume/save/snapshot/migrate/balloon/set-resources/
 * move-disk, the serial console and channels; see NOTE-jail.md).  Anything
 * else traps (SIGSYS), is named on stderr and kills the process.  Opening
 * files stays allowed: snapshots, saves, move-disk and the log create files
 * at run time; what the VMM can reach is narrowed by --jail (mount
 * namespace) and file modes, not here.
 */
static const char *const allowed[] = {
    /* memory */
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "mincore",
    "mlock",
    "munlock",
    "mlockall",
    "munlockall",
    "mbind",
    "get_mempolicy",
    "set_mempolicy",
    "membarrier",
    "msync",
    /* threads, time, signals */
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "getpriority",
    "setpriority",
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "rt_sigpending",
    "sigaltstack",
    "kill",
    "tgkill",
    "tkill",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "getrusage",
    "times",
    "sysinfo",
    "uname",
    "getrlimit",
    "prlimit64",
    "getcpu",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "restart_syscall",
    "getrandom",
    "umask",
    /* files (disks, state files, snapshots, log, cgroup files) */
    "read",
    "write",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "open",
    "openat",
    "close",
    "close_range",
    "fstat",
    "stat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "sync_file_range",
    "fallocate",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "fchmod",
    "readlink",
    "readlinkat",
    "getcwd",
    "getdents64",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "copy_file_range",
    "fadvise64",
    "memfd_create",
    /* the event loop */
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd",
    "signalfd4",
    /* sockets (control, console, channels, slirp, migration) */
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "shutdown",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "socketpair",
};

/* Namespaces and anything but a thread or a plain fork (state_file's save
 * forks a writer) are refused. */
#define CLONE_REFUSED                                                                              \
    (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |     \
     CLONE_NEWCGROUP | CLONE_NEWTIME | CLONE_PTRACE | CLONE_UNTRACED | CLONE_VFORK)

/* ioctls after start: termios and the tty size (console), FIONREAD/FIONBIO
 * (libslirp, sockets).  TUNSETIFF and friends happen before the filter. */
static const unsigned long allowed_ioctls[] = {TCGETS,   TCSETS,  TCSETSW, TCSETSF,  TIOCGWINSZ,
                                               FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, SIOCGIFMTU};

/* Names for the log line, looked up before the filter goes on: the SIGSYS
 * handler may not call libseccomp (it allocates). */
#define NAMED_CALLS 512
static char call_name[NAMED_CALLS][24];

/* SIGSYS from the filter (SCMP_ACT_TRAP): say which call it was, then
 * die by the signal.  Only async-signal-safe calls here. */
static void on_forbidden(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char line[160] = "wirt: sandbox: forbidden system call ";
    size_t n = strlen(line);
    char digits[12];
    int nd = 0;
    unsigned nr = (unsigned)si->si_syscall;
    do
        digits[nd++] = (char)('0' + nr % 10);
    while ((nr /= 10) && nd < (int)sizeof(digits));
    while (nd)
        line[n++] = digits[--nd];
    nr = (unsigned)si->si_syscall;
    if (nr < NAMED_CALLS && call_name[nr][0]) {
        line[n++] = ' ';
        line[n++] = '(';
        for (const char *p = call_name[nr]; *p; p++)
            line[n++] = *p;
        line[n++] = ')';
    }
    memcpy(line + n, ", VMM killed\n", 14);
    n += 13;
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

void sandbox_selftest(void)
{
    syscall(SYS_unshare, 0);
}

/* All capabilities, bounding and ambient sets included: a root VMM keeps
 * its uid (owner of its cgroup files, VM directory) but nothing beyond. */
static bool drop_capabilities(char *err, size_t errlen)
{
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM)
            break;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0) {
        snprintf(err, errlen, "--sandbox: dropping capabilities: %s", strerror(errno));
        return false;
    }
    return true;
}

static int allow(scmp_filter_ctx ctx, const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) /* not on this architecture */
        return 0;
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int add_rules(scmp_filter_ctx ctx)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
        rc = allow(ctx, allowed[i]);
    /* clone: threads and plain forks, never a new namespace. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_REFUSED, 0));
    /* clone3's flags sit in memory a filter cannot read: "not implemented"
     * makes glibc fall back to clone, which is checked above. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* sockets: local, IPv4 and IPv6 only (no netlink, raw packets...). */
    static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i], 0));
    for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)allowed_ioctls[i], 0));
    /* prctl: thread names only (and reading them). */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME, 0));
    return rc;
}

bool sandbox_enter(char *err, size_t errlen)
{
    for (int nr = 0; nr < NAMED_CALLS; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name) {
            snprintf(call_name[nr], sizeof(call_name[nr]), "%s", name);
            free(name);
        }
    }
    struct sigaction sa = {.sa_sigaction = on_forbidden, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, NULL);
    if (!drop_capabilities(err, errlen))
        return false;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "--sandbox: no_new_privs: %s", strerror(errno));
        return false;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(err, errlen, "--sandbox: libseccomp could not start a filter");
        return false;
    }
    int rc = add_rules(ctx);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(err, errlen, "--sandbox: seccomp: %s", strerror(-rc));
        return false;
    }
    return true;
}
