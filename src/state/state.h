/* SPDX-License-Identifier: MIT */
/*
 * The state stream: what snapshots and migration are made of.
 *
 * A stream is a sequence of named, versioned sections.  Each device's
 * save() writes its fields into the section the machine opened for it; its
 * load() reads them back in the same order.  All integers are little-endian
 * fixed width so that a stream moves between hosts.  Readers never trust
 * the stream: every get reports truncation and the caller checks
 * state_reader_ok() once at the end.
 */
#ifndef WIRT_STATE_STATE_H
#define WIRT_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state_writer {
    uint8_t *buf;
    size_t len, cap;
    size_t section_start; /* offset of the open section's length field */
    bool failed;          /* out of memory */
};

struct state_reader {
    const uint8_t *buf;
    size_t len, pos;
    size_t section_end; /* end of the section being read */
    bool in_section;
    bool failed; /* truncated or malformed */
};

void state_writer_init(struct state_writer *w);
void state_writer_free(struct state_writer *w);
void state_begin_section(struct state_writer *w, const char *name, uint32_t version);
void state_end_section(struct state_writer *w);
void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bytes(struct state_writer *w, const void *p, size_t n);

void state_reader_init(struct state_reader *r, const void *buf, size_t len);
/* Finds the next section; returns false at the end of the stream or on error. */
bool state_next_section(struct state_reader *r, char *name, size_t name_size, uint32_t *version);
uint8_t state_get_u8(struct state_reader *r);
uint16_t state_get_u16(struct state_reader *r);
uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
void state_get_bytes(struct state_reader *r, void *p, size_t n);
static inline bool state_reader_ok(const struct state_reader *r)
{
    return !r->failed;
}

#endif
