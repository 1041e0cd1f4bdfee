/* SPDX-License-Identifier: MIT */
/*
 * A VM's resource settings (struct cgroup_limits, host/cgroup.h) in the
 * shapes the rest of wirt uses: KEY=VALUE text (`--cpu-limit 150%`, `wirt
 * vm set`) and the JSON object of the VM spec, vm.json and the control
 * socket's set-resources.  Kept apart from vm_spec.c so that the control
 * server links it without the board.
 */
#include "vmm/resources.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/compiler.h"
#include "util/size.h"

static bool rfail(char *err, size_t errlen, const char *fmt, ...) PRINTF_FMT(3, 4);
static bool rfail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

bool vm_resources_empty(const struct vm_resources *r)
{
    return cgroup_limits_empty(&r->cg) && !r->page_sharing && !r->pin && !r->sandbox &&
           !r->jail[0] && !r->reclaim_sec && !r->run_uid;
}

bool vm_resources_set_text(struct vm_resources *res, const char *key, const char *value, char *err,
                           size_t errlen)
{
    struct cgroup_limits *r = &res->cg;
    bool clear = !*value || !strcmp(value, "none");
    /* "ksm" is the name hosts use for the same thing (issue 14 spells it so). */
    const char *said = key;
    if (!strcmp(key, "ksm"))
        key = "page-sharing";
    if (!strcmp(key, "page-sharing") || !strcmp(key, "pin") || !strcmp(key, "sandbox")) {
        bool on = !strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "1");
        if (!on && !clear && strcmp(value, "off") && strcmp(value, "false") && strcmp(value, "0"))
            return rfail(err, errlen, "%s '%.40s': on or off", said, value);
        *(!strcmp(key, "pin")       ? &res->pin
          : !strcmp(key, "sandbox") ? &res->sandbox
                                    : &res->page_sharing) = on;
        return true;
    }
    if (!strcmp(key, "reclaim")) {
        /* on, off, or the seconds between passes (10s or 10) */
        if (clear || !strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "1")) {
            res->reclaim_sec = 0;
            return true;
        }
        if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "0")) {
            res->reclaim_sec = VM_RECLAIM_OFF;
            return true;
        }
        char *end;
        long s = strtol(value, &end, 10);
        if (end == value || (*end && strcmp(end, "s")) || s < 1 || s > VM_RECLAIM_MAX_SEC)
            return rfail(err, errlen,
                         "reclaim '%.40s': on, off or seconds between passes (1 to %d)", value,
                         VM_RECLAIM_MAX_SEC);
        res->reclaim_sec = (int)s;
        return true;
    }
    if (!strcmp(key, "uid")) {
        /* UID[:GID] (GID defaults to UID): what a jailed root VMM runs as */
        res->run_uid = res->run_gid = 0;
        if (clear)
            return true;
        char *end;
        unsigned long long u = strtoull(value, &end, 10), g = u;
        bool bad = end == value || value[0] == '-';
        if (!bad && *end == ':') {
            const char *gs = end + 1;
            g = strtoull(gs, &end, 10);
            bad = end == gs || *gs == '-';
        }
        if (bad || *end || u == 0 || g == 0 || u >= 0xffffffffULL || g >= 0xffffffffULL)
            return rfail(err, errlen, "uid '%.40s': want UID[:GID], numbers above 0", value);
        res->run_uid = (unsigned)u;
        res->run_gid = (unsigned)g;
        return true;
    }
    if (!strcmp(key, "jail")) {
        res->jail[0] = '\0';
        if (clear)
            return true;
        if (!strcmp(value, "off")) { /* kept: opts out of wirt vm's default */
            snprintf(res->jail, sizeof(res->jail), "off");
            return true;
        }
        struct stat st;
        if (value[0] != '/' || strlen(value) >= sizeof(res->jail) || stat(value, &st) != 0 ||
            !S_ISDIR(st.st_mode))
            return rfail(err, errlen, "jail '%.60s': want the absolute path of a directory", value);
        snprintf(res->jail, sizeof(res->jail), "%s", value);
        return true;
    }
    uint64_t bytes = 0;
    if (!strcmp(key, "cpu-limit")) {
        r->cpu_limit_pct = 0;
        return clear || cgroup_parse_cpu_limit(value, &r->cpu_limit_pct, err, errlen);
    }
    if (!strcmp(key, "cpu-reservation")) {
        r->cpu_reservation_pct = 0;
        char why[128];
        if (!clear && !cgroup_parse_cpu_limit(value, &r->cpu_reservation_pct, why, sizeof(why)))
            return rfail(err, errlen, "cpu-reservation%s", why + strlen("cpu-limit"));
        return true;
    }
    if (!strcmp(key, "cpu-weight")) {
        char *end;
        long w = clear ? 0 : strtol(value, &end, 10);
        if (!clear && (*end || w < 1 || w > 10000))
            return rfail(err, errlen,
                         "cpu-weight '%.40s': a number from 1 to 10000 (100 is the "
                         "default share)",
                         value);
        r->cpu_weight = (unsigned)w;
        return true;
    }
    if (!strcmp(key, "cpu-affinity")) {
        r->cpu_affinity[0] = '\0';
        if (clear)
            return true;
        if (!cgroup_affinity_ok(value, err, errlen))
            return false;
        snprintf(r->cpu_affinity, sizeof(r->cpu_affinity), "%s", value);
        return true;
    }
    bool limit = !strcmp(key, "memory-limit");
    if (limit || !strcmp(key, "memory-reservation")) {
        if (!clear && (!parse_size(value, &bytes) || bytes < (16u << 20)))
            return rfail(err, errlen, "%s '%.40s': a size of at least 16M, like 1G", key, value);
        *(limit ? &r->memory_limit : &r->memory_reservation) = bytes;
        return true;
    }
    if (err && errlen)
        err[0] = '\0';
    return false;
}

bool vm_resources_from_json(struct vm_resources *r, json_object *v, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_object))
        return rfail(err, errlen, "resources: must be an object");
    json_object_object_foreach(v, key, val)
    {
        char text[300], why[256];
        if (json_object_is_type(val, json_type_boolean))
            snprintf(text, sizeof(text), "%s", json_object_get_boolean(val) ? "on" : "off");
        else if (json_object_is_type(val, json_type_int))
            snprintf(text, sizeof(text), "%lld", (long long)json_object_get_int64(val));
        else if (json_object_is_type(val, json_type_string))
            snprintf(text, sizeof(text), "%s", json_object_get_string(val));
        else
            return rfail(err, errlen, "resources.%.32s: must be a string, a number or true/false",
                         key);
        if (!vm_resources_set_text(r, key, text, why, sizeof(why)))
            return why[0] ? rfail(err, errlen, "resources.%s", why)
                          : rfail(err, errlen, "resources: unknown key \"%.32s\"", key);
    }
    return true;
}

json_object *vm_resources_to_json(const struct vm_resources *res)
{
    const struct cgroup_limits *r = &res->cg;
    json_object *out = json_object_new_object();
    if (r->cpu_limit_pct) {
        char pct[16];
        snprintf(pct, sizeof(pct), "%u%%", r->cpu_limit_pct);
        json_object_object_add(out, "cpu-limit", json_object_new_string(pct));
    }
    if (r->cpu_weight)
        json_object_object_add(out, "cpu-weight", json_object_new_int((int)r->cpu_weight));
    if (r->cpu_reservation_pct) {
        char pct[16];
        snprintf(pct, sizeof(pct), "%u%%", r->cpu_reservation_pct);
        json_object_object_add(out, "cpu-reservation", json_object_new_string(pct));
    }
    if (r->cpu_affinity[0])
        json_object_object_add(out, "cpu-affinity", json_object_new_string(r->cpu_affinity));
    if (r->memory_limit)
        json_object_object_add(out, "memory-limit",
                               json_object_new_int64((int64_t)r->memory_limit));
    if (r->memory_reservation)
        json_object_object_add(out, "memory-reservation",
                               json_object_new_int64((int64_t)r->memory_reservation));
    if (res->page_sharing)
        json_object_object_add(out, "page-sharing", json_object_new_boolean(true));
    if (res->pin)
        json_object_object_add(out, "pin", json_object_new_boolean(true));
    if (res->sandbox)
        json_object_object_add(out, "sandbox", json_object_new_boolean(true));
    if (res->jail[0])
        json_object_object_add(out, "jail", json_object_new_string(res->jail));
    if (res->run_uid) {
        char ug[32];
        snprintf(ug, sizeof(ug), "%u:%u", res->run_uid, res->run_gid);
        json_object_object_add(out, "uid", json_object_new_string(ug));
    }
    if (res->reclaim_sec == VM_RECLAIM_OFF)
        json_object_object_add(out, "reclaim", json_object_new_string("off"));
    else if (res->reclaim_sec)
        json_object_object_add(out, "reclaim", json_object_new_int(res->reclaim_sec));
    return out;
}
