/* SPDX-License-Identifier: MIT */
/* `wirt img resize`: grow or (with --shrink) shrink an image. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "img/img_int.h"

int img_resize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"shrink", no_argument, NULL, 'S'},
        {"preallocation", required_argument, NULL, 'P'},
        {"format", required_argument, NULL, 'f'},
        {0, 0, 0, 0},
    };
    const char *fmt = NULL;
    bool shrink = false, quiet = false;
    int c;
    /* "-1G" must reach us as an operand, not as flags: stop option parsing at it. */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9') {
            argc = i + 1; /* it must be the last operand */
            break;
        }
    }
    while ((c = getopt_long(argc, argv, "+:f:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'S':
            shrink = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'U':
            break;
        case 'P':
            if (strcmp(optarg, "off")) {
                img_err("resize: --preallocation=%s is not supported", optarg);
                return IMG_EXIT_USAGE;
            }
            break;
        default:
            return img_bad_option("resize", c, argv);
        }
    }
    /* getopt stopped at the first operand ('+'): collect the remaining flags after FILE. */
    const char *file = NULL, *sizearg = NULL;
    for (int i = optind; i < argc; i++) {
        if (!strcmp(argv[i], "--shrink"))
            shrink = true;
        else if (!strcmp(argv[i], "-q"))
            quiet = true;
        else if (!file)
            file = argv[i];
        else if (!sizearg)
            sizearg = argv[i];
        else {
            img_err("resize: unexpected argument '%s'", argv[i]);
            return IMG_EXIT_USAGE;
        }
    }
    if (!file || !sizearg) {
        img_err("resize: need FILE and [+|-]SIZE");
        return IMG_EXIT_USAGE;
    }
    int sign = 0;
    const char *s = sizearg;
    if (*s == '+' || *s == '-')
        sign = *s++ == '+' ? 1 : -1;
    uint64_t n;
    if (!img_parse_size(s, &n)) {
        img_err("resize: invalid size '%s' (use e.g. 10G, +1G, -512M)", sizearg);
        return IMG_EXIT_USAGE;
    }
    const char *cfmt;
    if (!img_resolve_format("resize", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    struct block_dev *bd;
    if (img_open(file, cfmt, BLOCK_OPEN_NO_BACKING, &bd) < 0)
        return IMG_EXIT_FAIL;
    uint64_t cur = block_size(bd), want;
    if (sign < 0) {
        if (n > cur) {
            img_err("resize: '%s': cannot shrink %" PRIu64 " bytes below zero", file, cur);
            block_close(bd);
            return IMG_EXIT_FAIL;
        }
        want = cur - n;
    } else if (sign > 0) {
        want = cur + n;
        if (want < cur) {
            img_err("resize: '%s': size overflows", file);
            block_close(bd);
            return IMG_EXIT_FAIL;
        }
    } else {
        want = n;
    }
    if (want < cur && !shrink) {
        img_err("resize: '%s': use the --shrink option to shrink (it discards data)", file);
        block_close(bd);
        return IMG_EXIT_FAIL;
    }
    int r = image_truncate(bd, want);
    if (r == 0)
        r = block_flush(bd);
    block_close(bd);
    if (r < 0) {
        img_err("resize: '%s': %s", file,
                r == -ENOTSUP ? "this format cannot be resized" : strerror(-r));
        return IMG_EXIT_FAIL;
    }
    if (!quiet)
        printf("Image resized.\n");
    return IMG_EXIT_OK;
}
