/* SPDX-License-Identifier: MIT */
/* A spec's display: devices, screen and VNC server (vmm_display.h). */
#include "vmm/vmm_display.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/display.h"
#include "host/vnc.h"
#include "machine/board.h"
#include "util/file.h"
#include "vmm/devices.h"

#define EV_SYN     0x00
#define EV_KEY     0x01
#define EV_REL     0x02
#define EV_ABS     0x03
#define BTN_LEFT   0x110
#define BTN_RIGHT  0x111
#define BTN_MIDDLE 0x112
#define REL_WHEEL  0x08

struct vmm_display {
    struct board *board;
    struct display *display;
    struct virtio_dev *keyboard, *tablet;
    struct vnc_server *vnc;
    unsigned buttons; /* held, as the tablet last reported them */
};

/* Viewers' threads: the devices are the board's, under its I/O lock. */
static void key(void *opaque, unsigned code, bool down)
{
    struct vmm_display *v = opaque;
    struct virtio_input_event ev[] = {{EV_KEY, (uint16_t)code, down}, {EV_SYN, 0, 0}};
    pthread_mutex_lock(&v->board->bus.io_lock);
    virtio_input_send(v->keyboard, ev, 2);
    pthread_mutex_unlock(&v->board->bus.io_lock);
}

static void pointer(void *opaque, unsigned x, unsigned y, unsigned buttons, int wheel)
{
    struct vmm_display *v = opaque;
    static const struct {
        unsigned bit;
        uint16_t code;
    } btn[] = {{DISPLAY_BTN_LEFT, BTN_LEFT},
               {DISPLAY_BTN_MIDDLE, BTN_MIDDLE},
               {DISPLAY_BTN_RIGHT, BTN_RIGHT}};
    struct virtio_input_event ev[8];
    unsigned n = 0;
    ev[n++] = (struct virtio_input_event){EV_ABS, 0, x};
    ev[n++] = (struct virtio_input_event){EV_ABS, 1, y};
    pthread_mutex_lock(&v->board->bus.io_lock);
    for (unsigned i = 0; i < 3; i++)
        if ((buttons ^ v->buttons) & btn[i].bit)
            ev[n++] = (struct virtio_input_event){EV_KEY, btn[i].code, !!(buttons & btn[i].bit)};
    if (wheel)
        ev[n++] = (struct virtio_input_event){EV_REL, REL_WHEEL, (uint32_t)wheel};
    ev[n++] = (struct virtio_input_event){EV_SYN, 0, 0};
    if (virtio_input_send(v->tablet, ev, n))
        v->buttons = buttons;
    pthread_mutex_unlock(&v->board->bus.io_lock);
}

static const struct display_input_ops input_ops = {.key = key, .pointer = pointer};

/* The first line of the password file (owner-only by the caller's care). */
static bool read_password(const char *path, char *pw, size_t pwlen, char *err, size_t errlen)
{
    char why[512];
    int fd = open_regular(path, O_RDONLY, 0, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "password file %.400s", why);
        return false;
    }
    ssize_t n = read(fd, pw, pwlen - 1);
    close(fd);
    if (n < 0)
        n = 0;
    pw[n] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    if (!pw[0]) {
        snprintf(err, errlen, "password file %s: empty", path);
        return false;
    }
    return true;
}

struct vmm_display *vmm_display_new(struct board *b, const struct vm_spec *s, char *err,
                                    size_t errlen)
{
    err[0] = '\0';
    if (!s->display.gpu)
        return NULL;
    struct vmm_display *v = calloc(1, sizeof(*v));
    if (!v || !(v->display = display_new())) {
        free(v);
        snprintf(err, errlen, "display: out of memory");
        return NULL;
    }
    v->board = b;
    char why[512];
    if (!virtio_gpu_add(b, v->display, 0, 0, why, sizeof(why)) ||
        !(v->keyboard = virtio_input_add(b, VIRTIO_INPUT_KEYBOARD, why, sizeof(why))) ||
        !(v->tablet = virtio_input_add(b, VIRTIO_INPUT_TABLET, why, sizeof(why)))) {
        snprintf(err, errlen, "display: %.480s", why);
        goto fail;
    }
    display_set_input(v->display, &input_ops, v);
    if (s->display.vnc) {
        char addr[64], pw[128];
        int port;
        if (!vm_spec_vnc_addr(s->display.vnc, addr, sizeof(addr), &port)) {
            snprintf(err, errlen, "display: vnc=%s: expected ADDR:PORT", s->display.vnc);
            goto fail;
        }
        if (s->display.password_file &&
            !read_password(s->display.password_file, pw, sizeof(pw), why, sizeof(why))) {
            snprintf(err, errlen, "display: %.480s", why);
            goto fail;
        }
        v->vnc = vnc_start(v->display, addr, port, s->display.password_file ? pw : NULL, why,
                           sizeof(why));
        memset(pw, 0, sizeof(pw));
        if (!v->vnc) {
            snprintf(err, errlen, "display: vnc: %.480s", why);
            goto fail;
        }
    }
    return v;
fail:
    /* Devices already added stay on the board, which the caller frees;
     * they never touch the display again (destroy does not reset). */
    vmm_display_free(v);
    return NULL;
}

void vmm_display_stop(struct vmm_display *v)
{
    if (!v)
        return;
    vnc_stop(v->vnc);
    v->vnc = NULL;
}

void vmm_display_free(struct vmm_display *v)
{
    if (!v)
        return;
    vmm_display_stop(v);
    display_free(v->display);
    free(v);
}
