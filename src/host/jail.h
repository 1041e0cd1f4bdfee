/* SPDX-License-Identifier: MIT */
/* The VMM's jail (wirt run --jail DIR): namespaces and a root that holds
 * only the VM directory, like Firecracker's jailer. */
#ifndef WIRT_HOST_JAIL_H
#define WIRT_HOST_JAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Called once every file and socket the VMM needs is open (disks with
 * their backing chains, tap, control/console/channel sockets), before
 * the seccomp filter.  Enters new mount, IPC and UTS namespaces (and a
 * user namespace when not root, a network namespace when netns), then
 * pivot_roots into a fresh tmpfs in which only dir (read-write, at its own
 * path, so paths the VMM already knows keep working), the directories in
 * extra (its cgroup groups), /dev/null and /dev/urandom are visible.
 * False with one line in err. */
bool jail_enter(const char *dir, const char *const *extra, size_t nextra, bool netns, char *err,
                size_t errlen);

/* Called first of all (no thread, no group, nothing open yet), as root:
 * the VMM goes on as PID 1 of a new PID namespace, in a child; it sees and
 * can signal no process but its own.  This process stays outside as its
 * supervisor: it passes SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR* on, calls
 * reap(the VMM's host pid) once the VMM is gone, and exits as the VMM did
 * (the VMM dies with it).  Returns only in the VMM, true; false with one
 * line in err.  Like Firecracker's jailer --new-pid-ns. */
bool jail_pid_namespace(void (*reap)(long pid), char *err, size_t errlen);

/* Root in a jail (after jail_enter): hands the VM directory dir (all of
 * it, links not followed, not past a mount) and the cgroup directories
 * cgdirs (and their files, so the VMM still applies live limits) to
 * uid:gid, then becomes uid:gid for good: no supplementary groups, no
 * capabilities, bounding set empty.  The process stays dumpable so that it
 * can read its own /proc files.  False with one line in err. */
bool jail_become(const char *dir, unsigned uid, unsigned gid, const char *const *cgdirs, size_t ncg,
                 char *err, size_t errlen);

#endif
