"""The SHA_EXTEND / SHA_COMPRESS chips (machine/sha_extend.py, sha_compress.py): honest runs
agree with hashlib.sha256 and with a compression function written here from FIPS 180-4, and
every forgery of issue 16 §6 is named by the debug check; two are also forced through the
real prover and rejected by the verifier."""

from __future__ import annotations

import hashlib
import random
import struct

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, UnsupportedProgram, VerificationError
from pyzkvm.machine import check_machine
from pyzkvm.machine.sha_compress import COMPRESS
from pyzkvm.machine.sha_extend import EXTEND
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall
from tests.sha_reference import K, compress_block, ror

SHA_EXTEND, SHA_COMPRESS = 0x00300105, 0x00010106
M = 0xFFFFFFFF


H0 = [int(x) for x in struct.unpack(">8I", bytes.fromhex(
    "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19"))]


def _padded(msg: bytes) -> bytes:
    return msg + b"\x80" + bytes((55 - len(msg)) % 64) + struct.pack(">Q", 8 * len(msg))


def sha_program(blocks, h):
    """Code and data: each block's w[0..16] in a 256-byte buffer, then h (8 words); per block
    SHA_EXTEND then SHA_COMPRESS; then h is written to the journal (32 bytes)."""
    data = b"".join(struct.pack("<16I", *struct.unpack(">16I", blk)) + bytes(192) for blk in blocks)
    h_addr = DATA_BASE + len(data)
    data += struct.pack("<8I", *h)
    code = [[syscall(SHA_EXTEND, DATA_BASE + 256 * k, 0), syscall(SHA_COMPRESS, DATA_BASE + 256 * k, h_addr)]
            for k in range(len(blocks))]
    return code + [syscall(0x02, 3, h_addr, 32), halt(0)], data


def _journal_words(journal: bytes) -> list:
    return list(struct.unpack("<8I", journal))


MSG = b"pyzkvm proves SHA-256 with two precompile chips, over two blocks."


@pytest.fixture(scope="module")
def honest():
    blocks = [blk for blk in (lambda p: [p[i:i + 64] for i in range(0, len(p), 64)])(_padded(MSG))]
    code, data = sha_program(blocks, H0)
    chips, tables, execution = run_machine(code, data=data)
    return chips, tables, execution


def test_the_reference_compression_is_sha256():
    blk = _padded(b"abc")
    assert struct.pack(">8I", *compress_block(H0, blk)) == hashlib.sha256(b"abc").digest()


def test_two_blocks_agree_with_hashlib_and_pass_the_debug_check(honest):
    chips, tables, _ = honest
    assert struct.pack(">8I", *_journal_words(tables.journal)) == hashlib.sha256(MSG).digest()
    check_machine(chips, tables)
    assert tables.traces["sha extend"][:, EXTEND.active].sum() == 2
    assert tables.traces["sha compress"][:, COMPRESS.active].sum() == 2


def test_any_h_and_raw_block_agree_with_the_reference_compression():
    rng = random.Random(16)
    h = [rng.getrandbits(32) for _ in range(8)]
    blk = bytes(rng.getrandbits(8) for _ in range(64))
    code, data = sha_program([blk], h)
    chips, tables, _ = run_machine(code, data=data)
    assert _journal_words(tables.journal) == compress_block(h, blk)
    check_machine(chips, tables)


def test_overlapping_buffers_are_refused_with_a_clear_error():
    code = [syscall(SHA_COMPRESS, DATA_BASE, DATA_BASE + 32), halt(0)]
    with pytest.raises(UnsupportedProgram, match="overlapping w and h"):
        run_machine(code, data=bytes(256))


def test_both_chips_obey_the_inactive_row_rule():
    """compile_air refuses an AIR with a multiplicity that does not vanish where active = 0
    (stark/air.py, the activity rule): both chips compile, and their selector is ``active``."""
    from pyzkvm.machine.sha_compress import ShaCompressAir
    from pyzkvm.machine.sha_extend import ShaExtendAir
    from pyzkvm.stark.air import compile_air

    for air, layout in ((ShaExtendAir(), EXTEND), (ShaCompressAir(), COMPRESS)):
        compiled = compile_air(air)
        assert compiled.builder.active.args == (layout.active, 0)


# ---- forgeries ------------------------------------------------------------------------------------
def wrong_round_output(t):  # one bit of a' after round 9
    t.traces["sha compress"][0, COMPRESS.A13b[4]] ^= 1


def skipped_round(t):
    """Round 5 left the state as it was (a' = a, e' = e) and the later rounds ran honestly
    from there: the row's bits and carries are recomputed for that, so round 5 alone is wrong."""
    from pyzkvm.machine.sha_bits import add_carries, to_bits

    c = t.traces["sha compress"]
    A = [None] * 68
    E = [None] * 68
    h_in = [int(sum(int(c[0, x]) << (8 * i) for i, x in enumerate(getattr(COMPRESS, f"h{j}_in")))) for j in range(8)]
    ws = [int(sum(int(c[0, x]) << (8 * i) for i, x in enumerate(getattr(COMPRESS, f"w{j}v")))) for j in range(64)]
    A[0:4], E[0:4] = h_in[3::-1], h_in[7:3:-1]
    for i in range(64):
        a, b, cc, d = A[i + 3], A[i + 2], A[i + 1], A[i]
        e, f, g, h = E[i + 3], E[i + 2], E[i + 1], E[i]
        t1 = [h, ror(e, 6) ^ ror(e, 11) ^ ror(e, 25), (e & f) ^ (~e & g & M), K[i], ws[i]]
        t2 = [ror(a, 2) ^ ror(a, 13) ^ ror(a, 22), (a & b) ^ (a & cc) ^ (b & cc)]
        out_a, al, ah = add_carries([np.array([x]) for x in t1 + t2], 3)
        out_e, el, eh = add_carries([np.array([x]) for x in [d] + t1], 3)
        if i == 5:
            out_a, out_e = np.array([a]), np.array([e])
        A[i + 4], E[i + 4] = int(out_a[0]), int(out_e[0])
        c[0, getattr(COMPRESS, f"A{i + 4}b")] = to_bits(out_a)[0]
        c[0, getattr(COMPRESS, f"E{i + 4}b")] = to_bits(out_e)[0]
        for name, v in zip(("ca{}l", "ca{}h", "ce{}l", "ce{}h"), (al, ah, el, eh)):
            c[0, getattr(COMPRESS, name.format(i))] = v[0]


def w_from_wrong_address(t):  # the compress row reads w one word further on (pointer + 4)
    c = t.traces["sha compress"]
    c[0, COMPRESS.wp[0]] += 4
    c[0, COMPRESS.wq] += 1
    c[0, COMPRESS.wlo[0]] += 1
    c[0, COMPRESS.wroom[0]] -= 1


def h_write_never_happened(t):  # h[2] written back unchanged: h_out = h_in
    c = t.traces["sha compress"]
    h2 = sum(int(c[0, x]) << (8 * i) for i, x in enumerate(COMPRESS.h2_in))
    c[0, COMPRESS.o2b] = [(h2 >> k) & 1 for k in range(32)]


def extend_write_never_happened(t):  # w[40] claimed to hold its new value already
    x = t.traces["sha extend"]
    new = [sum(int(x[0, EXTEND.w40b[8 * i + k]]) << k for k in range(8)) for i in range(4)]
    x[0, EXTEND.x40_prev] = new


def final_h_not_h_plus_state(t):  # h_out[6] one more than h_in + state
    c = t.traces["sha compress"]
    bits = c[0, COMPRESS.o6b]
    k = int(np.argmin(bits))  # the lowest 0 bit: +2^k (lower 1s → 0) is a valid 32-bit word
    bits[:k] = 0
    bits[k] = 1
    c[0, COMPRESS.o6b] = bits


def duplicated_call(t):  # a padding row of the compress chip claims a second call
    c = t.traces["sha compress"]
    c[2] = c[0]


def wrong_schedule_word(t):
    t.traces["sha extend"][1, EXTEND.w33b[7]] ^= 1


ATTACKS = {
    "wrong round output": (wrong_round_output, r"sha compress.*round 9"),
    "skipped round": (skipped_round, r"sha compress.*round 5:"),
    "w read from the wrong address": (w_from_wrong_address, r"bus .*'(precompile|memory)'"),
    "h write that never happened": (h_write_never_happened, r"h\[2\] \+= state\[2\]"),
    "extend write that never happened": (extend_write_never_happened, r"bus .*'memory'"),
    "final h not h + state": (final_h_not_h_plus_state, r"h\[6\] \+= state\[6\]"),
    "a padding row claims a call": (duplicated_call, r"bus .*'precompile'"),
    "wrong schedule word": (wrong_schedule_word, r"sha extend.*w33 = "),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_forgery(honest, attack):
    chips, tables, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


@pytest.fixture(scope="module")
def proving_key(honest):
    chips, _, _ = honest
    return setup(INSECURE_FAST_FOR_TESTS, chips.airs)


@pytest.mark.slow
def test_honest_proof_verifies_and_forced_forgeries_do_not(honest, proving_key):
    chips, tables, _ = honest
    pk = proving_key
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)
    for attack in ("skipped round", "final h not h + state"):
        bad = forged(tables, ATTACKS[attack][0])
        forced_proof = prove(pk, bad.in_order(chips), bad.public_values, check_constraints_first=False,
                             public_data=bad.public_data).to_bytes()
        with pytest.raises(VerificationError):
            verify(pk.verifying_key, forced_proof, bad.public_values, public_data=bad.public_data)
