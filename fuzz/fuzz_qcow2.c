/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the qcow2 driver: the input is an image file.  It
 * is opened read-only (reads, block status, snapshot list, check) and then
 * read-write (writes, zeroes, discard, flush, snapshot, check with repair).
 * Any crash, sanitizer report, hang or huge allocation is a bug: hostile
 * images must only ever produce errors.
 *
 * Build: make fuzz-qcow2 (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"
#include "util/log.h"

static void exercise(const char *path, unsigned flags)
{
    struct block_dev *bd;
    char err[512];
    if (block_open(path, "qcow2", flags | BLOCK_OPEN_NO_LOCK | BLOCK_OPEN_NO_BACKING, &bd, err,
                   sizeof(err)))
        return;
    uint64_t size = block_size(bd);
    static uint8_t buf[1 << 16];
    uint64_t offs[4] = {0, size / 3, size / 2, size > sizeof(buf) ? size - sizeof(buf) : 0};
    for (int i = 0; i < 4; i++) {
        uint64_t n = size - offs[i] < sizeof(buf) ? size - offs[i] : sizeof(buf);
        block_read(bd, offs[i], buf, n);
        uint64_t pnum;
        unsigned st;
        if (n)
            image_block_status(bd, offs[i], n, &pnum, &st, NULL);
    }
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        log_set_file(devnull);
    }
    int fd = memfd_create("fuzz-qcow2", 0);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (write(fd, data, size) == (ssize_t)size) {
        exercise(path, BLOCK_OPEN_READ_ONLY);
        exercise(path, 0);
    }
    close(fd);
    return 0;
}
