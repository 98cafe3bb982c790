/* 64-bit division for guests built with clang, which links no compiler runtime for riscv32
 * (zig brings compiler-rt, gcc brings libgcc; this file is compiled only for clang:
 * guests/toolchain.py, Compiler.runtime).
 *
 * RV32IM divides 32-bit words only (divu/remu), so the compiler turns a 64-bit `/` or `%`
 * into a call of these four functions. Each is restoring binary long division: line the
 * divisor's top bit up with the dividend's, then, one bit a step from there down to bit 0,
 * subtract where it fits and record a 1 in the quotient: at most 64 steps of 32-bit
 * operations. Division by zero gives what the RISC-V divu/remu instructions give for 32 bits:
 * quotient all ones, remainder the dividend (C leaves it undefined). Signed division
 * truncates toward zero and the remainder takes the dividend's sign, as C requires;
 * INT64_MIN / -1 wraps to INT64_MIN (as RISC-V's div). The four are weak: a guest that defines
 * its own (the workaround before this file) links with its own, not a duplicate-symbol error. */

#include <stdint.h>

static unsigned clz64(uint64_t x) { /* x != 0 */
    uint32_t hi = (uint32_t)(x >> 32);
    return hi ? (unsigned)__builtin_clz(hi) : 32u + (unsigned)__builtin_clz((uint32_t)x);
}

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
    if (d == 0) {
        *rem = n;
        return ~(uint64_t)0;
    }
    if ((n >> 32) == 0 && (d >> 32) == 0) { /* both fit a word: the hardware divides */
        *rem = (uint32_t)n % (uint32_t)d;
        return (uint32_t)n / (uint32_t)d;
    }
    if (n < d) {
        *rem = n;
        return 0;
    }
    unsigned shift = clz64(d) - clz64(n); /* n >= d: the divisor's top bit moved up to n's */
    uint64_t q = 0;
    d <<= shift;
    for (unsigned i = 0; i <= shift; i++) { /* invariant: n < 2·d */
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1;
        }
        d >>= 1;
    }
    *rem = n;
    return q;
}

__attribute__((weak)) uint64_t __udivdi3(uint64_t n, uint64_t d) {
    uint64_t r;
    return udivmod64(n, d, &r);
}

__attribute__((weak)) uint64_t __umoddi3(uint64_t n, uint64_t d) {
    uint64_t r;
    udivmod64(n, d, &r);
    return r;
}

/* |x| as an unsigned number (INT64_MIN's is 2^63, which fits) */
static uint64_t magnitude(int64_t x) { return x < 0 ? -(uint64_t)x : (uint64_t)x; }

__attribute__((weak)) int64_t __divdi3(int64_t n, int64_t d) {
    uint64_t r, q = udivmod64(magnitude(n), magnitude(d), &r);
    if (d == 0)
        return -1; /* as div: all ones */
    return (int64_t)((n < 0) != (d < 0) ? -q : q);
}

__attribute__((weak)) int64_t __moddi3(int64_t n, int64_t d) {
    uint64_t r;
    udivmod64(magnitude(n), magnitude(d), &r);
    if (d == 0)
        return n;
    return (int64_t)(n < 0 ? -r : r);
}
