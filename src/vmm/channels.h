/* SPDX-License-Identifier: MIT */
/*
 * The host end of a spec's named channels (vmm/channels.c): a listening
 * socket per channel, bytes to and from the guest's port.
 */
#ifndef WIRT_VMM_CHANNELS_H
#define WIRT_VMM_CHANNELS_H

#include <stddef.h>

#include "vmm/vm_spec.h"

struct board;
struct vmm_channels;

/* Listens on each channel's socket and adds the channels device to the
 * board (before board_boot).  NULL with err set on failure, and NULL with
 * err empty when the spec has no channels. */
struct vmm_channels *vmm_channels_new(struct board *b, const struct vm_spec *s, char *err,
                                      size_t errlen);
/* [{"name", "guest-open", "client", "dropped"}] of a struct vmm_channels
 * (a new reference; [] for NULL).  Event loop or I/O lock.  Shaped for
 * control_set_channels. */
struct json_object *vmm_channels_to_json(void *v);
/* After board_free: the device that calls back into it is gone. */
void vmm_channels_free(struct vmm_channels *v);

#endif
