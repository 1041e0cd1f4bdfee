/* SPDX-License-Identifier: MIT */
/* wirt vm delete: remove a stopped VM and everything in its directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm_int.h"

int vm_cmd_delete(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("delete: usage: wirt vm delete NAME");
    const char *name = argv[1];
    vm_check_name(name);
    char dir[PATH_MAX];
    vm_path(dir, sizeof(dir), name, NULL);
    if (!vm_exists(name) && access(dir, F_OK) != 0)
        vm_die("no VM named '%s' (see wirt vm list)", name);
    int lock = vm_lock_or_die(name);
    char deps[1024], err[1024];
    struct vm_config cfg;
    /* Only templates have linked clones; a VM with a broken config can
     * still be deleted (that is often why one deletes it). */
    bool tmpl = !vm_config_load(name, &cfg, err, sizeof(err)) || cfg.is_template;
    vm_dependents(name, tmpl, deps, sizeof(deps));
    if (deps[0])
        vm_die("cannot delete '%s': linked clones depend on its disk: %s (delete them first)", name,
               deps);
    /* Out of the namespace first (atomic), then removed: a crash leaves a
     * hidden .del-* directory, never half a VM under its name. */
    char trash[PATH_MAX];
    if (snprintf(trash, sizeof(trash), "%s/.del-%s-%ld", vm_store_vms, name, (long)getpid()) >=
        (int)sizeof(trash))
        vm_die("store path too long");
    if (rename(dir, trash) < 0)
        vm_die("cannot delete %s: %s", dir, strerror(errno));
    vm_unlock(lock);
    if (!vm_rmtree(trash))
        vm_die("deleted '%s' but could not remove all of %s: %s", name, trash, strerror(errno));
    printf("deleted VM '%s'\n", name);
    return 0;
}
