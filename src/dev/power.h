/* SPDX-License-Identifier: MIT */
/*
 * Power requests a device (syscon, htif) makes of the board.  The board
 * decides what "off" and "reset" mean (stop the harts, exit the process,
 * rebuild the machine ...); devices only report what the guest asked for.
 */
#ifndef WIRT_DEV_POWER_H
#define WIRT_DEV_POWER_H

enum power_request {
    POWER_OFF,   /* stop the machine; exit_code is the process status */
    POWER_RESET, /* reboot; exit_code is 0 */
};

/* Called with the I/O lock held, from a hart's MMIO access. */
typedef void (*power_cb)(void *opaque, enum power_request req, int exit_code);

#endif
