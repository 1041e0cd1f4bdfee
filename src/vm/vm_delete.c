/* SPDX-License-Identifier: MIT */
/* wirt vm delete: remove a stopped VM and everything in its directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm_int.h"

bool vm_delete(struct vm_store *st, const char *name, struct wirt_error *e)
{
    if (!vm_check_name(name, e))
        return false;
    char dir[PATH_MAX];
    vm_path(st, dir, sizeof(dir), name, NULL);
    if (!vm_exists(st, name) && access(dir, F_OK) != 0)
        return vm_fail(e, WIRT_ERR_NOT_FOUND, "no VM named '%s' (see wirt vm list)", name);
    int lock = vm_lock(st, name, false, e);
    if (lock < 0)
        return false;
    char deps[1024], err[1024];
    struct vm_config cfg;
    /* Only templates have linked clones; a VM with a broken config can
     * still be deleted (that is often why one deletes it). */
    bool tmpl = !vm_config_load(st, name, &cfg, err, sizeof(err)) || cfg.is_template;
    vm_dependents(st, name, tmpl, deps, sizeof(deps));
    if (deps[0]) {
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_BUSY,
                       "cannot delete '%s': linked clones depend on its disk: %s (delete them "
                       "first)",
                       name, deps);
    }
    /* Out of the namespace first (atomic), then removed: a crash leaves a
     * hidden .del-* directory, never half a VM under its name. */
    char trash[PATH_MAX];
    int n = snprintf(trash, sizeof(trash), "%s/.del-%s-%ld", st->vms, name, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(trash) || rename(dir, trash) < 0) {
        vm_unlock(lock);
        return vm_fail(e, WIRT_ERR_FAILED, "cannot delete %s: %s", dir, strerror(errno));
    }
    vm_unlock(lock);
    if (!vm_rmtree(st, trash))
        return vm_fail(e, WIRT_ERR_FAILED, "deleted '%s' but could not remove all of %s: %s", name,
                       trash, strerror(errno));
    return true;
}

int vm_cmd_delete(struct vm_store *st, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("delete: usage: wirt vm delete NAME");
    struct wirt_error e;
    if (!vm_delete(st, argv[1], &e))
        return vm_report(&e);
    printf("deleted VM '%s'\n", argv[1]);
    return 0;
}
