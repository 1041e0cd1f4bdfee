/* SPDX-License-Identifier: MIT */
/* Device tests for the syscon / SiFive test finisher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/syscon.h"
#include "dev_test.h"

struct fixture {
    struct syscon *s;
    unsigned calls;
    enum power_request req;
    int code;
};

static void on_power(void *opaque, enum power_request req, int exit_code)
{
    struct fixture *f = opaque;
    f->calls++;
    f->req = req;
    f->code = exit_code;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->s = syscon_new(on_power, f);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    syscon_ops.destroy(f->s);
    free(f);
    return 0;
}

static void test_pass(void **state)
{
    struct fixture *f = *state;
    syscon_ops.write(f->s, 0, 4, 0x5555);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->req, POWER_OFF);
    assert_int_equal(f->code, 0);
}

static void test_fail_code(void **state)
{
    struct fixture *f = *state;
    syscon_ops.write(f->s, 0, 4, 0x3333 | (42 << 16));
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->req, POWER_OFF);
    assert_int_equal(f->code, 42);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    syscon_ops.write(f->s, 0, 4, 0x7777);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->req, POWER_RESET);
}

static void test_ignored(void **state)
{
    struct fixture *f = *state;
    syscon_ops.write(f->s, 0, 4, 0x1234);
    syscon_ops.write(f->s, 4, 4, 0x5555);
    syscon_ops.write(f->s, 0xffc, 4, 0x7777);
    syscon_ops.write(f->s, 0, 1, 0x55); /* a byte cannot hold the code */
    syscon_ops.write(f->s, UINT64_MAX, 8, 0x5555);
    assert_int_equal(f->calls, 0);
    assert_int_equal(syscon_ops.read(f->s, 0, 4), 0);
    assert_int_equal(syscon_ops.read(f->s, 0x800, 8), 0);

    struct syscon *none = syscon_new(NULL, NULL);
    syscon_ops.write(none, 0, 4, 0x5555); /* no callback: no crash */
    syscon_ops.destroy(none);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    dev_roundtrip(&syscon_ops, f->s);
    syscon_ops.write(f->s, 0, 4, 0x5555);
    assert_int_equal(f->calls, 1);
}

static void test_fdt(void **state)
{
    struct fixture *f = *state;
    void *fdt = dev_test_fdt(1);
    struct dev_placement where = {.base = 0x100000, .size = 0x1000};
    syscon_ops.fdt(f->s, fdt, &where);
    uint32_t c[8];
    assert_int_equal(dev_fdt_cells(fdt, "/soc/test@100000", "reg", c, 8), 4);
    assert_int_equal(c[1], 0x100000);
    assert_int_equal(c[3], 0x1000);
    int node = fdt_path_offset(fdt, "/soc/test@100000");
    assert_int_equal(fdt_node_check_compatible(fdt, node, "sifive,test0"), 0);
    assert_int_equal(fdt_node_check_compatible(fdt, node, "syscon"), 0);
    uint32_t ph = fdt_get_phandle(fdt, node);
    assert_true(ph != 0 && ph != 0x10); /* unique: cpu@0's intc has 0x10 */

    assert_int_equal(dev_fdt_cells(fdt, "/poweroff", "regmap", c, 8), 1);
    assert_int_equal(c[0], ph);
    assert_int_equal(dev_fdt_cells(fdt, "/poweroff", "value", c, 8), 1);
    assert_int_equal(c[0], 0x5555);
    assert_int_equal(dev_fdt_cells(fdt, "/poweroff", "offset", c, 8), 1);
    assert_int_equal(c[0], 0);
    assert_int_equal(
        fdt_node_check_compatible(fdt, fdt_path_offset(fdt, "/poweroff"), "syscon-poweroff"), 0);
    assert_int_equal(dev_fdt_cells(fdt, "/reboot", "regmap", c, 8), 1);
    assert_int_equal(c[0], ph);
    assert_int_equal(dev_fdt_cells(fdt, "/reboot", "value", c, 8), 1);
    assert_int_equal(c[0], 0x7777);
    assert_int_equal(
        fdt_node_check_compatible(fdt, fdt_path_offset(fdt, "/reboot"), "syscon-reboot"), 0);
    free(fdt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
