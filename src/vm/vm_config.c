/* SPDX-License-Identifier: MIT */
/* vm.json: the human-editable VM configuration (docs/vm.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "machine/board.h"
#include "util/file.h"
#include "util/size.h"
#include "vm/vm_int.h"

#define MAX_CONFIG_SIZE (256 * 1024)

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

bool vm_net_spec_valid(const char *spec)
{
    for (const char *p = spec; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return !strcmp(spec, "user") || !strncmp(spec, "user,", 5) || !strncmp(spec, "tap,", 4);
}

json_object *vm_config_to_json(const struct vm_config *cfg)
{
    json_object *o = json_object_new_object();
    char size[32];
    vm_format_size(size, sizeof(size), cfg->memory);
    json_object_object_add(o, "name", json_object_new_string(cfg->name));
    json_object_object_add(o, "memory", json_object_new_string(size));
    json_object_object_add(o, "cpus", json_object_new_int((int)cfg->cpus));
    json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel));
    json_object_object_add(o, "initrd", json_object_new_string(cfg->initrd));
    json_object_object_add(o, "bios", json_object_new_string(cfg->bios));
    json_object_object_add(o, "append", json_object_new_string(cfg->append));
    json_object *disks = json_object_new_array();
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "file", json_object_new_string(cfg->disks[i].file));
        json_object_object_add(d, "format", json_object_new_string(cfg->disks[i].format));
        json_object_array_add(disks, d);
    }
    json_object_object_add(o, "disks", disks);
    json_object *nets = json_object_new_array();
    for (unsigned i = 0; i < cfg->nnets; i++)
        json_object_array_add(nets, json_object_new_string(cfg->nets[i]));
    json_object_object_add(o, "net", nets);
    json_object_object_add(o, "template", json_object_new_boolean(cfg->is_template));
    json_object_object_add(o, "linked-to",
                           cfg->linked_to[0] ? json_object_new_string(cfg->linked_to) : NULL);
    json_object_object_add(o, "created", json_object_new_string(cfg->created));
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
            if (cfg->memory < (16ULL << 20) || cfg->memory > (1ULL << 40)) {
                snprintf(err, errlen, "\"memory\" must be between 16M and 1T");
                return false;
            }
        } else if (!strcmp(key, "cpus")) {
            int64_t n = json_object_get_int64(v);
            if (!json_object_is_type(v, json_type_int) || n < 1 || n > BOARD_MAX_HARTS) {
                snprintf(err, errlen, "\"cpus\" must be a number from 1 to %d", BOARD_MAX_HARTS);
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
                if (!vm_net_spec_valid(cfg->nets[i])) {
                    snprintf(err, errlen, "\"net\"[%u]: '%.80s' is not user[,...] or tap,...", i,
                             cfg->nets[i]);
                    return false;
                }
            }
        } else if (!strcmp(key, "template")) {
            if (!json_object_is_type(v, json_type_boolean)) {
                snprintf(err, errlen, "\"template\" must be true or false");
                return false;
            }
            cfg->is_template = json_object_get_boolean(v);
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

/* Line number of a byte offset, for parse errors a human can find. */
static unsigned line_of(const char *text, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

bool vm_config_load(const struct vm_store *vs, const char *name, struct vm_config *cfg, char *err,
                    size_t errlen)
{
    char path[PATH_MAX], msg[256];
    vm_path(vs, path, sizeof(path), name, VM_CONFIG);
    int fd = open_regular(path, O_RDONLY, 0, err, errlen);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG_SIZE) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file of at most 256 KiB", path);
        return false;
    }
    char *text = malloc((size_t)st.st_size + 1);
    ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    if (n < 0) {
        free(text);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return false;
    }
    text[n] = '\0';
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o = json_tokener_parse_ex(tok, text, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    bool trailing = false;
    for (size_t i = end; o && i < (size_t)n; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r')
            trailing = true;
    if (!o || jerr != json_tokener_success || trailing) {
        snprintf(err, errlen, "%s: invalid JSON at line %u: %s", path, line_of(text, end),
                 trailing ? "unexpected data after the configuration"
                 : jerr == json_tokener_continue || jerr == json_tokener_success
                     ? "unexpected end of file"
                     : json_tokener_error_desc(jerr));
        json_object_put(o);
        free(text);
        return false;
    }
    free(text);
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
    snprintf(path, sizeof(path), "%s/%s", dir, VM_CONFIG);
    json_object *o = vm_config_to_json(cfg);
    const char *text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(text);
    char *buf = malloc(len + 2);
    bool ok = false;
    if (buf) {
        memcpy(buf, text, len);
        buf[len] = '\n';
        ok = vm_write_atomic(path, buf, len + 1, err, errlen);
        free(buf);
    }
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
