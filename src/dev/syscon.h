/* SPDX-License-Identifier: MIT */
/*
 * SiFive's test finisher, QEMU virt's power-off/reboot device (DT
 * "sifive,test1", "sifive,test0", "syscon", plus the "syscon-poweroff" and
 * "syscon-reboot" nodes Linux uses).  A 32-bit write at offset 0 of
 *   0x5555              powers off with exit status 0 (test passed),
 *   0x3333 | code << 16 powers off with exit status `code` (test failed),
 *   0x7777              resets the machine;
 * anything else is ignored.  Reads return 0.
 */
#ifndef WIRT_DEV_SYSCON_H
#define WIRT_DEV_SYSCON_H

#include "hw/device.h"
#include "dev/power.h"

#define SYSCON_FINISHER_PASS  0x5555
#define SYSCON_FINISHER_FAIL  0x3333
#define SYSCON_FINISHER_RESET 0x7777

struct syscon;

struct syscon *syscon_new(power_cb power, void *opaque);

extern const struct dev_ops syscon_ops;

#endif
