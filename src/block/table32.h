/* SPDX-License-Identifier: MIT */
/*
 * A table of 32-bit entries in an image file (a VHD block allocation table, a VMDK grain
 * directory), read on demand through a small page cache.  A header may claim a table of
 * hundreds of megabytes in a sparse file; only the pages actually used are read, and the
 * memory held stays TABLE32_CACHE_PAGES pages whatever the table's size.
 */
#ifndef WIRT_BLOCK_TABLE32_H
#define WIRT_BLOCK_TABLE32_H

#include <stdbool.h>
#include <stdint.h>

#define TABLE32_PAGE_ENTRIES 1024u /* 4 KiB per page */
#define TABLE32_CACHE_PAGES  16u

struct table32 {
    int fd;
    uint64_t offset; /* byte offset of entry 0 in the file */
    uint64_t entries;
    bool big_endian;
    uint32_t *pages;                    /* TABLE32_CACHE_PAGES pages, host byte order */
    uint64_t tags[TABLE32_CACHE_PAGES]; /* page number each slot holds; UINT64_MAX = none */
};

/* Returns 0 or -ENOMEM.  The caller has checked that the table lies inside the file. */
int table32_init(struct table32 *t, int fd, uint64_t offset, uint64_t entries, bool big_endian);
void table32_free(struct table32 *t);
/* Entry i (< entries) into *v; negative errno if it cannot be read. */
int table32_get(struct table32 *t, uint64_t i, uint32_t *v);
/* *n = how many consecutive entries from i on (at most max, stopping at the end of the
 * table) equal value: how sparse metadata is skipped in big steps. */
int table32_run(struct table32 *t, uint64_t i, uint64_t max, uint32_t value, uint64_t *n);

#endif
