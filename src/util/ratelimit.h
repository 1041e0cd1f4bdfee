/* SPDX-License-Identifier: MIT */
/*
 * Token buckets for I/O limits (disk IOPS and bandwidth, NIC bandwidth).
 *
 * A bucket fills at `rate` units a second up to `burst` units.  A request
 * may start while the level is not negative and then takes its whole cost,
 * which may drive the level below zero: the next request waits until the
 * debt is paid.  So one request larger than the burst still passes, and
 * the long-run rate is exact.  Callers serialize access to a bucket.
 */
#ifndef WIRT_UTIL_RATELIMIT_H
#define WIRT_UTIL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct token_bucket {
    uint64_t rate;  /* units per second; 0: unlimited */
    uint64_t burst; /* the most units saved up while idle */
    double level;   /* units available now; negative: a debt to wait off */
    uint64_t last_ns;
};

/* (Re)configures b; the level starts full.  burst 0: rate / 10. */
void token_bucket_set(struct token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Nanoseconds until a request may start (0: now). */
uint64_t token_bucket_delay(struct token_bucket *b, uint64_t now_ns);
/* Charges a started request's cost. */
void token_bucket_take(struct token_bucket *b, uint64_t cost);

/* A disk's limits, by the option names of --disk and vm.json. */
enum io_limit {
    IO_LIMIT_IOPS,
    IO_LIMIT_IOPS_RD,
    IO_LIMIT_IOPS_WR,
    IO_LIMIT_BPS,
    IO_LIMIT_BPS_RD,
    IO_LIMIT_BPS_WR,
    IO_LIMIT_IOPS_BURST, /* bucket size of the iops limits (0: a tenth of a second) */
    IO_LIMIT_BPS_BURST,  /* bucket size of the bps limits */
    IO_LIMIT_N,
};
struct io_limits {
    uint64_t v[IO_LIMIT_N]; /* 0: unlimited / default */
};
extern const char *const io_limit_keys[IO_LIMIT_N];

bool io_limits_empty(const struct io_limits *l);
/* The limit named key, or -1. */
int io_limit_find(const char *key);
/* Sets limit k from text: a count for iops keys, a size ("10M") for bps
 * keys; "0" or "none" removes it.  False with one line naming `what`. */
bool io_limit_set_text(struct io_limits *l, int k, const char *val, const char *what, char *err,
                       size_t errlen);
/* {"iops": N, "bps": N, ...}: numbers or size strings; keys not named
 * keep their value. */
bool io_limits_from_json(struct io_limits *l, json_object *o, const char *what, char *err,
                         size_t errlen);
/* Only the limits that are set. */
json_object *io_limits_to_json(const struct io_limits *l);

#endif
