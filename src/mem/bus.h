/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical address space: one block of RAM plus device ranges.
 *
 * RAM is one anonymous mapping; the CPU reaches it through host pointers
 * from bus_ram_ptr() and never calls through the bus for it.  Device
 * ranges are dispatched through their dev_ops with the I/O lock held.
 * A device range may overlay a piece of RAM (HTIF's tohost word lives
 * inside the program's image); pages holding an overlay are not "plain
 * RAM" and the CPU must take the slow path for them.
 *
 * Every write to RAM that does not come from a hart's store instruction
 * (device DMA, loaders, snapshot restore) must be reported through
 * bus_ram_written(), so that decoded-code caches and dirty-page tracking
 * stay correct.
 */
#ifndef WIRT_MEM_BUS_H
#define WIRT_MEM_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/device.h"

#define BUS_MAX_REGIONS 64
#define BUS_PAGE_SHIFT  12

struct bus_region {
    uint64_t base, size;
    const struct dev_ops *ops;
    void *dev;
    bool overlays_ram;
};

#define BUS_MAX_IDLE 8

struct bus_idle_source {
    /* Puts the source's sockets into epfd with data.u64 = key, exclusive
     * and edge-triggered, as net.h's rx_watch; false: cannot (errno). */
    bool (*watch)(void *opaque, int epfd, uint64_t key);
    void (*readable)(void *opaque); /* epfd reported key (takes the I/O lock) */
    void *opaque;
};

struct bus {
    uint8_t *ram;
    uint64_t ram_base, ram_size;
    /* RAM is a private mapping of a state file (restore): pages the guest
     * has not touched hold the file's data, not zeros. */
    bool ram_from_file;
    bool ram_mergeable; /* offered to KSM (bus_ram_set_mergeable) */
    struct bus_region regions[BUS_MAX_REGIONS];
    unsigned nregions;
    pthread_mutex_t io_lock; /* held around every device callback */
    /* Called (from any thread) after RAM changed behind the harts' backs. */
    void (*ram_write_hook)(void *opaque, uint64_t pa, uint64_t len);
    void *ram_write_hook_opaque;
    /* Dirty-page log (live migration): one bit per 4 KiB page of RAM,
     * set by every write while dirty_on.  The harts keep no writable
     * store-TLB entry for a page across a bump of dirty_gen without
     * having marked it again (cpu/hart.c), so their fast path needs no
     * check of its own.  The bitmap lives until bus_destroy so that a
     * late marker never touches freed memory. */
    _Atomic uint64_t *dirty_log;
    atomic_bool dirty_on;
    atomic_uint dirty_gen;
    /* Auto-converge: the share of time (percent) the harts sleep between
     * their run slices while a migration cannot keep up; 0 normally. */
    atomic_uint throttle_pct;
    /* Receive sockets that the first hart polls itself while it waits in
     * WFI (registered by the VMM before the harts run), so that a frame
     * for an idle guest wakes the hart at once rather than a device thread
     * that then wakes the hart: one host wakeup less on every packet's
     * way in.  The device's own thread keeps polling them too, for when
     * the hart is busy; both deliver under the I/O lock, in order.  The
     * kernel wakes only one of the two for a frame (EPOLLEXCLUSIVE): the
     * hart while it sleeps in WFI, else the thread. */
    struct bus_idle_source idle[BUS_MAX_IDLE];
    unsigned nidle;
};

/* Adds an idle source; false when there are too many. */
bool bus_add_idle_source(struct bus *bus, const struct bus_idle_source *src);

/* Maps RAM; returns false (errno set) when the host cannot provide it. */
bool bus_init(struct bus *bus, uint64_t ram_base, uint64_t ram_size);
/* Stops every device (dev_ops.stop): no device thread runs afterwards. */
void bus_stop_devices(struct bus *bus);
/* Stops the devices, destroys them in the reverse order of addition
 * (front ends before the interrupt controller they raise lines on) and
 * unmaps RAM. */
void bus_destroy(struct bus *bus);

/* Adds a device range; returns false if it overlaps another device. */
bool bus_add_device(struct bus *bus, uint64_t base, uint64_t size, const struct dev_ops *ops,
                    void *dev);

/* Host pointer for [pa, pa+len) if it lies entirely in RAM, else NULL.
 * len may be 0 (then pa must be inside RAM). */
static inline void *bus_ram_ptr(const struct bus *bus, uint64_t pa, uint64_t len)
{
    uint64_t off = pa - bus->ram_base;
    if (pa < bus->ram_base || off >= bus->ram_size || len > bus->ram_size - off)
        return NULL;
    return bus->ram + off;
}

/* True if the 4 KiB page holding pa is RAM with no device overlaying it. */
bool bus_page_is_plain_ram(const struct bus *bus, uint64_t pa);

/* Slow-path accesses for the CPU and for tests: RAM or a device.
 * Return false for an access fault (unmapped address, size the device
 * does not accept). size is 1, 2, 4 or 8; pa need not be aligned. */
bool bus_read(struct bus *bus, uint64_t pa, unsigned size, uint64_t *value);
bool bus_write(struct bus *bus, uint64_t pa, unsigned size, uint64_t value);

/* Offers guest RAM to the kernel's same-page merging (KSM) or withdraws
 * it; whether merging happens is the host's choice (/sys/kernel/mm/ksm). */
void bus_ram_set_mergeable(struct bus *bus, bool on);

/* Guest RAM backed by the kernel's transparent huge pages where it can
 * (on), or by small pages again for what is faulted in later (off).  For
 * an incoming migration, which writes much of RAM at once: one fault per
 * 2 MiB instead of one per 4 KiB page.  Returns true if it changed the
 * advice: only when the host's THP mode is "madvise" (with "always" RAM
 * has huge pages anyway, with "never" it cannot), and RAM is anonymous. */
bool bus_ram_huge_pages(struct bus *bus, bool on);

/* All of RAM zero again (a reboot), and anonymous memory again after a
 * restore mapped it from a file. */
void bus_ram_zero(struct bus *bus);

/* Marks [pa, pa+len) in the dirty-page log (the part inside RAM). */
void bus_dirty_mark(struct bus *bus, uint64_t pa, uint64_t len);
/* bus_dirty_mark when the log is on: what every RAM writer calls. */
static inline void bus_dirty_note(struct bus *bus, uint64_t pa, uint64_t len)
{
    /* Acquire: pairs with bus_dirty_log_start's store, after which the
     * bitmap it allocated is visible (a plain load on x86). */
    if (__builtin_expect(atomic_load_explicit(&bus->dirty_on, memory_order_acquire), 0))
        bus_dirty_mark(bus, pa, len);
}

/* Reports a write to RAM made by something other than a hart's store. */
static inline void bus_ram_written(struct bus *bus, uint64_t pa, uint64_t len)
{
    bus_dirty_note(bus, pa, len);
    if (bus->ram_write_hook)
        bus->ram_write_hook(bus->ram_write_hook_opaque, pa, len);
}

/* Copies between guest RAM and host memory for DMA; false if any byte
 * falls outside RAM (then nothing is copied). */
bool bus_dma_read(struct bus *bus, uint64_t pa, void *dst, uint64_t len);
bool bus_dma_write(struct bus *bus, uint64_t pa, const void *src, uint64_t len);

/* The dirty-page log.  The bus only keeps the bitmap: starting and
 * fetching must also make the harts drop their writable TLB entries,
 * which the board does (board_dirty_log_*).  Words of the bitmap: */
static inline size_t bus_dirty_log_words(const struct bus *bus)
{
    return (size_t)(((bus->ram_size >> BUS_PAGE_SHIFT) + 63) / 64);
}
/* Clears the log and turns it on; false when out of memory. */
bool bus_dirty_log_start(struct bus *bus);
void bus_dirty_log_stop(struct bus *bus);
/* Moves the log into out[bus_dirty_log_words()] (bit n: page n of RAM)
 * and clears it; returns how many pages were dirty. */
uint64_t bus_dirty_log_take(struct bus *bus, uint64_t *out);

#endif
