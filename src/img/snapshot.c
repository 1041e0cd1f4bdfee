/* SPDX-License-Identifier: MIT */
/* `wirt img snapshot`: create, list, apply and delete internal snapshots. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/img_int.h"

int img_snapshot(int argc, char **argv)
{
    const char *fmt = NULL, *name = NULL;
    char action = 0;
    bool quiet = false;
    int c;
    while ((c = getopt(argc, argv, ":f:c:a:d:lqU")) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'U':
            break;
        case 'c':
        case 'a':
        case 'd':
        case 'l':
            if (action) {
                img_err("snapshot: give only one of -c, -l, -a, -d");
                return IMG_EXIT_USAGE;
            }
            action = (char)c;
            name = c == 'l' ? NULL : optarg;
            break;
        default:
            return img_bad_option("snapshot", c, argv);
        }
    }
    if (!action) {
        img_err("snapshot: need one of -c NAME, -l, -a NAME, -d NAME");
        return IMG_EXIT_USAGE;
    }
    if (!img_one_file_operand("snapshot", argc))
        return IMG_EXIT_USAGE;
    if (name && !name[0]) {
        img_err("snapshot: empty snapshot name");
        return IMG_EXIT_USAGE;
    }
    const char *path = argv[optind];
    const char *cfmt;
    if (!img_resolve_format("snapshot", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    struct block_dev *bd;
    unsigned flags = BLOCK_OPEN_NO_BACKING;
    if (action == 'l')
        flags |= BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK;
    if (img_open(path, cfmt, flags, &bd) < 0)
        return IMG_EXIT_FAIL;
    int r = 0;
    const char *what = "";
    switch (action) {
    case 'l': {
        struct image_snapshot *s = NULL;
        unsigned n = 0;
        what = "list snapshots";
        r = image_snapshot_list(bd, &s, &n);
        if (r == 0 && !quiet) {
            printf("Snapshot list:\n");
            img_print_snapshots(s, n);
        }
        free(s);
        break;
    }
    case 'c':
        what = "create snapshot";
        r = image_snapshot_create(bd, name);
        break;
    case 'a':
        what = "apply snapshot";
        r = image_snapshot_apply(bd, name);
        break;
    case 'd':
        what = "delete snapshot";
        r = image_snapshot_delete(bd, name);
        break;
    }
    if (r == 0 && action != 'l')
        r = block_flush(bd);
    block_close(bd);
    if (r < 0) {
        const char *why = r == -ENOTSUP  ? "the format does not support snapshots"
                          : r == -ENOENT ? "no such snapshot"
                          : r == -EEXIST ? "a snapshot with that name exists"
                                         : strerror(-r);
        if (name)
            img_err("snapshot: '%s': cannot %s '%s': %s", path, what, name, why);
        else
            img_err("snapshot: '%s': cannot %s: %s", path, what, why);
        return IMG_EXIT_FAIL;
    }
    return IMG_EXIT_OK;
}
