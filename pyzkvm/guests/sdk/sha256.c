/*
 * sha256.c - SHA-256 (FIPS 180-4) for guests.
 *
 * SP1 profile: each block is two precompile ecalls, as SP1's runtime does them -
 *   SHA_EXTEND(w)       w[16..64] = s1(w[t-2]) + w[t-7] + s0(w[t-15]) + w[t-16] from w[0..16]
 *   SHA_COMPRESS(w, h)  64 rounds over w from h, then h[i] += working variable i
 * which the stark backend proves with its SHA chips (docs/machine.md 2.8), in 2 cycles a block
 * instead of ~4 800. RISC Zero profile (-DPYZKVM_ABI_RISC0): RISC Zero's SHA ecall, one block
 * per call (proved on the same chips).
 * Padding: 0x80, zeros, then the message length in bits as a big-endian u64.
 */
#include "pyzkvm.h"

#ifndef PYZKVM_ABI_RISC0
static void compress(uint32_t h[8], const uint8_t block[64]) {
    uint32_t w[64]; /* word-aligned on the stack: the precompiles read and write whole words */
    for (int t = 0; t < 16; t++)
        w[t] = ((uint32_t)block[4 * t] << 24) | ((uint32_t)block[4 * t + 1] << 16) |
               ((uint32_t)block[4 * t + 2] << 8) | (uint32_t)block[4 * t + 3];
    pyzkvm_syscall(PYZKVM_SYS_SHA_EXTEND, (uint32_t)(uintptr_t)w, 0, 0);
    pyzkvm_syscall(PYZKVM_SYS_SHA_COMPRESS, (uint32_t)(uintptr_t)w, (uint32_t)(uintptr_t)h, 0);
}
#else
/* RISC Zero's SHA ecall (t0 = 3), as risc0 v1's ecall_sha: a0 -> out state, a1 -> in state
 * (8 words each, stored big-endian: the digest's bytes), a2/a3 -> the block's two 32-byte halves,
 * a4 = 1 block. The stark backend proves it on the same SHA chips (docs/machine.md 2.8); the
 * buffers are word-aligned, as the chips read whole words. */
static void compress(uint32_t h[8], const uint8_t block[64]) {
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

void pyzkvm_sha256_init(pyzkvm_sha256_ctx *ctx) {
    /* H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes */
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++)
        ctx->h[i] = iv[i];
    ctx->length = 0;
    ctx->used = 0;
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
        compress(ctx->h, ctx->block);
        ctx->used = 0;
    }
    while (len >= 64) {
        compress(ctx->h, p);
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
        compress(ctx->h, ctx->block);
        n = 0;
    }
    memset(ctx->block + n, 0, 56 - n);
    for (int i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->h, ctx->block);
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
