/* SPDX-License-Identifier: MIT */
/* Small compiler helpers shared by every layer. */
#ifndef WIRT_UTIL_COMPILER_H
#define WIRT_UTIL_COMPILER_H

#define likely(x)        __builtin_expect(!!(x), 1)
#define unlikely(x)      __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define PRINTF_FMT(f, a) __attribute__((format(printf, f, a)))
#define NORETURN         __attribute__((noreturn))
#define UNUSED           __attribute__((unused))

#endif
