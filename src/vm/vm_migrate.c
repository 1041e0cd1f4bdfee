/* SPDX-License-Identifier: MIT */
/*
 * wirt vm migrate: live-migrates a running VM to a destination VMM
 * (`wirt run --incoming tcp:ADDR:PORT` with the same machine options)
 * through the VMM's control command `migrate`; on success the VM runs
 * there and its VMM here has exited.  --cancel stops a running migration
 * (the VM keeps running here).  The shared secret is $WIRT_MIGRATION_SECRET
 * on both sides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_int.h"

static const char usage[] =
    "migrate: usage: wirt vm migrate NAME --to tcp:HOST:PORT [--max-downtime MS] "
    "[--copy-storage] | "
    "wirt vm migrate NAME --cancel";

static bool cancel(const struct vm_store *st, const char *name, struct wirt_error *e)
{
    char why[512];
    json_object *r = vm_control(st, name, "jobs", 5000, why, sizeof(why)), *ret;
    if (!r)
        return vm_fail(e, WIRT_ERR_FAILED, "%s", why);
    bool found = false;
    if (json_object_object_get_ex(r, "return", &ret) && json_object_is_type(ret, json_type_array))
        for (size_t i = 0; i < json_object_array_length(ret); i++) {
            json_object *j = json_object_array_get_idx(ret, i), *t, *s, *id;
            if (json_object_object_get_ex(j, "type", &t) &&
                !strcmp(json_object_get_string(t), "migrate") &&
                json_object_object_get_ex(j, "status", &s) &&
                !strcmp(json_object_get_string(s), "running") &&
                json_object_object_get_ex(j, "id", &id)) {
                json_object *args = json_object_new_object();
                json_object_object_add(args, "id", json_object_get(id));
                json_object_put(
                    vm_control_args(st, name, "job-cancel", args, 5000, why, sizeof(why)));
                json_object_put(args);
                found = true;
            }
        }
    json_object_put(r);
    return found ? true : vm_fail(e, WIRT_ERR_STATE, "migrate: VM '%s' is not migrating", name);
}

int vm_cmd_migrate(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL, *to = NULL;
    long down = 0;
    bool want_cancel = false, copy_storage = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to = argv[++i];
        } else if (!strcmp(argv[i], "--max-downtime") && i + 1 < argc) {
            char *end;
            down = strtol(argv[++i], &end, 10);
            if (*end || down < 1 || down > 60000)
                vm_usage("migrate: --max-downtime: '%s' is not 1..60000 (milliseconds)", argv[i]);
        } else if (!strcmp(argv[i], "--cancel")) {
            want_cancel = true;
        } else if (!strcmp(argv[i], "--copy-storage")) {
            copy_storage = true;
        } else if (argv[i][0] == '-' || name) {
            vm_usage("%s", usage);
        } else {
            name = argv[i];
        }
    }
    if (!name || (!to && !want_cancel) || (to && want_cancel))
        vm_usage("%s", usage);
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state != VM_RUNNING && rt.state != VM_PAUSED) {
        vm_fail(&e, WIRT_ERR_STATE, "migrate: VM '%s' is not running", name);
        return vm_report(&e);
    }
    if (want_cancel) {
        if (!cancel(st, name, &e))
            return vm_report(&e);
        printf("cancelling the migration of VM '%s'\n", name);
        return 0;
    }
    if (strncmp(to, "tcp:", 4) != 0 || !strchr(to + 4, ':')) {
        vm_fail(&e, WIRT_ERR_INVALID, "migrate: --to '%s' is not tcp:HOST:PORT", to);
        return vm_report(&e);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "uri", json_object_new_string(to));
    if (down)
        json_object_object_add(args, "max-downtime-ms", json_object_new_int64(down));
    if (copy_storage)
        json_object_object_add(args, "copy-storage", json_object_new_boolean(true));
    const char *secret = getenv("WIRT_MIGRATION_SECRET");
    if (secret && *secret)
        json_object_object_add(args, "secret", json_object_new_string(secret));
    char label[128];
    snprintf(label, sizeof(label), "migrating %s", name);
    struct vm_job_result res;
    bool started = vm_job_run(st, name, "migrate", args, label, &res, &e);
    json_object_put(args);
    if (!started)
        return vm_report(&e);
    if (strcmp(res.status, "completed") != 0) {
        vm_fail(&e, WIRT_ERR_FAILED, "migrate: %s%s%s", res.status, res.error[0] ? ": " : "",
                res.error);
        return vm_report(&e);
    }
    printf("migrated VM '%s' to %s (%s)\n", name, to, res.result);
    return 0;
}
