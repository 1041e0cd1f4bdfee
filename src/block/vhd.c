/* SPDX-License-Identifier: MIT */
/*
 * VHD ("vpc") import driver (read-only): fixed and dynamic disks.
 *
 * Layout (Microsoft "Virtual Hard Disk Image Format Specification",
 * big-endian): a 512-byte footer ("conectix") at the end of the file; a
 * fixed disk is the raw data followed by the footer.  A dynamic disk
 * starts with a copy of the footer, then a 1024-byte dynamic header
 * ("cxsparse") locating the block allocation table (BAT): one 32-bit
 * sector offset per block (0xFFFFFFFF = not allocated), each block being
 * a sector bitmap padded to 512 bytes followed by block_size bytes of data.
 *
 * The disk size is the footer's current_size.  Differencing disks are
 * refused.  Offsets and table sizes are checked against the file size, the
 * BAT's size against VHD_MAX_BAT_ENTRIES, and the BAT is read on demand (a
 * sparse file can claim a table of gigabytes); every block offset is checked
 * when used.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"
#include "block/table32.h"

#define SECTOR         512u
#define VHD_COOKIE     "conectix"
#define VHD_DYN_COOKIE "cxsparse"
#define VHD_TYPE_FIXED 2
#define VHD_TYPE_DYN   3
#define VHD_TYPE_DIFF  4
#define VHD_BAT_FREE   0xffffffffu
#define VHD_MAX_BLOCK  (256u << 20)
#define VHD_MAX_SIZE   (2040ull << 30) /* the format's documented limit */
/* 64 MiB of BAT: a 2040 GiB disk in blocks of 128 KiB or more (the tools write 512 KiB and
 * 2 MiB).  The spec sets no lower bound on the block size, but a disk of 512-byte blocks would
 * need a 16 GiB table that every walk of the disk has to read. */
#define VHD_MAX_BAT_ENTRIES (1u << 24)

struct vhd {
    int fd;
    uint64_t file_size;
    uint32_t type;
    uint64_t size;
    uint32_t block_size;
    uint32_t bitmap_bytes;
    uint32_t bat_entries;
    struct table32 bat;
    uint64_t meta_end; /* end of the headers and the BAT: no block starts before it */
    char creator[5];
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static bool in_file(const struct vhd *v, uint64_t off, uint64_t len)
{
    return off <= v->file_size && len <= v->file_size - off;
}

/* One's complement of the byte sum, with the checksum field counted as zero. */
static uint32_t vhd_checksum(const uint8_t *b, size_t len, size_t csum_off)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < csum_off || i >= csum_off + 4)
            sum += b[i];
    return ~sum;
}

static int vhd_probe(const uint8_t *buf, size_t len)
{
    /* Only dynamic disks start with the footer copy; fixed ones need -f vpc. */
    if (len >= 8 && memcmp(buf, VHD_COOKIE, 8) == 0)
        return 100;
    return 0;
}

static int vhd_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    const char *name = bd->path ? bd->path : "image";
    uint8_t f[SECTOR];
    struct stat st;
    int ret;
    struct vhd *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    v->fd = fd;
    (void)flags; /* always read-only: writes fail with EROFS */
    if (fstat(fd, &st) < 0)
        BLOCK_OPEN_FAIL(-errno, "%s: %s", name, strerror(errno));
    v->file_size = (uint64_t)st.st_size;
    if (v->file_size < SECTOR)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: file too short for a VHD footer", name);

    /* The footer at the end is authoritative; a dynamic disk's copy at offset 0 is the fallback
     * for a file whose tail was damaged. */
    if ((ret = block_pread_exact(fd, f, SECTOR, v->file_size - SECTOR)) < 0)
        BLOCK_OPEN_FAIL(ret, "%s: cannot read VHD footer: %s", name, strerror(-ret));
    if (memcmp(f, VHD_COOKIE, 8) != 0) {
        if ((ret = block_pread_exact(fd, f, SECTOR, 0)) < 0)
            BLOCK_OPEN_FAIL(ret, "%s: cannot read VHD footer: %s", name, strerror(-ret));
        if (memcmp(f, VHD_COOKIE, 8) != 0)
            BLOCK_OPEN_FAIL(-EINVAL, "%s: not a VHD image (no \"conectix\" footer)", name);
    }
    if (vhd_checksum(f, SECTOR, 64) != be32(f + 64))
        BLOCK_OPEN_FAIL(-EINVAL, "%s: VHD footer checksum mismatch", name);
    memcpy(v->creator, f + 28, 4);
    v->type = be32(f + 60);
    v->size = be64(f + 48);
    if (v->size == 0 || v->size > VHD_MAX_SIZE || v->size % SECTOR)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: invalid VHD disk size %" PRIu64, name, v->size);

    if (v->type == VHD_TYPE_DIFF)
        BLOCK_OPEN_FAIL(-ENOTSUP, "%s: VHD differencing disks are not supported", name);
    if (v->type == VHD_TYPE_FIXED) {
        if (v->file_size < v->size + SECTOR - 1)
            BLOCK_OPEN_FAIL(-EINVAL, "%s: fixed VHD is shorter than its disk size %" PRIu64, name,
                            v->size);
    } else if (v->type == VHD_TYPE_DYN) {
        uint8_t d[1024];
        uint64_t doff = be64(f + 16);
        if (!in_file(v, doff, sizeof(d)))
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VHD dynamic header lies outside the file", name);
        if ((ret = block_pread_exact(fd, d, sizeof(d), doff)) < 0)
            BLOCK_OPEN_FAIL(ret, "%s: cannot read VHD dynamic header: %s", name, strerror(-ret));
        if (memcmp(d, VHD_DYN_COOKIE, 8) != 0)
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VHD dynamic header has a bad cookie", name);
        if (vhd_checksum(d, sizeof(d), 36) != be32(d + 36))
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VHD dynamic header checksum mismatch", name);
        uint64_t bat_off = be64(d + 16);
        uint32_t max_entries = be32(d + 28);
        v->block_size = be32(d + 32);
        if (v->block_size < SECTOR || v->block_size > VHD_MAX_BLOCK ||
            (v->block_size & (v->block_size - 1)))
            BLOCK_OPEN_FAIL(-EINVAL, "%s: invalid VHD block size %" PRIu32, name, v->block_size);
        uint64_t need = (v->size + v->block_size - 1) / v->block_size;
        if (need > VHD_MAX_BAT_ENTRIES)
            BLOCK_OPEN_FAIL(-EFBIG,
                            "%s: VHD block size %" PRIu32 " is too small for a %" PRIu64
                            "-byte disk (a block table of %" PRIu64 " entries; at most %u)",
                            name, v->block_size, v->size, need, VHD_MAX_BAT_ENTRIES);
        if (max_entries < need)
            BLOCK_OPEN_FAIL(-EINVAL,
                            "%s: VHD block table has %" PRIu32 " entries, the disk needs %" PRIu64,
                            name, max_entries, need);
        if (!in_file(v, bat_off, need * 4))
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VHD block table lies outside the file", name);
        v->bat_entries = (uint32_t)need;
        v->bitmap_bytes = ((v->block_size / SECTOR / 8) + SECTOR - 1) / SECTOR * SECTOR;
        v->meta_end = doff + sizeof(d) > bat_off + need * 4 ? doff + sizeof(d) : bat_off + need * 4;
        if ((ret = table32_init(&v->bat, fd, bat_off, need, true)) < 0)
            BLOCK_OPEN_FAIL(ret, "%s: out of memory", name);
        uint32_t e0;
        if ((ret = table32_get(&v->bat, 0, &e0)) < 0)
            BLOCK_OPEN_FAIL(ret, "%s: cannot read VHD block table: %s", name, strerror(-ret));
    } else {
        BLOCK_OPEN_FAIL(-ENOTSUP, "%s: unsupported VHD disk type %" PRIu32, name, v->type);
    }

    bd->priv = v;
    bd->size = v->size;
    bd->read_only = true;
    return 0;
fail:
    table32_free(&v->bat);
    free(v);
    return ret;
}

/* Host offset of byte `in` of block blk's data; 0 if the block is not allocated. */
static int block_host(struct block_dev *bd, uint64_t blk, uint64_t in, uint64_t *host)
{
    struct vhd *v = bd->priv;
    uint32_t e;
    int ret = table32_get(&v->bat, blk, &e);
    if (ret < 0)
        return ret;
    *host = 0;
    if (e == VHD_BAT_FREE)
        return 0;
    /* A block lies after the headers and the BAT (the footer copy at 0 is no block) and
     * wholly inside the file. */
    uint64_t start = (uint64_t)e * SECTOR;
    if (start < v->meta_end || !in_file(v, start, v->bitmap_bytes + (uint64_t)v->block_size))
        return -EIO; /* the caller's error names the file */
    *host = start + v->bitmap_bytes + in;
    return 0;
}

static int vhd_read(struct block_dev *bd, uint64_t offset, void *buf, size_t len)
{
    struct vhd *v = bd->priv;
    uint8_t *p = buf;
    if (offset > v->size || len > v->size - offset)
        return -EINVAL;
    if (v->type == VHD_TYPE_FIXED)
        return block_pread_exact(v->fd, buf, len, offset);
    while (len) {
        uint64_t blk = offset / v->block_size;
        uint64_t in = offset % v->block_size;
        size_t n = (size_t)(v->block_size - in < len ? v->block_size - in : len);
        uint64_t host;
        int ret = block_host(bd, blk, in, &host);
        if (ret < 0)
            return ret;
        if (!host) {
            memset(p, 0, n);
        } else {
            ret = block_pread_exact(v->fd, p, n, host);
            if (ret < 0)
                return ret;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

static void vhd_close(struct block_dev *bd)
{
    struct vhd *v = bd->priv;
    if (v) {
        table32_free(&v->bat);
        free(v);
    }
    bd->priv = NULL;
}

static int vhd_block_unit_status(struct block_dev *bd, uint64_t blk, uint64_t in, unsigned *status,
                                 uint64_t *host)
{
    int ret = block_host(bd, blk, in, host);
    if (ret < 0)
        return ret;
    *status = *host ? IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED : IMAGE_STATUS_ZERO;
    return 0;
}

static int vhd_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                            unsigned *status, uint64_t *host_offset)
{
    struct vhd *v = bd->priv;
    if (v->type == VHD_TYPE_FIXED) {
        *pnum = len;
        *status = IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
        *host_offset = offset;
        return 0;
    }
    /* A run of unallocated blocks is found in the BAT in one pass, not block by block. */
    uint64_t blk = offset / v->block_size, in = offset % v->block_size;
    uint64_t free_blocks;
    int ret = table32_run(&v->bat, blk, (in + len + v->block_size - 1) / v->block_size,
                          VHD_BAT_FREE, &free_blocks);
    if (ret < 0)
        return ret;
    if (free_blocks) {
        uint64_t run = free_blocks * v->block_size - in;
        *pnum = run < len ? run : len;
        *status = IMAGE_STATUS_ZERO;
        *host_offset = 0;
        return 0;
    }
    return block_status_by_unit(bd, v->block_size, vhd_block_unit_status, offset, len, pnum, status,
                                host_offset);
}

static int vhd_get_info(struct block_dev *bd, struct image_info *info)
{
    struct vhd *v = bd->priv;
    memset(info, 0, sizeof(*info));
    snprintf(info->format, sizeof(info->format), "vpc");
    info->virtual_size = bd->size;
    info->cluster_size = v->type == VHD_TYPE_DYN ? v->block_size : 0;
    return 0;
}

static uint32_t vhd_cluster_size(struct block_dev *bd)
{
    struct vhd *v = bd->priv;
    return v->type == VHD_TYPE_DYN ? v->block_size : 0;
}

const struct block_driver_ops vhd_ops = {
    .format = "vpc",
    .probe = vhd_probe,
    .open = vhd_open,
    .read = vhd_read,
    .write = block_write_read_only,
    .close = vhd_close,
    .get_info = vhd_get_info,
    .block_status = vhd_block_status,
    .cluster_size = vhd_cluster_size,
};
