/* SPDX-License-Identifier: MIT */
/*
 * The instruction handlers, included twice by exec_loop.h: once for
 * 4-byte instructions (LEN 4, labels do_X_4) and once for compressed ones
 * (LEN 2, do_X_2), so that advancing to the next instruction is a
 * constant add instead of a dependent load of the length.
 *
 * Not clang-formatted: it cannot lay out labels made by macros.
 */
/* clang-format off */
LBL(DECODE): {
    left++;
    struct dinsn *dbase = d - ((pc & (PAGE_SIZE - 1)) >> 1);
    dcache_decode_slot(h, (struct dpage *)((char *)dbase - offsetof(struct dpage, insn)),
                       (unsigned)(pc & (PAGE_SIZE - 1)));
    DISPATCH();
}
LBL(END):
    left++;
    goto fetch;
LBL(CROSS):
    left++;
    goto slow_fetch;
LBL(JIT): {
    /* A compiled block starts here (see jit.h).  It counts its own
     * instructions and needs room for a whole block in the budget. */
    const uint8_t *code = jit_slot_code(d);
    if (EXEC_TRACE || left < JIT_MAX_INSNS) {
        h->tmp_insn[0] = *jit_code_orig(code);
        d = &h->tmp_insn[0];
        page = TLB_INVALID;
        GOTO_HANDLER();
    }
    left++;
    h->stats.jit_enter++;
    left = (uint64_t)jit_enter(h, code, (int64_t)left, pc, ltlb, stlb);
    pc = h->arch.pc;
    page = TLB_INVALID;
    if (unlikely(h->jit_exc)) {
        h->jit_exc = false;
        goto trap_fetch;
    }
    goto fetch;
}
LBL(ILLEGAL):
    ILLEGAL();
LBL(NOP):
    NEXT();

    /* ---- RV64I ---- */
LBL(LUI):
    x[d->rd] = (uint64_t)(int64_t)d->imm;
    NEXT();
LBL(AUIPC):
    x[d->rd] = pc + (uint64_t)(int64_t)d->imm;
    NEXT();
LBL(JAL):
    x[d->rd] = pc + LEN;
    JUMP(pc + (uint64_t)(int64_t)d->imm);
LBL(JALR): {
    uint64_t t = (x[d->rs1] + (uint64_t)(int64_t)d->imm) & ~1ULL;
    x[d->rd] = pc + LEN;
    JUMP(t);
}
#define BRANCH(name, cond)                                                                         \
    LBL(name):                                                                                     \
    if (cond)                                                                                      \
        JUMP(pc + (uint64_t)(int64_t)d->imm);                                                      \
    NEXT();
    BRANCH(BEQ, x[d->rs1] == x[d->rs2])
    BRANCH(BNE, x[d->rs1] != x[d->rs2])
    BRANCH(BLT, (int64_t)x[d->rs1] < (int64_t)x[d->rs2])
    BRANCH(BGE, (int64_t)x[d->rs1] >= (int64_t)x[d->rs2])
    BRANCH(BLTU, x[d->rs1] < x[d->rs2])
    BRANCH(BGEU, x[d->rs1] >= x[d->rs2])

#define LOAD(name, T, SZ)                                                                          \
    LBL(name): {                                                                                   \
        uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;                                       \
        struct tlb_entry *e = &ltlb[(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];                              \
        if (likely(e->tag == TLB_FAST_TAG(va, SZ))) {                                              \
            T v;                                                                                   \
            memcpy(&v, (const void *)(e->addend + va), SZ);                                        \
            x[d->rd] = (uint64_t)v;                                                                \
        } else {                                                                                   \
            uint64_t v;                                                                            \
            h->arch.pc = pc;                                                                            \
            if (!mem_load_slow(h, va, SZ, &v))                                                     \
                goto trap;                                                                         \
            x[d->rd] = (uint64_t)(T)v;                                                             \
        }                                                                                          \
        NEXT();                                                                                    \
    }
    LOAD(LB, int8_t, 1)
    LOAD(LH, int16_t, 2)
    LOAD(LW, int32_t, 4)
    LOAD(LD, uint64_t, 8)
    LOAD(LBU, uint8_t, 1)
    LOAD(LHU, uint16_t, 2)
    LOAD(LWU, uint32_t, 4)

#define STORE_VAL(va, SZ, val)                                                                     \
    do {                                                                                           \
        struct tlb_entry *e = &stlb[(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];                              \
        if (likely(e->tag == TLB_FAST_TAG(va, SZ))) {                                              \
            memcpy((void *)(e->addend + va), &(val), SZ);                                          \
        } else {                                                                                   \
            h->arch.pc = pc;                                                                            \
            if (!mem_store_slow(h, va, SZ, (uint64_t)(val)))                                       \
                goto trap;                                                                         \
        }                                                                                          \
    } while (0)
#define STORE(name, T, SZ)                                                                         \
    LBL(name): {                                                                                   \
        uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;                                       \
        T v = (T)x[d->rs2];                                                                        \
        STORE_VAL(va, SZ, v);                                                                      \
        NEXT();                                                                                    \
    }
    STORE(SB, uint8_t, 1)
    STORE(SH, uint16_t, 2)
    STORE(SW, uint32_t, 4)
    STORE(SD, uint64_t, 8)

#define ALU(name, expr)                                                                            \
    LBL(name): {                                                                                   \
        uint64_t a = x[d->rs1];                                                                    \
        uint64_t b = x[d->rs2];                                                                    \
        int64_t imm = d->imm;                                                                      \
        (void)a;                                                                                   \
        (void)b;                                                                                   \
        (void)imm;                                                                                 \
        x[d->rd] = (expr);                                                                         \
        NEXT();                                                                                    \
    }
    ALU(ADDI, a + (uint64_t)imm)
    ALU(SLTI, (int64_t)a < imm)
    ALU(SLTIU, a < (uint64_t)imm)
    ALU(XORI, a ^ (uint64_t)imm)
    ALU(ORI, a | (uint64_t)imm)
    ALU(ANDI, a & (uint64_t)imm)
    ALU(SLLI, a << imm)
    ALU(SRLI, a >> imm)
    ALU(SRAI, (uint64_t)((int64_t)a >> imm))
    ALU(ADD, a + b)
    ALU(SUB, a - b)
    ALU(SLL, a << (b & 63))
    ALU(SLT, (int64_t)a < (int64_t)b)
    ALU(SLTU, a < b)
    ALU(XOR, a ^ b)
    ALU(SRL, a >> (b & 63))
    ALU(SRA, (uint64_t)((int64_t)a >> (b & 63)))
    ALU(OR, a | b)
    ALU(AND, a & b)
    ALU(ADDIW, SEXT32(a + (uint64_t)imm))
    ALU(SLLIW, SEXT32((uint32_t)a << imm))
    ALU(SRLIW, SEXT32((uint32_t)a >> imm))
    ALU(SRAIW, SEXT32((int32_t)a >> imm))
    ALU(ADDW, SEXT32(a + b))
    ALU(SUBW, SEXT32(a - b))
    ALU(SLLW, SEXT32((uint32_t)a << (b & 31)))
    ALU(SRLW, SEXT32((uint32_t)a >> (b & 31)))
    ALU(SRAW, SEXT32((int32_t)a >> (b & 31)))

    /* ---- M ---- */
    ALU(MUL, a * b)
    ALU(MULH, (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64))
    ALU(MULHSU, alu_mulhsu(a, b))
    ALU(MULHU, (uint64_t)(((unsigned __int128)a * b) >> 64))
    ALU(DIV, alu_div(a, b))
    ALU(DIVU, alu_divu(a, b))
    ALU(REM, alu_rem(a, b))
    ALU(REMU, alu_remu(a, b))
    ALU(MULW, SEXT32((uint32_t)a * (uint32_t)b))
    ALU(DIVW, alu_divw(a, b))
    ALU(DIVUW, alu_divuw(a, b))
    ALU(REMW, alu_remw(a, b))
    ALU(REMUW, alu_remuw(a, b))

    /* ---- Zba, Zbb, Zbc, Zbs, Zbkb, Zbkc, Zbkx, Zicond (cpu/bitmanip.h) ---- */
#define BM_RR(name) ALU(name, bm_##name(a, b))
#define BM_RI(name) ALU(name, bm_##name(a, (uint64_t)imm))
    DECODE_OPS_RR(BM_RR)
    DECODE_OPS_RI(BM_RI)
#undef BM_RR
#undef BM_RI

    /* ---- System ---- */
LBL(FENCE):
    /* Only another hart can observe the order (see decode.c). */
    if (atomic_load_explicit(&h->shared->nharts, memory_order_relaxed) > 1)
        atomic_thread_fence(memory_order_seq_cst);
    NEXT();
LBL(FENCE_I):
    /* This hart's own stores and DMA already invalidate decoded code (see
     * hart_internal.h); only stores by other harts can leave it stale. */
    pc += LEN;
    if (atomic_load_explicit(&h->shared->nharts, memory_order_relaxed) > 1) {
        h->dgen++;
        page = TLB_INVALID;
    }
    goto fetch;
LBL(ECALL):
    RAISE(h->arch.priv == PRV_U   ? EXC_ECALL_U
          : h->arch.priv == PRV_S ? EXC_ECALL_S + h->arch.virt /* 10: from VS */
                                  : EXC_ECALL_M,
          0);
LBL(EBREAK):
    RAISE(EXC_BREAKPOINT, pc);
LBL(MRET): {
    if (unlikely(h->h_on)) {
        unsigned cause = hart_mret_h(h);
        if (cause)
            RAISE(cause, d->raw);
        pc = h->arch.pc;
        page = TLB_INVALID;
        goto out;
    }
    if (h->arch.priv != PRV_M)
        ILLEGAL();
    uint64_t st = h->arch.mstatus;
    unsigned mpp = (unsigned)((st & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    st = (st & ~MSTATUS_MIE) | ((st & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
    st |= MSTATUS_MPIE;
    st &= ~MSTATUS_MPP;
    if (mpp != PRV_M)
        st &= ~MSTATUS_MPRV;
    h->arch.mstatus = st;
    tcontrol_mret(&h->arch);
    h->arch.priv = mpp;
    hart_update_mmu_idx(h);
    pc = h->arch.mepc;
    page = TLB_INVALID;
    goto out; /* interrupts may now be enabled */
}
LBL(SRET): {
    if (unlikely(h->h_on)) {
        unsigned cause = hart_sret_h(h);
        if (cause)
            RAISE(cause, d->raw);
        pc = h->arch.pc;
        page = TLB_INVALID;
        goto out;
    }
    if (h->arch.priv == PRV_U || (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TSR)))
        ILLEGAL();
    uint64_t st = h->arch.mstatus;
    unsigned spp = (st & MSTATUS_SPP) ? PRV_S : PRV_U;
    st = (st & ~MSTATUS_SIE) | ((st & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
    st |= MSTATUS_SPIE;
    st &= ~(MSTATUS_SPP | MSTATUS_MPRV);
    h->arch.mstatus = st;
    h->arch.priv = spp;
    hart_update_mmu_idx(h);
    pc = h->arch.sepc;
    page = TLB_INVALID;
    goto out;
}
LBL(WFI):
    if (unlikely(h->h_on)) {
        unsigned cause = hart_priv_check_h(h, OP_WFI);
        if (cause)
            RAISE(cause, d->raw);
    } else if (h->arch.priv == PRV_U ||
               (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TW)))
        ILLEGAL();
    pc += LEN;
    h->arch.wfi = true;
    goto out;
LBL(SFENCE_VMA):
    if (unlikely(h->h_on)) {
        unsigned cause = hart_priv_check_h(h, OP_SFENCE_VMA);
        if (cause)
            RAISE(cause, d->raw);
        if (h->arch.virt) { /* the guest's own (VS-stage) mappings only */
            if (d->rs1 == 0)
                tlb_flush_sets(h, MMU_VIRT_SETS);
            else
                tlb_flush_va_sets(h, x[d->rs1], MMU_VIRT_SETS);
            pc += LEN;
            page = TLB_INVALID;
            goto fetch;
        }
    } else if (h->arch.priv == PRV_U ||
               (h->arch.priv == PRV_S && (h->arch.mstatus & MSTATUS_TVM)))
        ILLEGAL();
    if (d->rs1 == 0 && d->rs2 != 0)
        tlb_flush_asid(h, x[d->rs2]);
    else if (d->rs1 == 0)
        tlb_flush_all(h);
    else
        tlb_flush_va(h, x[d->rs1]);
    pc += LEN;
    page = TLB_INVALID;
    goto fetch;

LBL(CSRRW):
LBL(CSRRS):
LBL(CSRRC):
LBL(CSRRWI):
LBL(CSRRSI):
LBL(CSRRCI):
    h->arch.pc = pc;
    SYNC_COUNTERS();
    if (!cpu_csr(h, d))
        goto trap;
    /* A write may have changed privilege, translation or interrupts. */
    page = TLB_INVALID;
    ltlb = h->tlb[ACC_LOAD][h->ls_idx];
    stlb = h->tlb[ACC_STORE][h->ls_idx];
    pc += LEN;
    goto fetch;

    /* ---- A ---- */
LBL(LR_W):
LBL(SC_W):
LBL(AMOSWAP_W):
LBL(AMOADD_W):
LBL(AMOXOR_W):
LBL(AMOAND_W):
LBL(AMOOR_W):
LBL(AMOMIN_W):
LBL(AMOMAX_W):
LBL(AMOMINU_W):
LBL(AMOMAXU_W):
LBL(LR_D):
LBL(SC_D):
LBL(AMOSWAP_D):
LBL(AMOADD_D):
LBL(AMOXOR_D):
LBL(AMOAND_D):
LBL(AMOOR_D):
LBL(AMOMIN_D):
LBL(AMOMAX_D):
LBL(AMOMINU_D):
LBL(AMOMAXU_D):
    h->arch.pc = pc;
    if (!cpu_amo(h, d))
        goto trap;
    NEXT();

    /* ---- Svinval: sinval.vma is sfence.vma; the ordering fences around
     * it order nothing here (the TLB is updated synchronously) ---- */
LBL(SFENCE_INVAL):
    if (h->arch.priv == PRV_U)
        RAISE(h->arch.virt ? EXC_VIRTUAL_INSN : EXC_ILLEGAL, d->raw);
    NEXT();

    /* ---- H: hlv/hlvx/hsv, hfence.vvma/gvma (hext.c; illegal when off) ---- */
LBL(HLSV):
    h->arch.pc = pc;
    if (!cpu_hlsv(h, d))
        goto trap;
    NEXT();
LBL(HFENCE):
    h->arch.pc = pc;
    if (!cpu_hfence(h, d))
        goto trap;
    pc += LEN;
    page = TLB_INVALID;
    goto fetch;

    /* ---- Zacas ---- */
LBL(AMOCAS_W):
LBL(AMOCAS_D):
LBL(AMOCAS_Q):
    h->arch.pc = pc;
    if (!cpu_amocas(h, d))
        goto trap;
    NEXT();

    /* ---- Zicbom, Zicboz (prefetches are ORI to x0: NOPs) ---- */
LBL(CBO_ZERO):
LBL(CBO_CLEAN):
LBL(CBO_INVAL):
    h->arch.pc = pc;
    if (!cpu_cbo(h, d))
        goto trap;
    NEXT();

    /* ---- Zawrs: the stall may end at any time, so it ends at once, with
     * the slice: the run loop polls interrupts and other harts get the
     * host core (wrs.nto never spins here, and TW never traps it) ---- */
LBL(WRS):
    pc += LEN;
    if (h->arch.res_valid)
        sched_yield();
    goto out;

    /* ---- F/D loads and stores; the rest goes to the FPU ---- */
LBL(FLH):
LBL(FLW):
LBL(FLD): {
    if (!fp_enabled(h))
        ILLEGAL();
    uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;
    uint64_t v;
    unsigned sz = d->op == OP_FLW ? 4 : d->op == OP_FLH ? 2 : 8;
    struct tlb_entry *e = &ltlb[(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (likely(e->tag == TLB_FAST_TAG(va, sz))) {
        v = 0;
        memcpy(&v, (const void *)(e->addend + va), sz);
    } else {
        h->arch.pc = pc;
        if (!mem_load_slow(h, va, sz, &v))
            goto trap;
    }
    h->arch.fp.f[d->rd] = sz == 4 ? fpu_box32((uint32_t)v) : sz == 2 ? fpu_box16((uint16_t)v) : v;
    h->arch.mstatus |= MSTATUS_FS;
    NEXT();
}
LBL(FSH): {
    if (!fp_enabled(h))
        ILLEGAL();
    uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;
    uint16_t v = (uint16_t)h->arch.fp.f[d->rs2];
    STORE_VAL(va, 2, v);
    NEXT();
}
LBL(FSW): {
    if (!fp_enabled(h))
        ILLEGAL();
    uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;
    uint32_t v = (uint32_t)h->arch.fp.f[d->rs2];
    STORE_VAL(va, 4, v);
    NEXT();
}
LBL(FSD): {
    if (!fp_enabled(h))
        ILLEGAL();
    uint64_t va = x[d->rs1] + (uint64_t)(int64_t)d->imm;
    uint64_t v = h->arch.fp.f[d->rs2];
    STORE_VAL(va, 8, v);
    NEXT();
}
LBL(FP):
    if (!fp_enabled(h) || !fpu_execute(&h->arch.fp, x, d->raw)) {
        x[0] = 0;
        ILLEGAL();
    }
    x[0] = 0;
    h->arch.mstatus |= MSTATUS_FS;
    NEXT();
/* clang-format on */
