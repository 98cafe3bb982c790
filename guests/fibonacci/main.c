/*
 * fibonacci - the benchmark guest.
 *
 * Input:   one element, a u32 n (4 bytes, little-endian; `--input u32:N`).
 * Journal: u32 n (LE) || F(n) mod 2^64 (u64 LE), 12 bytes, where F(0) = 0, F(1) = 1,
 *          F(k) = F(k-1) + F(k-2).
 *
 * The loop is iterative and branch-simple, so the cycle count grows linearly in n (a fixed
 * cost for the journal's SHA-256 plus a few instructions per step).
 */
#include "pyzkvm.h"

int main(void) {
    uint32_t n = pyzkvm_read_u32();
    uint64_t a = 0, b = 1; /* (F(i), F(i+1)) */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t next = a + b; /* wraps mod 2^64 */
        a = b;
        b = next;
    }
    pyzkvm_commit_u32(n);
    pyzkvm_commit_u64(a);
    return 0;
}
