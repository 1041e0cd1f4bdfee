/* SPDX-License-Identifier: MIT */
/* Sv39/Sv48 translation: page tables written into RAM, walked by the hart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_cpu_asm.h"

#define B TEST_RAM_BASE

#define PTE_V (1ULL << 0)
#define PTE_R (1ULL << 1)
#define PTE_W (1ULL << 2)
#define PTE_X (1ULL << 3)
#define PTE_U (1ULL << 4)
#define PTE_A (1ULL << 6)
#define PTE_D (1ULL << 7)
#define RWXAD (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

struct mmu_env {
    struct test_machine *m;
    uint64_t root;
    uint64_t next_table; /* bump allocator for tables */
    unsigned levels;
};

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << 10) | flags;
}

static uint64_t alloc_table(struct mmu_env *e)
{
    uint64_t t = e->next_table;
    e->next_table += 4096;
    memset(tm_ptr(e->m, t), 0, 4096);
    return t;
}

/* Maps va -> pa with a leaf at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB). */
static uint64_t map(struct mmu_env *e, uint64_t va, uint64_t pa, uint64_t flags, unsigned level)
{
    uint64_t table = e->root;
    for (int i = (int)e->levels - 1; i > (int)level; i--) {
        uint64_t slot = table + ((va >> (12 + 9 * i)) & 511) * 8;
        uint64_t p = tm_r64(e->m, slot);
        if (!(p & PTE_V)) {
            uint64_t t = alloc_table(e);
            p = pte(t, PTE_V);
            tm_w64(e->m, slot, p);
        }
        table = ((p >> 10) << 12);
    }
    uint64_t slot = table + ((va >> (12 + 9 * level)) & 511) * 8;
    tm_w64(e->m, slot, pte(pa, flags));
    return slot;
}

static int setup_mode(void **state, unsigned levels)
{
    struct mmu_env *e = calloc(1, sizeof(*e));
    e->m = tm_new();
    e->levels = levels;
    e->next_table = B + 0x100000;
    e->root = alloc_table(e);
    e->m->h->arch.satp =
        ((uint64_t)(levels == 3 ? SATP_MODE_SV39 : SATP_MODE_SV48) << 60) | (e->root >> 12);
    *state = e;
    return 0;
}
static int setup39(void **state)
{
    return setup_mode(state, 3);
}
static int setup48(void **state)
{
    return setup_mode(state, 4);
}
static int teardown(void **state)
{
    struct mmu_env *e = *state;
    tm_free(e->m);
    free(e);
    return 0;
}

static enum mmu_result tr(struct mmu_env *e, uint64_t va, int acc, unsigned idx, uint64_t *pa)
{
    bool super;
    tlb_flush_all(e->m->h);
    return mmu_translate(e->m->h, va, acc, idx, pa, &super);
}

static void test_basic_4k(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0x1000, B + 0x200000, RWXAD, 0);
    assert_int_equal(tr(e, 0x1234, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x200234);
    assert_int_equal(tr(e, 0x1ff8, ACC_STORE, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x200ff8);
    assert_int_equal(tr(e, 0x2000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    /* M-mode ignores satp */
    assert_int_equal(tr(e, 0x2000, ACC_LOAD, MMU_M, &pa), MMU_OK);
    assert_int_equal(pa, 0x2000);
}

static void test_bad_ptes(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0x1000, B + 0x200000, PTE_V | PTE_W | PTE_A | PTE_D, 0); /* W without R */
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    map(e, 0x1000, B + 0x200000, RWXAD | (1ULL << 60), 0); /* reserved bit */
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    map(e, 0x1000, B + 0x200000, RWXAD | (1ULL << 63), 0); /* N without Svnapot */
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    map(e, 0x1000, B + 0x200000, RWXAD & ~PTE_V, 0);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    /* A pointer PTE at the last level is a fault */
    map(e, 0x1000, B + 0x200000, PTE_V, 0);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_permissions(void **state)
{
    struct mmu_env *e = *state;
    struct hart *h = e->m->h;
    uint64_t pa;
    map(e, 0x1000, B + 0x200000, PTE_V | PTE_R | PTE_A | PTE_D, 0);
    map(e, 0x2000, B + 0x201000, PTE_V | PTE_X | PTE_A, 0);
    assert_int_equal(tr(e, 0x1000, ACC_STORE, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x1000, ACC_FETCH, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x2000, ACC_FETCH, MMU_S, &pa), MMU_OK);
    assert_int_equal(tr(e, 0x2000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    h->arch.mstatus |= MSTATUS_MXR;
    assert_int_equal(tr(e, 0x2000, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x201000);
    assert_int_equal(tr(e, 0x2000, ACC_STORE, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_user_sum(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0x1000, B + 0x200000, RWXAD | PTE_U, 0);
    map(e, 0x2000, B + 0x201000, RWXAD, 0);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_U, &pa), MMU_OK);
    assert_int_equal(tr(e, 0x1000, ACC_FETCH, MMU_U, &pa), MMU_OK);
    assert_int_equal(tr(e, 0x2000, ACC_LOAD, MMU_U, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x2000, ACC_FETCH, MMU_U, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x1000, ACC_STORE, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_SSUM, &pa), MMU_OK);
    assert_int_equal(tr(e, 0x1000, ACC_STORE, MMU_SSUM, &pa), MMU_OK);
    /* S never executes user pages, SUM or not */
    assert_int_equal(tr(e, 0x1000, ACC_FETCH, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_accessed_dirty(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    uint64_t slot = map(e, 0x1000, B + 0x200000, PTE_V | PTE_R | PTE_W, 0);
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(tm_r64(e->m, slot) & (PTE_A | PTE_D), PTE_A);
    assert_int_equal(tr(e, 0x1000, ACC_STORE, MMU_S, &pa), MMU_OK);
    assert_int_equal(tm_r64(e->m, slot) & (PTE_A | PTE_D), PTE_A | PTE_D);
    /* A fault leaves A alone */
    uint64_t slot2 = map(e, 0x2000, B + 0x201000, PTE_V | PTE_R, 0);
    assert_int_equal(tr(e, 0x2000, ACC_STORE, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tm_r64(e->m, slot2) & (PTE_A | PTE_D), 0);
}

static void test_superpages(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0x40000000, B, RWXAD, 2);               /* 1 GiB */
    map(e, 0x200000, B + 0x400000, RWXAD, 1);      /* 2 MiB */
    map(e, 0x400000, B + 0x401000, RWXAD, 1);      /* misaligned 2 MiB */
    map(e, 0x80000000ULL, B + 0x200000, RWXAD, 2); /* misaligned 1 GiB */
    assert_int_equal(tr(e, 0x40123456, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x123456);
    assert_int_equal(tr(e, 0x3fffff, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x5fffff);
    assert_int_equal(tr(e, 0x400000, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x80000000ULL, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_canonical39(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0xffffffffc0000000ULL, B, RWXAD, 2); /* top gigapage (sign-extended) */
    assert_int_equal(tr(e, 0xffffffffc0001000ULL, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x1000);
    /* bit 38 set but bits 63:39 clear: not canonical */
    assert_int_equal(tr(e, 0x0000007fc0001000ULL, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x0000008000001000ULL, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_sv48(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    map(e, 0x0000123456789000ULL, B + 0x300000, RWXAD, 0);
    map(e, 0xffff800000000000ULL, B, RWXAD, 2);
    map(e, 0x0000008000000000ULL, B, RWXAD, 3); /* 512 GiB page: ppn must be 0 mod 2^27 */
    assert_int_equal(tr(e, 0x0000123456789abcULL, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x300abc);
    assert_int_equal(tr(e, 0xffff800000000010ULL, ACC_LOAD, MMU_S, &pa), MMU_OK);
    assert_int_equal(pa, B + 0x10);
    assert_int_equal(tr(e, 0x0000800000000000ULL, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
    assert_int_equal(tr(e, 0x0000008000000000ULL, ACC_LOAD, MMU_S, &pa), MMU_PAGE_FAULT);
}

static void test_pte_outside_ram(void **state)
{
    struct mmu_env *e = *state;
    uint64_t pa;
    e->m->h->arch.satp = (8ULL << 60) | (0x10000000ULL >> 12); /* root table in MMIO space */
    assert_int_equal(tr(e, 0x1000, ACC_LOAD, MMU_S, &pa), MMU_ACCESS_FAULT);
}

/* Runs code in S-mode with translation through the whole hart. */
static void test_through_hart(void **state)
{
    struct mmu_env *e = *state;
    struct test_machine *m = e->m;
    struct hart *h = m->h;
    map(e, 0x80000000ULL, B, RWXAD, 2); /* identity for code */
    map(e, 0x1000, B + 0x200000, RWXAD, 0);
    map(e, 0x2000, B + 0x205000, RWXAD, 0); /* not contiguous with 0x1000 */
    uint64_t ro = map(e, 0x3000, B + 0x206000, PTE_V | PTE_R | PTE_A, 0);
    (void)ro;
    tm_w64(m, B + 0x200ff8, 0x1122334455667788ULL);
    tm_w64(m, B + 0x205000, 0x99aabbccddeeff00ULL);
    h->arch.medeleg = 1 << EXC_LOAD_PAGE | 1 << EXC_STORE_PAGE;
    h->arch.stvec = B + 0x800;
    h->arch.priv = PRV_S;
    hart_update_mmu_idx(h);
    tlb_flush_all(h);
    hart_set_x(h, 1, 0x1800);
    hart_set_x(h, 2, 0x3000);
    TM_CODE(m, B, LD(3, 1, 0x7f8), LD(4, 1, 0x7fc), SD(4, 1, 0x7fc), LD(5, 1, 0x7fc), LD(6, 2, 0),
            SD(6, 2, 0));
    hart_step(h, 5);
    assert_int_equal(hart_get_x(h, 3), 0x1122334455667788ULL);
    assert_int_equal(hart_get_x(h, 4), 0xddeeff0011223344ULL); /* misaligned across pages */
    assert_int_equal(hart_get_x(h, 5), 0xddeeff0011223344ULL);
    assert_int_equal(hart_get_x(h, 6), 0);
    hart_step(h, 1); /* store to a read-only page */
    assert_int_equal(h->arch.priv, PRV_S);
    assert_int_equal(h->arch.scause, EXC_STORE_PAGE);
    assert_int_equal(h->arch.stval, 0x3000);
    assert_int_equal(h->arch.sepc, B + 20);
    assert_int_equal(hart_get_pc(h), B + 0x800);

    /* Remap 0x1000 and sfence.vma: the TLB entry must go. */
    h->arch.pc = B + 0x100;
    hart_set_x(h, 7, 0x1000);
    TM_CODE(m, B + 0x100, LD(3, 7, 0), SFENCE_VMA(7, 0), LD(8, 7, 0));
    tm_w64(m, B + 0x200000, 111);
    tm_w64(m, B + 0x207000, 222);
    hart_step(h, 1);
    assert_int_equal(hart_get_x(h, 3), 111);
    map(e, 0x1000, B + 0x207000, RWXAD, 0);
    hart_step(h, 2);
    assert_int_equal(hart_get_x(h, 8), 222);

    /* M-mode with MPRV and MPP=S translates loads but not fetches. */
    h->arch.priv = PRV_M;
    h->arch.mstatus = (h->arch.mstatus & ~MSTATUS_MPP) | (1ULL << MSTATUS_MPP_SHIFT) | MSTATUS_MPRV;
    hart_update_mmu_idx(h);
    h->arch.pc = B + 0x200;
    TM_CODE(m, B + 0x200, LD(9, 7, 0));
    hart_step(h, 1);
    assert_int_equal(hart_get_x(h, 9), 222);
}

/* Two pages at the same load-TLB index, read in turn by a loop: the
 * victim entries serve the one the other pushed out (no walk), and an
 * sfence.vma of a remapped page leaves no victim to serve the old
 * mapping, whichever of the two pages sits in the set at the time. */
static void test_load_victims(void **state)
{
    struct mmu_env *e = *state;
    struct test_machine *m = e->m;
    struct hart *h = m->h;
    map(e, 0x80000000ULL, B, RWXAD, 2); /* identity for code */
    map(e, 0x1000, B + 0x200000, RWXAD, 0);
    map(e, 0x101000, B + 0x201000, RWXAD, 0); /* index (va >> 12) & 255 = 1 as well */
    tm_w64(m, B + 0x200000, 1);
    tm_w64(m, B + 0x201000, 1000);
    tm_w64(m, B + 0x202000, 7);
    tm_w64(m, B + 0x203000, 9);
    h->arch.priv = PRV_S;
    hart_update_mmu_idx(h);
    tlb_flush_all(h);
    hart_set_x(h, 1, 0x1000);
    hart_set_x(h, 2, 0x101000);
    hart_set_x(h, 5, 20);
    TM_CODE(m, B, LD(3, 1, 0), LD(4, 2, 0), ADD(6, 6, 3), ADD(6, 6, 4), ADDI(5, 5, -1),
            BNE(5, 0, -20));
    uint64_t hits = h->stats.load_victim_hits;
    hart_step(h, 6 * 20);
    assert_int_equal(hart_get_x(h, 6), 20 * 1001);
    assert_true(h->stats.load_victim_hits - hits >= 2 * 20 - 3);

    /* 0x101000 in the set, 0x1000 a victim: remap the victim's page. */
    map(e, 0x1000, B + 0x202000, RWXAD, 0);
    h->arch.pc = B + 0x100;
    TM_CODE(m, B + 0x100, SFENCE_VMA(1, 0), LD(7, 1, 0), LD(8, 2, 0));
    hart_step(h, 3);
    assert_int_equal(hart_get_x(h, 7), 7);
    assert_int_equal(hart_get_x(h, 8), 1000);
    /* Now 0x1000 is in the set again: remap 0x101000, which sits among the victims, with an
     * sfence.vma of its address only. */
    map(e, 0x101000, B + 0x203000, RWXAD, 0);
    h->arch.pc = B + 0x200;
    TM_CODE(m, B + 0x200, LD(7, 1, 0), SFENCE_VMA(2, 0), LD(8, 2, 0), LD(9, 1, 0));
    hart_step(h, 4);
    assert_int_equal(hart_get_x(h, 7), 7);
    assert_int_equal(hart_get_x(h, 8), 9);
    assert_int_equal(hart_get_x(h, 9), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_4k, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ptes, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_user_sum, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_accessed_dirty, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_superpages, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_canonical39, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_sv48, setup48, teardown),
        cmocka_unit_test_setup_teardown(test_basic_4k, setup48, teardown),
        cmocka_unit_test_setup_teardown(test_pte_outside_ram, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_through_hart, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_load_victims, setup39, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
