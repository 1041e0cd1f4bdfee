/* SPDX-License-Identifier: MIT */
/*
 * wirt vm move-disk: moves a running VM's disk to a new file (another
 * name or format) in its directory while the guest runs.  The VMM does
 * the copy and the switch (control command move-disk); this verb starts
 * it, shows its progress, and once it completed points the VM's
 * configuration at the new file and removes the old one.
 *
 * The running VMM holds the VM's lock, so no other mutating command can
 * run meanwhile; the configuration is rewritten atomically.  If this
 * process dies after the switch but before the rewrite, the VM runs on
 * the new file and the old one is still there and still configured: the
 * next start would use stale data, so SIGINT and SIGTERM only cancel the
 * job (the VM stays where it was unless the move completed first) and
 * the configuration is still written after a completed move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm_int.h"

/* Index of DISK: "vda".."vdz", a number, or the disk's file name. */
static int find_disk(const struct vm_config *cfg, const char *disk)
{
    if (strlen(disk) == 3 && disk[0] == 'v' && disk[1] == 'd' && disk[2] >= 'a' && disk[2] <= 'z')
        return disk[2] - 'a' < (int)cfg->ndisks ? disk[2] - 'a' : -1;
    char *end;
    long n = strtol(disk, &end, 10);
    if (*disk && !*end)
        return n >= 0 && n < (long)cfg->ndisks ? (int)n : -1;
    for (unsigned i = 0; i < cfg->ndisks; i++)
        if (!strcmp(cfg->disks[i].file, disk))
            return (int)i;
    return -1;
}

static bool move(struct vm_store *st, const char *name, const char *disk, const char *file,
                 const char *format, struct wirt_error *e)
{
    if (!vm_require(st, name, e))
        return false;
    if (!vm_file_name_valid(file))
        return vm_fail(e, WIRT_ERR_INVALID,
                       "move-disk: --to '%s' must be a plain file name (the new file is made in "
                       "the VM's directory)",
                       file);
    if (format && strcmp(format, "qcow2") != 0 && strcmp(format, "raw") != 0)
        return vm_fail(e, WIRT_ERR_INVALID, "move-disk: --format must be qcow2 or raw, not '%s'",
                       format);
    struct vm_config cfg;
    char why[512];
    if (!vm_config_load(st, name, &cfg, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", why);
    int idx = find_disk(&cfg, disk);
    if (idx < 0)
        return vm_fail(e, WIRT_ERR_INVALID, "move-disk: VM '%s' has no disk '%s'", name, disk);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED)
        return vm_fail(e, WIRT_ERR_STATE,
                       "move-disk: VM '%s' is not running (for a stopped VM use wirt img convert)",
                       name);
    if (!format)
        format = cfg.disks[idx].format;
    char target[PATH_MAX];
    vm_path(st, target, sizeof(target), name, file);
    if (access(target, F_OK) == 0)
        return vm_fail(e, WIRT_ERR_EXISTS, "move-disk: %s already exists", target);

    json_object *args = json_object_new_object();
    json_object_object_add(args, "disk", json_object_new_int(idx));
    json_object_object_add(args, "target", json_object_new_string(target));
    json_object_object_add(args, "format", json_object_new_string(format));
    char label[128];
    snprintf(label, sizeof(label), "moving %s", cfg.disks[idx].file);
    struct vm_job_result res;
    bool started = vm_job_run(st, name, "move-disk", args, label, &res, e);
    json_object_put(args);
    if (!started)
        return false;
    const char *status = res.status, *error = res.error;
    bool ok = !strcmp(status, "completed");
    if (ok) {
        /* The VM runs on the new file now: record it (the old file is
         * removed only after the configuration no longer names it). */
        char old[PATH_MAX];
        vm_path(st, old, sizeof(old), name, cfg.disks[idx].file);
        if (!vm_config_load(st, name, &cfg, why, sizeof(why))) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "move-disk: the VM runs on %s but %s", target, why);
        } else {
            snprintf(cfg.disks[idx].file, sizeof(cfg.disks[idx].file), "%s", file);
            snprintf(cfg.disks[idx].format, sizeof(cfg.disks[idx].format), "%s", format);
            cfg.linked_to[0] = '\0'; /* the copy holds everything: no template behind it */
            if (!vm_config_save(st, name, &cfg, why, sizeof(why)))
                ok =
                    vm_fail(e, WIRT_ERR_FAILED, "move-disk: the VM runs on %s but %s", target, why);
            else if (strcmp(old, target) != 0)
                unlink(old);
        }
    } else {
        vm_fail(e, WIRT_ERR_FAILED, "move-disk: %s%s%s; VM '%s' stays on %s", status,
                error[0] ? ": " : "", error, name, cfg.disks[idx].file);
    }
    return ok;
}

int vm_cmd_move_disk(struct vm_store *st, int argc, char **argv)
{
    const char *to = NULL, *format = NULL;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (argv[i][0] == '-' || npos == 2)
            vm_usage("move-disk: usage: wirt vm move-disk NAME DISK --to FILE [--format "
                     "qcow2|raw]");
        else
            pos[npos++] = argv[i];
    }
    if (npos != 2 || !to)
        vm_usage("move-disk: usage: wirt vm move-disk NAME DISK --to FILE [--format qcow2|raw]");
    struct wirt_error e;
    if (!move(st, pos[0], pos[1], to, format, &e))
        return vm_report(&e);
    printf("moved disk %s of VM '%s' to %s\n", pos[1], pos[0], to);
    return 0;
}
