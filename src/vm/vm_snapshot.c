/* SPDX-License-Identifier: MIT */
/* wirt vm snapshot: qcow2 internal snapshots of a stopped VM's disks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* The machine state of snapshot snap, taken on a running VM: a file
 * next to the disks rather than in the qcow2 vm-state area, because a VM
 * has several disks but one memory, and because restore maps the file's
 * RAM region straight into the guest (state_file.h), which a region
 * scattered over qcow2 clusters would not allow.  The name is kept
 * readable; other bytes become %XX. */
static bool state_file_name(const char *snap, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, "%s/", VM_SNAPSHOT_DIR);
    for (const unsigned char *c = (const unsigned char *)snap; *c; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                     (*c == '.' && c != (const unsigned char *)snap);
        int w = plain ? snprintf(out + n, outlen - n, "%c", *c)
                      : snprintf(out + n, outlen - n, "%%%02X", *c);
        if (w < 0 || (size_t)w >= outlen - n)
            return false;
        n += (size_t)w;
    }
    return snprintf(out + n, outlen - n, ".state") < (int)(outlen - n) && n < 200;
}

/* Bytes the snapshot's machine state takes on the host, or 0 for none. */
static uint64_t state_bytes(const struct vm_store *st, const char *name, const char *snap)
{
    char f[PATH_MAX], p[PATH_MAX];
    struct stat sb;
    if (!state_file_name(snap, f, sizeof(f)))
        return 0;
    vm_path(st, p, sizeof(p), name, f);
    return stat(p, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
}

static void print_snapshots(const struct vm_store *st, const char *name,
                            const struct vm_config *cfg, unsigned disk,
                            const struct image_snapshot *s, unsigned n)
{
    if (cfg->ndisks > 1)
        printf("%s:\n", cfg->disks[disk].file);
    if (!n && disk == 0)
        printf("no snapshots\n");
    for (unsigned k = 0; k < n; k++) {
        char when[32], mem[32] = "disk only";
        time_t t = (time_t)s[k].date_sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t bytes = state_bytes(st, name, s[k].name);
        if (bytes) {
            char size[24];
            vm_format_size(size, sizeof(size), bytes);
            snprintf(mem, sizeof(mem), "memory %s", size);
        }
        printf("%-4s %-32s %s  %s\n", s[k].id, s[k].name, when, mem);
    }
}

/* create/revert/delete on a running VM: the VMM does it at one instant
 * (its control command `snapshot`), the machine state included. */
static bool running_op(struct vm_store *st, const char *name, const char *op, const char *snap,
                       struct wirt_error *e)
{
    char f[PATH_MAX], p[PATH_MAX];
    if (!state_file_name(snap, f, sizeof(f)))
        return vm_fail(e, WIRT_ERR_INVALID,
                       "snapshot: the name is too long for a snapshot with memory");
    vm_path(st, p, sizeof(p), name, f);
    if (!strcmp(op, "create")) {
        char dir[PATH_MAX];
        vm_path(st, dir, sizeof(dir), name, VM_SNAPSHOT_DIR);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return vm_fail(e, WIRT_ERR_FAILED, "snapshot: %s: %s", dir, strerror(errno));
        vm_hand_over(st, name, dir); /* the VMM writes the state file in it */
    } else if (!strcmp(op, "revert") && access(p, R_OK) != 0) {
        return vm_fail(e, WIRT_ERR_STATE,
                       "snapshot '%s' of '%s' has no memory state, so a running VM cannot go "
                       "back to it; stop the VM to revert its disks",
                       snap, name);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "op", json_object_new_string(op));
    json_object_object_add(args, "name", json_object_new_string(snap));
    json_object_object_add(args, "state", json_object_new_string(f));
    struct vm_job_result res;
    char label[128], why[256];
    snprintf(label, sizeof(label), "snapshot %s", op);
    /* With a guest agent, the guest's file systems are frozen around the
     * instant (so the disks' snapshot alone is consistent too); a revert
     * lands in that frozen moment, so it thaws them, and sets the guest's
     * clock, which stood at the snapshot's time. */
    bool agent = strcmp(op, "delete") != 0 && vm_agent_present(st, name), frozen = false;
    if (agent && !strcmp(op, "create")) {
        json_object *r =
            vm_agent_call(st, name, "guest-fsfreeze-freeze", NULL, 10000, true, why, sizeof(why));
        frozen = r != NULL;
        json_object_put(r);
    }
    bool started = vm_job_run(st, name, "snapshot", args, label, &res, e);
    json_object_put(args);
    if (frozen || (agent && started && !strcmp(op, "revert")))
        json_object_put(
            vm_agent_call(st, name, "guest-fsfreeze-thaw", NULL, 10000, true, why, sizeof(why)));
    if (agent && started && !strcmp(op, "revert") && !strcmp(res.status, "completed"))
        json_object_put(
            vm_agent_call(st, name, "guest-set-time", NULL, 3000, true, why, sizeof(why)));
    if (!started)
        return false;
    if (strcmp(res.status, "completed") != 0)
        return vm_fail(e, WIRT_ERR_FAILED, "snapshot %s %s: %s%s%s", op, snap, res.status,
                       res.error[0] ? ": " : "", res.error);
    if (!strcmp(op, "delete"))
        unlink(p);
    return true;
}

/* Whether a running VM's first disk has snapshot snap, by name (or id,
 * as revert and delete accept) (read without the lock its VMM holds): 1,
 * 0, or -1 when that cannot be told. */
static int running_has_snapshot(struct vm_store *st, const char *name, const char *snap, bool or_id)
{
    struct vm_config cfg;
    char err[512], p[PATH_MAX];
    if (!vm_config_load(st, name, &cfg, err, sizeof(err)) || !cfg.ndisks ||
        strcmp(cfg.disks[0].format, "qcow2"))
        return -1;
    vm_path(st, p, sizeof(p), name, cfg.disks[0].file);
    struct block_dev *bd;
    if (block_open(p, "qcow2", BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bd, err, sizeof(err)) <
        0)
        return -1;
    struct image_snapshot *s = NULL;
    unsigned n = 0;
    int has = image_snapshot_list(bd, &s, &n) < 0 ? -1 : 0;
    for (unsigned i = 0; has == 0 && i < n; i++)
        has = !strcmp(s[i].name, snap) || (or_id && !strcmp(s[i].id, snap));
    free(s);
    block_close(bd);
    return has;
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
    struct vm_runtime rt;
    if (!vm_require(st, name, e))
        return false;
    vm_runtime_get(st, name, &rt);
    bool running = rt.state == VM_RUNNING || rt.state == VM_PAUSED;
    if (running && !list) {
        /* The VMM checks again at the instant; this only gives a missing
         * or taken name its own error (404/409 through the API). */
        bool create = !strcmp(op, "create");
        int has = running_has_snapshot(st, name, snap, !create);
        if (has == 0 && !create)
            return vm_fail(e, WIRT_ERR_NOT_FOUND, "'%s' has no snapshot '%s'", name, snap);
        if (has == 1 && create)
            return vm_fail(e, WIRT_ERR_EXISTS, "'%s' has a snapshot '%s' already", name, snap);
        return running_op(st, name, op, snap, e);
    }
    /* A running VM's snapshots are listed from its images as they are,
     * without the lock its VMM holds. */
    int lock = running ? -1 : vm_lock_config(st, name, false, &cfg, e);
    if (running && !vm_config_load(st, name, &cfg, err, sizeof(err)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    if (!running && lock < 0)
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
        unsigned flags = list ? BLOCK_OPEN_READ_ONLY : 0;
        if (running)
            flags |= BLOCK_OPEN_NO_LOCK;
        if (block_open(p, "qcow2", flags, &bd, err, sizeof(err)) < 0) {
            ok = vm_fail(e, WIRT_ERR_FAILED, "%s", err);
            break;
        }
        int r = 0;
        if (list) {
            struct image_snapshot *s = NULL;
            unsigned n = 0;
            r = image_snapshot_list(bd, &s, &n);
            if (r == 0)
                print_snapshots(st, name, &cfg, i, s, n);
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
            ok = vm_fail(e,
                         r == -ENOENT   ? WIRT_ERR_NOT_FOUND
                         : r == -EEXIST ? WIRT_ERR_EXISTS
                                        : WIRT_ERR_FAILED,
                         "snapshot %s %s on %s: %s", op, snap ? snap : "", p,
                         r == -ENOENT   ? "no such snapshot"
                         : r == -EEXIST ? "a snapshot of that name exists"
                                        : strerror(-r));
    }
    /* The machine state goes with the disks: deleted with them, and a
     * revert to a snapshot with memory leaves the VM suspended at that
     * moment (start resumes it); to one without, a saved state no longer
     * matches the disks. */
    char f[PATH_MAX], p[PATH_MAX];
    if (ok && snap && state_file_name(snap, f, sizeof(f))) {
        vm_path(st, p, sizeof(p), name, f);
        if (!strcmp(op, "delete")) {
            unlink(p);
        } else if (!strcmp(op, "revert")) {
            vm_suspend_forget(st, name);
            if (access(p, R_OK) == 0)
                ok = vm_suspend_from(st, name, &cfg, f, e);
        }
    }
    if (lock >= 0)
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
