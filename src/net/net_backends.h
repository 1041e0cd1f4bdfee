/* SPDX-License-Identifier: MIT */
/*
 * Internal interface between the option parser (net.c) and the backends
 * (user.c, tap.c).
 *
 * Both backends run a thread of their own that polls their file
 * descriptors and takes the machine's I/O lock before it calls into the
 * frontend (receive / can_receive) or, for user, into libslirp.  Every
 * libslirp call happens with that lock held, which is what serialises the
 * frontend's send() (I/O lock held by the caller) with the poll thread.
 */
#ifndef WIRT_NET_NET_BACKENDS_H
#define WIRT_NET_NET_BACKENDS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/lock.h"
#include "net/net.h"

#define NET_MAX_HOSTFWD 16

struct net_opts {
    const char *spec; /* the whole option text, for messages */
    uint8_t mac[6];
    const char *ifname;                   /* tap */
    const char *hostfwd[NET_MAX_HOSTFWD]; /* user */
    unsigned nhostfwd;
    /* user: the guest network (net=A.B.C.D/N); 0 = 10.0.2.0/24.  The host
     * is .2, DNS .3, the first DHCP address .15. */
    uint32_t net_addr, net_mask; /* host byte order */
};

struct net_backend *net_user_open(const struct net_opts *o, pthread_mutex_t *io_lock, char *err,
                                  size_t errlen);
struct net_backend *net_tap_open(const struct net_opts *o, pthread_mutex_t *io_lock, char *err,
                                 size_t errlen);

/* Parses one hostfwd= value "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT". */
struct net_hostfwd {
    bool udp;
    uint32_t host_addr, guest_addr; /* network byte order; 0 = any / default guest */
    uint16_t host_port, guest_port;
};
bool net_parse_hostfwd(const char *text, struct net_hostfwd *fwd);

#endif
