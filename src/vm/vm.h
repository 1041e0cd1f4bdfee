/* SPDX-License-Identifier: MIT */
/*
 * `wirt vm`: named virtual machines in a store directory (docs/vm.md),
 * as a library that a long-running process (the host service) can link
 * and call any number of times, and as the `wirt vm` verbs on top of it.
 *
 * Error convention, for every operation below: it returns true (or a
 * non-NULL pointer) on success; on failure it returns false (or NULL) and
 * fills *err: err->code is one of enum wirt_error_code, err->msg one line
 * of text naming the VM, file or argument and what is wrong (no "wirt
 * vm:" prefix, no newline, control characters replaced).  Operations
 * never print, never exit and keep no state between calls: everything
 * they need is in the struct vm_store handle.  Only the verb wrappers
 * (vm_main and the vm_cmd_* functions) print and turn errors into exit
 * statuses (vm_error_exit_status).
 *
 * The data types (struct vm_config, struct vm_runtime, limits) are in
 * vm/vm_int.h.
 */
#ifndef WIRT_VM_VM_H
#define WIRT_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

enum wirt_error_code {
    WIRT_OK = 0,
    WIRT_ERR_FAILED,    /* the operation failed (I/O, a broken file ...) */
    WIRT_ERR_INVALID,   /* a bad argument: name, size, option combination */
    WIRT_ERR_NOT_FOUND, /* no such VM or template */
    WIRT_ERR_EXISTS,    /* the name is taken */
    WIRT_ERR_BUSY,      /* the VM runs, or another command holds its lock */
    WIRT_ERR_STATE,     /* not possible for this VM now (a template is read-only ...) */
};

struct wirt_error {
    int code; /* enum wirt_error_code */
    char msg[512];
};

/* The exit status a verb returns for err: 2 for WIRT_ERR_INVALID (bad
 * usage), else 1. */
int vm_error_exit_status(const struct wirt_error *err);

struct vm_store;
struct vm_config;
struct vm_runtime;

/* Opens the store at root (a relative path is taken from the current
 * directory) and makes old stores owner-only.  With create (the verbs
 * that add a VM), creates it and, on a first run, the default template
 * from the cached default guest ($WIRT_CACHE); without, a missing store
 * is fine and simply has no VMs.  Free with vm_store_close(). */
struct vm_store *vm_store_open(const char *root, bool create, struct wirt_error *err);
void vm_store_close(struct vm_store *st);
/* Why the default template could not be made at open, or "". */
const char *vm_store_note(const struct vm_store *st);
const char *vm_store_root(const struct vm_store *st);

#define VM_MAX_CREATE_NICS 4

/* What `wirt vm create` asks for; zero / NULL means the default. */
struct vm_create_opts {
    const char *from;                   /* a template, or NULL with kernel */
    const char *kernel, *initrd, *bios; /* host files; bios "none" for none */
    const char *append;
    uint64_t memory, disk_size;
    unsigned cpus;
    const char *nets[VM_MAX_CREATE_NICS];
    unsigned nnets;
    const char *display; /* "gpu", "vnc", "vnc=ADDR:PORT", "none" or NULL (the template's) */
};

bool vm_create(struct vm_store *st, const char *name, const struct vm_create_opts *o,
               struct wirt_error *err);
/* A full copy, or with linked a qcow2 overlay on a template's disks. */
bool vm_clone(struct vm_store *st, const char *src, const char *dst, bool linked,
              struct wirt_error *err);
bool vm_delete(struct vm_store *st, const char *name, struct wirt_error *err);
bool vm_make_template(struct vm_store *st, const char *name, struct wirt_error *err);

/* KEY=VALUE settings as `wirt vm set` takes them (memory, cpus, append,
 * net, disk-size). */
bool vm_set(struct vm_store *st, const char *name, char *const *settings, size_t n,
            struct wirt_error *err);
/* op: "create", "revert" or "delete" the qcow2 snapshot snap on every disk. */
bool vm_snapshot(struct vm_store *st, const char *name, const char *op, const char *snap,
                 struct wirt_error *err);
/* A stopped VM to one tar archive / a new VM from one (name NULL: the
 * archive's; *made gets the name used). */
bool vm_export(struct vm_store *st, const char *name, const char *file, struct wirt_error *err);
bool vm_import(struct vm_store *st, const char *file, const char *name, char *made, size_t madelen,
               struct wirt_error *err);

/* Starts the VM's VMM (`wirt run` from this executable, detached, in the
 * VM directory) and waits until it answers on its control socket. */
struct vm_start_result {
    long pid;
    bool cleaned_stale; /* stale runtime files of a dead VMM were removed */
    bool resumed;       /* from the state `wirt vm suspend` saved */
};
/* A suspended VM resumes where it was (and its saved state is then
 * forgotten); vm_start_fresh discards that state and boots instead. */
bool vm_start(struct vm_store *st, const char *name, struct vm_start_result *result,
              struct wirt_error *err);
/* The VM's event log (vm_events.c): appends what `who` did and how it went
 * (err NULL: it worked); reads every entry back, oldest first. */
void vm_event_log(const struct vm_store *st, const char *name, const char *who, const char *action,
                  const struct wirt_error *err);
json_object *vm_event_read(const struct vm_store *st, const char *name);
bool vm_start_fresh(struct vm_store *st, const char *name, bool fresh,
                    struct vm_start_result *result, struct wirt_error *err);
/* Stops a running VM: asks the guest to shut down (waiting up to
 * timeout_s), with force powers it off (at once unless timeout_given, else
 * after the timeout), killing the VMM if it does not answer. */
enum vm_stop_how { VM_STOP_SHUTDOWN, VM_STOP_POWERED_OFF, VM_STOP_KILLED };
struct vm_stop_result {
    enum vm_stop_how how;
    long pid; /* the killed VMM's, for VM_STOP_KILLED */
};
bool vm_stop(struct vm_store *st, const char *name, bool force, int timeout_s, bool timeout_given,
             struct vm_stop_result *result, struct wirt_error *err);

/* One VM as `list` shows it. */
struct vm_summary;
/* Every VM, sorted by name, in *out (free with free()); a VM whose config
 * cannot be read is listed with config_ok false and its error. */
bool vm_list(struct vm_store *st, struct vm_summary **out, size_t *n, struct wirt_error *err);
/* One VM in detail: its config, state, directory, disks (sizes,
 * snapshots), linked clones, as `info --json` prints it.  Also fills cfg
 * and rt.  The caller puts the object. */
json_object *vm_info(struct vm_store *st, const char *name, struct vm_config *cfg,
                     struct vm_runtime *rt, struct wirt_error *err);

/* Entry point of the verbs: argv[0] is "vm", argv[1] the verb. Returns
 * the exit status. */
int vm_main(int argc, char **argv);

#endif
