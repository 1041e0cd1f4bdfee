/* SPDX-License-Identifier: MIT */
/* wirt vm export: one archive (tar) with a stopped VM's config and files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"
#include "vm/vm_archive.h"
#include "vm/vm_int.h"

bool vm_export(struct vm_store *st, const char *name, const char *file, struct wirt_error *e)
{
    char tmp[PATH_MAX + 16], err[1024], dir[PATH_MAX], flat[PATH_MAX + VM_FILE_MAX] = "";
    if (snprintf(tmp, sizeof(tmp), "%s.part", file) >= (int)sizeof(tmp))
        return vm_fail(e, WIRT_ERR_INVALID, "export: file name too long");
    struct vm_config cfg;
    int lock = vm_lock_config(st, name, true, &cfg, e);
    if (lock < 0)
        return false;
    vm_path(st, dir, sizeof(dir), name, NULL);
    int out = open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, err, sizeof(err));
    if (out < 0) {
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_FAILED, "export: %s", err);
    }
    /* The archive stands alone: a linked clone's disks are flattened. */
    struct vm_config acfg = cfg;
    acfg.linked_to[0] = '\0';
    char cfgdir[PATH_MAX];
    if (!vm_tempdir(st, cfgdir, sizeof(cfgdir), name, e)) {
        close(out);
        unlink(tmp);
        vm_unlock(lock);
        return false;
    }
    bool ok = vm_config_save_dir(cfgdir, &acfg, err, sizeof(err));
    char p[PATH_MAX + VM_FILE_MAX];
    snprintf(p, sizeof(p), "%s/%s", cfgdir, VM_CONFIG);
    ok = ok && tar_add_file(out, VM_CONFIG, p, err, sizeof(err));
    const char *files[] = {cfg.kernel, cfg.initrd, cfg.bios};
    for (int i = 0; ok && i < 3; i++) {
        if (!files[i][0])
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        ok = tar_add_file(out, files[i], p, err, sizeof(err));
    }
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, cfg.disks[i].file);
        if (cfg.linked_to[0]) {
            snprintf(flat, sizeof(flat), "%s/%s", cfgdir, cfg.disks[i].file);
            char *args[] = {"wirt",    "img",
                            "convert", "-q",
                            "-f",      cfg.disks[i].format,
                            "-O",      cfg.disks[i].format,
                            p,         flat,
                            NULL};
            if (vm_run_self(args) != 0) {
                snprintf(err, sizeof(err), "cannot flatten disk %s", cfg.disks[i].file);
                ok = false;
                break;
            }
            ok = tar_add_file(out, cfg.disks[i].file, flat, err, sizeof(err));
            unlink(flat);
        } else {
            ok = tar_add_file(out, cfg.disks[i].file, p, err, sizeof(err));
        }
    }
    ok = ok && tar_finish(out);
    if (ok && fsync(out) < 0) {
        snprintf(err, sizeof(err), "%.900s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (close(out) < 0 && ok) {
        snprintf(err, sizeof(err), "%.900s: %s", tmp, strerror(errno));
        ok = false;
    }
    vm_rmtree(st, cfgdir);
    vm_unlock(lock);
    if (ok && rename(tmp, file) < 0) {
        snprintf(err, sizeof(err), "%.900s: %s", file, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        return vm_fail(e, WIRT_ERR_FAILED, "export %s: %s", name, err);
    }
    return true;
}

int vm_cmd_export(struct vm_store *st, int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        vm_usage("export: usage: wirt vm export NAME FILE");
    struct wirt_error e;
    if (!vm_export(st, argv[1], argv[2], &e))
        return vm_report(&e);
    printf("exported VM '%s' to %s\n", argv[1], argv[2]);
    return 0;
}
