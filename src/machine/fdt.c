/* SPDX-License-Identifier: MIT */
/*
 * The board's device tree: root, cpus, memory and chosen are written
 * here; every device adds its own node under /soc through its ops.
 */
#include "machine/fdt.h"

#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cpu/hart.h"
#include "cpu/pmu.h"
#include "util/log.h"

#define FDT_MAX_SIZE (64 * 1024)

static uint32_t cpu_intc_phandle(unsigned hart)
{
    return 1 + hart;
}

/* WIRT_DT_HIDE_EXT=zbb,zicboz,...: a measurement knob (see
 * docs/architecture.md, "ISA beyond RV64GC"): the listed multi-letter extensions
 * are left out of riscv,isa and riscv,isa-extensions, so a guest kernel's
 * faster paths can be compared with and without them.  The harts still
 * implement them. */
static bool ext_hidden(const char *name, size_t len)
{
    const char *hide = getenv("WIRT_DT_HIDE_EXT");
    for (const char *p = hide; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* isa with the hidden extensions' "_name" parts taken out. */
static void isa_string(char *out, size_t cap, const char *isa)
{
    size_t base = strcspn(isa, "_"), len = 0;
    snprintf(out, cap, "%.*s", (int)base, isa);
    len = strlen(out);
    for (const char *p = isa + base; *p == '_';) {
        size_t n = strcspn(p + 1, "_");
        if (!ext_hidden(p + 1, n) && len + n + 2 < cap) {
            memcpy(out + len, p, n + 1);
            len += n + 1;
            out[len] = 0;
        }
        p += n + 1;
    }
}

static int write_cpus(void *fdt, const struct board *b)
{
    int err = 0;
    err |= fdt_begin_node(fdt, "cpus");
    err |= fdt_property_u32(fdt, "#address-cells", 1);
    err |= fdt_property_u32(fdt, "#size-cells", 0);
    err |= fdt_property_u32(fdt, "timebase-frequency", (uint32_t)VCLOCK_HZ);
    for (unsigned h = 0; h < b->nharts; h++) {
        char name[32];
        snprintf(name, sizeof(name), "cpu@%u", h);
        err |= fdt_begin_node(fdt, name);
        err |= fdt_property_string(fdt, "device_type", "cpu");
        err |= fdt_property_u32(fdt, "reg", h);
        err |= fdt_property_string(fdt, "status", "okay");
        err |= fdt_property_string(fdt, "compatible", "riscv");
        char isa[512];
        isa_string(isa, sizeof(isa), b->cfg.cpu_h ? hart_isa_string_h : hart_isa_string);
        err |= fdt_property_string(fdt, "riscv,isa", isa);
        err |= fdt_property_string(fdt, "riscv,isa-base", "rv64i");
        char exts[512];
        size_t len = 0;
        for (const char *const *e = hart_isa_extensions; *e && len + strlen(*e) + 1 < sizeof(exts);
             e++) {
            if (ext_hidden(*e, strlen(*e)))
                continue;
            memcpy(exts + len, *e, strlen(*e) + 1);
            len += strlen(*e) + 1;
        }
        if (b->cfg.cpu_h) { /* "h" only when the harts implement it */
            memcpy(exts + len, "h", 2);
            len += 2;
        }
        err |= fdt_property(fdt, "riscv,isa-extensions", exts, (int)len);
        err |= fdt_property_u32(fdt, "riscv,cbom-block-size", CBO_BLOCK_SIZE);
        err |= fdt_property_u32(fdt, "riscv,cboz-block-size", CBO_BLOCK_SIZE);
        err |= fdt_property_u32(fdt, "riscv,cbop-block-size", CBO_BLOCK_SIZE);
        char mmu[16];
        snprintf(mmu, sizeof(mmu), "riscv,sv%u", hart_mmu_type_bits);
        err |= fdt_property_string(fdt, "mmu-type", mmu);
        err |= fdt_begin_node(fdt, "interrupt-controller");
        err |= fdt_property_u32(fdt, "#interrupt-cells", 1);
        err |= fdt_property(fdt, "interrupt-controller", NULL, 0);
        err |= fdt_property_string(fdt, "compatible", "riscv,cpu-intc");
        err |= fdt_property_u32(fdt, "phandle", cpu_intc_phandle(h));
        err |= fdt_end_node(fdt);
        err |= fdt_end_node(fdt);
    }
    err |= fdt_end_node(fdt);
    return err;
}

/* For OpenSBI's PMU (fdt_pmu.c): which counters may count which SBI
 * hardware event, as triples <first event, last event, counter bitmap>.
 * Cycles and instructions may go on their fixed counter or on any
 * mhpmcounter (pmu.h), so that sampling events get counters that can
 * raise the overflow interrupt. */
static int write_pmu(void *fdt)
{
    const uint32_t hpm = ((1u << PMU_HPM) - 1) << 3;
    const uint32_t map[] = {
        cpu_to_fdt32(PMU_EV_CYCLES),       cpu_to_fdt32(PMU_EV_CYCLES),       cpu_to_fdt32(hpm | 1),
        cpu_to_fdt32(PMU_EV_INSTRUCTIONS), cpu_to_fdt32(PMU_EV_INSTRUCTIONS), cpu_to_fdt32(hpm | 4),
    };
    int err = fdt_begin_node(fdt, "pmu");
    err |= fdt_property_string(fdt, "compatible", "riscv,pmu");
    err |= fdt_property(fdt, "riscv,event-to-mhpmcounters", map, sizeof(map));
    return err | fdt_end_node(fdt);
}

static void put_reg(uint32_t *cells, uint64_t base, uint64_t size)
{
    cells[0] = cpu_to_fdt32((uint32_t)(base >> 32));
    cells[1] = cpu_to_fdt32((uint32_t)base);
    cells[2] = cpu_to_fdt32((uint32_t)(size >> 32));
    cells[3] = cpu_to_fdt32((uint32_t)size);
}

void *board_build_fdt(struct board *b, uint64_t initrd_start, uint64_t initrd_end)
{
    void *fdt = calloc(1, FDT_MAX_SIZE);
    if (!fdt)
        return NULL;
    int err = fdt_create(fdt, FDT_MAX_SIZE);
    err |= fdt_finish_reservemap(fdt);
    err |= fdt_begin_node(fdt, "");
    err |= fdt_property_u32(fdt, "#address-cells", 2);
    err |= fdt_property_u32(fdt, "#size-cells", 2);
    err |= fdt_property_string(fdt, "compatible", "riscv-virtio");
    err |= fdt_property_string(fdt, "model", "wirt virt");

    err |= fdt_begin_node(fdt, "chosen");
    if (b->cfg.append)
        err |= fdt_property_string(fdt, "bootargs", b->cfg.append);
    char stdout_path[64];
    snprintf(stdout_path, sizeof(stdout_path), "/soc/serial@%llx",
             (unsigned long long)VIRT_UART0_BASE);
    err |= fdt_property_string(fdt, "stdout-path", stdout_path);
    if (initrd_end > initrd_start) {
        err |= fdt_property_u64(fdt, "linux,initrd-start", initrd_start);
        err |= fdt_property_u64(fdt, "linux,initrd-end", initrd_end);
    }
    uint8_t seed[64];
    if (getrandom(seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
        err |= fdt_property(fdt, "rng-seed", seed, sizeof(seed));
    err |= fdt_end_node(fdt);

    /* The guest knows it is a guest: systemd-detect-virt reads
     * /proc/device-tree/hypervisor/compatible on RISC-V and reports any
     * value it does not know ("linux,kvm", "xen", "vmware") as "vm-other".
     * We claim to be neither KVM nor QEMU, so "wirt" is the honest name. */
    err |= fdt_begin_node(fdt, "hypervisor");
    err |= fdt_property_string(fdt, "compatible", "wirt");
    err |= fdt_end_node(fdt);

    char name[64];
    uint32_t reg[4];
    snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)b->bus.ram_base);
    err |= fdt_begin_node(fdt, name);
    err |= fdt_property_string(fdt, "device_type", "memory");
    put_reg(reg, b->bus.ram_base, b->bus.ram_size);
    err |= fdt_property(fdt, "reg", reg, sizeof(reg));
    err |= fdt_end_node(fdt);

    err |= write_cpus(fdt, b);
    err |= write_pmu(fdt);

    err |= fdt_begin_node(fdt, "soc");
    err |= fdt_property_u32(fdt, "#address-cells", 2);
    err |= fdt_property_u32(fdt, "#size-cells", 2);
    err |= fdt_property_string(fdt, "compatible", "simple-bus");
    err |= fdt_property(fdt, "ranges", NULL, 0);
    err |= fdt_end_node(fdt);

    err |= fdt_end_node(fdt);
    err |= fdt_finish(fdt);
    if (err) {
        log_error("device tree: cannot build the skeleton");
        free(fdt);
        return NULL;
    }
    int rc = fdt_open_into(fdt, fdt, FDT_MAX_SIZE);
    if (rc < 0) {
        log_error("device tree: %s", fdt_strerror(rc));
        free(fdt);
        return NULL;
    }
    /* fdt_add_subnode puts a new node first and Linux probes in tree order:
     * walk backwards so the first --disk is vda and the first --net eth0. */
    for (unsigned i = b->ndevices; i-- > 0;) {
        struct board_device *d = &b->devices[i];
        if (d->ops->fdt)
            d->ops->fdt(d->dev, fdt, &d->where);
    }
    fdt_pack(fdt);
    return fdt;
}

uint32_t board_cpu_intc_phandle(unsigned hart)
{
    return cpu_intc_phandle(hart);
}
