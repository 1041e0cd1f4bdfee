/* SPDX-License-Identifier: MIT */
#ifndef WIRT_UTIL_SIZE_H
#define WIRT_UTIL_SIZE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parses a size such as "512M", "1G", "4096", "64k" (binary suffixes
 * K/M/G/T/P/E, case-insensitive, optional trailing "B" or "iB").
 * Returns false on syntax errors or overflow.
 */
bool parse_size(const char *text, uint64_t *out);

#endif
