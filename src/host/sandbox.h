/* SPDX-License-Identifier: MIT */
/* The VMM's seccomp sandbox (wirt run --sandbox on). */
#ifndef WIRT_HOST_SANDBOX_H
#define WIRT_HOST_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Sets no_new_privs and loads a seccomp filter that kills the process on
 * system calls a VMM never needs (SIGSYS, reported on stderr) once its devices are open (exec,
 * ptrace, module loading, mount, namespaces, reboot, bpf...).  Applies to every thread started
 * afterwards.  False with one line in err if the kernel or libseccomp refuses. */
bool sandbox_enter(char *err, size_t errlen);

/* Debug hook for the tests (WIRT_DEBUG_FORBIDDEN_SYSCALL=1): makes one
 * forbidden call, which must kill the process with a log line. */
void sandbox_selftest(void);

#endif
