/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the device tests: interrupt lines that record their
 * level, a save -> reset -> load round trip, and a scratch device tree
 * with a /soc node.  Include after <cmocka.h>.
 */
#ifndef WIRT_TESTS_DEV_TEST_H
#define WIRT_TESTS_DEV_TEST_H

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/device.h"
#include "state/state.h"

#define REC_LINES 64

/* Level and number of set() calls of lines 0..REC_LINES-1. */
struct irq_rec {
    bool level[REC_LINES];
    unsigned sets[REC_LINES];
};

static inline void irq_rec_set(void *target, unsigned num, bool level)
{
    struct irq_rec *r = target;
    assert_true(num < REC_LINES);
    r->level[num] = level;
    r->sets[num]++;
}

static inline struct irq_line irq_rec_line(struct irq_rec *r, unsigned num)
{
    return (struct irq_line){.set = irq_rec_set, .target = r, .num = num};
}

/* Saves dev into a fresh section; the caller frees the writer. */
static inline void dev_save(const struct dev_ops *ops, void *dev, struct state_writer *w)
{
    state_writer_init(w);
    state_begin_section(w, ops->name, ops->state_version);
    ops->save(dev, w);
    state_end_section(w);
    assert_false(w->failed);
}

/* Loads the first section of buf[0..len) into dev. */
static inline bool dev_load(const struct dev_ops *ops, void *dev, const void *buf, size_t len)
{
    struct state_reader r;
    char name[64];
    uint32_t version;
    state_reader_init(&r, buf, len);
    if (!state_next_section(&r, name, sizeof(name), &version))
        return false;
    assert_string_equal(name, ops->name);
    return ops->load(dev, &r, version);
}

/* save -> reset -> load, then checks that saving again gives the same
 * bytes.  Also checks that every truncation of the stream is refused. */
static inline void dev_roundtrip(const struct dev_ops *ops, void *dev)
{
    struct state_writer w1, w2;
    dev_save(ops, dev, &w1);
    ops->reset(dev);
    assert_true(dev_load(ops, dev, w1.buf, w1.len));
    dev_save(ops, dev, &w2);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.buf, w2.buf, w1.len);

    /* Cut the payload short: the header stays valid, the load must fail
     * and leave the device as it was. */
    size_t hdr = 1 + strlen(ops->name) + 4 + 8;
    for (size_t cut = 1; cut <= w1.len - hdr; cut++) {
        uint8_t *copy = malloc(w1.len);
        assert_non_null(copy);
        memcpy(copy, w1.buf, w1.len);
        uint64_t payload = w1.len - hdr - cut;
        for (unsigned i = 0; i < 8; i++)
            copy[hdr - 8 + i] = (uint8_t)(payload >> (8 * i));
        assert_false(dev_load(ops, dev, copy, w1.len - cut));
        free(copy);
    }
    struct state_writer w3;
    dev_save(ops, dev, &w3);
    assert_int_equal(w1.len, w3.len);
    assert_memory_equal(w1.buf, w3.buf, w1.len);
    state_writer_free(&w1);
    state_writer_free(&w2);
    state_writer_free(&w3);
}

/* A read-write tree with /soc (#address-cells = #size-cells = 2) and
 * /cpus/cpu@N/interrupt-controller nodes with phandles 0x10 + N. */
static inline void *dev_test_fdt(unsigned ncpus)
{
    size_t size = 64 * 1024;
    void *fdt = malloc(size);
    assert_non_null(fdt);
    assert_int_equal(fdt_create_empty_tree(fdt, (int)size), 0);
    int soc = fdt_add_subnode(fdt, 0, "soc");
    assert_true(soc >= 0);
    assert_int_equal(fdt_setprop_u32(fdt, soc, "#address-cells", 2), 0);
    assert_int_equal(fdt_setprop_u32(fdt, soc, "#size-cells", 2), 0);
    int cpus = fdt_add_subnode(fdt, 0, "cpus");
    assert_true(cpus >= 0);
    for (unsigned i = ncpus; i-- > 0;) {
        char name[32];
        snprintf(name, sizeof(name), "cpu@%u", i);
        int cpu = fdt_add_subnode(fdt, cpus, name);
        assert_true(cpu >= 0);
        int intc = fdt_add_subnode(fdt, cpu, "interrupt-controller");
        assert_true(intc >= 0);
        assert_int_equal(fdt_setprop_u32(fdt, intc, "phandle", 0x10 + i), 0);
    }
    return fdt;
}

/* The cells of property `prop` of node `path`, as host-order u32s. */
static inline int dev_fdt_cells(const void *fdt, const char *path, const char *prop,
                                uint32_t *cells, int max)
{
    int node = fdt_path_offset(fdt, path);
    assert_true(node >= 0);
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);
    if (!p)
        return -1;
    int n = len / 4;
    for (int i = 0; i < n && i < max; i++)
        cells[i] = fdt32_to_cpu(p[i]);
    return n;
}

#endif
