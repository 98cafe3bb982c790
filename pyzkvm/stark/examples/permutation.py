"""Permutation between two tables of different heights.

  "left"   (n rows)    main (a):          send(perm bus, [a])
  "right"  (m ≥ n rows) main (b, active): active ∈ {0, 1};  receive(perm bus, [b], active)

The bus balances iff the multiset of left's a equals the multiset of right's active b.
"""

from __future__ import annotations

import numpy as np

from ..air import Air

PERM_BUS = "perm"


class LeftAir(Air):
    name = "left"
    width = 1

    def constraints(self, b):
        b.declare_active(1)  # every row is one of the values
        b.send(PERM_BUS, [b.main(0)])


class RightAir(Air):
    name = "right"
    width = 2

    def constraints(self, b):
        value, active = b.main(0), b.main(1)
        b.assert_bool(active, "active is boolean")
        b.declare_active(active)  # padding rows (active = 0) put nothing on the bus
        b.receive(PERM_BUS, [value], active)


def permutation_traces(values, right_height: int, seed: int = 0):
    """left = values; right = a random permutation of values padded with inactive rows."""
    v = np.asarray(values, dtype=np.uint32)
    rng = np.random.default_rng(seed)
    right = np.zeros((right_height, 2), dtype=np.uint32)
    right[: len(v), 0] = rng.permutation(v)
    right[: len(v), 1] = 1
    order = rng.permutation(right_height)
    return [v.reshape(-1, 1), right[order]]
