/* SPDX-License-Identifier: MIT */
/* `wirt vm screenshot NAME OUT.png` and the VNC password of a VM. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/file.h"
#include "util/json_file.h"
#include "vmm/vm_spec.h"
#include "vm/vm_int.h"

bool vm_vnc_password_make(const struct vm_store *st, const char *name, char *err, size_t errlen)
{
    char path[PATH_MAX];
    vm_path(st, path, sizeof(path), name, VM_VNC_PASSWD);
    if (access(path, F_OK) == 0)
        return true;
    /* VNC authentication uses 8 characters: 8 of 62 is 47 bits. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[8];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        snprintf(err, errlen, "cannot make a VNC password: %s", strerror(errno));
        return false;
    }
    char pw[10];
    for (int i = 0; i < 8; i++)
        pw[i] = alphabet[raw[i] % 62];
    pw[8] = '\n';
    pw[9] = '\0';
    return write_file_atomic(path, pw, 9, err, errlen);
}

/* The VMM's PNG to out, owner-only and atomically. */
static bool copy_out(const char *from, const char *to, char *err, size_t errlen)
{
    int fd = open_regular(from, O_RDONLY, 0, err, errlen);
    if (fd < 0)
        return false;
    size_t len = 0, cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    ssize_t n = 0;
    while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
            uint8_t *b = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf || n < 0) {
        free(buf);
        snprintf(err, errlen, "cannot read %.400s", from);
        return false;
    }
    bool ok = write_file_atomic(to, buf, len, err, errlen);
    free(buf);
    return ok;
}

int vm_cmd_screenshot(struct vm_store *st, int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        vm_usage("screenshot: usage: wirt vm screenshot NAME OUT.png");
    const char *name = argv[1];
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED) {
        vm_fail(&e, WIRT_ERR_STATE, "screenshot: VM '%s' is not running", name);
        return vm_report(&e);
    }
    /* The VMM may only write in its VM directory (default isolation):
     * it writes the PNG there, and we move it to where it was asked for. */
    char copy[PATH_MAX], dir[PATH_MAX], out[PATH_MAX], tmp[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", argv[2]);
    const char *base = basename(argv[2]);
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !realpath(dirname(copy), dir) ||
        (size_t)snprintf(out, sizeof(out), "%s/%s", dir, base) >= sizeof(out)) {
        vm_fail(&e, WIRT_ERR_INVALID, "screenshot: %s: not a file in an existing directory",
                argv[2]);
        return vm_report(&e);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "filename", json_object_new_string(VM_SCREENSHOT));
    char err[512];
    json_object *r = vm_control_args(st, name, "screendump", args, 30000, err, sizeof(err)), *x, *d;
    json_object_put(args);
    if (!r) {
        vm_fail(&e, WIRT_ERR_FAILED, "screenshot: %s", err);
        return vm_report(&e);
    }
    if (json_object_object_get_ex(r, "error", &x)) {
        vm_fail(&e, WIRT_ERR_FAILED, "screenshot: %s",
                json_object_object_get_ex(x, "desc", &d) ? json_object_get_string(d) : "refused");
        json_object_put(r);
        return vm_report(&e);
    }
    json_object_put(r);
    vm_path(st, tmp, sizeof(tmp), name, VM_SCREENSHOT);
    bool ok = copy_out(tmp, out, err, sizeof(err));
    unlink(tmp);
    if (!ok) {
        vm_fail(&e, WIRT_ERR_FAILED, "screenshot: %s", err);
        return vm_report(&e);
    }
    return 0;
}

bool vm_vnc_endpoint(const struct vm_store *st, const char *name, char *addr, size_t addrlen,
                     int *port, char *password, size_t pwlen)
{
    char p[PATH_MAX], err[256];
    vm_path(st, p, sizeof(p), name, VM_RUNSPEC);
    json_object *spec = json_read_file(p, 1 << 20, 16, err, sizeof(err)), *d, *v;
    bool ok = spec && json_object_object_get_ex(spec, "display", &d) &&
              json_object_object_get_ex(d, "vnc", &v) && json_object_is_type(v, json_type_string) &&
              vm_spec_vnc_addr(json_object_get_string(v), addr, addrlen, port);
    json_object_put(spec);
    if (!ok || !password)
        return ok;
    vm_path(st, p, sizeof(p), name, VM_VNC_PASSWD);
    int fd = open_regular(p, O_RDONLY, 0, err, sizeof(err));
    if (fd < 0)
        return false;
    ssize_t n = read(fd, password, pwlen - 1);
    close(fd);
    password[n > 0 ? n : 0] = '\0';
    password[strcspn(password, "\r\n")] = '\0';
    return n > 0;
}
