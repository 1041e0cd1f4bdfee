/* SPDX-License-Identifier: MIT */
/* On-demand 32-bit tables of image files: see table32.h. */
#include "block/table32.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/block_int.h"

int table32_init(struct table32 *t, int fd, uint64_t offset, uint64_t entries, bool big_endian)
{
    memset(t, 0, sizeof(*t));
    t->fd = fd;
    t->offset = offset;
    t->entries = entries;
    t->big_endian = big_endian;
    t->pages = malloc((size_t)TABLE32_CACHE_PAGES * TABLE32_PAGE_ENTRIES * 4);
    if (!t->pages)
        return -ENOMEM;
    for (unsigned i = 0; i < TABLE32_CACHE_PAGES; i++)
        t->tags[i] = UINT64_MAX;
    return 0;
}

void table32_free(struct table32 *t)
{
    free(t->pages);
    t->pages = NULL;
}

/* The cached page holding entry i (loading it on a miss). */
static int page_of(struct table32 *t, uint64_t i, uint32_t **page)
{
    uint64_t p = i / TABLE32_PAGE_ENTRIES;
    unsigned slot = (unsigned)(p % TABLE32_CACHE_PAGES);
    uint32_t *buf = t->pages + (size_t)slot * TABLE32_PAGE_ENTRIES;
    if (t->tags[slot] != p) {
        uint64_t first = p * TABLE32_PAGE_ENTRIES;
        uint64_t n =
            t->entries - first < TABLE32_PAGE_ENTRIES ? t->entries - first : TABLE32_PAGE_ENTRIES;
        t->tags[slot] = UINT64_MAX;
        int r = block_pread_exact(t->fd, buf, (size_t)n * 4, t->offset + first * 4);
        if (r < 0)
            return r;
        for (uint64_t k = 0; k < n; k++) {
            const uint8_t *b = (const uint8_t *)&buf[k];
            buf[k] = t->big_endian
                         ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                         : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
        }
        t->tags[slot] = p;
    }
    *page = buf;
    return 0;
}

int table32_get(struct table32 *t, uint64_t i, uint32_t *v)
{
    if (i >= t->entries)
        return -EIO;
    uint32_t *page;
    int r = page_of(t, i, &page);
    if (r < 0)
        return r;
    *v = page[i % TABLE32_PAGE_ENTRIES];
    return 0;
}

int table32_run(struct table32 *t, uint64_t i, uint64_t max, uint32_t value, uint64_t *n)
{
    uint64_t end = i + max < i || i + max > t->entries ? t->entries : i + max;
    uint64_t k = i;
    while (k < end) {
        uint32_t *page;
        int r = page_of(t, k, &page);
        if (r < 0)
            return r;
        uint64_t page_end = (k / TABLE32_PAGE_ENTRIES + 1) * TABLE32_PAGE_ENTRIES;
        if (page_end > end)
            page_end = end;
        for (; k < page_end; k++)
            if (page[k % TABLE32_PAGE_ENTRIES] != value)
                goto done;
    }
done:
    *n = k - i;
    return 0;
}
