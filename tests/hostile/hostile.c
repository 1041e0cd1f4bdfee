/* SPDX-License-Identifier: MIT */
/*
 * A hostile guest: a program that attacks the devices of the virt board the
 * way a malicious kernel could, through the same registers and rings a
 * driver uses.  Built twice: bare-metal M-mode (run with `wirt run --elf`,
 * physical addresses direct, HTIF console, syscon poweroff), and with
 * -DHOSTILE_LINUX as a static Linux program for the default guest, which
 * maps the device ranges through /dev/mem and puts its rings in a huge page
 * whose physical address /proc/self/pagemap gives (its init script powers
 * off).  The attacks:
 *
 *   - every virtio-mmio device found in the 8 slots: an avail->idx flood
 *     (a queue's worth more per notify, nothing waited for), descriptor
 *     loops, buffers outside RAM, 4 GiB lengths, indirect loops, heads out
 *     of range, bad queue sizes and ring addresses, garbage in every
 *     register at every width, and a reset loop that breaks the queue
 *     each time;
 *   - PLIC, CLINT and UART: every register and random offsets written
 *     with random values.
 *
 * It reports one line per finding:
 *   hostile: dev SLOT ID ATTACK status=0xNN
 * then checks that a virtio-blk device still works after a reset (reads
 * the "HOSTILE0" sector 0 the test put on the disk), and powers off with
 * a queue of big disk requests in flight.  The host-side
 * checks (RSS, log size, exit status) are in test_hostile.py.
 *
 * Build-time knobs: FLOOD_MS (how long the flood runs, guest time),
 * RESET_LOOPS.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef HOSTILE_LINUX
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#endif

#ifndef FLOOD_MS
#define FLOOD_MS 3000
#endif
#ifndef RESET_LOOPS
#define RESET_LOOPS 20000
#endif

#define RAM_BASE      0x80000000ull
#define RAM_SIZE_MIN  (256ull << 20)
#define SYSCON        0x00100000ull
#define CLINT         0x02000000ull
#define CLINT_MTIME   (CLINT + 0xbff8)
#define PLIC          0x0c000000ull
#define PLIC_SIZE     0x600000ull
#define UART          0x10000000ull
#define VIRTIO_BASE   0x10001000ull
#define VIRTIO_SLOTS  8
#define VIRTIO_STRIDE 0x1000ull
#define TICKS_PER_MS  10000ull

/* Guest memory the attacks use, 1 MiB: bare metal, above the program;
 * under Linux, a huge page (physically contiguous) whose address comes
 * from /proc/self/pagemap. */
#ifdef HOSTILE_LINUX
static uint64_t attack_base;
#define ATTACK_BASE attack_base
#else
#define ATTACK_BASE 0x81000000ull
#endif
#define ATTACK_SIZE (2ull << 20)
#define RINGS(slot) (ATTACK_BASE + 0x4000ull * (slot))
#define DESC(slot)  (RINGS(slot))
#define AVAIL(slot) (RINGS(slot) + 0x1000)
#define USED(slot)  (RINGS(slot) + 0x2000)
#define RINGS_SIZE  0x3000
#define HDR         (ATTACK_BASE + 0x20000)
#define STATUS      (HDR + 0x100)
#define INDIRECT    (ATTACK_BASE + 0x21000)
#define DATA        (ATTACK_BASE + 0x30000)
#define INDIRECT_N  1024

/* virtio-mmio registers. */
#define R_MAGIC       0x000
#define R_DEVICE_ID   0x008
#define R_DEV_FEAT    0x010
#define R_DEV_FEATSEL 0x014
#define R_DRV_FEAT    0x020
#define R_DRV_FEATSEL 0x024
#define R_QUEUE_SEL   0x030
#define R_QUEUE_MAX   0x034
#define R_QUEUE_NUM   0x038
#define R_QUEUE_READY 0x044
#define R_NOTIFY      0x050
#define R_ISR         0x060
#define R_ACK         0x064
#define R_STATUS      0x070
#define R_DESC_LO     0x080
#define R_DESC_HI     0x084
#define R_AVAIL_LO    0x090
#define R_AVAIL_HI    0x094
#define R_USED_LO     0x0a0
#define R_USED_HI     0x0a4

#define S_ACK         1u
#define S_DRIVER      2u
#define S_DRIVER_OK   4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 64u

#define F_NEXT     1u
#define F_WRITE    2u
#define F_INDIRECT 4u

#define ID_NET     1
#define ID_BLOCK   2
#define ID_CONSOLE 3
#define ID_RNG     4

#ifdef HOSTILE_LINUX
/* Physical ranges mapped through /dev/mem (or the huge page). */
struct window {
    uint64_t pa, size;
    uint8_t *va;
};
static struct window windows[8];
static unsigned nwindows;
static uint64_t scratch[8];
static volatile uint64_t faults;

/* A range we could not map (one the kernel owns): accesses go nowhere. */
static volatile void *P(uint64_t pa)
{
    for (unsigned i = 0; i < nwindows; i++)
        if (pa - windows[i].pa < windows[i].size)
            return windows[i].va + (pa - windows[i].pa);
    return scratch;
}

static int map_phys(int fd, uint64_t pa, uint64_t size)
{
    void *va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pa);
    if (va == MAP_FAILED)
        return 0;
    windows[nwindows++] = (struct window){pa, size, va};
    return 1;
}

/* Faulting accesses (8-byte MMIO, registers the platform protects) are
 * skipped, as the bare-metal trap handler does. */
static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    unsigned long pc = uc->uc_mcontext.__gregs[REG_PC];
    uint16_t insn = *(const uint16_t *)pc;
    uc->uc_mcontext.__gregs[REG_PC] = pc + ((insn & 3) == 3 ? 4 : 2);
    faults++;
}
#else
extern volatile uint64_t tohost, fromhost;
extern volatile uint64_t trap_save[4];
#define P(pa) ((volatile void *)(uintptr_t)(pa))

/* Freestanding: the compiler may call these for loops and copies. */
void *memset(void *d, int c, size_t n)
{
    volatile uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
#endif

static inline void fence(void)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
}

static inline void w8(uint64_t a, uint8_t v)
{
    *(volatile uint8_t *)P(a) = v;
}
static inline void w16(uint64_t a, uint16_t v)
{
    *(volatile uint16_t *)P(a) = v;
}
static inline void w32(uint64_t a, uint32_t v)
{
    *(volatile uint32_t *)P(a) = v;
}
static inline void w64(uint64_t a, uint64_t v)
{
    *(volatile uint64_t *)P(a) = v;
}
static inline uint8_t r8(uint64_t a)
{
    return *(volatile uint8_t *)P(a);
}
static inline uint16_t r16(uint64_t a)
{
    return *(volatile uint16_t *)P(a);
}
static inline uint32_t r32(uint64_t a)
{
    return *(volatile uint32_t *)P(a);
}
static inline uint64_t r64(uint64_t a)
{
    return *(volatile uint64_t *)P(a);
}

/* ---- output (HTIF console, or stdout under Linux) ---- */

#ifdef HOSTILE_LINUX
static char line[256];
static size_t line_len;

static void out_char(char c)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof(line)) {
        ssize_t n = write(1, line, line_len);
        (void)n;
        line_len = 0;
    }
}
#else
static void out_char(char c)
{
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (fromhost == 0)
        ;
    fromhost = 0;
}
#endif

static void out_str(const char *s)
{
    while (*s)
        out_char(*s++);
}

static void put_hex(uint64_t v)
{
    out_str("0x");
    int started = 0;
    for (int i = 60; i >= 0; i -= 4) {
        unsigned d = (v >> i) & 15;
        if (d || started || i == 0) {
            out_char("0123456789abcdef"[d]);
            started = 1;
        }
    }
}

static void put_dec(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n--)
        out_char(buf[n]);
}

static uint64_t now_ms(void)
{
#ifdef HOSTILE_LINUX
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
#else
    return r64(CLINT_MTIME) / TICKS_PER_MS;
#endif
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- a minimal, deliberately careless virtio driver ---- */

struct vdev {
    unsigned slot;
    uint64_t base;
    uint32_t id;
    uint16_t qmax[4];
    unsigned nq;
    uint16_t num;   /* size of the queue under attack */
    unsigned q;     /* the queue the device consumes on notify */
    uint16_t avail; /* our avail->idx */
};

static uint32_t vr(const struct vdev *d, uint64_t off)
{
    return r32(d->base + off);
}
static void vw(const struct vdev *d, uint64_t off, uint32_t v)
{
    w32(d->base + off, v);
}

static void set_queue(struct vdev *d, unsigned q, uint16_t num, uint64_t desc, uint64_t avail,
                      uint64_t used)
{
    vw(d, R_QUEUE_SEL, q);
    vw(d, R_QUEUE_NUM, num);
    vw(d, R_DESC_LO, (uint32_t)desc);
    vw(d, R_DESC_HI, (uint32_t)(desc >> 32));
    vw(d, R_AVAIL_LO, (uint32_t)avail);
    vw(d, R_AVAIL_HI, (uint32_t)(avail >> 32));
    vw(d, R_USED_LO, (uint32_t)used);
    vw(d, R_USED_HI, (uint32_t)(used >> 32));
    vw(d, R_QUEUE_READY, 1);
}

/* Reset and full bring-up of queue d->q (VERSION_1 + INDIRECT_DESC). */
static void bring_up(struct vdev *d)
{
    vw(d, R_STATUS, 0);
    vw(d, R_STATUS, S_ACK);
    vw(d, R_STATUS, S_ACK | S_DRIVER);
    vw(d, R_DRV_FEATSEL, 0);
    vw(d, R_DRV_FEAT, 1u << 28);
    vw(d, R_DRV_FEATSEL, 1);
    vw(d, R_DRV_FEAT, 1);
    vw(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    w32(AVAIL(d->slot), 0); /* flags, idx */
    w32(USED(d->slot), 0);
    set_queue(d, d->q, d->num, DESC(d->slot), AVAIL(d->slot), USED(d->slot));
    vw(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    d->avail = 0;
}

static void desc(const struct vdev *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    (void)d;
    uint64_t p = table + 16ull * i;
    w64(p, addr);
    w32(p + 8, len);
    w16(p + 12, flags);
    w16(p + 14, next);
}

/* Makes `count` more entries naming `head` available and notifies. */
static void publish(struct vdev *d, uint16_t head, unsigned count)
{
    uint64_t avail = AVAIL(d->slot);
    for (unsigned i = 0; i < count; i++)
        w16(avail + 4 + 2u * ((uint16_t)(d->avail + i) % d->num), head);
    d->avail = (uint16_t)(d->avail + count);
    fence();
    w16(avail + 2, d->avail);
    fence();
    vw(d, R_NOTIFY, d->q);
}

static void report(const struct vdev *d, const char *attack)
{
    out_str("hostile: dev ");
    put_dec(d->slot);
    out_char(' ');
    put_dec(d->id);
    out_char(' ');
    out_str(attack);
    out_str(" status=");
    put_hex(vr(d, R_STATUS));
    out_char('\n');
}

/* A virtio-blk read of sector 0 into 1022 512-byte buffers, through an
 * indirect table of 1024 entries: the largest element a chain makes. */
static void big_request(const struct vdev *d)
{
    w32(HDR, 0);
    w32(HDR + 4, 0);
    w64(HDR + 8, 0);
    desc(d, INDIRECT, 0, HDR, 16, F_NEXT, 1);
    for (unsigned i = 1; i < INDIRECT_N - 1; i++)
        desc(d, INDIRECT, i, DATA + 512ull * (i - 1), 512, F_NEXT | F_WRITE, (uint16_t)(i + 1));
    desc(d, INDIRECT, INDIRECT_N - 1, STATUS, 1, F_WRITE, 0);
    desc(d, DESC(d->slot), 0, INDIRECT, 16 * INDIRECT_N, F_INDIRECT, 0);
}

/* The guest of issue 9: advance avail->idx by a queue's worth and notify,
 * again and again, never waiting for a completion. */
static void attack_flood(struct vdev *d)
{
    bring_up(d);
    big_request(d);
    uint64_t end = now_ms() + FLOOD_MS, rounds = 0;
    while (now_ms() < end) {
        publish(d, 0, d->num);
        rounds++;
    }
    report(d, "flood");
    out_str("hostile: flood rounds ");
    put_dec(rounds);
    out_char('\n');
}

static void attack_chain(struct vdev *d, const char *name, uint64_t addr, uint32_t len,
                         uint16_t flags, uint16_t next)
{
    bring_up(d);
    desc(d, DESC(d->slot), 0, addr, len, flags, next);
    publish(d, 0, 1);
    report(d, name);
}

static void attack_indirect_loop(struct vdev *d)
{
    bring_up(d);
    desc(d, INDIRECT, 0, HDR, 16, F_NEXT, 1);
    desc(d, INDIRECT, 1, HDR, 16, F_NEXT, 0);
    desc(d, DESC(d->slot), 0, INDIRECT, 32, F_INDIRECT, 0);
    publish(d, 0, 1);
    report(d, "indirect-loop");
}

static void attack_head_range(struct vdev *d)
{
    bring_up(d);
    publish(d, 0xffff, 1);
    report(d, "head-range");
}

static void attack_avail_jump(struct vdev *d)
{
    bring_up(d);
    desc(d, DESC(d->slot), 0, STATUS, 1, F_WRITE, 0);
    d->avail = (uint16_t)(d->num + 1);
    fence();
    w16(AVAIL(d->slot) + 2, d->avail);
    fence();
    vw(d, R_NOTIFY, d->q);
    report(d, "avail-jump");
}

static void attack_queue_config(struct vdev *d)
{
    bring_up(d);
    vw(d, R_STATUS, 0);
    vw(d, R_STATUS, S_ACK | S_DRIVER);
    vw(d, R_DRV_FEATSEL, 1);
    vw(d, R_DRV_FEAT, 1);
    vw(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    set_queue(d, d->q, 0x8000, DESC(d->slot), AVAIL(d->slot), USED(d->slot));
    report(d, "queue-size");
    vw(d, R_STATUS, 0);
    vw(d, R_STATUS, S_ACK | S_DRIVER);
    vw(d, R_DRV_FEATSEL, 1);
    vw(d, R_DRV_FEAT, 1);
    vw(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    set_queue(d, d->q, d->num, 0xfffffffffffff000ull, 0x10000000ull, 3);
    report(d, "ring-address");
}

/* Garbage in every register at every width (8-byte accesses fault, the
 * trap handler skips them), config space included. */
static void attack_registers(struct vdev *d)
{
    bring_up(d);
    for (unsigned pass = 0; pass < 4; pass++) {
        for (uint64_t off = 0; off < 0x200; off += 4) {
            if (off == R_STATUS)
                continue;
            uint64_t a = d->base + off;
            uint64_t v = rnd();
            w32(a, (uint32_t)v);
            w8(a + 1, (uint8_t)v);
            w16(a + 2, (uint16_t)v);
            w64(a, v);
            (void)r32(a);
            (void)r8(a + 3);
        }
        vw(d, R_QUEUE_SEL, (uint32_t)rnd());
        vw(d, R_NOTIFY, (uint32_t)rnd());
    }
    report(d, "registers");
}

/* Breaks the queue, resets, and again: every round used to log a line. */
static void attack_reset_loop(struct vdev *d)
{
    for (unsigned i = 0; i < RESET_LOOPS; i++) {
        bring_up(d);
        desc(d, DESC(d->slot), 0, HDR, 16, F_NEXT, 0);
        publish(d, 0, 1);
    }
    report(d, "reset-loop");
}

/* After all that, a reset must give a working device again. */
static int blk_works(struct vdev *d)
{
    bring_up(d);
    w32(HDR, 0);
    w32(HDR + 4, 0);
    w64(HDR + 8, 0);
    for (unsigned i = 0; i < 8; i++)
        w8(DATA + i, 0);
    w8(STATUS, 0xee);
    desc(d, DESC(d->slot), 0, HDR, 16, F_NEXT, 1);
    desc(d, DESC(d->slot), 1, DATA, 512, F_NEXT | F_WRITE, 2);
    desc(d, DESC(d->slot), 2, STATUS, 1, F_WRITE, 0);
    publish(d, 0, 1);
    uint64_t end = now_ms() + 5000;
    while (r16(USED(d->slot) + 2) != 1 && now_ms() < end)
        ;
    static const char magic[8] = "HOSTILE0";
    int ok = r16(USED(d->slot) + 2) == 1 && r8(STATUS) == 0;
    for (unsigned i = 0; i < 8; i++)
        ok = ok && r8(DATA + i) == (uint8_t)magic[i];
    report(d, ok ? "recovered" : "broken-after-reset");
    return ok;
}

static void attack_virtio(struct vdev *d)
{
    attack_flood(d);
    attack_chain(d, "desc-loop", HDR, 16, F_NEXT, 0);
    attack_chain(d, "outside-ram", 0xfffffffff000ull, 4096, F_WRITE, 0);
    attack_chain(d, "huge-length", RAM_BASE + (64ull << 20), 0xffffffffu, F_WRITE, 0);
    attack_chain(d, "next-range", HDR, 16, F_NEXT, 0xfff0);
    attack_chain(d, "indirect-huge", INDIRECT, 0xfffffff0u, F_INDIRECT, 0);
    attack_indirect_loop(d);
    attack_head_range(d);
    attack_avail_jump(d);
    attack_queue_config(d);
    attack_registers(d);
    attack_reset_loop(d);
}

/* ---- PLIC, CLINT, UART ---- */

#ifdef HOSTILE_LINUX
/* The kernel runs on this PLIC: keep what it set (priorities, enables and
 * thresholds of the first contexts) and never claim its interrupts. */
#define PLIC_KEEP_CTX 16
static uint32_t plic_prio[96], plic_enable[PLIC_KEEP_CTX][3], plic_threshold[PLIC_KEEP_CTX];

static void plic_save(int restore)
{
    for (unsigned i = 0; i < 96; i++) {
        if (restore)
            w32(PLIC + 4ull * i, plic_prio[i]);
        else
            plic_prio[i] = r32(PLIC + 4ull * i);
    }
    for (unsigned c = 0; c < PLIC_KEEP_CTX; c++) {
        for (unsigned i = 0; i < 3; i++) {
            uint64_t a = PLIC + 0x2000 + 0x80ull * c + 4 * i;
            if (restore)
                w32(a, plic_enable[c][i]);
            else
                plic_enable[c][i] = r32(a);
        }
        uint64_t t = PLIC + 0x200000 + 0x1000ull * c;
        if (restore)
            w32(t, plic_threshold[c]);
        else
            plic_threshold[c] = r32(t);
    }
}
#define CLAIMS_ALLOWED 0
#else
#define CLAIMS_ALLOWED 1
#endif

static int is_claim(uint64_t off)
{
    return off >= 0x200000 && (off & 0xfff) == 4;
}

static void attack_plic(void)
{
#ifdef HOSTILE_LINUX
    plic_save(0);
#endif
    for (uint64_t off = 0; off < 0x1000; off += 4) /* priorities */
        w32(PLIC + off, (uint32_t)rnd());
    for (uint64_t off = 0x1000; off < 0x1080; off += 4) /* pending: read-only */
        w32(PLIC + off, 0xffffffffu);
    for (unsigned ctx = 0; ctx < 64; ctx++) {
        for (uint64_t off = 0; off < 0x80; off += 4)
            w32(PLIC + 0x2000 + 0x80ull * ctx + off, (uint32_t)rnd());
        uint64_t c = PLIC + 0x200000 + 0x1000ull * ctx;
        w32(c, (uint32_t)rnd());
        if (CLAIMS_ALLOWED)
            (void)r32(c + 4);
        w32(c + 4, (uint32_t)rnd());
        w32(c + 4, (uint32_t)rnd() % 128);
    }
    for (unsigned i = 0; i < 50000; i++) {
        uint64_t off = (rnd() % PLIC_SIZE) & ~3ull;
        if (i & 1)
            w32(PLIC + off, (uint32_t)rnd());
        else if (CLAIMS_ALLOWED || !is_claim(off))
            (void)r32(PLIC + off);
    }
#ifdef HOSTILE_LINUX
    plic_save(1);
#else
    for (uint64_t off = 0; off < 0x1000; off += 4)
        w32(PLIC + off, 0);
#endif
    out_str("hostile: plic done\n");
}

/* Under Linux some ranges are out of reach (the kernel's UART, the CLINT
 * that firmware protects with PMP): say so instead of attacking nothing. */
static int reachable(uint64_t pa)
{
#ifdef HOSTILE_LINUX
    if (P(pa) == (volatile void *)scratch)
        return 0;
    uint64_t before = faults;
    (void)r32(pa);
    return faults == before;
#else
    (void)pa;
    return 1;
#endif
}

static void attack_clint(void)
{
    if (!reachable(CLINT)) {
        out_str("hostile: clint unreachable\n");
        return;
    }
    for (uint64_t off = 0; off < 0x4000; off += 4)
        w32(CLINT + off, (uint32_t)rnd() & 1);
    for (uint64_t off = 0; off < 0x4000; off += 4)
        w32(CLINT + off, 0);
    for (uint64_t off = 0x4000; off < 0xbff8; off += 8)
        w64(CLINT + off, rnd());
    for (unsigned i = 0; i < 20000; i++) {
        uint64_t off = (rnd() % 0x10000) & ~3ull;
        if (off >= 0xbff8)
            continue; /* mtime: the flood above uses it as its clock */
        w32(CLINT + off, (uint32_t)rnd());
        (void)r8(CLINT + off + 1);
    }
    for (uint64_t off = 0; off < 0x4000; off += 4)
        w32(CLINT + off, 0);
    w64(CLINT + 0x4000, ~0ull);
    out_str("\nhostile: clint done\n");
}

static void attack_uart(void)
{
    if (!reachable(UART)) {
        out_str("hostile: uart unreachable\n");
        return;
    }
    w8(UART + 4, 0x10); /* loopback: garbage does not reach the terminal */
    for (unsigned i = 0; i < 200000; i++) {
        unsigned off = (unsigned)(rnd() % 8);
        if (off == 4)
            continue;
        if (i & 1)
            w8(UART + off, (uint8_t)rnd());
        else
            (void)r8(UART + off);
    }
    w8(UART + 3, 0x03); /* DLAB off, 8N1 */
    w8(UART + 1, 0);
    w8(UART + 4, 0);
    out_str("hostile: uart done\n");
}

#ifdef HOSTILE_LINUX
/* Maps the device ranges through /dev/mem and a huge page for the rings
 * and buffers; returns 0 with a message on failure. */
static int linux_setup(void)
{
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd < 0) {
        perror("hostile: /dev/mem");
        return 0;
    }
    if (!map_phys(fd, VIRTIO_BASE, VIRTIO_SLOTS * VIRTIO_STRIDE)) {
        perror("hostile: mmap virtio");
        return 0;
    }
    map_phys(fd, PLIC, PLIC_SIZE);
    map_phys(fd, CLINT, 0x10000);
    map_phys(fd, UART, 0x1000);
    uint8_t *va = mmap(NULL, ATTACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
    if (va == MAP_FAILED) {
        perror("hostile: huge page");
        return 0;
    }
    va[0] = 1;
    int pm = open("/proc/self/pagemap", O_RDONLY);
    uint64_t ent = 0;
    if (pm < 0 || pread(pm, &ent, 8, (off_t)((uintptr_t)va / 4096 * 8)) != 8 || !(ent >> 63) ||
        !(ent & ((1ull << 55) - 1))) {
        out_str("hostile: no physical address for the huge page\n");
        return 0;
    }
    attack_base = (ent & ((1ull << 55) - 1)) << 12;
    windows[nwindows++] = (struct window){attack_base, ATTACK_SIZE, va};
    return 1;
}
#endif

int main(void)
{
#ifdef HOSTILE_LINUX
    if (!linux_setup())
        return 2;
#endif
    out_str("hostile: start\n");
    int found = 0, blk_ok = 1, have_blk = 0;
    struct vdev blk = {0};
    for (unsigned slot = 0; slot < VIRTIO_SLOTS; slot++) {
        struct vdev d = {.slot = slot, .base = VIRTIO_BASE + VIRTIO_STRIDE * slot};
        if (vr(&d, R_MAGIC) != 0x74726976u || (d.id = vr(&d, R_DEVICE_ID)) == 0)
            continue;
        found++;
        /* The queue the device consumes when notified: TX for net and
         * console, the only queue for blk and rng. */
        d.q = (d.id == ID_NET || d.id == ID_CONSOLE) ? 1 : 0;
        vw(&d, R_QUEUE_SEL, d.q);
        d.num = (uint16_t)vr(&d, R_QUEUE_MAX);
        if (d.num == 0)
            continue;
        for (uint64_t a = RINGS(slot); a < RINGS(slot) + RINGS_SIZE; a += 8)
            w64(a, 0);
        attack_virtio(&d);
        if (d.id == ID_BLOCK) {
            have_blk = 1;
            blk_ok &= blk_works(&d);
            blk = d;
        }
        vw(&d, R_STATUS, 0);
    }
    out_str("hostile: virtio devices ");
    put_dec((uint64_t)found);
    out_char('\n');
    attack_plic();
    attack_clint();
    attack_uart();
    out_str("hostile: traps ");
#ifdef HOSTILE_LINUX
    put_dec(faults);
#else
    put_dec(trap_save[2]);
#endif
    out_char('\n');
    if (have_blk && !blk_ok)
        return 3;
    out_str("hostile: done, powering off\n");
    /* Power off with a full queue of big requests in flight: the host must
     * stop the disk worker before it frees what the worker uses. */
    if (have_blk) {
        bring_up(&blk);
        big_request(&blk);
        publish(&blk, 0, blk.num);
        publish(&blk, 0, blk.num);
    }
#ifdef HOSTILE_LINUX
    return 0; /* the init script powers off */
#else
    w32(SYSCON, 0x5555);
    for (;;)
        ;
#endif
}
