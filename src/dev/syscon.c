/* SPDX-License-Identifier: MIT */
/* The SiFive test finisher used as QEMU virt's power-off and reboot device. */
#include "dev/syscon.h"

#include <libfdt.h>
#include <stdlib.h>

#include "hw/fdt_helpers.h"
#include "state/state.h"

struct syscon {
    power_cb power;
    void *opaque;
};

struct syscon *syscon_new(power_cb power, void *opaque)
{
    struct syscon *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->power = power;
    s->opaque = opaque;
    return s;
}

static uint64_t syscon_read(void *dev, uint64_t offset, unsigned size)
{
    (void)dev, (void)offset, (void)size;
    return 0;
}

static void syscon_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct syscon *s = dev;
    if (offset != 0 || size < 2 || !s->power)
        return;
    uint32_t v = (uint32_t)value;
    switch (v & 0xffff) {
    case SYSCON_FINISHER_PASS:
        s->power(s->opaque, POWER_OFF, 0);
        break;
    case SYSCON_FINISHER_FAIL:
        s->power(s->opaque, POWER_OFF, (int)(v >> 16));
        break;
    case SYSCON_FINISHER_RESET:
        s->power(s->opaque, POWER_RESET, 0);
        break;
    default:
        break;
    }
}

static void syscon_reset(void *dev)
{
    (void)dev;
}

/* The device has no guest-visible state. */
static void syscon_save(void *dev, struct state_writer *w)
{
    (void)dev, (void)w;
}

static bool syscon_load(void *dev, struct state_reader *r, uint32_t version)
{
    (void)dev, (void)r;
    return version == 1;
}

/* Adds "/<name>" pointing into the syscon's register map. */
static int add_regmap_node(void *fdt, const char *name, const char *compat, uint32_t phandle,
                           uint32_t value)
{
    int node = fdt_add_subnode(fdt, 0, name);
    if (node < 0)
        return node;
    int err = fdt_setprop_string(fdt, node, "compatible", compat);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "regmap", phandle);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "offset", 0);
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "value", value);
    return err;
}

static void syscon_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    (void)dev;
    static const char compat[] = "sifive,test1\0sifive,test0\0syscon";
    uint32_t phandle;
    int node = dev_fdt_add_soc_node(fdt, "test", where->base, where->size);
    if (node < 0)
        return;
    int err = fdt_generate_phandle(fdt, &phandle);
    if (err >= 0)
        err = fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    if (err >= 0)
        err = fdt_setprop_u32(fdt, node, "phandle", phandle);
    /* Like QEMU's virt board, the regmap users sit at the root. */
    if (err >= 0)
        err = add_regmap_node(fdt, "poweroff", "syscon-poweroff", phandle, SYSCON_FINISHER_PASS);
    if (err >= 0)
        err = add_regmap_node(fdt, "reboot", "syscon-reboot", phandle, SYSCON_FINISHER_RESET);
    dev_fdt_failed("syscon", err);
}

static void syscon_destroy(void *dev)
{
    free(dev);
}

const struct dev_ops syscon_ops = {
    .name = "syscon",
    .access_min = 1,
    .access_max = 8,
    .read = syscon_read,
    .write = syscon_write,
    .reset = syscon_reset,
    .save = syscon_save,
    .load = syscon_load,
    .state_version = 1,
    .fdt = syscon_fdt,
    .destroy = syscon_destroy,
};
