/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (modern) only: registers, feature
 * negotiation, the device status machine, queue configuration, interrupts,
 * the device-tree node and the transport part of save/load.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hw/fdt_helpers.h"
#include "state/state.h"
#include "util/log.h"
#include "virtio/virtio.h"

enum {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044,
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090,
    REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0,
    REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_SHM_SEL = 0x0ac,
    REG_SHM_LEN_LOW = 0x0b0,
    REG_SHM_LEN_HIGH = 0x0b4,
    REG_SHM_BASE_LOW = 0x0b8,
    REG_SHM_BASE_HIGH = 0x0bc,
    REG_QUEUE_RESET = 0x0c0,
    REG_CONFIG_GENERATION = 0x0fc,
};

#define TRANSPORT_FEATURES                                                                         \
    ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX))

static void update_irq(struct virtio_dev *vdev)
{
    irq_set(&vdev->irq, vdev->isr != 0);
}

void virtio_raise_used(struct virtio_dev *vdev)
{
    vdev->isr |= VIRTIO_INT_USED;
    update_irq(vdev);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
    vdev->config_generation++;
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) {
        vdev->isr |= VIRTIO_INT_CONFIG;
        update_irq(vdev);
    }
}

void virtio_set_needs_reset(struct virtio_dev *vdev, const char *why)
{
    if (vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return;
    log_warn_ratelimited("%s: device needs reset: %s", vdev->ops->name, why);
    vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* Only a driver that finished initialisation expects the interrupt. */
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) {
        vdev->isr |= VIRTIO_INT_CONFIG;
        update_irq(vdev);
    }
}

static void virtio_reset(struct virtio_dev *vdev)
{
    if (vdev->ops->reset)
        vdev->ops->reset(vdev);
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        virtq_reset(&vdev->vq[i]);
    vdev->driver_features = 0;
    vdev->dev_features_sel = vdev->drv_features_sel = 0;
    vdev->queue_sel = 0;
    vdev->status = 0;
    vdev->isr = 0;
    update_irq(vdev);
}

static struct virtq *cur_queue(struct virtio_dev *vdev)
{
    if (vdev->queue_sel >= vdev->ops->num_queues)
        return NULL;
    return &vdev->vq[vdev->queue_sel];
}

static uint64_t config_read(struct virtio_dev *vdev, uint64_t off, unsigned size)
{
    if (off >= vdev->config_size || size > vdev->config_size - off)
        return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)vdev->config[off + i] << (8 * i);
    return v;
}

static uint64_t mmio_read(void *dev, uint64_t offset, unsigned size)
{
    struct virtio_dev *vdev = dev;
    if (offset >= VIRTIO_MMIO_CONFIG)
        return config_read(vdev, offset - VIRTIO_MMIO_CONFIG, size);
    if (size != 4 || (offset & 3))
        return 0;
    struct virtq *vq = cur_queue(vdev);
    switch (offset) {
    case REG_MAGIC:
        return VIRTIO_MMIO_MAGIC;
    case REG_VERSION:
        return 2;
    case REG_DEVICE_ID:
        return vdev->ops->device_id;
    case REG_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case REG_DEVICE_FEATURES:
        if (vdev->dev_features_sel > 1)
            return 0;
        return (uint32_t)(vdev->host_features >> (32 * vdev->dev_features_sel));
    case REG_QUEUE_NUM_MAX:
        return vq ? vq->num_max : 0;
    case REG_QUEUE_NUM:
        return vq ? vq->num : 0;
    case REG_QUEUE_READY:
        return vq ? vq->ready : 0;
    case REG_QUEUE_DESC_LOW:
        return vq ? (uint32_t)vq->desc_gpa : 0;
    case REG_QUEUE_DESC_HIGH:
        return vq ? (uint32_t)(vq->desc_gpa >> 32) : 0;
    case REG_QUEUE_DRIVER_LOW:
        return vq ? (uint32_t)vq->avail_gpa : 0;
    case REG_QUEUE_DRIVER_HIGH:
        return vq ? (uint32_t)(vq->avail_gpa >> 32) : 0;
    case REG_QUEUE_DEVICE_LOW:
        return vq ? (uint32_t)vq->used_gpa : 0;
    case REG_QUEUE_DEVICE_HIGH:
        return vq ? (uint32_t)(vq->used_gpa >> 32) : 0;
    case REG_INTERRUPT_STATUS:
        return vdev->isr;
    case REG_STATUS:
        return vdev->status;
    case REG_SHM_LEN_LOW:
    case REG_SHM_LEN_HIGH:
    case REG_SHM_BASE_LOW:
    case REG_SHM_BASE_HIGH:
        return 0xffffffffu; /* no shared memory regions */
    case REG_CONFIG_GENERATION:
        return vdev->config_generation;
    default:
        return 0;
    }
}

static void set_half(uint64_t *v, bool high, uint32_t value)
{
    if (high)
        *v = (*v & 0xffffffffull) | ((uint64_t)value << 32);
    else
        *v = (*v & ~0xffffffffull) | value;
}

static void write_status(struct virtio_dev *vdev, uint32_t value)
{
    if (value == 0) {
        virtio_reset(vdev);
        return;
    }
    uint32_t old = vdev->status;
    value &= 0xff;
    if ((value & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        /* A modern-only device refuses drivers that did not accept
         * VERSION_1 or accepted what we do not offer: FEATURES_OK stays
         * clear and the driver gives up. */
        bool ok = virtio_has_feature(vdev, VIRTIO_F_VERSION_1) &&
                  !(vdev->driver_features & ~vdev->host_features);
        if (!ok)
            value &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    /* The driver cannot clear bits once set (except through reset), and
     * DEVICE_NEEDS_RESET belongs to the device. */
    vdev->status =
        (value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if ((value & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
        vdev->ops->driver_ok)
        vdev->ops->driver_ok(vdev);
}

static void mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value64)
{
    struct virtio_dev *vdev = dev;
    if (offset >= VIRTIO_MMIO_CONFIG) {
        uint64_t off = offset - VIRTIO_MMIO_CONFIG;
        if (vdev->ops->config_write && off < vdev->config_size && size <= vdev->config_size - off)
            vdev->ops->config_write(vdev, (uint32_t)off, size, (uint32_t)value64);
        return;
    }
    if (size != 4 || (offset & 3))
        return;
    uint32_t value = (uint32_t)value64;
    struct virtq *vq = cur_queue(vdev);
    switch (offset) {
    case REG_DEVICE_FEATURES_SEL:
        vdev->dev_features_sel = value;
        break;
    case REG_DRIVER_FEATURES:
        if (vdev->status & VIRTIO_STATUS_FEATURES_OK)
            break; /* negotiation is over */
        if (vdev->drv_features_sel <= 1)
            set_half(&vdev->driver_features, vdev->drv_features_sel == 1, value);
        break;
    case REG_DRIVER_FEATURES_SEL:
        vdev->drv_features_sel = value;
        break;
    case REG_QUEUE_SEL:
        vdev->queue_sel = value;
        break;
    case REG_QUEUE_NUM:
        if (vq && !vq->ready)
            vq->num = value > 0xffff ? 0 : (uint16_t)value; /* validated at QueueReady */
        break;
    case REG_QUEUE_READY:
        if (!vq)
            break;
        if (value & 1) {
            if (!vq->ready && !virtq_enable(vq, vdev->bus))
                virtio_set_needs_reset(vdev, "queue size or ring addresses invalid");
        } else {
            vq->ready = false;
        }
        break;
    case REG_QUEUE_NOTIFY:
        if (value < vdev->ops->num_queues && vdev->vq[value].ready && virtio_driver_ok(vdev) &&
            vdev->ops->queue_notify)
            vdev->ops->queue_notify(vdev, value);
        break;
    case REG_INTERRUPT_ACK:
        vdev->isr &= ~value;
        update_irq(vdev);
        break;
    case REG_STATUS:
        write_status(vdev, value);
        break;
    case REG_QUEUE_DESC_LOW:
    case REG_QUEUE_DESC_HIGH:
        if (vq && !vq->ready)
            set_half(&vq->desc_gpa, offset == REG_QUEUE_DESC_HIGH, value);
        break;
    case REG_QUEUE_DRIVER_LOW:
    case REG_QUEUE_DRIVER_HIGH:
        if (vq && !vq->ready)
            set_half(&vq->avail_gpa, offset == REG_QUEUE_DRIVER_HIGH, value);
        break;
    case REG_QUEUE_DEVICE_LOW:
    case REG_QUEUE_DEVICE_HIGH:
        if (vq && !vq->ready)
            set_half(&vq->used_gpa, offset == REG_QUEUE_DEVICE_HIGH, value);
        break;
    default:
        break; /* read-only or unknown registers (SHMSel, QueueReset: not offered) */
    }
}

static void mmio_dev_reset(void *dev)
{
    virtio_reset(dev);
}

/* ---- save / load ---- */

void virtio_save(struct virtio_dev *vdev, struct state_writer *w)
{
    state_put_u32(w, vdev->ops->device_id);
    state_put_u64(w, vdev->host_features);
    state_put_u64(w, vdev->driver_features);
    state_put_u32(w, vdev->dev_features_sel);
    state_put_u32(w, vdev->drv_features_sel);
    state_put_u32(w, vdev->queue_sel);
    state_put_u32(w, vdev->status);
    state_put_u32(w, vdev->isr);
    state_put_u32(w, vdev->config_generation);
    state_put_u32(w, vdev->config_size);
    state_put_bytes(w, vdev->config, vdev->config_size);
    state_put_u32(w, vdev->ops->num_queues);
    for (unsigned i = 0; i < vdev->ops->num_queues; i++) {
        const struct virtq *vq = &vdev->vq[i];
        state_put_u16(w, vq->num);
        state_put_u8(w, vq->ready);
        state_put_u8(w, vq->broken);
        state_put_u64(w, vq->desc_gpa);
        state_put_u64(w, vq->avail_gpa);
        state_put_u64(w, vq->used_gpa);
        /* Requests still running will run again after a restore. */
        state_put_u16(w, (uint16_t)(vq->last_avail - vq->inflight));
        state_put_u16(w, vq->used_idx);
        state_put_u16(w, vq->signalled_used);
        state_put_u8(w, vq->signalled_used_valid);
    }
}

struct saved_queue {
    uint16_t num, last_avail, used_idx, signalled_used;
    bool ready, broken, signalled_used_valid;
    uint64_t desc, avail, used;
};

bool virtio_load(struct virtio_dev *vdev, struct state_reader *r)
{
    uint32_t id = state_get_u32(r);
    uint64_t host_features = state_get_u64(r);
    uint64_t driver_features = state_get_u64(r);
    uint32_t dsel = state_get_u32(r), drsel = state_get_u32(r), qsel = state_get_u32(r);
    uint32_t status = state_get_u32(r), isr = state_get_u32(r), gen = state_get_u32(r);
    uint32_t csize = state_get_u32(r);
    uint64_t missing = vdev->host_features & ~host_features;
    if (!state_reader_ok(r) || id != vdev->ops->device_id || csize != vdev->config_size ||
        (host_features & ~vdev->host_features) || (missing & ~vdev->ops->added_features) ||
        (driver_features & ~host_features)) {
        if (state_reader_ok(r) && id == vdev->ops->device_id &&
            host_features != vdev->host_features)
            log_error("%s: saved with features %#llx, this device offers %#llx", vdev->ops->name,
                      (unsigned long long)host_features, (unsigned long long)vdev->host_features);
        return false;
    }
    uint8_t *config = malloc(csize ? csize : 1);
    if (!config)
        return false;
    state_get_bytes(r, config, csize);
    uint32_t nq = state_get_u32(r);
    if (nq != vdev->ops->num_queues) {
        free(config);
        return false;
    }
    struct saved_queue q[VIRTIO_MAX_QUEUES];
    for (unsigned i = 0; i < nq; i++) {
        q[i].num = state_get_u16(r);
        q[i].ready = state_get_u8(r);
        q[i].broken = state_get_u8(r);
        q[i].desc = state_get_u64(r);
        q[i].avail = state_get_u64(r);
        q[i].used = state_get_u64(r);
        q[i].last_avail = state_get_u16(r);
        q[i].used_idx = state_get_u16(r);
        q[i].signalled_used = state_get_u16(r);
        q[i].signalled_used_valid = state_get_u8(r);
    }
    if (!state_reader_ok(r)) {
        free(config);
        return false;
    }
    /* Check every ready queue maps before changing anything. */
    for (unsigned i = 0; i < nq; i++) {
        struct virtq t = {.num = q[i].num, .num_max = vdev->vq[i].num_max};
        t.desc_gpa = q[i].desc;
        t.avail_gpa = q[i].avail;
        t.used_gpa = q[i].used;
        if (q[i].ready && !virtq_enable(&t, vdev->bus)) {
            free(config);
            return false;
        }
    }
    if (vdev->ops->reset)
        vdev->ops->reset(vdev); /* drop whatever the device had in flight */
    vdev->driver_features = driver_features;
    vdev->dev_features_sel = dsel;
    vdev->drv_features_sel = drsel;
    vdev->queue_sel = qsel;
    vdev->status = status;
    vdev->isr = isr;
    vdev->config_generation = gen;
    memcpy(vdev->config, config, csize);
    free(config);
    for (unsigned i = 0; i < nq; i++) {
        struct virtq *vq = &vdev->vq[i];
        virtq_reset(vq);
        vq->num = q[i].num;
        vq->desc_gpa = q[i].desc;
        vq->avail_gpa = q[i].avail;
        vq->used_gpa = q[i].used;
        if (q[i].ready)
            virtq_enable(vq, vdev->bus);
        vq->broken = q[i].broken;
        vq->last_avail = q[i].last_avail;
        vq->used_idx = q[i].used_idx;
        vq->signalled_used = q[i].signalled_used;
        vq->signalled_used_valid = q[i].signalled_used_valid;
    }
    update_irq(vdev);
    return true;
}

static void mmio_save(void *dev, struct state_writer *w)
{
    struct virtio_dev *vdev = dev;
    virtio_save(vdev, w);
    if (vdev->ops->save)
        vdev->ops->save(vdev, w);
}

static bool mmio_load(void *dev, struct state_reader *r, uint32_t version)
{
    struct virtio_dev *vdev = dev;
    if (version != 1)
        return false;
    if (!virtio_load(vdev, r))
        return false;
    if (vdev->ops->load && !vdev->ops->load(vdev, r))
        return false;
    /* Requests that were in flight at save time are back in the avail
     * ring; let the device pick them up without waiting for a notify.
     * (Assumes RAM was restored before the devices.) */
    if (virtio_driver_ok(vdev) && vdev->ops->queue_notify) {
        for (unsigned i = 0; i < vdev->ops->num_queues; i++)
            if (vdev->vq[i].ready && virtq_has_avail(&vdev->vq[i]))
                vdev->ops->queue_notify(vdev, i);
    }
    return true;
}

static void mmio_fdt(void *dev, void *fdt, const struct dev_placement *where)
{
    (void)dev;
    int node = dev_fdt_add_soc_node(fdt, "virtio_mmio", where->base, where->size);
    if (node < 0)
        return;
    if (dev_fdt_failed("virtio_mmio compatible",
                       fdt_setprop_string(fdt, node, "compatible", "virtio,mmio")))
        return;
    if (dev_fdt_failed("virtio_mmio interrupts",
                       fdt_setprop_u32(fdt, node, "interrupts", where->irq)))
        return;
    dev_fdt_failed("virtio_mmio interrupt-parent",
                   fdt_setprop_u32(fdt, node, "interrupt-parent", where->phandle_plic));
}

static void mmio_stop(void *dev)
{
    struct virtio_dev *vdev = dev;
    if (vdev->ops->stop)
        vdev->ops->stop(vdev);
}

static void mmio_destroy(void *dev)
{
    virtio_mmio_free(dev);
}

const struct dev_ops virtio_mmio_dev_ops = {
    .name = "virtio-mmio",
    .access_min = 1,
    .access_max = 4,
    .read = mmio_read,
    .write = mmio_write,
    .reset = mmio_dev_reset,
    .save = mmio_save,
    .load = mmio_load,
    .state_version = 1,
    .fdt = mmio_fdt,
    .stop = mmio_stop,
    .destroy = mmio_destroy,
};

struct virtio_dev *virtio_mmio_new(const struct virtio_dev_ops *ops, void *opaque, struct bus *bus,
                                   struct irq_line irq, uint64_t host_features,
                                   uint32_t config_size)
{
    if (ops->num_queues > VIRTIO_MAX_QUEUES || ops->queue_max > VIRTQ_MAX_SIZE)
        return NULL;
    struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
    if (!vdev)
        return NULL;
    vdev->config = calloc(1, config_size ? config_size : 1);
    if (!vdev->config) {
        free(vdev);
        return NULL;
    }
    vdev->ops = ops;
    vdev->opaque = opaque;
    vdev->bus = bus;
    vdev->irq = irq;
    vdev->host_features = host_features | TRANSPORT_FEATURES;
    vdev->config_size = config_size;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].index = (uint16_t)i;
        vdev->vq[i].num_max = i < ops->num_queues ? ops->queue_max : 0;
        virtq_reset(&vdev->vq[i]);
    }
    return vdev;
}

void virtio_mmio_free(struct virtio_dev *vdev)
{
    if (!vdev)
        return;
    if (vdev->ops->destroy)
        vdev->ops->destroy(vdev);
    free(vdev->config);
    free(vdev);
}
