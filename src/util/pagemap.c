/* SPDX-License-Identifier: MIT */
#include "util/pagemap.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

bool pagemap_touched(const void *addr, uint64_t npages, uint64_t *touched)
{
    uint64_t words = (npages + 63) / 64;
    memset(touched, 0, words * 8);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t first = (uint64_t)(uintptr_t)addr / 4096;
    uint64_t entries[512]; /* 2 MiB of memory per read */
    for (uint64_t page = 0; fd >= 0 && page < npages;) {
        uint64_t want = npages - page < 512 ? npages - page : 512;
        ssize_t n = pread(fd, entries, want * 8, (off_t)((first + page) * 8));
        if (n <= 0 || n % 8) {
            close(fd);
            fd = -1;
            break;
        }
        for (uint64_t i = 0; i < (uint64_t)n / 8; i++, page++)
            if (entries[i] & (PM_PRESENT | PM_SWAPPED))
                touched[page / 64] |= 1ull << (page % 64);
    }
    if (fd < 0) {
        memset(touched, 0xff, words * 8);
        return false;
    }
    close(fd);
    return true;
}
