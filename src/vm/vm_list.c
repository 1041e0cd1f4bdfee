/* SPDX-License-Identifier: MIT */
/* wirt vm list: every VM with its state, resources and disk usage. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_int.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Bytes the VM's own disks take on the host (not its template's). */
uint64_t vm_disk_usage(const char *name, const struct vm_config *cfg);
uint64_t vm_disk_usage(const char *name, const struct vm_config *cfg)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        char p[PATH_MAX];
        vm_path(p, sizeof(p), name, cfg->disks[i].file);
        total += vm_allocated_bytes(p);
    }
    return total;
}

int vm_cmd_list(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            vm_usage("list: unexpected argument '%.80s' (see wirt vm list --help)", argv[i]);
    }
    /* A missing store lists nothing; only `create` makes one. */
    DIR *d = vm_store_missing ? NULL : opendir(vm_store_vms);
    if (!d && !vm_store_missing)
        vm_die("cannot read the store %s", vm_store_vms);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        /* Names that are not valid VM names (temp dirs, junk) are not VMs. */
        if (!vm_name_valid(e->d_name))
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    int w = 20;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(names[i]) > w)
            w = (int)strlen(names[i]);
    json_object *arr = json_object_new_array();
    if (!json)
        printf("%-*s %-9s %7s %4s %9s %9s  %s\n", w, "NAME", "STATE", "MEMORY", "CPUS", "UPTIME",
               "DISK", "NOTES");
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        if (!vm_exists(name)) {
            free(names[i]);
            continue;
        }
        struct vm_config cfg;
        char err[1024];
        bool ok = vm_config_load(name, &cfg, err, sizeof(err));
        struct vm_runtime rt;
        vm_runtime_get(name, &rt);
        if (rt.cleaned_stale)
            vm_warn("%s: removed stale runtime files (its VMM is gone)", name);
        if (!ok) {
            vm_warn("%s", err);
            status = 1;
        }
        uint64_t usage = ok ? vm_disk_usage(name, &cfg) : 0;
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
        free(names[i]);
    }
    free(names);
    if (vm_store_note[0] && !vm_exists(VM_DEFAULT_TEMPLATE))
        vm_warn("%s", vm_store_note);
    if (json)
        puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(arr);
    return status;
}
