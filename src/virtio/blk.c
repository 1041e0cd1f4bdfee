/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk: one request queue served by a worker thread per disk.
 *
 * The hart's QueueNotify (I/O lock held) pops every available chain and
 * hands it to the worker; the worker parses the request, calls the block
 * layer synchronously (guest buffers are read and written in place), then
 * takes the bus I/O lock to put the element in the used ring and raise the
 * interrupt.  Requests complete in the order they were submitted, so a
 * guest flush completes only after block_flush() returned for it and for
 * everything submitted before it.
 *
 * Reset (and load) drains: queued requests are dropped, the one running is
 * waited for (the worker does not need the I/O lock while it does I/O),
 * and a generation counter stops a late completion from reaching the
 * reset rings.
 *
 * A disk move (block/mirror.h) runs on the same worker, between requests:
 * the block layer sees one call at a time, and the switch to the new
 * image happens between two requests, so none is in flight across it.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/lock.h"
#include "block/block.h"
#include "block/mirror.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

/* Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values. */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2

#define VIRTIO_BLK_ID_BYTES 20
#define WRITE_ZEROES_UNMAP  1u

/* Config space offsets. */
#define CFG_CAPACITY                 0
#define CFG_SIZE_MAX                 8
#define CFG_SEG_MAX                  12
#define CFG_BLK_SIZE                 20
#define CFG_MAX_DISCARD_SECTORS      36
#define CFG_MAX_DISCARD_SEG          40
#define CFG_DISCARD_SECTOR_ALIGNMENT 44
#define CFG_MAX_WRITE_ZEROES_SECTORS 48
#define CFG_MAX_WRITE_ZEROES_SEG     52
#define CFG_WRITE_ZEROES_MAY_UNMAP   56
#define CFG_SIZE                     60

#define QUEUE_SIZE    256
#define SECTOR        512ull
#define SEG_MAX       (QUEUE_SIZE - 2)
#define SIZE_MAX_SEG  (1u << 20)
#define MAX_RANGE_SEC 0x3fffffu
#define MAX_RANGE_SEG 1u
/* Requests are split into guest pages; one block-layer call per chunk of
 * this size (through a bounce buffer) beats one call per page. */
#define BOUNCE_SIZE (1u << 20)

struct blk_req {
    struct blk_req *next;
    struct virtq_elem *e;
    uint64_t gen;
};

struct vblk {
    struct virtio_dev *vdev;
    struct block_dev *bd;
    char serial[VIRTIO_BLK_ID_BYTES];
    bool read_only;
    uint8_t *bounce; /* the worker's; BOUNCE_SIZE bytes */

    pthread_t thread;
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t work_cond, idle_cond;
    struct blk_req *head, *tail;
    bool busy, stop, thread_started;
    uint64_t gen; /* bumped by reset; also read under the I/O lock */
    /* A disk move: the job (worker's once started), whose turn it is
     * after a request, and what status queries see. */
    struct block_mirror *move;
    bool move_turn, move_cancel;
    struct virtio_blk_move_status move_st;
    /* The move is a migration's copy (virtio_blk_sync_start): it never
     * completes, it keeps copying what the guest writes until stopped. */
    bool move_sync, sync_failed;
    char sync_err[256];
};

static void put_le32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

/* Runs fn over the byte range [off, off+len) of the element's readable
 * (out) or writable (in) part, one guest segment at a time. */
static int for_range(const struct virtq_elem *e, bool in, uint64_t off, uint64_t len,
                     int (*fn)(void *ctx, const struct virtq_seg *s, uint32_t soff, uint32_t n),
                     void *ctx)
{
    unsigned first = in ? e->nout : 0, end = in ? e->nout + e->nin : e->nout;
    for (unsigned i = first; i < end && len > 0; i++) {
        const struct virtq_seg *s = &e->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint32_t n = (uint32_t)(s->len - off < len ? s->len - off : len);
        int r = fn(ctx, s, (uint32_t)off, n);
        if (r < 0)
            return r;
        len -= n;
        off = 0;
    }
    return 0;
}

struct io_ctx {
    struct vblk *vb;
    uint64_t pos; /* disk offset */
};

static int read_seg(void *ctx, const struct virtq_seg *s, uint32_t soff, uint32_t n)
{
    struct io_ctx *c = ctx;
    int r = block_read(c->vb->bd, c->pos, s->host + soff, n);
    if (r < 0)
        return r;
    bus_ram_written(c->vb->vdev->bus, s->gpa + soff, n);
    c->pos += n;
    return 0;
}

static int write_seg(void *ctx, const struct virtq_seg *s, uint32_t soff, uint32_t n)
{
    struct io_ctx *c = ctx;
    int r = block_write(c->vb->bd, c->pos, s->host + soff, n);
    if (r < 0)
        return r;
    c->pos += n;
    return 0;
}

static bool range_ok(const struct vblk *vb, uint64_t sector, uint64_t bytes)
{
    uint64_t size = block_size(vb->bd);
    if (sector > size / SECTOR)
        return false;
    return bytes <= size - sector * SECTOR;
}

/* Discard / write-zeroes: a list of 16-byte segments after the header. */
static uint8_t do_ranges(struct vblk *vb, const struct virtq_elem *e, uint32_t type)
{
    uint64_t data = e->out_len - 16;
    if (vb->read_only)
        return VIRTIO_BLK_S_IOERR; /* and nothing is written */
    if (data == 0 || data % 16)
        return VIRTIO_BLK_S_IOERR;
    if (data / 16 > MAX_RANGE_SEG)
        return VIRTIO_BLK_S_UNSUPP;
    for (uint64_t off = 16; off < e->out_len; off += 16) {
        uint8_t raw[16];
        virtq_elem_read(e, off, raw, 16);
        uint64_t sector;
        uint32_t nsec, flags;
        memcpy(&sector, raw, 8);
        memcpy(&nsec, raw + 8, 4);
        memcpy(&flags, raw + 12, 4);
        sector = le64toh(sector);
        nsec = le32toh(nsec);
        flags = le32toh(flags);
        /* Unmap only means something for write-zeroes; unknown flag bits
         * are not supported either. */
        if ((type == VIRTIO_BLK_T_DISCARD && flags) || (flags & ~WRITE_ZEROES_UNMAP))
            return VIRTIO_BLK_S_UNSUPP;
        if (nsec > MAX_RANGE_SEC || !range_ok(vb, sector, (uint64_t)nsec * SECTOR))
            return VIRTIO_BLK_S_IOERR;
        int r = type == VIRTIO_BLK_T_DISCARD
                    ? block_discard(vb->bd, sector * SECTOR, (uint64_t)nsec * SECTOR)
                    : block_write_zeroes(vb->bd, sector * SECTOR, (uint64_t)nsec * SECTOR);
        if (r < 0 && !(type == VIRTIO_BLK_T_DISCARD && r == -ENOTSUP))
            return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

/* Executes one request; returns the bytes written into the guest's
 * writable part (status byte included). */
static uint32_t handle_request(struct vblk *vb, const struct virtq_elem *e)
{
    struct bus *bus = vb->vdev->bus;
    if (e->in_len == 0)
        return 0; /* nowhere to put a status: nothing we can do */
    uint64_t status_off = e->in_len - 1;
    uint8_t status = VIRTIO_BLK_S_IOERR;
    uint64_t written = 0;
    uint8_t hdr[16];
    if (e->out_len < 16) {
        goto done;
    }
    virtq_elem_read(e, 0, hdr, 16);
    uint32_t type;
    uint64_t sector;
    memcpy(&type, hdr, 4);
    memcpy(&sector, hdr + 8, 8);
    type = le32toh(type);
    sector = le64toh(sector);

    switch (type) {
    case VIRTIO_BLK_T_IN: {
        uint64_t len = status_off;
        if (e->out_len != 16 || len % SECTOR || !range_ok(vb, sector, len))
            break;
        if (!vb->bounce || e->nin <= 2) {
            struct io_ctx c = {vb, sector * SECTOR};
            if (for_range(e, true, 0, len, read_seg, &c) < 0)
                break;
        } else {
            bool ok = true;
            for (uint64_t off = 0; off < len && ok; off += BOUNCE_SIZE) {
                size_t n = len - off < BOUNCE_SIZE ? (size_t)(len - off) : BOUNCE_SIZE;
                ok = block_read(vb->bd, sector * SECTOR + off, vb->bounce, n) >= 0;
                if (ok)
                    virtq_elem_write(bus, e, off, vb->bounce, n);
            }
            if (!ok)
                break;
        }
        written = len;
        status = VIRTIO_BLK_S_OK;
        break;
    }
    case VIRTIO_BLK_T_OUT: {
        uint64_t len = e->out_len - 16;
        if (vb->read_only || status_off != 0 || len % SECTOR || !range_ok(vb, sector, len))
            break;
        if (!vb->bounce || e->nout <= 2) {
            struct io_ctx c = {vb, sector * SECTOR};
            if (for_range(e, false, 16, len, write_seg, &c) < 0)
                break;
        } else {
            bool ok = true;
            for (uint64_t off = 0; off < len && ok; off += BOUNCE_SIZE) {
                size_t n = len - off < BOUNCE_SIZE ? (size_t)(len - off) : BOUNCE_SIZE;
                virtq_elem_read(e, 16 + off, vb->bounce, n);
                ok = block_write(vb->bd, sector * SECTOR + off, vb->bounce, n) >= 0;
            }
            if (!ok)
                break;
        }
        status = VIRTIO_BLK_S_OK;
        break;
    }
    case VIRTIO_BLK_T_FLUSH:
        if (block_flush(vb->bd) == 0)
            status = VIRTIO_BLK_S_OK;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint64_t n = status_off < VIRTIO_BLK_ID_BYTES ? status_off : VIRTIO_BLK_ID_BYTES;
        written = virtq_elem_write(bus, e, 0, vb->serial, n);
        status = VIRTIO_BLK_S_OK;
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (type == VIRTIO_BLK_T_DISCARD && !virtio_has_feature(vb->vdev, VIRTIO_BLK_F_DISCARD)) {
            status = VIRTIO_BLK_S_UNSUPP;
            break;
        }
        if (status_off != 0) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        status = do_ranges(vb, e, type);
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
done:
    virtq_elem_write(bus, e, status_off, &status, 1);
    return (uint32_t)(written + 1);
}

/* Chunks a move copies per turn: after a guest request (one, so the
 * guest's I/O keeps most of the disk's time), when the queue is empty,
 * and at the end, when so little is left that finishing at once while
 * the guest's requests wait is shorter than chasing its writes. */
#define MOVE_STEP_BUSY  1
#define MOVE_STEP_IDLE  16
#define MOVE_FINISH_MAX 64

static void move_end(struct vblk *vb, enum virtio_blk_move_state state, const char *error)
{
    pthread_mutex_lock(&vb->lock);
    vb->move = NULL;
    vb->move_cancel = false;
    vb->move_st.state = state;
    vb->move_st.remaining = 0;
    snprintf(vb->move_st.error, sizeof(vb->move_st.error), "%s", error ? error : "");
    pthread_mutex_unlock(&vb->lock);
}

/* A migration's copy has nothing to do until the guest writes again. */
static bool sync_caught_up(struct vblk *vb)
{
    return vb->move && vb->move_sync && !vb->move_cancel && !block_mirror_remaining(vb->move);
}

/* One turn of a migration's copy (worker thread, vb->lock not held). */
static void sync_turn(struct vblk *vb, struct block_mirror *m, bool idle, bool cancel)
{
    int r = 0;
    if (!cancel) {
        unsigned n = idle ? MOVE_STEP_IDLE : MOVE_STEP_BUSY;
        if (!block_mirror_in_bulk(m) && block_mirror_remaining(m) <= MOVE_FINISH_MAX)
            n = UINT32_MAX;
        r = block_mirror_step(m, n);
    }
    pthread_mutex_lock(&vb->lock);
    if (cancel || r < 0) {
        if (r < 0) {
            vb->sync_failed = true;
            snprintf(vb->sync_err, sizeof(vb->sync_err), "%s", block_mirror_error(m));
        }
        block_mirror_abort(m); /* the sink is the caller's: only detaches */
        vb->move = NULL;
        vb->move_sync = vb->move_cancel = false;
    }
    vb->busy = false;
    pthread_cond_broadcast(&vb->idle_cond);
    pthread_mutex_unlock(&vb->lock);
}

/* One turn of the move (worker thread, vb->lock not held). */
static void move_turn(struct vblk *vb, struct block_mirror *m, bool idle, bool cancel)
{
    if (vb->move_sync) {
        sync_turn(vb, m, idle, cancel);
        return;
    }
    if (cancel) {
        block_mirror_abort(m);
        move_end(vb, VIRTIO_BLK_MOVE_CANCELLED, NULL);
        return;
    }
    unsigned n = idle ? MOVE_STEP_IDLE : MOVE_STEP_BUSY;
    if (!block_mirror_in_bulk(m) && block_mirror_remaining(m) <= MOVE_FINISH_MAX)
        n = UINT32_MAX;
    int r = block_mirror_step(m, n);
    if (r == 0) {
        struct block_dev *target;
        r = block_mirror_complete(m, &target);
        if (r == 0) {
            /* Between two requests: nothing is in flight on the old image. */
            struct block_dev *old = vb->bd;
            vb->bd = target;
            block_close(old);
            log_info("virtio-blk: moved to %s", target->path);
            move_end(vb, VIRTIO_BLK_MOVE_COMPLETED, NULL);
            return;
        }
    }
    if (r < 0) {
        char why[256];
        snprintf(why, sizeof(why), "%s", block_mirror_error(m));
        block_mirror_abort(m);
        log_warn("virtio-blk: disk move failed: %s", why);
        move_end(vb, VIRTIO_BLK_MOVE_FAILED, why);
        return;
    }
    pthread_mutex_lock(&vb->lock);
    vb->move_st.copied = block_mirror_copied(m);
    vb->move_st.remaining = block_mirror_remaining(m) * BLOCK_MIRROR_CHUNK;
    pthread_mutex_unlock(&vb->lock);
}

static void *worker(void *arg)
{
    struct vblk *vb = arg;
    pthread_mutex_lock(&vb->lock);
    for (;;) {
        while (!vb->stop && !vb->head && (!vb->move || sync_caught_up(vb)))
            pthread_cond_wait(&vb->work_cond, &vb->lock);
        if (vb->stop)
            break;
        if (vb->move && (!vb->head || vb->move_turn || vb->move_cancel) && !sync_caught_up(vb)) {
            struct block_mirror *m = vb->move;
            bool idle = !vb->head, cancel = vb->move_cancel;
            vb->move_turn = false;
            vb->busy = vb->move_sync; /* a migration waits for the copy too */
            pthread_mutex_unlock(&vb->lock);
            move_turn(vb, m, idle, cancel);
            pthread_mutex_lock(&vb->lock);
            continue;
        }
        vb->move_turn = true;
        struct blk_req *req = vb->head;
        vb->head = req->next;
        if (!vb->head)
            vb->tail = NULL;
        vb->busy = true;
        pthread_mutex_unlock(&vb->lock);

        uint32_t written = handle_request(vb, req->e);

        pthread_mutex_lock(&vb->lock);
        vb->busy = false;
        pthread_cond_broadcast(&vb->idle_cond);
        pthread_mutex_unlock(&vb->lock);

        struct bus *bus = vb->vdev->bus;
        if (!mutex_lock_unless_stopped(&bus->io_lock, &vb->stop)) {
            free(req->e);
            free(req);
            return NULL;
        }
        if (req->gen == vb->gen) {
            struct virtq *vq = &vb->vdev->vq[0];
            virtq_push(vq, req->e, written);
            if (vq->inflight)
                vq->inflight--;
            /* Completing in batches saves interrupts: signal once the
             * queue of submitted work is empty. */
            pthread_mutex_lock(&vb->lock);
            bool more = vb->head != NULL;
            pthread_mutex_unlock(&vb->lock);
            if (!more)
                virtq_notify(vq);
        }
        pthread_mutex_unlock(&bus->io_lock);
        free(req->e);
        free(req);
        pthread_mutex_lock(&vb->lock);
    }
    pthread_mutex_unlock(&vb->lock);
    return NULL;
}

static void blk_notify(struct virtio_dev *vdev, unsigned q)
{
    struct vblk *vb = vdev->opaque;
    struct virtq *vq = &vdev->vq[q];
    struct blk_req *first = NULL, *last = NULL;
    for (;;) {
        struct virtq_elem *e;
        int r = virtq_pop(vq, &e);
        if (r <= 0)
            break;
        struct blk_req *req = malloc(sizeof(*req));
        if (!req) {
            virtq_push(vq, e, 0);
            free(e);
            continue;
        }
        req->next = NULL;
        req->e = e;
        req->gen = vb->gen;
        vq->inflight++;
        if (last)
            last->next = req;
        else
            first = req;
        last = req;
    }
    if (!first)
        return;
    pthread_mutex_lock(&vb->lock);
    if (vb->tail)
        vb->tail->next = first;
    else
        vb->head = first;
    vb->tail = last;
    pthread_cond_signal(&vb->work_cond);
    pthread_mutex_unlock(&vb->lock);
}

static void blk_reset(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    struct blk_req *req = vb->head;
    vb->head = vb->tail = NULL;
    while (vb->busy)
        pthread_cond_wait(&vb->idle_cond, &vb->lock);
    vb->gen++;
    pthread_mutex_unlock(&vb->lock);
    while (req) {
        struct blk_req *next = req->next;
        free(req->e);
        free(req);
        req = next;
    }
    vdev->vq[0].inflight = 0;
}

/* Power-off: drops what is queued, lets the request in progress finish
 * (its completion is dropped: nobody is left to see it), joins the worker
 * and flushes, all before the board frees the PLIC, the harts and RAM the
 * worker would otherwise still reach. */
static void blk_stop(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    if (!vb || !vb->thread_started)
        return;
    /* A reset normally runs under the I/O lock (an MMIO write); so must
     * this one, or it races the worker completing a request (TSan). */
    pthread_mutex_lock(&vdev->bus->io_lock);
    blk_reset(vdev);
    pthread_mutex_unlock(&vdev->bus->io_lock);
    pthread_mutex_lock(&vb->lock);
    __atomic_store_n(&vb->stop, true, __ATOMIC_RELEASE);
    pthread_cond_signal(&vb->work_cond);
    pthread_mutex_unlock(&vb->lock);
    pthread_join(vb->thread, NULL);
    vb->thread_started = false;
    if (vb->move) { /* the worker is gone: end the move here */
        block_mirror_abort(vb->move);
        vb->move = NULL;
        if (vb->move_sync) {
            vb->move_sync = false;
            vb->sync_failed = true;
            snprintf(vb->sync_err, sizeof(vb->sync_err), "the disk stopped");
        } else {
            vb->move_st.state = VIRTIO_BLK_MOVE_CANCELLED;
        }
    }
    /* Whatever the guest wrote reaches the disk before we exit. */
    if (vb->bd && !vb->read_only)
        block_flush(vb->bd);
}

static void blk_destroy(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    if (!vb)
        return;
    blk_stop(vdev);
    if (vb->bd)
        block_close(vb->bd);
    pthread_mutex_destroy(&vb->lock);
    pthread_cond_destroy(&vb->work_cond);
    pthread_cond_destroy(&vb->idle_cond);
    free(vb->bounce);
    free(vb);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops blk_ops;

bool virtio_blk_is(const struct virtio_dev *vdev)
{
    return vdev && vdev->ops == &blk_ops;
}

struct block_dev *virtio_blk_image(struct virtio_dev *vdev)
{
    return ((struct vblk *)vdev->opaque)->bd;
}

bool virtio_blk_move_start(struct virtio_dev *vdev, const char *target, const char *format,
                           char *err, size_t errlen)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    bool busy = vb->move != NULL, stopped = !vb->thread_started;
    pthread_mutex_unlock(&vb->lock);
    if (busy || stopped) {
        snprintf(err, errlen,
                 busy ? "a move of this disk is already running" : "the disk is stopped");
        return false;
    }
    /* Only this thread starts moves, so nobody else can between the check
     * and here; the job reads nothing of vb->bd that the worker changes. */
    struct block_mirror *m;
    if (block_mirror_new(vb->bd, target, format, &m, err, errlen) < 0)
        return false;
    pthread_mutex_lock(&vb->lock);
    vb->move = m;
    vb->move_cancel = false;
    memset(&vb->move_st, 0, sizeof(vb->move_st));
    vb->move_st.state = VIRTIO_BLK_MOVE_RUNNING;
    vb->move_st.remaining = block_mirror_remaining(m) * BLOCK_MIRROR_CHUNK;
    pthread_cond_signal(&vb->work_cond);
    pthread_mutex_unlock(&vb->lock);
    return true;
}

void virtio_blk_move_status(struct virtio_dev *vdev, struct virtio_blk_move_status *st)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    *st = vb->move_st;
    pthread_mutex_unlock(&vb->lock);
}

bool virtio_blk_idle(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    bool idle =
        !vb->head && !vb->busy && !(vb->move && vb->move_sync && block_mirror_remaining(vb->move));
    pthread_mutex_unlock(&vb->lock);
    return idle;
}

bool virtio_blk_sync_start(struct virtio_dev *vdev, struct block_dev *sink, char *err,
                           size_t errlen)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    bool busy = vb->move != NULL, stopped = !vb->thread_started;
    pthread_mutex_unlock(&vb->lock);
    if (busy || stopped) {
        snprintf(err, errlen, busy ? "a move of this disk is running" : "the disk is stopped");
        return false;
    }
    if (block_size(sink) != block_size(vb->bd)) {
        snprintf(err, errlen, "the copy's size differs from the disk's");
        return false;
    }
    struct block_mirror *m;
    if (block_mirror_new_to(vb->bd, sink, &m, err, errlen) < 0)
        return false;
    pthread_mutex_lock(&vb->lock);
    vb->move = m;
    vb->move_sync = true;
    vb->move_cancel = vb->sync_failed = false;
    vb->sync_err[0] = '\0';
    pthread_cond_signal(&vb->work_cond);
    pthread_mutex_unlock(&vb->lock);
    return true;
}

int64_t virtio_blk_sync_remaining(struct virtio_dev *vdev, char *err, size_t errlen)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    int64_t r = 0;
    if (vb->sync_failed) {
        snprintf(err, errlen, "%s", vb->sync_err);
        r = -EIO;
    } else if (vb->move && vb->move_sync) {
        r = (int64_t)(block_mirror_remaining(vb->move) * BLOCK_MIRROR_CHUNK);
    }
    pthread_mutex_unlock(&vb->lock);
    return r;
}

void virtio_blk_sync_stop(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    if (vb->move && vb->move_sync) {
        vb->move_cancel = true;
        pthread_cond_signal(&vb->work_cond);
        while (vb->move && vb->move_sync && vb->thread_started)
            pthread_cond_wait(&vb->idle_cond, &vb->lock);
    }
    pthread_mutex_unlock(&vb->lock);
}

int virtio_blk_flush(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    return vb->read_only ? 0 : block_flush(vb->bd);
}

bool virtio_blk_reopen(struct virtio_dev *vdev, char *err, size_t errlen)
{
    struct vblk *vb = vdev->opaque;
    struct block_dev *bd;
    unsigned flags =
        BLOCK_OPEN_GUEST | BLOCK_OPEN_NO_LOCK | (vb->bd->read_only ? BLOCK_OPEN_READ_ONLY : 0);
    if (block_open(vb->bd->path, vb->bd->ops->format, flags, &bd, err, errlen) < 0)
        return false;
    if (block_size(bd) != block_size(vb->bd)) {
        snprintf(err, errlen, "%s: its size changed", bd->path);
        block_close(bd);
        return false;
    }
    bd->read_only = vb->bd->read_only;
    block_close(vb->bd);
    vb->bd = bd;
    return true;
}

void virtio_blk_move_cancel(struct virtio_dev *vdev)
{
    struct vblk *vb = vdev->opaque;
    pthread_mutex_lock(&vb->lock);
    if (vb->move) {
        vb->move_cancel = true;
        pthread_cond_signal(&vb->work_cond);
    }
    pthread_mutex_unlock(&vb->lock);
}

static const struct virtio_dev_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max = QUEUE_SIZE,
    .queue_notify = blk_notify,
    .reset = blk_reset,
    .stop = blk_stop,
    .destroy = blk_destroy,
};

struct virtio_dev *virtio_blk_create(struct bus *bus, struct irq_line irq, struct block_dev *bd,
                                     const char *serial, bool discard)
{
    struct vblk *vb = calloc(1, sizeof(*vb));
    if (!vb)
        return NULL;
    vb->bd = bd;
    vb->read_only = bd->read_only;
    vb->bounce = malloc(BOUNCE_SIZE); /* NULL: per-segment I/O still works */
    if (serial) {
        /* The ID is NUL-padded, not NUL-terminated when 20 bytes long. */
        size_t n = strlen(serial);
        memcpy(vb->serial, serial, n < sizeof(vb->serial) ? n : sizeof(vb->serial));
    }
    uint64_t features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
                        (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
    if (vb->read_only)
        features |= 1ull << VIRTIO_BLK_F_RO;
    else {
        features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
        if (discard)
            features |= 1ull << VIRTIO_BLK_F_DISCARD;
    }
    struct virtio_dev *vdev = virtio_mmio_new(&blk_ops, vb, bus, irq, features, CFG_SIZE);
    if (!vdev) {
        free(vb->bounce);
        free(vb);
        return NULL;
    }
    vb->vdev = vdev;
    uint8_t *c = vdev->config;
    put_le64(c + CFG_CAPACITY, block_size(bd) / SECTOR);
    put_le32(c + CFG_SIZE_MAX, SIZE_MAX_SEG);
    put_le32(c + CFG_SEG_MAX, SEG_MAX);
    put_le32(c + CFG_BLK_SIZE, SECTOR);
    put_le32(c + CFG_MAX_DISCARD_SECTORS, MAX_RANGE_SEC);
    put_le32(c + CFG_MAX_DISCARD_SEG, MAX_RANGE_SEG);
    put_le32(c + CFG_DISCARD_SECTOR_ALIGNMENT, 1);
    put_le32(c + CFG_MAX_WRITE_ZEROES_SECTORS, MAX_RANGE_SEC);
    put_le32(c + CFG_MAX_WRITE_ZEROES_SEG, MAX_RANGE_SEG);
    c[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;

    pthread_mutex_init(&vb->lock, NULL);
    pthread_cond_init(&vb->work_cond, NULL);
    pthread_cond_init(&vb->idle_cond, NULL);
    if (pthread_create(&vb->thread, NULL, worker, vb) != 0) {
        vb->bd = NULL; /* the caller still owns it on failure */
        virtio_mmio_free(vdev);
        return NULL;
    }
    vb->thread_started = true;
    return vdev;
}
