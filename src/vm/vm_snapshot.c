/* SPDX-License-Identifier: MIT */
/* wirt vm snapshot: qcow2 internal snapshots of a stopped VM's disks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block.h"
#include "vm/vm_int.h"

static void check_snap_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 128)
        vm_usage("snapshot: a snapshot name has 1-128 characters");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            vm_usage("snapshot: the snapshot name contains control characters");
}

int vm_cmd_snapshot(int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        vm_usage("snapshot: usage: wirt vm snapshot NAME create|revert|delete SNAP | "
                 "wirt vm snapshot NAME list");
    const char *name = argv[1], *op = argv[2], *snap = argc > 3 ? argv[3] : NULL;
    bool list = !strcmp(op, "list");
    if (!list && strcmp(op, "create") && strcmp(op, "revert") && strcmp(op, "delete"))
        vm_usage("snapshot: unknown operation '%.40s' (create, list, revert, delete)", op);
    if ((list && argc != 3) || (!list && argc != 4))
        vm_usage("snapshot: %s takes %s", op, list ? "no snapshot name" : "one snapshot name");
    if (snap)
        check_snap_name(snap);
    vm_require(name);
    int lock = vm_lock_or_die(name);
    struct vm_config cfg;
    vm_config_load_or_die(name, &cfg);
    if (!list && cfg.is_template)
        vm_die("'%s' is a template and read-only", name);
    if (!cfg.ndisks)
        vm_die("'%s' has no disk", name);
    for (unsigned i = 0; i < cfg.ndisks; i++)
        if (strcmp(cfg.disks[i].format, "qcow2"))
            vm_die("snapshot: %s is a %s disk; snapshots need qcow2", cfg.disks[i].file,
                   cfg.disks[i].format);
    int status = 0;
    for (unsigned i = 0; i < cfg.ndisks; i++) {
        char p[PATH_MAX], err[512];
        vm_path(p, sizeof(p), name, cfg.disks[i].file);
        struct block_dev *bd;
        if (block_open(p, "qcow2", list ? BLOCK_OPEN_READ_ONLY : 0, &bd, err, sizeof(err)) < 0)
            vm_die("%s", err);
        int r = 0;
        if (list) {
            struct image_snapshot *s = NULL;
            unsigned n = 0;
            r = image_snapshot_list(bd, &s, &n);
            if (r == 0) {
                if (cfg.ndisks > 1)
                    printf("%s:\n", cfg.disks[i].file);
                if (!n && i == 0)
                    printf("no snapshots\n");
                for (unsigned k = 0; k < n; k++) {
                    char when[32];
                    time_t t = (time_t)s[k].date_sec;
                    struct tm tm;
                    localtime_r(&t, &tm);
                    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                    printf("%-4s %-32s %s\n", s[k].id, s[k].name, when);
                }
            }
            free(s);
        } else if (!strcmp(op, "create")) {
            struct image_snapshot *s = NULL;
            unsigned n = 0;
            r = image_snapshot_list(bd, &s, &n);
            for (unsigned k = 0; r == 0 && k < n; k++)
                if (!strcmp(s[k].name, snap))
                    r = -EEXIST;
            free(s);
            if (r == 0)
                r = image_snapshot_create(bd, snap);
        } else if (!strcmp(op, "revert")) {
            r = image_snapshot_apply(bd, snap);
        } else {
            r = image_snapshot_delete(bd, snap);
        }
        if (r == 0 && !list)
            r = block_flush(bd);
        block_close(bd);
        if (r < 0) {
            vm_warn("snapshot %s %s on %s: %s", op, snap ? snap : "", p,
                    r == -ENOENT   ? "no such snapshot"
                    : r == -EEXIST ? "a snapshot of that name exists"
                                   : strerror(-r));
            status = 1;
            break;
        }
    }
    vm_unlock(lock);
    if (!status && !list)
        printf("%s snapshot '%s' of '%s'\n",
               !strcmp(op, "create")   ? "created"
               : !strcmp(op, "revert") ? "reverted to"
                                       : "deleted",
               snap, name);
    return status;
}
