/* SPDX-License-Identifier: MIT */
/* The commands of the `wirt` front end; each lives in its own file. */
#ifndef WIRT_CLI_CLI_H
#define WIRT_CLI_CLI_H

int cmd_run(int argc, char **argv);

/* Directory holding the default guest (Image, initrd.cpio.gz, firmware). */
const char *default_guest_dir(void);
/* The first line of its kernel command line file (malloc'd), or NULL. */
char *default_guest_cmdline(void);

#endif
