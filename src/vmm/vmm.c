/* SPDX-License-Identifier: MIT */
/* Device assembly from a VM spec. */
#include "vmm/vmm.h"

#include <stdio.h>

#include "machine/board.h"
#include "host/console.h"
#include "vmm/devices.h"

static void virtio_console_to_terminal(void *opaque, const uint8_t *buf, size_t len)
{
    console_write(opaque, buf, len);
}

/* "WHAT: why" from a device layer's bare reason. */
static bool named(const char *what, char *err, size_t errlen)
{
    char why[512];
    snprintf(why, sizeof(why), "%s", err);
    snprintf(err, errlen, "%s: %s", what, why);
    return false;
}

bool vmm_add_devices(struct board *b, const struct vm_spec *s, char *err, size_t errlen)
{
    for (unsigned i = 0; i < s->ndisks; i++)
        if (!virtio_blk_add(b, &s->disks[i], err, errlen))
            return named(s->disk_labels[i], err, errlen);
    for (unsigned i = 0; i < s->nnics; i++)
        if (!virtio_net_add(b, &s->nics[i], err, errlen))
            return named(s->nic_labels[i], err, errlen);
    if (s->elf)
        return true;
    if (!virtio_rng_add(b, err, errlen))
        return named("virtio rng", err, errlen);
    /* hvc0 shares the terminal (or the detached console) with the UART. */
    if (!virtio_console_add(b, virtio_console_to_terminal, b->console, err, errlen))
        return named("virtio console", err, errlen);
    /* The balloon when a slot is left after the channels (which vm start
     * adds): it costs nothing until the host sets a target. */
    if (s->ndisks + s->nnics + 2 + (s->nchannels ? 1 : 0) < VIRT_VIRTIO_COUNT &&
        !virtio_balloon_add(b, err, errlen))
        return named("virtio balloon", err, errlen);
    return true;
}
