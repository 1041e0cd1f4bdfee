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
#include "util/size.h"
#include "virtio/virtio_devices.h"

#define MAX_DISKS 8
#define MAX_NICS  4

static const char run_usage[] =
    "usage: wirt run [--kernel IMAGE] [--initrd FILE] [--append CMDLINE]\n"
    "                [--bios FIRMWARE|none] [--memory SIZE] [--cpus N]\n"
    "                [--disk FILE[,format=raw|qcow2][,readonly=on]]...\n"
    "                [--net user[,hostfwd=tcp:[ADDR]:HPORT-:GPORT][,mac=MAC]|tap,ifname=NAME]...\n"
    "                [--control SOCKET] [--serial-socket SOCKET] [--serial-log FILE]\n"
    "                [--pidfile FILE] [--log FILE]\n"
    "       wirt run --elf PROGRAM.elf [--memory SIZE]\n"
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

static void use_default_guest(struct board_config *cfg)
{
    char *kernel = guest_file("Image");
    if (access(kernel, R_OK) != 0)
        usage_error("no --kernel given and the default guest is missing (%s): run "
                    "tools/fetch-guest.sh or `make run`",
                    kernel);
    cfg->kernel = kernel;
    if (!cfg->initrd)
        cfg->initrd = guest_file("initrd.cpio.gz");
    if (!cfg->append) {
        cfg->append = default_guest_cmdline();
        if (!cfg->append)
            cfg->append = "console=ttyS0";
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

static void virtio_console_to_terminal(void *opaque, const uint8_t *buf, size_t len)
{
    console_write(opaque, buf, len);
}

int cmd_run(int argc, char **argv)
{
    enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_BIOS, OPT_ELF, OPT_DISK, OPT_NET, OPT_CPUS,
           OPT_CONTROL, OPT_SERIAL_SOCKET, OPT_SERIAL_LOG, OPT_PIDFILE, OPT_LOG };
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct board_config cfg = {.ram_size = 512ULL << 20, .nharts = 1};
    const char *bios = NULL, *disks[MAX_DISKS], *nics[MAX_NICS];
    unsigned ndisks = 0, nnics = 0;
    const char *control_path = NULL, *serial_socket = NULL, *serial_log = NULL, *pidfile = NULL,
               *log_path = NULL;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+m:h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_KERNEL: cfg.kernel = optarg; break;
        case OPT_INITRD: cfg.initrd = optarg; break;
        case OPT_APPEND: cfg.append = optarg; break;
        case OPT_BIOS: bios = optarg; break;
        case OPT_ELF: cfg.elf = optarg; break;
        case 'm':
            if (!parse_size(optarg, &cfg.ram_size))
                usage_error("--memory: '%s' is not a size (examples: 512M, 2G)", optarg);
            break;
        case OPT_CPUS: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n < 1 || n > BOARD_MAX_HARTS)
                usage_error("--cpus: '%s' is not a number from 1 to %d", optarg, BOARD_MAX_HARTS);
            cfg.nharts = (unsigned)n;
            break;
        }
        case OPT_DISK:
            if (ndisks == MAX_DISKS)
                usage_error("--disk: at most %d disks", MAX_DISKS);
            disks[ndisks++] = optarg;
            break;
        case OPT_NET:
            if (nnics == MAX_NICS)
                usage_error("--net: at most %d network cards", MAX_NICS);
            nics[nnics++] = optarg;
            break;
        case OPT_CONTROL: control_path = optarg; break;
        case OPT_SERIAL_SOCKET: serial_socket = optarg; break;
        case OPT_SERIAL_LOG: serial_log = optarg; break;
        case OPT_PIDFILE: pidfile = optarg; break;
        case OPT_LOG: log_path = optarg; break;
        case 'h': fputs(run_usage, stdout); return 0;
        default:
            if (optopt && optopt < 256)
                usage_error("run: unknown option '-%c' (see wirt run --help)", optopt);
            else if (optopt)
                usage_error("run: option '%s' needs a value", argv[optind - 1]);
            else
                usage_error("run: unknown option '%s' (see wirt run --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("run: unexpected argument '%s' (see wirt run --help)", argv[optind]);
    if (cfg.elf && (cfg.kernel || cfg.initrd || bios))
        usage_error("--elf: cannot be combined with --kernel, --initrd or --bios");
    if (!cfg.elf) {
        if (!cfg.kernel)
            use_default_guest(&cfg);
        if (!bios) {
            char *fw = guest_file("fw_dynamic.bin");
            if (access(fw, R_OK) != 0)
                usage_error("--bios: no firmware given and the default firmware is missing (%s): "
                            "run tools/fetch-guest.sh, or pass --bios FILE or --bios none",
                            fw);
            bios = fw;
        }
        cfg.bios = strcmp(bios, "none") ? bios : NULL;
    }

    char err[512];
    /* Opened first so every later message, guest-triggered ones included,
     * lands in a file that stays bounded while the machine runs. */
    struct log_file *log = NULL;
    if (log_path) {
        if (!(log = log_file_open(log_path, VMM_LOG_LIMIT, err, sizeof(err))))
            usage_error("--log: %s", err);
        log_set_output(log);
    }
    struct board *b = board_new(&cfg, err, sizeof(err));
    if (!b)
        usage_error("%s", err);
    for (unsigned i = 0; i < ndisks; i++)
        if (!virtio_blk_add(b, disks[i], err, sizeof(err)))
            usage_error("%s", err);
    for (unsigned i = 0; i < nnics; i++)
        if (!virtio_net_add(b, nics[i], i, err, sizeof(err)))
            usage_error("%s", err);
    /* hvc0 shares the terminal (or the detached console) with the UART. */
    if (!cfg.elf && (!virtio_rng_add(b, err, sizeof(err)) ||
                     !virtio_console_add(b, virtio_console_to_terminal, b->console, err, sizeof(err))))
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
    if (pidfile && !write_pidfile(pidfile, err, sizeof(err))) {
        control_free(control);
        usage_error("%s", err);
    }
    int status = board_run(b);
    control_free(control);
    if (pidfile)
        unlink(pidfile);
    board_free(b);
    return status;
}
