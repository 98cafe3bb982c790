/*
 * precompiles - one call or more of every SP1 precompile family, on points derived from k.
 *
 * Input:   one u32 k >= 1 (`--input u32:K`).
 * Journal (little-endian words; a point is x then y; n = 32 bytes, 48 for BLS12-381):
 *   ed25519 k·G (2n) | ED_DECOMPRESS of it: x (n)
 *   secp256k1 k·G (2n) | SECP256K1_DECOMPRESS of its x: y (n)
 *   secp256r1 k·G (2n) | SECP256R1_DECOMPRESS of its x: y (n)
 *   bn254 k·G (2n)
 *   bls12-381 k·G (2n) | BLS12381_DECOMPRESS of its x: y (n)
 *   BN254 Fp x+y, x−y, x·y (3n) and Fp2 (x,y)∘(y,x) for + − · (6n), with (x, y) = bn254 k·G
 *   BLS12-381 the same with its k·G (3n, 6n)
 *   UINT256_MUL: k1.x · k1.y mod r1.x (n)
 *   U256XU2048_MUL: k1.x times the 64 words [ed k·G ‖ k1 k·G ‖ r1 k·G ‖ bn k·G]: lo (256), hi (32)
 *   KECCAK_PERMUTE: SHA3-256 of k's 4 bytes (32) | SHA_EXTEND + SHA_COMPRESS: SHA-256 of them (32)
 * The SHA-256 is computed first (pyzkvm_sha256: one SHA_EXTEND + SHA_COMPRESS), so that the
 * runtime's journal digest runs on the SHA chips too (pyzkvm_sha256_init_auto): 2 cycles a
 * block instead of ~4 700 in software.
 * k·G is double-and-add with the curves' ADD and DOUBLE syscalls (ed25519: ED_ADD for both).
 * Built for the sp1 profile only: these are SP1 syscalls.
 */
#include "pyzkvm.h"

#define ED_ADD 0x00010107u
#define ED_DECOMPRESS 0x00000108u
#define SECP256K1_ADD 0x0001010Au
#define SECP256K1_DOUBLE 0x0000010Bu
#define SECP256K1_DECOMPRESS 0x0000010Cu
#define BN254_ADD 0x0001010Eu
#define BN254_DOUBLE 0x0000010Fu
#define BLS12381_DECOMPRESS 0x0000011Cu
#define UINT256_MUL 0x0001011Du
#define BLS12381_ADD 0x0001011Eu
#define BLS12381_DOUBLE 0x0000011Fu
#define BLS12381_FP_ADD 0x00010120u /* SUB, MUL: +1, +2; FP2_ADD, SUB, MUL: +3, +4, +5 */
#define BN254_FP_ADD 0x00010126u
#define SECP256R1_ADD 0x0001012Cu
#define SECP256R1_DOUBLE 0x0000012Du
#define SECP256R1_DECOMPRESS 0x0000012Eu
#define U256XU2048_MUL 0x0001012Fu
#define KECCAK_PERMUTE 0x00010109u

static const uint32_t SECP256K1_G[16] = {
    0x16f81798u, 0x59f2815bu, 0x2dce28d9u, 0x029bfcdbu, 0xce870b07u, 0x55a06295u, 0xf9dcbbacu, 0x79be667eu,
    0xfb10d4b8u, 0x9c47d08fu, 0xa6855419u, 0xfd17b448u, 0x0e1108a8u, 0x5da4fbfcu, 0x26a3c465u, 0x483ada77u};
static const uint32_t SECP256R1_G[16] = {
    0xd898c296u, 0xf4a13945u, 0x2deb33a0u, 0x77037d81u, 0x63a440f2u, 0xf8bce6e5u, 0xe12c4247u, 0x6b17d1f2u,
    0x37bf51f5u, 0xcbb64068u, 0x6b315eceu, 0x2bce3357u, 0x7c0f9e16u, 0x8ee7eb4au, 0xfe1a7f9bu, 0x4fe342e2u};
static const uint32_t BN254_G[16] = {1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
static const uint32_t BLS12381_G[24] = {
    0xdb22c6bbu, 0xfb3af00au, 0xf97a1aefu, 0x6c55e83fu, 0x171bac58u, 0xa14e3a3fu,
    0x9774b905u, 0xc3688c4fu, 0x4fa9ac0fu, 0x2695638cu, 0x3197d794u, 0x17f1d3a7u,
    0x46c5e7e1u, 0x0caa2329u, 0xa2888ae4u, 0xd03cc744u, 0x2c04b3edu, 0x00db18cbu,
    0xd5d00af6u, 0xfcf5e095u, 0x741d8ae4u, 0xa09e30edu, 0xe3aaa0f1u, 0x08b3f481u};
static const uint32_t ED25519_G[16] = {
    0x8f25d51au, 0xc9562d60u, 0x9525a7b2u, 0x692cc760u, 0xfdd6dc5cu, 0xc0a4e231u, 0xcd6e53feu, 0x216936d3u,
    0x66666658u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u};

static inline uint32_t addr(const void *p) { return (uint32_t)(uintptr_t)p; }

/* acc <- k·G: double-and-add from k's top bit (acc never equals ±G, so ADD never panics). */
static void scalar_mul(uint32_t *acc, const uint32_t *g, uint32_t nwords, uint32_t k, uint32_t add, uint32_t dbl) {
    int top = 31;
    while (!((k >> top) & 1)) top--;
    memcpy(acc, g, 4 * nwords);
    for (int i = top - 1; i >= 0; i--) {
        if (dbl) pyzkvm_syscall(dbl, addr(acc), 0, 0);
        else pyzkvm_syscall(add, addr(acc), addr(acc), 0); /* ed25519: ADD is complete */
        if ((k >> i) & 1) pyzkvm_syscall(add, addr(acc), addr(g), 0);
    }
}

/* DECOMPRESS on [y | x] (Weierstrass) from the point p: commit the y it writes. */
static void decompress(const uint32_t *p, uint32_t n, uint32_t code, uint32_t sign) {
    uint32_t buf[24];
    memcpy(buf + n, p, 4 * n);
    memset(buf, 0, 4 * n);
    pyzkvm_syscall(code, addr(buf), sign, 0);
    pyzkvm_commit(buf, 4 * n);
}

/* the Fp and Fp2 ops of one field (code = its FP_ADD) on x = p[0..n), y = p[n..2n) */
static void field_ops(const uint32_t *p, uint32_t n, uint32_t code) {
    uint32_t x[24], y[24];
    for (uint32_t op = 0; op < 3; op++) {
        memcpy(x, p, 4 * n);
        pyzkvm_syscall(code + op, addr(x), addr(p + n), 0);
        pyzkvm_commit(x, 4 * n);
    }
    for (uint32_t op = 3; op < 6; op++) {
        memcpy(x, p, 8 * n);          /* (x, y) */
        memcpy(y, p + n, 4 * n);      /* (y, x) */
        memcpy(y + n, p, 4 * n);
        pyzkvm_syscall(code + op, addr(x), addr(y), 0);
        pyzkvm_commit(x, 8 * n);
    }
}

int main(void) {
    uint32_t k = pyzkvm_read_u32();
    if (k == 0) pyzkvm_panic("k must be at least 1");
    uint8_t sha[32]; /* SHA-256 of k's 4 bytes (little-endian), committed last */
    pyzkvm_sha256(&k, 4, sha);
    /* the four 256-bit curves' points side by side: U256XU2048_MUL's 2048-bit operand */
    static uint32_t pts[64];
    uint32_t *ed = pts, *k1 = pts + 16, *r1 = pts + 32, *bn = pts + 48;
    static uint32_t bls[24];

    scalar_mul(ed, ED25519_G, 16, k, ED_ADD, 0);
    pyzkvm_commit(ed, 64);
    uint32_t edbuf[16];
    memset(edbuf, 0, 32);
    memcpy(edbuf + 8, ed + 8, 32); /* [x | y]: y in, x out; the sign is x's bit 0 */
    pyzkvm_syscall(ED_DECOMPRESS, addr(edbuf), ed[0] & 1, 0);
    pyzkvm_commit(edbuf, 32);

    scalar_mul(k1, SECP256K1_G, 16, k, SECP256K1_ADD, SECP256K1_DOUBLE);
    pyzkvm_commit(k1, 64);
    decompress(k1, 8, SECP256K1_DECOMPRESS, k1[8] & 1);
    scalar_mul(r1, SECP256R1_G, 16, k, SECP256R1_ADD, SECP256R1_DOUBLE);
    pyzkvm_commit(r1, 64);
    decompress(r1, 8, SECP256R1_DECOMPRESS, r1[8] & 1);
    scalar_mul(bn, BN254_G, 16, k, BN254_ADD, BN254_DOUBLE);
    pyzkvm_commit(bn, 64);
    scalar_mul(bls, BLS12381_G, 24, k, BLS12381_ADD, BLS12381_DOUBLE);
    pyzkvm_commit(bls, 96);
    /* BLS12-381's sign bit says "y is the larger of y, p − y": p − y is FP_SUB(0, y) */
    uint32_t neg[12] = {0};
    pyzkvm_syscall(BLS12381_FP_ADD + 1, addr(neg), addr(bls + 12), 0);
    int i = 11;
    while (i > 0 && bls[12 + i] == neg[i]) i--;
    decompress(bls, 12, BLS12381_DECOMPRESS, bls[12 + i] > neg[i]);

    field_ops(bn, 8, BN254_FP_ADD);
    field_ops(bls, 12, BLS12381_FP_ADD);

    uint32_t x[8], ym[16];
    memcpy(x, k1, 32);
    memcpy(ym, k1 + 8, 32);
    memcpy(ym + 8, r1, 32);
    pyzkvm_syscall(UINT256_MUL, addr(x), addr(ym), 0);
    pyzkvm_commit(x, 32);

    static uint32_t lo[64];
    uint32_t hi[8];
    {   /* U256XU2048_MUL takes lo and hi pointers in a2 and a3 */
        register uint32_t t0 __asm__("t0") = U256XU2048_MUL;
        register uint32_t a0 __asm__("a0") = addr(k1);
        register uint32_t a1 __asm__("a1") = addr(pts);
        register uint32_t a2 __asm__("a2") = addr(lo);
        register uint32_t a3 __asm__("a3") = addr(hi);
        __asm__ volatile("ecall" : "+r"(t0) : "r"(a0), "r"(a1), "r"(a2), "r"(a3) : "memory");
    }
    pyzkvm_commit(lo, 256);
    pyzkvm_commit(hi, 32);

    static uint64_t state[25]; /* SHA3-256 of k's 4 bytes: one padded block, one permutation */
    state[0] = (uint64_t)k | (uint64_t)0x06 << 32;
    state[16] = (uint64_t)0x80 << 56;
    pyzkvm_syscall(KECCAK_PERMUTE, addr(state), 0, 0);
    pyzkvm_commit(state, 32);

    pyzkvm_commit(sha, 32);
    return 0;
}
