/* What both runtimes (runtime.c: SP1's hints; runtime_risc0.c: RISC Zero's serde words) need
 * to read an input byte string: its length in whole words. Not part of the guest API. */
#ifndef PYZKVM_INPUT_WORDS_H
#define PYZKVM_INPUT_WORDS_H

#include "pyzkvm.h"

/* An input byte string's length rounded up to whole words (its padded body). A length past
 * 0xFFFFFFFC would wrap to 0 words: the body unread, the stream out of step, a 4-byte buffer
 * standing for gigabytes. No guest memory holds such a string: refused. */
static inline uint32_t round_up4(uint32_t n) {
    if (n > 0xFFFFFFFCu)
        pyzkvm_panic("pyzkvm_read: input element longer than guest memory");
    return (n + 3u) & ~3u;
}

#endif
