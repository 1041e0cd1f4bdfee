/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the `wirt vm` verbs: the store, VM configs, locks,
 * runtime state and the control-socket client.
 *
 * Safety contract: every path the verbs touch is built by vm_path() from
 * a validated VM name and a validated plain file name, so nothing outside
 * STORE/vms/ is ever written or removed.
 */
#ifndef WIRT_VM_VM_INT_H
#define WIRT_VM_VM_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "util/compiler.h"
#include "vmm/vm_spec.h"

#define VM_NAME_MAX         64
#define VM_FILE_MAX         128
#define VM_MAX_DISKS        VM_SPEC_MAX_DISKS
#define VM_MAX_NICS         VM_SPEC_MAX_NICS
#define VM_CONFIG           "vm.json"
#define VM_LOCK             "lock"
#define VM_CONTROL          "control.sock"
#define VM_SERIAL           "serial.sock"
#define VM_PIDFILE          "vmm.pid"
#define VM_CONSOLELOG       "console.log"
#define VM_VMMLOG           "vmm.log"
#define VM_RUNSPEC          "run.json" /* the spec `start` hands the VMM */
#define VM_DEFAULT_TEMPLATE "debian"

struct vm_disk {
    char file[VM_FILE_MAX]; /* plain file name inside the VM directory */
    char format[16];        /* "qcow2" or "raw" */
};

struct vm_config {
    char name[VM_NAME_MAX + 1];
    uint64_t memory;
    unsigned cpus;
    char kernel[VM_FILE_MAX], initrd[VM_FILE_MAX], bios[VM_FILE_MAX]; /* "" = none */
    char append[1024];
    struct vm_disk disks[VM_MAX_DISKS];
    unsigned ndisks;
    char nets[VM_MAX_NICS][256];
    unsigned nnets;
    bool is_template;
    char linked_to[VM_NAME_MAX + 1]; /* the template a linked clone's disk depends on */
    char created[32];
};

enum vm_state { VM_STOPPED, VM_RUNNING, VM_PAUSED, VM_BUSY };

struct vm_runtime {
    enum vm_state state;
    long pid;
    double uptime;
    bool guest_ready;
    bool cleaned_stale; /* stale runtime files were found and removed */
};

/* The store root (set by vm_main) and "ROOT/vms". */
extern char vm_store_root[PATH_MAX];
extern char vm_store_vms[PATH_MAX];
/* Why the default template could not be made (shown by list), or "". */
extern char vm_store_note[512];

/* "wirt vm: <message>" on stderr, exit 1. */
NORETURN void vm_die(const char *fmt, ...) PRINTF_FMT(1, 2);
/* "wirt vm: <message>" on stderr, no exit. */
void vm_warn(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Same as vm_die, exit 2 (bad usage). */
NORETURN void vm_usage(const char *fmt, ...) PRINTF_FMT(1, 2);

bool vm_name_valid(const char *name);
/* A plain file name: no '/', not "." or "..", not empty, printable. */
bool vm_file_name_valid(const char *name);
/* Dies unless name is valid (what names the argument in the message). */
void vm_check_name(const char *name);
/* Dies unless the VM exists. */
void vm_require(const char *name);
bool vm_exists(const char *name);

/* out = STORE/vms/NAME[/FILE]; dies if it does not fit. */
void vm_path(char *out, size_t outlen, const char *name, const char *file);

/* Opens the store (and makes old stores owner-only).  With create (the
 * verbs that add a VM), creates it and, on a first run, the default
 * template; without, a missing store only sets vm_store_missing. */
void vm_store_open(bool create);
extern bool vm_store_missing;

/* The VM's lock (flock on NAME/lock).  Returns the fd, or -1 with errno
 * EWOULDBLOCK when someone (a running VMM or another command) holds it. */
int vm_lock_try(const char *name);
/* Locks for a mutating command: dies with "is running" or "is busy". */
int vm_lock_or_die(const char *name);
/* A shared lock for commands that only read the VM (clone, export,
 * create --from): several may run at once, none with a mutating command
 * or a running VMM. */
int vm_lock_shared_or_die(const char *name);
void vm_unlock(int fd);

/* Config I/O.  load: false with one line naming the file in err. */
bool vm_config_load(const char *name, struct vm_config *cfg, char *err, size_t errlen);
void vm_config_load_or_die(const char *name, struct vm_config *cfg);
/* Writes DIR/vm.json atomically (temp + fsync + rename). */
bool vm_config_save_dir(const char *dir, const struct vm_config *cfg, char *err, size_t errlen);
void vm_config_save_or_die(const char *name, const struct vm_config *cfg);
json_object *vm_config_to_json(const struct vm_config *cfg);
bool vm_config_from_json(json_object *o, struct vm_config *cfg, char *err, size_t errlen);
void vm_config_defaults(struct vm_config *cfg, const char *name);
/* The VM spec (src/vmm/vm_spec.h) that runs this VM from its directory,
 * validated; false with one line in err.  vm_spec_free it either way. */
bool vm_config_to_spec(const struct vm_config *cfg, struct vm_spec *s, char *err, size_t errlen);

/* Where the VM stands; removes stale runtime files (takes the lock
 * briefly for that).  Never dies. */
void vm_runtime_get(const char *name, struct vm_runtime *rt);
const char *vm_state_name(enum vm_state s);
/* Removes control.sock, serial.sock, vmm.pid; call with the lock held.
 * Returns true if anything was there. */
bool vm_clean_runtime(const char *name);

/* Connects to the VM's Unix socket FILE (works for paths longer than
 * sun_path).  Returns the fd or -1 with errno set. */
int vm_connect_socket(const char *name, const char *file);
/* Sends {"execute": cmd} to the VM's control socket; returns the reply
 * object (caller puts it) or NULL with a reason in err. */
json_object *vm_control(const char *name, const char *cmd, int timeout_ms, char *err,
                        size_t errlen);
/* Like vm_control but dies on failure or an error reply; returns "return". */
void vm_control_or_die(const char *name, const char *cmd);

/* Names of VMs whose disks are linked clones of `name` (comma list in
 * out, "" for none); with count_broken, VMs whose config cannot be read
 * are listed too (they might depend on it). */
void vm_dependents(const char *name, bool count_broken, char *out, size_t outlen);

/* Dies (usage) unless the board can run with `bytes` of RAM on this host;
 * what names the setting in the message. */
void vm_check_memory(const char *what, uint64_t bytes);

/* Files. */
/* Makes a file the store created owner-only (0600); false with a reason. */
bool vm_owner_only(const char *path, char *err, size_t errlen);
bool vm_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);
bool vm_copy_file(const char *src, const char *dst, char *err, size_t errlen);
/* Hard link if possible (same file system), else copy. */
bool vm_link_or_copy(const char *src, const char *dst, char *err, size_t errlen);
/* Removes a directory tree inside the store (refuses anything else). */
bool vm_rmtree(const char *dir);
uint64_t vm_allocated_bytes(const char *path);
/* Makes "STORE/vms/.new-NAME-XXXXXX"; dies on failure. */
void vm_tempdir(char *out, size_t outlen, const char *name);
/* Moves a finished temp dir to STORE/vms/NAME unless NAME exists. */
bool vm_commit_dir(const char *tmpdir, const char *name, char *err, size_t errlen);
/* Runs `wirt ARGS...` (this executable), output to stderr; returns its status. */
int vm_run_self(char *const argv[]);
/* Path of this executable. */
const char *vm_self_exe(void);
/* "512M", "1G", ... */
void vm_format_size(char *out, size_t outlen, uint64_t bytes);
/* Human-readable relative time. */
void vm_format_duration(char *out, size_t outlen, double seconds);
/* True if the process exists. */
bool vm_pid_alive(long pid);
long vm_read_pid(const char *name);

/* The verbs: argv[0] is the verb. */
int vm_cmd_create(int argc, char **argv);
int vm_cmd_list(int argc, char **argv);
int vm_cmd_info(int argc, char **argv);
int vm_cmd_start(int argc, char **argv);
int vm_cmd_console(int argc, char **argv);
int vm_cmd_stop(int argc, char **argv);
int vm_cmd_restart(int argc, char **argv);
int vm_cmd_set(int argc, char **argv);
int vm_cmd_clone(int argc, char **argv);
int vm_cmd_template(int argc, char **argv);
int vm_cmd_delete(int argc, char **argv);
int vm_cmd_snapshot(int argc, char **argv);
int vm_cmd_export(int argc, char **argv);
int vm_cmd_import(int argc, char **argv);

/* Shared by start/restart/stop. */
int vm_start_vm(const char *name, bool console);
/* Returns 0 when stopped; prints and returns non-zero otherwise. */
int vm_stop_vm(const char *name, bool force, int timeout_s, bool timeout_given);
int vm_attach_console(const char *name);

#endif
