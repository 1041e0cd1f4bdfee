/* SPDX-License-Identifier: MIT */
#include "cpu/decode.h"

#include <stdbool.h>
#include <string.h>

static const char *const op_names[] = {
#define DECODE_NAME(name) #name,
    DECODE_OPS(DECODE_NAME)
#undef DECODE_NAME
};

const char *decode_op_name(unsigned op)
{
    return op < OP_COUNT ? op_names[op] : "?";
}

/* rd for ops whose side effects happen even when rd is x0. */
static uint8_t sink(unsigned rd)
{
    return rd ? (uint8_t)rd : 32;
}

static void set(struct dinsn *d, unsigned op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm)
{
    d->op = (uint16_t)op;
    d->rd = (uint8_t)rd;
    d->rs1 = (uint8_t)rs1;
    d->rs2 = (uint8_t)rs2;
    d->imm = imm;
}

/* A pure ALU op: writing x0 is a no-op. */
static void alu(struct dinsn *d, unsigned op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm)
{
    set(d, rd ? op : OP_NOP, rd, rs1, rs2, imm);
}

static void illegal(struct dinsn *d)
{
    set(d, OP_ILLEGAL, 0, 0, 0, 0);
}

static int32_t sext(uint32_t v, unsigned bits)
{
    return (int32_t)(v << (32 - bits)) >> (32 - bits);
}

/* Zba/Zbb/Zbc/Zbs/Zbkb/Zbkx/Zicond in OP (0x33): the op, or 0. */
static unsigned op_bm(unsigned f7, unsigned f3)
{
    switch (f7 << 3 | f3) {
    case 0x10 << 3 | 2:
        return OP_SH1ADD;
    case 0x10 << 3 | 4:
        return OP_SH2ADD;
    case 0x10 << 3 | 6:
        return OP_SH3ADD;
    case 0x20 << 3 | 7:
        return OP_ANDN;
    case 0x20 << 3 | 6:
        return OP_ORN;
    case 0x20 << 3 | 4:
        return OP_XNOR;
    case 0x05 << 3 | 1:
        return OP_CLMUL;
    case 0x05 << 3 | 2:
        return OP_CLMULR;
    case 0x05 << 3 | 3:
        return OP_CLMULH;
    case 0x05 << 3 | 4:
        return OP_MIN;
    case 0x05 << 3 | 5:
        return OP_MINU;
    case 0x05 << 3 | 6:
        return OP_MAX;
    case 0x05 << 3 | 7:
        return OP_MAXU;
    case 0x30 << 3 | 1:
        return OP_ROL;
    case 0x30 << 3 | 5:
        return OP_ROR;
    case 0x24 << 3 | 1:
        return OP_BCLR;
    case 0x24 << 3 | 5:
        return OP_BEXT;
    case 0x34 << 3 | 1:
        return OP_BINV;
    case 0x14 << 3 | 1:
        return OP_BSET;
    case 0x14 << 3 | 2:
        return OP_XPERM4;
    case 0x14 << 3 | 4:
        return OP_XPERM8;
    case 0x04 << 3 | 4:
        return OP_PACK;
    case 0x04 << 3 | 7:
        return OP_PACKH;
    case 0x07 << 3 | 5:
        return OP_CZERO_EQZ;
    case 0x07 << 3 | 7:
        return OP_CZERO_NEZ;
    case 0x19 << 3 | 0:
        return OP_AES64ES;
    case 0x1b << 3 | 0:
        return OP_AES64ESM;
    case 0x1d << 3 | 0:
        return OP_AES64DS;
    case 0x1f << 3 | 0:
        return OP_AES64DSM;
    case 0x3f << 3 | 0:
        return OP_AES64KS2;
    case 0x18 << 3 | 0: /* sm4ed, sm4ks: bs in funct7[6:5] */
    case 0x38 << 3 | 0:
    case 0x58 << 3 | 0:
    case 0x78 << 3 | 0:
        return OP_SM4ED0 + (f7 >> 5);
    case 0x1a << 3 | 0:
    case 0x3a << 3 | 0:
    case 0x5a << 3 | 0:
    case 0x7a << 3 | 0:
        return OP_SM4KS0 + (f7 >> 5);
    }
    return 0;
}

/* The same in OP-32 (0x3b). */
static unsigned op_bm_w(unsigned f7, unsigned f3, unsigned rs2)
{
    switch (f7 << 3 | f3) {
    case 0x04 << 3 | 0:
        return OP_ADD_UW;
    case 0x04 << 3 | 4:
        return rs2 == 0 ? OP_ZEXT_H : OP_PACKW;
    case 0x10 << 3 | 2:
        return OP_SH1ADD_UW;
    case 0x10 << 3 | 4:
        return OP_SH2ADD_UW;
    case 0x10 << 3 | 6:
        return OP_SH3ADD_UW;
    case 0x30 << 3 | 1:
        return OP_ROLW;
    case 0x30 << 3 | 5:
        return OP_RORW;
    }
    return 0;
}

/* OP-IMM (0x13) funct3 1 and 5 beyond the base shifts: sets d, or false. */
static bool decode_bm_imm(struct dinsn *d, uint32_t insn, unsigned rd, unsigned rs1, unsigned f3)
{
    unsigned f6 = insn >> 26, shamt = (insn >> 20) & 63, f12 = insn >> 20;
    unsigned op = 0;
    if (f3 == 1) {
        static const uint16_t unary[8] = {OP_CLZ, OP_CTZ, OP_CPOP, 0, OP_SEXT_B, OP_SEXT_H, 0, 0};
        if (f6 == 0x12)
            op = OP_BCLRI;
        else if (f6 == 0x1a)
            op = OP_BINVI;
        else if (f6 == 0x0a)
            op = OP_BSETI;
        else if ((f12 & ~7u) == 0x600)
            op = unary[f12 & 7], shamt = 0;
        else if (f12 >= 0x100 && f12 <= 0x109) /* Zknh, Zksh */
            op = OP_SHA256SUM0 + (f12 - 0x100), shamt = 0;
        else if (f12 == 0x300)
            op = OP_AES64IM, shamt = 0;
        else if (f12 >= 0x310 && f12 <= 0x31a) /* rnum 0..10 */
            op = OP_AES64KS1I, shamt = f12 & 15;
    } else {
        if (f6 == 0x12)
            op = OP_BEXTI;
        else if (f6 == 0x18)
            op = OP_RORI;
        else if (f12 == 0x287)
            op = OP_ORC_B, shamt = 0;
        else if (f12 == 0x6b8)
            op = OP_REV8, shamt = 0;
        else if (f12 == 0x687)
            op = OP_BREV8, shamt = 0;
    }
    if (!op)
        return false;
    alu(d, op, rd, rs1, 0, (int32_t)shamt);
    return true;
}

static void decode32(struct dinsn *d, uint32_t insn)
{
    unsigned opcode = insn & 0x7f;
    unsigned rd = (insn >> 7) & 31, f3 = (insn >> 12) & 7;
    unsigned rs1 = (insn >> 15) & 31, rs2 = (insn >> 20) & 31;
    unsigned f7 = insn >> 25;
    int32_t imm_i = (int32_t)insn >> 20;
    int32_t imm_s = sext(((insn >> 25) << 5) | ((insn >> 7) & 31), 12);
    int32_t imm_b = sext(((insn >> 31) << 12) | (((insn >> 25) & 0x3f) << 5) |
                             (((insn >> 8) & 0xf) << 1) | (((insn >> 7) & 1) << 11),
                         13);
    int32_t imm_u = (int32_t)(insn & 0xfffff000u);
    int32_t imm_j = sext(((insn >> 31) << 20) | (((insn >> 21) & 0x3ff) << 1) |
                             (((insn >> 20) & 1) << 11) | (((insn >> 12) & 0xff) << 12),
                         21);

    switch (opcode) {
    case 0x37:
        alu(d, OP_LUI, rd, 0, 0, imm_u);
        return;
    case 0x17:
        alu(d, OP_AUIPC, rd, 0, 0, imm_u);
        return;
    case 0x6f:
        set(d, OP_JAL, sink(rd), 0, 0, imm_j);
        return;
    case 0x67:
        if (f3 != 0)
            break;
        set(d, OP_JALR, sink(rd), rs1, 0, imm_i);
        return;
    case 0x63: {
        static const uint16_t ops[8] = {OP_BEQ, OP_BNE, 0, 0, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU};
        if (!ops[f3])
            break;
        set(d, ops[f3], 0, rs1, rs2, imm_b);
        return;
    }
    case 0x03: {
        static const uint16_t ops[8] = {OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, 0};
        if (!ops[f3])
            break;
        set(d, ops[f3], sink(rd), rs1, 0, imm_i);
        return;
    }
    case 0x23: {
        static const uint16_t ops[8] = {OP_SB, OP_SH, OP_SW, OP_SD, 0, 0, 0, 0};
        if (!ops[f3])
            break;
        set(d, ops[f3], 0, rs1, rs2, imm_s);
        return;
    }
    case 0x13: {
        unsigned shamt = (insn >> 20) & 63, f6 = insn >> 26;
        switch (f3) {
        case 0:
            alu(d, OP_ADDI, rd, rs1, 0, imm_i);
            return;
        case 2:
            alu(d, OP_SLTI, rd, rs1, 0, imm_i);
            return;
        case 3:
            alu(d, OP_SLTIU, rd, rs1, 0, imm_i);
            return;
        case 4:
            alu(d, OP_XORI, rd, rs1, 0, imm_i);
            return;
        case 6:
            alu(d, OP_ORI, rd, rs1, 0, imm_i);
            return;
        case 7:
            alu(d, OP_ANDI, rd, rs1, 0, imm_i);
            return;
        case 1:
            if (f6 != 0) {
                if (decode_bm_imm(d, insn, rd, rs1, f3))
                    return;
                break;
            }
            alu(d, OP_SLLI, rd, rs1, 0, (int32_t)shamt);
            return;
        case 5:
            if (f6 == 0)
                alu(d, OP_SRLI, rd, rs1, 0, (int32_t)shamt);
            else if (f6 == 0x10)
                alu(d, OP_SRAI, rd, rs1, 0, (int32_t)shamt);
            else if (!decode_bm_imm(d, insn, rd, rs1, f3))
                break;
            return;
        }
        break;
    }
    case 0x1b:
        switch (f3) {
        case 0:
            alu(d, OP_ADDIW, rd, rs1, 0, imm_i);
            return;
        case 1:
            if (f7 == 0)
                alu(d, OP_SLLIW, rd, rs1, 0, (int32_t)rs2);
            else if ((insn >> 26) == 0x02)
                alu(d, OP_SLLI_UW, rd, rs1, 0, (int32_t)((insn >> 20) & 63));
            else if (f7 == 0x30 && rs2 <= 2)
                alu(d, rs2 == 0 ? OP_CLZW : rs2 == 1 ? OP_CTZW : OP_CPOPW, rd, rs1, 0, 0);
            else
                break;
            return;
        case 5:
            if (f7 == 0)
                alu(d, OP_SRLIW, rd, rs1, 0, (int32_t)rs2);
            else if (f7 == 0x20)
                alu(d, OP_SRAIW, rd, rs1, 0, (int32_t)rs2);
            else if (f7 == 0x30)
                alu(d, OP_RORIW, rd, rs1, 0, (int32_t)rs2);
            else
                break;
            return;
        }
        break;
    case 0x33: {
        static const uint16_t base[8] = {OP_ADD, OP_SLL, OP_SLT, OP_SLTU,
                                         OP_XOR, OP_SRL, OP_OR,  OP_AND};
        static const uint16_t mul[8] = {OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
                                        OP_DIV, OP_DIVU, OP_REM,    OP_REMU};
        if (f7 == 0)
            alu(d, base[f3], rd, rs1, rs2, 0);
        else if (f7 == 1)
            alu(d, mul[f3], rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 0)
            alu(d, OP_SUB, rd, rs1, rs2, 0);
        else if (f7 == 0x20 && f3 == 5)
            alu(d, OP_SRA, rd, rs1, rs2, 0);
        else if (op_bm(f7, f3))
            alu(d, op_bm(f7, f3), rd, rs1, rs2, 0);
        else
            break;
        return;
    }
    case 0x3b: {
        static const uint16_t mul[8] = {OP_MULW, 0, 0, 0, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW};
        unsigned op = 0;
        if (f7 == 0)
            op = f3 == 0 ? OP_ADDW : f3 == 1 ? OP_SLLW : f3 == 5 ? OP_SRLW : 0;
        else if (f7 == 0x20)
            op = f3 == 0 ? OP_SUBW : f3 == 5 ? OP_SRAW : 0;
        else if (f7 == 1)
            op = mul[f3];
        else
            op = op_bm_w(f7, f3, rs2);
        if (!op)
            break;
        alu(d, op, rd, rs1, rs2, 0);
        return;
    }
    case 0x0f:
        if (f3 == 0) {
            /* x86-64 keeps every order RVWMO asks for except an earlier
             * store before a later load (the store buffer): only a fence
             * with PW in its predecessor and SR in its successor set, and
             * not FENCE.TSO (fm = 8), needs a host fence. */
            bool w_r = (insn >> 28) == 0 && (insn & (1u << 24)) && (insn & (1u << 21));
            set(d, w_r ? OP_FENCE : OP_NOP, 0, 0, 0, 0);
        } else if (f3 == 1)
            set(d, OP_FENCE_I, 0, 0, 0, 0);
        else if (f3 == 2 && rd == 0 && (insn >> 20) == 4) /* Zicboz */
            set(d, OP_CBO_ZERO, 0, rs1, 0, 0);
        else if (f3 == 2 && rd == 0 && ((insn >> 20) == 1 || (insn >> 20) == 2)) /* clean, flush */
            set(d, OP_CBO_CLEAN, 0, rs1, 0, 0);
        else if (f3 == 2 && rd == 0 && (insn >> 20) == 0)
            set(d, OP_CBO_INVAL, 0, rs1, 0, 0);
        else
            break;
        return;
    case 0x73:
        switch (f3) {
        case 0:
            if (insn == 0x00000073)
                set(d, OP_ECALL, 0, 0, 0, 0);
            else if (insn == 0x00100073)
                set(d, OP_EBREAK, 0, 0, 0, 0);
            else if (insn == 0x10200073)
                set(d, OP_SRET, 0, 0, 0, 0);
            else if (insn == 0x30200073)
                set(d, OP_MRET, 0, 0, 0, 0);
            else if (insn == 0x10500073)
                set(d, OP_WFI, 0, 0, 0, 0);
            else if (insn == 0x00d00073 || insn == 0x01d00073) /* wrs.nto, wrs.sto */
                set(d, OP_WRS, 0, 0, 0, 0);
            else if ((f7 == 0x09 || f7 == 0x0b) && rd == 0) /* 0x0b: Svinval sinval.vma */
                set(d, OP_SFENCE_VMA, 0, rs1, rs2, 0);
            else if (insn == 0x18000073 || insn == 0x18100073) /* sfence.w.inval, .inval.ir */
                set(d, OP_SFENCE_INVAL, 0, 0, 0, 0);
            else
                break;
            return;
        case 4:
            break;
        default: {
            static const uint16_t ops[8] = {0, OP_CSRRW,  OP_CSRRS,  OP_CSRRC,
                                            0, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI};
            set(d, ops[f3], sink(rd), rs1, 0, (int32_t)(insn >> 20));
            return;
        }
        }
        break;
    case 0x2f: {
        unsigned f5 = insn >> 27;
        bool dw = f3 == 3;
        if (f5 == 0x05 && f3 >= 2 && f3 <= 4) { /* Zacas; the Q form takes register pairs */
            if (f3 == 4 && ((rd | rs2) & 1))
                break;
            set(d,
                f3 == 2   ? OP_AMOCAS_W
                : f3 == 3 ? OP_AMOCAS_D
                          : OP_AMOCAS_Q,
                sink(rd), rs1, rs2, (int32_t)rd);
            return;
        }
        if (f3 != 2 && f3 != 3)
            break;
        unsigned op;
        switch (f5) {
        case 0x02:
            if (rs2 != 0)
                goto bad;
            op = dw ? OP_LR_D : OP_LR_W;
            break;
        case 0x03:
            op = dw ? OP_SC_D : OP_SC_W;
            break;
        case 0x01:
            op = dw ? OP_AMOSWAP_D : OP_AMOSWAP_W;
            break;
        case 0x00:
            op = dw ? OP_AMOADD_D : OP_AMOADD_W;
            break;
        case 0x04:
            op = dw ? OP_AMOXOR_D : OP_AMOXOR_W;
            break;
        case 0x0c:
            op = dw ? OP_AMOAND_D : OP_AMOAND_W;
            break;
        case 0x08:
            op = dw ? OP_AMOOR_D : OP_AMOOR_W;
            break;
        case 0x10:
            op = dw ? OP_AMOMIN_D : OP_AMOMIN_W;
            break;
        case 0x14:
            op = dw ? OP_AMOMAX_D : OP_AMOMAX_W;
            break;
        case 0x18:
            op = dw ? OP_AMOMINU_D : OP_AMOMINU_W;
            break;
        case 0x1c:
            op = dw ? OP_AMOMAXU_D : OP_AMOMAXU_W;
            break;
        default:
            goto bad;
        }
        set(d, op, sink(rd), rs1, rs2, 0);
        return;
    }
    case 0x07:
        if (f3 == 1)
            set(d, OP_FLH, rd, rs1, 0, imm_i);
        else if (f3 == 2)
            set(d, OP_FLW, rd, rs1, 0, imm_i);
        else if (f3 == 3)
            set(d, OP_FLD, rd, rs1, 0, imm_i);
        else
            break;
        return;
    case 0x27:
        if (f3 == 1)
            set(d, OP_FSH, 0, rs1, rs2, imm_s);
        else if (f3 == 2)
            set(d, OP_FSW, 0, rs1, rs2, imm_s);
        else if (f3 == 3)
            set(d, OP_FSD, 0, rs1, rs2, imm_s);
        else
            break;
        return;
    case 0x53:
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f:
        set(d, OP_FP, rd, rs1, rs2, 0);
        return;
    }
bad:
    illegal(d);
}

static void decode16(struct dinsn *d, uint32_t insn)
{
    unsigned f3 = (insn >> 13) & 7;
    unsigned rd = (insn >> 7) & 31, rs2 = (insn >> 2) & 31;
    unsigned rdp = 8 + ((insn >> 2) & 7), rs1p = 8 + ((insn >> 7) & 7);
    int32_t imm6 = sext(((insn >> 7) & 0x20) | ((insn >> 2) & 0x1f), 6);
    /* Offsets shared by several forms (unsigned, scaled). */
    int32_t off_d = (int32_t)(((insn >> 7) & 0x38) | ((insn << 1) & 0xc0)); /* C.LD/FLD */
    int32_t off_w = (int32_t)(((insn >> 7) & 0x38) | ((insn >> 4) & 4) | ((insn << 1) & 0x40));
    int32_t off_dsp =
        (int32_t)(((insn >> 7) & 0x20) | ((insn >> 2) & 0x18) | ((insn << 4) & 0x1c0));
    int32_t off_wsp = (int32_t)(((insn >> 7) & 0x20) | ((insn >> 2) & 0x1c) | ((insn << 4) & 0xc0));
    int32_t off_sdsp = (int32_t)(((insn >> 7) & 0x38) | ((insn >> 1) & 0x1c0));
    int32_t off_swsp = (int32_t)(((insn >> 7) & 0x3c) | ((insn >> 1) & 0xc0));

    switch (((insn & 3) << 3) | f3) {
    /* Quadrant 0 */
    case 000: {
        int32_t imm = (int32_t)(((insn >> 7) & 0x30) | ((insn >> 1) & 0x3c0) | ((insn >> 4) & 4) |
                                ((insn >> 2) & 8));
        if (imm == 0)
            break; /* includes the all-zero instruction */
        set(d, OP_ADDI, rdp, 2, 0, imm);
        return;
    }
    case 001:
        set(d, OP_FLD, rdp, rs1p, 0, off_d);
        return;
    case 002:
        set(d, OP_LW, rdp, rs1p, 0, off_w);
        return;
    case 003:
        set(d, OP_LD, rdp, rs1p, 0, off_d);
        return;
    case 004: { /* Zcb: c.lbu, c.lhu, c.lh, c.sb, c.sh */
        int32_t ub = (int32_t)(((insn >> 6) & 1) | ((insn >> 4) & 2)),
                uh = (int32_t)(insn >> 4) & 2;
        switch ((insn >> 10) & 7) {
        case 0:
            set(d, OP_LBU, rdp, rs1p, 0, ub);
            return;
        case 1:
            set(d, (insn & 0x40) ? OP_LH : OP_LHU, rdp, rs1p, 0, uh);
            return;
        case 2:
            set(d, OP_SB, 0, rs1p, rdp, ub);
            return;
        case 3:
            if (insn & 0x40)
                break;
            set(d, OP_SH, 0, rs1p, rdp, uh);
            return;
        }
        break;
    }
    case 005:
        set(d, OP_FSD, 0, rs1p, rdp, off_d);
        return;
    case 006:
        set(d, OP_SW, 0, rs1p, rdp, off_w);
        return;
    case 007:
        set(d, OP_SD, 0, rs1p, rdp, off_d);
        return;
    /* Quadrant 1 */
    case 010:
        alu(d, OP_ADDI, rd, rd, 0, imm6);
        return;
    case 011:
        if (rd == 0)
            break;
        set(d, OP_ADDIW, rd, rd, 0, imm6);
        return;
    case 012:
        alu(d, OP_ADDI, rd, 0, 0, imm6);
        return;
    case 013:
        if (rd == 2) {
            int32_t imm = sext(((insn >> 3) & 0x200) | ((insn >> 2) & 0x10) | ((insn << 1) & 0x40) |
                                   ((insn << 4) & 0x180) | ((insn << 3) & 0x20),
                               10);
            if (imm == 0)
                break;
            set(d, OP_ADDI, 2, 2, 0, imm);
        } else {
            if (imm6 == 0)
                break;
            alu(d, OP_LUI, rd, 0, 0, (int32_t)((uint32_t)imm6 << 12));
        }
        return;
    case 014: {
        unsigned f2 = (insn >> 10) & 3;
        unsigned shamt = ((insn >> 7) & 0x20) | ((insn >> 2) & 0x1f);
        if (f2 == 0) {
            set(d, OP_SRLI, rs1p, rs1p, 0, (int32_t)shamt);
        } else if (f2 == 1) {
            set(d, OP_SRAI, rs1p, rs1p, 0, (int32_t)shamt);
        } else if (f2 == 2) {
            set(d, OP_ANDI, rs1p, rs1p, 0, imm6);
        } else {
            static const uint16_t ops[8] = {OP_SUB,  OP_XOR,  OP_OR,  OP_AND,
                                            OP_SUBW, OP_ADDW, OP_MUL, 0}; /* c.mul: Zcb */
            unsigned op = ops[((insn >> 10) & 4) | ((insn >> 5) & 3)];
            if (!op) { /* Zcb: c.zext.b, c.sext.b, c.zext.h, c.sext.h, c.zext.w, c.not */
                switch ((insn >> 2) & 7) {
                case 0:
                    set(d, OP_ANDI, rs1p, rs1p, 0, 0xff);
                    return;
                case 1:
                    set(d, OP_SEXT_B, rs1p, rs1p, 0, 0);
                    return;
                case 2:
                    set(d, OP_ZEXT_H, rs1p, rs1p, 0, 0);
                    return;
                case 3:
                    set(d, OP_SEXT_H, rs1p, rs1p, 0, 0);
                    return;
                case 4:
                    set(d, OP_ADD_UW, rs1p, rs1p, 0, 0);
                    return;
                case 5:
                    set(d, OP_XORI, rs1p, rs1p, 0, -1);
                    return;
                }
                break;
            }
            set(d, op, rs1p, rs1p, rdp, 0);
        }
        return;
    }
    case 015: {
        int32_t imm = sext(((insn >> 1) & 0x800) | ((insn >> 7) & 0x10) | ((insn >> 1) & 0x300) |
                               ((insn << 2) & 0x400) | ((insn >> 1) & 0x40) | ((insn << 1) & 0x80) |
                               ((insn >> 2) & 0xe) | ((insn << 3) & 0x20),
                           12);
        set(d, OP_JAL, 32, 0, 0, imm);
        return;
    }
    case 016:
    case 017: {
        int32_t imm = sext(((insn >> 4) & 0x100) | ((insn >> 7) & 0x18) | ((insn << 1) & 0xc0) |
                               ((insn >> 2) & 6) | ((insn << 3) & 0x20),
                           9);
        set(d, f3 == 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0, imm);
        return;
    }
    /* Quadrant 2 */
    case 020: {
        unsigned shamt = ((insn >> 7) & 0x20) | ((insn >> 2) & 0x1f);
        alu(d, OP_SLLI, rd, rd, 0, (int32_t)shamt);
        return;
    }
    case 021:
        set(d, OP_FLD, rd, 2, 0, off_dsp);
        return;
    case 022:
        if (rd == 0)
            break;
        set(d, OP_LW, rd, 2, 0, off_wsp);
        return;
    case 023:
        if (rd == 0)
            break;
        set(d, OP_LD, rd, 2, 0, off_dsp);
        return;
    case 024:
        if (!(insn & 0x1000)) {
            if (rs2 == 0) {
                if (rd == 0)
                    break;
                set(d, OP_JALR, 32, rd, 0, 0); /* C.JR */
            } else {
                alu(d, OP_ADD, rd, 0, rs2, 0); /* C.MV */
            }
        } else {
            if (rs2 == 0 && rd == 0)
                set(d, OP_EBREAK, 0, 0, 0, 0);
            else if (rs2 == 0)
                set(d, OP_JALR, 1, rd, 0, 0); /* C.JALR */
            else
                alu(d, OP_ADD, rd, rd, rs2, 0);
        }
        return;
    case 025:
        set(d, OP_FSD, 0, 2, rs2, off_sdsp);
        return;
    case 026:
        set(d, OP_SW, 0, 2, rs2, off_swsp);
        return;
    case 027:
        set(d, OP_SD, 0, 2, rs2, off_sdsp);
        return;
    }
    illegal(d);
}

void decode_insn(struct dinsn *d, uint32_t insn)
{
    memset(d, 0, sizeof(*d));
    if ((insn & 3) == 3) {
        d->len = 4;
        d->raw = insn;
        decode32(d, insn);
    } else {
        d->len = 2;
        d->raw = insn & 0xffff;
        decode16(d, insn & 0xffff);
    }
    d->hidx = (uint16_t)(d->op * 2 + (d->len == 2));
}
