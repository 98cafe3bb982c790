"""The machine's LogUp buses: one name per bus and the layout of the tuple it carries.

A bus entry's fingerprint is ``bus_id + Σ_j γ^(j+1)·v_j`` (pyzkvm/stark/logup.py); the tuple
layouts below are the v_j, in order. Sends add +μ/(α − fp), receives −μ/(α − fp); every bus
must balance to zero over all tables (docs/machine.md §3 lists who sends and who receives).
"""

#: (pc, alu_op, rd, rs1, rs2, imm0..imm3, imm_f, uses_imm, f_alu, f_lui, f_jal, f_ecall, writes_rd)
#: CPU sends one per executed row; the program table receives with multiplicity = executions.
PROGRAM = "program"
#: (key, v0..v3, ts): offline memory checking. Every access receives the previous
#: (value, timestamp) of its key and sends the new one; the boundary table sends the initial
#: (key, init, 0) and receives the final (key, final, final_ts).
MEMORY = "memory"
#: (key, w0..w3): the preprocessed image table sends each ELF word once; the boundary table
#: receives it on the row that initialises that key.
IMAGE = "image"
#: (alu_op, a0..a3, b0..b3, c0..c3): CPU sends "c = a OP b"; the ALU chips receive it.
ALU = "alu"
#: (tag, x, y, z, w): the fixed byte table. tag 0: x, y are bytes (z = w = 0);
#: tag 1/2/3: z = x AND/OR/XOR y (w = 0); with s = y & 7:
#: tag 4 (SHL): z = (x << s) & 0xFF, w = x >> (8 − s)      (what stays, what spills up)
#: tag 5 (SHR): z = x >> s,          w = (x << (8 − s)) & 0xFF   (what stays, what spills down)
BYTE = "byte"

TAG_RANGE, TAG_AND, TAG_OR, TAG_XOR, TAG_SHL, TAG_SHR = 0, 1, 2, 3, 4, 5

ALL: tuple[str, ...] = (PROGRAM, MEMORY, IMAGE, ALU, BYTE)  # grown below, bus by bus
#: (op, off0, off1, m0..m3, n0..n3, v0..v3, c0..c3): a load or store of the word m → n at byte
#: offset off0 + 2·off1, storing v (rs2) or loading c. CPU sends; the load/store chip receives.
MEMOP = "memop"

ALL = ALL + (MEMOP,)
#: (clk, profile, is_halt, code0..3, a0_0..3, ret0..3): an ecall (SP1's HALT excepted). CPU sends;
#: the syscall chip of its profile receives (syscall.py: 0, syscall_risc0.py: 1).
SYSCALL = "syscall"
#: (kind, index, w0..w3): COMMIT (kind 0) / COMMIT_DEFERRED_PROOFS (kind 1) of word w at index.
#: The syscall chip sends; the verifier receives the 8 + 8 public words (public_interactions).
COMMIT = "commit"
#: (clk, key): HINT_READ's destination words as a chain: the syscall chip sends the first key and
#: receives one past the last; each hint-word row receives (clk, key) and sends (clk, key + 1).
HINT_CHAIN = "hint chain"
#: (clk, key, is_first, jbase, fm0..3, lm0..3, last_key): the same chain for a journal WRITE's
#: words, carrying what each word row needs to know which of its bytes are in the buffer.
JOURNAL_CHAIN = "journal chain"
#: (position, byte): every journal byte the guest wrote. The journal-word chip sends; the
#: verifier receives (i, journal[i]) for each byte of the claimed journal.
JOURNAL = "journal"

ALL = ALL + (SYSCALL, COMMIT, HINT_CHAIN, JOURNAL_CHAIN, JOURNAL)
#: (clk, j, key, apos, h): VERIFY_SP1_PROOF's 16 words as two chains, like HINT_CHAIN: the syscall
#: chip sends (clk, 0, key(a0), apos, 0) and receives (clk, 8, key(a0) + 8, apos, 0) for the image
#: ID, and sends (clk, 8, key(a1), apos, 1) / receives (clk, 16, key(a1) + 8, apos, 1) for the
#: journal digest; each assumption-word row receives (clk, j, key, apos, h) and sends
#: (clk, j + 1, key + 1, apos, h). h says which buffer (and the read's timestamp 4·clk + 5 + h).
ASSUMPTION_CHAIN = "assumption chain"
#: (index, j, w0..w3): word j (0..15) of assumption ``index`` (image ID ‖ journal digest, as bytes
#: of little-endian words). The assumption-word chip sends; the verifier receives the 16 words of
#: every assumption of the claim (public_interactions), so none can be added, dropped or changed.
ASSUMPTION = "assumption"

ALL = ALL + (ASSUMPTION_CHAIN, ASSUMPTION)
#: (clk, code0..3, a0_0..3, a1_0..3): an ecall of a precompile (SHA_EXTEND, SHA_COMPRESS,
#: KECCAK_PERMUTE): the syscall chip sends it with t0's bytes as the code; the precompile's chip
#: receives the calls of its own code (its bytes as constants) and checks its own pointers, so a
#: code no chip receives leaves the bus unbalanced.
PRECOMPILE = "precompile"
#: (clk, key, tag, lo, hi): a KECCAK_PERMUTE state word as two 16-bit limbs, tag 0 the input (read),
#: 1 the output (written). The keccak word chip sends; the keccak permute chip receives.
KECCAK_IO = "keccak io"

ALL = ALL + (PRECOMPILE, KECCAK_IO)
#: RISC Zero's SHA ecall (t0 = 3) on the SHA chips, one SHA-256 block per 64-row call of each:
#: (clk, count, kin, kb1, kb2): the syscall chip sends the ecall's block count and the memory
#: keys of its in state and first block's two halves; the compress chip's first block receives it.
R0_SHA_CALL = "r0 sha call"
#: (clk, kout): the syscall chip sends the key of the ecall's out state; its last block receives it.
R0_SHA_OUT = "r0 sha out"
#: (clk, rem, kb1, kb2, h0_lo, h0_hi, .., h7_hi): block → next block of one ecall: the state after
#: the block (8 words as 16-bit halves), the blocks left after the receiving one (rem) and the
#: receiving block's keys. The compress chip sends and receives it. (20 fields: no wider than the
#: machine's widest bus, which the LogUp security term counts.)
R0_SHA_STATE = "r0 sha state"
#: (clk, kb1, kb2, i, w0..w3): schedule word w[i] of the block at keys kb1/kb2 (its value's
#: little-endian bytes). The extend chip sends all 64; the compress chip receives them.
R0_SHA_W = "r0 sha w"

ALL = ALL + (R0_SHA_CALL, R0_SHA_OUT, R0_SHA_STATE, R0_SHA_W)
#: Segment boundaries (docs/continuations.md), each CPU entry placed by a row selector:
#: (clk, pc): where a segment starts. The CPU's first row sends its start clock and pc; the
#: program table's entry row receives (0, entry point) in the run's first segment, and the last
#: row of a segment that does not halt receives its end clock and next pc — the next segment's.
SEGMENT_PC = "segment pc"
#: (clk, jpos, apos): the SP1 syscall chip's last row sends the segment's end clock and the
#: journal length and VERIFY_SP1_PROOF count after it; the next segment's first row receives them.
SEGMENT_COUNTS = "segment counts"

ALL = ALL + (SEGMENT_PC, SEGMENT_COUNTS)
