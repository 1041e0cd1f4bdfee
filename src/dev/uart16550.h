/* SPDX-License-Identifier: MIT */
/*
 * A National Semiconductor 16550A UART (DT compatible "ns16550a",
 * reg-shift 0, reg-io-width 1), as on QEMU's virt board.
 *
 * Transmission is instantaneous: every byte written to THR goes straight
 * to the tx callback.  Received bytes are pushed in by the board's console
 * with uart16550_receive(); when the guest drains the receive FIFO the
 * device calls rx_ready so the console can push more.  All functions and
 * callbacks run with the machine's I/O lock held.
 */
#ifndef WIRT_DEV_UART16550_H
#define WIRT_DEV_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/device.h"

#define UART16550_FIFO_SIZE 16
#define UART16550_CLOCK_HZ  3686400

struct uart16550;

struct uart16550_callbacks {
    /* A byte the guest transmitted.  Must not block for long: the calling
     * hart holds the I/O lock. */
    void (*tx)(void *opaque, uint8_t byte);
    /* The receive FIFO has room again (optional).  It is called from inside
     * a guest access; it may call uart16550_receive() directly. */
    void (*rx_ready)(void *opaque);
    void *opaque;
};

/* irq is the device's interrupt line (PLIC source VIRT_UART0_IRQ). */
struct uart16550 *uart16550_new(const struct uart16550_callbacks *cb, const struct irq_line *irq);

/* Queues up to len received bytes; returns how many fitted (0 when the
 * FIFO is full). */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);
/* True when at least one more byte would be accepted. */
bool uart16550_can_receive(const struct uart16550 *u);

extern const struct dev_ops uart16550_ops;

#endif
