/* SPDX-License-Identifier: MIT */
/* JSON documents on disk: bounded reads with a line number in every parse
 * error, atomic owner-only writes. */
#ifndef WIRT_UTIL_JSON_FILE_H
#define WIRT_UTIL_JSON_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* Reads a regular file of at most max_size bytes holding one JSON value
 * nested at most max_depth deep (nothing but white space after it).
 * Returns it (the caller puts it) or NULL with "PATH: reason" in err. */
json_object *json_read_file(const char *path, size_t max_size, int max_depth, char *err,
                            size_t errlen);

/* Writes o pretty-printed with a final newline: 0600, temp + fsync + rename. */
bool json_write_file(const char *path, json_object *o, char *err, size_t errlen);

#endif
