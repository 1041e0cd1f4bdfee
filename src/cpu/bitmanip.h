/* SPDX-License-Identifier: MIT */
/*
 * The scalar bit-manipulation and conditional-zero operations (Zba, Zbb,
 * Zbc, Zbs, Zbkb, Zbkc, Zbkx, Zicond) as pure functions of two operands:
 * a = x[rs1], b = x[rs2] for the register forms (DECODE_OPS_RR) and the
 * immediate (shift amount) for the others (DECODE_OPS_RI; 0 for the unary
 * ones).  The interpreter's handlers and the JIT's calls share them, so
 * the semantics are written once.
 */
#ifndef WIRT_CPU_BITMANIP_H
#define WIRT_CPU_BITMANIP_H

#include <stdint.h>

#include "cpu/alu.h"

/* ---- Zba ---- */
static inline uint64_t bm_SH1ADD(uint64_t a, uint64_t b)
{
    return (a << 1) + b;
}
static inline uint64_t bm_SH2ADD(uint64_t a, uint64_t b)
{
    return (a << 2) + b;
}
static inline uint64_t bm_SH3ADD(uint64_t a, uint64_t b)
{
    return (a << 3) + b;
}
static inline uint64_t bm_ADD_UW(uint64_t a, uint64_t b)
{
    return (uint64_t)(uint32_t)a + b;
}
static inline uint64_t bm_SH1ADD_UW(uint64_t a, uint64_t b)
{
    return ((uint64_t)(uint32_t)a << 1) + b;
}
static inline uint64_t bm_SH2ADD_UW(uint64_t a, uint64_t b)
{
    return ((uint64_t)(uint32_t)a << 2) + b;
}
static inline uint64_t bm_SH3ADD_UW(uint64_t a, uint64_t b)
{
    return ((uint64_t)(uint32_t)a << 3) + b;
}
static inline uint64_t bm_SLLI_UW(uint64_t a, uint64_t imm)
{
    return (uint64_t)(uint32_t)a << (imm & 63);
}

/* ---- Zbb / Zbkb ---- */
static inline uint64_t bm_ANDN(uint64_t a, uint64_t b)
{
    return a & ~b;
}
static inline uint64_t bm_ORN(uint64_t a, uint64_t b)
{
    return a | ~b;
}
static inline uint64_t bm_XNOR(uint64_t a, uint64_t b)
{
    return ~(a ^ b);
}
static inline uint64_t bm_CLZ(uint64_t a, uint64_t imm)
{
    (void)imm;
    return a ? (uint64_t)__builtin_clzll(a) : 64;
}
static inline uint64_t bm_CLZW(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32;
}
static inline uint64_t bm_CTZ(uint64_t a, uint64_t imm)
{
    (void)imm;
    return a ? (uint64_t)__builtin_ctzll(a) : 64;
}
static inline uint64_t bm_CTZW(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32;
}
static inline uint64_t bm_CPOP(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint64_t)__builtin_popcountll(a);
}
static inline uint64_t bm_CPOPW(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint64_t)__builtin_popcount((uint32_t)a);
}
static inline uint64_t bm_MAX(uint64_t a, uint64_t b)
{
    return (int64_t)a < (int64_t)b ? b : a;
}
static inline uint64_t bm_MAXU(uint64_t a, uint64_t b)
{
    return a < b ? b : a;
}
static inline uint64_t bm_MIN(uint64_t a, uint64_t b)
{
    return (int64_t)a < (int64_t)b ? a : b;
}
static inline uint64_t bm_MINU(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static inline uint64_t bm_SEXT_B(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint64_t)(int64_t)(int8_t)a;
}
static inline uint64_t bm_SEXT_H(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint64_t)(int64_t)(int16_t)a;
}
static inline uint64_t bm_ZEXT_H(uint64_t a, uint64_t imm)
{
    (void)imm;
    return (uint16_t)a;
}
static inline uint64_t bm_ROL(uint64_t a, uint64_t b)
{
    unsigned n = (unsigned)b & 63;
    return (a << n) | (a >> ((64 - n) & 63));
}
static inline uint64_t bm_ROR(uint64_t a, uint64_t b)
{
    unsigned n = (unsigned)b & 63;
    return (a >> n) | (a << ((64 - n) & 63));
}
static inline uint64_t bm_RORI(uint64_t a, uint64_t imm)
{
    return bm_ROR(a, imm);
}
static inline uint64_t bm_ROLW(uint64_t a, uint64_t b)
{
    uint32_t v = (uint32_t)a;
    unsigned n = (unsigned)b & 31;
    return SEXT32((v << n) | (v >> ((32 - n) & 31)));
}
static inline uint64_t bm_RORW(uint64_t a, uint64_t b)
{
    uint32_t v = (uint32_t)a;
    unsigned n = (unsigned)b & 31;
    return SEXT32((v >> n) | (v << ((32 - n) & 31)));
}
static inline uint64_t bm_RORIW(uint64_t a, uint64_t imm)
{
    return bm_RORW(a, imm);
}
static inline uint64_t bm_ORC_B(uint64_t a, uint64_t imm)
{
    (void)imm;
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 8)
        if ((a >> i) & 0xff)
            r |= 0xffULL << i;
    return r;
}
static inline uint64_t bm_REV8(uint64_t a, uint64_t imm)
{
    (void)imm;
    return __builtin_bswap64(a);
}
static inline uint64_t bm_BREV8(uint64_t a, uint64_t imm)
{
    (void)imm;
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i++)
        if ((a >> i) & 1)
            r |= 1ULL << ((i & ~7u) | (7 - (i & 7)));
    return r;
}
static inline uint64_t bm_PACK(uint64_t a, uint64_t b)
{
    return (uint32_t)a | (b << 32);
}
static inline uint64_t bm_PACKH(uint64_t a, uint64_t b)
{
    return (a & 0xff) | ((b & 0xff) << 8);
}
static inline uint64_t bm_PACKW(uint64_t a, uint64_t b)
{
    return SEXT32((a & 0xffff) | ((b & 0xffff) << 16));
}

/* ---- Zbc / Zbkc: carry-less multiplication ---- */
/* The 128-bit carry-less product of a and b, bit by bit: the reference,
 * and what hosts without PCLMULQDQ run. */
static inline void bm_clmul128_loop(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
    uint64_t l = 0, h = 0;
    for (unsigned i = 0; i < 64; i++)
        if ((b >> i) & 1) {
            l ^= a << i;
            h ^= i ? a >> (64 - i) : 0;
        }
    *lo = l;
    *hi = h;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* One PCLMULQDQ: the Linux kernel computes CRCs with clmul when the DT
 * lists Zbc, and the loop above cost it a measurable share of boot. */
__attribute__((target("pclmul,sse2"))) static inline void
bm_clmul128_x86(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
    __m128i p = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a),
                                     _mm_cvtsi64_si128((long long)b), 0x00);
    *lo = (uint64_t)_mm_cvtsi128_si64(p);
    *hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(p, p));
}
#endif

static inline void bm_clmul128(uint64_t a, uint64_t b, uint64_t *lo, uint64_t *hi)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("pclmul")) {
        bm_clmul128_x86(a, b, lo, hi);
        return;
    }
#endif
    bm_clmul128_loop(a, b, lo, hi);
}

static inline uint64_t bm_CLMUL(uint64_t a, uint64_t b)
{
    uint64_t lo, hi;
    bm_clmul128(a, b, &lo, &hi);
    return lo;
}
static inline uint64_t bm_CLMULH(uint64_t a, uint64_t b)
{
    uint64_t lo, hi;
    bm_clmul128(a, b, &lo, &hi);
    return hi;
}
/* Bits 126..63 of the product. */
static inline uint64_t bm_CLMULR(uint64_t a, uint64_t b)
{
    uint64_t lo, hi;
    bm_clmul128(a, b, &lo, &hi);
    return hi << 1 | lo >> 63;
}

/* ---- Zbs ---- */
static inline uint64_t bm_BCLR(uint64_t a, uint64_t b)
{
    return a & ~(1ULL << (b & 63));
}
static inline uint64_t bm_BEXT(uint64_t a, uint64_t b)
{
    return (a >> (b & 63)) & 1;
}
static inline uint64_t bm_BINV(uint64_t a, uint64_t b)
{
    return a ^ (1ULL << (b & 63));
}
static inline uint64_t bm_BSET(uint64_t a, uint64_t b)
{
    return a | (1ULL << (b & 63));
}
static inline uint64_t bm_BCLRI(uint64_t a, uint64_t imm)
{
    return bm_BCLR(a, imm);
}
static inline uint64_t bm_BEXTI(uint64_t a, uint64_t imm)
{
    return bm_BEXT(a, imm);
}
static inline uint64_t bm_BINVI(uint64_t a, uint64_t imm)
{
    return bm_BINV(a, imm);
}
static inline uint64_t bm_BSETI(uint64_t a, uint64_t imm)
{
    return bm_BSET(a, imm);
}

/* ---- Zbkx: crossbar permutations (indices past the register give 0) ---- */
static inline uint64_t bm_XPERM4(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 4) {
        unsigned idx = (unsigned)(b >> i) & 15;
        r |= ((a >> (4 * idx)) & 15) << i;
    }
    return r;
}
static inline uint64_t bm_XPERM8(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 8) {
        unsigned idx = (unsigned)(b >> i) & 0xff;
        if (idx < 8)
            r |= ((a >> (8 * idx)) & 0xff) << i;
    }
    return r;
}

/* ---- Zicond ---- */
static inline uint64_t bm_CZERO_EQZ(uint64_t a, uint64_t b)
{
    return b == 0 ? 0 : a;
}
static inline uint64_t bm_CZERO_NEZ(uint64_t a, uint64_t b)
{
    return b != 0 ? 0 : a;
}

/* ---- Zknd, Zkne, Zknh, Zksh (crypto.c) ---- */
uint64_t bm_SHA256SIG0(uint64_t a, uint64_t imm);
uint64_t bm_SHA256SIG1(uint64_t a, uint64_t imm);
uint64_t bm_SHA256SUM0(uint64_t a, uint64_t imm);
uint64_t bm_SHA256SUM1(uint64_t a, uint64_t imm);
uint64_t bm_SHA512SIG0(uint64_t a, uint64_t imm);
uint64_t bm_SHA512SIG1(uint64_t a, uint64_t imm);
uint64_t bm_SHA512SUM0(uint64_t a, uint64_t imm);
uint64_t bm_SHA512SUM1(uint64_t a, uint64_t imm);
uint64_t bm_SM3P0(uint64_t a, uint64_t imm);
uint64_t bm_SM3P1(uint64_t a, uint64_t imm);
uint64_t bm_AES64ES(uint64_t a, uint64_t b);
uint64_t bm_AES64ESM(uint64_t a, uint64_t b);
uint64_t bm_AES64DS(uint64_t a, uint64_t b);
uint64_t bm_AES64DSM(uint64_t a, uint64_t b);
uint64_t bm_AES64KS2(uint64_t a, uint64_t b);
uint64_t bm_AES64IM(uint64_t a, uint64_t imm);
uint64_t bm_AES64KS1I(uint64_t a, uint64_t rnum);

/* ---- Zksed (crypto_sm4.c): the byte select is part of the op ---- */
uint64_t bm_SM4ED0(uint64_t a, uint64_t b);
uint64_t bm_SM4ED1(uint64_t a, uint64_t b);
uint64_t bm_SM4ED2(uint64_t a, uint64_t b);
uint64_t bm_SM4ED3(uint64_t a, uint64_t b);
uint64_t bm_SM4KS0(uint64_t a, uint64_t b);
uint64_t bm_SM4KS1(uint64_t a, uint64_t b);
uint64_t bm_SM4KS2(uint64_t a, uint64_t b);
uint64_t bm_SM4KS3(uint64_t a, uint64_t b);

#endif
