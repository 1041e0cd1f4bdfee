/* SPDX-License-Identifier: MIT */
/* wirt vm template: make a stopped VM a read-only template. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vm/vm_int.h"

int vm_cmd_template(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("template: usage: wirt vm template NAME");
    const char *name = argv[1];
    vm_require(name);
    int lock = vm_lock_or_die(name);
    struct vm_config cfg;
    vm_config_load_or_die(name, &cfg);
    if (cfg.is_template)
        vm_die("'%s' is already a template", name);
    for (unsigned i = 0; i < cfg.ndisks; i++) {
        char p[PATH_MAX];
        vm_path(p, sizeof(p), name, cfg.disks[i].file);
        /* Linked clones read this file as their base: nobody may write it. */
        if (chmod(p, 0400) < 0)
            vm_die("template: %s: %s", p, strerror(errno));
    }
    cfg.is_template = true;
    vm_config_save_or_die(name, &cfg);
    vm_unlock(lock);
    printf("VM '%s' is now a template\n", name);
    return 0;
}
