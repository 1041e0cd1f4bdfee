/* SPDX-License-Identifier: MIT */
/* `wirt img`: the verb table.  Each verb lives in its own file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "img/img.h"
#include "img/img_int.h"

struct img_verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct img_verb verbs[] = {
    {"create", img_create,
     "create [-q] [-f FMT] [-b BACKING [-F BACKING_FMT]] [-u] [-o OPTIONS] FILE [SIZE]"},
    {"info", img_info, "info [-f FMT] [--output=human|json] [--backing-chain] [-U] FILE"},
    {"check", img_check, "check [-q] [-f FMT] [-r leaks|all] [--output=human|json] [-U] FILE"},
    {"convert", img_convert,
     "convert [-p] [-q] [-n] [-c] [-f FMT] [-O OUTPUT_FMT] [-B BACKING [-F BACKING_FMT]] "
     "[-o OPTIONS] [-S SPARSE] SRC... DST"},
    {"resize", img_resize, "resize [-q] [-f FMT] [--shrink] FILE [+|-]SIZE"},
    {"snapshot", img_snapshot, "snapshot [-q] [-f FMT] [-l | -c NAME | -a NAME | -d NAME] FILE"},
    {"commit", img_commit, "commit [-q] [-p] [-d] [-f FMT] [-b BASE] FILE"},
    {"rebase", img_rebase, "rebase [-q] [-p] [-u] [-f FMT] -b BACKING [-F BACKING_FMT] FILE"},
    {"map", img_map, "map [-f FMT] [--output=human|json] FILE"},
    {"compare", img_compare, "compare [-q] [-s] [-p] [-f FMT] [-F FMT] FILE1 FILE2"},
    {"measure", img_measure,
     "measure [-O OUTPUT_FMT] [-o OPTIONS] [--output=human|json] (--size SIZE | [-f FMT] FILE)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: wirt img VERB [options]\n\nVerbs (flags as in qemu-img):\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        fprintf(f, "  %s\n", verbs[i].usage);
    fprintf(f, "\nFormats: qcow2, raw (read/write); vmdk, vpc (read-only import).\n"
               "Sizes take the suffixes k, M, G, T (powers of 1024).\n");
}

int img_main(int argc, char **argv)
{
    if (argc < 2) {
        img_err("missing verb (try 'wirt img --help')");
        return IMG_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        usage(stdout);
        return IMG_EXIT_OK;
    }
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        if (strcmp(verb, verbs[i].name) != 0)
            continue;
        /* Each verb parses its own flags: restart getopt, print its errors ourselves. */
        optind = 0;
        opterr = 0;
        for (int a = 2; a < argc; a++) {
            if (!strcmp(argv[a], "--"))
                break;
            if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
                printf("usage: wirt img %s\n", verbs[i].usage);
                return IMG_EXIT_OK;
            }
        }
        return verbs[i].run(argc - 1, argv + 1);
    }
    img_err("unknown verb '%s' (try 'wirt img --help')", verb);
    return IMG_EXIT_USAGE;
}
