/* SPDX-License-Identifier: MIT */
/* The live-migration engine (see migration.h). */
#include "vmm/migration.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zstd.h>

#include "host/vclock.h"
#include "mem/bus.h"
#include "util/pagemap.h"
#include "util/tsan.h"
#include "state/state.h"

#define PAGE 4096u
/* The last byte is the protocol version: 2 has the Poly1305 transcript
 * and ZEROS records; a peer of another version is refused at the
 * handshake, before any RAM moves. */
#define MAGIC         "WIRTMIG\x02"
#define MAGIC_LEN     8
#define VERSION       2
#define TAG_LEN       16 /* the transcript's Poly1305 tag */
#define NONCE_LEN     32
#define MAC_LEN       32
#define BATCH         256 /* pages per PAGES record */
#define MAX_STATE     (64u << 20)
#define DEFAULT_DOWN  (100ULL * 1000 * 1000)
#define DEFAULT_ROUND 64
#define MAX_THROTTLE  99 /* percent of the time the harts sleep, at most */
#define WBUF          (2u << 20)
#define RBUF          (1u << 20)

/* SYNC ends a pre-copy round: the destination answers MSG_SYNCED once it
 * has taken in everything before it, so the source measures what really
 * gets through and never stops the guest with a backlog still in flight. */
/* DISKS (--copy-storage) gives the sizes of the disks that follow in DISK
 * records: disk index, offset, length, zero or data. */
/* ZEROS (version 2): a run of pages that are zero, for the pages the
 * first round knows are untouched without reading them. */
enum { REC_HELLO = 1, REC_PAGES, REC_STATE, REC_END, REC_SYNC, REC_DISKS, REC_DISK, REC_ZEROS };
#define MAX_DISK_CHUNK (1u << 20)
enum { KIND_ZERO = 0, KIND_DATA = 1 };
enum { ENC_RAW = 0, ENC_ZSTD = 1 };
/* Commit messages, each followed by a MAC of its own. */
enum { MSG_LOADED = 'L', MSG_GO = 'G', MSG_STARTED = 'S', MSG_ERROR = 'E', MSG_SYNCED = 'Y' };

/* ---- the connection: buffered, timed, with a running transcript MAC ---- */

struct conn {
    int fd;
    int timeout_ms;
    uint8_t key[MAC_LEN];  /* this session's key (commit messages) */
    uint8_t tkey[MAC_LEN]; /* the transcript's one-time key */
    EVP_MAC_CTX *tx;       /* transcript of every record byte */
    uint8_t *wbuf;
    size_t wlen;
    uint8_t *rbuf; /* destination: records are read RBUF at a time */
    size_t rpos, rlen;
    uint64_t sent;
    char *err;
    size_t errlen;
};

static int fail(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct conn *c, int code, const char *fmt, ...)
{
    if (c->err[0])
        return code; /* the first reason is the one worth telling */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int wait_fd(struct conn *c, short events)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    int r;
    do
        r = poll(&pfd, 1, c->timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return fail(c, -ETIMEDOUT, "the peer went silent for %d s", c->timeout_ms / 1000);
    return r < 0 ? fail(c, -errno, "poll: %s", strerror(errno)) : 0;
}

static int recv_msg(struct conn *c, uint8_t type);

/* The peer only talks during the transfer to say why it gives up: read
 * that (if it is there) so the error says more than "connection lost". */
static int peer_error(struct conn *c, int code, const char *what)
{
    uint8_t t;
    if (c->rpos < c->rlen ? c->rbuf[c->rpos] == 'E'
                          : recv(c->fd, &t, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && t == 'E') {
        int saved = c->timeout_ms;
        c->timeout_ms = 1000;
        int r = recv_msg(c, 'E');
        c->timeout_ms = saved;
        return r;
    }
    return fail(c, code, "the connection dropped%s%s", what ? ": " : "", what ? what : "");
}

static int raw_send(struct conn *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c, POLLOUT);
            if (r)
                return r;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return peer_error(c, -EPIPE, k < 0 ? strerror(errno) : NULL);
        b += k;
        n -= (size_t)k;
        c->sent += (uint64_t)k;
    }
    return 0;
}

static int raw_recv(struct conn *c, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        if (c->rpos < c->rlen) {
            size_t k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
            memcpy(b, c->rbuf + c->rpos, k);
            c->rpos += k;
            b += k;
            n -= k;
            continue;
        }
        /* Small reads fill the buffer (one syscall for many records);
         * big ones go straight to their place. */
        bool fill = c->rbuf && n < RBUF / 2;
        ssize_t k = recv(c->fd, fill ? c->rbuf : b, fill ? RBUF : n, MSG_DONTWAIT);
        if (fill && k > 0) {
            c->rpos = 0;
            c->rlen = (size_t)k;
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c, POLLIN);
            if (r)
                return r;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return fail(c, -EPIPE, "the peer closed the connection");
        if (k < 0)
            return fail(c, -errno, "the connection dropped: %s", strerror(errno));
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int flush(struct conn *c)
{
    uint8_t t;
    if (recv(c->fd, &t, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && t != MSG_SYNCED)
        return peer_error(c, -EPROTO, "the peer spoke out of turn");
    int r = raw_send(c, c->wbuf, c->wlen);
    c->wlen = 0;
    return r;
}

/* Appends record bytes (covered by the transcript MAC). */
static int put(struct conn *c, const void *p, size_t n)
{
    EVP_MAC_update(c->tx, p, n);
    if (c->wlen + n > WBUF) {
        int r = flush(c);
        if (r)
            return r;
        if (n > WBUF)
            return raw_send(c, p, n);
    }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
    return 0;
}

static int get(struct conn *c, void *p, size_t n)
{
    int r = raw_recv(c, p, n);
    if (!r)
        EVP_MAC_update(c->tx, p, n);
    return r;
}

static int put_u8(struct conn *c, uint8_t v)
{
    return put(c, &v, 1);
}
static int put_u32(struct conn *c, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put(c, b, 4);
}
static int put_u64(struct conn *c, uint64_t v)
{
    int r = put_u32(c, (uint32_t)v);
    return r ? r : put_u32(c, (uint32_t)(v >> 32));
}
static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t le64(const uint8_t *b)
{
    return le32(b) | (uint64_t)le32(b + 4) << 32;
}

static void mac(const void *key, size_t klen, const char *label, const uint8_t *a, const uint8_t *b,
                uint8_t out[MAC_LEN])
{
    uint8_t msg[1 + 32 + 2 * NONCE_LEN];
    size_t l = strlen(label);
    memcpy(msg, label, l);
    memcpy(msg + l, a, NONCE_LEN);
    memcpy(msg + l + NONCE_LEN, b, NONCE_LEN);
    unsigned outlen = MAC_LEN;
    static const uint8_t none = 0;
    HMAC(EVP_sha256(), key ? key : &none, (int)klen, msg, l + 2 * NONCE_LEN, out, &outlen);
}

static bool conn_init(struct conn *c, int fd, const struct migration_params *p, char *err,
                      size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->timeout_ms = p && p->io_timeout_ms ? p->io_timeout_ms : 30000;
    c->err = err;
    c->errlen = errlen;
    err[0] = '\0';
    c->wbuf = malloc(WBUF);
    return c->wbuf != NULL;
}

/* The transcript MAC is Poly1305 (several times faster than HMAC-SHA256,
 * which cost as much CPU as the rest of a transfer): a one-time
 * authenticator, so its key is derived per session (fresh nonces on both
 * sides) and used for this one message, the whole stream. */
static bool start_transcript(struct conn *c)
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    if (!m)
        return false;
    c->tx = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    return c->tx && EVP_MAC_init(c->tx, c->tkey, MAC_LEN, NULL);
}

static void transcript_mac(struct conn *c, uint8_t out[TAG_LEN])
{
    size_t n = TAG_LEN;
    if (!EVP_MAC_final(c->tx, out, &n, TAG_LEN))
        memset(out, 0, TAG_LEN);
}

static void conn_free(struct conn *c)
{
    EVP_MAC_CTX_free(c->tx);
    free(c->wbuf);
    free(c->rbuf);
    OPENSSL_cleanse(c->key, sizeof(c->key));
    OPENSSL_cleanse(c->tkey, sizeof(c->tkey));
}

/* A commit message: type and a MAC binding it to this session. */
static int send_msg(struct conn *c, uint8_t type)
{
    uint8_t b[1 + MAC_LEN] = {type};
    char label[2] = {(char)type, 0};
    uint8_t zero[NONCE_LEN] = {0};
    mac(c->key, MAC_LEN, label, zero, zero, b + 1);
    return raw_send(c, b, sizeof(b));
}

static int send_error(struct conn *c, const char *why)
{
    uint8_t b[3 + 200];
    size_t n = strnlen(why, 200);
    b[0] = MSG_ERROR;
    b[1] = (uint8_t)n;
    b[2] = (uint8_t)(n >> 8);
    memcpy(b + 3, why, n);
    int saved = c->timeout_ms;
    c->timeout_ms = 2000; /* best effort: the peer may be gone */
    int r = raw_send(c, b, 3 + n);
    c->timeout_ms = saved;
    return r;
}

/* Waits for commit message `type`; an ERROR message becomes the reason. */
static int recv_msg(struct conn *c, uint8_t type)
{
    uint8_t t;
    int r = raw_recv(c, &t, 1);
    if (r)
        return r;
    if (t == MSG_ERROR) {
        uint8_t len[2];
        char why[201] = "";
        if (raw_recv(c, len, 2) == 0) {
            size_t n = (size_t)(len[0] | len[1] << 8);
            if (n > 200)
                n = 200;
            if (raw_recv(c, why, n) == 0)
                why[n] = '\0';
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)why[i] < 32)
                    why[i] = '?'; /* the peer's text: keep it one printable line */
        }
        return fail(c, -ECONNABORTED, "the peer failed: %s", why);
    }
    if (t == MSG_SYNCED && type == MSG_SYNCED)
        return 0; /* flow control only: nothing to authenticate */
    uint8_t got[MAC_LEN], want[MAC_LEN], zero[NONCE_LEN] = {0};
    char label[2] = {(char)type, 0};
    if (t != type || (r = raw_recv(c, got, MAC_LEN)) != 0)
        return r ? r : fail(c, -EPROTO, "unexpected message %d from the peer", t);
    mac(c->key, MAC_LEN, label, zero, zero, want);
    if (CRYPTO_memcmp(got, want, MAC_LEN) != 0)
        return fail(c, -EBADMSG, "a forged or corrupted message from the peer");
    return 0;
}

/* The handshake: each side proves it knows the secret before anything
 * else is sent; the session key binds both fresh nonces. */
static int handshake(struct conn *c, bool source, const struct migration_params *p)
{
    const void *secret = p ? p->secret : NULL;
    size_t slen = p && p->secret ? p->secret_len : 0;
    uint8_t mine[MAGIC_LEN + NONCE_LEN], theirs[MAGIC_LEN + NONCE_LEN];
    memcpy(mine, MAGIC, MAGIC_LEN);
    if (getrandom(mine + MAGIC_LEN, NONCE_LEN, 0) != NONCE_LEN)
        return fail(c, -EIO, "no randomness for the handshake");
    int r;
    if ((r = raw_send(c, mine, sizeof(mine))) || (r = raw_recv(c, theirs, sizeof(theirs))))
        return r;
    if (memcmp(theirs, MAGIC, MAGIC_LEN - 1) != 0)
        return fail(c, -EPROTO, "the peer does not speak wirt's migration protocol");
    if (theirs[MAGIC_LEN - 1] != VERSION)
        return fail(c, -EPROTO,
                    "the peer speaks migration protocol version %u, this side version %u: "
                    "run the same wirt on both",
                    theirs[MAGIC_LEN - 1], VERSION);
    const uint8_t *src_nonce = source ? mine + MAGIC_LEN : theirs + MAGIC_LEN;
    const uint8_t *dst_nonce = source ? theirs + MAGIC_LEN : mine + MAGIC_LEN;
    uint8_t proof[MAC_LEN], got[MAC_LEN];
    /* The source proves itself first; the destination answers only then,
     * and the source sends no RAM before checking that answer. */
    mac(secret, slen, source ? "S" : "D", src_nonce, dst_nonce, proof);
    mac(secret, slen, source ? "D" : "S", src_nonce, dst_nonce, got); /* expected */
    uint8_t peer[MAC_LEN];
    if (source) {
        if ((r = raw_send(c, proof, MAC_LEN)) || (r = raw_recv(c, peer, MAC_LEN))) {
            if (r != -EPIPE)
                return r;
            c->err[0] = '\0'; /* a destination hangs up on a source it does not trust */
            return fail(c, -EACCES, "the destination hung up: it has another migration secret");
        }
    } else {
        if ((r = raw_recv(c, peer, MAC_LEN)))
            return r;
        if (CRYPTO_memcmp(peer, got, MAC_LEN) != 0)
            return fail(c, -EACCES, "the source does not know the migration secret");
        if ((r = raw_send(c, proof, MAC_LEN)))
            return r;
    }
    if (source && CRYPTO_memcmp(peer, got, MAC_LEN) != 0)
        return fail(c, -EACCES, "the destination does not know the migration secret");
    mac(secret, slen, "K", src_nonce, dst_nonce, c->key);
    mac(secret, slen, "T", src_nonce, dst_nonce, c->tkey);
    return start_transcript(c) ? 0 : fail(c, -ENOMEM, "cannot set up Poly1305");
}

/* ---- source ---- */

struct sender;
struct migration_sink {
    struct sender *s;
};

/* The engine's thread holds `lock` while it sends, except while it waits
 * for the guest to stop or for the disk copies (which send from the disks'
 * threads through migration_disk_write, under the same lock), and between
 * page batches. */
/* A page batch on its way: filled by the engine's thread, compressed by
 * a worker or not, sent by the engine's thread. */
enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };
struct slot {
    uint8_t *data; /* ndata pages */
    uint8_t *zbuf; /* their compressed form */
    uint64_t idx[BATCH];
    unsigned n, ndata;
    int level;            /* zstd level asked for */
    size_t zlen;          /* 0: send raw */
    uint64_t zwall, zcpu; /* the worker's wall and CPU time for it */
    int state;            /* under pool.mu */
};

#define MAX_WORKERS 4
#define NSLOT       (MAX_WORKERS + 3)
#define LEVEL_MIN   (-1) /* 0.30 of an idle guest's data at ~0.75 GB/s a core */
#define LEVEL_MAX   3

/* Compression runs on worker threads while the engine's thread scans,
 * copies and sends.  Bytes count as much as time (an idle 512 MiB guest:
 * 69 MB raw, about 26 MB compressed, and on loopback the raw transfer
 * was not faster: the destination's page faults cost more than zstd), so
 * auto compresses every batch that shrinks; the sender waits for a free
 * slot when the workers are behind, and the level follows the bottleneck:
 * a sender that has to wait lowers it (down to LEVEL_MIN), workers that
 * stay idle (a slow link holds the sender up) raise it (up to LEVEL_MAX).
 * Data that does not shrink by a tenth goes raw for a few batches. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct slot slots[NSLOT];
    struct slot *cur;  /* being filled */
    unsigned inflight; /* queued or busy */
    unsigned nworkers;
    pthread_t th[MAX_WORKERS];
    ZSTD_CCtx *cctx[MAX_WORKERS];
    size_t zcap;
    bool quit;
};

struct sender {
    struct conn c;
    pthread_mutex_t lock;
    struct migration_sink sink;
    bool dead; /* a send failed: the stream is broken */
    const struct migration_machine *m;
    struct migration_progress *prog;
    atomic_bool *cancel;
    uint64_t npages;
    struct pool pool;
    bool compress; /* workers exist */
    /* Round 1: pages never touched since the process mapped RAM are
     * zero without reading them (util/pagemap.h); NULL: read them all. */
    const uint64_t *touched;
    /* For the compression decision. */
    double bw;          /* wire bytes per second, measured per round */
    int level;          /* zstd level for the next batches */
    unsigned zskip;     /* batches to send raw before trying zstd again */
    unsigned idle_seen; /* batches submitted while a worker was idle */
    bool zalways;       /* migration_params.always_compress */
    bool storage;       /* the disk copies run */
};

/* --copy-storage: tells the destination which disks follow and starts
 * their copies. */
static int start_storage(struct sender *s)
{
    const struct migration_machine *m = s->m;
    if (!m->disks || !m->storage_start || !m->storage_pending || !m->storage_stop)
        return fail(&s->c, -ENOTSUP, "this machine cannot copy its disks");
    uint64_t sizes[MIGRATION_MAX_DISKS];
    unsigned n = m->disks(m->opaque, sizes);
    int r;
    if ((r = put_u8(&s->c, REC_DISKS)) || (r = put_u32(&s->c, n)))
        return r;
    for (unsigned i = 0; i < n; i++)
        if ((r = put_u64(&s->c, sizes[i])))
            return r;
    char why[256] = "";
    pthread_mutex_unlock(&s->lock);
    bool ok = m->storage_start(m->opaque, &s->sink, why, sizeof(why));
    pthread_mutex_lock(&s->lock);
    if (!ok)
        return fail(&s->c, -EIO, "cannot copy the disks: %s", why);
    s->storage = true;
    return 0;
}

/* Word-wide with an early exit: a data page usually differs from zero
 * in its first bytes; a zero page is read once, 64 bytes at a time. */
static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)(const void *)p;
    for (unsigned i = 0; i < PAGE / 8; i += 8)
        if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7])
            return false;
    return true;
}

static void *pool_worker(void *arg);

struct worker_arg {
    struct pool *pool;
    unsigned id;
};

static bool pool_init(struct pool *pl, bool compress)
{
    memset(pl, 0, sizeof(*pl));
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work, NULL);
    pthread_cond_init(&pl->done, NULL);
    pl->zcap = ZSTD_compressBound((size_t)BATCH * PAGE);
    for (unsigned i = 0; i < NSLOT; i++) {
        pl->slots[i].data = malloc((size_t)BATCH * PAGE);
        pl->slots[i].zbuf = compress ? malloc(pl->zcap) : NULL;
        if (!pl->slots[i].data || (compress && !pl->slots[i].zbuf))
            return false;
    }
    pl->cur = &pl->slots[0];
    pl->cur->state = SLOT_FILLING;
    if (!compress)
        return true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (unsigned)cpus;
    for (unsigned i = 0; i < want; i++) {
        struct worker_arg *a = malloc(sizeof(*a));
        if (!a || !(pl->cctx[i] = ZSTD_createCCtx())) {
            free(a);
            break;
        }
        *a = (struct worker_arg){pl, i};
        if (pthread_create(&pl->th[i], NULL, pool_worker, a) != 0) {
            free(a);
            ZSTD_freeCCtx(pl->cctx[i]);
            pl->cctx[i] = NULL;
            break;
        }
        pl->nworkers++;
    }
    return true;
}

static void pool_free(struct pool *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->quit = true;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&pl->mu);
    for (unsigned i = 0; i < pl->nworkers; i++) {
        pthread_join(pl->th[i], NULL);
        ZSTD_freeCCtx(pl->cctx[i]);
    }
    for (unsigned i = 0; i < NSLOT; i++) {
        free(pl->slots[i].data);
        free(pl->slots[i].zbuf);
    }
    pthread_cond_destroy(&pl->work);
    pthread_cond_destroy(&pl->done);
    pthread_mutex_destroy(&pl->mu);
}

static void *pool_worker(void *arg)
{
    struct worker_arg a = *(struct worker_arg *)arg;
    free(arg);
    struct pool *pl = a.pool;
    ZSTD_CCtx *z = pl->cctx[a.id];
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        struct slot *sl = NULL;
        for (unsigned k = 0; k < NSLOT && !sl; k++)
            if (pl->slots[k].state == SLOT_QUEUED)
                sl = &pl->slots[k];
        if (!sl) {
            if (pl->quit)
                break;
            pthread_cond_wait(&pl->work, &pl->mu);
            continue;
        }
        sl->state = SLOT_BUSY;
        pthread_mutex_unlock(&pl->mu);
        size_t raw = (size_t)sl->ndata * PAGE;
        uint64_t w0 = host_monotonic_ns(), c0 = host_thread_cpu_ns();
        ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, sl->level);
        size_t zlen = ZSTD_compress2(z, sl->zbuf, pl->zcap, sl->data, raw);
        sl->zlen = ZSTD_isError(zlen) || zlen >= raw ? 0 : zlen;
        sl->zcpu = host_thread_cpu_ns() - c0;
        sl->zwall = host_monotonic_ns() - w0;
        pthread_mutex_lock(&pl->mu);
        sl->state = SLOT_DONE;
        pl->inflight--;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

/* Sends a batch (raw, or compressed by a worker). */
static int emit(struct sender *s, struct slot *sl)
{
    struct conn *c = &s->c;
    size_t raw = (size_t)sl->ndata * PAGE;
    uint8_t enc = sl->zlen ? ENC_ZSTD : ENC_RAW;
    size_t payload = sl->zlen ? sl->zlen : raw;
    int r;
    if ((r = put_u8(c, REC_PAGES)) || (r = put_u32(c, sl->n)) || (r = put_u8(c, enc)) ||
        (r = put_u32(c, (uint32_t)payload)))
        goto out;
    uint8_t idxb[BATCH * 8];
    for (unsigned i = 0; i < sl->n; i++)
        for (unsigned b = 0; b < 8; b++)
            idxb[8 * i + b] = (uint8_t)(sl->idx[i] >> (8 * b));
    if ((r = put(c, idxb, (size_t)sl->n * 8)))
        goto out;
    r = put(c, sl->zlen ? sl->zbuf : sl->data, payload);
out:
    atomic_fetch_add(&s->prog->pages_sent, sl->n);
    atomic_fetch_add(&s->prog->zero_pages, sl->n - sl->ndata);
    atomic_store(&s->prog->bytes_sent, c->sent + c->wlen);
    if (r)
        s->dead = true;
    /* Let the disk copies in between batches. */
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->lock);
    return r;
}

/* A compressed batch is back.  In auto mode, data that does not shrink
 * (random bytes, already compressed: over 97 %) pauses zstd for a few
 * batches: the workers' time would buy nothing.  (Program code shrinks
 * only to 85-90 % at fast levels; it is worth it, and a batch often
 * holds data of other kinds too.) */
static void learn(struct sender *s, const struct slot *sl)
{
    if (!sl->level || !sl->ndata || s->zalways)
        return;
    double raw = (double)sl->ndata * PAGE;
    if ((double)(sl->zlen ? sl->zlen : raw) > 0.97 * raw)
        s->zskip = 4;
}

/* Sends the batches the workers finished (any order: see send_pages);
 * with all, waits for every one. */
static int drain(struct sender *s, bool all)
{
    struct pool *pl = &s->pool;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        struct slot *sl = NULL;
        bool busy = false;
        for (unsigned k = 0; k < NSLOT && !sl; k++) {
            sl = pl->slots[k].state == SLOT_DONE ? &pl->slots[k] : NULL;
            busy |= pl->slots[k].state == SLOT_QUEUED || pl->slots[k].state == SLOT_BUSY;
        }
        if (!sl && !(all && (busy || pl->inflight)))
            break;
        if (!sl) {
            /* Let the disk copies use the link meanwhile. */
            pthread_mutex_unlock(&s->lock);
            pthread_cond_wait(&pl->done, &pl->mu);
            pthread_mutex_unlock(&pl->mu);
            pthread_mutex_lock(&s->lock);
            pthread_mutex_lock(&pl->mu);
            continue;
        }
        pthread_mutex_unlock(&pl->mu);
        learn(s, sl);
        int r = emit(s, sl);
        pthread_mutex_lock(&pl->mu);
        sl->state = SLOT_FREE;
        if (r) {
            pthread_mutex_unlock(&pl->mu);
            return r;
        }
    }
    pthread_mutex_unlock(&pl->mu);
    return 0;
}

/* The next zstd level up or down, within LEVEL_MIN..LEVEL_MAX; 0 is
 * skipped (zstd reads it as its default, 3). */
static int level_step(int level, int dir)
{
    level += dir;
    if (level == 0)
        level += dir;
    return level < LEVEL_MIN ? LEVEL_MIN : level > LEVEL_MAX ? LEVEL_MAX : level;
}

/* The batch being filled is full (or the pass ends): to the workers'
 * queue, or raw onto the link (no workers, or data that did not shrink). */
static int submit(struct sender *s)
{
    struct pool *pl = &s->pool;
    struct slot *sl = pl->cur;
    if (!sl->n)
        return 0;
    bool z = s->compress && sl->ndata && (s->zalways || !s->zskip);
    if (!z && s->zskip)
        s->zskip--;
    pthread_mutex_lock(&pl->mu);
    if (z && pl->inflight < pl->nworkers && ++s->idle_seen >= 16) {
        /* The workers keep up: spend more of their time on fewer bytes. */
        s->idle_seen = 0;
        s->level = level_step(s->level, +1);
    }
    int r = 0;
    if (z) {
        sl->level = s->level;
        sl->zlen = 0;
        sl->state = SLOT_QUEUED;
        pl->inflight++;
        pthread_cond_signal(&pl->work);
    } else {
        pthread_mutex_unlock(&pl->mu);
        sl->level = 0;
        sl->zlen = 0;
        r = emit(s, sl);
        pthread_mutex_lock(&pl->mu);
        sl->state = SLOT_FREE;
    }
    /* The next batch goes to a free slot; it may have to wait for one. */
    pl->cur = NULL;
    while (!r && !pl->cur) {
        for (unsigned k = 0; k < NSLOT && !pl->cur; k++)
            if (pl->slots[k].state == SLOT_FREE)
                pl->cur = &pl->slots[k];
        if (pl->cur)
            break;
        pthread_mutex_unlock(&pl->mu);
        r = drain(s, false);
        pthread_mutex_lock(&pl->mu);
        if (!r && !pl->cur) {
            bool any = false;
            for (unsigned k = 0; k < NSLOT; k++)
                any |= pl->slots[k].state == SLOT_FREE || pl->slots[k].state == SLOT_DONE;
            if (!any) {
                /* The workers are the bottleneck: go faster. */
                s->level = level_step(s->level, -1);
                pthread_mutex_unlock(&s->lock);
                pthread_cond_wait(&pl->done, &pl->mu);
                pthread_mutex_unlock(&pl->mu);
                pthread_mutex_lock(&s->lock);
                pthread_mutex_lock(&pl->mu);
            }
        }
    }
    if (pl->cur) {
        pl->cur->state = SLOT_FILLING;
        pl->cur->n = pl->cur->ndata = 0;
    }
    pthread_mutex_unlock(&pl->mu);
    return r ? r : drain(s, false);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        acc |= v;
    }
    for (; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

int migration_disk_write(struct migration_sink *sink, unsigned disk, uint64_t off, const void *buf,
                         size_t len)
{
    struct sender *s = sink->s;
    if (len > MAX_DISK_CHUNK)
        return -EINVAL;
    bool zero = all_zero(buf, len);
    struct conn *c = &s->c;
    pthread_mutex_lock(&s->lock);
    int r = s->dead ? -EPIPE : 0;
    if (!r && !(r = put_u8(c, REC_DISK)) && !(r = put_u32(c, disk)) && !(r = put_u64(c, off)) &&
        !(r = put_u32(c, (uint32_t)len)) && !(r = put_u8(c, zero ? KIND_ZERO : KIND_DATA)) && !zero)
        r = put(c, buf, len);
    if (r)
        s->dead = true;
    atomic_fetch_add(&s->prog->disk_bytes, len);
    atomic_store(&s->prog->bytes_sent, c->sent + c->wlen);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int send_page(struct sender *s, uint64_t page)
{
    struct slot *sl = s->pool.cur;
    const uint8_t *p = s->m->bus->ram + page * PAGE;
    GUEST_RAM_READS_BEGIN(); /* the guest may be writing it: see util/tsan.h */
    if (page_is_zero(p)) {
        sl->idx[sl->n++] = page << 1 | KIND_ZERO;
    } else {
        /* A copy of the page as it is now: if the guest changes it later,
         * the log has it marked again. */
        memcpy(sl->data + (size_t)sl->ndata++ * PAGE, p, PAGE);
        sl->idx[sl->n++] = page << 1 | KIND_DATA;
    }
    GUEST_RAM_READS_END();
    if (sl->n == BATCH)
        return submit(s);
    return 0;
}

/* A run of zero pages in one record. */
static int send_zeros(struct sender *s, uint64_t first, uint64_t count)
{
    if (!count)
        return 0;
    int r;
    if ((r = put_u8(&s->c, REC_ZEROS)) || (r = put_u64(&s->c, first)) ||
        (r = put_u32(&s->c, (uint32_t)count)))
        s->dead = true;
    atomic_fetch_add(&s->prog->pages_sent, count);
    atomic_fetch_add(&s->prog->zero_pages, count);
    return r;
}

/* Sends every page whose bit is set in bm; pages s->touched says were
 * never touched go as runs of zeros without being read.  Within a round
 * every page goes once, so the order of records does not matter until
 * the SYNC after it. */
static int send_pages(struct sender *s, const uint64_t *bm)
{
    uint64_t words = (s->npages + 63) / 64;
    uint64_t run = 0, nrun = 0;
    int r;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t bits = bm[w];
        uint64_t skip = s->touched ? bits & ~s->touched[w] : 0;
        bits &= ~skip;
        while (skip) {
            uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(skip);
            uint64_t len = skip == ~0ull ? 64 : 1;
            skip = len == 64 ? 0 : skip & (skip - 1);
            if (page >= s->npages)
                break;
            if (page + len > s->npages)
                len = s->npages - page;
            if (nrun && run + nrun == page && nrun + len <= UINT32_MAX) {
                nrun += len;
                continue;
            }
            if ((r = send_zeros(s, run, nrun)))
                return r;
            run = page;
            nrun = len;
        }
        while (bits) {
            uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (page >= s->npages)
                break;
            if ((r = send_page(s, page)))
                return r;
        }
        if ((w & 255) == 0 && s->cancel && atomic_load(s->cancel))
            return fail(&s->c, -ECANCELED, "cancelled");
    }
    if ((r = send_zeros(s, run, nrun)) || (r = submit(s)))
        return r;
    return drain(s, true);
}

static int stop_and_copy(struct sender *s, uint64_t *pending, uint64_t *bm, uint64_t words,
                         bool *stopped, uint64_t *t_stop)
{
    const struct migration_machine *m = s->m;
    char why[256] = "";
    /* The disks are idle only once their copies caught up: those send. */
    pthread_mutex_unlock(&s->lock);
    bool ok = m->stop(m->opaque, why, sizeof(why));
    pthread_mutex_lock(&s->lock);
    if (!ok)
        return fail(&s->c, -EIO, "cannot stop the guest: %s", why);
    *stopped = true;
    if (s->storage) {
        int64_t left = m->storage_pending(m->opaque, why, sizeof(why));
        pthread_mutex_unlock(&s->lock);
        m->storage_stop(m->opaque); /* caught up: nothing more to send */
        pthread_mutex_lock(&s->lock);
        s->storage = false;
        if (left != 0 || s->dead)
            return fail(&s->c, -EIO, "copying the disks failed: %s",
                        left < 0 ? why : "the copy did not catch up");
    }
    *t_stop = host_monotonic_ns();
    atomic_store(&s->prog->phase, MIGRATION_STOPPED);
    m->log_take(m->opaque, bm);
    for (uint64_t i = 0; i < words; i++)
        pending[i] |= bm[i];
    int r = send_pages(s, pending);
    if (r)
        return r;
    struct state_writer w;
    state_writer_init(&w);
    ok = m->save(m->opaque, &w) && !w.failed && w.len <= MAX_STATE;
    if (ok && !(r = put_u8(&s->c, REC_STATE)) && !(r = put_u32(&s->c, (uint32_t)w.len)))
        r = put(&s->c, w.buf, w.len);
    state_writer_free(&w);
    if (!ok)
        return fail(&s->c, -EIO, "cannot save the machine state");
    if (r || (r = put_u8(&s->c, REC_END)))
        return r;
    uint8_t tag[TAG_LEN];
    transcript_mac(&s->c, tag);
    if ((r = raw_send(&s->c, s->c.wbuf, s->c.wlen)))
        return r;
    s->c.wlen = 0;
    return raw_send(&s->c, tag, TAG_LEN);
}

int migration_send(int fd, const struct migration_machine *m, const struct migration_params *p,
                   struct migration_progress *prog, atomic_bool *cancel, char *err, size_t errlen)
{
    struct migration_progress dummy;
    if (!prog)
        prog = &dummy;
    memset(prog, 0, sizeof(*prog));
    uint64_t t0 = host_monotonic_ns();
    uint64_t max_down = p && p->max_downtime_ns ? p->max_downtime_ns : DEFAULT_DOWN;
    unsigned max_rounds = p && p->max_rounds ? p->max_rounds : DEFAULT_ROUND;
    struct sender s = {.m = m, .prog = prog, .cancel = cancel, .bw = 1e9};
    s.sink.s = &s;
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_lock(&s.lock);
    if (!conn_init(&s.c, fd, p, err, errlen)) {
        pthread_mutex_unlock(&s.lock);
        pthread_mutex_destroy(&s.lock);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s.npages = m->bus->ram_size / PAGE;
    uint64_t words = (s.npages + 63) / 64;
    uint64_t *pending = calloc(words, 8), *bm = calloc(words, 8), *touched = NULL;
    s.compress = !(p && p->no_compress);
    bool pool_ok = pool_init(&s.pool, s.compress);
    if (!s.pool.nworkers) /* no threads: everything raw */
        s.compress = false;
    s.zalways = p && p->always_compress;
    s.level = 1;
    atomic_store(&prog->ram_pages, s.npages);
    bool logging = false, stopped = false, sent_go = false;
    uint64_t t_stop = 0, prev_dirty = UINT64_MAX;
    unsigned throttle = 0;
    int r;
    if (!pending || !bm || !pool_ok) {
        r = fail(&s.c, -ENOMEM, "out of memory");
        goto out;
    }
    if ((r = handshake(&s.c, true, p)))
        goto out;
    if ((r = put_u8(&s.c, REC_HELLO)) || (r = put_u64(&s.c, m->bus->ram_base)) ||
        (r = put_u64(&s.c, m->bus->ram_size)) || (r = put_u32(&s.c, PAGE)))
        goto out;
    if (!m->log_start(m->opaque)) {
        r = fail(&s.c, -ENOMEM, "cannot start the dirty-page log");
        goto out;
    }
    logging = true;
    /* After the log started: a page written from now on is re-sent from
     * the log even if it looked untouched here. */
    if (!m->bus->ram_from_file && (touched = malloc(words * 8)) &&
        pagemap_touched(m->bus->ram, s.npages, touched))
        s.touched = touched;
    if (p && p->copy_storage && (r = start_storage(&s)))
        goto out;
    atomic_store(&prog->phase, MIGRATION_PRECOPY);
    /* Round 1 sends everything; later rounds what the log caught.  Rounds
     * while the disks' bulk copy still runs do not count. */
    memset(pending, 0xff, words * 8);
    unsigned counted = 0;
    for (unsigned round = 1;; round++) {
        atomic_store(&prog->round, round);
        uint64_t r0 = host_monotonic_ns(), b0 = s.c.sent + s.c.wlen;
        uint64_t before = atomic_load(&prog->pages_sent) - atomic_load(&prog->zero_pages);
        r = send_pages(&s, pending);
        s.touched = NULL; /* only the first round sends pages not in the log */
        if (r || (r = put_u8(&s.c, REC_SYNC)) || (r = flush(&s.c)) ||
            (r = recv_msg(&s.c, MSG_SYNCED)))
            goto out;
        uint64_t dt = host_monotonic_ns() - r0 + 1;
        /* Pages with data: zero pages cost (next to) nothing, and the
         * pages the guest dirties next are rarely zero. */
        uint64_t bytes = s.c.sent - b0,
                 pages = atomic_load(&prog->pages_sent) - atomic_load(&prog->zero_pages) - before;
        if (bytes > (1u << 20))
            s.bw = (double)bytes * 1e9 / (double)dt;
        uint64_t dirty = m->log_take(m->opaque, pending);
        atomic_store(&prog->dirty_pages, dirty);
        atomic_store(&prog->dirty_rate, (uint64_t)((double)dirty * 1e9 / (double)dt));
        double per_page = pages ? (double)bytes / (double)pages : PAGE;
        int64_t disk_left = 0;
        if (s.storage) {
            char why[256] = "";
            pthread_mutex_unlock(&s.lock);
            disk_left = m->storage_pending(m->opaque, why, sizeof(why));
            pthread_mutex_lock(&s.lock);
            if (disk_left < 0 || s.dead) {
                r = fail(&s.c, -EIO, "copying the disks failed: %s", why);
                goto out;
            }
            atomic_store(&prog->disk_pending, (uint64_t)disk_left);
        }
        uint64_t expect = (uint64_t)(((double)dirty * per_page + (double)disk_left) / s.bw * 1e9);
        atomic_store(&prog->expected_downtime_ns, expect);
        bool disk_bulk = (double)disk_left / s.bw * 1e9 > (double)max_down;
        if (disk_bulk) {
            /* The disks' threads send meanwhile: give them the link. */
            pthread_mutex_unlock(&s.lock);
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&s.lock);
            if (cancel && atomic_load(cancel)) {
                r = fail(&s.c, -ECANCELED, "cancelled");
                goto out;
            }
            continue;
        }
        if (expect <= max_down || ++counted >= max_rounds)
            break;
        /* Not converging: the guest dirties pages about as fast as we send
         * them.  Slow its harts down from the second round on, harder each
         * round it does not help.  (The downtime limit is the user's: even
         * at the brake's limit pre-copy goes on, up to max_rounds.) */
        if (m->throttle && counted >= 2 && dirty * 10 > prev_dirty * 8 && throttle < MAX_THROTTLE) {
            throttle = throttle ? throttle + 20 : 30;
            if (throttle > MAX_THROTTLE)
                throttle = MAX_THROTTLE;
            m->throttle(m->opaque, throttle);
            atomic_store(&prog->throttle, throttle);
        }
        prev_dirty = dirty;
    }
    if ((r = stop_and_copy(&s, pending, bm, words, &stopped, &t_stop)))
        goto out;
    atomic_store(&prog->stop_copy_ns, host_monotonic_ns() - t_stop);
    atomic_store(&prog->phase, MIGRATION_COMMIT);
    if ((r = recv_msg(&s.c, MSG_LOADED)))
        goto out;
    /* The point of no return: from here on this side never resumes. */
    if ((r = send_msg(&s.c, MSG_GO)))
        goto out;
    sent_go = true;
    r = recv_msg(&s.c, MSG_STARTED);
out:
    if (r && !err[0])
        snprintf(err, errlen, "migration failed (%s)", strerror(-r));
    if (s.storage) {
        /* A copy blocked on a dead link gives up at once. */
        s.dead = true;
        if (r == -EPIPE || r == -ETIMEDOUT || r == -ECONNABORTED)
            shutdown(fd, SHUT_RDWR);
        pthread_mutex_unlock(&s.lock);
        m->storage_stop(m->opaque);
        pthread_mutex_lock(&s.lock);
    }
    if (logging)
        m->log_stop(m->opaque);
    if (throttle)
        m->throttle(m->opaque, 0);
    uint64_t now = host_monotonic_ns();
    atomic_store(&prog->total_ns, now - t0);
    if (stopped)
        atomic_store(&prog->downtime_ns, now - t_stop);
    if (r && sent_go) {
        r = MIGRATION_UNCERTAIN;
    } else if (r) {
        if (stopped)
            m->resume(m->opaque);
        if (!(r == -EPIPE || r == -ECONNABORTED || r == -ETIMEDOUT))
            send_error(&s.c, err);
    }
    atomic_store(&prog->phase, r ? MIGRATION_FAILED : MIGRATION_DONE);
    pool_free(&s.pool);
    free(touched);
    free(pending);
    free(bm);
    conn_free(&s.c);
    pthread_mutex_unlock(&s.lock);
    pthread_mutex_destroy(&s.lock);
    return r;
}

/* ---- destination ---- */

static int recv_disks(struct conn *c, const struct migration_machine *m, unsigned *ndisks,
                      uint64_t *sizes)
{
    uint8_t b[8];
    int r = get(c, b, 4);
    if (r)
        return r;
    uint32_t n = le32(b);
    uint64_t mine[MIGRATION_MAX_DISKS];
    unsigned have = m->disks ? m->disks(m->opaque, mine) : 0;
    if (n > MIGRATION_MAX_DISKS)
        return fail(c, -EBADMSG, "%u disks in the stream", n);
    if (n != have)
        return fail(c, -EINVAL, "the source copies %u disks, this machine has %u to write", n,
                    have);
    for (unsigned i = 0; i < n; i++) {
        if ((r = get(c, b, 8)))
            return r;
        if (le64(b) != mine[i])
            return fail(c, -EINVAL, "disk %u is %llu bytes on the source, %llu here", i,
                        (unsigned long long)le64(b), (unsigned long long)mine[i]);
        sizes[i] = mine[i];
    }
    *ndisks = n;
    return 0;
}

static int recv_disk(struct conn *c, const struct migration_machine *m, unsigned ndisks,
                     const uint64_t *sizes, uint8_t *buf)
{
    uint8_t h[17];
    int r = get(c, h, sizeof(h));
    if (r)
        return r;
    uint32_t disk = le32(h), len = le32(h + 12);
    uint64_t off = le64(h + 4);
    if (disk >= ndisks || len > MAX_DISK_CHUNK || h[16] > KIND_DATA || off > sizes[disk] ||
        len > sizes[disk] - off)
        return fail(c, -EBADMSG, "a malformed disk record in the stream");
    if (h[16] == KIND_DATA && (r = get(c, buf, len)))
        return r;
    char why[256] = "";
    if (!m->disk_write(m->opaque, disk, off, h[16] == KIND_DATA ? buf : NULL, len, why,
                       sizeof(why)))
        return fail(c, -EIO, "writing disk %u: %s", disk, why);
    return 0;
}

/* maybe: pages that may hold data here (written by this stream or before
 * it); the others are zero already and a zero page costs nothing. */
static int recv_pages(struct conn *c, const struct migration_machine *m, uint8_t *data,
                      uint8_t *zbuf, size_t zcap, ZSTD_DCtx *dctx, uint64_t *maybe)
{
    uint8_t h[9];
    int r = get(c, h, sizeof(h));
    if (r)
        return r;
    uint32_t n = le32(h), payload = le32(h + 5);
    uint8_t enc = h[4];
    if (n == 0 || n > BATCH || enc > ENC_ZSTD || payload > zcap)
        return fail(c, -EBADMSG, "a malformed page batch in the stream");
    uint8_t idxb[BATCH * 8];
    if ((r = get(c, idxb, (size_t)n * 8)))
        return r;
    uint64_t npages = m->bus->ram_size / PAGE;
    unsigned ndata = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = le64(idxb + 8 * i);
        if ((v >> 1) >= npages)
            return fail(c, -EBADMSG, "a page outside guest RAM in the stream");
        ndata += (v & 1) == KIND_DATA;
    }
    if ((r = get(c, enc == ENC_ZSTD ? zbuf : data, payload)))
        return r;
    size_t raw = (size_t)ndata * PAGE;
    if (enc == ENC_ZSTD) {
        size_t got = ZSTD_decompressDCtx(dctx, data, raw, zbuf, payload);
        if (ZSTD_isError(got) || got != raw)
            return fail(c, -EBADMSG, "a page batch that does not decompress");
    } else if (payload != raw) {
        return fail(c, -EBADMSG, "a page batch of the wrong size");
    }
    unsigned k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = le64(idxb + 8 * i);
        uint64_t page = v >> 1;
        uint8_t *dst = m->bus->ram + page * PAGE;
        if ((v & 1) == KIND_DATA) {
            memcpy(dst, data + (size_t)k++ * PAGE, PAGE);
            maybe[page / 64] |= 1ull << (page % 64);
        } else if ((maybe[page / 64] >> (page % 64) & 1) && !page_is_zero(dst)) {
            memset(dst, 0, PAGE);
        }
    }
    return 0;
}

static int recv_zeros(struct conn *c, const struct migration_machine *m, uint64_t *maybe)
{
    uint8_t h[12];
    int r = get(c, h, sizeof(h));
    if (r)
        return r;
    uint64_t first = le64(h), count = le32(h + 8), npages = m->bus->ram_size / PAGE;
    if (!count || first >= npages || count > npages - first)
        return fail(c, -EBADMSG, "a malformed run of zero pages in the stream");
    for (uint64_t page = first; page < first + count; page++) {
        if (page % 64 == 0 && first + count - page >= 64 && !maybe[page / 64]) {
            page += 63; /* 64 pages that are zero here already */
            continue;
        }
        uint8_t *dst = m->bus->ram + page * PAGE;
        if ((maybe[page / 64] >> (page % 64) & 1) && !page_is_zero(dst))
            memset(dst, 0, PAGE);
    }
    return 0;
}

int migration_receive(int fd, const struct migration_machine *m, const struct migration_params *p,
                      char *err, size_t errlen)
{
    struct conn c;
    if (!conn_init(&c, fd, p, err, errlen)) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    size_t zcap = ZSTD_compressBound((size_t)BATCH * PAGE);
    uint8_t *data = malloc((size_t)BATCH * PAGE), *zbuf = malloc(zcap), *state = NULL;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint32_t state_len = 0;
    unsigned ndisks = 0;
    uint64_t dsizes[MIGRATION_MAX_DISKS];
    uint8_t *dbuf = NULL;
    bool hello = false, handshaken = false;
    uint64_t npages = m->bus->ram_size / PAGE;
    uint64_t *maybe = malloc((npages + 63) / 64 * 8);
    int r;
    if (maybe) {
        if (m->bus->ram_from_file) /* its absent pages hold the file's data */
            memset(maybe, 0xff, (npages + 63) / 64 * 8);
        else
            pagemap_touched(m->bus->ram, npages, maybe);
    }
    c.rbuf = malloc(RBUF);
    /* Most of what arrives lands on pages this side never touched: huge
     * pages make that one fault per 2 MiB (a 4 KiB fault per page was
     * the destination's largest cost).  Small pages again afterwards,
     * for what the guest faults in itself. */
    bool huge = bus_ram_huge_pages(m->bus, true);
    if (!data || !zbuf || !dctx || !maybe || !c.rbuf) {
        r = fail(&c, -ENOMEM, "out of memory");
        goto out;
    }
    if ((r = handshake(&c, false, p)))
        goto out;
    handshaken = true;
    for (;;) {
        uint8_t type;
        if ((r = get(&c, &type, 1)))
            goto out;
        if (type != REC_HELLO && !hello) {
            r = fail(&c, -EBADMSG, "the stream does not start with its header");
            goto out;
        }
        if (type == REC_HELLO) {
            uint8_t h[20];
            if ((r = get(&c, h, sizeof(h))))
                goto out;
            if (hello || le64(h) != m->bus->ram_base || le64(h + 8) != m->bus->ram_size ||
                le32(h + 16) != PAGE) {
                r = fail(&c, -EINVAL,
                         "the source has %llu MiB of RAM at 0x%llx, this machine %llu MiB at "
                         "0x%llx",
                         (unsigned long long)(le64(h + 8) >> 20), (unsigned long long)le64(h),
                         (unsigned long long)(m->bus->ram_size >> 20),
                         (unsigned long long)m->bus->ram_base);
                goto out;
            }
            hello = true;
        } else if (type == REC_PAGES) {
            if ((r = recv_pages(&c, m, data, zbuf, zcap, dctx, maybe)))
                goto out;
        } else if (type == REC_ZEROS) {
            if ((r = recv_zeros(&c, m, maybe)))
                goto out;
        } else if (type == REC_DISKS) {
            if (dbuf) {
                r = fail(&c, -EBADMSG, "a second disks' header in the stream");
                goto out;
            }
            if ((r = recv_disks(&c, m, &ndisks, dsizes)))
                goto out;
            if (!dbuf && !(dbuf = malloc(MAX_DISK_CHUNK))) {
                r = fail(&c, -ENOMEM, "out of memory");
                goto out;
            }
        } else if (type == REC_DISK) {
            if (!dbuf) {
                r = fail(&c, -EBADMSG, "a disk record before the disks' header");
                goto out;
            }
            if ((r = recv_disk(&c, m, ndisks, dsizes, dbuf)))
                goto out;
        } else if (type == REC_SYNC) {
            uint8_t y = MSG_SYNCED;
            if ((r = raw_send(&c, &y, 1)))
                goto out;
        } else if (type == REC_STATE) {
            uint8_t l[4];
            if ((r = get(&c, l, 4)))
                goto out;
            state_len = le32(l);
            free(state); /* a second STATE replaces the first */
            state = NULL;
            if (state_len > MAX_STATE || !(state = malloc(state_len ? state_len : 1))) {
                r = fail(&c, -EBADMSG, "a machine state of %u bytes in the stream", state_len);
                goto out;
            }
            if ((r = get(&c, state, state_len)))
                goto out;
        } else if (type == REC_END) {
            uint8_t want[TAG_LEN], got[TAG_LEN];
            transcript_mac(&c, want);
            if ((r = raw_recv(&c, got, TAG_LEN)))
                goto out;
            if (CRYPTO_memcmp(want, got, TAG_LEN) != 0) {
                r = fail(&c, -EBADMSG, "the stream was corrupted or tampered with (bad MAC)");
                goto out;
            }
            if (!state) {
                r = fail(&c, -EBADMSG, "the stream has no machine state");
                goto out;
            }
            char why[256] = "";
            if (!m->load(m->opaque, state, state_len, why, sizeof(why))) {
                r = fail(&c, -EINVAL, "cannot load the machine state: %s", why);
                goto out;
            }
            if ((r = send_msg(&c, MSG_LOADED)) || (r = recv_msg(&c, MSG_GO)))
                goto out;
            if (m->handover && !m->handover(m->opaque, why, sizeof(why))) {
                r = fail(&c, -EIO, "cannot take the guest over: %s", why);
                goto out;
            }
            /* Handed over: run it even if STARTED does not arrive (the
             * source stays paused then, and never resumes on its own). */
            send_msg(&c, MSG_STARTED);
            r = 0;
            goto out;
        } else {
            r = fail(&c, -EBADMSG, "an unknown record %u in the stream", type);
            goto out;
        }
    }
out:
    if (r && handshaken && !(r == -EPIPE || r == -ETIMEDOUT || r == -ECONNABORTED))
        send_error(&c, err);
    if (huge)
        bus_ram_huge_pages(m->bus, false);
    ZSTD_freeDCtx(dctx);
    free(maybe);
    free(data);
    free(zbuf);
    free(state);
    free(dbuf);
    conn_free(&c);
    return r;
}
