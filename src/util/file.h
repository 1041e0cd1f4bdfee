/* SPDX-License-Identifier: MIT */
/*
 * Opening files named on the command line or found in the store without
 * ever blocking: a FIFO or a device given where a regular file belongs
 * (--kernel /dev/zero, a FIFO as an archive) is refused at once instead
 * of hanging the open or the read.
 */
#ifndef WIRT_UTIL_FILE_H
#define WIRT_UTIL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* "a FIFO", "a directory", ... for messages; "a regular file" for one. */
const char *file_type_name(mode_t mode);

/* Opens path (flags as for open(2), O_CLOEXEC added) and returns the fd
 * only if it is a regular file; the open itself never blocks (O_NONBLOCK
 * is set for it and cleared afterwards).  Otherwise returns -1 with
 * "PATH: reason" in err and errno set (EINVAL when the file exists but
 * is not a regular file). */
int open_regular(const char *path, int flags, mode_t mode, char *err, size_t errlen);

/* True if path exists and is a regular file (following symlinks); else
 * false with "PATH: reason" in err. */
bool is_regular_file(const char *path, char *err, size_t errlen);

/* Replaces path with len bytes of data, owner-only (0600): written to a
 * temporary file next to it, fsync'd and renamed, so a reader (or a
 * crash) sees the old file or the new one, never half of one.  false
 * with "cannot write PATH: reason" in err. */
bool write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Writes all len bytes to fd (retrying short writes and EINTR); false
 * with errno set on an error. */
bool write_full(int fd, const void *buf, size_t len);
/* Reads exactly len bytes; false at an error or the end of the file. */
bool read_full(int fd, void *buf, size_t len);

#endif
