/* SPDX-License-Identifier: MIT */
/*
 * `wirt img check`: metadata consistency, with qemu-img's exit statuses:
 * 0 clean, 1 the check itself failed, 2 corruptions, 3 leaks only,
 * 63 the format has no checks.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "img/img_int.h"

static void print_human(const struct image_check_result *r)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0)
        printf("No errors were found on the image.\n");
    if (r->corruptions)
        printf("\n%" PRIu64 " errors were found on the image.\n"
               "Data may be corrupted, or further writes to the image may corrupt it.\n",
               r->corruptions);
    if (r->leaks)
        printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
               "This means waste of disk space, but no harm to data.\n",
               r->leaks);
    if (r->check_errors)
        printf("\n%" PRIu64 " internal errors have occurred during the check.\n", r->check_errors);
    if (r->total_clusters) {
        double t = (double)r->total_clusters;
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% "
               "compressed clusters\n",
               r->allocated_clusters, r->total_clusters, r->allocated_clusters * 100.0 / t,
               r->allocated_clusters ? r->fragmented_clusters * 100.0 / r->allocated_clusters : 0,
               r->allocated_clusters ? r->compressed_clusters * 100.0 / r->allocated_clusters : 0);
    }
    if (r->image_end_offset)
        printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

static void print_json(const char *path, const char *fmt, const struct image_check_result *r)
{
    struct json_object *o = json_object_new_object();
    if (r->image_end_offset)
        json_object_object_add(o, "image-end-offset",
                               json_object_new_int64((int64_t)r->image_end_offset));
    if (r->corruptions)
        json_object_object_add(o, "corruptions", json_object_new_int64((int64_t)r->corruptions));
    if (r->leaks)
        json_object_object_add(o, "leaks", json_object_new_int64((int64_t)r->leaks));
    if (r->corruptions_fixed)
        json_object_object_add(o, "corruptions-fixed",
                               json_object_new_int64((int64_t)r->corruptions_fixed));
    if (r->leaks_fixed)
        json_object_object_add(o, "leaks-fixed", json_object_new_int64((int64_t)r->leaks_fixed));
    json_object_object_add(o, "total-clusters", json_object_new_int64((int64_t)r->total_clusters));
    json_object_object_add(o, "check-errors", json_object_new_int64((int64_t)r->check_errors));
    json_object_object_add(o, "allocated-clusters",
                           json_object_new_int64((int64_t)r->allocated_clusters));
    if (r->fragmented_clusters)
        json_object_object_add(o, "fragmented-clusters",
                               json_object_new_int64((int64_t)r->fragmented_clusters));
    if (r->compressed_clusters)
        json_object_object_add(o, "compressed-clusters",
                               json_object_new_int64((int64_t)r->compressed_clusters));
    json_object_object_add(o, "filename", json_object_new_string(path));
    json_object_object_add(o, "format", json_object_new_string(fmt));
    img_print_json(o);
    json_object_put(o);
}

int img_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'O'},
        {"repair", required_argument, NULL, 'r'},
        {"force-share", no_argument, NULL, 'U'},
        {"format", required_argument, NULL, 'f'},
        {0, 0, 0, 0},
    };
    const char *fmt = NULL, *output = "human";
    unsigned repair = 0;
    bool quiet = false, share = false;
    int c;
    /* Usage errors exit 1 here: 2 means "corruptions found". */
    while ((c = getopt_long(argc, argv, ":f:r:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fmt = optarg;
            break;
        case 'O':
            output = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'U':
            share = true; /* check an image in use, without locking it */
            break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                repair = IMAGE_REPAIR_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                repair = IMAGE_REPAIR_ALL;
            } else {
                img_err("check: -r takes 'leaks' or 'all', not '%s'", optarg);
                return IMG_EXIT_FAIL;
            }
            break;
        default:
            img_bad_option("check", c, argv);
            return IMG_EXIT_FAIL;
        }
    }
    bool json;
    if (!img_parse_output("check", output, &json))
        return IMG_EXIT_FAIL;
    if (!img_one_file_operand("check", argc))
        return IMG_EXIT_FAIL;
    const char *path = argv[optind];
    const char *cfmt;
    if (!img_resolve_format("check", "format", fmt, &cfmt))
        return IMG_EXIT_FAIL;
    struct block_dev *bd;
    unsigned flags = BLOCK_OPEN_NO_BACKING;
    if (repair) /* a repair writes: it always locks */
        flags |= BLOCK_OPEN_REPAIR;
    else
        flags |= BLOCK_OPEN_READ_ONLY | (share ? BLOCK_OPEN_NO_LOCK : 0);
    if (img_open(path, cfmt, flags, &bd) < 0)
        return IMG_EXIT_FAIL;
    struct image_check_result res;
    int r = image_check(bd, repair, &res);
    if (r == -ENOTSUP) {
        img_err("check: '%s': format '%s' does not support checks", path, bd->ops->format);
        block_close(bd);
        return 63;
    }
    if (r < 0) {
        img_err("check: '%s': check failed: %s", path, strerror(-r));
        block_close(bd);
        return IMG_EXIT_FAIL;
    }
    if (repair && (res.corruptions_fixed || res.leaks_fixed)) {
        if (!json && !quiet)
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   res.leaks_fixed, res.corruptions_fixed);
        struct image_check_result again;
        r = image_check(bd, 0, &again);
        if (r < 0) {
            img_err("check: '%s': re-check failed: %s", path, strerror(-r));
            block_close(bd);
            return IMG_EXIT_FAIL;
        }
        again.leaks_fixed = res.leaks_fixed;
        again.corruptions_fixed = res.corruptions_fixed;
        res = again;
    }
    const char *dfmt = bd->ops->format;
    if (!quiet) {
        if (json)
            print_json(path, dfmt, &res);
        else
            print_human(&res);
    }
    block_close(bd);
    if (res.check_errors)
        return 1;
    if (res.corruptions)
        return 2;
    if (res.leaks)
        return 3;
    return 0;
}
