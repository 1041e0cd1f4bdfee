/* SPDX-License-Identifier: MIT */
/*
 * A VM's event log (VM_EVENTS in its directory): one JSON line per
 * lifecycle action, with when, who asked (the CLI and its user, or an API
 * client of `wirt serve`), what, and how it went.  `wirt vm log` and the
 * API's `GET /vms/NAME/log` read it back.  Kept bounded: beyond 1 MiB it
 * moves to VM_EVENTS.1 (the previous one is dropped).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm_int.h"

#define EVENTS_LIMIT (1 << 20)

void vm_event_log(const struct vm_store *st, const char *name, const char *who, const char *action,
                  const struct wirt_error *err)
{
    if (!vm_exists(st, name))
        return;
    char path[PATH_MAX], old[PATH_MAX + 4];
    vm_path(st, path, sizeof(path), name, VM_EVENTS);
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > EVENTS_LIMIT) {
        snprintf(old, sizeof(old), "%s.1", path);
        rename(path, old);
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    char when[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_string(when));
    json_object_object_add(o, "who", json_object_new_string(who));
    json_object_object_add(o, "action", json_object_new_string(action));
    json_object_object_add(o, "ok", json_object_new_boolean(err == NULL));
    if (err)
        json_object_object_add(o, "error", json_object_new_string(err->msg));
    dprintf(fd, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    close(fd);
}

json_object *vm_event_read(const struct vm_store *st, const char *name)
{
    json_object *arr = json_object_new_array();
    char path[PATH_MAX], old[PATH_MAX + 4];
    vm_path(st, path, sizeof(path), name, VM_EVENTS);
    snprintf(old, sizeof(old), "%s.1", path);
    const char *files[] = {old, path};
    for (int i = 0; i < 2; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
        if (!f) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        char line[4096];
        while (fgets(line, sizeof(line), f)) {
            json_object *o = json_tokener_parse(line);
            if (o && json_object_is_type(o, json_type_object))
                json_object_array_add(arr, o);
            else
                json_object_put(o);
        }
        fclose(f);
    }
    return arr;
}

/* wirt vm log NAME [--json] */
int vm_cmd_log(struct vm_store *st, int argc, char **argv)
{
    const char *name = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            vm_usage("log: unexpected argument '%.80s' (wirt vm log NAME [--json])", argv[i]);
    }
    if (!name)
        vm_usage("log: which VM? (wirt vm log NAME [--json])");
    struct wirt_error e;
    if (!vm_require(st, name, &e))
        return vm_report(&e);
    json_object *arr = vm_event_read(st, name);
    if (json) {
        puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
    } else {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *o = json_object_array_get_idx(arr, i), *v;
            const char *f[3] = {"", "", ""};
            const char *keys[3] = {"time", "who", "action"};
            for (int k = 0; k < 3; k++)
                if (json_object_object_get_ex(o, keys[k], &v))
                    f[k] = json_object_get_string(v);
            bool ok = json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
            printf("%s  %-16s %-10s %s", f[0], f[1], f[2], ok ? "ok" : "failed");
            if (!ok && json_object_object_get_ex(o, "error", &v))
                printf(": %s", json_object_get_string(v));
            putchar('\n');
        }
    }
    json_object_put(arr);
    return 0;
}
