/* SPDX-License-Identifier: MIT */
#include "util/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/size.h"

void token_bucket_set(struct token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
    b->rate = rate;
    b->burst = burst ? burst : (rate / 10 ? rate / 10 : 1);
    b->level = (double)b->burst;
    b->last_ns = now_ns;
}

static void refill(struct token_bucket *b, uint64_t now_ns)
{
    if (now_ns > b->last_ns) {
        b->level += (double)(now_ns - b->last_ns) * (double)b->rate / 1e9;
        if (b->level > (double)b->burst)
            b->level = (double)b->burst;
    }
    b->last_ns = now_ns;
}

uint64_t token_bucket_delay(struct token_bucket *b, uint64_t now_ns)
{
    if (!b->rate)
        return 0;
    refill(b, now_ns);
    if (b->level >= 0)
        return 0;
    double ns = -b->level * 1e9 / (double)b->rate;
    return ns < 1.0 ? 1 : (uint64_t)ns + 1;
}

void token_bucket_take(struct token_bucket *b, uint64_t cost)
{
    if (b->rate)
        b->level -= (double)cost;
}

const char *const io_limit_keys[IO_LIMIT_N] = {"iops",   "iops-rd", "iops-wr",    "bps",
                                               "bps-rd", "bps-wr",  "iops-burst", "bps-burst"};

static bool is_bytes(int k)
{
    return k == IO_LIMIT_BPS || k == IO_LIMIT_BPS_RD || k == IO_LIMIT_BPS_WR ||
           k == IO_LIMIT_BPS_BURST;
}

bool io_limits_empty(const struct io_limits *l)
{
    for (int k = 0; k < IO_LIMIT_N; k++)
        if (l->v[k])
            return false;
    return true;
}

int io_limit_find(const char *key)
{
    for (int k = 0; k < IO_LIMIT_N; k++)
        if (!strcmp(key, io_limit_keys[k]))
            return k;
    return -1;
}

/* A ceiling far above any disk, so rate arithmetic in doubles stays exact enough. */
#define IO_LIMIT_MAX (1ull << 50)

bool io_limit_set_text(struct io_limits *l, int k, const char *val, const char *what, char *err,
                       size_t errlen)
{
    uint64_t n = 0;
    bool ok;
    if (!strcmp(val, "none") || !*val) {
        ok = true;
    } else if (is_bytes(k)) {
        ok = parse_size(val, &n);
    } else {
        char *end;
        unsigned long long x = strtoull(val, &end, 10);
        ok = *val >= '0' && *val <= '9' && !*end;
        n = x;
    }
    if (!ok || n > IO_LIMIT_MAX) {
        snprintf(err, errlen, "%s: %s=%.32s: expected %s (0 or none: no limit)", what,
                 io_limit_keys[k], val,
                 is_bytes(k) ? "bytes per second, like 10M" : "operations per second");
        return false;
    }
    l->v[k] = n;
    return true;
}

bool io_limits_from_json(struct io_limits *l, json_object *o, const char *what, char *err,
                         size_t errlen)
{
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(err, errlen, "%s: must be an object like {\"iops\": 100, \"bps\": \"10M\"}", what);
        return false;
    }
    struct io_limits next = *l;
    json_object_object_foreach(o, key, v)
    {
        int k = io_limit_find(key);
        if (k < 0) {
            snprintf(err, errlen,
                     "%s: unknown limit \"%.32s\" (iops, iops-rd, iops-wr, bps, bps-rd, bps-wr, "
                     "iops-burst, bps-burst)",
                     what, key);
            return false;
        }
        char text[64];
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
            snprintf(text, sizeof(text), "%lld", (long long)json_object_get_int64(v));
        else if (json_object_is_type(v, json_type_string))
            snprintf(text, sizeof(text), "%s", json_object_get_string(v));
        else
            snprintf(text, sizeof(text), "?");
        if (!io_limit_set_text(&next, k, text, what, err, errlen))
            return false;
    }
    *l = next;
    return true;
}

json_object *io_limits_to_json(const struct io_limits *l)
{
    json_object *o = json_object_new_object();
    for (int k = 0; k < IO_LIMIT_N; k++)
        if (l->v[k])
            json_object_object_add(o, io_limit_keys[k], json_object_new_int64((int64_t)l->v[k]));
    return o;
}
