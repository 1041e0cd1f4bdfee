/* SPDX-License-Identifier: MIT */
/*
 * The "virt" board: builds the machine from a board_config, loads the
 * images, runs the harts and handles power requests.
 *
 * Boot layout in DRAM: firmware at the base; the kernel at base + its
 * Image text_offset (2 MiB); the device tree in the last 2 MiB-aligned
 * block below the top of RAM, the firmware's fw_dynamic_info right after
 * it, the initrd just below the device tree.
 */
#include "machine/board.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libfdt.h>

#include "cpu/vcpu.h"
#include "dev/clint.h"
#include "dev/goldfish_rtc.h"
#include "dev/htif.h"
#include "dev/plic.h"
#include "dev/power.h"
#include "dev/syscon.h"
#include "dev/uart16550.h"
#include "host/console.h"
#include "host/evloop.h"
#include "machine/fdt.h"
#include "machine/loader.h"
#include "util/log.h"

#define KERNEL_OFFSET      (2ULL << 20)
#define FDT_ALIGN          (2ULL << 20)
#define FW_DYNAMIC_MAGIC   0x4942534fULL /* "OSBI" */
#define FW_DYNAMIC_VERSION 2
#define PRIV_S             1

struct board_images {
    struct loaded_file bios, kernel, initrd, elf;
    enum image_kind kernel_kind;
    struct elf_info elf_info;
};

struct fw_dynamic_info {
    uint64_t magic, version, next_addr, next_mode, options, boot_hart;
};

static uint64_t host_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
}

bool board_add_device(struct board *b, uint64_t base, uint64_t size, unsigned irq,
                      const struct dev_ops *ops, void *dev)
{
    if (b->ndevices == BOARD_MAX_DEVICES || !bus_add_device(&b->bus, base, size, ops, dev))
        return false;
    struct board_device *d = &b->devices[b->ndevices++];
    d->ops = ops;
    d->dev = dev;
    d->where = (struct dev_placement){
        .base = base, .size = size, .irq = irq, .phandle_plic = BOARD_PHANDLE_PLIC};
    return true;
}

struct irq_line board_irq_line(struct board *b, unsigned irq)
{
    return plic_source_line(b->plic, irq);
}

bool board_alloc_virtio_slot(struct board *b, uint64_t *base, unsigned *irq)
{
    if (b->next_virtio_slot >= VIRT_VIRTIO_SLOTS)
        return false;
    unsigned n = b->next_virtio_slot++;
    *base = VIRT_VIRTIO_BASE + n * VIRT_VIRTIO_SIZE;
    *irq = n < VIRT_VIRTIO_COUNT ? VIRT_VIRTIO_IRQ + n
                                 : VIRT_VIRTIO_IRQ_HIGH + (n - VIRT_VIRTIO_COUNT);
    return true;
}

static void stop_harts(struct board *b)
{
    for (unsigned h = 0; h < b->nharts; h++)
        vcpu_stop(b->harts[h]);
}

static void emit(struct board *b, enum board_event ev)
{
    if (b->on_event)
        b->on_event(b->event_opaque, ev);
}

void board_power_off(struct board *b, int exit_code)
{
    bool first = !b->power_off;
    b->exit_code = exit_code;
    b->power_off = true;
    stop_harts(b);
    pthread_cond_broadcast(&b->state_cond);
    if (first)
        emit(b, BOARD_EVENT_POWERED_OFF);
}

void board_request_reset(struct board *b)
{
    b->reset_requested = true;
    stop_harts(b);
    pthread_cond_broadcast(&b->state_cond);
    emit(b, BOARD_EVENT_RESET);
}

void board_pause(struct board *b)
{
    if (b->paused)
        return;
    b->paused = true;
    b->paused_mtime = vclock_mtime(&b->clock);
    stop_harts(b);
    emit(b, BOARD_EVENT_PAUSED);
}

void board_resume(struct board *b)
{
    if (!b->paused)
        return;
    b->paused = false;
    vclock_set(&b->clock, b->paused_mtime);
    clint_clock_changed(b->clint);
    pthread_cond_broadcast(&b->state_cond);
    emit(b, BOARD_EVENT_RESUMED);
}

bool board_hold(struct board *b)
{
    if (b->paused || b->held || b->power_off || b->reset_requested)
        return false;
    b->held = true;
    stop_harts(b);
    while (!b->harts_parked && !b->power_off && !b->reset_requested)
        pthread_cond_wait(&b->state_cond, &b->bus.io_lock);
    if (!b->harts_parked) {
        board_release(b);
        return false;
    }
    return true;
}

void board_release(struct board *b)
{
    b->held = false;
    pthread_cond_broadcast(&b->state_cond);
}

/* Makes every hart drop its writable TLB entries (see bus.dirty_gen). */
static void rearm_harts(struct board *b)
{
    atomic_fetch_add(&b->bus.dirty_gen, 1);
    for (unsigned h = 0; h < b->nharts; h++)
        vcpu_dirty_log_sync(b->harts[h]);
}

bool board_dirty_log_start(struct board *b)
{
    if (!bus_dirty_log_start(&b->bus))
        return false;
    rearm_harts(b);
    return true;
}

uint64_t board_dirty_log_take(struct board *b, uint64_t *bitmap)
{
    /* Clear first, re-arm second: a store between the two goes to a page
     * in this take's set, which the caller copies after we return. */
    uint64_t n = bus_dirty_log_take(&b->bus, bitmap);
    rearm_harts(b);
    return n;
}

void board_dirty_log_stop(struct board *b)
{
    bus_dirty_log_stop(&b->bus);
}

static void on_power(void *opaque, enum power_request req, int exit_code)
{
    struct board *b = opaque;
    if (req == POWER_RESET)
        board_request_reset(b);
    else
        board_power_off(b, exit_code);
}

static void on_guest_ready(void *opaque)
{
    emit(opaque, BOARD_EVENT_GUEST_READY);
}

static void uart_tx(void *opaque, uint8_t byte)
{
    struct board *b = opaque;
    if (b->console) /* none attached: the output goes nowhere */
        console_write(b->console, &byte, 1);
}

static void uart_rx_ready(void *opaque)
{
    struct board *b = opaque;
    if (b->console)
        console_sink_ready(b->console);
}

static size_t uart_sink(void *opaque, const uint8_t *buf, size_t len)
{
    return uart16550_receive(opaque, buf, len);
}

/* The images' bytes are needed only from board_new until board_boot has
 * copied them into guest RAM (a reset reads them again): an idle VM would
 * otherwise keep a second copy of its kernel and initrd (some 30 MiB for
 * the default guest). */
static void images_drop(struct board_images *im)
{
    file_drop(&im->bios);
    file_drop(&im->kernel);
    file_drop(&im->initrd);
    file_drop(&im->elf);
}

static bool images_reload(struct board_images *im, char *err, size_t errlen)
{
    return file_reload(&im->bios, err, errlen) && file_reload(&im->kernel, err, errlen) &&
           file_reload(&im->initrd, err, errlen) && file_reload(&im->elf, err, errlen);
}

static bool load_images(struct board *b, char *err, size_t errlen)
{
    const struct board_config *cfg = &b->cfg;
    struct board_images *im = b->images;
    size_t max = (size_t)cfg->ram_size;
    if (cfg->bios && !load_file(cfg->bios, max, &im->bios, err, errlen))
        return false;
    if (cfg->kernel) {
        if (!load_file(cfg->kernel, max, &im->kernel, err, errlen))
            return false;
        im->kernel_kind = detect_image_kind(&im->kernel);
        if (im->kernel_kind == IMAGE_UNKNOWN) {
            snprintf(err, errlen, "%s: empty file (not a Linux Image, ELF or flat binary)",
                     cfg->kernel);
            return false;
        }
    }
    if (cfg->initrd && !load_file(cfg->initrd, max, &im->initrd, err, errlen))
        return false;
    if (cfg->elf) {
        if (!load_file(cfg->elf, max, &im->elf, err, errlen))
            return false;
        if (!load_elf(&b->bus, &im->elf, cfg->elf, &im->elf_info, err, errlen))
            return false;
    }
    /* Kept for board_boot (or board_skip_boot), which the VMM calls next:
     * read once, not twice, on the way to a booted guest. */
    return true;
}

static bool add_builtin_devices(struct board *b)
{
    struct irq_line ctx[2 * BOARD_MAX_HARTS], mtip[BOARD_MAX_HARTS], msip[BOARD_MAX_HARTS];
    uint32_t phandles[BOARD_MAX_HARTS];
    for (unsigned h = 0; h < b->nharts; h++) {
        ctx[2 * h] = (struct irq_line){vcpu_irq_setter(b->harts[h]), b->harts[h], IRQ_M_EXT};
        ctx[2 * h + 1] = (struct irq_line){vcpu_irq_setter(b->harts[h]), b->harts[h], IRQ_S_EXT};
        mtip[h] = (struct irq_line){vcpu_irq_setter(b->harts[h]), b->harts[h], IRQ_M_TIMER};
        msip[h] = (struct irq_line){vcpu_irq_setter(b->harts[h]), b->harts[h], IRQ_M_SOFT};
        phandles[h] = board_cpu_intc_phandle(h);
    }
    b->plic = plic_new(VIRT_PLIC_NUM_SOURCES, b->nharts, ctx);
    struct clint *clint = clint_new(&b->clock, b->loop, b->nharts, mtip, msip);
    struct uart16550_callbacks ucb = {.tx = uart_tx, .rx_ready = uart_rx_ready, .opaque = b};
    struct irq_line uart_irq = board_irq_line(b, VIRT_UART0_IRQ);
    struct uart16550 *uart = uart16550_new(&ucb, &uart_irq);
    struct irq_line rtc_irq = board_irq_line(b, VIRT_RTC_IRQ);
    struct goldfish_rtc *rtc = goldfish_rtc_new(b->loop, &rtc_irq);
    struct syscon *syscon = syscon_new(on_power, b);
    if (!b->plic || !clint || !uart || !rtc || !syscon)
        return false;
    b->clint = clint;
    plic_set_cpu_phandles(b->plic, phandles, b->nharts);
    clint_set_cpu_phandles(clint, phandles, b->nharts);
    b->uart = uart;
    bool ok =
        board_add_device(b, VIRT_TEST_BASE, VIRT_TEST_SIZE, 0, &syscon_ops, syscon) &&
        board_add_device(b, VIRT_RTC_BASE, VIRT_RTC_SIZE, VIRT_RTC_IRQ, &goldfish_rtc_ops, rtc) &&
        board_add_device(b, VIRT_CLINT_BASE, VIRT_CLINT_SIZE, 0, &clint_ops, clint) &&
        board_add_device(b, VIRT_PLIC_BASE, VIRT_PLIC_SIZE, 0, &plic_ops, b->plic) &&
        board_add_device(b, VIRT_UART0_BASE, VIRT_UART0_SIZE, VIRT_UART0_IRQ, &uart16550_ops, uart);
    if (ok && b->cfg.elf && b->images->elf_info.tohost) {
        const struct elf_info *ei = &b->images->elf_info;
        struct htif_callbacks hcb = {.tx = uart_tx, .power = on_power, .opaque = b};
        struct htif *htif = htif_new(&hcb, &b->bus);
        bool adjacent = !ei->fromhost || ei->fromhost == ei->tohost + 8;
        ok = htif && board_add_device(b, ei->tohost, adjacent ? 16 : 8, 0, &htif_ops, htif);
        if (ok && !adjacent)
            ok = board_add_device(b, ei->fromhost, 8, 0, &htif_fromhost_ops, htif);
    }
    return ok;
}

bool board_ram_size_ok(uint64_t size, char *err, size_t errlen)
{
    if (size < BOARD_MIN_RAM) {
        snprintf(err, errlen, "%llu bytes is too small (the minimum is 16M)",
                 (unsigned long long)size);
        return false;
    }
    uint64_t host = host_memory_bytes();
    if (size > host || size > BOARD_MAX_RAM) {
        snprintf(err, errlen, "%llu MiB is more than this host can give (%llu MiB)",
                 (unsigned long long)(size >> 20),
                 (unsigned long long)((host < BOARD_MAX_RAM ? host : BOARD_MAX_RAM) >> 20));
        return false;
    }
    return true;
}

struct board *board_new(const struct board_config *cfg, char *err, size_t errlen)
{
    char why[256];
    if (!board_ram_size_ok(cfg->ram_size, why, sizeof(why))) {
        snprintf(err, errlen, "--memory: %s", why);
        return NULL;
    }
    if (cfg->nharts < 1 || cfg->nharts > BOARD_MAX_HARTS) { /* vm_spec_validate checks it */
        snprintf(err, errlen, "board: %u harts (the spec was not validated)", cfg->nharts);
        return NULL;
    }
    struct board *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->cfg = *cfg;
    pthread_cond_init(&b->state_cond, NULL);
    b->images = calloc(1, sizeof(*b->images));
    if (!b->images || !bus_init(&b->bus, VIRT_DRAM_BASE, cfg->ram_size)) {
        snprintf(err, errlen, "--memory: cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(cfg->ram_size >> 20), strerror(errno));
        free(b->images);
        free(b);
        return NULL;
    }
    if (!load_images(b, err, errlen)) {
        board_free(b);
        return NULL;
    }
    vclock_init(&b->clock);
    b->loop = evloop_new(&b->bus.io_lock);
    if (!b->loop) {
        snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
        board_free(b);
        return NULL;
    }
    b->nharts = cfg->nharts;
    for (unsigned h = 0; h < b->nharts; h++) {
        b->harts[h] = vcpu_new(&vcpu_soft, h, &b->bus, &b->clock);
        if (!b->harts[h]) {
            snprintf(err, errlen, "out of memory creating hart %u", h);
            board_free(b);
            return NULL;
        }
        if (!vcpu_set_h(b->harts[h], cfg->cpu_h)) {
            snprintf(err, errlen, "--cpu h=on: this CPU engine has no hypervisor extension");
            board_free(b);
            return NULL;
        }
    }
    if (!add_builtin_devices(b)) {
        snprintf(err, errlen, "cannot create the board's devices");
        board_free(b);
        return NULL;
    }
    return b;
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
    return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static bool boot_images(struct board *b, char *err, size_t errlen);

bool board_boot(struct board *b, char *err, size_t errlen)
{
    bool ok = images_reload(b->images, err, errlen) && boot_images(b, err, errlen);
    images_drop(b->images);
    return ok;
}

void board_skip_boot(struct board *b)
{
    images_drop(b->images);
}

static bool boot_images(struct board *b, char *err, size_t errlen)
{
    struct board_images *im = b->images;
    const struct board_config *cfg = &b->cfg;
    uint64_t base = b->bus.ram_base, ram_end = base + b->bus.ram_size;

    /* A reboot starts from zeroed RAM, like a power cycle. */
    bus_ram_zero(&b->bus);
    bus_ram_written(&b->bus, base, b->bus.ram_size);

    uint64_t entry = base, used_end = base;
    if (im->bios.data) {
        if (!load_blob(&b->bus, base, im->bios.data, im->bios.size)) {
            snprintf(err, errlen, "%s: does not fit in guest RAM", cfg->bios);
            return false;
        }
        used_end = base + im->bios.size;
    }
    uint64_t kernel_addr = 0;
    if (im->kernel.data) {
        if (im->kernel_kind == IMAGE_LINUX || im->kernel_kind == IMAGE_FLAT) {
            /* A flat payload goes where an Image without text_offset would:
             * 2 MiB into RAM behind firmware, at the start of RAM without. */
            uint64_t text_offset = 0, image_size = im->kernel.size;
            if (im->kernel_kind == IMAGE_LINUX)
                linux_image_info(&im->kernel, &text_offset, &image_size);
            kernel_addr = base + (im->bios.data ? (text_offset ? text_offset : KERNEL_OFFSET) : 0);
            if (kernel_addr < used_end)
                kernel_addr = align_up(used_end, KERNEL_OFFSET);
            if (kernel_addr + image_size > ram_end ||
                !load_blob(&b->bus, kernel_addr, im->kernel.data, im->kernel.size)) {
                snprintf(err, errlen, "%s: kernel does not fit in %llu MiB of guest RAM (--memory)",
                         cfg->kernel, (unsigned long long)(b->bus.ram_size >> 20));
                return false;
            }
            used_end = kernel_addr + image_size;
        } else {
            struct elf_info info;
            if (!load_elf(&b->bus, &im->kernel, cfg->kernel, &info, err, errlen))
                return false;
            kernel_addr = info.entry;
            used_end = used_end > info.high ? used_end : info.high;
        }
        if (!im->bios.data)
            entry = kernel_addr;
    }
    if (im->elf.data) {
        if (!load_elf(&b->bus, &im->elf, cfg->elf, &im->elf_info, err, errlen))
            return false;
        entry = im->elf_info.entry;
        used_end = im->elf_info.high;
    }

    /* Device tree: built once with a placeholder initrd range to learn its size. */
    void *fdt = board_build_fdt(b, 0, 0);
    if (!fdt) {
        snprintf(err, errlen, "cannot build the device tree");
        return false;
    }
    uint64_t fdt_size = fdt_totalsize(fdt) + 256; /* room for the initrd properties */
    uint64_t fdt_addr = align_down(ram_end - fdt_size - sizeof(struct fw_dynamic_info), FDT_ALIGN);
    uint64_t initrd_start = 0, initrd_end = 0;
    if (im->initrd.data) {
        initrd_end = fdt_addr;
        initrd_start = align_down(fdt_addr - im->initrd.size, 4096);
        if (im->initrd.size > fdt_addr - base || initrd_start < used_end) {
            free(fdt);
            snprintf(err, errlen, "%s: initrd does not fit in %llu MiB of guest RAM (--memory)",
                     cfg->initrd, (unsigned long long)(b->bus.ram_size >> 20));
            return false;
        }
        initrd_end = initrd_start + im->initrd.size;
        load_blob(&b->bus, initrd_start, im->initrd.data, im->initrd.size);
        free(fdt);
        fdt = board_build_fdt(b, initrd_start, initrd_end);
        if (!fdt) {
            snprintf(err, errlen, "cannot build the device tree");
            return false;
        }
    }
    if (fdt_addr < used_end) {
        free(fdt);
        snprintf(err, errlen, "--memory: %llu MiB is too small for these images",
                 (unsigned long long)(b->bus.ram_size >> 20));
        return false;
    }
    load_blob(&b->bus, fdt_addr, fdt, fdt_totalsize(fdt));
    uint64_t info_addr = align_up(fdt_addr + fdt_totalsize(fdt), 8);
    struct fw_dynamic_info info = {
        .magic = FW_DYNAMIC_MAGIC,
        .version = FW_DYNAMIC_VERSION,
        .next_addr = kernel_addr,
        .next_mode = PRIV_S,
        .options = 0,
        .boot_hart = 0,
    };
    load_blob(&b->bus, info_addr, &info, sizeof(info));
    free(fdt);

    for (unsigned i = 0; i < b->ndevices; i++)
        if (b->devices[i].ops->reset)
            b->devices[i].ops->reset(b->devices[i].dev);
    for (unsigned h = 0; h < b->nharts; h++) {
        vcpu_reset(b->harts[h], entry, h, fdt_addr, info_addr); /* a2: fw_dynamic_info */
    }
    return true;
}

struct hart_thread_arg {
    struct vcpu *hart;
    unsigned index;
};

static void *hart_thread(void *arg)
{
    const struct hart_thread_arg *a = arg;
    /* Named by itself (prctl, which the sandbox allows and a jail without
     * /proc does not need): wirt vm top finds each vCPU's time by it. */
    char name[16];
    snprintf(name, sizeof(name), "hart%u", a->index);
    pthread_setname_np(pthread_self(), name);
    vcpu_run(a->hart);
    return NULL;
}

/* Hart h on the h-th CPU this process may use (round robin), so harts do
 * not migrate between host CPUs and lose their caches.  The CPUs are the
 * event loop thread's, which is never pinned: hart threads are made anew
 * after every pause or hold (the zero-page pass holds them every few
 * seconds), and asking the pinned hart 0 thread would put them all on
 * its CPU. */
static void pin_hart_thread(struct board *b, pthread_t t, unsigned h)
{
    cpu_set_t allowed, one;
    if (!evloop_thread_affinity(b->loop, &allowed))
        return;
    unsigned n = (unsigned)CPU_COUNT(&allowed), want = h % n, seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed) || seen++ != want)
            continue;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (pthread_setaffinity_np(t, sizeof(one), &one) != 0)
            log_warn("cannot pin hart %u to CPU %d", h, cpu);
        return;
    }
}

void board_attach_console(struct board *b, struct console *c)
{
    b->console = c;
    console_set_sink(c, uart_sink, b->uart);
    console_set_ready_cb(c, on_guest_ready, b);
}

int board_run(struct board *b)
{
    if (b->console)
        console_start(b->console);
    if (!evloop_start(b->loop))
        fatal("cannot start the event loop thread");
    b->started_ns = host_monotonic_ns();
    for (;;) {
        pthread_t threads[BOARD_MAX_HARTS];
        struct hart_thread_arg args[BOARD_MAX_HARTS];
        for (unsigned h = 1; h < b->nharts; h++) {
            args[h] = (struct hart_thread_arg){b->harts[h], h};
            pthread_create(&threads[h], NULL, hart_thread, &args[h]);
            if (b->cfg.pin_harts)
                pin_hart_thread(b, threads[h], h);
        }
        /* Hart 0 runs here; the event loop thread started before it was
         * pinned and keeps the process's CPUs. */
        if (b->cfg.pin_harts)
            pin_hart_thread(b, pthread_self(), 0);
        vcpu_run(b->harts[0]);
        /* Whatever stopped hart 0 stops them all: a join must never wait
         * for a hart nobody asked to stop. */
        pthread_mutex_lock(&b->bus.io_lock);
        stop_harts(b);
        pthread_mutex_unlock(&b->bus.io_lock);
        for (unsigned h = 1; h < b->nharts; h++)
            pthread_join(threads[h], NULL);

        /* Why did the harts stop?  Wait out a pause, then act. */
        pthread_mutex_lock(&b->bus.io_lock);
        /* Whoever waits for the harts to be out (migration) learns it here. */
        b->harts_parked = true;
        pthread_cond_broadcast(&b->state_cond);
        while ((b->paused || b->held) && !b->power_off && !b->reset_requested)
            pthread_cond_wait(&b->state_cond, &b->bus.io_lock);
        b->harts_parked = false;
        /* Stops made while the harts were out (a hold that came and went,
         * a pause) are stale: this lock's holder decides now that they
         * run.  Left set, some harts would stop at once and the others
         * run on with nobody to stop them (the join above waited forever:
         * a 4-hart guest hung under the zero-page pass's holds). */
        for (unsigned h = 0; h < b->nharts; h++)
            vcpu_clear_stop(b->harts[h]);
        bool off = b->power_off;
        bool reset = b->reset_requested && !off;
        b->reset_requested = false;
        if (b->paused && !off) {
            b->paused = false; /* a reset while paused resumes the machine */
            vclock_set(&b->clock, b->paused_mtime);
            clint_clock_changed(b->clint);
            emit(b, BOARD_EVENT_RESUMED);
        }
        bool ok = true;
        char err[256];
        if (reset)
            ok = board_boot(b, err, sizeof(err));
        pthread_mutex_unlock(&b->bus.io_lock);
        if (off)
            break;
        if (!ok) {
            log_error("reboot failed: %s", err);
            b->exit_code = 1;
            break;
        }
    }
    evloop_stop(b->loop);
    return b->exit_code;
}

void board_free(struct board *b)
{
    if (!b)
        return;
    if (b->loop)
        evloop_stop(b->loop);
    /* Device threads (virtio-blk workers, net backends) write RAM, whose
     * write hook reaches the harts, and raise PLIC lines that reach the
     * harts: join them, and flush the disks, before any of that is freed. */
    bus_stop_devices(&b->bus);
    for (unsigned h = 0; h < b->nharts; h++)
        vcpu_free(b->harts[h]); /* before the bus: harts hold its RAM */
    bus_destroy(&b->bus);       /* destroys the devices, front ends before the PLIC */
    console_free(b->console);
    evloop_free(b->loop);
    pthread_cond_destroy(&b->state_cond);
    if (b->images) {
        free_file(&b->images->bios);
        free_file(&b->images->kernel);
        free_file(&b->images->initrd);
        free_file(&b->images->elf);
        free(b->images);
    }
    free(b);
}
