/* SPDX-License-Identifier: MIT */
/*
 * The block layer core: the driver registry, probing, image locking,
 * backing-chain opening with loop detection, and the image_* entry points
 * that dispatch to the driver's optional ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/block_int.h"
#include "util/log.h"

/* Read-only import drivers (src/block/vmdk.c, vhd.c). */
extern const struct block_driver_ops vmdk_ops;
extern const struct block_driver_ops vhd_ops;

/* The format registry, in probe order: raw last, it accepts anything.  A
 * new format is one more entry. */
static const struct block_driver_ops *const drivers[] = {&qcow2_ops, &vmdk_ops, &vhd_ops, &raw_ops};
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static const struct block_driver_ops *driver_at(unsigned i)
{
    return i < NDRIVERS ? drivers[i] : NULL;
}

static const struct block_driver_ops *find_driver(const char *format)
{
    for (unsigned i = 0; i < NDRIVERS; i++) {
        const struct block_driver_ops *d = driver_at(i);
        if (d && d->format && strcmp(d->format, format) == 0)
            return d;
    }
    return NULL;
}

bool block_format_known(const char *format)
{
    return format && find_driver(format) != NULL;
}

void block_format_names(char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < NDRIVERS && used < outlen; i++)
        used +=
            (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", drivers[i]->format);
}

void block_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The one read loop: retries EINTR and short reads.  What EOF means is the caller's choice. */
static int pread_loop(int fd, void *buf, size_t len, uint64_t offset, bool eof_is_error)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {
            if (eof_is_error)
                return -EIO;
            memset(p, 0, len); /* past EOF reads as zeroes */
            return 0;
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int block_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
    return pread_loop(fd, buf, len, offset, false);
}

int block_pread_exact(int fd, void *buf, size_t len, uint64_t offset)
{
    return pread_loop(fd, buf, len, offset, true);
}

int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int64_t block_file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        return end < 0 ? -errno : (int64_t)end;
    }
    return (int64_t)st.st_size;
}

/*
 * Image locking with OFD locks on the byte ranges QEMU uses, so that wirt
 * and QEMU exclude each other: a holder of permission bit i read-locks
 * byte 100+i; a holder that does not share permission i read-locks byte
 * 200+i.  A conflict is someone else's lock where we would need none.
 * Like QEMU's, every user of an image keeps writers and resizers out
 * (its data and metadata must not change under it); a writer takes those
 * permissions itself, so it is alone with readers that opted out of
 * locking (BLOCK_OPEN_NO_LOCK, qemu-img -U).  OFD locks belong to an open
 * file, not to a process: two opens of one file in wirt exclude each other
 * like two processes do (see block_unlock).
 */
enum {
    LOCK_PERM_BASE = 100,
    LOCK_SHARED_BASE = 200,
    PERM_CONSISTENT_READ = 0,
    PERM_WRITE = 1,
    PERM_WRITE_UNCHANGED = 2,
    PERM_RESIZE = 3,
    NPERMS = 4,
};

static int ofd_lock(int fd, short type, off_t byte)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* True if another open file description holds a lock on `byte`. */
static bool ofd_locked_by_other(int fd, off_t byte)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return false;
    return fl.l_type != F_UNLCK;
}

static int lock_image(int fd, bool writer)
{
    /* Permissions we take. */
    unsigned perms = 1u << PERM_CONSISTENT_READ;
    if (writer)
        perms |= 1u << PERM_WRITE | 1u << PERM_WRITE_UNCHANGED | 1u << PERM_RESIZE;
    /* Permissions we refuse to share, reader or writer: nobody else writes or resizes. */
    unsigned unshared = 1u << PERM_WRITE | 1u << PERM_RESIZE;

    for (unsigned i = 0; i < NPERMS; i++) {
        if ((perms & (1u << i)) && ofd_locked_by_other(fd, LOCK_SHARED_BASE + i))
            return -EBUSY;
        if ((unshared & (1u << i)) && ofd_locked_by_other(fd, LOCK_PERM_BASE + i))
            return -EBUSY;
    }
    for (unsigned i = 0; i < NPERMS; i++) {
        int r = 0;
        if (perms & (1u << i))
            r = ofd_lock(fd, F_RDLCK, LOCK_PERM_BASE + i);
        if (!r && (unshared & (1u << i)))
            r = ofd_lock(fd, F_RDLCK, LOCK_SHARED_BASE + i);
        if (r == -EAGAIN || r == -EACCES)
            return -EBUSY;
        if (r == -EINVAL || r == -ENOLCK || r == -EOPNOTSUPP)
            return 0; /* file system without OFD locks: run unlocked */
        if (r)
            return r;
    }
    /* Re-check: a racing opener may have locked between test and set. */
    for (unsigned i = 0; i < NPERMS; i++) {
        if ((perms & (1u << i)) && ofd_locked_by_other(fd, LOCK_SHARED_BASE + i))
            return -EBUSY;
        if ((unshared & (1u << i)) && ofd_locked_by_other(fd, LOCK_PERM_BASE + i))
            return -EBUSY;
    }
    return 0;
}

void block_unlock(struct block_dev *bd)
{
    for (unsigned i = 0; i < NPERMS; i++) {
        ofd_lock(bd->fd, F_UNLCK, LOCK_PERM_BASE + i);
        ofd_lock(bd->fd, F_UNLCK, LOCK_SHARED_BASE + i);
    }
}

/* The files being opened on this thread, outermost first: a backing file
 * that is already in the chain is a loop. */
struct open_chain {
    unsigned depth;
    dev_t dev[BLOCK_MAX_CHAIN];
    ino_t ino[BLOCK_MAX_CHAIN];
};
static _Thread_local struct open_chain *cur_chain;

/* How many leading bytes of a file probing looks at. */
#define PROBE_BYTES 4096

static const struct block_driver_ops *probe_buf(const uint8_t *buf, size_t len)
{
    const struct block_driver_ops *best_drv = &raw_ops;
    int best = 0;
    for (unsigned i = 0; i < NDRIVERS; i++) {
        const struct block_driver_ops *d = driver_at(i);
        if (!d || !d->probe)
            continue;
        int s = d->probe(buf, len);
        if (s > best) {
            best = s;
            best_drv = d;
        }
    }
    return best_drv;
}

static int probe_driver(int fd, const struct block_driver_ops **out)
{
    uint8_t buf[PROBE_BYTES];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    if (n < 0)
        return -errno;
    *out = probe_buf(buf, (size_t)n);
    return 0;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * A probed raw image must still probe as raw after the write of [offset, offset+len) (data
 * NULL: the range becomes zeroes).  Otherwise a guest could write a qcow2 header naming any
 * host file as its backing file into its disk, and read that file after the next start.
 * Refused writes fail with -EPERM (the guest sees an I/O error).  QEMU guards its first 512
 * bytes the same way; this guards everything probing reads.
 */
static int guard_probed_raw(struct block_dev *bd, uint64_t offset, const void *data, uint64_t len)
{
    if (!bd->probed || bd->ops != &raw_ops || offset >= PROBE_BYTES)
        return 0;
    uint8_t head[PROBE_BYTES];
    size_t n = bd->size < PROBE_BYTES ? (size_t)bd->size : PROBE_BYTES;
    int r = bd->ops->read(bd, 0, head, n);
    if (r)
        return r;
    size_t m = len < n - offset ? (size_t)len : n - (size_t)offset;
    if (data)
        memcpy(head + offset, data, m);
    else
        memset(head + offset, 0, m);
    const struct block_driver_ops *would_be = probe_buf(head, n);
    if (would_be == &raw_ops)
        return 0;
    bd->probe_refusals++;
    int64_t now = monotonic_ns();
    if (!bd->probe_refusal_log_ns || now - bd->probe_refusal_log_ns >= 10 * 1000000000LL) {
        log_warn("%s: refused %" PRIu64 " write(s) that would make the image, probed as raw, "
                 "probe as %s; give format=raw to allow them",
                 bd->path, bd->probe_refusals, would_be->format);
        bd->probe_refusals = 0;
        bd->probe_refusal_log_ns = now;
    }
    return -EPERM;
}

static int open_with_chain(const char *path, const char *format, unsigned flags,
                           struct block_dev **out, char *err, size_t errlen)
{
    *out = NULL;
    const struct block_driver_ops *drv = NULL;
    if (format) {
        drv = find_driver(format);
        if (!drv) {
            block_set_err(err, errlen, "%s: unknown image format '%s'", path, format);
            return -EINVAL;
        }
    }
    bool ro = flags & BLOCK_OPEN_READ_ONLY;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; what is not a disk is refused
     * below before anything reads from it. */
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        block_set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int fl;
    if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        block_set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        block_set_err(err, errlen, "%s: is a directory", path);
        return -EISDIR;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        close(fd);
        block_set_err(err, errlen, "%s: not a regular file or block device", path);
        return -EINVAL;
    }
    struct open_chain local = {0}, *chain = cur_chain;
    bool outermost = chain == NULL;
    if (outermost)
        chain = &local;
    for (unsigned i = 0; i < chain->depth; i++) {
        if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
            close(fd);
            block_set_err(err, errlen, "%s: backing file loop (the image is its own ancestor)",
                          path);
            return -ELOOP;
        }
    }
    if (chain->depth >= BLOCK_MAX_CHAIN) {
        close(fd);
        block_set_err(err, errlen, "%s: backing chain longer than %d images", path,
                      BLOCK_MAX_CHAIN);
        return -EMLINK;
    }
    if (!(flags & BLOCK_OPEN_NO_LOCK)) {
        int r = lock_image(fd, !ro);
        if (r) {
            close(fd);
            if (r == -EBUSY)
                block_set_err(err, errlen, "%s: image is in use by another process", path);
            else
                block_set_err(err, errlen, "%s: cannot lock image: %s", path, strerror(-r));
            return r;
        }
    }
    bool probed = !drv;
    if (probed) {
        int r = probe_driver(fd, &drv);
        if (r) {
            close(fd);
            block_set_err(err, errlen, "%s: %s", path, strerror(-r));
            return r;
        }
    }
    struct block_dev *bd = calloc(1, sizeof(*bd));
    char *p = strdup(path);
    if (!bd || !p) {
        free(bd);
        free(p);
        close(fd);
        block_set_err(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    bd->ops = drv;
    bd->path = p;
    bd->fd = fd;
    bd->read_only = ro;
    bd->probed = probed;

    chain->dev[chain->depth] = st.st_dev;
    chain->ino[chain->depth] = st.st_ino;
    chain->depth++;
    cur_chain = chain;
    if (err && errlen)
        err[0] = 0;
    int r = drv->open(bd, fd, flags, err, errlen);
    chain->depth--;
    if (outermost)
        cur_chain = NULL;
    if (r < 0) {
        if (err && errlen && !err[0])
            block_set_err(err, errlen, "%s: cannot open as %s: %s", path, drv->format,
                          strerror(-r));
        if (bd->backing)
            block_close(bd->backing);
        close(fd);
        free(p);
        free(bd);
        return r;
    }
    if (probed && (flags & BLOCK_OPEN_GUEST) && outermost)
        log_warn("%s: no format given, probed as %s; give format=%s to make it explicit%s", path,
                 drv->format, drv->format,
                 drv == &raw_ops ? " (until then, writes that would change the probed format are "
                                   "refused)"
                                 : "");
    *out = bd;
    return 0;
}

int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
               char *err, size_t errlen)
{
    return open_with_chain(path, format, flags, out, err, errlen);
}

bool block_backing_path(const char *image_path, const char *name, char *out, size_t outlen)
{
    if (name[0] == '/' || !strchr(image_path, '/')) {
        return (size_t)snprintf(out, outlen, "%s", name) < outlen;
    }
    const char *slash = strrchr(image_path, '/');
    size_t dirlen = (size_t)(slash - image_path) + 1;
    return (size_t)snprintf(out, outlen, "%.*s%s", (int)dirlen, image_path, name) < outlen;
}

int block_open_backing(struct block_dev *parent, const char *name, const char *format,
                       unsigned flags, struct block_dev **out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (!block_backing_path(parent->path, name, path, sizeof(path))) {
        block_set_err(err, errlen, "%s: backing file name too long", parent->path);
        return -ENAMETOOLONG;
    }
    if ((flags & BLOCK_OPEN_GUEST) && parent->probed) {
        block_set_err(err, errlen,
                      "%s: refusing backing file '%s' of an image whose format was probed (as "
                      "%s): give the format explicitly if the image is trusted",
                      parent->path, name, parent->ops->format);
        return -EPERM;
    }
    char sub[512];
    unsigned f = BLOCK_OPEN_READ_ONLY | (flags & (BLOCK_OPEN_NO_LOCK | BLOCK_OPEN_GUEST));
    int r = open_with_chain(path, format, f, out, sub, sizeof(sub));
    if (r < 0) {
        if (r == -ELOOP)
            block_set_err(err, errlen, "%s: backing file loop detected at '%s'", parent->path,
                          name);
        else if (r == -EMLINK) /* said once, for the image the caller opened */
            block_set_err(err, errlen, "%s: backing chain longer than %d images", parent->path,
                          BLOCK_MAX_CHAIN);
        else
            block_set_err(err, errlen, "%s: could not open backing file '%s': %s", parent->path,
                          name, sub);
    }
    return r;
}

void block_close(struct block_dev *bd)
{
    if (!bd)
        return;
    if (bd->ops && bd->ops->close)
        bd->ops->close(bd);
    if (bd->backing)
        block_close(bd->backing);
    if (bd->fd >= 0)
        close(bd->fd);
    free(bd->path);
    free(bd);
}

static int check_range(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (offset > bd->size || len > bd->size - offset)
        return -EINVAL;
    return 0;
}

int block_read(struct block_dev *bd, uint64_t offset, void *buf, size_t len)
{
    int r = check_range(bd, offset, len);
    if (r || !len)
        return r;
    return bd->ops->read(bd, offset, buf, len);
}

static void written(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (bd->write_hook)
        bd->write_hook(bd->write_hook_opaque, offset, len);
}

int block_write(struct block_dev *bd, uint64_t offset, const void *buf, size_t len)
{
    if (bd->read_only)
        return -EROFS;
    int r = check_range(bd, offset, len);
    if (r || !len)
        return r;
    if ((r = guard_probed_raw(bd, offset, buf, len)))
        return r;
    r = bd->ops->write(bd, offset, buf, len);
    written(bd, offset, len);
    return r;
}

int block_flush(struct block_dev *bd)
{
    if (bd->read_only || !bd->ops->flush)
        return 0;
    return bd->ops->flush(bd);
}

int block_discard(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (bd->read_only)
        return -EROFS;
    int r = check_range(bd, offset, len);
    if (r || !len)
        return r;
    if (!bd->ops->discard)
        return 0; /* discard is advisory */
    if ((r = guard_probed_raw(bd, offset, NULL, len)))
        return r;
    r = bd->ops->discard(bd, offset, len);
    written(bd, offset, len);
    return r;
}

int block_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len)
{
    if (bd->read_only)
        return -EROFS;
    int r = check_range(bd, offset, len);
    if (r || !len)
        return r;
    if ((r = guard_probed_raw(bd, offset, NULL, len)))
        return r;
    written(bd, offset, len); /* before: the loop below returns early on errors */
    if (bd->ops->write_zeroes)
        return bd->ops->write_zeroes(bd, offset, len);
    static const uint8_t zero[65536];
    while (len) {
        size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        r = bd->ops->write(bd, offset, zero, n);
        if (r)
            return r;
        offset += n;
        len -= n;
    }
    return 0;
}

int image_create(const char *path, const struct image_create_opts *o, char *err, size_t errlen)
{
    const char *fmt = o->format ? o->format : "raw";
    const struct block_driver_ops *d = find_driver(fmt);
    if (!d) {
        block_set_err(err, errlen, "%s: unknown image format '%s'", path, fmt);
        return -EINVAL;
    }
    if (!d->create) {
        block_set_err(err, errlen, "%s: format '%s' does not support creation", path, fmt);
        return -ENOTSUP;
    }
    if (o->backing_file) {
        int r = block_check_backing_name(o->backing_file, o->backing_format, err, errlen);
        if (r)
            return r;
    }
    /* Never truncate an image another process has open, nor write an image into a FIFO or a
     * terminal (O_NONBLOCK: looking must not wait for a FIFO's writer). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
        struct stat st;
        bool disk = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
        bool busy = false;
        for (unsigned i = 0; disk && i < NPERMS; i++)
            busy = busy || ofd_locked_by_other(fd, LOCK_PERM_BASE + i);
        close(fd);
        if (!disk) {
            block_set_err(err, errlen, "%s: not a regular file or block device", path);
            return -EINVAL;
        }
        if (busy) {
            block_set_err(err, errlen, "%s: image is in use by another process", path);
            return -EBUSY;
        }
    }
    return d->create(path, o, err, errlen);
}

int image_get_info(struct block_dev *bd, struct image_info *info)
{
    if (!bd->ops->get_info)
        return -ENOTSUP;
    return bd->ops->get_info(bd, info);
}

int image_check(struct block_dev *bd, unsigned repair, struct image_check_result *res)
{
    memset(res, 0, sizeof(*res));
    if (!bd->ops->check)
        return -ENOTSUP;
    if (repair && bd->read_only)
        return -EROFS;
    return bd->ops->check(bd, repair, res);
}

int image_block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum,
                       unsigned *status, uint64_t *host_offset)
{
    int r = check_range(bd, offset, len);
    if (r)
        return r;
    if (!bd->ops->block_status) {
        *pnum = len;
        *status = IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
        if (host_offset)
            *host_offset = 0;
        return 0;
    }
    uint64_t dummy;
    return bd->ops->block_status(bd, offset, len, pnum, status, host_offset ? host_offset : &dummy);
}

int image_truncate(struct block_dev *bd, uint64_t new_size)
{
    if (bd->read_only)
        return -EROFS;
    if (!bd->ops->truncate)
        return -ENOTSUP;
    return bd->ops->truncate(bd, new_size);
}

int image_write_compressed(struct block_dev *bd, uint64_t offset, const void *buf, size_t len)
{
    if (bd->read_only)
        return -EROFS;
    int r = check_range(bd, offset, len);
    if (r)
        return r;
    if (!bd->ops->write_compressed)
        return -ENOTSUP;
    return bd->ops->write_compressed(bd, offset, buf, len);
}

int block_check_backing_name(const char *backing, const char *backing_fmt, char *err, size_t errlen)
{
    size_t n = strlen(backing);
    if (!n) {
        block_set_err(err, errlen, "empty backing file name");
        return -EINVAL;
    }
    if (n > BLOCK_BACKING_NAME_MAX) {
        block_set_err(err, errlen, "backing file name is %zu bytes long; the limit is %d", n,
                      BLOCK_BACKING_NAME_MAX);
        return -ENAMETOOLONG;
    }
    if (backing_fmt && !block_format_known(backing_fmt)) {
        block_set_err(err, errlen, "unknown backing format '%.32s'", backing_fmt);
        return -EINVAL;
    }
    return 0;
}

int image_change_backing(struct block_dev *bd, const char *backing, const char *backing_fmt)
{
    if (bd->read_only)
        return -EROFS;
    int r = backing ? block_check_backing_name(backing, backing_fmt, NULL, 0) : 0;
    if (r)
        return r;
    if (!bd->ops->change_backing)
        return -ENOTSUP;
    return bd->ops->change_backing(bd, backing, backing_fmt);
}

int image_snapshot_create(struct block_dev *bd, const char *name)
{
    if (bd->read_only)
        return -EROFS;
    if (!bd->ops->snapshot_create)
        return -ENOTSUP;
    return bd->ops->snapshot_create(bd, name);
}

int image_snapshot_apply(struct block_dev *bd, const char *name_or_id)
{
    if (bd->read_only)
        return -EROFS;
    if (!bd->ops->snapshot_apply)
        return -ENOTSUP;
    return bd->ops->snapshot_apply(bd, name_or_id);
}

int image_snapshot_delete(struct block_dev *bd, const char *name_or_id)
{
    if (bd->read_only)
        return -EROFS;
    if (!bd->ops->snapshot_delete)
        return -ENOTSUP;
    return bd->ops->snapshot_delete(bd, name_or_id);
}

int image_snapshot_list(struct block_dev *bd, struct image_snapshot **out, unsigned *n)
{
    *out = NULL;
    *n = 0;
    if (!bd->ops->snapshot_list)
        return -ENOTSUP;
    return bd->ops->snapshot_list(bd, out, n);
}

uint32_t image_cluster_size(struct block_dev *bd)
{
    return bd->ops->cluster_size ? bd->ops->cluster_size(bd) : 0;
}

int block_write_read_only(struct block_dev *bd, uint64_t offset, const void *buf, size_t len)
{
    (void)bd;
    (void)offset;
    (void)buf;
    (void)len;
    return -EROFS;
}

int block_status_by_unit(struct block_dev *bd, uint64_t unit_size, block_unit_status_fn unit_status,
                         uint64_t offset, uint64_t len, uint64_t *pnum, unsigned *status,
                         uint64_t *host_offset)
{
    uint64_t done = 0, first_host = 0;
    unsigned first = 0;
    while (done < len) {
        uint64_t off = offset + done;
        uint64_t unit = off / unit_size, in = off % unit_size;
        uint64_t n = unit_size - in < len - done ? unit_size - in : len - done;
        unsigned st;
        uint64_t h;
        int ret = unit_status(bd, unit, in, &st, &h);
        if (ret < 0)
            return ret;
        if (done == 0) {
            first = st;
            first_host = h;
        } else if (st != first || (h && h != first_host + done)) {
            break;
        }
        done += n;
    }
    *pnum = done;
    *status = first;
    *host_offset = first_host;
    return 0;
}
