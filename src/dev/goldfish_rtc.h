/* SPDX-License-Identifier: MIT */
/*
 * The Goldfish real-time clock (DT "google,goldfish-rtc"), as on QEMU's
 * virt board: nanoseconds since the Unix epoch, an alarm and an interrupt.
 *
 * Guest time is the host's CLOCK_REALTIME plus an offset the guest sets by
 * writing TIME_HIGH then TIME_LOW (Linux's order).  Reading TIME_LOW
 * latches the high half for the following TIME_HIGH read.  The offset
 * survives a machine reset (the clock is battery-backed) and a snapshot.
 * All entry points run with the I/O lock held.
 */
#ifndef WIRT_DEV_GOLDFISH_RTC_H
#define WIRT_DEV_GOLDFISH_RTC_H

#include "hw/device.h"

struct evloop;
struct goldfish_rtc;

/* irq is PLIC source VIRT_RTC_IRQ.  loop may be NULL (alarms then only fire
 * when the guest touches the device). */
struct goldfish_rtc *goldfish_rtc_new(struct evloop *loop, const struct irq_line *irq);

extern const struct dev_ops goldfish_rtc_ops;

#endif
