/* SPDX-License-Identifier: MIT */
/* Hart lifetime, the run loop with WFI sleep, interrupt lines, snapshots. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cpu/hart_internal.h"
#include "cpu/jit.h"
#include "host/vclock.h"
#include "mem/bus.h"
#include "state/state.h"
#include "util/log.h"

/* Zkr's seed CSR exists but is not advertised: Linux reads it in early boot
 * when the DT lists zkr, and OpenSBI 1.1 (Debian bookworm) leaves
 * mseccfg.SSEED clear, so the kernel would die before its console. */
#define ISA_MULTI_LETTER                                                                           \
    "_zicbom_zicbop_zicboz_zicntr_zicond_zicsr_zifencei_zihintntl_zihintpause_zihpm_zacas_"        \
    "zawrs_zfa_zfh_zfhmin_zcb_zba_zbb_zbc_zbkb_zbkc_zbkx_zbs_zknd_zkne_zknh_zksed_zksh_smstateen_" \
    "sscofpmf_sstc_svadu_svinval_svnapot_svpbmt"
const char hart_isa_string[] = "rv64imafdc" ISA_MULTI_LETTER;
/* The same with the hypervisor extension (hart_set_h): single letters
 * in canonical order put h last. */
const char hart_isa_string_h[] = "rv64imafdch" ISA_MULTI_LETTER;
const char *const hart_isa_extensions[] = {
    "i",      "m",       "a",         "f",      "d",        "c",         "zicbom",      "zicbop",
    "zicboz", "zicntr",  "zicond",    "zicsr",  "zifencei", "zihintntl", "zihintpause", "zihpm",
    "zawrs",  "zacas",   "zca",       "zcd",    "zcb",      "zba",       "zbb",         "zbc",
    "zbkb",   "zbkc",    "zbkx",      "zbs",    "sstc",     "zknd",      "zkne",        "zknh",
    "zksh",   "svinval", "svnapot",   "svpbmt", "zfa",      "zfh",       "zfhmin",      "sscofpmf",
    "svadu",  "zksed",   "smstateen", NULL};
const unsigned hart_mmu_type_bits = 48;

/* Instructions per hart_step() slice in hart_run(): bounds how late the
 * Sstc timer is noticed (stop requests and interrupt lines set hart.check,
 * which ends a slice at once): ~100 us interpreted, ~30 us compiled.
 * Every slice ends with its last instructions interpreted, so slices much
 * shorter than that cost compiled code a measurable share. */
#define RUN_SLICE 100000

/* Jumps to a block start before it is compiled: high enough that code
 * run once at boot stays interpreted, low enough that loops compile
 * at once. */
#define JIT_DEFAULT_THRESHOLD 16

/* RAM written behind the harts' backs (DMA): called from any thread. */
static void ram_write_hook(void *opaque, uint64_t pa, uint64_t len)
{
    struct hart *h = opaque;
    if (h->prev_hook)
        h->prev_hook(h->prev_hook_opaque, pa, len);
    struct bus *bus = h->bus;
    if (!len || pa < bus->ram_base || pa - bus->ram_base >= bus->ram_size)
        return;
    uint64_t first = (pa - bus->ram_base) >> PAGE_SHIFT;
    uint64_t end = pa - bus->ram_base + len;
    if (end > bus->ram_size)
        end = bus->ram_size;
    uint64_t last = (end - 1) >> PAGE_SHIFT;
    bool any = false;
    pthread_mutex_lock(&h->lock);
    for (uint64_t n = first; n <= last; n++) {
        if (!__atomic_load_n(&h->code_map[n], __ATOMIC_RELAXED))
            continue;
        any = true;
        if (h->ndma_pending < DMA_PENDING_MAX)
            h->dma_pending[h->ndma_pending++] = bus->ram_base + (n << PAGE_SHIFT);
        else
            h->dma_overflow = true;
    }
    pthread_mutex_unlock(&h->lock);
    if (any)
        atomic_store_explicit(&h->check, 1, memory_order_release);
}

struct hart *hart_new(unsigned hartid, struct bus *bus, const struct vclock *clock)
{
    struct hart *h;
    if (posix_memalign((void **)&h, 64, sizeof(*h)) != 0)
        return NULL;
    memset(h, 0, sizeof(*h));
    h->vcpu.ops = &vcpu_soft;
    h->hartid = hartid;
    h->bus = bus;
    h->clock = clock;
    h->code_map = calloc((bus->ram_size >> PAGE_SHIFT) + 1, 1);
    if (!h->code_map) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    h->wake_fd = -1;
    h->idle_epfd = -1;
    dinsn_set_pseudo(&h->tmp_insn[1], OP_END);
    dinsn_set_pseudo(&h->tmp_insn[2], OP_END);
    const char *t = getenv("WIRT_TRACE");
    if (t && !strcmp(t, "traps"))
        h->trace_traps = true;
    else if (t && *t && strcmp(t, "0") != 0)
        h->trace = h->trace_traps = true;
    const char *jit = getenv("WIRT_JIT");
    if (!jit || strcmp(jit, "0") != 0) {
        const char *th = getenv("WIRT_JIT_THRESHOLD");
        hart_set_jit(h, true, th ? (unsigned)strtoul(th, NULL, 0) : 0);
    }
    if (bus->ram_write_hook == ram_write_hook)
        h->shared = ((struct hart *)bus->ram_write_hook_opaque)->shared;
    else if ((h->shared = aligned_alloc(64, sizeof(*h->shared))) != NULL)
        memset(h->shared, 0, sizeof(*h->shared));
    if (!h->shared) {
        free(h->code_map);
        free(h);
        return NULL;
    }
    atomic_fetch_add(&h->shared->nharts, 1);
    /* Chain onto whatever hook is there (other harts, dirty tracking). */
    h->prev_hook = bus->ram_write_hook;
    h->prev_hook_opaque = bus->ram_write_hook_opaque;
    bus->ram_write_hook = ram_write_hook;
    bus->ram_write_hook_opaque = h;
    hart_reset(h, bus->ram_base, hartid, 0);
    return h;
}

void hart_free(struct hart *h)
{
    if (!h)
        return;
    if (h->wake_fd >= 0)
        close(h->wake_fd);
    if (h->idle_epfd >= 0)
        close(h->idle_epfd);
    const char *st = getenv("WIRT_CPU_STATS");
    if (st && *st && strcmp(st, "0") != 0) {
        const struct hart_stats *s = &h->stats;
        fprintf(stderr,
                "wirt: hart%u: instret %" PRIu64 " runs %" PRIu64 " tlb_flush %" PRIu64
                " tlb_flush_va %" PRIu64 " (scans %" PRIu64 ") fetch_miss %" PRIu64
                " load_slow %" PRIu64 " store_slow %" PRIu64 " dpage_alloc %" PRIu64
                " dcache_flush %" PRIu64 " code_store %" PRIu64 " interrupts %" PRIu64
                " exceptions %" PRIu64 " jit_blocks %" PRIu64 " jit_flush %" PRIu64
                " jit_inval %" PRIu64 " jit_enter %" PRIu64 " satp_switch %" PRIu64
                " satp_restore %" PRIu64 " ctx_drop %" PRIu64 " load_victim_hits %" PRIu64 "\n",
                h->hartid, s->insns, s->runs, s->tlb_flush, s->tlb_flush_va, s->tlb_flush_scan,
                s->fetch_miss, s->load_slow, s->store_slow, s->dpage_alloc, s->dcache_flush,
                s->code_store, s->interrupts, s->exceptions, s->jit_blocks, s->jit_flush,
                s->jit_inval, s->jit_enter, s->satp_switch, s->satp_restore, s->ctx_drop,
                s->load_victim_hits);
    }
    struct bus *bus = h->bus;
    /* Unlink from the hook chain, wherever we are in it (harts may be
     * freed in any order). */
    if (bus->ram_write_hook == ram_write_hook && bus->ram_write_hook_opaque == h) {
        bus->ram_write_hook = h->prev_hook;
        bus->ram_write_hook_opaque = h->prev_hook_opaque;
    } else if (bus->ram_write_hook == ram_write_hook) {
        struct hart *o = bus->ram_write_hook_opaque;
        while (o->prev_hook == ram_write_hook && o->prev_hook_opaque != h)
            o = o->prev_hook_opaque;
        if (o->prev_hook == ram_write_hook) {
            o->prev_hook = h->prev_hook;
            o->prev_hook_opaque = h->prev_hook_opaque;
        }
    }
    dcache_flush_all(h);
    dcache_free_arena(h);
    jit_free(h);
    hart_debug_free(h);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    if (atomic_fetch_sub(&h->shared->nharts, 1) == 1)
        free(h->shared);
    free(h->code_map);
    free(h);
}

void hart_set_jit(struct hart *h, bool on, unsigned threshold)
{
    if (!threshold)
        threshold = JIT_DEFAULT_THRESHOLD;
    if (threshold > UINT8_MAX)
        threshold = UINT8_MAX; /* the counters are bytes */
    if (on && jit_init(h)) {
        h->jit_threshold = threshold;
        memset(h->jit_hot, 0, sizeof(h->jit_hot));
        return;
    }
    h->jit_threshold = 0;
    dcache_flush_all(h); /* back to plain decoded slots */
}

void hart_set_trace(struct hart *h, bool on)
{
    h->trace = h->trace_traps = on;
}

/* The H state at reset: V=0, VS timer off; mideleg's VS bits read 1. */
static void reset_h(struct hart *h)
{
    h->arch.virt = false;
    h->hs_fs = 0;
    h->arch.hstatus = h->arch.hedeleg = h->arch.hideleg = h->arch.henvcfg = 0;
    h->arch.htimedelta = h->arch.htval = h->arch.htinst = h->arch.hgatp = 0;
    h->arch.hcounteren = 0;
    h->arch.vsstatus = h->arch.vstvec = h->arch.vsscratch = h->arch.vsepc = 0;
    h->arch.vscause = h->arch.vstval = h->arch.vsatp = 0;
    h->arch.vstimecmp = UINT64_MAX;
    h->arch.mtval2 = h->arch.mtinst = 0;
    memset(h->arch.hstateen, 0, sizeof(h->arch.hstateen));
    h->arch.mideleg &= MIP_SSIP | MIP_STIP | MIP_SEIP;
    if (h->h_on)
        h->arch.mideleg |= VS_INTS | MIP_SGEIP;
}

void hart_reset(struct hart *h, uint64_t pc, uint64_t a0, uint64_t a1)
{
    memset(h->arch.x, 0, sizeof(h->arch.x));
    memset(&h->arch.fp, 0, sizeof(h->arch.fp));
    h->arch.x[10] = a0;
    h->arch.x[11] = a1;
    h->arch.pc = pc;
    h->arch.priv = PRV_M;
    h->arch.mstatus = 0;
    h->arch.medeleg = h->arch.mideleg = h->arch.mie = h->arch.mip_sw = 0;
    h->arch.mtvec = h->arch.stvec = h->arch.mepc = h->arch.sepc = 0;
    h->arch.mcause = h->arch.scause = h->arch.mtval = h->arch.stval = 0;
    h->arch.mscratch = h->arch.sscratch = h->arch.satp = 0;
    /* Svadu without Svade in the DT: hardware A/D updating is on from
     * reset (as QEMU does), for firmware that does not know menvcfg.ADUE
     * (OpenSBI 1.1); software may still turn it off. */
    h->arch.menvcfg = MENVCFG_ADUE;
    h->arch.senvcfg = 0;
    h->arch.stimecmp = UINT64_MAX;
    h->arch.mcounteren = h->arch.scounteren = h->arch.mcountinhibit = 0;
    h->arch.mcycle = h->arch.minstret = 0;
    memset(h->arch.pmpcfg, 0, sizeof(h->arch.pmpcfg));
    memset(h->arch.pmpaddr, 0, sizeof(h->arch.pmpaddr));
    pmp_changed(h);
    h->arch.mseccfg = 0;
    memset(h->arch.mstateen, 0, sizeof(h->arch.mstateen));
    h->arch.tcontrol = 0;
    memset(h->arch.hpmcounter, 0, sizeof(h->arch.hpmcounter));
    memset(h->arch.hpmevent, 0, sizeof(h->arch.hpmevent));
    h->pmu_active = h->pmu_skip = 0;
    h->arch.res_valid = false;
    h->arch.wfi = false;
    hart_debug_reset(h);
    reset_h(h);
    hart_update_mmu_idx(h);
    tlb_flush_everything(h);
    dcache_flush_all(h);
}

void hart_set_h(struct hart *h, bool on)
{
    h->h_on = on;
    reset_h(h);
    hart_update_mmu_idx(h);
    tlb_flush_everything(h);
}

/* The host time at which a hart in WFI must look again: its S-mode timer
 * (Sstc) or a second from now; 0: it is due already. */
static uint64_t wfi_deadline(struct hart *h)
{
    uint64_t now = host_monotonic_ns();
    uint64_t deadline = now + 1000000000ULL; /* re-check at least every second */
    if ((h->arch.menvcfg & MENVCFG_STCE) && (h->arch.mie & MIP_STIP)) {
        uint64_t t = vclock_deadline_ns(h->clock, h->arch.stimecmp);
        if (t <= now)
            return 0;
        if (t < deadline)
            deadline = t;
    }
    if (h->h_on && (h->arch.henvcfg & MENVCFG_STCE) && (h->arch.mie & MIP_VSTIP)) {
        uint64_t t = vclock_deadline_ns(h->clock, h->arch.vstimecmp - h->arch.htimedelta);
        if (t <= now)
            return 0;
        if (t < deadline)
            deadline = t;
    }
    return deadline;
}

/* Hart 0's epoll set for WFI: wake_fd (key 0) and what the idle sources
 * put there (key: index + 1).  False: none (the sources' own threads
 * serve, and WFI waits on the condition variable). */
static bool idle_set_up(struct hart *h)
{
    struct bus *bus = h->bus;
    h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->idle_epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = 0;
    if (h->wake_fd < 0 || h->idle_epfd < 0 ||
        epoll_ctl(h->idle_epfd, EPOLL_CTL_ADD, h->wake_fd, &ev) < 0) {
        log_warn("hart: no epoll set for idle polling: %s", strerror(errno));
        if (h->wake_fd >= 0)
            close(h->wake_fd);
        if (h->idle_epfd >= 0)
            close(h->idle_epfd);
        h->wake_fd = h->idle_epfd = -1;
        return false;
    }
    for (unsigned i = 0; i < bus->nidle; i++)
        if (!bus->idle[i].watch(bus->idle[i].opaque, h->idle_epfd, i + 1))
            log_warn("hart: idle source %u is served by its own thread: %s", i, strerror(errno));
    return true;
}

/* WFI for a hart that polls the bus's idle sources itself (bus.h). */
static void wfi_poll(struct hart *h)
{
    struct bus *bus = h->bus;
    /* Seen by kick() before it looks at our wake conditions, or we see
     * what it set (both sides sequentially consistent): no lost wakeup. */
    atomic_store(&h->idle_polling, true);
    while (!atomic_load(&h->stop_req) && !atomic_load(&h->check) &&
           !(hart_read_mip(h) & h->arch.mie)) {
        uint64_t deadline = wfi_deadline(h);
        if (!deadline)
            break;
        uint64_t now = host_monotonic_ns();
        uint64_t wait = deadline > now ? deadline - now : 0;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ULL),
                              .tv_nsec = (long)(wait % 1000000000ULL)};
        /* epoll_wait, not poll on the set: only a waiter in epoll_wait
         * counts for the sources' EPOLLEXCLUSIVE (net.h rx_watch). */
        struct epoll_event ev[32];
        int n = epoll_pwait2(h->idle_epfd, ev, 32, &ts, NULL);
        bool ready[BUS_MAX_IDLE] = {false};
        for (int k = 0; k < n; k++) {
            uint64_t key = ev[k].data.u64;
            if (key == 0) {
                uint64_t v;
                ssize_t r = read(h->wake_fd, &v, sizeof(v));
                (void)r;
            } else if (key <= bus->nidle)
                ready[key - 1] = true;
        }
        /* Once per source: its step takes from all its sockets. */
        for (unsigned i = 0; i < bus->nidle; i++)
            if (ready[i])
                bus->idle[i].readable(bus->idle[i].opaque);
    }
    atomic_store(&h->idle_polling, false);
}

static void wfi_sleep(struct hart *h)
{
    if (h->wake_fd >= 0) {
        wfi_poll(h);
        return;
    }
    pthread_mutex_lock(&h->lock);
    while (!atomic_load(&h->stop_req) && !atomic_load(&h->check)) {
        if (hart_read_mip(h) & h->arch.mie)
            break;
        uint64_t deadline = wfi_deadline(h);
        if (!deadline)
            break;
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ULL),
                              .tv_nsec = (long)(deadline % 1000000000ULL)};
        pthread_cond_timedwait(&h->cond, &h->lock, &ts);
    }
    pthread_mutex_unlock(&h->lock);
}

/* Sleeps so that the slice that took `ran` ns is pct% of the time. */
static void throttle_sleep(struct hart *h, unsigned pct, uint64_t ran)
{
    if (pct > 99)
        pct = 99;
    uint64_t ns = ran * pct / (100 - pct);
    if (ns > 100000000)
        ns = 100000000;
    pthread_mutex_lock(&h->lock); /* a kick (stop, interrupt) ends it early */
    if (!atomic_load(&h->stop_req)) {
        uint64_t deadline = host_monotonic_ns() + ns;
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ULL),
                              .tv_nsec = (long)(deadline % 1000000000ULL)};
        pthread_cond_timedwait(&h->cond, &h->lock, &ts);
    }
    pthread_mutex_unlock(&h->lock);
}

/* An idle guest's code caches go back to the host.  Booting decodes and
 * compiles thousands of pages that an idle guest never runs again (tens of
 * MiB per VM): when a hart spent at least 90% of the last IDLE_WINDOW_NS
 * asleep in WFI and holds more than IDLE_TRIM_DPAGES decoded pages, both
 * caches are emptied and their memory released; what the guest still runs
 * is decoded again (a few pages for an idle loop).  Between slices: no
 * dpage is in use here. */
#define IDLE_WINDOW_NS   (10ull * 1000000000ull)
#define IDLE_TRIM_DPAGES 64

static void idle_account(struct hart *h, uint64_t slept_ns)
{
    uint64_t now = host_monotonic_ns();
    h->idle_slept_ns += slept_ns;
    if (!h->idle_window_ns)
        h->idle_window_ns = now;
    uint64_t span = now - h->idle_window_ns;
    if (span < IDLE_WINDOW_NS)
        return;
    if (h->idle_slept_ns * 10 >= span * 9 && h->darena_used > IDLE_TRIM_DPAGES) {
        dcache_flush_all(h);
        dcache_release(h);
        jit_release(h);
    }
    h->idle_window_ns = now;
    h->idle_slept_ns = 0;
}

void hart_run(struct hart *h)
{
    /* The first hart takes the idle sources (one poller is enough: it
     * takes an interrupt for the whole machine's devices to the PLIC). */
    if (h->hartid == 0 && h->bus->nidle && h->wake_fd < 0)
        idle_set_up(h);
    while (!atomic_load_explicit(&h->stop_req, memory_order_acquire)) {
        unsigned pct = atomic_load_explicit(&h->bus->throttle_pct, memory_order_relaxed);
        uint64_t t0 = pct ? host_monotonic_ns() : 0;
        hart_step(h, RUN_SLICE);
        if (h->arch.wfi) {
            uint64_t w0 = host_monotonic_ns();
            wfi_sleep(h);
            idle_account(h, host_monotonic_ns() - w0);
        } else if (pct)
            throttle_sleep(h, pct, host_monotonic_ns() - t0);
    }
    atomic_store(&h->stop_req, false);
}

static void kick(struct hart *h)
{
    atomic_store_explicit(&h->check, 1, memory_order_release);
    pthread_mutex_lock(&h->lock);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (atomic_load(&h->idle_polling)) {
        uint64_t one = 1;
        ssize_t n = write(h->wake_fd, &one, sizeof(one));
        (void)n;
    }
}

void hart_dirty_log_follow(struct hart *h)
{
    unsigned gen = atomic_load(&h->bus->dirty_gen);
    if (gen == h->dirty_gen_seen)
        return;
    /* Every store now misses the TLB once per page and marks it there. */
    memset(h->tlb[ACC_STORE], 0xff, sizeof(h->tlb[ACC_STORE]));
    for (unsigned m = 0; m < MMU_N; m++)
        h->tlb_dirty &= ~(1u << (ACC_STORE * MMU_N + m));
    h->dirty_gen_seen = gen;
    atomic_store(&h->dirty_gen_ack, gen);
}

void hart_dirty_log_sync(struct hart *h)
{
    unsigned gen = atomic_load(&h->bus->dirty_gen);
    kick(h);
    /* A hart answers at its next instruction boundary that looks at
     * `check` (microseconds); one in WFI is woken by the kick. */
    for (unsigned spins = 0; atomic_load(&h->in_step) && atomic_load(&h->dirty_gen_ack) != gen;
         spins++) {
        struct timespec ts = {0, spins < 100 ? 10000 : 1000000};
        nanosleep(&ts, NULL);
        if (spins % 100 == 99)
            kick(h);
    }
}

void hart_stop(struct hart *h)
{
    atomic_store_explicit(&h->stop_req, true, memory_order_release);
    kick(h);
}

void hart_set_irq(void *hart, unsigned num, bool level)
{
    struct hart *h = hart;
    uint64_t bit = 1ULL << num;
    uint64_t old;
    if (level)
        old = atomic_fetch_or_explicit(&h->arch.mip_ext, bit, memory_order_acq_rel);
    else
        old = atomic_fetch_and_explicit(&h->arch.mip_ext, ~bit, memory_order_acq_rel);
    if (!!(old & bit) != level)
        kick(h);
}

void hart_dump(const struct hart *h, FILE *f)
{
    static const char *const names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                          "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                          "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                          "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    fprintf(f, "hart%u pc %016" PRIx64 " priv %u%s\n", h->hartid, h->arch.pc, h->arch.priv,
            h->arch.wfi ? " (wfi)" : "");
    for (unsigned i = 0; i < 32; i++)
        fprintf(f, "%4s %016" PRIx64 "%s", names[i], h->arch.x[i], i % 4 == 3 ? "\n" : "  ");
    fprintf(f,
            "mstatus %016" PRIx64 " mie %03" PRIx64 " mip %03" PRIx64 " mideleg %03" PRIx64
            " medeleg %04" PRIx64 "\n"
            "mtvec %016" PRIx64 " mepc %016" PRIx64 " mcause %016" PRIx64 " mtval %016" PRIx64 "\n"
            "stvec %016" PRIx64 " sepc %016" PRIx64 " scause %016" PRIx64 " stval %016" PRIx64 "\n"
            "satp %016" PRIx64 " menvcfg %016" PRIx64 " stimecmp %016" PRIx64 " minstret %" PRIu64
            "\n",
            h->arch.mstatus, h->arch.mie,
            h->arch.mip_sw | atomic_load(&((struct hart *)h)->arch.mip_ext), h->arch.mideleg,
            h->arch.medeleg, h->arch.mtvec, h->arch.mepc, h->arch.mcause, h->arch.mtval,
            h->arch.stvec, h->arch.sepc, h->arch.scause, h->arch.stval, h->arch.satp,
            h->arch.menvcfg, h->arch.stimecmp, h->arch.minstret);
    if (h->h_on)
        fprintf(f,
                "V %d hstatus %016" PRIx64 " hedeleg %04" PRIx64 " hideleg %03" PRIx64
                " hgatp %016" PRIx64 " htval %016" PRIx64 "\n"
                "vsstatus %016" PRIx64 " vstvec %016" PRIx64 " vsepc %016" PRIx64
                " vscause %016" PRIx64 " vsatp %016" PRIx64 "\n",
                h->arch.virt, h->arch.hstatus, h->arch.hedeleg, h->arch.hideleg, h->arch.hgatp,
                h->arch.htval, h->arch.vsstatus, h->arch.vstvec, h->arch.vsepc, h->arch.vscause,
                h->arch.vsatp);
}

uint64_t hart_get_pc(const struct hart *h)
{
    return h->arch.pc;
}

uint64_t hart_get_x(const struct hart *h, unsigned reg)
{
    return reg < 32 ? h->arch.x[reg] : 0;
}

void hart_set_x(struct hart *h, unsigned reg, uint64_t value)
{
    if (reg > 0 && reg < 32)
        h->arch.x[reg] = value;
}

/* The order of fields in the stream; load reads them back the same way. */
/* clang-format off: one entry per line, as clang-format cannot keep X-lists stable */
#define HART_U64_FIELDS(X)                                                                         \
    X(pc)                                                                                          \
    X(mstatus)                                                                                     \
    X(medeleg)                                                                                     \
    X(mideleg)                                                                                     \
    X(mie)                                                                                         \
    X(mip_sw)                                                                                      \
    X(mtvec)                                                                                       \
    X(stvec)                                                                                       \
    X(mepc)                                                                                        \
    X(sepc)                                                                                        \
    X(mcause)                                                                                      \
    X(scause)                                                                                      \
    X(mtval)                                                                                       \
    X(stval)                                                                                       \
    X(mscratch)                                                                                    \
    X(sscratch)                                                                                    \
    X(satp)                                                                                        \
    X(menvcfg)                                                                                     \
    X(senvcfg)                                                                                     \
    X(stimecmp)                                                                                    \
    X(mcycle)                                                                                      \
    X(minstret)
/* clang-format on */

/* clang-format off */
#define HART_H_FIELDS(X)                                                                           \
    X(hstatus) X(hedeleg) X(hideleg) X(henvcfg) X(htimedelta) X(htval) X(htinst) X(hgatp)          \
    X(vsstatus) X(vstvec) X(vsscratch) X(vsepc) X(vscause) X(vstval) X(vsatp) X(vstimecmp)         \
    X(mtval2) X(mtinst)
/* clang-format on */

void hart_save(struct hart *h, struct state_writer *w)
{
    bool virt = h->arch.virt;
    hart_set_virt(h, false); /* FS in its architectural place (see hext.c) */
    for (unsigned i = 1; i < 32; i++)
        state_put_u64(w, h->arch.x[i]);
    for (unsigned i = 0; i < 32; i++)
        state_put_u64(w, h->arch.fp.f[i]);
    state_put_u32(w, h->arch.fp.fflags);
    state_put_u32(w, h->arch.fp.frm);
    state_put_u8(w, (uint8_t)h->arch.priv);
#define PUT(f) state_put_u64(w, h->arch.f);
    HART_U64_FIELDS(PUT)
#undef PUT
    state_put_u32(w, h->arch.mcounteren);
    state_put_u32(w, h->arch.scounteren);
    state_put_u32(w, h->arch.mcountinhibit);
    state_put_bytes(w, h->arch.pmpcfg, sizeof(h->arch.pmpcfg));
    for (unsigned i = 0; i < 64; i++)
        state_put_u64(w, h->arch.pmpaddr[i]);
    state_put_u64(w, atomic_load(&h->arch.mip_ext));
    state_put_u8(w, h->arch.wfi);
    state_put_u64(w, h->arch.mseccfg);
    for (unsigned i = 0; i < 4; i++)
        state_put_u64(w, h->arch.mstateen[i]);
    state_put_u32(w, PMU_HPM);
    for (unsigned i = 0; i < PMU_HPM; i++) {
        state_put_u64(w, h->arch.hpmcounter[i]);
        state_put_u64(w, h->arch.hpmevent[i]);
    }
    state_put_u8(w, h->h_on);
    if (h->h_on) {
        state_put_u8(w, virt);
        state_put_u32(w, h->arch.hcounteren);
#define PUT(f) state_put_u64(w, h->arch.f);
        HART_H_FIELDS(PUT)
#undef PUT
        for (unsigned i = 0; i < 4; i++)
            state_put_u64(w, h->arch.hstateen[i]);
    }
    hart_trig_state_save(h, w);
    hart_set_virt(h, virt);
}

bool hart_load(struct hart *h, struct state_reader *r, uint32_t version)
{
    if (version < 1 || version > HART_STATE_VERSION)
        return false;
    uint64_t x[32] = {0}, f[32];
    for (unsigned i = 1; i < 32; i++)
        x[i] = state_get_u64(r);
    for (unsigned i = 0; i < 32; i++)
        f[i] = state_get_u64(r);
    uint32_t fflags = state_get_u32(r), frm = state_get_u32(r);
    uint8_t priv = state_get_u8(r);
    struct {
#define DECL(f) uint64_t f;
        HART_U64_FIELDS(DECL)
#undef DECL
    } s;
#define GET(f) s.f = state_get_u64(r);
    HART_U64_FIELDS(GET)
#undef GET
    uint32_t mcounteren = state_get_u32(r), scounteren = state_get_u32(r);
    uint32_t mcountinhibit = state_get_u32(r);
    uint8_t pmpcfg[64];
    uint64_t pmpaddr[64];
    state_get_bytes(r, pmpcfg, sizeof(pmpcfg));
    for (unsigned i = 0; i < 64; i++)
        pmpaddr[i] = state_get_u64(r);
    uint64_t mip_ext = state_get_u64(r);
    uint8_t wfi = state_get_u8(r);
    uint64_t mseccfg = 0, mstateen[4] = {0};
    if (version >= 2) {
        mseccfg = state_get_u64(r);
        for (unsigned i = 0; i < 4; i++)
            mstateen[i] = state_get_u64(r);
    }
    uint64_t hpm[PMU_HPM][2] = {{0}};
    if (version >= 3) {
        uint32_t n = state_get_u32(r);
        if (n > 29)
            return false;
        for (unsigned i = 0; i < n; i++) {
            uint64_t c = state_get_u64(r), e = state_get_u64(r);
            if (i < PMU_HPM) { /* counters this build lacks read as zero */
                hpm[i][0] = c;
                hpm[i][1] = e;
            }
        }
    }
    uint8_t h_on = 0, virt = 0;
    uint32_t hcounteren = 0;
    struct {
#define DECL(f) uint64_t f;
        HART_H_FIELDS(DECL)
#undef DECL
    } hs = {0};
    uint64_t hstateen[4] = {0};
    if (version >= 4 && (h_on = state_get_u8(r)) != 0) {
        virt = state_get_u8(r);
        hcounteren = state_get_u32(r);
#define GET(f) hs.f = state_get_u64(r);
        HART_H_FIELDS(GET)
#undef GET
        for (unsigned i = 0; i < 4; i++)
            hstateen[i] = state_get_u64(r);
    }
    struct hart_trig_state trig = {0}; /* n = 0: every trigger disabled */
    if (version >= 5)
        hart_trig_state_get(r, &trig);
    if (!state_reader_ok(r) || (priv != PRV_U && priv != PRV_S && priv != PRV_M))
        return false;
    if (!hart_trig_state_valid(h, &trig))
        return false;
    if (!h_on != !h->h_on || (virt && priv == PRV_M)) {
        log_error("hart %u: the snapshot was taken with the H extension %s, this hart has it %s",
                  h->hartid, h_on ? "on" : "off", h->h_on ? "on" : "off");
        return false;
    }

    memcpy(h->arch.x, x, sizeof(x));
    h->arch.x[32] = 0;
    memcpy(h->arch.fp.f, f, sizeof(f));
    h->arch.fp.fflags = fflags & 0x1f;
    h->arch.fp.frm = frm & 7;
    h->arch.priv = priv;
#define SET(f) h->arch.f = s.f;
    HART_U64_FIELDS(SET)
#undef SET
    h->arch.mcounteren = mcounteren;
    h->arch.scounteren = scounteren;
    h->arch.mcountinhibit = mcountinhibit & PMU_INHIBIT_MASK;
    if (version < 3)
        h->arch.menvcfg |= MENVCFG_ADUE; /* those harts always updated A/D */
    memcpy(h->arch.pmpcfg, pmpcfg, sizeof(pmpcfg));
    memcpy(h->arch.pmpaddr, pmpaddr, sizeof(pmpaddr));
    pmp_changed(h);
    atomic_store(&h->arch.mip_ext, mip_ext);
    h->arch.wfi = wfi != 0;
    h->arch.mseccfg = mseccfg & (MSECCFG_SSEED | MSECCFG_USEED);
    for (unsigned i = 0; i < 4; i++)
        h->arch.mstateen[i] = mstateen_warl(i, mstateen[i]);
    for (unsigned i = 0; i < PMU_HPM; i++) {
        h->arch.hpmcounter[i] = hpm[i][0];
        h->arch.hpmevent[i] = 0;
        pmu_csr_write(h, 0x323 + i, hpm[i][1]); /* masks it as a guest write would */
    }
    h->pmu_skip = 0;
    h->arch.res_valid = false;
    h->arch.virt = false;
    h->arch.hcounteren = hcounteren;
#define SET(f) h->arch.f = hs.f;
    HART_H_FIELDS(SET)
#undef SET
    for (unsigned i = 0; i < 4; i++)
        h->arch.hstateen[i] = hstateen[i] & h->arch.mstateen[i];
    hart_set_virt(h, virt != 0);
    if (!hart_trig_state_set(h, &trig))
        return false; /* out of memory */
    hart_update_mmu_idx(h);
    tlb_flush_everything(h);
    dcache_flush_all(h);
    atomic_store(&h->check, 1);
    return true;
}

/* ---- the software engine behind struct vcpu (vcpu.h) ---- */

static struct hart *soft_hart(struct vcpu *v)
{
    return (struct hart *)(void *)((char *)v - offsetof(struct hart, vcpu));
}

static struct vcpu *soft_create(unsigned id, struct bus *bus, const struct vclock *clock)
{
    struct hart *h = hart_new(id, bus, clock);
    return h ? &h->vcpu : NULL;
}
static void soft_destroy(struct vcpu *v)
{
    hart_free(soft_hart(v));
}
static void soft_reset(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct hart *h = soft_hart(v);
    hart_reset(h, pc, a0, a1);
    hart_set_x(h, 12, a2);
}
static void soft_set_h(struct vcpu *v, bool on)
{
    hart_set_h(soft_hart(v), on);
}
static void soft_run(struct vcpu *v)
{
    struct hart *h = soft_hart(v);
    hart_run(h);
    hart_debug_after_run(h);
}
static void soft_stop(struct vcpu *v)
{
    hart_stop(soft_hart(v));
}
static void soft_clear_stop(struct vcpu *v)
{
    atomic_store(&soft_hart(v)->stop_req, false);
}
static void soft_set_irq(void *target, unsigned num, bool level)
{
    hart_set_irq(soft_hart(target), num, level);
}
static void soft_dirty_log_sync(struct vcpu *v)
{
    hart_dirty_log_sync(soft_hart(v));
}
static void soft_save(struct vcpu *v, struct state_writer *w)
{
    hart_save(soft_hart(v), w);
}
static bool soft_load(struct vcpu *v, struct state_reader *r, uint32_t version)
{
    return hart_load(soft_hart(v), r, version);
}

static void soft_stats(struct vcpu *v, struct vcpu_stats *out)
{
    /* Plain counters written by the hart's own thread; a racy read of an
     * aligned 64-bit word is a torn-free snapshot on every host we JIT for. */
    const struct hart_stats *s = &soft_hart(v)->stats;
    out->instructions = __atomic_load_n(&s->insns, __ATOMIC_RELAXED);
    out->exits = __atomic_load_n(&s->runs, __ATOMIC_RELAXED);
    out->interrupts = __atomic_load_n(&s->interrupts, __ATOMIC_RELAXED);
    out->exceptions = __atomic_load_n(&s->exceptions, __ATOMIC_RELAXED);
}

const struct vcpu_ops vcpu_soft = {
    .name = "soft",
    .create = soft_create,
    .destroy = soft_destroy,
    .reset = soft_reset,
    .set_h = soft_set_h,
    .run = soft_run,
    .stop = soft_stop,
    .clear_stop = soft_clear_stop,
    .set_irq = soft_set_irq,
    .dirty_log_sync = soft_dirty_log_sync,
    .save = soft_save,
    .load = soft_load,
    .stats = soft_stats,
    .debug = &hart_debug_ops,
};
