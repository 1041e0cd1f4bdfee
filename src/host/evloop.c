/* SPDX-License-Identifier: MIT */
/*
 * The event loop.  Locking: `lock` protects the timer list and the post
 * queue and is never held while a callback runs; callbacks run with the
 * machine's I/O lock held.  Never take `lock` and then the I/O lock.
 */
#include "host/evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/vclock.h"
#include "util/log.h"

struct fd_watch {
    int fd;
    evloop_fd_cb cb;
    void *opaque;
    struct fd_watch *next;
};

struct evtimer {
    struct evloop *loop;
    evloop_cb cb;
    void *opaque;
    uint64_t deadline; /* 0 = disarmed */
    struct evtimer *next;
};

struct posted {
    evloop_cb cb;
    void *opaque;
    struct posted *next;
};

struct evloop {
    int epfd;
    int wakefd;
    pthread_mutex_t *io_lock;
    pthread_mutex_t lock;
    pthread_t thread;
    bool running;
    bool stop;
    struct fd_watch *watches;
    struct evtimer *timers;
    struct posted *posted_head, *posted_tail;
};

static void wake(struct evloop *loop)
{
    uint64_t one = 1;
    ssize_t n = write(loop->wakefd, &one, sizeof(one));
    (void)n; /* a full counter still wakes the loop */
}

struct evloop *evloop_new(pthread_mutex_t *io_lock)
{
    struct evloop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return NULL;
    loop->io_lock = io_lock;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->epfd < 0 || loop->wakefd < 0) {
        evloop_free(loop);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev);
    pthread_mutex_init(&loop->lock, NULL);
    return loop;
}

void evloop_free(struct evloop *loop)
{
    if (!loop)
        return;
    evloop_stop(loop);
    while (loop->watches) {
        struct fd_watch *w = loop->watches;
        loop->watches = w->next;
        free(w);
    }
    while (loop->posted_head) {
        struct posted *p = loop->posted_head;
        loop->posted_head = p->next;
        free(p);
    }
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wakefd >= 0)
        close(loop->wakefd);
    free(loop);
}

bool evloop_add_fd(struct evloop *loop, int fd, uint32_t events, evloop_fd_cb cb, void *opaque)
{
    struct fd_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return false;
    w->fd = fd;
    w->cb = cb;
    w->opaque = opaque;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(w);
        return false;
    }
    pthread_mutex_lock(&loop->lock);
    w->next = loop->watches;
    loop->watches = w;
    pthread_mutex_unlock(&loop->lock);
    return true;
}

static struct fd_watch *find_watch(struct evloop *loop, int fd)
{
    for (struct fd_watch *w = loop->watches; w; w = w->next)
        if (w->fd == fd)
            return w;
    return NULL;
}

bool evloop_mod_fd(struct evloop *loop, int fd, uint32_t events)
{
    pthread_mutex_lock(&loop->lock);
    struct fd_watch *w = find_watch(loop, fd);
    pthread_mutex_unlock(&loop->lock);
    if (!w)
        return false;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

/* Must be called with the I/O lock held (from a callback or device code),
 * so that the loop thread is not inside the watch's callback. */
void evloop_del_fd(struct evloop *loop, int fd)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    pthread_mutex_lock(&loop->lock);
    for (struct fd_watch **pp = &loop->watches; *pp; pp = &(*pp)->next) {
        if ((*pp)->fd == fd) {
            struct fd_watch *w = *pp;
            *pp = w->next;
            /* Events for w may already be in the loop's current batch; the
             * loop re-checks the watch list before dispatching. */
            free(w);
            break;
        }
    }
    pthread_mutex_unlock(&loop->lock);
}

struct evtimer *evtimer_new(struct evloop *loop, evloop_cb cb, void *opaque)
{
    struct evtimer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = loop;
    t->cb = cb;
    t->opaque = opaque;
    pthread_mutex_lock(&loop->lock);
    t->next = loop->timers;
    loop->timers = t;
    pthread_mutex_unlock(&loop->lock);
    return t;
}

void evtimer_arm(struct evtimer *t, uint64_t deadline_monotonic_ns)
{
    struct evloop *loop = t->loop;
    pthread_mutex_lock(&loop->lock);
    t->deadline = deadline_monotonic_ns ? deadline_monotonic_ns : 1;
    pthread_mutex_unlock(&loop->lock);
    wake(loop);
}

void evtimer_disarm(struct evtimer *t)
{
    pthread_mutex_lock(&t->loop->lock);
    t->deadline = 0;
    pthread_mutex_unlock(&t->loop->lock);
}

void evtimer_free(struct evtimer *t)
{
    if (!t)
        return;
    struct evloop *loop = t->loop;
    pthread_mutex_lock(&loop->lock);
    for (struct evtimer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&loop->lock);
    free(t);
}

void evloop_post(struct evloop *loop, evloop_cb cb, void *opaque)
{
    struct posted *p = malloc(sizeof(*p));
    if (!p)
        fatal("out of memory posting work to the event loop");
    p->cb = cb;
    p->opaque = opaque;
    p->next = NULL;
    pthread_mutex_lock(&loop->lock);
    if (loop->posted_tail)
        loop->posted_tail->next = p;
    else
        loop->posted_head = p;
    loop->posted_tail = p;
    pthread_mutex_unlock(&loop->lock);
    wake(loop);
}

/* Fires every expired timer; returns the earliest remaining deadline (0 = none). */
static uint64_t run_timers(struct evloop *loop)
{
    for (;;) {
        uint64_t now = host_monotonic_ns();
        struct evtimer *due = NULL;
        uint64_t next = 0;
        pthread_mutex_lock(&loop->lock);
        for (struct evtimer *t = loop->timers; t; t = t->next) {
            if (!t->deadline)
                continue;
            if (t->deadline <= now) {
                due = t;
                break;
            }
            if (!next || t->deadline < next)
                next = t->deadline;
        }
        if (due)
            due->deadline = 0;
        pthread_mutex_unlock(&loop->lock);
        if (!due)
            return next;
        due->cb(due->opaque); /* may re-arm or free itself */
    }
}

static void run_posted(struct evloop *loop)
{
    pthread_mutex_lock(&loop->lock);
    struct posted *p = loop->posted_head;
    loop->posted_head = loop->posted_tail = NULL;
    pthread_mutex_unlock(&loop->lock);
    while (p) {
        struct posted *next = p->next;
        p->cb(p->opaque);
        free(p);
        p = next;
    }
}

static bool watch_alive(struct evloop *loop, struct fd_watch *w)
{
    pthread_mutex_lock(&loop->lock);
    struct fd_watch *it = loop->watches;
    while (it && it != w)
        it = it->next;
    pthread_mutex_unlock(&loop->lock);
    return it != NULL;
}

static void *loop_thread(void *arg)
{
    struct evloop *loop = arg;
    pthread_mutex_lock(loop->io_lock);
    uint64_t next = run_timers(loop);
    pthread_mutex_unlock(loop->io_lock);
    while (!__atomic_load_n(&loop->stop, __ATOMIC_ACQUIRE)) {
        int timeout = -1;
        pthread_mutex_lock(&loop->lock);
        next = 0;
        for (struct evtimer *t = loop->timers; t; t = t->next)
            if (t->deadline && (!next || t->deadline < next))
                next = t->deadline;
        pthread_mutex_unlock(&loop->lock);
        if (next) {
            uint64_t now = host_monotonic_ns();
            /* Round up so we never wake just before the deadline and spin. */
            uint64_t ms = next <= now ? 0 : (next - now + 999999) / 1000000;
            timeout = ms > 60000 ? 60000 : (int)ms;
        }
        struct epoll_event events[32];
        int n = epoll_wait(loop->epfd, events, 32, timeout);
        if (n < 0 && errno != EINTR)
            fatal("epoll_wait: %s", strerror(errno));
        pthread_mutex_lock(loop->io_lock);
        for (int i = 0; i < n; i++) {
            struct fd_watch *w = events[i].data.ptr;
            if (!w) {
                uint64_t v;
                while (read(loop->wakefd, &v, sizeof(v)) > 0)
                    ;
                continue;
            }
            if (watch_alive(loop, w))
                w->cb(w->opaque, events[i].events);
        }
        run_posted(loop);
        run_timers(loop);
        pthread_mutex_unlock(loop->io_lock);
    }
    return NULL;
}

bool evloop_thread_affinity(struct evloop *loop, cpu_set_t *set)
{
    return loop->running && pthread_getaffinity_np(loop->thread, sizeof(*set), set) == 0 &&
           CPU_COUNT(set) > 0;
}

bool evloop_start(struct evloop *loop)
{
    loop->stop = false;
    if (pthread_create(&loop->thread, NULL, loop_thread, loop) != 0)
        return false;
    loop->running = true;
    return true;
}

void evloop_stop(struct evloop *loop)
{
    if (!loop->running)
        return;
    __atomic_store_n(&loop->stop, true, __ATOMIC_RELEASE);
    wake(loop);
    pthread_join(loop->thread, NULL);
    loop->running = false;
}
