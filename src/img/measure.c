/* SPDX-License-Identifier: MIT */
/*
 * `wirt img measure`: the file size a conversion would need.  For qcow2 the
 * metadata estimate follows the layout rules: one header cluster, L2
 * tables covering every cluster, an L1 table covering the L2 tables, and
 * refcount blocks plus a refcount table covering everything including
 * themselves (computed to a fixed point).  "fully allocated" counts every
 * data cluster; "required" counts only clusters the source has data in.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "img/img_int.h"

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

static uint64_t refcount_meta(uint64_t clusters, uint64_t cs, unsigned refcount_bits)
{
    uint64_t per_table = cs / 8, per_block = cs * 8 / refcount_bits;
    uint64_t table = 0, blocks = 0, n = 0, last;
    do {
        last = n;
        blocks = div_up(clusters + table + blocks, per_block);
        table = div_up(blocks, per_table);
        n = clusters + blocks + table;
    } while (n != last);
    return (blocks + table) * cs;
}

static uint64_t qcow2_full_size(uint64_t size, uint64_t cs, unsigned refcount_bits)
{
    uint64_t aligned = div_up(size, cs) * cs, meta = cs;
    uint64_t nl2e = div_up(aligned / cs, cs / 8) * (cs / 8);
    meta += nl2e * 8;
    uint64_t nl1e = div_up(nl2e * 8 / cs, cs / 8) * (cs / 8);
    meta += nl1e * 8;
    meta += refcount_meta((meta + aligned) / cs, cs, refcount_bits);
    return meta + aligned;
}

int img_measure(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'J'},
        {"size", required_argument, NULL, 'z'},
        {"force-share", no_argument, NULL, 'U'},
        {0, 0, 0, 0},
    };
    struct img_opts o = {0};
    const char *fmt = NULL, *ofmt = "raw", *output = "human", *sizearg = NULL;
    bool ok;
    int c;
    while ((c = getopt_long(argc, argv, ":f:O:o:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'O':
            ofmt = optarg;
            break;
        case 'o':
            if (!img_parse_opts("measure", optarg, &o))
                return IMG_EXIT_USAGE;
            break;
        case 'J':
            output = optarg;
            break;
        case 'z':
            sizearg = optarg;
            break;
        case 'q':
        case 'U':
            break;
        default:
            return img_bad_option("measure", c, argv);
        }
    }
    bool json;
    if (!img_parse_output("measure", output, &json))
        return IMG_EXIT_USAGE;
    if ((sizearg != NULL) == (optind < argc) || argc - optind > 1) {
        img_err("measure: give either --size SIZE or one FILE");
        return IMG_EXIT_USAGE;
    }
    const char *cofmt = img_format(ofmt, &ok);
    if (!ok || (strcmp(cofmt, "qcow2") && strcmp(cofmt, "raw"))) {
        img_err("measure: output format '%s' is not qcow2 or raw", ofmt);
        return IMG_EXIT_USAGE;
    }
    const char *cfmt;
    if (!img_resolve_format("measure", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    bool qcow2 = !strcmp(cofmt, "qcow2");
    uint64_t cs = o.c.cluster_size ? o.c.cluster_size : 65536;
    unsigned rb = o.c.refcount_bits ? o.c.refcount_bits : 16;
    uint64_t size, data = 0;
    bool bitmaps = false;
    if (sizearg) {
        if (!img_parse_size(sizearg, &size)) {
            img_err("measure: invalid size '%s'", sizearg);
            return IMG_EXIT_USAGE;
        }
    } else {
        struct block_dev *bd;
        if (img_open(argv[optind], cfmt, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bd) < 0)
            return IMG_EXIT_FAIL;
        size = block_size(bd);
        bitmaps = !strcmp(bd->ops->format, "qcow2"); /* sources that can hold bitmaps */
        /* Count the clusters (of the output's size) the source has data in. */
        uint64_t gran = qcow2 ? cs : 1;
        for (uint64_t off = 0, pnum; off < size; off += pnum) {
            uint64_t host;
            unsigned st;
            int r = img_block_status(bd, off, size - off, &pnum, &st, &host);
            if (r < 0) {
                img_err("measure: '%s': block status failed: %s", argv[optind], strerror(-r));
                block_close(bd);
                return IMG_EXIT_FAIL;
            }
            if ((st & IMAGE_STATUS_ZERO) || !(st & IMAGE_STATUS_DATA))
                continue;
            uint64_t end = div_up(off + pnum, gran) * gran;
            if (end > size && !qcow2)
                end = size;
            data += end - off / gran * gran;
            pnum = end - off < size - off ? end - off : size - off;
        }
        block_close(bd);
    }
    uint64_t required, full;
    if (qcow2) {
        uint64_t vsize = div_up(size, cs) * cs;
        full = qcow2_full_size(size, cs, rb);
        required = full - vsize + data;
        if (o.c.preallocation && strcmp(o.c.preallocation, "off") &&
            strcmp(o.c.preallocation, "metadata"))
            required = full;
    } else {
        /* A raw file is measured at its full size whatever the source holds (as qemu-img). */
        full = size;
        required = size;
    }
    if (json) {
        struct json_object *j = json_object_new_object();
        if (bitmaps && qcow2)
            json_object_object_add(j, "bitmaps", json_object_new_int64(0));
        json_object_object_add(j, "required", json_object_new_int64((int64_t)required));
        json_object_object_add(j, "fully-allocated", json_object_new_int64((int64_t)full));
        img_print_json(j);
        json_object_put(j);
    } else {
        printf("required size: %" PRIu64 "\nfully allocated size: %" PRIu64 "\n", required, full);
        if (bitmaps && qcow2)
            printf("bitmaps size: 0\n");
    }
    return IMG_EXIT_OK;
}
