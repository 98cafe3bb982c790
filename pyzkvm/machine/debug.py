"""The machine's debug check: every chip's constraints on its plain trace, then every bus.

This is what the prover runs before proving (and what the soundness tests use): it names the
first broken constraint (table, constraint, row), or the bus that does not balance.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstraintNotSatisfied
from ..stark import ext
from ..stark.air import Leaves, bus_id, check_constraints, compile_air
from ..stark.domain import plain_selectors
from ..stark.field import P
from ..stark.logup import build_aux_trace
from . import buses
from .tables import Chips, MachineTables


def _leaves(air, trace, public) -> Leaves:
    n = trace.shape[0]
    prep = air.preprocessed_trace() if air.preprocessed_width else None
    if prep is not None and prep.shape[0] != n:
        raise ConstraintNotSatisfied(f"table {air.name!r}: main trace has {n} rows, preprocessed {prep.shape[0]}")
    roll = lambda x: None if x is None else np.roll(x, -1, axis=0)  # noqa: E731 (next row wraps)
    return Leaves((trace, roll(trace)), (prep, roll(prep)), (None, None), np.asarray(public, dtype=np.uint32),
                  None, None, plain_selectors(n))


def check_machine(chips: Chips, tables: MachineTables, seed: int | None = None) -> None:
    """Raise ConstraintNotSatisfied naming the first failing constraint of any chip, or the
    first bus whose LogUp sum (with random challenges α, γ ∈ F_p^4) is not zero."""
    rng = np.random.default_rng(seed)
    alpha, gamma = (rng.integers(0, P, 4, dtype=np.int64).astype(np.uint32) for _ in range(2))
    public = tables.public_values
    per_bus: dict[int, np.ndarray] = {}
    names: dict[int, str] = {}
    for air in chips.airs:
        compiled = compile_air(air)
        leaves = _leaves(air, tables.traces[air.name], public)
        check_constraints(compiled, leaves, "main")
        if compiled.interactions:
            _, _, sums = build_aux_trace(compiled, leaves, tables.traces[air.name].shape[0], alpha, gamma)
            for b, s in sums.items():
                per_bus[b] = ext.ext_add(per_bus.get(b, ext.ZERO), s)
            names.update({it.bus: it.bus_name for it in compiled.interactions})
    # the journal bus's public side: the verifier receives (i, journal[i]) for every byte
    # (variable-length, so not yet expressible as stark public values: docs/machine.md §9)
    jterm = journal_term(tables.journal, alpha, gamma)
    per_bus[bus_id(buses.JOURNAL)] = ext.ext_add(per_bus.get(bus_id(buses.JOURNAL), ext.ZERO), jterm)
    names[bus_id(buses.JOURNAL)] = buses.JOURNAL
    # per-table sums are keyed by bus id or by name depending on the stark version: merge by name
    by_name: dict = {}
    for b, s in per_bus.items():
        nm = names.get(b, str(b))
        by_name[nm] = ext.ext_add(by_name.get(nm, ext.ZERO), s)
    by_name = _add_public_terms(by_name, chips.airs, public, alpha, gamma)
    bad = [nm for nm, s in by_name.items() if np.any(s)]
    if bad:
        raise ConstraintNotSatisfied(f"bus {', '.join(repr(x) for x in bad)} does not balance")
    return None


def _add_public_terms(by_name, airs, public, alpha, gamma):
    """Add each AIR's public interactions (the verifier's side) to the per-bus sums."""
    for air in airs:
        for bus, values, mult, sign in air.public_interactions(list(public)):
            t = _term(bus_id(bus), values, alpha, gamma)
            m = int(mult) % P if sign > 0 else (-int(mult)) % P
            by_name[str(bus)] = ext.ext_add(by_name.get(str(bus), ext.ZERO), ext.ext_mul_base(t, np.uint32(m)))
    return by_name


def _term(bus: int, values, alpha, gamma):
    """1/(α − fp) for fp = bus + Σ γ^(j+1)·v_j."""
    fp = np.array([bus, 0, 0, 0], dtype=np.uint32)
    g = np.asarray(gamma, dtype=np.uint32)
    for v in values:
        fp = ext.ext_add(fp, ext.ext_mul_base(g, np.uint32(int(v) % P)))
        g = ext.ext_mul(g, gamma)
    return ext.ext_inv(ext.ext_sub(alpha, fp))


def journal_term(journal: bytes, alpha, gamma):
    """−Σ_i 1/(α − fp(i, journal[i])): the verifier's side of the journal bus."""
    n = len(journal)
    if n == 0:
        return ext.ZERO.copy()
    fp = np.zeros((n, 4), dtype=np.uint32)
    fp[:, 0] = bus_id(buses.JOURNAL)
    g = np.asarray(gamma, dtype=np.uint32)
    for col in (np.arange(n, dtype=np.uint32), np.frombuffer(journal, dtype=np.uint8).astype(np.uint32)):
        fp = ext.ext_add(fp, ext.ext_mul_base(g, col))
        g = ext.ext_mul(g, gamma)
    inv = ext.ext_batch_inverse(ext.ext_sub(alpha, fp))
    total = (inv.astype(np.uint64).sum(axis=0) % P).astype(np.uint32)
    return ext.ext_sub(ext.ZERO, total)


def bus_names() -> dict:
    """bus id → bus name for the machine's buses (for messages)."""
    from . import buses

    return {bus_id(name): name for name in buses.ALL}
