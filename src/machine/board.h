/* SPDX-License-Identifier: MIT */
/*
 * The "virt" board: QEMU-virt-compatible memory map, device creation,
 * device tree and boot.  Device front ends (virtio-blk, virtio-net ...)
 * attach through board_add_device() / board_alloc_virtio_slot() and never
 * see the harts.
 */
#ifndef WIRT_MACHINE_BOARD_H
#define WIRT_MACHINE_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/device.h"
#include "host/vclock.h"
#include "mem/bus.h"

struct evloop;
struct vcpu;
struct plic;

/* The memory map (see docs/architecture.md). */
#define VIRT_TEST_BASE        0x00100000ULL
#define VIRT_TEST_SIZE        0x1000ULL
#define VIRT_RTC_BASE         0x00101000ULL
#define VIRT_RTC_SIZE         0x1000ULL
#define VIRT_RTC_IRQ          11
#define VIRT_CLINT_BASE       0x02000000ULL
#define VIRT_CLINT_SIZE       0x10000ULL
#define VIRT_PLIC_BASE        0x0c000000ULL
#define VIRT_PLIC_SIZE        0x600000ULL
#define VIRT_PLIC_NUM_SOURCES 96 /* sources 1..95 */
#define VIRT_UART0_BASE       0x10000000ULL
#define VIRT_UART0_SIZE       0x100ULL
#define VIRT_UART0_IRQ        10
#define VIRT_VIRTIO_BASE      0x10001000ULL
#define VIRT_VIRTIO_SIZE      0x1000ULL
#define VIRT_VIRTIO_COUNT     8
#define VIRT_VIRTIO_IRQ       1 /* slot n uses PLIC source 1 + n */
/* Eight more slots after QEMU's eight (the display's devices take them
 * first-come after the rest): slot 8 + n uses PLIC source 32 + n, past
 * the UART's and RTC's sources. */
#define VIRT_VIRTIO_SLOTS    16
#define VIRT_VIRTIO_IRQ_HIGH 32
#define VIRT_DRAM_BASE       0x80000000ULL

#define BOARD_MAX_HARTS   8
#define BOARD_MIN_RAM     (16ULL << 20)
#define BOARD_MAX_RAM     (1ULL << 40) /* the RAM window from VIRT_DRAM_BASE */
#define BOARD_MAX_DEVICES 32

struct board_device {
    const struct dev_ops *ops;
    void *dev;
    struct dev_placement where;
};

/* What `wirt run` asks for. */
struct board_config {
    uint64_t ram_size;
    unsigned nharts;
    const char *bios;   /* firmware file, NULL for none */
    const char *kernel; /* Linux Image, ELF or flat binary; with bios the next stage */
    const char *initrd;
    const char *append;
    const char *elf; /* bare-metal program with HTIF (--elf) */
    bool pin_harts;  /* each hart's thread on one host CPU of those allowed */
    bool cpu_h;      /* the harts implement the hypervisor extension (and the DT says so) */
};

struct board_images; /* the files loaded at boot, kept for reboot */
struct console;
struct uart16550;

/* Lifecycle changes the board reports to whoever watches it (the control
 * server's event stream). */
enum board_event {
    BOARD_EVENT_PAUSED,
    BOARD_EVENT_RESUMED,
    BOARD_EVENT_RESET,
    BOARD_EVENT_POWERED_OFF,
    BOARD_EVENT_GUEST_READY,
};
/* Called with the I/O lock held, from any thread; must not block. */
typedef void (*board_event_cb)(void *opaque, enum board_event ev);

struct board {
    struct bus bus;
    struct vclock clock;
    struct evloop *loop;
    struct plic *plic;
    struct vcpu *harts[BOARD_MAX_HARTS];
    unsigned nharts;
    struct board_device devices[BOARD_MAX_DEVICES];
    unsigned ndevices;
    unsigned next_virtio_slot;
    struct board_config cfg;
    struct board_images *images;
    struct console *console; /* the host side of the UART; NULL: none attached */
    struct uart16550 *uart;
    uint32_t phandle_plic;
    struct clint *clint;
    /* Set by a power request (syscon, HTIF, console escape, control socket). */
    int exit_code;
    bool reset_requested;
    bool power_off;
    bool paused;
    bool harts_parked;         /* paused, and every hart thread has returned */
    bool held;                 /* board_hold: parked for the VMM's housekeeping */
    bool incoming;             /* waits for a migrated guest (wirt run --incoming) */
    uint64_t paused_mtime;     /* the guest's clock stands still while paused */
    pthread_cond_t state_cond; /* signalled on resume and power-off */
    uint64_t started_ns;       /* host monotonic time of the boot */
    board_event_cb on_event;   /* NULL: nobody watches */
    void *event_opaque;
};

/* Guest RAM the board accepts: 16 MiB up to the smaller of its RAM
 * window (1 TiB from VIRT_DRAM_BASE) and the host's physical memory.
 * Returns false with "N MiB is ..." (no flag name) in err otherwise. */
bool board_ram_size_ok(uint64_t size, char *err, size_t errlen);

/* Builds the board (RAM, harts, built-in devices) and reads the image
 * files.  Returns NULL with one line in err on bad input.  Front ends add
 * their devices (virtio) afterwards, then call board_boot(). */
struct board *board_new(const struct board_config *cfg, char *err, size_t errlen);
/* Connects the host side of the guest's console (made by the VMM on the
 * board's event loop) to the UART, before board_boot().  The board owns c
 * from then on and frees it after its devices. */
void board_attach_console(struct board *b, struct console *c);
/* Writes images and the device tree into RAM and resets the harts. */
bool board_boot(struct board *b, char *err, size_t errlen);
/* Instead of board_boot() when a saved state replaces RAM and harts right
 * away: copying the images and zeroing RAM would be undone at once (and
 * was most of restore-to-running).  A later reset boots them as usual. */
void board_skip_boot(struct board *b);
/* Runs until the guest powers off; returns the exit status. */
int board_run(struct board *b);
void board_free(struct board *b);
/* Lifecycle requests.  Call them with the I/O lock held (from the event
 * loop or a device); they return at once and the harts follow soon. */
void board_power_off(struct board *b, int exit_code);
void board_request_reset(struct board *b);
void board_pause(struct board *b);
void board_resume(struct board *b);
/* Holds every hart still for the VMM's own housekeeping (rewriting RAM
 * behind the guest's back): like a pause, but the guest's clock runs on
 * and nobody is told, so a hold of a few milliseconds is invisible to the
 * guest.  Takes and returns with the I/O lock held; on true the harts
 * have returned and stay out until board_release (a pause or resume in
 * between keeps its own meaning).  False when the machine is paused,
 * powering off or resetting: nothing to hold. */
bool board_hold(struct board *b);
void board_release(struct board *b);

/* The dirty-page log of guest RAM (live migration, continuous
 * checkpoints): every write to RAM after start marks its 4 KiB page,
 * whoever makes it (harts' stores, compiled code, AMOs, page-table A/D
 * updates, device DMA, loaders).  take moves the marks into
 * bitmap[bus_dirty_log_words()] and re-arms the harts before returning,
 * so a page written after it returns is marked again: copy the pages it
 * returned only after it returned.  Call without the I/O lock (the
 * harts may be waiting for it); start returns false when out of memory. */
bool board_dirty_log_start(struct board *b);
uint64_t board_dirty_log_take(struct board *b, uint64_t *bitmap);
void board_dirty_log_stop(struct board *b);

/* Places a device on the bus; it gets the PLIC source `irq` (0 for
 * none) and will be asked for its device-tree node, reset and state.
 * Returns false if the range is taken or the board is full. */
bool board_add_device(struct board *b, uint64_t base, uint64_t size, unsigned irq,
                      const struct dev_ops *ops, void *dev);

/* The interrupt line of PLIC source `irq`. */
struct irq_line board_irq_line(struct board *b, unsigned irq);

/* Reserves the next free virtio-mmio slot: its base address and PLIC
 * source.  Returns false when all slots are used. */
bool board_alloc_virtio_slot(struct board *b, uint64_t *base, unsigned *irq);

#endif
