/* SPDX-License-Identifier: MIT */
#include "mem/bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/log.h"

bool bus_init(struct bus *bus, uint64_t ram_base, uint64_t ram_size)
{
    memset(bus, 0, sizeof(*bus));
    void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bus->ram = p;
    bus->ram_base = ram_base;
    bus->ram_size = ram_size;
    pthread_mutex_init(&bus->io_lock, NULL);
    return true;
}

void bus_ram_zero(struct bus *bus)
{
    /* Dropping the pages of a private file mapping would bring back the
     * file's data, so a restored RAM becomes anonymous memory first. */
    if (bus->ram_from_file) {
        void *p = mmap(bus->ram, bus->ram_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED)
            fatal("cannot remap guest RAM: %s", strerror(errno));
        bus->ram_from_file = false;
        if (bus->ram_mergeable)
            bus_ram_set_mergeable(bus, true);
        return;
    }
    madvise(bus->ram, bus->ram_size, MADV_DONTNEED);
}

void bus_ram_set_mergeable(struct bus *bus, bool on)
{
    bus->ram_mergeable = on;
    if (madvise(bus->ram, bus->ram_size, on ? MADV_MERGEABLE : MADV_UNMERGEABLE) < 0)
        log_warn("page sharing %s: %s", on ? "on" : "off", strerror(errno));
}

bool bus_ram_huge_pages(struct bus *bus, bool on)
{
    if (bus->ram_from_file)
        return false;
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
    if (f) {
        if (!fgets(mode, sizeof(mode), f))
            mode[0] = '\0';
        fclose(f);
    }
    if (!strstr(mode, "[madvise]"))
        return false;
    return madvise(bus->ram, bus->ram_size, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0;
}

void bus_stop_devices(struct bus *bus)
{
    for (unsigned i = 0; i < bus->nregions; i++) {
        struct bus_region *r = &bus->regions[i];
        if (r->ops->stop)
            r->ops->stop(r->dev);
    }
}

void bus_destroy(struct bus *bus)
{
    bus_stop_devices(bus);
    for (unsigned i = bus->nregions; i-- > 0;) {
        struct bus_region *r = &bus->regions[i];
        if (r->ops->destroy)
            r->ops->destroy(r->dev);
    }
    if (bus->ram)
        munmap(bus->ram, bus->ram_size);
    free((void *)bus->dirty_log);
    pthread_mutex_destroy(&bus->io_lock);
    memset(bus, 0, sizeof(*bus));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

bool bus_add_device(struct bus *bus, uint64_t base, uint64_t size, const struct dev_ops *ops,
                    void *dev)
{
    if (bus->nregions == BUS_MAX_REGIONS || size == 0 || base + size < base)
        return false;
    for (unsigned i = 0; i < bus->nregions; i++)
        if (ranges_overlap(base, size, bus->regions[i].base, bus->regions[i].size))
            return false;
    struct bus_region *r = &bus->regions[bus->nregions++];
    r->base = base;
    r->size = size;
    r->ops = ops;
    r->dev = dev;
    r->overlays_ram = ranges_overlap(base, size, bus->ram_base, bus->ram_size);
    return true;
}

static struct bus_region *find_region(struct bus *bus, uint64_t pa)
{
    for (unsigned i = 0; i < bus->nregions; i++) {
        struct bus_region *r = &bus->regions[i];
        if (pa - r->base < r->size)
            return r;
    }
    return NULL;
}

bool bus_page_is_plain_ram(const struct bus *bus, uint64_t pa)
{
    uint64_t page = pa & ~(((uint64_t)1 << BUS_PAGE_SHIFT) - 1);
    if (!bus_ram_ptr(bus, page, (uint64_t)1 << BUS_PAGE_SHIFT))
        return false;
    for (unsigned i = 0; i < bus->nregions; i++) {
        const struct bus_region *r = &bus->regions[i];
        if (r->overlays_ram &&
            ranges_overlap(page, (uint64_t)1 << BUS_PAGE_SHIFT, r->base, r->size))
            return false;
    }
    return true;
}

static bool size_allowed(const struct dev_ops *ops, unsigned size)
{
    unsigned lo = ops->access_min ? ops->access_min : 1;
    unsigned hi = ops->access_max ? ops->access_max : 8;
    return size >= lo && size <= hi;
}

bool bus_read(struct bus *bus, uint64_t pa, unsigned size, uint64_t *value)
{
    struct bus_region *r = find_region(bus, pa);
    if (r) {
        if (!r->ops->read || !size_allowed(r->ops, size) || pa - r->base + size > r->size)
            return false;
        pthread_mutex_lock(&bus->io_lock);
        *value = r->ops->read(r->dev, pa - r->base, size);
        pthread_mutex_unlock(&bus->io_lock);
        return true;
    }
    uint8_t *p = bus_ram_ptr(bus, pa, size);
    if (!p)
        return false;
    uint64_t v = 0;
    memcpy(&v, p, size); /* little-endian host */
    *value = v;
    return true;
}

bool bus_write(struct bus *bus, uint64_t pa, unsigned size, uint64_t value)
{
    struct bus_region *r = find_region(bus, pa);
    if (r) {
        if (!r->ops->write || !size_allowed(r->ops, size) || pa - r->base + size > r->size)
            return false;
        pthread_mutex_lock(&bus->io_lock);
        r->ops->write(r->dev, pa - r->base, size, value);
        pthread_mutex_unlock(&bus->io_lock);
        return true;
    }
    uint8_t *p = bus_ram_ptr(bus, pa, size);
    if (!p)
        return false;
    memcpy(p, &value, size);
    bus_dirty_note(bus, pa, size);
    return true;
}

bool bus_dma_read(struct bus *bus, uint64_t pa, void *dst, uint64_t len)
{
    void *p = bus_ram_ptr(bus, pa, len);
    if (!p)
        return false;
    memcpy(dst, p, len);
    return true;
}

bool bus_dma_write(struct bus *bus, uint64_t pa, const void *src, uint64_t len)
{
    void *p = bus_ram_ptr(bus, pa, len);
    if (!p)
        return false;
    memcpy(p, src, len);
    bus_ram_written(bus, pa, len);
    return true;
}

void bus_dirty_mark(struct bus *bus, uint64_t pa, uint64_t len)
{
    if (!len || pa < bus->ram_base || pa - bus->ram_base >= bus->ram_size)
        return;
    uint64_t off = pa - bus->ram_base;
    uint64_t end = len > bus->ram_size - off ? bus->ram_size : off + len;
    for (uint64_t n = off >> BUS_PAGE_SHIFT; n <= (end - 1) >> BUS_PAGE_SHIFT; n++) {
        uint64_t bit = 1ULL << (n % 64);
        /* A plain load first: the word is mostly set already while a
         * guest rewrites the same pages, and a locked OR costs more. */
        if (!(atomic_load_explicit(&bus->dirty_log[n / 64], memory_order_relaxed) & bit))
            atomic_fetch_or_explicit(&bus->dirty_log[n / 64], bit, memory_order_release);
    }
}

bool bus_dirty_log_start(struct bus *bus)
{
    size_t words = bus_dirty_log_words(bus);
    if (!bus->dirty_log) {
        bus->dirty_log = calloc(words, sizeof(uint64_t));
        if (!bus->dirty_log)
            return false;
    }
    for (size_t i = 0; i < words; i++)
        atomic_store_explicit(&bus->dirty_log[i], 0, memory_order_relaxed);
    atomic_store(&bus->dirty_on, true);
    return true;
}

void bus_dirty_log_stop(struct bus *bus)
{
    atomic_store(&bus->dirty_on, false);
}

uint64_t bus_dirty_log_take(struct bus *bus, uint64_t *out)
{
    size_t words = bus_dirty_log_words(bus);
    uint64_t n = 0;
    for (size_t i = 0; i < words; i++) {
        uint64_t w = 0;
        if (bus->dirty_log && atomic_load_explicit(&bus->dirty_log[i], memory_order_relaxed))
            w = atomic_exchange_explicit(&bus->dirty_log[i], 0, memory_order_acq_rel);
        out[i] = w;
        n += (uint64_t)__builtin_popcountll(w);
    }
    return n;
}

bool bus_add_idle_source(struct bus *bus, const struct bus_idle_source *src)
{
    if (bus->nidle == BUS_MAX_IDLE)
        return false;
    bus->idle[bus->nidle++] = *src;
    return true;
}
