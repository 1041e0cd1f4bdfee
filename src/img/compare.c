/* SPDX-License-Identifier: MIT */
/*
 * `wirt img compare`: exit 0 if the guest-visible contents are identical,
 * 1 if they differ (naming the first differing sector), 2 on error.  With
 * different sizes the extra part of the larger image must read as zeroes,
 * unless -s (strict) makes any size difference a mismatch.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/img_int.h"

#define CHUNK (1u << 20)
enum { CMP_SAME = 0, CMP_DIFF = 1, CMP_ERROR = 2 };

/* True if an area reads as zeroes for certain, without reading it. */
static bool known_zero(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum)
{
    uint64_t host;
    unsigned st;
    if (img_block_status(bd, off, len, pnum, &st, &host) < 0)
        return false;
    /* Only the top layer's word is final for zeroes unless nothing is below. */
    if (st & IMAGE_STATUS_ZERO)
        return true;
    return !(st & IMAGE_STATUS_DATA) && !bd->backing;
}

/* qemu-img names the sector holding the first differing byte. */
static int report_mismatch(uint64_t at, bool quiet)
{
    if (!quiet)
        printf("Content mismatch at offset %" PRIu64 "!\n", at & ~(uint64_t)511);
    return CMP_DIFF;
}

static int compare_range(struct block_dev *a, struct block_dev *b, uint64_t off, uint64_t end,
                         uint8_t *ba, uint8_t *bb, bool quiet)
{
    while (off < end) {
        uint64_t n = end - off < CHUNK ? end - off : CHUNK, pa, pb;
        if (known_zero(a, off, n, &pa) && known_zero(b, off, n, &pb)) {
            off += pa < pb ? pa : pb;
            continue;
        }
        int r = block_read(a, off, ba, n);
        if (r == 0)
            r = block_read(b, off, bb, n);
        if (r < 0) {
            img_err("compare: read error at offset %" PRIu64 ": %s", off, strerror(-r));
            return CMP_ERROR;
        }
        if (memcmp(ba, bb, n)) {
            uint64_t i = 0;
            while (ba[i] == bb[i])
                i++;
            return report_mismatch(off + i, quiet);
        }
        off += n;
    }
    return CMP_SAME;
}

/* The part of the larger image beyond the smaller one must be zeroes. */
static int check_tail(struct block_dev *bd, uint64_t off, uint64_t end, uint8_t *buf, bool quiet)
{
    while (off < end) {
        uint64_t n = end - off < CHUNK ? end - off : CHUNK, p;
        if (known_zero(bd, off, n, &p)) {
            off += p;
            continue;
        }
        int r = block_read(bd, off, buf, n);
        if (r < 0) {
            img_err("compare: read error at offset %" PRIu64 ": %s", off, strerror(-r));
            return CMP_ERROR;
        }
        if (!img_is_zero(buf, n)) {
            uint64_t i = 0;
            while (!buf[i])
                i++;
            return report_mismatch(off + i, quiet);
        }
        off += n;
    }
    return CMP_SAME;
}

int img_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"force-share", no_argument, NULL, 'U'},
        {0, 0, 0, 0},
    };
    const char *fmt1 = NULL, *fmt2 = NULL;
    bool strict = false, quiet = false, ok1, ok2;
    int c;
    while ((c = getopt_long(argc, argv, ":f:F:sqpU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt1 = optarg;
            break;
        case 'F':
            fmt2 = optarg;
            break;
        case 's':
            strict = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'p':
        case 'U':
            break;
        default:
            img_bad_option("compare", c, argv);
            return CMP_ERROR;
        }
    }
    if (argc - optind != 2) {
        img_err("compare: need exactly two files");
        return CMP_ERROR;
    }
    if (!fmt2)
        fmt2 = fmt1;
    const char *c1 = img_format(fmt1, &ok1), *c2 = img_format(fmt2, &ok2);
    if (!ok1 || !ok2) {
        img_err("compare: unknown format '%s'", !ok1 ? fmt1 : fmt2);
        return CMP_ERROR;
    }
    struct block_dev *a = NULL, *b = NULL;
    int ret = CMP_ERROR;
    uint8_t *ba = malloc(CHUNK), *bb = malloc(CHUNK);
    if (!ba || !bb) {
        img_err("compare: out of memory");
        goto out;
    }
    if (img_open(argv[optind], c1, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &a) < 0 ||
        img_open(argv[optind + 1], c2, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &b) < 0)
        goto out;
    uint64_t sa = block_size(a), sb = block_size(b), common = sa < sb ? sa : sb;
    if (sa != sb) {
        if (strict) {
            if (!quiet)
                printf("Strict mode: Image size mismatch!\n");
            ret = CMP_DIFF;
            goto out;
        }
        if (!quiet)
            printf("Warning: Image size mismatch!\n");
    }
    ret = compare_range(a, b, 0, common, ba, bb, quiet);
    if (ret == CMP_SAME && sa != sb)
        ret = check_tail(sa > sb ? a : b, common, sa > sb ? sa : sb, ba, quiet);
    if (ret == CMP_SAME && !quiet)
        printf("Images are identical.\n");
out:
    if (a)
        block_close(a);
    if (b)
        block_close(b);
    free(ba);
    free(bb);
    return ret;
}
