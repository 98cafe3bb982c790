/*
 * keccak256 - Keccak-256 (Ethereum's: rate 136 bytes, padding 0x01 ... 0x80) of one input,
 * with the KECCAK_PERMUTE precompile for every Keccak-f[1600].
 *
 * Input:   one element: the message bytes (any length, may be empty; `--input hex:...`,
 *          `--input str:...` or `--input file:PATH`); optionally a second, u32 1: permute in
 *          software instead (software.c, no ecall: the baseline of bench/stark_prove.py --hash).
 * Journal: Keccak-256(message), 32 bytes.
 */
#include "pyzkvm.h"
#include "software.h"

#define RATE 136u /* bytes absorbed per permutation: 1600 − 2·256 bits */

int main(void) {
    uint32_t len;
    const uint8_t *message = pyzkvm_read_bytes(&len);
    int software = pyzkvm_input_len() != PYZKVM_NO_INPUT && pyzkvm_read_u32() == 1;
    void (*permute)(uint64_t *) = software ? keccak_permute_software : pyzkvm_keccak_permute;
    uint64_t state[25] = {0};
    uint8_t *s = (uint8_t *)state; /* lanes are little-endian: byte i of the state string */
    uint32_t at = 0;
    for (; len - at >= RATE; at += RATE) { /* absorb the full blocks */
        for (uint32_t i = 0; i < RATE; i++) s[i] ^= message[at + i];
        permute(state);
    }
    uint32_t rest = len - at; /* the last, partial block, padded with 0x01 0x00 ... 0x80 */
    for (uint32_t i = 0; i < rest; i++) s[i] ^= message[at + i];
    s[rest] ^= 0x01;
    s[RATE - 1] ^= 0x80;
    permute(state);
    pyzkvm_commit(s, 32); /* squeeze: the first 32 bytes */
    return 0;
}
