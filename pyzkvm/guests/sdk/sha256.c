/*
 * sha256.c - SHA-256 (FIPS 180-4) for guests: one streaming API, three block functions.
 *
 * The block function: W[t] = block word t (big-endian) for t < 16, then
 *   extend    W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]       for t = 16..63
 *   compress  64 rounds T1 = h + S1(e) + Ch(e,f,g) + K[t] + W[t], T2 = S0(a) + Maj(a,b,c)
 *             from the chaining value, then H[i] += working variable i
 * Padding: 0x80, zeros, then the message length in bits as a big-endian u64.
 *
 * pyzkvm_sha256_init: every block on the accelerator, proved by the SHA chips
 *   (docs/machine.md 2.8) in 2 cycles a block instead of ~4 800 -
 *   SP1 profile: SHA_EXTEND(w) then SHA_COMPRESS(w, h), as SP1's runtime does them;
 *   RISC Zero profile (-DPYZKVM_ABI_RISC0): RISC Zero's SHA ecall, one block per call.
 * pyzkvm_sha256_init_software: the same two steps in plain RV32IM (no ecall): the baseline.
 * pyzkvm_sha256_init_auto: in software while the program has sent no block to the accelerator,
 *   on the accelerator once it has. The SP1 runtime hashes the journal this way: a program
 *   that hashes nothing itself then has no SHA chip rows, and its proof none of their
 *   ~160-190 KB (a chip without rows is left out, stark/optional.py), for ~4 700 cycles a
 *   journal block; a program that uses the chips anyway pays 2 cycles a block (docs/guests.md).
 */
#include "pyzkvm.h"

/* W[0..16]: the block's 16 big-endian words (w is word-aligned: the precompiles read whole words) */
static void load_words(uint32_t w[64], const uint8_t block[64]) {
    for (int t = 0; t < 16; t++)
        w[t] = ((uint32_t)block[4 * t] << 24) | ((uint32_t)block[4 * t + 1] << 16) |
               ((uint32_t)block[4 * t + 2] << 8) | (uint32_t)block[4 * t + 3];
}

/* ---- software: SHA_EXTEND and SHA_COMPRESS in RV32IM ------------------------------------ */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, uint32_t n) {
    return (x >> n) | (x << (32 - n));
}

static void compress_software(uint32_t h[8], const uint8_t block[64]) {
    uint32_t w[64];
    load_words(w, block);
    for (int t = 16; t < 64; t++) { /* extend */
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) { /* compress */
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

/* ---- accelerator: the same block function as ecalls ------------------------------------ */

#ifndef PYZKVM_ABI_RISC0
static void compress_ecall(uint32_t h[8], const uint8_t block[64]) {
    uint32_t w[64];
    load_words(w, block);
    pyzkvm_syscall(PYZKVM_SYS_SHA_EXTEND, (uint32_t)(uintptr_t)w, 0, 0);
    pyzkvm_syscall(PYZKVM_SYS_SHA_COMPRESS, (uint32_t)(uintptr_t)w, (uint32_t)(uintptr_t)h, 0);
}
#else
/* RISC Zero's SHA ecall (t0 = 3), as risc0 v1's ecall_sha: a0 -> out state, a1 -> in state
 * (8 words each, stored big-endian: the digest's bytes), a2/a3 -> the block's two 32-byte halves,
 * a4 = 1 block. The stark backend proves it on the same SHA chips (docs/machine.md 2.8); the
 * buffers are word-aligned, as the chips read whole words. */
static void compress_ecall(uint32_t h[8], const uint8_t block[64]) {
    uint32_t state[8], words[16];
    for (int i = 0; i < 8; i++)
        state[i] = __builtin_bswap32(h[i]);
    const uint8_t *b = block;
    if ((uintptr_t)block & 3) {
        memcpy(words, block, 64);
        b = (const uint8_t *)words;
    }
    register uint32_t t0 __asm__("t0") = PYZKVM_R0_SHA;
    register uint32_t a0 __asm__("a0") = (uint32_t)(uintptr_t)state;
    register uint32_t a1 __asm__("a1") = (uint32_t)(uintptr_t)state;
    register uint32_t a2 __asm__("a2") = (uint32_t)(uintptr_t)b;
    register uint32_t a3 __asm__("a3") = (uint32_t)(uintptr_t)(b + 32);
    register uint32_t a4 __asm__("a4") = 1;
    __asm__ volatile("ecall" : : "r"(t0), "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(a4) : "memory");
    for (int i = 0; i < 8; i++)
        h[i] = __builtin_bswap32(state[i]);
}
#endif /* PYZKVM_ABI_RISC0 */

/* H(0) and an empty buffer; blocks go to the given block function */
static void start(pyzkvm_sha256_ctx *ctx, void (*compress)(uint32_t h[8], const uint8_t block[64])) {
    /* H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes */
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++)
        ctx->h[i] = iv[i];
    ctx->length = 0;
    ctx->used = 0;
    ctx->compress = compress;
}

/* ---- which block function a hash uses ------------------------------------------------ */

static int accelerator_used; /* 1 once any block has gone to the accelerator (its chips have rows) */

static void compress_accelerated(uint32_t h[8], const uint8_t block[64]) {
    accelerator_used = 1;
    compress_ecall(h, block);
}

/* software while the SHA chips are empty: rows in them would put the chips in the proof */
static void compress_auto(uint32_t h[8], const uint8_t block[64]) {
    if (accelerator_used)
        compress_ecall(h, block);
    else
        compress_software(h, block);
}

void pyzkvm_sha256_init(pyzkvm_sha256_ctx *ctx) {
    start(ctx, compress_accelerated);
}

void pyzkvm_sha256_init_software(pyzkvm_sha256_ctx *ctx) {
    start(ctx, compress_software);
}

void pyzkvm_sha256_init_auto(pyzkvm_sha256_ctx *ctx) {
    start(ctx, compress_auto);
}

void pyzkvm_sha256_update(pyzkvm_sha256_ctx *ctx, const void *data, uint32_t len) {
    const uint8_t *p = (const uint8_t *)data;
    ctx->length += len;
    if (ctx->used) {
        uint32_t take = 64 - ctx->used;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < 64)
            return;
        ctx->compress(ctx->h, ctx->block);
        ctx->used = 0;
    }
    while (len >= 64) {
        ctx->compress(ctx->h, p);
        p += 64;
        len -= 64;
    }
    memcpy(ctx->block, p, len);
    ctx->used = len;
}

void pyzkvm_sha256_final(pyzkvm_sha256_ctx *ctx, uint8_t digest[32]) {
    uint64_t bits = ctx->length * 8;
    uint32_t n = ctx->used;
    ctx->block[n++] = 0x80;
    if (n > 56) {
        memset(ctx->block + n, 0, 64 - n);
        ctx->compress(ctx->h, ctx->block);
        n = 0;
    }
    memset(ctx->block + n, 0, 56 - n);
    for (int i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    ctx->compress(ctx->h, ctx->block);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->h[i];
    }
}

void pyzkvm_sha256(const void *data, uint32_t len, uint8_t digest[32]) {
    pyzkvm_sha256_ctx ctx;
    pyzkvm_sha256_init(&ctx);
    pyzkvm_sha256_update(&ctx, data, len);
    pyzkvm_sha256_final(&ctx, digest);
}

void pyzkvm_sha256_software(const void *data, uint32_t len, uint8_t digest[32]) {
    pyzkvm_sha256_ctx ctx;
    pyzkvm_sha256_init_software(&ctx);
    pyzkvm_sha256_update(&ctx, data, len);
    pyzkvm_sha256_final(&ctx, digest);
}
