/* SPDX-License-Identifier: MIT */
/* vm.json: the human-editable VM configuration (docs/vm.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "util/json_file.h"
#include "util/size.h"
#include "vm/vm_int.h"
#include "vmm/vm_spec.h"

#define MAX_CONFIG_SIZE (256 * 1024)
#define MAX_JSON_DEPTH  32

void vm_config_defaults(struct vm_config *cfg, const char *name)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "%s", name);
    cfg->memory = 512ULL << 20;
    cfg->cpus = 1;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(cfg->created, sizeof(cfg->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A stored `net` entry names a registered backend; its options are
 * checked in full when it is set (vm_spec_nic_text_ok) and when the VM
 * starts, so a store written by an older wirt always loads. */
static bool net_entry_plausible(const char *text)
{
    char backend[32];
    size_t n = strcspn(text, ",=");
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    if (n >= sizeof(backend))
        return false;
    memcpy(backend, text, n);
    backend[n] = '\0';
    return net_backend_find(backend) != NULL;
}

bool vm_display_text_ok(const char *text, char *err, size_t errlen)
{
    struct vm_spec s;
    vm_spec_init(&s, VM_SPEC_NAMES_JSON);
    bool ok = vm_spec_set_display_text(&s, text, err, errlen);
    if (ok && s.display.vnc) {
        /* vm start sets the password file, so any address will do. */
        char addr[64];
        int port;
        if (!vm_spec_vnc_addr(s.display.vnc, addr, sizeof(addr), &port))
            ok = false, snprintf(err, errlen, "vnc=%.64s: expected ADDR:PORT (IPv4, port 1-65535)",
                                 s.display.vnc);
    }
    vm_spec_free(&s);
    return ok;
}

/* The first port from 5900 on that nobody listens on at 127.0.0.1 (a
 * guess: another program may take it before the VMM does, which then
 * says so). */
static int vm_free_vnc_port(void)
{
    for (int port = 5900; port < 6000; port++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        bool free_port = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (free_port)
            return port;
    }
    return 5900;
}

json_object *vm_config_to_json(const struct vm_config *cfg)
{
    json_object *o = json_object_new_object();
    char size[32];
    vm_format_size(size, sizeof(size), cfg->memory);
    json_object_object_add(o, "name", json_object_new_string(cfg->name));
    json_object_object_add(o, "memory", json_object_new_string(size));
    json_object_object_add(o, "cpus", json_object_new_int((int)cfg->cpus));
    if (cfg->nested)
        json_object_object_add(o, "nested", json_object_new_boolean(true));
    json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel));
    json_object_object_add(o, "initrd", json_object_new_string(cfg->initrd));
    json_object_object_add(o, "bios", json_object_new_string(cfg->bios));
    json_object_object_add(o, "append", json_object_new_string(cfg->append));
    json_object *disks = json_object_new_array();
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "file", json_object_new_string(cfg->disks[i].file));
        json_object_object_add(d, "format", json_object_new_string(cfg->disks[i].format));
        if (!io_limits_empty(&cfg->disks[i].limits))
            json_object_object_add(d, "throttle", io_limits_to_json(&cfg->disks[i].limits));
        json_object_array_add(disks, d);
    }
    json_object_object_add(o, "disks", disks);
    json_object *nets = json_object_new_array();
    for (unsigned i = 0; i < cfg->nnets; i++)
        json_object_array_add(nets, json_object_new_string(cfg->nets[i]));
    json_object_object_add(o, "net", nets);
    if (!vm_resources_empty(&cfg->resources))
        json_object_object_add(o, "resources", vm_resources_to_json(&cfg->resources));
    json_object_object_add(o, "template", json_object_new_boolean(cfg->is_template));
    if (cfg->restart != VM_RESTART_NEVER)
        json_object_object_add(o, "restart", json_object_new_string(vm_restart_name(cfg->restart)));
    json_object_object_add(o, "linked-to",
                           cfg->linked_to[0] ? json_object_new_string(cfg->linked_to) : NULL);
    json_object_object_add(o, "created", json_object_new_string(cfg->created));
    if (cfg->display[0])
        json_object_object_add(o, "display", json_object_new_string(cfg->display));
    return o;
}

static bool get_string(json_object *v, const char *key, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(err, errlen, "\"%s\" must be a string", key);
        return false;
    }
    const char *s = json_object_get_string(v);
    if (strlen(s) >= outlen || strlen(s) != (size_t)json_object_get_string_len(v)) {
        snprintf(err, errlen, "\"%s\" is too long or contains NUL", key);
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* A file of the VM: a plain name inside its directory, or "" for none. */
static bool get_file(json_object *v, const char *key, char *out, size_t outlen, bool allow_empty,
                     char *err, size_t errlen)
{
    if (allow_empty && json_object_is_type(v, json_type_null)) {
        out[0] = '\0';
        return true;
    }
    if (!get_string(v, key, out, outlen, err, errlen))
        return false;
    if ((allow_empty && !out[0]) || vm_file_name_valid(out))
        return true;
    snprintf(err, errlen,
             "\"%s\": '%.100s' is not a file name inside the VM directory (no '/', '..' or ',')",
             key, out);
    return false;
}

bool vm_config_from_json(json_object *o, struct vm_config *cfg, char *err, size_t errlen)
{
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(err, errlen, "the configuration must be a JSON object");
        return false;
    }
    char name[VM_NAME_MAX + 1] = "";
    snprintf(name, sizeof(name), "%s", cfg->name);
    vm_config_defaults(cfg, name);
    cfg->created[0] = '\0';
    json_object_object_foreach(o, key, v)
    {
        if (!strcmp(key, "name")) {
            char n[256];
            if (!get_string(v, key, n, sizeof(n), err, errlen))
                return false;
            if (!vm_name_valid(n)) {
                snprintf(err, errlen, "\"name\": '%.80s' is not a valid VM name", n);
                return false;
            }
            memcpy(cfg->name, n, strlen(n) + 1); /* valid names fit */
        } else if (!strcmp(key, "memory")) {
            char s[64];
            if (json_object_is_type(v, json_type_int)) {
                int64_t m = json_object_get_int64(v);
                cfg->memory = m > 0 ? (uint64_t)m : 0;
            } else if (!get_string(v, key, s, sizeof(s), err, errlen)) {
                return false;
            } else if (!parse_size(s, &cfg->memory)) {
                snprintf(err, errlen, "\"memory\": '%s' is not a size (examples: 512M, 2G)", s);
                return false;
            }
            char why[128];
            if (!vm_spec_memory_ok(cfg->memory, false, why, sizeof(why))) {
                snprintf(err, errlen, "\"memory\" %s", why);
                return false;
            }
        } else if (!strcmp(key, "cpus")) {
            int64_t n = json_object_get_int64(v);
            char why[128];
            if (!json_object_is_type(v, json_type_int) || !vm_spec_cpus_ok(n, why, sizeof(why))) {
                snprintf(err, errlen, "\"cpus\" %s", why);
                return false;
            }
            cfg->cpus = (unsigned)n;
        } else if (!strcmp(key, "kernel")) {
            if (!get_file(v, key, cfg->kernel, sizeof(cfg->kernel), true, err, errlen))
                return false;
        } else if (!strcmp(key, "initrd")) {
            if (!get_file(v, key, cfg->initrd, sizeof(cfg->initrd), true, err, errlen))
                return false;
        } else if (!strcmp(key, "bios")) {
            if (!get_file(v, key, cfg->bios, sizeof(cfg->bios), true, err, errlen))
                return false;
        } else if (!strcmp(key, "append")) {
            if (!get_string(v, key, cfg->append, sizeof(cfg->append), err, errlen))
                return false;
        } else if (!strcmp(key, "resources")) {
            char why[300];
            if (!vm_resources_from_json(&cfg->resources, v, why, sizeof(why))) {
                snprintf(err, errlen, "%s", why);
                return false;
            }
        } else if (!strcmp(key, "disks")) {
            if (!json_object_is_type(v, json_type_array) ||
                json_object_array_length(v) > VM_MAX_DISKS) {
                snprintf(err, errlen, "\"disks\" must be a list of at most %d disks", VM_MAX_DISKS);
                return false;
            }
            cfg->ndisks = (unsigned)json_object_array_length(v);
            for (unsigned i = 0; i < cfg->ndisks; i++) {
                json_object *d = json_object_array_get_idx(v, i), *f, *fmt;
                if (!json_object_is_type(d, json_type_object) ||
                    !json_object_object_get_ex(d, "file", &f)) {
                    snprintf(err, errlen, "\"disks\"[%u] must be an object with a \"file\"", i);
                    return false;
                }
                if (!get_file(f, "file", cfg->disks[i].file, sizeof(cfg->disks[i].file), false, err,
                              errlen))
                    return false;
                snprintf(cfg->disks[i].format, sizeof(cfg->disks[i].format), "qcow2");
                if (json_object_object_get_ex(d, "format", &fmt) &&
                    (!get_string(fmt, "format", cfg->disks[i].format, sizeof(cfg->disks[i].format),
                                 err, errlen) ||
                     (strcmp(cfg->disks[i].format, "qcow2") &&
                      strcmp(cfg->disks[i].format, "raw")))) {
                    snprintf(err, errlen, "\"disks\"[%u].format must be \"qcow2\" or \"raw\"", i);
                    return false;
                }
                json_object *thr;
                char what[32];
                snprintf(what, sizeof(what), "\"disks\"[%u].throttle", i);
                memset(&cfg->disks[i].limits, 0, sizeof(cfg->disks[i].limits));
                if (json_object_object_get_ex(d, "throttle", &thr) &&
                    !io_limits_from_json(&cfg->disks[i].limits, thr, what, err, errlen))
                    return false;
            }
        } else if (!strcmp(key, "net")) {
            if (!json_object_is_type(v, json_type_array) ||
                json_object_array_length(v) > VM_MAX_NICS) {
                snprintf(err, errlen, "\"net\" must be a list of at most %d strings", VM_MAX_NICS);
                return false;
            }
            cfg->nnets = (unsigned)json_object_array_length(v);
            for (unsigned i = 0; i < cfg->nnets; i++) {
                if (!get_string(json_object_array_get_idx(v, i), "net", cfg->nets[i],
                                sizeof(cfg->nets[i]), err, errlen))
                    return false;
                if (!net_entry_plausible(cfg->nets[i])) {
                    char known[64];
                    net_backend_names(known, sizeof(known));
                    snprintf(err, errlen, "\"net\"[%u]: '%.80s' does not start with a backend (%s)",
                             i, cfg->nets[i], known);
                    return false;
                }
            }
        } else if (!strcmp(key, "nested")) {
            if (!json_object_is_type(v, json_type_boolean)) {
                snprintf(err, errlen, "\"nested\" must be true or false");
                return false;
            }
            cfg->nested = json_object_get_boolean(v);
        } else if (!strcmp(key, "template")) {
            if (!json_object_is_type(v, json_type_boolean)) {
                snprintf(err, errlen, "\"template\" must be true or false");
                return false;
            }
            cfg->is_template = json_object_get_boolean(v);
        } else if (!strcmp(key, "display")) {
            if (!get_string(v, key, cfg->display, sizeof(cfg->display), err, errlen))
                return false;
            char why[256];
            if (cfg->display[0] && !vm_display_text_ok(cfg->display, why, sizeof(why))) {
                snprintf(err, errlen, "\"display\": %s", why);
                return false;
            }
        } else if (!strcmp(key, "restart")) {
            if (!json_object_is_type(v, json_type_string) ||
                !vm_restart_parse(json_object_get_string(v), &cfg->restart)) {
                snprintf(err, errlen, "\"restart\" must be \"never\" or \"on-crash\"");
                return false;
            }
        } else if (!strcmp(key, "linked-to")) {
            if (json_object_is_type(v, json_type_null)) {
                cfg->linked_to[0] = '\0';
                continue;
            }
            char n[256];
            if (!get_string(v, key, n, sizeof(n), err, errlen))
                return false;
            if (!vm_name_valid(n)) {
                snprintf(err, errlen, "\"linked-to\": '%.80s' is not a valid VM name", n);
                return false;
            }
            memcpy(cfg->linked_to, n, strlen(n) + 1);
        } else if (!strcmp(key, "created")) {
            if (!get_string(v, key, cfg->created, sizeof(cfg->created), err, errlen))
                return false;
        } else {
            snprintf(err, errlen, "unknown key \"%.64s\"", key);
            return false;
        }
    }
    return true;
}

bool vm_config_load(const struct vm_store *vs, const char *name, struct vm_config *cfg, char *err,
                    size_t errlen)
{
    char path[PATH_MAX], msg[256];
    vm_path(vs, path, sizeof(path), name, VM_CONFIG);
    json_object *o = json_read_file(path, MAX_CONFIG_SIZE, MAX_JSON_DEPTH, err, errlen);
    if (!o)
        return false;
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "%s", name);
    bool ok = vm_config_from_json(o, cfg, msg, sizeof(msg));
    json_object_put(o);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, msg);
        return false;
    }
    /* The directory names the VM; a copied config keeps working. */
    snprintf(cfg->name, sizeof(cfg->name), "%s", name);
    return true;
}

bool vm_config_save_dir(const char *dir, const struct vm_config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, VM_CONFIG) >= (int)sizeof(path)) {
        snprintf(err, errlen, "%.200s...: path too long", dir);
        return false;
    }
    json_object *o = vm_config_to_json(cfg);
    bool ok = json_write_file(path, o, err, errlen);
    json_object_put(o);
    return ok;
}

bool vm_config_save(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                    char *err, size_t errlen)
{
    char dir[PATH_MAX];
    vm_path(st, dir, sizeof(dir), name, NULL);
    return vm_config_save_dir(dir, cfg, err, errlen);
}

bool vm_config_to_spec(const struct vm_config *cfg, struct vm_spec *s, char *err, size_t errlen)
{
    vm_spec_init(s, VM_SPEC_NAMES_JSON);
    s->memory = cfg->memory;
    s->resources = cfg->resources;
    s->cpus = cfg->cpus;
    s->cpu_h = cfg->nested;
    vm_spec_set_firmware_text(s, cfg->bios[0] ? cfg->bios : "none");
    vm_spec_set_string(&s->kernel, cfg->kernel[0] ? cfg->kernel : NULL);
    vm_spec_set_string(&s->initrd, cfg->initrd[0] ? cfg->initrd : NULL);
    vm_spec_set_string(&s->append, cfg->append[0] ? cfg->append : NULL);
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        struct disk_spec *d = &s->disks[s->ndisks];
        snprintf(s->disk_labels[s->ndisks], sizeof(s->disk_labels[0]), "vm.json disks[%u]", i);
        s->ndisks++;
        vm_spec_set_string(&d->path, cfg->disks[i].file);
        vm_spec_set_string(&d->format, cfg->disks[i].format);
        d->limits = cfg->disks[i].limits;
    }
    /* vm.json keeps `wirt run --net` text; the spec holds it parsed. */
    for (unsigned i = 0; i < cfg->nnets; i++) {
        char what[32];
        snprintf(what, sizeof(what), "vm.json net[%u]", i);
        if (!vm_spec_add_nic_text(s, cfg->nets[i], what, err, errlen))
            return false;
    }
    /* The VMM runs in the VM directory: short names keep socket paths
     * within sun_path. */
    s->console.detached = true;
    vm_spec_set_string(&s->console.serial_socket, VM_SERIAL);
    vm_spec_set_string(&s->console.serial_log, VM_CONSOLELOG);
    vm_spec_set_string(&s->control, VM_CONTROL);
    vm_spec_set_string(&s->pidfile, VM_PIDFILE);
    vm_spec_set_string(&s->log, VM_VMMLOG);
    /* The display; its VNC server (loopback unless set otherwise) asks
     * for the password vm start keeps in the VM directory. */
    if (cfg->display[0]) {
        char text[128];
        if (!strcmp(cfg->display, "vnc"))
            snprintf(text, sizeof(text), "vnc=127.0.0.1:%d", vm_free_vnc_port());
        else
            snprintf(text, sizeof(text), "%s", cfg->display);
        if (!vm_spec_set_display_text(s, text, err, errlen))
            return false;
        if (s->display.vnc)
            vm_spec_set_string(&s->display.password_file, VM_VNC_PASSWD);
    }
    /* The guest agent's port (qemu-guest-agent looks for it by name), when
     * a virtio slot is left after the disks, NICs, entropy and console. */
    if (s->ndisks + s->nnics + 3 <= VIRT_VIRTIO_COUNT) {
        struct channel_spec *c = &s->channels[s->nchannels++];
        vm_spec_set_string(&c->name, VM_AGENT_CHANNEL);
        vm_spec_set_string(&c->socket, VM_AGENT);
    }
    return vm_spec_validate(s, err, errlen);
}

const char *vm_restart_name(enum vm_restart r)
{
    return r == VM_RESTART_ON_CRASH ? "on-crash" : "never";
}

bool vm_restart_parse(const char *text, enum vm_restart *out)
{
    if (!strcmp(text, "never") || !strcmp(text, "no"))
        *out = VM_RESTART_NEVER;
    else if (!strcmp(text, "on-crash"))
        *out = VM_RESTART_ON_CRASH;
    else
        return false;
    return true;
}
