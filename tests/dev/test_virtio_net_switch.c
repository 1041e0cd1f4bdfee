/* SPDX-License-Identifier: MIT */
/*
 * The switch backend's receive path as virtio-net's idle hart uses it
 * (net.h rx_watch / rx_poll), against a fake switch on a Unix socket: a
 * frame arriving while a watcher waits in epoll_wait wakes the watcher
 * alone (the backend's thread must not take it first); one arriving while
 * no watcher waits is delivered by the thread; and a frame the watcher could
 * not deliver (no room in the guest) is not lost to the edge-triggered
 * watch: it comes through the thread after receive_ready.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/switch_proto.h"

#define KEY 7

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct fixture {
    char dir[64], path[108];
    int listen_fd, conn; /* the fake switch's end of the port */
    struct net_backend *nb;
    int epfd; /* the watcher's set (the idle hart's in wirt) */
    pthread_t main_thread;
    bool room;
    unsigned by_watcher, by_thread; /* frames delivered, by who */
};

static void receive(void *opaque, const void *frame, size_t len)
{
    struct fixture *f = opaque;
    (void)frame;
    (void)len;
    if (pthread_equal(pthread_self(), f->main_thread))
        f->by_watcher++;
    else
        __atomic_add_fetch(&f->by_thread, 1, __ATOMIC_ACQ_REL);
}

static bool can_receive(void *opaque)
{
    return __atomic_load_n(&((struct fixture *)opaque)->room, __ATOMIC_ACQUIRE);
}

/* The switch's side of the handshake: hello in, port 0 out. */
static void *fake_switch(void *arg)
{
    struct fixture *f = arg;
    struct swp_hello hello;
    struct swp_reply reply = {.port = 0};
    memcpy(reply.magic, SWP_MAGIC, sizeof(SWP_MAGIC));
    f->conn = accept(f->listen_fd, NULL, NULL);
    if (f->conn >= 0 && recv(f->conn, &hello, sizeof(hello), 0) == (ssize_t)sizeof(hello))
        send(f->conn, &reply, sizeof(reply), MSG_NOSIGNAL);
    return NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/wirt-swtest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/ports", f->dir);
    f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->listen_fd, 4), 0);
    pthread_t t;
    f->conn = -1;
    assert_int_equal(pthread_create(&t, NULL, fake_switch, f), 0);
    struct nic_spec nic = {.backend = net_backend_find("switch")};
    memcpy(nic.mac, "\x52\x54\x00\x40\x00\x01", 6);
    snprintf(nic.sw.socket, sizeof(nic.sw.socket), "%s", f->path);
    char err[256] = "";
    f->nb = net_backend_open(&nic, &lock, err, sizeof(err));
    pthread_join(t, NULL);
    if (!f->nb)
        fail_msg("open: %s", err);
    assert_true(f->conn >= 0);
    f->main_thread = pthread_self();
    f->room = true;
    /* The backend's thread reads these under the lock. */
    pthread_mutex_lock(&lock);
    f->nb->receive = receive;
    f->nb->can_receive = can_receive;
    f->nb->opaque = f;
    pthread_mutex_unlock(&lock);
    f->epfd = epoll_create1(EPOLL_CLOEXEC);
    assert_true(f->epfd >= 0);
    assert_true(f->nb->ops->rx_watch(f->nb, f->epfd, KEY));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    net_backend_close(f->nb);
    close(f->epfd);
    close(f->conn);
    close(f->listen_fd);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One message as the switch sends it: a zero virtio-net header, then a
 * 60-byte frame for the port's MAC. */
static void send_frame(struct fixture *f)
{
    uint8_t msg[NET_META_LEN + 60] = {0};
    memcpy(msg + NET_META_LEN, "\x52\x54\x00\x40\x00\x01\x52\x54\x00\x40\x00\x02\x08\x00", 14);
    assert_int_equal(send(f->conn, msg, sizeof(msg), MSG_NOSIGNAL), (ssize_t)sizeof(msg));
}

/* Sends one frame after a pause, while the main thread waits. */
static void *send_later(void *arg)
{
    sleep_ms(100);
    send_frame(arg);
    return NULL;
}

static bool thread_delivered(struct fixture *f, unsigned n)
{
    for (int i = 0; i < 400; i++) {
        if (__atomic_load_n(&f->by_thread, __ATOMIC_ACQUIRE) >= n)
            return true;
        sleep_ms(5);
    }
    return false;
}

/* Waits in epoll_wait for the watch's event as the idle hart does. */
static void wait_for_key(struct fixture *f)
{
    pthread_t t;
    struct epoll_event ev[4];
    assert_int_equal(pthread_create(&t, NULL, send_later, f), 0);
    int n = epoll_wait(f->epfd, ev, 4, 5000);
    pthread_join(t, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].data.u64, KEY);
}

static void test_waiting_watcher_alone_is_woken(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < 3; round++) {
        wait_for_key(f);
        /* Time for the backend's thread to take the frame, were it woken. */
        sleep_ms(100);
        assert_int_equal(__atomic_load_n(&f->by_thread, __ATOMIC_ACQUIRE), 0);
        f->nb->ops->rx_poll(f->nb);
        assert_int_equal(f->by_watcher, round + 1);
    }
}

static void test_thread_takes_frames_while_the_watcher_runs(void **state)
{
    struct fixture *f = *state;
    send_frame(f);
    assert_true(thread_delivered(f, 1));
    /* The watcher is told later (it was not waiting); its step finds
     * nothing left and delivers nothing twice. */
    struct epoll_event ev[4];
    if (epoll_wait(f->epfd, ev, 4, 0) > 0)
        f->nb->ops->rx_poll(f->nb);
    assert_int_equal(f->by_watcher, 0);
    assert_int_equal(__atomic_load_n(&f->by_thread, __ATOMIC_ACQUIRE), 1);
}

static void test_frame_without_room_waits_for_receive_ready(void **state)
{
    struct fixture *f = *state;
    __atomic_store_n(&f->room, false, __ATOMIC_RELEASE);
    wait_for_key(f);
    f->nb->ops->rx_poll(f->nb); /* no room: the frame stays queued */
    sleep_ms(50);
    assert_int_equal(f->by_watcher + __atomic_load_n(&f->by_thread, __ATOMIC_ACQUIRE), 0);
    /* The edge was the watcher's and is not reported again: the frame
     * must come through the thread once the guest has room. */
    struct epoll_event ev[4];
    assert_int_equal(epoll_wait(f->epfd, ev, 4, 0), 0);
    __atomic_store_n(&f->room, true, __ATOMIC_RELEASE);
    f->nb->ops->receive_ready(f->nb);
    assert_true(thread_delivered(f, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waiting_watcher_alone_is_woken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_takes_frames_while_the_watcher_runs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frame_without_room_waits_for_receive_ready, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
