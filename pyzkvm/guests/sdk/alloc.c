/*
 * alloc.c - the guest heap: a bump allocator from the end of the image (_end) upward.
 *
 * A zkVM guest runs once and exits, so memory is never returned to a system; a bump
 * allocator (SP1's default) is the simplest correct choice. free() gives memory back only
 * when it frees the most recent allocation (enough for bounce buffers and growing the last
 * array with realloc). Every block is 8-byte aligned and preceded by an 8-byte header holding
 * its size, so realloc knows how much to copy.
 *
 * pyzkvm_fresh_alloc hands out memory above everything handed out before (heap_top), which
 * the guest cannot have touched: where SP1 needs it for HINT_READ (runtime.c).
 */
#include "pyzkvm.h"

extern char _end[];                 /* first byte past the image (linker script) */
#ifdef PYZKVM_ABI_RISC0
#define HEAP_LIMIT_TEXT "0x0C000000" /* link_risc0.ld */
#else
#define HEAP_LIMIT_TEXT "0x78000000" /* link.ld */
#endif

extern char __pyzkvm_heap_limit[];  /* HEAP_LIMIT_TEXT: first address the guest may not use */

static uintptr_t heap_next;         /* next free byte; 0 until the first malloc */
static uintptr_t last_block;        /* the most recent allocation (for free/realloc) */
static uintptr_t heap_top;          /* the highest heap_next so far: nothing above it was handed out */

static void set_heap_next(uintptr_t next) {
    heap_next = next;
    if (next > heap_top)
        heap_top = next;
}

#define HEADER 8u

void *malloc(size_t size) {
    if (heap_next == 0)
        heap_next = ((uintptr_t)_end + 7u) & ~(uintptr_t)7u;
    uintptr_t block = heap_next + HEADER;
    uintptr_t limit = (uintptr_t)__pyzkvm_heap_limit;
    /* (heap_next may end within 8 bytes of the limit, or up to 7 past it by the rounding: then
     * block is past the limit and limit - block wraps, so it is tested first) */
    if (block > limit || size > limit - block)
        pyzkvm_panic("malloc: out of guest memory (heap would pass " HEAP_LIMIT_TEXT ")");
    uintptr_t next = (block + size + 7u) & ~(uintptr_t)7u;
    *(uint32_t *)(block - HEADER) = (uint32_t)size;
    set_heap_next(next);
    last_block = block;
    return (void *)block;
}

void *pyzkvm_fresh_alloc(size_t size) {
    if (heap_next < heap_top)
        heap_next = heap_top; /* skip the memory free() gave back: it has been used */
    return malloc(size);
}

void *calloc(size_t count, size_t size) {
    if (size && count > (size_t)-1 / size)
        pyzkvm_panic("calloc: size overflow");
    void *p = malloc(count * size);
    memset(p, 0, count * size);
    return p;
}

void free(void *ptr) {
    if (ptr && (uintptr_t)ptr == last_block) {
        heap_next = last_block - HEADER;
        last_block = 0;
    }
}

void *realloc(void *ptr, size_t size) {
    if (ptr == NULL)
        return malloc(size);
    uint32_t old = *(uint32_t *)((uintptr_t)ptr - HEADER);
    if ((uintptr_t)ptr == last_block) {
        /* the last block grows or shrinks in place */
        uintptr_t limit = (uintptr_t)__pyzkvm_heap_limit;
        if (size > limit - (uintptr_t)ptr)
            pyzkvm_panic("realloc: out of guest memory (heap would pass " HEAP_LIMIT_TEXT ")");
        *(uint32_t *)((uintptr_t)ptr - HEADER) = (uint32_t)size;
        set_heap_next(((uintptr_t)ptr + size + 7u) & ~(uintptr_t)7u);
        return ptr;
    }
    void *fresh = malloc(size);
    memcpy(fresh, ptr, old < size ? old : size);
    return fresh;
}
