/* SPDX-License-Identifier: MIT */
#include "host/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A first part of issue 14's sandbox: a deny list, so everything the VMM
 * does today keeps working, of the calls that would let a compromised VMM
 * reach beyond its process.  An allow list is the next step. */
static const char *const denied[] = {
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "reboot",
    "swapon",
    "swapoff",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "setns",
    "unshare",
    "open_by_handle_at",
    "name_to_handle_at",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "syslog",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "userfaultfd",
    "quotactl",
    "lookup_dcookie",
    "vhangup",
};

/* SIGSYS from the filter (SCMP_ACT_TRAP): say which call it was, then
 * die by the signal.  Only async-signal-safe calls here. */
static void on_forbidden(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char line[96] = "wirt: sandbox: forbidden system call ";
    size_t n = strlen(line);
    char digits[12];
    int nd = 0;
    unsigned nr = (unsigned)si->si_syscall;
    do
        digits[nd++] = (char)('0' + nr % 10);
    while ((nr /= 10) && nd < (int)sizeof(digits));
    while (nd)
        line[n++] = digits[--nd];
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

bool sandbox_enter(char *err, size_t errlen)
{
    struct sigaction sa = {.sa_sigaction = on_forbidden, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "--sandbox: no_new_privs: %s", strerror(errno));
        return false;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        snprintf(err, errlen, "--sandbox: libseccomp could not start a filter");
        return false;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]) && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR) /* not on this architecture */
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
    }
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(err, errlen, "--sandbox: seccomp: %s", strerror(-rc));
        return false;
    }
    return true;
}
