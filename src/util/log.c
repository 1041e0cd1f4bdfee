/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"
#include <time.h>

static enum log_level current_level = LOG_WARN;
static FILE *log_file;
static struct log_file *log_output; /* when set, messages go here */

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_file(FILE *f)
{
    log_file = f;
}

static void vlog_to(FILE *out, const char *fmt, va_list ap)
{
    fputs("wirt: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    fflush(out);
}

static void vlog(const char *fmt, va_list ap)
{
    if (log_output) {
        /* One write per message: appends from several threads stay whole. */
        char line[1024];
        int n = vsnprintf(line + 6, sizeof(line) - 7, fmt, ap);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) - 7 ? (size_t)n : sizeof(line) - 8;
        memcpy(line, "wirt: ", 6);
        line[6 + len] = '\n';
        log_file_write(log_output, line, 7 + len);
        return;
    }
    vlog_to(log_file ? log_file : stderr, fmt, ap);
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
    vlog_to(stderr, fmt, ap); /* the user's mistake: where the user looks */
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

struct log_file {
    pthread_mutex_t lock;
    int fd;
    char *path;
    uint64_t size, limit;
    /* stdout / stderr were this file when it was opened: they follow it
     * to each new generation, so nothing keeps writing to FILE.1. */
    bool follow_stdout, follow_stderr;
};

static bool same_file(int a, const struct stat *b)
{
    struct stat st;
    return fstat(a, &st) == 0 && st.st_dev == b->st_dev && st.st_ino == b->st_ino;
}

static int open_generation(const char *path, uint64_t *size, char *err, size_t errlen)
{
    int fd = open_regular(path, O_WRONLY | O_CREAT | O_APPEND, 0600, err, errlen);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0) {
        /* Logs show what the guest printed: owner-only, also if an older
         * wirt made them world-readable. */
        if (st.st_mode & 077)
            fchmod(fd, st.st_mode & 0700);
        *size = (uint64_t)st.st_size;
    }
    return fd;
}

/* Called with f->lock held. */
static void rotate(struct log_file *f)
{
    char old[4096], err[256];
    if (snprintf(old, sizeof(old), "%s.1", f->path) >= (int)sizeof(old))
        return;
    /* The previous FILE.1 is replaced: at most two generations. */
    if (rename(f->path, old) < 0)
        return;
    uint64_t size = 0;
    int fd = open_generation(f->path, &size, err, sizeof(err));
    if (fd < 0)
        return; /* keep writing to the old generation rather than lose lines */
    if (f->follow_stdout)
        dup2(fd, STDOUT_FILENO);
    if (f->follow_stderr)
        dup2(fd, STDERR_FILENO);
    close(f->fd);
    f->fd = fd;
    f->size = size;
}

struct log_file *log_file_open(const char *path, uint64_t limit, char *err, size_t errlen)
{
    struct log_file *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path))) {
        free(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f->limit = limit;
    f->fd = open_generation(path, &f->size, err, errlen);
    if (f->fd < 0) {
        free(f->path);
        free(f);
        return NULL;
    }
    struct stat st;
    if (fstat(f->fd, &st) == 0) {
        f->follow_stdout = same_file(STDOUT_FILENO, &st);
        f->follow_stderr = same_file(STDERR_FILENO, &st);
    }
    pthread_mutex_init(&f->lock, NULL);
    if (f->size >= limit) {
        pthread_mutex_lock(&f->lock);
        rotate(f);
        pthread_mutex_unlock(&f->lock);
    }
    return f;
}

int log_file_fd(const struct log_file *f)
{
    return f->fd;
}

void log_file_write(struct log_file *f, const void *buf, size_t len)
{
    pthread_mutex_lock(&f->lock);
    if (f->follow_stdout || f->follow_stderr) {
        /* Others write to this file directly too: count their bytes. */
        struct stat st;
        if (fstat(f->fd, &st) == 0)
            f->size = (uint64_t)st.st_size;
    }
    if (f->size && f->size + len > f->limit)
        rotate(f);
    const char *p = buf;
    while (len) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a full disk loses log lines, never the machine */
        f->size += (uint64_t)n;
        p += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&f->lock);
}

void log_file_close(struct log_file *f)
{
    if (!f)
        return;
    if (log_output == f)
        log_output = NULL;
    close(f->fd);
    pthread_mutex_destroy(&f->lock);
    free(f->path);
    free(f);
}

void log_set_output(struct log_file *f)
{
    log_output = f;
}
