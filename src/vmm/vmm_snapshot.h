/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a running VM (vmm/vmm_snapshot.c): every disk's qcow2
 * internal snapshot and the machine's state file taken at one instant,
 * and reverted at one instant.
 */
#ifndef WIRT_VMM_VMM_SNAPSHOT_H
#define WIRT_VMM_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

struct board;
struct vmm_save;

enum vmm_snapshot_op { VMM_SNAPSHOT_CREATE, VMM_SNAPSHOT_REVERT, VMM_SNAPSHOT_DELETE };

/* Starts op for snapshot name on every disk; state is the state file to
 * write (create) or load (revert), unused for delete.  Poll and free with
 * vmm_save_poll/vmm_save_free, then vmm_snapshot_free(ctx). */
struct vmm_save *vmm_snapshot_start(struct board *b, enum vmm_snapshot_op op, const char *name,
                                    const char *state, void **ctx, char *err, size_t errlen);
void vmm_snapshot_free(void *ctx);

#endif
