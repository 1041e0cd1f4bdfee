/* SPDX-License-Identifier: MIT */
/*
 * The M-extension operations whose RISC-V results differ from C's (division
 * by zero, overflow) or that C cannot write as one expression.  Shared by
 * the interpreter and the JIT, which calls them for the rare divisions.
 */
#ifndef WIRT_CPU_ALU_H
#define WIRT_CPU_ALU_H

#include <stdint.h>

#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))

static inline uint64_t alu_mulhsu(uint64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64);
}
static inline uint64_t alu_div(uint64_t a, uint64_t b)
{
    if (b == 0)
        return UINT64_MAX;
    if ((int64_t)a == INT64_MIN && (int64_t)b == -1)
        return a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}
static inline uint64_t alu_divu(uint64_t a, uint64_t b)
{
    return b == 0 ? UINT64_MAX : a / b;
}
static inline uint64_t alu_rem(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if ((int64_t)a == INT64_MIN && (int64_t)b == -1)
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}
static inline uint64_t alu_remu(uint64_t a, uint64_t b)
{
    return b == 0 ? a : a % b;
}
static inline uint64_t alu_divw(uint64_t a, uint64_t b)
{
    if ((int32_t)b == 0)
        return UINT64_MAX;
    if ((int32_t)a == INT32_MIN && (int32_t)b == -1)
        return SEXT32(a);
    return SEXT32((int32_t)a / (int32_t)b);
}
static inline uint64_t alu_divuw(uint64_t a, uint64_t b)
{
    return (uint32_t)b == 0 ? UINT64_MAX : SEXT32((uint32_t)a / (uint32_t)b);
}
static inline uint64_t alu_remw(uint64_t a, uint64_t b)
{
    if ((int32_t)b == 0)
        return SEXT32(a);
    if ((int32_t)a == INT32_MIN && (int32_t)b == -1)
        return 0;
    return SEXT32((int32_t)a % (int32_t)b);
}
static inline uint64_t alu_remuw(uint64_t a, uint64_t b)
{
    return (uint32_t)b == 0 ? SEXT32(a) : SEXT32((uint32_t)a % (uint32_t)b);
}

#endif
