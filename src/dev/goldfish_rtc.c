/* SPDX-License-Identifier: MIT */
/* Goldfish RTC, from the register description of Android's "Goldfish
 * virtual hardware" document. */
#include "dev/goldfish_rtc.h"

#include <libfdt.h>
#include <stdlib.h>
#include <time.h>

#include "hw/fdt_helpers.h"
#include "host/evloop.h"
#include "host/vclock.h"
#include "state/state.h"

enum {
    REG_TIME_LOW = 0x00,
    REG_TIME_HIGH = 0x04,
    REG_ALARM_LOW = 0x08,
    REG_ALARM_HIGH = 0x0c,
    REG_IRQ_ENABLED = 0x10,
    REG_CLEAR_ALARM = 0x14,
    REG_ALARM_STATUS = 0x18,
    REG_CLEAR_INTERRUPT = 0x1c,
};

#define MAX_TIMER_NS (3600ULL * 1000000000ULL)

struct goldfish_rtc {
    struct irq_line irq;
    bool irq_level;
    struct evtimer *timer;

    int64_t offset_ns;  /* guest time minus host CLOCK_REALTIME */
    uint32_t time_high; /* latched by the last TIME_LOW read */
    uint32_t set_high;  /* TIME_HIGH written, waiting for TIME_LOW */
    bool set_high_valid;
    uint32_t alarm_high; /* ALARM_HIGH written, used by the ALARM_LOW write */
    uint64_t alarm_next; /* guest time of the armed alarm */
    bool alarm_running;
    bool irq_pending, irq_enabled;
};

static uint64_t host_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t guest_now(const struct goldfish_rtc *r)
{
    return host_realtime_ns() + (uint64_t)r->offset_ns;
}

static void update_irq(struct goldfish_rtc *r, bool force)
{
    bool level = r->irq_pending && r->irq_enabled;
    if (level != r->irq_level || force) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Fires the alarm if its time has come, else (re)arms the host timer. */
static void check_alarm(struct goldfish_rtc *r)
{
    if (!r->alarm_running) {
        if (r->timer)
            evtimer_disarm(r->timer);
        return;
    }
    uint64_t now = guest_now(r);
    if (now >= r->alarm_next) {
        r->alarm_running = false;
        r->irq_pending = true;
        update_irq(r, false);
        if (r->timer)
            evtimer_disarm(r->timer);
        return;
    }
    if (r->timer) {
        uint64_t delta = r->alarm_next - now;
        /* Far alarms are re-armed on the way, keeping deadlines small. */
        if (delta > MAX_TIMER_NS)
            delta = MAX_TIMER_NS;
        evtimer_arm(r->timer, host_monotonic_ns() + delta);
    }
}

static void alarm_timer(void *opaque)
{
    check_alarm(opaque);
}

struct goldfish_rtc *goldfish_rtc_new(struct evloop *loop, const struct irq_line *irq)
{
    struct goldfish_rtc *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (irq)
        r->irq = *irq;
    if (loop) {
        r->timer = evtimer_new(loop, alarm_timer, r);
        if (!r->timer) {
            free(r);
            return NULL;
        }
    }
    return r;
}

static uint64_t rtc_read(void *dev, uint64_t offset, unsigned size)
{
    struct goldfish_rtc *r = dev;
    (void)size;
    /* A late host timer must not hide an alarm the guest polls for. */
    check_alarm(r);
    switch (offset) {
    case REG_TIME_LOW: {
        uint64_t now = guest_now(r);
        r->time_high = (uint32_t)(now >> 32);
        return (uint32_t)now;
    }
    case REG_TIME_HIGH:
        return r->time_high;
    case REG_ALARM_LOW:
        return (uint32_t)r->alarm_next;
    case REG_ALARM_HIGH:
        return (uint32_t)(r->alarm_next >> 32);
    case REG_IRQ_ENABLED:
        return r->irq_enabled;
    case REG_ALARM_STATUS:
        return r->alarm_running;
    default:
        return 0;
    }
}

static void rtc_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct goldfish_rtc *r = dev;
    uint32_t v = (uint32_t)value;
    (void)size;
    switch (offset) {
    case REG_TIME_HIGH:
        r->set_high = v;
        r->set_high_valid = true;
        break;
    case REG_TIME_LOW: {
        uint64_t host = host_realtime_ns();
        uint32_t high = r->set_high_valid ? r->set_high : (uint32_t)(guest_now(r) >> 32);
        uint64_t t = (uint64_t)high << 32 | v;
        r->offset_ns = (int64_t)(t - host);
        r->set_high_valid = false;
        check_alarm(r);
        break;
    }
    case REG_ALARM_HIGH:
        r->alarm_high = v;
        break;
    case REG_ALARM_LOW:
        r->alarm_next = (uint64_t)r->alarm_high << 32 | v;
        r->alarm_running = true;
        check_alarm(r);
        break;
    case REG_IRQ_ENABLED:
        r->irq_enabled = v & 1;
        update_irq(r, false);
        break;
    case REG_CLEAR_ALARM:
        r->alarm_running = false;
        check_alarm(r);
        break;
    case REG_CLEAR_INTERRUPT:
        r->irq_pending = false;
        update_irq(r, false);
        break;
    default:
        break;
    }
}

static void rtc_reset(void *dev)
{
    struct goldfish_rtc *r = dev;
    /* The time itself (offset_ns) is battery-backed and survives. */
    r->time_high = 0;
    r->set_high = 0;
    r->set_high_valid = false;
    r->alarm_high = 0;
    r->alarm_next = 0;
    r->alarm_running = false;
    r->irq_pending = false;
    r->irq_enabled = false;
    check_alarm(r);
    update_irq(r, true);
}

static void rtc_save(void *dev, struct state_writer *w)
{
    struct goldfish_rtc *r = dev;
    state_put_u64(w, (uint64_t)r->offset_ns);
    state_put_u32(w, r->time_high);
    state_put_u32(w, r->set_high);
    state_put_u32(w, r->alarm_high);
    state_put_u64(w, r->alarm_next);
    state_put_u8(w, (uint8_t)(r->set_high_valid | r->alarm_running << 1 | r->irq_pending << 2 |
                              r->irq_enabled << 3));
}

static bool rtc_load(void *dev, struct state_reader *rd, uint32_t version)
{
    struct goldfish_rtc *r = dev;
    if (version != 1)
        return false;
    int64_t offset = (int64_t)state_get_u64(rd);
    uint32_t time_high = state_get_u32(rd);
    uint32_t set_high = state_get_u32(rd);
    uint32_t alarm_high = state_get_u32(rd);
    uint64_t alarm_next = state_get_u64(rd);
    uint8_t flags = state_get_u8(rd);
    if (!state_reader_ok(rd) || flags > 0x0f)
        return false;
    r->offset_ns = offset;
    r->time_high = time_high;
    r->set_high = set_high;
    r->alarm_high = alarm_high;
    r->alarm_next = alarm_next;
    r->set_high_valid = flags & 1;
    r->alarm_running = flags & 2;
    r->irq_pending = flags & 4;
    r->irq_enabled = flags & 8;
    check_alarm(r);
    update_irq(r, true);
    return true;
}

static void rtc_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    (void)dev;
    int node = dev_fdt_add_soc_node(fdt, "rtc", where->base, where->size);
    if (node < 0)
        return;
    int err = fdt_setprop_string(fdt, node, "compatible", "google,goldfish-rtc");
    if (err >= 0 && where->irq) {
        err = fdt_setprop_u32(fdt, node, "interrupt-parent", where->phandle_plic);
        if (err >= 0)
            err = fdt_setprop_u32(fdt, node, "interrupts", where->irq);
    }
    dev_fdt_failed("goldfish_rtc", err);
}

static void rtc_destroy(void *dev)
{
    struct goldfish_rtc *r = dev;
    if (r->timer)
        evtimer_free(r->timer);
    free(r);
}

const struct dev_ops goldfish_rtc_ops = {
    .name = "goldfish_rtc",
    .access_min = 4,
    .access_max = 4,
    .read = rtc_read,
    .write = rtc_write,
    .reset = rtc_reset,
    .save = rtc_save,
    .load = rtc_load,
    .state_version = 1,
    .fdt = rtc_fdt,
    .destroy = rtc_destroy,
};
