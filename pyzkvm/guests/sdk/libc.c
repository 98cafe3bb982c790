/*
 * libc.c - the few libc functions a freestanding guest needs (compilers also emit calls to
 * memcpy/memset for struct copies and zeroing). Word-at-a-time when both pointers are
 * aligned: one lw/sw per 4 bytes instead of four lb/sb.
 */
#include "pyzkvm.h"

/* Stop GCC from recognising these loops as memcpy/memset and calling ourselves. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LOOP_TO_CALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LOOP_TO_CALL
#endif

NO_LOOP_TO_CALL void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(uint32_t *)d = *(const uint32_t *)s;
    }
    for (; n; n--)
        *d++ = *s++;
    return dst;
}

NO_LOOP_TO_CALL void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n) { /* overlapping with dst above src: copy backwards */
        n--;
        d[n] = s[n];
    }
    return dst;
}

NO_LOOP_TO_CALL void *memset(void *dst, int c, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    uint8_t byte = (uint8_t)c;
    for (; n && ((uintptr_t)d & 3u); n--)
        *d++ = byte;
    uint32_t word = byte * 0x01010101u;
    for (; n >= 4; n -= 4, d += 4)
        *(uint32_t *)d = word;
    for (; n; n--)
        *d++ = byte;
    return dst;
}

NO_LOOP_TO_CALL int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = (const uint8_t *)a;
    const uint8_t *y = (const uint8_t *)b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return (int)x[i] - (int)y[i];
    }
    return 0;
}

NO_LOOP_TO_CALL size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
