/* SPDX-License-Identifier: MIT */
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

void state_writer_init(struct state_writer *w)
{
    memset(w, 0, sizeof(*w));
    w->section_start = SIZE_MAX;
}

void state_writer_free(struct state_writer *w)
{
    free(w->buf);
    state_writer_init(w);
}

void state_put_bytes(struct state_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->failed = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_le(struct state_writer *w, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    state_put_bytes(w, b, bytes);
}

void state_put_u8(struct state_writer *w, uint8_t v)
{
    put_le(w, v, 1);
}
void state_put_u16(struct state_writer *w, uint16_t v)
{
    put_le(w, v, 2);
}
void state_put_u32(struct state_writer *w, uint32_t v)
{
    put_le(w, v, 4);
}
void state_put_u64(struct state_writer *w, uint64_t v)
{
    put_le(w, v, 8);
}

/* Section layout: u8 name length, name bytes, u32 version, u64 payload length, payload. */
void state_begin_section(struct state_writer *w, const char *name, uint32_t version)
{
    size_t n = strlen(name);
    if (n > 255)
        n = 255;
    state_put_u8(w, (uint8_t)n);
    state_put_bytes(w, name, n);
    state_put_u32(w, version);
    w->section_start = w->len;
    state_put_u64(w, 0);
}

void state_end_section(struct state_writer *w)
{
    if (w->failed || w->section_start == SIZE_MAX)
        return;
    uint64_t payload = w->len - w->section_start - 8;
    for (unsigned i = 0; i < 8; i++)
        w->buf[w->section_start + i] = (uint8_t)(payload >> (8 * i));
    w->section_start = SIZE_MAX;
}

void state_reader_init(struct state_reader *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->section_end = len;
    r->in_section = false;
    r->failed = false;
}

void state_get_bytes(struct state_reader *r, void *p, size_t n)
{
    if (r->failed || n > r->section_end - r->pos) {
        r->failed = true;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->buf + r->pos, n);
    r->pos += n;
}

static uint64_t get_le(struct state_reader *r, unsigned bytes)
{
    uint8_t b[8];
    state_get_bytes(r, b, bytes);
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

uint8_t state_get_u8(struct state_reader *r)
{
    return (uint8_t)get_le(r, 1);
}
uint16_t state_get_u16(struct state_reader *r)
{
    return (uint16_t)get_le(r, 2);
}
uint32_t state_get_u32(struct state_reader *r)
{
    return (uint32_t)get_le(r, 4);
}
uint64_t state_get_u64(struct state_reader *r)
{
    return get_le(r, 8);
}

bool state_next_section(struct state_reader *r, char *name, size_t name_size, uint32_t *version)
{
    if (r->failed)
        return false;
    if (r->in_section)
        r->pos = r->section_end; /* skip what the loader did not read */
    r->in_section = false;
    r->section_end = r->len;
    if (r->pos >= r->len)
        return false;
    uint8_t n = state_get_u8(r);
    char tmp[256];
    state_get_bytes(r, tmp, n);
    *version = state_get_u32(r);
    uint64_t payload = state_get_u64(r);
    if (r->failed || payload > r->len - r->pos) {
        r->failed = true;
        return false;
    }
    size_t copy = n < name_size - 1 ? n : name_size - 1;
    memcpy(name, tmp, copy);
    name[copy] = '\0';
    r->section_end = r->pos + payload;
    r->in_section = true;
    return true;
}
