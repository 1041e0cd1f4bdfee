/* SPDX-License-Identifier: MIT */
/* wirt vm list: every VM with its state, resources and disk usage. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_int.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool vm_list(struct vm_store *st, struct vm_summary **out, size_t *count, struct wirt_error *e)
{
    *out = NULL;
    *count = 0;
    /* A missing store lists nothing; only `create` makes one. */
    if (st->missing)
        return true;
    DIR *d = opendir(st->vms);
    if (!d)
        return vm_fail(e, WIRT_ERR_FAILED, "cannot read the store %s: %s", st->vms,
                       strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        /* Names that are not valid VM names (temp dirs, junk) are not VMs. */
        if (!vm_name_valid(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **more = realloc(names, cap * sizeof(*names));
            if (!more) {
                ok = false;
                break;
            }
            names = more;
        }
        if (!(names[n] = strdup(de->d_name))) {
            ok = false;
            break;
        }
        n++;
    }
    closedir(d);
    struct vm_summary *list = ok && n ? calloc(n, sizeof(*list)) : NULL;
    if (n && !list)
        ok = false;
    if (ok && n)
        qsort(names, n, sizeof(*names), cmp_names);
    size_t k = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (!vm_exists(st, names[i]))
            continue;
        struct vm_summary *v = &list[k++];
        snprintf(v->name, sizeof(v->name), "%s", names[i]);
        v->config_ok = vm_config_load(st, v->name, &v->cfg, v->error, sizeof(v->error));
        vm_runtime_get(st, v->name, &v->rt);
        v->disk_usage = v->config_ok ? vm_disk_usage(st, v->name, &v->cfg) : 0;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!ok) {
        free(list);
        return vm_fail(e, WIRT_ERR_FAILED, "out of memory listing %s", st->vms);
    }
    *out = list;
    *count = k;
    return true;
}

int vm_cmd_list(struct vm_store *st, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            vm_usage("list: unexpected argument '%.80s' (see wirt vm list --help)", argv[i]);
    }
    struct vm_summary *list;
    size_t n;
    struct wirt_error e;
    if (!vm_list(st, &list, &n, &e))
        return vm_report(&e);
    int w = 20;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(list[i].name) > w)
            w = (int)strlen(list[i].name);
    json_object *arr = json_object_new_array();
    if (!json)
        printf("%-*s %-9s %7s %4s %9s %9s  %s\n", w, "NAME", "STATE", "MEMORY", "CPUS", "UPTIME",
               "DISK", "NOTES");
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = list[i].name;
        const struct vm_config cfg = list[i].cfg;
        const struct vm_runtime rt = list[i].rt;
        bool ok = list[i].config_ok;
        const char *err = list[i].error;
        uint64_t usage = list[i].disk_usage;
        if (rt.cleaned_stale)
            vm_warn("%s: removed stale runtime files (its VMM is gone)", name);
        if (!ok) {
            vm_warn("%s", err);
            status = 1;
        }
        char notes[256] = "";
        if (ok && cfg.is_template)
            snprintf(notes, sizeof(notes), "template");
        if (ok && cfg.linked_to[0])
            snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes), "%slinked to %s",
                     notes[0] ? ", " : "", cfg.linked_to);
        if (!ok)
            snprintf(notes, sizeof(notes), "broken config");
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(name));
            json_object_object_add(o, "state", json_object_new_string(vm_state_name(rt.state)));
            if (ok) {
                json_object_object_add(o, "memory", json_object_new_int64((int64_t)cfg.memory));
                json_object_object_add(o, "cpus", json_object_new_int((int)cfg.cpus));
                json_object_object_add(o, "template", json_object_new_boolean(cfg.is_template));
                json_object_object_add(o, "linked-to",
                                       cfg.linked_to[0] ? json_object_new_string(cfg.linked_to)
                                                        : NULL);
                json_object_object_add(o, "disk-usage", json_object_new_int64((int64_t)usage));
            } else {
                json_object_object_add(o, "error", json_object_new_string(err));
            }
            json_object_object_add(
                o, "pid",
                rt.pid > 0 && rt.state != VM_STOPPED ? json_object_new_int64(rt.pid) : NULL);
            json_object_object_add(
                o, "uptime",
                rt.state == VM_RUNNING || rt.state == VM_PAUSED
                    ? json_object_new_double(((long long)(rt.uptime * 1000)) / 1000.0)
                    : NULL);
            json_object_array_add(arr, o);
        } else {
            char mem[32] = "-", up[32] = "-", disk[32] = "-", cpus[8] = "-";
            if (ok) {
                vm_format_size(mem, sizeof(mem), cfg.memory);
                snprintf(cpus, sizeof(cpus), "%u", cfg.cpus);
                snprintf(disk, sizeof(disk), "%.1fM", (double)usage / (1 << 20));
            }
            if (rt.state == VM_RUNNING || rt.state == VM_PAUSED)
                vm_format_duration(up, sizeof(up), rt.uptime);
            printf("%-*s %-9s %7s %4s %9s %9s  %s\n", w, name, vm_state_name(rt.state), mem, cpus,
                   up, disk, notes);
        }
    }
    free(list);
    if (st->note[0] && !vm_exists(st, VM_DEFAULT_TEMPLATE))
        vm_warn("%s", st->note);
    if (json)
        puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(arr);
    return status;
}
