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

/*
 * Rate-limited logging for every message a guest can trigger (bad rings,
 * device resets, HTIF requests ...): a guest repeating the cause in a loop
 * must not fill the host's disk.  Each call site has its own token bucket
 * of LOG_RATELIMIT_BURST messages, refilled at one message per
 * LOG_RATELIMIT_INTERVAL_MS; what the bucket refuses is counted, and the
 * next message the site prints is preceded by "N similar messages
 * suppressed".  Thread-safe.
 */
#define LOG_RATELIMIT_BURST       10
#define LOG_RATELIMIT_INTERVAL_MS 5000

struct log_ratelimit {
    int64_t refill_ms; /* time the bucket was last refilled; 0: never used */
    unsigned tokens;
    uint64_t suppressed; /* refused since the last printed message */
};

void log_msg_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
    PRINTF_FMT(3, 4);

#define log_ratelimited_(level, ...)                                                               \
    do {                                                                                           \
        static struct log_ratelimit log_rl_;                                                       \
        log_msg_ratelimited(&log_rl_, level, __VA_ARGS__);                                         \
    } while (0)
#define log_warn_ratelimited(...)  log_ratelimited_(LOG_WARN, __VA_ARGS__)
#define log_info_ratelimited(...)  log_ratelimited_(LOG_INFO, __VA_ARGS__)
#define log_error_ratelimited(...) log_ratelimited_(LOG_ERROR, __VA_ARGS__)
#define log_debug_ratelimited(...) log_ratelimited_(LOG_DEBUG, __VA_ARGS__)

/* Bad input from the user: prints "wirt: <message>" and exits with status 2. */
NORETURN void usage_error(const char *fmt, ...) PRINTF_FMT(1, 2);
/* An internal failure the program cannot continue from: exits with status 1. */
NORETURN void fatal(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif
