"""ζω openings (stark/openings.py): only the columns a constraint reads at the next row are
opened there; a value for any other column, a missing one, or a forged one, is refused; a
column opened at ζ only is still bound to its commitment (by DEEP and FRI)."""

import numpy as np
import pytest

from pyzkvm.errors import FriQueryError, OodEvaluationMismatch, ProofShapeError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, ext, prove, rounds, setup, verify
from pyzkvm.stark.air import Air
from pyzkvm.stark.deep import deep_layout
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.field import P
from pyzkvm.stark.openings import next_row_columns, opened_width, zero_unread_coefficients
from pyzkvm.stark.proof import Proof


@pytest.fixture(scope="module", params=[INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK],
                ids=["transparent", "hiding"])
def proved(request):
    pk = setup(request.param, [U16ValuesAir(), ByteTableAir()])
    rng = np.random.default_rng(3)
    proof = prove(pk, range_check_traces(rng.integers(0, 1 << 16, 16)), [])
    return pk, proof.to_bytes()


def test_the_columns_read_at_the_next_row_come_from_the_constraints():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir(), U16ValuesAir(), ByteTableAir()])
    fib, u16, _byte = (next_row_columns(c) for c in pk.verifying_key.proved)
    assert fib["main"].tolist() == [0, 1]          # x' = y, y' = x + y
    assert u16["main"].tolist() == []              # no main column is read at the next row
    # of its LogUp columns (one helper, then the running sum S; 4 base columns each) only S:
    # S_{i+1} = S_i + h_i reads the helper at this row (logup.py)
    assert u16["aux"].tolist() == [4, 5, 6, 7]


def test_only_read_columns_are_opened_at_zeta_omega(proved):
    pk, data = proved
    proof = Proof.from_bytes(data)
    for c, t in zip(pk.verifying_key.proved, proof.tables):
        read = next_row_columns(c)
        for g in ("prep", "main", "aux"):  # aux: one F_p^4 value per 4 base columns
            assert t.open_next[g].shape == (opened_width(g, len(read[g])), 4)
    assert proof.tables[0].open_next["main"].shape[0] < proof.tables[0].open_local["main"].shape[0]
    verify(pk.verifying_key, data, [])


@pytest.mark.parametrize("group", ["main", "aux"])
def test_a_value_for_an_unread_column_or_a_missing_one_is_refused(proved, group):
    pk, data = proved
    extra = Proof.from_bytes(data)
    t = extra.tables[0]  # u16 values: no main column read at the next row, S's 4 aux columns
    t.open_next[group] = np.vstack([t.open_next[group], np.ones((1, 4), np.uint32)])
    with pytest.raises(ProofShapeError, match="at ζω"):
        verify(pk.verifying_key, extra.to_bytes(), [])
    missing = Proof.from_bytes(data)
    t = missing.tables[0]
    t.open_next["aux"] = t.open_next["aux"][1:]  # S's value left out
    with pytest.raises(ProofShapeError, match="at ζω"):
        verify(pk.verifying_key, missing.to_bytes(), [])


@pytest.mark.parametrize("coordinate", range(4))
def test_a_forged_value_at_zeta_omega_fails_the_constraints_there(proved, coordinate):
    pk, data = proved
    forged = Proof.from_bytes(data)
    v = forged.tables[0].open_next["aux"]  # S(ζω) ∈ F_p^4, read by the running sum's transition
    v[0, coordinate] = (int(v[0, coordinate]) + 1) % P
    with pytest.raises(OodEvaluationMismatch):
        verify(pk.verifying_key, forged.to_bytes(), [])


def test_a_next_row_main_column_is_checked_at_zeta_omega():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir()])
    trace, pv = fibonacci_trace(64)
    data = prove(pk, [trace], pv).to_bytes()
    for column in (0, 1):  # x' = y and y' = x + y read both at the next row
        forged = Proof.from_bytes(data)
        v = forged.tables[0].open_next["main"]
        v[column, 2] = (int(v[column, 2]) + 1) % P
        with pytest.raises(OodEvaluationMismatch):
            verify(pk.verifying_key, forged.to_bytes(), pv)


class FreeColumnAir(Air):
    """Column 0 counts up by one per row; column 1 is committed but no constraint reads it."""

    name, width = "free column", 2

    def constraints(self, b):
        b.when_first_row().assert_zero(b.main(0), "x starts at 0")
        b.when_transition().assert_eq(b.main_next(0), b.main(0) + 1, "x' = x + 1")


@pytest.mark.parametrize("mode, group, column", [(INSECURE_FAST_FOR_TESTS, "main", 1),
                                                 (INSECURE_FAST_FOR_TESTS_ZK, "main", 1),
                                                 (INSECURE_FAST_FOR_TESTS_ZK, "quotient", -1)],
                         ids=["transparent", "hiding", "hiding DEEP mask"])
def test_a_column_opened_at_zeta_only_is_still_bound(monkeypatch, mode, group, column):
    """A prover that claims a wrong value at ζ for a column opened at ζ only and read by no
    constraint (so the AIR check at ζ cannot see it), and builds the rest of the proof honestly
    from that claim, is refused by FRI: the DEEP codeword's (f(x) − f(ζ))/(x − ζ) term binds
    f(ζ) to the committed f, at ζ as at ζω (docs/stark.md, "DEEP"). The free main column 1 (a
    base column), or the hiding mode's DEEP mask R (the quotient matrix's last F_p^4 column,
    opened as its one value R(ζ) = Σ_c X^c·R_c(ζ))."""
    pk = setup(mode, [FreeColumnAir()])
    trace = np.stack([np.arange(32), np.arange(32) * 7 % 5], axis=1).astype(np.uint32)
    honest = prove(pk, [trace], [])
    assert next_row_columns(pk.verifying_key.proved[0])["main"].tolist() == [0]
    verify(pk.verifying_key, honest.to_bytes(), [])
    draw_deep = rounds.observe_openings_and_draw_deep

    def forged_claim(transcript, openings, total):
        open_local, _open_next = openings[0]
        open_local[group][column] = ext.ext_add(open_local[group][column], ext.ONE)  # the prover's DEEP uses it too
        return draw_deep(transcript, openings, total)

    with monkeypatch.context() as m:
        m.setattr(rounds, "observe_openings_and_draw_deep", forged_claim)
        forged = prove(pk, [trace], [])
    assert not np.array_equal(forged.tables[0].open_local[group][column], honest.tables[0].open_local[group][column])
    with pytest.raises(FriQueryError):  # the AIR check at ζ passes; the DEEP codeword is not low degree
        verify(pk.verifying_key, forged.to_bytes(), [])


def test_unread_columns_get_a_zero_deep_coefficient():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir(), U16ValuesAir()])
    compiled = pk.verifying_key.proved
    layout, total = deep_layout([(0, 2, 0, 8), (0, 3, 8, 8)])  # (prep, main, aux, quotient) widths
    coeffs = np.arange(1, 4 * total + 1, dtype=np.uint32).reshape(total, 4)
    out = zero_unread_coefficients(coeffs, layout, [next_row_columns(c) for c in compiled])
    zeroed = {i for i in range(total) if not out[i].any()}
    start, width = layout[1][1]["main"]  # u16 values: its 3 main columns at ζω
    helper, _width = layout[1][1]["aux"]  # and its LogUp helper's 4 base columns (S is read)
    assert zeroed == set(range(start, start + width)) | set(range(helper, helper + 4))
    assert np.array_equal(out[[i for i in range(total) if i not in zeroed]],
                          coeffs[[i for i in range(total) if i not in zeroed]])


def test_fibonacci_still_proves():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir()])
    trace, pv = fibonacci_trace(64)
    verify(pk.verifying_key, prove(pk, [trace], pv).to_bytes(), pv)
