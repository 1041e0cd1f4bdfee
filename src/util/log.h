/* SPDX-License-Identifier: MIT */
/*
 * One logging facility for the whole program.
 *
 * Messages go to stderr (or to the file set with log_set_file) prefixed
 * with "wirt: ".  usage_error() is for bad user input: one line, exit 2.
 */
#ifndef WIRT_UTIL_LOG_H
#define WIRT_UTIL_LOG_H

#include <stdint.h>
#include <stdio.h>
#include "util/compiler.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
void log_set_file(FILE *f);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_FMT(2, 3);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A log file that bounds itself: a write that would take it beyond
 * `limit` bytes first renames FILE to FILE.1 (dropping the previous
 * FILE.1) and starts a new FILE, so it never holds much more than two
 * limits.  Files are created 0600 and must be regular files.  If stdout
 * or stderr already wrote to FILE when it was opened, they follow it to
 * each new generation.  Safe from any thread.
 */
#define VMM_LOG_LIMIT (4ULL << 20) /* vmm.log of a VM run by `wirt vm` */
struct log_file;
/* Returns NULL with "PATH: reason" in err. */
struct log_file *log_file_open(const char *path, uint64_t limit, char *err, size_t errlen);
void log_file_write(struct log_file *f, const void *buf, size_t len);
int log_file_fd(const struct log_file *f);
void log_file_close(struct log_file *f);
/* Sends the messages of log_msg() and fatal() to f (NULL: stderr again). */
void log_set_output(struct log_file *f);

/* Bad input from the user: prints "wirt: <message>" and exits with status 2. */
NORETURN void usage_error(const char *fmt, ...) PRINTF_FMT(1, 2);
/* An internal failure the program cannot continue from: exits with status 1. */
NORETURN void fatal(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif
