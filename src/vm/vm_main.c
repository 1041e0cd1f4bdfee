/* SPDX-License-Identifier: MIT */
/* `wirt vm`: the verb table and the store option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vm.h"
#include "vm/vm_int.h"

struct vm_verb {
    const char *name;
    int (*run)(struct vm_store *st, int argc, char **argv);
    const char *usage;
};

static const struct vm_verb verbs[] = {
    {"create", vm_cmd_create,
     "create NAME [--from TEMPLATE | --kernel IMAGE [--initrd FILE] [--bios FILE|none]]\n"
     "             [--append CMDLINE] [--memory SIZE] [--cpus N] [--disk-size SIZE]\n"
     "             [--net user[,hostfwd=...]|none]... [--display gpu|vnc[=ADDR:PORT]]"},
    {"list", vm_cmd_list, "list [--json]"},
    {"info", vm_cmd_info, "info NAME [--json]"},
    {"top", vm_cmd_top, "top [--once] [--json]  (running VMs: vCPU %, RSS, balloon, disk rates)"},
    {"start", vm_cmd_start,
     "start NAME [--console] [--fresh]  (a suspended VM resumes; --fresh boots)"},
    {"log", vm_cmd_log, "log NAME [--json]     (lifecycle actions: when, who, what, how it went)"},
    {"screenshot", vm_cmd_screenshot,
     "screenshot NAME OUT.png  (the screen of a VM with a display)"},
    {"suspend", vm_cmd_suspend, "suspend NAME          (saves the running VM and stops it)"},
    {"console", vm_cmd_console, "console NAME          (Ctrl-] detaches)"},
    {"stop", vm_cmd_stop, "stop NAME [--force] [--timeout SECONDS]"},
    {"restart", vm_cmd_restart, "restart NAME [--force] [--timeout SECONDS] [--console]"},
    {"set", vm_cmd_set,
     "set NAME KEY=VALUE...  (memory, cpus, nested, append, net, disk-size, display)"},
    {"clone", vm_cmd_clone, "clone SRC DST [--linked]"},
    {"template", vm_cmd_template, "template NAME"},
    {"delete", vm_cmd_delete, "delete NAME"},
    {"snapshot", vm_cmd_snapshot, "snapshot NAME create|revert|delete SNAP | snapshot NAME list"},
    {"export", vm_cmd_export, "export NAME FILE"},
    {"import", vm_cmd_import, "import FILE [NAME]"},
    {"migrate", vm_cmd_migrate,
     "migrate NAME --to tcp:HOST:PORT|store:DIR|ssh://[USER@]HOST[:PORT][/STORE]\n"
     "             [--max-downtime MS] [--copy-storage] [--compress auto|always|never]\n"
     "             | migrate NAME --cancel"},
    {"receive", vm_cmd_receive,
     "receive NAME --listen ADDR:PORT | --stdio  (the destination of a migrate)"},
    {"move-disk", vm_cmd_move_disk, "move-disk NAME DISK --to FILE [--format qcow2|raw]"},
    {"agent", vm_cmd_agent,
     "agent NAME COMMAND [ARGUMENTS-JSON] [--timeout S]  (ping, ips, info, shutdown,\n"
     "             fsfreeze, fsthaw, or any qemu-guest-agent command)"},
};

static void usage(FILE *out)
{
    fputs("usage: wirt vm [--store DIR] VERB ...\n\n", out);
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(out, "  wirt vm %s\n", verbs[i].usage);
    fputs("\nThe store is --store DIR, else $WIRT_STORE, else "
          "${XDG_DATA_HOME:-~/.local/share}/wirt.\n"
          "See docs/vm.md.\n",
          out);
}

int vm_main(int argc, char **argv)
{
    int i = 1;
    const char *store = getenv("WIRT_STORE");
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--store")) {
            if (i + 1 >= argc)
                vm_usage("--store needs a directory");
            store = argv[++i];
        } else if (!strncmp(argv[i], "--store=", 8)) {
            store = argv[i] + 8;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    char def[PATH_MAX];
    if (!store || !*store) {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(def, sizeof(def), "%s/wirt", xdg);
        else if (home && *home)
            snprintf(def, sizeof(def), "%s/.local/share/wirt", home);
        else
            vm_usage("no store: set HOME, XDG_DATA_HOME, WIRT_STORE or pass --store DIR");
        store = def;
    }
    const char *verb = argv[i];
    for (size_t v = 0; v < ARRAY_SIZE(verbs); v++) {
        if (strcmp(verb, verbs[v].name))
            continue;
        for (int j = i + 1; j < argc; j++)
            if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                printf("usage: wirt vm %s\n", verbs[v].usage);
                return 0;
            }
        struct wirt_error err;
        struct vm_store *st = vm_store_open(
            store, !strcmp(verb, "create") || !strcmp(verb, "import") || !strcmp(verb, "receive"),
            &err);
        if (!st)
            return vm_report(&err);
        int status = verbs[v].run(st, argc - i, argv + i);
        /* Lifecycle verbs go to the VM's event log, with who ran them. */
        static const char *const logged[] = {"start",    "stop",    "restart",   "suspend", "set",
                                             "snapshot", "migrate", "move-disk", "template"};
        for (size_t k = 0; k < ARRAY_SIZE(logged) && i + 1 < argc; k++)
            if (!strcmp(verb, logged[k])) {
                char who[64], action[96];
                snprintf(who, sizeof(who), "cli:uid %ld", (long)getuid());
                snprintf(action, sizeof(action), "%s%s%s", verb, i + 2 < argc ? " " : "",
                         i + 2 < argc && !strcmp(verb, "snapshot") ? argv[i + 2] : "");
                struct wirt_error failed = {.code = WIRT_ERR_FAILED};
                snprintf(failed.msg, sizeof(failed.msg), "exit status %d", status);
                vm_event_log(st, argv[i + 1], who, action, status ? &failed : NULL);
            }
        vm_store_close(st);
        return status;
    }
    vm_usage("unknown verb '%.40s' (see wirt vm --help)", verb);
}
