/* SPDX-License-Identifier: MIT */
/*
 * Internals of `wirt img`: one function per verb (each in its own file) and
 * the helpers they share.  A verb gets argv[0] = its own name and returns the
 * process exit status.  Every error is one line "wirt img: ..." on stderr.
 */
#ifndef WIRT_IMG_IMG_INT_H
#define WIRT_IMG_IMG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "util/compiler.h"

/* Exit statuses: usage errors (bad flags, sizes, format names) and operational failures. */
enum { IMG_EXIT_OK = 0, IMG_EXIT_FAIL = 1, IMG_EXIT_USAGE = 2 };

int img_create(int argc, char **argv);
int img_info(int argc, char **argv);
int img_check(int argc, char **argv);
int img_convert(int argc, char **argv);
int img_resize(int argc, char **argv);
int img_snapshot(int argc, char **argv);
int img_commit(int argc, char **argv);
int img_rebase(int argc, char **argv);
int img_map(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_measure(int argc, char **argv);

/* Prints "wirt img: <message>" on stderr. */
void img_err(const char *fmt, ...) PRINTF_FMT(1, 2);

/* Reports getopt's '?' (unknown option) or ':' (missing argument; optstrings start with ':')
 * for the option just parsed; returns IMG_EXIT_USAGE. */
int img_bad_option(const char *verb, int c, char **argv);

/* Canonical driver name for a user-supplied format ("vhd" -> "vpc"); NULL if wirt has no such
 * driver.  NULL in, NULL out (probe). */
const char *img_format(const char *name, bool *ok);

/* img_format for a verb's option: on an unknown name prints "<verb>: unknown <what> '<name>'"
 * (what: "format", "backing format", ...) and returns false. */
bool img_resolve_format(const char *verb, const char *what, const char *name, const char **out);

/* For verbs taking exactly one FILE after the options (at argv[optind]): otherwise prints
 * "<verb>: missing file name" or "<verb>: too many arguments" and returns false. */
bool img_one_file_operand(const char *verb, int argc);

/* Parses --output: "human" or "json" (sets *json); anything else is reported, returns false. */
bool img_parse_output(const char *verb, const char *output, bool *json);

/* Parses a size with qemu-img's suffixes; false on bad syntax. */
bool img_parse_size(const char *text, uint64_t *out);

/* Creation options given with -o k=v,... (help= is not supported). */
struct img_opts {
    struct image_create_opts c;
    bool have_cluster_size;
    char *backing_file, *backing_fmt; /* from -o backing_file=/backing_fmt= */
};
/* Parses "-o" text into o (may be called several times); on error prints and returns false. */
bool img_parse_opts(const char *verb, const char *text, struct img_opts *o);

/* Opens an image, printing "wirt img: <err>" on failure. */
int img_open(const char *path, const char *fmt, unsigned flags, struct block_dev **out);

/* Resolves a backing file name the way qcow2 does: relative to the directory of `image`.
 * Writes into out (PATH_MAX). */
void img_backing_path(const char *image, const char *backing, char *out, size_t outlen);

/* image_block_status with a fallback for drivers without it: everything is allocated data. */
int img_block_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum,
                     unsigned *status, uint64_t *host);

/* True if buf[0..len) is all zero bytes. */
bool img_is_zero(const void *buf, size_t len);

/* "64 MiB", "1.5 GiB", "512 B" the way qemu-img prints sizes. */
void img_human_size(uint64_t v, char *out, size_t outlen);

/* Host bytes allocated to a file (st_blocks * 512), 0 if it cannot be stat'ed. */
uint64_t img_file_allocated(const char *path);

/* Prints a json-c object the way the verbs print JSON (pretty, no slash escaping). */
struct json_object;
void img_print_json(struct json_object *obj);

/* Prints the snapshot table (header and rows) the way qemu-img does. */
void img_print_snapshots(const struct image_snapshot *s, unsigned n);

/* Progress for -p: prints "    (xx.xx/100%)\r". */
void img_progress(bool enabled, uint64_t done, uint64_t total);
/* Ends the -p line at 100% once the work succeeded. */
void img_progress_done(bool enabled);

/* The first image of bd's chain (bd, its backing file, ...) that is the file `st` describes
 * (same device and inode), or NULL: how verbs spot a file already in a chain. */
struct stat;
struct block_dev *img_chain_find(struct block_dev *bd, const struct stat *st);

/* For a verb about to write `target`: false (after printing why) if it is one of the n images
 * in srcs or in one of their backing chains, by device and inode, so that neither another
 * name, a symlink nor a hard link can make a verb overwrite what it reads.  A target that
 * does not exist yet is fine. */
bool img_target_not_source(const char *verb, const char *target, struct block_dev *const *srcs,
                           unsigned n);

/* For a verb about to record a backing file name: false (after printing why) if it is empty,
 * longer than BLOCK_BACKING_NAME_MAX or names an unknown format. */
bool img_backing_name_ok(const char *verb, const char *backing, const char *backing_fmt);

#endif
