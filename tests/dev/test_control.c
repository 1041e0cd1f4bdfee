/* SPDX-License-Identifier: MIT */
/*
 * The control server without a guest: a fake board (the lifecycle calls
 * below stand in for machine/virt.c and keep it out of the link), the
 * real event loop and a real socket.  Checks the command table, the
 * event stream, the job table and that a subscriber who stops reading is
 * dropped while the server keeps answering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "machine/board.h"
#include "vmm/control.h"
#include "vmm/ram_reclaim.h"
#include "host/evloop.h"

/* ---- the fake board ---------------------------------------------------- */

static void fake_emit(struct board *b, enum board_event ev)
{
    if (b->on_event)
        b->on_event(b->event_opaque, ev);
}

void board_pause(struct board *b)
{
    if (!b->paused) {
        b->paused = true;
        fake_emit(b, BOARD_EVENT_PAUSED);
    }
}

void board_resume(struct board *b)
{
    if (b->paused) {
        b->paused = false;
        fake_emit(b, BOARD_EVENT_RESUMED);
    }
}

/* The control server links the migration glue, which needs these. */
bool board_dirty_log_start(struct board *b)
{
    (void)b;
    return false;
}
uint64_t board_dirty_log_take(struct board *b, uint64_t *bitmap)
{
    (void)b;
    (void)bitmap;
    return 0;
}
void board_dirty_log_stop(struct board *b)
{
    (void)b;
}

/* query-resources asks the zero-page reclaim (which holds the harts of a
 * real board) what it gave back: nothing here. */
uint64_t ram_reclaim_released(const struct ram_reclaim *r)
{
    (void)r;
    return 0;
}

/* set-resources' reclaim=: no thread here to tell. */
void ram_reclaim_set_interval(struct ram_reclaim *r, int interval_sec)
{
    (void)r, (void)interval_sec;
}

void board_request_reset(struct board *b)
{
    b->reset_requested = true;
    fake_emit(b, BOARD_EVENT_RESET);
}

void board_power_off(struct board *b, int exit_code)
{
    b->exit_code = exit_code;
    b->power_off = true;
    fake_emit(b, BOARD_EVENT_POWERED_OFF);
}

/* ---- fixture ----------------------------------------------------------- */

struct fixture {
    struct board board;
    struct control *control;
    char dir[64];
    char path[100];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    bus_init(&f->board.bus, 0x80000000ULL, 1 << 20);
    f->board.loop = evloop_new(&f->board.bus.io_lock);
    f->board.nharts = 1;
    f->board.cfg.ram_size = 1 << 20;
    assert_non_null(f->board.loop);
    strcpy(f->dir, "/tmp/wirt-control-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
    setenv("WIRT_CONTROL_DEBUG", "1", 1);
    char err[256];
    f->control = control_new(&f->board, f->path, err, sizeof(err));
    assert_non_null(f->control);
    assert_true(evloop_start(f->board.loop));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evloop_stop(f->board.loop);
    control_free(f->control);
    assert_null(f->board.on_event);
    evloop_free(f->board.loop);
    bus_destroy(&f->board.bus);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- a client ---------------------------------------------------------- */

struct client {
    int fd;
    char buf[1 << 16];
    size_t len;
};

static void client_open(struct client *cl, const struct fixture *f)
{
    cl->len = 0;
    cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(cl->fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
    assert_int_equal(connect(cl->fd, (struct sockaddr *)&a, sizeof(a)), 0);
}

static void client_send(struct client *cl, const char *line)
{
    size_t len = strlen(line);
    assert_int_equal(send(cl->fd, line, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* The next line as JSON, or NULL on EOF or after 2 s. */
static json_object *client_next(struct client *cl)
{
    for (;;) {
        char *nl = memchr(cl->buf, '\n', cl->len);
        if (nl) {
            *nl = '\0';
            json_object *o = json_tokener_parse(cl->buf);
            assert_non_null(o);
            size_t used = (size_t)(nl - cl->buf) + 1;
            memmove(cl->buf, cl->buf + used, cl->len - used);
            cl->len -= used;
            return o;
        }
        struct pollfd p = {.fd = cl->fd, .events = POLLIN};
        if (poll(&p, 1, 2000) != 1)
            return NULL;
        ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len - 1, 0);
        if (n <= 0)
            return NULL;
        cl->len += (size_t)n;
    }
}

/* The next line that is not an event (events are skipped). */
static json_object *client_reply(struct client *cl)
{
    for (;;) {
        json_object *o = client_next(cl);
        assert_non_null(o);
        if (!json_object_object_get_ex(o, "event", NULL))
            return o;
        json_object_put(o);
    }
}

static json_object *request(struct client *cl, const char *line)
{
    client_send(cl, line);
    return client_reply(cl);
}

static const char *error_class(json_object *r)
{
    json_object *e, *c;
    if (!json_object_object_get_ex(r, "error", &e) || !json_object_object_get_ex(e, "class", &c))
        return "";
    return json_object_get_string(c);
}

/* Sends line and checks that the reply is an error of class cls. */
static void expect_error(struct client *cl, const char *line, const char *cls)
{
    json_object *r = request(cl, line);
    assert_string_equal(error_class(r), cls);
    json_object_put(r);
}

static json_object *ret(json_object *r)
{
    json_object *v;
    assert_true(json_object_object_get_ex(r, "return", &v));
    return v;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int64_t int_field(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* Next event's name, its data in *data (the caller puts the event). */
static json_object *next_event(struct client *cl, const char **name, json_object **data)
{
    json_object *o = client_next(cl);
    assert_non_null(o);
    *name = str_field(o, "event");
    assert_true(json_object_object_get_ex(o, "data", data));
    return o;
}

/* ---- tests ------------------------------------------------------------- */

static void test_command_table(void **state)
{
    struct fixture *f = *state;
    struct client cl;
    client_open(&cl, f);
    json_object *r = request(&cl, "{\"execute\":\"query-commands\",\"id\":3}\n");
    json_object *names = ret(r);
    const char *want[] = {"query-status", "pause", "resume",     "reset",      "powerdown",  "quit",
                          "subscribe",    "jobs",  "job-status", "job-cancel", "debug-sleep"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool found = false;
        for (size_t k = 0; k < json_object_array_length(names); k++)
            found |= !strcmp(json_object_get_string(json_object_array_get_idx(names, k)), want[i]);
        assert_true(found);
    }
    assert_int_equal(int_field(r, "id"), 3);
    json_object_put(r);

    /* help comes from the same table, with the flags. */
    r = request(&cl, "{\"execute\":\"help\"}\n");
    json_object *list = ret(r);
    bool async_sleep = false, powerdown_needs_running = false;
    for (size_t k = 0; k < json_object_array_length(list); k++) {
        json_object *o = json_object_array_get_idx(list, k), *v;
        if (!strcmp(str_field(o, "name"), "debug-sleep") &&
            json_object_object_get_ex(o, "async", &v))
            async_sleep = json_object_get_boolean(v);
        if (!strcmp(str_field(o, "name"), "powerdown") &&
            json_object_object_get_ex(o, "needs-running", &v))
            powerdown_needs_running = json_object_get_boolean(v);
    }
    assert_true(async_sleep);
    assert_true(powerdown_needs_running);
    json_object_put(r);

    expect_error(&cl, "{\"execute\":\"fly\"}\n", "CommandNotFound");
    json_object_put(request(&cl, "{\"execute\":\"pause\"}\n"));
    assert_true(f->board.paused);
    /* needs-running: refused while paused, before the handler runs. */
    expect_error(&cl, "{\"execute\":\"powerdown\"}\n", "InvalidState");
    r = request(&cl, "{\"execute\":\"query-status\"}\n");
    assert_string_equal(str_field(ret(r), "status"), "paused");
    json_object_put(r);
    json_object_put(request(&cl, "{\"execute\":\"resume\"}\n"));
    assert_false(f->board.paused);
    json_object_put(request(&cl, "{\"execute\":\"quit\"}\n"));
    assert_true(f->board.power_off);
    expect_error(&cl, "{\"execute\":\"powerdown\"}\n", "GuestNotReady");
    expect_error(&cl, "{\"execute\":\"job-status\",\"arguments\":{\"id\":\"x\"}}\n",
                 "InvalidArgument");
    expect_error(&cl, "{\"execute\":\"job-status\",\"arguments\":{\"id\":99}}\n", "JobNotFound");
    close(cl.fd);
}

static void test_debug_commands_need_the_environment(void **state)
{
    (void)state;
    struct board b = {0};
    bus_init(&b.bus, 0x80000000ULL, 1 << 20);
    b.loop = evloop_new(&b.bus.io_lock);
    struct fixture f = {0};
    strcpy(f.dir, "/tmp/wirt-control-test-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    snprintf(f.path, sizeof(f.path), "%s/c.sock", f.dir);
    unsetenv("WIRT_CONTROL_DEBUG");
    char err[256];
    struct control *c = control_new(&b, f.path, err, sizeof(err));
    assert_non_null(c);
    assert_true(evloop_start(b.loop));
    struct client cl;
    client_open(&cl, &f);
    expect_error(&cl, "{\"execute\":\"debug-sleep\"}\n", "CommandNotFound");
    close(cl.fd);
    evloop_stop(b.loop);
    control_free(c);
    evloop_free(b.loop);
    bus_destroy(&b.bus);
    rmdir(f.dir);
}

static void test_events_reach_subscribers_only(void **state)
{
    struct fixture *f = *state;
    struct client sub, all, ctl;
    client_open(&sub, f);
    client_open(&all, f);
    client_open(&ctl, f);
    json_object *r = request(&sub, "{\"execute\":\"subscribe\",\"arguments\":{\"events\":"
                                   "[\"paused\",\"resumed\"]}}\n");
    assert_int_equal(json_object_array_length(json_object_object_get(ret(r), "events")), 2);
    json_object_put(r);
    r = request(&all, "{\"execute\":\"subscribe\"}\n");
    json_object_put(r);
    expect_error(&ctl, "{\"execute\":\"subscribe\",\"arguments\":{\"events\":[\"nap\"]}}\n",
                 "InvalidArgument");

    json_object_put(request(&ctl, "{\"execute\":\"reset\"}\n"));
    json_object_put(request(&ctl, "{\"execute\":\"pause\"}\n"));
    json_object_put(request(&ctl, "{\"execute\":\"resume\"}\n"));
    /* The console's marker arrives from another thread, lock held. */
    pthread_mutex_lock(&f->board.bus.io_lock);
    f->board.on_event(f->board.event_opaque, BOARD_EVENT_GUEST_READY);
    pthread_mutex_unlock(&f->board.bus.io_lock);

    const char *name;
    json_object *data, *e;
    e = next_event(&sub, &name, &data);
    assert_string_equal(name, "paused"); /* reset was not asked for */
    json_object_put(e);
    e = next_event(&sub, &name, &data);
    assert_string_equal(name, "resumed");
    json_object_put(e);

    const char *order[] = {"reset", "paused", "resumed", "guest-ready"};
    for (unsigned i = 0; i < 4; i++) {
        e = next_event(&all, &name, &data);
        assert_string_equal(name, order[i]);
        json_object *t;
        assert_true(json_object_object_get_ex(e, "time", &t));
        json_object_put(e);
    }
    /* The controlling client never subscribed: its next line is a reply. */
    r = request(&ctl, "{\"execute\":\"query-status\"}\n");
    assert_string_equal(str_field(ret(r), "status"), "running");
    json_object_put(r);

    /* Unsubscribed: nothing more arrives. */
    json_object_put(request(&sub, "{\"execute\":\"unsubscribe\"}\n"));
    json_object_put(request(&ctl, "{\"execute\":\"pause\"}\n"));
    r = request(&sub, "{\"execute\":\"query-status\"}\n");
    assert_string_equal(str_field(ret(r), "status"), "paused");
    json_object_put(r);
    json_object_put(request(&ctl, "{\"execute\":\"resume\"}\n"));
    close(sub.fd);
    close(all.fd);
    close(ctl.fd);
}

static void test_job_runs_to_completion_and_cancels(void **state)
{
    struct fixture *f = *state;
    struct client cl;
    client_open(&cl, f);
    json_object_put(request(&cl, "{\"execute\":\"subscribe\",\"arguments\":{\"events\":"
                                 "[\"job-progress\",\"job-completed\"]}}\n"));
    json_object *r = request(&cl, "{\"execute\":\"debug-sleep\",\"arguments\":"
                                  "{\"steps\":3,\"step-ms\":10}}\n");
    int64_t id = int_field(ret(r), "job");
    assert_true(id > 0);
    json_object_put(r);
    const char *name;
    json_object *data, *e;
    for (int step = 1; step <= 3; step++) {
        e = next_event(&cl, &name, &data);
        assert_string_equal(name, "job-progress");
        assert_int_equal(int_field(data, "id"), id);
        assert_int_equal(int_field(data, "done"), step);
        assert_int_equal(int_field(data, "total"), 3);
        json_object_put(e);
    }
    e = next_event(&cl, &name, &data);
    assert_string_equal(name, "job-completed");
    assert_string_equal(str_field(data, "status"), "completed");
    json_object_put(e);
    char line[128];
    snprintf(line, sizeof(line), "{\"execute\":\"job-status\",\"arguments\":{\"id\":%lld}}\n",
             (long long)id);
    r = request(&cl, line);
    assert_string_equal(str_field(ret(r), "status"), "completed");
    assert_string_equal(str_field(ret(r), "type"), "debug-sleep");
    json_object_put(r);

    /* A long one, cancelled. */
    r = request(&cl, "{\"execute\":\"debug-sleep\",\"arguments\":{\"steps\":1000,"
                     "\"step-ms\":10000}}\n");
    int64_t id2 = int_field(ret(r), "job");
    assert_int_equal(id2, id + 1);
    json_object_put(r);
    snprintf(line, sizeof(line), "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":%lld}}\n",
             (long long)id2);
    client_send(&cl, line);
    /* The completion event may come before the reply. */
    bool replied = false, cancelled = false;
    while (!replied || !cancelled) {
        json_object *o = client_next(&cl);
        assert_non_null(o);
        if (json_object_object_get_ex(o, "return", NULL))
            replied = true;
        else if (!strcmp(str_field(o, "event"), "job-completed")) {
            json_object *d = json_object_object_get(o, "data");
            assert_int_equal(int_field(d, "id"), id2);
            assert_string_equal(str_field(d, "status"), "cancelled");
            cancelled = true;
        } else
            fail_msg("unexpected line %s", json_object_to_json_string(o));
        json_object_put(o);
    }
    expect_error(&cl, line, "InvalidState");
    close(cl.fd);
}

static void test_job_table_is_bounded(void **state)
{
    struct fixture *f = *state;
    struct client cl;
    client_open(&cl, f);
    int64_t first = -1;
    for (int i = 0; i < CONTROL_MAX_JOBS; i++) {
        json_object *r = request(&cl, "{\"execute\":\"debug-sleep\",\"arguments\":{\"steps\":1,"
                                      "\"step-ms\":10000}}\n");
        int64_t id = int_field(ret(r), "job");
        if (first < 0)
            first = id;
        json_object_put(r);
    }
    expect_error(&cl, "{\"execute\":\"debug-sleep\"}\n", "Busy");
    json_object *r = request(&cl, "{\"execute\":\"jobs\"}\n");
    assert_int_equal(json_object_array_length(ret(r)), CONTROL_MAX_JOBS);
    json_object_put(r);
    /* One finished job makes room; the new one takes its slot. */
    char line[128];
    snprintf(line, sizeof(line), "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":%lld}}\n",
             (long long)first);
    json_object_put(request(&cl, line));
    r = request(&cl,
                "{\"execute\":\"debug-sleep\",\"arguments\":{\"steps\":1,\"step-ms\":5000}}\n");
    assert_true(int_field(ret(r), "job") > first);
    json_object_put(r);
    snprintf(line, sizeof(line), "{\"execute\":\"job-status\",\"arguments\":{\"id\":%lld}}\n",
             (long long)first);
    expect_error(&cl, line, "JobNotFound");
    close(cl.fd);
    /* teardown cancels the running ones (ASan checks their memory). */
}

static void test_slow_subscriber_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct client slow, ctl;
    client_open(&slow, f);
    client_open(&ctl, f);
    json_object_put(request(&slow, "{\"execute\":\"subscribe\"}\n"));
    /* ~20000 events; the slow client never reads. */
    char batch[64 * 40];
    batch[0] = '\0';
    for (int i = 0; i < 20; i++)
        strcat(batch, "{\"execute\":\"pause\"}\n{\"execute\":\"resume\"}\n");
    for (int round = 0; round < 500; round++) {
        client_send(&ctl, batch);
        for (int i = 0; i < 40; i++)
            json_object_put(client_reply(&ctl));
    }
    /* The controller is still served ... */
    json_object *r = request(&ctl, "{\"execute\":\"query-status\"}\n");
    assert_string_equal(str_field(ret(r), "status"), "running");
    json_object_put(r);
    /* ... and the slow client got at most its buffer, then EOF. */
    size_t total = 0;
    char buf[65536];
    for (;;) {
        struct pollfd p = {.fd = slow.fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 2000), 1);
        ssize_t n = recv(slow.fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    assert_true(total < 20000 * 40);
    close(slow.fd);
    close(ctl.fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_command_table, setup, teardown),
        cmocka_unit_test(test_debug_commands_need_the_environment),
        cmocka_unit_test_setup_teardown(test_events_reach_subscribers_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_runs_to_completion_and_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_table_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_subscriber_is_dropped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
