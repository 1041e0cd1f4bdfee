/* SPDX-License-Identifier: MIT */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *file_type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "a regular file";
    case S_IFDIR:
        return "a directory";
    case S_IFIFO:
        return "a FIFO";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    case S_IFSOCK:
        return "a socket";
    case S_IFLNK:
        return "a symbolic link";
    default:
        return "not a regular file";
    }
}

static void not_regular(const char *path, mode_t mode, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: is %s, not a regular file", path, file_type_name(mode));
    errno = EINVAL;
}

int open_regular(const char *path, int flags, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK, mode);
    if (fd < 0) {
        int e = errno;
        /* A FIFO without a reader refuses a non-blocking write open. */
        struct stat st;
        if (e == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            not_regular(path, st.st_mode, err, errlen);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e == ENXIO ? EINVAL : e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        not_regular(path, st.st_mode, err, errlen);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

bool is_regular_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        not_regular(path, st.st_mode, err, errlen);
        return false;
    }
    return true;
}

bool write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(ENAMETOOLONG));
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return false;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    return true;
fail:
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return false;
}

/* One loop for both directions: io is read(), or write() behind write_io. */
static bool full(int fd, void *buf, size_t len, ssize_t (*io)(int, void *, size_t))
{
    unsigned char *p = buf;
    while (len) {
        ssize_t n = io(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static ssize_t write_io(int fd, void *buf, size_t len)
{
    return write(fd, buf, len);
}

bool write_full(int fd, const void *buf, size_t len)
{
    return full(fd, (void *)buf, len, write_io);
}

bool read_full(int fd, void *buf, size_t len)
{
    return full(fd, buf, len, read);
}
