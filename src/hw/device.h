/* SPDX-License-Identifier: MIT */
/*
 * The contract between the board and every device.
 *
 * A device is an opaque object plus a const ops table.  The machine builder
 * gives it an address range on the bus and interrupt lines; the device
 * answers bus accesses at offsets inside its range and raises or lowers its
 * lines.  It never touches a hart.
 *
 * Concurrency: read/write/reset/save/load, and every callback a device
 * registers with the event loop, run with the machine's I/O lock held
 * (see host/evloop.h), so a device needs no lock of its own unless it
 * hands work to threads of its own.
 */
#ifndef WIRT_DEV_DEVICE_H
#define WIRT_DEV_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

struct state_writer;
struct state_reader;

/* What the machine builder decided about a device; passed to fdt(). */
struct dev_placement {
    uint64_t base;         /* guest-physical base address */
    uint64_t size;         /* size of the MMIO range */
    unsigned irq;          /* first PLIC source number, 0 if none */
    uint32_t phandle_plic; /* phandle of the interrupt controller */
};

struct dev_ops {
    const char *name;
    /* Allowed access sizes in bytes (1, 2, 4, 8); 0 means 1 and 8. The bus
     * answers anything outside them with an access fault. */
    unsigned access_min, access_max;
    uint64_t (*read)(void *dev, uint64_t offset, unsigned size);
    void (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value);
    void (*reset)(void *dev);
    /* Writes the device's state; the caller has opened a section. */
    void (*save)(void *dev, struct state_writer *w);
    /* Reads it back; returns false (and changes nothing it cannot undo)
     * when the stream is malformed. */
    bool (*load)(void *dev, struct state_reader *r, uint32_t version);
    uint32_t state_version;
    /* Adds the device's node to the flattened device tree. */
    void (*fdt)(void *dev, void *fdt, const struct dev_placement *where);
    /* Stops and joins every thread of the device and makes what it wrote
     * durable (disk flush).  Afterwards the device no longer touches RAM,
     * the bus or its interrupt lines, so the board may free harts, the
     * PLIC and RAM.  Called without the I/O lock, once the harts and the
     * event loop are stopped, before any device is destroyed; may be
     * called twice.  NULL for devices without threads. */
    void (*stop)(void *dev);
    void (*destroy)(void *dev);
};

/*
 * An interrupt line: a level-triggered wire from a device to an interrupt
 * controller (or from a controller to a hart).  Callable from any thread.
 */
struct irq_line {
    void (*set)(void *target, unsigned num, bool level);
    void *target;
    unsigned num;
};

static inline void irq_set(const struct irq_line *line, bool level)
{
    if (line->set)
        line->set(line->target, line->num, level);
}

#endif
