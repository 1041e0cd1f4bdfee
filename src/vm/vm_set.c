/* SPDX-License-Identifier: MIT */
/* wirt vm set: change a stopped VM's configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "machine/board.h"
#include "util/size.h"
#include "vm/vm_int.h"

int vm_cmd_set(int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        vm_usage("set: usage: wirt vm set NAME KEY=VALUE... (keys: memory, cpus, append, net, "
                 "disk-size)");
    const char *name = argv[1];
    vm_require(name);
    int lock = vm_lock_or_die(name);
    struct vm_config cfg;
    vm_config_load_or_die(name, &cfg);
    if (cfg.is_template)
        vm_die("'%s' is a template and read-only; clone it to change it", name);
    bool nets_reset = false;
    uint64_t grow = 0;
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i])
            vm_usage("set: '%.80s' is not KEY=VALUE", argv[i]);
        size_t klen = (size_t)(eq - argv[i]);
        const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && !strncmp(argv[i], k, klen))
        if (KEY("memory")) {
            if (!parse_size(v, &cfg.memory))
                vm_usage("set: memory: '%s' is not a size (examples: 512M, 2G)", v);
            vm_check_memory("set: memory", cfg.memory);
        } else if (KEY("cpus")) {
            char *end, why[128];
            long long n = strtoll(v, &end, 10);
            if (!*v || *end || !vm_spec_cpus_ok(n, why, sizeof(why)))
                vm_usage("set: cpus: '%s' %s", v, why);
            cfg.cpus = (unsigned)n;
        } else if (KEY("append")) {
            if (strlen(v) >= sizeof(cfg.append))
                vm_usage("set: append: too long");
            snprintf(cfg.append, sizeof(cfg.append), "%s", v);
        } else if (KEY("net")) {
            /* The first net= replaces the list, later ones add; net= clears. */
            if (!nets_reset)
                cfg.nnets = 0;
            nets_reset = true;
            if (!*v)
                continue;
            if (cfg.nnets == VM_MAX_NICS)
                vm_usage("set: at most %d net entries", VM_MAX_NICS);
            if (strlen(v) >= sizeof(cfg.nets[0]))
                vm_usage("set: net: too long");
            char why[512];
            if (!vm_spec_nic_text_ok(v, "set: net", why, sizeof(why)))
                vm_usage("%s", why);
            snprintf(cfg.nets[cfg.nnets++], sizeof(cfg.nets[0]), "%s", v);
        } else if (KEY("disk-size")) {
            if (!parse_size(v, &grow) || !grow)
                vm_usage("set: disk-size: '%s' is not a size", v);
        } else {
            vm_usage("set: unknown key '%.*s' (keys: memory, cpus, append, net, disk-size)",
                     (int)klen, argv[i]);
        }
#undef KEY
    }
    if (grow) {
        if (!cfg.ndisks)
            vm_die("set: '%s' has no disk", name);
        char p[PATH_MAX], err[512];
        vm_path(p, sizeof(p), name, cfg.disks[0].file);
        struct block_dev *bd;
        if (block_open(p, cfg.disks[0].format, 0, &bd, err, sizeof(err)) < 0)
            vm_die("%s", err);
        if (grow < block_size(bd))
            vm_die("set: disk-size: shrinking a disk loses data; %s is %llu bytes", p,
                   (unsigned long long)block_size(bd));
        int r = grow == block_size(bd) ? 0 : image_truncate(bd, grow);
        block_close(bd);
        if (r < 0)
            vm_die("set: cannot resize %s: %s", p, strerror(-r));
    }
    vm_config_save_or_die(name, &cfg);
    vm_unlock(lock);
    printf("updated VM '%s'\n", name);
    return 0;
}
