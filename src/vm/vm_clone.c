/* SPDX-License-Identifier: MIT */
/* wirt vm clone: a full copy, or a linked clone (qcow2 overlay) of a template. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "block/block.h"
#include "vm/vm_int.h"

bool vm_clone(struct vm_store *st, const char *src, const char *dst, bool linked,
              struct wirt_error *e)
{
    if (!vm_require(st, src, e) || !vm_check_name(dst, e))
        return false;
    if (vm_exists(st, dst))
        return vm_fail(e, WIRT_ERR_EXISTS, "a VM named '%s' already exists", dst);
    struct vm_config cfg;
    char err[1024];
    if (!vm_config_load(st, src, &cfg, err, sizeof(err)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    if (linked) {
        if (!cfg.is_template)
            return vm_fail(e, WIRT_ERR_STATE,
                           "clone --linked: '%s' is not a template; its disk could change under "
                           "the clone (make it one with wirt vm template %s)",
                           src, src);
        /* A linked clone is exactly what create --from makes. */
        struct vm_create_opts o = {.from = src};
        return vm_create(st, dst, &o, e);
    }
    int lock = vm_lock(st, src, true, e);
    if (lock < 0)
        return false;
    char sdir[PATH_MAX], dir[PATH_MAX];
    char from[PATH_MAX + VM_FILE_MAX], to[PATH_MAX + VM_FILE_MAX];
    vm_path(st, sdir, sizeof(sdir), src, NULL);
    if (!vm_tempdir(st, dir, sizeof(dir), dst, e)) {
        vm_unlock(lock);
        return false;
    }
    bool ok = true;
    const char *files[] = {cfg.kernel, cfg.initrd, cfg.bios};
    for (int i = 0; ok && i < 3; i++) {
        if (!files[i][0])
            continue;
        snprintf(from, sizeof(from), "%s/%s", sdir, files[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
        ok = vm_link_or_copy(from, to, err, sizeof(err));
    }
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        snprintf(from, sizeof(from), "%s/%s", sdir, cfg.disks[i].file);
        snprintf(to, sizeof(to), "%s/%s", dir, cfg.disks[i].file);
        if (cfg.linked_to[0]) {
            /* Flatten: the full clone must not depend on the template. */
            char *args[] = {"wirt",    "img",
                            "convert", "-q",
                            "-f",      cfg.disks[i].format,
                            "-O",      cfg.disks[i].format,
                            from,      to,
                            NULL};
            ok = vm_run_self(args) == 0;
            if (!ok)
                snprintf(err, sizeof(err), "cannot copy disk %s (see the message above)",
                         cfg.disks[i].file);
        } else {
            ok = vm_copy_file(from, to, err, sizeof(err));
        }
        ok = ok && chmod(to, 0600) == 0;
    }
    cfg.is_template = false;
    cfg.linked_to[0] = '\0';
    snprintf(cfg.name, sizeof(cfg.name), "%s", dst);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(cfg.created, sizeof(cfg.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    ok = ok && vm_config_save_dir(dir, &cfg, err, sizeof(err)) &&
         vm_commit_dir(st, dir, dst, err, sizeof(err));
    vm_unlock(lock);
    if (!ok) {
        vm_rmtree(st, dir);
        return vm_fail(e, WIRT_ERR_FAILED, "clone %s %s: %s", src, dst, err);
    }
    return true;
}

int vm_cmd_clone(struct vm_store *st, int argc, char **argv)
{
    const char *src = NULL, *dst = NULL;
    bool linked = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--linked"))
            linked = true;
        else if (argv[i][0] == '-')
            vm_usage("clone: unknown option '%.80s' (see wirt vm clone --help)", argv[i]);
        else if (!src)
            src = argv[i];
        else if (!dst)
            dst = argv[i];
        else
            vm_usage("clone: unexpected argument '%.80s'", argv[i]);
    }
    if (!dst)
        vm_usage("clone: usage: wirt vm clone SRC DST [--linked]");
    struct wirt_error e;
    if (!vm_clone(st, src, dst, linked, &e))
        return vm_report(&e);
    if (linked)
        printf("created VM '%s' from template %s\n", dst, src);
    else
        printf("cloned '%s' to '%s' (full copy)\n", src, dst);
    return 0;
}
