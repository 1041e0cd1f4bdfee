/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 encoder the block compiler emits with (a header so that these
 * one-line emitters inline into the compiler): registers, condition codes,
 * ModRM/REX forms, forward jumps and their patching, and the offsets of
 * struct hart fields that generated code addresses from rbx.
 */
#ifndef WIRT_CPU_JIT_X86_H
#define WIRT_CPU_JIT_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/hart_internal.h"

/* ---- x86-64 encoding ---- */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7, CC_L = 12, CC_GE = 13 };
enum { F_W = 1, F_66 = 2, F_BYTE = 4, F_F3 = 8 };
/* Group-1 (0x81/0x83) and shift (0xc1/0xd3) opcode extensions. */
enum { G_ADD = 0, G_OR = 1, G_ADC = 2, G_SBB = 3, G_AND = 4, G_SUB = 5, G_XOR = 6, G_CMP = 7 };
enum { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct emit {
    uint8_t *p;
};

static inline void e8(struct emit *e, unsigned v)
{
    *e->p++ = (uint8_t)v;
}
static inline void e32(struct emit *e, uint32_t v)
{
    memcpy(e->p, &v, 4);
    e->p += 4;
}
static inline void e64(struct emit *e, uint64_t v)
{
    memcpy(e->p, &v, 8);
    e->p += 8;
}

static inline void prefix(struct emit *e, unsigned f, int reg, int rm, unsigned opc)
{
    if (f & F_66)
        e8(e, 0x66);
    if (f & F_F3)
        e8(e, 0xf3);
    unsigned rex = 0x40 | ((f & F_W) ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
    if (rex != 0x40 || (f & F_BYTE))
        e8(e, rex);
    if (opc > 0xff)
        e8(e, opc >> 8);
    e8(e, opc & 0xff);
}

static inline void modrm_mem(struct emit *e, int reg, int base, int32_t disp)
{
    unsigned r = (unsigned)(reg & 7) << 3, b = (unsigned)base & 7;
    unsigned sib = b == 4;
    if (disp == 0 && b != 5) {
        e8(e, r | b);
        if (sib)
            e8(e, 0x24);
    } else if (disp >= -128 && disp <= 127) {
        e8(e, 0x40 | r | b);
        if (sib)
            e8(e, 0x24);
        e8(e, (unsigned)disp & 0xff);
    } else {
        e8(e, 0x80 | r | b);
        if (sib)
            e8(e, 0x24);
        e32(e, (uint32_t)disp);
    }
}

/* opc reg, [base + disp] */
static inline void op_mem(struct emit *e, unsigned f, unsigned opc, int reg, int base, int32_t disp)
{
    prefix(e, f, reg, base, opc);
    modrm_mem(e, reg, base, disp);
}

/* Scalar-double SSE op xmm, [base + disp] (F2 0F opc); xmm0..7 only. */
static inline void sse_sd(struct emit *e, unsigned opc, int xmm, int base, int32_t disp)
{
    e8(e, 0xf2);
    op_mem(e, 0, 0x0f00 | opc, xmm, base, disp);
}

/* VEX-encoded vfm*213sd xmm0, xmm1, [rbx + disp]: xmm0 = xmm1 * xmm0 +- [m] */
static inline void fma213sd_xmm0_xmm1(struct emit *e, unsigned opc, int32_t disp)
{
    e8(e, 0xc4);
    e8(e, 0xe2); /* R X B not extended, map 0F38 */
    e8(e, 0xf1); /* W1, vvvv = ~xmm1, L0, pp = 66 */
    e8(e, opc);
    modrm_mem(e, 0, RBX, disp);
}

/* opc reg, rm (register direct) */
static inline void op_rr(struct emit *e, unsigned f, unsigned opc, int reg, int rm)
{
    prefix(e, f, reg, rm, opc);
    e8(e, 0xc0 | (unsigned)(reg & 7) << 3 | (unsigned)(rm & 7));
}

static inline bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}
static inline bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* group-1 op rm, imm32 */
static inline void alu_ri(struct emit *e, unsigned f, int ext, int rm, int32_t imm)
{
    if (fits8(imm)) {
        op_rr(e, f, 0x83, ext, rm);
        e8(e, (unsigned)imm & 0xff);
    } else {
        op_rr(e, f, 0x81, ext, rm);
        e32(e, (uint32_t)imm);
    }
}

static inline void shift_ri(struct emit *e, unsigned f, int ext, int rm, unsigned n)
{
    op_rr(e, f, 0xc1, ext, rm);
    e8(e, n);
}

static inline void mov_ri(struct emit *e, int reg, uint64_t v)
{
    if (v <= UINT32_MAX) { /* mov r32, imm32 zero-extends */
        if (reg >= 8)
            e8(e, 0x41);
        e8(e, 0xb8 + (unsigned)(reg & 7));
        e32(e, (uint32_t)v);
    } else if (fits32((int64_t)v)) {
        op_rr(e, F_W, 0xc7, 0, reg);
        e32(e, (uint32_t)v);
    } else {
        e8(e, 0x48 | ((reg >> 3) & 1));
        e8(e, 0xb8 + (unsigned)(reg & 7));
        e64(e, v);
    }
}

static inline uint8_t *jcc_fwd(struct emit *e, int cc)
{
    e8(e, 0x0f);
    e8(e, 0x80 | (unsigned)cc);
    e32(e, 0);
    return e->p - 4;
}
static inline uint8_t *jmp_fwd(struct emit *e)
{
    e8(e, 0xe9);
    e32(e, 0);
    return e->p - 4;
}
static inline void patch(uint8_t *fix, const uint8_t *target)
{
    int32_t rel = (int32_t)(target - (fix + 4));
    memcpy(fix, &rel, 4);
}
static inline void jcc_to(struct emit *e, int cc, const uint8_t *target)
{
    patch(jcc_fwd(e, cc), target);
}
static inline void jmp_to(struct emit *e, const uint8_t *target)
{
    patch(jmp_fwd(e), target);
}

static inline void call_abs(struct emit *e, const void *fn)
{
    mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
    e8(e, 0xff);
    e8(e, 0xd0); /* call rax */
}

#define XOFF(r)  ((int32_t)(offsetof(struct hart, arch.x) + 8 * (r)))
#define FOFF(r)  ((int32_t)(offsetof(struct hart, arch.fp) + offsetof(struct fpu_regs, f) + 8 * (r)))
#define HOFF(fl) ((int32_t)offsetof(struct hart, fl))

static inline void ld_x(struct emit *e, int reg, unsigned xr)
{
    op_mem(e, F_W, 0x8b, reg, RBX, XOFF(xr));
}
static inline void st_x(struct emit *e, int reg, unsigned xr)
{
    op_mem(e, F_W, 0x89, reg, RBX, XOFF(xr));
}
static inline void lea(struct emit *e, int reg, int base, int32_t disp)
{
    op_mem(e, F_W, 0x8d, reg, base, disp);
}

/* lea reg, [base + index << scale] (index is never rsp) */
static inline void lea_sib(struct emit *e, int reg, int base, int index, unsigned scale)
{
    bool disp8 = (base & 7) == RBP; /* rbp/r13 as base need a displacement */
    e8(e, 0x48 | (unsigned)(reg >> 3) << 2 | (unsigned)(index >> 3) << 1 | (unsigned)(base >> 3));
    e8(e, 0x8d);
    e8(e, (disp8 ? 0x44u : 0x04u) | (unsigned)(reg & 7) << 3);
    e8(e, scale << 6 | (unsigned)(index & 7) << 3 | (unsigned)(base & 7));
    if (disp8)
        e8(e, 0);
}

static inline void mov_rr(struct emit *e, int dst, int src)
{
    op_rr(e, F_W, 0x89, src, dst);
}
static inline void mov_rr32(struct emit *e, int dst, int src)
{
    op_rr(e, 0, 0x89, src, dst);
}

#endif
