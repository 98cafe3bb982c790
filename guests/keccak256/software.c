/*
 * software.c - Keccak-f[1600] (FIPS 202 section 3) in plain RV32IM, no ecall: the baseline the
 * KECCAK_PERMUTE chips are measured against (bench/stark_prove.py --hash). 24 rounds of
 *   theta: A[x][y] ^= C[x-1] ^ rot(C[x+1], 1), C[x] = A[x][0] ^ ... ^ A[x][4]
 *   rho + pi: B[y][2x+3y] = rot(A[x][y], r[x][y])
 *   chi: A[x][y] = B[x][y] ^ (~B[x+1][y] & B[x+2][y])
 *   iota: A[0][0] ^= RC[round]
 * with lane (x, y) at state[x + 5y].
 */
#include "software.h"

static const uint64_t RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho offsets r[x + 5y] */
static const uint8_t R[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

static inline uint64_t rotl(uint64_t v, unsigned n) {
    return n ? (v << n) | (v >> (64 - n)) : v;
}

void keccak_permute_software(uint64_t a[25]) {
    uint64_t b[25], c[5];
    for (int round = 0; round < 24; round++) {
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], R[x + 5 * y]);
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
        a[0] ^= RC[round];
    }
}
