/* SPDX-License-Identifier: MIT */
/*
 * The whole machine but its RAM (vmm/machine_state.c): stopping it so that
 * nothing changes guest-visible state, and its harts, devices and clock as
 * one state stream.  Live migration and state files both use it.
 */
#ifndef WIRT_VMM_MACHINE_STATE_H
#define WIRT_VMM_MACHINE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;
struct state_writer;

/* Pauses the guest, waits until every hart thread has returned, lets the
 * disk requests in flight finish and flushes every disk.  Returns with
 * the bus I/O lock held (no device touches guest-visible state until
 * machine_resume); *was_paused tells whether the guest was paused
 * already.  False with one line in err (the guest runs again, unless it was paused)
 * when it is powering off, a request does not finish, a flush fails or a
 * disk move runs.  Not from the event loop thread. */
bool machine_stop(struct board *b, bool *was_paused, char *err, size_t errlen);
/* Undoes machine_stop: resumes unless the guest was paused before it
 * (was_paused from machine_stop); locked says whether the caller holds
 * the I/O lock (it is released either way). */
void machine_resume(struct board *b, bool locked, bool was_paused);

/* Harts, devices and the guest clock, while stopped. */
bool machine_save(struct board *b, struct state_writer *w);
/* Into a machine with the same harts and devices that is not running
 * (locked: the caller holds the I/O lock, as after machine_stop); one line
 * in err when the state is malformed or of another machine. */
bool machine_load(struct board *b, const uint8_t *buf, size_t len, bool locked, char *err,
                  size_t errlen);

/* True when no disk request is queued or running (with the harts held or
 * parked and the I/O lock held, none starts: no device writes RAM). */
bool machine_disks_idle(struct board *b);

/* Reopens every disk, to read metadata another process changed. */
bool machine_reopen_disks(struct board *b, char *err, size_t errlen);
/* The board's i-th device when it is a virtio-blk disk, else NULL. */
struct virtio_dev *machine_disk(struct board *b, unsigned i);

#endif
