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
/* The rate cap, backend side.  net_shaper_init (before the backend's
 * thread starts) gives nb a shaper, capped when nic has rate=; wake interrupts
 * the thread's poll so that it rereads net_shaper_poll's deadline.
 * False: out of memory. */
bool net_shaper_init(struct net_backend *nb, const struct nic_spec *nic,
                     void (*wake)(struct net_backend *nb));
void net_shaper_free(struct net_backend *nb);
/* I/O lock held.  May a received frame go to the frontend now? */
bool net_shaper_rx_may(struct net_backend *nb);
void net_shaper_rx_took(struct net_backend *nb, size_t len);
/* I/O lock held, from the backend's thread: calls the frontend's tx_ready
 * when a held-back transmit may go now.  Returns the ns until the thread
 * must look again (0: no deadline); *rx_blocked: received frames wait. */
uint64_t net_shaper_poll(struct net_backend *nb, bool *rx_blocked);
/* A poll(2) timeout: the smaller of timeout_ms (-1: none) and wait_ns. */
int net_shaper_timeout(int timeout_ms, uint64_t wait_ns);

struct net_backend *net_tap_open(const struct nic_spec *nic, pthread_mutex_t *io_lock, char *err,
                                 size_t errlen);

#endif
