/* SPDX-License-Identifier: MIT */
/*
 * Which pages of an anonymous mapping were ever touched, from
 * /proc/self/pagemap: a page that is neither present nor swapped out
 * was never written (nor read), so it is zero without reading it.
 * Reading such a page instead would fault in the zero page 4 KiB at a
 * time, which costs more than everything else a mostly idle guest's RAM
 * needs (migration, state files).  Not for file mappings: their absent
 * pages hold the file's data.
 */
#ifndef WIRT_UTIL_PAGEMAP_H
#define WIRT_UTIL_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

/* Sets bit i of touched (npages bits, cleared first) for every 4 KiB page
 * i from addr on that is present or swapped out.  Async-signal-safe (no
 * allocation: usable in a forked child).  False when pagemap cannot be
 * read: then every bit is set (nothing may be skipped). */
bool pagemap_touched(const void *addr, uint64_t npages, uint64_t *touched);

#endif
