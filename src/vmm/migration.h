/* SPDX-License-Identifier: MIT */
/*
 * Live migration's engine: pre-copy of guest RAM over a connected stream
 * socket, then a short stop-and-copy of the last dirty pages and of
 * everything else (harts, devices: an opaque blob the machine provides),
 * then a three-step commit so that the guest never runs twice.
 *
 * The engine knows guest RAM (the bus) and nothing about the machine: the
 * caller passes its dirty-page log, how to stop and resume the guest and
 * how to save and load the rest of its state (struct migration_machine).
 * Wire format, authentication and the safety argument: docs/architecture.md
 * ("Migration").  In short:
 *  - a handshake with fresh nonces proves to each side that the other
 *    knows the shared secret (HMAC-SHA256) before any RAM is sent; every
 *    byte that follows is covered by a transcript MAC keyed per session,
 *    checked by the destination before it loads anything;
 *  - pages go in batches; never-touched pages go as runs of zeros without
 *    being read, other zero pages cost 8 bytes; worker threads zstd the
 *    batches they can while the sender goes on (raw when they are busy);
 *  - rounds continue while the expected downtime (dirty pages / measured
 *    bandwidth) exceeds the limit; when the guest dirties memory as fast as
 *    the link carries it, the harts are throttled (auto-converge);
 *  - commit: destination LOADED -> source GO -> destination STARTED.  The
 *    source resumes its guest on any failure before it sent GO, and never
 *    after it: a lost STARTED leaves it paused (MIGRATION_UNCERTAIN), not
 *    running next to a destination that may be running too.
 */
#ifndef WIRT_VMM_MIGRATION_H
#define WIRT_VMM_MIGRATION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct state_writer;
struct migration_sink;

#define MIGRATION_MAX_DISKS 16

struct migration_machine {
    struct bus *bus; /* guest RAM */
    void *opaque;
    /* The dirty-page log (board_dirty_log_*): start, take-and-re-arm, stop. */
    bool (*log_start)(void *opaque);
    uint64_t (*log_take)(void *opaque, uint64_t *bitmap);
    void (*log_stop)(void *opaque);
    /* Stops the guest: when it returns, nothing writes guest RAM any more
     * (harts stopped, device I/O drained).  resume undoes it. */
    bool (*stop)(void *opaque, char *err, size_t errlen);
    void (*resume)(void *opaque);
    /* Everything but RAM, saved while stopped / loaded on the destination
     * into a machine that is not running. */
    bool (*save)(void *opaque, struct state_writer *w);
    bool (*load)(void *opaque, const uint8_t *buf, size_t len, char *err, size_t errlen);
    /* Destination, after GO and before STARTED: take over what the source
     * let go (shared disks).  NULL: nothing to do.  A failure makes the
     * destination give up (the source then stays paused). */
    bool (*handover)(void *opaque, char *err, size_t errlen);
    /* Makes the harts sleep `percent` of the time (0 = full speed); NULL
     * disables auto-converge. */
    void (*throttle)(void *opaque, unsigned percent);

    /* Storage (migration_params.copy_storage), NULL when never used.
     * disks: the sizes of the disks that are copied (both sides, same
     * order), returns how many (at most MIGRATION_MAX_DISKS). */
    unsigned (*disks)(void *opaque, uint64_t *sizes);
    /* Source: start copying every disk while the guest runs, each chunk
     * through migration_disk_write(sink, disk index, ...) from whatever
     * thread; storage_pending: bytes still to copy, negative with one
     * line in err once a copy failed; the stopped guest's disks are idle
     * only when nothing is pending.  storage_stop: returns once no copy
     * calls migration_disk_write any more. */
    bool (*storage_start)(void *opaque, struct migration_sink *sink, char *err, size_t errlen);
    int64_t (*storage_pending)(void *opaque, char *err, size_t errlen);
    void (*storage_stop)(void *opaque);
    /* Destination: writes a chunk (buf NULL: zeroes) to disk `disk`. */
    bool (*disk_write)(void *opaque, unsigned disk, uint64_t off, const void *buf, size_t len,
                       char *err, size_t errlen);
};

/* Sends a chunk of a disk (source, any thread, during pre-copy and until
 * the guest is stopped and storage_pending is 0).  0 or a negative errno;
 * a failure fails the migration. */
int migration_disk_write(struct migration_sink *sink, unsigned disk, uint64_t off, const void *buf,
                         size_t len);

struct migration_params {
    uint64_t max_downtime_ns; /* 0: 100 ms */
    const void *secret;       /* shared secret; NULL: the empty one */
    size_t secret_len;
    bool no_compress; /* never zstd */
    /* zstd every batch it shrinks, waiting for the workers when they are
     * behind: far fewer bytes (under a third, for a booted idle guest) for
     * more CPU time. */
    bool always_compress;
    unsigned max_rounds; /* then stop-and-copy whatever is left; 0: 64 */
    int io_timeout_ms;   /* a peer silent this long is gone; 0: 30 s */
    bool copy_storage;   /* send the disks too (the destination's are empty) */
};

enum migration_phase {
    MIGRATION_SETUP,
    MIGRATION_PRECOPY,
    MIGRATION_STOPPED, /* stop-and-copy */
    MIGRATION_COMMIT,
    MIGRATION_DONE,
    MIGRATION_FAILED,
};

/* Updated by the engine as it goes; read from any thread. */
struct migration_progress {
    _Atomic int phase;
    _Atomic unsigned round, throttle;
    _Atomic uint64_t bytes_sent, pages_sent, zero_pages, dirty_pages, dirty_rate; /* pages/s */
    _Atomic uint64_t expected_downtime_ns, downtime_ns, total_ns, ram_pages;
    /* The part of downtime_ns (stop until the destination runs the guest)
     * spent until the last byte was sent: what QEMU calls downtime. */
    _Atomic uint64_t stop_copy_ns;
    _Atomic uint64_t disk_bytes, disk_pending; /* --copy-storage: sent, still to copy */
};

/* migration_send results besides 0 (the destination runs the guest) and
 * a negative errno (failed; the guest runs here again). */
#define MIGRATION_UNCERTAIN 1 /* GO sent, STARTED not received: paused here */

/* Source side, on a connected socket (the caller closes it).  cancel, if
 * not NULL, is polled between batches.  One line in err on failure. */
int migration_send(int fd, const struct migration_machine *m, const struct migration_params *p,
                   struct migration_progress *prog, atomic_bool *cancel, char *err, size_t errlen);

/* Destination side: fills m->bus's RAM and calls m->load; returns 0 once
 * the source handed the guest over (run it now), or a negative errno with
 * one line in err (do not run it). */
int migration_receive(int fd, const struct migration_machine *m, const struct migration_params *p,
                      char *err, size_t errlen);

#endif
