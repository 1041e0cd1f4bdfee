/* SPDX-License-Identifier: MIT */
/* Device tests for HTIF tohost/fromhost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/htif.h"
#include "dev_test.h"
#include "mem/bus.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x10000ULL

struct fixture {
    struct bus bus;
    struct htif *h;
    char out[512];
    unsigned nout;
    unsigned power_calls;
    enum power_request req;
    int code;
};

static void on_tx(void *opaque, uint8_t c)
{
    struct fixture *f = opaque;
    assert_true(f->nout < sizeof(f->out) - 1);
    f->out[f->nout++] = (char)c;
}

static void on_power(void *opaque, enum power_request req, int code)
{
    struct fixture *f = opaque;
    f->power_calls++;
    f->req = req;
    f->code = code;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(bus_init(&f->bus, RAM_BASE, RAM_SIZE));
    struct htif_callbacks cb = {.tx = on_tx, .power = on_power, .opaque = f};
    f->h = htif_new(&cb, &f->bus);
    assert_non_null(f->h);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    htif_ops.destroy(f->h);
    bus_destroy(&f->bus);
    free(f);
    return 0;
}

static void wr64(struct fixture *f, uint64_t v)
{
    htif_ops.write(f->h, 0, 8, v);
}

static void test_exit_pass_and_fail(void **state)
{
    struct fixture *f = *state;
    wr64(f, 1);
    assert_int_equal(f->power_calls, 1);
    assert_int_equal(f->req, POWER_OFF);
    assert_int_equal(f->code, 0);
    wr64(f, (5 << 1) | 1);
    assert_int_equal(f->power_calls, 2);
    assert_int_equal(f->code, 5);
    assert_int_equal(htif_ops.read(f->h, 0, 8), 0);
}

static void test_rv32_pair(void **state)
{
    struct fixture *f = *state;
    /* Low word alone does nothing; the high word completes the command. */
    htif_ops.write(f->h, 0, 4, (3 << 1) | 1);
    assert_int_equal(f->power_calls, 0);
    assert_int_equal(htif_ops.read(f->h, 0, 8), 7);
    htif_ops.write(f->h, 4, 4, 0);
    assert_int_equal(f->power_calls, 1);
    assert_int_equal(f->code, 3);
    /* putchar from an RV32 program: low, then high = device 1, cmd 1. */
    htif_ops.write(f->h, 0, 4, 'Q');
    htif_ops.write(f->h, 4, 4, 0x01010000);
    assert_int_equal(f->nout, 1);
    assert_int_equal(f->out[0], 'Q');
    assert_int_equal(f->power_calls, 1);
}

static void test_putchar_and_fromhost(void **state)
{
    struct fixture *f = *state;
    const char *msg = "ok\n";
    for (const char *p = msg; *p; p++) {
        wr64(f, (1ULL << 56) | (1ULL << 48) | (uint8_t)*p);
        assert_int_equal(htif_ops.read(f->h, 0, 8), 0); /* tohost cleared */
        assert_int_equal(htif_ops.read(f->h, 8, 8), (1ULL << 56) | (1ULL << 48) | 1);
        htif_ops.write(f->h, 8, 8, 0); /* the program acknowledges */
    }
    assert_int_equal(f->nout, 3);
    assert_memory_equal(f->out, msg, 3);
    assert_int_equal(htif_ops.read(f->h, 8, 8), 0);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_syscall_write_and_exit(void **state)
{
    struct fixture *f = *state;
    uint8_t *ram = bus_ram_ptr(&f->bus, RAM_BASE, RAM_SIZE);
    const char *text = "hello, htif\n";
    memcpy(ram + 0x200, text, strlen(text));
    put_le64(ram + 0x100, HTIF_SYS_WRITE);
    put_le64(ram + 0x108, 1);
    put_le64(ram + 0x110, RAM_BASE + 0x200);
    put_le64(ram + 0x118, strlen(text));
    wr64(f, RAM_BASE + 0x100);
    assert_int_equal(f->nout, strlen(text));
    assert_memory_equal(f->out, text, strlen(text));
    uint64_t ret;
    memcpy(&ret, ram + 0x100, 8);
    assert_int_equal(ret, strlen(text));
    assert_int_equal(htif_ops.read(f->h, 8, 8), 1);
    assert_int_equal(f->power_calls, 0);

    /* A bad fd gets -EBADF, not output. */
    put_le64(ram + 0x100, HTIF_SYS_WRITE);
    put_le64(ram + 0x108, 7);
    wr64(f, RAM_BASE + 0x100);
    memcpy(&ret, ram + 0x100, 8);
    assert_int_equal((int64_t)ret, -9);
    assert_int_equal(f->nout, strlen(text));

    /* A buffer outside RAM gets -EFAULT. */
    put_le64(ram + 0x100, HTIF_SYS_WRITE);
    put_le64(ram + 0x108, 2);
    put_le64(ram + 0x110, 0x1000);
    wr64(f, RAM_BASE + 0x100);
    memcpy(&ret, ram + 0x100, 8);
    assert_int_equal((int64_t)ret, -14);

    put_le64(ram + 0x100, HTIF_SYS_EXIT);
    put_le64(ram + 0x108, 9);
    wr64(f, RAM_BASE + 0x100);
    assert_int_equal(f->power_calls, 1);
    assert_int_equal(f->code, 9);
}

static void test_unsupported(void **state)
{
    struct fixture *f = *state;
    uint8_t *ram = bus_ram_ptr(&f->bus, RAM_BASE, RAM_SIZE);
    put_le64(ram + 0x100, 1234);
    wr64(f, RAM_BASE + 0x100);
    assert_int_equal(f->power_calls, 1);
    assert_int_equal(f->code, HTIF_EXIT_UNSUPPORTED);
    /* A syscall block outside RAM. */
    wr64(f, 0x2000);
    assert_int_equal(f->power_calls, 2);
    assert_int_equal(f->code, HTIF_EXIT_UNSUPPORTED);
    /* Unknown devices are ignored. */
    wr64(f, (7ULL << 56) | 1);
    wr64(f, (1ULL << 56) | 'x'); /* console read request */
    assert_int_equal(f->power_calls, 2);
    assert_int_equal(f->nout, 0);
    assert_int_equal(htif_ops.read(f->h, 8, 8), 0);
}

static void test_fromhost_alias(void **state)
{
    struct fixture *f = *state;
    wr64(f, (1ULL << 56) | (1ULL << 48) | 'a');
    assert_int_equal(htif_fromhost_ops.read(f->h, 0, 8), (1ULL << 56) | (1ULL << 48) | 1);
    assert_int_equal(htif_fromhost_ops.read(f->h, 4, 4), 0x01010000);
    htif_fromhost_ops.write(f->h, 0, 8, 0);
    assert_int_equal(htif_ops.read(f->h, 8, 8), 0);
    assert_int_equal(htif_fromhost_ops.read(f->h, 8, 8), 0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    htif_ops.write(f->h, 0, 4, 0x1234);
    htif_ops.write(f->h, 8, 8, 0xabcdef);
    dev_roundtrip(&htif_ops, f->h);
    assert_int_equal(htif_ops.read(f->h, 0, 8), 0x1234);
    assert_int_equal(htif_ops.read(f->h, 8, 8), 0xabcdef);
    htif_ops.reset(f->h);
    assert_int_equal(htif_ops.read(f->h, 0, 8), 0);
    assert_int_equal(htif_ops.read(f->h, 8, 8), 0);
}

static void test_hostile_accesses(void **state)
{
    struct fixture *f = *state;
    htif_ops.write(f->h, 12, 8, UINT64_MAX); /* runs off the end */
    assert_int_equal(htif_ops.read(f->h, 12, 8), 0xffffffff);
    htif_ops.write(f->h, 16, 8, 1);
    htif_ops.write(f->h, UINT64_MAX, 8, 1);
    assert_int_equal(htif_ops.read(f->h, UINT64_MAX, 8), 0);
    htif_fromhost_ops.write(f->h, 8, 8, 1);
    /* A byte-wise tohost write runs when its top byte lands. */
    for (unsigned i = 0; i < 8; i++)
        htif_ops.write(f->h, i, 1, i == 0 ? 3 : 0);
    assert_int_equal(f->power_calls, 1);
    assert_int_equal(f->code, 1);
    struct htif *bare = htif_new(NULL, NULL);
    htif_ops.write(bare, 0, 8, 1);
    htif_ops.write(bare, 0, 8, 0x100); /* syscall without a bus */
    htif_ops.write(bare, 0, 8, (1ULL << 56) | (1ULL << 48) | 'z');
    htif_ops.fdt(bare, NULL, NULL);
    htif_ops.destroy(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_pass_and_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rv32_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_putchar_and_fromhost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syscall_write_and_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fromhost_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
