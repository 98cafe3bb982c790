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
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall
from tests.sha_reference import K, compress_block, ror

SHA_EXTEND, SHA_COMPRESS = 0x00300105, 0x00010106
M = 0xFFFFFFFF


H0 = [int(x) for x in struct.unpack(">8I", bytes.fromhex(
    "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19"))]


def _padded(msg: bytes) -> bytes:
    return msg + b"\x80" + bytes((55 - len(msg)) % 64) + struct.pack(">Q", 8 * len(msg))


def sha_program(blocks, h, skip: int = 44):
    """Code and data: ``skip`` bytes (so that no pointer's low byte is 0), each block's w[0..16]
    in a 256-byte buffer, then h (8 words); per block SHA_EXTEND then SHA_COMPRESS; then h is
    written to the journal (32 bytes)."""
    data = bytes(skip) + b"".join(struct.pack("<16I", *struct.unpack(">16I", blk)) + bytes(192) for blk in blocks)
    h_addr = DATA_BASE + len(data)
    data += struct.pack("<8I", *h)
    w_addr = DATA_BASE + skip
    code = [[syscall(SHA_EXTEND, w_addr + 256 * k, 0), syscall(SHA_COMPRESS, w_addr + 256 * k, h_addr)]
            for k in range(len(blocks))]
    return code + [syscall(0x02, 3, h_addr, 32), halt(0)], data


def _journal_words(journal: bytes) -> list:
    return list(struct.unpack("<8I", journal))


MSG = b"pyzkvm proves SHA-256 with two precompile chips, one row per round and per schedule word; this message needs three blocks."
CALLS = 3  # 3 × 64 rows: each chip's table is 256 rows, the last 64 padding


@pytest.fixture(scope="module")
def honest():
    padded = _padded(MSG)
    blocks = [padded[i:i + 64] for i in range(0, len(padded), 64)]
    assert len(blocks) == CALLS
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
    for name, layout in (("sha extend", EXTEND), ("sha compress", COMPRESS)):
        t = tables.traces[name]
        assert t.shape[0] == 256 and t[:, layout.pos].sum() == 64 * CALLS
        assert np.array_equal(np.argmax(t[:64 * CALLS, layout.pos], axis=1), np.tile(np.arange(64), CALLS))
        assert not t[64 * CALLS:].any()  # padding rows are all 0


@pytest.mark.parametrize("skip", [0, 252])
def test_any_h_and_raw_block_agree_with_the_reference_compression(skip):
    """Also where a pointer's low byte is 0 or 0xFC (q = 0, q = 63: the key on every row uses q)."""
    rng = random.Random(16)
    h = [rng.getrandbits(32) for _ in range(8)]
    blk = bytes(rng.getrandbits(8) for _ in range(64))
    code, data = sha_program([blk], h, skip)
    chips, tables, _ = run_machine(code, data=data)
    assert _journal_words(tables.journal) == compress_block(h, blk)
    check_machine(chips, tables)


def test_overlapping_buffers_are_refused_with_a_clear_error():
    code = [syscall(SHA_COMPRESS, DATA_BASE, DATA_BASE + 32), halt(0)]
    with pytest.raises(UnsupportedProgram, match="overlapping w and h"):
        run_machine(code, data=bytes(256))


def test_both_chips_obey_the_inactive_row_rule():
    """compile_air refuses an AIR with a multiplicity that does not vanish where active = 0
    (stark/air.py, the activity rule): both chips compile, with the position flags' sum as the
    selector (so pos0, the call's receive, and pos63, the h write-back, vanish on padding)."""
    from pyzkvm.machine.sha_compress import ShaCompressAir
    from pyzkvm.machine.sha_extend import ShaExtendAir
    from pyzkvm.stark.air import compile_air

    for air, layout in ((ShaExtendAir(), EXTEND), (ShaCompressAir(), COMPRESS)):
        active = compile_air(air).builder.active
        leaves = set()
        stack = [active]
        while stack:  # the selector's main-column leaves
            e = stack.pop()
            if e.op == "main":
                leaves.add(e.args[0])
            elif isinstance(e.args, tuple):
                stack.extend(x for x in e.args if hasattr(x, "op"))
        assert leaves == set(layout.pos)


# ---- forgeries ------------------------------------------------------------------------------------
def _word(row, cols) -> int:
    return sum(int(row[c]) << (8 * k) for k, c in enumerate(cols))


def _set_bits(row, cols, value):
    row[cols] = [(value >> k) & 1 for k in range(32)]


def relay_compress_call(c, call, k_used):
    """Rewrite call ``call``'s 64 round rows as a forger would: from its h_in and w, every
    round computed with the constants ``k_used`` (honest elsewhere), the state handed on,
    h_out = h_in + final state. Only the rows whose constant differs from K break a rule."""
    from pyzkvm.machine.sha_bits import add_carries

    rows = c[64 * call: 64 * call + 64]
    h_in = [_word(rows[0], getattr(COMPRESS, f"h{j}_in")) for j in range(8)]
    st = list(h_in)
    for i in range(64):
        r, (a, b, cc, d, e, f, g, h) = rows[i], st
        for name, v in zip("abcefg", (a, b, cc, e, f, g)):
            _set_bits(r, getattr(COMPRESS, f"{name}b"), v)
        r[COMPRESS.d], r[COMPRESS.h] = [d & 0xFFFF, d >> 16], [h & 0xFFFF, h >> 16]
        t1 = [h, ror(e, 6) ^ ror(e, 11) ^ ror(e, 25), (e & f) ^ (~e & g & M), k_used[i], _word(r, COMPRESS.w)]
        t2 = [ror(a, 2) ^ ror(a, 13) ^ ror(a, 22), (a & b) ^ (a & cc) ^ (b & cc)]
        out_a, al, ah = add_carries([np.array([x]) for x in t1 + t2], 3)
        out_e, el, eh = add_carries([np.array([x]) for x in [d] + t1], 3)
        _set_bits(r, COMPRESS.anb, int(out_a[0]))
        _set_bits(r, COMPRESS.enb, int(out_e[0]))
        for name, v in zip(("cal", "cah", "cel", "ceh"), (al, ah, el, eh)):
            r[getattr(COMPRESS, name)] = v[0]
        st = [int(out_a[0]), a, b, cc, int(out_e[0]), e, f, g]
    for j in range(8):
        out, lo, hi = add_carries([np.array([h_in[j]]), np.array([st[j]])], 1)
        rows[63, getattr(COMPRESS, f"o{j}")] = [(int(out[0]) >> (8 * k)) & 0xFF for k in range(4)]
        rows[63, getattr(COMPRESS, f"co{j}l")], rows[63, getattr(COMPRESS, f"co{j}h")] = lo[0, 0], hi[0, 0]


def wrong_round_output(t):  # one bit of a' after round 9
    t.traces["sha compress"][9, COMPRESS.anb[4]] ^= 1


def wrong_k(t):
    """Round 7 of call 1 uses K[7] ⊕ 1, and every later round follows honestly from its state."""
    relay_compress_call(t.traces["sha compress"], 1, [k ^ (i == 7) for i, k in enumerate(K)])


def _delete_row(x, row, end):
    """Rows row..end−2 move up one (row ``row`` is gone); the call's last row stays its own."""
    x[row:end - 1] = x[row + 1:end].copy()


def skipped_round(t):  # call 0 jumps from round 4 to round 6: row 5 deleted
    _delete_row(t.traces["sha compress"], 5, 63)


def skipped_round_relabelled(t):  # the same, with the positions put back to 0..63 in order
    c = t.traces["sha compress"]
    pos = c[:64, COMPRESS.pos].copy()
    _delete_row(c, 5, 63)
    c[:64, COMPRESS.pos] = pos


def row_from_another_call(t):  # row 10 of call 1 spliced into call 0
    c = t.traces["sha compress"]
    c[10] = c[64 + 10]


def w_from_wrong_address(t):  # call 0 reads w one word further on (pointer + 4), on every row
    c = t.traces["sha compress"]
    c[:64, COMPRESS.wp[0]] += 4
    c[:64, COMPRESS.wq] += 1
    c[0, COMPRESS.wlo[0]] += 1
    c[0, COMPRESS.wroom[0]] -= 1


def h_write_never_happened(t):  # h[2] written back unchanged: h_out = h_in
    c = t.traces["sha compress"]
    c[63, COMPRESS.o2] = c[63, COMPRESS.h2_in]


def final_h_not_h_plus_state(t):  # h_out[6] + 1, a valid word of bytes
    c = t.traces["sha compress"]
    v = (_word(c[63], COMPRESS.o6) + 1) & M
    c[63, COMPRESS.o6] = [(v >> (8 * k)) & 0xFF for k in range(4)]


def padding_row_claims_a_call(t):  # a padding row of the compress chip copies call 0's first row
    c = t.traces["sha compress"]
    c[64 * CALLS] = c[0]


def padding_rows_replay_a_call(t):  # the padding replays call 0 in full: 64 rows in order
    c = t.traces["sha compress"]
    c[64 * CALLS:] = c[:64]


def padding_row_not_zero(t):
    t.traces["sha compress"][64 * CALLS + 5, COMPRESS.clk] = 7


def extend_write_never_happened(t):  # w[40] claimed to hold its new value already
    x = t.traces["sha extend"]
    x[40, EXTEND.prev] = [sum(int(x[40, EXTEND.wb[8 * i + k]]) << k for k in range(8)) for i in range(4)]


def wrong_schedule_word(t):
    t.traces["sha extend"][64 + 33, EXTEND.wb[7]] ^= 1


def window_does_not_slide(t):  # w[i−7] on row 40 taken from another word
    t.traces["sha extend"][40, EXTEND.win9[0]] ^= 1


def extend_skipped_row(t):
    _delete_row(t.traces["sha extend"], 20, 63)


def extend_row_from_another_call(t):
    x = t.traces["sha extend"]
    x[30] = x[128 + 30]


ATTACKS = {
    "wrong round output": (wrong_round_output, r"sha compress.*a' = T1 \+ T2.*fails at row 9 "),
    "wrong K": (wrong_k, r"sha compress.*a' = T1 \+ T2.*fails at row 71 "),
    "skipped round": (skipped_round, r"sha compress.*row 5 of a call follows row 4' fails at row 4 "),
    "skipped round, positions relabelled": (skipped_round_relabelled,
                                            r"sha compress.*next round's a is this round's output' fails at row 4 "),
    "a row of another call": (row_from_another_call, r"sha compress.*share column .* fails at row 9 "),
    "w read from the wrong address": (w_from_wrong_address, r"bus .*'(precompile|memory)'"),
    "h write that never happened": (h_write_never_happened, r"h\[2\] \+= state\[2\]"),
    "final h not h + state": (final_h_not_h_plus_state, r"h\[6\] \+= state\[6\]"),
    "a padding row claims a call": (padding_row_claims_a_call, r"sha compress.*row 1 of a call follows row 0' fails at row 192 "),
    "the padding replays a call": (padding_rows_replay_a_call, r"bus .*'(precompile|memory)'"),
    "a padding row is not 0": (padding_row_not_zero, r"sha compress.*a padding row is 0' fails at row 197 "),
    "extend write that never happened": (extend_write_never_happened, r"bus .*'memory'"),
    "wrong schedule word": (wrong_schedule_word, r"sha extend.*w\[i\] = σ1.*fails at row 97 "),
    "window does not slide": (window_does_not_slide, r"sha extend.*window word 9 slides' fails at row 39 "),
    "extend row skipped": (extend_skipped_row, r"sha extend.*row 20 of a call follows row 19' fails at row 19 "),
    "extend row of another call": (extend_row_from_another_call, r"sha extend.*share column .* fails at row 29 "),
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
    for attack in ("wrong K", "skipped round", "final h not h + state"):
        bad = forged(tables, ATTACKS[attack][0])
        forced_proof_rejected(pk, chips, bad, VerificationError)


def test_a_run_without_sha_leaves_both_tables_out(honest):
    """Both SHA chips are optional (stark/optional.py, checked at setup): a run that never calls
    SHA_EXTEND/SHA_COMPRESS has all-zero tables, which a proof leaves out (a run that calls
    them keeps them)."""
    from pyzkvm.machine.evaluate import compiled_air
    from pyzkvm.stark.optional import left_out

    chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(0)], data=bytes(16))
    for name in ("sha extend", "sha compress"):
        assert chips.airs[chips.index(name)].optional
        assert left_out(compiled_air(chips.airs[chips.index(name)]), tables.traces[name])
        sha_chips, sha_tables = honest[0], honest[1]
        assert not left_out(compiled_air(sha_chips.airs[sha_chips.index(name)]), sha_tables.traces[name])
