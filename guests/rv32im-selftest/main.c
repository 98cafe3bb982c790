/*
 * rv32im-selftest - executes every RV32IM instruction (EBREAK aside) on edge-case operands
 * and commits SHA-256 of all results, so one 32-byte journal checks a whole interpreter or
 * prover against the RISC-V spec.
 *
 * Input:   none, or one u32 flag: 1 = also WRITE the raw result words to stdout (debugging).
 * Journal: SHA-256(r_0 || r_1 || ... || r_{k-1}), 32 bytes, where every r_i is a u32 LE in
 *          exactly this order (tests/test_guests_selftest.py recomputes it from the spec):
 *
 *  VALS = 0, 1, 2, 32, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF9 (-7), 0x12345678
 *
 *  1. R-type: for op in add sub sll slt sltu xor srl sra or and mul mulh mulhsu mulhu div
 *     divu rem remu, for a in VALS, for b in VALS: op(a, b).            (18 * 81 results)
 *  2. I-type: for op in addi slti sltiu xori ori andi, for imm in 0 1 -1 2047 -2048,
 *     for a in VALS: op(a, imm).                                        (6 * 5 * 9)
 *  3. Shifts by immediate: for op in slli srli srai, for shamt in 0 1 5 31, for a in VALS.
 *  4. LUI imm for imm in 0 1 0x80000 0xFFFFF 0x12345: imm << 12.
 *     AUIPC imm for imm in 0 1 0x80000 0xFFFFF: result - (address of the auipc) = imm << 12.
 *  5. Branches, forward: for op in beq bne blt bge bltu bgeu, for a in VALS, for b in VALS:
 *     1 if taken else 0. Backward: a bne loop counting 5 down (5), a bltu loop counting
 *     0..7 up (7), a bge loop stepping t = -3, -4, ... while t >= -8 (6).
 *  6. JAL: link - (address of the jal) = 4, then 0 (the skipped instruction did not run).
 *     JALR, five cases: (target, imm 0), (target, imm 1: odd sum, bit 0 cleared),
 *     (target + 1, imm 0), (target + 3, imm -3), (rd = rs1, imm 0); each pushes
 *     link - (address of the jalr) = 4 and 0 (skipped instruction did not run).
 *  7. Loads from MEM = {0x80FF7F01, 0x7FFF8000, 0x12345678, 0xFEDCBA98} with the base
 *     register at MEM + 8: lb and then lbu at offsets -8..7; lh then lhu at -8,-6,..,6;
 *     lw at -8,-4,0,4. Values sign- or zero-extended to 32 bits.
 *  8. Stores into four words filled with 0xA5A5A5A5, base at word 2 (byte offset 8); after
 *     each store the four words are pushed: sb 0x123456F0 at -5,0,1,2,3,7; sh 0xBEEF8001 at
 *     -6,-2,0,2,6; sw 0xCAFEBABE at -8,0,4.
 *  9. Writes to x0 (addi, lui, auipc, lw, mul, jal): each pushes x0 afterwards (0), and one
 *     FENCE is executed (it pushes nothing).
 */
#include "pyzkvm.h"

static const uint32_t VALS[] = {0u, 1u, 2u, 32u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFF9u, 0x12345678u};
#define NVALS (sizeof VALS / sizeof VALS[0])

#define MAX_RESULTS 3072u
static uint32_t results[MAX_RESULTS];
static uint32_t n_results;

static void push(uint32_t value) {
    if (n_results == MAX_RESULTS)
        pyzkvm_panic("rv32im-selftest: result buffer full");
    results[n_results++] = value;
}

/* ---- 1. R-type ------------------------------------------------------------------------ */

#define RTYPE(op)                                                                          \
    static void rtype_##op(void) {                                                         \
        for (uint32_t i = 0; i < NVALS; i++)                                               \
            for (uint32_t j = 0; j < NVALS; j++) {                                         \
                uint32_t r;                                                                \
                __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(VALS[i]), "r"(VALS[j])); \
                push(r);                                                                   \
            }                                                                              \
    }
RTYPE(add) RTYPE(sub) RTYPE(sll) RTYPE(slt) RTYPE(sltu) RTYPE(xor) RTYPE(srl) RTYPE(sra)
RTYPE(or) RTYPE(and) RTYPE(mul) RTYPE(mulh) RTYPE(mulhsu) RTYPE(mulhu) RTYPE(div) RTYPE(divu)
RTYPE(rem) RTYPE(remu)

static void section_rtype(void) {
    rtype_add(); rtype_sub(); rtype_sll(); rtype_slt(); rtype_sltu(); rtype_xor();
    rtype_srl(); rtype_sra(); rtype_or(); rtype_and(); rtype_mul(); rtype_mulh();
    rtype_mulhsu(); rtype_mulhu(); rtype_div(); rtype_divu(); rtype_rem(); rtype_remu();
}

/* ---- 2, 3. I-type with an immediate ---------------------------------------------------- */

#define ITYPE_ONE(op, imm)                                                              \
    for (uint32_t i = 0; i < NVALS; i++) {                                              \
        uint32_t r;                                                                     \
        __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(VALS[i]), "i"(imm));         \
        push(r);                                                                        \
    }
#define ITYPE(op)                                                                       \
    static void itype_##op(void) {                                                      \
        ITYPE_ONE(op, 0) ITYPE_ONE(op, 1) ITYPE_ONE(op, -1) ITYPE_ONE(op, 2047)         \
        ITYPE_ONE(op, -2048)                                                            \
    }
ITYPE(addi) ITYPE(slti) ITYPE(sltiu) ITYPE(xori) ITYPE(ori) ITYPE(andi)

#define SHIFTI(op)                                                                      \
    static void shifti_##op(void) {                                                     \
        ITYPE_ONE(op, 0) ITYPE_ONE(op, 1) ITYPE_ONE(op, 5) ITYPE_ONE(op, 31)            \
    }
SHIFTI(slli) SHIFTI(srli) SHIFTI(srai)

static void section_itype(void) {
    itype_addi(); itype_slti(); itype_sltiu(); itype_xori(); itype_ori(); itype_andi();
    shifti_slli(); shifti_srli(); shifti_srai();
}

/* ---- 4. LUI and AUIPC ------------------------------------------------------------------- */

#define LUI(imm)                                                                        \
    {                                                                                   \
        uint32_t r;                                                                     \
        __asm__ volatile("lui %0, " #imm : "=r"(r));                                    \
        push(r);                                                                        \
    }
/* The auipc's own address comes from lui+addi of its label (absolute, no auipc involved). */
#define AUIPC(imm)                                                                      \
    {                                                                                   \
        uint32_t r, here;                                                               \
        __asm__ volatile("1: auipc %0, " #imm "\n\t"                                    \
                         "lui %1, %%hi(1b)\n\t"                                         \
                         "addi %1, %1, %%lo(1b)"                                        \
                         : "=&r"(r), "=&r"(here));                                      \
        push(r - here);                                                                 \
    }

static void section_upper(void) {
    LUI(0) LUI(1) LUI(0x80000) LUI(0xFFFFF) LUI(0x12345)
    AUIPC(0) AUIPC(1) AUIPC(0x80000) AUIPC(0xFFFFF)
}

/* ---- 5. Branches ------------------------------------------------------------------------ */

#define BRANCH(op)                                                                      \
    static void branch_##op(void) {                                                     \
        for (uint32_t i = 0; i < NVALS; i++)                                            \
            for (uint32_t j = 0; j < NVALS; j++) {                                      \
                uint32_t taken;                                                         \
                __asm__ volatile("li %0, 1\n\t" #op " %1, %2, 1f\n\t"                   \
                                 "li %0, 0\n"                                           \
                                 "1:"                                                   \
                                 : "=&r"(taken) : "r"(VALS[i]), "r"(VALS[j]));          \
                push(taken);                                                            \
            }                                                                           \
    }
BRANCH(beq) BRANCH(bne) BRANCH(blt) BRANCH(bge) BRANCH(bltu) BRANCH(bgeu)

static void branch_backward(void) {
    uint32_t count, t;
    /* bne backward: count down from 5 -> 5 iterations */
    __asm__ volatile("li %1, 5\n\tli %0, 0\n"
                     "1: addi %0, %0, 1\n\taddi %1, %1, -1\n\tbne %1, zero, 1b"
                     : "=&r"(count), "=&r"(t));
    push(count);
    /* bltu backward: t = 0, 1, ..., 6 while t < 7 -> 7 iterations */
    uint32_t limit = 7;
    __asm__ volatile("li %1, 0\n\tli %0, 0\n"
                     "1: addi %0, %0, 1\n\taddi %1, %1, 1\n\tbltu %1, %2, 1b"
                     : "=&r"(count), "=&r"(t) : "r"(limit));
    push(count);
    /* bge backward (signed): t = -3, -4, ..., while t >= -8 -> 6 iterations */
    uint32_t floor = (uint32_t)-8;
    __asm__ volatile("li %1, -3\n\tli %0, 0\n"
                     "1: addi %0, %0, 1\n\taddi %1, %1, -1\n\tbge %1, %2, 1b"
                     : "=&r"(count), "=&r"(t) : "r"(floor));
    push(count);
}

static void section_branches(void) {
    branch_beq(); branch_bne(); branch_blt(); branch_bge(); branch_bltu(); branch_bgeu();
    branch_backward();
}

/* ---- 6. JAL and JALR ---------------------------------------------------------------------- */

/* target = label 2 (+ADJ); the jalr sits at label 1; "li skipped, 1" must not run. */
#define JALR_CASE(ADJ, IMM)                                                             \
    {                                                                                   \
        uint32_t link, at, skipped, target;                                             \
        __asm__ volatile("lui %3, %%hi(2f + " #ADJ ")\n\t"                              \
                         "addi %3, %3, %%lo(2f + " #ADJ ")\n\t"                         \
                         "lui %1, %%hi(1f)\n\t"                                         \
                         "addi %1, %1, %%lo(1f)\n\t"                                    \
                         "li %2, 0\n"                                                   \
                         "1: jalr %0, " #IMM "(%3)\n\t"                                 \
                         "li %2, 1\n"                                                   \
                         "2:"                                                           \
                         : "=&r"(link), "=&r"(at), "=&r"(skipped), "=&r"(target));      \
        push(link - at);                                                                \
        push(skipped);                                                                  \
    }

static void section_jumps(void) {
    uint32_t link, at, skipped;
    __asm__ volatile("lui %1, %%hi(1f)\n\t"
                     "addi %1, %1, %%lo(1f)\n\t"
                     "li %2, 0\n"
                     "1: jal %0, 2f\n\t"
                     "li %2, 1\n"
                     "2:"
                     : "=&r"(link), "=&r"(at), "=&r"(skipped));
    push(link - at);
    push(skipped);

    JALR_CASE(0, 0)
    JALR_CASE(0, 1)
    JALR_CASE(1, 0)
    JALR_CASE(3, -3)
    {   /* rd = rs1: the target is read before the link is written */
        uint32_t reg, at, skipped;
        __asm__ volatile("lui %0, %%hi(2f)\n\t"
                         "addi %0, %0, %%lo(2f)\n\t"
                         "lui %1, %%hi(1f)\n\t"
                         "addi %1, %1, %%lo(1f)\n\t"
                         "li %2, 0\n"
                         "1: jalr %0, 0(%0)\n\t"
                         "li %2, 1\n"
                         "2:"
                         : "=&r"(reg), "=&r"(at), "=&r"(skipped));
        push(reg - at);
        push(skipped);
    }
}

/* ---- 7. Loads --------------------------------------------------------------------------- */

static const uint32_t MEM[4] __attribute__((aligned(16))) = {0x80FF7F01u, 0x7FFF8000u, 0x12345678u, 0xFEDCBA98u};

#define LOAD(op, off)                                                                   \
    {                                                                                   \
        uint32_t r;                                                                     \
        __asm__ volatile(#op " %0, " #off "(%1)" : "=r"(r) : "r"(base) : "memory");     \
        push(r);                                                                        \
    }
#define LOAD_BYTES(op)                                                                  \
    LOAD(op, -8) LOAD(op, -7) LOAD(op, -6) LOAD(op, -5) LOAD(op, -4) LOAD(op, -3)       \
    LOAD(op, -2) LOAD(op, -1) LOAD(op, 0) LOAD(op, 1) LOAD(op, 2) LOAD(op, 3)           \
    LOAD(op, 4) LOAD(op, 5) LOAD(op, 6) LOAD(op, 7)
#define LOAD_HALVES(op)                                                                 \
    LOAD(op, -8) LOAD(op, -6) LOAD(op, -4) LOAD(op, -2) LOAD(op, 0) LOAD(op, 2)         \
    LOAD(op, 4) LOAD(op, 6)

static void section_loads(void) {
    const uint32_t *base = &MEM[2];
    LOAD_BYTES(lb)
    LOAD_BYTES(lbu)
    LOAD_HALVES(lh)
    LOAD_HALVES(lhu)
    LOAD(lw, -8) LOAD(lw, -4) LOAD(lw, 0) LOAD(lw, 4)
}

/* ---- 8. Stores -------------------------------------------------------------------------- */

static volatile uint32_t STORE_AREA[4] __attribute__((aligned(16)));

static void fill_store_area(void) {
    for (int i = 0; i < 4; i++)
        STORE_AREA[i] = 0xA5A5A5A5u;
}

static void push_store_area(void) {
    for (int i = 0; i < 4; i++)
        push(STORE_AREA[i]);
}

#define STORE(op, value, off)                                                           \
    {                                                                                   \
        fill_store_area();                                                              \
        __asm__ volatile(#op " %0, " #off "(%1)"                                        \
                         : : "r"(value), "r"(&STORE_AREA[2]) : "memory");              \
        push_store_area();                                                              \
    }

static void section_stores(void) {
    uint32_t b = 0x123456F0u, h = 0xBEEF8001u, w = 0xCAFEBABEu;
    STORE(sb, b, -5) STORE(sb, b, 0) STORE(sb, b, 1) STORE(sb, b, 2) STORE(sb, b, 3)
    STORE(sb, b, 7)
    STORE(sh, h, -6) STORE(sh, h, -2) STORE(sh, h, 0) STORE(sh, h, 2) STORE(sh, h, 6)
    STORE(sw, w, -8) STORE(sw, w, 0) STORE(sw, w, 4)
}

/* ---- 9. x0 and FENCE -------------------------------------------------------------------- */

#define X0_AFTER(insn, ...)                                                             \
    {                                                                                   \
        uint32_t r;                                                                     \
        __asm__ volatile(insn "\n\tadd %0, zero, zero" : "=r"(r) : __VA_ARGS__);        \
        push(r);                                                                        \
    }

static void section_x0(void) {
    uint32_t seven = 7, big = 0x7FFFFFFFu;
    X0_AFTER("addi zero, zero, 5", "r"(0))
    X0_AFTER("lui zero, 0x12345", "r"(0))
    X0_AFTER("auipc zero, 1", "r"(0))
    X0_AFTER("lw zero, 0(%1)", "r"(&MEM[0]))
    X0_AFTER("mul zero, %1, %2", "r"(seven), "r"(big))
    X0_AFTER("jal zero, 1f\n1:", "r"(0))
    __asm__ volatile("fence" ::: "memory");
}

int main(void) {
    uint32_t dump = 0;
    if (pyzkvm_input_len() != PYZKVM_NO_INPUT)
        dump = pyzkvm_read_u32();

    section_rtype();
    section_itype();
    section_upper();
    section_branches();
    section_jumps();
    section_loads();
    section_stores();
    section_x0();

    if (dump & 1u)
        pyzkvm_write(PYZKVM_FD_STDOUT, results, 4 * n_results);
    uint8_t digest[32];
    pyzkvm_sha256(results, 4 * n_results, digest); /* the words are little-endian in memory */
    pyzkvm_commit(digest, sizeof digest);
    return 0;
}
