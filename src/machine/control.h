/* SPDX-License-Identifier: MIT */
/*
 * The VMM's control socket: a Unix stream socket speaking newline-
 * delimited JSON (docs/control-protocol.md).  `wirt vm` and later the
 * host service use it to query and steer a running machine.
 *
 * The server lives on the board's event loop; every request is handled
 * with the I/O lock held and answered at once.  Input is untrusted:
 * lines are bounded, bad JSON gets an error reply, a client that floods
 * or stops reading is disconnected, and so is one without a complete
 * request for 30 s.  Only the VMM's user and root may connect (the
 * socket is 0600 and peer credentials are checked); a full client table
 * makes room by closing its least active client.
 */
#ifndef WIRT_MACHINE_CONTROL_H
#define WIRT_MACHINE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct board;
struct control;

/* Maximum length of one request line, newline included. */
#define CONTROL_MAX_LINE 4096

/* Listens on `path` (a stale socket file there is replaced; a live one,
 * or any other kind of file, is an error).  Call after board_new() and before board_run().  Returns
 * NULL with one line in err on failure. */
struct control *control_new(struct board *b, const char *path, char *err, size_t errlen);
/* Closes every connection and removes the socket file.  Call after
 * board_run() returned (the event loop is stopped). */
void control_free(struct control *c);

/* The VM spec (its JSON form, docs/vm-spec.md) that query-spec returns;
 * the server keeps a reference.  The control server stays below the VMM
 * layer: it serves the document without knowing its shape. */
struct json_object;
void control_set_spec(struct control *c, struct json_object *spec);

/* Asks the guest to shut down cleanly.  The one place that knows how:
 * today it types `poweroff` on the serial console once the guest printed
 * its ready marker (a stop-gap for shell guests, see docs/vm.md); a guest
 * agent replaces it later.  Returns false with a reason in err. */
bool control_guest_powerdown(struct board *b, char *err, size_t errlen);

#endif
