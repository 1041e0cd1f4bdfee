/* SPDX-License-Identifier: MIT */
/*
 * Device assembly: the VMM puts the paravirtual devices of a spec on the
 * board.
 *
 * Each *_add() reserves a virtio-mmio slot on the board, creates the
 * device and registers it with board_add_device() (which writes its
 * device-tree node and includes it in reset and save/load).  On failure
 * it returns false with one line in err saying what is wrong (the caller
 * names the device); nothing is left attached.
 */
#ifndef WIRT_VMM_DEVICES_H
#define WIRT_VMM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_devices.h"

struct board;
struct nic_spec;

/* Opens the image (read-only when d->readonly) and adds the device. */
bool virtio_blk_add(struct board *b, const struct disk_spec *d, char *err, size_t errlen);

/* Opens the NIC's backend and adds the device. */
bool virtio_net_add(struct board *b, const struct nic_spec *nic, char *err, size_t errlen);

/* One console port; tx receives what the guest writes (I/O lock held). */
bool virtio_console_add(struct board *b, void (*tx)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, char *err, size_t errlen);

/* Input for the board's virtio console (the first one added): copies as
 * much of buf as the guest has buffers for and returns that count (0 when
 * there is no console or no buffer).  Call with the bus I/O lock held. */
size_t virtio_console_receive(struct board *b, const uint8_t *buf, size_t len);

bool virtio_rng_add(struct board *b, char *err, size_t errlen);

/* The memory balloon (virtio/balloon.c). */
bool virtio_balloon_add(struct board *b, char *err, size_t errlen);

/* The named-channels device (virtio/channels.c); the board owns it. */
struct virtio_dev *virtio_channels_add(struct board *b, const char *const *names, unsigned n,
                                       const struct virtio_channel_ops *ops, void *opaque,
                                       char *err, size_t errlen);

/* The display's devices (virtio/gpu.c, virtio/input.c); the board owns
 * them.  NULL with one line in err. */
struct virtio_dev *virtio_gpu_add(struct board *b, struct display *d, uint32_t width,
                                  uint32_t height, char *err, size_t errlen);
struct virtio_dev *virtio_input_add(struct board *b, enum virtio_input_kind kind, char *err,
                                    size_t errlen);

#endif
