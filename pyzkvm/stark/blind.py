"""Hiding mode's blinding ring: each table's LogUp total, made uniform-looking.

A table's LogUp total (``cumsum``, sent in the proof for the bus balance) is Σ ±μ/(α − fp)
over its bus entries: a function of the witness and (α, γ). A verifier who can enumerate
candidate private inputs could rebuild each candidate's tables and compare totals. So in
hiding mode the proof system (not the chips) adds to every present table

* 4 main columns v_0..3 holding ρ in row 0, σ in the last row n − 1 and zero between, and
* one interaction on the dedicated bus ``zk blind``: send (v_0..3) with multiplicity
  is_first_row − is_last_row, i.e. send ρ on row 0 and receive σ on row n − 1 (n ≥ 4: two
  rows). (Until issue 18's `hid` task ρ and σ were 8 columns, each sent or received with
  multiplicity is_first_row by its own interaction: the same two bus entries, so the same
  totals, for 4 more committed columns per table — at 2^16 cycles ~4 % of the hashed rows.)

The interaction takes no LogUp helper column: its two entries are the running sum's ends
(logup.boundary_interaction), with d(v) = α − fp(v) the ring bus's denominator of the 4 columns,

    S_0·d(ρ) = 1                                  (first row: S starts at +1/d(ρ))
    (S_(n−1) + Σ_G h_G[n−1] − cumsum)·d(σ) = 1    (last row: the total is … − 1/d(σ))

both of degree 3, the machine's constraint degree (an AIR of degree 2 with no bus of its own
keeps a helper column for the ring instead, so as not to raise its degree). (Until hiding format 15 it was an ordinary
interaction, grouped with the chip's: 34 of the machine's 47 chips took one more helper column.)

The prover sets σ of each table to ρ of the previous table in one ring over all present
tables of all segments of the statement. Table t's total becomes

    total_t = (its own entries) + 1/(α − fp(ρ_t)) − 1/(α − fp(ρ_(t−1)))

fp(ρ) = bus + Σ_j γ^(j+1)·ρ_j is uniform over F_p^4 for uniform ρ ∈ F_p^4 (γ..γ^4 are linearly
independent unless γ lies in a subfield), so with two or more tables in the ring the totals
are uniform subject to summing to −(public term), and they still cancel in the joint sum.

Soundness: the ρ, σ columns are main columns, committed before (α, γ) are drawn, and the ring
is a LogUp bus whose id no chip uses: it balances only if the sends and receives are the same
multiset, and its entries cannot cancel another bus's (distinct bus ids give distinct
fingerprints, up to the LogUp term's collision bound, which counts these entries too: the
security estimate counts the ring's interaction once per row, like a chip's). The boundary
constraints fix its entries: with S's transitions adding the chip's helpers only (logup.py),
cumsum = (the chip's terms) + 1/d(ρ) − 1/d(σ) exactly, for ρ the row-0 and σ the row-(n − 1)
values of v, whatever the other rows hold (they put nothing on it; what v holds in row n − 1,
a padding row or not, is the ring's σ, arbitrary to the soundness of every other bus). The
selectors place the entries, not the table's activity selector, so the activity rule (air.py)
does not apply to it. A zero denominator cannot be used: d(ρ) = 0 leaves S_0·d(ρ) = 1 (and
d(σ) = 0 the last row's constraint) without a solution, as a helper's h·d = μ had none with
μ = ±1, so the quotient is not a polynomial and the check at ζ fails (up to its bound); the
honest prover refuses (probability ~2^-100, logup.build_aux_trace).

The circuit digest (the image ID) is the chips' AIRs, without the ring: ``VerifyingKey.compiled``
stays the chips' compiled AIRs and ``VerifyingKey.proved`` holds what the proof system proves
(these blinded AIRs in hiding mode), as the salts are a property of the hiding proof format.

ρ comes from the statement's secret (zk.ZkRandomness), so each segment computes its own ring
values and its predecessor's exit value without seeing the other segments:

    segment k with present tables t_0 … t_(m−1):  ρ(t_j)   = stream k, "blind ring <index of t_j>"  (j < m − 1)
                                                  ρ(t_(m−1)) = stream k, "blind ring exit"
                                                  σ(t_0)   = stream k − 1 (mod segments), "blind ring exit"
                                                  σ(t_j)   = ρ(t_(j−1))
"""

from __future__ import annotations

import numpy as np

from .air import Air, AirBuilder, CompiledAir, bus_id, compile_air

#: the bus the ring runs on (hashed to its id like every named bus; a chip may not use it: keys.py,
#: nor an AIR's public entries: logup.public_entries)
BLIND_BUS = "zk blind"
BLIND_BUS_ID = bus_id(BLIND_BUS)
#: base-field elements of one ring value (an F_p^4 worth of randomness)
RING_VALUE = 4
#: main columns the ring adds to a table: ρ in row 0, σ in the last row
BLIND_COLUMNS = RING_VALUE


class BlindedAir(Air):
    """A chip's AIR with the ring's columns after its own and the ring's two interactions.
    Everything else (name, preprocessed columns, public values, optional) is the chip's."""

    def __init__(self, base: Air):
        self.base = base
        self.name = base.name
        self.width = base.width + BLIND_COLUMNS
        self.preprocessed_width = base.preprocessed_width
        self.num_public_values = base.num_public_values
        self.optional = getattr(base, "optional", False)
        self.helper_degree = getattr(base, "helper_degree", 3)

    def constraints(self, b: AirBuilder) -> None:
        b.air = self.base  # the chip's constraints see the chip's columns (b.main_row() is its width)
        try:
            self.base.constraints(b)
        finally:
            b.air = self

    def preprocessed_trace(self):
        return self.base.preprocessed_trace()

    def public_interactions(self, public_values, public_data: bytes = b"") -> list:
        return self.base.public_interactions(public_values, public_data)

    def ring_interactions(self, b: AirBuilder) -> None:
        """send ρ (row 0), receive σ (row n − 1): one interaction of multiplicity
        is_first_row − is_last_row on the ring's columns (logup.py makes its entries the running
        sum's ends: logup.boundary_interaction)."""
        w = self.base.width
        b.send(BLIND_BUS, [b.main(w + j) for j in range(RING_VALUE)], b.is_first_row - b.is_last_row)


def blinded(compiled: CompiledAir, max_degree: int) -> CompiledAir:
    """The compiled BlindedAir of a chip's compiled AIR (compiled once, kept on it). The
    chip's constraints record the same DAG in both (BlindedAir.constraints runs the chip's),
    so a compiled chip's recording is copied rather than built again (air.replay_recorded)."""
    cached = getattr(compiled, "_blinded", None)
    if cached is None or cached[0] != max_degree:
        air = BlindedAir(compiled.air)
        recorded = compiled if isinstance(compiled, CompiledAir) and compiled.recorded_counts[0] else None
        cached = (max_degree, compile_air(air, max_degree, framework_interactions=air.ring_interactions,
                                          recorded=recorded))
        compiled._blinded = cached
    return cached[1]


def ring_values(rng, table_indices) -> tuple:
    """(ρ, σ), each (m, 4), for a segment's present tables (their key indices, in order):
    the module docstring's rule, from the segment's ZkRandomness ``rng``."""
    m = len(table_indices)
    rho = np.empty((m, RING_VALUE), dtype=np.uint32)
    for j, index in enumerate(table_indices[:-1]):
        rho[j] = rng.field(f"blind ring {index}", (RING_VALUE,))
    rho[m - 1] = rng.field("blind ring exit", (RING_VALUE,))
    sigma = np.empty_like(rho)
    sigma[0] = rng.predecessor().field("blind ring exit", (RING_VALUE,))
    sigma[1:] = rho[:-1]
    return rho, sigma


def ring_columns(n: int, rho: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The ring's 4 main columns of an n-row table, (n, 4): ρ in row 0, σ in row n − 1, zero
    between (the prover commits them after the chip's own: prover.commit_main)."""
    out = np.zeros((n, BLIND_COLUMNS), dtype=np.uint32)
    out[0] = rho
    out[n - 1] = sigma
    return out
