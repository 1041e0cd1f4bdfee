/* SPDX-License-Identifier: MIT */
/* The wirt command line: a table of commands, each in its own file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "img/img.h"
#include "netd/netd.h"
#include "serve/serve.h"
#include "util/log.h"
#include "vm/vm.h"

/* wirt top [--store DIR] ARGS: wirt vm [--store DIR] top ARGS. */
static int cmd_top(int argc, char **argv)
{
    char **v = calloc((size_t)argc + 2, sizeof(*v));
    if (!v)
        fatal("out of memory");
    int n = 0, i = 1;
    v[n++] = "vm";
    if (i < argc && !strncmp(argv[i], "--store", 7)) {
        v[n++] = argv[i++];
        if (!strcmp(v[n - 1], "--store") && i < argc)
            v[n++] = argv[i++];
    }
    v[n++] = "top";
    while (i < argc)
        v[n++] = argv[i++];
    int r = vm_main(n, v);
    free(v);
    return r;
}

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "boot a virtual machine"},
    {"img", img_main, "create, inspect and convert disk images"},
    {"vm", vm_main, "manage named virtual machines"},
    {"top", cmd_top, "live view of the running VMs (wirt vm top)"},
    {"net", net_main, "virtual networks: switches that connect VMs"},
    {"serve", serve_main, "the host service: REST API (docs/api.md)"},
};

static void print_usage(FILE *out)
{
    fputs("usage: wirt COMMAND [ARGS...]\n\ncommands:\n", out);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`wirt COMMAND --help` describes a command.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    usage_error("unknown command '%s' (see wirt --help)", argv[1]);
}
