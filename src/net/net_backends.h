/* SPDX-License-Identifier: MIT */
/*
 * Internal interface between the registry (net.c) and the backends
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

struct net_backend *net_user_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                  size_t errlen);
struct net_backend *net_switch_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                    size_t errlen);
struct net_backend *net_tap_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                 size_t errlen);

#endif
