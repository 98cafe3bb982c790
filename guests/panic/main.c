/*
 * panic - a guest that fails on purpose, to test how failures are reported.
 *
 * Input:   none.
 * Stdout:  "panic guest: about to panic\n"
 * Stderr:  "panic guest: this guest always panics\n" (pyzkvm_panic adds the newline)
 * Journal: empty (the COMMIT words are still SHA-256 of the empty journal).
 * Exit code: 1.
 */
#include "pyzkvm.h"

int main(void) {
    pyzkvm_print("panic guest: about to panic\n");
    pyzkvm_panic("panic guest: this guest always panics");
}
