/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu, 2D only (virtio 1.x, "GPU Device"): the guest creates
 * resources (host-side images), attaches guest pages as their backing,
 * copies from the backing into a resource (TRANSFER_TO_HOST_2D), points
 * the one scanout at a resource (SET_SCANOUT) and flushes rectangles to
 * the screen (RESOURCE_FLUSH), which lands in the VM's struct display.
 * Linux's virtio_gpu DRM driver (fbdev emulation, X, Wayland) drives it.
 *
 * Queues: 0 control, 1 cursor (cursor images are accepted and dropped:
 * viewers draw their own pointer).  With VIRTIO_GPU_F_EDID the guest
 * reads an EDID describing the offered mode.  Everything runs under the I/O lock,
 * in the notifying hart; the display's own lock is held only while a
 * flush copies pixels, never while waiting for a viewer.
 *
 * A hostile guest gets an error response, never more: resources are
 * bounded in number and in total bytes (GPU_MAX_RESOURCES, GPU_MAX_BYTES),
 * a backing in entries (GPU_MAX_ENTRIES), every backing entry must lie in
 * RAM, every rectangle inside its resource, every transfer inside the
 * backing.  Backings are kept as guest-physical ranges and looked up on
 * each transfer, so nothing goes stale when RAM is restored.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "host/display.h"
#include "mem/bus.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

enum { Q_CONTROL, Q_CURSOR, NQ };

#define STATE_VERSION 1

enum {
    CMD_GET_DISPLAY_INFO = 0x0100,
    CMD_RESOURCE_CREATE_2D,
    CMD_RESOURCE_UNREF,
    CMD_SET_SCANOUT,
    CMD_RESOURCE_FLUSH,
    CMD_TRANSFER_TO_HOST_2D,
    CMD_RESOURCE_ATTACH_BACKING,
    CMD_RESOURCE_DETACH_BACKING,
    CMD_GET_CAPSET_INFO,
    CMD_GET_CAPSET,
    CMD_GET_EDID,
    CMD_UPDATE_CURSOR = 0x0300,
    CMD_MOVE_CURSOR,
    RESP_OK_NODATA = 0x1100,
    RESP_OK_DISPLAY_INFO,
    RESP_OK_CAPSET_INFO,
    RESP_OK_CAPSET,
    RESP_OK_EDID,
    RESP_ERR_UNSPEC = 0x1200,
    RESP_ERR_OUT_OF_MEMORY,
    RESP_ERR_INVALID_SCANOUT_ID,
    RESP_ERR_INVALID_RESOURCE_ID,
    RESP_ERR_INVALID_CONTEXT_ID,
    RESP_ERR_INVALID_PARAMETER,
};
#define FLAG_FENCE 1u

enum {
    FMT_B8G8R8A8 = 1,
    FMT_B8G8R8X8 = 2,
    FMT_A8R8G8B8 = 3,
    FMT_X8R8G8B8 = 4,
    FMT_R8G8B8A8 = 67,
    FMT_X8B8G8R8 = 68,
    FMT_A8B8G8R8 = 121,
    FMT_R8G8B8X8 = 134,
};

#define F_EDID 1

#define HDR_SIZE 24
/* Response of GET_DISPLAY_INFO: header + 16 scanouts of 24 bytes. */
#define DISPLAY_INFO_SIZE (HDR_SIZE + 16 * 24)
/* Response of GET_EDID: header, le32 size, le32 padding, 1024 bytes. */
#define EDID_RESP_SIZE (HDR_SIZE + 8 + 1024)
#define RESP_MAX       EDID_RESP_SIZE

struct gpu_entry {
    uint64_t addr;
    uint32_t len;
    uint64_t start; /* offset of this entry within the backing */
};

struct gpu_res {
    uint32_t id, format, width, height;
    uint32_t *pixels; /* width * height, in the guest's format */
    struct gpu_entry *backing;
    uint32_t nbacking;
    uint64_t backing_len;
    struct gpu_res *next;
};

struct rect {
    uint32_t x, y, w, h;
};

struct vgpu {
    struct display *display;
    uint32_t pref_width, pref_height;
    struct gpu_res *res;
    unsigned nres;
    uint64_t res_bytes;
    uint32_t scanout_res; /* 0: disabled */
    struct rect scanout;
    uint32_t *row; /* one converted row, DISPLAY_MAX_WIDTH pixels */
};

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static void put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static struct rect get_rect(const uint8_t *p)
{
    return (struct rect){get32(p), get32(p + 4), get32(p + 8), get32(p + 12)};
}

static bool format_ok(uint32_t f)
{
    switch (f) {
    case FMT_B8G8R8A8:
    case FMT_B8G8R8X8:
    case FMT_A8R8G8B8:
    case FMT_X8R8G8B8:
    case FMT_R8G8B8A8:
    case FMT_X8B8G8R8:
    case FMT_A8B8G8R8:
    case FMT_R8G8B8X8:
        return true;
    }
    return false;
}

/* One pixel of format f (as the guest stored it, read little-endian)
 * as 0x00RRGGBB.  Names list bytes in memory order. */
static uint32_t to_xrgb(uint32_t f, uint32_t v)
{
    switch (f) {
    case FMT_B8G8R8A8:
    case FMT_B8G8R8X8:
        return v & 0xffffff;
    case FMT_A8R8G8B8:
    case FMT_X8R8G8B8:
        return ((v >> 8) & 0xff) << 16 | ((v >> 16) & 0xff) << 8 | v >> 24;
    case FMT_R8G8B8A8:
    case FMT_R8G8B8X8:
        return (v & 0xff) << 16 | (v & 0xff00) | ((v >> 16) & 0xff);
    default: /* X8B8G8R8, A8B8G8R8 */
        return ((v >> 24) & 0xff) << 16 | ((v >> 16) & 0xff) << 8 | ((v >> 8) & 0xff);
    }
}

static struct gpu_res *find_res(struct vgpu *g, uint32_t id)
{
    for (struct gpu_res *r = g->res; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

/* The rectangle lies inside the resource and is not empty. */
static bool rect_in(const struct rect *r, const struct gpu_res *res)
{
    return r->w && r->h && r->x <= res->width && r->w <= res->width - r->x && r->y <= res->height &&
           r->h <= res->height - r->y;
}

static void free_res(struct gpu_res *r)
{
    free(r->pixels);
    free(r->backing);
    free(r);
}

static void unlink_res(struct vgpu *g, struct gpu_res *res)
{
    for (struct gpu_res **p = &g->res; *p; p = &(*p)->next)
        if (*p == res) {
            *p = res->next;
            break;
        }
    g->nres--;
    g->res_bytes -= (uint64_t)res->width * res->height * 4;
}

/* Copies the part of `r` (resource coordinates) that the scanout shows
 * to the screen. */
static void show(struct vgpu *g, struct gpu_res *res, struct rect r)
{
    const struct rect *s = &g->scanout;
    uint32_t x0 = r.x > s->x ? r.x : s->x, y0 = r.y > s->y ? r.y : s->y;
    uint32_t x1 = r.x + r.w < s->x + s->w ? r.x + r.w : s->x + s->w;
    uint32_t y1 = r.y + r.h < s->y + s->h ? r.y + r.h : s->y + s->h;
    if (x0 >= x1 || y0 >= y1 || !g->display)
        return;
    struct display *d = g->display;
    bool direct = res->format == FMT_B8G8R8A8 || res->format == FMT_B8G8R8X8;
    pthread_mutex_lock(&d->lock);
    if (direct) {
        display_put_locked(d, x0 - s->x, y0 - s->y, x1 - x0, y1 - y0,
                           res->pixels + (size_t)y0 * res->width + x0, (size_t)res->width * 4);
    } else {
        for (uint32_t y = y0; y < y1; y++) {
            const uint32_t *src = res->pixels + (size_t)y * res->width;
            for (uint32_t x = x0; x < x1; x++)
                g->row[x - x0] = to_xrgb(res->format, le32toh(src[x]));
            display_put_locked(d, x0 - s->x, y - s->y, x1 - x0, 1, g->row, 0);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

static uint32_t set_scanout(struct vgpu *g, uint32_t id, struct rect r)
{
    if (!id) {
        g->scanout_res = 0;
        if (g->display)
            display_set_mode(g->display, 0, 0);
        return RESP_OK_NODATA;
    }
    struct gpu_res *res = find_res(g, id);
    if (!res)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (!rect_in(&r, res) || r.w > DISPLAY_MAX_WIDTH || r.h > DISPLAY_MAX_HEIGHT)
        return RESP_ERR_INVALID_PARAMETER;
    bool same_mode = g->scanout_res && g->scanout.w == r.w && g->scanout.h == r.h;
    g->scanout_res = id;
    g->scanout = r;
    if (g->display && !same_mode && !display_set_mode(g->display, r.w, r.h))
        return RESP_ERR_OUT_OF_MEMORY;
    show(g, res, r);
    return RESP_OK_NODATA;
}

static uint32_t create_2d(struct vgpu *g, uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
    if (!id || find_res(g, id))
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (!format_ok(format) || !w || !h || w > GPU_MAX_DIM || h > GPU_MAX_DIM)
        return RESP_ERR_INVALID_PARAMETER;
    uint64_t bytes = (uint64_t)w * h * 4;
    if (g->nres >= GPU_MAX_RESOURCES || bytes > GPU_MAX_BYTES - g->res_bytes)
        return RESP_ERR_OUT_OF_MEMORY;
    struct gpu_res *res = calloc(1, sizeof(*res));
    if (!res || !(res->pixels = calloc(1, bytes))) {
        free(res);
        return RESP_ERR_OUT_OF_MEMORY;
    }
    res->id = id;
    res->format = format;
    res->width = w;
    res->height = h;
    res->next = g->res;
    g->res = res;
    g->nres++;
    g->res_bytes += bytes;
    return RESP_OK_NODATA;
}

/* Entries already read from the request (le64 addr, le32 len, pad). */
static uint32_t attach_entries(struct virtio_dev *vdev, struct gpu_res *res, const uint8_t *raw,
                               uint32_t n)
{
    struct gpu_entry *e = calloc(n ? n : 1, sizeof(*e));
    if (!e)
        return RESP_ERR_OUT_OF_MEMORY;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        e[i].addr = get64(raw + 16 * i);
        e[i].len = get32(raw + 16 * i + 8);
        e[i].start = total;
        total += e[i].len;
        if (!bus_ram_ptr(vdev->bus, e[i].addr, e[i].len)) {
            free(e);
            return RESP_ERR_INVALID_PARAMETER;
        }
    }
    free(res->backing);
    res->backing = e;
    res->nbacking = n;
    res->backing_len = total;
    return RESP_OK_NODATA;
}

/* Copies len bytes at offset off of the backing; false if they are not
 * all there. */
static bool backing_read(struct virtio_dev *vdev, const struct gpu_res *res, uint64_t off,
                         uint8_t *dst, size_t len)
{
    if (off > res->backing_len || len > res->backing_len - off)
        return false;
    /* The last entry starting at or before off. */
    uint32_t lo = 0, hi = res->nbacking;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (res->backing[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    for (uint32_t i = lo; len && i < res->nbacking; i++) {
        const struct gpu_entry *e = &res->backing[i];
        if (off >= e->start + e->len)
            continue;
        uint64_t in = off - e->start;
        size_t n = e->len - in < len ? (size_t)(e->len - in) : len;
        const uint8_t *src = bus_ram_ptr(vdev->bus, e->addr + in, n);
        if (!src)
            return false;
        memcpy(dst, src, n);
        dst += n;
        off += n;
        len -= n;
    }
    return len == 0;
}

static uint32_t transfer(struct virtio_dev *vdev, struct gpu_res *res, struct rect r, uint64_t off)
{
    if (!res->backing)
        return RESP_ERR_UNSPEC;
    if (!rect_in(&r, res))
        return RESP_ERR_INVALID_PARAMETER;
    uint64_t stride = (uint64_t)res->width * 4;
    for (uint32_t y = 0; y < r.h; y++) {
        uint64_t src = off + stride * y;
        if (src < off) /* wrapped */
            return RESP_ERR_INVALID_PARAMETER;
        if (!backing_read(vdev, res, src,
                          (uint8_t *)(res->pixels + (size_t)(r.y + y) * res->width + r.x),
                          (size_t)r.w * 4))
            return RESP_ERR_INVALID_PARAMETER;
    }
    return RESP_OK_NODATA;
}

static uint32_t flush(struct vgpu *g, struct gpu_res *res, struct rect r)
{
    if (!rect_in(&r, res))
        return RESP_ERR_INVALID_PARAMETER;
    if (g->scanout_res == res->id)
        show(g, res, r);
    return RESP_OK_NODATA;
}

/* An EDID 1.4 base block for a width x height panel at 60 Hz: the
 * preferred mode as its first detailed timing (reduced blanking), the
 * VESA modes up to 1024x768 as established timings, and the name
 * "wirt".  Drivers and desktops take their mode list from it. */
static void make_edid(uint8_t e[128], uint32_t w, uint32_t h)
{
    static const uint8_t header[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
    static const uint8_t srgb[10] = {0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54};
    memset(e, 0, 128);
    memcpy(e, header, 8);
    /* Maker "WRT" (three 5-bit letters, big-endian), product 1, 2024. */
    uint16_t maker = ('W' - 64) << 10 | ('R' - 64) << 5 | ('T' - 64);
    e[8] = (uint8_t)(maker >> 8);
    e[9] = (uint8_t)maker;
    e[10] = 1;
    e[17] = 2024 - 1990;
    e[18] = 1; /* EDID 1.4 */
    e[19] = 4;
    e[20] = 0xa0; /* digital, 8 bits per colour */
    e[21] = 32;   /* cm */
    e[22] = 24;
    e[23] = 120;  /* gamma 2.2 */
    e[24] = 0x06; /* RGB 4:4:4; the first detailed timing is preferred */
    memcpy(e + 25, srgb, 10);
    e[35] = 0x21; /* 640x480@60, 800x600@60 */
    e[36] = 0x08; /* 1024x768@60 */
    for (int i = 38; i < 54; i++)
        e[i] = 1; /* no standard timings */
    /* Detailed timing: blanking 160 x 30 lines, 60 Hz. */
    uint32_t hb = 160, vb = 30, hso = 48, hsw = 32, vso = 3, vsw = 5;
    uint32_t clock = (w + hb) * (h + vb) * 60 / 10000; /* 10 kHz units */
    uint8_t *d = e + 54;
    d[0] = (uint8_t)clock;
    d[1] = (uint8_t)(clock >> 8);
    d[2] = (uint8_t)w;
    d[3] = (uint8_t)hb;
    d[4] = (uint8_t)((w >> 8) << 4 | hb >> 8);
    d[5] = (uint8_t)h;
    d[6] = (uint8_t)vb;
    d[7] = (uint8_t)((h >> 8) << 4 | vb >> 8);
    d[8] = (uint8_t)hso;
    d[9] = (uint8_t)hsw;
    d[10] = (uint8_t)(vso << 4 | vsw);
    d[11] = 0;
    d[12] = 320 & 0xff; /* mm */
    d[13] = 240 & 0xff;
    d[14] = (320 >> 8) << 4 | 240 >> 8;
    d[17] = 0x18; /* digital separate sync */
    /* The name, then two dummy descriptors. */
    static const uint8_t name[18] = {0,    0,   0,   0xfc, 0,   'w', 'i', 'r', 't',
                                     '\n', ' ', ' ', ' ',  ' ', ' ', ' ', ' ', ' '};
    memcpy(e + 72, name, 18);
    e[93] = e[111] = 0x10;
    uint8_t sum = 0;
    for (int i = 0; i < 127; i++)
        sum = (uint8_t)(sum + e[i]);
    e[127] = (uint8_t)(256 - sum);
}

/* Runs one control command; returns the response type and fills resp
 * beyond the header for GET_DISPLAY_INFO (*resp_len). */
static uint32_t command(struct virtio_dev *vdev, const struct virtq_elem *e, uint32_t type,
                        uint8_t *resp, size_t *resp_len)
{
    struct vgpu *g = vdev->opaque;
    uint8_t req[64] = {0};
    size_t have = virtq_elem_read(e, 0, req, sizeof(req));
    /* The request's size after the header, by command. */
    size_t need;
    switch (type) {
    case CMD_GET_DISPLAY_INFO:
        need = 0;
        break;
    case CMD_GET_EDID:
        if (!virtio_has_feature(vdev, F_EDID))
            return RESP_ERR_UNSPEC;
        need = 8;
        break;
    case CMD_RESOURCE_CREATE_2D:
        need = 16;
        break;
    case CMD_SET_SCANOUT:
    case CMD_RESOURCE_FLUSH:
        need = 24;
        break;
    case CMD_TRANSFER_TO_HOST_2D:
        need = 32;
        break;
    case CMD_RESOURCE_UNREF:
    case CMD_RESOURCE_ATTACH_BACKING:
    case CMD_RESOURCE_DETACH_BACKING:
        need = 8;
        break;
    default:
        return RESP_ERR_UNSPEC;
    }
    if (have < HDR_SIZE + need)
        return RESP_ERR_INVALID_PARAMETER;
    const uint8_t *p = req + HDR_SIZE;
    struct gpu_res *res;
    switch (type) {
    case CMD_GET_DISPLAY_INFO:
        memset(resp + HDR_SIZE, 0, DISPLAY_INFO_SIZE - HDR_SIZE);
        put32(resp + HDR_SIZE + 8, g->pref_width);
        put32(resp + HDR_SIZE + 12, g->pref_height);
        put32(resp + HDR_SIZE + 16, 1); /* enabled */
        *resp_len = DISPLAY_INFO_SIZE;
        return RESP_OK_DISPLAY_INFO;
    case CMD_GET_EDID:
        if (get32(p) != 0)
            return RESP_ERR_INVALID_SCANOUT_ID;
        memset(resp + HDR_SIZE, 0, EDID_RESP_SIZE - HDR_SIZE);
        put32(resp + HDR_SIZE, 128);
        make_edid(resp + HDR_SIZE + 8, g->pref_width, g->pref_height);
        *resp_len = EDID_RESP_SIZE;
        return RESP_OK_EDID;
    case CMD_RESOURCE_CREATE_2D:
        return create_2d(g, get32(p), get32(p + 4), get32(p + 8), get32(p + 12));
    case CMD_SET_SCANOUT:
        if (get32(p + 16) != 0)
            return RESP_ERR_INVALID_SCANOUT_ID;
        return set_scanout(g, get32(p + 20), get_rect(p));
    }
    /* The rest name a resource. */
    uint32_t id = get32(p + (type == CMD_RESOURCE_FLUSH        ? 16
                             : type == CMD_TRANSFER_TO_HOST_2D ? 24
                                                               : 0));
    if (!(res = find_res(g, id)))
        return RESP_ERR_INVALID_RESOURCE_ID;
    switch (type) {
    case CMD_RESOURCE_UNREF:
        if (g->scanout_res == id)
            set_scanout(g, 0, (struct rect){0});
        unlink_res(g, res);
        free_res(res);
        return RESP_OK_NODATA;
    case CMD_RESOURCE_FLUSH:
        return flush(g, res, get_rect(p));
    case CMD_TRANSFER_TO_HOST_2D:
        return transfer(vdev, res, get_rect(p), get64(p + 16));
    case CMD_RESOURCE_DETACH_BACKING:
        if (!res->backing)
            return RESP_ERR_UNSPEC;
        free(res->backing);
        res->backing = NULL;
        res->nbacking = 0;
        res->backing_len = 0;
        return RESP_OK_NODATA;
    default: { /* CMD_RESOURCE_ATTACH_BACKING */
        uint32_t n = get32(p + 4);
        if (res->backing)
            return RESP_ERR_UNSPEC;
        if (n == 0 || n > GPU_MAX_ENTRIES || e->out_len < HDR_SIZE + 8 + (uint64_t)n * 16)
            return RESP_ERR_INVALID_PARAMETER;
        uint8_t *raw = malloc((size_t)n * 16);
        if (!raw)
            return RESP_ERR_OUT_OF_MEMORY;
        virtq_elem_read(e, HDR_SIZE + 8, raw, (size_t)n * 16);
        uint32_t rc = attach_entries(vdev, res, raw, n);
        free(raw);
        return rc;
    }
    }
}

static void control(struct virtio_dev *vdev, struct virtq *vq)
{
    struct virtq_elem *e;
    unsigned taken = 0;
    bool pushed = false;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        uint8_t hdr[HDR_SIZE] = {0};
        uint8_t resp[RESP_MAX] = {0};
        size_t resp_len = HDR_SIZE;
        uint32_t rtype;
        if (virtq_elem_read(e, 0, hdr, HDR_SIZE) < HDR_SIZE)
            rtype = RESP_ERR_INVALID_PARAMETER;
        else
            rtype = command(vdev, e, get32(hdr), resp, &resp_len);
        if (rtype >= RESP_ERR_UNSPEC)
            log_warn_ratelimited("virtio-gpu: command %#x refused (%#x)", get32(hdr), rtype);
        put32(resp, rtype);
        /* A fenced command is done when its response is: echo the fence. */
        if (get32(hdr + 4) & FLAG_FENCE) {
            put32(resp + 4, FLAG_FENCE);
            memcpy(resp + 8, hdr + 8, 8);
            resp[20] = hdr[20]; /* ring_idx */
        }
        size_t written = virtq_elem_write(vdev->bus, e, 0, resp, resp_len);
        virtq_push(vq, e, (uint32_t)written);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

/* Cursor updates need no answer beyond the buffer back. */
static void cursor(struct virtq *vq)
{
    struct virtq_elem *e;
    unsigned taken = 0;
    bool pushed = false;
    while (virtq_pop_limited(vq, &e, &taken) > 0) {
        virtq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static void gpu_notify(struct virtio_dev *vdev, unsigned q)
{
    if (q == Q_CONTROL)
        control(vdev, &vdev->vq[q]);
    else
        cursor(&vdev->vq[q]);
}

static void drop_all(struct vgpu *g)
{
    while (g->res) {
        struct gpu_res *r = g->res;
        g->res = r->next;
        free_res(r);
    }
    g->nres = 0;
    g->res_bytes = 0;
    g->scanout_res = 0;
}

static void gpu_reset(struct virtio_dev *vdev)
{
    struct vgpu *g = vdev->opaque;
    drop_all(g);
    if (g->display)
        display_set_mode(g->display, 0, 0);
    memset(vdev->config, 0, 4); /* events_read */
}

/* Only events_clear (offset 4) is the driver's: it clears events_read. */
static void gpu_config_write(struct virtio_dev *vdev, uint32_t offset, unsigned size,
                             uint32_t value)
{
    if (offset == 4 && size == 4)
        put32(vdev->config, get32(vdev->config) & ~value);
}

static void gpu_save(struct virtio_dev *vdev, struct state_writer *w)
{
    struct vgpu *g = vdev->opaque;
    state_put_u32(w, STATE_VERSION);
    state_put_u32(w, g->nres);
    for (struct gpu_res *r = g->res; r; r = r->next) {
        state_put_u32(w, r->id);
        state_put_u32(w, r->format);
        state_put_u32(w, r->width);
        state_put_u32(w, r->height);
        state_put_u8(w, r->backing != NULL);
        state_put_u32(w, r->nbacking);
        for (uint32_t i = 0; i < r->nbacking; i++) {
            state_put_u64(w, r->backing[i].addr);
            state_put_u32(w, r->backing[i].len);
        }
        /* The host copy: the guest only transfers what it redraws. */
        state_put_bytes(w, r->pixels, (size_t)r->width * r->height * 4);
    }
    state_put_u32(w, g->scanout_res);
    state_put_u32(w, g->scanout.x);
    state_put_u32(w, g->scanout.y);
    state_put_u32(w, g->scanout.w);
    state_put_u32(w, g->scanout.h);
}

static bool gpu_load(struct virtio_dev *vdev, struct state_reader *r)
{
    struct vgpu *g = vdev->opaque;
    drop_all(g);
    if (state_get_u32(r) != STATE_VERSION)
        return false;
    uint32_t n = state_get_u32(r);
    if (!state_reader_ok(r) || n > GPU_MAX_RESOURCES)
        return false;
    /* Every resource goes through the checks a guest's command gets. */
    struct gpu_res **tail = &g->res;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = state_get_u32(r), fmt = state_get_u32(r), w = state_get_u32(r),
                 h = state_get_u32(r);
        bool has_backing = state_get_u8(r);
        uint32_t nb = state_get_u32(r);
        if (!state_reader_ok(r) || nb > GPU_MAX_ENTRIES || (has_backing && !nb) ||
            create_2d(g, id, fmt, w, h) != RESP_OK_NODATA)
            return false;
        /* create_2d put it first; keep the saved order (the list's). */
        struct gpu_res *res = g->res;
        g->res = res->next;
        res->next = NULL;
        *tail = res;
        tail = &res->next;
        if (has_backing) {
            uint8_t *raw = calloc(nb, 16);
            if (!raw)
                return false;
            for (uint32_t k = 0; k < nb; k++) {
                uint64_t a = htole64(state_get_u64(r));
                uint32_t l = htole32(state_get_u32(r));
                memcpy(raw + 16 * k, &a, 8);
                memcpy(raw + 16 * k + 8, &l, 4);
            }
            uint32_t rc = state_reader_ok(r) ? attach_entries(vdev, res, raw, nb) : RESP_ERR_UNSPEC;
            free(raw);
            if (rc != RESP_OK_NODATA)
                return false;
        }
        state_get_bytes(r, res->pixels, (size_t)w * h * 4);
    }
    uint32_t sres = state_get_u32(r);
    struct rect s;
    s.x = state_get_u32(r);
    s.y = state_get_u32(r);
    s.w = state_get_u32(r);
    s.h = state_get_u32(r);
    if (!state_reader_ok(r))
        return false;
    return !sres || set_scanout(g, sres, s) == RESP_OK_NODATA;
}

static void gpu_destroy(struct virtio_dev *vdev)
{
    struct vgpu *g = vdev->opaque;
    drop_all(g);
    free(g->row);
    free(g);
    vdev->opaque = NULL;
}

static const struct virtio_dev_ops gpu_ops = {
    .name = "virtio-gpu",
    .device_id = VIRTIO_ID_GPU,
    .num_queues = NQ,
    .queue_max = 128,
    .queue_notify = gpu_notify,
    .config_write = gpu_config_write,
    .reset = gpu_reset,
    .save = gpu_save,
    .load = gpu_load,
    .destroy = gpu_destroy,
};

struct virtio_dev *virtio_gpu_create(struct bus *bus, struct irq_line irq, struct display *d,
                                     uint32_t width, uint32_t height)
{
    struct vgpu *g = calloc(1, sizeof(*g));
    if (!g || !(g->row = malloc(DISPLAY_MAX_WIDTH * 4))) {
        free(g);
        return NULL;
    }
    g->display = d;
    g->pref_width = width ? width : GPU_DEFAULT_WIDTH;
    g->pref_height = height ? height : GPU_DEFAULT_HEIGHT;
    /* Config: le32 events_read, le32 events_clear, le32 num_scanouts,
     * le32 num_capsets. */
    struct virtio_dev *vdev = virtio_mmio_new(&gpu_ops, g, bus, irq, 1ull << F_EDID, 16);
    if (!vdev) {
        free(g->row);
        free(g);
        return NULL;
    }
    put32(vdev->config + 8, 1);
    return vdev;
}

bool virtio_gpu_is(const struct virtio_dev *vdev)
{
    return vdev && vdev->ops == &gpu_ops;
}

struct display *virtio_gpu_display(struct virtio_dev *vdev)
{
    return ((struct vgpu *)vdev->opaque)->display;
}
