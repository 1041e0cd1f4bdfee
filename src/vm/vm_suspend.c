/* SPDX-License-Identifier: MIT */
/*
 * wirt vm suspend: the running VM is saved to its directory
 * (VM_SUSPEND_STATE, through the VMM's `save` with "quit") and its VMM
 * exits; `wirt vm start` resumes it from there (`wirt run --restore`) and
 * then forgets the state, so it is never resumed twice.
 *
 * VM_SUSPEND_INFO records each disk's identity (inode, size, mtime) once
 * the VMM has closed it: a disk changed since (a snapshot reverted, the
 * image replaced or written by hand) would not match the saved guest's
 * memory, so start refuses it, and `start --fresh` boots from the disk.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/json_file.h"
#include "vm/vm_int.h"

static json_object *disk_ids(const struct vm_store *st, const char *name,
                             const struct vm_config *cfg)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        char p[PATH_MAX];
        struct stat sb;
        vm_path(st, p, sizeof(p), name, cfg->disks[i].file);
        json_object *d = json_object_new_object();
        json_object_object_add(d, "file", json_object_new_string(cfg->disks[i].file));
        if (stat(p, &sb) == 0) {
            json_object_object_add(d, "inode", json_object_new_int64((int64_t)sb.st_ino));
            json_object_object_add(d, "size", json_object_new_int64((int64_t)sb.st_size));
            json_object_object_add(d, "mtime-ns",
                                   json_object_new_int64((int64_t)sb.st_mtim.tv_sec * 1000000000 +
                                                         sb.st_mtim.tv_nsec));
        }
        json_object_array_add(a, d);
    }
    return a;
}

bool vm_is_suspended(const struct vm_store *st, const char *name)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_INFO);
    return access(p, F_OK) == 0;
}

void vm_suspend_forget(const struct vm_store *st, const char *name)
{
    char p[PATH_MAX];
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_INFO);
    unlink(p);
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_STATE);
    unlink(p);
}

bool vm_suspend_check(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                      struct wirt_error *e)
{
    char p[PATH_MAX], why[512];
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_INFO);
    json_object *info = json_read_file(p, 1 << 20, 16, why, sizeof(why)), *saved;
    if (!info)
        return vm_fail(e, WIRT_ERR_FAILED, "VM '%s': cannot read its suspended state: %s", name,
                       why);
    json_object *now = disk_ids(st, name, cfg);
    bool same = json_object_object_get_ex(info, "disks", &saved) && json_object_equal(saved, now);
    json_object_put(now);
    json_object_put(info);
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_STATE);
    if (access(p, R_OK) != 0)
        return vm_fail(e, WIRT_ERR_FAILED,
                       "VM '%s' is suspended but its state file %s is gone; `wirt vm start %s "
                       "--fresh` boots it from its disks",
                       name, VM_SUSPEND_STATE, name);
    if (!same)
        return vm_fail(e, WIRT_ERR_STATE,
                       "VM '%s': a disk changed since it was suspended, so its saved memory no "
                       "longer matches; `wirt vm start %s --fresh` discards the saved state",
                       name, name);
    return true;
}

static bool write_info(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                       const char *how, struct wirt_error *e)
{
    json_object *info = json_object_new_object();
    json_object_object_add(info, "state", json_object_new_string(VM_SUSPEND_STATE));
    json_object_object_add(info, "disks", disk_ids(st, name, cfg));
    json_object_object_add(info, "save", json_object_new_string(how));
    char p[PATH_MAX], why[512];
    vm_path(st, p, sizeof(p), name, VM_SUSPEND_INFO);
    bool ok = json_write_file(p, info, why, sizeof(why));
    json_object_put(info);
    return ok ? true : vm_fail(e, WIRT_ERR_FAILED, "%s", why);
}

bool vm_suspend_from(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                     const char *file, struct wirt_error *e)
{
    char from[PATH_MAX], to[PATH_MAX];
    vm_path(st, from, sizeof(from), name, file);
    vm_path(st, to, sizeof(to), name, VM_SUSPEND_STATE);
    unlink(to);
    /* A second name for the same file: resuming maps it privately, and
     * forgetting removes only this name, so the snapshot keeps its own. */
    if (link(from, to) < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "snapshot: %s: %s", to, strerror(errno));
    char how[300];
    snprintf(how, sizeof(how), "reverted to %s", file);
    return write_info(st, name, cfg, how, e);
}

int vm_cmd_suspend(struct vm_store *st, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        vm_usage("suspend: usage: wirt vm suspend NAME");
    const char *name = argv[1];
    struct wirt_error e;
    struct vm_config cfg;
    char why[512];
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    if (!vm_config_load(st, name, &cfg, why, sizeof(why))) {
        vm_fail(&e, WIRT_ERR_FAILED, "%s", why);
        return vm_report(&e);
    }
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED) {
        vm_fail(&e, WIRT_ERR_STATE, "suspend: VM '%s' is not running", name);
        return vm_report(&e);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "file", json_object_new_string(VM_SUSPEND_STATE));
    json_object_object_add(args, "quit", json_object_new_boolean(true));
    struct vm_job_result res;
    char label[128];
    snprintf(label, sizeof(label), "suspending %s", name);
    bool started = vm_job_run(st, name, "save", args, label, &res, &e);
    json_object_put(args);
    if (!started)
        return vm_report(&e);
    if (strcmp(res.status, "completed") != 0) {
        vm_fail(&e, WIRT_ERR_FAILED, "suspend: %s%s%s (the VM keeps running)", res.status,
                res.error[0] ? ": " : "", res.error);
        return vm_report(&e);
    }
    /* The VMM powers off once it reported; its disks are closed when it
     * releases the lock, and only then are their identities final. */
    int fd = -1;
    for (int waited = 0; waited < 30000 && (fd = vm_lock_try(st, name)) < 0; waited += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (fd < 0) {
        vm_fail(&e, WIRT_ERR_FAILED, "suspend: the VMM of '%s' did not exit after saving", name);
        return vm_report(&e);
    }
    vm_clean_runtime(st, name);
    bool ok = write_info(st, name, &cfg, res.result, &e);
    vm_unlock(fd);
    if (!ok)
        return vm_report(&e);
    printf("suspended VM '%s' (%s)\n", name, res.result);
    return 0;
}
