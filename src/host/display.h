/* SPDX-License-Identifier: MIT */
/*
 * A VM's screen as the host sees it: the front buffer a display device
 * (virtio-gpu) fills on every flush, and the input sink its viewers (the
 * VNC server, screendump) send keys and pointer moves to.
 *
 * The device writes under the display's own short lock and never waits
 * for a viewer; a viewer copies what changed (the dirty rectangle since
 * its last look, or everything when the mode changed) under the same
 * lock and sends it from its own thread.  So a slow or stuck viewer
 * never stalls the guest.
 *
 * Pixels are 32-bit 0x00RRGGBB (XRGB8888, little-endian B,G,R,X bytes).
 */
#ifndef WIRT_HOST_DISPLAY_H
#define WIRT_HOST_DISPLAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISPLAY_MAX_WIDTH  4096
#define DISPLAY_MAX_HEIGHT 4096
/* The range of the tablet's absolute axes (what viewers scale to). */
#define DISPLAY_ABS_MAX 32767

/* Buttons of display_pointer(). */
#define DISPLAY_BTN_LEFT   1u
#define DISPLAY_BTN_MIDDLE 2u
#define DISPLAY_BTN_RIGHT  4u

struct display_input_ops {
    /* A key (a Linux input KEY_* code) went down or up. */
    void (*key)(void *opaque, unsigned code, bool down);
    /* The pointer is at (x, y) in 0..DISPLAY_ABS_MAX with these buttons
     * held; wheel: clicks up (positive) or down. */
    void (*pointer)(void *opaque, unsigned x, unsigned y, unsigned buttons, int wheel);
};

struct display {
    pthread_mutex_t lock;
    uint32_t width, height;   /* 0 x 0 while the guest shows nothing */
    uint32_t *pixels;         /* width * height */
    uint64_t generation;      /* bumped on every change */
    uint64_t mode_generation; /* bumped when the size changes */
    bool dirty;
    uint32_t dx0, dy0, dx1, dy1; /* the changed rectangle [x0,x1) x [y0,y1) */
    uint64_t updates;            /* flushes so far */
    const struct display_input_ops *input;
    void *input_opaque;
};

struct display *display_new(void);
void display_free(struct display *d);

/* The guest side.  display_set_mode clears the screen to black; 0 x 0
 * shows nothing.  False when out of memory or too large. */
bool display_set_mode(struct display *d, uint32_t width, uint32_t height);
/* Copies rows of 0x00RRGGBB pixels (stride in bytes) to (x, y), clipped
 * to the screen, and marks them changed.  Caller holds d->lock. */
void display_put_locked(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                        const uint32_t *src, size_t stride);

/* The viewer side.  Takes the changed rectangle (false if nothing
 * changed since the last take) and forgets it; caller holds d->lock. */
bool display_take_dirty_locked(struct display *d, uint32_t *x, uint32_t *y, uint32_t *w,
                               uint32_t *h);
/* A copy of the screen (free() it); NULL with width 0 when it is blank. */
uint32_t *display_snapshot(struct display *d, uint32_t *width, uint32_t *height);
/* Writes the screen as a PNG (owner-only, not through a symlink); false
 * with one line in err. */
bool display_write_png(struct display *d, const char *path, char *err, size_t errlen);

void display_set_input(struct display *d, const struct display_input_ops *ops, void *opaque);
/* Viewers call these from their own threads. */
void display_key(struct display *d, unsigned code, bool down);
void display_pointer(struct display *d, unsigned x, unsigned y, unsigned buttons, int wheel);

#endif
