/*
 * sha256 - hash one input with the SDK's SHA-256 (SHA_EXTEND + SHA_COMPRESS per block).
 *
 * Input:   one element: the message bytes (any length, may be empty; `--input hex:...`,
 *          `--input str:...` or `--input file:PATH`).
 * Journal: SHA-256(message), 32 bytes.
 */
#include "pyzkvm.h"

int main(void) {
    uint32_t len;
    uint8_t *message = pyzkvm_read_bytes(&len);
    uint8_t digest[32];
    pyzkvm_sha256(message, len, digest);
    pyzkvm_commit(digest, sizeof digest);
    return 0;
}
