/*
 * runtime.c - input, journal, stdout/stderr, exit and panic for pyzkvm guests (SP1 profile).
 *
 * The journal (public values) is the concatenation of every WRITE to fd 3. Like SP1's
 * runtime, the guest keeps a running SHA-256 of those bytes and, at exit, commits the digest
 * as 8 little-endian words (COMMIT index i, word i), so the prover's public values are bound
 * to a 32-byte digest computed inside the proven execution.
 *
 * The digest's blocks run in software while the program has not used the SHA precompile
 * (pyzkvm_sha256_init_auto; SP1's runtime hashes them with the sha2 crate, in software unless
 * the guest patches sha2): a program that hashes nothing itself then leaves the SHA chips
 * empty, and a chip without rows is not in the proof (~4 700 cycles a journal block for
 * ~160-190 KB less proof; docs/guests.md).
 */
#include "pyzkvm.h"
#include "input_words.h"

static pyzkvm_sha256_ctx journal_hash;
static int journal_hash_ready;

static pyzkvm_sha256_ctx *journal_ctx(void) {
    if (!journal_hash_ready) {
        pyzkvm_sha256_init_auto(&journal_hash);
        journal_hash_ready = 1;
    }
    return &journal_hash;
}

/* ---- input ---------------------------------------------------------------------------- */

uint32_t pyzkvm_input_len(void) {
    return pyzkvm_syscall(PYZKVM_SYS_HINT_LEN, 0, 0, 0);
}

/* HINT_READ copies whole words into word-aligned memory: len rounded up to a multiple of 4.
 *
 * Under SP1 the words become the *initial* contents of those addresses (its executor's
 * uninitialized_memory, syscalls/hint.rs): a load sees them only where nothing has loaded or
 * stored the word before, and a second HINT_READ to an address panics. So every read goes to
 * memory the guest has never had (pyzkvm_fresh_alloc) and is copied from there; the pyzkvm
 * executor, which writes the words over what is there, runs these reads the same way
 * (tests/test_sp1_hint_rule.py checks every guest's proven run for it). */
static void *hint_read_fresh(uint32_t len) {
    void *words = pyzkvm_fresh_alloc(round_up4(len) ? round_up4(len) : 4);
    pyzkvm_syscall(PYZKVM_SYS_HINT_READ, (uint32_t)(uintptr_t)words, len, 0);
    return words;
}

uint32_t pyzkvm_read_into(void *buf, uint32_t cap) {
    uint32_t len = pyzkvm_input_len();
    if (len == PYZKVM_NO_INPUT)
        pyzkvm_panic("pyzkvm_read: no input element left");
    if (len > cap)
        pyzkvm_panic("pyzkvm_read: input element larger than the buffer");
    void *words = hint_read_fresh(len);
    memcpy(buf, words, len);
    free(words);
    return len;
}

void *pyzkvm_read_bytes(uint32_t *len_out) {
    uint32_t len = pyzkvm_input_len();
    if (len == PYZKVM_NO_INPUT)
        pyzkvm_panic("pyzkvm_read_bytes: no input element left");
    void *buf = hint_read_fresh(len);
    if (len_out)
        *len_out = len;
    return buf;
}

uint32_t pyzkvm_read_u32(void) {
    uint32_t len = pyzkvm_input_len();
    if (len != 4)
        pyzkvm_panic(len == PYZKVM_NO_INPUT ? "pyzkvm_read_u32: no input element left"
                                            : "pyzkvm_read_u32: input element is not 4 bytes");
    uint32_t *words = hint_read_fresh(4);
    uint32_t word = words[0]; /* RISC-V is little-endian: the element's bytes are the u32 LE */
    free(words);
    return word;
}

uint64_t pyzkvm_read_u64(void) {
    uint32_t len = pyzkvm_input_len();
    if (len != 8)
        pyzkvm_panic(len == PYZKVM_NO_INPUT ? "pyzkvm_read_u64: no input element left"
                                            : "pyzkvm_read_u64: input element is not 8 bytes");
    uint32_t *words = hint_read_fresh(8);
    uint64_t value = (uint64_t)words[0] | ((uint64_t)words[1] << 32);
    free(words);
    return value;
}

/* ---- output --------------------------------------------------------------------------- */

void pyzkvm_write(uint32_t fd, const void *buf, uint32_t len) {
    if (len)
        pyzkvm_syscall(PYZKVM_SYS_WRITE, fd, (uint32_t)(uintptr_t)buf, len);
}

void pyzkvm_commit(const void *buf, uint32_t len) {
    pyzkvm_sha256_update(journal_ctx(), buf, len);
    pyzkvm_write(PYZKVM_FD_JOURNAL, buf, len);
}

void pyzkvm_commit_u32(uint32_t value) {
    uint8_t le[4];
    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(value >> (8 * i));
    pyzkvm_commit(le, 4);
}

void pyzkvm_commit_u64(uint64_t value) {
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(value >> (8 * i));
    pyzkvm_commit(le, 8);
}

void pyzkvm_print(const char *text) {
    pyzkvm_write(PYZKVM_FD_STDOUT, text, strlen(text));
}

void pyzkvm_eprint(const char *text) {
    pyzkvm_write(PYZKVM_FD_STDERR, text, strlen(text));
}

/* ---- exit ----------------------------------------------------------------------------- */

void pyzkvm_halt(uint32_t exit_code) {
    uint8_t digest[32];
    pyzkvm_sha256_final(journal_ctx(), digest);
    /* COMMIT i <- digest[4i .. 4i+4] read as a little-endian word */
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t word = (uint32_t)digest[4 * i] | ((uint32_t)digest[4 * i + 1] << 8) |
                        ((uint32_t)digest[4 * i + 2] << 16) | ((uint32_t)digest[4 * i + 3] << 24);
        pyzkvm_syscall(PYZKVM_SYS_COMMIT, i, word, 0);
    }
    /* no composed proofs: the deferred-proofs digest is all zeros */
    for (uint32_t i = 0; i < 8; i++)
        pyzkvm_syscall(PYZKVM_SYS_COMMIT_DEFERRED_PROOFS, i, 0, 0);
    pyzkvm_syscall(PYZKVM_SYS_HALT, exit_code, 0, 0);
    for (;;) {
    }
}

void pyzkvm_panic(const char *msg) {
    pyzkvm_eprint(msg);
    pyzkvm_write(PYZKVM_FD_STDERR, "\n", 1);
    pyzkvm_halt(1);
}

/* ---- cycle tracking ------------------------------------------------------------------- */

static void cycle_line(const char *prefix, const char *name) {
    char line[128];
    uint32_t n = 0;
    for (const char *p = prefix; *p && n < sizeof line - 1; p++)
        line[n++] = *p;
    for (const char *p = name; *p && n < sizeof line - 1; p++)
        line[n++] = *p;
    line[n++] = '\n';
    pyzkvm_write(PYZKVM_FD_STDOUT, line, n);
}

void pyzkvm_cycle_start(const char *name) {
    cycle_line("cycle-tracker-start: ", name);
}

void pyzkvm_cycle_end(const char *name) {
    cycle_line("cycle-tracker-end: ", name);
}
