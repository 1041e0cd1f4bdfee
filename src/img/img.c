/* SPDX-License-Identifier: MIT */
/* `wirt img`: the verb table.  Each verb lives in its own file. */
#include <stdio.h>

#include "img/img.h"

int img_main(int argc, char **argv)
{
    (void)argv;
    if (argc < 2) {
        fprintf(stderr, "wirt img: missing verb\n");
        return 2;
    }
    fprintf(stderr, "wirt img: not implemented yet\n");
    return 1;
}
