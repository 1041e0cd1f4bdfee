/* SPDX-License-Identifier: MIT */
/*
 * The hart's private state.  Only src/cpu/ and the CPU unit tests include
 * this header.
 *
 * Files: decode.c (instruction -> struct dinsn), exec.c + exec_loop.h +
 * exec_handlers.h (the interpreter), exec_ops.c + alu.h (instruction
 * semantics the interpreter and the JIT share), jit.c + jit_x86.h +
 * jit_regcache.c + jit_runtime.c (the block compiler, see jit.h and
 * jit_internal.h), csr.c, trap.c (traps, interrupts, privilege),
 * mmu.c (Sv39/Sv48 walks, TLBs, memory slow paths), dcache.c (decoded-page
 * cache), hart.c (lifetime, run loop, WFI, snapshots), fpu.c.
 *
 * Design notes (mostly for speed):
 *  - x[] has 33 slots: slot 32 is a write sink.  The decoder turns rd == 0
 *    into 32 for every instruction whose side effects must still happen
 *    (loads, jumps, CSR, AMO), and into OP_NOP for pure ALU ops, so x[0]
 *    is never written and always reads as 0.
 *  - Each access type (fetch, load, store) has one direct-mapped software
 *    TLB per "MMU index" (U, S, S with SUM, M).  Privilege, SUM and
 *    MPRV/MPP pick the index, so none of them flushes anything; MXR, satp
 *    writes and SFENCE.VMA flush the U/S sets (M entries map 1:1 and stay).
 *    An entry maps a 4 KiB virtual page of plain RAM to a host addend:
 *    host = va + addend.  Entries are tagged with the page-aligned va; the
 *    fast path compares the tag with TLB_FAST_TAG(va, size), so accesses
 *    crossing a page fall into the slow path automatically, and so do
 *    entries with flag bits in the tag (TLB_CODE, TLB_IO).
 *  - Decoded instructions are cached per physical RAM page (struct dpage),
 *    one slot per 2-byte offset plus two sentinel slots (OP_END) that send
 *    straight-line execution falling off the page back to the fetch path.
 *    Handlers exist twice (for 4- and 2-byte instructions) so stepping to
 *    the next slot is a constant add.
 *  - Stores into pages with decoded code never hit the store TLB fast path
 *    (their entries carry TLB_CODE), so the slow store path sees them and
 *    invalidates the decoded slots; RAM written by devices is reported
 *    through the bus's ram_write_hook and invalidated at the next check.
 *    Hence FENCE.I has nothing to do on a single hart.  With several harts
 *    another hart's stores are not seen, so FENCE.I bumps a generation and
 *    each decoded page is compared with a snapshot of its bytes the next
 *    time it is entered; slots decoded from bytes that differ from the
 *    snapshot mark the page dirty, so a changed-and-restored page cannot
 *    keep stale slots.
 */
#ifndef WIRT_CPU_HART_INTERNAL_H
#define WIRT_CPU_HART_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/pmu.h"
#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/hart.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096ULL
#define PAGE_MASK  (~(PAGE_SIZE - 1))

#define TLB_BITS    8
#define TLB_SIZE    (1u << TLB_BITS)
#define TLB_INVALID UINT64_MAX
#define TLB_VICTIMS 8 /* per load set: see struct hart */
/* Set in a store-TLB tag when the page holds decoded code: the fast path
 * never matches it (the compared va's bits 3..11 are always 0), the slow
 * path writes through the entry and invalidates the decoded slots. */
#define TLB_CODE 8ULL
/* Set in a load/store-TLB tag for a page that is not plain RAM (devices):
 * the fast path never matches; addend maps va to the physical address
 * and the slow path goes to the bus without walking the page table. */
#define TLB_IO    16ULL
#define TLB_FLAGS (TLB_CODE | TLB_IO)
/* What a fast-path access of size bytes at va compares with the tag of the
 * entry at va's index: the page of its last byte.  An entry sits at its
 * own page's index, so a match means first and last byte share that page
 * (misaligned accesses inside a page stay fast; a page-crossing one finds
 * the next page's tag, whose index differs, and goes slow), and flag bits
 * and TLB_INVALID never match. */
#define TLB_FAST_TAG(va, size) (((va) + (size)-1) & PAGE_MASK)

enum { ACC_FETCH, ACC_LOAD, ACC_STORE, ACC_N };
/* MMU_VU/VS/VSSUM: the same with V=1 (two-stage translation, H
 * extension); they come after MMU_M so that H-off code never touches
 * their TLB sets. */
enum { MMU_U, MMU_S, MMU_SSUM, MMU_M, MMU_VU, MMU_VS, MMU_VSSUM, MMU_N };
#define MMU_VIRT_SETS ((1u << MMU_VU) | (1u << MMU_VS) | (1u << MMU_VSSUM))
#define MMU_HS_SETS   ((1u << MMU_U) | (1u << MMU_S) | (1u << MMU_SSUM))

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* Exception cause codes. */
enum {
    EXC_INSN_MISALIGNED = 0,
    EXC_INSN_ACCESS = 1,
    EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INSN_PAGE = 12,
    EXC_LOAD_PAGE = 13,
    EXC_STORE_PAGE = 15,
    EXC_ECALL_VS = 10,        /* H: ecall from VS-mode */
    EXC_INSN_GUEST_PAGE = 20, /* H: G-stage faults */
    EXC_LOAD_GUEST_PAGE = 21,
    EXC_VIRTUAL_INSN = 22,
    EXC_STORE_GUEST_PAGE = 23,
};

/* mstatus bits. */
#define MSTATUS_SIE       (1ULL << 1)
#define MSTATUS_MIE       (1ULL << 3)
#define MSTATUS_SPIE      (1ULL << 5)
#define MSTATUS_UBE       (1ULL << 6)
#define MSTATUS_MPIE      (1ULL << 7)
#define MSTATUS_SPP       (1ULL << 8)
#define MSTATUS_VS        (3ULL << 9)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP       (3ULL << 11)
#define MSTATUS_FS_SHIFT  13
#define MSTATUS_FS        (3ULL << 13)
#define MSTATUS_XS        (3ULL << 15)
#define MSTATUS_MPRV      (1ULL << 17)
#define MSTATUS_SUM       (1ULL << 18)
#define MSTATUS_MXR       (1ULL << 19)
#define MSTATUS_TVM       (1ULL << 20)
#define MSTATUS_TW        (1ULL << 21)
#define MSTATUS_TSR       (1ULL << 22)
#define MSTATUS_UXL       (3ULL << 32)
#define MSTATUS_SXL       (3ULL << 34)
#define MSTATUS_GVA       (1ULL << 38) /* H */
#define MSTATUS_MPV       (1ULL << 39) /* H */
#define MSTATUS_SD        (1ULL << 63)

/* hstatus (H). */
#define HSTATUS_GVA  (1ULL << 6)
#define HSTATUS_SPV  (1ULL << 7)
#define HSTATUS_SPVP (1ULL << 8)
#define HSTATUS_HU   (1ULL << 9)
#define HSTATUS_VTVM (1ULL << 20)
#define HSTATUS_VTW  (1ULL << 21)
#define HSTATUS_VTSR (1ULL << 22)
#define HSTATUS_VSXL (3ULL << 32)

#define MIP_SSIP (1ULL << IRQ_S_SOFT)
#define MIP_MSIP (1ULL << IRQ_M_SOFT)
#define MIP_STIP (1ULL << IRQ_S_TIMER)
#define MIP_MTIP (1ULL << IRQ_M_TIMER)
#define MIP_SEIP (1ULL << IRQ_S_EXT)
#define MIP_MEIP (1ULL << IRQ_M_EXT)
/* VS-level interrupts (H): software-injected through hvip, VSTIP also
 * from vstimecmp; SGEIP stays 0 (no guest external interrupt files). */
#define MIP_VSSIP (1ULL << 2)
#define MIP_VSTIP (1ULL << 6)
#define MIP_VSEIP (1ULL << 10)
#define MIP_SGEIP (1ULL << 12)
#define VS_INTS   (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)

#define MENVCFG_FIOM  (1ULL << 0)
#define MENVCFG_CBIE  (3ULL << 4)  /* Zicbom: cbo.inval enable (00 off, 01 as flush, 11 inval) */
#define MENVCFG_CBCFE (1ULL << 6)  /* Zicbom: cbo.clean/flush enable */
#define MENVCFG_CBZE  (1ULL << 7)  /* Zicboz: cbo.zero enable */
#define MENVCFG_ADUE  (1ULL << 61) /* Svadu: hardware A/D updates (else Svade: page faults) */
#define MENVCFG_PBMTE (1ULL << 62) /* Svpbmt: PBMT bits allowed in S-mode page tables */
#define MENVCFG_STCE  (1ULL << 63)

#define MSECCFG_USEED    (1ULL << 8)
#define MSECCFG_SSEED    (1ULL << 9)
#define MSTATEEN_SE      (1ULL << 63)
#define MSTATEEN0_ENVCFG (1ULL << 62)

/* Smstateen: the writable bits of mstateenN (SE gates sstateenN; ENVCFG
 * gates senvcfg; nothing else they could gate exists here). */
static inline uint64_t mstateen_warl(unsigned n, uint64_t v)
{
    return v & (n == 0 ? MSTATEEN_SE | MSTATEEN0_ENVCFG : MSTATEEN_SE);
}

#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9

struct tlb_entry {
    uint64_t tag;     /* page-aligned va, or TLB_INVALID */
    uintptr_t addend; /* host address = va + addend */
};

/* Address-space contexts of the TLB (tlb_ctx.c): the fetch and load
 * entries of the last few satp values, kept when satp switches to another
 * address space and put back when it switches back, so that an ASID-using
 * guest's context switch does not start from an empty TLB.  Store entries
 * are not kept (the dirty log and code-page marks act on the live set). */
#define TLB_CTX_SLOTS 4
struct dpage;
struct tlb_ctx {
    uint64_t satp; /* 0: free (a Bare satp is never saved) */
    uint64_t used; /* replacement: larger is more recent */
    uint32_t sets; /* bit a * MMU_M + m: set [a][m] was saved */
    uint64_t super_regions, mega_map[64];
    struct tlb_entry e[2][MMU_M][TLB_SIZE]; /* [0] fetch, [1] load; U, S, SSUM */
    uint8_t level[2][MMU_M][TLB_SIZE];
    struct dpage *dpage[MMU_M][TLB_SIZE];
};

/* Slots per decoded page: one per 2-byte offset. */
#define DPAGE_SLOTS (PAGE_SIZE / 2)

struct dpage {
    uint64_t pa;                          /* physical page address */
    struct dpage *hnext;                  /* hash chain / free list */
    uint32_t gen;                         /* == hart.dgen: validated since the last FENCE.I */
    bool dirty;                           /* some slot was decoded from bytes != snap */
    bool jit;                             /* some slot is a compiled block's entry (OP_JIT) */
    bool detached;                        /* taken for data: see dcache_detach_pending() */
    uint8_t detaches;                     /* times it was detached (bounds thrashing) */
    uint32_t stores;                      /* stores into it since it was last fetched from */
    uint64_t jit_cover[DPAGE_SLOTS / 64]; /* slots that compiled blocks were made from */
    struct dinsn insn[DPAGE_SLOTS + 2];   /* + two OP_END sentinels */
    uint8_t snap[PAGE_SIZE];              /* the page's bytes when it was last validated */
};

#define DCACHE_BUCKETS   1024
#define DCACHE_MAX_PAGES 2048 /* 64 MiB of decoded code, then flush all */

#define DMA_PENDING_MAX 64

/* Slow-path event counters (debugging and tuning; WIRT_CPU_STATS=1 prints
 * them when the hart is freed). */
struct hart_stats {
    uint64_t insns;     /* executed, whatever mcountinhibit says */
    uint64_t runs;      /* exec() entries */
    uint64_t tlb_flush; /* full TLB flushes */
    uint64_t tlb_flush_va;
    uint64_t tlb_flush_scan; /* tlb_flush_va calls that searched for superpage entries */
    uint64_t fetch_miss;     /* fetch TLB misses */
    uint64_t load_slow, store_slow;
    uint64_t dpage_alloc, dcache_flush, code_store; /* stores hitting decoded pages */
    uint64_t interrupts, exceptions;
    uint64_t jit_blocks, jit_flush, jit_inval, jit_enter;
    uint64_t satp_switch, satp_restore, ctx_drop; /* tlb_ctx.c: switches, slots reused, drops */
    uint64_t load_victim_hits;                    /* load TLB misses served by the victim entries */
};

/* State shared by the harts of one bus (found through the bus's RAM-write
 * hook chain, so that no globals are needed). */
/* LR/SC reservations across harts.  A value compare (the host CAS of SC)
 * misses A -> B -> A changes; so each 64-byte granule of RAM hashes to a
 * sequence counter that every AMO, successful SC and slow-path store by a
 * hart bumps while several harts run.  LR records the counter, SC claims
 * it with a CAS (odd while its value CAS runs) and fails if it moved.
 * Stores through the store-TLB fast path and the JIT's inline stores do
 * not bump (that would cost every store): an A -> B -> A made of plain
 * stores only is still missed.  With one hart nothing is bumped. */
#define RES_SLOTS 4096
struct res_slot {
    _Alignas(64) _Atomic uint64_t seq; /* a line each: no false sharing */
};

struct cpu_shared {
    atomic_int nharts;
    struct res_slot res[RES_SLOTS];
};

static inline _Atomic uint64_t *res_seq(struct cpu_shared *s, const void *host)
{
    return &s->res[((uintptr_t)host >> 6) & (RES_SLOTS - 1)].seq;
}

/* A write to RAM at host by this hart (not an SC): breaks other harts'
 * reservations on that granule. */
static inline void res_break(struct cpu_shared *s, const void *host)
{
    if (atomic_load_explicit(&s->nharts, memory_order_relaxed) > 1)
        atomic_fetch_add_explicit(res_seq(s, host), 2, memory_order_release);
}

/* The hart's architectural state: what the ISA defines and hart_save()
 * writes (plus the LR/SC reservation), and nothing an execution engine
 * derives from it for speed.  Another engine (hardware-assisted) would
 * keep this in its own form and convert at save/load. */
struct hart_arch {
    uint64_t x[33]; /* x[32]: write sink for rd == x0 */
    uint64_t pc;
    unsigned priv;

    struct fpu_regs fp;

    /* CSRs (mip is split: see mip_sw and mip_ext). */
    uint64_t mstatus;
    uint64_t medeleg, mideleg;
    uint64_t mie;
    uint64_t mip_sw; /* SSIP, STIP (when Sstc is off), software SEIP */
    uint64_t mtvec, stvec, mepc, sepc, mcause, scause, mtval, stval;
    uint64_t mscratch, sscratch;
    uint64_t satp;
    uint64_t menvcfg, senvcfg;
    uint64_t stimecmp;
    uint32_t mcounteren, scounteren, mcountinhibit;
    uint64_t mcycle, minstret;
    uint8_t pmpcfg[64];
    uint64_t pmpaddr[64];
    uint64_t mseccfg;                                /* Zkr: SSEED, USEED */
    uint64_t hpmcounter[PMU_HPM], hpmevent[PMU_HPM]; /* mhpmcounter3.., mhpmevent3.. (pmu.c) */
    /* Smstateen: mstateen0-3 (sstateen0-3 are read-only zero). Zero from
     * reset, as the spec says: firmware that does not know Smstateen
     * (OpenSBI 1.1) leaves senvcfg closed to S-mode. */
    uint64_t mstateen[4];
    /* Sdtrig's tcontrol (debug.c): MTE and MPTE.  Here rather than with the
     * triggers because every trap into M-mode and every mret moves it. */
    uint8_t tcontrol;

    /* H extension (hext.c): all zero while it is off.  The VS CSRs are
     * kept apart (nothing is swapped on a V change); hvip's bits live in
     * mip_sw and hie's in mie, where the hardware aliases them. */
    bool virt; /* V: VS/VU when priv is S/U */
    uint64_t hstatus, hedeleg, hideleg, henvcfg, htimedelta, htval, htinst, hgatp;
    uint32_t hcounteren;
    uint64_t vsstatus, vstvec, vsscratch, vsepc, vscause, vstval, vsatp, vstimecmp;
    uint64_t mtval2, mtinst;
    uint64_t hstateen[4]; /* Smstateen with H: bits mstateenN allows (SE, ENVCFG) */

    /* LR/SC reservation (host address, the value LR saw and, with
     * several harts, the granule's sequence number; see cpu_shared). */
    bool res_valid;
    uint64_t res_addr, res_val, res_seq;

    _Atomic uint64_t mip_ext; /* external interrupt lines (any thread) */
    bool wfi;                 /* stopped in WFI, waiting for mip & mie */
};

/* A software-engine hart: the architectural state first (generated code
 * addresses both parts from one base register, by offsetof), then what
 * the interpreter and the block compiler keep to go fast: MMU indexes,
 * software TLBs, the decoded-instruction cache and the JIT's state. */
/* An active PMP entry, decoded (pmp.c): bytes [lo, hi] and its pmpcfg. */
struct pmp_rule {
    uint64_t lo, hi;
    uint8_t cfg;
};

struct hart {
    struct hart_arch arch;
    /* The active entries of arch.pmpcfg/pmpaddr in priority order, rebuilt
     * by pmp_changed() after every change to them. */
    struct pmp_rule pmp_rules[64];
    unsigned pmp_nrules;

    unsigned fetch_idx; /* MMU index for instruction fetch */
    bool h_on;          /* the H extension is implemented (misa.H) */
    /* H, while V=1: mstatus.FS holds the effective FS (off unless both
     * HS's and the guest's FS are on, so the FS checks of the hot paths
     * need no V test) and hs_fs what HS's mstatus.FS is (hext.c). */
    uint8_t hs_fs;
    bool csr_virtual; /* csr_* refused with a virtual-instruction exception */
    /* What the last MMU_GUEST_PAGE_FAULT (or any fault of a two-stage
     * translation) leaves for the trap: htval/mtval2 and htinst/mtinst. */
    uint64_t fault_gpa, fault_tinst;
    bool hlvx;       /* the translation is for HLVX: execute permission, not read */
    bool hlsv;       /* an HLV/HSV runs: its faults carry guest virtual addresses */
    unsigned ls_idx; /* MMU index for loads/stores (MPRV applied) */

    struct tlb_entry tlb[ACC_N][MMU_N][TLB_SIZE];
    struct dpage *tlb_dpage[MMU_N][TLB_SIZE]; /* decoded page of fetch entries */
    uint32_t tlb_dirty;         /* bit acc * MMU_N + idx: that TLB set holds entries */
    uint64_t tlb_super_regions; /* bit (va >> 30) & 63: entries from 1 GiB+ pages there */
    uint64_t tlb_mega_map[64];  /* bit (va >> 21) & 4095: entries from 2 MiB pages there */
    uint8_t tlb_level[ACC_N][MMU_N][TLB_SIZE]; /* valid entries: level of their leaf PTE */
    /* Load entries pushed out of their set by a fill for another page, so
     * that two pages at the same index (a buffer and a table a loop reads
     * both of) do not cost a page-table walk each time; the load slow path
     * looks here before it walks (mmu.c).  Every flush of a set empties its
     * victims, so they never hold what the set could not. */
    struct tlb_entry load_victim[MMU_N][TLB_VICTIMS];
    uint8_t load_victim_level[MMU_N][TLB_VICTIMS];
    uint8_t load_victim_valid[MMU_N]; /* bit i: load_victim[m][i] holds an entry */
    uint8_t load_victim_next[MMU_N];  /* the slot the next push replaces */

    /* Dirty-page log (mem/bus.h): the bus's dirty_gen this hart last
     * emptied its store TLB for (acknowledged in dirty_gen_ack), and
     * whether hart_step is running (a hart outside it catches up on
     * entry, so nobody needs to wait for it). */
    unsigned dirty_gen_seen;
    atomic_uint dirty_gen_ack;
    atomic_bool in_step;

    /* Cross-thread: "look at me" flag, stop. */
    atomic_int check;
    atomic_bool stop_req;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Hart 0 with idle sources (bus.idle) waits in WFI in epoll_wait on
     * idle_epfd: their sockets (which they put there) and wake_fd, which
     * kick() writes while idle_polling is set. */
    int wake_fd, idle_epfd;
    atomic_bool idle_polling;

    /* DMA writes to pages holding decoded code (from other threads). */
    uint64_t dma_pending[DMA_PENDING_MAX]; /* physical page addresses */
    unsigned ndma_pending;
    bool dma_overflow;
    void (*prev_hook)(void *opaque, uint64_t pa, uint64_t len);
    void *prev_hook_opaque;

    /* Decoded-instruction cache. */
    uint32_t dgen; /* bumped by FENCE.I when other harts may have written code */
    struct dpage *dbuckets[DCACHE_BUCKETS];
    struct dpage *dfree;
    unsigned dpages;
    void *darena; /* where dpages come from (dcache.c) */
    unsigned darena_used;
    /* Idle trimming (hart.c): the window's start and its time in WFI. */
    uint64_t idle_window_ns, idle_slept_ns;
    uint8_t *code_map;          /* per RAM page: 1 if a dpage exists for it */
    uint64_t detach_pending[8]; /* physical pages to detach at the next safe point */
    unsigned ndetach;
    struct dinsn tmp_insn[3]; /* for code outside plain RAM / across pages */
    struct dinsn *cur_dbase;  /* the interpreter's current decoded page (exec_loop.h) */

    /* Block compiler (jit*.c). */
    struct jit *jit;        /* NULL: interpret everything */
    unsigned jit_threshold; /* 0 when the JIT is off */
    bool jit_exc;           /* a slow path called from compiled code raised */
    uint64_t jit_inval;     /* bumped whenever compiled code is invalidated */
    uint8_t jit_hot[4096];  /* jumps to a slot (hashed), counted to jit_threshold */

    struct bus *bus;
    struct cpu_shared *shared;
    const struct vclock *clock;
    unsigned hartid;
    bool trace;       /* every instruction (WIRT_TRACE=1) */
    bool trace_traps; /* every trap and interrupt (WIRT_TRACE=1 or WIRT_TRACE=traps) */
    /* Debugger breakpoints/watchpoints and Sdtrig triggers (debug.c):
     * while any is armed the instrumented interpreter (exec_trace) runs
     * and asks hart_debug_check before each instruction. */
    struct hart_debug *dbg; /* NULL until first used */
    uint8_t debug;          /* HART_DEBUG_* */
    struct hart_stats stats;
    struct vcpu vcpu;    /* as boards see it (vcpu_soft) */
    uint32_t pmu_active; /* counters whose event and mcountinhibit let them count (pmu.c) */
    uint32_t pmu_skip;   /* counters written by the instruction that ends the batch */
    uint64_t tlb_ctx_clock;
    struct tlb_ctx tlb_ctx[TLB_CTX_SLOTS];
};

/* Executes up to max_insns instructions, taking pending interrupts at
 * instruction boundaries.  Traps count against the budget (so a trap loop
 * ends the run).  Returns early, never sleeping, when the hart waits in WFI
 * with nothing pending or hart_stop() was called.  Returns the number of
 * instructions executed plus traps taken. */
uint64_t hart_step(struct hart *h, uint64_t max_insns);

/* Empties the store TLB if the bus's dirty_gen moved (hart thread). */
void hart_dirty_log_follow(struct hart *h);
/* Returns once every later store of h to RAM marks the dirty log: h has
 * acknowledged the bus's current dirty_gen or is outside hart_step.
 * Any thread but h's own; the caller must not hold the I/O lock. */
void hart_dirty_log_sync(struct hart *h);

/* Turns the instruction and trap trace on or off (also WIRT_TRACE=1 at
 * hart_new; WIRT_TRACE=traps traces only traps and interrupts). */
void hart_set_trace(struct hart *h, bool on);

/* Privilege / CSR helpers used across the cpu files. */
uint64_t hart_read_mip(struct hart *h);
void hart_update_mmu_idx(struct hart *h);
/* Takes a trap with epc = h->arch.pc; sets h->arch.pc to the handler. */
void hart_raise(struct hart *h, uint64_t cause, uint64_t tval);
/* Takes the highest-priority pending, enabled interrupt; false if none. */
bool hart_take_interrupt(struct hart *h);
/* Returns the interrupt cause number to take, or -1. */
int hart_pending_interrupt(struct hart *h);

/* The A-extension instructions and the Zicsr instructions (exec_ops.c),
 * with h->arch.pc at the instruction: false after raising an exception.
 * cpu_csr() needs mcycle/minstret up to date. */
bool cpu_amo(struct hart *h, const struct dinsn *d);
bool cpu_csr(struct hart *h, const struct dinsn *d);
/* Zicbom/Zicboz (cbo.*, gated by menvcfg/senvcfg) and Zacas (amocas.*):
 * false when they trapped. */
bool cpu_cbo(struct hart *h, const struct dinsn *d);
bool cpu_amocas(struct hart *h, const struct dinsn *d);

/* CSR access: returns false for an illegal access (caller raises). */
bool csr_read(struct hart *h, unsigned csr, uint64_t *val);
bool csr_write(struct hart *h, unsigned csr, uint64_t val);
/* The value CSRRS/CSRRC modify: what csr_read returned, except that mip's
 * SEIP is only the software-writable bit (the PLIC's line is ORed into
 * reads but must never be latched by a read-modify-write). */
uint64_t csr_rmw_base(struct hart *h, unsigned csr, uint64_t old);
/* Checks privilege/read-only; write = the instruction writes. */
bool csr_access_ok(struct hart *h, unsigned csr, bool write);

/* MMU / memory (mmu.c). */
enum mmu_result { MMU_OK = 0, MMU_PAGE_FAULT, MMU_ACCESS_FAULT, MMU_GUEST_PAGE_FAULT };
/* Translates va for access type acc at MMU index idx.  On success *pa is
 * set and *super says whether a superpage mapped it. */
enum mmu_result mmu_translate(struct hart *h, uint64_t va, int acc, unsigned idx, uint64_t *pa,
                              bool *super);
/* Drops every translated entry (U and S sets); M-mode entries map
 * physical addresses 1:1 and survive. */
void tlb_flush_all(struct hart *h);
/* Drops everything, M-mode entries included (reset, snapshot load). */
void tlb_flush_everything(struct hart *h);
/* PMP (pmp.c): whether an access of len bytes at pa by privilege priv may
 * happen; acc is ACC_FETCH/LOAD/STORE. */
bool pmp_allows(const struct hart *h, uint64_t pa, uint64_t len, int acc, unsigned priv);
/* Rebuilds h->pmp_rules: after any write to arch.pmpcfg or arch.pmpaddr. */
void pmp_changed(struct hart *h);
void tlb_flush_va(struct hart *h, uint64_t va);
/* The TLB's address-space contexts (tlb_ctx.c).  A satp write: keeps the
 * old space's entries and brings back the new one's. */
void tlb_switch_satp(struct hart *h, uint64_t old_satp, uint64_t new_satp);
/* sfence.vma x0, rs2 with an ASID: that space's entries only. */
void tlb_flush_asid(struct hart *h, uint64_t asid);
/* Internal to mmu.c/tlb_ctx.c/dcache.c: empties the live U/S sets only;
 * drops every saved context; applies an sfence.vma va to them; forgets
 * fetch entries of a decoded page. */
void tlb_flush_live(struct hart *h);
void tlb_ctx_drop_all(struct hart *h);
void tlb_ctx_flush_va(struct hart *h, uint64_t va);
void tlb_ctx_forget_dpage(struct hart *h, const struct dpage *p);
/* The same, limited to the TLB sets in mask (bits 1 << MMU_x). */
void tlb_flush_sets(struct hart *h, unsigned mask);
void tlb_flush_va_sets(struct hart *h, uint64_t va, unsigned mask);

/* H extension (hext.c). */
/* Switches V, keeping mstatus.FS as the effective FS while V=1. */
void hart_set_virt(struct hart *h, bool v);
/* The trap of hart_raise when the H extension is on. */
void hart_raise_h(struct hart *h, uint64_t cause, uint64_t tval);
int hart_pending_interrupt_h(struct hart *h, uint64_t pend);
/* MRET/SRET/WFI/SFENCE.VMA with H on: 0 done, else the cause to raise
 * (EXC_ILLEGAL or EXC_VIRTUAL_INSN) with the instruction as tval. */
unsigned hart_mret_h(struct hart *h);
unsigned hart_sret_h(struct hart *h);
unsigned hart_priv_check_h(struct hart *h, int op);
/* HLV/HLVX/HSV and HFENCE (false after raising). */
bool cpu_hlsv(struct hart *h, const struct dinsn *d);
bool cpu_hfence(struct hart *h, const struct dinsn *d);
/* The H CSRs, and the S CSRs in V=1: 1 handled, 0 not an H matter, -1
 * refused (h->csr_virtual says which exception). */
int csr_read_h(struct hart *h, unsigned csr, uint64_t *val);
int csr_write_h(struct hart *h, unsigned csr, uint64_t val);
/* mtime + htimedelta compared with vstimecmp: mip.VSTIP (henvcfg.STCE). */
uint64_t hart_vstip(struct hart *h);
/* Slow paths: raise the exception themselves and return false on a fault. */
/* debug.c */
#define HART_DEBUG_ARMED 1 /* something to check before each instruction */
#define HART_DEBUG_STEP  2 /* a debugger step: interrupts held off */
/* Before the instruction d at pc: 0 run it, 1 stop the hart there (the
 * debugger's breakpoint; stop_req is set), 2 an exception was raised
 * (an Sdtrig trigger; h->arch.pc is the handler). */
int hart_debug_check(struct hart *h, uint64_t pc, const struct dinsn *d);
void hart_debug_free(struct hart *h);
void hart_debug_reset(struct hart *h); /* Sdtrig triggers off (hart reset) */
/* Sdtrig's CSRs, tselect..tcontrol (0x7a0-0x7a5): false when not one. */
bool hart_trigger_csr_read(struct hart *h, unsigned csr, uint64_t *val);
bool hart_trigger_csr_write(struct hart *h, unsigned csr, uint64_t val);
#define TCONTROL_MTE  (1u << 3) /* action-0 triggers fire in M-mode */
#define TCONTROL_MPTE (1u << 7) /* MTE before the last trap into M-mode */
/* A trap into M-mode: MPTE = MTE, MTE = 0 (the handler is not trapped again). */
static inline void tcontrol_trap_m(struct hart_arch *a)
{
    a->tcontrol = (a->tcontrol & TCONTROL_MTE) ? TCONTROL_MPTE : 0;
}
/* mret: MTE = MPTE. */
static inline void tcontrol_mret(struct hart_arch *a)
{
    a->tcontrol = (a->tcontrol & TCONTROL_MPTE) ? TCONTROL_MPTE | TCONTROL_MTE : 0;
}
/* The trigger state a snapshot carries (hart_save, version 5). */
#define HART_N_TRIGGERS 4
struct hart_trig_state {
    uint32_t n, tselect; /* n: triggers in the stream (at most HART_N_TRIGGERS) */
    uint8_t tcontrol;
    uint64_t tdata[HART_N_TRIGGERS][3]; /* tdata1, tdata2, tdata3 */
};
void hart_trig_state_save(struct hart *h, struct state_writer *w);
/* Reads one (state_reader_ok says whether it all came); checks it, with
 * one clear line when this hart cannot hold it; puts it in place. */
void hart_trig_state_get(struct state_reader *r, struct hart_trig_state *s);
bool hart_trig_state_valid(const struct hart *h, const struct hart_trig_state *s);
bool hart_trig_state_set(struct hart *h, const struct hart_trig_state *s);
/* After a run returned: tells the debugger when a breakpoint stopped it. */
void hart_debug_after_run(struct hart *h);
extern const struct vcpu_debug_ops hart_debug_ops;

bool mem_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
bool mem_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val);
/* HLVX: a load that needs execute permission at both stages (no TLB). */
bool mem_load_exec(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
/* AMO/LR/SC helper: host pointer for an aligned RAM access, or raise. */
void *mem_atomic_ptr(struct hart *h, uint64_t va, unsigned size, bool is_lr);
/* Instruction fetch: the decoded page for pc's page, or NULL when the
 * page is not plain RAM (then the caller fetches with fetch_slow).
 * Returns false after raising a fetch fault. */
bool mmu_fetch_page(struct hart *h, uint64_t pc, struct dpage **dp);
/* Reads the instruction at pc through translation and the bus (any
 * memory, page-crossing allowed); raises and returns false on a fault. */
bool fetch_slow(struct hart *h, uint64_t pc, uint32_t *insn);

/* Decoded cache (dcache.c). */
void dcache_flush_all(struct hart *h);
/* The decoded page for a physical page (created if needed, validated
 * against RAM after a FENCE.I). */
struct dpage *dcache_get(struct hart *h, uint64_t pa_page);
/* Re-checks a page after FENCE.I: drops its decoded slots if the code
 * changed (or some slot was decoded from bytes other than the snapshot). */
void dcache_validate(struct hart *h, struct dpage *p);
void dcache_invalidate_range(struct hart *h, uint64_t pa, uint64_t len);
void dcache_apply_dma(struct hart *h);
/* Pages that keep being written and not run are most likely code pages
 * the guest freed and reused for data: "detaching" them stops marking
 * their store-TLB entries, so stores go fast again; the next fetch from
 * one re-attaches it with fresh slots.  Called where no slot pointer is
 * held (hart_step). */
void dcache_detach_pending(struct hart *h);
/* Decodes the OP_DECODE slot at byte offset off of p in place. */
void dcache_decode_slot(struct hart *h, struct dpage *p, unsigned off);
/* Releases every dpage (hart_free, after dcache_flush_all). */
void dcache_free_arena(struct hart *h);
/* Gives the arena's memory back to the host but keeps the reservation
 * (right after dcache_flush_all: no dpage is in use). */
void dcache_release(struct hart *h);

#endif
