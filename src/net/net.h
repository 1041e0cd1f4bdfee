/* SPDX-License-Identifier: MIT */
/*
 * Network backends behind one ops table: user (libslirp NAT), tap, ...
 *
 * A backend is opened from the text of a --net option.  Each backend polls
 * its host side on a thread of its own and delivers received Ethernet
 * frames through the receive callback with the I/O lock held; send() is
 * called with the I/O lock held too.
 */
#ifndef WIRT_NET_NET_H
#define WIRT_NET_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_backend;

typedef void (*net_receive_cb)(void *opaque, const void *frame, size_t len);
/* Asked before delivering: may the frontend take a frame now? */
typedef bool (*net_can_receive_cb)(void *opaque);

struct net_backend_ops {
    const char *name;
    /* The largest IPv4 TCP frame the backend takes whole (a TCP/IP stack
     * of its own, like libslirp, has no MTU); 0: frames are put on a wire,
     * so the front end cuts large TCP frames to the MSS first. */
    size_t tso4_max_frame;
    /* Sends one Ethernet frame to the outside; drops it if it cannot. */
    void (*send)(struct net_backend *nb, const void *frame, size_t len);
    /* The frontend can receive again after refusing. */
    void (*receive_ready)(struct net_backend *nb);
    void (*close)(struct net_backend *nb);
};

struct net_backend {
    const struct net_backend_ops *ops;
    net_receive_cb receive;
    net_can_receive_cb can_receive;
    void *opaque;
    uint8_t mac[6]; /* guest MAC chosen from the option text (mac=) or generated */
};

/* Parses "user[,hostfwd=tcp:[ADDR]:HPORT-:GPORT]...[,mac=..]" or
 * "tap,ifname=NAME" and opens the backend.  io_lock is the lock the
 * backend's thread holds around calls into the front end (the board's I/O
 * lock); NULL gives a private one, for tests with nothing else running.
 * Returns NULL with one line in err naming the option and what is wrong. */
struct net_backend *net_backend_open(const char *spec, unsigned index, pthread_mutex_t *io_lock,
                                     char *err, size_t errlen);
void net_backend_close(struct net_backend *nb);

#endif
