/*
 * aggregator - fold N receipts' claims into one: assert each through an assumption and commit
 * a digest of them all (composition, docs/composition.md; `pyzkvm aggregate` drives it).
 *
 * Input:   element 0: u32 N (4 bytes, little-endian);
 *          elements 1..N: one claim each, exactly 64 bytes = image ID (32) || journal digest (32),
 *          the journal digest being SHA-256 of that receipt's journal.
 * Effect:  for each claim i, in order, pyzkvm_verify(image ID, journal digest) (VERIFY_SP1_PROOF):
 *          assumption i of this run's claim. A receipt of this run is valid only with a receipt
 *          for each claim attached, in the same order (pyzkvm.verify checks them all).
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
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = pyzkvm_input_len();
        if (len == PYZKVM_NO_INPUT)
            pyzkvm_panic("aggregator: fewer claims than N");
        if (len != CLAIM_BYTES)
            pyzkvm_panic("aggregator: a claim must be 64 bytes (image ID || journal digest)");
        /* in fresh heap memory, word-aligned for VERIFY_SP1_PROOF: read there, not copied */
        const uint32_t *claim = pyzkvm_read_bytes(NULL);
        pyzkvm_verify(&claim[0], &claim[8]); /* image ID, journal digest */
        pyzkvm_sha256_update(&all_claims, claim, CLAIM_BYTES);
    }
    uint8_t digest[32];
    pyzkvm_sha256_final(&all_claims, digest);
    pyzkvm_commit_u32(n);
    pyzkvm_commit(digest, sizeof digest);
    return 0;
}
