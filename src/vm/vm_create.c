/* SPDX-License-Identifier: MIT */
/* wirt vm create: a new VM from a template (linked) or from image files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "vmm/guest_files.h"
#include "machine/board.h"
#include "util/size.h"
#include "vm/vm_int.h"

/* Creates DIR/FILE as a qcow2 overlay on the template's disk. */
static bool make_overlay(const char *dir, const char *tmpl, const struct vm_disk *base,
                         uint64_t size, struct vm_disk *out, char *err, size_t errlen)
{
    char path[PATH_MAX + VM_FILE_MAX], backing[2 * VM_FILE_MAX + 8];
    snprintf(out->file, sizeof(out->file), "%s", base->file);
    if (strcmp(base->format, "qcow2") && strcmp(base->format, "raw")) {
        snprintf(err, errlen, "%s: unsupported disk format", base->file);
        return false;
    }
    /* qcow2 overlays are always qcow2, whatever the base is. */
    char *dot = strrchr(out->file, '.');
    if (strcmp(base->format, "qcow2") && dot && strlen(out->file) + 6 < sizeof(out->file))
        strcpy(dot, ".qcow2");
    snprintf(out->format, sizeof(out->format), "qcow2");
    snprintf(path, sizeof(path), "%s/%s", dir, out->file);
    /* Relative, so the store can move: resolved next to the overlay. */
    snprintf(backing, sizeof(backing), "../%s/%s", tmpl, base->file);
    struct image_create_opts o = {
        .format = "qcow2", .size = size, .backing_file = backing, .backing_format = base->format};
    return image_create(path, &o, err, errlen) == 0 && vm_owner_only(path, err, errlen);
}

/* flag names the option the file came from in a message, or is NULL. */
static bool copy_in(const char *flag, const char *src, const char *dir, const char *name, char *err,
                    size_t errlen)
{
    char dst[PATH_MAX + VM_FILE_MAX], why[900];
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    if (vm_link_or_copy(src, dst, why, sizeof(why)))
        return true;
    snprintf(err, errlen, "%s%s%s", flag ? flag : "", flag ? ": " : "", why);
    return false;
}

bool vm_create(struct vm_store *st, const char *name, const struct vm_create_opts *o,
               struct wirt_error *e)
{
    if (!vm_check_name(name, e))
        return false;
    if (vm_exists(st, name))
        return vm_fail(e, WIRT_ERR_EXISTS, "a VM named '%s' already exists", name);
    const char *from = o->from, *bios = o->bios;
    if (from && (o->kernel || o->initrd || bios))
        return vm_fail(e, WIRT_ERR_INVALID,
                       "create: --from cannot be combined with --kernel, --initrd or --bios");
    if (!from && !o->kernel)
        return vm_fail(e, WIRT_ERR_INVALID,
                       "create: give --from TEMPLATE (e.g. --from %s) or --kernel IMAGE",
                       VM_DEFAULT_TEMPLATE);
    if (o->append && strlen(o->append) >= sizeof(((struct vm_config *)0)->append))
        return vm_fail(e, WIRT_ERR_INVALID, "create: --append: too long");
    if (o->memory && !vm_check_memory("create: --memory", o->memory, e))
        return false;
    char why[512];
    if (o->cpus && !vm_spec_cpus_ok(o->cpus, why, sizeof(why)))
        return vm_fail(e, WIRT_ERR_INVALID, "create: --cpus: %s", why);
    if (o->nnets > VM_MAX_NICS)
        return vm_fail(e, WIRT_ERR_INVALID, "create: at most %d --net", VM_MAX_NICS);
    for (unsigned i = 0; i < o->nnets; i++) {
        if (!strcmp(o->nets[i], "none")) {
            if (o->nnets > 1)
                return vm_fail(e, WIRT_ERR_INVALID,
                               "create: --net none: cannot be combined with another --net");
            continue;
        }
        if (strlen(o->nets[i]) >= sizeof(((struct vm_config *)0)->nets[0]))
            return vm_fail(e, WIRT_ERR_INVALID, "create: --net: too long");
        if (!vm_spec_nic_text_ok(o->nets[i], "create: --net", why, sizeof(why)))
            return vm_fail(e, WIRT_ERR_INVALID, "%s", why);
    }

    struct vm_config cfg, tcfg;
    vm_config_defaults(&cfg, name);
    char dir[PATH_MAX], err[1024], tdir[PATH_MAX], src[PATH_MAX + VM_FILE_MAX];
    int tlock = -1;
    if (from) {
        if (!vm_check_name(from, e))
            return false;
        if (!vm_exists(st, from)) {
            if (!strcmp(from, VM_DEFAULT_TEMPLATE))
                return vm_fail(e, WIRT_ERR_NOT_FOUND,
                               "no template '%s': the default guest was missing when the store "
                               "was created; run tools/fetch-guest.sh, then `wirt vm import` or "
                               "remove %s/.initialized",
                               from, st->root);
            return vm_fail(e, WIRT_ERR_NOT_FOUND, "no VM named '%s' (see wirt vm list)", from);
        }
        if (!vm_config_load(st, from, &tcfg, err, sizeof(err)))
            return vm_fail(e, WIRT_ERR_FAILED, "%s", err);
        if (!tcfg.is_template)
            return vm_fail(e, WIRT_ERR_STATE,
                           "'%s' is not a template (make it one with wirt vm template %s, or use "
                           "wirt vm clone)",
                           from, from);
        /* Held while we link to it, so nobody deletes it under us. */
        if ((tlock = vm_lock(st, from, true, e)) < 0)
            return false;
    }
    if (!vm_tempdir(st, dir, sizeof(dir), name, e)) {
        vm_unlock(tlock);
        return false;
    }
    bool ok = true;
    if (from) {
        vm_path(st, tdir, sizeof(tdir), from, NULL);
        cfg.memory = tcfg.memory;
        cfg.cpus = tcfg.cpus;
        memcpy(cfg.append, tcfg.append, sizeof(cfg.append));
        cfg.nnets = tcfg.nnets;
        memcpy(cfg.nets, tcfg.nets, sizeof(cfg.nets));
        const char *files[] = {tcfg.kernel, tcfg.initrd, tcfg.bios};
        char *dsts[] = {cfg.kernel, cfg.initrd, cfg.bios};
        for (int i = 0; ok && i < 3; i++) {
            if (!files[i][0])
                continue;
            snprintf(src, sizeof(src), "%s/%s", tdir, files[i]);
            ok = copy_in(NULL, src, dir, files[i], err, sizeof(err));
            memcpy(dsts[i], files[i], VM_FILE_MAX);
        }
        for (unsigned i = 0; ok && i < tcfg.ndisks; i++) {
            snprintf(src, sizeof(src), "%s/%s", tdir, tcfg.disks[i].file);
            if (access(src, R_OK) != 0) {
                snprintf(err, sizeof(err), "template '%s': its disk %s is missing", from,
                         tcfg.disks[i].file);
                ok = false;
                break;
            }
            ok = make_overlay(dir, from, &tcfg.disks[i], i == 0 ? o->disk_size : 0, &cfg.disks[i],
                              err, sizeof(err));
            cfg.ndisks = i + 1;
        }
        snprintf(cfg.linked_to, sizeof(cfg.linked_to), "%s", from);
    } else {
        ok = copy_in("--kernel", o->kernel, dir, "kernel", err, sizeof(err));
        snprintf(cfg.kernel, sizeof(cfg.kernel), "kernel");
        if (ok && o->initrd) {
            ok = copy_in("--initrd", o->initrd, dir, "initrd", err, sizeof(err));
            snprintf(cfg.initrd, sizeof(cfg.initrd), "initrd");
        }
        if (ok && (!bios || strcmp(bios, "none"))) {
            char fw[PATH_MAX + 32];
            if (!bios) {
                snprintf(fw, sizeof(fw), "%s/fw_dynamic.bin", default_guest_dir());
                bios = fw;
            }
            ok = copy_in("--bios", bios, dir, "firmware.bin", err, sizeof(err));
            snprintf(cfg.bios, sizeof(cfg.bios), "firmware.bin");
        }
        if (ok) {
            snprintf(src, sizeof(src), "%s/disk.qcow2", dir);
            struct image_create_opts io = {.format = "qcow2",
                                           .size = o->disk_size ? o->disk_size : 8ULL << 30};
            ok = image_create(src, &io, err, sizeof(err)) == 0 &&
                 vm_owner_only(src, err, sizeof(err));
            cfg.ndisks = 1;
            snprintf(cfg.disks[0].file, sizeof(cfg.disks[0].file), "disk.qcow2");
            snprintf(cfg.disks[0].format, sizeof(cfg.disks[0].format), "qcow2");
        }
    }
    if (o->memory)
        cfg.memory = o->memory;
    if (o->cpus)
        cfg.cpus = o->cpus;
    if (o->append)
        snprintf(cfg.append, sizeof(cfg.append), "%s", o->append);
    if (o->display)
        snprintf(cfg.display, sizeof(cfg.display), "%s",
                 strcmp(o->display, "none") ? o->display : "");
    if (o->nnets == 1 && !strcmp(o->nets[0], "none")) {
        cfg.nnets = 0; /* --net none: no NIC, whatever the template has */
    } else if (o->nnets) {
        cfg.nnets = o->nnets;
        for (unsigned i = 0; i < o->nnets; i++)
            snprintf(cfg.nets[i], sizeof(cfg.nets[i]), "%s", o->nets[i]);
    } else if (!cfg.nnets) {
        /* As `wirt run`: a VM gets user networking unless told --net none. */
        cfg.nnets = 1;
        snprintf(cfg.nets[0], sizeof(cfg.nets[0]), "user");
    }
    ok = ok && vm_config_save_dir(dir, &cfg, err, sizeof(err)) &&
         vm_commit_dir(st, dir, name, err, sizeof(err));
    vm_unlock(tlock);
    if (!ok) {
        vm_rmtree(st, dir);
        return vm_fail(e, strstr(err, "already exists") ? WIRT_ERR_EXISTS : WIRT_ERR_FAILED,
                       "create %s: %s", name, err);
    }
    return true;
}

int vm_cmd_create(struct vm_store *st, int argc, char **argv)
{
    enum {
        O_FROM = 256,
        O_KERNEL,
        O_INITRD,
        O_BIOS,
        O_APPEND,
        O_MEMORY,
        O_CPUS,
        O_DISKSIZE,
        O_NET,
        O_DISPLAY
    };
    static const struct option opts[] = {
        {"from", required_argument, NULL, O_FROM},
        {"kernel", required_argument, NULL, O_KERNEL},
        {"initrd", required_argument, NULL, O_INITRD},
        {"bios", required_argument, NULL, O_BIOS},
        {"append", required_argument, NULL, O_APPEND},
        {"memory", required_argument, NULL, O_MEMORY},
        {"cpus", required_argument, NULL, O_CPUS},
        {"disk-size", required_argument, NULL, O_DISKSIZE},
        {"net", required_argument, NULL, O_NET},
        {"display", required_argument, NULL, O_DISPLAY},
        {NULL, 0, NULL, 0},
    };
    struct vm_create_opts o = {0};
    struct wirt_error e;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_FROM:
            o.from = optarg;
            break;
        case O_KERNEL:
            o.kernel = optarg;
            break;
        case O_INITRD:
            o.initrd = optarg;
            break;
        case O_BIOS:
            o.bios = optarg;
            break;
        case O_APPEND:
            o.append = optarg;
            break;
        case O_MEMORY:
            if (!parse_size(optarg, &o.memory))
                vm_usage("create: --memory: '%s' is not a size (examples: 512M, 2G)", optarg);
            if (!vm_check_memory("create: --memory", o.memory, &e))
                return vm_report(&e);
            break;
        case O_CPUS: {
            char *end, why[128];
            long long n = strtoll(optarg, &end, 10);
            if (!*optarg || *end || !vm_spec_cpus_ok(n, why, sizeof(why)))
                vm_usage("create: --cpus: '%s' %s", optarg, why);
            o.cpus = (unsigned)n;
            break;
        }
        case O_DISKSIZE:
            if (!parse_size(optarg, &o.disk_size) || o.disk_size == 0)
                vm_usage("create: --disk-size: '%s' is not a size (examples: 8G, 512M)", optarg);
            break;
        case O_NET: {
            char why[512];
            if (o.nnets == VM_MAX_NICS)
                vm_usage("create: at most %d --net", VM_MAX_NICS);
            if (strlen(optarg) >= sizeof(((struct vm_config *)0)->nets[0]))
                vm_usage("create: --net: too long");
            if (strcmp(optarg, "none") &&
                !vm_spec_nic_text_ok(optarg, "create: --net", why, sizeof(why)))
                vm_usage("%s", why);
            o.nets[o.nnets++] = optarg;
            break;
        }
        case O_DISPLAY: {
            char why[256];
            if (strlen(optarg) >= sizeof(((struct vm_config *)0)->display) ||
                (strcmp(optarg, "none") && !vm_display_text_ok(optarg, why, sizeof(why))))
                vm_usage("create: --display: %s", strlen(optarg) >= 96 ? "too long" : why);
            o.display = optarg;
            break;
        }
        default:
            vm_usage("create: unknown option or missing value: '%s' (see wirt vm create --help)",
                     argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        vm_usage("create: give exactly one NAME (see wirt vm create --help)");
    const char *name = argv[optind];
    if (!vm_create(st, name, &o, &e))
        return vm_report(&e);
    printf("created VM '%s'%s%s\n", name, o.from ? " from template " : "", o.from ? o.from : "");
    return 0;
}
