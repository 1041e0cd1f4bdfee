/* SPDX-License-Identifier: MIT */
#ifndef WIRT_MACHINE_FDT_H
#define WIRT_MACHINE_FDT_H

#include "machine/board.h"

/* Builds the board's flattened device tree (malloc'ed, packed); NULL on failure. */
void *board_build_fdt(struct board *b, uint64_t initrd_start, uint64_t initrd_end);
/* Phandle of hart `hart`'s interrupt-controller node. */
uint32_t board_cpu_intc_phandle(unsigned hart);

#define BOARD_PHANDLE_PLIC 0x100

#endif
