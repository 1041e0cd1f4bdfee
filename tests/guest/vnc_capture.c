/* SPDX-License-Identifier: MIT */
/*
 * A tiny VNC client (libvncclient) for the display tests and bench:
 *
 *   vnc_capture HOST PORT [-p PASSWORD] [-o OUT.ppm] [-s SECONDS]
 *               [-k KEYSYM] [-m X,Y]
 *
 * Connects (VNC authentication with PASSWORD if the server asks), takes
 * one full framebuffer update, then keeps asking for incremental updates
 * for SECONDS (0: none) and prints "frames N width W height H": the
 * updates that carried pixels.  -o writes the last framebuffer as a PPM.
 * -k presses and releases a key (an X keysym, such as 0x61 for 'a'), -m
 * moves the pointer to (X, Y) with the left button clicked, after the
 * first update.  Exit status 2 when the connection or authentication fails.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *password;
static long frames, rects;

static char *get_password(rfbClient *cl)
{
    (void)cl;
    return strdup(password ? password : "");
}

static void got_update(rfbClient *cl, int x, int y, int w, int h)
{
    (void)cl, (void)x, (void)y, (void)w, (void)h;
    rects++;
}

static void finished_update(rfbClient *cl)
{
    (void)cl;
    if (rects)
        frames++;
    rects = 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void quiet(const char *fmt, ...)
{
    (void)fmt;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: vnc_capture HOST PORT [-p PASSWORD] [-o OUT.ppm] [-s SECONDS]\n");
        return 1;
    }
    const char *out = NULL;
    double seconds = 0;
    long key = -1;
    int mx = -1, my = -1;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-p"))
            password = argv[i + 1];
        else if (!strcmp(argv[i], "-o"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "-s"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-k"))
            key = strtol(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "-m") && sscanf(argv[i + 1], "%d,%d", &mx, &my) != 2)
            return 1;
    }
    rfbClientLog = quiet;
    rfbClientErr = quiet;
    rfbClient *cl = rfbGetClient(8, 3, 4);
    cl->serverHost = strdup(argv[1]);
    cl->serverPort = atoi(argv[2]);
    cl->GetPassword = get_password;
    cl->GotFrameBufferUpdate = got_update;
    cl->FinishedFrameBufferUpdate = finished_update;
    cl->canHandleNewFBSize = TRUE;
    int zero = 0;
    if (!rfbInitClient(cl, &zero, NULL)) {
        fprintf(stderr, "vnc_capture: cannot connect or authenticate\n");
        return 2;
    }
    /* The first (full) update. */
    double end = now() + 30;
    while (!frames && now() < end) {
        int n = WaitForMessage(cl, 100000);
        if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) {
            fprintf(stderr, "vnc_capture: connection lost\n");
            return 2;
        }
    }
    long first = frames;
    if (key >= 0) {
        SendKeyEvent(cl, (uint32_t)key, TRUE);
        SendKeyEvent(cl, (uint32_t)key, FALSE);
    }
    if (mx >= 0) {
        SendPointerEvent(cl, mx, my, 1);
        SendPointerEvent(cl, mx, my, 0);
    }
    end = now() + seconds;
    while (now() < end) {
        int n = WaitForMessage(cl, 10000);
        if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl)))
            return 2;
    }
    printf("frames %ld width %d height %d\n", frames - first, cl->width, cl->height);
    if (out) {
        FILE *f = fopen(out, "wb");
        if (!f)
            return 1;
        fprintf(f, "P6\n%d %d\n255\n", cl->width, cl->height);
        for (long i = 0; i < (long)cl->width * cl->height; i++) {
            const uint8_t *p = cl->frameBuffer + 4 * i; /* R, G, B, X */
            fputc(p[0], f);
            fputc(p[1], f);
            fputc(p[2], f);
        }
        fclose(f);
    }
    rfbClientCleanup(cl);
    return 0;
}
