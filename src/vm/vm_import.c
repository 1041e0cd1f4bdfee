/* SPDX-License-Identifier: MIT */
/* wirt vm import: a new VM from an export archive.  The archive is
 * untrusted: members are only the files its config names, written into a
 * fresh directory; disks may not have backing files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "util/file.h"
#include "vm/vm_archive.h"
#include "vm/vm_int.h"

#define MAX_CONFIG    (256 * 1024)
#define MAX_BOOT_FILE (1ULL << 30) /* kernel, initrd, firmware */

/* A member cannot hold more than the archive has left: a header that
 * says otherwise is a lie, and would only fill the disk before failing. */
static bool member_fits(int in, const char *member, uint64_t size, uint64_t limit, char *err,
                        size_t errlen)
{
    struct stat st;
    off_t pos = lseek(in, 0, SEEK_CUR);
    if (fstat(in, &st) == 0 && pos >= 0 && size > (uint64_t)(st.st_size - pos)) {
        snprintf(err, errlen, "member %.100s claims %llu bytes but the archive ends before that",
                 member, (unsigned long long)size);
        return false;
    }
    if (size > limit) {
        snprintf(err, errlen, "member %.100s is too large (%llu bytes; the limit is %llu)", member,
                 (unsigned long long)size, (unsigned long long)limit);
        return false;
    }
    return true;
}

static bool import_into(int in, const char *dir, const char *want_name, char *name_out, char *err,
                        size_t errlen)
{
    char member[101];
    uint64_t size;
    bool eof;
    if (!tar_next(in, member, &size, &eof, err, errlen)) {
        if (eof)
            snprintf(err, errlen, "the archive is empty");
        return false;
    }
    if (strcmp(member, VM_CONFIG) || size > MAX_CONFIG) {
        snprintf(err, errlen, "not a wirt VM archive (the first member must be %s)", VM_CONFIG);
        return false;
    }
    char cpath[PATH_MAX + 16];
    snprintf(cpath, sizeof(cpath), "%s/%s.archive", dir, VM_CONFIG);
    int fd = open(cpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || !tar_extract(in, size, fd, err, errlen)) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    char *text = calloc(1, (size_t)size + 1);
    bool ok = text && pread(fd, text, (size_t)size, 0) == (ssize_t)size;
    close(fd);
    unlink(cpath);
    json_object *o = ok ? json_tokener_parse(text) : NULL;
    free(text);
    struct vm_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.name, sizeof(cfg.name), "imported");
    char msg[512];
    if (!o || !vm_config_from_json(o, &cfg, msg, sizeof(msg))) {
        snprintf(err, errlen, "the archive's %s is invalid: %s", VM_CONFIG, o ? msg : "not JSON");
        json_object_put(o);
        return false;
    }
    json_object_put(o);
    if (want_name)
        snprintf(cfg.name, sizeof(cfg.name), "%s", want_name);
    snprintf(name_out, VM_NAME_MAX + 1, "%s", cfg.name);
    cfg.linked_to[0] = '\0';

    /* Exactly the files the config names, each once. */
    const char *need[3 + VM_MAX_DISKS];
    bool got[3 + VM_MAX_DISKS] = {false};
    unsigned nneed = 0;
    if (cfg.kernel[0])
        need[nneed++] = cfg.kernel;
    if (cfg.initrd[0])
        need[nneed++] = cfg.initrd;
    if (cfg.bios[0])
        need[nneed++] = cfg.bios;
    for (unsigned i = 0; i < cfg.ndisks; i++)
        need[nneed++] = cfg.disks[i].file;
    for (;;) {
        if (!tar_next(in, member, &size, &eof, err, errlen)) {
            if (eof)
                break;
            return false;
        }
        unsigned k = 0;
        while (k < nneed && strcmp(need[k], member))
            k++;
        if (k == nneed || got[k]) {
            snprintf(err, errlen, "unexpected member '%.100s' in the archive", member);
            return false;
        }
        bool is_disk = false;
        for (unsigned i = 0; i < cfg.ndisks; i++)
            is_disk |= !strcmp(cfg.disks[i].file, member);
        if (!member_fits(in, member, size, is_disk ? UINT64_MAX : MAX_BOOT_FILE, err, errlen))
            return false;
        /* Several config entries may name one file (kernel == initrd): mark all. */
        char path[PATH_MAX + 128];
        snprintf(path, sizeof(path), "%s/%s", dir, member);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
            return false;
        }
        ok = tar_extract(in, size, fd, err, errlen);
        if (ok && (fsync(fd) < 0 || close(fd) < 0)) {
            snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
            return false;
        } else if (!ok) {
            close(fd);
            return false;
        }
        for (unsigned j = 0; j < nneed; j++)
            if (!strcmp(need[j], member))
                got[j] = true;
    }
    for (unsigned k = 0; k < nneed; k++)
        if (!got[k]) {
            snprintf(err, errlen, "the archive lacks %s", need[k]);
            return false;
        }
    for (unsigned i = 0; i < cfg.ndisks; i++) {
        char path[PATH_MAX + 128];
        snprintf(path, sizeof(path), "%s/%s", dir, cfg.disks[i].file);
        struct block_dev *bd;
        if (block_open(path, cfg.disks[i].format, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_BACKING, &bd,
                       msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "disk %s: %s", cfg.disks[i].file, msg);
            return false;
        }
        struct image_info info;
        bool backing = image_get_info(bd, &info) == 0 && info.backing_file[0];
        block_close(bd);
        /* A backing file would let the archive read any file on the host. */
        if (backing) {
            snprintf(err, errlen, "disk %s refers to a backing file (%.200s); refusing it",
                     cfg.disks[i].file, info.backing_file);
            return false;
        }
        if (cfg.is_template)
            chmod(path, 0400);
    }
    return vm_config_save_dir(dir, &cfg, err, errlen);
}

bool vm_import(struct vm_store *st, const char *file, const char *want, char *made, size_t madelen,
               struct wirt_error *e)
{
    if (want) {
        if (!vm_check_name(want, e))
            return false;
        if (vm_exists(st, want))
            return vm_fail(e, WIRT_ERR_EXISTS, "a VM named '%s' already exists", want);
    }
    /* Not a FIFO or a device: those would block or never end. */
    char err[1024];
    int in = open_regular(file, O_RDONLY, 0, err, sizeof(err));
    if (in < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "import: %s", err);
    char dir[PATH_MAX], name[VM_NAME_MAX + 1] = "";
    if (!vm_tempdir(st, dir, sizeof(dir), want ? want : "import", e)) {
        close(in);
        return false;
    }
    bool ok = import_into(in, dir, want, name, err, sizeof(err));
    close(in);
    ok = ok && vm_commit_dir(st, dir, name, err, sizeof(err));
    if (!ok) {
        vm_rmtree(st, dir);
        return vm_fail(e, strstr(err, "already exists") ? WIRT_ERR_EXISTS : WIRT_ERR_FAILED,
                       "import %s: %s", file, err);
    }
    snprintf(made, madelen, "%s", name);
    return true;
}

int vm_cmd_import(struct vm_store *st, int argc, char **argv)
{
    if (argc < 2 || argc > 3 || argv[1][0] == '-')
        vm_usage("import: usage: wirt vm import FILE [NAME]");
    const char *file = argv[1];
    char name[VM_NAME_MAX + 1];
    struct wirt_error e;
    if (!vm_import(st, file, argc == 3 ? argv[2] : NULL, name, sizeof(name), &e))
        return vm_report(&e);
    printf("imported VM '%s' from %s\n", name, file);
    return 0;
}
