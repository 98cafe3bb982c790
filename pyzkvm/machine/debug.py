"""The machine's debug check: every chip's constraints on its plain trace, then every bus.

This is what the prover runs before proving (and what the soundness tests use): it names the
first broken constraint (table, constraint, row), or the bus that does not balance.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark import ext
from ..stark.air import bus_id, check_constraints
from ..stark.field import P
from ..stark.logup import build_aux_trace, public_term
from .evaluate import compiled_air, trace_leaves
from .tables import Chips, MachineTables


def check_machine(chips: Chips, tables: MachineTables, seed: int | None = None) -> None:
    """Raise ConstraintNotSatisfied naming the first failing constraint of any chip, or the
    first bus whose LogUp sum (with random challenges α, γ ∈ F_p^4) is not zero."""
    rng = np.random.default_rng(seed)
    alpha, gamma = (rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32) for _ in range(2))
    public = tables.public_values
    per_bus: dict[int, np.ndarray] = {}
    names: dict[int, str] = {}
    for air in chips.airs:
        compiled = compiled_air(air)
        leaves = trace_leaves(air, tables.traces[air.name], public)
        check_constraints(compiled, leaves, "main")
        if compiled.interactions:
            _, _, sums = build_aux_trace(compiled, leaves, tables.traces[air.name].shape[0], alpha, gamma)
            for b, s in sums.items():
                per_bus[b] = ext.ext_add(per_bus.get(b, ext.ZERO), s)
            names.update({it.bus: it.bus_name for it in compiled.interactions})
    # the verifier's side: COMMIT words from the public values, the journal and the assumptions
    # from the public data
    by_name: dict = {names.get(b, str(b)): s for b, s in per_bus.items()}
    public_term(chips.airs, public, alpha, gamma, by_name, public_data=tables.public_data)
    bad = [nm for nm, s in by_name.items() if np.any(s)]
    if bad:
        raise ConstraintNotSatisfied(f"bus {', '.join(repr(x) for x in bad)} does not balance")
    return None


def bus_names() -> dict:
    """bus id → bus name for the machine's buses (for messages)."""
    from . import buses

    return {bus_id(name): name for name in buses.ALL}
