/* SPDX-License-Identifier: MIT */
/* wirt vm info: one VM in detail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "vm/vm_int.h"

json_object *vm_info(struct vm_store *st, const char *name, struct vm_config *cfgp,
                     struct vm_runtime *rtp, struct wirt_error *e)
{
    if (!vm_require(st, name, e))
        return NULL;
    struct vm_config cfg;
    char err[512];
    if (!vm_config_load(st, name, &cfg, err, sizeof(err))) {
        vm_fail(e, WIRT_ERR_FAILED, "%s", err);
        return NULL;
    }
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    char dir[PATH_MAX], deps[1024];
    vm_path(st, dir, sizeof(dir), name, NULL);
    vm_dependents(st, name, false, deps, sizeof(deps));

    json_object *o = vm_config_to_json(&cfg);
    json_object_object_add(o, "state", json_object_new_string(vm_state_name(rt.state)));
    json_object_object_add(o, "directory", json_object_new_string(dir));
    if (rt.state == VM_STOPPED && rt.crashed)
        json_object_object_add(o, "crashed", json_object_new_boolean(true));
    json_object_object_add(
        o, "pid", rt.state != VM_STOPPED && rt.pid > 0 ? json_object_new_int64(rt.pid) : NULL);
    json_object_object_add(o, "uptime",
                           rt.state == VM_RUNNING || rt.state == VM_PAUSED
                               ? json_object_new_double(((long long)(rt.uptime * 1000)) / 1000.0)
                               : NULL);
    /* What the VMM's cgroup counted (cpu-ns, memory-bytes). */
    if (rt.state == VM_RUNNING || rt.state == VM_PAUSED) {
        json_object *r = vm_control(st, name, "query-resources", 2000, err, sizeof(err)), *ret;
        if (r && json_object_object_get_ex(r, "return", &ret))
            json_object_object_add(o, "resource-usage", json_object_get(ret));
        json_object_put(r);
    }
    /* The figures wirt vm top shows, as totals so far. */
    if ((rt.state == VM_RUNNING || rt.state == VM_PAUSED) && rt.pid > 0)
        json_object_object_add(o, "usage", vm_top_usage(st, name, rt.pid));
    if (rt.state == VM_RUNNING || rt.state == VM_PAUSED) {
        json_object *r = vm_control(st, name, "query-balloon", 2000, err, sizeof(err)), *ret;
        if (r && json_object_object_get_ex(r, "return", &ret))
            json_object_object_add(o, "balloon", json_object_get(ret));
        json_object_put(r);
    }
    /* What only the guest knows, from its agent if one runs. */
    if (rt.state == VM_RUNNING && vm_agent_present(st, name)) {
        json_object *ifaces = vm_agent_call(st, name, "guest-network-get-interfaces", NULL, 2000,
                                            true, err, sizeof(err));
        if (ifaces)
            json_object_object_add(o, "guest-interfaces", ifaces);
    }
    /* The display's VNC endpoint, as the running VMM was given it. */
    if (cfg.display[0] && (rt.state == VM_RUNNING || rt.state == VM_PAUSED)) {
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, VM_RUNSPEC);
        json_object *spec = json_object_from_file(p), *d, *v;
        json_object *vnc = json_object_new_object();
        if (spec && json_object_object_get_ex(spec, "display", &d) &&
            json_object_object_get_ex(d, "vnc", &v) && json_object_is_type(v, json_type_string)) {
            json_object_object_add(vnc, "address", json_object_get(v));
            vm_path(st, p, sizeof(p), name, VM_VNC_PASSWD);
            json_object_object_add(vnc, "password-file", json_object_new_string(p));
            json_object_object_add(o, "vnc", vnc);
        } else {
            json_object_put(vnc);
        }
        json_object_put(spec);
    }
    json_object_object_add(o, "disk-usage",
                           json_object_new_int64((int64_t)vm_disk_usage(st, name, &cfg)));
    json_object *clones = json_object_new_array();
    for (char *save = NULL, *t = strtok_r(deps, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        json_object_array_add(clones, json_object_new_string(t));
    json_object_object_add(o, "linked-clones", clones);
    json_object *disks;
    json_object_object_get_ex(o, "disks", &disks);
    for (unsigned i = 0; i < cfg.ndisks; i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        char p[PATH_MAX];
        vm_path(st, p, sizeof(p), name, cfg.disks[i].file);
        json_object_object_add(d, "allocated",
                               json_object_new_int64((int64_t)vm_allocated_bytes(p)));
        struct block_dev *bd;
        if (access(p, F_OK) != 0) {
            json_object_object_add(d, "error", json_object_new_string("missing"));
            continue;
        }
        if (block_open(p, cfg.disks[i].format, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK, &bd, err,
                       sizeof(err)) < 0) {
            json_object_object_add(d, "error", json_object_new_string(err));
            continue;
        }
        json_object_object_add(d, "virtual-size", json_object_new_int64((int64_t)block_size(bd)));
        struct image_snapshot *snaps = NULL;
        unsigned ns = 0;
        if (image_snapshot_list(bd, &snaps, &ns) == 0) {
            json_object *sa = json_object_new_array();
            for (unsigned s = 0; s < ns; s++)
                json_object_array_add(sa, json_object_new_string(snaps[s].name));
            json_object_object_add(d, "snapshots", sa);
        }
        free(snaps);
        block_close(bd);
    }
    *cfgp = cfg;
    *rtp = rt;
    return o;
}

int vm_cmd_info(struct vm_store *st, int argc, char **argv)
{
    bool json = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            vm_usage("info: unexpected argument '%.80s' (see wirt vm info --help)", argv[i]);
    }
    if (!name)
        vm_usage("info: which VM? (wirt vm info NAME)");
    struct vm_config cfg;
    struct vm_runtime rt;
    struct wirt_error e;
    json_object *o = vm_info(st, name, &cfg, &rt, &e);
    if (!o)
        return vm_report(&e);
    if (rt.cleaned_stale)
        vm_warn("%s: removed stale runtime files (its VMM is gone)", name);
    json_object *disks = json_object_object_get(o, "disks");
    json_object *clones = json_object_object_get(o, "linked-clones");
    const char *dir = json_object_get_string(json_object_object_get(o, "directory"));
    if (json) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return 0;
    }
    char mem[32], up[32] = "";
    vm_format_size(mem, sizeof(mem), cfg.memory);
    printf("name:       %s\n", name);
    printf("state:      %s", vm_state_name(rt.state));
    if (rt.state == VM_RUNNING || rt.state == VM_PAUSED) {
        vm_format_duration(up, sizeof(up), rt.uptime);
        printf(" (pid %ld, up %s%s)", rt.pid, up, rt.guest_ready ? ", guest ready" : "");
    } else if (rt.state == VM_STOPPED && rt.crashed) {
        printf(" (its VMM died: killed or crashed; see wirt vm log %s)", name);
    }
    printf("\ndirectory:  %s\n", dir);
    printf("memory:     %s\ncpus:       %u\n", mem, cfg.cpus);
    printf("kernel:     %s\ninitrd:     %s\nfirmware:   %s\nappend:     %s\n",
           cfg.kernel[0] ? cfg.kernel : "-", cfg.initrd[0] ? cfg.initrd : "-",
           cfg.bios[0] ? cfg.bios : "-", cfg.append);
    for (unsigned i = 0; i < cfg.ndisks; i++) {
        json_object *d = json_object_array_get_idx(disks, i), *v;
        printf("disk %u:     %s (%s", i, cfg.disks[i].file, cfg.disks[i].format);
        if (json_object_object_get_ex(d, "virtual-size", &v))
            printf(", %.1f GiB virtual", (double)json_object_get_int64(v) / (1 << 30));
        if (json_object_object_get_ex(d, "allocated", &v))
            printf(", %.1f MiB used", (double)json_object_get_int64(v) / (1 << 20));
        if (json_object_object_get_ex(d, "snapshots", &v))
            printf(", %zu snapshots", json_object_array_length(v));
        if (json_object_object_get_ex(d, "error", &v))
            printf(", %s", json_object_get_string(v));
        printf(")\n");
    }
    for (unsigned i = 0; i < cfg.nnets; i++)
        printf("net %u:      %s\n", i, cfg.nets[i]);
    json_object *res, *usage, *v;
    if (json_object_object_get_ex(o, "resources", &res))
        printf("resources:  %s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
    if (json_object_object_get_ex(o, "resource-usage", &usage) &&
        json_object_object_get_ex(usage, "cpu-ns", &v) && json_object_get_int64(v)) {
        printf("cpu used:   %.1f s", (double)json_object_get_int64(v) / 1e9);
        if (json_object_object_get_ex(usage, "memory-bytes", &v) && json_object_get_int64(v))
            printf(", memory %.0f MiB", (double)json_object_get_int64(v) / (1 << 20));
        printf("\n");
    }
    json_object *ifaces;
    if (json_object_object_get_ex(o, "guest-interfaces", &ifaces)) {
        char addrs[1024];
        vm_agent_format_addresses(ifaces, addrs, sizeof(addrs));
        printf("guest ips:  %s\n", addrs[0] ? addrs : "none");
    }
    if (cfg.is_template)
        printf("template:   yes%s%s\n", json_object_array_length(clones) ? ", linked clones: " : "",
               json_object_array_length(clones) ? json_object_to_json_string(clones) : "");
    if (cfg.linked_to[0])
        printf("linked to:  %s\n", cfg.linked_to);
    printf("created:    %s\n", cfg.created);
    if (cfg.display[0])
        printf("display:    %s\n", cfg.display);
    json_object *vnc, *addr, *pwf;
    if (json_object_object_get_ex(o, "vnc", &vnc) &&
        json_object_object_get_ex(vnc, "address", &addr) &&
        json_object_object_get_ex(vnc, "password-file", &pwf))
        printf("vnc:        %s (password in %s)\n", json_object_get_string(addr),
               json_object_get_string(pwf));
    json_object_put(o);
    return 0;
}
