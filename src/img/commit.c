/* SPDX-License-Identifier: MIT */
/*
 * `wirt img commit`: copies the data an overlay (and any images between
 * it and BASE) holds into BASE, so BASE then has the content the overlay
 * showed.  Then, as qemu-img does, the overlay is emptied (its clusters
 * discarded, so reads fall through to BASE) unless -d is given or -b names
 * a deeper BASE (which implies -d: the images in between would otherwise
 * change content under the overlay).
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

int img_commit(int argc, char **argv)
{
    const char *fmt = NULL, *base_arg = NULL;
    bool quiet = false, progress = false, keep = false;
    int c;
    while ((c = getopt(argc, argv, ":f:b:t:r:dpq")) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'b':
            base_arg = optarg;
            break;
        case 'd':
            keep = true;
            break;
        case 't':
        case 'r':
            break; /* cache mode, rate limit: no-ops */
        case 'p':
            progress = true;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            return img_bad_option("commit", c, argv);
        }
    }
    if (!img_one_file_operand("commit", argc))
        return IMG_EXIT_USAGE;
    const char *path = argv[optind];
    const char *cfmt;
    if (!img_resolve_format("commit", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    struct block_dev *top = NULL, *base = NULL;
    uint8_t *buf = NULL;
    int ret = IMG_EXIT_FAIL;
    /* The chain is only read, and locked shared so that nobody else writes it meanwhile; the
     * one writer is the separate handle on BASE. */
    if (img_open(path, cfmt, BLOCK_OPEN_READ_ONLY, &top) < 0)
        return IMG_EXIT_FAIL;
    if (!top->backing) {
        img_err("commit: '%s' has no backing file", path);
        goto out;
    }
    struct block_dev *bchain = top->backing;
    if (base_arg) {
        struct stat st;
        if (stat(base_arg, &st) < 0) {
            img_err("commit: base '%s': %s", base_arg, strerror(errno));
            goto out;
        }
        bchain = img_chain_find(bchain, &st);
        if (!bchain) {
            img_err("commit: '%s' is not in the backing chain of '%s'", base_arg, path);
            goto out;
        }
    }
    /* BASE keeps its own backing chain: partial-cluster writes copy from it.  The chain's
     * shared lock on BASE would keep this writer out: hand BASE over to it. */
    block_unlock(bchain);
    if (img_open(bchain->path, bchain->ops->format, 0, &base) < 0)
        goto out;
    uint64_t size = block_size(top);
    if (block_size(base) < size) {
        int r = image_truncate(base, size);
        if (r < 0) {
            img_err("commit: cannot grow base '%s' to %" PRIu64 " bytes: %s", base->path, size,
                    strerror(-r));
            goto out;
        }
    }
    buf = malloc(CHUNK);
    if (!buf) {
        img_err("commit: out of memory");
        goto out;
    }
    for (uint64_t off = 0; off < size;) {
        uint64_t n = size - off < CHUNK ? size - off : CHUNK;
        bool allocated = false;
        /* A run is copied if any layer above BASE provides it. */
        for (struct block_dev *l = top; l != bchain; l = l->backing) {
            uint64_t pnum, host;
            unsigned st;
            if (off >= block_size(l))
                continue;
            uint64_t ln = n < block_size(l) - off ? n : block_size(l) - off;
            int r = img_block_status(l, off, ln, &pnum, &st, &host);
            if (r < 0) {
                img_err("commit: '%s': block status failed: %s", l->path, strerror(-r));
                goto out;
            }
            n = pnum;
            if (st & IMAGE_STATUS_ALLOCATED)
                allocated = true;
        }
        if (allocated) {
            int r = block_read(top, off, buf, n);
            if (r == 0)
                r = block_write(base, off, buf, n);
            if (r < 0) {
                img_err("commit: copying offset %" PRIu64 " into '%s' failed: %s", off, base->path,
                        strerror(-r));
                goto out;
            }
        }
        off += n;
        img_progress(progress, off, size);
    }
    int r = block_flush(base);
    if (r < 0) {
        img_err("commit: flushing '%s' failed: %s", base->path, strerror(-r));
        goto out;
    }
    if (!keep && bchain == top->backing) {
        /* Open the overlay without its chain: a discard then leaves clusters unallocated
         * (reading through to BASE) rather than writing zero clusters that hide it. */
        struct block_dev *ov;
        block_close(base);
        base = NULL;
        block_close(top);
        top = NULL;
        if (img_open(path, cfmt, BLOCK_OPEN_NO_BACKING, &ov) < 0)
            goto out;
        r = block_discard(ov, 0, block_size(ov));
        if (r == 0)
            r = block_flush(ov);
        block_close(ov);
        if (r < 0 && r != -ENOTSUP) {
            img_err("commit: emptying '%s' failed: %s", path, strerror(-r));
            goto out;
        }
    }
    img_progress_done(progress);
    if (!quiet)
        printf("Image committed.\n");
    ret = IMG_EXIT_OK;
out:
    if (base)
        block_close(base);
    if (top)
        block_close(top);
    free(buf);
    return ret;
}
