"""The machine's debug check: stark/debug.py's check on the machine's tables of one run.

This is what the prover runs before proving (and what the soundness tests use): it names the
first broken constraint (table, constraint, row), or the bus that does not balance.
"""

from __future__ import annotations

from ..stark.debug import check_statement
from .evaluate import compiled_air
from .tables import Chips, MachineTables


def check_machine(chips: Chips, tables: MachineTables, seed: int | None = None) -> None:
    """Raise ConstraintNotSatisfied naming the first failing constraint of any chip, or the
    buses whose LogUp sums (with random challenges α, γ ∈ F_p^4) are not zero — the verifier's
    public entries (COMMIT words, journal, assumptions) included."""
    compiled = [compiled_air(air) for air in chips.airs]
    prep = [air.preprocessed_trace() if air.preprocessed_width else None for air in chips.airs]
    check_statement(compiled, prep, [(tables.in_order(chips), tables.public_values)], tables.public_data, seed=seed)
