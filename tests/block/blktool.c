/* SPDX-License-Identifier: MIT */
/*
 * blktool: a tiny command-line front end to the block layer, used by the
 * shell tests (tests/block/test_*.sh) to drive wirt's drivers against
 * qemu-img/qemu-io as the referee.  Exit status: 0 ok, 1 failure.
 *
 *   blktool create FMT PATH SIZE [cluster_size=N refcount_bits=N preallocation=M
 *                                 compression_type=T backing=F backing_fmt=F lazy]
 *   blktool write PATH OFF LEN BYTE        (flushes)
 *   blktool writez|discard PATH OFF LEN
 *   blktool comp PATH OFF LEN BYTE         (write_compressed of a compressible pattern)
 *   blktool read PATH OFF LEN BYTE         (verifies every byte equals BYTE)
 *   blktool readcomp PATH OFF LEN BYTE     (verifies the comp pattern)
 *   blktool dump PATH OUT                  (whole disk to a raw file)
 *   blktool snap create|apply|delete|list PATH [NAME]
 *   blktool check PATH [leaks|all]         (exit 0 clean, 2 leaks only, 3 corruptions)
 *   blktool info PATH
 *   blktool resize PATH SIZE
 *   blktool bench PATH                     (sequential 1 MiB and random 4 KiB I/O)
 *   blktool hold PATH rw|ro READY          (holds the image (and chain) open like a running
 *                                           VM's disk, creates READY, waits up to 60 s or
 *                                           until killed)
 */
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        break;
    default:
        break;
    }
    return v;
}

static struct block_dev *op(const char *path, unsigned flags)
{
    struct block_dev *bd;
    char err[512];
    int r = block_open(path, NULL, flags, &bd, err, sizeof(err));
    if (r) {
        fprintf(stderr, "blktool: %s\n", err);
        exit(1);
    }
    return bd;
}

static void die_r(int r, const char *what)
{
    if (r) {
        fprintf(stderr, "blktool: %s: %s\n", what, strerror(-r));
        exit(1);
    }
}

static void comp_pattern(uint8_t *b, uint64_t off, size_t n, int byte)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t p = off + i;
        b[i] = (p % 4096) < 2048 ? (uint8_t)byte : (uint8_t)(p / 4096);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see tests/block/blktool.c\n");
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "create") && argc >= 5) {
        struct image_create_opts o = {.format = argv[2], .size = num(argv[4])};
        for (int i = 5; i < argc; i++) {
            char *v = strchr(argv[i], '=');
            if (!strcmp(argv[i], "lazy")) {
                o.lazy_refcounts = true;
                continue;
            }
            if (!v)
                return 1;
            *v++ = 0;
            if (!strcmp(argv[i], "cluster_size"))
                o.cluster_size = (uint32_t)num(v);
            else if (!strcmp(argv[i], "refcount_bits"))
                o.refcount_bits = (unsigned)num(v);
            else if (!strcmp(argv[i], "preallocation"))
                o.preallocation = v;
            else if (!strcmp(argv[i], "compression_type"))
                o.compression_type = v;
            else if (!strcmp(argv[i], "backing"))
                o.backing_file = v;
            else if (!strcmp(argv[i], "backing_fmt"))
                o.backing_format = v;
            else
                return 1;
        }
        char err[512];
        if (image_create(argv[3], &o, err, sizeof(err))) {
            fprintf(stderr, "blktool: %s\n", err);
            return 1;
        }
        return 0;
    }
    const char *path = argv[2];
    if ((!strcmp(cmd, "write") || !strcmp(cmd, "comp")) && argc == 6) {
        struct block_dev *bd = op(path, 0);
        uint64_t off = num(argv[3]), len = num(argv[4]);
        uint8_t *b = malloc(len);
        if (!strcmp(cmd, "write")) {
            memset(b, (int)num(argv[5]), len);
            die_r(block_write(bd, off, b, len), "write");
        } else {
            comp_pattern(b, off, len, (int)num(argv[5]));
            die_r(image_write_compressed(bd, off, b, len), "write_compressed");
        }
        die_r(block_flush(bd), "flush");
        free(b);
        block_close(bd);
        return 0;
    }
    if ((!strcmp(cmd, "writez") || !strcmp(cmd, "discard")) && argc == 5) {
        struct block_dev *bd = op(path, 0);
        uint64_t off = num(argv[3]), len = num(argv[4]);
        if (!strcmp(cmd, "writez"))
            die_r(block_write_zeroes(bd, off, len), "write_zeroes");
        else
            die_r(block_discard(bd, off, len), "discard");
        die_r(block_flush(bd), "flush");
        block_close(bd);
        return 0;
    }
    if ((!strcmp(cmd, "read") || !strcmp(cmd, "readcomp")) && argc == 6) {
        struct block_dev *bd = op(path, BLOCK_OPEN_READ_ONLY);
        uint64_t off = num(argv[3]), len = num(argv[4]);
        int byte = (int)num(argv[5]);
        uint8_t *b = malloc(len), *want = malloc(len);
        die_r(block_read(bd, off, b, len), "read");
        if (!strcmp(cmd, "read"))
            memset(want, byte, len);
        else
            comp_pattern(want, off, len, byte);
        for (uint64_t i = 0; i < len; i++) {
            if (b[i] != want[i]) {
                fprintf(stderr, "blktool: mismatch at %" PRIu64 ": 0x%02x != 0x%02x\n", off + i,
                        b[i], want[i]);
                return 1;
            }
        }
        free(b);
        free(want);
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "dump") && argc == 4) {
        struct block_dev *bd = op(path, BLOCK_OPEN_READ_ONLY);
        int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return 1;
        size_t chunk = 1 << 20;
        uint8_t *b = malloc(chunk);
        for (uint64_t off = 0; off < block_size(bd); off += chunk) {
            size_t n = block_size(bd) - off < chunk ? block_size(bd) - off : chunk;
            die_r(block_read(bd, off, b, n), "read");
            if (pwrite(fd, b, n, (off_t)off) != (ssize_t)n)
                return 1;
        }
        if (ftruncate(fd, (off_t)block_size(bd)) < 0)
            return 1;
        close(fd);
        free(b);
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "snap") && argc >= 4) {
        const char *sub = argv[2];
        path = argv[3];
        if (!strcmp(sub, "list")) {
            struct block_dev *bd = op(path, BLOCK_OPEN_READ_ONLY);
            struct image_snapshot *v;
            unsigned n;
            die_r(image_snapshot_list(bd, &v, &n), "snapshot list");
            for (unsigned i = 0; i < n; i++)
                printf("%s %s %" PRIu64 "\n", v[i].id, v[i].name, v[i].disk_size);
            free(v);
            block_close(bd);
            return 0;
        }
        if (argc != 5)
            return 1;
        struct block_dev *bd = op(path, 0);
        int r = !strcmp(sub, "create")   ? image_snapshot_create(bd, argv[4])
                : !strcmp(sub, "apply")  ? image_snapshot_apply(bd, argv[4])
                : !strcmp(sub, "delete") ? image_snapshot_delete(bd, argv[4])
                                         : -EINVAL;
        die_r(r, sub);
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "check")) {
        unsigned rep =
            argc > 3 ? (!strcmp(argv[3], "all") ? IMAGE_REPAIR_ALL : IMAGE_REPAIR_LEAKS) : 0;
        struct block_dev *bd = op(path, rep ? 0 : BLOCK_OPEN_READ_ONLY);
        struct image_check_result res;
        die_r(image_check(bd, rep, &res), "check");
        printf("corruptions=%" PRIu64 " leaks=%" PRIu64 " errors=%" PRIu64
               " corruptions_fixed=%" PRIu64 " leaks_fixed=%" PRIu64 " allocated=%" PRIu64
               " compressed=%" PRIu64 "\n",
               res.corruptions, res.leaks, res.check_errors, res.corruptions_fixed, res.leaks_fixed,
               res.allocated_clusters, res.compressed_clusters);
        block_close(bd);
        return res.corruptions || res.check_errors ? 3 : res.leaks ? 2 : 0;
    }
    if (!strcmp(cmd, "info")) {
        struct block_dev *bd = op(path, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK);
        struct image_info in;
        die_r(image_get_info(bd, &in), "info");
        printf("format=%s size=%" PRIu64 " cluster=%u version=%d refbits=%u comp=%s backing=%s\n",
               in.format, in.virtual_size, in.cluster_size, in.qcow_version, in.refcount_bits,
               in.compression_type, in.backing_file);
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "resize") && argc == 4) {
        struct block_dev *bd = op(path, 0);
        die_r(image_truncate(bd, num(argv[3])), "resize");
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "hold") && argc == 5) {
        struct block_dev *bd = op(path, strcmp(argv[3], "ro") ? 0 : BLOCK_OPEN_READ_ONLY);
        int fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            return 1;
        close(fd);
        sleep(60); /* the test kills it sooner; this bounds a test that forgets to */
        block_close(bd);
        return 0;
    }
    if (!strcmp(cmd, "bench")) {
        struct block_dev *bd = op(path, 0);
        uint64_t size = block_size(bd);
        size_t chunk = 1 << 20;
        uint8_t *b = malloc(chunk);
        memset(b, 0x3c, chunk);
        struct timespec t0, t1;
#define NOW(t) clock_gettime(CLOCK_MONOTONIC, &t)
#define SECS() ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9)
        NOW(t0);
        for (uint64_t off = 0; off + chunk <= size; off += chunk)
            die_r(block_write(bd, off, b, chunk), "write");
        die_r(block_flush(bd), "flush");
        NOW(t1);
        printf("seq write 1M: %8.1f MiB/s\n", (double)size / 1048576 / SECS());
        NOW(t0);
        for (uint64_t off = 0; off + chunk <= size; off += chunk)
            die_r(block_read(bd, off, b, chunk), "read");
        NOW(t1);
        printf("seq read  1M: %8.1f MiB/s\n", (double)size / 1048576 / SECS());
        srand(1);
        int n = 50000;
        NOW(t0);
        for (int i = 0; i < n; i++) {
            uint64_t off = ((uint64_t)rand() * 4096) % (size - 4096);
            die_r(block_write(bd, off & ~4095ULL, b, 4096), "write");
        }
        die_r(block_flush(bd), "flush");
        NOW(t1);
        printf("rand write 4k: %8.0f IOPS\n", n / SECS());
        NOW(t0);
        for (int i = 0; i < n; i++) {
            uint64_t off = ((uint64_t)rand() * 4096) % (size - 4096);
            die_r(block_read(bd, off & ~4095ULL, b, 4096), "read");
        }
        NOW(t1);
        printf("rand read  4k: %8.0f IOPS\n", n / SECS());
        free(b);
        block_close(bd);
        return 0;
    }
    fprintf(stderr, "blktool: bad command\n");
    return 1;
}
