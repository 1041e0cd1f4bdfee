/* SPDX-License-Identifier: MIT */
/*
 * Live migration of the VMM's board (the engine is vmm/migration.h):
 * `wirt run --incoming tcp:ADDR:PORT` on the destination, the control
 * command `migrate` on the source.  The board supplies the dirty-page log,
 * the stop (pause, harts parked, disk requests drained, I/O lock held so
 * no device changes guest-visible state) and the state of its harts,
 * devices and clock.
 */
#ifndef WIRT_VMM_VMM_MIGRATION_H
#define WIRT_VMM_VMM_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/migration.h"

struct board;
struct vmm_migration;

/* "tcp:HOST:PORT" into host and port; false with one line in err. */
bool vmm_migration_parse_uri(const char *uri, char *host, size_t hostlen, char *port,
                             size_t portlen, char *err, size_t errlen);

/* The secret both sides use: $WIRT_MIGRATION_SECRET, or NULL (none). */
const char *vmm_migration_secret(void);

/* Destination: listens on uri, takes one connection and receives the
 * guest into b (built with the same options, booted, not yet running).
 * uri "fd:N" is a connection already made (`wirt vm receive` passes its
 * own).  A preamble in front of the stream (vm_receive.c: the VM's
 * configuration and boot files, for a store) is skipped.
 * 0: run it; otherwise one line in err and the VMM must exit. */
int vmm_incoming(struct board *b, const char *uri, char *err, size_t errlen);

/* The preamble `wirt vm migrate` puts in front of the stream:
 * MAGIC, LE32 length of a JSON text, LE64 length of the files that follow
 * it, the JSON, the files, then an HMAC-SHA256 (the migration secret's) of
 * JSON and files. */
#define VMM_PREAMBLE_MAGIC     "WIRTCFG\x01"
#define VMM_PREAMBLE_MAGIC_LEN 8
#define VMM_PREAMBLE_HEAD      20

/* Source: connects and migrates on a thread of its own; preamble, if not
 * NULL, is a file whose bytes are sent first. */
struct vmm_migration *vmm_migration_start(struct board *b, const char *uri,
                                          const struct migration_params *p, const char *preamble,
                                          char *err, size_t errlen);
/* 1 while running; then migration_send's result (err filled on failure). */
int vmm_migration_poll(struct vmm_migration *mg, struct migration_progress *out, char *err,
                       size_t errlen);
void vmm_migration_cancel(struct vmm_migration *mg);
/* Joins the thread (call once poll returned != 1) and frees. */
void vmm_migration_free(struct vmm_migration *mg);

#endif
