/*
 * sha256 - hash one input with the SDK's SHA-256 (SHA_EXTEND + SHA_COMPRESS per block; RISC
 * Zero's SHA ecall in the risc0 profile).
 *
 * Input:   one element: the message bytes (any length, may be empty; `--input hex:...`,
 *          `--input str:...` or `--input file:PATH`); optionally a second, u32 1: hash in
 *          software instead (pyzkvm_sha256_software, no ecall: the baseline of
 *          bench/stark_prove.py --hash).
 * Journal: SHA-256(message), 32 bytes.
 */
#include "pyzkvm.h"

int main(void) {
    uint32_t len;
    uint8_t *message = pyzkvm_read_bytes(&len);
    uint8_t digest[32];
    if (pyzkvm_input_len() != PYZKVM_NO_INPUT && pyzkvm_read_u32() == 1)
        pyzkvm_sha256_software(message, len, digest);
    else
        pyzkvm_sha256(message, len, digest);
    pyzkvm_commit(digest, sizeof digest);
    return 0;
}
