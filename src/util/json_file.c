/* SPDX-License-Identifier: MIT */
#include "util/json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

/* Line number of a byte offset, for parse errors a human can find. */
static unsigned line_of(const char *text, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

json_object *json_read_file(const char *path, size_t max_size, int max_depth, char *err,
                            size_t errlen)
{
    int fd = open_regular(path, O_RDONLY, 0, err, errlen);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max_size) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file of at most %zu KiB", path, max_size >> 10);
        return NULL;
    }
    char *text = malloc((size_t)st.st_size + 1);
    ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    if (n < 0) {
        free(text);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(text ? errno : ENOMEM));
        return NULL;
    }
    text[n] = '\0';
    json_tokener *tok = json_tokener_new_ex(max_depth);
    if (!tok) {
        free(text);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(ENOMEM));
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    bool trailing = false;
    for (size_t i = end; o && i < (size_t)n; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r')
            trailing = true;
    if (!o || jerr != json_tokener_success || trailing) {
        snprintf(err, errlen, "%s: invalid JSON at line %u: %s", path, line_of(text, end),
                 trailing ? "unexpected data after the document"
                 : jerr == json_tokener_continue || jerr == json_tokener_success
                     ? "unexpected end of file"
                     : json_tokener_error_desc(jerr));
        json_object_put(o);
        o = NULL;
    }
    free(text);
    return o;
}

bool json_write_file(const char *path, json_object *o, char *err, size_t errlen)
{
    size_t len;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *buf = malloc(len + 1);
    if (!buf) {
        snprintf(err, errlen, "cannot write %s: out of memory", path);
        return false;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    bool ok = write_file_atomic(path, buf, len + 1, err, errlen);
    free(buf);
    return ok;
}
