/* SPDX-License-Identifier: MIT */
#include "vm/vm_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/file.h"

#define SPARSE_BLOCK 4096

static bool all_zero(const uint8_t *p, size_t len)
{
    return len == 0 || (p[0] == 0 && !memcmp(p, p + 1, len - 1));
}

/* Writes buf at offset off of out, leaving holes where whole blocks are
 * zero: a sparse disk in the archive stays sparse on the host. */
static bool write_sparse(int out, const uint8_t *buf, size_t len, uint64_t off)
{
    for (size_t i = 0; i < len;) {
        size_t n = len - i < SPARSE_BLOCK ? len - i : SPARSE_BLOCK;
        if (all_zero(buf + i, n)) {
            i += n;
            continue;
        }
        size_t run = n; /* extend over the following non-zero blocks */
        while (i + run < len) {
            size_t m = len - i - run < SPARSE_BLOCK ? len - i - run : SPARSE_BLOCK;
            if (all_zero(buf + i + run, m))
                break;
            run += m;
        }
        for (size_t w = 0; w < run;) {
            ssize_t r = pwrite(out, buf + i + w, run - w, (off_t)(off + i + w));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
            w += (size_t)r;
        }
        i += run;
    }
    return true;
}

static void octal(char *field, size_t width, uint64_t v)
{
    snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
}

static unsigned checksum(const uint8_t *h)
{
    unsigned sum = 0;
    for (int i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

bool tar_add_file(int out, const char *member, const char *path, char *err, size_t errlen)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (in >= 0)
            close(in);
        return false;
    }
    uint8_t h[TAR_BLOCK] = {0};
    snprintf((char *)h, 100, "%s", member);
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    uint64_t size = (uint64_t)st.st_size;
    if (size < (1ULL << 33)) {
        octal((char *)h + 124, 12, size);
    } else {
        h[124] = 0x80; /* GNU base-256 */
        for (int i = 0; i < 8; i++)
            h[135 - i] = (uint8_t)(size >> (8 * i));
    }
    octal((char *)h + 136, 12, (uint64_t)time(NULL));
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    snprintf((char *)h + 265, 32, "wirt");
    snprintf((char *)h + 297, 32, "wirt");
    snprintf((char *)h + 148, 8, "%06o", checksum(h));
    h[155] = ' ';
    bool ok = write_full(out, h, sizeof(h));
    static uint8_t buf[1 << 20];
    /* Zero blocks become holes when the archive is a file (a sparse disk
     * makes a sparse archive); tar_finish's real zeros end it. */
    off_t base = lseek(out, 0, SEEK_CUR);
    for (uint64_t done = 0; ok && done < size;) {
        size_t want = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
        ok = read_full(in, buf, want) &&
             (base < 0 ? write_full(out, buf, want)
                       : write_sparse(out, buf, want, (uint64_t)base + done));
        done += want;
    }
    if (ok && base >= 0 && lseek(out, base + (off_t)size, SEEK_SET) < 0)
        ok = false;
    if (ok && size % TAR_BLOCK) {
        uint8_t pad[TAR_BLOCK] = {0};
        ok = write_full(out, pad, TAR_BLOCK - size % TAR_BLOCK);
    }
    if (!ok)
        snprintf(err, errlen, "cannot archive %s: %s", path, strerror(errno ? errno : EIO));
    close(in);
    return ok;
}

bool tar_finish(int out)
{
    uint8_t z[2 * TAR_BLOCK] = {0};
    return write_full(out, z, sizeof(z));
}

static bool parse_octal(const uint8_t *f, size_t width, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && f[i] == ' ')
        i++;
    bool digits = false;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
        digits = true;
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return false;
    *out = v;
    return digits;
}

bool tar_next(int in, char name[101], uint64_t *size, bool *eof, char *err, size_t errlen)
{
    uint8_t h[TAR_BLOCK];
    *eof = false;
    if (!read_full(in, h, sizeof(h))) {
        snprintf(err, errlen, "the archive ends in the middle (no end marker)");
        return false;
    }
    bool zero = true;
    for (int i = 0; i < TAR_BLOCK; i++)
        zero &= h[i] == 0;
    if (zero) {
        *eof = true;
        return false;
    }
    uint64_t sum;
    if (!parse_octal(h + 148, 8, &sum) || sum != checksum(h)) {
        snprintf(err, errlen, "not a tar archive, or a damaged header (checksum mismatch)");
        return false;
    }
    if (h[156] != '0' && h[156] != '\0') {
        snprintf(err, errlen, "unexpected member type '%c' (only plain files belong here)",
                 h[156] >= 0x20 && h[156] < 0x7f ? h[156] : '?');
        return false;
    }
    if (h[345] != '\0') {
        snprintf(err, errlen, "member names with a directory prefix do not belong here");
        return false;
    }
    memcpy(name, h, 100);
    name[100] = '\0';
    if (h[124] & 0x80) {
        uint64_t v = 0;
        for (int i = 0; i < 11; i++) {
            if (v >> 56) {
                snprintf(err, errlen, "member %s: size out of range", name);
                return false;
            }
            v = (v << 8) | h[125 + i];
        }
        if (h[124] != 0x80) {
            snprintf(err, errlen, "member %s: size out of range", name);
            return false;
        }
        *size = v;
    } else if (!parse_octal(h + 124, 12, size)) {
        snprintf(err, errlen, "member %s: bad size field", name);
        return false;
    }
    return true;
}

bool tar_extract(int in, uint64_t size, int out, char *err, size_t errlen)
{
    static uint8_t buf[1 << 20];
    uint64_t total = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    for (uint64_t done = 0; done < total;) {
        size_t want = total - done < sizeof(buf) ? (size_t)(total - done) : sizeof(buf);
        if (!read_full(in, buf, want)) {
            snprintf(err, errlen, "the archive ends in the middle of a member");
            return false;
        }
        size_t data = done + want <= size ? want : size > done ? (size_t)(size - done) : 0;
        if (out >= 0 && data && !write_sparse(out, buf, data, done)) {
            snprintf(err, errlen, "cannot write: %s", strerror(errno ? errno : EIO));
            return false;
        }
        done += want;
    }
    /* Trailing zeros were skipped: the length comes from the header. */
    if (out >= 0 && ftruncate(out, (off_t)size) < 0) {
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
        return false;
    }
    return true;
}
