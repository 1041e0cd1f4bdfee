/* SPDX-License-Identifier: MIT */
/*
 * VMDK import driver (read-only): the hosted sparse extent ("KDMV") in its
 * monolithicSparse form and its streamOptimized form (deflate-compressed
 * grains with markers, grain directory at the end of the file).
 *
 * Layout (VMware "Virtual Disk Format 1.1", little-endian): a 512-byte
 * header, an embedded text descriptor, a grain directory (GD) of 32-bit
 * sector offsets of grain tables (GT), each GT holding numGTEsPerGT
 * 32-bit sector offsets of grains.  GTE 0 means "not allocated" and 1
 * means "zeroed grain"; both read as zeroes since we support no parent.
 *
 * Every offset and size read from the file is checked against the file
 * size before it is used, so a hostile image yields an error, never an
 * allocation larger than the file itself.  The grain directory is bounded
 * (VMDK_MAX_GD_ENTRIES) and read on demand, and block status skips runs of
 * empty directory entries instead of walking the disk grain by grain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "block/block_int.h"
#include "block/table32.h"

#define SECTOR              512u
#define VMDK_MAGIC          "KDMV"
#define VMDK_FLAG_ZERO_GTE  (1u << 2)
#define VMDK_FLAG_COMPRESS  (1u << 16)
#define VMDK_FLAG_MARKERS   (1u << 17)
#define VMDK_GD_AT_END      UINT64_MAX
#define VMDK_MARKER_EOS     0
#define VMDK_MARKER_FOOTER  3
#define VMDK_MAX_GRAIN_SECT 2048u /* 1 MiB grains; the spec's default is 128 sectors */
#define VMDK_MAX_GTES       4096u
#define VMDK_MAX_DESC       (1u << 20)
/* 32 Mi directory entries (what QEMU accepts too): 1 PiB in the standard geometry of 512
 * entries per grain table and 64 KiB grains, far beyond the 2 TiB a hosted sparse extent can
 * address with its 32-bit sector offsets. */
#define VMDK_MAX_GD_ENTRIES (32u << 20)

struct vmdk_header {
    uint32_t version, flags;
    uint64_t capacity, grain_size, desc_offset, desc_size;
    uint32_t gtes_per_gt;
    uint64_t rgd_offset, gd_offset, overhead;
    uint16_t compress_algorithm;
};

struct vmdk {
    int fd;
    uint64_t file_size;
    struct vmdk_header h;
    uint64_t grain_bytes;
    bool compressed;
    uint32_t gd_entries;
    struct table32 gd;
    uint32_t *gt;      /* the one cached grain table */
    uint32_t gt_index; /* which GD entry gt holds; UINT32_MAX = none */
    /* A GD entry (grain table sector) whose table reads all zeroes (0 = none): a hostile
     * directory naming one empty table millions of times is walked a table at a time. */
    uint32_t empty_gt;
    uint8_t *zbuf;         /* compressed grain (marker + data) */
    uint8_t *grain;        /* the one cached decompressed grain */
    uint64_t grain_cached; /* its grain number; UINT64_MAX = none */
    char create_type[64];
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void parse_header(const uint8_t *b, struct vmdk_header *h)
{
    h->version = le32(b + 4);
    h->flags = le32(b + 8);
    h->capacity = le64(b + 12);
    h->grain_size = le64(b + 20);
    h->desc_offset = le64(b + 28);
    h->desc_size = le64(b + 36);
    h->gtes_per_gt = le32(b + 44);
    h->rgd_offset = le64(b + 48);
    h->gd_offset = le64(b + 56);
    h->overhead = le64(b + 64);
    h->compress_algorithm = (uint16_t)(b[77] | b[78] << 8);
}

/* True if [off, off+len) lies inside the file. */
static bool in_file(const struct vmdk *v, uint64_t off, uint64_t len)
{
    return off <= v->file_size && len <= v->file_size - off;
}

static int vmdk_probe(const uint8_t *buf, size_t len)
{
    if (len >= 4 && memcmp(buf, VMDK_MAGIC, 4) == 0)
        return 100;
    /* A text descriptor: claimed so that open can say it is unsupported. */
    if (len >= 21 && memcmp(buf, "# Disk DescriptorFile", 21) == 0)
        return 100;
    return 0;
}

/* Copies the value of `key="value"` (or key=value) from the descriptor. */
static bool desc_get(const char *desc, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    for (const char *line = desc; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, key, klen) != 0)
            continue;
        const char *p = line + klen;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        size_t n = 0;
        while (p[n] && p[n] != '\n' && p[n] != '\r' && (quoted ? p[n] != '"' : p[n] != ' '))
            n++;
        if (n >= outlen)
            n = outlen - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static void vmdk_free(struct vmdk *v)
{
    if (!v)
        return;
    table32_free(&v->gd);
    free(v->gt);
    free(v->zbuf);
    free(v->grain);
    free(v);
}

static int vmdk_open(struct block_dev *bd, int fd, unsigned flags, char *err, size_t errlen)
{
    const char *name = bd->path ? bd->path : "image";
    uint8_t hdr[SECTOR];
    struct stat st;
    int ret;
    struct vmdk *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    v->fd = fd;
    v->gt_index = UINT32_MAX;
    v->grain_cached = UINT64_MAX;

    (void)flags; /* always read-only: writes fail with EROFS */
    if (fstat(fd, &st) < 0)
        BLOCK_OPEN_FAIL(-errno, "%s: %s", name, strerror(errno));
    v->file_size = (uint64_t)st.st_size;
    memset(hdr, 0, sizeof(hdr));
    size_t hlen = v->file_size < SECTOR ? (size_t)v->file_size : SECTOR;
    if ((ret = block_pread_exact(fd, hdr, hlen, 0)) < 0)
        BLOCK_OPEN_FAIL(ret, "%s: cannot read VMDK header: %s", name, strerror(-ret));
    if (hlen >= 21 && memcmp(hdr, "# Disk DescriptorFile", 21) == 0)
        BLOCK_OPEN_FAIL(-ENOTSUP,
                        "%s: VMDK descriptor files (flat/split extents) are not supported; only "
                        "monolithicSparse and streamOptimized",
                        name);
    if (hlen < SECTOR)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: file too short for a VMDK header", name);
    if (memcmp(hdr, VMDK_MAGIC, 4) != 0)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: not a VMDK sparse extent (bad magic)", name);
    parse_header(hdr, &v->h);
    if (v->h.version < 1 || v->h.version > 3)
        BLOCK_OPEN_FAIL(-ENOTSUP, "%s: unsupported VMDK version %" PRIu32, name, v->h.version);

    if (v->h.gd_offset == VMDK_GD_AT_END) {
        /* streamOptimized: the real header is in the footer, followed by the end-of-stream
         * marker: [footer marker][footer header][EOS marker] in the last three sectors. */
        uint8_t tail[3 * SECTOR];
        if (v->file_size < 4 * SECTOR)
            BLOCK_OPEN_FAIL(-EINVAL,
                            "%s: VMDK grain directory is at the end but there is no footer", name);
        if ((ret = block_pread_exact(fd, tail, sizeof(tail), v->file_size - sizeof(tail))) < 0)
            BLOCK_OPEN_FAIL(ret, "%s: cannot read VMDK footer: %s", name, strerror(-ret));
        if (le32(tail + 12) != VMDK_MARKER_FOOTER || memcmp(tail + SECTOR, VMDK_MAGIC, 4) != 0 ||
            le32(tail + 2 * SECTOR + 12) != VMDK_MARKER_EOS)
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VMDK footer is missing or malformed", name);
        parse_header(tail + SECTOR, &v->h);
        if (v->h.gd_offset == VMDK_GD_AT_END)
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VMDK footer does not locate the grain directory", name);
    }

    uint64_t gs = v->h.grain_size;
    if (gs == 0 || gs > VMDK_MAX_GRAIN_SECT || (gs & (gs - 1)))
        BLOCK_OPEN_FAIL(-EINVAL, "%s: invalid VMDK grain size %" PRIu64 " sectors", name, gs);
    uint32_t ng = v->h.gtes_per_gt;
    if (ng == 0 || ng > VMDK_MAX_GTES)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: invalid VMDK grain table size %" PRIu32 " entries", name, ng);
    if (v->h.capacity == 0 || v->h.capacity > (UINT64_MAX / SECTOR) / 2)
        BLOCK_OPEN_FAIL(-EINVAL, "%s: invalid VMDK capacity %" PRIu64 " sectors", name,
                        v->h.capacity);
    v->grain_bytes = gs * SECTOR;
    v->compressed = v->h.flags & VMDK_FLAG_COMPRESS;
    if (v->compressed && v->h.compress_algorithm != 1)
        BLOCK_OPEN_FAIL(-ENOTSUP, "%s: unsupported VMDK compression algorithm %u", name,
                        v->h.compress_algorithm);

    /* The descriptor says what kind of VMDK this is and whether it has a parent. */
    if (v->h.desc_offset && v->h.desc_size) {
        if (v->h.desc_size > VMDK_MAX_DESC / SECTOR || v->h.desc_offset > UINT64_MAX / SECTOR ||
            !in_file(v, v->h.desc_offset * SECTOR, v->h.desc_size * SECTOR))
            BLOCK_OPEN_FAIL(-EINVAL, "%s: VMDK descriptor lies outside the file", name);
        size_t dlen = (size_t)v->h.desc_size * SECTOR;
        char *desc = malloc(dlen + 1);
        if (!desc)
            BLOCK_OPEN_FAIL(-ENOMEM, "%s: out of memory", name);
        ret = block_pread_exact(fd, desc, dlen, v->h.desc_offset * SECTOR);
        if (ret < 0) {
            free(desc);
            BLOCK_OPEN_FAIL(ret, "%s: cannot read VMDK descriptor: %s", name, strerror(-ret));
        }
        desc[dlen] = '\0';
        char parent[32] = "";
        desc_get(desc, "createType", v->create_type, sizeof(v->create_type));
        desc_get(desc, "parentCID", parent, sizeof(parent));
        free(desc);
        if (parent[0] && strcmp(parent, "ffffffff") != 0)
            BLOCK_OPEN_FAIL(-ENOTSUP,
                            "%s: VMDK images with a parent (delta links) are not supported", name);
    }
    if (!v->create_type[0])
        snprintf(v->create_type, sizeof(v->create_type), "%s",
                 v->compressed ? "streamOptimized" : "monolithicSparse");

    uint64_t span = (uint64_t)ng * gs; /* sectors covered by one GT */
    uint64_t gde = (v->h.capacity + span - 1) / span;
    if (gde > VMDK_MAX_GD_ENTRIES)
        BLOCK_OPEN_FAIL(-EFBIG,
                        "%s: VMDK capacity %" PRIu64 " sectors needs a grain directory of %" PRIu64
                        " entries (at most %u)",
                        name, v->h.capacity, gde, VMDK_MAX_GD_ENTRIES);
    if (!in_file(v, v->h.gd_offset * SECTOR, gde * 4) || v->h.gd_offset > UINT64_MAX / SECTOR)
        BLOCK_OPEN_FAIL(-EINVAL,
                        "%s: VMDK grain directory (%" PRIu64 " entries) lies outside the file",
                        name, gde);
    v->gd_entries = (uint32_t)gde;
    ret = table32_init(&v->gd, fd, v->h.gd_offset * SECTOR, gde, false);
    v->gt = malloc((size_t)ng * 4);
    v->grain = malloc(v->grain_bytes);
    v->zbuf = malloc(v->grain_bytes * 2 + SECTOR);
    if (ret < 0 || !v->gt || !v->grain || !v->zbuf)
        BLOCK_OPEN_FAIL(-ENOMEM, "%s: out of memory", name);
    uint32_t gd0;
    if ((ret = table32_get(&v->gd, 0, &gd0)) < 0)
        BLOCK_OPEN_FAIL(ret, "%s: cannot read VMDK grain directory: %s", name, strerror(-ret));

    bd->priv = v;
    bd->size = v->h.capacity * SECTOR;
    bd->read_only = true;
    return 0;
fail:
    vmdk_free(v);
    return ret;
}

/* Host byte offset of grain `g`; 0 if it reads as zeroes. */
static int grain_lookup(struct vmdk *v, uint64_t g, uint64_t *host)
{
    uint64_t gdi = g / v->h.gtes_per_gt;
    uint32_t gti = (uint32_t)(g % v->h.gtes_per_gt);
    *host = 0;
    if (gdi >= v->gd_entries)
        return 0;
    uint32_t gde;
    int ret = table32_get(&v->gd, gdi, &gde);
    if (ret < 0)
        return ret;
    if (gde == 0)
        return 0;
    if (v->gt_index != gdi) {
        uint64_t off = (uint64_t)gde * SECTOR;
        if (!in_file(v, off, (uint64_t)v->h.gtes_per_gt * 4))
            return -EIO;
        v->gt_index = UINT32_MAX;
        ret = block_pread_exact(v->fd, v->gt, (size_t)v->h.gtes_per_gt * 4, off);
        if (ret < 0)
            return ret;
        bool empty = true;
        for (uint32_t i = 0; i < v->h.gtes_per_gt; i++) {
            v->gt[i] = le32((uint8_t *)&v->gt[i]);
            empty = empty && v->gt[i] <= 1;
        }
        v->gt_index = (uint32_t)gdi;
        if (empty)
            v->empty_gt = gde;
    }
    uint32_t e = v->gt[gti];
    if (e == 0 || e == 1) /* unallocated, or a zeroed grain */
        return 0;
    *host = (uint64_t)e * SECTOR;
    return 0;
}

static int read_compressed_grain(struct vmdk *v, uint64_t g, uint64_t host)
{
    if (v->grain_cached == g)
        return 0;
    /* Grain marker: u64 LBA, u32 compressed size, then the zlib stream. */
    uint8_t m[12];
    if (!in_file(v, host, sizeof(m)))
        return -EIO;
    int ret = block_pread_exact(v->fd, m, sizeof(m), host);
    if (ret < 0)
        return ret;
    uint32_t clen = le32(m + 8);
    if (clen == 0 || clen > v->grain_bytes * 2 + SECTOR - 12 || !in_file(v, host + 12, clen))
        return -EIO;
    if ((ret = block_pread_exact(v->fd, v->zbuf, clen, host + 12)) < 0)
        return ret;
    v->grain_cached = UINT64_MAX;
    uLongf out = (uLongf)v->grain_bytes;
    if (uncompress(v->grain, &out, v->zbuf, clen) != Z_OK)
        return -EIO;
    /* The last grain of a disk may be short. */
    memset(v->grain + out, 0, v->grain_bytes - out);
    v->grain_cached = g;
    return 0;
}

static int vmdk_read(struct block_dev *bd, uint64_t offset, void *buf, size_t len)
{
    struct vmdk *v = bd->priv;
    uint8_t *p = buf;
    if (offset > bd->size || len > bd->size - offset)
        return -EINVAL;
    while (len) {
        uint64_t g = offset / v->grain_bytes;
        uint64_t in = offset % v->grain_bytes;
        size_t n = (size_t)(v->grain_bytes - in < len ? v->grain_bytes - in : len);
        uint64_t host;
        int ret = grain_lookup(v, g, &host);
        if (ret < 0)
            return ret;
        if (!host) {
            memset(p, 0, n);
        } else if (v->compressed) {
            if ((ret = read_compressed_grain(v, g, host)) < 0)
                return ret;
            memcpy(p, v->grain + in, n);
        } else {
            if (!in_file(v, host + in, n))
                return -EIO;
            if ((ret = block_pread_exact(v->fd, p, n, host + in)) < 0)
                return ret;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

static void vmdk_close(struct block_dev *bd)
{
    vmdk_free(bd->priv);
    bd->priv = NULL;
}

static int vmdk_block_unit_status(struct block_dev *bd, uint64_t grain, uint64_t in,
                                  unsigned *status, uint64_t *host_offset)
{
    struct vmdk *v = bd->priv;
    uint64_t host;
    int ret = grain_lookup(v, grain, &host);
    if (ret < 0)
        return ret;
    *status = !host           ? IMAGE_STATUS_ZERO
              : v->compressed ? IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED | IMAGE_STATUS_COMPRESSED
                              : IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
    *host_offset = host && !v->compressed ? host + in : 0;
    return 0;
}

static int vmdk_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                             unsigned *status, uint64_t *host_offset)
{
    struct vmdk *v = bd->priv;
    /* Empty directory entries are skipped a whole grain table's span at a time; otherwise the
     * grains are looked at within one grain table. */
    uint64_t span = v->grain_bytes * v->h.gtes_per_gt;
    uint64_t gdi = offset / span, in = offset % span;
    uint64_t empty = 0, max = (in + len + span - 1) / span;
    while (empty < max && gdi + empty < v->gd_entries) {
        uint32_t e;
        int ret = table32_get(&v->gd, gdi + empty, &e);
        if (ret < 0)
            return ret;
        if (e != 0 && e != v->empty_gt)
            break;
        empty++;
    }
    if (empty) {
        uint64_t run = empty * span - in;
        *pnum = run < len ? run : len;
        *status = IMAGE_STATUS_ZERO;
        *host_offset = 0;
        return 0;
    }
    if (len > span - in)
        len = span - in;
    return block_status_by_unit(bd, v->grain_bytes, vmdk_block_unit_status, offset, len, pnum,
                                status, host_offset);
}

static int vmdk_get_info(struct block_dev *bd, struct image_info *info)
{
    struct vmdk *v = bd->priv;
    memset(info, 0, sizeof(*info));
    snprintf(info->format, sizeof(info->format), "vmdk");
    info->virtual_size = bd->size;
    info->cluster_size = (uint32_t)v->grain_bytes;
    return 0;
}

static uint32_t vmdk_cluster_size(struct block_dev *bd)
{
    return (uint32_t)((struct vmdk *)bd->priv)->grain_bytes;
}

const struct block_driver_ops vmdk_ops = {
    .format = "vmdk",
    .probe = vmdk_probe,
    .open = vmdk_open,
    .read = vmdk_read,
    .write = block_write_read_only,
    .close = vmdk_close,
    .get_info = vmdk_get_info,
    .block_status = vmdk_block_status,
    .cluster_size = vmdk_cluster_size,
};
