/* SPDX-License-Identifier: MIT */
/* `wirt img info`: what qemu-img info prints, in human or JSON form. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "img/img_int.h"

/* Fills info for any driver, whether or not it implements get_info. */
static int get_info(struct block_dev *bd, struct image_info *info)
{
    memset(info, 0, sizeof(*info));
    int r = image_get_info(bd, info);
    if (r == -ENOTSUP) {
        snprintf(info->format, sizeof(info->format), "%s", bd->ops->format);
        info->virtual_size = block_size(bd);
        info->cluster_size = image_cluster_size(bd);
        r = 0;
    }
    if (r == 0) {
        struct stat st;
        if (!info->actual_size && fstat(bd->fd, &st) == 0)
            info->actual_size = (uint64_t)st.st_blocks * 512;
        if (!info->format[0])
            snprintf(info->format, sizeof(info->format), "%s", bd->ops->format);
        if (!info->virtual_size)
            info->virtual_size = block_size(bd);
    }
    return r;
}

static void format_date(uint64_t sec, char *out, size_t len)
{
    time_t t = (time_t)sec;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void format_clock(uint64_t ns, char *out, size_t len)
{
    uint64_t ms = ns / 1000000;
    snprintf(out, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64, ms / 3600000,
             ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* Prints the snapshot table the way qemu-img info and snapshot -l do. */
void img_print_snapshots(const struct image_snapshot *s, unsigned n)
{
    printf("%-9s %-16s %8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    for (unsigned i = 0; i < n; i++) {
        char vm[32], date[32], clk[32];
        img_human_size(s[i].vm_state_size, vm, sizeof(vm));
        format_date(s[i].date_sec, date, sizeof(date));
        format_clock(s[i].vm_clock_nsec, clk, sizeof(clk));
        printf("%-9s %-16s %8s%20s%13s%11s\n", s[i].id, s[i].name, vm, date, clk, "0");
    }
}

static void print_human(const char *path, const struct image_info *in,
                        const struct image_snapshot *s, unsigned ns)
{
    char vs[32], as[32];
    img_human_size(in->virtual_size, vs, sizeof(vs));
    img_human_size(in->actual_size, as, sizeof(as));
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n",
           path, in->format, vs, in->virtual_size, as);
    if (in->cluster_size)
        printf("cluster_size: %" PRIu32 "\n", in->cluster_size);
    if (in->backing_file[0]) {
        printf("backing file: %s", in->backing_file);
        char full[PATH_MAX];
        img_backing_path(path, in->backing_file, full, sizeof(full));
        if (strcmp(full, in->backing_file))
            printf(" (actual path: %s)", full);
        printf("\n");
        if (in->backing_format[0])
            printf("backing file format: %s\n", in->backing_format);
    }
    if (in->dirty)
        printf("cleanly shut down: no\n");
    if (ns) {
        printf("Snapshot list:\n");
        img_print_snapshots(s, ns);
    }
    if (in->qcow_version) {
        printf("Format specific information:\n");
        printf("    compat: %s\n", in->qcow_version >= 3 ? "1.1" : "0.10");
        if (in->qcow_version >= 3) {
            printf("    compression type: %s\n",
                   in->compression_type[0] ? in->compression_type : "zlib");
            printf("    lazy refcounts: %s\n", in->lazy_refcounts ? "true" : "false");
        }
        printf("    refcount bits: %u\n", in->refcount_bits ? in->refcount_bits : 16);
        printf("    corrupt: %s\n", in->corrupt ? "true" : "false");
        if (in->qcow_version >= 3)
            printf("    extended l2: false\n");
    }
}

static struct json_object *to_json(const char *path, const struct image_info *in,
                                   const struct image_snapshot *s, unsigned ns)
{
    struct json_object *o = json_object_new_object();
    if (ns) {
        struct json_object *a = json_object_new_array();
        for (unsigned i = 0; i < ns; i++) {
            struct json_object *e = json_object_new_object();
            json_object_object_add(e, "icount", json_object_new_int64(0));
            json_object_object_add(
                e, "vm-clock-nsec",
                json_object_new_int64((int64_t)(s[i].vm_clock_nsec % 1000000000)));
            json_object_object_add(e, "name", json_object_new_string(s[i].name));
            json_object_object_add(e, "date-sec", json_object_new_int64((int64_t)s[i].date_sec));
            json_object_object_add(e, "date-nsec", json_object_new_int64(s[i].date_nsec));
            json_object_object_add(
                e, "vm-clock-sec",
                json_object_new_int64((int64_t)(s[i].vm_clock_nsec / 1000000000)));
            json_object_object_add(e, "id", json_object_new_string(s[i].id));
            json_object_object_add(e, "vm-state-size",
                                   json_object_new_int64((int64_t)s[i].vm_state_size));
            json_object_array_add(a, e);
        }
        json_object_object_add(o, "snapshots", a);
    }
    if (in->backing_file[0] && in->backing_format[0])
        json_object_object_add(o, "backing-filename-format",
                               json_object_new_string(in->backing_format));
    json_object_object_add(o, "virtual-size", json_object_new_int64((int64_t)in->virtual_size));
    json_object_object_add(o, "filename", json_object_new_string(path));
    if (in->cluster_size)
        json_object_object_add(o, "cluster-size", json_object_new_int64(in->cluster_size));
    json_object_object_add(o, "format", json_object_new_string(in->format));
    json_object_object_add(o, "actual-size", json_object_new_int64((int64_t)in->actual_size));
    if (in->backing_file[0]) {
        char full[PATH_MAX];
        img_backing_path(path, in->backing_file, full, sizeof(full));
        json_object_object_add(o, "full-backing-filename", json_object_new_string(full));
        json_object_object_add(o, "backing-filename", json_object_new_string(in->backing_file));
    }
    if (in->qcow_version) {
        struct json_object *fs = json_object_new_object(), *d = json_object_new_object();
        json_object_object_add(fs, "type", json_object_new_string("qcow2"));
        json_object_object_add(d, "compat",
                               json_object_new_string(in->qcow_version >= 3 ? "1.1" : "0.10"));
        if (in->qcow_version >= 3) {
            json_object_object_add(
                d, "compression-type",
                json_object_new_string(in->compression_type[0] ? in->compression_type : "zlib"));
            json_object_object_add(d, "lazy-refcounts",
                                   json_object_new_boolean(in->lazy_refcounts));
        }
        json_object_object_add(
            d, "refcount-bits",
            json_object_new_int(in->refcount_bits ? (int)in->refcount_bits : 16));
        json_object_object_add(d, "corrupt", json_object_new_boolean(in->corrupt));
        if (in->qcow_version >= 3)
            json_object_object_add(d, "extended-l2", json_object_new_boolean(0));
        json_object_object_add(fs, "data", d);
        json_object_object_add(o, "format-specific", fs);
    }
    json_object_object_add(o, "dirty-flag", json_object_new_boolean(in->dirty));
    return o;
}

int img_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'O'},
        {"backing-chain", no_argument, NULL, 'C'},
        {"force-share", no_argument, NULL, 'U'},
        {"format", required_argument, NULL, 'f'},
        {0, 0, 0, 0},
    };
    const char *fmt = NULL, *output = "human";
    bool chain = false;
    int c;
    while ((c = getopt_long(argc, argv, ":f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'O':
            output = optarg;
            break;
        case 'C':
            chain = true;
            break;
        case 'U':
            break; /* info never takes a lock */
        default:
            return img_bad_option("info", c, argv);
        }
    }
    bool json;
    if (!img_parse_output("info", output, &json))
        return IMG_EXIT_USAGE;
    if (!img_one_file_operand("info", argc))
        return IMG_EXIT_USAGE;
    const char *cfmt;
    if (!img_resolve_format("info", "format", fmt, &cfmt))
        return IMG_EXIT_USAGE;
    /* With --backing-chain the block layer opens the whole chain: it alone bounds its length
     * (BLOCK_MAX_CHAIN) and detects loops, and every layer is then at hand. */
    struct block_dev *top;
    unsigned flags =
        BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_LOCK | (chain ? 0 : BLOCK_OPEN_NO_BACKING);
    if (img_open(argv[optind], cfmt, flags, &top) < 0)
        return IMG_EXIT_FAIL;
    struct json_object *arr = chain && json ? json_object_new_array() : NULL;
    int ret = IMG_EXIT_OK;
    for (struct block_dev *bd = top; bd; bd = bd->backing) {
        const char *path = bd->path;
        struct image_info in;
        int r = get_info(bd, &in);
        if (r < 0) {
            img_err("info: %s: cannot read image information: %s", path, strerror(-r));
            ret = IMG_EXIT_FAIL;
            goto out;
        }
        struct image_snapshot *snaps = NULL;
        unsigned ns = 0;
        if (image_snapshot_list(bd, &snaps, &ns) < 0)
            ns = 0;
        if (json) {
            struct json_object *o = to_json(path, &in, snaps, ns);
            if (arr)
                json_object_array_add(arr, o);
            else {
                img_print_json(o);
                json_object_put(o);
            }
        } else {
            if (bd != top)
                printf("\n");
            print_human(path, &in, snaps, ns);
        }
        free(snaps);
    }
out:
    if (arr) {
        if (ret == IMG_EXIT_OK)
            img_print_json(arr);
        json_object_put(arr);
    }
    block_close(top);
    return ret;
}
