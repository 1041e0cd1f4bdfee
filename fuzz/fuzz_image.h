/* SPDX-License-Identifier: MIT */
/*
 * The body shared by the image-format fuzz targets (fuzz_qcow2, fuzz_vmdk,
 * fuzz_vhd): the fuzzer input is an image file, put in a memfd and opened
 * with the format forced.  Read-only first (reads across the disk, a
 * bounded map walk with block status, info, snapshot list, check), then
 * read-write (writes, zeroes, discard, compressed write, snapshot
 * create/delete, flush, check with repair); the read-only formats refuse
 * the writes.  Any crash, sanitizer report, hang or huge allocation is a
 * bug: a hostile image must only ever produce errors.
 */
#ifndef WIRT_FUZZ_IMAGE_H
#define WIRT_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"
#include "util/log.h"

/* The map walk stops after this many extents: a hostile image may describe
 * millions of them, and each must cost little, not all of them nothing. */
#define FUZZ_MAP_STEPS 512

static void fuzz_map_walk(struct block_dev *bd, uint64_t size)
{
    uint64_t off = 0;
    for (unsigned i = 0; i < FUZZ_MAP_STEPS && off < size; i++) {
        uint64_t pnum = 0;
        unsigned st;
        if (image_block_status(bd, off, size - off, &pnum, &st, NULL) < 0 || pnum == 0)
            break;
        if (pnum > size - off) {
            fprintf(stderr, "block status: %llu bytes at %llu run past the end %llu\n",
                    (unsigned long long)pnum, (unsigned long long)off, (unsigned long long)size);
            abort();
        }
        off += pnum;
    }
}

static void fuzz_image_exercise(const char *path, const char *format, unsigned flags)
{
    struct block_dev *bd;
    char err[512];
    if (block_open(path, format, flags | BLOCK_OPEN_NO_LOCK | BLOCK_OPEN_NO_BACKING, &bd, err,
                   sizeof(err)))
        return;
    uint64_t size = block_size(bd);
    static uint8_t buf[1 << 16];
    uint64_t offs[4] = {0, size / 3, size / 2, size > sizeof(buf) ? size - sizeof(buf) : 0};
    for (int i = 0; i < 4; i++) {
        uint64_t n = size - offs[i] < sizeof(buf) ? size - offs[i] : sizeof(buf);
        block_read(bd, offs[i], buf, n);
    }
    fuzz_map_walk(bd, size);
    struct image_snapshot *v;
    unsigned ns;
    if (image_snapshot_list(bd, &v, &ns) == 0)
        free(v);
    struct image_info info;
    image_get_info(bd, &info);
    if (!(flags & BLOCK_OPEN_READ_ONLY)) {
        memset(buf, 0x5a, sizeof(buf));
        for (int i = 0; i < 4; i++) {
            uint64_t n = size - offs[i] < 5000 ? size - offs[i] : 5000;
            block_write(bd, offs[i], buf, n);
        }
        if (size >= 8192)
            block_write_zeroes(bd, 4096, 4096);
        block_discard(bd, 0, size < (1 << 20) ? size : (1 << 20));
        if (size >= 65536)
            image_write_compressed(bd, 0, buf, 65536);
        image_snapshot_create(bd, "fuzz");
        block_flush(bd);
        image_snapshot_delete(bd, "fuzz");
    }
    struct image_check_result res;
    image_check(bd, flags & BLOCK_OPEN_READ_ONLY ? 0 : IMAGE_REPAIR_ALL, &res);
    block_close(bd);
}

static int fuzz_image_input(const uint8_t *data, size_t size, const char *format)
{
    static FILE *devnull;
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        log_set_file(devnull);
    }
    int fd = memfd_create(format, 0);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (write(fd, data, size) == (ssize_t)size) {
        fuzz_image_exercise(path, format, BLOCK_OPEN_READ_ONLY);
        fuzz_image_exercise(path, format, 0);
    }
    close(fd);
    return 0;
}

#endif
