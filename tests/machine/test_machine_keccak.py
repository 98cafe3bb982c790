"""KECCAK_PERMUTE in the machine (pyzkvm/machine/keccak.py): honest runs against an independent
Keccak-f[1600] (tests/machine/keccak_reference.py, itself checked against hashlib.sha3_256),
and attacks on the permute and word chips, each named by the debug check."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied
from pyzkvm.executor.precompiles import KECCAK_RC
from pyzkvm.machine import check_machine
from pyzkvm.machine.keccak import KECCAK, KECCAK_WORDS, ROWS_PER_CALL, permutation_states, state_columns
from pyzkvm.machine.evaluate import compiled_air
from pyzkvm.machine.syscall import SYS
from tests.machine.keccak_reference import keccak256, permute_bytes, round_constant, sponge
from tests.machine.machine_helpers import forged, run_machine, unbalanced_buses
from tests.rvasm import DATA_BASE, halt, syscall

KECCAK_PERMUTE = 0x00010109
STATE = bytes((7 * i + 3) & 0xFF for i in range(200))


def test_reference_keccak_is_sha3_256():
    for msg in (b"", b"abc", bytes(range(135)), bytes(range(200))):
        assert sponge(msg, 136, 0x06, 32) == hashlib.sha3_256(msg).digest()
    assert keccak256(b"") == bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def test_reference_round_constants_are_the_executors():
    assert [round_constant(i) for i in range(24)] == list(KECCAK_RC)


@pytest.fixture(scope="module")
def honest():
    """Two permutations of STATE in place, then the 200 bytes journalled."""
    code = [syscall(KECCAK_PERMUTE, DATA_BASE, 0), syscall(KECCAK_PERMUTE, DATA_BASE, 0),
            syscall(0x02, 3, DATA_BASE, 200), halt(0)]
    chips, tables, execution = run_machine(code, data=STATE)
    return chips, tables, execution


def test_honest_permutations_check_and_match_the_reference(honest):
    chips, tables, _ = honest
    check_machine(chips, tables)
    assert _unbalanced(chips, tables) == set()
    assert tables.journal == permute_bytes(permute_bytes(STATE))
    keccak = tables.traces["keccak permute"]
    assert int(keccak[:, KECCAK.active].sum()) == 2 * ROWS_PER_CALL
    assert int(tables.traces["keccak words"][:, KECCAK_WORDS.active].sum()) == 100


# ---- attacks ------------------------------------------------------------------------------------

def _forge_first_call(t, round_fn):
    """Rewrite the first call's 25 rows of the permute chip from the states a forger gets when
    round k is ``round_fn(k, state)``, every helper column recomputed from them (each row stays
    self-consistent; only the step from round to round can be wrong)."""
    s = np.frombuffer(STATE, dtype="<u8").astype(np.uint64)[None, :]
    states = [s]
    for k in range(24):
        states.append(round_fn(k, states[-1]))
    rows = np.zeros((ROWS_PER_CALL, KECCAK.width), dtype=np.int64)
    state_columns(rows, np.concatenate(states))
    cols = list(KECCAK.a) + list(KECCAK.c) + list(KECCAK.cp) + list(KECCAK.ap)
    t.traces["keccak permute"][:ROWS_PER_CALL, cols] = rows[:, cols]


def _round(k, s, rc=None):
    """Round k of Keccak-f on states s (n, 25) (the chip's own vectorised round), with ι's
    constant replaced by rc if given."""
    out = permutation_states(s, k, k + 1)[1].copy()
    if rc is not None:
        out[:, 0] ^= np.uint64(KECCAK_RC[k]) ^ np.uint64(rc)
    return out


def _unbalanced(chips, tables) -> set:
    """The buses that do not balance over the syscall and keccak chips alone (the tables on the
    precompile and keccak io buses): a quick bus check for the attacks below. Buses these three
    share with other chips (memory, byte, syscall, commit) never balance here; ask only about
    'precompile' and 'keccak io'."""
    return unbalanced_buses(chips, tables, ("keccak permute", "keccak words"), ("precompile", "keccak io"))


def _expect(chips, bad, match):
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, bad)


def test_wrong_round_output_is_named(honest):
    """Round 5's output changed in one bit, every later round recomputed from it."""
    chips, tables, _ = honest

    def rounds(k, s):
        out = _round(k, s)
        if k == 5:
            out[:, 7] ^= np.uint64(1 << 33)
        return out

    bad = forged(tables, lambda t: _forge_first_call(t, rounds))
    _expect(chips, bad, r"keccak permute.*round output lane \(2,1\) limb 2 is the next row's state")


def test_skipped_round_is_named(honest):
    """Round 9 skipped (its row's state carried over unchanged), the rest recomputed."""
    chips, tables, _ = honest
    bad = forged(tables, lambda t: _forge_first_call(t, lambda k, s: s if k == 9 else _round(k, s)))
    _expect(chips, bad, r"keccak permute.*round output lane .* is the next row's state")


def test_wrong_iota_constant_is_named(honest):
    """Round 3 uses round 4's ι constant, the rest recomputed."""
    chips, tables, _ = honest
    bad = forged(tables, lambda t: _forge_first_call(t, lambda k, s: _round(k, s, KECCAK_RC[4] if k == 3 else None)))
    _expect(chips, bad, r"keccak permute.*round output lane \(0,0\) limb \d is the next row's state")


def test_state_lane_changed_between_rounds_is_named(honest):
    """One limb of the state on round 12's row changed (its bit columns left as they were)."""
    chips, tables, _ = honest

    def edit(t):
        t.traces["keccak permute"][12, KECCAK.a[4 * 11 + 1]] ^= 0x10

    # the step into row 12 breaks, and so does row 12's own θ (its limbs no longer match its bits)
    _expect(chips, forged(tables, edit), r"keccak permute.*round output lane \(1,2\) limb 1 is the next row's "
                                         r"state' fails at row 11 .*1 other constraint")


def test_state_bit_not_a_bit_is_named(honest):
    chips, tables, _ = honest

    def edit(t):
        t.traces["keccak permute"][4, KECCAK.ap[100]] = 2

    _expect(chips, forged(tables, edit), r"keccak permute.*A'\[1\]\[0\]\[36\] is a bit")


def test_lane_read_from_the_wrong_address_is_named(honest):
    """Word 3's row reads the word after the state (address a0 + 200) instead."""
    chips, tables, _ = honest

    def edit(t):
        words = t.traces["keccak words"]
        words[3, KECCAK_WORDS.key] += 47

    assert _unbalanced(chips, forged(tables, edit)) == {"keccak io"}


def test_write_that_never_happened_is_named(honest):
    """Word 10's row leaves memory as it was (after = before); the permute chip is unchanged."""
    chips, tables, _ = honest

    def edit(t):
        words = t.traces["keccak words"]
        words[10, KECCAK_WORDS.after] = words[10, KECCAK_WORDS.before]

    assert _unbalanced(chips, forged(tables, edit)) == {"keccak io"}


def test_a_call_made_inactive_leaves_the_syscall_unanswered(honest):
    """Padding rows emit nothing (the activity rule): the first call's 25 rows with active = 0
    no longer receive the syscall chip's token nor the word chip's tuples."""
    chips, tables, _ = honest

    def edit(t):
        t.traces["keccak permute"][:ROWS_PER_CALL, KECCAK.active] = 0

    assert _unbalanced(chips, forged(tables, edit)) == {"precompile", "keccak io"}


def test_a_call_cut_off_by_the_table_end_is_named(honest):
    """The last row of the table active in the middle of a call."""
    chips, tables, _ = honest

    def edit(t):
        k = t.traces["keccak permute"]
        last_start = int(np.flatnonzero(k[:, KECCAK.r[0]] == 1)[-1])  # a padding call the table end cuts off
        k[last_start + 1:, KECCAK.active] = 1  # its rows after row 0 (row 0 would claim a call of its own)

    _expect(chips, forged(tables, edit), r"keccak permute.*(active is constant within a call|ends within the table)")


def test_keccak_with_nonzero_a1_cannot_be_forged(honest):
    """SP1 asserts a1 = 0: a syscall row claiming another a1 leaves the ``precompile`` bus
    unbalanced (and the memory bus: a1 is read through memory)."""
    chips, tables, _ = honest

    def edit(t):
        sys_ = t.traces["syscall"]
        row = int(np.flatnonzero(sys_[:, SYS.is_precompile] == 1)[0])
        sys_[row, SYS.a1[0]] = 4

    # the keccak chip receives a1 = 0 only (constants), so the call sent with a1 = 4 has no receiver
    _expect(chips, forged(tables, edit), r"bus .*'precompile' does not balance")


def test_a_run_without_keccak_leaves_both_tables_out():
    """Both keccak chips are optional (stark/optional.py, checked at setup): without a call
    their tables are all zero, so a proof leaves them out and pays nothing for them."""
    from pyzkvm.stark.optional import left_out

    chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(0)], data=STATE)
    for name in ("keccak permute", "keccak words"):
        assert left_out(compiled_air(chips.airs[chips.index(name)]), tables.traces[name])


@pytest.mark.parametrize("column, named", [("q", "pointer is word-aligned"), ("lo", r"pointer ≥ 0x20"),
                                           ("room", "buffer ends in memory"), ("key", "key is the state pointer's first word")])
def test_the_state_pointer_checks_are_named(honest, column, named):
    """The keccak chip checks a0 itself (word_buffer.py): each of its pointer columns on a call's
    row 0 changed alone (the key: on the whole call) breaks the check that column serves."""
    chips, tables, _ = honest

    def edit(t):
        k = t.traces["keccak permute"]
        cols = getattr(KECCAK, column)
        rows = slice(0, ROWS_PER_CALL) if column == "key" else 0  # the key is constant within a call
        k[rows, cols if isinstance(cols, int) else cols[0]] += 1

    _expect(chips, forged(tables, edit), rf"keccak permute.*KECCAK_PERMUTE(:| state:) {named}")
