/* SPDX-License-Identifier: MIT */
/*
 * Loading guest images into RAM: firmware blobs, Linux/RISC-V `Image`
 * files and ELF programs.  Every function checks that what it loads fits
 * in RAM and reports problems as one line naming the file.
 */
#ifndef WIRT_MACHINE_LOADER_H
#define WIRT_MACHINE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;

/* A whole file in memory (capped at max bytes), and its descriptor: the
 * board drops the bytes once they are in guest RAM and reads them again
 * for a reset (a jailed VMM can no longer open the path), so an idle VM
 * does not keep a second copy of its kernel. */
struct loaded_file {
    uint8_t *data; /* NULL while dropped */
    size_t size;
    size_t max; /* 0: no file (an image not given) */
    int fd;
};
bool load_file(const char *path, size_t max, struct loaded_file *out, char *err, size_t errlen);
/* Reads the bytes again if they were dropped (the file as it is now). */
bool file_reload(struct loaded_file *f, char *err, size_t errlen);
/* Frees the bytes, keeps the descriptor. */
void file_drop(struct loaded_file *f);
void free_file(struct loaded_file *f);

/* IMAGE_FLAT is anything else: a raw payload (e.g. U-Boot's u-boot.bin)
 * that runs from its first byte, as QEMU's -kernel takes it. */
enum image_kind { IMAGE_UNKNOWN, IMAGE_LINUX, IMAGE_ELF, IMAGE_FLAT };
enum image_kind detect_image_kind(const struct loaded_file *f);

/* Linux `Image`: header fields (text_offset, image_size), see the kernel's
 * Documentation/arch/riscv/boot-image-header.rst. */
bool linux_image_info(const struct loaded_file *f, uint64_t *text_offset, uint64_t *image_size);

/* Copies data to guest-physical pa; false if it does not fit in RAM. */
bool load_blob(struct bus *bus, uint64_t pa, const void *data, size_t size);

struct elf_info {
    uint64_t entry;
    uint64_t low, high;        /* physical extent of the loaded segments */
    uint64_t tohost, fromhost; /* 0 if the symbols are absent */
};
/* Loads an ELF64 RISC-V executable's PT_LOAD segments at their physical
 * addresses and looks up the HTIF symbols. */
bool load_elf(struct bus *bus, const struct loaded_file *f, const char *path, struct elf_info *info,
              char *err, size_t errlen);

#endif
