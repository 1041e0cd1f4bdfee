/* SPDX-License-Identifier: MIT */
/* The commands of the `wirt` front end; each lives in its own file. */
#ifndef WIRT_CLI_CLI_H
#define WIRT_CLI_CLI_H

int cmd_run(int argc, char **argv);

#endif
