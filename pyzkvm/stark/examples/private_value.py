"""A statement with a private value and no public values: "some c exists". Two columns
(c, acc): c is constant, acc starts at 0 and adds c² each row (degree 2, so the quotient has
chunks). Every witness proves the same statement, which makes it the test bed for zero
knowledge (tests/stark/test_zk.py): proofs for different c must look alike in hiding mode.
"""

from __future__ import annotations

import numpy as np

from ..air import Air
from ..field import P


class PrivateValueAir(Air):
    name = "private value"
    width = 2

    def constraints(self, b):
        c, acc = b.main(0), b.main(1)
        b.when_first_row().assert_zero(acc, "acc starts at 0")
        b.when_transition().assert_eq(b.main_next(0), c, "c is constant")
        b.when_transition().assert_eq(b.main_next(1), acc + c * c, "acc' = acc + c²")


def private_value_trace(c: int, n: int = 8) -> np.ndarray:
    """The (n, 2) trace for the private value c."""
    acc = (np.arange(n, dtype=np.int64) * (c * c % P)) % P
    return np.stack([np.full(n, c % P, dtype=np.int64), acc], axis=1).astype(np.uint32)
