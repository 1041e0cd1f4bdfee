/* SPDX-License-Identifier: MIT */
/*
 * The host terminal as the guest's console.  Input is read on the event
 * loop and pushed into a sink (the UART) as fast as the sink accepts it;
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends a literal Ctrl-A, everything else
 * (Ctrl-C included) goes to the guest.  The terminal is put in raw mode
 * while the machine runs and restored on every exit path.
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
void console_free(struct console *c);

#endif
