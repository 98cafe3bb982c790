"""Fibonacci: two columns (x, y), (x, y) → (y, x + y) each row.

Public values: [a, b, result] — the first row is (a, b) and the last row's y is the result.
"""

from __future__ import annotations

import numpy as np

from ..air import Air
from ..field import P


class FibonacciAir(Air):
    name = "fibonacci"
    width = 2
    num_public_values = 3

    def constraints(self, b):
        x, y = b.main(0), b.main(1)
        b.when_first_row().assert_eq(x, b.public(0), "x starts at a")
        b.when_first_row().assert_eq(y, b.public(1), "y starts at b")
        b.when_transition().assert_eq(b.main_next(0), y, "x' = y")
        b.when_transition().assert_eq(b.main_next(1), x + y, "y' = x + y")
        b.when_last_row().assert_eq(y, b.public(2), "y ends at the result")


def fibonacci_trace(n: int, a: int = 0, b: int = 1):
    """The (n, 2) trace and the public values [a, b, result] (mod p)."""
    x = np.empty(n, dtype=np.int64)
    y = np.empty(n, dtype=np.int64)
    x[0], y[0] = a % P, b % P
    for i in range(1, n):  # a toy: the witness generator is a sequential recurrence
        x[i], y[i] = y[i - 1], (x[i - 1] + y[i - 1]) % P
    trace = np.stack([x, y], axis=1).astype(np.uint32)
    return trace, [a % P, b % P, int(y[-1])]
