/* SPDX-License-Identifier: MIT */
/*
 * The whole machine but its RAM, and getting it to hold still: shared by
 * live migration (vmm_migration.c) and state files (state_file.c).
 */
#include "vmm/machine_state.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cpu/hart.h"
#include "cpu/vcpu.h"
#include "dev/clint.h"
#include "machine/board.h"
#include "state/state.h"
#include "virtio/virtio.h"
#include "virtio/virtio_devices.h"

#define MACHINE_STATE_VERSION 1

/* The board's i-th device when it is a disk, else NULL. */
static struct virtio_dev *disk(struct board *b, unsigned i)
{
    struct virtio_dev *v = b->devices[i].dev;
    return b->devices[i].ops == &virtio_mmio_dev_ops && virtio_blk_is(v) ? v : NULL;
}

struct virtio_dev *machine_disk(struct board *b, unsigned i)
{
    return disk(b, i);
}

static bool disks_idle(struct board *b)
{
    for (unsigned i = 0; i < b->ndevices; i++)
        if (disk(b, i) && !virtio_blk_idle(disk(b, i)))
            return false;
    return true;
}

bool machine_disks_idle(struct board *b)
{
    return disks_idle(b);
}

static bool disk_moving(struct board *b)
{
    for (unsigned i = 0; i < b->ndevices; i++) {
        struct virtio_blk_move_status st;
        if (disk(b, i)) {
            virtio_blk_move_status(disk(b, i), &st);
            if (st.state == VIRTIO_BLK_MOVE_RUNNING)
                return true;
        }
    }
    return false;
}

bool machine_stop(struct board *b, bool *was_paused, char *err, size_t errlen)
{
    pthread_mutex_lock(&b->bus.io_lock);
    if (b->power_off || b->reset_requested) {
        pthread_mutex_unlock(&b->bus.io_lock);
        snprintf(err, errlen, "the guest is powering off or resetting");
        return false;
    }
    *was_paused = b->paused;
    board_pause(b);
    while (!b->harts_parked)
        pthread_cond_wait(&b->state_cond, &b->bus.io_lock);
    pthread_mutex_unlock(&b->bus.io_lock);
    /* Requests the guest submitted finish (their completions need the
     * lock); the harts are parked, so no new one comes. */
    for (int i = 0; !disks_idle(b); i++) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        if (i > 100000) {
            pthread_mutex_lock(&b->bus.io_lock);
            if (!*was_paused)
                board_resume(b);
            pthread_mutex_unlock(&b->bus.io_lock);
            snprintf(err, errlen, "a disk request does not finish");
            return false;
        }
    }
    /* Shared disks: the destination reads them after GO, so everything
     * the guest wrote must be on them first (a disk move would change the
     * image under it: refused). */
    bool moving = disk_moving(b); /* checked first: a move's worker uses the disk */
    for (unsigned i = 0; i < b->ndevices; i++) {
        int r = disk(b, i) && !moving ? virtio_blk_flush(disk(b, i)) : 0;
        if (r < 0 || (disk(b, i) && moving)) {
            pthread_mutex_lock(&b->bus.io_lock);
            if (!*was_paused)
                board_resume(b);
            pthread_mutex_unlock(&b->bus.io_lock);
            snprintf(err, errlen, r < 0 ? "cannot flush a disk: %s" : "a disk move is running%s",
                     r < 0 ? strerror(-r) : "");
            return false;
        }
    }
    /* Held until resume or the end: no device touches guest-visible state. */
    pthread_mutex_lock(&b->bus.io_lock);
    return true;
}

bool machine_reopen_disks(struct board *b, char *err, size_t errlen)
{
    for (unsigned i = 0; i < b->ndevices; i++)
        if (disk(b, i) && !virtio_blk_reopen(disk(b, i), err, errlen))
            return false;
    return true;
}

void machine_resume(struct board *b, bool locked, bool was_paused)
{
    if (!locked)
        pthread_mutex_lock(&b->bus.io_lock);
    if (!was_paused)
        board_resume(b);
    pthread_mutex_unlock(&b->bus.io_lock);
}

bool machine_save(struct board *b, struct state_writer *w)
{
    state_begin_section(w, "machine", MACHINE_STATE_VERSION);
    state_put_u32(w, b->nharts);
    state_put_u32(w, b->ndevices);
    state_put_u64(w, b->paused_mtime);
    state_end_section(w);
    for (unsigned h = 0; h < b->nharts; h++) {
        state_begin_section(w, "hart", HART_STATE_VERSION);
        vcpu_save(b->harts[h], w);
        state_end_section(w);
    }
    for (unsigned i = 0; i < b->ndevices; i++) {
        const struct dev_ops *ops = b->devices[i].ops;
        state_begin_section(w, ops->name, ops->state_version);
        if (ops->save)
            ops->save(b->devices[i].dev, w);
        state_end_section(w);
    }
    return true;
}

bool machine_load(struct board *b, const uint8_t *buf, size_t len, bool locked, char *err,
                  size_t errlen)
{
    struct state_reader r;
    char name[64];
    uint32_t version;
    state_reader_init(&r, buf, len);
    if (!state_next_section(&r, name, sizeof(name), &version) || strcmp(name, "machine") != 0 ||
        version != MACHINE_STATE_VERSION) {
        snprintf(err, errlen, "no machine header in the state");
        return false;
    }
    uint32_t nharts = state_get_u32(&r), ndev = state_get_u32(&r);
    uint64_t mtime = state_get_u64(&r);
    /* A guest clock past about 146 years of uptime is not one we saved. */
    if (state_reader_ok(&r) && mtime > (UINT64_MAX / 4) / NS_PER_TICK) {
        snprintf(err, errlen, "the guest clock in the state is out of range");
        return false;
    }
    if (!state_reader_ok(&r) || nharts != b->nharts || ndev != b->ndevices) {
        snprintf(err, errlen,
                 "the source has %u harts and %u devices, this machine %u and %u: start it with "
                 "the same options",
                 nharts, ndev, b->nharts, b->ndevices);
        return false;
    }
    for (unsigned h = 0; h < b->nharts; h++) {
        if (!state_next_section(&r, name, sizeof(name), &version) || strcmp(name, "hart") != 0 ||
            !vcpu_load(b->harts[h], &r, version)) {
            snprintf(err, errlen, "hart %u: bad state", h);
            return false;
        }
    }
    for (unsigned i = 0; i < b->ndevices; i++) {
        const struct dev_ops *ops = b->devices[i].ops;
        if (!state_next_section(&r, name, sizeof(name), &version) || strcmp(name, ops->name) ||
            (ops->load && !ops->load(b->devices[i].dev, &r, version))) {
            snprintf(err, errlen, "device %u (%s): bad or different state", i, ops->name);
            return false;
        }
    }
    if (!locked)
        pthread_mutex_lock(&b->bus.io_lock);
    vclock_set(&b->clock, mtime);
    b->paused_mtime = mtime; /* a paused machine resumes at the loaded time */
    clint_clock_changed(b->clint);
    if (!locked)
        pthread_mutex_unlock(&b->bus.io_lock);
    return true;
}
