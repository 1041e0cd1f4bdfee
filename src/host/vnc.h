/* SPDX-License-Identifier: MIT */
/*
 * A VNC server (libvncserver) for a VM's display: its own thread serves
 * the clients, copies what changed on the screen (host/display.h) into
 * its framebuffer about every 10 ms and passes keys and pointer moves to
 * the display's input sink.  The guest never waits for it.
 */
#ifndef WIRT_HOST_VNC_H
#define WIRT_HOST_VNC_H

#include <stddef.h>

struct display;
struct vnc_server;

/* Listens on addr:port (IPv4, no IPv6 socket).  password: VNC
 * authentication with it (only its first 8 characters count, as in the
 * protocol), NULL for none.  NULL with one line in err. */
struct vnc_server *vnc_start(struct display *d, const char *addr, int port, const char *password,
                             char *err, size_t errlen);
/* Stops the thread, closes every connection and the listening socket. */
void vnc_stop(struct vnc_server *v);

/* Linux KEY_* code for an X keysym, 0 for none. */
unsigned vnc_keysym_to_linux(unsigned keysym);

#endif
