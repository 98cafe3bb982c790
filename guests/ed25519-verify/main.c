/*
 * ed25519-verify - check a batch of ed25519 signatures, the shape of SP1's tendermint
 * light-client benchmark: SHA-512 in software, point arithmetic with SP1's ED_ADD and
 * ED_DECOMPRESS precompiles.
 *
 * Input:   one element: u32 n (little-endian), then n records of
 *          public key (32) ‖ signature R ‖ S (64) ‖ message (MSG_LEN = 128 bytes).
 * Journal: u32 n, then u32 the number of signatures that verify, then one byte per record
 *          (1 = valid).
 * A signature verifies when S < 2^253 and [S]B = R + [h]A with h = SHA-512(R ‖ A ‖ M) read
 * as a 512-bit little-endian number (not reduced mod L: A and R are in the prime-order
 * subgroup for honest keys, where [h]A = [h mod L]A). A or R that do not decompress make the
 * guest halt with ED_DECOMPRESS's error: it is a benchmark, not a hardened verifier.
 */
#include "pyzkvm.h"

#define ED_ADD 0x00010107u
#define ED_DECOMPRESS 0x00000108u
#define MSG_LEN 128u
#define RECORD (32u + 64u + MSG_LEN)

/* ---- SHA-512 (FIPS 180-4 §6.4) -------------------------------------------------------- */

static const uint64_t K512[80] = {
    0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull, 0x3956c25bf348b538ull,
    0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull, 0xd807aa98a3030242ull, 0x12835b0145706fbeull,
    0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull, 0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull,
    0xc19bf174cf692694ull, 0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
    0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull, 0x983e5152ee66dfabull,
    0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull, 0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull,
    0x06ca6351e003826full, 0x142929670a0e6e70ull, 0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull,
    0x53380d139d95b3dfull, 0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
    0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull, 0xd192e819d6ef5218ull,
    0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull, 0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull,
    0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull, 0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull,
    0x682e6ff3d6b2b8a3ull, 0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
    0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull, 0xca273eceea26619cull,
    0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull, 0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull,
    0x113f9804bef90daeull, 0x1b710b35131c471bull, 0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull,
    0x431d67c49c100d4cull, 0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull};

static uint64_t rotr(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

static void sha512_block(uint64_t h[8], const uint8_t *p) {
    uint64_t w[80], s[8];
    for (int i = 0; i < 16; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | p[8 * i + j];
        w[i] = v;
    }
    for (int i = 16; i < 80; i++) {
        uint64_t s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
        uint64_t s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (int i = 0; i < 8; i++) s[i] = h[i];
    for (int i = 0; i < 80; i++) {
        uint64_t t1 = s[7] + (rotr(s[4], 14) ^ rotr(s[4], 18) ^ rotr(s[4], 41)) + ((s[4] & s[5]) ^ (~s[4] & s[6])) + K512[i] + w[i];
        uint64_t t2 = (rotr(s[0], 28) ^ rotr(s[0], 34) ^ rotr(s[0], 39)) + ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
        for (int j = 7; j > 0; j--) s[j] = s[j - 1];
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) h[i] += s[i];
}

/* SHA-512 of a ‖ b ‖ c (lengths < 2^29 bytes) into out[64] */
static void sha512_3(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb, const uint8_t *c, uint32_t nc, uint8_t out[64]) {
    uint64_t h[8] = {0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
                     0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};
    static uint8_t buf[128];
    uint32_t fill = 0, total = na + nb + nc;
    const uint8_t *parts[3] = {a, b, c};
    uint32_t lens[3] = {na, nb, nc};
    for (int k = 0; k < 3; k++)
        for (uint32_t i = 0; i < lens[k]; i++) {
            buf[fill++] = parts[k][i];
            if (fill == 128) { sha512_block(h, buf); fill = 0; }
        }
    buf[fill++] = 0x80;
    if (fill > 112) { while (fill < 128) buf[fill++] = 0; sha512_block(h, buf); fill = 0; }
    while (fill < 120) buf[fill++] = 0;
    uint64_t bits = (uint64_t)total * 8;
    for (int i = 0; i < 8; i++) buf[120 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha512_block(h, buf);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) out[8 * i + j] = (uint8_t)(h[i] >> (56 - 8 * j));
}

/* ---- ed25519 with the precompiles: points are x[8] ‖ y[8] little-endian words ---------- */

static const uint32_t BASE[16] = {
    0x8f25d51au, 0xc9562d60u, 0x9525a7b2u, 0x692cc760u, 0xfdd6dc5cu, 0xc0a4e231u, 0xcd6e53feu, 0x216936d3u,
    0x66666658u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u};

static inline void ed_add(uint32_t *p, const uint32_t *q) { pyzkvm_syscall(ED_ADD, (uint32_t)(uintptr_t)p, (uint32_t)(uintptr_t)q, 0); }

/* acc <- [scalar]P, scalar = nbytes little-endian bytes; double-and-add from the top bit,
 * starting at the identity (0, 1): ED_ADD is complete, so no special cases. */
static void scalar_mul(uint32_t acc[16], const uint32_t p[16], const uint8_t *scalar, int nbytes) {
    memset(acc, 0, 64);
    acc[8] = 1;
    for (int i = 8 * nbytes - 1; i >= 0; i--) {
        ed_add(acc, acc);
        if ((scalar[i >> 3] >> (i & 7)) & 1) ed_add(acc, p);
    }
}

/* the point encoded in 32 bytes (y, sign bit 255) via ED_DECOMPRESS on [x | y] */
static void decompress(uint32_t out[16], const uint8_t enc[32]) {
    memset(out, 0, 32);
    memcpy(out + 8, enc, 32);
    uint32_t sign = enc[31] >> 7;
    out[15] &= 0x7fffffffu;
    pyzkvm_syscall(ED_DECOMPRESS, (uint32_t)(uintptr_t)out, sign, 0);
}

static int verify(const uint8_t *pk, const uint8_t *sig, const uint8_t *msg) {
    if (sig[63] & 0xe0) return 0; /* S >= 2^253: not a reduced scalar */
    uint32_t a[16], r[16], sb[16], ha[16];
    uint8_t h[64];
    decompress(a, pk);
    decompress(r, sig);
    sha512_3(sig, 32, pk, 32, msg, MSG_LEN, h);
    scalar_mul(sb, BASE, sig + 32, 32);
    scalar_mul(ha, a, h, 64);
    ed_add(ha, r); /* R + [h]A */
    return memcmp(sb, ha, 64) == 0;
}

int main(void) {
    uint32_t len;
    uint8_t *in = pyzkvm_read_bytes(&len);
    if (len < 4) pyzkvm_panic("input: u32 n, then n records");
    uint32_t n = in[0] | in[1] << 8 | in[2] << 16 | (uint32_t)in[3] << 24;
    if (len != 4 + n * RECORD) pyzkvm_panic("input: each record is pk (32) | sig (64) | message (128)");
    uint8_t *ok = malloc(n + 1);
    uint32_t good = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *rec = in + 4 + i * RECORD;
        ok[i] = (uint8_t)verify(rec, rec + 32, rec + 96);
        good += ok[i];
    }
    pyzkvm_commit_u32(n);
    pyzkvm_commit_u32(good);
    pyzkvm_commit(ok, n);
    return 0;
}
