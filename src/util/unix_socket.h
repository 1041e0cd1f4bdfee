/* SPDX-License-Identifier: MIT */
/*
 * Owner-only Unix stream sockets for the VMM's control and serial
 * sockets.  The socket file is created 0600 whatever the umask, an
 * existing file is replaced only if it is a stale socket (nobody
 * listens), and every connection is checked against the peer's
 * credentials: only the VMM's own user and root may talk to it.
 */
#ifndef WIRT_UTIL_UNIX_SOCKET_H
#define WIRT_UTIL_UNIX_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* Listens on path (non-blocking, close-on-exec).  A socket file there
 * that refuses connections is stale and replaced; a live socket, or any
 * other kind of file, is an error.  Returns the fd, or -1 with
 * "PATH: reason" in err. */
int unix_listen_owner_only(const char *path, int backlog, char *err, size_t errlen);
/* The same for a socket type other than SOCK_STREAM (SOCK_SEQPACKET). */
int unix_listen_owner_only_type(const char *path, int type, int backlog, char *err, size_t errlen);

/* True if the peer of connected socket fd runs as this process's
 * effective user or as root; *uid gets the peer's uid (or -1). */
bool unix_peer_allowed(int fd, uid_t *uid);
/* Sends what a non-blocking send takes now (no SIGPIPE); returns how many
 * bytes that was (0 when the socket is full or gone). */
size_t unix_send_some(int fd, const void *buf, size_t len);

/* Output to a non-blocking stream socket whose reader may fall behind:
 * what the socket does not take waits here, up to cap bytes, and goes
 * out on unix_backlog_flush (the owner watches EPOLLOUT while len != 0).
 * The buffer is allocated on first use. */
struct unix_backlog {
    uint8_t *buf;
    size_t len, cap;
    bool drop_oldest; /* when full: keep the newest bytes (a screen), or the oldest (a stream) */
};
/* Sends buf after what already waits; returns how many bytes were dropped. */
size_t unix_backlog_send(struct unix_backlog *b, int fd, const void *buf, size_t len);
void unix_backlog_flush(struct unix_backlog *b, int fd);
void unix_backlog_free(struct unix_backlog *b);

#endif
