/* SPDX-License-Identifier: MIT */
/*
 * `wirt img convert`: copies one or more images (concatenated) into a new
 * image.  Areas that are unallocated or read as zeroes are not written, so
 * the result is as sparse as the source; -c writes compressed qcow2
 * clusters; -B gives the new image a backing file and writes only what
 * differs from it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img/img_int.h"

#define CHUNK (2u << 20)

struct conv {
    struct block_dev *dst;
    bool compress, existing, has_backing, progress;
    uint64_t step; /* zero-detection granule (a cluster when compressing) */
    uint64_t total, done;
    uint8_t *buf, *cmp;
};

/* Writes buf[0..n) to dst at off, skipping granules that need no write. */
static int emit(struct conv *cv, uint64_t off, const uint8_t *buf, uint64_t n)
{
    int r;
    if (cv->has_backing && (r = block_read(cv->dst, off, cv->cmp, n)) < 0)
        return r;
    uint64_t run_start = 0, run_len = 0;     /* pending plain write */
    uint64_t gran = cv->step ? cv->step : n; /* -S 0: no zero detection, one granule */
    for (uint64_t p = 0; p < n; p += gran) {
        uint64_t len = n - p < gran ? n - p : gran;
        bool same = cv->has_backing ? memcmp(buf + p, cv->cmp + p, len) == 0
                                    : cv->step && img_is_zero(buf + p, len);
        if (!same && cv->compress && (off + p) % cv->step == 0) {
            if ((r = image_write_compressed(cv->dst, off + p, buf + p, len)) < 0)
                return r;
            continue;
        }
        if (!same) {
            if (!run_len)
                run_start = p;
            run_len += len;
            continue;
        }
        if (run_len && (r = block_write(cv->dst, off + run_start, buf + run_start, run_len)) < 0)
            return r;
        run_len = 0;
        /* An existing target must be zeroed explicitly; a fresh one reads zeroes already. */
        if (cv->existing && !cv->has_backing && (r = block_write_zeroes(cv->dst, off + p, len)) < 0)
            return r;
    }
    if (run_len && (r = block_write(cv->dst, off + run_start, buf + run_start, run_len)) < 0)
        return r;
    return 0;
}

static int copy_one(struct conv *cv, struct block_dev *src, uint64_t dst_base)
{
    uint64_t size = block_size(src), off = 0;
    while (off < size) {
        uint64_t n = size - off < CHUNK ? size - off : CHUNK;
        uint64_t pnum, host;
        unsigned st;
        int r = img_block_status(src, off, n, &pnum, &st, &host);
        if (r < 0)
            return r;
        bool zero = (st & IMAGE_STATUS_ZERO) || !(st & IMAGE_STATUS_DATA);
        /* A zero run can be skipped without reading it, in whole granules. */
        if (zero && !cv->existing && !cv->has_backing && cv->step &&
            (dst_base + off) % cv->step == 0 && pnum >= cv->step) {
            uint64_t skip = pnum - pnum % cv->step;
            if (off + pnum == size)
                skip = pnum;
            off += skip;
            cv->done += skip;
            img_progress(cv->progress, cv->done, cv->total);
            continue;
        }
        if ((r = block_read(src, off, cv->buf, n)) < 0) {
            img_err("convert: reading '%s' at offset %" PRIu64 " failed: %s%s", src->path, off,
                    strerror(-r), r == -EIO ? " (damaged image?)" : "");
            return 1; /* reported */
        }
        if ((r = emit(cv, dst_base + off, cv->buf, n)) < 0)
            return r;
        off += n;
        cv->done += n;
        img_progress(cv->progress, cv->done, cv->total);
    }
    return 0;
}

int img_convert(int argc, char **argv)
{
    struct img_opts o = {0};
    const char *fmt = NULL, *ofmt = "raw", *backing = NULL, *backing_fmt = NULL;
    bool compress = false, existing = false, progress = false, quiet = false, share = false;
    uint64_t sparse = 4096;
    int c;
    static const struct option longopts[] = {
        {"force-share", no_argument, NULL, 'U'},
        {0, 0, 0, 0},
    };
    while ((c = getopt_long(argc, argv, ":f:O:B:F:o:cnpqS:t:T:WUm:", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'O':
            ofmt = optarg;
            break;
        case 'B':
            backing = optarg;
            break;
        case 'F':
            backing_fmt = optarg;
            break;
        case 'o':
            if (!img_parse_opts("convert", optarg, &o))
                return IMG_EXIT_USAGE;
            break;
        case 'c':
            compress = true;
            break;
        case 'n':
            existing = true;
            break;
        case 'p':
            progress = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'S':
            if (!img_parse_size(optarg, &sparse)) {
                img_err("convert: invalid sparse size '%s'", optarg);
                return IMG_EXIT_USAGE;
            }
            break;
        case 'U':
            share = true; /* read the sources without locking them */
            break;
        case 't':
        case 'T':
        case 'W':
        case 'm':
            break; /* cache/parallelism: no-ops */
        default:
            return img_bad_option("convert", c, argv);
        }
    }
    if (quiet)
        progress = false;
    if (argc - optind < 2) {
        img_err("convert: need at least one source and a destination");
        return IMG_EXIT_USAGE;
    }
    if (!backing)
        backing = o.backing_file;
    if (!backing_fmt)
        backing_fmt = o.backing_fmt;
    const char *cfmt;
    if (!img_resolve_format("convert", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    const char *cofmt;
    if (!img_resolve_format("convert", "output format", ofmt, &cofmt))
        return IMG_EXIT_USAGE;
    if (strcmp(cofmt, "qcow2") && strcmp(cofmt, "raw")) {
        img_err("convert: output format '%s' is read-only in wirt (use qcow2 or raw)", ofmt);
        return IMG_EXIT_USAGE;
    }
    if (compress && strcmp(cofmt, "qcow2")) {
        img_err("convert: -c (compression) needs -O qcow2, not '%s'", cofmt);
        return IMG_EXIT_USAGE;
    }
    if (backing && strcmp(cofmt, "qcow2")) {
        img_err("convert: -B needs -O qcow2 (format '%s' has no backing files)", cofmt);
        return IMG_EXIT_USAGE;
    }
    const char *cbfmt;
    if (!img_resolve_format("convert", "backing format", backing_fmt, &cbfmt))
        return IMG_EXIT_USAGE;
    if (backing && !img_backing_name_ok("convert", backing, cbfmt))
        return IMG_EXIT_USAGE;

    int nsrc = argc - optind - 1;
    const char *dst_path = argv[argc - 1];
    struct block_dev **src = calloc((size_t)nsrc, sizeof(*src));
    struct conv cv = {.compress = compress, .existing = existing, .progress = progress};
    int ret = IMG_EXIT_FAIL;
    if (!src) {
        img_err("convert: out of memory");
        return IMG_EXIT_FAIL;
    }
    /* Like qemu-img, the sources (and their chains) are locked shared: nobody writes them
     * while they are copied, unless -U. */
    unsigned src_flags = BLOCK_OPEN_READ_ONLY | (share ? BLOCK_OPEN_NO_LOCK : 0);
    for (int i = 0; i < nsrc; i++) {
        if (img_open(argv[optind + i], cfmt, src_flags, &src[i]) < 0)
            goto out;
        cv.total += block_size(src[i]);
    }
    if (!img_target_not_source("convert", dst_path, src, (unsigned)nsrc))
        goto out;

    if (!existing) {
        o.c.format = cofmt;
        o.c.size = cv.total;
        o.c.backing_file = backing;
        o.c.backing_format = cbfmt;
        char err[512] = "";
        if (backing) {
            char bpath[PATH_MAX];
            struct block_dev *bbd;
            img_backing_path(dst_path, backing, bpath, sizeof(bpath));
            if (img_open(bpath, cbfmt, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bbd) < 0)
                goto out;
            struct stat st;
            if (stat(dst_path, &st) == 0 && img_chain_find(bbd, &st)) {
                img_err("convert: target '%s' is the backing file '%s' or in its chain: the new "
                        "image cannot be its own backing file",
                        dst_path, backing);
                block_close(bbd);
                goto out;
            }
            if (!cbfmt)
                o.c.backing_format = bbd->ops->format;
            block_close(bbd);
        }
        int r = image_create(dst_path, &o.c, err, sizeof(err));
        if (r < 0) {
            img_err("convert: %s", err[0] ? err : strerror(-r));
            goto out;
        }
    }
    if (img_open(dst_path, cofmt, backing ? 0 : BLOCK_OPEN_NO_BACKING, &cv.dst) < 0)
        goto out;
    cv.has_backing = cv.dst->backing != NULL;
    if (block_size(cv.dst) < cv.total) {
        img_err("convert: '%s' (%" PRIu64 " bytes) is smaller than the source (%" PRIu64 ")",
                dst_path, block_size(cv.dst), cv.total);
        goto out;
    }
    uint32_t cs = image_cluster_size(cv.dst);
    cv.step = compress ? (cs ? cs : 65536) : sparse;
    if (cv.step > CHUNK || (cv.step && CHUNK % cv.step)) {
        img_err("convert: sparse size %" PRIu64 " must divide %u", cv.step, CHUNK);
        ret = IMG_EXIT_USAGE;
        goto out;
    }
    cv.buf = malloc(CHUNK);
    cv.cmp = malloc(CHUNK);
    if (!cv.buf || !cv.cmp) {
        img_err("convert: out of memory");
        goto out;
    }
    uint64_t base = 0;
    for (int i = 0; i < nsrc; i++) {
        int r = copy_one(&cv, src[i], base);
        if (r > 0)
            goto out;
        if (r < 0) {
            img_err("convert: copying '%s' to '%s' failed: %s", argv[optind + i], dst_path,
                    strerror(-r));
            goto out;
        }
        base += block_size(src[i]);
    }
    int r = block_flush(cv.dst);
    if (r < 0) {
        img_err("convert: flushing '%s' failed: %s", dst_path, strerror(-r));
        goto out;
    }
    img_progress_done(progress);
    ret = IMG_EXIT_OK;
out:
    if (cv.dst)
        block_close(cv.dst);
    for (int i = 0; i < nsrc; i++)
        if (src[i])
            block_close(src[i]);
    free(src);
    free(cv.buf);
    free(cv.cmp);
    return ret;
}
