/* SPDX-License-Identifier: MIT */
/*
 * A tiny RISC-V encoder and a test machine (RAM + one hart) for the CPU
 * unit tests, so they need no cross toolchain.
 */
#ifndef WIRT_TEST_CPU_ASM_H
#define WIRT_TEST_CPU_ASM_H

#include <stdint.h>
#include <string.h>

#include "cpu/hart_internal.h"
#include "host/vclock.h"
#include "mem/bus.h"

static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                             unsigned op)
{
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5 & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | op;
}
static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12 & 1) << 31) | ((u >> 5 & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
           (f3 << 12) | ((u >> 1 & 0xf) << 8) | ((u >> 11 & 1) << 7) | 0x63;
}
static inline uint32_t enc_u(int32_t imm, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfffff000u) | (rd << 7) | op;
}
static inline uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20 & 1) << 31) | ((u >> 1 & 0x3ff) << 21) | ((u >> 11 & 1) << 20) |
           ((u >> 12 & 0xff) << 12) | (rd << 7) | 0x6f;
}

#define ADDI(rd, rs1, imm)        enc_i(imm, rs1, 0, rd, 0x13)
#define ADDIW(rd, rs1, imm)       enc_i(imm, rs1, 0, rd, 0x1b)
#define SLLI(rd, rs1, sh)         enc_i(sh, rs1, 1, rd, 0x13)
#define SRLI(rd, rs1, sh)         enc_i(sh, rs1, 5, rd, 0x13)
#define SRAI(rd, rs1, sh)         enc_i(0x400 | (sh), rs1, 5, rd, 0x13)
#define ORI(rd, rs1, imm)         enc_i(imm, rs1, 6, rd, 0x13)
#define ADD(rd, a, b)             enc_r(0, b, a, 0, rd, 0x33)
#define SUB(rd, a, b)             enc_r(0x20, b, a, 0, rd, 0x33)
#define SLT(rd, a, b)             enc_r(0, b, a, 2, rd, 0x33)
#define SLTU(rd, a, b)            enc_r(0, b, a, 3, rd, 0x33)
#define MUL(rd, a, b)             enc_r(1, b, a, 0, rd, 0x33)
#define MULH(rd, a, b)            enc_r(1, b, a, 1, rd, 0x33)
#define MULHSU(rd, a, b)          enc_r(1, b, a, 2, rd, 0x33)
#define MULHU(rd, a, b)           enc_r(1, b, a, 3, rd, 0x33)
#define DIV(rd, a, b)             enc_r(1, b, a, 4, rd, 0x33)
#define DIVU(rd, a, b)            enc_r(1, b, a, 5, rd, 0x33)
#define REM(rd, a, b)             enc_r(1, b, a, 6, rd, 0x33)
#define REMU(rd, a, b)            enc_r(1, b, a, 7, rd, 0x33)
#define DIVW(rd, a, b)            enc_r(1, b, a, 4, rd, 0x3b)
#define REMW(rd, a, b)            enc_r(1, b, a, 6, rd, 0x3b)
#define ADDW(rd, a, b)            enc_r(0, b, a, 0, rd, 0x3b)
#define SRAW(rd, a, b)            enc_r(0x20, b, a, 5, rd, 0x3b)
#define LUI(rd, imm)              enc_u(imm, rd, 0x37)
#define AUIPC(rd, imm)            enc_u(imm, rd, 0x17)
#define JAL(rd, off)              enc_j(off, rd)
#define JALR(rd, rs1, off)        enc_i(off, rs1, 0, rd, 0x67)
#define BEQ(a, b, off)            enc_b(off, b, a, 0)
#define BNE(a, b, off)            enc_b(off, b, a, 1)
#define BLT(a, b, off)            enc_b(off, b, a, 4)
#define BGEU(a, b, off)           enc_b(off, b, a, 7)
#define LB(rd, rs1, off)          enc_i(off, rs1, 0, rd, 0x03)
#define LH(rd, rs1, off)          enc_i(off, rs1, 1, rd, 0x03)
#define LW(rd, rs1, off)          enc_i(off, rs1, 2, rd, 0x03)
#define LD(rd, rs1, off)          enc_i(off, rs1, 3, rd, 0x03)
#define LBU(rd, rs1, off)         enc_i(off, rs1, 4, rd, 0x03)
#define LHU(rd, rs1, off)         enc_i(off, rs1, 5, rd, 0x03)
#define LWU(rd, rs1, off)         enc_i(off, rs1, 6, rd, 0x03)
#define SB(rs2, rs1, off)         enc_s(off, rs2, rs1, 0, 0x23)
#define SH(rs2, rs1, off)         enc_s(off, rs2, rs1, 1, 0x23)
#define SW(rs2, rs1, off)         enc_s(off, rs2, rs1, 2, 0x23)
#define SD(rs2, rs1, off)         enc_s(off, rs2, rs1, 3, 0x23)
#define FLD(rd, rs1, off)         enc_i(off, rs1, 3, rd, 0x07)
#define FLW(rd, rs1, off)         enc_i(off, rs1, 2, rd, 0x07)
#define FSD(rs2, rs1, off)        enc_s(off, rs2, rs1, 3, 0x27)
#define CSRRW(rd, csr, rs1)       enc_i(csr, rs1, 1, rd, 0x73)
#define CSRRS(rd, csr, rs1)       enc_i(csr, rs1, 2, rd, 0x73)
#define CSRRC(rd, csr, rs1)       enc_i(csr, rs1, 3, rd, 0x73)
#define CSRRWI(rd, csr, im)       enc_i(csr, im, 5, rd, 0x73)
#define CSRRSI(rd, csr, im)       enc_i(csr, im, 6, rd, 0x73)
#define AMO(f5, f3, rd, rs1, rs2) enc_r((f5) << 2, rs2, rs1, f3, rd, 0x2f)
#define LR_W(rd, rs1)             AMO(0x02, 2, rd, rs1, 0)
#define SC_W(rd, rs1, rs2)        AMO(0x03, 2, rd, rs1, rs2)
#define LR_D(rd, rs1)             AMO(0x02, 3, rd, rs1, 0)
#define SC_D(rd, rs1, rs2)        AMO(0x03, 3, rd, rs1, rs2)
#define AMOADD_W(rd, rs1, rs2)    AMO(0x00, 2, rd, rs1, rs2)
#define AMOADD_D(rd, rs1, rs2)    AMO(0x00, 3, rd, rs1, rs2)
#define AMOSWAP_D(rd, rs1, rs2)   AMO(0x01, 3, rd, rs1, rs2)
#define AMOMIN_W(rd, rs1, rs2)    AMO(0x10, 2, rd, rs1, rs2)
#define AMOMAXU_D(rd, rs1, rs2)   AMO(0x1c, 3, rd, rs1, rs2)
#define ECALL                     0x00000073u
#define EBREAK                    0x00100073u
#define MRET                      0x30200073u
#define SRET                      0x10200073u
#define WFI                       0x10500073u
#define FENCE_I                   0x0000100fu
#define SFENCE_VMA(rs1, rs2)      enc_r(0x09, rs2, rs1, 0, 0, 0x73)

#define TEST_RAM_BASE 0x80000000ULL
#define TEST_RAM_SIZE (16ULL << 20)

struct test_machine {
    struct bus bus;
    struct vclock clock;
    struct hart *h;
};

/* PMP entry 0 over all memory, RWX, as firmware sets it up before
 * running S or U code (hart_reset clears PMP, which denies S and U). */
static inline void test_pmp_open(struct hart *h)
{
    h->arch.pmpaddr[0] = (1ULL << 54) - 1;
    h->arch.pmpcfg[0] = 0x1f;
    pmp_changed(h);
    tlb_flush_everything(h);
}

static inline struct test_machine *tm_new(void)
{
    struct test_machine *m = calloc(1, sizeof(*m));
    if (!m || !bus_init(&m->bus, TEST_RAM_BASE, TEST_RAM_SIZE))
        abort();
    vclock_init(&m->clock);
    m->h = hart_new(0, &m->bus, &m->clock);
    if (!m->h)
        abort();
    hart_reset(m->h, TEST_RAM_BASE, 0, 0);
    test_pmp_open(m->h);
    return m;
}

static inline void tm_free(struct test_machine *m)
{
    hart_free(m->h);
    bus_destroy(&m->bus);
    free(m);
}

static inline void *tm_ptr(struct test_machine *m, uint64_t pa)
{
    return bus_ram_ptr(&m->bus, pa, 0);
}

/* Writes 32-bit instructions at pa (through the bus's RAM-write report). */
static inline void tm_code(struct test_machine *m, uint64_t pa, const uint32_t *insns, size_t n)
{
    memcpy(tm_ptr(m, pa), insns, n * 4);
    bus_ram_written(&m->bus, pa, n * 4);
}
#define TM_CODE(m, pa, ...)                                                                        \
    do {                                                                                           \
        const uint32_t code_[] = {__VA_ARGS__};                                                    \
        tm_code(m, pa, code_, sizeof(code_) / sizeof(code_[0]));                                   \
    } while (0)

static inline void tm_w64(struct test_machine *m, uint64_t pa, uint64_t v)
{
    memcpy(tm_ptr(m, pa), &v, 8);
}
static inline uint64_t tm_r64(struct test_machine *m, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, tm_ptr(m, pa), 8);
    return v;
}

/* Loads a 64-bit constant into rd: lui/addi pairs are awkward, so the
 * tests keep constants in RAM and use LD, or set registers directly. */

#endif
