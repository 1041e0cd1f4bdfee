/* SPDX-License-Identifier: MIT */
/* wirt vm console: attach the terminal to a running VM's serial console. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "vm/vm_int.h"

#define DETACH_KEY 0x1d /* Ctrl-] */

static struct termios saved;
static bool raw_on;

static void restore(void)
{
    if (raw_on)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    raw_on = false;
}

static void on_signal(int sig)
{
    restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

int vm_attach_console(struct vm_store *st, const char *name)
{
    int fd = vm_connect_socket(st, name, VM_SERIAL);
    if (fd < 0)
        vm_die("cannot attach to the console of '%s': %s", name, strerror(errno));
    bool tty = isatty(STDIN_FILENO);
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios raw = saved;
        cfmakeraw(&raw);
        raw_on = true;
        atexit(restore);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "[wirt: attached to '%s'; Ctrl-] detaches]\r\n", name);
    struct pollfd pfd[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    char buf[4096];
    int linger = -1; /* after stdin ends (a pipe): keep printing output briefly */
    int status = 0;
    for (;;) {
        int r = poll(pfd, 2, linger);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            break; /* linger over */
        if (pfd[1].revents) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0) {
                restore();
                fprintf(stderr,
                        "\n[wirt: '%s' closed its console (the VM stopped or another "
                        "console attached)]\n",
                        name);
                break;
            }
            if (!write_all(STDOUT_FILENO, buf, (size_t)n))
                break;
        }
        if (pfd[0].revents) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                pfd[0].fd = -1; /* no more input; the VM keeps running */
                linger = 1500;
                continue;
            }
            char *esc = tty ? memchr(buf, DETACH_KEY, (size_t)n) : NULL;
            size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
            if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0) {
                status = 1;
                break;
            }
            if (esc) {
                restore();
                fprintf(stderr, "\n[wirt: detached from '%s'; it keeps running]\n", name);
                break;
            }
        }
    }
    restore();
    close(fd);
    return status;
}

int vm_cmd_console(struct vm_store *st, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("console: usage: wirt vm console NAME");
    const char *name = argv[1];
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED)
        vm_die("VM '%s' is not running (start it with wirt vm start %s --console)", name, name);
    return vm_attach_console(st, name);
}
