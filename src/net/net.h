/* SPDX-License-Identifier: MIT */
/*
 * Network backends behind one ops table: user (libslirp NAT), tap, ...
 *
 * A backend is opened from the text of a --net option and delivers
 * received Ethernet frames through the receive callback, on the event
 * loop thread with the I/O lock held.  send() is called with the I/O lock
 * held too.
 */
#ifndef WIRT_NET_NET_H
#define WIRT_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct net_backend;

typedef void (*net_receive_cb)(void *opaque, const void *frame, size_t len);
/* Asked before delivering: may the frontend take a frame now? */
typedef bool (*net_can_receive_cb)(void *opaque);

struct net_backend_ops {
    const char *name;
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
 * "tap,ifname=NAME" and opens the backend.  Returns NULL with one line in
 * err naming the option and what is wrong. */
struct net_backend *net_backend_open(const char *spec, unsigned index, struct evloop *loop,
                                     char *err, size_t errlen);
void net_backend_close(struct net_backend *nb);

#endif
