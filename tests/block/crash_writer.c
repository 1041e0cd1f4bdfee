/* SPDX-License-Identifier: MIT */
/*
 * Crash-consistency helper (driven by tests/block/crash_test.sh).
 *
 *   crash_writer write IMG LOG SEED   writes batches of random writes and
 *                                     write_zeroes, flushing after each batch,
 *                                     forever (until killed with SIGKILL)
 *   crash_writer verify IMG LOG       checks that every flushed write is intact
 *
 * The log records "W seq off len byte" before each write is issued, "F"
 * after the flush that covers the batch returns, and "S" when a writer
 * starts.  Writes of a batch that never saw its F may or may not be on
 * disk: their bytes are "unknown" until a later flushed write covers them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

struct rec {
    uint64_t off, len;
    int byte; /* -1 = zeroes via write_zeroes (reads as 0) */
};

static int do_write(const char *img, const char *logp, unsigned seed)
{
    struct block_dev *bd;
    char err[512];
    if (block_open(img, NULL, 0, &bd, err, sizeof(err))) {
        fprintf(stderr, "crash_writer: %s\n", err);
        return 1;
    }
    FILE *log = fopen(logp, "a");
    if (!log)
        return 1;
    setvbuf(log, NULL, _IONBF, 0);
    fprintf(log, "S\n");
    srand(seed);
    uint64_t size = block_size(bd);
    uint8_t *buf = malloc(256 * 1024);
    for (unsigned seq = 0;; seq++) {
        int nb = 1 + rand() % 6;
        for (int i = 0; i < nb; i++) {
            uint64_t len = 1 + (uint64_t)rand() % (200 * 1024);
            uint64_t off = ((uint64_t)rand() * 4096 + (uint64_t)rand()) % (size - len);
            if (rand() % 3 == 0) {
                off &= ~511ULL;
                len = (len + 511) & ~511ULL;
                if (off + len > size)
                    len = size - off;
            }
            int byte = rand() % 8 == 0 ? -1 : 1 + rand() % 255;
            fprintf(log, "W %u %" PRIu64 " %" PRIu64 " %d\n", seq, off, len, byte);
            int r;
            if (byte < 0) {
                r = block_write_zeroes(bd, off, len);
            } else {
                memset(buf, byte, len);
                r = block_write(bd, off, buf, len);
            }
            if (r) {
                fprintf(stderr, "crash_writer: write failed: %s\n", strerror(-r));
                return 1;
            }
        }
        if (block_flush(bd)) {
            fprintf(stderr, "crash_writer: flush failed\n");
            return 1;
        }
        fprintf(log, "F\n");
    }
}

static void apply(uint8_t *val, uint8_t *known, const struct rec *w, bool certain)
{
    memset(val + w->off, w->byte < 0 ? 0 : w->byte, w->len);
    memset(known + w->off, certain, w->len);
}

static int do_verify(const char *img, const char *logp)
{
    struct block_dev *bd;
    char err[512];
    if (block_open(img, NULL, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err))) {
        fprintf(stderr, "crash_writer: %s\n", err);
        return 1;
    }
    uint64_t size = block_size(bd);
    uint8_t *val = calloc(1, size), *known = malloc(size), *got = malloc(size);
    memset(known, 1, size); /* the image starts all-zero */
    FILE *log = fopen(logp, "r");
    if (!log && errno == ENOENT)
        log = fopen("/dev/null", "r"); /* killed before it logged anything */
    if (!log || !val || !known || !got)
        return 1;
    struct rec pend[64];
    int np = 0;
    char line[256];
    unsigned long flushed = 0;
    while (fgets(line, sizeof(line), log)) {
        if (line[0] == 'W') {
            unsigned seq;
            struct rec w;
            if (sscanf(line, "W %u %" SCNu64 " %" SCNu64 " %d", &seq, &w.off, &w.len, &w.byte) != 4)
                break; /* torn last line */
            if (np < 64)
                pend[np++] = w;
        } else if (line[0] == 'F') {
            for (int i = 0; i < np; i++)
                apply(val, known, &pend[i], true);
            flushed += (unsigned long)np;
            np = 0;
        } else if (line[0] == 'S') {
            for (int i = 0; i < np; i++)
                apply(val, known, &pend[i], false);
            np = 0;
        }
    }
    for (int i = 0; i < np; i++)
        apply(val, known, &pend[i], false);
    int r = block_read(bd, 0, got, size);
    if (r) {
        fprintf(stderr, "crash_writer: read failed: %s\n", strerror(-r));
        return 1;
    }
    for (uint64_t i = 0; i < size; i++) {
        if (known[i] && got[i] != val[i]) {
            fprintf(stderr, "crash_writer: byte %" PRIu64 " is 0x%02x, flushed 0x%02x\n", i, got[i],
                    val[i]);
            return 1;
        }
    }
    printf("verified %lu flushed writes\n", flushed);
    fclose(log);
    free(val);
    free(known);
    free(got);
    block_close(bd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "write"))
        return do_write(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 0));
    if (argc == 4 && !strcmp(argv[1], "verify"))
        return do_verify(argv[2], argv[3]);
    fprintf(stderr, "usage: crash_writer write IMG LOG SEED | verify IMG LOG\n");
    return 2;
}
