"""VERIFY_SP1_PROOF in the machine AIR: the assumptions are bound through the ``assumption`` bus.

A program makes three VERIFY_SP1_PROOF calls (the third with both pointers on one buffer: its
words are read twice, at 4·clk + 5 and 4·clk + 6) and writes a journal. Each attack changes the
claim's assumptions (the public data) or the outer trace — an assumption added, dropped,
changed or swapped — and the debug check names the bus or constraint that breaks, and a proof
forced past the prover's own check (check_constraints_first=False) does not verify.
Expected values come from the test's own data (the bytes it put in memory), never from the
code under test.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, MemoryOutOfRange, UsageError, VerificationError
from pyzkvm.executor.machine import Machine
from pyzkvm.machine import check_machine
from pyzkvm.machine.public_data import MachinePublicData
from pyzkvm.machine.syscall import SYS
from pyzkvm.machine.syscall_verify import ASSUMPTION_WORDS
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall

VERIFY = 0x1B
IMG = [hashlib.sha256(b"image %d" % i).digest() for i in range(4)]
DIG = [hashlib.sha256(b"journal %d" % i).digest() for i in range(4)]
MSG = b"agg!"
DATA = IMG[0] + DIG[0] + IMG[1] + DIG[1] + IMG[2] + MSG
CLAIMED = ((IMG[0], DIG[0]), (IMG[1], DIG[1]), (IMG[2], IMG[2]))


@pytest.fixture(scope="module")
def honest():
    code = [syscall(VERIFY, DATA_BASE, DATA_BASE + 32),
            syscall(VERIFY, DATA_BASE + 64, DATA_BASE + 96),
            syscall(VERIFY, DATA_BASE + 128, DATA_BASE + 128),  # one buffer for both: read twice
            syscall(0x02, 3, DATA_BASE + 160, len(MSG)),
            halt(0)]
    chips, tables, execution = run_machine(code, data=DATA)
    assert execution.assumptions == CLAIMED and tables.assumptions == CLAIMED and tables.journal == MSG
    check_machine(chips, tables)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    return chips, tables, pk


def test_the_word_rows_are_the_words_in_memory(honest):
    """16 rows per call: word j of image_id ‖ digest, with the call's index (oracle: the data)."""
    _, tables, _ = honest
    aw = tables.traces["assumption words"]
    real = aw[aw[:, ASSUMPTION_WORDS.active] == 1]
    assert len(real) == 48
    for i, (image, digest) in enumerate(CLAIMED):
        rows = real[real[:, ASSUMPTION_WORDS.apos] == i]
        assert list(rows[:, ASSUMPTION_WORDS.j]) == list(range(16))
        assert bytes(rows[:, ASSUMPTION_WORDS.w].astype(np.uint8).ravel()) == image + digest
    sys_ = tables.traces["syscall"]
    assert list(sys_[sys_[:, SYS.is_verify] == 1, SYS.apos]) == [0, 1, 2]


# ---- attacks ----------------------------------------------------------------------------------


def claim_added(t):
    t.assumptions = t.assumptions + ((IMG[3], DIG[3]),)


def claim_removed(t):
    t.assumptions = t.assumptions[:2]


def claim_changed(t):  # one byte of assumption 1's journal digest
    image, digest = t.assumptions[1]
    t.assumptions = (t.assumptions[0], (image, digest[:5] + bytes([digest[5] ^ 1]) + digest[6:]), t.assumptions[2])


def claim_swapped(t):
    t.assumptions = (t.assumptions[1], t.assumptions[0], t.assumptions[2])


def _word_rows(t, apos):
    aw = t.traces["assumption words"]
    return np.flatnonzero((aw[:, ASSUMPTION_WORDS.active] == 1) & (aw[:, ASSUMPTION_WORDS.apos] == apos))


def call_dropped_from_the_trace(t):
    """The last call's 16 word rows zeroed and its assumption dropped from the claim: the
    assumption bus balances, but the syscall row's chain is left open."""
    t.traces["assumption words"][_word_rows(t, 2)] = 0
    t.assumptions = t.assumptions[:2]


def word_changed_in_the_trace(t):
    """Word 3 of assumption 0 read as another value, and the claim changed to match: the read
    no longer returns what memory holds."""
    row = _word_rows(t, 0)[3]
    t.traces["assumption words"][row, ASSUMPTION_WORDS.w[0]] ^= 1
    image, digest = t.assumptions[0]
    t.assumptions = ((image[:12] + bytes([image[12] ^ 1]) + image[13:], digest),) + t.assumptions[1:]


def word_changed_in_the_trace_only(t):
    t.traces["assumption words"][_word_rows(t, 1)[9], ASSUMPTION_WORDS.w[2]] ^= 0x80


def indices_swapped_in_the_trace(t):
    """Calls 0 and 1 relabelled 1 and 0 (syscall rows and word rows), the claim swapped to match:
    every bus balances, only the counter's constraints see it."""
    sys_ = t.traces["syscall"]
    rows = np.flatnonzero(sys_[:, SYS.is_verify] == 1)
    sys_[rows[0], SYS.apos], sys_[rows[1], SYS.apos] = 1, 0
    aw = t.traces["assumption words"]
    r0, r1 = _word_rows(t, 0), _word_rows(t, 1)
    aw[r0, ASSUMPTION_WORDS.apos], aw[r1, ASSUMPTION_WORDS.apos] = 1, 0
    t.assumptions = (t.assumptions[1], t.assumptions[0], t.assumptions[2])


ATTACKS = {
    "assumption added in the claim": (claim_added, r"^bus 'assumption' does not balance"),
    "assumption removed from the claim": (claim_removed, r"^bus 'assumption' does not balance"),
    "assumption changed in the claim": (claim_changed, r"^bus 'assumption' does not balance"),
    "assumptions swapped in the claim": (claim_swapped, r"^bus 'assumption' does not balance"),
    "call dropped from the trace": (call_dropped_from_the_trace, r"bus .*'assumption chain'"),
    "word changed in the trace and the claim": (word_changed_in_the_trace, r"bus .*'memory'"),
    "word changed in the trace only": (word_changed_in_the_trace_only, r"bus .*'memory'.*'assumption'|bus .*'assumption'"),
    "indices swapped in the trace and the claim": (indices_swapped_in_the_trace,
                                                   r"apos starts at its START value|apos' = apos \+ step"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_attack(honest, attack):
    chips, tables, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


def test_honest_proof_verifies_only_with_the_claimed_assumptions(honest):
    chips, tables, pk = honest
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=MachinePublicData(MSG, CLAIMED))
    for other in (CLAIMED[:2], CLAIMED + CLAIMED[:1], (CLAIMED[1], CLAIMED[0], CLAIMED[2]), ()):
        with pytest.raises(VerificationError):
            verify(pk.verifying_key, proof, tables.public_values, public_data=MachinePublicData(MSG, other))
    with pytest.raises(VerificationError):  # the assumptions' bytes passed off as journal bytes
        verify(pk.verifying_key, proof, tables.public_values,
               public_data=MachinePublicData(MSG + b"".join(i + d for i, d in CLAIMED)))


#: attacks on the trace, each through a forced proof (one proof each). The claim-only attacks need
#: no forced proof: the honest proof against an edited claim is the test above.
FORCED = ["call dropped from the trace", "word changed in the trace and the claim", "word changed in the trace only",
          "indices swapped in the trace and the claim"]


@pytest.mark.parametrize("attack", FORCED)
def test_forced_proof_is_rejected(honest, attack):
    chips, tables, pk = honest
    bad = forged(tables, ATTACKS[attack][0])
    forced_proof_rejected(pk, chips, bad, VerificationError)


# ---- the public data's encoding -------------------------------------------------------------


def test_public_data_encoding_is_length_prefixed():
    pd = MachinePublicData(MSG, CLAIMED[:2])
    expected = struct.pack("<Q", 4) + MSG + struct.pack("<I", 2) + IMG[0] + DIG[0] + IMG[1] + DIG[1]
    assert bytes(pd) == expected
    assert MachinePublicData.decode(expected) == pd
    assert bytes(MachinePublicData()) == bytes(12) and MachinePublicData.decode(b"") == MachinePublicData()
    # the same bytes split differently between journal and assumptions encode differently
    assert bytes(MachinePublicData(MSG + IMG[0] + DIG[0])) != bytes(MachinePublicData(MSG, CLAIMED[:1]))


@pytest.mark.parametrize("data", [b"public journal", bytes(11), struct.pack("<Q", 99) + bytes(8),
                                  struct.pack("<Q", 0) + struct.pack("<I", 1) + bytes(63)])
def test_anything_but_the_encoding_is_refused(data):
    with pytest.raises(UsageError, match="wrap the journal in MachinePublicData"):
        MachinePublicData.decode(data)


def test_an_assumption_is_two_32_byte_digests():
    with pytest.raises(UsageError, match="32 bytes each"):
        MachinePublicData(b"", ((IMG[0], DIG[0][:31]),))


# ---- pointer bounds: a run the executor faults on -------------------------------------------


def test_digest_buffer_past_the_end_of_memory_is_rejected(monkeypatch):
    """a1 = 0x77FFFFF0: the digest's last 4 words would lie past 0x78000000. The real executor
    faults; with its check off (the 4 missing words read as 0) the trace's a1room cannot be
    bytes, and the constraint names it; a proof forced from it does not verify."""
    code = [syscall(VERIFY, DATA_BASE, 0x77FFFFF0), halt(0)]
    with pytest.raises(MemoryOutOfRange, match="VERIFY_SP1_PROOF journal digest"):
        run_machine(code, data=DATA)
    check, read = Machine.check_range, Machine.read_words
    digest = "VERIFY_SP1_PROOF journal digest"

    def lenient(self, addr, length, *, align=1, what="buffer"):
        if what != digest:
            check(self, addr, length, align=align, what=what)

    def read_past_the_end(self, addr, n, what="buffer"):
        if what != digest:
            return read(self, addr, n, what)
        words = np.zeros(n, dtype=np.uint32)
        inside = self.mem[addr >> 2: (addr >> 2) + n]
        words[: len(inside)] = inside
        self.log_events(addr, words, words)
        return words

    monkeypatch.setattr(Machine, "check_range", lenient)
    monkeypatch.setattr(Machine, "read_words", read_past_the_end)
    chips, bad, execution = run_machine(code, data=DATA)
    assert execution.assumptions == ((IMG[0], bytes(32)),)
    with pytest.raises(ConstraintNotSatisfied, match="VERIFY digest buffer ends in memory"):
        check_machine(chips, bad)
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    forced_proof_rejected(pk, chips, bad, VerificationError)
