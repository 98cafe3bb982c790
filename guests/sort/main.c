/*
 * sort - sort a list of u32 values in heap memory (exercises malloc and memory traffic).
 *
 * Input:   one element of 4*k bytes: k values, each a u32 little-endian (k may be 0).
 *          (`--input hex:...`; an element whose length is not a multiple of 4 is a panic.)
 * Journal: the k values in ascending unsigned order, each a u32 little-endian (4*k bytes).
 *
 * Algorithm: bottom-up merge sort, ping-ponging between the input array and a scratch
 * array, both from malloc. O(k log k) comparisons and stable.
 */
#include "pyzkvm.h"

/* Merge the sorted runs src[lo..mid) and src[mid..hi) into dst[lo..hi). */
static void merge_runs(const uint32_t *src, uint32_t *dst, uint32_t lo, uint32_t mid, uint32_t hi) {
    uint32_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = (src[j] < src[i]) ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

int main(void) {
    uint32_t len;
    uint32_t *values = pyzkvm_read_bytes(&len); /* malloc'd, word-aligned */
    if (len % 4)
        pyzkvm_panic("sort: input length is not a multiple of 4 (expected u32 values)");
    uint32_t k = len / 4;
    uint32_t *scratch = malloc(len ? len : 4);
    uint32_t *src = values, *dst = scratch;
    for (uint32_t width = 1; width < k; width *= 2) {
        for (uint32_t lo = 0; lo < k; lo += 2 * width) {
            uint32_t mid = lo + width < k ? lo + width : k;
            uint32_t hi = lo + 2 * width < k ? lo + 2 * width : k;
            merge_runs(src, dst, lo, mid, hi);
        }
        uint32_t *t = src; /* the merged array becomes the next pass's source */
        src = dst;
        dst = t;
    }
    pyzkvm_commit(src, len); /* little-endian u32s: the array's bytes as they are */
    return 0;
}
