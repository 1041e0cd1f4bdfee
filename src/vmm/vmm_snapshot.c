/* SPDX-License-Identifier: MIT */
/* Snapshots of a running VM (see vmm_snapshot.h). */
#include "vmm/vmm_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "machine/board.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"
#include "vmm/state_file.h"

struct snap_ctx {
    enum vmm_snapshot_op op;
    char name[256];
    struct block_dev *created[BOARD_MAX_DEVICES];
    unsigned ncreated;
};

static struct block_dev *disk_image(struct board *b, unsigned i)
{
    struct virtio_dev *v = b->devices[i].dev;
    return b->devices[i].ops == &virtio_mmio_dev_ops && virtio_blk_is(v) ? virtio_blk_image(v)
                                                                         : NULL;
}

static bool has_snapshot(struct block_dev *bd, const char *name)
{
    struct image_snapshot *list = NULL;
    unsigned n = 0;
    bool found = false;
    if (image_snapshot_list(bd, &list, &n) == 0)
        for (unsigned k = 0; k < n && !found; k++)
            found = !strcmp(list[k].name, name) || !strcmp(list[k].id, name);
    free(list);
    return found;
}

static bool failed(int r, const char *what, const char *name, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s snapshot '%s': %s", what, name,
             r == -ENOENT    ? "no such snapshot on every disk"
             : r == -EEXIST  ? "a snapshot of that name exists"
             : r == -ENOTSUP ? "a disk is not qcow2"
                             : strerror(-r));
    return false;
}

/* Runs with the machine stopped and the I/O lock held. */
static bool hook(struct board *b, void *opaque, bool undo, char *err, size_t errlen)
{
    struct snap_ctx *c = opaque;
    if (undo) {
        for (unsigned i = 0; i < c->ncreated; i++) {
            image_snapshot_delete(c->created[i], c->name);
            block_flush(c->created[i]);
        }
        c->ncreated = 0;
        return true;
    }
    /* Every disk first: all of them take part, or none. */
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct block_dev *bd = disk_image(b, i);
        if (!bd)
            continue;
        bool has = has_snapshot(bd, c->name);
        if (c->op == VMM_SNAPSHOT_CREATE && has)
            return failed(-EEXIST, "create", c->name, err, errlen);
        if (c->op != VMM_SNAPSHOT_CREATE && !has)
            return failed(-ENOENT, c->op == VMM_SNAPSHOT_REVERT ? "revert to" : "delete", c->name,
                          err, errlen);
    }
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct block_dev *bd = disk_image(b, i);
        if (!bd)
            continue;
        int r = c->op == VMM_SNAPSHOT_CREATE   ? image_snapshot_create(bd, c->name)
                : c->op == VMM_SNAPSHOT_REVERT ? image_snapshot_apply(bd, c->name)
                                               : image_snapshot_delete(bd, c->name);
        if (r == 0)
            r = block_flush(bd);
        if (r < 0) {
            if (c->op == VMM_SNAPSHOT_CREATE)
                hook(b, c, true, NULL, 0);
            return failed(r,
                          c->op == VMM_SNAPSHOT_CREATE   ? "create"
                          : c->op == VMM_SNAPSHOT_REVERT ? "revert to"
                                                         : "delete",
                          c->name, err, errlen);
        }
        if (c->op == VMM_SNAPSHOT_CREATE)
            c->created[c->ncreated++] = bd;
    }
    return true;
}

struct vmm_save *vmm_snapshot_start(struct board *b, enum vmm_snapshot_op op, const char *name,
                                    const char *state, void **ctx, char *err, size_t errlen)
{
    struct snap_ctx *c = calloc(1, sizeof(*c));
    if (!c || strlen(name) >= sizeof(c->name)) {
        snprintf(err, errlen, c ? "the snapshot name is too long" : "out of memory");
        free(c);
        return NULL;
    }
    c->op = op;
    snprintf(c->name, sizeof(c->name), "%s", name);
    struct vmm_save *s =
        op == VMM_SNAPSHOT_CREATE   ? vmm_save_start_hook(b, state, hook, c, err, errlen)
        : op == VMM_SNAPSHOT_REVERT ? vmm_revert_start(b, state, hook, c, err, errlen)
                                    : vmm_stopped_start(b, hook, c, err, errlen);
    if (!s) {
        free(c);
        return NULL;
    }
    *ctx = c;
    return s;
}

void vmm_snapshot_free(void *ctx)
{
    free(ctx);
}
