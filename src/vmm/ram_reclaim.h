/* SPDX-License-Identifier: MIT */
/*
 * Zero pages of guest RAM given back to the host (vmm/ram_reclaim.c).
 *
 * A booted Linux guest leaves a good share of the RAM it touched filled
 * with zeros (memory the kernel zeroed at boot and keeps reserved, pages
 * zeroed on allocation and freed again): 44 of 110 MiB for the default
 * guest.  Every few seconds a thread looks at the resident pages, and the
 * all-zero ones are discarded (MADV_DONTNEED) while the harts are held for
 * a moment (board_hold), so no write can slip in between the check and the
 * discard.  The guest sees no difference: a discarded page reads as zero
 * and is allocated again on its next write.
 */
#ifndef WIRT_VMM_RAM_RECLAIM_H
#define WIRT_VMM_RAM_RECLAIM_H

#include <stdint.h>

struct board;
struct ram_reclaim;

/* Starts the thread; call before board_run.  NULL when there is nothing
 * to do (RAM mapped from a state file, whose untouched pages are not
 * zero) or no thread could be started. */
struct ram_reclaim *ram_reclaim_start(struct board *b);
/* Bytes given back so far. */
uint64_t ram_reclaim_released(const struct ram_reclaim *r);
/* Stops the thread (after board_run returned, before board_free). */
void ram_reclaim_stop(struct ram_reclaim *r);

#endif
