"""ζω openings (stark/openings.py): only the columns a constraint reads at the next row are
opened there; a value for any other column, or a forged one, is refused."""

import numpy as np
import pytest

from pyzkvm.errors import ProofShapeError, VerificationError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, prove, setup, verify
from pyzkvm.stark.deep import deep_layout
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.field import P
from pyzkvm.stark.openings import next_row_columns, zero_unread_coefficients
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
    assert u16["aux"].tolist() == list(range(8))   # the LogUp columns are, as 4 base columns each


def test_only_read_columns_are_opened_at_zeta_omega(proved):
    pk, data = proved
    proof = Proof.from_bytes(data)
    for c, t in zip(pk.verifying_key.proved, proof.tables):
        read = next_row_columns(c)
        for g in ("prep", "main", "aux"):
            assert t.open_next[g].shape == (len(read[g]), 4)
    assert proof.tables[0].open_next["main"].shape[0] < proof.tables[0].open_local["main"].shape[0]
    verify(pk.verifying_key, data, [])


def test_a_value_for_an_unread_column_or_a_forged_one_is_refused(proved):
    pk, data = proved
    extra = Proof.from_bytes(data)
    t = extra.tables[0]
    t.open_next["main"] = np.vstack([t.open_next["main"], np.ones((1, 4), np.uint32)])
    with pytest.raises(ProofShapeError, match="at ζω"):
        verify(pk.verifying_key, extra.to_bytes(), [])
    forged = Proof.from_bytes(data)
    v = forged.tables[0].open_next["aux"]
    v[0, 0] = (int(v[0, 0]) + 1) % P
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, forged.to_bytes(), [])


def test_unread_columns_get_a_zero_deep_coefficient():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir(), U16ValuesAir()])
    compiled = pk.verifying_key.proved
    layout, total = deep_layout([(0, 2, 0, 8), (0, 3, 8, 8)])  # (prep, main, aux, quotient) widths
    coeffs = np.arange(1, 4 * total + 1, dtype=np.uint32).reshape(total, 4)
    out = zero_unread_coefficients(coeffs, layout, [next_row_columns(c) for c in compiled])
    zeroed = {i for i in range(total) if not out[i].any()}
    start, width = layout[1][1]["main"]  # u16 values: its 3 main columns at ζω
    assert zeroed == set(range(start, start + width))
    assert np.array_equal(out[[i for i in range(total) if i not in zeroed]],
                          coeffs[[i for i in range(total) if i not in zeroed]])


def test_fibonacci_still_proves():
    pk = setup(INSECURE_FAST_FOR_TESTS, [FibonacciAir()])
    trace, pv = fibonacci_trace(64)
    verify(pk.verifying_key, prove(pk, [trace], pv).to_bytes(), pv)
