/* SPDX-License-Identifier: MIT */
/*
 * blockbench: drives wirt's block layer with the access pattern of
 * `qemu-img bench` so the two can be compared request for request:
 * COUNT requests of SIZE bytes, one at a time (queue depth 1), the offset
 * advancing by STEP modulo the image size (STEP = SIZE is sequential; a
 * large prime multiple of SIZE scatters the requests over the image).
 *
 *   blockbench [-f FMT] [-w] [-c COUNT] [-s SIZE] [-S STEP] [-o OFFSET] FILE
 *
 * Prints "Run completed in S seconds." like qemu-img bench, then a
 * machine-readable line "blockbench ops=N bytes=N seconds=S".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block.h"
#include "util/size.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t size_arg(const char *what, const char *text)
{
    uint64_t v;
    if (!parse_size(text, &v)) {
        fprintf(stderr, "blockbench: invalid %s '%s'\n", what, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *fmt = NULL;
    bool write = false, flush = false;
    uint64_t count = 75000, size = 4096, step = 0, offset = 0;
    int c;
    while ((c = getopt(argc, argv, "f:wc:s:S:o:F")) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'w':
            write = true;
            break;
        case 'F':
            flush = true;
            break;
        case 'c':
            count = size_arg("count", optarg);
            break;
        case 's':
            size = size_arg("size", optarg);
            break;
        case 'S':
            step = size_arg("step", optarg);
            break;
        case 'o':
            offset = size_arg("offset", optarg);
            break;
        default:
            fprintf(stderr, "usage: blockbench [-f FMT] [-w] [-F] [-c COUNT] [-s SIZE] "
                            "[-S STEP] [-o OFFSET] FILE\n");
            return 2;
        }
    }
    if (optind != argc - 1 || size == 0) {
        fprintf(stderr, "blockbench: need one FILE and a non-zero size\n");
        return 2;
    }
    if (!step)
        step = size;
    char err[512] = "";
    struct block_dev *bd;
    int r = block_open(argv[optind], fmt, write ? 0 : BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "blockbench: %s\n", err[0] ? err : strerror(-r));
        return 1;
    }
    uint64_t isize = block_size(bd);
    if (size > isize) {
        fprintf(stderr, "blockbench: request size larger than the image\n");
        return 2;
    }
    uint8_t *buf = aligned_alloc(4096, (size + 4095) / 4096 * 4096);
    if (!buf)
        return 1;
    memset(buf, 0xa5, size);
    double t0 = now();
    for (uint64_t i = 0; i < count; i++) {
        if (offset + size > isize)
            offset = 0;
        r = write ? block_write(bd, offset, buf, size) : block_read(bd, offset, buf, size);
        if (r < 0) {
            fprintf(stderr, "blockbench: %s at %" PRIu64 " failed: %s\n", write ? "write" : "read",
                    offset, strerror(-r));
            return 1;
        }
        offset = (offset + step) % isize;
    }
    if (flush && (r = block_flush(bd)) < 0) {
        fprintf(stderr, "blockbench: flush failed: %s\n", strerror(-r));
        return 1;
    }
    double secs = now() - t0;
    block_close(bd);
    free(buf);
    printf("Run completed in %.3f seconds.\n", secs);
    printf("blockbench ops=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f\n", count, count * size,
           secs);
    return 0;
}
