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

import functools
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from ..errors import StarkConfigError
from . import ext, field, pool, rounds
from . import zk
from .deep import (deep_codewords_from_coefficients, deep_coefficients, deep_layout, opened_count,
                   recombine_ext_columns, split_by_height)
from .domain import coset_points, coset_selector_rows, coset_shift, coset_values, interpolate_from_cosets, \
    interpolate_with_small_coset
from .field import P, root_of_unity
from .fri import FriProof, FriProver, lift, sort_by_input
from .heap import release_free_heap
from .keys import ProvingKey, check_public_values, check_trace
from .lde_source import LdeSource, shared_rows_work
from .lincomb import column_sums_at_two_points
from .logup import build_aux_trace
from .mmcs import MixedMatrixTree
from .ntt import bit_reverse_indices, drop_coset_factors, intt, intt_columns_into, \
    ntt_of_folded, padded_buffer, padded_width, scale_rows
from .openings import full_width_next, next_row_columns, zero_unread_coefficients
from .optional import presence
from .proof import Proof, TableProof
from .rounds import BusChallenges, PublicData
from .tape import Inputs, plain_inputs, run, tape_for
from .zk import QuotientLayout, ZkRandomness
from .blind import ring_columns, ring_values


class _Table:
    """Prover-side data of one table during one proof."""

    # set by the steps, in order: commit_main (lde_log), prove_segment (the rest)
    lde_log: int                    # log2 of its LDE's height (zk.lde_log)
    main_lde: LdeSource
    aux_lde: LdeSource | None
    quotient_layout: QuotientLayout
    quotient_coeffs: np.ndarray
    quotient_lde: LdeSource
    z_next: np.ndarray              # ζω, ω its trace domain's generator
    open_local: dict[str, np.ndarray]
    open_next: dict[str, np.ndarray]
    ring: tuple | None              # hiding mode: the blinding ring's (ρ, σ) of it (blind.py)

    def __init__(self, index, compiled, trace, prep_trace, prep_lde):
        self.index = index  # its position among the key's tables
        self.compiled = compiled
        self.air = compiled.air
        self.trace = trace  # the chip's columns (hiding mode: the ring's are in ``ring``; None once f̂ is made)
        self.ring = None
        self.n = trace.shape[0]
        self.log_n = self.n.bit_length() - 1
        self.prep_trace = prep_trace
        self.prep_lde = prep_lde
        # its preprocessed columns' coefficients (degree < n), interpolated once (prep_coefficients)
        self._prep_coeffs = None
        # the committed LDEs, each an lde_source.LdeSource (its coefficients, D rows; the LDE's
        # rows are recomputed block by block where they are read)
        self.main_lde = None  # type: ignore[assignment]  # set by commit_main before any use
        self.aux_lde = None  # of the (n, a, 4) aux columns as 4a base columns
        self.quotient_lde = None  # type: ignore[assignment]  # set by the quotient step before any use
        self.cumsum = None

    def prep_coefficients(self) -> np.ndarray | None:
        """The preprocessed columns' coefficients (n, wp), or None (read by the quotient and the DEEP)."""
        if self._prep_coeffs is None and self.prep_trace is not None:
            self._prep_coeffs = intt(self.prep_trace)
        return self._prep_coeffs

    def main_trace(self) -> np.ndarray:
        """The committed main trace: the chip's columns, then (hiding mode) the ring's. Hiding
        mode keeps no trace once f̂ is committed (commit_main): f̂ = f + Z_H·r is f on H, so its
        values there — its coefficients folded mod x^n − 1, one size-n transform — are the
        trace with the ring's columns, made where read (the LogUp trace) and dropped after (at
        2^18 cycles the CPU table's 81 MB stayed from the main commitment to its LogUp trace,
        and beside it its copy with the ring's columns) — unless the segment is short (below
        RELEASE_HEAP_MIN_LOG_ROWS: a few MB), whose trace with the ring's columns is kept (the
        same values: a size-n transform saved, 0.05 s of a 2^16-cycle proof's 1.9)."""
        if self.ring is None or self.trace is not None:
            return self.trace
        return ntt_of_folded(self.main_lde.coefficients, self.log_n, self.main_lde.nonzero_rows)


#: rows of the quotient domain evaluated at once (bounds the constraint evaluation's memory: its
#: selectors, sums and products, ~20 MB beside the coset's values at 2^18 rows, now ~5 MB)
QUOTIENT_BLOCK_ROWS = 1 << 16
#: at most this many cosets for the quotient of a table taller than a few rows (_quotient_cosets)
QUOTIENT_MAX_COSETS = 8
#: a quotient with at most n/SMALL_COSET_FRACTION coefficients past K·n is evaluated on K cosets
#: of K_n and one small coset, not K + 1 cosets (_quotient_cosets)
SMALL_COSET_FRACTION = 4
#: a quotient coset of n points whose columns' values take more than this is evaluated in
#: 2^QUOTIENT_LOG_PARTS parts, two of them in memory at a time (_coset_parts: at 2^18 cycles,
#: hiding, the CPU table's main and aux values on a coset were 150 MB at the prover's peak)
QUOTIENT_PARTS_FROM_BYTES = 64 << 20
QUOTIENT_LOG_PARTS = 2


def _load_tables(pk: ProvingKey, traces: Sequence) -> tuple:
    """Validate the traces against the key; returns (a _Table per table the proof includes,
    the presence mask: False for an optional table left out because it is empty, optional.py)."""
    vk = pk.verifying_key
    cfg = vk.config
    if len(traces) != len(vk.compiled):
        raise StarkConfigError(f"expected {len(vk.compiled)} traces (one per table), got {len(traces)}")
    tables = []
    for i, (c, tr) in enumerate(zip(vk.compiled, traces)):
        tr = check_trace(c.air, tr)  # the chip's columns; hiding mode appends the ring's (commit_main)
        if vk.prep_log_heights[i] is not None and tr.shape[0] != 1 << vk.prep_log_heights[i]:
            raise StarkConfigError(f"table {c.air.name!r}: main trace has {tr.shape[0]} rows but its preprocessed "
                                   f"columns have {1 << vk.prep_log_heights[i]}")
        if tr.shape[0].bit_length() - 1 > cfg.log_height_limit:
            raise StarkConfigError(f"table {c.air.name!r}: {tr.shape[0]} rows is taller than preset {cfg.name!r} "
                                   f"allows (2^{cfg.log_height_limit}; config.py)")
        tables.append(_Table(i, vk.proved[i], tr, pk.prep_traces[i], pk.prep_ldes[i]))
    present = presence(vk.compiled, [t.trace for t in tables])
    if not any(present):
        raise StarkConfigError("every table is optional and empty: there is nothing to prove")
    return [t for t, keep in zip(tables, present) if keep], present


def _hide(coefficients: np.ndarray, n: int, rng: ZkRandomness | None, label: str, m_r: int) -> np.ndarray:
    """f̂ = f + Z_H·r's coefficients, written over ``coefficients`` (D, w), whose first n rows
    are f's and the others zero: r uniform of degree < m_r (zk.py), drawn as its m_r coefficients, and
    Z_H·r = x^n·r − r, so f̂'s coefficient i is c_i (i < n) − r_i (i < m_r) + r_(i−n)
    (n ≤ i < n + m_r), zero from n + m_r on — no transform of D rows. (Drawing r's
    coefficients or f̂'s values at m_r points off H is one distribution: r ↦ (Z_H·r)'s values
    there is a bijection, Z_H ≠ 0 off H.)"""
    assert rng is not None, "hiding mode draws its randomness first (commit_main)"
    w = coefficients.shape[1]
    r = rng.field(label, (m_r, w))
    coefficients[:m_r] = field.sub(coefficients[:m_r], r)                  # − r_i
    coefficients[n:n + m_r] = field.add(coefficients[n:n + m_r], r)        # + r_(i−n) (after: m_r > n overlaps)
    return coefficients


def _salted(matrices: list, cfg, rng, label: str) -> list:
    """Hiding mode: the tree's matrices plus SALT random elements per leaf of the top height."""
    if not cfg.zk:
        return matrices
    top = max(m.shape[0] for m in matrices)
    return matrices + [zk.SaltMatrix(rng, label, top)]


def _committed_lde(t, parts: list, cfg, rng, label) -> LdeSource:
    """A table's committed LDE of one trace — the columns of ``parts`` side by side (hiding
    mode's main: the chip's and the ring's, never joined in a copy) — on the coset of the
    LDE's height, kept as coefficients (lde_source.py): the trace's interpolant (transparent:
    D = n) or, hiding, f̂ = f + Z_H·r of degree < n + m_r ≤ D (_hide; ``label`` names r's random
    stream).

    f̂'s rows from n + m_r on are zero and never written: np.zeros of a large matrix is fresh
    pages from the kernel, which reading maps to its one zero page, so those rows — nearly
    half of the matrix when D = 2n — take no memory (at 2^20 cycles the CPU table's main and
    aux coefficients were 1.3 GB, of which ~0.64 GB now stays unallocated)."""
    shift = coset_shift(t.lde_log)
    if not cfg.zk:
        (trace,) = parts
        return LdeSource.from_values(trace, cfg.log_blowup, shift)
    n, w = t.n, sum(part.shape[1] for part in parts)
    log_d = zk.committed_log_degree(cfg, t.log_n)
    coefficients = np.zeros((1 << log_d, w), dtype=np.uint32)
    intt_columns_into(parts, coefficients[:n])  # f's n coefficients, in f̂'s first rows
    # on 2^lde_log points: D·blowup, or n·blowup for a tall table (zk.tall: its D = 2n
    # coefficients, n + m_r of them nonzero, are evaluated at blowup/2); hashed in blocks of
    # D/2 rows (lde_source.py): half the block buffer of the commitment
    return LdeSource(_hide(coefficients, n, rng, label, zk.trace_randomiser_size(cfg)), t.lde_log - log_d, shift,
                     hash_log=log_d - 1, rows=zk.hidden_length(cfg, t.log_n))


@dataclass
class MainCommitment:
    """Step 2's result for one segment: its validated tables, every main LDE (on its coset,
    bit-reversed rows; an LdeSource: kept as coefficients) and their one mixed-matrix tree."""

    tables: list              # the tables the proof includes
    present: list             # per key table: included (True) or left out (False)
    ldes: list
    tree: MixedMatrixTree
    rng: ZkRandomness | None = None  # hiding mode: the segment's randomness, continued by prove_segment

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def log_heights(self) -> list:
        """Per key table: log2 of its height, None if left out (what the transcripts observe)."""
        heights = iter(t.log_n for t in self.tables)
        return [next(heights) if keep else None for keep in self.present]


def commit_main(pk: ProvingKey, traces: Sequence, progress: Callable[[str, float], None] | None = None,
                rng: ZkRandomness | None = None, release_traces: bool = False) -> MainCommitment:
    """Step 2: LDE each main trace on its coset, commit all of them in one mixed-matrix tree.
    Every segment's root must exist before the statement's bus challenges are drawn (joint.py).
    Hiding mode commits f̂ = f + Z_H·r instead, drawn from ``rng`` (a pure function of its
    secret: committing again gives the same root), of each trace with the blinding ring's
    columns appended (blind.py). An optional table with an all-zero trace is
    left out: not committed, and nothing of it is proved or opened (optional.py).
    ``release_traces``: the caller hands its ``traces`` list over (emptied here, the tables
    hold them), so in hiding mode each trace goes once its f̂ is made (_Table.main_trace; a
    short segment's after its LogUp trace)."""
    report = progress or (lambda step, fraction: None)
    tables, present = _load_tables(pk, traces)
    if release_traces:
        traces.clear()  # type: ignore[attr-defined]
    cfg = pk.verifying_key.config
    if cfg.zk and rng is None:
        rng = ZkRandomness.fresh()
    if cfg.zk:  # the blinding ring's columns ρ, σ after each table's own (blind.py)
        rho, sigma = ring_values(rng, [t.index for t in tables])
        for t, r, s in zip(tables, rho, sigma):
            t.ring = (r, s)
    ldes = _main_ldes(tables, cfg, rng, lambda done: report("commit to trace data", done / (len(tables) + 1)))
    return MainCommitment(tables, present, ldes, MixedMatrixTree.commit(_salted(ldes, cfg, rng, "main salt")), rng)


def _main_ldes(tables: list, cfg, rng, done: Callable[[int], None]) -> list:
    """Step 2's LDEs: per table, the committed LDE of its trace (_committed_lde; hiding mode:
    with the ring's columns appended, and the trace then kept as f̂ on H only by a short
    segment) — a tall table at a time, then the short ones side by side (_each_table)."""
    ldes: list = [None] * len(tables)
    keep = max(t.log_n for t in tables) < RELEASE_HEAP_MIN_LOG_ROWS  # hiding: a short segment's traces kept

    def lde_of(k: int, t: _Table) -> None:
        t.lde_log = zk.lde_log(cfg, t.log_n)
        parts = [t.trace] if t.ring is None else [t.trace, ring_columns(t.n, *t.ring)]
        ldes[k] = _committed_lde(t, parts, cfg, rng, f"main {t.index}")
        if cfg.zk:  # the trace is f̂ on H now (_Table.main_trace: made from f̂ unless kept)
            t.trace = np.concatenate(parts, axis=1) if keep else None
        del parts
        _release_heap([t])  # a tall table's transform temporaries freed (heap.py)

    _each_table(tables, lde_of, done)
    return ldes


def _aux_ldes(tables: list, public, bus: BusChallenges, cfg, rng) -> None:
    """Step 3: per table that has interactions, its LogUp trace under the bus challenges (from
    the committed trace: hiding mode's f̂ on H, made here) and that trace's committed LDE,
    ``t.aux_lde`` (t.cumsum: its running sum's last value); each table's trace dropped after —
    a tall table at a time, then the short ones side by side (_each_table)."""

    def aux_of(k: int, t: _Table) -> None:
        if t.compiled.interactions:
            main_trace = t.main_trace()  # (hiding: f̂ on H, made here)
            t.trace = None
            aux, t.cumsum, _ = build_aux_trace(t.compiled, plain_inputs(main_trace, t.prep_trace, public), t.n,
                                               bus.alpha, bus.gamma)
            del main_trace  # gone before its aux LDE
            _release_heap([t])  # a tall table's LogUp temporaries freed
            aux = aux.reshape(t.n, -1)
            t.aux_lde = _committed_lde(t, [aux], cfg, rng, f"aux {t.air.name}")
            del aux  # (what it leaves in the heap, 0–30 MB, the next release hands back)
        t.trace = None

    _each_table(tables, aux_of)


def _quotients(tables: list, public, challenges, alpha, cfg, rng, done: Callable[[int], None]) -> None:
    """Step 4: per table, its quotient's committed chunks (_quotient_chunks: ``t.quotient_coeffs``,
    their LDE ``t.quotient_lde``), the DEEP masks held by one table per LDE height
    (zk.deep_mask_holders) — a tall table at a time, then the short ones side by side
    (_each_table)."""
    holders = zk.deep_mask_holders(cfg, [t.log_n for t in tables])  # one DEEP mask R per LDE height

    def quotient_of(k: int, t: _Table) -> None:
        t.quotient_layout = QuotientLayout(cfg, t.compiled, t.log_n, holders[k])
        t.quotient_coeffs = _quotient_chunks(t, public, challenges, alpha, cfg, rng)
        # D coefficient rows on 2^lde_log points, hashed in blocks of lde_log − log_blowup rows
        # (D; n for a tall table, whose chunks have B < D coefficients: zk.committed_bound)
        t.quotient_lde = LdeSource(t.quotient_coeffs, t.lde_log - zk.committed_log_degree(cfg, t.log_n),
                                   coset_shift(t.lde_log), hash_log=t.lde_log - cfg.log_blowup,
                                   rows=zk.committed_bound(cfg, t.log_n))
        _release_heap([t])  # a tall table's interpolation temporaries freed

    _each_table(tables, quotient_of, done)


#: on several threads, the largest table (most cells) takes a step alone, its kernels split among
#: the threads, when it has at least 2^this rows: beside it, another table's temporaries would add
#: to the prover's peak memory, which that step of the largest table sets
ALONE_MIN_LOG_ROWS = 17


def _alone(tables: list) -> list:
    """The tables (indices) that take a step alone on several threads: the largest, if tall."""
    largest = max(range(len(tables)), key=lambda k: (tables[k].n * tables[k].air.width, -k))
    return [largest] if tables[largest].log_n >= ALONE_MIN_LOG_ROWS else []


def _each_table(tables: list, step: Callable, done: Callable[[int], None] = lambda count: None) -> None:
    """``step(k, tables[k])`` for every table (each writes only its own table's results). On
    several threads: the largest table alone if it is tall (_alone), then every other side by
    side on the pool's threads (pool.side_by_side), the tallest first, so the last ones handed
    out are short. On one thread (or a busy machine: pool.threads): every table in proof order.
    ``done(count)`` hears how many tables are finished, after the one alone (each one, on one
    thread) and after the others."""
    in_turn = list(range(len(tables))) if pool.threads() < 2 else _alone(tables)
    for count, k in enumerate(in_turn, 1):
        step(k, tables[k])
        done(count)
    rest = sorted(set(range(len(tables))) - set(in_turn), key=lambda k: (-tables[k].log_n, k))
    if rest:
        pool.side_by_side([functools.partial(step, k, tables[k]) for k in rest])
        done(len(tables))


def _evaluate_coefficients(coefficients, at_z, at_zn, columns) -> tuple:
    """Every column of a committed polynomial matrix (its coefficient rows; None: no columns)
    at z, and the given ``columns`` at z' (the openings at ζ and ζω, in one pass:
    lincomb.column_sums_at_two_points): ``at_z`` / ``at_zn`` are the powers 1, z, z², … and
    those of z', at least as many as the matrix's nonzero rows (its rows past them are zero,
    and not read): Σ_i c_i·z^i, shapes (w, 4) and (len(columns), 4)."""
    if coefficients is None or coefficients.shape[1] == 0:
        return np.zeros((0, 4), dtype=np.uint32), np.zeros((0, 4), dtype=np.uint32)
    rows = min(coefficients.shape[0], at_z.shape[0])
    return column_sums_at_two_points(coefficients[:rows], at_z[:rows], at_zn[:rows], columns)


def _openings_at_zeta(cfg, tables: list, zeta, done: Callable[[int], None]) -> None:
    """Step 5's openings: every table's values at ζ and ζω (_open_at_zeta) — a tall table at a
    time, then the short ones side by side (_each_table), from one table of powers of each point."""
    _each_table(tables, functools.partial(_open_at_zeta, cfg, zeta, _opening_powers(cfg, tables, zeta)), done)


def _open_at_zeta(cfg, zeta, powers: dict, _k: int, t: _Table) -> None:
    """Step 5 for one table: ``t.open_local`` and ``t.open_next``, every group's values at ζ and
    at ζω = ``t.z_next`` from its coefficients, Σ_(i<B) c_i z^i (main and aux: f̂ in hiding mode,
    the trace's interpolant otherwise): rows from B on are zero (_nonzero_rows; hiding: half of a
    tall table's D = 2n, never read); the preprocessed columns' B is n. ``powers``:
    _opening_powers. At ζω only the columns some constraint reads at the next row (openings.py);
    the F_p^4 columns, aux and quotient, as one value each: Σ_c X^c·f_c(z) (deep.py)."""
    t.z_next = ext.ext_mul_base(zeta, np.uint32(root_of_unity(t.log_n)))
    b = _nonzero_rows(cfg, t)
    at_z, at_zn = powers[None][:b], powers[t.log_n][:b]
    read = next_row_columns(t.compiled)
    prep_z, prep_zn = _prep_openings(t, at_z, at_zn, read["prep"])
    main_z, main_zn = _evaluate_coefficients(t.main_lde.coefficients, at_z, at_zn, read["main"])
    aux_z, aux_zn = _evaluate_coefficients(None if t.aux_lde is None else t.aux_lde.coefficients, at_z, at_zn,
                                           read["aux"])
    quotient_z, _ = _evaluate_coefficients(t.quotient_coeffs, at_z, at_zn, ())  # Σ_(i<B) c_i ζ^i
    t.open_local = {"prep": prep_z, "main": main_z, "aux": recombine_ext_columns(aux_z),
                    "quotient": recombine_ext_columns(quotient_z)}
    t.open_next = {"prep": prep_zn, "main": main_zn, "aux": recombine_ext_columns(aux_zn)}


def _prep_openings(t: _Table, at_z, at_zn, columns) -> tuple:
    """The preprocessed columns at ζ and the given ``columns`` at ζω, from their coefficients
    (degree < n, interpolated once: _Table.prep_coefficients) as the other groups'
    (_evaluate_coefficients): the same values as the trace's barycentric sums on H, without
    the n inverses of their weights."""
    return _evaluate_coefficients(t.prep_coefficients(), at_z, at_zn, columns)


def prove_segment(pk: ProvingKey, main: MainCommitment, public_values: Sequence[int], public_data: PublicData,
                  bus: BusChallenges, progress: Callable[[str, float], None] | None = None) -> Proof:
    """Prove one segment whose main traces are committed (``main``), under the statement's bus
    challenges. The caller (joint.prove) checked the witness first; this only proves."""
    vk = pk.verifying_key
    cfg = vk.config
    report = progress or (lambda step, fraction: None)
    public = check_public_values(vk, public_values)
    tables = main.tables
    transcript = rounds.segment_transcript(vk, public, main.log_heights, public_data)
    rng = main.rng
    for t, lde in zip(tables, main.ldes, strict=True):
        t.main_lde = lde
    # every phase's tree, in the proof's order (no prep tree when no table has preprocessed columns)
    trees: dict[str, MixedMatrixTree] = {} if pk.prep_tree is None else {"prep": pk.prep_tree}
    trees["main"] = main.tree
    rounds.observe_main(transcript, main.root, bus)
    report("commit to trace data", 1.0)

    # 3. LogUp auxiliary traces under the statement's challenges, then α
    challenges = np.stack([bus.alpha, bus.gamma])
    _aux_ldes(tables, public, bus, cfg, rng)
    with_aux = [t for t in tables if t.aux_lde is not None]
    _release_heap(tables)  # the LogUp values and the hiding blocks freed, before the tree's LDE blocks
    if with_aux:
        trees["aux"] = MixedMatrixTree.commit(_salted([t.aux_lde for t in with_aux], cfg, rng, "aux salt"))
    alpha = rounds.observe_aux_and_draw_alpha(transcript, trees["aux"].root if with_aux else None,
                                              [t.cumsum for t in with_aux])

    # 4. quotient chunks, then ζ (the aux commitment's freed blocks handed back first: heap.py;
    # and the cached coset factors of its blocks, which the quotient's cosets do not use)
    _drop_cached_factors(tables)
    _release_heap(tables)
    _quotients(tables, public, challenges, alpha, cfg, rng,
               lambda done: report("commit to quotient chunks", done / (len(tables) + 1)))
    _drop_cached_factors(tables)  # the quotient's cosets' factors: its tree's blocks use others
    _release_heap(tables)  # the quotient's coset values freed (~100 MB of free heap at 2^18, hiding)
    trees["quotient"] = MixedMatrixTree.commit(_salted([t.quotient_lde for t in tables], cfg, rng, "quotient salt"))
    zeta = rounds.observe_quotient_and_draw_zeta(transcript, trees["quotient"].root)
    if not np.any(zeta[1:]):
        raise StarkConfigError("the out-of-domain point fell in F_p (probability ~2^-93); prove again")
    report("commit to quotient chunks", 1.0)

    # 5. open every column at ζ, and at ζω those read at the next row (openings.py); then the DEEP coefficients
    # (no heap release here: the openings take a few MB of the free heap, released before the DEEP)
    _drop_cached_factors(tables)  # the quotient tree's blocks' (~12 MB at 2^18, hiding): the DEEP's LDE uses others
    _openings_at_zeta(cfg, tables, zeta, lambda count: report("open", count / len(tables)))
    layout, total = deep_layout([_widths(t) for t in tables])
    drawn = rounds.observe_openings_and_draw_deep(transcript, [(t.open_local, t.open_next) for t in tables],
                                                  opened_count(layout))
    coeffs = zero_unread_coefficients(deep_coefficients(drawn, layout, total), layout,
                                      [next_row_columns(t.compiled) for t in tables])

    # 6. DEEP composition: one codeword per LDE height, from the committed polynomials'
    # coefficients (deep.deep_codewords_from_coefficients: combined first, one small LDE after).
    # A table's groups all go into the FRI input of its LDE height (zk.lde_log); a hiding
    # table's preprocessed group, opened on the key's n·blowup rows (zk.prep_lde_log), is
    # evaluated there and lifted (fri.lift: h(x^M), M = D/n): its terms
    # (p_i(y) − v_i)/(y − ζ), y = x^M, are one more batch of DEEP terms with their own
    # coefficients. As sound as rolling it in at n·blowup: p_i is the key's (public) column, so
    # only a claim v_i ≠ p_i(ζ) (or at ζω) can be wrong; g·(x^M − ζ)(x^M − ζω) is a polynomial of
    # degree ≤ M·n, so if g agreed with a G of the degree FRI bounds at that height (< D + D/F:
    # its F + 1 final coefficients) on more than that many + 2M points, the two products would be
    # one polynomial and, at a root of x^M = ζ, the claims right: a false claim's g agrees with
    # the code on at most a fraction ≈ (F + 1)/(F·blowup) of D·blowup — the rate
    # config.security_bits counts (docs/stark.md, "Zero knowledge", item 5)
    _release_heap(tables)
    entries: list = []
    lifted: list = []
    lifted_to: dict = {}
    for t, lay in zip(tables, layout):
        b = _nonzero_rows(cfg, t)
        polys = {"prep": t.prep_coefficients(), "main": t.main_lde.coefficients[:b],
                 "aux": None if t.aux_lde is None else t.aux_lde.coefficients[:b], "quotient": t.quotient_coeffs[:b]}
        heights = {"prep": zk.prep_lde_log(cfg, t.log_n, t.prep_trace is not None), "main": t.lde_log,
                   "aux": t.lde_log, "quotient": t.lde_log}
        sort_by_input(split_by_height(lay, polys, t.open_local, full_width_next(t.compiled, lay, t.open_next),
                                      heights, t.z_next), t.lde_log, entries, lifted, lifted_to)

    def points(l):
        return coset_points(l, coset_shift(l), bit_reversed=True)

    fri_inputs = deep_codewords_from_coefficients(entries, points, zeta, coeffs, cfg.log_blowup)
    for l, part in deep_codewords_from_coefficients(lifted, points, zeta, coeffs, cfg.log_blowup).items():
        top = lifted_to[l]
        fri_inputs[top] = ext.ext_add(fri_inputs[top], lift(part, top - l))
    del entries, lifted
    _drop_cached_factors(tables)  # the DEEP LDEs' (~30 MB at 2^18, hiding), before the FRI layers
    _release_heap(tables)  # the DEEP's temporaries freed, before the FRI layers and their trees
    report("DEEP composition", 1.0)

    # 7. FRI commit, grinding, query positions (the smallest input's degree bounds the final polynomial)
    # (hiding mode: F + 1 coefficients, zk.final_poly_len; its least input is ≥ F·blowup)
    log_final_len = min(cfg.log_final_poly_len, min(fri_inputs) - cfg.log_blowup)
    final_len = zk.final_poly_len(cfg, log_final_len)
    fri_prover = FriProver()
    fri_prover.commit_phase(fri_inputs, log_final_len + cfg.log_blowup, final_len, transcript, cfg.log_fri_arity,
                            report)
    log_max = max(fri_inputs)
    del fri_inputs  # the first is the first FRI layer's matrix; the others are folded in
    nonce, indices = rounds.query_positions(transcript, cfg.pow_bits, cfg.num_queries, log_max)

    # 8. open the queries: the FRI layers first, whose trees then go (the DEEP codeword, its
    # folds and their node digests) before the trace rows are recomputed
    fri_openings = fri_prover.open_queries(indices)
    fri_prover.trees = []
    _release_heap(tables)

    # one path per phase tree, rows of every member table
    included = iter(tables)
    table_proofs = []
    for keep in main.present:  # every key table, in order; one left out says only that
        t = next(included) if keep else None
        table_proofs.append(TableProof.left_out() if t is None else
                            TableProof(t.log_n, t.aux_lde is not None, t.prep_lde is not None, t.cumsum,
                                       t.open_local, t.open_next))
    queries = {}
    with shared_rows_work():  # one work buffer for the recomputed rows of every tree's sources
        for phase, tree in trees.items():
            top = len(tree.levels) - 1
            queries[phase] = tree.open(indices >> (log_max - top))
    report("FRI queries", 1.0)
    return Proof(table_proofs, trees["main"].root, trees["aux"].root if "aux" in trees else None,
                 trees["quotient"].root, queries,
                 FriProof(fri_prover.roots, fri_prover.final_poly, int(nonce), fri_openings), bus.pow_nonce,
                 zk=cfg.zk)


#: a segment whose tallest table has at least 2^this rows hands the C heap's free memory back
#: between its steps (heap.py): a smaller one frees a few MB, not worth the calls and the page
#: faults when the next step takes the memory again (~5 % of a fibonacci(10) proof's CPU)
RELEASE_HEAP_MIN_LOG_ROWS = 17


def _release_heap(tables: list) -> None:
    if max(t.log_n for t in tables) >= RELEASE_HEAP_MIN_LOG_ROWS:
        release_free_heap()


def _drop_cached_factors(tables: list) -> None:
    # a tall segment's cached coset factors (ntt.drop_coset_factors) go where the next step
    # transforms on other cosets: tens of MB that step would hold beside its own
    if max(t.log_n for t in tables) >= RELEASE_HEAP_MIN_LOG_ROWS:
        drop_coset_factors()


def _nonzero_rows(cfg, t: _Table) -> int:
    """Rows of the table's committed coefficient matrices that an honest prover's may have
    nonzero: B (zk.committed_bound; a tall table's n + n/F of D = 2n). The openings at ζ and
    the DEEP combine only those."""
    return zk.committed_bound(cfg, t.log_n)


def _opening_powers(cfg, tables: list, zeta: np.ndarray) -> dict:
    """The powers the openings weigh coefficients with, each computed once: ζ^i (key None) for
    the most nonzero rows of any table, (ζω_n)^i (key log n) for the most of the tables of
    height n, which share ω_n (a table reads the first _nonzero_rows of them)."""
    rows: dict = {}
    for t in tables:
        rows[t.log_n] = max(rows.get(t.log_n, 0), _nonzero_rows(cfg, t))
    out = {None: ext.ext_powers(zeta, max(rows.values()))}
    for log_n, b in rows.items():
        out[log_n] = ext.ext_powers(ext.ext_mul_base(zeta, np.uint32(root_of_unity(log_n))), b)
    return out


def _widths(t: _Table) -> tuple:
    wp = 0 if t.prep_trace is None else t.prep_trace.shape[1]
    wa = 0 if t.aux_lde is None else t.aux_lde.shape[1]
    return wp, t.main_lde.shape[1], wa, t.quotient_coeffs.shape[1]  # the quotient's mask columns included


def _quotient_chunks(t: _Table, public, challenges, alpha, cfg, rng) -> np.ndarray:
    """The committed quotient matrix in coefficient form: the chunks of
    Q(x) = Σ_i α^i C_i(x) / Z_H(x), as an (N, 4·(K + mask)) base matrix whose columns 4k..4k+3
    are the F_p^4 coefficients of chunk k, Q(x) = Σ_k x^(k·S)·q_k(x) (zk.QuotientLayout).

    Q is evaluated on cosets in s·K of 2^log_q points, s the LDE's coset shift, as many points
    as Q may have coefficients rounded up to a multiple of n, or to K·n and a small coset's
    power of two (_quotient_coefficients).
    Transparent: K = 2^c chunks of S = n coefficients (N = n). Hiding: the chunks are
    randomised by the telescoping t_k (zk.py) and, in the table that holds its height's DEEP
    mask (zk.deep_mask_holders), one random F_p^4 mask column R of degree < B follows them
    (N = D rows, zero from B on: zk.committed_bound)."""
    lay = t.quotient_layout
    coeffs = _quotient_coefficients(t, coset_shift(t.lde_log), lay, public, challenges, alpha)
    if not cfg.zk:
        # chunk k = coefficients [k·n, (k+1)·n) → base columns 4k..4k+3
        return np.ascontiguousarray(coeffs.reshape(lay.chunks, t.n, 4).transpose(1, 0, 2).reshape(t.n, 4 * lay.chunks))
    return _hide_chunks(coeffs, lay, 1 << zk.committed_log_degree(cfg, t.log_n), zk.committed_bound(cfg, t.log_n),
                        zk.quotient_mask_size(cfg), rng, t.air.name)


def _hide_chunks(coeffs: np.ndarray, lay: QuotientLayout, d_big: int, bound: int, m: int, rng,
                 name: str) -> np.ndarray:
    """Cut Q's coefficients into K chunks of S and randomise them (zk.py):
    q̂_k = q_k + x^S·t_(k+1) − t_k, t_0 = t_K = 0, each t_k uniform with m coefficients, so
    Σ_k x^(k·S)·q̂_k = Q and deg q̂_k < S + m = B (``bound``); then the mask R (if the table
    holds it), B uniform coefficients; d_big ≥ B rows in all."""
    k, size = lay.chunks, lay.size
    # an honest Q has no coefficient from K·S on; a broken witness (only proved on purpose, for
    # soundness tests: joint.prove checks first) loses them, and its ζ check fails
    out = np.zeros((d_big, k + lay.mask, 4), dtype=np.uint32)
    for j in range(k):  # chunk j = coefficients [j·S, (j+1)·S) → column j (no padded copy of Q)
        part = coeffs[j * size:(j + 1) * size]
        out[:len(part), j] = part
    telescope = rng.field(f"quotient telescope {name}", (m, max(k - 1, 0), 4))  # t_1 … t_(K−1)
    for j in range(k - 1):  # over the few chunks, vectorised over coefficients
        out[size:size + m, j] = field.add(out[size:size + m, j], telescope[:, j])   # + x^S·t_(j+1) in q̂_j
        out[:m, j + 1] = field.sub(out[:m, j + 1], telescope[:, j])                 # − t_(j+1) in q̂_(j+1)
    if lay.mask:
        out[:bound, k:] = rng.field(f"deep mask {name}", (bound, lay.mask, 4))
    return np.ascontiguousarray(out.reshape(d_big, 4 * (k + lay.mask)))


def _quotient_cosets(log_n: int, log_d: int, bound: int) -> tuple:
    """(log c, K, log m): the quotient is evaluated on K cosets of K_c, n ≤ c ≤ D, and on a
    small coset of 2^log m points (log m None: none), K·c + m ≥ ``bound`` (the coefficients Q
    may have): c = n — as many points as Q has coefficients, rounded up to n, or, when that
    leaves at most n/SMALL_COSET_FRACTION past K·n (a hiding table's d·(n + m_r) − n + 1),
    to K·n plus the least power of two m ≥ the rest (interpolate_with_small_coset) — unless
    that takes more than QUOTIENT_MAX_COSETS cosets (a small table: a few rows against a D of
    the openings' count, zk.py), then the smallest c that does not."""
    log_c = log_n
    while -(-bound >> log_c) > QUOTIENT_MAX_COSETS and log_c < log_d:
        log_c += 1
    full, rest = bound >> log_c, bound % (1 << log_c)
    if log_c == log_n and full >= 1 and 0 < rest <= (1 << log_n) // SMALL_COSET_FRACTION:
        return log_c, full, (rest - 1).bit_length()
    return log_c, -(-bound >> log_c), None


def _quotient_coefficients(t: _Table, shift: int, lay: QuotientLayout, public, challenges, alpha) -> np.ndarray:
    """Coefficients (K·c ≥ lay.bound, 4) of Q(x) = Σ_i α^i C_i(x) / Z_H(x), from its values on
    K cosets s_r·K_c (_quotient_cosets), one at a time, then domain.interpolate_from_cosets.

    s_r = s·ω_q^r, ω_q of order 2^lay.log_q ≥ K·c, so the s_r^c are distinct. The main, aux and
    preprocessed columns on one coset are one scaling, fold and size-c transform of their
    coefficients (ntt.coset_evaluations), so only one coset's rows of this table are in memory
    (a tall table's in parts: _coset_parts).
    "Next row" is x·ω_n = s_r·ω_c^(i + c/n): the same coset. In hiding mode deg Q ≤
    d·(n + m_r) − n (zk.QuotientLayout): d − 1 cosets of n points and a small coset of m ≥ the
    d·m_r + 1 coefficients past them (_quotient_on_small_coset, interpolate_with_small_coset:
    2n + 512 points for d = 3 at 42 queries, 4n + 512 for d = 5) where ⌈bound/n⌉ cosets took
    3n, 5n, and the LDE's cosets of D = 2n points would take 2^⌈log⌉ of them (4n, 8n). The evaluator reads a block's bit-reversed rows
    in place and in their stored order (block row j is point rev(j): consecutive rows are
    adjacent memory), each row's next row from a map (tape.Inputs.next_row: rev(rev(j) + c/n));
    the selectors go in permuted (the points rev(j)) and Q comes out bit-reversed, as
    interpolate_from_cosets reads it: no gathered or transposed copy."""
    log_c, cosets, log_m = _quotient_cosets(t.log_n, t.lde_log - t.main_lde.log_blowup, lay.bound)
    c = 1 << log_c
    cumsum = t.cumsum if t.cumsum is not None else ext.ZERO
    constraints = t.compiled.all_constraints
    tape = tape_for(t.compiled, [con.expr for con in constraints])
    alpha_pows = ext.ext_powers(alpha, len(constraints))
    prep_coeffs = t.prep_coefficients()  # degree < n ≤ c
    polys = [t.main_lde.coefficients, None if t.aux_lde is None else t.aux_lde.coefficients, prep_coeffs]
    log_parts = _coset_log_parts(t, log_c, polys)
    b = c >> log_parts  # rows of a part
    size = min(QUOTIENT_BLOCK_ROWS, b)  # both powers of two
    shifts = [shift * pow(root_of_unity(lay.log_q), r, P) % P for r in range(cosets)]
    q_vals = np.empty((c, cosets, 4), dtype=np.uint32)  # coset r's in column r, bit-reversed: row j is Q(s_r·ω_c^rev(j))
    # one buffer per column group for every coset (fresh ones cost their page faults each time),
    # as wide as its transform runs (ntt.padded_buffer: transformed in place, no padded scratch
    # copy; only padding columns zeroed); in parts: two halves, a part and its next rows' part
    bufs = [None if m is None else padded_buffer(b if log_parts == 0 else 2 * b, m.shape[1]) for m in polys]
    for r, s_r in enumerate(shifts):
        for k, half, next_row, (main_b, aux_b, prep_b) in _coset_parts(t, polys, log_c, log_parts, s_r, bufs):
            aux_b = None if aux_b is None else aux_b.reshape(aux_b.shape[0], -1, 4)
            # the constraints are evaluated block by block of rows: memory stays ~ one block's selectors
            for lo in range(0, b, size):  # the part's rows lo.. (points rev(k·b + lo..) of the coset)
                at = k * b + lo
                selectors, inv_z = coset_selector_rows(t.log_n, log_c, s_r, at, size)
                inputs = Inputs(main_b, prep_b, aux_b, public, challenges, cumsum, selectors, c // t.n, next_row)
                acc = run(tape, inputs, size, alpha_pows, row0=half * b + lo)  # Σ α^i C_i on the block
                # Q = Σ α^i C_i / Z_H: each row's four coefficients times its 1/Z_H, in place (a
                # C-contiguous block: ntt.scale_rows), then into coset r's column (a strided view)
                scale_rows(acc, inv_z)
                q_vals[at:at + size, r] = acc
    del main_b, aux_b, prep_b, inputs, bufs  # (inputs holds the blocks too)
    _release_heap([t])  # the evaluation's temporaries freed before the interpolation's
    if log_m is None:
        return interpolate_from_cosets(q_vals, shifts)
    small_shift = shift * pow(root_of_unity(lay.log_q), cosets, P) % P  # the next coset's: c^n ≠ s_r^n
    small = _quotient_on_small_coset(t, log_m, small_shift, tape, alpha_pows, public, challenges, cumsum)
    return interpolate_with_small_coset(q_vals, shifts, small, small_shift)


def _coset_log_parts(t: _Table, log_c: int, polys: list) -> int:
    """log2 of the parts the quotient evaluates one coset's rows in: QUOTIENT_LOG_PARTS for a
    coset of n points (c = n: a point's next row is on it, ω_c = ω_n) whose columns' values
    would take more than QUOTIENT_PARTS_FROM_BYTES, else 0 (the whole coset at once)."""
    words = sum(padded_width(m.shape[1]) for m in polys if m is not None) << log_c
    return min(QUOTIENT_LOG_PARTS, log_c) if log_c == t.log_n and 4 * words > QUOTIENT_PARTS_FROM_BYTES else 0


@lru_cache(maxsize=4)
def _next_rows(log_b: int, step: int) -> np.ndarray:
    """rev(rev(j) + step mod b) for the rows j of a bit-reversed coset of b = 2^log_b points:
    the row of x·ω_b^step (the tables of one height share it: kept, not remade per table and
    coset; never written — left writable, as the constraint tape's kernel is compiled for)."""
    b = 1 << log_b
    rev = bit_reverse_indices(b).astype(np.int64)
    return rev[(rev + step) % b]


def _coset_parts(t: _Table, polys: list, log_c: int, log_parts: int, s_r: int, bufs: list):
    """The columns on the coset s_r·K_c part by part: yields (k, half, next_row, the column
    groups' buffers) for its 2^log_parts blocks of b = c/2^log_parts bit-reversed rows.

    Block k holds the points s_r·ω_c^e·K_b, e = rev(k) over log_parts bits (row k·b + p is
    point s_r·ω_c^e·ω_b^rev_b(p): ntt.coset_lde's blocks), the polynomials' values there one
    fold and size-b transform of their coefficients (ntt.coset_evaluations). Whole (one part):
    the buffers' b = c rows, a row's next row rev(rev(p) + c/n). In parts (c = n): the next
    point x·ω_c of part e's row p is part e + 1's row p, or for the last part part 0's row
    rev_b(rev_b(p) + 1) (ω_c^(2^log_parts) = ω_b); so the buffers hold two parts, the one
    evaluated (rows half·b …) and its next (the other half), and the parts go in the order of
    e, each one's next computed as it becomes current's neighbour: 2^log_parts + 1 transforms
    of b rows (part 0 twice), half the memory of the coset's c rows from 4 parts on."""
    b, parts = 1 << (log_c - log_parts), 1 << log_parts
    rev_p = bit_reverse_indices(parts)
    w_c = root_of_unity(log_c)
    rows = t.main_lde.nonzero_rows  # f̂'s n + m_r (hiding), n (transparent: every row)

    def evaluate(e: int, half: int, count: int = 1) -> list:  # parts e … e + count − 1 into the buffers from half
        outs = [None if buf is None else buf[half * b:(half + count) * b] for buf in bufs]
        return coset_values(polys, log_c - log_parts, [s_r * pow(w_c, e + j, P) % P for j in range(count)], outs, rows)

    if parts == 1:
        values = evaluate(0, 0)
        yield 0, 0, _next_rows(log_c, b // t.n), values
        return
    evaluate(0, 0, 2)  # parts 0 and 1 from one read of the coefficients
    for e in range(parts):
        half = e % 2
        if e:
            evaluate((e + 1) % parts, 1 - half)  # the next part, in the other half
        within = np.arange(b, dtype=np.int64) if e + 1 < parts else _next_rows(log_c - log_parts, 1)
        next_row = np.zeros(2 * b, dtype=np.int64)
        next_row[half * b:(half + 1) * b] = (1 - half) * b + within
        yield int(rev_p[e]), half, next_row, bufs


def _quotient_on_small_coset(t: _Table, log_m: int, shift: int, tape, alpha_pows, public, challenges,
                             cumsum) -> np.ndarray:
    """Q's values (m, 4) on the small coset c·K_m (``shift`` c, bit-reversed rows, as
    ntt.coset_evaluations): the columns there are folds of their coefficients mod x^m − 1
    after scaling by c^i, and one size-m transform (ntt.coset_evaluations). A point x's next
    row x·ω_n is not in c·K_m (m < n) but in (c·ω_n)·K_m, at the same row: the columns are
    evaluated there too, below, and row j's next row is m + j. Z_H = x^n − 1 = c^n − 1 at every
    point (x^m = c^m, m | n), ≠ 0 as c^n ≠ 1 (_quotient_cosets' shifts avoid H); the
    first/last-row and transition selectors are their formulas at the points (coset_selector_rows)."""
    m = 1 << log_m
    w_n = root_of_unity(t.log_n)
    polys = [t.main_lde.coefficients, None if t.aux_lde is None else t.aux_lde.coefficients, t.prep_coefficients()]
    rows = t.main_lde.nonzero_rows  # f̂'s n + m_r
    # here, then at x·ω_n: from one read of the coefficients
    main_b, aux_b, prep_b = coset_values(polys, log_m, [shift, shift * w_n % P], [None] * 3, rows)
    assert main_b is not None
    selectors, inv_z = coset_selector_rows(t.log_n, log_m, shift, 0, m)  # (Z_H = c^n − 1 ≠ 0 at every point)
    inputs = Inputs(main_b, prep_b, None if aux_b is None else aux_b.reshape(2 * m, -1, 4), public, challenges, cumsum,
                    selectors, 1, np.arange(m, 2 * m, dtype=np.int64))
    return ext.ext_mul_base(run(tape, inputs, m, alpha_pows), inv_z)  # Q = Σ α^i C_i / Z_H
