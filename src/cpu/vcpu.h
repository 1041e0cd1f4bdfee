/* SPDX-License-Identifier: MIT */
/*
 * A virtual CPU as the board sees it: one small table of operations, so
 * that the engine behind it can change.  Today there is one engine,
 * vcpu_soft (cpu/hart.c: the interpreter and the x86-64 block compiler).
 * A hardware-assisted engine (/dev/kvm on a RISC-V host) would provide
 * its own table: create a vCPU file descriptor in create, loop on
 * KVM_RUN in run, raise lines with KVM_INTERRUPT/irqfd in set_irq,
 * kick with a signal in stop, and translate its register set to and from
 * the same snapshot format (HART_STATE_VERSION) in save/load.
 *
 * The contract every engine keeps:
 *  - create/destroy/reset/save/load run while the vCPU is not running;
 *  - run executes on the calling thread until stop is called, sleeping
 *    (never spinning) while the guest waits for an interrupt;
 *  - stop and set_irq may be called from any thread at any time, and
 *    set_irq has the irq_line.set signature so that devices' interrupt
 *    lines (hw/device.h) target a vCPU directly;
 *  - the device tree's ISA strings (hart.h: hart_isa_string...) describe
 *    what run implements.
 */
#ifndef WIRT_CPU_VCPU_H
#define WIRT_CPU_VCPU_H

#include <stdbool.h>
#include <stdint.h>

struct bus;
struct vclock;
struct state_writer;
struct state_reader;

/* Interrupt numbers (bit positions in mip/mie). */
enum {
    IRQ_S_SOFT = 1,
    IRQ_M_SOFT = 3,
    IRQ_S_TIMER = 5,
    IRQ_M_TIMER = 7,
    IRQ_S_EXT = 9,
    IRQ_M_EXT = 11,
};

struct vcpu_ops;
struct vcpu_debug_ops; /* cpu/vcpu_debug.h */

/* Counters a vCPU keeps for the operator (query-cpus, benchmarks); read
 * while the vCPU runs, so a value may lag by the block in progress. */
struct vcpu_stats {
    uint64_t instructions; /* executed, whatever the guest's mcountinhibit says */
    uint64_t exits;        /* returns from compiled/interpreted runs to the run loop */
    uint64_t interrupts;
    uint64_t exceptions;
};

/* Embedded in each engine's own vCPU object. */
struct vcpu {
    const struct vcpu_ops *ops;
};

struct vcpu_ops {
    const char *name;
    /* NULL when out of memory (or the engine cannot run here). */
    struct vcpu *(*create)(unsigned id, struct bus *bus, const struct vclock *clock);
    void (*destroy)(struct vcpu *v);
    /* Architectural reset into M-mode at pc with a0..a2 as firmware
     * expects them (hart id, device tree, fw_dynamic info). */
    void (*reset)(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2);
    /* The hypervisor (H) extension on or off (NULL: the engine has none). */
    void (*set_h)(struct vcpu *v, bool on);
    /* run returns soon after stop (from any thread).  A stop made while
     * v was not running stays until clear_stop: the board clears every
     * hart's before it runs them again, under its lock, having decided
     * afresh that they should run. */
    void (*run)(struct vcpu *v);
    void (*stop)(struct vcpu *v);
    void (*clear_stop)(struct vcpu *v);
    /* target is the struct vcpu; num is IRQ_M_EXT etc. */
    void (*set_irq)(void *target, unsigned num, bool level);
    /* Returns once every later write of v to guest RAM marks the bus's
     * dirty-page log (mem/bus.h), after the caller bumped bus.dirty_gen:
     * the soft engine drops its writable TLB entries, a KVM engine would
     * use KVM_GET_DIRTY_LOG's write protection.  Any thread, never
     * with the I/O lock held. */
    void (*dirty_log_sync)(struct vcpu *v);
    void (*save)(struct vcpu *v, struct state_writer *w);
    bool (*load)(struct vcpu *v, struct state_reader *r, uint32_t version);
    /* Any thread, any time. */
    void (*stats)(struct vcpu *v, struct vcpu_stats *out);
    /* The debugger's operations (cpu/vcpu_debug.h); NULL: none. */
    const struct vcpu_debug_ops *debug;
};

/* The software engine (interpreter + JIT), and the one boards use. */
extern const struct vcpu_ops vcpu_soft;

static inline struct vcpu *vcpu_new(const struct vcpu_ops *engine, unsigned id, struct bus *bus,
                                    const struct vclock *clock)
{
    return engine->create(id, bus, clock);
}
static inline void vcpu_free(struct vcpu *v)
{
    if (v)
        v->ops->destroy(v);
}
/* false when the engine cannot implement the H extension. */
static inline bool vcpu_set_h(struct vcpu *v, bool on)
{
    if (!v->ops->set_h)
        return !on;
    v->ops->set_h(v, on);
    return true;
}
static inline void vcpu_reset(struct vcpu *v, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2)
{
    v->ops->reset(v, pc, a0, a1, a2);
}
static inline void vcpu_run(struct vcpu *v)
{
    v->ops->run(v);
}
static inline void vcpu_stop(struct vcpu *v)
{
    v->ops->stop(v);
}
static inline void vcpu_clear_stop(struct vcpu *v)
{
    v->ops->clear_stop(v);
}
/* An interrupt line into v (for struct irq_line). */
static inline void (*vcpu_irq_setter(const struct vcpu *v))(void *, unsigned, bool)
{
    return v->ops->set_irq;
}
static inline void vcpu_dirty_log_sync(struct vcpu *v)
{
    v->ops->dirty_log_sync(v);
}
static inline void vcpu_save(struct vcpu *v, struct state_writer *w)
{
    v->ops->save(v, w);
}
static inline bool vcpu_load(struct vcpu *v, struct state_reader *r, uint32_t version)
{
    return v->ops->load(v, r, version);
}
static inline void vcpu_get_stats(struct vcpu *v, struct vcpu_stats *out)
{
    v->ops->stats(v, out);
}

#endif
