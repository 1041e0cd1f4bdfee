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

/* Seconds between passes when the VM does not say (resources.reclaim). */
#define RAM_RECLAIM_DEFAULT_SEC 10

/* Starts the thread, a pass every interval_sec (the first one no sooner
 * than RAM_RECLAIM_DEFAULT_SEC: boot is mostly over by then; <= 0: off,
 * the thread waits until ram_reclaim_set_interval turns it on); call
 * before board_run.  NULL when there is nothing to do (RAM mapped from a
 * state file, whose untouched pages are not zero) or no thread could be
 * started. */
struct ram_reclaim *ram_reclaim_start(struct board *b, int interval_sec);
/* A new interval (<= 0: off) for a running VM; the next pass comes one
 * interval from now.  NULL r: nothing. */
void ram_reclaim_set_interval(struct ram_reclaim *r, int interval_sec);
/* The interval a VM's setting means (vmm/resources.h reclaim_sec). */
static inline int ram_reclaim_interval(int reclaim_sec)
{
    return reclaim_sec < 0 ? 0 : reclaim_sec ? reclaim_sec : RAM_RECLAIM_DEFAULT_SEC;
}
/* Bytes given back so far. */
uint64_t ram_reclaim_released(const struct ram_reclaim *r);
/* Stops the thread (after board_run returned, before board_free). */
void ram_reclaim_stop(struct ram_reclaim *r);

#endif
