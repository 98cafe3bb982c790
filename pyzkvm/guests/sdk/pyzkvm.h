/*
 * pyzkvm.h - the C guest SDK for pyzkvm (RV32IM, freestanding).
 *
 * One API, two ABI profiles chosen at build time: the SP1 profile (default; runtime.c,
 * link.ld, described below) and the RISC Zero profile (`pyzkvm build --abi risc0`, which
 * defines PYZKVM_ABI_RISC0 and compiles runtime_risc0.c with link_risc0.ld: SOFTWARE
 * SYS_READ/SYS_WRITE, HALT with RISC Zero's Output digest, text at 0x00200800; see those
 * files and docs/guests.md). pyzkvm_verify (VERIFY_SP1_PROOF) exists only in the SP1 profile.
 *
 * A guest is a plain C program with `int main(void)`. The start-up code (start.S) sets sp and
 * gp, clears .bss and calls main; when main returns, the runtime hashes the journal with
 * SHA-256 (in the guest; in software unless the program used the SHA precompile), issues COMMIT x8 with the digest's little-endian words,
 * COMMIT_DEFERRED_PROOFS x8 with zeros, then HALT with main's return value as the exit code.
 *
 * Syscalls (DESIGN.md section 3): `ecall` with t0 = code, arguments in a0, a1, a2; after the
 * ecall t0 holds the return value.
 *
 *   HALT 0x00                    a0 = exit code
 *   WRITE 0x02                   a0 = fd (1 stdout, 2 stderr, 3 journal), a1 = buf, a2 = len
 *   HINT_LEN 0xF0                t0 <- length of the next input element (0xFFFFFFFF if none)
 *   HINT_READ 0xF1               a0 = word-aligned dest, a1 = length (= the element's length)
 *   COMMIT 0x10                  a0 = index 0..7, a1 = word of SHA-256(journal)
 *   COMMIT_DEFERRED_PROOFS 0x1A  a0 = index 0..7, a1 = word (zero: no composed proofs)
 *   VERIFY_SP1_PROOF 0x1B        a0 -> image ID (8 words), a1 -> SHA-256 of its journal (8 words):
 *                                assert that a receipt for that claim exists (pyzkvm_verify)
 *
 * Memory map (SP1's): text from 0x00201000, stack top 0x00200400 growing down, heap from the
 * end of the image upward to 0x78000000 (the BabyBear prime; every address is one field
 * element).
 *
 * The SDK is self-contained: it brings its own memcpy/memmove/memset/memcmp/strlen, a bump
 * allocator behind malloc/calloc/realloc/free, and SHA-256 (precompile or software); no libc is linked.
 */
#ifndef PYZKVM_H
#define PYZKVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- syscall codes and file descriptors ------------------------------------------------ */

#define PYZKVM_SYS_HALT 0x00u
#define PYZKVM_SYS_WRITE 0x02u
#define PYZKVM_SYS_COMMIT 0x10u
#define PYZKVM_SYS_COMMIT_DEFERRED_PROOFS 0x1Au
#define PYZKVM_SYS_VERIFY_SP1_PROOF 0x1Bu
#define PYZKVM_SYS_HINT_LEN 0xF0u
#define PYZKVM_SYS_HINT_READ 0xF1u
#define PYZKVM_SYS_SHA_EXTEND 0x00300105u
#define PYZKVM_SYS_SHA_COMPRESS 0x00010106u
#define PYZKVM_SYS_KECCAK_PERMUTE 0x00010109u

/* RISC Zero profile (t0 codes of its v1 ecalls; HALT's a0 = type | exit code << 8) */
#define PYZKVM_R0_HALT 0u
#define PYZKVM_R0_SOFTWARE 2u
#define PYZKVM_R0_SHA 3u
#define PYZKVM_R0_HALT_TERMINATE 0u

#define PYZKVM_FD_STDIN 0u /* RISC Zero profile: the input stream */
#define PYZKVM_FD_STDOUT 1u
#define PYZKVM_FD_STDERR 2u
#define PYZKVM_FD_JOURNAL 3u

/* HINT_LEN's answer when the input stream is exhausted. */
#define PYZKVM_NO_INPUT 0xFFFFFFFFu

#define PYZKVM_NORETURN __attribute__((noreturn))

/* ---- raw syscalls (t0 = code; a0, a1, a2 = arguments; t0 = result) --------------------- */

static inline uint32_t pyzkvm_syscall(uint32_t code, uint32_t a0, uint32_t a1, uint32_t a2) {
    register uint32_t t0 __asm__("t0") = code;
    register uint32_t r0 __asm__("a0") = a0;
    register uint32_t r1 __asm__("a1") = a1;
    register uint32_t r2 __asm__("a2") = a2;
    __asm__ volatile("ecall" : "+r"(t0) : "r"(r0), "r"(r1), "r"(r2) : "memory");
    return t0;
}

/* ---- input (the hint stream: a list of byte strings) ----------------------------------- */

/* Length in bytes of the next input element, or PYZKVM_NO_INPUT when none is left. */
uint32_t pyzkvm_input_len(void);

/* Read the next input element into buf (capacity cap bytes) and return its length.
 * Panics when no element is left or when it does not fit in cap bytes. buf need not be
 * aligned: the SDK reads into fresh memory and copies (runtime.c: what SP1 needs). */
uint32_t pyzkvm_read_into(void *buf, uint32_t cap);

/* Read the next element into fresh heap memory (pyzkvm_fresh_alloc) and return it; *len
 * receives its length (len may be NULL). The buffer is padded to a multiple of 4 bytes. */
void *pyzkvm_read_bytes(uint32_t *len);

/* Read the next element as a little-endian u32 / u64 (it must be exactly 4 / 8 bytes long,
 * which is what `--input u32:N` / `--input u64:N` and SP1's bincode produce). */
uint32_t pyzkvm_read_u32(void);
uint64_t pyzkvm_read_u64(void);

/* ---- output ---------------------------------------------------------------------------- */

/* Append len bytes to the journal (the public values): WRITE to fd 3, and fold them into the
 * running SHA-256 that is committed at exit. */
void pyzkvm_commit(const void *buf, uint32_t len);
void pyzkvm_commit_u32(uint32_t value); /* 4 bytes, little-endian */
void pyzkvm_commit_u64(uint64_t value); /* 8 bytes, little-endian */

/* WRITE len bytes to a file descriptor (1 stdout, 2 stderr). Use pyzkvm_commit for fd 3. */
void pyzkvm_write(uint32_t fd, const void *buf, uint32_t len);
void pyzkvm_print(const char *text);  /* NUL-terminated text to stdout */
void pyzkvm_eprint(const char *text); /* NUL-terminated text to stderr */

#ifndef PYZKVM_ABI_RISC0
/* ---- composition: assume other receipts (docs/composition.md) -------------------------- */

/* Assert "a receipt exists for the program with this image ID whose journal has this SHA-256"
 * (VERIFY_SP1_PROOF, SP1's register convention: a0 -> the 32-byte image ID, a1 -> the 32-byte
 * journal digest, both word-aligned, bytes in digest order). Nothing is checked inside the
 * guest: the pair becomes an assumption of this run's claim, in call order, and the receipt
 * for this run is valid only together with a receipt for each assumption (the prover attaches
 * them: `pyzkvm prove --assume RECEIPT`). The deferred-proofs digest stays zero. */
static inline void pyzkvm_verify(const uint32_t image_id[8], const uint32_t journal_digest[8]) {
    pyzkvm_syscall(PYZKVM_SYS_VERIFY_SP1_PROOF, (uint32_t)(uintptr_t)image_id, (uint32_t)(uintptr_t)journal_digest, 0);
}

/* ---- precompiles ----------------------------------------------------------------------- */

/* Keccak-f[1600] in place on the 25 lanes of state (lane x + 5y, little-endian: the byte
 * order of FIPS 202's state string), SP1's KECCAK_PERMUTE (a0 = state, a1 = 0). state must be
 * word-aligned (a uint64_t array is). Proved by the keccak chips (docs/machine.md). */
static inline void pyzkvm_keccak_permute(uint64_t state[25]) {
    pyzkvm_syscall(PYZKVM_SYS_KECCAK_PERMUTE, (uint32_t)(uintptr_t)state, 0, 0);
}
#endif /* PYZKVM_ABI_RISC0 */

/* ---- ending the program ---------------------------------------------------------------- */

/* Finish like SP1's runtime: COMMIT x8 the SHA-256 of the journal, COMMIT_DEFERRED_PROOFS x8
 * zeros, then HALT with exit_code (0 = success, anything else is a guest failure). */
PYZKVM_NORETURN void pyzkvm_halt(uint32_t exit_code);

/* Write msg and a newline to stderr, then halt with exit code 1. */
PYZKVM_NORETURN void pyzkvm_panic(const char *msg);

/* ---- SP1-style cycle tracking (lines on stdout that the executor's report understands) -- */

/* Writes "cycle-tracker-start: NAME\n" / "cycle-tracker-end: NAME\n" to fd 1. */
void pyzkvm_cycle_start(const char *name);
void pyzkvm_cycle_end(const char *name);

/* ---- SHA-256 (FIPS 180-4): the SHA_EXTEND/SHA_COMPRESS ecalls in the SP1 profile ------- */

typedef struct {
    uint32_t h[8];        /* chaining value */
    uint64_t length;      /* bytes absorbed so far */
    uint8_t block[64];    /* pending partial block */
    uint32_t used;        /* bytes pending in block */
    void (*compress)(uint32_t h[8], const uint8_t block[64]); /* the block function (sha256.c) */
} pyzkvm_sha256_ctx;

/* Start a hash whose blocks go to the accelerator: in the SP1 profile a SHA_EXTEND +
 * SHA_COMPRESS ecall each, proved by the SHA chips (2 cycles a block). */
void pyzkvm_sha256_init(pyzkvm_sha256_ctx *ctx);
/* Start a hash computed in plain RV32IM (~4 800 cycles a block, no SHA chip rows): the
 * baseline the accelerator is measured against. */
void pyzkvm_sha256_init_software(pyzkvm_sha256_ctx *ctx);
/* Start a hash whose blocks run in software while the program has sent no block to the
 * accelerator through this API (its chips would otherwise enter the proof; raw SHA ecalls
 * are not seen), on the accelerator once it has: what the runtime uses for the journal digest. */
void pyzkvm_sha256_init_auto(pyzkvm_sha256_ctx *ctx);
void pyzkvm_sha256_update(pyzkvm_sha256_ctx *ctx, const void *data, uint32_t len);
void pyzkvm_sha256_final(pyzkvm_sha256_ctx *ctx, uint8_t digest[32]);
/* SHA-256 of len bytes; in the SP1 profile each block is a SHA_EXTEND + SHA_COMPRESS ecall. */
void pyzkvm_sha256(const void *data, uint32_t len, uint8_t digest[32]);
/* The same digest in software (pyzkvm_sha256_init_software). */
void pyzkvm_sha256_software(const void *data, uint32_t len, uint8_t digest[32]);

/* ---- heap and memory (freestanding replacements for libc) ------------------------------ */

void *malloc(size_t size);   /* 8-byte aligned bump allocation; panics when memory runs out */
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);        /* a no-op except for the most recent allocation */
/* malloc from memory the guest has never been given, so never loaded or stored: the only
 * memory where SP1 shows what HINT_READ reads (runtime.c). free() may take it back, but no
 * later pyzkvm_fresh_alloc returns it again. */
void *pyzkvm_fresh_alloc(size_t size);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* PYZKVM_H */
