"""RISC Zero's SHA ecall (t0 = 3) on the SHA chips (machine/sha_risc0.py, issue 16 §5).

risc0-profile programs compress blocks with the ecall — a0 → out state, a1 → in state (8
big-endian words each), a2/a3 → the two halves of block 0 (block k 64·k bytes further), a4 =
count — write the out state to the journal and HALT with RISC Zero's output digest of it.
Oracles: hashlib.sha256 (a padded message in one ecall of several blocks) and the FIPS 180-4
compression written in tests/sha_reference.py (random states and blocks). Each forgery — a
wrong state out, a block word read from a wrong address, a skipped block, a wrong count — is
named by the debug check; the slow tests force proofs of two and the verifier rejects them."""

from __future__ import annotations

import hashlib
import random
import struct

import pytest

from pyzkvm.errors import ConstraintNotSatisfied, UnsupportedProgram, VerificationError
from pyzkvm.executor import execute
from pyzkvm.executor.risc0 import output_digest
from pyzkvm.machine import build_chips, check_machine, generate_tables
from pyzkvm.machine.sha_compress import COMPRESS
from pyzkvm.machine.sha_extend import EXTEND
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, setup
from tests.machine.machine_helpers import forced_proof_rejected, forged
from tests.machine.test_machine_sha import H0, _padded
from tests.rvasm import DATA_BASE, asm, flatten, program
from tests.sha_reference import compress_block

WRITE_NAME = b"risc0_zkvm_platform::syscall::nr::SYS_WRITE\0"
MSG = b"RISC Zero's SHA ecall compresses several blocks in one call; this message is long enough to need three of them, so three it is."


def sha_ecall(out, state_in, half1, half2, count):
    return [asm.li(10, out), asm.li(11, state_in), asm.li(12, half1), asm.li(13, half2), asm.li(14, count),
            asm.li(5, 3), asm.ecall()]


def r0_program(calls, blocks: bytes, h_in, journal_at: str = "out"):
    """Data: the SYS_WRITE name, the in state (big-endian words), an out state buffer, the blocks,
    the output digest of the expected journal. ``calls``: (out, in, half1 offset, half2 offset,
    count) with out/in one of "in", "out" and offsets into the blocks. Then SYS_WRITE of the out
    state (32 bytes) to the journal and HALT(0) with a1 → the digest of ``expected``."""
    name_at = DATA_BASE
    in_at = name_at + len(WRITE_NAME) + (-len(WRITE_NAME) % 4)
    out_at = in_at + 32
    blocks_at = out_at + 32
    digest_at = blocks_at + len(blocks)
    where = {"in": in_at, "out": out_at}
    code = [sha_ecall(where[o], where[i], blocks_at + b1, blocks_at + b2, n) for o, i, b1, b2, n in calls]
    code += [asm.li(10, 0), asm.li(11, 0), asm.li(12, name_at), asm.li(13, 3), asm.li(14, where[journal_at]),
             asm.li(15, 32), asm.li(5, 2), asm.ecall()]
    code += [asm.li(10, 0), asm.li(11, digest_at), asm.li(5, 0), asm.ecall()]

    def data(expected: bytes) -> bytes:
        return (WRITE_NAME + bytes(-len(WRITE_NAME) % 4) + struct.pack(">8I", *h_in) + bytes(32) + blocks
                + output_digest(expected))
    return flatten(code), data


def run(calls, blocks, h_in, expected, journal_at="out"):
    code, data = r0_program(calls, blocks, h_in, journal_at)
    prog = program(code, data=data(expected), abi="risc0")
    execution = execute(prog, capture_trace=True)
    assert execution.journal == expected and execution.output_digest_matches
    chips = build_chips(prog)
    return chips, generate_tables(chips, execution)


@pytest.fixture(scope="module")
def honest():
    """SHA-256 of MSG: its 3 padded blocks in one ecall (a3 = a2 + 32, RISC Zero's layout)."""
    padded = _padded(MSG)
    assert len(padded) == 3 * 64
    return run([("out", "in", 0, 32, 3)], padded, H0, hashlib.sha256(MSG).digest())


def test_three_blocks_in_one_ecall_agree_with_hashlib(honest):
    chips, tables = honest
    check_machine(chips, tables)
    for name, layout in (("sha extend", EXTEND), ("sha compress", COMPRESS)):
        t = tables.traces[name]
        assert t[:, layout.pos].sum() == 3 * 64 and t[:, layout.r0].sum() == 3 * 64


def test_in_place_two_ecalls_and_split_halves_agree_with_the_reference():
    """out = in (read at 4·clk + 6, written at + 7), two ecalls, halves not adjacent (a3 = a2 + 96)."""
    rng = random.Random(3)
    h = [rng.getrandbits(32) for _ in range(8)]
    blocks = bytes(rng.getrandbits(8) for _ in range(256))
    blk = lambda k: blocks[64 * k: 64 * k + 32] + blocks[64 * k + 96: 64 * k + 128]  # noqa: E731
    want = compress_block(compress_block(compress_block(h, blk(0)), blk(1)), blk(0))
    calls = [("in", "in", 0, 96, 2), ("in", "in", 0, 96, 1)]
    chips, tables = run(calls, blocks, h, struct.pack(">8I", *want), journal_at="in")
    check_machine(chips, tables)


def test_count_zero_and_unaligned_pointers_are_refused_with_a_clear_error():
    for calls, match in (([("out", "in", 0, 32, 0)], "count 0"), ([("out", "in", 2, 34, 1)], "not word-aligned")):
        code, data = r0_program(calls, bytes(64), H0)
        prog = program(code, data=data(b""), abi="risc0")
        execution = execute(prog, capture_trace=True)
        with pytest.raises(UnsupportedProgram, match=match):
            generate_tables(build_chips(prog), execution)


# ---- forgeries (on the 3-block honest run: compress/extend rows 64·k.. are block k) ---------------
def _set_word(row, cols, value):
    row[cols] = [(value >> (8 * k)) & 0xFF for k in range(4)]


def wrong_state_out(t):  # the last block's h_out[5] + 1 (a valid word of bytes, written to memory)
    c = t.traces["sha compress"][2 * 64 + 63]
    _set_word(c, COMPRESS.o5, (sum(int(c[x]) << (8 * k) for k, x in enumerate(COMPRESS.o5)) + 1) & 0xFFFFFFFF)


def block_word_from_wrong_address(t):  # extend block 1 reads its word 3 one word further on
    t.traces["sha extend"][64 + 3, EXTEND.mkey] += 1


def block_keys_shifted(t):
    """Block 0 read one word further on, coherently: its keys in both chips and its rows' memory keys."""
    for name, layout in (("sha extend", EXTEND), ("sha compress", COMPRESS)):
        x = t.traces[name]
        x[:64, layout.kb1] += 1
        x[:64, layout.kb2] += 1
    t.traces["sha extend"][:16, EXTEND.mkey] += 1


def skipped_block(t):  # block 1 left out of both chips: block 2 moves up, the last 64 rows are padding
    for name in ("sha extend", "sha compress"):
        x = t.traces[name]
        x[64:128] = x[128:192]
        x[128:192] = 0


def wrong_count(t):
    """The ecall stops after block 1: marked last (rem = 0), its row 63 writes h_out at kout at
    4·clk + 7 (each write's own constraints kept: previous timestamp just before it)."""
    c = t.traces["sha compress"]
    c[64:128, COMPRESS.rem], c[64:128, COMPRESS.rinv], c[64:128, COMPRESS.bl] = 0, 0, 1
    c[64:128, COMPRESS.kout] = c[128, COMPRESS.kout]
    c[127, COMPRESS.hk], c[127, COMPRESS.hts] = c[127, COMPRESS.kout], 4 * c[127, COMPRESS.clk] + 7
    for j in range(8):
        c[127, getattr(COMPRESS, f"h{j}_ts")] = c[127, COMPRESS.hts] - 1


ATTACKS = {
    "wrong state out": (wrong_state_out, r"h\[5\] \+= state\[5\]"),
    "a block word read from a wrong address": (block_word_from_wrong_address, r"sha extend.*the row's memory key' fails at row 67 "),
    "block keys shifted": (block_keys_shifted, r"bus .*'(r0 sha call|r0 sha state|memory)'"),
    "a skipped block": (skipped_block, r"bus .*'(r0 sha state|r0 sha w)'"),
    "wrong count": (wrong_count, r"bus .*'(r0 sha state|r0 sha out|memory)'"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_forgery(honest, attack):
    chips, tables = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["wrong state out", "a skipped block", "wrong count"])
def test_forced_proof_is_rejected(honest, attack):
    chips, tables = honest
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    bad = forged(tables, ATTACKS[attack][0])
    forced_proof_rejected(pk, chips, bad, VerificationError)
