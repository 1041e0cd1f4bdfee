/* SPDX-License-Identifier: MIT */
/*
 * A spec's display (vmm/vmm_display.c): the virtio-gpu, keyboard and
 * tablet on the board, the screen they share (host/display.h) and the
 * VNC server that shows it.
 */
#ifndef WIRT_VMM_VMM_DISPLAY_H
#define WIRT_VMM_VMM_DISPLAY_H

#include <stddef.h>

#include "vmm/vm_spec.h"

struct board;
struct vmm_display;

/* Adds the devices (before board_boot, after every other device so the
 * others keep their slots) and starts the VNC server.  NULL with err set
 * on failure, NULL with err empty when the spec has no display. */
struct vmm_display *vmm_display_new(struct board *b, const struct vm_spec *s, char *err,
                                    size_t errlen);
/* Stops the VNC server: before board_free (its input goes to the board's
 * devices). */
void vmm_display_stop(struct vmm_display *v);
/* After board_free. */
void vmm_display_free(struct vmm_display *v);

#endif
