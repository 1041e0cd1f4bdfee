/* SPDX-License-Identifier: MIT */
/* `wirt img map`: which layer of the chain provides each area, and where. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "img/img_int.h"

struct map_entry {
    uint64_t start, length, offset; /* offset UINT64_MAX = none */
    unsigned depth;
    bool present, zero, data;
    const char *file;
};

static void print_entry(const struct map_entry *e, bool json, bool *first)
{
    if (json) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %u, \"present\": "
               "%s, \"zero\": %s, \"data\": %s",
               *first ? "[" : ",\n", e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->offset != UINT64_MAX)
            printf(", \"offset\": %" PRIu64, e->offset);
        printf("}");
    } else if (e->data && e->offset != UINT64_MAX) {
        char a[24], b[24], c[24];
        snprintf(a, sizeof(a), "%#" PRIx64, e->start);
        snprintf(b, sizeof(b), "%#" PRIx64, e->length);
        snprintf(c, sizeof(c), "%#" PRIx64, e->offset);
        printf("%-16s%-16s%-16s%s\n", a, b, c, e->file);
    }
    *first = false;
}

/* Status of the run at `off` (up to len), resolved through the chain. */
static int chain_status(struct block_dev *top, uint64_t off, uint64_t len, struct map_entry *e)
{
    unsigned depth = 0;
    struct block_dev *bd = top;
    memset(e, 0, sizeof(*e));
    e->start = off;
    e->offset = UINT64_MAX;
    for (; bd; bd = bd->backing, depth++) {
        uint64_t pnum, host = 0;
        unsigned st;
        uint64_t l = len;
        /* A backing file shorter than the overlay reads as zeroes past its end. */
        if (off >= block_size(bd))
            break;
        if (l > block_size(bd) - off)
            l = block_size(bd) - off;
        int r = img_block_status(bd, off, l, &pnum, &st, &host);
        if (r < 0)
            return r;
        len = pnum;
        if (st & IMAGE_STATUS_ALLOCATED) {
            e->depth = depth;
            e->present = true;
            e->zero = st & IMAGE_STATUS_ZERO;
            e->data = (st & IMAGE_STATUS_DATA) && !e->zero;
            if (e->data && !(st & IMAGE_STATUS_COMPRESSED) &&
                (host || !strcmp(bd->ops->format, "raw")))
                e->offset = host ? host : off;
            e->file = bd->path;
            e->length = len;
            return 0;
        }
    }
    /* Nowhere allocated: reported at the deepest layer, as qemu-img does. */
    e->depth = depth ? depth - 1 : 0;
    e->zero = true;
    e->file = top->path;
    e->length = len;
    return 0;
}

int img_map(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'O'},
        {"format", required_argument, NULL, 'f'},
        {"force-share", no_argument, NULL, 'U'},
        {0, 0, 0, 0},
    };
    const char *fmt = NULL, *output = "human";
    int c;
    while ((c = getopt_long(argc, argv, ":f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'O':
            output = optarg;
            break;
        case 'U':
            break;
        default:
            return img_bad_option("map", c, argv);
        }
    }
    bool json;
    if (!img_parse_output("map", output, &json))
        return IMG_EXIT_USAGE;
    if (!img_one_file_operand("map", argc))
        return IMG_EXIT_USAGE;
    const char *cfmt;
    if (!img_resolve_format("map", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    struct block_dev *bd;
    if (img_open(argv[optind], cfmt, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bd) < 0)
        return IMG_EXIT_FAIL;
    bool first = true;
    if (!json)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    struct map_entry cur = {0}, e;
    bool have = false;
    uint64_t size = block_size(bd);
    for (uint64_t off = 0; off < size; off += e.length) {
        int r = chain_status(bd, off, size - off, &e);
        if (r < 0) {
            img_err("map: '%s': block status at offset %" PRIu64 " failed: %s", argv[optind], off,
                    strerror(-r));
            block_close(bd);
            return IMG_EXIT_FAIL;
        }
        if (have && cur.depth == e.depth && cur.present == e.present && cur.zero == e.zero &&
            cur.data == e.data && cur.file == e.file &&
            ((cur.offset == UINT64_MAX && e.offset == UINT64_MAX) ||
             (cur.offset != UINT64_MAX && e.offset == cur.offset + cur.length))) {
            cur.length += e.length;
            continue;
        }
        if (have)
            print_entry(&cur, json, &first);
        cur = e;
        have = true;
    }
    if (have)
        print_entry(&cur, json, &first);
    if (json)
        printf(first ? "[]\n" : "]\n");
    block_close(bd);
    return IMG_EXIT_OK;
}
