/* SPDX-License-Identifier: MIT */
/*
 * The VMM's pid as the host sees it.  Inside the jail's PID namespace
 * (host/jail.c) getpid() is 1; names and reports meant for the host (its
 * cgroup groups wirt-PID, the pid file, query-status) use this instead.
 */
#ifndef WIRT_UTIL_PROCID_H
#define WIRT_UTIL_PROCID_H

#include <stdbool.h>

/* getpid(), or what wirt_set_host_pid recorded. */
long wirt_host_pid(void);
/* Records the host's pid of this process (it runs in a PID namespace of
 * its own).  Before any thread starts. */
void wirt_set_host_pid(long pid);
/* True once wirt_set_host_pid was called. */
bool wirt_in_pid_namespace(void);

#endif
