/* SPDX-License-Identifier: MIT */
#include "vmm/guest_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"
#include "util/log.h"
#include "vmm/vm_spec.h"

const char *default_guest_dir(void)
{
    static char dir[4096];
    const char *cache = getenv("WIRT_CACHE");
    if (cache && *cache) {
        snprintf(dir, sizeof(dir), "%s/guest", cache);
        return dir;
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/wirt/guest", xdg);
    else
        snprintf(dir, sizeof(dir), "%s/.cache/wirt/guest", getenv("HOME") ? getenv("HOME") : ".");
    return dir;
}

static char *guest_file(const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s", default_guest_dir(), name) < 0)
        fatal("out of memory");
    return path;
}

char *default_guest_cmdline(void)
{
    char *path = guest_file("cmdline"), err[256];
    int fd = open_regular(path, O_RDONLY, 0, err, sizeof(err)); /* never a FIFO */
    free(path);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char buf[1024];
    char *line = fgets(buf, sizeof(buf), f) ? strdup(buf) : NULL;
    fclose(f);
    if (line)
        line[strcspn(line, "\n")] = '\0';
    return line;
}

/* The path of a default-guest file that must exist, or NULL with err. */
static char *required_guest_file(const char *name, const char *missing, char *err, size_t errlen)
{
    char *path = guest_file(name);
    if (access(path, R_OK) == 0)
        return path;
    snprintf(err, errlen, "%s (%s): run tools/fetch-guest.sh, %s", missing, path,
             !strcmp(name, "Image") ? "or `make run`" : "or pass --bios FILE or --bios none");
    free(path);
    return NULL;
}

bool default_guest_fill(struct vm_spec *s, char *err, size_t errlen)
{
    if (s->elf)
        return true;
    if (!s->kernel) {
        s->kernel = required_guest_file(
            "Image", "no --kernel given and the default guest is missing", err, errlen);
        if (!s->kernel)
            return false;
        if (!s->initrd)
            s->initrd = guest_file("initrd.cpio.gz");
        if (!s->append) {
            s->append = default_guest_cmdline();
            if (!s->append)
                vm_spec_set_string(&s->append, "console=ttyS0");
        }
    }
    if (s->firmware_kind == VM_FIRMWARE_DEFAULT) {
        s->firmware = required_guest_file(
            "fw_dynamic.bin", "--bios: no firmware given and the default firmware is missing", err,
            errlen);
        if (!s->firmware)
            return false;
        s->firmware_kind = VM_FIRMWARE_FILE;
    }
    return true;
}
