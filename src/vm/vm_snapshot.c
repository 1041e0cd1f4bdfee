/* SPDX-License-Identifier: MIT */
/* wirt vm snapshot: qcow2 internal snapshots of a stopped VM's disks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block/block.h"
#include "vm/vm_int.h"

static bool check_snap_name(const char *s, struct wirt_error *e)
{
    size_t len = strlen(s);
    if (len == 0 || len > 128)
        return vm_fail(e, WIRT_ERR_INVALID, "snapshot: a snapshot name has 1-128 characters");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return vm_fail(e, WIRT_ERR_INVALID,
                           "snapshot: the snapshot name contains control characters");
    return true;
}

static void print_snapshots(const struct vm_config *cfg, unsigned disk,
                            const struct image_snapshot *s, unsigned n)
{
    if (cfg->ndisks > 1)
        printf("%s:\n", cfg->disks[disk].file);
    if (!n && disk == 0)
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

/* op is "create", "revert", "delete" or "list" (snap NULL); list prints
 * (the one operation that does: it is the verb's output). */
static bool snapshot_op(struct vm_store *st, const char *name, const char *op, const char *snap,
                        struct wirt_error *e)
{
    bool list = !strcmp(op, "list");
    if (!list && strcmp(op, "create") && strcmp(op, "revert") && strcmp(op, "delete"))
        return vm_fail(e, WIRT_ERR_INVALID,
                       "snapshot: unknown operation '%.40s' (create, list, revert, delete)", op);
    if (list != !snap)
        return vm_fail(e, WIRT_ERR_INVALID, "snapshot: %s takes %s", op,
                       list ? "no snapshot name" : "one snapshot name");
    if (snap && !check_snap_name(snap, e))
        return false;
    struct vm_config cfg;
    char err[512];
    int lock = vm_lock_config(st, name, false, &cfg, e);
    if (lock < 0)
        return false;
    bool ok = true;
    if (!list && cfg.is_template)
        ok = vm_fail(e, WIRT_ERR_STATE, "'%s' is a template and read-only", name);
    if (ok && !cfg.ndisks)
        ok = vm_fail(e, WIRT_ERR_STATE, "'%s' has no disk", name);
    for (unsigned i = 0; ok && i < cfg.ndisks; i++)
        if (strcmp(cfg.disks[i].format, "qcow2"))
            ok = vm_fail(e, WIRT_ERR_STATE, "snapshot: %s is a %s disk; snapshots need qcow2",
                         cfg.disks[i].file, cfg.disks[i].format);
    for (unsigned i = 0; ok && i < cfg.ndisks; i++) {
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, cfg.disks[i].file);
        struct block_dev *bd;
        if (block_open(p, "qcow2", list ? BLOCK_OPEN_READ_ONLY : 0, &bd, err, sizeof(err)) < 0) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "%s", err);
            break;
        }
        int r = 0;
        if (list) {
            struct image_snapshot *s = NULL;
            unsigned n = 0;
            r = image_snapshot_list(bd, &s, &n);
            if (r == 0)
                print_snapshots(&cfg, i, s, n);
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
        if (r < 0)
            ok = vm_fail(e, WIRT_ERR_FAILED, "snapshot %s %s on %s: %s", op, snap ? snap : "", p,
                         r == -ENOENT   ? "no such snapshot"
                         : r == -EEXIST ? "a snapshot of that name exists"
                                        : strerror(-r));
    }
    vm_unlock(lock);
    return ok;
}

bool vm_snapshot(struct vm_store *st, const char *name, const char *op, const char *snap,
                 struct wirt_error *e)
{
    if (!strcmp(op, "list"))
        return vm_fail(e, WIRT_ERR_INVALID,
                       "snapshot: list is not an operation here (vm_info lists the snapshots)");
    return snapshot_op(st, name, op, snap, e);
}

int vm_cmd_snapshot(struct vm_store *st, int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        vm_usage("snapshot: usage: wirt vm snapshot NAME create|revert|delete SNAP | "
                 "wirt vm snapshot NAME list");
    bool known = !strcmp(argv[2], "list") || !strcmp(argv[2], "create") ||
                 !strcmp(argv[2], "revert") || !strcmp(argv[2], "delete");
    if (known && argc > 4)
        vm_usage("snapshot: %s takes %s", argv[2],
                 !strcmp(argv[2], "list") ? "no snapshot name" : "one snapshot name");
    const char *name = argv[1], *op = argv[2], *snap = argc > 3 ? argv[3] : NULL;
    struct wirt_error e;
    if (!snapshot_op(st, name, op, snap, &e))
        return vm_report(&e);
    if (strcmp(op, "list"))
        printf("%s snapshot '%s' of '%s'\n",
               !strcmp(op, "create")   ? "created"
               : !strcmp(op, "revert") ? "reverted to"
                                       : "deleted",
               snap, name);
    return 0;
}
