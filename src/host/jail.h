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

#endif
