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

int vm_cmd_export(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        vm_usage("export: usage: wirt vm export NAME FILE");
    const char *name = argv[1], *file = argv[2];
    vm_require(name);
    int lock = vm_lock_shared_or_die(name);
    struct vm_config cfg;
    vm_config_load_or_die(name, &cfg);
    char tmp[PATH_MAX + 16], err[1024], dir[PATH_MAX], flat[PATH_MAX + VM_FILE_MAX] = "";
    vm_path(dir, sizeof(dir), name, NULL);
    if (snprintf(tmp, sizeof(tmp), "%s.part", file) >= (int)sizeof(tmp))
        vm_usage("export: file name too long");
    int out = open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, err, sizeof(err));
    if (out < 0)
        vm_die("export: %s", err);
    /* The archive stands alone: a linked clone's disks are flattened. */
    struct vm_config acfg = cfg;
    acfg.linked_to[0] = '\0';
    char cfgdir[PATH_MAX];
    vm_tempdir(cfgdir, sizeof(cfgdir), name);
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
    vm_rmtree(cfgdir);
    vm_unlock(lock);
    if (ok && rename(tmp, file) < 0) {
        snprintf(err, sizeof(err), "%.900s: %s", file, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        vm_die("export %s: %s", name, err);
    }
    printf("exported VM '%s' to %s\n", name, file);
    return 0;
}
