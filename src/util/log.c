/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <stdarg.h>
#include <stdlib.h>

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
