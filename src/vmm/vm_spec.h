/* SPDX-License-Identifier: MIT */
/*
 * The VM specification: everything a VMM needs to build and run one VM,
 * in one struct with one parser/validator and one JSON form (version 1,
 * docs/vm-spec.md).  `wirt run` fills it from its flags or reads it from
 * a file (--spec), `wirt vm start` writes it from vm.json, and the control
 * socket returns it (query-spec).  The device and backend layers receive
 * its parsed parts (struct disk_spec, struct nic_spec), never option text.
 *
 * Every limit a VM has (memory, CPUs, disks, NICs, backend options, disk
 * formats) is checked here and nowhere else.
 */
#ifndef WIRT_VMM_VM_SPEC_H
#define WIRT_VMM_VM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "host/cgroup.h"
#include "vmm/resources.h"
#include "machine/board.h"
#include "net/net.h"
#include "virtio/virtio_devices.h"

#define VM_SPEC_VERSION      1
#define VM_SPEC_MAX_DISKS    8
#define VM_SPEC_MAX_NICS     4
#define VM_SPEC_MAX_CPUS     BOARD_MAX_HARTS
#define VM_SPEC_MAX_CHANNELS VIRTIO_CHANNELS_MAX
#define VM_SPEC_MAX_FILE     (1 << 20) /* the largest spec file read */

/* How messages name a field: by its JSON key ("cpus", "disks[1].format")
 * or by the `wirt run` flag that set it ("--cpus", "--disk TEXT"). */
enum vm_spec_names { VM_SPEC_NAMES_JSON, VM_SPEC_NAMES_FLAGS };

enum vm_spec_firmware {
    VM_FIRMWARE_DEFAULT, /* the default guest's OpenSBI, found when the VMM starts */
    VM_FIRMWARE_NONE,
    VM_FIRMWARE_FILE,
};

/* A named channel (virtio/channels.c) and the host socket it is reached
 * through: the VMM listens there, owner-only; the newest client wins. */
struct channel_spec {
    char *name;   /* as the guest sees it: "org.qemu.guest_agent.0" */
    char *socket; /* a Unix socket path */
};

/* The graphical display (docs/vm-spec.md "display"): a virtio-gpu with a
 * keyboard and a tablet, and optionally a VNC server for it. */
struct display_spec {
    bool gpu;
    char *vnc;           /* "ADDR:PORT" (IPv4) the VMM serves VNC on, or NULL */
    char *password_file; /* the VNC password (its first line), or NULL: none */
};

struct vm_spec {
    int version;
    char machine[16]; /* "virt" */
    uint64_t memory;  /* bytes */
    unsigned cpus;
    bool cpu_h; /* "cpu": {"h": true}, `--cpu h=on`: the hypervisor extension */
    enum vm_spec_firmware firmware_kind;
    char *firmware; /* with VM_FIRMWARE_FILE */
    char *kernel;   /* NULL with no elf: the default guest */
    char *initrd, *append;
    char *elf; /* a bare-metal program with HTIF instead of a kernel */
    struct disk_spec disks[VM_SPEC_MAX_DISKS];
    unsigned ndisks;
    struct nic_spec nics[VM_SPEC_MAX_NICS];
    unsigned nnics;
    bool net_none; /* `--net none`: no NIC, not even the default one */
    struct channel_spec channels[VM_SPEC_MAX_CHANNELS];
    unsigned nchannels;
    struct {
        bool detached;       /* false: the terminal */
        char *serial_socket; /* detached: a socket for `wirt vm console`, or NULL */
        char *serial_log;    /* detached: a file the console is copied to, or NULL */
    } console;
    char *control;  /* the control socket, or NULL */
    char *pidfile;  /* or NULL */
    char *log;      /* the VMM's messages, rotated beyond 4 MiB; NULL: stderr */
    char *incoming; /* tcp:ADDR:PORT: receive a migrated guest instead of booting */
    /* Runtime only, like incoming (not in the JSON form): a state file to
     * resume from instead of booting, and one to save to when the VMM is
     * told to stop (SIGTERM, Ctrl-A x). */
    char *restore, *save_on_exit;
    /* Runtime only: the GDB stub's address (vmm/gdbstub.h), and whether
     * the machine waits for the debugger before it runs. */
    char *gdb;
    bool gdb_wait;
    /* Reserved for what comes; only {} (today's behaviour) is accepted. */
    struct vm_resources resources; /* "resources": cgroup limits, page sharing */
    struct display_spec display;
    bool migration;

    enum vm_spec_names names;
    /* What names each disk / NIC in messages: "disks[0]" or "--disk TEXT". */
    char disk_labels[VM_SPEC_MAX_DISKS][96];
    char nic_labels[VM_SPEC_MAX_NICS][96];
};

/* An empty spec with the defaults: virt, 512M, 1 CPU, default firmware. */
void vm_spec_init(struct vm_spec *s, enum vm_spec_names names);
void vm_spec_free(struct vm_spec *s);

/* The one range check of each limit.  why gets what is wrong, without a
 * field name.  with_host: also against this host's physical memory (a VM
 * about to run); without, only the board's window (a stored config). */
bool vm_spec_memory_ok(uint64_t bytes, bool with_host, char *why, size_t whylen);
bool vm_spec_cpus_ok(long long n, char *why, size_t whylen);

/* Text forms shared by flags and stored configs: "512M", "2", ... */
bool vm_spec_set_memory_text(struct vm_spec *s, const char *text, char *err, size_t errlen);
bool vm_spec_set_cpus_text(struct vm_spec *s, const char *text, char *err, size_t errlen);
/* CPU features, `--cpu h=on` (comma-separated KEY=on|off; only h so far). */
bool vm_spec_set_cpu_text(struct vm_spec *s, const char *text, char *err, size_t errlen);
/* "PATH" or "none". */
void vm_spec_set_firmware_text(struct vm_spec *s, const char *text);
/* Replaces *field with a copy of value (NULL clears). */
void vm_spec_set_string(char **field, const char *value);
/* Adds a disk / NIC from `wirt run` option text:
 *   FILE[,format=F][,readonly=on|off][,serial=STR][,discard=on|off|unmap|ignore]
 *   BACKEND[,KEY=VALUE]...   (the backend's options from the registry)
 * label names it in messages (NULL: "--disk TEXT" / "--net TEXT"). */
bool vm_spec_add_disk_text(struct vm_spec *s, const char *text, const char *label, char *err,
                           size_t errlen);
bool vm_spec_add_nic_text(struct vm_spec *s, const char *text, const char *label, char *err,
                          size_t errlen);
/* The default network, as QEMU's: a guest kernel booted without any
 * --net gets one user (libslirp) NIC; `--net none` (net_none) and
 * bare-metal programs (elf: HTIF, no driver to use it) get none. */
void vm_spec_default_net(struct vm_spec *s);
/* One resource setting from text (`--cpu-limit 150%`, vm.json, `wirt vm
 * set`): key is cpu-limit, cpu-weight, cpu-reservation, cpu-affinity, memory-limit or
 * memory-reservation; "" or "none" clears it.  false with one line in err
 * naming the key; false with err empty for a key that is not one of them. */
bool vm_spec_set_resource_text(struct vm_spec *s, const char *key, const char *value, char *err,
                               size_t errlen);
/* Adds a channel from `--channel NAME,socket=PATH`. */
bool vm_spec_add_channel_text(struct vm_spec *s, const char *text, char *err, size_t errlen);
/* `--display none|gpu|vnc[=ADDR:PORT]` (ADDR:PORT default 127.0.0.1:5900). */
bool vm_spec_set_display_text(struct vm_spec *s, const char *text, char *err, size_t errlen);
/* "ADDR:PORT" into the parts (IPv4 dotted quad, port 1..65535). */
bool vm_spec_vnc_addr(const char *text, char *addr, size_t addrlen, int *port);
/* Checks NIC option text alone (`wirt vm set NAME net=...`): the same
 * parser, nothing kept.  what names the setting in err. */
bool vm_spec_nic_text_ok(const char *text, const char *what, char *err, size_t errlen);

/* Checks the whole spec: ranges (memory also against this host), limits,
 * combinations (elf with kernel, console mode), backend options.  Fills
 * the default MAC of NICs without one.  false with one line in err that
 * names the field. */
bool vm_spec_validate(struct vm_spec *s, char *err, size_t errlen);

/* JSON.  from_json parses and validates a version-1 object (unknown
 * keys are errors, so a typo is never ignored); to_json writes it back
 * (a new reference). */
bool vm_spec_from_json(json_object *o, struct vm_spec *s, char *err, size_t errlen);
json_object *vm_spec_to_json(const struct vm_spec *s);
/* Reads and validates a spec file; messages start with its path. */
bool vm_spec_load(const char *path, struct vm_spec *s, char *err, size_t errlen);
/* Writes it owner-only (0600) and atomically (temp + fsync + rename). */
bool vm_spec_save(const char *path, const struct vm_spec *s, char *err, size_t errlen);

/* The board's part of the spec (pointers into s). */
void vm_spec_board_config(const struct vm_spec *s, struct board_config *cfg);

#endif
