/* SPDX-License-Identifier: MIT */
/* Live migration of the VMM's board (see vmm_migration.h). */
#include "vmm/vmm_migration.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "machine/board.h"
#include "state/state.h"
#include "util/log.h"
#include "vmm/machine_state.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

bool vmm_migration_parse_uri(const char *uri, char *host, size_t hostlen, char *port,
                             size_t portlen, char *err, size_t errlen)
{
    const char *colon = uri && !strncmp(uri, "tcp:", 4) ? strrchr(uri + 4, ':') : NULL;
    if (!colon || colon == uri + 4 || !colon[1] || (size_t)(colon - uri - 4) >= hostlen ||
        strlen(colon + 1) >= portlen) {
        snprintf(err, errlen, "'%s' is not tcp:HOST:PORT", uri ? uri : "");
        return false;
    }
    const char *h = uri + 4;
    size_t n = (size_t)(colon - h);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') { /* [::1] */
        h++;
        n -= 2;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return true;
}

const char *vmm_migration_secret(void)
{
    const char *s = getenv("WIRT_MIGRATION_SECRET");
    return s && *s ? s : NULL;
}

/* ---- the board as the engine sees it ---- */

struct vmm_side {
    struct board *b;
    bool locked;     /* this thread holds the I/O lock since stop */
    bool was_paused; /* paused before the migration: a failure leaves it so */
    /* --copy-storage: the writable disks, and (source) their sinks. */
    unsigned ndisks;
    struct virtio_dev *disks[MIGRATION_MAX_DISKS];
    struct block_dev *sinks[MIGRATION_MAX_DISKS];
    bool wrote_disks; /* destination: disk records arrived */
};

static bool log_start(void *o)
{
    return board_dirty_log_start(((struct vmm_side *)o)->b);
}
static uint64_t log_take(void *o, uint64_t *bm)
{
    return board_dirty_log_take(((struct vmm_side *)o)->b, bm);
}
static void log_stop(void *o)
{
    board_dirty_log_stop(((struct vmm_side *)o)->b);
}

static void throttle(void *o, unsigned percent)
{
    atomic_store(&((struct vmm_side *)o)->b->bus.throttle_pct, percent);
}

static bool stop(void *o, char *err, size_t errlen)
{
    struct vmm_side *s = o;
    if (!machine_stop(s->b, &s->was_paused, err, errlen))
        return false;
    s->locked = true;
    return true;
}

/* Destination: the source stopped and flushed for good; read the shared
 * disks afresh (their metadata changed since we opened them). */
static bool handover(void *o, char *err, size_t errlen)
{
    return machine_reopen_disks(((struct vmm_side *)o)->b, err, errlen);
}

static void resume(void *o)
{
    struct vmm_side *s = o;
    machine_resume(s->b, s->locked, s->was_paused);
    s->locked = false;
}

/* ---- --copy-storage ---- */

/* The disks a copy covers: every writable one (read-only images, such as
 * an installer's, are expected where the machine options name them). */
static unsigned find_disks(struct vmm_side *s, uint64_t *sizes)
{
    s->ndisks = 0;
    for (unsigned i = 0; i < s->b->ndevices && s->ndisks < MIGRATION_MAX_DISKS; i++) {
        struct virtio_dev *v = machine_disk(s->b, i);
        struct block_dev *bd = v ? virtio_blk_image(v) : NULL;
        if (!bd || bd->read_only)
            continue;
        sizes[s->ndisks] = block_size(bd);
        s->disks[s->ndisks++] = v;
    }
    return s->ndisks;
}

static unsigned disks(void *o, uint64_t *sizes)
{
    return find_disks(o, sizes);
}

/* A block_dev that sends what the disk's mirror job writes to it. */
struct sink {
    struct migration_sink *k;
    unsigned disk;
};

static int sink_write(struct block_dev *bd, uint64_t off, const void *buf, size_t len)
{
    struct sink *sk = bd->priv;
    return migration_disk_write(sk->k, sk->disk, off, buf, len);
}

static const struct block_driver_ops sink_ops = {.format = "migration", .write = sink_write};

static void free_sinks(struct vmm_side *s)
{
    for (unsigned i = 0; i < s->ndisks; i++) {
        if (s->sinks[i]) {
            free(s->sinks[i]->priv);
            free(s->sinks[i]);
            s->sinks[i] = NULL;
        }
    }
}

static void storage_stop(void *o)
{
    struct vmm_side *s = o;
    for (unsigned i = 0; i < s->ndisks; i++)
        if (s->sinks[i])
            virtio_blk_sync_stop(s->disks[i]);
    free_sinks(s);
}

static bool storage_start(void *o, struct migration_sink *k, char *err, size_t errlen)
{
    struct vmm_side *s = o;
    uint64_t sizes[MIGRATION_MAX_DISKS];
    find_disks(s, sizes);
    for (unsigned i = 0; i < s->ndisks; i++) {
        struct block_dev *bd = calloc(1, sizeof(*bd));
        struct sink *sk = calloc(1, sizeof(*sk));
        if (!bd || !sk) {
            free(bd);
            free(sk);
            snprintf(err, errlen, "out of memory");
            storage_stop(s);
            return false;
        }
        *sk = (struct sink){.k = k, .disk = i};
        *bd = (struct block_dev){.ops = &sink_ops, .priv = sk, .fd = -1, .size = sizes[i]};
        s->sinks[i] = bd;
        char why[256];
        if (!virtio_blk_sync_start(s->disks[i], bd, why, sizeof(why))) {
            snprintf(err, errlen, "disk %s: %s", virtio_blk_image(s->disks[i])->path, why);
            free(sk);
            free(bd);
            s->sinks[i] = NULL;
            storage_stop(s);
            return false;
        }
    }
    return true;
}

static int64_t storage_pending(void *o, char *err, size_t errlen)
{
    struct vmm_side *s = o;
    int64_t sum = 0;
    for (unsigned i = 0; i < s->ndisks; i++) {
        int64_t r = virtio_blk_sync_remaining(s->disks[i], err, errlen);
        if (r < 0)
            return r;
        sum += r;
    }
    return sum;
}

/* Destination: the guest does not run yet, so this thread is the disks'
 * only user. */
static bool disk_write(void *o, unsigned disk, uint64_t off, const void *buf, size_t len, char *err,
                       size_t errlen)
{
    struct vmm_side *s = o;
    if (disk >= s->ndisks) {
        snprintf(err, errlen, "no such disk");
        return false;
    }
    struct block_dev *bd = virtio_blk_image(s->disks[disk]);
    int r = buf ? block_write(bd, off, buf, len) : block_write_zeroes(bd, off, len);
    if (r < 0) {
        snprintf(err, errlen, "%s at %llu: %s", bd->path, (unsigned long long)off, strerror(-r));
        return false;
    }
    s->wrote_disks = true;
    return true;
}

static bool save(void *o, struct state_writer *w)
{
    return machine_save(((struct vmm_side *)o)->b, w);
}

static bool load(void *o, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct vmm_side *s = o;
    /* The copied disks are on stable storage before we say LOADED. */
    for (unsigned i = 0; s->wrote_disks && i < s->ndisks; i++) {
        int r = virtio_blk_flush(s->disks[i]);
        if (r < 0) {
            snprintf(err, errlen, "%s: flush: %s", virtio_blk_image(s->disks[i])->path,
                     strerror(-r));
            return false;
        }
    }
    return machine_load(((struct vmm_side *)o)->b, buf, len, false, err, errlen);
}

static struct migration_machine machine_of(struct vmm_side *s)
{
    return (struct migration_machine){
        .bus = &s->b->bus,
        .opaque = s,
        .log_start = log_start,
        .log_take = log_take,
        .log_stop = log_stop,
        .stop = stop,
        .resume = resume,
        .save = save,
        .load = load,
        .handover = handover,
        .throttle = throttle,
        .disks = disks,
        .storage_start = storage_start,
        .storage_pending = storage_pending,
        .storage_stop = storage_stop,
        .disk_write = disk_write,
    };
}

/* ---- destination ---- */

/* Reads exactly n bytes (buf NULL: discards them) within a minute. */
static bool read_full(int fd, void *buf, size_t n)
{
    uint8_t sink[4096];
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 60000) <= 0)
            return false;
        size_t want = buf ? n : (n < sizeof(sink) ? n : sizeof(sink));
        ssize_t k = read(fd, buf ? buf : sink, want);
        if (k <= 0)
            return false;
        n -= (size_t)k;
        if (buf)
            buf = (uint8_t *)buf + k;
    }
    return true;
}

/* A store's preamble is for `wirt vm receive`, which already read it if
 * it was the one listening: skip it here. */
static bool skip_preamble(int fd)
{
    uint8_t h[VMM_PREAMBLE_HEAD];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t k = 0;
    for (int i = 0; i < 600 && k < VMM_PREAMBLE_MAGIC_LEN; i++) { /* a minute */
        if (poll(&pfd, 1, 100) < 0)
            return false;
        k = recv(fd, h, VMM_PREAMBLE_MAGIC_LEN, MSG_PEEK | MSG_DONTWAIT);
        if (k == 0)
            return false;
    }
    if (k < VMM_PREAMBLE_MAGIC_LEN || memcmp(h, VMM_PREAMBLE_MAGIC, VMM_PREAMBLE_MAGIC_LEN))
        return true; /* the engine's handshake: no preamble */
    if (!read_full(fd, h, sizeof(h)))
        return false;
    uint64_t json = (uint64_t)h[8] | (uint64_t)h[9] << 8 | (uint64_t)h[10] << 16 |
                    (uint64_t)h[11] << 24,
             files = 0;
    for (int i = 7; i >= 0; i--)
        files = files << 8 | h[12 + i];
    return read_full(fd, NULL, json + files + 32);
}

static int receive_on(struct board *b, int fd, const char *uri, char *err, size_t errlen)
{
    if (!skip_preamble(fd)) {
        snprintf(err, errlen, "--incoming %s: the stream's preamble is cut short", uri);
        close(fd);
        return -EPROTO;
    }
    struct vmm_side side = {.b = b};
    struct migration_machine m = machine_of(&side);
    const char *secret = vmm_migration_secret();
    struct migration_params p = {.secret = secret, .secret_len = secret ? strlen(secret) : 0};
    char why[256];
    int r = migration_receive(fd, &m, &p, why, sizeof(why));
    close(fd);
    if (r)
        snprintf(err, errlen, "--incoming %s: %s", uri, why);
    return r;
}

int vmm_incoming(struct board *b, const char *uri, char *err, size_t errlen)
{
    char host[256], port[32];
    if (uri && !strncmp(uri, "fd:", 3)) {
        char *end;
        long fd = strtol(uri + 3, &end, 10);
        if (*end || end == uri + 3 || fd < 3 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
            snprintf(err, errlen, "--incoming %s: not an open file descriptor", uri);
            return -EINVAL;
        }
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        return receive_on(b, (int)fd, uri, err, errlen);
    }
    if (!vmm_migration_parse_uri(uri, host, sizeof(host), port, sizeof(port), err, errlen))
        return -EINVAL;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai;
    int e = getaddrinfo(host, port, &hints, &ai);
    if (e) {
        snprintf(err, errlen, "--incoming %s: %s", uri, gai_strerror(e));
        return -EINVAL;
    }
    int ls = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (ls >= 0)
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) < 0 || listen(ls, 1) < 0) {
        snprintf(err, errlen, "--incoming %s: %s", uri, strerror(errno));
        freeaddrinfo(ai);
        if (ls >= 0)
            close(ls);
        return -errno;
    }
    freeaddrinfo(ai);
    log_info("waiting for a migration on %s", uri);
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    close(ls);
    if (fd < 0) {
        snprintf(err, errlen, "--incoming %s: accept: %s", uri, strerror(errno));
        return -errno;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return receive_on(b, fd, uri, err, errlen);
}

/* ---- source ---- */

struct vmm_migration {
    struct vmm_side side;
    struct migration_params p;
    char secret[256];
    char host[256], port[32];
    char *preamble; /* a file to send first, or NULL */
    pthread_t thread;
    atomic_bool cancel;
    struct migration_progress prog;
    _Atomic int result; /* 1 while running */
    char err[512];
};

static bool send_file(int fd, const char *path, char *err, size_t errlen)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    static uint8_t buf[1 << 16];
    ssize_t k;
    bool ok = true;
    while (ok && (k = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; ok && off < k;) {
            ssize_t w = send(fd, buf + off, (size_t)(k - off), MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(err, errlen, "sending the preamble: %s", strerror(errno));
                ok = false;
            }
            off += w;
        }
    }
    close(in);
    return ok;
}

static void *source_thread(void *arg)
{
    struct vmm_migration *mg = arg;
    char err[512] = "";
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int fd = -1, r, e = getaddrinfo(mg->host, mg->port, &hints, &ai);
    if (e) {
        snprintf(err, sizeof(err), "%s:%s: %s", mg->host, mg->port, gai_strerror(e));
        r = -EINVAL;
    } else if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
               connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        snprintf(err, sizeof(err), "cannot connect to %s:%s: %s", mg->host, mg->port,
                 strerror(errno));
        r = -ECONNREFUSED;
    } else if (mg->preamble && !send_file(fd, mg->preamble, err, sizeof(err))) {
        r = -EIO;
    } else {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct migration_machine m = machine_of(&mg->side);
        r = migration_send(fd, &m, &mg->p, &mg->prog, &mg->cancel, err, sizeof(err));
        /* Handed over (or uncertain): the guest stays stopped here, but
         * the lock goes back, as the job's owner powers off with it. */
        if (mg->side.locked) {
            pthread_mutex_unlock(&mg->side.b->bus.io_lock);
            mg->side.locked = false;
        }
    }
    if (ai)
        freeaddrinfo(ai);
    if (fd >= 0)
        close(fd);
    snprintf(mg->err, sizeof(mg->err), "%s", err);
    atomic_store(&mg->result, r);
    return NULL;
}

struct vmm_migration *vmm_migration_start(struct board *b, const char *uri,
                                          const struct migration_params *p, const char *preamble,
                                          char *err, size_t errlen)
{
    struct vmm_migration *mg = calloc(1, sizeof(*mg));
    if (!mg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!vmm_migration_parse_uri(uri, mg->host, sizeof(mg->host), mg->port, sizeof(mg->port), err,
                                 errlen)) {
        free(mg);
        return NULL;
    }
    mg->side.b = b;
    mg->p = *p;
    if (preamble && !(mg->preamble = strdup(preamble))) {
        snprintf(err, errlen, "out of memory");
        free(mg);
        return NULL;
    }
    if (p->secret) {
        snprintf(mg->secret, sizeof(mg->secret), "%.*s", (int)p->secret_len,
                 (const char *)p->secret);
        mg->p.secret = mg->secret;
        mg->p.secret_len = strlen(mg->secret);
    }
    atomic_store(&mg->result, 1);
    if (pthread_create(&mg->thread, NULL, source_thread, mg) != 0) {
        snprintf(err, errlen, "cannot start the migration thread");
        free(mg->preamble);
        free(mg);
        return NULL;
    }
    return mg;
}

int vmm_migration_poll(struct vmm_migration *mg, struct migration_progress *out, char *err,
                       size_t errlen)
{
    int r = atomic_load(&mg->result);
    if (out)
        *out = mg->prog;
    if (r != 1 && r != 0)
        snprintf(err, errlen, "%s", mg->err);
    return r;
}

void vmm_migration_cancel(struct vmm_migration *mg)
{
    atomic_store(&mg->cancel, true);
}

void vmm_migration_free(struct vmm_migration *mg)
{
    if (!mg)
        return;
    pthread_join(mg->thread, NULL);
    free(mg->preamble);
    free(mg);
}
