/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static enum log_level current_level = LOG_WARN;
static FILE *log_file;

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_file(FILE *f)
{
    log_file = f;
}

static void vlog(const char *fmt, va_list ap)
{
    FILE *out = log_file ? log_file : stderr;
    fputs("wirt: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    fflush(out);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes a token from the bucket; returns false (and counts the message)
 * when there is none.  *suppressed gets the count to report first. */
static bool ratelimit_take(struct log_ratelimit *rl, uint64_t *suppressed)
{
    pthread_mutex_lock(&ratelimit_lock);
    int64_t now = monotonic_ms();
    if (rl->refill_ms == 0 || now < rl->refill_ms) {
        rl->refill_ms = now ? now : 1;
        rl->tokens = LOG_RATELIMIT_BURST;
    } else {
        int64_t add = (now - rl->refill_ms) / LOG_RATELIMIT_INTERVAL_MS;
        if (add > 0) {
            rl->tokens = add >= LOG_RATELIMIT_BURST - rl->tokens ? LOG_RATELIMIT_BURST
                                                                 : rl->tokens + (unsigned)add;
            rl->refill_ms += add * LOG_RATELIMIT_INTERVAL_MS;
        }
    }
    bool ok = rl->tokens > 0;
    if (ok) {
        rl->tokens--;
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    pthread_mutex_unlock(&ratelimit_lock);
    return ok;
}

void log_msg_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    uint64_t suppressed = 0;
    if (!ratelimit_take(rl, &suppressed))
        return;
    if (suppressed)
        log_msg(level, "%" PRIu64 " similar messages suppressed", suppressed);
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_file = NULL;
    vlog(fmt, ap);
    va_end(ap);
    exit(2);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    exit(1);
}
