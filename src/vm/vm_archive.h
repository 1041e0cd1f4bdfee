/* SPDX-License-Identifier: MIT */
/*
 * The export archive: a POSIX ustar file (readable with tar(1)) holding
 * vm.json first, then the VM's files, all as plain names.  Sizes of 8 GiB
 * and more use the GNU base-256 size field.
 */
#ifndef WIRT_VM_VM_ARCHIVE_H
#define WIRT_VM_VM_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512

/* Appends a member from a file; false with a reason in err. */
bool tar_add_file(int out, const char *member, const char *path, char *err, size_t errlen);
/* Writes the two zero blocks that end an archive. */
bool tar_finish(int out);

/* Reads the next member header: false at the end of the archive (*eof)
 * or on a malformed header (err set). */
bool tar_next(int in, char name[101], uint64_t *size, bool *eof, char *err, size_t errlen);
/* Copies the member's data (and skips its padding) to fd out, a new
 * empty regular file, with holes where it is zero; or only skips it when
 * out < 0. */
bool tar_extract(int in, uint64_t size, int out, char *err, size_t errlen);

#endif
