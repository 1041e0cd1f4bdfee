/* SPDX-License-Identifier: MIT */
/* The mirror job (see mirror.h). */
#include "block/mirror.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"

struct block_mirror {
    struct block_dev *src, *dst;
    char *target;
    char format[8];
    bool attached;
    bool owns_dst; /* false: a sink the caller owns (block_mirror_new_to) */
    uint64_t nchunks;
    uint64_t bulk_next;  /* next chunk of the bulk pass; nchunks when it is done */
    uint64_t *dirty;     /* one bit per chunk written since it was copied */
    uint64_t dirty_scan; /* where the next dirty pass continues */
    _Atomic uint64_t ndirty, copied;
    uint8_t *buf;
    char err[256];
};

static void on_src_write(void *opaque, uint64_t off, uint64_t len)
{
    struct block_mirror *m = opaque;
    if (!len)
        return;
    uint64_t first = off / BLOCK_MIRROR_CHUNK, last = (off + len - 1) / BLOCK_MIRROR_CHUNK;
    for (uint64_t c = first; c <= last && c < m->nchunks; c++) {
        /* Chunks the bulk pass has not reached yet will be read then. */
        if (c >= m->bulk_next || (m->dirty[c / 64] >> (c % 64) & 1))
            continue;
        m->dirty[c / 64] |= 1ULL << (c % 64);
        atomic_fetch_add(&m->ndirty, 1);
    }
}

int block_mirror_new(struct block_dev *src, const char *target, const char *format,
                     struct block_mirror **out, char *err, size_t errlen)
{
    if (!format)
        format =
            src->ops && (!strcmp(src->ops->format, "raw") || !strcmp(src->ops->format, "qcow2"))
                ? src->ops->format
                : "qcow2";
    if (strcmp(format, "qcow2") != 0 && strcmp(format, "raw") != 0) {
        snprintf(err, errlen, "%s: a disk can be moved to qcow2 or raw, not %s", target, format);
        return -EINVAL;
    }
    struct stat st;
    if (lstat(target, &st) == 0) {
        snprintf(err, errlen, "%s: already exists", target);
        return -EEXIST;
    }
    struct block_mirror *m = calloc(1, sizeof(*m));
    if (!m || !(m->target = strdup(target)) || !(m->buf = malloc(BLOCK_MIRROR_CHUNK))) {
        snprintf(err, errlen, "%s: out of memory", target);
        goto fail_nomem;
    }
    m->src = src;
    snprintf(m->format, sizeof(m->format), "%s", format);
    m->nchunks = (block_size(src) + BLOCK_MIRROR_CHUNK - 1) / BLOCK_MIRROR_CHUNK;
    if (!(m->dirty = calloc(m->nchunks / 64 + 1, sizeof(uint64_t)))) {
        snprintf(err, errlen, "%s: out of memory", target);
        goto fail_nomem;
    }
    struct image_create_opts o = {.format = format, .size = block_size(src)};
    int r = image_create(target, &o, err, errlen);
    if (r < 0)
        goto fail;
    r = block_open(target, format, 0, &m->dst, err, errlen);
    if (r < 0) {
        unlink(target);
        goto fail;
    }
    m->owns_dst = true;
    *out = m;
    return 0;
fail_nomem:
    r = -ENOMEM;
fail:
    if (m) {
        free(m->dirty);
        free(m->buf);
        free(m->target);
        free(m);
    }
    return r;
}

int block_mirror_new_to(struct block_dev *src, struct block_dev *dst, struct block_mirror **out,
                        char *err, size_t errlen)
{
    struct block_mirror *m = calloc(1, sizeof(*m));
    if (m) {
        m->nchunks = (block_size(src) + BLOCK_MIRROR_CHUNK - 1) / BLOCK_MIRROR_CHUNK;
        m->dirty = calloc(m->nchunks / 64 + 1, sizeof(uint64_t));
        m->buf = malloc(BLOCK_MIRROR_CHUNK);
        m->target = strdup(dst->path ? dst->path : "(sink)");
    }
    if (!m || !m->dirty || !m->buf || !m->target) {
        if (m) {
            free(m->dirty);
            free(m->buf);
            free(m->target);
            free(m);
        }
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    m->src = src;
    m->dst = dst;
    snprintf(m->format, sizeof(m->format), "%s", dst->ops ? dst->ops->format : "");
    *out = m;
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        if (v)
            return false;
    }
    return true;
}

/* Copies chunk c; skip_zero for the bulk pass (the target reads as zero). */
static int copy_chunk(struct block_mirror *m, uint64_t c, bool skip_zero)
{
    uint64_t off = c * BLOCK_MIRROR_CHUNK;
    size_t n = block_size(m->src) - off < BLOCK_MIRROR_CHUNK ? (size_t)(block_size(m->src) - off)
                                                             : BLOCK_MIRROR_CHUNK;
    int r = block_read(m->src, off, m->buf, n);
    if (r < 0) {
        snprintf(m->err, sizeof(m->err), "reading the source at %llu: %s", (unsigned long long)off,
                 strerror(-r));
        return r;
    }
    if (skip_zero && n % 8 == 0 && all_zero(m->buf, n))
        return 0;
    r = block_write(m->dst, off, m->buf, n);
    if (r < 0) {
        snprintf(m->err, sizeof(m->err), "%s: writing at %llu: %s", m->target,
                 (unsigned long long)off, strerror(-r));
        return r;
    }
    atomic_fetch_add(&m->copied, n);
    return 0;
}

int block_mirror_step(struct block_mirror *m, unsigned max_chunks)
{
    if (!m->attached) {
        m->src->write_hook = on_src_write;
        m->src->write_hook_opaque = m;
        m->attached = true;
    }
    for (unsigned done = 0, skipped = 0; done < max_chunks; done++) {
        /* Whole chunks that read as zeroes without being stored anywhere
         * (sparse, or a backing chain's holes) cost no read at all. */
        while (m->bulk_next < m->nchunks && skipped < 4096) {
            uint64_t off = m->bulk_next * BLOCK_MIRROR_CHUNK, pnum = 0;
            unsigned status = 0;
            uint64_t host;
            if (image_block_status(m->src, off, block_size(m->src) - off, &pnum, &status, &host) <
                    0 ||
                (status & IMAGE_STATUS_DATA) || pnum < BLOCK_MIRROR_CHUNK)
                break;
            uint64_t n = pnum / BLOCK_MIRROR_CHUNK;
            if (n > m->nchunks - m->bulk_next)
                n = m->nchunks - m->bulk_next;
            m->bulk_next += n;
            skipped += (unsigned)(n < 4096 ? n : 4096);
        }
        if (m->bulk_next < m->nchunks) {
            int r = copy_chunk(m, m->bulk_next, true);
            if (r < 0)
                return r;
            m->bulk_next++;
            continue;
        }
        if (!atomic_load(&m->ndirty))
            return 0;
        /* The next dirty chunk at or after dirty_scan, wrapping once. */
        uint64_t words = m->nchunks / 64 + 1, c = UINT64_MAX;
        for (uint64_t k = 0; k <= words && c == UINT64_MAX; k++) {
            uint64_t w = (m->dirty_scan / 64 + k) % words;
            uint64_t bits = m->dirty[w];
            if (k == 0)
                bits &= ~0ULL << (m->dirty_scan % 64);
            if (bits)
                c = w * 64 + (uint64_t)__builtin_ctzll(bits);
        }
        if (c == UINT64_MAX)
            return 0; /* cannot happen: ndirty counts the set bits */
        m->dirty[c / 64] &= ~(1ULL << (c % 64));
        atomic_fetch_sub(&m->ndirty, 1);
        m->dirty_scan = c + 1 < m->nchunks ? c + 1 : 0;
        int r = copy_chunk(m, c, false);
        if (r < 0)
            return r;
    }
    return m->bulk_next < m->nchunks || atomic_load(&m->ndirty) ? 1 : 0;
}

uint64_t block_mirror_remaining(const struct block_mirror *m)
{
    uint64_t bulk = m->nchunks - __atomic_load_n(&m->bulk_next, __ATOMIC_RELAXED);
    return bulk + atomic_load(&m->ndirty);
}

uint64_t block_mirror_copied(const struct block_mirror *m)
{
    return atomic_load(&m->copied);
}

bool block_mirror_in_bulk(const struct block_mirror *m)
{
    return __atomic_load_n(&m->bulk_next, __ATOMIC_RELAXED) < m->nchunks;
}

static void detach(struct block_mirror *m)
{
    if (m->attached && m->src->write_hook_opaque == m) {
        m->src->write_hook = NULL;
        m->src->write_hook_opaque = NULL;
    }
    m->attached = false;
}

static void free_job(struct block_mirror *m)
{
    free(m->dirty);
    free(m->buf);
    free(m->target);
    free(m);
}

int block_mirror_complete(struct block_mirror *m, struct block_dev **target)
{
    int r = block_flush(m->dst);
    if (r < 0) {
        snprintf(m->err, sizeof(m->err), "%s: flush: %s", m->target, strerror(-r));
        return r;
    }
    detach(m);
    *target = m->dst;
    free_job(m);
    return 0;
}

void block_mirror_abort(struct block_mirror *m)
{
    if (!m)
        return;
    detach(m);
    if (m->owns_dst) {
        block_close(m->dst);
        unlink(m->target);
    }
    free_job(m);
}

const char *block_mirror_error(const struct block_mirror *m)
{
    return m->err;
}

const char *block_mirror_target(const struct block_mirror *m)
{
    return m->target;
}

const char *block_mirror_format(const struct block_mirror *m)
{
    return m->format;
}
