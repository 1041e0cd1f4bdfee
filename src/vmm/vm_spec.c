/* SPDX-License-Identifier: MIT */
/* The VM specification: parser, validator and JSON form (docs/vm-spec.md). */
#include "vmm/vm_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "util/compiler.h"
#include "util/json_file.h"
#include "util/log.h"
#include "util/size.h"
#include "vmm/resources.h"

#define MAX_JSON_DEPTH 32

/* ---- names in messages ---- */

enum field {
    F_VERSION,
    F_MACHINE,
    F_MEMORY,
    F_CPUS,
    F_FIRMWARE,
    F_KERNEL,
    F_INITRD,
    F_APPEND,
    F_ELF,
    F_DISKS,
    F_NICS,
    F_CONSOLE,
    F_SERIAL_SOCKET,
    F_SERIAL_LOG,
    F_CONTROL,
    F_CHANNELS,
    F_PIDFILE,
    F_LOG,
};

static const struct {
    const char *json, *flag;
} field_names[] = {
    [F_VERSION] = {"version", "--spec"},
    [F_MACHINE] = {"machine", "machine"},
    [F_MEMORY] = {"memory", "--memory"},
    [F_CPUS] = {"cpus", "--cpus"},
    [F_FIRMWARE] = {"firmware", "--bios"},
    [F_KERNEL] = {"kernel", "--kernel"},
    [F_INITRD] = {"initrd", "--initrd"},
    [F_APPEND] = {"append", "--append"},
    [F_ELF] = {"elf", "--elf"},
    [F_DISKS] = {"disks", "--disk"},
    [F_NICS] = {"nics", "--net"},
    [F_CONSOLE] = {"console", "--serial-socket/--serial-log"},
    [F_SERIAL_SOCKET] = {"console.serial-socket", "--serial-socket"},
    [F_SERIAL_LOG] = {"console.serial-log", "--serial-log"},
    [F_CONTROL] = {"control", "--control"},
    [F_CHANNELS] = {"channels", "--channel"},
    [F_PIDFILE] = {"pidfile", "--pidfile"},
    [F_LOG] = {"log", "--log"},
};

static const char *name_of(const struct vm_spec *s, enum field f)
{
    return s->names == VM_SPEC_NAMES_FLAGS ? field_names[f].flag : field_names[f].json;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...) PRINTF_FMT(3, 4);
struct top_field;
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- the struct ---- */

void vm_spec_init(struct vm_spec *s, enum vm_spec_names names)
{
    memset(s, 0, sizeof(*s));
    s->version = VM_SPEC_VERSION;
    snprintf(s->machine, sizeof(s->machine), "virt");
    s->memory = 512ULL << 20;
    s->cpus = 1;
    s->names = names;
}

static void disk_free(struct disk_spec *d)
{
    free(d->path);
    free(d->format);
    free(d->serial);
    memset(d, 0, sizeof(*d));
}

void vm_spec_free(struct vm_spec *s)
{
    char **strings[] = {&s->firmware,
                        &s->kernel,
                        &s->initrd,
                        &s->append,
                        &s->elf,
                        &s->console.serial_socket,
                        &s->console.serial_log,
                        &s->control,
                        &s->pidfile,
                        &s->log,
                        &s->incoming,
                        &s->restore,
                        &s->save_on_exit,
                        &s->display.vnc,
                        &s->display.password_file,
                        &s->gdb};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    for (unsigned i = 0; i < s->ndisks; i++)
        disk_free(&s->disks[i]);
    s->ndisks = 0;
    s->nnics = 0;
    s->net_none = false;
    for (unsigned i = 0; i < s->nchannels; i++) {
        free(s->channels[i].name);
        free(s->channels[i].socket);
    }
    memset(s->channels, 0, sizeof(s->channels));
    s->nchannels = 0;
}

void vm_spec_set_string(char **field, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        fatal("out of memory");
    free(*field);
    *field = copy;
}

/* ---- the one check of each range ---- */

bool vm_spec_memory_ok(uint64_t bytes, bool with_host, char *why, size_t whylen)
{
    if (with_host)
        return board_ram_size_ok(bytes, why, whylen);
    if (bytes < BOARD_MIN_RAM || bytes > BOARD_MAX_RAM)
        return fail(why, whylen, "must be between 16M and 1T");
    return true;
}

bool vm_spec_cpus_ok(long long n, char *why, size_t whylen)
{
    if (n < 1 || n > VM_SPEC_MAX_CPUS)
        return fail(why, whylen, "must be a number from 1 to %d", VM_SPEC_MAX_CPUS);
    return true;
}

bool vm_spec_set_memory_text(struct vm_spec *s, const char *text, char *err, size_t errlen)
{
    if (!parse_size(text, &s->memory))
        return fail(err, errlen, "%s: '%.40s' is not a size (examples: 512M, 2G)",
                    name_of(s, F_MEMORY), text);
    return true;
}

bool vm_spec_set_cpus_text(struct vm_spec *s, const char *text, char *err, size_t errlen)
{
    char *end, why[128];
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (!*text || *end || errno || !vm_spec_cpus_ok(n, why, sizeof(why)))
        return fail(err, errlen, "%s: '%.40s' is not a number from 1 to %d", name_of(s, F_CPUS),
                    text, VM_SPEC_MAX_CPUS);
    s->cpus = (unsigned)n;
    return true;
}

bool vm_spec_set_cpu_text(struct vm_spec *s, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 4 && !strncmp(p, "h=on", 4))
            s->cpu_h = true;
        else if (n == 5 && !strncmp(p, "h=off", 5))
            s->cpu_h = false;
        else
            return fail(err, errlen, "--cpu: '%.*s' is not a CPU feature (known: h=on, h=off)",
                        (int)(n > 40 ? 40 : n), p);
        p += n + (p[n] == ',');
    }
    return true;
}

void vm_spec_set_firmware_text(struct vm_spec *s, const char *text)
{
    bool none = !strcmp(text, "none");
    s->firmware_kind = none ? VM_FIRMWARE_NONE : VM_FIRMWARE_FILE;
    vm_spec_set_string(&s->firmware, none ? NULL : text);
}

/* ---- disks ---- */

static bool on_off(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true"}, *const no[] = {"off", "no", "false"};
    for (unsigned i = 0; i < 3; i++) {
        if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
            *out = !strcmp(v, yes[i]);
            return true;
        }
    }
    return false;
}

/* discard= also takes QEMU's words. */
static bool discard_value(const char *v, bool *out)
{
    if (!strcmp(v, "unmap") || !strcmp(v, "ignore")) {
        *out = !strcmp(v, "unmap");
        return true;
    }
    return on_off(v, out);
}

static void label(char *out, size_t outlen, const char *given, const char *fmt, const char *arg)
{
    if (given)
        snprintf(out, outlen, "%s", given);
    else
        snprintf(out, outlen, fmt, arg);
}

static bool disk_check(const struct vm_spec *s, unsigned i, char *err, size_t errlen)
{
    const struct disk_spec *d = &s->disks[i];
    const char *what = s->disk_labels[i];
    if (!d->path || !*d->path)
        return fail(err, errlen, "%s: no image file given", what);
    if (d->format && !block_format_known(d->format)) {
        char known[128];
        block_format_names(known, sizeof(known));
        return fail(err, errlen, "%s: unknown format '%.32s' (known: %s)", what, d->format, known);
    }
    if (d->serial && strlen(d->serial) > VIRTIO_BLK_SERIAL_MAX)
        return fail(err, errlen, "%s: serial is longer than %d characters", what,
                    VIRTIO_BLK_SERIAL_MAX);
    return true;
}

static struct disk_spec *new_disk(struct vm_spec *s, char *err, size_t errlen)
{
    if (s->ndisks == VM_SPEC_MAX_DISKS) {
        fail(err, errlen, "%s: at most %d disks", name_of(s, F_DISKS), VM_SPEC_MAX_DISKS);
        return NULL;
    }
    struct disk_spec *d = &s->disks[s->ndisks];
    memset(d, 0, sizeof(*d));
    return d;
}

bool vm_spec_add_disk_text(struct vm_spec *s, const char *text, const char *given, char *err,
                           size_t errlen)
{
    struct disk_spec *d = new_disk(s, err, errlen);
    if (!d)
        return false;
    char *what = s->disk_labels[s->ndisks];
    label(what, sizeof(s->disk_labels[0]), given, "--disk %.80s", text);
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        fatal("out of memory");
    bool first = true, ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok;
         tok = strtok_r(NULL, ",", &save), first = false) {
        char *eq = strchr(tok, '=');
        if (first && (!eq || !strncmp(tok, "file=", 5))) {
            vm_spec_set_string(&d->path, eq ? eq + 1 : tok);
            continue;
        }
        if (!eq) {
            ok = fail(err, errlen, "%s: '%.40s' is not KEY=VALUE", what, tok);
            break;
        }
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        if (!strcmp(key, "file")) {
            vm_spec_set_string(&d->path, val);
        } else if (!strcmp(key, "format")) {
            vm_spec_set_string(&d->format, strcmp(val, "probe") ? val : NULL);
        } else if (!strcmp(key, "serial")) {
            vm_spec_set_string(&d->serial, val);
        } else if (!strcmp(key, "readonly")) {
            if (!on_off(val, &d->readonly))
                ok = fail(err, errlen, "%s: readonly=%.20s: expected on or off", what, val);
        } else if (!strcmp(key, "discard")) {
            if (!discard_value(val, &d->discard))
                ok = fail(err, errlen, "%s: discard=%.20s: expected on or off", what, val);
        } else if (io_limit_find(key) >= 0) {
            ok = io_limit_set_text(&d->limits, io_limit_find(key), val, what, err, errlen);
        } else {
            ok = fail(err, errlen, "%s: unknown option '%.32s'", what, key);
        }
    }
    free(copy);
    s->ndisks++; /* counted even on failure, so vm_spec_free frees it */
    if (ok && !disk_check(s, s->ndisks - 1, err, errlen))
        ok = false;
    if (!ok)
        disk_free(&s->disks[--s->ndisks]);
    return ok;
}

/* ---- NICs ---- */

static bool nic_option(const struct net_backend_type *t, struct nic_spec *nic, const char *key,
                       const char *val, const char *what, char *err, size_t errlen)
{
    const struct net_option *o = net_option_find(t, key);
    if (!o) {
        char known[128] = "";
        size_t used = 0;
        for (unsigned i = 0; (o = net_option_at(t, i)) && used < sizeof(known); i++)
            used +=
                (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "", o->key);
        return fail(err, errlen, "%s: unknown option '%.32s' for the %s backend (options: %s)",
                    what, key, t->name, known);
    }
    char why[200];
    if (!o->parse(nic, val, why, sizeof(why)))
        return fail(err, errlen, "%s: %s", what, why);
    return true;
}

static const struct net_backend_type *find_backend(const char *name, const char *what, char *err,
                                                   size_t errlen)
{
    const struct net_backend_type *t = net_backend_find(name);
    if (!t) {
        char known[128];
        net_backend_names(known, sizeof(known));
        fail(err, errlen, "%s: unknown backend '%.32s' (expected one of: %s)", what, name, known);
    }
    return t;
}

static bool parse_nic_text(struct nic_spec *nic, const char *text, const char *what, char *err,
                           size_t errlen)
{
    memset(nic, 0, sizeof(*nic));
    if (!*text)
        return fail(err, errlen, "%s: empty option (expected a backend such as user or tap)", what);
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        fatal("out of memory");
    char *type = strtok_r(copy, ",", &save);
    /* "switch=NAME": the backend, and its option of the same name. */
    char *type_value = type ? strchr(type, '=') : NULL;
    if (type_value)
        *type_value++ = '\0';
    bool ok = (nic->backend = find_backend(type ? type : "", what, err, errlen)) != NULL;
    if (ok && type_value)
        ok = nic_option(nic->backend, nic, type, type_value, what, err, errlen);
    const char *last_key = NULL; /* a repeated option takes more values: trunk=10,20 */
    for (char *tok = strtok_r(NULL, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const struct net_option *prev = last_key ? net_option_find(nic->backend, last_key) : NULL;
        if (!eq && prev && prev->repeated) {
            ok = nic_option(nic->backend, nic, last_key, tok, what, err, errlen);
            continue;
        }
        if (!eq) {
            ok = fail(err, errlen, "%s: '%.40s' is not KEY=VALUE", what, tok);
            break;
        }
        *eq = '\0';
        ok = nic_option(nic->backend, nic, tok, eq + 1, what, err, errlen);
        last_key = tok;
    }
    free(copy);
    if (ok && nic->backend->check) {
        char why[200];
        if (!nic->backend->check(nic, why, sizeof(why)))
            ok = fail(err, errlen, "%s: %s", what, why);
    }
    return ok;
}

bool vm_spec_add_nic_text(struct vm_spec *s, const char *text, const char *given, char *err,
                          size_t errlen)
{
    if (!strcmp(text, "none") || s->net_none) {
        if (s->nnics || s->net_none)
            return fail(err, errlen, "%s: none cannot be combined with another network card",
                        name_of(s, F_NICS));
        s->net_none = true;
        return true;
    }
    if (s->nnics == VM_SPEC_MAX_NICS)
        return fail(err, errlen, "%s: at most %d network cards", name_of(s, F_NICS),
                    VM_SPEC_MAX_NICS);
    char *what = s->nic_labels[s->nnics];
    label(what, sizeof(s->nic_labels[0]), given, "--net %.80s", text);
    if (!parse_nic_text(&s->nics[s->nnics], text, what, err, errlen))
        return false;
    s->nnics++;
    return true;
}

void vm_spec_default_net(struct vm_spec *s)
{
    char err[256];
    if (s->nnics || s->net_none || s->elf)
        return;
    if (!vm_spec_add_nic_text(s, "user", "the default --net user", err, sizeof(err)))
        fatal("default network: %s", err);
}

bool vm_spec_nic_text_ok(const char *text, const char *what, char *err, size_t errlen)
{
    struct nic_spec nic;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fail(err, errlen, "%s: contains a control character", what);
    return parse_nic_text(&nic, text, what, err, errlen);
}

/* ---- the validator ---- */

static bool nonempty(const struct vm_spec *s, const char *v, enum field f, char *err, size_t errlen)
{
    if (v && !*v)
        return fail(err, errlen, "%s: empty file name", name_of(s, f));
    return true;
}

static bool validate_channels(const struct vm_spec *s, char *err, size_t errlen);

bool vm_spec_vnc_addr(const char *text, char *addr, size_t addrlen, int *port)
{
    const char *colon = strrchr(text, ':');
    struct in_addr a;
    char host[INET_ADDRSTRLEN];
    if (!colon || (size_t)(colon - text) >= sizeof(host))
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (inet_pton(AF_INET, host, &a) != 1 || end == colon + 1 || *end || errno || p < 1 ||
        p > 65535 || strlen(host) >= addrlen)
        return false;
    memcpy(addr, host, strlen(host) + 1);
    *port = (int)p;
    return true;
}

bool vm_spec_set_display_text(struct vm_spec *s, const char *text, char *err, size_t errlen)
{
    const char *what = s->names == VM_SPEC_NAMES_FLAGS ? "--display" : "display";
    vm_spec_set_string(&s->display.vnc, NULL);
    s->display.gpu = false;
    if (!strcmp(text, "none"))
        return true;
    s->display.gpu = true;
    if (!strcmp(text, "gpu"))
        return true;
    if (!strcmp(text, "vnc")) {
        vm_spec_set_string(&s->display.vnc, "127.0.0.1:5900");
        return true;
    }
    if (!strncmp(text, "vnc=", 4)) {
        vm_spec_set_string(&s->display.vnc, text + 4);
        return true;
    }
    return fail(err, errlen, "%s %.64s: expected none, gpu, vnc or vnc=ADDR:PORT", what, text);
}

static bool validate_display(const struct vm_spec *s, char *err, size_t errlen)
{
    const struct display_spec *d = &s->display;
    const char *what = s->names == VM_SPEC_NAMES_FLAGS ? "--display" : "display";
    char addr[INET_ADDRSTRLEN];
    int port;
    if (!d->gpu && (d->vnc || d->password_file))
        return fail(err, errlen, "%s: a VNC server needs the display", what);
    if (d->vnc && !vm_spec_vnc_addr(d->vnc, addr, sizeof(addr), &port))
        return fail(err, errlen, "%s vnc=%.64s: expected ADDR:PORT (IPv4 address, port 1-65535)",
                    what, d->vnc);
    if (d->password_file && !*d->password_file)
        return fail(err, errlen, "%s: empty password file name", what);
    /* Without a password only this host's users may look (and type). */
    if (d->vnc && !d->password_file && strncmp(addr, "127.", 4))
        return fail(err, errlen,
                    "%s vnc=%.64s: a VNC server on a non-loopback address needs a "
                    "password file",
                    what, d->vnc);
    if (s->elf && d->gpu)
        return fail(err, errlen, "%s: a bare-metal program (elf) has no display", what);
    return true;
}

bool vm_spec_validate(struct vm_spec *s, char *err, size_t errlen)
{
    char why[256];
    if (s->version != VM_SPEC_VERSION)
        return fail(err, errlen, "%s: version %d is not one this wirt reads (%d)",
                    name_of(s, F_VERSION), s->version, VM_SPEC_VERSION);
    if (strcmp(s->machine, "virt"))
        return fail(err, errlen, "%s: unknown machine '%s' (expected virt)", name_of(s, F_MACHINE),
                    s->machine);
    if (!vm_spec_memory_ok(s->memory, true, why, sizeof(why)))
        return fail(err, errlen, "%s: %s", name_of(s, F_MEMORY), why);
    if (!vm_spec_cpus_ok(s->cpus, why, sizeof(why)))
        return fail(err, errlen, "%s: %s", name_of(s, F_CPUS), why);
    if (s->elf && (s->kernel || s->initrd || s->firmware_kind != VM_FIRMWARE_DEFAULT))
        return fail(err, errlen, "%s: cannot be combined with %s, %s or %s", name_of(s, F_ELF),
                    name_of(s, F_KERNEL), name_of(s, F_INITRD), name_of(s, F_FIRMWARE));
    if (s->firmware_kind == VM_FIRMWARE_FILE && (!s->firmware || !*s->firmware))
        return fail(err, errlen, "%s: empty file name", name_of(s, F_FIRMWARE));
    static const enum field files[] = {F_KERNEL,  F_INITRD, F_ELF,           F_CONTROL,
                                       F_PIDFILE, F_LOG,    F_SERIAL_SOCKET, F_SERIAL_LOG};
    const char *values[] = {s->kernel,
                            s->initrd,
                            s->elf,
                            s->control,
                            s->pidfile,
                            s->log,
                            s->console.serial_socket,
                            s->console.serial_log};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (!nonempty(s, values[i], files[i], err, errlen))
            return false;
    if (!validate_channels(s, err, errlen) || !validate_display(s, err, errlen))
        return false;
    /* Guest RAM is resident once touched: a limit below it would have the
     * host kill the VMM when the guest uses its memory. */
    if (s->resources.cg.memory_limit && s->resources.cg.memory_limit < s->memory + (64u << 20))
        return fail(err, errlen,
                    "memory-limit: at least the guest's memory plus 64M (%llu MiB) is needed",
                    (unsigned long long)((s->memory >> 20) + 64));
    bool has_detached = s->console.serial_socket || s->console.serial_log;
    if (s->console.detached && !has_detached)
        return fail(err, errlen, "%s: a detached console needs serial-socket or serial-log",
                    name_of(s, F_CONSOLE));
    if (!s->console.detached && has_detached)
        return fail(err, errlen, "%s: serial-socket and serial-log need mode \"detached\"",
                    name_of(s, F_CONSOLE));
    for (unsigned i = 0; i < s->ndisks; i++)
        if (!disk_check(s, i, err, errlen))
            return false;
    for (unsigned i = 0; i < s->nnics; i++) {
        struct nic_spec *nic = &s->nics[i];
        if (!nic->backend)
            return fail(err, errlen, "%s: no backend", s->nic_labels[i]);
        if (nic->backend->check && !nic->backend->check(nic, why, sizeof(why)))
            return fail(err, errlen, "%s: %s", s->nic_labels[i], why);
        if (!nic->mac_given)
            net_default_mac(nic->mac, i);
    }
    return true;
}

/* ---- JSON in ---- */

/* A JSON string (or null for "none" when nullable) into *out. */
static bool json_text(json_object *v, const char *what, bool nullable, char **out, char *err,
                      size_t errlen)
{
    if (nullable && json_object_is_type(v, json_type_null)) {
        vm_spec_set_string(out, NULL);
        return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return fail(err, errlen, "%s: must be a string", what);
    const char *text = json_object_get_string(v);
    if (strlen(text) != (size_t)json_object_get_string_len(v))
        return fail(err, errlen, "%s: contains a NUL byte", what);
    vm_spec_set_string(out, text);
    return true;
}

static bool json_flag(json_object *v, const char *what, bool *out, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_boolean))
        return fail(err, errlen, "%s: must be true or false", what);
    *out = json_object_get_boolean(v);
    return true;
}

/* Reserved objects: only {} (what this version does) is accepted, so a
 * setting written for a later version is never silently ignored. */
static bool json_reserved(json_object *v, const char *what, bool *out, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_object))
        return fail(err, errlen, "%s: must be an object", what);
    if (json_object_object_length(v))
        return fail(err, errlen, "%s: not supported by this version of wirt (only {} is accepted)",
                    what);
    if (out)
        *out = true;
    return true;
}

static bool disk_from_json(struct vm_spec *s, json_object *o, char *err, size_t errlen)
{
    struct disk_spec *d = new_disk(s, err, errlen);
    if (!d)
        return false;
    char *what = s->disk_labels[s->ndisks];
    snprintf(what, sizeof(s->disk_labels[0]), "disks[%u]", s->ndisks);
    s->ndisks++;
    if (!json_object_is_type(o, json_type_object))
        return fail(err, errlen, "%s: must be an object with a \"path\"", what);
    char key_what[160];
    json_object_object_foreach(o, key, v)
    {
        snprintf(key_what, sizeof(key_what), "%s.%.32s", what, key);
        bool ok;
        if (!strcmp(key, "path")) {
            ok = json_text(v, key_what, false, &d->path, err, errlen);
        } else if (!strcmp(key, "format")) {
            ok = json_text(v, key_what, true, &d->format, err, errlen);
            if (ok && d->format && !strcmp(d->format, "probe"))
                vm_spec_set_string(&d->format, NULL);
        } else if (!strcmp(key, "serial")) {
            ok = json_text(v, key_what, true, &d->serial, err, errlen);
        } else if (!strcmp(key, "readonly")) {
            ok = json_flag(v, key_what, &d->readonly, err, errlen);
        } else if (!strcmp(key, "discard")) {
            ok = json_flag(v, key_what, &d->discard, err, errlen);
        } else if (!strcmp(key, "cache")) {
            /* Reserved: guest flushes reach stable storage, the rest is
             * the host's page cache. */
            ok = json_object_is_type(v, json_type_string) &&
                 !strcmp(json_object_get_string(v), "writeback");
            if (!ok)
                fail(err, errlen, "%s: only \"writeback\" is supported by this version", key_what);
        } else if (!strcmp(key, "throttle")) {
            ok = io_limits_from_json(&d->limits, v, key_what, err, errlen);
        } else {
            ok = fail(err, errlen, "%s: unknown key \"%.32s\"", what, key);
        }
        if (!ok)
            return false;
    }
    if (!d->path)
        return fail(err, errlen, "%s: must be an object with a \"path\"", what);
    return true;
}

static bool nic_from_json(struct vm_spec *s, json_object *o, char *err, size_t errlen)
{
    if (s->nnics == VM_SPEC_MAX_NICS)
        return fail(err, errlen, "nics: at most %d network cards", VM_SPEC_MAX_NICS);
    char *what = s->nic_labels[s->nnics];
    snprintf(what, sizeof(s->nic_labels[0]), "nics[%u]", s->nnics);
    struct nic_spec *nic = &s->nics[s->nnics];
    memset(nic, 0, sizeof(*nic));
    json_object *jb;
    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "backend", &jb) || !json_object_is_type(jb, json_type_string))
        return fail(err, errlen, "%s: must be an object with a \"backend\" string", what);
    char bwhat[128];
    snprintf(bwhat, sizeof(bwhat), "%s.backend", what);
    if (!(nic->backend = find_backend(json_object_get_string(jb), bwhat, err, errlen)))
        return false;
    json_object_object_foreach(o, key, v)
    {
        if (!strcmp(key, "backend"))
            continue;
        char key_what[160];
        snprintf(key_what, sizeof(key_what), "%s.%.32s", what, key);
        const struct net_option *opt = net_option_find(nic->backend, key);
        if (!opt)
            return nic_option(nic->backend, nic, key, "", what, err, errlen);
        bool list = json_object_is_type(v, json_type_array);
        if (list && !opt->repeated)
            return fail(err, errlen, "%s: must be a string", key_what);
        size_t n = list ? json_object_array_length(v) : 1;
        for (size_t i = 0; i < n; i++) {
            json_object *item = list ? json_object_array_get_idx(v, i) : v;
            char item_what[180];
            snprintf(item_what, sizeof(item_what), list ? "%s[%zu]" : "%s", key_what, i);
            if (!json_object_is_type(item, json_type_string))
                return fail(err, errlen, "%s: must be a string%s", item_what,
                            opt->repeated && !list ? " or a list of strings" : "");
            if (!nic_option(nic->backend, nic, key, json_object_get_string(item), item_what, err,
                            errlen))
                return false;
        }
    }
    s->nnics++;
    return true;
}

static struct channel_spec *new_channel(struct vm_spec *s, char *err, size_t errlen)
{
    if (s->nchannels == VM_SPEC_MAX_CHANNELS) {
        fail(err, errlen, "%s: at most %d channels", name_of(s, F_CHANNELS), VM_SPEC_MAX_CHANNELS);
        return NULL;
    }
    return &s->channels[s->nchannels++];
}

bool vm_spec_add_channel_text(struct vm_spec *s, const char *text, char *err, size_t errlen)
{
    struct channel_spec *c = new_channel(s, err, errlen);
    if (!c)
        return false;
    const char *comma = strchr(text, ',');
    if (!comma || strncmp(comma + 1, "socket=", 7) || !comma[8])
        return fail(err, errlen, "--channel %.200s: want NAME,socket=PATH", text);
    c->name = strndup(text, (size_t)(comma - text));
    c->socket = strdup(comma + 8);
    if (!c->name || !c->socket)
        fatal("out of memory");
    return true;
}

static bool channel_from_json(struct vm_spec *s, json_object *o, char *err, size_t errlen)
{
    struct channel_spec *c = new_channel(s, err, errlen);
    if (!c)
        return false;
    char what[32];
    snprintf(what, sizeof(what), "channels[%u]", s->nchannels - 1);
    if (!json_object_is_type(o, json_type_object))
        return fail(err, errlen, "%s: must be an object with \"name\" and \"socket\"", what);
    char key_what[80];
    json_object_object_foreach(o, key, v)
    {
        snprintf(key_what, sizeof(key_what), "%s.%.32s", what, key);
        bool ok;
        if (!strcmp(key, "name"))
            ok = json_text(v, key_what, false, &c->name, err, errlen);
        else if (!strcmp(key, "socket"))
            ok = json_text(v, key_what, false, &c->socket, err, errlen);
        else
            ok = fail(err, errlen, "%s: unknown key \"%.32s\"", what, key);
        if (!ok)
            return false;
    }
    return true;
}

static bool validate_channels(const struct vm_spec *s, char *err, size_t errlen)
{
    const char *what = name_of(s, F_CHANNELS);
    for (unsigned i = 0; i < s->nchannels; i++) {
        const struct channel_spec *c = &s->channels[i];
        if (!c->name || !c->socket)
            return fail(err, errlen, "%s[%u]: needs a name and a socket", what, i);
        if (!virtio_channel_name_ok(c->name))
            return fail(err, errlen, "%s %.80s: a name is 1 to %d characters of A-Z a-z 0-9 . _ -",
                        what, c->name, VIRTIO_CHANNEL_NAME_MAX);
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(s->channels[j].name, c->name))
                return fail(err, errlen, "%s %.80s: the name is used twice", what, c->name);
    }
    return true;
}

static bool console_from_json(struct vm_spec *s, json_object *o, char *err, size_t errlen)
{
    if (!json_object_is_type(o, json_type_object))
        return fail(err, errlen, "console: must be an object");
    json_object_object_foreach(o, key, v)
    {
        bool ok;
        if (!strcmp(key, "mode")) {
            const char *m = json_object_get_string(v);
            ok = json_object_is_type(v, json_type_string) &&
                 (!strcmp(m, "terminal") || !strcmp(m, "detached"));
            if (!ok)
                return fail(err, errlen, "console.mode: must be \"terminal\" or \"detached\"");
            s->console.detached = !strcmp(m, "detached");
        } else if (!strcmp(key, "serial-socket")) {
            ok =
                json_text(v, "console.serial-socket", true, &s->console.serial_socket, err, errlen);
        } else if (!strcmp(key, "serial-log")) {
            ok = json_text(v, "console.serial-log", true, &s->console.serial_log, err, errlen);
        } else {
            ok = fail(err, errlen, "console: unknown key \"%.32s\"", key);
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool list_from_json(struct vm_spec *s, json_object *v, const char *what,
                           bool (*item)(struct vm_spec *, json_object *, char *, size_t), char *err,
                           size_t errlen)
{
    if (!json_object_is_type(v, json_type_array))
        return fail(err, errlen, "%s: must be a list", what);
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!item(s, json_object_array_get_idx(v, i), err, errlen))
            return false;
    return true;
}

static bool channels_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    return list_from_json(s, v, "channels", channel_from_json, err, errlen);
}

bool vm_spec_set_resource_text(struct vm_spec *s, const char *key, const char *value, char *err,
                               size_t errlen)
{
    return vm_resources_set_text(&s->resources, key, value, err, errlen);
}

static bool resources_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    return vm_resources_from_json(&s->resources, v, err, errlen);
}

static bool version_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_int))
        return fail(err, errlen, "version: must be a number (this wirt reads %d)", VM_SPEC_VERSION);
    int64_t n = json_object_get_int64(v);
    s->version = n < 0 || n > 1000 ? -1 : (int)n;
    return true;
}

static bool machine_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    char *text = NULL;
    bool ok = json_text(v, "machine", false, &text, err, errlen);
    if (ok && strlen(text) >= sizeof(s->machine))
        ok = fail(err, errlen, "machine: unknown machine '%.32s' (expected virt)", text);
    else if (ok)
        memcpy(s->machine, text, strlen(text) + 1);
    free(text);
    return ok;
}

static bool memory_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t m = json_object_get_int64(v);
        s->memory = m > 0 ? (uint64_t)m : 0;
        return true;
    }
    char *text = NULL;
    bool ok = json_text(v, "memory", false, &text, err, errlen) &&
              vm_spec_set_memory_text(s, text, err, errlen);
    free(text);
    return ok;
}

static bool cpus_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    char why[128];
    if (!json_object_is_type(v, json_type_int) ||
        !vm_spec_cpus_ok(json_object_get_int64(v), why, sizeof(why)))
        return fail(err, errlen, "cpus: must be a number from 1 to %d", VM_SPEC_MAX_CPUS);
    s->cpus = (unsigned)json_object_get_int64(v);
    return true;
}

static bool cpu_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_object))
        return fail(err, errlen, "cpu: must be an object like {\"h\": true}");
    json_object_object_foreach(v, key, val)
    {
        if (strcmp(key, "h") || !json_object_is_type(val, json_type_boolean))
            return fail(err, errlen, "cpu.%.40s: unknown (known: h, a boolean)", key);
        s->cpu_h = json_object_get_boolean(val);
    }
    return true;
}

static bool firmware_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    char *text = NULL;
    bool ok = json_text(v, "firmware", false, &text, err, errlen);
    if (ok)
        vm_spec_set_firmware_text(s, text);
    free(text);
    return ok;
}

static bool disks_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    return list_from_json(s, v, "disks", disk_from_json, err, errlen);
}

static bool nics_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    return list_from_json(s, v, "nics", nic_from_json, err, errlen);
}

static bool display_from_json(struct vm_spec *s, json_object *v, char *err, size_t errlen)
{
    if (!json_object_is_type(v, json_type_object))
        return fail(err, errlen, "display: must be an object");
    s->display.gpu = true;
    json_object_object_foreach(v, key, val)
    {
        bool ok;
        if (!strcmp(key, "vnc"))
            ok = json_text(val, "display.vnc", true, &s->display.vnc, err, errlen);
        else if (!strcmp(key, "password-file"))
            ok = json_text(val, "display.password-file", true, &s->display.password_file, err,
                           errlen);
        else
            ok = fail(err, errlen, "display: unknown key \"%.32s\"", key);
        if (!ok)
            return false;
    }
    return true;
}

/* The top-level keys: plain strings (null = absent) and reserved objects
 * by offset, the rest by a parser of their own. */
enum json_kind { J_TEXT, J_RESERVED, J_OTHER };
static const struct top_field {
    const char *key;
    enum json_kind kind;
    size_t offset;
    bool (*parse)(struct vm_spec *s, json_object *v, char *err, size_t errlen);
} top_fields[] = {
    {"version", J_OTHER, 0, version_from_json},
    {"machine", J_OTHER, 0, machine_from_json},
    {"memory", J_OTHER, 0, memory_from_json},
    {"cpus", J_OTHER, 0, cpus_from_json},
    {"cpu", J_OTHER, 0, cpu_from_json},
    {"firmware", J_OTHER, 0, firmware_from_json},
    {"kernel", J_TEXT, offsetof(struct vm_spec, kernel), NULL},
    {"initrd", J_TEXT, offsetof(struct vm_spec, initrd), NULL},
    {"append", J_TEXT, offsetof(struct vm_spec, append), NULL},
    {"elf", J_TEXT, offsetof(struct vm_spec, elf), NULL},
    {"disks", J_OTHER, 0, disks_from_json},
    {"nics", J_OTHER, 0, nics_from_json},
    {"console", J_OTHER, 0, console_from_json},
    {"channels", J_OTHER, 0, channels_from_json},
    {"control", J_TEXT, offsetof(struct vm_spec, control), NULL},
    {"pidfile", J_TEXT, offsetof(struct vm_spec, pidfile), NULL},
    {"log", J_TEXT, offsetof(struct vm_spec, log), NULL},
    {"resources", J_OTHER, 0, resources_from_json},
    {"display", J_OTHER, 0, display_from_json},
    {"migration", J_RESERVED, offsetof(struct vm_spec, migration), NULL},
};
#define NTOP_FIELDS (sizeof(top_fields) / sizeof(top_fields[0]))

static bool top_from_json(struct vm_spec *s, const char *key, json_object *v, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < NTOP_FIELDS; i++) {
        const struct top_field *f = &top_fields[i];
        if (strcmp(f->key, key))
            continue;
        void *field = (char *)s + f->offset;
        switch (f->kind) {
        case J_TEXT:
            return json_text(v, key, true, field, err, errlen);
        case J_RESERVED:
            return json_reserved(v, key, field, err, errlen);
        case J_OTHER:
            return f->parse(s, v, err, errlen);
        }
    }
    return fail(err, errlen, "unknown key \"%.64s\"", key);
}

bool vm_spec_from_json(json_object *o, struct vm_spec *s, char *err, size_t errlen)
{
    vm_spec_init(s, VM_SPEC_NAMES_JSON);
    if (!json_object_is_type(o, json_type_object))
        return fail(err, errlen, "a VM spec must be a JSON object");
    json_object *version;
    if (!json_object_object_get_ex(o, "version", &version))
        return fail(err, errlen, "version: missing (this wirt reads version %d)", VM_SPEC_VERSION);
    /* The version first: a later version's keys get a message about the
     * version, not about an unknown key. */
    if (!top_from_json(s, "version", version, err, errlen))
        return false;
    if (s->version != VM_SPEC_VERSION)
        return fail(err, errlen, "version: %lld is not one this wirt reads (%d)",
                    (long long)json_object_get_int64(version), VM_SPEC_VERSION);
    json_object_object_foreach(o, key, v)
    {
        if (strcmp(key, "version") && !top_from_json(s, key, v, err, errlen))
            return false;
    }
    return vm_spec_validate(s, err, errlen);
}

/* ---- JSON out ---- */

static void add_text(json_object *o, const char *key, const char *value)
{
    if (value)
        json_object_object_add(o, key, json_object_new_string(value));
}

/* Writes the table's plain fields (strings, reserved objects) from key
 * `first` up to the next one with a writer of its own, in table order. */
static void add_plain_fields(json_object *o, const struct vm_spec *s, const char *first)
{
    size_t i = 0;
    while (i < NTOP_FIELDS && strcmp(top_fields[i].key, first))
        i++;
    for (; i < NTOP_FIELDS && top_fields[i].kind != J_OTHER; i++) {
        const struct top_field *f = &top_fields[i];
        const char *field = (const char *)s + f->offset;
        if (f->kind == J_TEXT)
            add_text(o, f->key, *(char *const *)field);
        else if (*(const bool *)field)
            json_object_object_add(o, f->key, json_object_new_object());
    }
}

static json_object *nic_to_json(const struct nic_spec *nic)
{
    json_object *o = json_object_new_object();
    add_text(o, "backend", nic->backend ? nic->backend->name : "");
    const struct net_option *opt;
    for (unsigned i = 0; nic->backend && (opt = net_option_at(nic->backend, i)); i++) {
        char value[128];
        json_object *list = opt->repeated ? json_object_new_array() : NULL;
        for (unsigned k = 0; opt->format(nic, k, value, sizeof(value)); k++) {
            if (!list) {
                add_text(o, opt->key, value);
                break;
            }
            json_object_array_add(list, json_object_new_string(value));
        }
        if (list && json_object_array_length(list))
            json_object_object_add(o, opt->key, list);
        else
            json_object_put(list);
    }
    return o;
}

json_object *vm_spec_to_json(const struct vm_spec *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int(s->version));
    add_text(o, "machine", s->machine);
    json_object_object_add(o, "memory", json_object_new_int64((int64_t)s->memory));
    json_object_object_add(o, "cpus", json_object_new_int((int)s->cpus));
    if (s->cpu_h) {
        json_object *cpu = json_object_new_object();
        json_object_object_add(cpu, "h", json_object_new_boolean(true));
        json_object_object_add(o, "cpu", cpu);
    }
    if (s->firmware_kind != VM_FIRMWARE_DEFAULT)
        add_text(o, "firmware", s->firmware_kind == VM_FIRMWARE_NONE ? "none" : s->firmware);
    add_plain_fields(o, s, "kernel");
    json_object *disks = json_object_new_array();
    for (unsigned i = 0; i < s->ndisks; i++) {
        const struct disk_spec *d = &s->disks[i];
        json_object *j = json_object_new_object();
        add_text(j, "path", d->path);
        add_text(j, "format", d->format ? d->format : "probe");
        json_object_object_add(j, "readonly", json_object_new_boolean(d->readonly));
        add_text(j, "serial", d->serial);
        json_object_object_add(j, "discard", json_object_new_boolean(d->discard));
        if (!io_limits_empty(&d->limits))
            json_object_object_add(j, "throttle", io_limits_to_json(&d->limits));
        json_object_array_add(disks, j);
    }
    json_object_object_add(o, "disks", disks);
    json_object *nics = json_object_new_array();
    for (unsigned i = 0; i < s->nnics; i++)
        json_object_array_add(nics, nic_to_json(&s->nics[i]));
    json_object_object_add(o, "nics", nics);
    json_object *console = json_object_new_object();
    add_text(console, "mode", s->console.detached ? "detached" : "terminal");
    add_text(console, "serial-socket", s->console.serial_socket);
    add_text(console, "serial-log", s->console.serial_log);
    json_object_object_add(o, "console", console);
    if (!vm_resources_empty(&s->resources))
        json_object_object_add(o, "resources", vm_resources_to_json(&s->resources));
    if (s->nchannels) {
        json_object *channels = json_object_new_array();
        for (unsigned i = 0; i < s->nchannels; i++) {
            json_object *c = json_object_new_object();
            add_text(c, "name", s->channels[i].name);
            add_text(c, "socket", s->channels[i].socket);
            json_object_array_add(channels, c);
        }
        json_object_object_add(o, "channels", channels);
    }
    if (s->display.gpu) {
        json_object *d = json_object_new_object();
        add_text(d, "vnc", s->display.vnc);
        add_text(d, "password-file", s->display.password_file);
        json_object_object_add(o, "display", d);
    }
    add_plain_fields(o, s, "control");
    return o;
}

/* ---- files ---- */

bool vm_spec_load(const char *path, struct vm_spec *s, char *err, size_t errlen)
{
    char msg[400];
    vm_spec_init(s, VM_SPEC_NAMES_JSON);
    json_object *o = json_read_file(path, VM_SPEC_MAX_FILE, MAX_JSON_DEPTH, err, errlen);
    if (!o)
        return false;
    bool ok = vm_spec_from_json(o, s, msg, sizeof(msg));
    json_object_put(o);
    if (!ok)
        snprintf(err, errlen, "%s: %s", path, msg);
    return ok;
}

bool vm_spec_save(const char *path, const struct vm_spec *s, char *err, size_t errlen)
{
    json_object *o = vm_spec_to_json(s);
    bool ok = json_write_file(path, o, err, errlen);
    json_object_put(o);
    return ok;
}

void vm_spec_board_config(const struct vm_spec *s, struct board_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_size = s->memory;
    cfg->nharts = s->cpus;
    cfg->bios = s->firmware_kind == VM_FIRMWARE_FILE ? s->firmware : NULL;
    cfg->kernel = s->kernel;
    cfg->initrd = s->initrd;
    cfg->append = s->append;
    cfg->elf = s->elf;
    cfg->pin_harts = s->resources.pin;
    cfg->cpu_h = s->cpu_h;
}
