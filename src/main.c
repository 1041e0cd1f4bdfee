/* SPDX-License-Identifier: MIT */
/* The wirt command line: a table of commands, each in its own file. */
#include <stdio.h>
#include <string.h>

#include "util/log.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage_error("no command yet");
}
