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
#include "util/ratelimit.h"
#include "vm/vm.h"
#include "vmm/vm_spec.h"

#define VM_NAME_MAX         64
#define VM_FILE_MAX         128
#define VM_MAX_DISKS        VM_SPEC_MAX_DISKS
#define VM_MAX_NICS         VM_SPEC_MAX_NICS
#define VM_CONFIG           "vm.json"
#define VM_LOCK             "lock"
#define VM_CONTROL          "control.sock"
#define VM_SERIAL           "serial.sock"
#define VM_AGENT            "agent.sock"     /* the guest agent's channel */
#define VM_VNC_PASSWD       "vnc.passwd"     /* the VNC password, made at start (0600) */
#define VM_SCREENSHOT       "screenshot.png" /* where the VMM writes a screenshot */
#define VM_SUSPEND_STATE    "suspend.state"  /* `wirt vm suspend`'s machine state */
#define VM_SUSPEND_INFO     "suspend.json"   /* ...and the disks it goes with */
#define VM_SNAPSHOT_DIR     "snapshots"      /* snapshots' machine states */
#define VM_EVENTS           "events.log"     /* lifecycle actions (vm_events.c) */
#define VM_AGENT_CHANNEL    "org.qemu.guest_agent.0"
#define VM_PIDFILE          "vmm.pid"
#define VM_CRASHED          "crashed" /* when the VMM died without stopping the VM */
#define VM_CONSOLELOG       "console.log"
#define VM_VMMLOG           "vmm.log"
#define VM_RUNSPEC          "run.json" /* the spec `start` hands the VMM */
#define VM_DEFAULT_TEMPLATE "debian"

struct vm_disk {
    char file[VM_FILE_MAX]; /* plain file name inside the VM directory */
    char format[16];        /* "qcow2" or "raw" */
    /* "throttle": IOPS and bandwidth caps (util/ratelimit.h) */
    struct io_limits limits;
};

/* A VM's restart policy, carried out by the host service (wirt serve). */
enum vm_restart { VM_RESTART_NEVER, VM_RESTART_ON_CRASH };

struct vm_config {
    char name[VM_NAME_MAX + 1];
    uint64_t memory;
    unsigned cpus;
    bool nested; /* "nested": the harts implement the H extension (`wirt run --cpu h=on`) */
    char kernel[VM_FILE_MAX], initrd[VM_FILE_MAX], bios[VM_FILE_MAX]; /* "" = none */
    char append[1024];
    struct vm_disk disks[VM_MAX_DISKS];
    unsigned ndisks;
    char nets[VM_MAX_NICS][256];
    unsigned nnets;
    bool is_template;
    enum vm_restart restart;         /* "restart": what wirt serve does when the VMM dies */
    struct vm_resources resources;   /* "resources" (vmm/resources.h) */
    char linked_to[VM_NAME_MAX + 1]; /* the template a linked clone's disk depends on */
    char created[32];
    char display[96]; /* "display": "", "gpu", "vnc" or "vnc=ADDR:PORT" (run's --display) */
};

/* VM_SUSPENDED: not running, and `start` resumes it (vm_suspend.c). */
enum vm_state { VM_STOPPED, VM_RUNNING, VM_PAUSED, VM_BUSY, VM_SUSPENDED };

struct vm_runtime {
    enum vm_state state;
    long pid;
    double uptime;
    bool guest_ready;
    bool cleaned_stale; /* stale runtime files were found and removed */
    bool crashed;       /* stopped because its VMM died (VM_CRASHED), not by a stop */
};

/* An open store (vm_store_open): the paths every operation uses. */
struct vm_store {
    char root[PATH_MAX];
    char vms[PATH_MAX]; /* ROOT/vms */
    char note[512];     /* why the default template was not made, or "" */
    bool missing;       /* opened without create and there is none */
};

/* The store root is at most this long, so that every path an operation
 * builds (ROOT/vms/NAME/FILE, temp names) fits in PATH_MAX. */
#define VM_STORE_ROOT_MAX (PATH_MAX - 512)

/* One VM as `list` shows it (see vm_list in vm/vm.h). */
struct vm_summary {
    char name[VM_NAME_MAX + 1];
    bool config_ok;
    char error[512]; /* why the config cannot be read */
    struct vm_config cfg;
    struct vm_runtime rt;
    uint64_t disk_usage; /* bytes the VM's own disks take on the host */
};

/* Sets *err (code, message with control characters replaced) and
 * returns false, for `return vm_fail(err, ...)`. */
bool vm_fail(struct wirt_error *err, int code, const char *fmt, ...) PRINTF_FMT(3, 4);

/* Admission control: false (WIRT_ERR_STATE, one line) when want's
 * cpu-reservation or memory-reservation, added to those of the other
 * running VMs, exceeds the host's CPUs or memory. */
bool vm_admit(struct vm_store *st, const char *name, const struct cgroup_limits *want,
              struct wirt_error *e);

/* For the verb wrappers only: */
/* "wirt vm: <message>" on stderr, exit 1. */
NORETURN void vm_die(const char *fmt, ...) PRINTF_FMT(1, 2);
/* "wirt vm: <message>" on stderr, no exit. */
void vm_warn(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Root making path in VM name's directory for its VMM to write in: hands
 * it to the directory's owner (the VM's own uid, vm_start.c), so that a
 * VMM running as that uid can use it.  Nothing otherwise. */
void vm_hand_over(const struct vm_store *st, const char *name, const char *path);
/* Same as vm_die, exit 2 (bad usage). */
NORETURN void vm_usage(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Prints err as "wirt vm: <message>"; returns the verb's exit status. */
int vm_report(const struct wirt_error *err);

bool vm_name_valid(const char *name);
/* A plain file name: no '/', not "." or "..", not empty, printable. */
bool vm_file_name_valid(const char *name);
/* False with WIRT_ERR_INVALID unless name is a valid VM name. */
bool vm_check_name(const char *name, struct wirt_error *err);
/* False with WIRT_ERR_INVALID / NOT_FOUND unless the VM exists. */
bool vm_require(const struct vm_store *st, const char *name, struct wirt_error *err);
bool vm_exists(const struct vm_store *st, const char *name);

/* out = STORE/vms/NAME[/FILE]; out has PATH_MAX bytes, which always
 * suffice (VM_STORE_ROOT_MAX, valid names). */
void vm_path(const struct vm_store *st, char *out, size_t outlen, const char *name,
             const char *file);

/* The VM's lock (flock on NAME/lock).  Returns the fd, or -1 with errno
 * EWOULDBLOCK when someone (a running VMM or another command) holds it. */
int vm_lock_try(const struct vm_store *st, const char *name);
/* Locks for a mutating command (exclusive), or with shared for commands
 * that only read the VM (clone, export, create --from): several may run
 * at once, none with a mutating command or a running VMM.  Waits a few
 * seconds for short commands; returns -1 with WIRT_ERR_BUSY ("is
 * running" / "is busy") otherwise. */
int vm_lock(const struct vm_store *st, const char *name, bool shared, struct wirt_error *err);
void vm_unlock(int fd);
/* vm_require + vm_lock + vm_config_load: the start of every command
 * that changes or reads a stopped VM.  Returns the lock fd or -1. */
int vm_lock_config(const struct vm_store *st, const char *name, bool shared, struct vm_config *cfg,
                   struct wirt_error *err);

/* Config I/O.  load: false with one line naming the file in err. */
bool vm_config_load(const struct vm_store *st, const char *name, struct vm_config *cfg, char *err,
                    size_t errlen);
/* Writes DIR/vm.json atomically (temp + fsync + rename). */
bool vm_config_save_dir(const char *dir, const struct vm_config *cfg, char *err, size_t errlen);
bool vm_config_save(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                    char *err, size_t errlen);
json_object *vm_config_to_json(const struct vm_config *cfg);
bool vm_config_from_json(json_object *o, struct vm_config *cfg, char *err, size_t errlen);
void vm_config_defaults(struct vm_config *cfg, const char *name);
/* The VM spec (src/vmm/vm_spec.h) that runs this VM from its directory,
 * validated; false with one line in err.  vm_spec_free it either way. */
bool vm_config_to_spec(const struct vm_config *cfg, struct vm_spec *s, char *err, size_t errlen);

/* Where the VM stands; removes stale runtime files (takes the lock
 * briefly for that).  Never fails. */
void vm_runtime_get(const struct vm_store *st, const char *name, struct vm_runtime *rt);
const char *vm_state_name(enum vm_state s);
/* Removes control.sock, serial.sock, vmm.pid; call with the lock held.
 * Returns true if anything was there. */
bool vm_clean_runtime(const struct vm_store *st, const char *name);

/* Connects to the VM's Unix socket FILE (works for paths longer than
 * sun_path).  Returns the fd or -1 with errno set. */
const char *vm_restart_name(enum vm_restart r);
bool vm_restart_parse(const char *text, enum vm_restart *out);

/* The VMM died without stopping the VM since its last start. */
bool vm_crashed(const struct vm_store *st, const char *name);

int vm_connect_socket(const struct vm_store *st, const char *name, const char *file);
/* Sends {"execute": cmd} to the VM's control socket; returns the reply
 * object (caller puts it) or NULL with a reason in err. */
json_object *vm_control(const struct vm_store *st, const char *name, const char *cmd,
                        int timeout_ms, char *err, size_t errlen);
/* vm_control with "arguments" (args may be NULL; the caller keeps it). */
json_object *vm_control_args(const struct vm_store *st, const char *name, const char *cmd,
                             json_object *args, int timeout_ms, char *err, size_t errlen);
/* How an asynchronous command's job ended (vm_job_run). */
struct vm_job_result {
    char status[32]; /* completed, failed, cancelled, unknown (the VM went away) */
    char error[600];
    char result[256];
};
/* Starts `cmd` and follows its job to the end (progress on a terminal,
 * Ctrl-C cancels).  False only when the job did not start (err set). */
bool vm_job_run(const struct vm_store *st, const char *name, const char *cmd, json_object *args,
                const char *label, struct vm_job_result *res, struct wirt_error *e);
/* Runs guest agent command cmd (arguments args, may be NULL) through the
 * VM's agent channel within timeout_ms: the reply's "return" value
 * (caller puts it), or NULL with a reason in err.  expect_reply false
 * (guest-shutdown) returns {} once the command is sent. */
json_object *vm_agent_call(const struct vm_store *st, const char *name, const char *cmd,
                           json_object *args, int timeout_ms, bool expect_reply, char *err,
                           size_t errlen);
/* True when a guest program (the agent) has the agent port open: only
 * then is it worth waiting for an answer. */
bool vm_agent_present(const struct vm_store *st, const char *name);
/* "eth0 10.0.2.15/24, ..." from guest-network-get-interfaces' reply. */
void vm_agent_format_addresses(json_object *ifaces, char *out, size_t outlen);
/* Like vm_control, but an error reply is a failure too. */
bool vm_control_ok(const struct vm_store *st, const char *name, const char *cmd,
                   struct wirt_error *err);

/* Names of VMs whose disks are linked clones of `name` (comma list in
 * out, "" for none); with count_broken, VMs whose config cannot be read
 * are listed too (they might depend on it). */
void vm_dependents(const struct vm_store *st, const char *name, bool count_broken, char *out,
                   size_t outlen);
/* Bytes the VM's own disks take on the host (not its template's). */
uint64_t vm_disk_usage(const struct vm_store *st, const char *name, const struct vm_config *cfg);

/* False with WIRT_ERR_INVALID unless the board can run with `bytes` of
 * RAM on this host; what names the setting in the message. */
bool vm_check_memory(const char *what, uint64_t bytes, struct wirt_error *err);

/* Files. */
/* Makes a file the store created owner-only (0600); false with a reason. */
bool vm_owner_only(const char *path, char *err, size_t errlen);
bool vm_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);
bool vm_copy_file(const char *src, const char *dst, char *err, size_t errlen);
/* Hard link if possible (same file system), else copy. */
bool vm_link_or_copy(const char *src, const char *dst, char *err, size_t errlen);
/* Removes a directory tree inside the store (refuses anything else). */
bool vm_rmtree(const struct vm_store *st, const char *dir);
uint64_t vm_allocated_bytes(const char *path);
/* Makes "STORE/vms/.new-NAME-XXXXXX" (out has PATH_MAX bytes). */
bool vm_tempdir(const struct vm_store *st, char *out, size_t outlen, const char *name,
                struct wirt_error *err);
/* Moves a finished temp dir to STORE/vms/NAME unless NAME exists. */
bool vm_commit_dir(const struct vm_store *st, const char *tmpdir, const char *name, char *err,
                   size_t errlen);
/* Runs `wirt ARGS...` (this executable), output to stderr; returns its
 * status, -1 if it could not run. */
int vm_run_self(char *const argv[]);
/* Path of this executable, NULL if it cannot be found. */
const char *vm_self_exe(void);
/* "512M", "1G", ... */
void vm_format_size(char *out, size_t outlen, uint64_t bytes);
/* Human-readable relative time. */
void vm_format_duration(char *out, size_t outlen, double seconds);
/* True if the process exists. */
bool vm_pid_alive(long pid);
long vm_read_pid(const struct vm_store *st, const char *name);

/* The verb wrappers: argv[0] is the verb; they print and return the
 * exit status. */
int vm_cmd_create(struct vm_store *st, int argc, char **argv);
int vm_cmd_list(struct vm_store *st, int argc, char **argv);
int vm_cmd_top(struct vm_store *st, int argc, char **argv);
/* A running VM's usage now (vm_top.c): CPU time per vCPU, RSS, balloon,
 * disk bytes and operations so far. */
json_object *vm_top_usage(const struct vm_store *st, const char *name, long pid);
int vm_cmd_info(struct vm_store *st, int argc, char **argv);
int vm_cmd_start(struct vm_store *st, int argc, char **argv);
int vm_cmd_console(struct vm_store *st, int argc, char **argv);
int vm_cmd_stop(struct vm_store *st, int argc, char **argv);
int vm_cmd_restart(struct vm_store *st, int argc, char **argv);
int vm_cmd_set(struct vm_store *st, int argc, char **argv);
int vm_cmd_clone(struct vm_store *st, int argc, char **argv);
int vm_cmd_template(struct vm_store *st, int argc, char **argv);
int vm_cmd_delete(struct vm_store *st, int argc, char **argv);
int vm_cmd_snapshot(struct vm_store *st, int argc, char **argv);
int vm_cmd_export(struct vm_store *st, int argc, char **argv);
int vm_cmd_import(struct vm_store *st, int argc, char **argv);
int vm_cmd_move_disk(struct vm_store *st, int argc, char **argv);
int vm_cmd_migrate(struct vm_store *st, int argc, char **argv);
int vm_cmd_receive(struct vm_store *st, int argc, char **argv);
/* Starts NAME's VMM as the destination of a migration (`wirt run
 * --incoming URI`, e.g. fd:N for a connection this process holds) and
 * waits until it runs the guest. */
bool vm_start_incoming(struct vm_store *st, const char *name, const char *incoming,
                       struct vm_start_result *res, struct wirt_error *e);
/* vm_receive.c: the preamble `wirt vm migrate` sends in front of the
 * stream (NAME's configuration, boot files and disk sizes) written to
 * path; and a two-way byte pump between a connection and a pair of
 * descriptors (ssh's pipes, or stdin/stdout), on threads of its own. */
bool vm_migration_preamble(const struct vm_store *st, const char *name, const char *path,
                           bool copy_storage, struct wirt_error *e);
struct vm_relay;
struct vm_relay *vm_relay_start(int sock, int in, int out);
void vm_relay_wait(struct vm_relay *r);
int vm_cmd_agent(struct vm_store *st, int argc, char **argv);
int vm_cmd_suspend(struct vm_store *st, int argc, char **argv);
int vm_cmd_log(struct vm_store *st, int argc, char **argv);
int vm_cmd_screenshot(struct vm_store *st, int argc, char **argv);
/* Checks a "display" value (vm.json, vm set); false with one line in err. */
bool vm_display_text_ok(const char *text, char *err, size_t errlen);
/* The running VM's VNC server (from the spec it was started with) and,
 * unless password is NULL, its password; false if it has none. */
bool vm_vnc_endpoint(const struct vm_store *st, const char *name, char *addr, size_t addrlen,
                     int *port, char *password, size_t pwlen);
/* Makes VMDIR/vnc.passwd (0600, a random password) unless it exists. */
bool vm_vnc_password_make(const struct vm_store *st, const char *name, char *err, size_t errlen);
/* Suspended state (vm_suspend.c): whether there is one; checking it
 * still matches the disks; forgetting it. */
bool vm_is_suspended(const struct vm_store *st, const char *name);
bool vm_suspend_check(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                      struct wirt_error *e);
void vm_suspend_forget(const struct vm_store *st, const char *name);
/* Makes the state file `file` (in the VM directory) the suspended state,
 * matched to the disks as they are now (a stopped VM reverted to a
 * snapshot with memory). */
bool vm_suspend_from(const struct vm_store *st, const char *name, const struct vm_config *cfg,
                     const char *file, struct wirt_error *e);

/* Shared by start/restart/stop. */
int vm_start_vm(struct vm_store *st, const char *name, bool console);
int vm_start_vm_fresh(struct vm_store *st, const char *name, bool console, bool fresh);
/* Returns 0 when stopped; prints and returns non-zero otherwise. */
int vm_stop_vm(struct vm_store *st, const char *name, bool force, int timeout_s,
               bool timeout_given);
int vm_attach_console(struct vm_store *st, const char *name);

#endif
