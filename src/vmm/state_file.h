/* SPDX-License-Identifier: MIT */
/*
 * State files: a stopped moment of the whole machine (harts, devices,
 * clock, guest RAM) in one file that restore maps rather than reads
 * (format: docs/state-format.md).
 *
 * Saving pauses the guest only for the state stream and a fork(): the
 * child writes guest RAM from its copy-on-write view while the guest
 * runs on.  Restoring checks the header, the stream's checksum and the
 * machine's shape, then maps the file's RAM region over guest RAM
 * (MAP_PRIVATE): pages are read when the guest first touches them.
 */
#ifndef WIRT_VMM_STATE_FILE_H
#define WIRT_VMM_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;

#define STATE_FILE_VERSION     1
#define STATE_FILE_HEADER_SIZE 4096
#define STATE_FILE_MAX_STREAM  (64u << 20) /* harts + devices; RAM is apart */

/* The header's fields, host byte order. */
struct state_file_header {
    uint32_t version;
    uint64_t ram_base, ram_size;
    uint32_t nharts;
    uint64_t stream_offset, stream_len;
    uint32_t stream_crc;
    uint64_t ram_offset;
    uint64_t saved_unix_ns;
};

/* Checks a header block (STATE_FILE_HEADER_SIZE bytes) of a file of
 * file_size bytes: magic, version, checksum, and that the regions lie
 * inside the file.  One line in err. */
bool state_file_parse_header(const uint8_t *buf, size_t len, uint64_t file_size,
                             struct state_file_header *h, char *err, size_t errlen);

/* Into b (built with the same options, booted, not yet running).  One
 * line in err naming path; b must not run after a failure. */
bool state_file_restore(struct board *b, const char *path, char *err, size_t errlen);

/* Figures of a finished save. */
struct state_file_result {
    uint64_t pause_ns; /* the guest stood still this long */
    uint64_t total_ns; /* until the file was complete and durable */
    uint64_t file_bytes, ram_bytes_written;
};

struct vmm_save;
/* Starts saving b to path (written as path.tmp, then renamed) on a thread
 * of its own and returns at once.  quit: the guest stays paused once the
 * file is durable (the caller powers off) instead of resuming; a failed
 * save resumes it either way. */
struct vmm_save *vmm_save_start(struct board *b, const char *path, bool quit, char *err,
                                size_t errlen);
/* Runs while the machine is stopped (I/O lock held, disks drained and
 * flushed), at the instant the state is taken or loaded: the disks'
 * snapshots.  undo: the save failed after it succeeded, take it back
 * (err is NULL then).  False with one line in err stops the operation. */
typedef bool (*state_file_hook)(struct board *b, void *opaque, bool undo, char *err, size_t errlen);
/* A save (never quits) with hook at its instant: a snapshot of a running
 * VM. */
struct vmm_save *vmm_save_start_hook(struct board *b, const char *path, state_file_hook hook,
                                     void *opaque, char *err, size_t errlen);
/* Brings the running machine back to the state in path: checks the file,
 * stops the machine, runs hook (reverting the disks), maps and loads, and
 * resumes.  A load failing after the hook powers the machine off rather
 * than run it over disks that went back. */
struct vmm_save *vmm_revert_start(struct board *b, const char *path, state_file_hook hook,
                                  void *opaque, char *err, size_t errlen);
/* Just hook, with the machine stopped for it (deleting a disk snapshot). */
struct vmm_save *vmm_stopped_start(struct board *b, state_file_hook hook, void *opaque, char *err,
                                   size_t errlen);
/* 1 while running, 0 done (out filled), negative errno failed (err). */
int vmm_save_poll(struct vmm_save *s, struct state_file_result *out, char *err, size_t errlen);
/* Joins the thread (after poll returned != 1) and frees. */
void vmm_save_free(struct vmm_save *s);

#endif
