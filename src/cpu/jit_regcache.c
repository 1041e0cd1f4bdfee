/* SPDX-License-Identifier: MIT */
/*
 * The block compiler's register cache: which guest registers live in
 * which host registers inside a block (see jit_internal.h).
 */
#include <string.h>

#include "cpu/jit_internal.h"

#if defined(__x86_64__)

void rc_clear(struct regcache *rc)
{
    memset(rc, 0, sizeof(*rc));
    memset(rc->guest, -1, sizeof(rc->guest));
}

void rc_writeback(struct emit *e, struct regcache *rc)
{
    for (int i = 0; i < NCACHE; i++)
        if (rc->guest[i] >= 0 && rc->dirty[i]) {
            st_x(e, cache_regs[i], (unsigned)rc->guest[i]);
            rc->dirty[i] = false;
        }
}

/* After a call into C: the caller-saved cache registers are garbage. */
void rc_reload(struct emit *e, const struct regcache *rc, int except)
{
    for (int i = 0; i < NCACHE; i++)
        if (rc->guest[i] >= 0 && i != except)
            ld_x(e, cache_regs[i], (unsigned)rc->guest[i]);
}

/* Turns cache state `from` into `to` at a jump between two points of
 * compiled code: stores what `to` does not keep dirty in the same
 * register, then loads what `to` holds that `from` had elsewhere. */
void rc_reconcile(struct emit *e, const struct regcache *from, const struct regcache *to)
{
    for (int i = 0; i < NCACHE; i++) {
        bool same = from->guest[i] >= 0 && from->guest[i] == to->guest[i];
        if (from->guest[i] >= 0 && from->dirty[i] && !(same && to->dirty[i]))
            st_x(e, cache_regs[i], (unsigned)from->guest[i]);
    }
    for (int i = 0; i < NCACHE; i++)
        if (to->guest[i] >= 0 && from->guest[i] != to->guest[i])
            ld_x(e, cache_regs[i], (unsigned)to->guest[i]);
}

int rc_slot(struct jc *c, unsigned g, bool load)
{
    struct regcache *rc = &c->rc;
    int i, victim = 0;
    for (i = 0; i < NCACHE; i++)
        if (rc->guest[i] == (int)g)
            goto found;
    for (i = 0; i < NCACHE; i++) {
        if (rc->guest[i] < 0)
            break;
        if (rc->used[i] < rc->used[victim])
            victim = i;
    }
    if (i == NCACHE) {
        i = victim;
        if (rc->dirty[i])
            st_x(&c->e, cache_regs[i], (unsigned)rc->guest[i]);
    }
    rc->guest[i] = (int8_t)g;
    rc->dirty[i] = false;
    if (load)
        ld_x(&c->e, cache_regs[i], g);
found:
    rc->used[i] = ++c->stamp;
    return i;
}

/* Guest registers back to struct hart, and forgotten (before calls). */
void rc_flush(struct jc *c)
{
    rc_writeback(&c->e, &c->rc);
    rc_clear(&c->rc);
}

#endif
