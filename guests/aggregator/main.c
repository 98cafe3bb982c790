/*
 * aggregator - fold N proof claims into one digest (the shape of a recursion aggregator,
 * without verifying proofs: it commits to what it was given).
 *
 * Input:   element 0: u32 N (4 bytes, little-endian);
 *          elements 1..N: one claim each, exactly 64 bytes = image ID (32) || journal digest (32).
 * Journal: u32 N (LE) || SHA-256(claim_1 || claim_2 || ... || claim_N), 36 bytes.
 *          (N = 0 gives SHA-256 of the empty string.)
 * A claim that is not 64 bytes, or fewer than N claims, is a panic (exit code 1).
 */
#include "pyzkvm.h"

#define CLAIM_BYTES 64u

int main(void) {
    uint32_t n = pyzkvm_read_u32();
    pyzkvm_sha256_ctx all_claims;
    pyzkvm_sha256_init(&all_claims);
    uint32_t claim[CLAIM_BYTES / 4]; /* word-aligned for HINT_READ */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = pyzkvm_input_len();
        if (len == PYZKVM_NO_INPUT)
            pyzkvm_panic("aggregator: fewer claims than N");
        if (len != CLAIM_BYTES)
            pyzkvm_panic("aggregator: a claim must be 64 bytes (image ID || journal digest)");
        pyzkvm_read_into(claim, sizeof claim);
        pyzkvm_sha256_update(&all_claims, claim, CLAIM_BYTES);
    }
    uint8_t digest[32];
    pyzkvm_sha256_final(&all_claims, digest);
    pyzkvm_commit_u32(n);
    pyzkvm_commit(digest, sizeof digest);
    return 0;
}
