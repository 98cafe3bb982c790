"""The multi-table STARK prover of one segment: commit, quotient, open, FRI.

One proof is one segment of a statement (joint.py draws the bus challenges from every
segment's main root); its steps, with the transcript rounds of rounds.py (S1–S7):

 1. (S1) the transcript observes the key, the public values, the public data, the heights
 2. **commit to trace data** (``commit_main``): LDE each main trace on its coset, commit all
    of them in one mixed-matrix Merkle tree (mmcs.py); (S2) observe its root and the
    statement's bus challenges α_bus, γ_bus
 3. build each table's LogUp auxiliary trace, commit them (one tree); (S3) observe the root
    and each table's total, draw α (the constraint combiner)
 4. **commit to quotient chunks**: on the quotient domain evaluate Σ α^i C_i(x), divide by
    Z_H(x) = x^n − 1, split Q(x) = Σ_k x^(k·n)·Q_k(x) into chunks of degree < n, commit
    them; (S4) draw ζ ∈ F_p^4
 5. **open**: every column at ζ (and ζ·ω); (S5) observe them, draw one independent DEEP
    coefficient per opened column (not powers of one γ: config.py, batching)
 6. **DEEP composition**: one codeword per LDE height (deep.deep_values)
 7. **FRI commit** over all heights (fri.py, S6), grind and draw the query positions (S7)
 8. **FRI queries**: open every phase's tree (all tables at once) and every FRI layer there

The optional ``progress(step, fraction)`` callback hears the step names above in bold;
`fraction` is the share of that step done so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import StarkConfigError
from . import ext, field, rounds
from .deep import deep_layout, deep_values, evaluate_trace_at
from .domain import coset_points, coset_selectors, coset_shift
from .field import P, root_of_unity
from .fri import FriProof, FriProver
from .keys import ProvingKey, check_public_values, check_trace, lde_shift
from .lincomb import weighted_column_sums
from .logup import build_aux_trace
from .mmcs import MixedMatrixTree
from .ntt import bit_reverse_indices, coset_lde, coset_lde_from_coefficients, intt
from .proof import Proof, TableProof
from .rounds import BusChallenges
from .tape import SELECTORS, Inputs, plain_inputs, run, tape_for


class _Table:
    """Prover-side data of one table during one proof."""

    def __init__(self, compiled, trace, prep_trace, prep_lde):
        self.compiled = compiled
        self.air = compiled.air
        self.trace = trace
        self.n = trace.shape[0]
        self.log_n = self.n.bit_length() - 1
        self.prep_trace = prep_trace
        self.prep_lde = prep_lde
        self.aux_trace = None  # (n, 4a) base view of the (n, a, 4) aux columns
        self.aux_lde = None
        self.cumsum = None


#: rows of the quotient domain evaluated at once (bounds the constraint evaluation's memory)
QUOTIENT_BLOCK_ROWS = 1 << 18


def _load_tables(pk: ProvingKey, traces: Sequence) -> list:
    """Validate the traces against the key and wrap each in a _Table."""
    vk = pk.verifying_key
    cfg = vk.config
    if len(traces) != len(vk.compiled):
        raise StarkConfigError(f"expected {len(vk.compiled)} traces (one per table), got {len(traces)}")
    tables = []
    for i, (c, tr) in enumerate(zip(vk.compiled, traces)):
        tr = check_trace(c.air, tr)
        if vk.prep_log_heights[i] is not None and tr.shape[0] != 1 << vk.prep_log_heights[i]:
            raise StarkConfigError(f"table {c.air.name!r}: main trace has {tr.shape[0]} rows but its preprocessed "
                                   f"columns have {1 << vk.prep_log_heights[i]}")
        if tr.shape[0].bit_length() - 1 > cfg.log_height_limit:
            raise StarkConfigError(f"table {c.air.name!r}: {tr.shape[0]} rows is taller than preset {cfg.name!r} "
                                   f"allows (2^{cfg.log_height_limit}; config.py)")
        tables.append(_Table(c, tr, pk.prep_traces[i], pk.prep_ldes[i]))
    return tables


@dataclass
class MainCommitment:
    """Step 2's result for one segment: its validated tables, every main LDE (on its coset,
    bit-reversed rows) and their one mixed-matrix tree."""

    tables: list
    ldes: list
    tree: MixedMatrixTree

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def log_heights(self) -> list:
        return [t.log_n for t in self.tables]


def commit_main(pk: ProvingKey, traces: Sequence, progress: Callable[[str, float], None] | None = None) -> MainCommitment:
    """Step 2: LDE each main trace on its coset, commit all of them in one mixed-matrix tree.
    Every segment's root must exist before the statement's bus challenges are drawn (joint.py)."""
    report = progress or (lambda step, fraction: None)
    tables = _load_tables(pk, traces)
    cfg = pk.verifying_key.config
    ldes = []
    for k, t in enumerate(tables):
        ldes.append(coset_lde(t.trace, cfg.log_blowup, shift=lde_shift(t.log_n, cfg)))
        report("commit to trace data", (k + 1) / (len(tables) + 1))
    return MainCommitment(tables, ldes, MixedMatrixTree.commit(ldes))


def prove_segment(pk: ProvingKey, main: MainCommitment, public_values: Sequence[int], public_data: bytes,
                  bus: BusChallenges, progress: Callable[[str, float], None] | None = None) -> Proof:
    """Prove one segment whose main traces are committed (``main``), under the statement's bus
    challenges. The caller (joint.prove) checked the witness first; this only proves."""
    vk = pk.verifying_key
    cfg = vk.config
    report = progress or (lambda step, fraction: None)
    public = check_public_values(vk, public_values)
    tables = main.tables
    transcript = rounds.segment_transcript(vk, public, main.log_heights, public_data)
    for t, lde in zip(tables, main.ldes, strict=True):
        t.lde_log = t.log_n + cfg.log_blowup
        t.main_lde = lde
    trees = {"prep": pk.prep_tree, "main": main.tree}
    rounds.observe_main(transcript, main.root, bus)
    report("commit to trace data", 1.0)

    # 3. LogUp auxiliary traces under the statement's challenges, then α
    challenges = np.stack([bus.alpha, bus.gamma])
    for t in tables:
        if not t.compiled.interactions:
            continue
        aux, t.cumsum, _ = build_aux_trace(t.compiled, plain_inputs(t.trace, t.prep_trace, public), t.n,
                                           bus.alpha, bus.gamma)
        t.aux_trace = aux.reshape(t.n, -1)
        t.aux_lde = coset_lde(t.aux_trace, cfg.log_blowup, shift=lde_shift(t.log_n, cfg))
    with_aux = [t for t in tables if t.aux_lde is not None]
    if with_aux:
        trees["aux"] = MixedMatrixTree.commit([t.aux_lde for t in with_aux])
    alpha = rounds.observe_aux_and_draw_alpha(transcript, trees["aux"].root if with_aux else None,
                                              [t.cumsum for t in with_aux])

    # 4. quotient chunks, then ζ
    for k, t in enumerate(tables):
        t.quotient_coeffs = _quotient_chunks(t, public, challenges, alpha, cfg.log_blowup)
        t.quotient_lde = coset_lde_from_coefficients(t.quotient_coeffs, cfg.log_blowup, lde_shift(t.log_n, cfg))
        report("commit to quotient chunks", (k + 1) / (len(tables) + 1))
    trees["quotient"] = MixedMatrixTree.commit([t.quotient_lde for t in tables])
    zeta = rounds.observe_quotient_and_draw_zeta(transcript, trees["quotient"].root)
    if not np.any(zeta[1:]):
        raise StarkConfigError("the out-of-domain point fell in F_p (probability ~2^-93); prove again")
    report("commit to quotient chunks", 1.0)

    # 5. open every column at ζ and ζω, then the DEEP coefficients
    for k, t in enumerate(tables):
        t.z_next = ext.ext_mul_base(zeta, np.uint32(root_of_unity(t.log_n)))
        t.open_local = {
            "prep": evaluate_trace_at(t.prep_trace, t.log_n, zeta),
            "main": evaluate_trace_at(t.trace, t.log_n, zeta),
            "aux": evaluate_trace_at(t.aux_trace, t.log_n, zeta),
            "quotient": weighted_column_sums(t.quotient_coeffs, ext.ext_powers(zeta, t.n)),  # Σ c_i ζ^i
        }
        t.open_next = {g: evaluate_trace_at(m, t.log_n, t.z_next)
                       for g, m in (("prep", t.prep_trace), ("main", t.trace), ("aux", t.aux_trace))}
        report("open", (k + 1) / len(tables))
    layout, total = deep_layout([_widths(t) for t in tables])
    coeffs = rounds.observe_openings_and_draw_deep(transcript, [(t.open_local, t.open_next) for t in tables], total)

    # 6. DEEP composition: one codeword per LDE height, over every row of the LDEs
    fri_inputs = {}
    for l in sorted({t.lde_log for t in tables}, reverse=True):
        members = [(lay, {"prep": t.prep_lde, "main": t.main_lde, "aux": t.aux_lde, "quotient": t.quotient_lde},
                    t.open_local, t.open_next) for t, lay in zip(tables, layout) if t.lde_log == l]
        z_next = next(t.z_next for t in tables if t.lde_log == l)
        fri_inputs[l] = deep_values(members, coset_points(l, coset_shift(l), bit_reversed=True), zeta, z_next, coeffs)
        report("DEEP composition", len(fri_inputs) / len({t.lde_log for t in tables}))

    # 7. FRI commit, grinding, query positions
    log_final_len = min(cfg.log_final_poly_len, min(t.log_n for t in tables))
    fri_prover = FriProver()
    fri_prover.commit_phase(fri_inputs, log_final_len + cfg.log_blowup, log_final_len, transcript, report)
    log_max = max(fri_inputs)
    nonce, indices = rounds.query_positions(transcript, cfg.pow_bits, cfg.num_queries, log_max)

    # 8. open the queries: one path per phase tree, rows of every member table
    table_proofs = [TableProof(t.log_n, t.aux_lde is not None, t.prep_lde is not None, t.cumsum,
                               t.open_local, t.open_next) for t in tables]
    queries = {}
    for phase, tree in trees.items():
        if tree is None:
            continue
        top = len(tree.levels) - 1
        queries[phase] = tree.open(indices >> (log_max - top))
    fri_openings = fri_prover.open_queries(indices)
    report("FRI queries", 1.0)
    return Proof(table_proofs, trees["main"].root, trees["aux"].root if "aux" in trees else None,
                 trees["quotient"].root, queries,
                 FriProof(fri_prover.roots, fri_prover.final_poly, int(nonce), fri_openings), bus.pow_nonce)


def _widths(t: _Table) -> tuple:
    wp = 0 if t.prep_trace is None else t.prep_trace.shape[1]
    wa = 0 if t.aux_trace is None else t.aux_trace.shape[1]
    return wp, t.trace.shape[1], wa, t.quotient_coeffs.shape[1]


def _quotient_chunks(t: _Table, public, challenges, alpha, log_blowup) -> np.ndarray:
    """Q(x) = Σ_i α^i C_i(x) / Z_H(x) on the quotient domain, split into chunks.

    The quotient domain is s·K of size n·2^c (2^c chunks): the first n·2^c rows of each
    bit-reversed LDE. On it "next row" is the point x·ω_n, i.e. natural index j + 2^c.
    Returns the chunk coefficients as an (n, 4·2^c) base matrix: columns 4k..4k+3 are the
    F_p^4 coefficients of Q_k, where Q(x) = Σ_k x^(k·n)·Q_k(x)."""
    log_c = t.compiled.log_quotient_chunks
    log_q = t.log_n + log_c
    nq = 1 << log_q
    step = 1 << log_c
    # natural point j of s·K (size nq) is row rev(j) of the bit-reversed LDE; its "next row"
    # x·ω_n is natural point j + 2^c (cyclically). The evaluator reads those rows of the LDEs
    # in place through this map (tape.Inputs.rowmap): no gathered or transposed copy.
    rev = bit_reverse_indices(nq).astype(np.int64)
    aux_lde = None if t.aux_lde is None else t.aux_lde.reshape(t.aux_lde.shape[0], -1, 4)
    shift = coset_shift(t.lde_log)
    points = coset_points(log_q, shift, bit_reversed=False)
    cumsum = t.cumsum if t.cumsum is not None else ext.ZERO
    constraints = t.compiled.all_constraints
    tape = tape_for(t.compiled, [c.expr for c in constraints])
    alpha_pows = ext.ext_powers(alpha, len(constraints))
    q_vals = np.empty((nq, 4), dtype=np.uint32)
    # the constraints are evaluated block by block of rows: memory stays ~ one block's selectors
    size = min(QUOTIENT_BLOCK_ROWS, nq)  # both powers of two
    for start in range(0, nq, size):
        selectors, inv_z = coset_selectors(t.log_n, points[start:start + size])
        inputs = Inputs(t.main_lde, t.prep_lde, aux_lde, public, challenges, cumsum,
                        np.stack([selectors[s] for s in SELECTORS], axis=1), step, rev)
        acc = run(tape, inputs, size, alpha_pows, row0=start)  # Σ α^i C_i on the block
        q_vals[start:start + size] = ext.ext_mul_base(acc, inv_z)  # Q = Σ α^i C_i / Z_H
    # coefficients of Q(s·y) → of Q(x): divide c_i by s^i
    coeffs = intt(q_vals)
    coeffs = ext.ext_mul_base(coeffs, field.powers(pow(shift, P - 2, P), nq))
    # chunk k = coefficients [k·n, (k+1)·n) → base columns 4k..4k+3
    return np.ascontiguousarray(coeffs.reshape(step, t.n, 4).transpose(1, 0, 2).reshape(t.n, 4 * step))
