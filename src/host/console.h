/* SPDX-License-Identifier: MIT */
/*
 * The host terminal as the guest's console.  Input is read on the event
 * loop and pushed into a sink (the UART) as fast as the sink accepts it;
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends a literal Ctrl-A, everything else
 * (Ctrl-C included) goes to the guest.  The terminal is put in raw mode
 * while the machine runs and restored on every exit path.
 *
 * Detached mode (console_detach, for VMs run by `wirt vm`): no terminal.
 * Output is appended to a log file (rotated to LOG.1 at 1 MiB) and sent
 * to the one client connected to a Unix stream socket; the client's bytes
 * go to the guest unchanged (no Ctrl-A escapes: detaching is the client's
 * business).  A client that connects gets the last few KiB of the log
 * first, so it sees the current prompt.  A new client replaces the old;
 * only the VMM's user and root may connect (see util/unix_socket.h).
 */
#ifndef WIRT_MACHINE_CONSOLE_H
#define WIRT_MACHINE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct console;
struct evloop;

/* Takes up to len bytes, returns how many it took. */
typedef size_t (*console_sink)(void *opaque, const uint8_t *buf, size_t len);
typedef void (*console_quit_cb)(void *opaque);

struct console *console_new(struct evloop *loop, int in_fd, int out_fd, console_quit_cb quit,
                            void *opaque);
void console_set_sink(struct console *c, console_sink sink, void *opaque);
/* Starts reading input (raw mode on a terminal). */
bool console_start(struct console *c);
/* The sink has room again; called with the I/O lock held. */
void console_sink_ready(struct console *c);
void console_write(struct console *c, const uint8_t *buf, size_t len);
/* Frees the console; in detached mode closes the client and the log and
 * removes the socket file. */
void console_free(struct console *c);

/* Switches the console to detached mode before console_start().  Either
 * path may be NULL (no socket / no log).  Returns false with one line in
 * err if the socket or log cannot be set up. */
bool console_detach(struct console *c, const char *socket_path, const char *log_path, char *err,
                    size_t errlen);

/* Queues bytes as if typed on the console (with the I/O lock held).
 * Returns false if they do not fit in the input buffer now. */
bool console_inject(struct console *c, const uint8_t *buf, size_t len);

/* True once the guest printed CONSOLE_READY_MARKER on the console: its
 * init is up and a shell reads the console. */
#define CONSOLE_READY_MARKER "WIRT-GUEST-READY"
bool console_guest_ready(const struct console *c);
/* cb(opaque) runs once, with the I/O lock held, when the marker is seen. */
void console_set_ready_cb(struct console *c, void (*cb)(void *opaque), void *opaque);

#endif
