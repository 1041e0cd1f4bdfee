/* SPDX-License-Identifier: MIT */
/* The decoder: encodings (cross-checked with llvm-mc --disassemble) ->
 * decoded fields, including compressed forms and illegal encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "cpu/decode.h"

struct dcase {
    uint32_t insn;
    const char *text; /* what the encoding means, for failure messages */
    unsigned op, rd, rs1, rs2;
    int32_t imm;
    unsigned len;
};

/* rd 32 is the write sink for x0 destinations with side effects. */
static const struct dcase cases[] = {
    /* RV64I */
    {0x00500093, "addi ra,zero,5", OP_ADDI, 1, 0, 0, 5, 4},
    {0xfff00093, "addi ra,zero,-1", OP_ADDI, 1, 0, 0, -1, 4},
    {0x00000013, "nop (addi zero,zero,0)", OP_NOP, 0, 0, 0, 0, 4},
    {0x123452b7, "lui t0,0x12345", OP_LUI, 5, 0, 0, 0x12345000, 4},
    {0xfffff2b7, "lui t0,0xfffff", OP_LUI, 5, 0, 0, (int32_t)0xfffff000, 4},
    {0x00001517, "auipc a0,0x1", OP_AUIPC, 10, 0, 0, 0x1000, 4},
    {0x008000ef, "jal ra,+8", OP_JAL, 1, 0, 0, 8, 4},
    {0xffdff06f, "j -4", OP_JAL, 32, 0, 0, -4, 4},
    {0x00008067, "ret", OP_JALR, 32, 1, 0, 0, 4},
    {0xff4500e7, "jalr ra,-12(a0)", OP_JALR, 1, 10, 0, -12, 4},
    {0xfe058ee3, "beqz a1,-4", OP_BEQ, 0, 11, 0, -4, 4},
    {0x00b51863, "bne a0,a1,+16", OP_BNE, 0, 10, 11, 16, 4},
    {0x80b54063, "blt a0,a1,-4096", OP_BLT, 0, 10, 11, -4096, 4},
    {0x7eb57fe3, "bgeu a0,a1,+4094", OP_BGEU, 0, 10, 11, 4094, 4},
    {0xff853503, "ld a0,-8(a0)", OP_LD, 10, 10, 0, -8, 4},
    {0x00054583, "lbu a1,0(a0)", OP_LBU, 11, 10, 0, 0, 4},
    {0x00056003, "lwu zero,0(a0)", OP_LWU, 32, 10, 0, 0, 4},
    {0xfeb53c23, "sd a1,-8(a0)", OP_SD, 0, 10, 11, -8, 4},
    {0x00b51023, "sh a1,0(a0)", OP_SH, 0, 10, 11, 0, 4},
    {0x03f51513, "slli a0,a0,63", OP_SLLI, 10, 10, 0, 63, 4},
    {0x43f55513, "srai a0,a0,63", OP_SRAI, 10, 10, 0, 63, 4},
    {0x01f5551b, "srliw a0,a0,31", OP_SRLIW, 10, 10, 0, 31, 4},
    {0x40b50533, "sub a0,a0,a1", OP_SUB, 10, 10, 11, 0, 4},
    {0x40b5553b, "sraw a0,a0,a1", OP_SRAW, 10, 10, 11, 0, 4},
    {0x02b50533, "mul a0,a0,a1", OP_MUL, 10, 10, 11, 0, 4},
    {0x02b57533, "remu a0,a0,a1", OP_REMU, 10, 10, 11, 0, 4},
    {0x02b5453b, "divw a0,a0,a1", OP_DIVW, 10, 10, 11, 0, 4},
    {0x0ff0000f, "fence", OP_FENCE, 0, 0, 0, 0, 4},
    {0x0330000f, "fence rw,rw", OP_FENCE, 0, 0, 0, 0, 4},
    {0x0110000f, "fence w,w (TSO keeps it)", OP_NOP, 0, 0, 0, 0, 4},
    {0x0220000f, "fence r,r", OP_NOP, 0, 0, 0, 0, 4},
    {0x8330000f, "fence.tso", OP_NOP, 0, 0, 0, 0, 4},
    {0x0100000f, "pause (fence w,0)", OP_NOP, 0, 0, 0, 0, 4},
    {0x0000100f, "fence.i", OP_FENCE_I, 0, 0, 0, 0, 4},
    {0x00000073, "ecall", OP_ECALL, 0, 0, 0, 0, 4},
    {0x00100073, "ebreak", OP_EBREAK, 0, 0, 0, 0, 4},
    {0x30200073, "mret", OP_MRET, 0, 0, 0, 0, 4},
    {0x10200073, "sret", OP_SRET, 0, 0, 0, 0, 4},
    {0x10500073, "wfi", OP_WFI, 0, 0, 0, 0, 4},
    {0x12b50073, "sfence.vma a0,a1", OP_SFENCE_VMA, 0, 10, 11, 0, 4},
    {0x30029573, "csrrw a0,mstatus,t0", OP_CSRRW, 10, 5, 0, 0x300, 4},
    {0xc0102573, "rdtime a0", OP_CSRRS, 10, 0, 0, 0xc01, 4},
    {0x3002e073, "csrsi mstatus,5", OP_CSRRSI, 32, 5, 0, 0x300, 4},
    /* A */
    {0x100525af, "lr.w a1,(a0)", OP_LR_W, 11, 10, 0, 0, 4},
    {0x1ab535af, "sc.d.rl a1,a1,(a0)", OP_SC_D, 11, 10, 11, 0, 4},
    {0x06b535af, "amoadd.d.aqrl a1,a1,(a0)", OP_AMOADD_D, 11, 10, 11, 0, 4},
    {0xe0b5202f, "amomaxu.w zero,a1,(a0)", OP_AMOMAXU_W, 32, 10, 11, 0, 4},
    {0x0cb5302f, "amoswap.d.aq zero,a1,(a0)", OP_AMOSWAP_D, 32, 10, 11, 0, 4},
    /* F/D */
    {0x00853087, "fld ft1,8(a0)", OP_FLD, 1, 10, 0, 8, 4},
    {0x00152427, "fsw ft1,8(a0)", OP_FSW, 0, 10, 1, 8, 4},
    {0x00851087, "flh ft1,8(a0)", OP_FLH, 1, 10, 0, 8, 4},
    {0x00151427, "fsh ft1,8(a0)", OP_FSH, 0, 10, 1, 8, 4},
    {0x022081d3, "fadd.d ft3,ft1,ft2", OP_FP, 3, 1, 2, 0, 4},
    /* Compressed */
    {0x0040, "c.addi4spn s0,sp,4", OP_ADDI, 8, 2, 0, 4, 2},
    {0x6580, "c.ld s0,8(a1)", OP_LD, 8, 11, 0, 8, 2},
    {0x4188, "c.lw a0,0(a1)", OP_LW, 10, 11, 0, 0, 2},
    {0x2580, "c.fld fs0,8(a1)", OP_FLD, 8, 11, 0, 8, 2},
    {0xe588, "c.sd a0,8(a1)", OP_SD, 0, 11, 10, 8, 2},
    {0xa588, "c.fsd fa0,8(a1)", OP_FSD, 0, 11, 10, 8, 2},
    {0x0001, "c.nop", OP_NOP, 0, 0, 0, 0, 2},
    {0x157d, "c.addi a0,-1", OP_ADDI, 10, 10, 0, -1, 2},
    {0x357d, "c.addiw a0,-1", OP_ADDIW, 10, 10, 0, -1, 2},
    {0x4515, "c.li a0,5", OP_ADDI, 10, 0, 0, 5, 2},
    {0x7139, "c.addi16sp sp,-64", OP_ADDI, 2, 2, 0, -64, 2},
    {0x6505, "c.lui a0,0x1", OP_LUI, 10, 0, 0, 0x1000, 2},
    {0x757d, "c.lui a0,0xfffff", OP_LUI, 10, 0, 0, (int32_t)0xfffff000, 2},
    {0x8105, "c.srli a0,1", OP_SRLI, 10, 10, 0, 1, 2},
    {0x957d, "c.srai a0,63", OP_SRAI, 10, 10, 0, 63, 2},
    {0x897d, "c.andi a0,31", OP_ANDI, 10, 10, 0, 31, 2},
    {0x8d0d, "c.sub a0,a1", OP_SUB, 10, 10, 11, 0, 2},
    {0x9d2d, "c.addw a0,a1", OP_ADDW, 10, 10, 11, 0, 2},
    {0xbffd, "c.j -2", OP_JAL, 32, 0, 0, -2, 2},
    {0xa001, "c.j 0", OP_JAL, 32, 0, 0, 0, 2},
    {0xdd75, "c.beqz a0,-4", OP_BEQ, 0, 10, 0, -4, 2},
    {0xe111, "c.bnez a0,+4", OP_BNE, 0, 10, 0, 4, 2},
    {0x050a, "c.slli a0,2", OP_SLLI, 10, 10, 0, 2, 2},
    {0x2522, "c.fldsp fa0,8(sp)", OP_FLD, 10, 2, 0, 8, 2},
    {0x4532, "c.lwsp a0,12(sp)", OP_LW, 10, 2, 0, 12, 2},
    {0x6522, "c.ldsp a0,8(sp)", OP_LD, 10, 2, 0, 8, 2},
    {0x8502, "c.jr a0", OP_JALR, 32, 10, 0, 0, 2},
    {0x852e, "c.mv a0,a1", OP_ADD, 10, 0, 11, 0, 2},
    {0x9002, "c.ebreak", OP_EBREAK, 0, 0, 0, 0, 2},
    {0x9502, "c.jalr a0", OP_JALR, 1, 10, 0, 0, 2},
    {0x952e, "c.add a0,a1", OP_ADD, 10, 10, 11, 0, 2},
    {0xa42a, "c.fsdsp fa0,8(sp)", OP_FSD, 0, 2, 10, 8, 2},
    {0xc62a, "c.swsp a0,12(sp)", OP_SW, 0, 2, 10, 12, 2},
    {0xe42a, "c.sdsp a0,8(sp)", OP_SD, 0, 2, 10, 8, 2},
    {0x8068, "c.lbu a0,3(s0)", OP_LBU, 10, 8, 0, 3, 2},
    {0x9d4d, "c.mul a0,a1", OP_MUL, 10, 10, 11, 0, 2},
    {0x20c5a533, "sh1add a0,a1,a2", OP_SH1ADD, 10, 11, 12, 0, 4},
    {0x6055d513, "rori a0,a1,5", OP_RORI, 10, 11, 0, 5, 4},
    {0x0ec5d533, "czero.eqz a0,a1,a2", OP_CZERO_EQZ, 10, 11, 12, 0, 4},
    {0x0045200f, "cbo.zero (a0)", OP_CBO_ZERO, 0, 10, 0, 0, 4},
};

static const struct {
    uint32_t insn;
    const char *text;
} illegal[] = {
    {0x00000000, "all zeros (c.addi4spn with imm 0)"},
    {0xffffffff, "all ones"},
    {0x04051513, "slli with funct6 != 0"},
    {0x00007003, "load funct3 7"},
    {0x00004023, "store funct3 4"},
    {0x00002063, "branch funct3 2"},
    {0x00001067, "jalr funct3 1"},
    {0x04b50533, "OP funct7 2"},
    {0x00004073, "SYSTEM funct3 4"},
    {0x10100073, "unknown SYSTEM funct3 0"},
    {0x0030200f, "MISC-MEM funct3 2, cbo funct 3"},
    {0x0040220f, "cbo.zero with rd != 0"},
    {0x60359513, "clz family funct 3"},
    {0x0ab5152f, "Zacas funct3 1"},
    {0x28b5c5af, "amocas.q with odd rd"},
    {0x8c40, "c.sh with bit 6 set (Zcb reserved)"},
    {0x9c79, "Zcb c.unary 6"},
    {0x100525af | (1u << 20), "lr.w with rs2 != 0"},
    {0x0005a02f | (0x1fu << 27), "unknown AMO funct5"},
    {0x0000402f | 0x1000, "AMO funct3 5"},
    {0x00004007, "LOAD-FP funct3 4"},
    {0x0000007f, "48-bit and longer encodings"},
    {0x6501, "c.lui a0 with imm 0"},
    {0x6101, "c.addi16sp with imm 0"},
    {0x4002, "c.lwsp rd=0"},
    {0x6002, "c.ldsp rd=0"},
    {0x8002, "c.jr rs1=0"},
    {0x2001, "c.addiw rd=0"},
    {0x9c7d, "c.subw reserved slot (funct2 11, bit12 set, Zcb unary 7)"},
    {0x9000, "quadrant 0 funct3 4, Zcb funct 100 (reserved)"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dcase *c = &cases[i];
        struct dinsn d;
        decode_insn(&d, c->insn);
        if (d.op != c->op || d.rd != c->rd || d.rs1 != c->rs1 || d.rs2 != c->rs2 ||
            d.imm != c->imm || d.len != c->len)
            fail_msg("%s (%08x): got %s rd %u rs1 %u rs2 %u imm %d len %u, want %s rd %u rs1 %u "
                     "rs2 %u imm %d len %u",
                     c->text, c->insn, decode_op_name(d.op), d.rd, d.rs1, d.rs2, d.imm, d.len,
                     decode_op_name(c->op), c->rd, c->rs1, c->rs2, c->imm, c->len);
        assert_int_equal(d.raw, c->len == 2 ? (c->insn & 0xffff) : c->insn);
    }
}

static void test_illegal(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(illegal) / sizeof(illegal[0]); i++) {
        struct dinsn d;
        decode_insn(&d, illegal[i].insn);
        if (d.op != OP_ILLEGAL)
            fail_msg("%s (%08x) decoded as %s", illegal[i].text, illegal[i].insn,
                     decode_op_name(d.op));
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(decode_op_name(OP_ADDI), "ADDI");
    assert_string_equal(decode_op_name(OP_AMOMAXU_D), "AMOMAXU_D");
    assert_string_equal(decode_op_name(OP_COUNT + 5), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_illegal),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
