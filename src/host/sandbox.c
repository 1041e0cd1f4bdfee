/* SPDX-License-Identifier: MIT */
#include "host/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

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

bool sandbox_enter(char *err, size_t errlen)
{
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
            rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
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
