/* SPDX-License-Identifier: MIT */
/* `wirt run`: a VM spec from flags (or --spec), run by the VMM; exits with the guest's status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netd/netd.h"
#include "cli/cli.h"
#include "util/log.h"
#include "vmm/gdbstub.h"
#include "vmm/guest_files.h"
#include "vmm/vm_spec.h"
#include "vmm/vmm.h"

static const char run_usage[] =
    "usage: wirt run [--kernel IMAGE] [--initrd FILE] [--append CMDLINE]\n"
    "                [--bios FIRMWARE|none] [--memory SIZE] [--cpus N] [--cpu h=on]\n"
    "                [--disk FILE[,format=raw|qcow2][,readonly=on][,iops=N][,bps=SIZE]]...\n"
    "                [--net user[,hostfwd=tcp:[ADDR]:HPORT-:GPORT][,mac=MAC][,rate=B/S]\n"
    "                       |tap,ifname=NAME[,rate=B/S]|switch=NAME[,vlan=V|,trunk=V,...]\n"
    "                       |none]...  (no --net: user; rate=10M caps each way)\n"
    "                [--control SOCKET] [--serial-socket SOCKET] [--serial-log FILE]\n"
    "                [--channel NAME,socket=SOCKET]...\n"
    "                [--display none|gpu|vnc[=ADDR:PORT]] [--vnc-password-file FILE]\n"
    "                [--pidfile FILE] [--log FILE] [--incoming tcp:ADDR:PORT]\n"
    "                [--restore STATE] [--save-on-exit STATE]\n"
    "                [--cpu-limit PCT%] [--cpu-weight N] [--cpu-affinity CPUS]\n"
    "                [--memory-limit SIZE] [--memory-reservation SIZE] [--page-sharing|--ksm on]\n"
    "                [--cpu-reservation PCT%] [--pin on] [--sandbox on] [--jail DIR]\n"
    "                [--reclaim on|off|SECONDS] [--uid UID[:GID] (root, with --jail)]\n"
    "                [--gdb tcp:[HOST]:PORT|unix:PATH [--gdb-wait]]\n"
    "       wirt run --elf PROGRAM.elf [--memory SIZE]\n"
    "       wirt run --spec FILE.json   (a VM spec, docs/vm-spec.md)\n"
    "--serial-socket/--serial-log detach the console from the terminal (docs/vm.md);\n"
    "--control serves the JSON control protocol (docs/control-protocol.md);\n"
    "--channel connects a named guest port (/dev/virtio-ports/NAME) to SOCKET;\n"
    "--display gpu gives the guest a virtio-gpu screen, keyboard and tablet;\n"
    "vnc also serves it over VNC (default 127.0.0.1:5900; the password is the\n"
    "first line of --vnc-password-file, needed off loopback);\n"
    "--log writes messages to FILE, rotated to FILE.1 beyond 4 MiB;\n"
    "--disk limits: iops, iops-rd, iops-wr, bps, bps-rd, bps-wr, iops-burst, bps-burst\n"
    "(per second; requests over a limit wait);\n"
    "--incoming waits for a guest migrated from another wirt (same machine\n"
    "options; secret in $WIRT_MIGRATION_SECRET) instead of booting one;\n"
    "--restore resumes the machine saved in STATE (same options) instead of\n"
    "booting; --save-on-exit saves it to STATE when told to stop (SIGTERM,\n"
    "Ctrl-A x) instead of powering off.\n"
    "--kernel takes a Linux Image, an ELF or a flat binary (loaded as-is).\n"
    "--gdb serves GDB's remote protocol (tcp::1234 is 127.0.0.1:1234), one\n"
    "thread per hart; --gdb-wait holds the harts until GDB continues them.\n"
    "Without --kernel or --elf, boots the default guest (tools/fetch-guest.sh).\n"
    "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A.\n";

/* Fills the spec from the flags; --spec FILE reads it instead and takes
 * no other flag.  Exits with a usage error naming the flag. */
static void spec_from_args(int argc, char **argv, struct vm_spec *s)
{
    enum {
        OPT_KERNEL = 256,
        OPT_INITRD,
        OPT_APPEND,
        OPT_BIOS,
        OPT_ELF,
        OPT_DISK,
        OPT_NET,
        OPT_CPUS,
        OPT_CPU,
        OPT_CONTROL,
        OPT_SERIAL_SOCKET,
        OPT_SERIAL_LOG,
        OPT_PIDFILE,
        OPT_LOG,
        OPT_INCOMING,
        OPT_RESTORE,
        OPT_SAVE_ON_EXIT,
        OPT_SPEC,
        OPT_CHANNEL,
        OPT_DISPLAY,
        OPT_VNC_PASSWORD,
        OPT_RESOURCE,
        OPT_GDB,
        OPT_GDB_WAIT
    };
    static const struct option options[] = {
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"append", required_argument, NULL, OPT_APPEND},
        {"bios", required_argument, NULL, OPT_BIOS},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"cpu", required_argument, NULL, OPT_CPU},
        {"elf", required_argument, NULL, OPT_ELF},
        {"disk", required_argument, NULL, OPT_DISK},
        {"net", required_argument, NULL, OPT_NET},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"serial-socket", required_argument, NULL, OPT_SERIAL_SOCKET},
        {"serial-log", required_argument, NULL, OPT_SERIAL_LOG},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
        {"log", required_argument, NULL, OPT_LOG},
        {"incoming", required_argument, NULL, OPT_INCOMING},
        {"restore", required_argument, NULL, OPT_RESTORE},
        {"save-on-exit", required_argument, NULL, OPT_SAVE_ON_EXIT},
        {"spec", required_argument, NULL, OPT_SPEC},
        {"channel", required_argument, NULL, OPT_CHANNEL},
        {"display", required_argument, NULL, OPT_DISPLAY},
        {"vnc-password-file", required_argument, NULL, OPT_VNC_PASSWORD},
        {"gdb", required_argument, NULL, OPT_GDB},
        {"gdb-wait", no_argument, NULL, OPT_GDB_WAIT},
        {"cpu-limit", required_argument, NULL, OPT_RESOURCE},
        {"cpu-weight", required_argument, NULL, OPT_RESOURCE},
        {"cpu-reservation", required_argument, NULL, OPT_RESOURCE},
        {"cpu-affinity", required_argument, NULL, OPT_RESOURCE},
        {"memory-limit", required_argument, NULL, OPT_RESOURCE},
        {"memory-reservation", required_argument, NULL, OPT_RESOURCE},
        {"page-sharing", required_argument, NULL, OPT_RESOURCE},
        {"ksm", required_argument, NULL, OPT_RESOURCE},
        {"sandbox", required_argument, NULL, OPT_RESOURCE},
        {"jail", required_argument, NULL, OPT_RESOURCE},
        {"pin", required_argument, NULL, OPT_RESOURCE},
        {"reclaim", required_argument, NULL, OPT_RESOURCE},
        {"uid", required_argument, NULL, OPT_RESOURCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[1024];
    const char *spec_file = NULL;
    int nflags = 0;
    bool net_given = false, net_none = false;
    vm_spec_init(s, VM_SPEC_NAMES_FLAGS);
    opterr = 0;
    optind = 1;
    int opt;
    int longidx = -1;
    while ((opt = getopt_long(argc, argv, "+m:h", options, &longidx)) != -1) {
        bool ok = true;
        /* --incoming, --restore, --save-on-exit go with --spec */
        nflags += opt != OPT_SPEC && opt != OPT_INCOMING && opt != OPT_RESTORE &&
                  opt != OPT_SAVE_ON_EXIT && opt != OPT_GDB && opt != OPT_GDB_WAIT;
        switch (opt) {
        case OPT_KERNEL:
            vm_spec_set_string(&s->kernel, optarg);
            break;
        case OPT_INITRD:
            vm_spec_set_string(&s->initrd, optarg);
            break;
        case OPT_APPEND:
            vm_spec_set_string(&s->append, optarg);
            break;
        case OPT_BIOS:
            vm_spec_set_firmware_text(s, optarg);
            break;
        case OPT_ELF:
            vm_spec_set_string(&s->elf, optarg);
            break;
        case 'm':
            ok = vm_spec_set_memory_text(s, optarg, err, sizeof(err));
            break;
        case OPT_CPUS:
            ok = vm_spec_set_cpus_text(s, optarg, err, sizeof(err));
            break;
        case OPT_CPU:
            ok = vm_spec_set_cpu_text(s, optarg, err, sizeof(err));
            break;
        case OPT_DISK:
            ok = vm_spec_add_disk_text(s, optarg, NULL, err, sizeof(err));
            break;
        case OPT_NET:
            if (!strcmp(optarg, "none")) {
                net_none = true;
                break;
            }
            net_given = true;
            ok = vm_spec_add_nic_text(s, optarg, NULL, err, sizeof(err));
            break;
        case OPT_RESOURCE:
            ok = vm_spec_set_resource_text(s, options[longidx].name, optarg, err, sizeof(err));
            if (!ok) {
                char why[sizeof(err) + 4];
                snprintf(why, sizeof(why), "--%s", err);
                snprintf(err, sizeof(err), "%.1000s", why);
            }
            break;
        case OPT_CHANNEL:
            ok = vm_spec_add_channel_text(s, optarg, err, sizeof(err));
            break;
        case OPT_DISPLAY:
            ok = vm_spec_set_display_text(s, optarg, err, sizeof(err));
            break;
        case OPT_VNC_PASSWORD:
            vm_spec_set_string(&s->display.password_file, optarg);
            break;
        case OPT_CONTROL:
            vm_spec_set_string(&s->control, optarg);
            break;
        case OPT_SERIAL_SOCKET:
            vm_spec_set_string(&s->console.serial_socket, optarg);
            break;
        case OPT_SERIAL_LOG:
            vm_spec_set_string(&s->console.serial_log, optarg);
            break;
        case OPT_PIDFILE:
            vm_spec_set_string(&s->pidfile, optarg);
            break;
        case OPT_LOG:
            vm_spec_set_string(&s->log, optarg);
            break;
        case OPT_RESTORE:
            vm_spec_set_string(&s->restore, optarg);
            break;
        case OPT_SAVE_ON_EXIT:
            vm_spec_set_string(&s->save_on_exit, optarg);
            break;
        case OPT_INCOMING:
            vm_spec_set_string(&s->incoming, optarg);
            break;
        case OPT_SPEC:
            spec_file = optarg;
            break;
        case OPT_GDB: {
            char why[512];
            if (!gdbstub_address_ok(optarg, why, sizeof(why)))
                usage_error("--gdb: %s", why);
            vm_spec_set_string(&s->gdb, optarg);
            break;
        }
        case OPT_GDB_WAIT:
            s->gdb_wait = true;
            break;
        case 'h':
            fputs(run_usage, stdout);
            exit(0);
        default:
            if (optopt && optopt < 256)
                usage_error("run: unknown option '-%c' (see wirt run --help)", optopt);
            else if (optopt)
                usage_error("run: option '%s' needs a value", argv[optind - 1]);
            else
                usage_error("run: unknown option '%s' (see wirt run --help)", argv[optind - 1]);
        }
        if (!ok)
            usage_error("%s", err);
    }
    if (optind < argc)
        usage_error("run: unexpected argument '%s' (see wirt run --help)", argv[optind]);
    if (spec_file) {
        if (nflags)
            usage_error("--spec: cannot be combined with other flags (put them in the spec)");
        char *incoming = s->incoming, *restore = s->restore, *save = s->save_on_exit;
        char *gdb = s->gdb;
        bool gdb_wait = s->gdb_wait;
        s->incoming = s->restore = s->save_on_exit = s->gdb = NULL;
        vm_spec_free(s);
        if (!vm_spec_load(spec_file, s, err, sizeof(err)))
            usage_error("--spec: %s", err);
        s->incoming = incoming;
        s->restore = restore;
        s->save_on_exit = save;
        s->gdb = gdb;
        s->gdb_wait = gdb_wait;
    }
    if (s->gdb_wait && !s->gdb)
        usage_error("--gdb-wait: needs --gdb ADDRESS");
    if (s->restore && s->incoming)
        usage_error("--restore: cannot be combined with --incoming");
    if (spec_file)
        return;
    if (net_none && net_given)
        usage_error("--net none: cannot be combined with another --net");
    /* A guest gets user networking unless told otherwise, as under QEMU;
     * a bare-metal ELF has no driver for it. */
    if (!net_given && !net_none && !s->elf &&
        !vm_spec_add_nic_text(s, "user", "the default --net user", err, sizeof(err)))
        usage_error("%s", err);
    s->console.detached = s->console.serial_socket || s->console.serial_log;
    if (!vm_spec_validate(s, err, sizeof(err)))
        usage_error("%s", err);
}

int cmd_run(int argc, char **argv)
{
    struct vm_spec spec;
    char err[1024];
    spec_from_args(argc, argv, &spec);
    if (!default_guest_fill(&spec, err, sizeof(err)))
        usage_error("%s", err);
    /* --net switch=NAME: the network of the default store, its switch
     * started on demand. */
    char store[PATH_MAX];
    for (unsigned i = 0; i < spec.nnics; i++) {
        if (!spec.nics[i].sw.name[0] || spec.nics[i].sw.socket[0])
            continue;
        if (!netd_default_store(store, sizeof(store)))
            usage_error("--net switch=%s: no store (set HOME or WIRT_STORE)", spec.nics[i].sw.name);
        if (!netd_attach_nic(store, &spec.nics[i], NULL, i, err, sizeof(err)))
            usage_error("--net %s", err);
    }
    int status = vmm_run(&spec, err, sizeof(err));
    if (status < 0)
        usage_error("%s", err);
    vm_spec_free(&spec);
    return status;
}
