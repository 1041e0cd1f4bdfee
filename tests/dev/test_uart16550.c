/* SPDX-License-Identifier: MIT */
/* Device tests for the 16550A UART: registers poked through its dev_ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/uart16550.h"
#include "dev_test.h"

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

struct fixture {
    struct uart16550 *u;
    struct irq_rec irq;
    uint8_t tx[256];
    unsigned ntx;
    unsigned rx_ready;
};

static void on_tx(void *opaque, uint8_t byte)
{
    struct fixture *f = opaque;
    assert_true(f->ntx < sizeof(f->tx));
    f->tx[f->ntx++] = byte;
}

static void on_rx_ready(void *opaque)
{
    struct fixture *f = opaque;
    f->rx_ready++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct uart16550_callbacks cb = {.tx = on_tx, .rx_ready = on_rx_ready, .opaque = f};
    struct irq_line line = irq_rec_line(&f->irq, 10);
    f->u = uart16550_new(&cb, &line);
    assert_non_null(f->u);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uart16550_ops.destroy(f->u);
    free(f);
    return 0;
}

static uint8_t rd(struct fixture *f, unsigned reg)
{
    return (uint8_t)uart16550_ops.read(f->u, reg, 1);
}

static void wr(struct fixture *f, unsigned reg, uint8_t v)
{
    uart16550_ops.write(f->u, reg, 1, v);
}

static bool irq(struct fixture *f)
{
    return f->irq.level[10];
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, IER), 0);
    assert_int_equal(rd(f, IIR), 0x01);
    assert_int_equal(rd(f, LCR), 0);
    assert_int_equal(rd(f, MCR), 0);
    assert_int_equal(rd(f, LSR), 0x60);
    assert_int_equal(rd(f, MSR), 0xb0);
    assert_int_equal(rd(f, SCR), 0);
    assert_false(irq(f));
    assert_true(uart16550_can_receive(f->u));
}

static void test_transmit_and_scratch(void **state)
{
    struct fixture *f = *state;
    wr(f, THR, 'h');
    wr(f, THR, 'i');
    assert_int_equal(f->ntx, 2);
    assert_memory_equal(f->tx, "hi", 2);
    wr(f, SCR, 0x5a);
    assert_int_equal(rd(f, SCR), 0x5a);
    /* Transmission is instant: the transmitter is always empty. */
    assert_int_equal(rd(f, LSR) & 0x60, 0x60);
}

static void test_divisor_latch(void **state)
{
    struct fixture *f = *state;
    wr(f, IER, 0x01);
    wr(f, LCR, 0x83);
    wr(f, DLL, 0x01);
    wr(f, DLM, 0x02);
    assert_int_equal(rd(f, DLL), 0x01);
    assert_int_equal(rd(f, DLM), 0x02);
    assert_int_equal(f->ntx, 0); /* DLL writes are not transmitted */
    wr(f, LCR, 0x03);
    assert_int_equal(rd(f, IER), 0x01);
    assert_int_equal(rd(f, LCR), 0x03);
    wr(f, THR, 'x');
    assert_int_equal(f->ntx, 1);
    wr(f, LCR, 0x83);
    assert_int_equal(rd(f, DLL), 0x01);
}

static void test_thre_interrupt(void **state)
{
    struct fixture *f = *state;
    wr(f, IER, 0x02);
    assert_true(irq(f));
    assert_int_equal(rd(f, IIR), 0x02);
    /* Reading IIR acknowledged it. */
    assert_false(irq(f));
    assert_int_equal(rd(f, IIR), 0x01);
    /* A transmitted byte empties THR again. */
    wr(f, THR, 'a');
    assert_true(irq(f));
    /* Disabling ETBEI drops the request. */
    wr(f, IER, 0x00);
    assert_false(irq(f));
    wr(f, IER, 0x02);
    assert_true(irq(f));
}

static void test_receive_16450_mode(void **state)
{
    struct fixture *f = *state;
    wr(f, IER, 0x01);
    assert_int_equal(uart16550_receive(f->u, (const uint8_t *)"abc", 3), 1);
    assert_false(uart16550_can_receive(f->u));
    assert_true(irq(f));
    assert_int_equal(rd(f, IIR), 0x04);
    assert_int_equal(rd(f, LSR) & 0x01, 0x01);
    assert_int_equal(f->rx_ready, 0);
    assert_int_equal(rd(f, RBR), 'a');
    assert_false(irq(f));
    assert_int_equal(f->rx_ready, 1);
    assert_int_equal(rd(f, LSR) & 0x01, 0);
    assert_int_equal(rd(f, RBR), 0); /* empty FIFO reads 0 */
}

static void test_receive_fifo(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[20];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)('A' + i);
    wr(f, FCR, 0xc1); /* FIFO on, trigger 14 */
    wr(f, IER, 0x01);
    assert_int_equal(rd(f, IIR), 0xc1);
    assert_int_equal(uart16550_receive(f->u, buf, sizeof(buf)), 16);
    assert_false(uart16550_can_receive(f->u));
    assert_int_equal(uart16550_receive(f->u, buf, 1), 0);
    assert_true(irq(f));
    assert_int_equal(rd(f, IIR), 0xc4);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(rd(f, RBR), 'A' + i);
    /* Below the trigger level: reported as a character timeout. */
    assert_int_equal(rd(f, IIR), 0xcc);
    assert_true(uart16550_can_receive(f->u));
    for (unsigned i = 3; i < 16; i++)
        assert_int_equal(rd(f, RBR), 'A' + i);
    assert_false(irq(f));
    assert_int_equal(f->rx_ready, 1);

    /* FCR can clear the receive FIFO. */
    assert_int_equal(uart16550_receive(f->u, buf, 5), 5);
    wr(f, FCR, 0xc3);
    assert_int_equal(rd(f, LSR) & 0x01, 0);
    assert_false(irq(f));
    assert_int_equal(f->rx_ready, 2);
    /* Turning the FIFO off clears it too. */
    assert_int_equal(uart16550_receive(f->u, buf, 5), 5);
    wr(f, FCR, 0x00);
    assert_int_equal(rd(f, LSR) & 0x01, 0);
    assert_int_equal(rd(f, IIR), 0x01);
}

static void test_iir_priority(void **state)
{
    struct fixture *f = *state;
    wr(f, FCR, 0x01);
    wr(f, IER, 0x03);
    assert_int_equal(uart16550_receive(f->u, (const uint8_t *)"z", 1), 1);
    /* Received data outranks THRE, and reading IIR then must not eat the
     * THRE request. */
    assert_int_equal(rd(f, IIR), 0xc4);
    assert_int_equal(rd(f, RBR), 'z');
    assert_true(irq(f));
    assert_int_equal(rd(f, IIR), 0xc2);
    assert_false(irq(f));
}

static void test_loopback_and_modem_status(void **state)
{
    struct fixture *f = *state;
    wr(f, FCR, 0x01);
    wr(f, IER, 0x09);
    wr(f, MCR, 0x10);
    /* Entering loopback drops CTS/DSR/DCD: deltas and a modem interrupt. */
    assert_true(irq(f));
    assert_int_equal(rd(f, IIR), 0xc0);
    assert_int_equal(rd(f, MSR), 0x0b);
    assert_false(irq(f));
    assert_int_equal(rd(f, MSR), 0x00);
    wr(f, THR, 'L');
    assert_int_equal(f->ntx, 0);
    assert_int_equal(uart16550_receive(f->u, (const uint8_t *)"q", 1), 0);
    assert_false(uart16550_can_receive(f->u));
    assert_int_equal(rd(f, RBR), 'L');
    wr(f, MCR, 0x00);
    assert_true(uart16550_can_receive(f->u));
    assert_int_equal(rd(f, MSR) & 0xf0, 0xb0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    wr(f, LCR, 0x83);
    wr(f, DLL, 0x0c);
    wr(f, LCR, 0x03);
    wr(f, FCR, 0x81);
    wr(f, IER, 0x03);
    wr(f, SCR, 0x77);
    wr(f, MCR, 0x0b);
    assert_int_equal(uart16550_receive(f->u, (const uint8_t *)"0123456789", 10), 10);
    assert_int_equal(rd(f, RBR), '0'); /* moves the FIFO's head */
    assert_true(irq(f));
    dev_roundtrip(&uart16550_ops, f->u);
    assert_true(irq(f));
    assert_int_equal(rd(f, SCR), 0x77);
    assert_int_equal(rd(f, IIR), 0xc4);
    for (unsigned i = 1; i < 10; i++)
        assert_int_equal(rd(f, RBR), '0' + i);
    assert_int_equal(rd(f, IIR), 0xc2);
    wr(f, LCR, 0x83);
    assert_int_equal(rd(f, DLL), 0x0c);
}

static void test_load_rejects_bad_fifo_count(void **state)
{
    struct fixture *f = *state;
    struct state_writer w;
    state_writer_init(&w);
    state_begin_section(&w, "uart16550", 1);
    for (unsigned i = 0; i < 10; i++)
        state_put_u8(&w, 0);
    state_put_u8(&w, 17); /* more than the FIFO holds */
    for (unsigned i = 0; i < 17; i++)
        state_put_u8(&w, 'x');
    state_end_section(&w);
    assert_false(dev_load(&uart16550_ops, f->u, w.buf, w.len));
    assert_int_equal(rd(f, LSR) & 0x01, 0);
    state_writer_free(&w);

    /* And a wrong version. */
    struct state_writer w2;
    dev_save(&uart16550_ops, f->u, &w2);
    struct state_reader r;
    char name[32];
    uint32_t version;
    state_reader_init(&r, w2.buf, w2.len);
    assert_true(state_next_section(&r, name, sizeof(name), &version));
    assert_false(uart16550_ops.load(f->u, &r, 99));
    state_writer_free(&w2);
}

static void test_hostile_accesses(void **state)
{
    struct fixture *f = *state;
    for (uint64_t off = 8; off < 0x100; off++) {
        assert_int_equal(uart16550_ops.read(f->u, off, 1), 0);
        uart16550_ops.write(f->u, off, 1, 0xff);
    }
    uart16550_ops.write(f->u, UINT64_MAX, 4, 0xff);
    assert_int_equal(uart16550_ops.read(f->u, UINT64_MAX, 4), 0);
    wr(f, LSR, 0xff); /* read-only */
    assert_int_equal(rd(f, LSR), 0x60);
    assert_int_equal(f->ntx, 0);
    assert_false(irq(f));
}

static void test_fdt(void **state)
{
    struct fixture *f = *state;
    void *fdt = dev_test_fdt(1);
    struct dev_placement where = {.base = 0x10000000, .size = 0x100, .irq = 10, .phandle_plic = 3};
    uart16550_ops.fdt(f->u, fdt, &where);
    uint32_t cells[8];
    assert_int_equal(dev_fdt_cells(fdt, "/soc/serial@10000000", "reg", cells, 8), 4);
    assert_int_equal(cells[1], 0x10000000);
    assert_int_equal(cells[3], 0x100);
    assert_int_equal(dev_fdt_cells(fdt, "/soc/serial@10000000", "interrupts", cells, 8), 1);
    assert_int_equal(cells[0], 10);
    assert_int_equal(dev_fdt_cells(fdt, "/soc/serial@10000000", "interrupt-parent", cells, 8), 1);
    assert_int_equal(cells[0], 3);
    assert_int_equal(dev_fdt_cells(fdt, "/soc/serial@10000000", "clock-frequency", cells, 8), 1);
    assert_int_equal(cells[0], 3686400);
    int node = fdt_path_offset(fdt, "/soc/serial@10000000");
    assert_int_equal(fdt_node_check_compatible(fdt, node, "ns16550a"), 0);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit_and_scratch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_16450_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iir_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_and_modem_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_rejects_bad_fifo_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
