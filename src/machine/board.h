/* SPDX-License-Identifier: MIT */
/*
 * The "virt" board: QEMU-virt-compatible memory map, device creation,
 * device tree and boot.  Device front ends (virtio-blk, virtio-net ...)
 * attach through board_add_device() / board_alloc_virtio_slot() and never
 * see the harts.
 */
#ifndef WIRT_MACHINE_BOARD_H
#define WIRT_MACHINE_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "machine/vclock.h"
#include "mem/bus.h"

struct evloop;
struct hart;
struct plic;

/* The memory map (see docs/architecture.md). */
#define VIRT_TEST_BASE        0x00100000ULL
#define VIRT_TEST_SIZE        0x1000ULL
#define VIRT_RTC_BASE         0x00101000ULL
#define VIRT_RTC_SIZE         0x1000ULL
#define VIRT_RTC_IRQ          11
#define VIRT_CLINT_BASE       0x02000000ULL
#define VIRT_CLINT_SIZE       0x10000ULL
#define VIRT_PLIC_BASE        0x0c000000ULL
#define VIRT_PLIC_SIZE        0x600000ULL
#define VIRT_PLIC_NUM_SOURCES 96 /* sources 1..95 */
#define VIRT_UART0_BASE       0x10000000ULL
#define VIRT_UART0_SIZE       0x100ULL
#define VIRT_UART0_IRQ        10
#define VIRT_VIRTIO_BASE      0x10001000ULL
#define VIRT_VIRTIO_SIZE      0x1000ULL
#define VIRT_VIRTIO_COUNT     8
#define VIRT_VIRTIO_IRQ       1 /* slot n uses PLIC source 1 + n */
#define VIRT_DRAM_BASE        0x80000000ULL

#define BOARD_MAX_HARTS   8
#define BOARD_MAX_DEVICES 32

struct board_device {
    const struct dev_ops *ops;
    void *dev;
    struct dev_placement where;
};

struct board {
    struct bus bus;
    struct vclock clock;
    struct evloop *loop;
    struct plic *plic;
    struct hart *harts[BOARD_MAX_HARTS];
    unsigned nharts;
    struct board_device devices[BOARD_MAX_DEVICES];
    unsigned ndevices;
    unsigned next_virtio_slot;
};

/* Places a device on the bus; it gets the PLIC source `irq` (0 for
 * none) and will be asked for its device-tree node, reset and state.
 * Returns false if the range is taken or the board is full. */
bool board_add_device(struct board *b, uint64_t base, uint64_t size, unsigned irq,
                      const struct dev_ops *ops, void *dev);

/* The interrupt line of PLIC source `irq`. */
struct irq_line board_irq_line(struct board *b, unsigned irq);

/* Reserves the next free virtio-mmio slot: its base address and PLIC
 * source.  Returns false when all slots are used. */
bool board_alloc_virtio_slot(struct board *b, uint64_t *base, unsigned *irq);

#endif
