/* SPDX-License-Identifier: MIT */
/*
 * The device event loop: one thread that waits on file descriptors,
 * timers and work posted by other threads (disk completions), and runs
 * the callbacks with the machine's I/O lock held.
 */
#ifndef WIRT_MACHINE_EVLOOP_H
#define WIRT_MACHINE_EVLOOP_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct evloop;
struct evtimer;

typedef void (*evloop_fd_cb)(void *opaque, uint32_t epoll_events);
typedef void (*evloop_cb)(void *opaque);

struct evloop *evloop_new(pthread_mutex_t *io_lock);
void evloop_free(struct evloop *loop);

/* Watches fd for epoll events (EPOLLIN, EPOLLOUT ...). One watch per fd. */
bool evloop_add_fd(struct evloop *loop, int fd, uint32_t events, evloop_fd_cb cb, void *opaque);
bool evloop_mod_fd(struct evloop *loop, int fd, uint32_t events);
void evloop_del_fd(struct evloop *loop, int fd);

/* A one-shot timer on the host monotonic clock. Arming an armed timer
 * moves it.  Safe from any thread. */
struct evtimer *evtimer_new(struct evloop *loop, evloop_cb cb, void *opaque);
void evtimer_arm(struct evtimer *t, uint64_t deadline_monotonic_ns);
void evtimer_disarm(struct evtimer *t);
void evtimer_free(struct evtimer *t);

/* Runs cb(opaque) on the loop thread soon.  Safe from any thread; this is
 * how worker threads hand completions back. */
void evloop_post(struct evloop *loop, evloop_cb cb, void *opaque);

/* The CPUs the loop's thread may run on: those of the process, since it
 * is never pinned (pinned hart threads ask it).  False if not running. */
bool evloop_thread_affinity(struct evloop *loop, cpu_set_t *set);

/* Starts / stops the loop's own thread. */
bool evloop_start(struct evloop *loop);
void evloop_stop(struct evloop *loop);

#endif
