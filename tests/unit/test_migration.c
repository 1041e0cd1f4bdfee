/* SPDX-License-Identifier: MIT */
/*
 * The live-migration engine (vmm/migration.h) between two test machines
 * over a socket pair: the source's hart runs on its own thread and keeps
 * rewriting a changing pattern over most of its RAM while pre-copy runs;
 * after the hand-over every page of the destination equals the source's
 * (which is stopped), the hart state came along, and the destination's
 * hart continues the count.  Safety: a destination that dies in the
 * middle, a corrupted byte in the stream, a wrong secret and a cancel all
 * leave the source running (its counter still moves) and, for the first
 * three, the destination refusing to run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/tsan.h"

#include <pthread.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "state/state.h"
#include "test_cpu_asm.h"
#include "vmm/migration.h"

#define B               TEST_RAM_BASE
#define ANDI(rd, rs, i) enc_i(i, rs, 7, rd, 0x13)
#define DATA            (B + 0x10000)
#define NPAGES          (TEST_RAM_SIZE / 4096)
#define WPAGES          3000 /* the pattern covers most of the 16 MiB */

/* --copy-storage: one fake disk per side.  On the source a thread plays
 * both the guest writing its disk and the mirror job sending it (as the
 * disk's worker does both): bulk first, then every chunk written. */
#define DCHUNK  65536
#define DCHUNKS 64

struct side {
    struct test_machine *m;
    pthread_t thread;
    bool running;
    unsigned throttled;
    uint8_t *disk;
    pthread_t dthread;
    bool dstarted;
    struct migration_sink *sink;
    atomic_bool dfrozen, dquit; /* the guest stopped / the copy ends */
    _Atomic uint64_t ddirty;    /* chunks written, not yet sent */
    atomic_uint dpending;       /* bulk chunks left plus chunks being sent */
};

static void *run_hart(void *arg)
{
    hart_run(((struct side *)arg)->m->h);
    return NULL;
}
static void side_run(struct side *s)
{
    pthread_create(&s->thread, NULL, run_hart, s);
    s->running = true;
}
static void side_halt(struct side *s)
{
    if (!s->running)
        return;
    hart_stop(s->m->h);
    pthread_join(s->thread, NULL);
    s->running = false;
}

static bool op_log_start(void *o)
{
    struct side *s = o;
    if (!bus_dirty_log_start(&s->m->bus))
        return false;
    atomic_fetch_add(&s->m->bus.dirty_gen, 1);
    hart_dirty_log_sync(s->m->h);
    return true;
}
static uint64_t op_log_take(void *o, uint64_t *bm)
{
    struct side *s = o;
    uint64_t n = bus_dirty_log_take(&s->m->bus, bm);
    atomic_fetch_add(&s->m->bus.dirty_gen, 1);
    hart_dirty_log_sync(s->m->h);
    return n;
}
static void op_log_stop(void *o)
{
    bus_dirty_log_stop(&((struct side *)o)->m->bus);
}
static bool op_stop(void *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct side *s = o;
    side_halt(o);
    /* As a stopped guest's disk is idle only once its copy caught up. */
    atomic_store(&s->dfrozen, true);
    while (s->dstarted && (atomic_load(&s->dpending) || atomic_load(&s->ddirty)))
        usleep(100);
    return true;
}
static void op_resume(void *o)
{
    atomic_store(&((struct side *)o)->dfrozen, false);
    side_run(o);
}
static bool op_save(void *o, struct state_writer *w)
{
    struct side *s = o;
    state_begin_section(w, "hart0", HART_STATE_VERSION);
    hart_save(s->m->h, w);
    state_end_section(w);
    return true;
}
static bool op_load(void *o, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct side *s = o;
    struct state_reader r;
    char name[32];
    uint32_t version;
    state_reader_init(&r, buf, len);
    if (!state_next_section(&r, name, sizeof(name), &version) || strcmp(name, "hart0") != 0 ||
        !hart_load(s->m->h, &r, version)) {
        snprintf(err, errlen, "bad hart section");
        return false;
    }
    return true;
}
static void op_throttle(void *o, unsigned percent)
{
    ((struct side *)o)->throttled =
        percent > ((struct side *)o)->throttled ? percent : ((struct side *)o)->throttled;
}

static void *disk_worker(void *arg)
{
    struct side *s = arg;
    unsigned seed = 7, gen = 0;
    for (unsigned c = 0; c < DCHUNKS; c++) {
        migration_disk_write(s->sink, 0, (uint64_t)c * DCHUNK, s->disk + (size_t)c * DCHUNK,
                             DCHUNK);
        atomic_fetch_sub(&s->dpending, 1);
    }
    while (!atomic_load(&s->dquit)) {
        if (!atomic_load(&s->dfrozen)) { /* the guest writes a 4 KiB block */
            unsigned c = rand_r(&seed) % DCHUNKS, off = (rand_r(&seed) % 16) * 4096;
            memset(s->disk + (size_t)c * DCHUNK + off, (int)(++gen & 0xff), 4096);
            atomic_fetch_or(&s->ddirty, 1ULL << c);
        }
        uint64_t bits = atomic_load(&s->ddirty);
        atomic_fetch_add(&s->dpending, (unsigned)__builtin_popcountll(bits));
        atomic_fetch_and(&s->ddirty, ~bits);
        for (; bits; bits &= bits - 1) {
            unsigned c = (unsigned)__builtin_ctzll(bits);
            migration_disk_write(s->sink, 0, (uint64_t)c * DCHUNK, s->disk + (size_t)c * DCHUNK,
                                 DCHUNK);
            atomic_fetch_sub(&s->dpending, 1);
        }
        usleep(200);
    }
    return NULL;
}

static unsigned op_disks(void *o, uint64_t *sizes)
{
    (void)o;
    sizes[0] = (uint64_t)DCHUNK * DCHUNKS;
    return 1;
}
static bool op_storage_start(void *o, struct migration_sink *sink, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct side *s = o;
    s->sink = sink;
    atomic_store(&s->dpending, DCHUNKS);
    s->dstarted = pthread_create(&s->dthread, NULL, disk_worker, s) == 0;
    return s->dstarted;
}
static int64_t op_storage_pending(void *o, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct side *s = o;
    return (int64_t)(atomic_load(&s->dpending) +
                     (unsigned)__builtin_popcountll(atomic_load(&s->ddirty))) *
           DCHUNK;
}
static void op_storage_stop(void *o)
{
    struct side *s = o;
    atomic_store(&s->dquit, true);
    if (s->dstarted)
        pthread_join(s->dthread, NULL);
    s->dstarted = false;
}
static bool op_disk_write(void *o, unsigned disk, uint64_t off, const void *buf, size_t len,
                          char *err, size_t errlen)
{
    struct side *s = o;
    if (disk != 0 || off > (uint64_t)DCHUNK * DCHUNKS || len > DCHUNK * DCHUNKS - off) {
        snprintf(err, errlen, "out of range");
        return false;
    }
    if (buf)
        memcpy(s->disk + off, buf, len);
    else
        memset(s->disk + off, 0, len);
    return true;
}

static struct migration_machine machine(struct side *s)
{
    return (struct migration_machine){
        .bus = &s->m->bus,
        .opaque = s,
        .log_start = op_log_start,
        .log_take = op_log_take,
        .log_stop = op_log_stop,
        .stop = op_stop,
        .resume = op_resume,
        .save = op_save,
        .load = op_load,
        .throttle = op_throttle,
        .disks = op_disks,
        .storage_start = op_storage_start,
        .storage_pending = op_storage_pending,
        .storage_stop = op_storage_stop,
        .disk_write = op_disk_write,
    };
}

/* x6 counts; it is written into word (x6 % 512) of page (x6 / 512 %
 * WPAGES): a pattern that changes everywhere all the time, 512 stores per
 * page visit, so that a store TLB entry kept across a take of the log
 * would let writes slip by unmarked. */
static struct side *new_source(bool jit)
{
    struct side *s = calloc(1, sizeof(*s));
    s->m = tm_new();
    struct hart *h = s->m->h;
    hart_set_jit(h, jit, 1);
    hart_set_x(h, 5, DATA);
    hart_set_x(h, 9, WPAGES);
    hart_set_x(h, 6, 1);
    TM_CODE(s->m, B, SRLI(7, 6, 9), REMU(7, 7, 9), SLLI(7, 7, 12), ADD(7, 7, 5), ANDI(28, 6, 511),
            SLLI(28, 28, 3), ADD(7, 7, 28), SD(6, 7, 0), ADDI(6, 6, 1), JAL(0, -36));
    /* Static data too, so that some pages never change. */
    for (unsigned i = 0; i < 64; i++)
        memset(tm_ptr(s->m, B + 0xe00000 + i * 4096ULL), i + 1, 4096);
    s->disk = calloc(DCHUNKS, DCHUNK);
    for (unsigned i = 0; i < DCHUNKS * DCHUNK / 4096; i += 3) /* some blocks stay zero */
        memset(s->disk + (size_t)i * 4096, (int)(i * 7 + 1), 4096);
    return s;
}

static struct side *new_dest(void)
{
    struct side *s = calloc(1, sizeof(*s));
    s->m = tm_new();
    s->disk = calloc(DCHUNKS, DCHUNK);
    return s;
}

static void free_side(struct side *s)
{
    side_halt(s);
    op_storage_stop(s);
    tm_free(s->m);
    free(s->disk);
    free(s);
}

struct recv_job {
    int fd;
    struct side *dst;
    struct migration_params p;
    int result;
    char err[256];
    size_t die_after; /* > 0: close the connection after this many bytes (a proxy does it) */
};

static void *receiver(void *arg)
{
    struct recv_job *j = arg;
    struct migration_machine m = machine(j->dst);
    j->result = migration_receive(j->fd, &m, &j->p, j->err, sizeof(j->err));
    close(j->fd);
    return NULL;
}

/* A byte pump between two sockets that can corrupt or cut the stream. */
struct proxy {
    int a, b;         /* source side, destination side */
    uint64_t cut_at;  /* close both after this many bytes (0: never) */
    uint64_t flip_at; /* flip a bit of this byte (0: never) */
};
static void *pump(void *arg)
{
    struct proxy *x = arg;
    uint8_t buf[65536];
    uint64_t total = 0;
    struct pollfd pfd[2] = {{.fd = x->a, .events = POLLIN}, {.fd = x->b, .events = POLLIN}};
    for (;;) {
        if (poll(pfd, 2, 30000) <= 0)
            break;
        if (pfd[1].revents) { /* destination -> source, untouched */
            ssize_t n = read(x->b, buf, sizeof(buf));
            if (n <= 0 || write(x->a, buf, (size_t)n) != n)
                break;
        }
        if (pfd[0].revents) {
            ssize_t n = read(x->a, buf, sizeof(buf));
            if (n <= 0)
                break;
            if (x->flip_at && total < x->flip_at && total + (uint64_t)n >= x->flip_at)
                buf[x->flip_at - total - 1] ^= 0x10;
            total += (uint64_t)n;
            if (x->cut_at && total >= x->cut_at)
                break;
            if (write(x->b, buf, (size_t)n) != n)
                break;
        }
    }
    shutdown(x->a, SHUT_RDWR);
    shutdown(x->b, SHUT_RDWR);
    return NULL;
}

struct run {
    int sent;
    char err[256];
    struct migration_progress prog;
    struct recv_job job;
};

/* Migrates src to dst; proxy settings from x (NULL: direct). */
static void migrate(struct side *src, struct side *dst, const struct migration_params *sp,
                    const struct migration_params *dp, struct proxy *x, atomic_bool *cancel,
                    struct run *out)
{
    int sv[2], dv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(out, 0, sizeof(*out));
    out->job.dst = dst;
    if (dp)
        out->job.p = *dp;
    pthread_t rt, pt = 0;
    if (x) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, dv), 0);
        x->a = sv[1];
        x->b = dv[0];
        out->job.fd = dv[1];
        pthread_create(&pt, NULL, pump, x);
    } else {
        out->job.fd = sv[1];
    }
    pthread_create(&rt, NULL, receiver, &out->job);
    struct migration_machine m = machine(src);
    out->sent = migration_send(sv[0], &m, sp, &out->prog, cancel, out->err, sizeof(out->err));
    close(sv[0]);
    pthread_join(rt, NULL);
    if (x) {
        pthread_join(pt, NULL);
        close(sv[1]);
        close(dv[0]);
    }
}

static void let_run(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* A register of a running hart, read racily as the test's witness only
 * (excluded from TSan like the engine's reads of guest RAM). */
static uint64_t peek_x(struct hart *h, unsigned reg)
{
    GUEST_RAM_READS_BEGIN();
    uint64_t v = hart_get_x(h, reg);
    GUEST_RAM_READS_END();
    return v;
}

static void assert_source_alive(struct side *src)
{
    assert_true(src->running);
    uint64_t a = peek_x(src->m->h, 6);
    for (int i = 0; i < 100 && peek_x(src->m->h, 6) == a; i++)
        let_run();
    assert_true(peek_x(src->m->h, 6) != a);
}

enum zmode { Z_NEVER, Z_ALWAYS, Z_AUTO };

/* stale: the destination's RAM holds old data where the source's pages
 * were never touched (they go as ZEROS runs, unread) or are zero. */
static void full_migration(bool jit, enum zmode z, bool stale)
{
    struct side *src = new_source(jit), *dst = new_dest();
    if (stale)
        for (uint64_t pg = 0; pg < NPAGES; pg += 7)
            memset(tm_ptr(dst->m, B + pg * 4096), 0xab, 4096);
    side_run(src);
    let_run();
    struct migration_params p = {.secret = "s3cret",
                                 .secret_len = 6,
                                 .no_compress = z == Z_NEVER,
                                 .always_compress = z == Z_ALWAYS,
                                 .max_downtime_ns = 2000000};
    struct run r;
    migrate(src, dst, &p, &p, NULL, NULL, &r);
    if (r.sent || r.job.result)
        fail_msg("source: %d %s / destination: %d %s", r.sent, r.err, r.job.result, r.job.err);
    assert_false(src->running);
    /* Every page: the destination holds what the stopped source holds. */
    for (uint64_t pg = 0; pg < NPAGES; pg++)
        if (memcmp(tm_ptr(src->m, B + pg * 4096), tm_ptr(dst->m, B + pg * 4096), 4096) != 0)
            fail_msg("page %llu differs after migration", (unsigned long long)pg);
    assert_int_equal(hart_get_pc(src->m->h), hart_get_pc(dst->m->h));
    for (unsigned i = 1; i < 32; i++)
        assert_int_equal(hart_get_x(src->m->h, i), hart_get_x(dst->m->h, i));
    uint64_t count = hart_get_x(src->m->h, 6);
    assert_true(count > 1000);
    assert_true(atomic_load(&r.prog.round) >= 1);
    assert_true(atomic_load(&r.prog.zero_pages) > 0);
    /* The destination continues the guest where the source stopped. */
    side_run(dst);
    let_run();
    side_halt(dst);
    assert_true(hart_get_x(dst->m->h, 6) > count);
    fprintf(
        stderr,
        "migration: %u rounds, %llu pages (%llu zero), %llu bytes, downtime %.2f ms, total %.1f "
        "ms\n",
        atomic_load(&r.prog.round), (unsigned long long)atomic_load(&r.prog.pages_sent),
        (unsigned long long)atomic_load(&r.prog.zero_pages),
        (unsigned long long)atomic_load(&r.prog.bytes_sent),
        (double)atomic_load(&r.prog.downtime_ns) / 1e6,
        (double)atomic_load(&r.prog.total_ns) / 1e6);
    free_side(src);
    free_side(dst);
}

static void test_migrate_interpreted(void **state)
{
    (void)state;
    full_migration(false, Z_NEVER, false);
}
static void test_migrate_compiled_zstd(void **state)
{
    (void)state;
    full_migration(true, Z_ALWAYS, false);
}

/* --copy-storage: the disk written during the migration arrives whole,
 * RAM as before. */
static void test_migrate_auto_stale_destination(void **state)
{
    (void)state;
    full_migration(true, Z_AUTO, true);
}

/* A peer of another protocol version is refused at the handshake, with
 * both versions named. */
static void *old_peer(void *arg)
{
    int fd = *(int *)arg;
    uint8_t hello[40] = "WIRTMIG\x01", buf[40];
    if (write(fd, hello, sizeof(hello)) == (ssize_t)sizeof(hello))
        while (read(fd, buf, sizeof(buf)) > 0) {
        }
    return NULL;
}

static void test_version_mismatch(void **state)
{
    (void)state;
    struct side *src = new_source(false);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pthread_t t;
    pthread_create(&t, NULL, old_peer, &sv[1]);
    side_run(src);
    struct migration_machine m = machine(src);
    char err[256];
    assert_true(migration_send(sv[0], &m, NULL, NULL, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "version 1"));
    assert_non_null(strstr(err, "version 2"));
    close(sv[0]);
    pthread_join(t, NULL);
    close(sv[1]);
    assert_source_alive(src);
    free_side(src);
}

static void test_migrate_with_storage(void **state)
{
    (void)state;
    struct side *src = new_source(false), *dst = new_dest();
    side_run(src);
    let_run();
    struct migration_params p = {.secret = "s", .secret_len = 1, .copy_storage = true};
    struct run r;
    migrate(src, dst, &p, &p, NULL, NULL, &r);
    if (r.sent || r.job.result)
        fail_msg("source: %d %s / destination: %d %s", r.sent, r.err, r.job.result, r.job.err);
    assert_true(atomic_load(&r.prog.disk_bytes) >= (uint64_t)DCHUNKS * DCHUNK);
    for (unsigned c = 0; c < DCHUNKS; c++)
        if (memcmp(src->disk + (size_t)c * DCHUNK, dst->disk + (size_t)c * DCHUNK, DCHUNK))
            fail_msg("disk chunk %u differs after migration", c);
    for (uint64_t pg = 0; pg < NPAGES; pg++)
        if (memcmp(tm_ptr(src->m, B + pg * 4096), tm_ptr(dst->m, B + pg * 4096), 4096) != 0)
            fail_msg("page %llu differs after migration", (unsigned long long)pg);
    free_side(src);
    free_side(dst);
}

/* Whatever goes wrong before the hand-over, the source runs on. */
static void failed_migration(struct proxy *x, const char *dst_secret, atomic_bool *cancel,
                             const char *want_src, const char *want_dst)
{
    struct side *src = new_source(true), *dst = new_dest();
    side_run(src);
    let_run();
    struct migration_params sp = {.secret = "right", .secret_len = 5, .io_timeout_ms = 5000};
    struct migration_params dp = sp;
    dp.secret = dst_secret;
    dp.secret_len = strlen(dst_secret);
    struct run r;
    migrate(src, dst, &sp, &dp, x, cancel, &r);
    assert_true(r.sent < 0);
    assert_true(r.job.result < 0);
    if (want_src && !strstr(r.err, want_src))
        fail_msg("source said: %s", r.err);
    if (want_dst && !strstr(r.job.err, want_dst))
        fail_msg("destination said: %s", r.job.err);
    assert_source_alive(src);
    free_side(src);
    free_side(dst);
}

static void test_destination_dies(void **state)
{
    (void)state;
    /* Cut after the handshake, in the first round; then in the last bytes. */
    struct proxy x = {.cut_at = 20000}; /* compressed, the whole stream may be small */
    failed_migration(&x, "right", NULL, NULL, NULL);
}

static void test_corrupted_stream(void **state)
{
    (void)state;
    struct proxy x = {.flip_at = 200000};
    failed_migration(&x, "right", NULL, NULL, NULL);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    failed_migration(NULL, "wrong", NULL, NULL, "secret");
}

static void test_cancel(void **state)
{
    (void)state;
    atomic_bool cancel = true;
    failed_migration(NULL, "right", &cancel, "cancelled", NULL);
}

static void test_ram_size_mismatch(void **state)
{
    (void)state;
    struct side *src = new_source(false), *dst = calloc(1, sizeof(*dst));
    dst->m = calloc(1, sizeof(*dst->m));
    assert_true(bus_init(&dst->m->bus, TEST_RAM_BASE, TEST_RAM_SIZE / 2));
    vclock_init(&dst->m->clock);
    dst->m->h = hart_new(0, &dst->m->bus, &dst->m->clock);
    side_run(src);
    struct run r;
    migrate(src, dst, NULL, NULL, NULL, NULL, &r);
    assert_true(r.sent < 0 && r.job.result < 0);
    assert_non_null(strstr(r.job.err, "MiB of RAM"));
    assert_non_null(strstr(r.err, "MiB of RAM")); /* the destination's reason reaches the source */
    assert_source_alive(src);
    free_side(src);
    free_side(dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_interpreted),
        cmocka_unit_test(test_migrate_compiled_zstd),
        cmocka_unit_test(test_destination_dies),
        cmocka_unit_test(test_corrupted_stream),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_ram_size_mismatch),
        cmocka_unit_test(test_migrate_with_storage),
        cmocka_unit_test(test_migrate_auto_stale_destination),
        cmocka_unit_test(test_version_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
