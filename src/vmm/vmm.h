/* SPDX-License-Identifier: MIT */
/*
 * The VMM layer: builds a running machine from a validated VM spec.  It
 * sits above the board (machine/), the devices (virtio/) and the backends
 * (net/, block/), and below the front ends (cli/, vm/).
 */
#ifndef WIRT_VMM_VMM_H
#define WIRT_VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/vm_spec.h"

struct board;

/* Adds the spec's disks and NICs to the board and, for a Linux guest (no
 * elf), the entropy source and a virtio console sharing the board's
 * console with the UART.  false with one line in err naming the device. */
bool vmm_add_devices(struct board *b, const struct vm_spec *s, char *err, size_t errlen);

/* Runs the machine the spec describes until its guest powers off: the
 * VMM log, the board with its console (terminal, or detached socket and
 * log), the devices, the control socket and the pid file.  Returns the
 * guest's exit status, or -1 with one line in err when the machine cannot
 * be built (nothing is left behind). */
int vmm_run(struct vm_spec *spec, char *err, size_t errlen);

#endif
