/* SPDX-License-Identifier: MIT */
/* A VM's screen between its display device and its viewers (display.h). */
#include "host/display.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"

struct display *display_new(void)
{
    struct display *d = calloc(1, sizeof(*d));
    if (d)
        pthread_mutex_init(&d->lock, NULL);
    return d;
}

void display_free(struct display *d)
{
    if (!d)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d->pixels);
    free(d);
}

bool display_set_mode(struct display *d, uint32_t width, uint32_t height)
{
    if (width > DISPLAY_MAX_WIDTH || height > DISPLAY_MAX_HEIGHT)
        return false;
    uint32_t *px = NULL;
    if (width && height && !(px = calloc((size_t)width * height, 4)))
        return false;
    pthread_mutex_lock(&d->lock);
    free(d->pixels);
    d->pixels = px;
    d->width = px ? width : 0;
    d->height = px ? height : 0;
    d->generation++;
    d->mode_generation++;
    d->dirty = px != NULL;
    d->dx0 = d->dy0 = 0;
    d->dx1 = d->width;
    d->dy1 = d->height;
    pthread_mutex_unlock(&d->lock);
    return true;
}

void display_put_locked(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                        const uint32_t *src, size_t stride)
{
    if (x >= d->width || y >= d->height || !w || !h)
        return;
    if (w > d->width - x)
        w = d->width - x;
    if (h > d->height - y)
        h = d->height - y;
    for (uint32_t r = 0; r < h; r++)
        memcpy(d->pixels + (size_t)(y + r) * d->width + x,
               (const uint8_t *)src + (size_t)r * stride, (size_t)w * 4);
    if (!d->dirty) {
        d->dx0 = x, d->dy0 = y, d->dx1 = x + w, d->dy1 = y + h;
        d->dirty = true;
    } else {
        d->dx0 = x < d->dx0 ? x : d->dx0;
        d->dy0 = y < d->dy0 ? y : d->dy0;
        d->dx1 = x + w > d->dx1 ? x + w : d->dx1;
        d->dy1 = y + h > d->dy1 ? y + h : d->dy1;
    }
    d->generation++;
    d->updates++;
}

bool display_take_dirty_locked(struct display *d, uint32_t *x, uint32_t *y, uint32_t *w,
                               uint32_t *h)
{
    if (!d->dirty)
        return false;
    *x = d->dx0, *y = d->dy0, *w = d->dx1 - d->dx0, *h = d->dy1 - d->dy0;
    d->dirty = false;
    return true;
}

uint32_t *display_snapshot(struct display *d, uint32_t *width, uint32_t *height)
{
    pthread_mutex_lock(&d->lock);
    uint32_t *copy = NULL;
    *width = *height = 0;
    if (d->pixels && (copy = malloc((size_t)d->width * d->height * 4))) {
        memcpy(copy, d->pixels, (size_t)d->width * d->height * 4);
        *width = d->width;
        *height = d->height;
    }
    pthread_mutex_unlock(&d->lock);
    return copy;
}

struct membuf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
};

static void png_mem_write(png_structp png, png_bytep data, png_size_t len)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->failed)
        return;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *p = realloc(m->data, cap);
        if (!p) {
            m->failed = true;
            return;
        }
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
}

static void png_mem_flush(png_structp png)
{
    (void)png;
}

/* RGB rows of the snapshot into m; false when libpng fails. */
static bool encode_png(const uint32_t *px, uint32_t w, uint32_t h, struct membuf *m)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)w * 3);
    bool ok = false;
    if (!png || !info || !row)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_write_fn(png, m, png_mem_write, png_mem_flush);
    /* Screens are flat colours and text: fast compression is plenty. */
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t p = px[(size_t)y * w + x];
            row[3 * x] = (uint8_t)(p >> 16);
            row[3 * x + 1] = (uint8_t)(p >> 8);
            row[3 * x + 2] = (uint8_t)p;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    ok = !m->failed;
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(row);
    return ok;
}

bool display_write_png(struct display *d, const char *path, char *err, size_t errlen)
{
    uint32_t w, h;
    uint32_t *px = display_snapshot(d, &w, &h);
    if (!px) {
        snprintf(err, errlen, "the guest shows nothing on its display yet");
        return false;
    }
    struct membuf m = {0};
    bool ok = encode_png(px, w, h, &m);
    free(px);
    if (!ok)
        snprintf(err, errlen, "cannot encode the screen as PNG");
    else
        ok = write_file_atomic(path, m.data, m.len, err, errlen);
    free(m.data);
    return ok;
}

void display_set_input(struct display *d, const struct display_input_ops *ops, void *opaque)
{
    pthread_mutex_lock(&d->lock);
    d->input = ops;
    d->input_opaque = opaque;
    pthread_mutex_unlock(&d->lock);
}

/* The sink is set before viewers start and kept while they run: read
 * without holding the lock across the call (the sink takes the I/O lock,
 * which a flushing device holds while it takes ours). */
void display_key(struct display *d, unsigned code, bool down)
{
    pthread_mutex_lock(&d->lock);
    const struct display_input_ops *ops = d->input;
    void *opaque = d->input_opaque;
    pthread_mutex_unlock(&d->lock);
    if (ops && ops->key)
        ops->key(opaque, code, down);
}

void display_pointer(struct display *d, unsigned x, unsigned y, unsigned buttons, int wheel)
{
    pthread_mutex_lock(&d->lock);
    const struct display_input_ops *ops = d->input;
    void *opaque = d->input_opaque;
    pthread_mutex_unlock(&d->lock);
    if (ops && ops->pointer)
        ops->pointer(opaque, x > DISPLAY_ABS_MAX ? DISPLAY_ABS_MAX : x,
                     y > DISPLAY_ABS_MAX ? DISPLAY_ABS_MAX : y, buttons, wheel);
}
