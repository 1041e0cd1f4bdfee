/* SPDX-License-Identifier: MIT */
/*
 * `wirt img`: the image tool (create, info, check, convert, ...), with the
 * verbs and flags of qemu-img.  argv[0] is "img"; returns the exit status.
 */
#ifndef WIRT_IMG_IMG_H
#define WIRT_IMG_IMG_H

int img_main(int argc, char **argv);

#endif
