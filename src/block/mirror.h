/* SPDX-License-Identifier: MIT */
/*
 * A mirror job: copies a disk that is in use to a new image, then hands
 * the new image over (storage live migration, `wirt vm move-disk`).
 *
 * The job has the source's single user (virtio-blk's worker thread) do
 * all of its work between that user's own requests, so the block layer's
 * one-call-at-a-time rule holds: block_mirror_step() copies a few chunks,
 * the user's writes to the source are recorded through the source's
 * write_hook in a dirty bitmap (one bit per chunk) and copied again
 * later.  First a bulk pass over the whole disk (chunks that read as
 * zeroes are not written: the new image starts empty), then passes over
 * the dirty chunks until none is left; the user then calls
 * block_mirror_complete() before its next request, so no write can fall
 * between the last copy and the switch.  Convergence: the user decides
 * how many chunks each step copies; when few are left it copies them all
 * in one step while its own requests wait.
 *
 * A failure or an abort closes and deletes the new image; the source is
 * untouched throughout.
 */
#ifndef WIRT_BLOCK_MIRROR_H
#define WIRT_BLOCK_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct block_dev;
struct block_mirror;

#define BLOCK_MIRROR_CHUNK (64u * 1024)

/* Creates the image `target` (format "qcow2" or "raw"; NULL: the source's
 * format when it is one of them, else qcow2) with src's virtual size and
 * opens it.  Nothing is attached to src yet.  Callable from any thread
 * (it reads only src's size and format).  Returns 0, or a negative errno
 * with one line in err; an existing file at target is refused. */
int block_mirror_new(struct block_dev *src, const char *target, const char *format,
                     struct block_mirror **out, char *err, size_t errlen);

/* The same job towards dst, an open block_dev the caller keeps owning
 * (a migration's sink, which sends what is written to it): nothing is
 * created, abort neither closes nor deletes it, and the bulk pass skips
 * zero chunks as the receiver's image starts empty too.  Only step, the
 * counters and abort are meant for it (it is never completed: the caller
 * aborts it once it no longer needs the copy). */
int block_mirror_new_to(struct block_dev *src, struct block_dev *dst, struct block_mirror **out,
                        char *err, size_t errlen);

/* Copies up to max_chunks chunks (the first call attaches to src's write
 * hook; call it from src's user only).  Returns 1 while there is more to
 * copy, 0 once source and target are equal, or a negative errno (the job
 * is then failed: call block_mirror_abort). */
int block_mirror_step(struct block_mirror *m, unsigned max_chunks);

/* Chunks still to copy (bulk and dirty), and the bytes copied so far
 * (recopies included).  Any thread: the counters are atomic. */
uint64_t block_mirror_remaining(const struct block_mirror *m);
uint64_t block_mirror_copied(const struct block_mirror *m);
bool block_mirror_in_bulk(const struct block_mirror *m);

/* After a step returned 0, with no request of the user in flight: flushes
 * the target, detaches from src and returns the target, which the caller
 * now owns (src is still the caller's to close).  Frees the job.  On a
 * flush error returns a negative errno and leaves the job to abort. */
int block_mirror_complete(struct block_mirror *m, struct block_dev **target);

/* Detaches from src, closes and deletes the target, frees the job. */
void block_mirror_abort(struct block_mirror *m);

/* The message of the failure that made a step return < 0 ("" if none). */
const char *block_mirror_error(const struct block_mirror *m);
/* The target's path and format. */
const char *block_mirror_target(const struct block_mirror *m);
const char *block_mirror_format(const struct block_mirror *m);

#endif
