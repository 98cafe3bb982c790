/*
 * isqrt-hint - an SP1 unconstrained block passing a hint to the proved run.
 *
 * Input:   one element, a u32 n (`--input u32:N`).
 * Journal: u32 n || u32 r || u32 touched, 12 bytes, where r = floor(sqrt(n)) and touched is 0.
 *
 * The square root is searched for inside an unconstrained block (ENTER_UNCONSTRAINED 0x03 /
 * EXIT_UNCONSTRAINED 0x04): the block's cycles are not proved, and everything it did to
 * registers and memory is rolled back at EXIT - here it also sets `touched`, which the proved
 * run still sees as 0. What it WRITEs to fd 4 stays: the hint, which the proved run reads back
 * (HINT_LEN/HINT_READ) and must check, since a prover could put any word there:
 * r*r <= n < (r+1)*(r+1).
 */
#include "pyzkvm.h"

#define FD_HINT 4

/* ENTER_UNCONSTRAINED: t0 = 1 inside the block; after EXIT, execution resumes here with t0 = 0. */
static inline uint32_t enter_unconstrained(void) {
    register uint32_t t0 __asm__("t0") = 0x03;
    __asm__ volatile("ecall" : "+r"(t0) : : "memory");
    return t0;
}

static inline void exit_unconstrained(void) {
    register uint32_t t0 __asm__("t0") = 0x04;
    __asm__ volatile("ecall" : "+r"(t0) : : "memory");
}

static volatile uint32_t touched;

int main(void) {
    uint32_t n = pyzkvm_read_u32();
    if (enter_unconstrained()) {
        /* not proved: a slow linear search, r = the largest r with r*r <= n */
        uint32_t r = 0;
        while ((uint64_t)(r + 1) * (r + 1) <= n)
            r++;
        touched = 1; /* rolled back at EXIT */
        pyzkvm_write(FD_HINT, &r, 4);
        exit_unconstrained();
    }
    uint32_t r;
    if (pyzkvm_read_into(&r, 4) != 4)
        pyzkvm_panic("isqrt-hint: no hint");
    /* proved: the hint is the square root */
    if (!((uint64_t)r * r <= n && (uint64_t)(r + 1) * (r + 1) > n))
        pyzkvm_panic("isqrt-hint: the hint is not floor(sqrt(n))");
    pyzkvm_commit_u32(n);
    pyzkvm_commit_u32(r);
    pyzkvm_commit_u32(touched);
    return 0;
}
