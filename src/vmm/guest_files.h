/* SPDX-License-Identifier: MIT */
/*
 * The default guest: the kernel, initramfs, firmware and command line
 * that tools/fetch-guest.sh puts in the user's cache.  A spec without a
 * kernel boots it; `wirt vm create --from debian` copies it.
 */
#ifndef WIRT_VMM_GUEST_FILES_H
#define WIRT_VMM_GUEST_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct vm_spec;

/* Directory holding the default guest (Image, initrd.cpio.gz, firmware):
 * $WIRT_CACHE/guest, else $XDG_CACHE_HOME/wirt/guest, else
 * ~/.cache/wirt/guest.  A static buffer. */
const char *default_guest_dir(void);
/* The first line of its kernel command line file (malloc'd), or NULL. */
char *default_guest_cmdline(void);
/* Fills what the spec leaves out from the default guest: a kernel (with
 * its initramfs and command line) unless it has one or is an elf, and the
 * default firmware unless it names one or none.  false with one line in
 * err when a needed file is missing. */
bool default_guest_fill(struct vm_spec *s, char *err, size_t errlen);

#endif
