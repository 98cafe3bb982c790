/*
 * runtime_risc0.c - input, journal, stdout/stderr, exit and panic for pyzkvm guests built for
 * the RISC Zero ABI profile (`pyzkvm build --abi risc0`; compiled instead of runtime.c, with
 * PYZKVM_ABI_RISC0 defined). Same pyzkvm.h API, RISC Zero's v1 ecalls underneath:
 *
 *   SOFTWARE (t0 = 2), a2 -> "risc0_zkvm_platform::syscall::nr::SYS_READ":
 *       a0 = destination (word-aligned), a1 = its length in words, a3 = fd 0, a4 = bytes wanted;
 *       returns a0 = bytes read (fewer at the end of the stream).
 *   SOFTWARE (t0 = 2), a2 -> "...::SYS_WRITE": a3 = fd (1 stdout, 2 stderr, 3 journal),
 *       a4 = buffer, a5 = length.
 *   HALT (t0 = 0): a0 = halt type 0 (terminate) | exit code << 8, a1 -> the 8-word output digest.
 *
 * Input is one byte stream of RISC Zero serde words (what `risc0_input_stream(inputs)` sends and
 * pyzkvm/inputs.py's risc0_* encoders produce). The API maps onto it as:
 *
 *   pyzkvm_read_u32()         one word                           host: risc0_u32(n) (= u32:N)
 *   pyzkvm_read_u64()         two words, low then high           host: risc0_u64(n) (= u64:N)
 *   pyzkvm_read_bytes/into()  a length word, then the bytes      host: risc0_bytes(b)
 *                             padded with zeros to a multiple of 4
 *   pyzkvm_input_len()        peeks the next word: the length of the next byte string (or the
 *                             value of the next u32); PYZKVM_NO_INPUT at the end of the stream.
 *                             The peeked word is consumed by the next read.
 *
 * The journal is every SYS_WRITE to fd 3. At exit the guest computes RISC Zero's Output digest
 *
 *     SHA256( SHA256("risc0.Output") || SHA256(journal) || assumptions (32 zero bytes) || u16le(2) )
 *
 * in the guest (RISC Zero's SHA ecall, sha256.c) and hands its address to HALT in a1.
 */
#include "pyzkvm.h"
#include "input_words.h"

#define SYS_READ_NAME "risc0_zkvm_platform::syscall::nr::SYS_READ"
#define SYS_WRITE_NAME "risc0_zkvm_platform::syscall::nr::SYS_WRITE"

static pyzkvm_sha256_ctx journal_hash;
static int journal_hash_ready;

static pyzkvm_sha256_ctx *journal_ctx(void) {
    if (!journal_hash_ready) {
        pyzkvm_sha256_init(&journal_hash);
        journal_hash_ready = 1;
    }
    return &journal_hash;
}

/* SOFTWARE ecall: t0 = 2, a2 = the syscall's name; a0, a1 come back as the results. */
static uint32_t software(const char *name, uint32_t a0, uint32_t a1, uint32_t a3, uint32_t a4, uint32_t a5) {
    register uint32_t t0 __asm__("t0") = PYZKVM_R0_SOFTWARE;
    register uint32_t r0 __asm__("a0") = a0;
    register uint32_t r1 __asm__("a1") = a1;
    register uint32_t r2 __asm__("a2") = (uint32_t)(uintptr_t)name;
    register uint32_t r3 __asm__("a3") = a3;
    register uint32_t r4 __asm__("a4") = a4;
    register uint32_t r5 __asm__("a5") = a5;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(t0), "r"(r2), "r"(r3), "r"(r4), "r"(r5) : "memory");
    return r0;
}

/* ---- input: serde words from fd 0 ------------------------------------------------------ */

static uint32_t peeked_word;
static int have_peeked; /* 1: peeked_word holds the next word; -1: the stream is exhausted */

/* SYS_READ nwords whole words into the word-aligned dst; returns the bytes the host had. */
static uint32_t read_words(uint32_t *dst, uint32_t nwords) {
    return software(SYS_READ_NAME, (uint32_t)(uintptr_t)dst, nwords, PYZKVM_FD_STDIN, 4 * nwords, 0);
}

uint32_t pyzkvm_input_len(void) {
    if (have_peeked == 0) {
        have_peeked = read_words(&peeked_word, 1) == 4 ? 1 : -1;
    }
    return have_peeked == 1 ? peeked_word : PYZKVM_NO_INPUT;
}

/* The next word of the stream (the peeked one first); panics with what at the end. */
static uint32_t next_word(const char *what) {
    if (pyzkvm_input_len() == PYZKVM_NO_INPUT && have_peeked == -1)
        pyzkvm_panic(what);
    have_peeked = 0;
    return peeked_word;
}

/* Read a byte string's padded body (len bytes + 0-3 zeros) into the word-aligned dst. */
static void read_body(uint32_t *dst, uint32_t len, const char *what) {
    uint32_t nwords = round_up4(len) / 4;
    if (nwords && read_words(dst, nwords) != 4 * nwords)
        pyzkvm_panic(what);
}

uint32_t pyzkvm_read_into(void *buf, uint32_t cap) {
    uint32_t len = next_word("pyzkvm_read: no input element left");
    if (len > cap)
        pyzkvm_panic("pyzkvm_read: input element larger than the buffer");
    if (((uintptr_t)buf & 3u) == 0 && round_up4(len) <= cap) {
        read_body(buf, len, "pyzkvm_read: input ends inside a byte string");
    } else {
        void *bounce = malloc(round_up4(len) ? round_up4(len) : 4);
        read_body(bounce, len, "pyzkvm_read: input ends inside a byte string");
        memcpy(buf, bounce, len);
        free(bounce);
    }
    return len;
}

void *pyzkvm_read_bytes(uint32_t *len_out) {
    uint32_t len = next_word("pyzkvm_read_bytes: no input element left");
    void *buf = malloc(round_up4(len) ? round_up4(len) : 4);
    read_body(buf, len, "pyzkvm_read_bytes: input ends inside a byte string");
    if (len_out)
        *len_out = len;
    return buf;
}

uint32_t pyzkvm_read_u32(void) {
    return next_word("pyzkvm_read_u32: no input element left");
}

uint64_t pyzkvm_read_u64(void) {
    uint32_t lo = next_word("pyzkvm_read_u64: no input element left");
    uint32_t hi = next_word("pyzkvm_read_u64: input ends after the low word");
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

/* ---- output ---------------------------------------------------------------------------- */

void pyzkvm_write(uint32_t fd, const void *buf, uint32_t len) {
    if (len)
        software(SYS_WRITE_NAME, 0, 0, fd, (uint32_t)(uintptr_t)buf, len);
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

/* ---- exit: the Output digest, then HALT ------------------------------------------------ */

/* Output = tagged struct "risc0.Output" of two digests (journal, assumptions) */
static void output_digest(uint8_t out[32]) {
    uint8_t fields[32 + 32 + 32 + 2];
    pyzkvm_sha256("risc0.Output", 12, &fields[0]);         /* tag digest */
    pyzkvm_sha256_final(journal_ctx(), &fields[32]);        /* SHA256(journal) */
    memset(&fields[64], 0, 32);                             /* no assumptions */
    fields[96] = 2;                                         /* u16le(number of digests) */
    fields[97] = 0;
    pyzkvm_sha256(fields, sizeof fields, out);
}

void pyzkvm_halt(uint32_t exit_code) {
    static uint32_t digest[8]; /* word-aligned: HALT reads 8 words at a1 */
    output_digest((uint8_t *)digest);
    register uint32_t t0 __asm__("t0") = PYZKVM_R0_HALT;
    register uint32_t r0 __asm__("a0") = PYZKVM_R0_HALT_TERMINATE | (exit_code << 8);
    register uint32_t r1 __asm__("a1") = (uint32_t)(uintptr_t)digest;
    __asm__ volatile("ecall" : : "r"(t0), "r"(r0), "r"(r1) : "memory");
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
