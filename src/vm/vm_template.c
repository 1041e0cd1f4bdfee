/* SPDX-License-Identifier: MIT */
/* wirt vm template: make a stopped VM a read-only template. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/vm_int.h"

bool vm_make_template(struct vm_store *st, const char *name, struct wirt_error *e)
{
    struct vm_config cfg;
    char err[512];
    int lock = vm_lock_config(st, name, false, &cfg, e);
    if (lock < 0)
        return false;
    bool ok = true;
    if (cfg.is_template)
        ok = vm_fail(e, WIRT_ERR_STATE, "'%s' is already a template", name);
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, cfg.disks[i].file);
        /* Linked clones read this file as their base: nobody may write it,
         * nor own it (a VM's own uid, vm_start.c, could chmod it back). */
        if (geteuid() == 0 && lchown(p, 0, 0) < 0)
            ok = vm_fail(e, WIRT_ERR_FAILED, "template: %s: %s", p, strerror(errno));
        if (ok && chmod(p, 0400) < 0)
            ok = vm_fail(e, WIRT_ERR_FAILED, "template: %s: %s", p, strerror(errno));
    }
    if (ok && geteuid() == 0) { /* and the directory: its uid is free again */
        char dir[PATH_MAX];
        vm_path(st, dir, sizeof(dir), name, NULL);
        if (lchown(dir, 0, 0) < 0)
            ok = vm_fail(e, WIRT_ERR_FAILED, "template: %s: %s", dir, strerror(errno));
    }
    cfg.is_template = true;
    if (ok && !vm_config_save(st, name, &cfg, err, sizeof(err)))
        ok = vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    vm_unlock(lock);
    return ok;
}

int vm_cmd_template(struct vm_store *st, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("template: usage: wirt vm template NAME");
    struct wirt_error e;
    if (!vm_make_template(st, argv[1], &e))
        return vm_report(&e);
    printf("VM '%s' is now a template\n", argv[1]);
    return 0;
}
