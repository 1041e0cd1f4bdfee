/* SPDX-License-Identifier: MIT */
/*
 * One logging facility for the whole program.
 *
 * Messages go to stderr (or to the file set with log_set_file) prefixed
 * with "wirt: ".  usage_error() is for bad user input: one line, exit 2.
 */
#ifndef WIRT_UTIL_LOG_H
#define WIRT_UTIL_LOG_H

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

/* Bad input from the user: prints "wirt: <message>" and exits with status 2. */
NORETURN void usage_error(const char *fmt, ...) PRINTF_FMT(1, 2);
/* An internal failure the program cannot continue from: exits with status 1. */
NORETURN void fatal(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif
