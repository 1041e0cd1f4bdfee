/* SPDX-License-Identifier: MIT */
/* `wirt img create`: a new qcow2 or raw image, optionally over a backing file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img/img_int.h"

/* True if the file at `path` is `bd` or one of its backing files. */
static bool chain_contains(struct block_dev *bd, const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && img_chain_find(bd, &st);
}

int img_create(int argc, char **argv)
{
    struct img_opts o = {0};
    const char *fmt = "raw", *backing = NULL, *backing_fmt = NULL;
    bool quiet = false, unsafe = false;
    int c;

    while ((c = getopt(argc, argv, ":f:b:F:o:quh")) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'b':
            backing = optarg;
            break;
        case 'F':
            backing_fmt = optarg;
            break;
        case 'o':
            if (!img_parse_opts("create", optarg, &o))
                return IMG_EXIT_USAGE;
            break;
        case 'q':
            quiet = true;
            break;
        case 'u':
            unsafe = true;
            break;
        default:
            return img_bad_option("create", c, argv);
        }
    }
    if (!backing)
        backing = o.backing_file;
    if (!backing_fmt)
        backing_fmt = o.backing_fmt;
    if (optind >= argc) {
        img_err("create: missing file name");
        return IMG_EXIT_USAGE;
    }
    if (argc - optind > 2) {
        img_err("create: unexpected argument '%s'", argv[optind + 2]);
        return IMG_EXIT_USAGE;
    }
    const char *path = argv[optind];
    const char *cfmt;
    if (!img_resolve_format("create", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    if (strcmp(cfmt, "qcow2") && strcmp(cfmt, "raw")) {
        img_err("create: format '%s' is read-only in wirt (create qcow2 or raw)", fmt);
        return IMG_EXIT_USAGE;
    }
    const char *cbfmt;
    if (!img_resolve_format("create", "backing format", backing_fmt, &cbfmt))
        return IMG_EXIT_USAGE;
    uint64_t size = o.c.size;
    bool have_size = size != 0;
    if (argc - optind == 2) {
        if (!img_parse_size(argv[optind + 1], &size)) {
            img_err("create: invalid size '%s' (use e.g. 512, 64k, 10M, 1G, 2T)", argv[optind + 1]);
            return IMG_EXIT_USAGE;
        }
        have_size = true;
    }
    if (backing && !strcmp(cfmt, "raw")) {
        img_err("create: format 'raw' does not support backing files");
        return IMG_EXIT_USAGE;
    }
    if (!backing && !have_size) {
        img_err("create: missing size for '%s'", path);
        return IMG_EXIT_USAGE;
    }
    if (!strcmp(cfmt, "raw") &&
        (o.have_cluster_size || o.c.refcount_bits || o.c.compression_type || o.c.lazy_refcounts)) {
        img_err("create: qcow2 options given for format 'raw'");
        return IMG_EXIT_USAGE;
    }

    if (backing) {
        char bpath[PATH_MAX];
        if (!img_backing_name_ok("create", backing, cbfmt))
            return IMG_EXIT_USAGE;
        img_backing_path(path, backing, bpath, sizeof(bpath));
        struct stat sa, sb;
        if (!strcmp(bpath, path) || (stat(path, &sa) == 0 && stat(bpath, &sb) == 0 &&
                                     sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)) {
            img_err("create: backing file loop: '%s' cannot be its own backing file", path);
            return IMG_EXIT_FAIL;
        }
        struct block_dev *bbd = NULL;
        char err[512] = "";
        int r = block_open(bpath, cbfmt, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bbd, err,
                           sizeof(err));
        if (r < 0 && !unsafe) {
            img_err("create: could not open backing file '%s': %s", backing,
                    err[0] ? err : strerror(-r));
            return IMG_EXIT_FAIL;
        }
        if (r < 0 && !have_size) {
            img_err("create: -u needs a size (backing file '%s' cannot be opened)", backing);
            return IMG_EXIT_USAGE;
        }
        if (bbd) {
            if (chain_contains(bbd, path)) {
                block_close(bbd);
                img_err("create: backing file loop: '%s' would be its own ancestor", path);
                return IMG_EXIT_FAIL;
            }
            if (!have_size)
                size = block_size(bbd);
            if (!cbfmt)
                cbfmt = bbd->ops->format;
            block_close(bbd);
        }
    }

    o.c.format = cfmt;
    o.c.size = size;
    o.c.backing_file = backing;
    o.c.backing_format = cbfmt;
    if (!quiet) {
        printf("Formatting '%s', fmt=%s", path, cfmt);
        if (!strcmp(cfmt, "qcow2"))
            printf(" cluster_size=%" PRIu32 " compression_type=%s",
                   o.c.cluster_size ? o.c.cluster_size : 65536,
                   o.c.compression_type ? o.c.compression_type : "zlib");
        if (o.c.preallocation)
            printf(" preallocation=%s", o.c.preallocation);
        printf(" size=%" PRIu64, size);
        if (backing)
            printf(" backing_file=%s", backing);
        if (cbfmt)
            printf(" backing_fmt=%s", cbfmt);
        if (!strcmp(cfmt, "qcow2"))
            printf(" lazy_refcounts=%s refcount_bits=%u", o.c.lazy_refcounts ? "on" : "off",
                   o.c.refcount_bits ? o.c.refcount_bits : 16);
        printf("\n");
        fflush(stdout);
    }
    char err[512] = "";
    int r = image_create(path, &o.c, err, sizeof(err));
    if (r < 0) {
        if (err[0])
            img_err("create: %s", err);
        else
            img_err("create: %s: %s", path, strerror(-r));
        return IMG_EXIT_FAIL;
    }
    return IMG_EXIT_OK;
}
