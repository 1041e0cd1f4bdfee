/* SPDX-License-Identifier: MIT */
/* Helpers shared by the `wirt img` verbs. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "img/img_int.h"
#include "util/size.h"

void img_err(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("wirt img: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int img_bad_option(const char *verb, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':') {
        if (optopt)
            img_err("%s: option '-%c' needs an argument", verb, optopt);
        else
            img_err("%s: option '%s' needs an argument", verb, arg);
    } else if (optopt) {
        img_err("%s: unknown option '-%c'", verb, optopt);
    } else {
        img_err("%s: unknown option '%s'", verb, arg);
    }
    return IMG_EXIT_USAGE;
}

const char *img_format(const char *name, bool *ok)
{
    *ok = true;
    if (!name)
        return NULL;
    if (!strcmp(name, "vhd"))
        name = "vpc";
    if (!block_format_known(name)) {
        *ok = false;
        return NULL;
    }
    return name;
}

bool img_resolve_format(const char *verb, const char *what, const char *name, const char **out)
{
    bool ok;
    *out = img_format(name, &ok);
    if (!ok)
        img_err("%s: unknown %s '%s'", verb, what, name);
    return ok;
}

bool img_one_file_operand(const char *verb, int argc)
{
    if (optind == argc - 1)
        return true;
    img_err("%s: %s", verb, optind >= argc ? "missing file name" : "too many arguments");
    return false;
}

bool img_parse_output(const char *verb, const char *output, bool *json)
{
    *json = !strcmp(output, "json");
    if (*json || !strcmp(output, "human"))
        return true;
    img_err("%s: --output must be human or json, not '%s'", verb, output);
    return false;
}

bool img_parse_size(const char *text, uint64_t *out)
{
    return parse_size(text, out);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return true;
    }
    return false;
}

bool img_parse_opts(const char *verb, const char *text, struct img_opts *o)
{
    char *copy = strdup(text);
    bool ok = true;
    if (!copy) {
        img_err("%s: out of memory", verb);
        return false;
    }
    for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv && ok;
         kv = strtok_r(NULL, ",", &save)) {
        char *v = strchr(kv, '=');
        if (!v) {
            img_err("%s: option '%s' needs a value (key=value)", verb, kv);
            ok = false;
            break;
        }
        *v++ = '\0';
        uint64_t n;
        if (!strcmp(kv, "cluster_size")) {
            if (!img_parse_size(v, &n) || n < 512 || n > (2u << 20) || (n & (n - 1))) {
                img_err("%s: cluster_size '%s' must be a power of two between 512 and 2M", verb, v);
                ok = false;
            }
            o->c.cluster_size = (uint32_t)n;
            o->have_cluster_size = true;
        } else if (!strcmp(kv, "refcount_bits")) {
            char *end;
            unsigned long b = strtoul(v, &end, 10);
            if (*end || b == 0 || b > 64 || (b & (b - 1))) {
                img_err("%s: refcount_bits '%s' must be a power of two up to 64", verb, v);
                ok = false;
            }
            o->c.refcount_bits = (unsigned)b;
        } else if (!strcmp(kv, "preallocation")) {
            if (strcmp(v, "off") && strcmp(v, "metadata") && strcmp(v, "falloc") &&
                strcmp(v, "full")) {
                img_err("%s: preallocation '%s' is not one of off, metadata, falloc, full", verb,
                        v);
                ok = false;
            }
            o->c.preallocation = strdup(v);
        } else if (!strcmp(kv, "compression_type")) {
            if (strcmp(v, "zlib") && strcmp(v, "zstd")) {
                img_err("%s: compression_type '%s' is not zlib or zstd", verb, v);
                ok = false;
            }
            o->c.compression_type = strdup(v);
        } else if (!strcmp(kv, "lazy_refcounts")) {
            if (!parse_bool(v, &o->c.lazy_refcounts)) {
                img_err("%s: lazy_refcounts '%s' is not on or off", verb, v);
                ok = false;
            }
        } else if (!strcmp(kv, "backing_file")) {
            free(o->backing_file);
            o->backing_file = strdup(v);
        } else if (!strcmp(kv, "backing_fmt")) {
            free(o->backing_fmt);
            o->backing_fmt = strdup(v);
        } else if (!strcmp(kv, "size")) {
            if (!img_parse_size(v, &n)) {
                img_err("%s: invalid size '%s' in -o", verb, v);
                ok = false;
            }
            o->c.size = n;
        } else if (!strcmp(kv, "compat")) {
            if (strcmp(v, "1.1") && strcmp(v, "v3")) {
                img_err("%s: compat '%s' is not supported (only 1.1)", verb, v);
                ok = false;
            }
        } else if (!strcmp(kv, "extended_l2")) {
            bool b;
            if (!parse_bool(v, &b) || b) {
                img_err("%s: extended_l2=%s is not supported", verb, v);
                ok = false;
            }
        } else {
            img_err("%s: unsupported option '%s'", verb, kv);
            ok = false;
        }
    }
    free(copy);
    return ok;
}

int img_open(const char *path, const char *fmt, unsigned flags, struct block_dev **out)
{
    char err[512] = "";
    int ret = block_open(path, fmt, flags, out, err, sizeof(err));
    if (ret < 0) {
        if (err[0])
            img_err("%s", err);
        else
            img_err("cannot open '%s': %s", path, strerror(-ret));
    }
    return ret;
}

void img_backing_path(const char *image, const char *backing, char *out, size_t outlen)
{
    const char *slash = strrchr(image, '/');
    if (backing[0] == '/' || !slash)
        snprintf(out, outlen, "%s", backing);
    else
        snprintf(out, outlen, "%.*s/%s", (int)(slash - image), image, backing);
}

int img_block_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum,
                     unsigned *status, uint64_t *host)
{
    *host = UINT64_MAX;
    int ret = image_block_status(bd, off, len, pnum, status, host);
    if (ret == -ENOTSUP) {
        *pnum = len;
        *status = IMAGE_STATUS_DATA | IMAGE_STATUS_ALLOCATED;
        *host = UINT64_MAX;
        return 0;
    }
    if (ret == 0 && (*pnum == 0 || *pnum > len))
        return -EIO; /* a driver bug must not turn into an endless loop */
    return ret;
}

bool img_is_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len && ((uintptr_t)p & 7)) {
        if (*p++)
            return false;
        len--;
    }
    const uint64_t *q = (const uint64_t *)p;
    for (; len >= 64; len -= 64, q += 8)
        if (q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7])
            return false;
    p = (const uint8_t *)q;
    while (len--)
        if (*p++)
            return false;
    return true;
}

void img_human_size(uint64_t v, char *out, size_t outlen)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    double d = (double)v;
    while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        d /= 1024;
        u++;
    }
    /* qemu-img prints three significant digits. */
    if (u == 0)
        snprintf(out, outlen, "%llu B", (unsigned long long)v);
    else if (d >= 100)
        snprintf(out, outlen, "%.0f %s", d, units[u]);
    else if (d >= 10)
        snprintf(out, outlen, "%.3g %s", d, units[u]);
    else
        snprintf(out, outlen, "%.3g %s", d, units[u]);
}

uint64_t img_file_allocated(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    return (uint64_t)st.st_blocks * 512;
}

void img_print_json(struct json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

void img_progress(bool enabled, uint64_t done, uint64_t total)
{
    if (!enabled)
        return;
    printf("    (%.2f/100%%)\r", total ? 100.0 * (double)done / (double)total : 100.0);
    fflush(stdout);
}

void img_progress_done(bool enabled)
{
    if (enabled)
        printf("    (100.00/100%%)\n");
}

struct block_dev *img_chain_find(struct block_dev *bd, const struct stat *st)
{
    struct stat b;
    for (; bd; bd = bd->backing)
        if (fstat(bd->fd, &b) == 0 && b.st_dev == st->st_dev && b.st_ino == st->st_ino)
            return bd;
    return NULL;
}

bool img_target_not_source(const char *verb, const char *target, struct block_dev *const *srcs,
                           unsigned n)
{
    struct stat st;
    if (stat(target, &st) < 0)
        return true;
    for (unsigned i = 0; i < n; i++) {
        struct block_dev *hit = img_chain_find(srcs[i], &st);
        if (!hit)
            continue;
        if (hit == srcs[i])
            img_err("%s: target '%s' is the source '%s' itself: writing it would destroy the data "
                    "being read",
                    verb, target, srcs[i]->path);
        else
            img_err("%s: target '%s' is '%s' in the backing chain of '%s': writing it would "
                    "destroy the data being read",
                    verb, target, hit->path, srcs[i]->path);
        return false;
    }
    return true;
}

bool img_backing_name_ok(const char *verb, const char *backing, const char *backing_fmt)
{
    char err[256];
    if (block_check_backing_name(backing, backing_fmt, err, sizeof(err)) == 0)
        return true;
    img_err("%s: %s", verb, err);
    return false;
}
