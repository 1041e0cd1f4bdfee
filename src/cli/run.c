/* SPDX-License-Identifier: MIT */
/* `wirt run`: build a machine from flags, boot it, exit with its status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "machine/board.h"
#include "machine/console.h"
#include "machine/control.h"
#include "machine/evloop.h"
#include "util/file.h"
#include "util/log.h"
#include "vmm/vm_spec.h"
#include "vmm/vmm.h"

static const char run_usage[] =
    "usage: wirt run [--kernel IMAGE] [--initrd FILE] [--append CMDLINE]\n"
    "                [--bios FIRMWARE|none] [--memory SIZE] [--cpus N]\n"
    "                [--disk FILE[,format=raw|qcow2][,readonly=on]]...\n"
    "                [--net user[,hostfwd=tcp:[ADDR]:HPORT-:GPORT][,mac=MAC]|tap,ifname=NAME]...\n"
    "                [--control SOCKET] [--serial-socket SOCKET] [--serial-log FILE]\n"
    "                [--pidfile FILE] [--log FILE]\n"
    "       wirt run --elf PROGRAM.elf [--memory SIZE]\n"
    "       wirt run --spec FILE.json   (a VM spec, docs/vm-spec.md)\n"
    "--serial-socket/--serial-log detach the console from the terminal (docs/vm.md);\n"
    "--control serves the JSON control protocol (docs/control-protocol.md);\n"
    "--log writes messages to FILE, rotated to FILE.1 beyond 4 MiB.\n"
    "Without --kernel or --elf, boots the default guest (tools/fetch-guest.sh).\n"
    "Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A.\n";

const char *default_guest_dir(void)
{
    static char dir[4096];
    const char *cache = getenv("WIRT_CACHE");
    if (cache && *cache) {
        snprintf(dir, sizeof(dir), "%s/guest", cache);
        return dir;
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/wirt/guest", xdg);
    else
        snprintf(dir, sizeof(dir), "%s/.cache/wirt/guest", getenv("HOME") ? getenv("HOME") : ".");
    return dir;
}

static char *guest_file(const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s", default_guest_dir(), name) < 0)
        fatal("out of memory");
    return path;
}

char *default_guest_cmdline(void)
{
    char *path = guest_file("cmdline"), err[256];
    int fd = open_regular(path, O_RDONLY, 0, err, sizeof(err)); /* never a FIFO */
    free(path);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char buf[1024];
    char *line = fgets(buf, sizeof(buf), f) ? strdup(buf) : NULL;
    fclose(f);
    if (line)
        line[strcspn(line, "\n")] = '\0';
    return line;
}

/* A spec without a kernel (and not an elf) boots the default guest; one
 * without firmware gets the default guest's OpenSBI. */
static char *required_guest_file(const char *name, const char *missing)
{
    char *path = guest_file(name);
    if (access(path, R_OK) != 0)
        usage_error("%s (%s): run tools/fetch-guest.sh, %s", missing, path,
                    !strcmp(name, "Image") ? "or `make run`"
                                           : "or pass --bios FILE or --bios none");
    return path;
}

static void use_default_guest(struct vm_spec *s)
{
    if (s->elf)
        return;
    if (!s->kernel) {
        s->kernel =
            required_guest_file("Image", "no --kernel given and the default guest is missing");
        if (!s->initrd)
            s->initrd = guest_file("initrd.cpio.gz");
        if (!s->append) {
            s->append = default_guest_cmdline();
            if (!s->append)
                vm_spec_set_string(&s->append, "console=ttyS0");
        }
    }
    if (s->firmware_kind == VM_FIRMWARE_DEFAULT) {
        s->firmware = required_guest_file(
            "fw_dynamic.bin", "--bios: no firmware given and the default firmware is missing");
        s->firmware_kind = VM_FIRMWARE_FILE;
    }
}

/* A detached VMM turns SIGTERM/SIGINT (host shutdown, kill) into a
 * clean power-off on the event loop, so its runtime files are removed. */
static int term_pipe[2] = {-1, -1};

static void on_term_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(term_pipe[1], "t", 1) < 0) {
        /* the pipe is full: a power-off is already pending */
    }
    errno = saved;
}

static void on_term_event(void *opaque, uint32_t events)
{
    (void)events;
    char buf[16];
    while (read(term_pipe[0], buf, sizeof(buf)) > 0) {
    }
    board_power_off(opaque, 0);
}

static void catch_term_signals(struct board *b)
{
    if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
        !evloop_add_fd(b->loop, term_pipe[0], EPOLLIN, on_term_event, b))
        return;
    struct sigaction sa = {.sa_handler = on_term_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Written whole (temporary file + rename): a reader never sees half a pid. */
static bool write_pidfile(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    char why[400]; /* a FIFO left at tmp would block a plain open */
    int fd = open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, why, sizeof(why));
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (fd < 0) {
        snprintf(err, errlen, "--pidfile: %s", why);
        return false;
    }
    if (write(fd, line, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "--pidfile: %s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

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
        OPT_CONTROL,
        OPT_SERIAL_SOCKET,
        OPT_SERIAL_LOG,
        OPT_PIDFILE,
        OPT_LOG,
        OPT_SPEC
    };
    static const struct option options[] = {
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"append", required_argument, NULL, OPT_APPEND},
        {"bios", required_argument, NULL, OPT_BIOS},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"elf", required_argument, NULL, OPT_ELF},
        {"disk", required_argument, NULL, OPT_DISK},
        {"net", required_argument, NULL, OPT_NET},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"serial-socket", required_argument, NULL, OPT_SERIAL_SOCKET},
        {"serial-log", required_argument, NULL, OPT_SERIAL_LOG},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
        {"log", required_argument, NULL, OPT_LOG},
        {"spec", required_argument, NULL, OPT_SPEC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[1024];
    const char *spec_file = NULL;
    int nflags = 0;
    vm_spec_init(s, VM_SPEC_NAMES_FLAGS);
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+m:h", options, NULL)) != -1) {
        bool ok = true;
        nflags += opt != OPT_SPEC;
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
        case OPT_DISK:
            ok = vm_spec_add_disk_text(s, optarg, NULL, err, sizeof(err));
            break;
        case OPT_NET:
            ok = vm_spec_add_nic_text(s, optarg, NULL, err, sizeof(err));
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
        case OPT_SPEC:
            spec_file = optarg;
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
        vm_spec_free(s);
        if (!vm_spec_load(spec_file, s, err, sizeof(err)))
            usage_error("--spec: %s", err);
        return;
    }
    s->console.detached = s->console.serial_socket || s->console.serial_log;
    if (!vm_spec_validate(s, err, sizeof(err)))
        usage_error("%s", err);
}

int cmd_run(int argc, char **argv)
{
    struct vm_spec spec;
    spec_from_args(argc, argv, &spec);
    use_default_guest(&spec);
    const char *control_path = spec.control, *pidfile = spec.pidfile;
    const char *serial_socket = spec.console.serial_socket, *serial_log = spec.console.serial_log;

    char err[512];
    /* Opened first so every later message, guest-triggered ones included,
     * lands in a file that stays bounded while the machine runs. */
    struct log_file *log = NULL;
    if (spec.log) {
        if (!(log = log_file_open(spec.log, VMM_LOG_LIMIT, err, sizeof(err))))
            usage_error("--log: %s", err);
        log_set_output(log);
    }
    struct board_config cfg;
    vm_spec_board_config(&spec, &cfg);
    struct board *b = board_new(&cfg, err, sizeof(err));
    if (!b)
        usage_error("%s", err);
    if (!vmm_add_devices(b, &spec, err, sizeof(err)))
        usage_error("%s", err);
    if (!board_boot(b, err, sizeof(err)))
        usage_error("%s", err);
    /* Sockets may lose their peer at any moment; that is never fatal. */
    if (serial_socket || serial_log || control_path)
        signal(SIGPIPE, SIG_IGN);
    if ((serial_socket || serial_log) &&
        !console_detach(b->console, serial_socket, serial_log, err, sizeof(err)))
        usage_error("%s", err);
    if (serial_socket || serial_log)
        catch_term_signals(b);
    struct control *control = NULL;
    if (control_path && !(control = control_new(b, control_path, err, sizeof(err))))
        usage_error("%s", err);
    if (control) {
        json_object *j = vm_spec_to_json(&spec);
        control_set_spec(control, j);
        json_object_put(j);
    }
    if (pidfile && !write_pidfile(pidfile, err, sizeof(err))) {
        control_free(control);
        usage_error("%s", err);
    }
    int status = board_run(b);
    control_free(control);
    if (pidfile)
        unlink(pidfile);
    board_free(b);
    vm_spec_free(&spec);
    return status;
}
