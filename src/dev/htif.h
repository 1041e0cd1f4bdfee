/* SPDX-License-Identifier: MIT */
/*
 * The Berkeley host-target interface as bare-metal tests use it (the
 * riscv-tests `tohost` / `fromhost` convention), for running ELF programs
 * without firmware.  The device overlays guest RAM at the ELF's symbols:
 *
 *   htif_ops          at `tohost`: tohost at 0, fromhost at 8.  Place it
 *                     with size 16 when fromhost == tohost + 8, else with
 *                     size 8 so it hides no other variable;
 *   htif_fromhost_ops  8 bytes at `fromhost` when it is elsewhere
 *                     (riscv-tests align each to 64 bytes); same device,
 *                     reset/save/destroy go through htif_ops only.
 *
 * A write that completes tohost's top byte (one 64-bit store, or the high
 * half of the low-then-high 32-bit pair RV32 uses) runs the command
 * tohost = device << 56 | cmd << 48 | payload:
 *   device 0, cmd 0, payload odd:  exit with status payload >> 1
 *   device 0, cmd 0, payload even: a "magic_mem" syscall block at guest
 *        address payload (u64 words: number, args...).  SYS_write (64) to
 *        fd 1 or 2 goes to tx, SYS_exit (93) exits; others exit with
 *        HTIF_EXIT_UNSUPPORTED after an error message.
 *   device 1, cmd 1: putchar(payload & 0xff) through tx
 * Each handled command clears tohost and answers in fromhost
 * (device << 56 | cmd << 48 | 1) except exit, which only calls power.
 */
#ifndef WIRT_DEV_HTIF_H
#define WIRT_DEV_HTIF_H

#include <stdint.h>

#include "hw/device.h"
#include "dev/power.h"

#define HTIF_SYS_WRITE        64
#define HTIF_SYS_EXIT         93
#define HTIF_EXIT_UNSUPPORTED 126

struct bus;
struct htif;

struct htif_callbacks {
    void (*tx)(void *opaque, uint8_t byte); /* console output (optional) */
    power_cb power;                         /* exit requests */
    void *opaque;
};

/* bus is used for syscall blocks in guest RAM; it may be NULL (syscalls
 * are then unsupported). */
struct htif *htif_new(const struct htif_callbacks *cb, struct bus *bus);

extern const struct dev_ops htif_ops;
extern const struct dev_ops htif_fromhost_ops;

#endif
