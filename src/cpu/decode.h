/* SPDX-License-Identifier: MIT */
/*
 * The instruction decoder: turns one 16- or 32-bit instruction into a
 * compact struct dinsn that the interpreter dispatches on.
 *
 * Compressed instructions decode to the equivalent base operation with
 * len = 2.  Register conventions (see hart_internal.h): rd == x0 becomes
 * 32 (a write sink) for ops with side effects; pure ALU ops with rd == x0
 * become OP_NOP.  imm holds the sign-extended immediate (CSR ops: the CSR
 * number in imm and the 5-bit uimm in rs1 for the *I forms; shifts: the
 * shift amount; AMOCAS: the real rd, which it also reads).  raw holds the instruction bits (16 bits
 * for compressed).
 */
#ifndef WIRT_CPU_DECODE_H
#define WIRT_CPU_DECODE_H

#include <stdint.h>

/* The bit-manipulation, Zicond and scalar crypto ops (cpu/bitmanip.h has their
 * semantics as bm_NAME(a, b)): register-register ones read x[rs2], the
 * others take imm (a shift amount, or nothing). */
/* clang-format off */
#define DECODE_OPS_RR(X)                                                                           \
    X(SH1ADD)                                                                                      \
    X(SH2ADD)                                                                                      \
    X(SH3ADD)                                                                                      \
    X(ADD_UW)                                                                                      \
    X(SH1ADD_UW)                                                                                   \
    X(SH2ADD_UW)                                                                                   \
    X(SH3ADD_UW)                                                                                   \
    X(ANDN)                                                                                        \
    X(ORN)                                                                                         \
    X(XNOR)                                                                                        \
    X(MAX)                                                                                         \
    X(MAXU)                                                                                        \
    X(MIN)                                                                                         \
    X(MINU)                                                                                        \
    X(ROL)                                                                                         \
    X(ROLW)                                                                                        \
    X(ROR)                                                                                         \
    X(RORW)                                                                                        \
    X(CLMUL)                                                                                       \
    X(CLMULH)                                                                                      \
    X(CLMULR)                                                                                      \
    X(BCLR)                                                                                        \
    X(BEXT)                                                                                        \
    X(BINV)                                                                                        \
    X(BSET)                                                                                        \
    X(PACK)                                                                                        \
    X(PACKH)                                                                                       \
    X(PACKW)                                                                                       \
    X(XPERM4)                                                                                      \
    X(XPERM8)                                                                                      \
    X(CZERO_EQZ)                                                                                   \
    X(CZERO_NEZ)                                                                                   \
    X(AES64ES)                                                                                     \
    X(AES64ESM)                                                                                    \
    X(AES64DS)                                                                                     \
    X(AES64DSM)                                                                                    \
    X(AES64KS2)                                                                                    \
    X(SM4ED0)                                                                                      \
    X(SM4ED1)                                                                                      \
    X(SM4ED2)                                                                                      \
    X(SM4ED3)                                                                                      \
    X(SM4KS0)                                                                                      \
    X(SM4KS1)                                                                                      \
    X(SM4KS2)                                                                                      \
    X(SM4KS3)
#define DECODE_OPS_RI(X)                                                                           \
    X(SLLI_UW)                                                                                     \
    X(CLZ)                                                                                         \
    X(CLZW)                                                                                        \
    X(CTZ)                                                                                         \
    X(CTZW)                                                                                        \
    X(CPOP)                                                                                        \
    X(CPOPW)                                                                                       \
    X(SEXT_B)                                                                                      \
    X(SEXT_H)                                                                                      \
    X(ZEXT_H)                                                                                      \
    X(RORI)                                                                                        \
    X(RORIW)                                                                                       \
    X(ORC_B)                                                                                       \
    X(REV8)                                                                                        \
    X(BREV8)                                                                                       \
    X(BCLRI)                                                                                       \
    X(BEXTI)                                                                                       \
    X(BINVI)                                                                                       \
    X(BSETI)                                                                                       \
    X(SHA256SUM0)                                                                                  \
    X(SHA256SUM1)                                                                                  \
    X(SHA256SIG0)                                                                                  \
    X(SHA256SIG1)                                                                                  \
    X(SHA512SUM0)                                                                                  \
    X(SHA512SUM1)                                                                                  \
    X(SHA512SIG0)                                                                                  \
    X(SHA512SIG1)                                                                                  \
    X(SM3P0)                                                                                       \
    X(SM3P1)                                                                                       \
    X(AES64IM)                                                                                     \
    X(AES64KS1I)
/* clang-format on */

/* clang-format off: one entry per line, as clang-format cannot keep X-lists stable */
#define DECODE_OPS(X)                                                                              \
    X(DECODE)                                                                                      \
    X(END)                                                                                         \
    X(CROSS)                                                                                       \
    X(JIT)                                                                                         \
    X(ILLEGAL)                                                                                     \
    X(NOP)                                                                                         \
    X(LUI)                                                                                         \
    X(AUIPC)                                                                                       \
    X(JAL)                                                                                         \
    X(JALR)                                                                                        \
    X(BEQ)                                                                                         \
    X(BNE)                                                                                         \
    X(BLT)                                                                                         \
    X(BGE)                                                                                         \
    X(BLTU)                                                                                        \
    X(BGEU)                                                                                        \
    X(LB)                                                                                          \
    X(LH)                                                                                          \
    X(LW)                                                                                          \
    X(LD)                                                                                          \
    X(LBU)                                                                                         \
    X(LHU)                                                                                         \
    X(LWU)                                                                                         \
    X(SB)                                                                                          \
    X(SH)                                                                                          \
    X(SW)                                                                                          \
    X(SD)                                                                                          \
    X(ADDI)                                                                                        \
    X(SLTI)                                                                                        \
    X(SLTIU)                                                                                       \
    X(XORI)                                                                                        \
    X(ORI)                                                                                         \
    X(ANDI)                                                                                        \
    X(SLLI)                                                                                        \
    X(SRLI)                                                                                        \
    X(SRAI)                                                                                        \
    X(ADD)                                                                                         \
    X(SUB)                                                                                         \
    X(SLL)                                                                                         \
    X(SLT)                                                                                         \
    X(SLTU)                                                                                        \
    X(XOR)                                                                                         \
    X(SRL)                                                                                         \
    X(SRA)                                                                                         \
    X(OR)                                                                                          \
    X(AND)                                                                                         \
    X(ADDIW)                                                                                       \
    X(SLLIW)                                                                                       \
    X(SRLIW)                                                                                       \
    X(SRAIW)                                                                                       \
    X(ADDW)                                                                                        \
    X(SUBW)                                                                                        \
    X(SLLW)                                                                                        \
    X(SRLW)                                                                                        \
    X(SRAW)                                                                                        \
    X(MUL)                                                                                         \
    X(MULH)                                                                                        \
    X(MULHSU)                                                                                      \
    X(MULHU)                                                                                       \
    X(DIV)                                                                                         \
    X(DIVU)                                                                                        \
    X(REM)                                                                                         \
    X(REMU)                                                                                        \
    X(MULW)                                                                                        \
    X(DIVW)                                                                                        \
    X(DIVUW)                                                                                       \
    X(REMW)                                                                                        \
    X(REMUW)                                                                                       \
    X(FENCE)                                                                                       \
    X(FENCE_I)                                                                                     \
    X(ECALL)                                                                                       \
    X(EBREAK)                                                                                      \
    X(MRET)                                                                                        \
    X(SRET)                                                                                        \
    X(WFI)                                                                                         \
    X(SFENCE_VMA)                                                                                  \
    X(CSRRW)                                                                                       \
    X(CSRRS)                                                                                       \
    X(CSRRC)                                                                                       \
    X(CSRRWI)                                                                                      \
    X(CSRRSI)                                                                                      \
    X(CSRRCI)                                                                                      \
    X(LR_W)                                                                                        \
    X(SC_W)                                                                                        \
    X(AMOSWAP_W)                                                                                   \
    X(AMOADD_W)                                                                                    \
    X(AMOXOR_W)                                                                                    \
    X(AMOAND_W)                                                                                    \
    X(AMOOR_W)                                                                                     \
    X(AMOMIN_W)                                                                                    \
    X(AMOMAX_W)                                                                                    \
    X(AMOMINU_W)                                                                                   \
    X(AMOMAXU_W)                                                                                   \
    X(LR_D)                                                                                        \
    X(SC_D)                                                                                        \
    X(AMOSWAP_D)                                                                                   \
    X(AMOADD_D)                                                                                    \
    X(AMOXOR_D)                                                                                    \
    X(AMOAND_D)                                                                                    \
    X(AMOOR_D)                                                                                     \
    X(AMOMIN_D)                                                                                    \
    X(AMOMAX_D)                                                                                    \
    X(AMOMINU_D)                                                                                   \
    X(AMOMAXU_D)                                                                                   \
    X(FLW)                                                                                         \
    X(FLD)                                                                                         \
    X(FSW)                                                                                         \
    X(FSD)                                                                                         \
    X(FP)                                                                                          \
    DECODE_OPS_RR(X)                                                                               \
    DECODE_OPS_RI(X)                                                                               \
    X(CBO_ZERO)                                                                                    \
    X(CBO_CLEAN)                                                                                   \
    X(CBO_INVAL)                                                                                   \
    X(WRS)                                                                                         \
    X(AMOCAS_W)                                                                                    \
    X(AMOCAS_D)                                                                                    \
    X(AMOCAS_Q)                                                                                    \
    X(SFENCE_INVAL)                                                                                \
    X(FLH)                                                                                         \
    X(FSH)
/* clang-format on */

enum dinsn_op {
#define DECODE_ENUM(name) OP_##name,
    DECODE_OPS(DECODE_ENUM)
#undef DECODE_ENUM
        OP_COUNT
};

struct dinsn {
    uint16_t op;
    uint8_t rd, rs1, rs2;
    uint8_t len;   /* 2 or 4 */
    uint16_t hidx; /* handler index: op * 2 + (len == 2), what the interpreter dispatches on */
    int32_t imm;
    uint32_t raw;
};

/* Decodes insn (only the low 16 bits matter when they are a compressed
 * instruction).  Unknown or reserved encodings give OP_ILLEGAL. */
void decode_insn(struct dinsn *d, uint32_t insn);

/* Turns d into a length-independent pseudo-op (OP_DECODE, OP_END...). */
static inline void dinsn_set_pseudo(struct dinsn *d, unsigned op)
{
    d->op = (uint16_t)op;
    d->hidx = (uint16_t)(op * 2);
}

/* The op's name ("ADDI"...), for traces and tests. */
const char *decode_op_name(unsigned op);

#endif
