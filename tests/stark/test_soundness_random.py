"""Random AIRs, random single-cell corruptions: each corruption is named by the debug check and
a proof forced from it is rejected. The witness comes from a Python-int reference recurrence."""

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, Air, prove, setup, verify
from pyzkvm.stark.field import P


class RandomRecurrence(Air):
    """w state columns with x_j' = Σ_k A[j][k]·x_k + c_j, plus a product column
    z = x_0·x_1·x_{w−1} (degree 3), and public first-row values."""
    name = "random recurrence"

    def __init__(self, a, c):
        self.a, self.c = a, c
        self.w = len(c)
        self.width = self.w + 1
        self.num_public_values = self.w

    def constraints(self, b):
        x = [b.main(j) for j in range(self.w)]
        for j in range(self.w):
            rhs = self.c[j]
            for k in range(self.w):
                rhs = rhs + self.a[j][k] * x[k]
            b.when_transition().assert_eq(b.main_next(j), rhs, f"x{j}' = A x + c")
            b.when_first_row().assert_eq(x[j], b.public(j), f"x{j} starts at public {j}")
        b.assert_eq(b.main(self.w), x[0] * x[1] * x[self.w - 1], "z = x0 x1 x_last")


def reference_trace(a, c, start, n):
    w = len(c)
    rows = [list(start)]
    for _ in range(n - 1):
        prev = rows[-1]
        rows.append([(c[j] + sum(a[j][k] * prev[k] for k in range(w))) % P for j in range(w)])
    return np.array([r + [r[0] * r[1] * r[-1] % P] for r in rows], dtype=np.uint32)


@pytest.mark.parametrize("mode", [INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK], ids=["transparent", "hiding"])
@pytest.mark.parametrize("seed", range(6))
def test_random_air_completeness_and_corruptions(seed, mode):
    rng = np.random.default_rng(100 + seed)
    w = int(rng.integers(2, 5))
    a = [[int(v) for v in rng.integers(0, P, w)] for _ in range(w)]
    c = [int(v) for v in rng.integers(0, P, w)]
    start = [int(v) for v in rng.integers(0, P, w)]
    n = 1 << int(rng.integers(2, 7))
    air = RandomRecurrence(a, c)
    pk = setup(mode, [air])
    trace = reference_trace(a, c, start, n)
    verify(pk.verifying_key, prove(pk, [trace], start).to_bytes(), start)
    for _ in range(3):
        row, col = int(rng.integers(0, n)), int(rng.integers(0, w + 1))
        bad = trace.copy()
        bad[row, col] = (int(bad[row, col]) + int(rng.integers(1, P))) % P
        with pytest.raises(ConstraintNotSatisfied, match="fails at row"):
            prove(pk, [bad], start)
        forced = prove(pk, [bad], start, check_constraints_first=False)
        with pytest.raises(VerificationError):
            verify(pk.verifying_key, forced.to_bytes(), start)
