/* SPDX-License-Identifier: MIT */
/* Executes small instruction sequences on a hart and checks the results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include "cpu/bitmanip.h"
#include "cpu/vcpu.h"
#include "hw/device.h"
#include "state/state.h"
#include "test_cpu_asm.h"

#define B TEST_RAM_BASE

static int setup(void **state)
{
    *state = tm_new();
    return 0;
}
static int teardown(void **state)
{
    tm_free(*state);
    return 0;
}

static void test_alu(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    TM_CODE(m, B, ADDI(1, 0, 5), ADDI(2, 0, -3), ADD(3, 1, 2), SUB(4, 2, 1), SLT(5, 2, 1),
            SLTU(6, 2, 1), LUI(7, 0x12345000), ADDI(0, 0, 9), AUIPC(8, 0x1000), ADDIW(9, 7, 0x678),
            SLLI(10, 2, 60), SRLI(11, 2, 60), SRAI(12, 2, 1), ADDW(13, 7, 7));
    assert_int_equal(hart_step(h, 14), 14);
    assert_int_equal(hart_get_x(h, 3), 2);
    assert_int_equal(hart_get_x(h, 4), (uint64_t)-8);
    assert_int_equal(hart_get_x(h, 5), 1);
    assert_int_equal(hart_get_x(h, 6), 0);
    assert_int_equal(hart_get_x(h, 7), 0x12345000);
    assert_int_equal(hart_get_x(h, 0), 0);
    assert_int_equal(hart_get_x(h, 8), B + 32 + 0x1000);
    assert_int_equal(hart_get_x(h, 9), 0x12345678);
    assert_int_equal(hart_get_x(h, 10), 0xd000000000000000ULL);
    assert_int_equal(hart_get_x(h, 11), 0xf);
    assert_int_equal(hart_get_x(h, 12), (uint64_t)-2);
    assert_int_equal(hart_get_x(h, 13), 0x2468a000);
    assert_int_equal(hart_get_pc(h), B + 56);
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    hart_dump(h, f);
    fclose(f);
    assert_non_null(strstr(buf, "pc 0000000080000038 priv 3"));
    assert_non_null(strstr(buf, "  t2 0000000012345000"));
}

static void test_muldiv(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, (uint64_t)INT64_MIN);
    hart_set_x(h, 2, (uint64_t)-1);
    hart_set_x(h, 3, 0);
    hart_set_x(h, 4, 7);
    TM_CODE(m, B, DIV(5, 1, 2), REM(6, 1, 2), DIV(7, 4, 3), DIVU(8, 4, 3), REM(9, 4, 3),
            REMU(10, 4, 3), MULH(11, 2, 4), MULHU(12, 2, 4), MULHSU(13, 2, 4), MUL(14, 4, 4),
            DIVW(15, 4, 3), REMW(16, 2, 4));
    hart_step(h, 12);
    assert_int_equal(hart_get_x(h, 5), (uint64_t)INT64_MIN);
    assert_int_equal(hart_get_x(h, 6), 0);
    assert_int_equal(hart_get_x(h, 7), UINT64_MAX);
    assert_int_equal(hart_get_x(h, 8), UINT64_MAX);
    assert_int_equal(hart_get_x(h, 9), 7);
    assert_int_equal(hart_get_x(h, 10), 7);
    assert_int_equal(hart_get_x(h, 11), UINT64_MAX); /* -1 * 7 high part */
    assert_int_equal(hart_get_x(h, 12), 6);
    assert_int_equal(hart_get_x(h, 13), UINT64_MAX);
    assert_int_equal(hart_get_x(h, 14), 49);
    assert_int_equal(hart_get_x(h, 15), UINT64_MAX);
    assert_int_equal(hart_get_x(h, 16), (uint64_t)-1);
}

static void test_loop_and_counters(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    /* x1 = 1000; loop: x2 += x1; x1 -= 1; bnez x1, loop; ebreak */
    TM_CODE(m, B, ADDI(1, 0, 1000), ADD(2, 2, 1), ADDI(1, 1, -1), BNE(1, 0, -8), CSRRS(3, 0xb02, 0),
            EBREAK);
    assert_int_equal(hart_step(h, 3003), 3003); /* ..., csrr, ebreak's trap */
    assert_int_equal(hart_get_x(h, 2), 500500);
    assert_int_equal(hart_get_x(h, 3), 3001); /* instructions before the csrr */
    /* ebreak trapped to mtvec (0) with mcause 3 */
    assert_int_equal(h->arch.mcause, EXC_BREAKPOINT);
    assert_int_equal(h->arch.mepc, B + 20);
    assert_int_equal(h->arch.mtval, B + 20);
}

static void test_loads_stores(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x1000);
    tm_w64(m, B + 0x1000, 0x8877665544332211ULL);
    TM_CODE(m, B, LB(2, 1, 7), LBU(3, 1, 7), LH(4, 1, 6), LHU(5, 1, 6), LW(6, 1, 4), LWU(7, 1, 4),
            LD(8, 1, 0), SD(8, 1, 8), SW(6, 1, 16), SH(6, 1, 20), SB(6, 1, 22), LD(9, 1, 3),
            LD(0, 1, 0));
    hart_step(h, 13);
    assert_int_equal(hart_get_x(h, 2), 0xffffffffffffff88ULL);
    assert_int_equal(hart_get_x(h, 3), 0x88);
    assert_int_equal(hart_get_x(h, 4), 0xffffffffffff8877ULL);
    assert_int_equal(hart_get_x(h, 5), 0x8877);
    assert_int_equal(hart_get_x(h, 6), 0xffffffff88776655ULL);
    assert_int_equal(hart_get_x(h, 7), 0x88776655);
    assert_int_equal(hart_get_x(h, 8), 0x8877665544332211ULL);
    assert_int_equal(tm_r64(m, B + 0x1008), 0x8877665544332211ULL);
    assert_int_equal(tm_r64(m, B + 0x1010), 0x0055665588776655ULL);
    assert_int_equal(hart_get_x(h, 9), 0x3322118877665544ULL); /* misaligned, no trap */
    assert_int_equal(hart_get_x(h, 0), 0);
    assert_int_equal(hart_get_pc(h), B + 52);
}

static void test_misaligned_across_page(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x1ffd);
    hart_set_x(h, 2, 0x0102030405060708ULL);
    TM_CODE(m, B, SD(2, 1, 0), LD(3, 1, 0), LW(4, 1, 1));
    hart_step(h, 3);
    assert_int_equal(hart_get_x(h, 3), 0x0102030405060708ULL);
    assert_int_equal(hart_get_x(h, 4), 0x04050607);
    assert_int_equal(*(uint8_t *)tm_ptr(m, B + 0x2000), 0x05);
    assert_int_equal(hart_get_pc(h), B + 12);
}

static void test_access_fault(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, 0x40000000); /* nothing there */
    TM_CODE(m, B, LD(2, 1, 8));
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_LOAD_ACCESS);
    assert_int_equal(h->arch.mtval, 0x40000008);
    assert_int_equal(h->arch.mepc, B);
    TM_CODE(m, B, SW(2, 1, 0));
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, 0x40000000);
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_STORE_ACCESS);
    /* Jump to nowhere: instruction access fault with tval = target. */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, 0x40000000);
    TM_CODE(m, B, JALR(0, 1, 0));
    hart_step(h, 2);
    assert_int_equal(h->arch.mcause, EXC_INSN_ACCESS);
    assert_int_equal(h->arch.mtval, 0x40000000);
    assert_int_equal(h->arch.mepc, 0x40000000);
}

static void test_illegal(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 5, B + 0x100);
    TM_CODE(m, B, CSRRW(0, 0x305, 5), 0x00000000);
    hart_step(h, 2);
    assert_int_equal(h->arch.mcause, EXC_ILLEGAL);
    assert_int_equal(h->arch.mtval, 0);
    assert_int_equal(h->arch.mepc, B + 4);
    assert_int_equal(hart_get_pc(h), B + 0x100);
    /* An unimplemented CSR and a write to a read-only one. */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    uint32_t bad = CSRRS(1, 0x7b0, 0); /* dcsr: Debug Mode only */
    TM_CODE(m, B, bad);
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_ILLEGAL);
    assert_int_equal(h->arch.mtval, bad);
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    TM_CODE(m, B, CSRRW(0, 0xf14, 1));
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_ILLEGAL);
}

static void test_csrs(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    TM_CODE(m, B, CSRRS(1, 0x301, 0), CSRRS(2, 0x300, 0), CSRRSI(0, 0x300, 8), CSRRS(3, 0x300, 0),
            CSRRWI(0, 0x180, 0), CSRRS(4, 0xf14, 0), CSRRW(5, 0x340, 1), CSRRS(6, 0x340, 0));
    hart_step(h, 8);
    assert_int_equal(hart_get_x(h, 1), 0x800000000014112dULL);
    assert_int_equal(hart_get_x(h, 2), 0xa00000000ULL); /* UXL = SXL = 2 */
    assert_int_equal(hart_get_x(h, 3), 0xa00000008ULL);
    assert_int_equal(hart_get_x(h, 4), 0);
    assert_int_equal(hart_get_x(h, 6), 0x800000000014112dULL);
    /* satp: unsupported mode is ignored, Sv39 accepted. */
    h->arch.satp = 0;
    assert_true(csr_write(h, 0x180, 10ULL << 60 | 5));
    assert_int_equal(h->arch.satp, 0);
    assert_true(csr_write(h, 0x180, 8ULL << 60 | 5));
    assert_int_equal(h->arch.satp, 8ULL << 60 | 5);
    /* sie/sip follow mideleg */
    assert_true(csr_write(h, 0x304, 0xaaa));
    uint64_t v;
    assert_true(csr_read(h, 0x104, &v));
    assert_int_equal(v, 0);
    assert_true(csr_write(h, 0x303, 0x222));
    assert_true(csr_read(h, 0x104, &v));
    assert_int_equal(v, 0x222);
    /* SEIP seen by software = software bit | external line. */
    hart_set_irq(h, IRQ_S_EXT, true);
    assert_true(csr_read(h, 0x344, &v));
    assert_int_equal(v & MIP_SEIP, MIP_SEIP);
    assert_true(csr_write(h, 0x344, 0));
    assert_true(csr_read(h, 0x344, &v));
    assert_int_equal(v & MIP_SEIP, MIP_SEIP);
    hart_set_irq(h, IRQ_S_EXT, false);
    assert_true(csr_read(h, 0x344, &v));
    assert_int_equal(v & MIP_SEIP, 0);
    /* csrs mip, SSIP while the PLIC line is high must not latch SEIP */
    hart_set_irq(h, IRQ_S_EXT, true);
    h->arch.pc = B + 0x40;
    hart_set_x(h, 9, MIP_SSIP);
    TM_CODE(m, B + 0x40, CSRRS(10, 0x344, 9), CSRRC(0, 0x344, 9));
    hart_step(h, 2);
    assert_int_equal(hart_get_x(h, 10) & MIP_SEIP, MIP_SEIP);
    hart_set_irq(h, IRQ_S_EXT, false);
    assert_true(csr_read(h, 0x344, &v));
    assert_int_equal(v & (MIP_SEIP | MIP_SSIP), 0);
    /* counters from U-mode need mcounteren and scounteren */
    h->arch.priv = PRV_U;
    assert_false(csr_read(h, 0xc01, &v));
    h->arch.mcounteren = 2;
    assert_false(csr_read(h, 0xc01, &v));
    h->arch.scounteren = 2;
    assert_true(csr_read(h, 0xc01, &v));
    assert_false(csr_access_ok(h, 0x100, false));
    h->arch.priv = PRV_S;
    assert_true(csr_access_ok(h, 0x100, true));
    assert_false(csr_access_ok(h, 0x300, false));
    /* stimecmp needs menvcfg.STCE from S-mode */
    assert_false(csr_read(h, 0x14d, &v));
    h->arch.menvcfg = MENVCFG_STCE;
    assert_true(csr_read(h, 0x14d, &v));
    /* odd pmpcfg does not exist */
    h->arch.priv = PRV_M;
    assert_false(csr_read(h, 0x3a1, &v));
    assert_true(csr_write(h, 0x3b5, ~0ULL));
    assert_true(csr_read(h, 0x3b5, &v));
    assert_int_equal(v, (1ULL << 54) - 1);
}

static void test_ecall_delegation(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    /* M: mtvec = B+0x200, stvec = B+0x300, delegate ecall-from-U, mret to U at B+0x100 */
    hart_set_x(h, 1, B + 0x200);
    hart_set_x(h, 2, B + 0x300);
    hart_set_x(h, 3, 1 << EXC_ECALL_U);
    hart_set_x(h, 4, B + 0x100);
    TM_CODE(m, B, CSRRW(0, 0x305, 1), CSRRW(0, 0x105, 2), CSRRW(0, 0x302, 3), CSRRW(0, 0x341, 4),
            MRET);
    TM_CODE(m, B + 0x100, ECALL);
    TM_CODE(m, B + 0x300, ADDI(10, 0, 42), ECALL);
    TM_CODE(m, B + 0x200, ADDI(11, 0, 43));
    hart_step(h, 5);
    assert_int_equal(h->arch.priv, PRV_U);
    assert_int_equal(hart_get_pc(h), B + 0x100);
    hart_step(h, 1);
    assert_int_equal(h->arch.priv, PRV_S);
    assert_int_equal(hart_get_pc(h), B + 0x300);
    assert_int_equal(h->arch.scause, EXC_ECALL_U);
    assert_int_equal(h->arch.sepc, B + 0x100);
    assert_int_equal(h->arch.mstatus & MSTATUS_SPP, 0);
    hart_step(h, 2); /* addi; ecall from S is not delegated */
    assert_int_equal(hart_get_x(h, 10), 42);
    assert_int_equal(h->arch.priv, PRV_M);
    assert_int_equal(h->arch.mcause, EXC_ECALL_S);
    assert_int_equal((h->arch.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, PRV_S);
    assert_int_equal(hart_get_pc(h), B + 0x200);
}

static void test_sret_tsr_and_wfi(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    h->arch.priv = PRV_S;
    h->arch.mstatus |= MSTATUS_TSR;
    hart_update_mmu_idx(h);
    TM_CODE(m, B, SRET);
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_ILLEGAL);
    assert_int_equal(h->arch.mtval, SRET);
    /* WFI in U-mode is illegal; in M it waits */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    TM_CODE(m, B, WFI, ADDI(1, 0, 1));
    assert_int_equal(hart_step(h, 10), 1);
    assert_true(h->arch.wfi);
    assert_int_equal(hart_step(h, 10), 0); /* nothing pending: stays asleep */
    h->arch.mie = MIP_MTIP;                /* enabled but MIE=0: wakes, no trap */
    hart_set_irq(h, IRQ_M_TIMER, true);
    hart_step(h, 1);
    assert_false(h->arch.wfi);
    assert_int_equal(hart_get_x(h, 1), 1);
}

static void test_interrupts(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x401); /* vectored */
    hart_set_x(h, 2, 1 << IRQ_M_TIMER);
    TM_CODE(m, B, CSRRW(0, 0x305, 1), CSRRW(0, 0x304, 2), CSRRSI(0, 0x300, 8), ADDI(3, 0, 1),
            ADDI(3, 0, 2));
    TM_CODE(m, B + 0x400 + 4 * IRQ_M_TIMER, ADDI(3, 0, 7));
    hart_step(h, 3);
    hart_set_irq(h, IRQ_M_TIMER, true);
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, (1ULL << 63) | IRQ_M_TIMER);
    assert_int_equal(h->arch.mepc, B + 12);
    assert_int_equal(hart_get_pc(h), B + 0x400 + 4 * IRQ_M_TIMER + 4);
    assert_int_equal(h->arch.mstatus & MSTATUS_MIE, 0);
    assert_int_equal(h->arch.mstatus & MSTATUS_MPIE, MSTATUS_MPIE);
    /* Priority: MEI over MTI; S interrupts delegated to S only below M. */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    h->arch.mie = MIP_MEIP | MIP_MTIP | MIP_SSIP;
    h->arch.mideleg = MIP_SSIP;
    h->arch.mstatus = MSTATUS_MIE;
    h->arch.mip_sw = MIP_SSIP;
    hart_set_irq(h, IRQ_M_TIMER, true);
    hart_set_irq(h, IRQ_M_EXT, true);
    assert_int_equal(hart_pending_interrupt(h), IRQ_M_EXT);
    hart_set_irq(h, IRQ_M_TIMER, false);
    hart_set_irq(h, IRQ_M_EXT, false);
    assert_int_equal(hart_pending_interrupt(h), -1); /* SSI delegated, M ignores it */
    h->arch.priv = PRV_U;
    assert_int_equal(hart_pending_interrupt(h), IRQ_S_SOFT);
}

static void test_amo_lrsc(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x1000);
    hart_set_x(h, 2, 5);
    hart_set_x(h, 6, (uint64_t)-7);
    tm_w64(m, B + 0x1000, 10);
    tm_w64(m, B + 0x1008, 3);
    TM_CODE(m, B, AMOADD_D(3, 1, 2), LR_D(4, 1), SC_D(5, 1, 2), SC_D(7, 1, 2), AMOMIN_W(8, 1, 6),
            AMOMAXU_D(9, 1, 2), AMOSWAP_D(10, 1, 2));
    hart_step(h, 7);
    assert_int_equal(hart_get_x(h, 3), 10);
    assert_int_equal(hart_get_x(h, 4), 15);
    assert_int_equal(hart_get_x(h, 5), 0); /* SC succeeded */
    assert_int_equal(hart_get_x(h, 7), 1); /* no reservation: fails */
    assert_int_equal(hart_get_x(h, 8), 5);
    assert_int_equal(hart_get_x(h, 9), 0xfffffff9ULL); /* amomin.w wrote -7 (low word) */
    assert_int_equal(hart_get_x(h, 10), 0xfffffff9ULL);
    assert_int_equal(tm_r64(m, B + 0x1000), 5);
    /* misaligned AMO: store/AMO misaligned; LR: load misaligned */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, B + 0x1004);
    TM_CODE(m, B, AMOADD_D(3, 1, 2));
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_STORE_MISALIGNED);
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, B + 0x1002);
    TM_CODE(m, B, LR_W(3, 1));
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_LOAD_MISALIGNED);
}

static void test_compressed(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    /* c.li a0,5; c.addi a0,3; c.mv a1,a0; c.add a1,a0; c.slli a1,2; c.j +4; c.li a0,0; c.nop */
    const uint16_t code[] = {0x4515, 0x050d, 0x85aa, 0x95aa, 0x058a, 0xa011, 0x4501, 0x0001};
    memcpy(tm_ptr(m, B), code, sizeof(code));
    hart_step(h, 7);
    assert_int_equal(hart_get_x(h, 10), 8);
    assert_int_equal(hart_get_x(h, 11), 64);
    assert_int_equal(hart_get_pc(h), B + 16);
}

static void test_self_modifying(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    /* Run "addi x5, x0, 1" at B+0x100, then overwrite it with "addi x5,x0,2" by a store,
     * fence.i, run again. */
    hart_set_x(h, 1, B + 0x100);
    hart_set_x(h, 2, ADDI(5, 0, 2));
    TM_CODE(m, B + 0x100, ADDI(5, 0, 1), JALR(0, 6, 0));
    TM_CODE(m, B, JALR(6, 1, 0), SW(2, 1, 0), FENCE_I, JALR(6, 1, 0), ADDI(7, 5, 0));
    hart_step(h, 3);
    assert_int_equal(hart_get_x(h, 5), 1);
    hart_step(h, 6);
    assert_int_equal(hart_get_x(h, 7), 2);
    /* Without FENCE.I a store by the hart is still seen (we invalidate on stores), and so
     * is a DMA write reported through bus_ram_written. */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, B + 0x100);
    hart_set_x(h, 2, ADDI(5, 0, 3));
    TM_CODE(m, B, SW(2, 1, 0), JALR(6, 1, 0), ADDI(7, 5, 0));
    hart_step(h, 5);
    assert_int_equal(hart_get_x(h, 7), 3);
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, B + 0x100);
    TM_CODE(m, B, JALR(6, 1, 0), ADDI(7, 5, 0));
    hart_step(h, 4);
    assert_int_equal(hart_get_x(h, 7), 3);
    TM_CODE(m, B + 0x100, ADDI(5, 0, 4)); /* DMA-style write */
    h->arch.pc = B;
    hart_step(h, 4);
    assert_int_equal(hart_get_x(h, 7), 4);
}

static void test_fp_loadstore(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 1, B + 0x1000);
    tm_w64(m, B + 0x1000, 0x3ff0000000000000ULL);
    TM_CODE(m, B, FLD(1, 1, 0));
    hart_step(h, 1);
    assert_int_equal(h->arch.mcause, EXC_ILLEGAL); /* FS = Off */
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    hart_set_x(h, 1, B + 0x1000);
    h->arch.mstatus |= 1ULL << MSTATUS_FS_SHIFT;
    TM_CODE(m, B, FLD(1, 1, 0), FLW(2, 1, 4), FSD(2, 1, 8));
    hart_step(h, 3);
    assert_int_equal(h->arch.fp.f[1], 0x3ff0000000000000ULL);
    assert_int_equal(h->arch.fp.f[2], 0xffffffff3ff00000ULL);
    assert_int_equal(tm_r64(m, B + 0x1008), 0xffffffff3ff00000ULL);
    assert_int_equal(h->arch.mstatus & MSTATUS_FS, MSTATUS_FS);
}

static void test_save_load(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_x(h, 7, 77);
    h->arch.mscratch = 1234;
    h->arch.satp = 8ULL << 60;
    h->arch.priv = PRV_S;
    struct state_writer w;
    state_writer_init(&w);
    hart_save(h, &w);
    hart_reset(h, B, 0, 0);
    test_pmp_open(h);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(hart_load(h, &r, HART_STATE_VERSION));
    assert_int_equal(hart_get_x(h, 7), 77);
    assert_int_equal(h->arch.mscratch, 1234);
    assert_int_equal(h->arch.satp, 8ULL << 60);
    assert_int_equal(h->arch.priv, PRV_S);
    state_reader_init(&r, w.buf, w.len / 2);
    assert_false(hart_load(h, &r, HART_STATE_VERSION));
    state_writer_free(&w);
}

/* H on, saved while V=1: V, the H/VS CSRs and FS (effective FS in
 * mstatus while V=1, HS's apart) come back; the state refuses to load
 * into a hart with H off, and an H-off state into one with H on. */
static void test_save_load_h(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    hart_set_h(h, true);
    h->arch.hgatp = 8ULL << 60 | 0x1234;
    h->arch.vsatp = 9ULL << 60;
    h->arch.vstimecmp = 555;
    h->arch.hstatus = HSTATUS_SPV;
    h->arch.mstatus |= 1ULL << MSTATUS_FS_SHIFT;  /* HS: Initial */
    h->arch.vsstatus |= 2ULL << MSTATUS_FS_SHIFT; /* VS: Clean */
    h->arch.priv = PRV_S;
    hart_set_virt(h, true);
    h->arch.mstatus |= MSTATUS_FS; /* dirtied by the guest */
    struct state_writer w;
    state_writer_init(&w);
    hart_save(h, &w);
    assert_true(h->arch.virt); /* saving changes nothing */
    hart_reset(h, B, 0, 0);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(hart_load(h, &r, HART_STATE_VERSION));
    assert_true(h->arch.virt);
    assert_int_equal(h->arch.priv, PRV_S);
    assert_int_equal(h->arch.hgatp, 8ULL << 60 | 0x1234);
    assert_int_equal(h->arch.vsatp, 9ULL << 60);
    assert_int_equal(h->arch.vstimecmp, 555);
    assert_int_equal(h->arch.hstatus, HSTATUS_SPV);
    assert_int_equal(h->fetch_idx, MMU_VS);
    hart_set_virt(h, false);
    assert_int_equal(h->arch.mstatus & MSTATUS_FS, MSTATUS_FS);
    assert_int_equal(h->arch.vsstatus & MSTATUS_FS, MSTATUS_FS);
    hart_set_h(h, false);
    state_reader_init(&r, w.buf, w.len);
    assert_false(hart_load(h, &r, HART_STATE_VERSION));
    state_writer_free(&w);
    state_writer_init(&w);
    hart_save(h, &w);
    hart_set_h(h, true);
    state_reader_init(&r, w.buf, w.len);
    assert_false(hart_load(h, &r, HART_STATE_VERSION));
    state_writer_free(&w);
}

/* An armed Sdtrig breakpoint (execute, M-mode, tcontrol.MTE set) comes
 * back from a snapshot and fires; trigger states this hart cannot hold
 * are refused. */
static void test_save_load_trigger(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    const uint64_t mc6_m_exec = 6ULL << 60 | 0x40 | 0x04;
    TM_CODE(m, B, ADDI(1, 0, 1), ADDI(2, 0, 2), ADDI(3, 0, 3));
    assert_true(csr_write(h, 0x305, B + 0x100)); /* mtvec */
    assert_true(csr_write(h, 0x7a0, 2));         /* tselect */
    assert_true(csr_write(h, 0x7a2, B + 8));     /* tdata2: the third instruction */
    assert_true(csr_write(h, 0x7a1, mc6_m_exec));
    assert_true(csr_write(h, 0x7a5, 8)); /* tcontrol.MTE */
    struct state_writer w;
    state_writer_init(&w);
    hart_save(h, &w);
    hart_reset(h, B, 0, 0); /* every trigger off */
    test_pmp_open(h);
    uint64_t v;
    assert_true(csr_read(h, 0x7a0, &v));
    assert_int_equal(v, 0);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(hart_load(h, &r, HART_STATE_VERSION));
    assert_true(csr_read(h, 0x7a0, &v));
    assert_int_equal(v, 2);
    assert_true(csr_read(h, 0x7a5, &v));
    assert_int_equal(v, 8);
    hart_step(h, 3);
    assert_int_equal(h->arch.mcause, EXC_BREAKPOINT);
    assert_int_equal(h->arch.mepc, B + 8);
    assert_int_equal(hart_get_x(h, 2), 2);
    assert_int_equal(hart_get_x(h, 3), 0); /* stopped before it */
    assert_true(csr_read(h, 0x7a1, &v));
    assert_int_equal(v, mc6_m_exec | 1ULL << 22); /* hit0 */
    assert_int_equal(h->arch.tcontrol, 0x80);     /* the trap: MPTE = MTE, MTE = 0 */

    /* The trigger block ends the stream: u32 count, u32 tselect, u8
     * tcontrol, then tdata1-3 of each of the 4 triggers. */
    size_t blk = w.len - 4 * 24, tsel = blk - 5, tctl = blk - 1;
    static const struct {
        size_t off;
        uint8_t byte;
        bool ok;
    } edit[] = {
        {2 * 24 + 7, 0x20, false}, /* tdata1 of trigger 2: type 2 (mcontrol) */
        {2 * 24 + 7, 0x68, false}, /* mcontrol6 with dmode (bit 59) */
        {2 * 24 + 0, 0xc4, false}, /* match 1 (napot) */
        {2 * 24 + 1, 0x01, true},  /* match 2 (>=) */
        {24 + 7, 0xf1, false},     /* trigger 1 disabled, with a stray bit */
        {16, 1, false},            /* tdata3 of trigger 0 not 0 */
    };
    for (size_t i = 0; i < sizeof(edit) / sizeof(edit[0]); i++) {
        uint8_t *p = w.buf + blk + edit[i].off, old = *p;
        *p = edit[i].byte;
        state_reader_init(&r, w.buf, w.len);
        bool ok = hart_load(h, &r, HART_STATE_VERSION);
        *p = old;
        assert_int_equal(ok, edit[i].ok);
    }
    w.buf[tsel] = 4; /* tselect past the last trigger */
    state_reader_init(&r, w.buf, w.len);
    assert_false(hart_load(h, &r, HART_STATE_VERSION));
    w.buf[tsel] = 2;
    w.buf[tctl] = 0x10; /* a tcontrol bit that is not there */
    state_reader_init(&r, w.buf, w.len);
    assert_false(hart_load(h, &r, HART_STATE_VERSION));
    w.buf[tctl] = 8;
    state_reader_init(&r, w.buf, w.len);
    assert_true(hart_load(h, &r, HART_STATE_VERSION));
    state_writer_free(&w);
}

struct scratch_dev {
    uint64_t reg[4];
    unsigned reads, writes;
};

static uint64_t scratch_read(void *dev, uint64_t off, unsigned size)
{
    struct scratch_dev *d = dev;
    (void)size;
    d->reads++;
    return d->reg[off / 8 % 4];
}

static void scratch_write(void *dev, uint64_t off, unsigned size, uint64_t v)
{
    struct scratch_dev *d = dev;
    (void)size;
    d->writes++;
    d->reg[off / 8 % 4] = v;
}

static const struct dev_ops scratch_ops = {
    .name = "scratch", .read = scratch_read, .write = scratch_write};

/* Device accesses go to the bus every time (also once the TLB knows the
 * page), and atomics on devices are access faults. */
static void test_mmio(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    struct scratch_dev dev = {.reg = {0, 7}};
    assert_true(bus_add_device(&m->bus, 0x10000000, 0x1000, &scratch_ops, &dev));
    hart_set_x(h, 1, 0x10000000);
    hart_set_x(h, 2, 42);
    TM_CODE(m, B, LD(3, 1, 8), SD(2, 1, 0), LD(4, 1, 0), SD(3, 1, 16), LD(5, 1, 16),
            AMOADD_D(6, 1, 2));
    hart_step(h, 6);
    assert_int_equal(hart_get_x(h, 3), 7);
    assert_int_equal(hart_get_x(h, 4), 42);
    assert_int_equal(hart_get_x(h, 5), 7);
    assert_int_equal(dev.reads, 3);
    assert_int_equal(dev.writes, 2);
    assert_int_equal(h->arch.mcause, EXC_STORE_ACCESS);
    assert_int_equal(h->arch.mtval, 0x10000000);
    bus_destroy(&m->bus); /* the device is on our stack: drop it before teardown */
    assert_true(bus_init(&m->bus, TEST_RAM_BASE, TEST_RAM_SIZE));
}

static void *run_hart(void *arg)
{
    struct hart *h = arg;
    while (hart_step(h, 100000) && !h->arch.wfi)
        ;
    return NULL;
}

/* Two harts on one bus: atomics from two threads, cross-hart code
 * modification made visible by FENCE.I, and freeing in either order. */
static void test_two_harts(void **state)
{
    struct test_machine *m = *state;
    struct hart *h0 = m->h, *h1 = hart_new(1, &m->bus, &m->clock);
    assert_non_null(h1);
    /* Each hart: x1 = counter address, 20000 x amoadd.d, then wfi. */
    for (unsigned i = 0; i < 2; i++) {
        uint64_t code = B + 0x1000 * i;
        TM_CODE(m, code, ADDI(2, 0, 1), LUI(3, 5 << 12), AMOADD_D(0, 1, 2), ADDI(3, 3, -1),
                BNE(3, 0, -8), WFI);
    }
    hart_reset(h1, B + 0x1000, 1, 0);
    test_pmp_open(h1);
    hart_set_x(h0, 1, B + 0x8000);
    hart_set_x(h1, 1, B + 0x8000);
    pthread_t t0, t1;
    pthread_create(&t0, NULL, run_hart, h0);
    pthread_create(&t1, NULL, run_hart, h1);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    assert_int_equal(tm_r64(m, B + 0x8000), 2 * (5 << 12));

    /* h0 runs "addi x5,x0,1" at B+0x3000; h1 rewrites it; h0 sees it after FENCE.I. */
    TM_CODE(m, B + 0x3000, ADDI(5, 0, 1), JALR(0, 6, 0));
    TM_CODE(m, B, JALR(6, 7, 0), FENCE_I, JALR(6, 7, 0), ADDI(8, 5, 0));
    hart_reset(h0, B, 0, 0);
    test_pmp_open(h0);
    hart_set_x(h0, 7, B + 0x3000);
    hart_step(h0, 3); /* jalr, addi, jalr back */
    assert_int_equal(hart_get_x(h0, 5), 1);
    TM_CODE(m, B + 0x2000, SW(2, 1, 0), WFI);
    hart_reset(h1, B + 0x2000, 0, 0);
    test_pmp_open(h1);
    hart_set_x(h1, 1, B + 0x3000);
    hart_set_x(h1, 2, ADDI(5, 0, 9));
    hart_step(h1, 1);
    hart_step(h0, 5); /* fence.i, jalr, addi, jalr, addi */
    assert_int_equal(hart_get_x(h0, 8), 9);

    /* A slot decoded from bytes another hart wrote and then restored must
     * not survive FENCE.I (the page snapshot alone would look unchanged). */
    TM_CODE(m, B + 0x4000, JALR(0, 6, 0), ADDI(5, 0, 1), JALR(0, 6, 0));
    TM_CODE(m, B, JALR(6, 7, 0), JALR(6, 10, 0), FENCE_I, JALR(6, 10, 0), ADDI(8, 5, 0));
    hart_reset(h0, B, 0, 0);
    test_pmp_open(h0);
    hart_set_x(h0, 7, B + 0x4000);  /* enters the page at +0 only */
    hart_set_x(h0, 10, B + 0x4004); /* the slot that will change */
    hart_step(h0, 2);               /* jalr; jalr back: page decoded, +4 not yet */
    uint32_t orig = ADDI(5, 0, 1), temp = ADDI(5, 0, 2);
    memcpy(tm_ptr(m, B + 0x4004), &temp, 4); /* as another hart's store: unreported */
    hart_step(h0, 3);                        /* jalr to +4: decodes addi x5,2; jalr back */
    assert_int_equal(hart_get_x(h0, 5), 2);
    memcpy(tm_ptr(m, B + 0x4004), &orig, 4); /* restored */
    hart_step(h0, 5);                        /* fence.i; jalr; addi; jalr; addi x8 */
    assert_int_equal(hart_get_x(h0, 8), 1);

    /* Free the first hart first: the DMA hook chain must stay intact. */
    hart_free(h0);
    m->h = NULL;
    TM_CODE(m, B + 0x2000, ADDI(9, 0, 3)); /* reported write runs h1's hook */
    hart_reset(h1, B + 0x2000, 0, 0);
    test_pmp_open(h1);
    hart_step(h1, 1);
    assert_int_equal(hart_get_x(h1, 9), 3);
    hart_free(h1);
    m->h = hart_new(0, &m->bus, &m->clock); /* for teardown */
}

/* A page that held code and is then only written (the guest reused it
 * for data) is detached from the decoded cache after a few hundred
 * stores, so stores stop taking the slow path; running code from it
 * again re-attaches it, and code stored into it meanwhile runs. */
static void test_code_page_reused_for_data(void **state)
{
    struct test_machine *m = *state;
    struct hart *h = m->h;
    const uint64_t page = B + 0x4000;
    TM_CODE(m, page, ADDI(5, 0, 1), JALR(0, 1, 0));
    TM_CODE(m, B, JAL(1, (int32_t)(page - B)), ADDI(6, 0, 300), SW(6, 7, 0), ADDI(6, 6, -1),
            BNE(6, 0, -8), SW(8, 9, 0), JAL(1, (int32_t)(page - (B + 24))), WFI);
    hart_set_x(h, 7, page + 0x800);  /* data in the code page */
    hart_set_x(h, 8, ADDI(5, 0, 2)); /* the new first instruction */
    hart_set_x(h, 9, page);
    for (int i = 0; i < 100 && !h->arch.wfi; i++)
        hart_step(h, 100000);
    assert_true(h->arch.wfi);
    assert_int_equal(hart_get_x(h, 5), 2);
    /* the first stores were slow-path code stores, the rest were not */
    assert_true(h->stats.code_store >= 200);
    assert_true(h->stats.code_store < 300);
}

/* The board drives harts only through the vCPU table (cpu/vcpu.h): the
 * software engine's reset sets pc and a0..a2, interrupt lines reach mip,
 * run returns after stop from another thread, and save/load round-trip. */
static void *vcpu_runner(void *arg)
{
    vcpu_run(arg);
    return NULL;
}

static void test_vcpu_soft(void **state)
{
    struct test_machine *m = *state;
    struct vcpu *v = vcpu_new(&vcpu_soft, 1, &m->bus, &m->clock);
    assert_non_null(v);
    assert_ptr_equal(v->ops, &vcpu_soft);
    struct hart *h = (struct hart *)(void *)((char *)v - offsetof(struct hart, vcpu));
    TM_CODE(m, B + 0x40, JAL(0, 0));
    vcpu_reset(v, B + 0x40, 1, 0x1234, 0x5678);
    assert_int_equal(hart_get_pc(h), B + 0x40);
    assert_int_equal(hart_get_x(h, 10), 1);
    assert_int_equal(hart_get_x(h, 11), 0x1234);
    assert_int_equal(hart_get_x(h, 12), 0x5678);
    assert_int_equal(h->arch.priv, PRV_M);

    struct irq_line line = {vcpu_irq_setter(v), v, IRQ_M_EXT};
    line.set(line.target, line.num, true);
    assert_true(hart_read_mip(h) & MIP_MEIP);
    line.set(line.target, line.num, false);
    assert_false(hart_read_mip(h) & MIP_MEIP);

    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, vcpu_runner, v), 0);
    usleep(20000);
    vcpu_stop(v);
    pthread_join(t, NULL);

    struct state_writer w;
    state_writer_init(&w);
    hart_set_x(h, 9, 99);
    vcpu_save(v, &w);
    vcpu_reset(v, B, 0, 0, 0);
    struct state_reader r;
    state_reader_init(&r, w.buf, w.len);
    assert_true(vcpu_load(v, &r, HART_STATE_VERSION));
    assert_int_equal(hart_get_x(h, 9), 99);
    assert_int_equal(hart_get_x(h, 12), 0x5678);
    state_writer_free(&w);
    vcpu_free(v);
}

/* Zbc on the host's PCLMULQDQ (when it has one) against the bit-by-bit
 * reference: edge values and random ones (the ISA tests check values
 * worked out in Python, too). */
static void test_clmul_matches_reference(void **state)
{
    (void)state;
    static const uint64_t edge[] = {0,
                                    1,
                                    2,
                                    0x8000000000000000ULL,
                                    UINT64_MAX,
                                    0x5555555555555555ULL,
                                    0x1edc6f41ULL,
                                    0x82f63b78ULL};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (unsigned n = 0; n < 20000; n++) {
        uint64_t a, b;
        if (n < 64) {
            a = edge[n % 8];
            b = edge[n / 8];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a = x;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b = n & 1 ? x : x & 0xffffffffULL;
        }
        uint64_t lo, hi;
        bm_clmul128_loop(a, b, &lo, &hi);
        assert_true(bm_CLMUL(a, b) == lo);
        assert_true(bm_CLMULH(a, b) == hi);
        assert_true(bm_CLMULR(a, b) == (hi << 1 | lo >> 63));
    }
    uint64_t lo, hi;
    bm_clmul128_loop(UINT64_MAX, UINT64_MAX, &lo, &hi);
    assert_true(lo == 0x5555555555555555ULL && hi == 0x5555555555555555ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vcpu_soft, setup, teardown),
        cmocka_unit_test_setup_teardown(test_muldiv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_and_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loads_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_across_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_illegal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecall_delegation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sret_tsr_and_wfi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amo_lrsc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_modifying, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fp_loadstore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load_h, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load_trigger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_harts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_page_reused_for_data, setup, teardown),
        cmocka_unit_test(test_clmul_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
