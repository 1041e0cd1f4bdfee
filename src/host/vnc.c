/* SPDX-License-Identifier: MIT */
/* The VNC server of a VM's display (vnc.h). */
#include "host/vnc.h"

#include <arpa/inet.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/display.h"
#include "util/log.h"

/* What a client sees while the guest shows nothing. */
#define BLANK_W 640
#define BLANK_H 480

struct vnc_server {
    struct display *d;
    rfbScreenInfoPtr screen;
    pthread_t thread;
    atomic_bool stop;
    uint64_t mode_gen;
    uint32_t w, h;
    char *passwords[2];
    int last_buttons;
};

/* libvncserver's chatter goes to our log, at debug level. */
static void vnc_log(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("vnc: %s", line);
}

static void vnc_err(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn_ratelimited("vnc: %s", line);
}

/* Screen pixels are 0x00RRGGBB; the framebuffer keeps libvncserver's
 * default 32-bit format (red in the low byte). */
static void copy_rect(struct vnc_server *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint32_t *fb = (uint32_t *)v->screen->frameBuffer;
    for (uint32_t r = y; r < y + h; r++) {
        const uint32_t *src = v->d->pixels + (size_t)r * v->d->width;
        uint32_t *dst = fb + (size_t)r * v->w;
        for (uint32_t c = x; c < x + w; c++) {
            uint32_t p = src[c];
            dst[c] = (p >> 16 & 0xff) | (p & 0xff00) | (p & 0xff) << 16;
        }
    }
}

/* Brings the framebuffer up to date with the screen; the display's lock
 * is held only for the copy. */
static void sync_screen(struct vnc_server *v)
{
    struct display *d = v->d;
    uint32_t x = 0, y = 0, w = 0, h = 0;
    bool resized = false, changed = false;
    char *old = NULL;
    pthread_mutex_lock(&d->lock);
    if (d->mode_generation != v->mode_gen) {
        v->mode_gen = d->mode_generation;
        uint32_t nw = d->width ? d->width : BLANK_W, nh = d->height ? d->height : BLANK_H;
        char *fb = calloc((size_t)nw * nh, 4);
        if (fb) {
            old = v->screen->frameBuffer;
            rfbNewFramebuffer(v->screen, fb, (int)nw, (int)nh, 8, 3, 4);
            v->w = nw;
            v->h = nh;
            resized = true;
        }
    }
    if (display_take_dirty_locked(d, &x, &y, &w, &h) && d->pixels && d->width == v->w &&
        d->height == v->h) {
        copy_rect(v, x, y, w, h);
        changed = true;
    }
    pthread_mutex_unlock(&d->lock);
    free(old);
    if (resized)
        rfbMarkRectAsModified(v->screen, 0, 0, (int)v->w, (int)v->h);
    else if (changed)
        rfbMarkRectAsModified(v->screen, (int)x, (int)y, (int)(x + w), (int)(y + h));
}

static void *vnc_thread(void *opaque)
{
    struct vnc_server *v = opaque;
    while (!atomic_load(&v->stop)) {
        rfbProcessEvents(v->screen, 10000);
        sync_screen(v);
    }
    return NULL;
}

static const struct {
    unsigned keysym, code;
} keymap[] = {
    {0xff1b, 1},   {0xff08, 14},  {0xff09, 15},  {0xff0d, 28},  {0xffe3, 29},  {0xffe1, 42},
    {0xffe2, 54},  {0xffe9, 56},  {0xffe7, 56},  {0xffe5, 58},  {0xffbe, 59},  {0xffbf, 60},
    {0xffc0, 61},  {0xffc1, 62},  {0xffc2, 63},  {0xffc3, 64},  {0xffc4, 65},  {0xffc5, 66},
    {0xffc6, 67},  {0xffc7, 68},  {0xffc8, 87},  {0xffc9, 88},  {0xff8d, 96},  {0xffe4, 97},
    {0xffea, 100}, {0xfe03, 100}, {0xffe8, 100}, {0xff50, 102}, {0xff52, 103}, {0xff55, 104},
    {0xff51, 105}, {0xff53, 106}, {0xff57, 107}, {0xff54, 108}, {0xff56, 109}, {0xff63, 110},
    {0xffff, 111}, {0xffeb, 125}, {0xffec, 126}, {0xff67, 127}, {0xff61, 99},  {0xff13, 119},
    {0xff14, 70},  {0xff7f, 69},  {0xffaa, 55},  {0xffab, 78},  {0xffad, 74},  {0xffaf, 98},
    {0xffae, 83},
};

/* Unshifted and shifted characters of the US layout, by key code. */
static const char us_plain[] = "\0\0"
                               "1234567890-=\0\0qwertyuiop[]\0\0asdfghjkl;'`\0\\zxcvbnm,./";
static const char us_shift[] = "\0\0"
                               "!@#$%^&*()_+\0\0QWERTYUIOP{}\0\0ASDFGHJKL:\"~\0|ZXCVBNM<>?";

unsigned vnc_keysym_to_linux(unsigned keysym)
{
    if (keysym == ' ')
        return 57;
    if (keysym > ' ' && keysym < 0x7f) {
        for (unsigned i = 2; i < sizeof(us_plain) - 1; i++)
            if ((unsigned char)us_plain[i] == keysym || (unsigned char)us_shift[i] == keysym)
                return i;
        return 0;
    }
    for (size_t i = 0; i < sizeof(keymap) / sizeof(keymap[0]); i++)
        if (keymap[i].keysym == keysym)
            return keymap[i].code;
    return 0;
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    struct vnc_server *v = cl->screen->screenData;
    unsigned code = vnc_keysym_to_linux((unsigned)keysym);
    if (code)
        display_key(v->d, code, down);
}

static void on_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
    struct vnc_server *v = cl->screen->screenData;
    unsigned b = 0;
    b |= buttons & 1 ? DISPLAY_BTN_LEFT : 0;
    b |= buttons & 2 ? DISPLAY_BTN_MIDDLE : 0;
    b |= buttons & 4 ? DISPLAY_BTN_RIGHT : 0;
    /* Buttons 4 and 5 are the wheel: one click per press. */
    int pressed = buttons & ~v->last_buttons;
    int wheel = (pressed & 8 ? 1 : 0) - (pressed & 16 ? 1 : 0);
    v->last_buttons = buttons;
    uint32_t w = v->w > 1 ? v->w - 1 : 1, h = v->h > 1 ? v->h - 1 : 1;
    x = x < 0 ? 0 : x;
    y = y < 0 ? 0 : y;
    display_pointer(v->d, (unsigned)((uint64_t)x * DISPLAY_ABS_MAX / w),
                    (unsigned)((uint64_t)y * DISPLAY_ABS_MAX / h), b, wheel);
    rfbDefaultPtrAddEvent(buttons, x, y, cl);
}

struct vnc_server *vnc_start(struct display *d, const char *addr, int port, const char *password,
                             char *err, size_t errlen)
{
    struct vnc_server *v = calloc(1, sizeof(*v));
    struct in_addr ia;
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (inet_pton(AF_INET, addr, &ia) != 1) {
        snprintf(err, errlen, "%s: not an IPv4 address", addr);
        free(v);
        return NULL;
    }
    rfbLog = vnc_log;
    rfbErr = vnc_err;
    v->d = d;
    v->w = BLANK_W;
    v->h = BLANK_H;
    int argc = 0;
    rfbScreenInfoPtr s = rfbGetScreen(&argc, NULL, BLANK_W, BLANK_H, 8, 3, 4);
    if (!s || !(s->frameBuffer = calloc(BLANK_W * BLANK_H, 4))) {
        snprintf(err, errlen, "cannot create the VNC screen");
        if (s)
            rfbScreenCleanup(s);
        free(v);
        return NULL;
    }
    v->screen = s;
    s->screenData = v;
    s->desktopName = "wirt";
    s->port = port;
    s->ipv6port = 0;
    s->listenInterface = ia.s_addr;
    s->autoPort = FALSE;
    s->httpPort = 0;
    s->alwaysShared = TRUE;
    s->kbdAddEvent = on_key;
    s->ptrAddEvent = on_pointer;
    s->cursor = NULL; /* viewers draw their own pointer */
    /* A client that stops reading holds the thread (all viewers, never
     * the guest) this long before it is dropped. */
    s->maxClientWait = 5000;
    if (password) {
        v->passwords[0] = strdup(password);
        s->authPasswdData = v->passwords;
        s->passwordCheck = rfbCheckPasswordByList;
    }
    /* The first mode the display reports differs from 0: sync once. */
    v->mode_gen = (uint64_t)-1;
    rfbInitServer(s);
    if (s->listenSock < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d (in use?)", addr, port);
        rfbScreenCleanup(s);
        free(v->passwords[0]);
        free(v);
        return NULL;
    }
    if (pthread_create(&v->thread, NULL, vnc_thread, v)) {
        snprintf(err, errlen, "cannot start the VNC thread");
        rfbShutdownServer(s, TRUE);
        rfbScreenCleanup(s);
        free(v->passwords[0]);
        free(v);
        return NULL;
    }
    return v;
}

void vnc_stop(struct vnc_server *v)
{
    if (!v)
        return;
    atomic_store(&v->stop, true);
    pthread_join(v->thread, NULL);
    rfbShutdownServer(v->screen, TRUE);
    free(v->screen->frameBuffer);
    v->screen->frameBuffer = NULL;
    rfbScreenCleanup(v->screen);
    free(v->passwords[0]);
    free(v);
}
