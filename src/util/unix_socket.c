/* SPDX-License-Identifier: MIT */
#include "util/unix_socket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/file.h"

/* Something is at path: replace it only if it is a socket nobody serves. */
static bool remove_stale_socket(const struct sockaddr_un *addr, int type, char *err, size_t errlen)
{
    const char *path = addr->sun_path;
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is %s, not a stale socket; refusing to replace it",
                 path, file_type_name(st.st_mode));
        return false;
    }
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    int r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    int e = errno;
    close(fd);
    if (r == 0) {
        snprintf(err, errlen, "%s is in use by another process", path);
        return false;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "%s: cannot tell whether the socket is stale: %s", path, strerror(e));
        return false;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s: cannot remove the stale socket: %s", path, strerror(errno));
        return false;
    }
    return true;
}

int unix_listen_owner_only(const char *path, int backlog, char *err, size_t errlen)
{
    return unix_listen_owner_only_type(path, SOCK_STREAM, backlog, err, errlen);
}

int unix_listen_owner_only_type(const char *path, int type, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(err, errlen, "%s: path too long for a Unix socket", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    if (!remove_stale_socket(&addr, type, err, errlen))
        return -1;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* bind() creates the file with the socket inode's mode less the
     * umask: restricting both makes it 0600 from the first instant, so
     * no other user can connect in a window before a chmod. */
    fchmod(fd, 0600);
    mode_t old = umask(0077);
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    int e = errno;
    umask(old);
    if (r < 0 || listen(fd, backlog) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(r < 0 ? e : errno));
        if (r == 0)
            unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

bool unix_peer_allowed(int fd, uid_t *uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    *uid = (uid_t)-1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
        return false;
    *uid = cred.uid;
    return cred.uid == geteuid() || cred.uid == 0;
}

size_t unix_send_some(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

size_t unix_backlog_send(struct unix_backlog *b, int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (!b->len) {
        size_t n = unix_send_some(fd, p, len);
        p += n;
        len -= n;
    }
    if (!len)
        return 0;
    if (!b->buf && !(b->buf = malloc(b->cap)))
        return len;
    size_t dropped = 0;
    if (b->len + len > b->cap) {
        if (!b->drop_oldest) {
            dropped = len - (b->cap - b->len);
            len -= dropped;
        } else if (len >= b->cap) {
            dropped = b->len + len - b->cap;
            p += len - b->cap;
            len = b->cap;
            b->len = 0;
        } else {
            size_t keep = b->cap - len;
            dropped = b->len - keep;
            memmove(b->buf, b->buf + dropped, keep);
            b->len = keep;
        }
    }
    memcpy(b->buf + b->len, p, len);
    b->len += len;
    return dropped;
}

void unix_backlog_flush(struct unix_backlog *b, int fd)
{
    if (!b->len)
        return;
    size_t n = unix_send_some(fd, b->buf, b->len);
    memmove(b->buf, b->buf + n, b->len - n);
    b->len -= n;
}

void unix_backlog_free(struct unix_backlog *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = 0;
}
