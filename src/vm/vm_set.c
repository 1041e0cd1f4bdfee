/* SPDX-License-Identifier: MIT */
/* wirt vm set: change a stopped VM's configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "machine/board.h"
#include "net/net.h"
#include "util/size.h"
#include "vm/vm_int.h"

static const char *const resource_keys[] = {"cpu-limit",    "cpu-weight",   "cpu-reservation",
                                            "cpu-affinity", "memory-limit", "memory-reservation",
                                            "page-sharing", "pin",          "ksm",
                                            "reclaim"};

static bool is_resource_key(const char *kv, size_t klen)
{
    for (size_t i = 0; i < ARRAY_SIZE(resource_keys); i++)
        if (klen == strlen(resource_keys[i]) && !strncmp(kv, resource_keys[i], klen))
            return true;
    return false;
}

/* jail=on|off: on is wirt vm's default (jailed and sandboxed where the
 * host allows it, vm_start.c), off opts out of both.  The VMM enters its
 * jail at start, so a running VM keeps what it has until the next one. */
static bool set_jail(struct vm_config *cfg, const char *v, struct wirt_error *e)
{
    if (strcmp(v, "on") && strcmp(v, "off"))
        return vm_fail(e, WIRT_ERR_INVALID, "set: jail: '%.40s': on or off", v);
    snprintf(cfg->resources.jail, sizeof(cfg->resources.jail), "%s", strcmp(v, "on") ? "off" : "");
    return true;
}

/* disk.N.LIMIT=VALUE (a disk's I/O limit): applies it to cfg and sets
 * *disk.  -1: not such a key; 0: a bad one (e reports it); 1: done. */
static int disk_limit(struct vm_config *cfg, const char *kv, unsigned *disk, struct wirt_error *e)
{
    if (strncmp(kv, "disk.", 5))
        return -1;
    const char *eq = strchr(kv, '='), *dot = strchr(kv + 5, '.');
    char *end;
    unsigned long n = strtoul(kv + 5, &end, 10);
    if (!eq || !dot || dot > eq || end != dot || end == kv + 5)
        return vm_fail(e, WIRT_ERR_INVALID, "set: '%.80s': expected disk.N.LIMIT=VALUE", kv);
    if (n >= cfg->ndisks)
        return vm_fail(e, WIRT_ERR_INVALID, "set: %.*s: the VM has %u disk(s)", (int)(eq - kv), kv,
                       cfg->ndisks);
    char key[32], what[48];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
    int k = io_limit_find(key);
    if (k < 0)
        return vm_fail(e, WIRT_ERR_INVALID,
                       "set: %.*s: unknown limit (iops, iops-rd, iops-wr, bps, bps-rd, bps-wr, "
                       "iops-burst, bps-burst)",
                       (int)(eq - kv), kv);
    char why[200];
    snprintf(what, sizeof(what), "set: disk.%lu", n);
    if (!io_limit_set_text(&cfg->disks[n].limits, k, eq + 1, what, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_INVALID, "%s", why);
    *disk = (unsigned)n;
    return 1;
}

/* net.N.rate=VALUE (a NIC's rate cap, bytes per second each way; 0 or
 * none: no cap): rewrites the rate= option of cfg's N-th net entry and
 * sets *nic and *rate.  -1: not such a key; 0: a bad one (e reports it);
 * 1: done. */
static int nic_rate(struct vm_config *cfg, const char *kv, unsigned *nic, uint64_t *rate,
                    struct wirt_error *e)
{
    if (strncmp(kv, "net.", 4))
        return -1;
    const char *eq = strchr(kv, '=');
    char *end;
    unsigned long n = strtoul(kv + 4, &end, 10);
    if (!eq || end == kv + 4 || strncmp(end, ".rate=", 6))
        return vm_fail(e, WIRT_ERR_INVALID, "set: '%.80s': expected net.N.rate=VALUE", kv);
    if (n >= cfg->nnets)
        return vm_fail(e, WIRT_ERR_INVALID, "set: net.%lu: the VM has %u NIC(s)", n, cfg->nnets);
    char why[200];
    if (!net_rate_text(eq + 1, rate, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_INVALID, "set: net.%lu.rate: %s", n, why);
    /* The entry without its old rate=, then the new one. */
    char out[sizeof(cfg->nets[0])], *save, copy[sizeof(cfg->nets[0])];
    snprintf(copy, sizeof(copy), "%s", cfg->nets[n]);
    size_t len = 0;
    out[0] = '\0';
    for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save))
        if (strncmp(opt, "rate=", 5))
            len += (size_t)snprintf(out + len, len < sizeof(out) ? sizeof(out) - len : 0, "%s%s",
                                    len ? "," : "", opt);
    if (*rate)
        len += (size_t)snprintf(out + len, len < sizeof(out) ? sizeof(out) - len : 0, ",rate=%llu",
                                (unsigned long long)*rate);
    if (len >= sizeof(out))
        return vm_fail(e, WIRT_ERR_INVALID, "set: net.%lu: the entry gets too long", n);
    if (!vm_spec_nic_text_ok(out, "set: net", why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_INVALID, "%s", why);
    snprintf(cfg->nets[n], sizeof(cfg->nets[n]), "%s", out);
    *nic = (unsigned)n;
    return 1;
}

/* Sends command with args (taken) to the running VMM; an error reply
 * becomes one line "set: WHAT: reason". */
static bool live_command(struct vm_store *st, const char *name, const char *command,
                         json_object *args, const char *what, struct wirt_error *e)
{
    char err[512];
    json_object *x, *d;
    json_object *r = vm_control_args(st, name, command, args, 5000, err, sizeof(err));
    json_object_put(args);
    bool bad = !r || json_object_object_get_ex(r, "error", &x);
    if (bad)
        vm_fail(e, WIRT_ERR_FAILED, "set: %s: %s", what,
                !r                                         ? err
                : json_object_object_get_ex(x, "desc", &d) ? json_object_get_string(d)
                                                           : "refused");
    json_object_put(r);
    return !bad;
}

/* The running VMM takes a NIC's new rate cap at once. */
static bool nic_rate_live(struct vm_store *st, const char *name, unsigned nic, uint64_t rate,
                          struct wirt_error *e)
{
    char what[32];
    json_object *a = json_object_new_object();
    json_object_object_add(a, "nic", json_object_new_int((int)nic));
    json_object_object_add(a, "rate", json_object_new_int64((int64_t)rate));
    snprintf(what, sizeof(what), "net.%u", nic);
    return live_command(st, name, "set-net-rate", a, what, e);
}

/* The running VMM takes a disk's new limits at once. */
static bool disk_limits_live(struct vm_store *st, const char *name, const struct vm_config *cfg,
                             unsigned disk, struct wirt_error *e)
{
    char what[32];
    json_object *a = io_limits_to_json(&cfg->disks[disk].limits);
    /* Limits not named keep their value: name the removed ones as 0. */
    for (int k = 0; k < IO_LIMIT_N; k++)
        if (!cfg->disks[disk].limits.v[k])
            json_object_object_add(a, io_limit_keys[k], json_object_new_int(0));
    json_object_object_add(a, "disk", json_object_new_int((int)disk));
    snprintf(what, sizeof(what), "disk.%u", disk);
    return live_command(st, name, "set-io-limits", a, what, e);
}

/* Resource keys on a running VM: its VMM applies them to its cgroup at
 * once (set-resources), and vm.json keeps them for the next start. */
static bool set_running(struct vm_store *st, const char *name, char *const *settings, size_t n,
                        struct wirt_error *e)
{
    struct vm_config cfg;
    char err[512];
    if (!vm_config_load(st, name, &cfg, err, sizeof(err)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    json_object *args = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(settings[i], '=');
        if (eq && eq - settings[i] == 7 && !strncmp(settings[i], "balloon", 7)) {
            /* The memory the guest keeps: its balloon gives back the rest. */
            uint64_t target;
            if (!parse_size(eq + 1, &target)) {
                json_object_put(args);
                return vm_fail(e, WIRT_ERR_INVALID, "set: balloon: '%s' is not a size", eq + 1);
            }
            json_object *b = json_object_new_object(), *x, *d;
            json_object_object_add(b, "target", json_object_new_int64((int64_t)target));
            json_object *r = vm_control_args(st, name, "balloon", b, 5000, err, sizeof(err));
            json_object_put(b);
            bool bad = !r || json_object_object_get_ex(r, "error", &x);
            if (bad)
                vm_fail(e, WIRT_ERR_FAILED, "set: balloon: %s",
                        !r                                         ? err
                        : json_object_object_get_ex(x, "desc", &d) ? json_object_get_string(d)
                                                                   : "refused");
            json_object_put(r);
            if (bad) {
                json_object_put(args);
                return false;
            }
            continue;
        }
        unsigned disk;
        int dl = disk_limit(&cfg, settings[i], &disk, e);
        if (dl >= 0) {
            if (!dl || !disk_limits_live(st, name, &cfg, disk, e)) {
                json_object_put(args);
                return false;
            }
            continue;
        }
        unsigned nic;
        uint64_t rate;
        int nr = nic_rate(&cfg, settings[i], &nic, &rate, e);
        if (nr >= 0) {
            if (!nr || !nic_rate_live(st, name, nic, rate, e)) {
                json_object_put(args);
                return false;
            }
            continue;
        }
        if (eq && eq - settings[i] == 4 && !strncmp(settings[i], "jail", 4)) {
            if (!set_jail(&cfg, eq + 1, e)) { /* vm.json only: from the next start */
                json_object_put(args);
                return false;
            }
            continue;
        }
        if (eq && eq - settings[i] == 7 && !strncmp(settings[i], "restart", 7)) {
            /* The service's policy, not the VMM's: only vm.json changes. */
            if (!vm_restart_parse(eq + 1, &cfg.restart)) {
                json_object_put(args);
                return vm_fail(e, WIRT_ERR_INVALID, "set: restart: '%s' is not never or on-crash",
                               eq + 1);
            }
            continue;
        }
        if (!eq || !is_resource_key(settings[i], (size_t)(eq - settings[i]))) {
            json_object_put(args);
            return vm_fail(e, WIRT_ERR_BUSY,
                           "set: VM '%s' is running; only cpu-limit, cpu-weight, cpu-reservation, "
                           "cpu-affinity, "
                           "memory-limit, memory-reservation, page-sharing, pin, reclaim, balloon, "
                           "disk.N.LIMIT, net.N.rate (and restart, jail for later) change while "
                           "it runs",
                           name);
        }
        char key[32];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - settings[i]), settings[i]);
        if (!vm_resources_set_text(&cfg.resources, key, eq + 1, err, sizeof(err))) {
            json_object_put(args);
            return vm_fail(e, WIRT_ERR_INVALID, "set: %s", err);
        }
        json_object_object_add(args, key, json_object_new_string(*(eq + 1) ? eq + 1 : "none"));
    }
    if (!json_object_object_length(args)) {
        json_object_put(args);
        /* Only the balloon, disk or NIC limits, jail or the restart policy changed. */
        if (!vm_config_save(st, name, &cfg, err, sizeof(err)))
            return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
        return true;
    }
    /* A reservation raised on a running VM is admitted like one at start. */
    if (!vm_admit(st, name, &cfg.resources.cg, e)) {
        json_object_put(args);
        return false;
    }
    json_object *r = vm_control_args(st, name, "set-resources", args, 5000, err, sizeof(err)), *x,
                *d;
    json_object_put(args);
    if (!r)
        return vm_fail(e, WIRT_ERR_FAILED, "set: %s", err);
    if (json_object_object_get_ex(r, "error", &x)) {
        vm_fail(e, WIRT_ERR_FAILED, "set: %s",
                json_object_object_get_ex(x, "desc", &d) ? json_object_get_string(d) : "refused");
        json_object_put(r);
        return false;
    }
    json_object_put(r);
    if (!vm_config_save(st, name, &cfg, err, sizeof(err)))
        return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    return true;
}

/* Applies KEY=VALUE settings to cfg; *grow gets a new disk size. */
static bool apply_settings(struct vm_config *cfg, char *const *kv, size_t n, uint64_t *grow,
                           struct wirt_error *e)
{
    bool nets_reset = false;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || eq == kv[i])
            return vm_fail(e, WIRT_ERR_INVALID, "set: '%.80s' is not KEY=VALUE", kv[i]);
        size_t klen = (size_t)(eq - kv[i]);
        const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && !strncmp(kv[i], k, klen))
        if (KEY("memory")) {
            if (!parse_size(v, &cfg->memory))
                return vm_fail(e, WIRT_ERR_INVALID,
                               "set: memory: '%s' is not a size (examples: 512M, 2G)", v);
            if (!vm_check_memory("set: memory", cfg->memory, e))
                return false;
        } else if (KEY("cpus")) {
            char *end, why[128];
            long long c = strtoll(v, &end, 10);
            if (!*v || *end || !vm_spec_cpus_ok(c, why, sizeof(why)))
                return vm_fail(e, WIRT_ERR_INVALID, "set: cpus: '%s' %s", v, why);
            cfg->cpus = (unsigned)c;
        } else if (KEY("nested")) {
            if (strcmp(v, "on") && strcmp(v, "off"))
                return vm_fail(e, WIRT_ERR_INVALID, "set: nested: '%s' is not on or off", v);
            cfg->nested = !strcmp(v, "on");
        } else if (KEY("append")) {
            if (strlen(v) >= sizeof(cfg->append))
                return vm_fail(e, WIRT_ERR_INVALID, "set: append: too long");
            snprintf(cfg->append, sizeof(cfg->append), "%s", v);
        } else if (KEY("net")) {
            /* The first net= replaces the list, later ones add; net= clears. */
            if (!nets_reset)
                cfg->nnets = 0;
            nets_reset = true;
            if (!*v)
                continue;
            if (cfg->nnets == VM_MAX_NICS)
                return vm_fail(e, WIRT_ERR_INVALID, "set: at most %d net entries", VM_MAX_NICS);
            if (strlen(v) >= sizeof(cfg->nets[0]))
                return vm_fail(e, WIRT_ERR_INVALID, "set: net: too long");
            char why[512];
            if (!vm_spec_nic_text_ok(v, "set: net", why, sizeof(why)))
                return vm_fail(e, WIRT_ERR_INVALID, "%s", why);
            snprintf(cfg->nets[cfg->nnets++], sizeof(cfg->nets[0]), "%s", v);
        } else if (is_resource_key(kv[i], klen)) {
            char key[32], why[300];
            snprintf(key, sizeof(key), "%.*s", (int)klen, kv[i]);
            if (!vm_resources_set_text(&cfg->resources, key, v, why, sizeof(why)))
                return vm_fail(e, WIRT_ERR_INVALID, "set: %s", why);
        } else if (KEY("display")) {
            char why[256];
            if (*v && strcmp(v, "none") && !vm_display_text_ok(v, why, sizeof(why)))
                return vm_fail(e, WIRT_ERR_INVALID, "set: display: %s", why);
            snprintf(cfg->display, sizeof(cfg->display), "%s", strcmp(v, "none") ? v : "");
        } else if (KEY("jail")) {
            if (!set_jail(cfg, v, e))
                return false;
        } else if (KEY("restart")) {
            if (!vm_restart_parse(v, &cfg->restart))
                return vm_fail(e, WIRT_ERR_INVALID, "set: restart: '%s' is not never or on-crash",
                               v);
        } else if (!strncmp(kv[i], "disk.", 5)) {
            unsigned disk;
            if (disk_limit(cfg, kv[i], &disk, e) <= 0)
                return false;
        } else if (!strncmp(kv[i], "net.", 4)) {
            unsigned nic;
            uint64_t rate;
            if (nic_rate(cfg, kv[i], &nic, &rate, e) <= 0)
                return false;
        } else if (KEY("disk-size")) {
            if (!parse_size(v, grow) || !*grow)
                return vm_fail(e, WIRT_ERR_INVALID, "set: disk-size: '%s' is not a size", v);
        } else {
            return vm_fail(e, WIRT_ERR_INVALID,
                           "set: unknown key '%.*s' (keys: memory, cpus, nested, append, net, "
                           "disk-size, disk.N.iops/bps..., net.N.rate, restart, jail, display, "
                           "cpu-limit, cpu-weight, cpu-reservation, cpu-affinity, memory-limit, "
                           "memory-reservation, "
                           "page-sharing, reclaim)",
                           (int)klen, kv[i]);
        }
#undef KEY
    }
    return true;
}

static bool grow_disk(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                      uint64_t grow, struct wirt_error *e)
{
    if (!cfg->ndisks)
        return vm_fail(e, WIRT_ERR_STATE, "set: '%s' has no disk", name);
    char p[PATH_MAX], err[512];
    vm_path(st, p, sizeof(p), name, cfg->disks[0].file);
    struct block_dev *bd;
    if (block_open(p, cfg->disks[0].format, 0, &bd, err, sizeof(err)) < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    if (grow < block_size(bd)) {
        vm_fail(e, WIRT_ERR_STATE, "set: disk-size: shrinking a disk loses data; %s is %llu bytes",
                p, (unsigned long long)block_size(bd));
        block_close(bd);
        return false;
    }
    int r = grow == block_size(bd) ? 0 : image_truncate(bd, grow);
    block_close(bd);
    if (r < 0)
        return vm_fail(e, WIRT_ERR_FAILED, "set: cannot resize %s: %s", p, strerror(-r));
    return true;
}

bool vm_set(struct vm_store *st, const char *name, char *const *settings, size_t n,
            struct wirt_error *e)
{
    struct vm_config cfg;
    char err[512];
    if (!vm_require(st, name, e))
        return false;
    struct vm_runtime rt;
    vm_runtime_get(st, name, &rt);
    if (rt.state == VM_RUNNING || rt.state == VM_PAUSED)
        return set_running(st, name, settings, n, e);
    int lock = vm_lock_config(st, name, false, &cfg, e);
    if (lock < 0)
        return false;
    uint64_t grow = 0;
    bool ok = true;
    if (cfg.is_template)
        ok = vm_fail(e, WIRT_ERR_STATE, "'%s' is a template and read-only; clone it to change it",
                     name);
    ok = ok && apply_settings(&cfg, settings, n, &grow, e);
    ok = ok && (!grow || grow_disk(st, name, &cfg, grow, e));
    if (ok && !vm_config_save(st, name, &cfg, err, sizeof(err)))
        ok = vm_fail(e, WIRT_ERR_FAILED, "%s", err);
    vm_unlock(lock);
    return ok;
}

int vm_cmd_set(struct vm_store *st, int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        vm_usage("set: usage: wirt vm set NAME KEY=VALUE... (keys: memory, cpus, append, net, "
                 "disk-size, disk.N.LIMIT, cpu-limit, cpu-weight, cpu-reservation, cpu-affinity, "
                 "memory-limit, memory-reservation, reclaim, jail, restart)");
    struct wirt_error e;
    if (!vm_set(st, argv[1], argv + 2, (size_t)(argc - 2), &e))
        return vm_report(&e);
    printf("updated VM '%s'\n", argv[1]);
    return 0;
}
