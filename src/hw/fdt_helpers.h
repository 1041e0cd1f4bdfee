/* SPDX-License-Identifier: MIT */
/*
 * Small helpers the board's devices share for writing their device-tree
 * nodes into a read-write tree (libfdt's fdt_add_subnode API).  Nodes go
 * under /soc, whose #address-cells and #size-cells are both 2.
 */
#ifndef WIRT_DEV_FDT_HELPERS_H
#define WIRT_DEV_FDT_HELPERS_H

#include <inttypes.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/log.h"

/* Sets a "reg" property of one <base size> pair in 2+2 cells. */
static inline int dev_fdt_set_reg(void *fdt, int node, uint64_t base, uint64_t size)
{
    fdt32_t reg[4] = {cpu_to_fdt32((uint32_t)(base >> 32)), cpu_to_fdt32((uint32_t)base),
                      cpu_to_fdt32((uint32_t)(size >> 32)), cpu_to_fdt32((uint32_t)size)};
    return fdt_setprop(fdt, node, "reg", reg, sizeof(reg));
}

/* Adds "<name>@<base>" under /soc with its reg property; returns the node's
 * offset or a negative libfdt error (already logged). */
static inline int dev_fdt_add_soc_node(void *fdt, const char *name, uint64_t base, uint64_t size)
{
    char node_name[64];
    int soc = fdt_path_offset(fdt, "/soc");
    if (soc < 0) {
        log_error("%s: device tree has no /soc node: %s", name, fdt_strerror(soc));
        return soc;
    }
    snprintf(node_name, sizeof(node_name), "%s@%" PRIx64, name, base);
    int node = fdt_add_subnode(fdt, soc, node_name);
    if (node < 0) {
        log_error("%s: cannot add device-tree node: %s", node_name, fdt_strerror(node));
        return node;
    }
    int err = dev_fdt_set_reg(fdt, node, base, size);
    if (err < 0) {
        log_error("%s: cannot set reg: %s", node_name, fdt_strerror(err));
        return err;
    }
    return node;
}

/* Phandle of hart `hart`'s local interrupt controller, looked up at
 * /cpus/cpu@<hart>/interrupt-controller; 0 when the board has not written
 * it (or it has no phandle). */
static inline uint32_t dev_fdt_cpu_intc_phandle(const void *fdt, unsigned hart)
{
    char path[64];
    snprintf(path, sizeof(path), "/cpus/cpu@%u/interrupt-controller", hart);
    int node = fdt_path_offset(fdt, path);
    if (node < 0)
        return 0;
    return fdt_get_phandle(fdt, node);
}

/* Logs a failed property write; returns true if err was an error. */
static inline bool dev_fdt_failed(const char *what, int err)
{
    if (err >= 0)
        return false;
    log_error("%s: device tree: %s", what, fdt_strerror(err));
    return true;
}

#endif
