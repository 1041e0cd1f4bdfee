/* SPDX-License-Identifier: MIT */
/*
 * `wirt img rebase`: points an overlay at a new backing file.  Safe mode
 * (the default) first copies into the overlay every area it does not
 * itself provide whose content differs between the old and the new
 * backing chain, so the guest-visible content is unchanged.  -u only
 * rewrites the header.  -b "" detaches the overlay from any backing file.
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

#define CHUNK (1u << 20)

int img_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *nb = NULL, *nbfmt = NULL;
    bool unsafe = false, quiet = false, progress = false;
    int c;
    while ((c = getopt(argc, argv, ":f:b:F:t:T:upqU")) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'b':
            nb = optarg;
            break;
        case 'F':
            nbfmt = optarg;
            break;
        case 'u':
            unsafe = true;
            break;
        case 'p':
            progress = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 't':
        case 'T':
        case 'U':
            break;
        default:
            return img_bad_option("rebase", c, argv);
        }
    }
    (void)quiet;
    if (!nb) {
        img_err("rebase: -b NEW_BACKING is required (use -b \"\" to remove the backing file)");
        return IMG_EXIT_USAGE;
    }
    if (!img_one_file_operand("rebase", argc))
        return IMG_EXIT_USAGE;
    const char *path = argv[optind];
    const char *cfmt;
    if (!img_resolve_format("rebase", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    const char *cnbfmt;
    if (!img_resolve_format("rebase", "backing format", nbfmt, &cnbfmt))
        return IMG_EXIT_USAGE;
    bool detach = !nb[0];
    if (!detach && !img_backing_name_ok("rebase", nb, cnbfmt))
        return IMG_EXIT_USAGE;
    struct block_dev *bd = NULL, *nbd = NULL;
    uint8_t *a = NULL, *b = NULL;
    int ret = IMG_EXIT_FAIL, r;

    /* The new chain first: if the overlay is in it, that is a loop (and opening the overlay
     * for writing first would make its shared lock there look like another user). */
    if (!detach) {
        char npath[PATH_MAX];
        char err[512] = "";
        img_backing_path(path, nb, npath, sizeof(npath));
        /* Safe mode reads the new chain: lock it shared.  -u only looks at its format. */
        unsigned nflags = BLOCK_OPEN_READ_ONLY | (unsafe ? BLOCK_OPEN_NO_LOCK : 0);
        r = block_open(npath, cnbfmt, nflags, &nbd, err, sizeof(err));
        if (r < 0 && !unsafe) {
            img_err("rebase: could not open new backing file '%s': %s", nb,
                    err[0] ? err : strerror(-r));
            goto out;
        }
        if (nbd) {
            struct stat st;
            if (stat(path, &st) == 0 && img_chain_find(nbd, &st)) {
                img_err("rebase: backing file loop: '%s' is in the chain of '%s'", path, nb);
                goto out;
            }
            if (!cnbfmt)
                cnbfmt = nbd->ops->format;
        }
    }
    if (img_open(path, cfmt, unsafe ? BLOCK_OPEN_NO_BACKING : 0, &bd) < 0)
        goto out;

    if (!unsafe) {
        uint32_t cs = image_cluster_size(bd);
        uint64_t step = cs ? cs : 65536, size = block_size(bd);
        a = malloc(CHUNK);
        b = malloc(CHUNK);
        if (!a || !b) {
            img_err("rebase: out of memory");
            goto out;
        }
        for (uint64_t off = 0, pnum; off < size; off += pnum) {
            uint64_t host, n = size - off < CHUNK ? size - off : CHUNK;
            unsigned st;
            if ((r = img_block_status(bd, off, n, &pnum, &st, &host)) < 0) {
                img_err("rebase: '%s': block status failed: %s", path, strerror(-r));
                goto out;
            }
            img_progress(progress, off, size);
            if (st & IMAGE_STATUS_ALLOCATED)
                continue;
            /* Old view: the overlay reads through to its old chain here. */
            if ((r = block_read(bd, off, a, pnum)) < 0) {
                img_err("rebase: reading '%s' at %" PRIu64 " failed: %s", path, off, strerror(-r));
                goto out;
            }
            memset(b, 0, pnum);
            if (nbd && off < block_size(nbd)) {
                uint64_t m = pnum < block_size(nbd) - off ? pnum : block_size(nbd) - off;
                if ((r = block_read(nbd, off, b, m)) < 0) {
                    img_err("rebase: reading '%s' at %" PRIu64 " failed: %s", nb, off,
                            strerror(-r));
                    goto out;
                }
            }
            for (uint64_t p = 0; p < pnum;) {
                /* Whole clusters where possible, so a write does not copy-on-write. */
                uint64_t len = step - (off + p) % step;
                if (len > pnum - p)
                    len = pnum - p;
                if (memcmp(a + p, b + p, len) && (r = block_write(bd, off + p, a + p, len)) < 0) {
                    img_err("rebase: writing '%s' at %" PRIu64 " failed: %s", path, off + p,
                            strerror(-r));
                    goto out;
                }
                p += len;
            }
        }
    }
    r = image_change_backing(bd, detach ? NULL : nb, detach ? NULL : cnbfmt);
    if (r == 0)
        r = block_flush(bd);
    if (r < 0) {
        img_err("rebase: '%s': cannot change the backing file: %s", path,
                r == -ENOTSUP ? "the format has no backing files" : strerror(-r));
        goto out;
    }
    img_progress_done(progress);
    ret = IMG_EXIT_OK;
out:
    if (nbd)
        block_close(nbd);
    if (bd)
        block_close(bd);
    free(a);
    free(b);
    return ret;
}
