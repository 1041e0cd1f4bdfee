/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART.  Register facts from the National Semiconductor PC16550D
 * datasheet; behaviour where drivers care (THRE interrupt, IIR priority)
 * matches what Linux's 8250 driver and OpenSBI expect of QEMU's virt UART.
 */
#include "dev/uart16550.h"

#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "hw/fdt_helpers.h"
#include "state/state.h"

/* Register offsets (reg-shift 0). */
enum {
    REG_RBR_THR = 0, /* DLL when DLAB */
    REG_IER = 1,     /* DLM when DLAB */
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NO_INT    0x01
#define IIR_MSI       0x00
#define IIR_THRI      0x02
#define IIR_RDI       0x04
#define IIR_RLSI      0x06
#define IIR_TIMEOUT   0x0c
#define IIR_FIFO_BITS 0xc0

#define FCR_ENABLE    0x01
#define FCR_CLEAR_RX  0x02
#define FCR_CLEAR_TX  0x04
#define FCR_DMA_MODE  0x08
#define FCR_TRIG_MASK 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR       0x01
#define LSR_OE       0x02
#define LSR_PE       0x04
#define LSR_FE       0x08
#define LSR_BI       0x10
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define LSR_FIFO_ERR 0x80
#define LSR_ERRORS   (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

/* With no real modem the lines read as a connected null-modem cable. */
#define MSR_IDLE (MSR_DCD | MSR_DSR | MSR_CTS)

struct uart16550 {
    struct uart16550_callbacks cb;
    struct irq_line irq;
    bool irq_level;

    uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
    uint8_t lsr_errors; /* sticky error bits, cleared by reading LSR */
    uint8_t msr;        /* status bits plus sticky deltas */
    bool thr_ipending;  /* a THRE interrupt is owed to the guest */

    uint8_t rx[UART16550_FIFO_SIZE];
    unsigned rx_head, rx_count;
};

static unsigned rx_capacity(const struct uart16550 *u)
{
    /* In 16450 mode the receiver holds a single byte. */
    return (u->fcr & FCR_ENABLE) ? UART16550_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart16550 *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    if (!(u->fcr & FCR_ENABLE))
        return 1;
    return levels[u->fcr >> 6];
}

static uint8_t compute_iir(const struct uart16550 *u)
{
    uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_BITS : 0;

    if ((u->ier & IER_ELSI) && (u->lsr_errors & LSR_ERRORS))
        return fifo | IIR_RLSI;
    if ((u->ier & IER_ERBFI) && u->rx_count) {
        /* Data below the trigger level is reported at once as a character
         * timeout rather than after four character times: the console
         * stays responsive and drivers treat both the same way. */
        return fifo | (u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT);
    }
    if ((u->ier & IER_ETBEI) && u->thr_ipending)
        return fifo | IIR_THRI;
    if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTA))
        return fifo | IIR_MSI;
    return fifo | IIR_NO_INT;
}

static void update_irq(struct uart16550 *u, bool force)
{
    bool level = !(compute_iir(u) & IIR_NO_INT);
    if (level != u->irq_level || force) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* Recomputes the modem status lines; in loopback they follow MCR. */
static void update_msr(struct uart16550 *u)
{
    uint8_t lines = MSR_IDLE;
    if (u->mcr & MCR_LOOP) {
        lines = 0;
        if (u->mcr & MCR_RTS)
            lines |= MSR_CTS;
        if (u->mcr & MCR_DTR)
            lines |= MSR_DSR;
        if (u->mcr & MCR_OUT1)
            lines |= MSR_RI;
        if (u->mcr & MCR_OUT2)
            lines |= MSR_DCD;
    }
    uint8_t old = u->msr & ~MSR_DELTA;
    uint8_t delta = u->msr & MSR_DELTA;
    if ((old ^ lines) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD)
        delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI)) /* trailing edge of ring */
        delta |= MSR_TERI;
    u->msr = lines | delta;
}

static bool rx_push(struct uart16550 *u, uint8_t byte)
{
    if (u->rx_count >= rx_capacity(u))
        return false;
    u->rx[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = byte;
    u->rx_count++;
    return true;
}

static void rx_clear(struct uart16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

static void notify_rx_ready(struct uart16550 *u)
{
    if (u->cb.rx_ready)
        u->cb.rx_ready(u->cb.opaque);
}

struct uart16550 *uart16550_new(const struct uart16550_callbacks *cb, const struct irq_line *irq)
{
    struct uart16550 *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    if (cb)
        u->cb = *cb;
    if (irq)
        u->irq = *irq;
    uart16550_ops.reset(u);
    return u;
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t n = 0;
    /* In loopback the receiver is disconnected from the outside world. */
    if (u->mcr & MCR_LOOP)
        return 0;
    while (n < len && rx_push(u, buf[n]))
        n++;
    if (n)
        update_irq(u, false);
    return n;
}

bool uart16550_can_receive(const struct uart16550 *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

static void transmit(struct uart16550 *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        if (!rx_push(u, byte))
            u->lsr_errors |= LSR_OE;
    } else if (u->cb.tx) {
        u->cb.tx(u->cb.opaque, byte);
    }
    /* The byte left at once, so THR is empty again. */
    u->thr_ipending = true;
}

static uint64_t uart_read(void *dev, uint64_t offset, unsigned size)
{
    struct uart16550 *u = dev;
    uint8_t val = 0;
    (void)size;

    switch (offset) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            val = u->dll;
            break;
        }
        if (u->rx_count) {
            val = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
            u->rx_count--;
            update_irq(u, false);
            if (!u->rx_count)
                notify_rx_ready(u);
        }
        break;
    case REG_IER:
        val = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case REG_IIR_FCR:
        val = compute_iir(u);
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if ((val & 0x0f) == IIR_THRI) {
            u->thr_ipending = false;
            update_irq(u, false);
        }
        break;
    case REG_LCR:
        val = u->lcr;
        break;
    case REG_MCR:
        val = u->mcr;
        break;
    case REG_LSR:
        val = LSR_THRE | LSR_TEMT | u->lsr_errors;
        if (u->rx_count)
            val |= LSR_DR;
        if (u->lsr_errors)
            val |= LSR_FIFO_ERR;
        if (u->lsr_errors) {
            u->lsr_errors = 0;
            update_irq(u, false);
        }
        break;
    case REG_MSR:
        val = u->msr;
        if (u->msr & MSR_DELTA) {
            u->msr &= ~MSR_DELTA;
            update_irq(u, false);
        }
        break;
    case REG_SCR:
        val = u->scr;
        break;
    default:
        break;
    }
    return val;
}

static void uart_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart16550 *u = dev;
    uint8_t val = (uint8_t)value;
    (void)size;

    switch (offset) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = val;
            return;
        }
        u->thr_ipending = false;
        transmit(u, val);
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = val;
            return;
        }
        val &= 0x0f;
        /* Enabling ETBEI while THR is empty (it always is) owes the guest
         * a THRE interrupt; disabling it forgets the owed one. */
        if ((val & IER_ETBEI) && !(u->ier & IER_ETBEI))
            u->thr_ipending = true;
        else if (!(val & IER_ETBEI))
            u->thr_ipending = false;
        u->ier = val;
        break;
    case REG_IIR_FCR: {
        bool had_data = u->rx_count != 0;
        if ((val ^ u->fcr) & FCR_ENABLE) {
            /* Switching FIFO mode clears both FIFOs. */
            rx_clear(u);
        } else if ((val & FCR_ENABLE) && (val & FCR_CLEAR_RX)) {
            rx_clear(u);
        }
        u->fcr = val & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIG_MASK);
        if (!(u->fcr & FCR_ENABLE))
            u->fcr = 0;
        update_irq(u, false);
        if (had_data && !u->rx_count)
            notify_rx_ready(u);
        return;
    }
    case REG_LCR:
        u->lcr = val;
        return;
    case REG_MCR: {
        bool was_loop = u->mcr & MCR_LOOP;
        u->mcr = val & MCR_MASK;
        update_msr(u);
        update_irq(u, false);
        if (was_loop && !(u->mcr & MCR_LOOP))
            notify_rx_ready(u);
        return;
    }
    case REG_SCR:
        u->scr = val;
        return;
    default:
        /* LSR and MSR are read-only; factory-test writes are ignored. */
        return;
    }
    update_irq(u, false);
}

static void uart_reset(void *dev)
{
    struct uart16550 *u = dev;
    u->ier = u->lcr = u->mcr = u->fcr = u->scr = 0;
    u->dll = u->dlm = 0;
    u->lsr_errors = 0;
    u->msr = MSR_IDLE;
    u->thr_ipending = false;
    rx_clear(u);
    update_irq(u, true);
}

static void uart_save(void *dev, struct state_writer *w)
{
    struct uart16550 *u = dev;
    state_put_u8(w, u->ier);
    state_put_u8(w, u->lcr);
    state_put_u8(w, u->mcr);
    state_put_u8(w, u->fcr);
    state_put_u8(w, u->scr);
    state_put_u8(w, u->dll);
    state_put_u8(w, u->dlm);
    state_put_u8(w, u->lsr_errors);
    state_put_u8(w, u->msr);
    state_put_u8(w, u->thr_ipending);
    state_put_u8(w, (uint8_t)u->rx_count);
    for (unsigned i = 0; i < u->rx_count; i++)
        state_put_u8(w, u->rx[(u->rx_head + i) % UART16550_FIFO_SIZE]);
}

static bool uart_load(void *dev, struct state_reader *r, uint32_t version)
{
    struct uart16550 *u = dev;
    struct uart16550 t = *u;

    if (version != 1)
        return false;
    t.ier = state_get_u8(r);
    t.lcr = state_get_u8(r);
    t.mcr = state_get_u8(r);
    t.fcr = state_get_u8(r);
    t.scr = state_get_u8(r);
    t.dll = state_get_u8(r);
    t.dlm = state_get_u8(r);
    t.lsr_errors = state_get_u8(r);
    t.msr = state_get_u8(r);
    uint8_t thr = state_get_u8(r);
    uint8_t count = state_get_u8(r);
    if (!state_reader_ok(r) || t.ier > 0x0f || t.mcr > MCR_MASK ||
        (t.fcr & ~(FCR_ENABLE | FCR_DMA_MODE | FCR_TRIG_MASK)) ||
        (t.fcr && !(t.fcr & FCR_ENABLE)) || (t.lsr_errors & ~LSR_ERRORS) || thr > 1)
        return false;
    t.thr_ipending = thr;
    t.rx_head = 0;
    t.rx_count = count;
    if (count > rx_capacity(&t))
        return false;
    state_get_bytes(r, t.rx, count);
    if (!state_reader_ok(r))
        return false;
    *u = t;
    update_irq(u, true);
    return true;
}

static void uart_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    (void)dev;
    int node = dev_fdt_add_soc_node(fdt, "serial", where->base, where->size);
    if (node < 0)
        return;
    int err = fdt_setprop_string(fdt, node, "compatible", "ns16550a");
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "clock-frequency", UART16550_CLOCK_HZ);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "reg-shift", 0);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "reg-io-width", 1);
    if (err >= 0 && where->irq) {
        err = fdt_setprop_u32(fdt, node, "interrupt-parent", where->phandle_plic);
        if (err >= 0)
            err = fdt_setprop_u32(fdt, node, "interrupts", where->irq);
    }
    dev_fdt_failed("uart16550", err);
}

static void uart_destroy(void *dev)
{
    free(dev);
}

const struct dev_ops uart16550_ops = {
    .name = "uart16550",
    /* reg-io-width is 1; wider accesses act on the addressed byte. */
    .access_min = 1,
    .access_max = 4,
    .read = uart_read,
    .write = uart_write,
    .reset = uart_reset,
    .save = uart_save,
    .load = uart_load,
    .state_version = 1,
    .fdt = uart_fdt,
    .destroy = uart_destroy,
};
