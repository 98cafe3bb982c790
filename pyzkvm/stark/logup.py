"""LogUp buses: lookups and permutations as a sum of fractions that must cancel.

A bus entry on row i is (bus, values v_0..v_{m−1}, multiplicity μ, sign ±1). With challenges
α, γ ∈ F_p^4 drawn after every main trace is committed, its *fingerprint* and *term* are

    fp  = bus + Σ_j γ^(j+1)·v_j                       (a random compression of the tuple)
    term = sign·μ / (α − fp)

Sends (+) and receives (−) of the same tuples cancel exactly when the multisets agree
(weighted by μ); a mismatch survives with probability ≤ N·(w + 1)/|F_p^4| for N entries of
tuples up to w wide (Schwartz–Zippel in γ, then in α; Haböck 2022 — config.py's LogUp term,
with the proof of work ground before the challenges and the verifier's N < p limit). Multiplicities are field elements: the AIR must constrain the multiplicities of the
entries it *needs* to be checked (e.g. boolean flags on the looking-up side, so fewer than p
such entries exist); the looked-up side (a table's "how often" column) may be free. So the statement "every lookup hits the table / two tables are permutations" becomes

    Σ over all tables and rows of term  +  Σ of the public entries' terms  =  0.

Per table the framework adds extension-field auxiliary columns. Interactions are grouped
(greedily, in declaration order) so that each group's helper constraint stays within the
degree limit; one helper column per group G holds the group's sum of terms:

    h_G = Σ_{k∈G} sign_k·μ_k/(α − fp_k):
          h_G·Π_{k∈G} d_k − Σ_{k∈G} sign_k·μ_k·Π_{j∈G, j≠k} d_j = 0     (every row; d_k = α − fp_k)
    S    (running sum of the rows before, S_i = Σ_{r<i} Σ_G h_G[r]):
                         S_0 = 0                                          (first row)
                         S_{i+1} = S_i + Σ_G h_G[i]                       (transition)
                         S_{n−1} + Σ_G h_G[n−1] = cumsum                  (last row)

By induction S_i = Σ_{r<i} Σ_G h_G[r], so the last row says cumsum = Σ_r Σ_G h_G[r]: the
table's total.

An interaction that sends a tuple v on the first row and receives one on the last (multiplicity
is_first_row − is_last_row: hiding mode's blinding ring, blind.py) takes no helper column: its
two entries are S's ends (``boundary_interaction``; d = α − fp(v), degree 1 in the columns):

                         S_0·d(v[0]) = 1                                  (first row)
                         (S_{n−1} + Σ_G h_G[n−1] − cumsum)·d(v[n−1]) = 1  (last row)

so S_i = 1/d(v[0]) + Σ_{r<i} Σ_G h_G[r] and cumsum = Σ_r Σ_G h_G[r] + 1/d(v[0]) − 1/d(v[n−1]):
the same two entries, the same total (degree 3; a d = 0 makes either constraint unsatisfiable,
as it does a helper's h·d = μ for μ ≠ 0). Where that would raise the AIR's degree (degree 2,
no other bus) the interaction is grouped like any other. S excludes its own row so that only S is read at the next row: the helpers
are read at this row only, and so are opened at ζ only (openings.py; an S that included its
row, S_{i+1} = S_i + Σ_G h_G[i+1], read every helper at the next row too — ~8 KB of a 2^16
proof's ζω values).

The helper constraint has degree max(1 + Σ deg d_k, deg μ_k + Σ_{j≠k} deg d_j): with degree-1
bus values and limit 3, two interactions share a column.

``cumsum`` (the table's total) is sent in the proof; the verifier checks that the tables'
totals and the public term add up to zero (``BusImbalance`` otherwise).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from ..lazy_njit import njit

from ..errors import ConstraintNotSatisfied, BusImbalance, StarkConfigError
from . import ext
from .air import CompiledAir, Constraint, bus_id
from .blind import BLIND_BUS, BLIND_BUS_ID
from .._jit import inner
from .ext import batch_inverse_into, mul4_vec
from .field import P, f_add_u32, f_mul_u32, f_sub_u32
from . import lincomb_numpy
from .pool import parallel_for
from .rounds import PublicData

_ZERO64 = np.uint64(0)
_P64 = np.uint64(P)


def _group_degree(degrees) -> int:
    """Degree of a group's helper constraint from its (deg d_k, deg μ_k) pairs."""
    total = sum(d for d, _ in degrees)
    return max([1 + total] + [m + total - d for d, m in degrees])


def _greedy_groups(indices, pairs: list, limit: int) -> list:
    """The interactions ``indices`` in helper groups, greedily in order: one joins the group
    before while that group's constraint degree (from ``pairs``, (deg d_k, deg μ_k) per
    interaction) stays within ``limit``; a lone interaction always gets a column."""
    groups: list[list[int]] = []
    for k in indices:
        if groups and _group_degree([pairs[j] for j in groups[-1]] + [pairs[k]]) <= limit:
            groups[-1].append(k)
        else:
            groups.append([k])
    return groups


def boundary_interaction(compiled: CompiledAir) -> int | None:
    """The interaction whose two entries enter the running sum's boundary constraints instead
    of a helper column (module docstring), or None: the last one that sends on the first row and
    receives on the last (multiplicity is_first_row − is_last_row, hiding mode's blinding ring,
    blind.py) with values of degree ≤ 1 (its boundary constraints then have degree 3)."""
    b = compiled.builder
    for k in range(len(compiled.interactions) - 1, -1, -1):
        it = compiled.interactions[k]
        m = it.multiplicity
        if m.op == "sub" and m.args[0] is b.is_first_row and m.args[1] is b.is_last_row \
                and all(v.degree <= 1 for v in it.values):
            return k
    return None


def add_logup_constraints(compiled: CompiledAir, max_degree: int = 3) -> None:
    """Add the helper/running-sum constraints for the AIR's interactions (none if it has none).

    Interactions share a helper column while the group's constraint degree stays within
    min(max_degree, max(the AIR's helper_degree (3 unless it asks for more), its own degree));
    a lone interaction always gets a column.
    The boundary interaction (boundary_interaction) gets none, its entries being S's ends, unless
    that would raise the AIR's degree."""
    inter = compiled.interactions
    if not inter:
        return
    b = compiled.builder
    denoms = [b.denominator(it.bus, it.values) for it in inter]
    signed = [it.multiplicity if it.sign > 0 else -it.multiplicity for it in inter]
    own = max([c.expr.degree for c in compiled.constraints] + [0])
    limit = min(max_degree, max(own, getattr(compiled.air, "helper_degree", 3)))
    pairs = [(d.degree, m.degree) for d, m in zip(denoms, signed)]  # (denominator, multiplicity) degrees
    groups = _greedy_groups(range(len(inter)), pairs, limit)
    ring = boundary_interaction(compiled)
    if ring is not None:
        # its ends have degree 2 + deg d (is_first_row·S·d); fold them only where that does not
        # raise the AIR's degree (an AIR without other buses: a lone helper and S keep degree 2)
        others = _greedy_groups([k for k in range(len(inter)) if k != ring], pairs, limit)
        grouped = max([own, 2] + [_group_degree([pairs[k] for k in g]) for g in groups])
        folded = max([own, 2 + denoms[ring].degree] + [_group_degree([pairs[k] for k in g]) for g in others])
        if folded <= grouped:
            groups = others
        else:
            ring = None
    compiled.interaction_groups = groups
    compiled.num_aux_columns = len(groups) + 1
    out = []
    for g, members in enumerate(groups):
        # h·Π d_k − Σ_k s_k μ_k Π_{j≠k} d_j
        prod_all = denoms[members[0]]
        for k in members[1:]:
            prod_all = prod_all * denoms[k]
        rhs = None
        for k in members:
            term = signed[k]
            for j in members:
                if j != k:
                    term = term * denoms[j]
            rhs = term if rhs is None else rhs + term
        names = ", ".join(sorted({repr(inter[k].bus_name) for k in members}))
        out.append(Constraint(f"logup helper {g} (bus {names})", b.aux(g) * prod_all - rhs))
    s, s_next = b.aux(len(groups)), b.aux(len(groups), 1)  # S: the only aux column read at the next row
    h_sum = None  # Σ_G h_G (none: a table whose only interaction is the boundary one)
    for g in range(len(groups)):
        h_sum = b.aux(g) if h_sum is None else h_sum + b.aux(g)
    # (the nodes in this order: a table without the boundary interaction keeps its DAG, so its digest)
    def step():  # S_{i+1} − S_i − Σ_G h_G[i]
        return s_next - s if h_sum is None else s_next - s - h_sum

    def ends():  # S_{n−1} + Σ_G h_G[n−1] − cumsum
        return (s if h_sum is None else s + h_sum) - b.cumulative_sum()

    if ring is None:
        out.append(Constraint("logup running sum starts at zero", b.is_first_row * s))
        out.append(Constraint("logup running sum accumulates", b.is_transition * step()))
        out.append(Constraint("logup running sum ends at the table's total", b.is_last_row * ends()))
    else:
        # S_0 = ±1/d(v[0]) and cumsum = S_{n−1} + Σ_G h_G[n−1] ∓ 1/d(v[n−1]), times d: degree 3
        d, sign = denoms[ring], b.const(inter[ring].sign)
        name = repr(inter[ring].bus_name)
        out.append(Constraint(f"logup running sum starts at the first row's entry on {name}",
                              b.is_first_row * (s * d - sign)))
        out.append(Constraint("logup running sum accumulates", b.is_transition * step()))
        out.append(Constraint(f"logup running sum ends at the table's total less the last row's entry on {name}",
                              b.is_last_row * (ends() * d - sign)))
    compiled.logup_constraints = out


def interaction_exprs(compiled: CompiledAir) -> list:
    """Each interaction's values then its multiplicity, interaction after interaction."""
    return [e for it in compiled.interactions for e in (*it.values, it.multiplicity)]


def _interaction_value_columns(compiled: CompiledAir, inputs, n: int) -> np.ndarray:
    """(rows, n) uint32: interaction_exprs on every row of the plain trace."""
    from .tape import base_columns, tape_for  # the evaluator builds on air.py, as this module does

    return base_columns(tape_for(compiled, interaction_exprs(compiled)), inputs, n)


def interaction_columns(compiled: CompiledAir, inputs, n: int):
    """Each interaction's values and multiplicity on the plain trace (tape.Inputs): per
    interaction (list of value columns, multiplicity column), uint32 arrays of length n."""
    cols = _interaction_value_columns(compiled, inputs, n)
    out, pos = [], 0
    for it in compiled.interactions:
        m = len(it.values)
        out.append((list(cols[pos:pos + m]), cols[pos + m]))
        pos += m + 1
    return out


def denominator_tape(compiled: CompiledAir):
    """The tape of each interaction's denominator α − fp, then its multiplicity
    (tape.with_denominators, from the tape of interaction_exprs), made once per compiled AIR."""
    from .tape import tape_for, with_denominators  # the evaluator builds on air.py, as this module does

    made = compiled.__dict__.get("_denominator_tape")
    if made is None:
        spans, first = [], 0
        for it in compiled.interactions:
            spans.append((int(it.bus), first, len(it.values)))
            first += len(it.values) + 1
        made = compiled.__dict__["_denominator_tape"] = with_denominators(
            tape_for(compiled, interaction_exprs(compiled)), spans)
    return made


def build_aux_trace(compiled: CompiledAir, inputs, n: int, alpha, gamma):
    """The auxiliary trace (n, G+1, 4): per interaction group the helper column
    h_G = Σ_{k∈G} sign_k·μ_k/(α − fp_k), then the running sum S_i = Σ_{r<i} Σ_G h_G[r]
    (of the rows before: module docstring).

    Returns (aux, cumsum, per_interaction): per_interaction[k] is this table's Σ of interaction
    k's terms ((K, 4); bus_totals sums them by bus).
    Two passes over chunks of CHUNK_ROWS rows, each pass's chunks side by side on the thread
    pool (pool.parallel_for):

    1. per chunk, the constraint tape evaluates each interaction's denominator d_k = α − fp_k
       (its DENOM node: the fingerprint's products summed with delayed reduction) and
       multiplicity μ_k into a buffer of the chunk's values (tape.run; one buffer per chunk in
       flight: never every row's, hundreds of MB in a tall table), then _aux_columns inverts
       the d_k (one batch inversion per interaction) and adds the terms into the helper
       columns and into the chunk's totals per interaction;
    2. S as a parallel prefix sum: chunk c's S starts at the Σ of every helper term of the
       chunks before it (their totals, a short serial sum), and _running_sums fills each
       chunk's S from its start.

    The boundary interaction (in no group: boundary_interaction) adds no helper: S_0 is its
    first row's term (every chunk's start includes it) and the total adds its last row's.

    A sparse lookup table (entry_rows: the byte table's rows with a nonzero count, 16 % of
    them at 2^14 cycles) evaluates only its rows with entries, gathered chunk by chunk, in
    chunks of as many rows as hold about CHUNK_ROWS entries; its other rows' helpers are zero.
    In another table of a chunk or more, the interactions with entries on few rows (split_rare:
    the CPU's loads, stores, links, syscalls) get their denominators only on the rows that hold
    them (rare_terms), the others on every row."""
    from .tape import root_lanes, run  # the evaluator builds on air.py, as this module does

    groups = compiled.interaction_groups
    its = compiled.interactions
    group_of = {k: g for g, members in enumerate(groups) for k in members}  # the boundary interaction: none
    ring = next((k for k in range(len(its)) if k not in group_of), None)
    negate = np.array([it.sign < 0 for it in its], dtype=np.bool_)
    group_index = np.array([group_of.get(k, -1) for k in range(len(its))], dtype=np.int64)
    if not its:
        return np.zeros((n, len(groups) + 1, 4), dtype=np.uint32), ext.ZERO.copy(), {}
    tape = denominator_tape(compiled)
    challenges = np.stack([np.asarray(alpha, dtype=np.uint32), np.asarray(gamma, dtype=np.uint32)])
    inputs = replace(inputs, challenges=challenges)
    live = entry_rows(tape, inputs.main, n, ring)  # a lookup table's rows with entries, or None: every row
    # Its pages are faulted in by a write of zeros, once each (_aux_columns reads a helper before
    # adding to it: an untouched page faulted twice, the shared zero page on the read, then a copy;
    # on one thread a fresh 2^20 × 36-word array took 62 → 47 ms: bench/results/stark_prove.md,
    # session 22). A dense table's chunks zero their own rows, on the thread that runs them (its
    # faults and memset were a serial step before the chunks); a sparse one's rows without entries
    # are never written: zeroed here.
    aux = np.empty((n, len(groups) + 1, 4), dtype=np.uint32)
    if live is not None:
        aux.fill(0)
    # rows per chunk: CHUNK_ROWS, or in a sparse table as many as hold about CHUNK_ROWS entries
    rows = min(n, CHUNK_ROWS if live is None else CHUNK_ROWS << int(np.log2(n / max(len(live), 1))))
    chunks = -(-n // rows)
    totals = np.zeros((chunks, len(its), 4), dtype=np.uint32)  # per chunk, Σ of each interaction's terms
    bad = np.full(chunks, -1, dtype=np.int64)  # per chunk, an interaction with a zero denominator (or −1)
    ends = np.zeros((2, 4), dtype=np.uint32)  # the boundary interaction's d = α − fp(v) at rows 0 and n − 1
    # a table whose rarely used interactions (split_rare) get their denominators only on their rows
    common, rare = (tuple(range(len(its))), ()) if live is not None or rows < CHUNK_ROWS else \
        split_rare(compiled, inputs, rows, ring)  # (not in a table of less than one chunk: not worth its runs)
    dense = tape if not rare else subset_tape(compiled, common)  # every row's (or entry row's) tape
    dense_at = np.array(common, dtype=np.int64)
    rare_at = np.array(rare, dtype=np.int64)
    shape = (len(dense.roots), root_lanes(dense), rows)
    free: list = []  # value buffers not in use: one is made per chunk in flight (a fresh one each time
    # would cost its page faults; a base root's lanes 1–3, which run leaves alone, stay zero)
    edges = None if live is None else np.searchsorted(live, np.arange(chunks + 1) * rows)  # each chunk's in live

    def chunk_rows(c):  # chunk c's leaves, how many rows, the first row's number, where its helpers go
        lo, hi = c * rows, min(n, (c + 1) * rows)
        if live is None:
            return replace(inputs, selectors=inputs.selectors[lo:hi]), hi - lo, lo, slice(lo, hi)
        at = live[edges[c]:edges[c + 1]]  # its rows with entries, gathered (the tape reads no next row)
        gathered = replace(inputs, main=inputs.main[at], prep=None if inputs.prep is None else inputs.prep[at],
                           selectors=inputs.selectors[at])
        return gathered, len(at), 0, at

    def chunk_terms(c0, c1):  # pass 1 on chunks c0..c1−1 (a pool chunk: its kernels release the GIL)
        buffer = free.pop() if free else None
        for c in range(c0, c1):
            part, m, row0, at = chunk_rows(c)
            if m == 0:  # no entry: its totals stay zero
                continue
            if m < rows:  # a short last chunk, or a sparse one
                out = np.zeros((*shape[:2], m), dtype=np.uint32)
            else:
                out = buffer = np.zeros(shape, dtype=np.uint32) if buffer is None else buffer
            values = run(dense, part, m, row0=row0, out=out)
            if ring is not None and c == 0:  # (rows 0 and n − 1 are kept in a sparse table: entry_rows;
                ends[0] = values[common.index(ring), :, 0]  # the ring is never a rare interaction)
            if ring is not None and c == chunks - 1:
                ends[1] = values[common.index(ring), :, m - 1]
            if live is None:  # a view of its rows, zeroed here: their first touch (above)
                helpers = aux[at]
                helpers.fill(0)
            else:
                helpers = np.zeros((m, *aux.shape[1:]), dtype=np.uint32)
            sums = np.zeros((len(common), 4), dtype=np.uint32)
            bad[c] = _aux_columns(values, negate[dense_at], group_index[dense_at], helpers, sums)
            totals[c, dense_at] = sums
            if live is not None:
                aux[at] = helpers
            if rare:
                bad[c] = max(bad[c], rare_terms(compiled, rare, part, m, row0, negate[rare_at], group_index[rare_at],
                                                aux, totals[c], rare_at))
        if buffer is not None:
            free.append(buffer)

    parallel_for(chunk_terms, chunks, work_per_item=rows * (len(dense.op) + AUX_WORDS_PER_TERM * len(its)))
    if (bad >= 0).any():
        raise ConstraintNotSatisfied(f"table {compiled.air.name!r}: a bus fingerprint equals the challenge α "
                                     "(probability ~2^-100); prove again with different data")
    first, last = _boundary_terms(compiled, ring, n, ends) if ring is not None else (ext.ZERO, ext.ZERO)
    # S at each chunk's first row: the boundary entry plus Σ of every helper term before the chunk
    helper_sums = totals[:, group_index >= 0].astype(np.uint64).sum(axis=1) % P  # (chunks, 4)
    through = (np.cumsum(helper_sums, axis=0) + first) % P  # S + Σ_G h_G at each chunk's last row
    starts = np.concatenate([first.reshape(1, 4), through[:-1]]).astype(np.uint32)
    parallel_for(_running_sums, chunks, aux, starts, rows, work_per_item=rows * 4 * aux.shape[1])
    cumsum = through[-1].astype(np.uint32)  # S_{n−1} + Σ_G h_G[n−1]: every row's terms
    per_interaction = (totals.astype(np.uint64).sum(axis=0) % P).astype(np.uint32)
    if ring is not None:  # the boundary entries: +(±1/d(v[0])) in S_0, −(±1/d(v[n−1])) here
        per_interaction[ring] = ext.ext_sub(first, last)
        cumsum = ext.ext_sub(cumsum, last)
    return aux, cumsum, per_interaction


#: an interaction is rare when fewer than 1/RARE of the first chunk's rows hold its entries
RARE = 8


def split_rare(compiled: CompiledAir, inputs, rows: int, ring: int | None) -> tuple:
    """(common, rare) interactions of a table: rare are those with entries on fewer than 1/RARE
    of its first chunk's rows (the CPU table's loads, stores, jumps' links, syscalls: 14 of its
    28 interactions on ~1 % of the rows), whose denominators rare_terms evaluates only on the
    rows that hold their entries; common the others, the boundary interaction and any whose
    values read the next row (the gathered rows stand alone)."""
    from .tape import run

    count = len(compiled.interactions)
    mults = subset_tape(compiled, tuple(range(count)), denominators=False)
    used = np.count_nonzero(run(mults, replace(inputs, selectors=inputs.selectors[:rows]), rows)[:, 0], axis=1)
    rare = tuple(k for k in range(count) if k != ring and RARE * used[k] < rows
                 and not reads_next_row(subset_tape(compiled, (k,))))
    for denominators in (True, False):  # their tapes made here, before the pool's threads read them
        subset_tape(compiled, rare, denominators)
    return tuple(k for k in range(count) if k not in rare), rare


def rare_terms(compiled, rare: tuple, part, m: int, row0: int, negate, group, aux, totals, rare_at) -> int:
    """The rare interactions' terms on one chunk (``part``, its m rows from row0): their
    multiplicities on every row, then their denominators and terms on the rows that hold an
    entry of one of them, gathered, added into aux's helper columns there and their totals into
    ``totals`` (at ``rare_at``). Returns _aux_columns' zero-denominator flag."""
    from .tape import run

    mults = run(subset_tape(compiled, rare, denominators=False), part, m, row0=row0)
    hit = np.flatnonzero(mults[:, 0].any(axis=0))
    if not hit.size:
        totals[rare_at] = 0
        return -1
    at = row0 + hit  # (the rare tape reads no next row: its rows can be gathered)
    gathered = replace(part, main=part.main[at], prep=None if part.prep is None else part.prep[at],
                       selectors=part.selectors[hit])
    helpers = np.zeros((len(hit), *aux.shape[1:]), dtype=np.uint32)
    sums = np.zeros((len(rare), 4), dtype=np.uint32)
    bad = _aux_columns(run(subset_tape(compiled, rare), gathered, len(hit)), negate, group, helpers, sums)
    totals[rare_at] = sums
    aux[at] = (aux[at].astype(np.uint64) + helpers) % P  # their helpers, added to the common ones'
    return bad


def subset_tape(compiled: CompiledAir, members: tuple, denominators: bool = True):
    """denominator_tape for the interactions ``members`` only: their denominators, then their
    multiplicities (or the multiplicities alone), with only the nodes these read (made once
    per compiled AIR and subset)."""
    from .tape import prune

    cache = compiled.__dict__.setdefault("_subset_tapes", {})
    key = (members, denominators)
    if key not in cache:
        full, count = denominator_tape(compiled), len(compiled.interactions)
        roots = ([int(full.roots[k]) for k in members] if denominators else []) + \
            [int(full.roots[count + k]) for k in members]
        cache[key] = prune(full, roots)
    return cache[key]


def reads_next_row(tape) -> bool:
    """Whether the tape reads a main or preprocessed column at the next row."""
    from .tape import L_MAIN_B, L_PREP_B

    return bool((((tape.op == L_MAIN_B) | (tape.op == L_PREP_B)) & (tape.b != 0)).any())


def bus_totals(compiled: CompiledAir, per_interaction: np.ndarray) -> dict:
    """Bus name → Σ of the table's terms on it, from build_aux_trace's per-interaction totals
    (the debug check's; the prover needs only the table's total)."""
    per_bus: dict[str, np.ndarray] = {}
    for it, total in zip(compiled.interactions, per_interaction):
        per_bus[it.bus_name] = ext.ext_add(per_bus.get(it.bus_name, ext.ZERO), total)
    return per_bus


def entry_rows(tape, main: np.ndarray, n: int, ring: int | None) -> np.ndarray | None:
    """The rows of a lookup table that hold bus entries, or None (every row, as far as it is
    known): where every interaction's multiplicity (``tape``: denominator_tape's, whose roots
    are the K denominators, then the K multiplicities) is a main column of its own row — the
    "how often" columns of a fixed table — and the tape reads no next row, a row whose
    multiplicity columns are all zero adds no term, and the others can be evaluated gathered
    (the byte table's 2^16 rows hold ~10^4 entries at 2^14 cycles). Rows 0 and n − 1, the
    boundary interaction's (``ring``), are kept. None when more than half the rows hold entries
    (the gather would cost more than it saves)."""
    from .tape import L_MAIN_B

    count = len(tape.roots) // 2
    mults = [int(r) for k, r in enumerate(tape.roots[count:].tolist()) if k != ring]
    if not mults or any(tape.op[r] != L_MAIN_B or tape.b[r] != 0 for r in mults) or reads_next_row(tape):
        return None
    holds = np.any(main[:, [int(tape.a[r]) for r in mults]], axis=1).astype(np.bool_, copy=False)  # (an array)
    if ring is not None:
        holds[0] = holds[n - 1] = True
    live = np.flatnonzero(holds)
    return live if 2 * len(live) <= n else None


def _boundary_terms(compiled: CompiledAir, k: int, n: int, ends: np.ndarray) -> tuple:
    """±1/d for interaction k's denominators d = α − fp(v) on rows 0 and n − 1 (``ends``, (2, 4)):
    both inverted at once."""
    it = compiled.interactions[k]
    for row, d in ((0, ends[0]), (n - 1, ends[1])):
        if not np.any(d):
            raise ConstraintNotSatisfied(f"table {compiled.air.name!r}: the bus {it.bus_name!r} fingerprint of row "
                                         f"{row} equals the challenge α (probability ~2^-100); prove again")
    inv = ext.ext_inv(ends)
    terms = inv if it.sign > 0 else ext.ext_sub(ext.ZERO, inv)
    return terms[0], terms[1]


#: rows per chunk of the LogUp trace: each chunk in flight holds its (roots, 4, rows) values
#: (the CPU table's 58 roots: 3.8 MB), one chunk per thread
CHUNK_ROWS = 1 << 12
#: words of work per interaction and row of _aux_columns (its F_p^4 term), which with the
#: tape's length decides how the chunks are shared among threads (pool.chunk_bounds)
AUX_WORDS_PER_TERM = 16


#: independent product chains of the LogUp batch inversion (_invert_chains): one chain's
#: F_p^4 products wait on each other; side by side, a loop over the chains vectorises
CHAINS = 64


@njit(cache=True, nogil=True)
def _aux_columns(values, negate, group, aux, totals):
    """The helper columns of one chunk of rows (values' and aux's rows: the running sum is
    _running_sums'). For each interaction k (denominator d = α − fp in values[k] (4 lanes),
    multiplicity μ in values[K + k] lane 0, K interactions): d^(−1) on the rows with μ ≠ 0 by
    one batch inversion (_invert_chains), term = ±μ·d^(−1) added into its group's helper
    column, and its Σ in totals[k]. Returns the first interaction with a zero denominator (on
    a row with μ ≠ 0), or −1.

    The inversion's arrays are lane-major, (steps, 4, CHAINS): coefficient j of CHAINS rows
    side by side, so each loop over them vectorises."""
    n = aux.shape[0]
    count = negate.shape[0]
    steps = -(-n // CHAINS)  # the rows with μ ≠ 0 (row r: [r // CHAINS, :, r % CHAINS]), padded with ones
    sel = np.empty((steps, 4, CHAINS), dtype=np.uint32)
    inv = np.empty((steps, 4, CHAINS), dtype=np.uint32)
    mu = np.empty(steps * CHAINS, dtype=np.uint32)
    at = np.empty(n, dtype=np.int64)
    for k in range(count):
        if group[k] < 0:  # the boundary interaction: S's boundaries (build_aux_trace), no helper
            continue
        den = values[k]
        # only the rows with μ ≠ 0: the others' term μ/d is 0 (and the constraint h·d = μ holds
        # with h = 0 even where d = 0); they are 3/5 of the rows in a typical run
        mu_col = values[count + k, 0]
        m = 0
        for i in range(n):  # branch-free: a row with μ = 0 is written, then overwritten
            at[m] = i
            m += mu_col[i] != 0
        if m == 0:
            for j in range(4):
                totals[k, j] = 0
            continue
        used = -(-m // CHAINS)
        for r in range(m):
            i = at[r]
            if den[0, i] == 0 and den[1, i] == 0 and den[2, i] == 0 and den[3, i] == 0:
                return k
            for j in range(4):
                sel[r // CHAINS, j, r % CHAINS] = den[j, i]
            mu[r] = f_sub_u32(np.uint32(0), mu_col[i]) if negate[k] else mu_col[i]
        for r in range(m, used * CHAINS):  # padding: d = 1, μ = 0
            sel[r // CHAINS, 0, r % CHAINS], mu[r] = 1, 0
            for j in range(1, 4):
                sel[r // CHAINS, j, r % CHAINS] = 0
        _invert_chains(sel[:used], inv[:used])
        g = group[k]
        for j in range(4):  # term_j = μ·(d^(−1))_j, its total < n·p: no overflow below 2^32 rows
            s = _ZERO64
            for b in range(used):
                inv_j = inv[b, j]
                for l in range(CHAINS):
                    t = f_mul_u32(inv_j[l], mu[b * CHAINS + l])
                    inv_j[l] = t
                    s += np.uint64(t)
            totals[k, j] = s % _P64
        for r in range(m):
            i = at[r]
            for j in range(4):
                aux[i, g, j] = f_add_u32(aux[i, g, j], inv[r // CHAINS, j, r % CHAINS])
    return -1


@njit(cache=True, nogil=True)
def _running_sums(aux, starts, rows, c0, c1):
    """The running sum, the last aux column, on the chunks c0 … c1 − 1 of ``rows`` rows each:
    S_i = starts[c] + Σ of the helpers on chunk c's rows before i (S_i is written, then row
    i's helpers added). A chunk of pool.parallel_for: the chunks' starts are known first."""
    n, last = aux.shape[0], aux.shape[1] - 1
    for c in range(c0, c1):
        s0, s1, s2, s3 = starts[c, 0], starts[c, 1], starts[c, 2], starts[c, 3]
        for i in range(c * rows, min(n, (c + 1) * rows)):
            aux[i, last, 0], aux[i, last, 1], aux[i, last, 2], aux[i, last, 3] = s0, s1, s2, s3
            for g in range(last):
                s0, s1 = f_add_u32(s0, aux[i, g, 0]), f_add_u32(s1, aux[i, g, 1])
                s2, s3 = f_add_u32(s2, aux[i, g, 2]), f_add_u32(s3, aux[i, g, 3])


@inner
def _invert_chains(x, out):
    """out = x^(−1) in F_p^4, elementwise, for x of shape (steps, 4, CHAINS) (no element zero):
    Montgomery's batch trick on CHAINS interleaved chains (chain l: x[:, :, l]). With pre[s]
    the product of the chain's elements before step s and suf[s] the inverse of the product
    of those up to s, x[s]^(−1) = pre[s]·suf[s]: pre forward, the chains' totals inverted (one
    batch inversion of CHAINS), suf backward, then one product per step. Each is a product
    of two (4, CHAINS) slabs (_product_rows), a loop LLVM vectorises, where a single chain
    waits a whole F_p^4 product per element."""
    steps = x.shape[0]
    pre = np.empty_like(x)
    suf = np.empty_like(x)  # neither is out: an in-place product would not vectorise (LLVM's overlap check)
    for l in range(CHAINS):
        pre[0, 0, l], pre[0, 1, l], pre[0, 2, l], pre[0, 3, l] = 1, 0, 0, 0
    for s in range(1, steps):
        _product_rows(pre[s], pre[s - 1], x[s - 1])
    _product_rows(suf[steps - 1], pre[steps - 1], x[steps - 1])  # each chain's product
    totals = np.empty((CHAINS, 4), dtype=np.uint32)
    inv_totals = np.empty((CHAINS, 4), dtype=np.uint32)
    for j in range(4):
        for l in range(CHAINS):
            totals[l, j] = suf[steps - 1, j, l]
    batch_inverse_into(totals, inv_totals)
    for j in range(4):
        for l in range(CHAINS):
            suf[steps - 1, j, l] = inv_totals[l, j]
    for s in range(steps - 1, 0, -1):
        _product_rows(suf[s - 1], suf[s], x[s])
    for s in range(steps):
        _product_rows(out[s], pre[s], suf[s])


@inner
def _product_rows(d, a, b):
    # d[:, i] = a[:, i]·b[:, i] in F_p^4 on (4, k) arrays
    for i in range(d.shape[1]):
        d[0, i], d[1, i], d[2, i], d[3, i] = mul4_vec(a[0, i], a[1, i], a[2, i], a[3, i], b[0, i], b[1, i], b[2, i],
                                                      b[3, i])


def column_total(col: np.ndarray) -> np.ndarray:
    """Σ_i col[i] ∈ F_p^4 for an (n, 4) column."""
    return (col.astype(np.uint64).sum(axis=0) % P).astype(np.uint32)


#: rows of public entries evaluated at once by public_term (and reduced at once by
#: PublicColumns.rows): its temporaries stay a few hundred KB however long a journal a claim
#: carries, and each block stays on numpy's paths (field.NUMPY_MAX: no kernel on a verifier)
PUBLIC_BLOCK_ROWS = 1024


def _reduced(column: np.ndarray) -> np.ndarray:
    """A column of integers mod p (any integer dtype, or Python ints as objects), as numbers < p."""
    if column.dtype == object:
        return np.asarray(column % P, dtype=np.int64)
    if column.dtype.kind in "bu" and column.dtype.itemsize <= 2:  # below p already (bytes, u16, bools)
        return column
    return column % P  # (numpy's remainder takes the sign of the modulus: never negative)


class PublicColumns:
    """A group's value matrix (N, m) of public entries, kept as the columns its AIR gave (each
    of length N, or 1 for a value shared by every row) and reduced mod p a block of rows at a
    time (``rows``): a journal of n bytes is the AIR's positions and bytes, not an (n, 2)
    matrix — before, public_entries built int64 copies, their remainders, an int64 stack and
    the uint32 matrix, ~56 bytes per journal byte, before any check of the proof could fail (a
    red-team review: a 256 MiB receipt of padded journal took ~15 GB to refuse)."""

    dtype = np.dtype(np.uint32)

    def __init__(self, columns: list, n: int):
        self.columns = columns
        self.shape = (n, len(columns))

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo..hi − 1 as a (hi − lo, m) uint32 matrix of canonical field elements."""
        out = np.empty((hi - lo, self.shape[1]), dtype=np.uint32)
        for j, c in enumerate(self.columns):
            out[:, j] = _reduced(c[lo:hi] if c.shape[0] > 1 else c)
        return out

    def tolist(self) -> list:
        return self.rows(0, self.shape[0]).tolist()


def _rows_of(matrix, lo: int, hi: int) -> np.ndarray:
    return matrix.rows(lo, hi) if isinstance(matrix, PublicColumns) else matrix[lo:hi]


def public_entries(airs, public_values, public_data: PublicData = b"") -> list:
    """Every AIR's public_interactions(public_values, public_data), as (bus, bus name, value
    matrix (N, m) uint32 — an ndarray, or a PublicColumns for an entry given as columns —,
    signed multiplicities uint32 of length N, or 1 when every row has the same): one row per
    bus entry."""
    pv = [int(v) for v in public_values]
    out: list[tuple] = []
    for air in airs:
        for bus, values, mult, sign in air.public_interactions(pv, bytes(public_data)):
            if bus_id(bus) == BLIND_BUS_ID:  # hiding mode's ring: the prover's secret values alone close it
                raise StarkConfigError(f"table {air.name!r} has public entries on bus {BLIND_BUS!r}, the blinding "
                                       "ring's (stark/blind.py): an AIR cannot; rename its bus")
            if isinstance(mult, int) and all(isinstance(v, int) for v in values):  # one entry (most are)
                m1 = mult % P
                out.append((bus_id(bus), str(bus), np.array([[v % P for v in values]], dtype=np.uint32).reshape(1, -1),
                            np.array([m1 if sign > 0 else (P - m1) % P], dtype=np.uint32)))
                continue
            cols = [np.atleast_1d(np.asarray(v, dtype=object if isinstance(v, int) else None)) for v in values]
            m = np.atleast_1d(np.asarray(mult, dtype=object if isinstance(mult, int) else None))
            n = max([len(c) for c in cols] + [len(m)])
            if n == 0:
                continue
            if any(len(c) not in (1, n) for c in cols + [m]):
                raise StarkConfigError(f"table {air.name!r}: a public entry on bus {bus!r} has columns of "
                                       f"different lengths ({sorted({len(c) for c in cols + [m]})})")
            m = np.asarray(_reduced(m), dtype=np.int64)
            signed = (m if sign > 0 else (P - m) % P).astype(np.uint32)  # (length 1: the same for every row)
            out.append((bus_id(bus), str(bus), PublicColumns(cols, n), signed))
    return out


def public_term(airs, public_values, alpha, gamma, per_bus: dict | None = None, public_data: PublicData = b"",
                entries: list | None = None) -> np.ndarray:
    """Σ over every AIR's public_interactions(public_values, public_data) of sign·μ/(α − fp) ∈ F_p^4.

    The verifier computes this itself; the buses balance when Σ_tables cumsum + this = 0.
    ``entries``: public_entries(airs, public_values, public_data) when the caller has them.
    The entries are evaluated in blocks of PUBLIC_BLOCK_ROWS rows, each one batch inversion
    (small groups share a block); a narrower group's missing values are zeros, which add
    nothing to its fingerprint Σ_j γ^(j+1)·v_j. Memory stays a block's, however many entries.
    If per_bus is given, each group's term is also added to per_bus[bus name] (debug messages)."""
    groups = public_entries(airs, public_values, public_data) if entries is None else entries
    if not groups:
        return ext.ZERO.copy()
    width = max(matrix.shape[1] for _b, _n, matrix, _s in groups)
    powers = ext.ext_powers(gamma, width + 1)[1:]
    total = ext.ZERO.copy()
    pending: list = []  # (group index, lo, hi) of the rows in the block being filled
    filled = 0

    def evaluate() -> None:
        nonlocal total, filled
        matrix = np.zeros((filled, width), dtype=np.uint32)
        buses = np.zeros((filled, 4), dtype=np.uint32)  # the bus id of each entry's row, in F_p^4
        signed = np.empty(filled, dtype=np.uint32)
        at = 0
        for g, lo, hi in pending:
            bus, _name, m, s = groups[g]
            matrix[at:at + hi - lo, :m.shape[1]] = _rows_of(m, lo, hi)
            buses[at:at + hi - lo, 0] = bus
            signed[at:at + hi - lo] = s[lo:hi] if s.shape[0] > 1 else s
            at += hi - lo
        fingerprints = lincomb_numpy.combine_columns(matrix, powers)  # Σ_j γ^(j+1)·v_j
        denominators = ext.ext_sub(ext.ext_sub(alpha, buses), fingerprints)  # α − bus − fingerprint
        terms = ext.ext_mul_base(ext.ext_batch_inverse(denominators), signed)
        total = ext.ext_add(total, column_total(terms))
        if per_bus is not None:
            at = 0
            for g, lo, hi in pending:
                name = groups[g][1]
                per_bus[name] = ext.ext_add(per_bus.get(name, ext.ZERO), column_total(terms[at:at + hi - lo]))
                at += hi - lo
        pending.clear()
        filled = 0

    for g, (_bus, _name, m, _s) in enumerate(groups):
        lo = 0
        while lo < m.shape[0]:
            hi = min(m.shape[0], lo + PUBLIC_BLOCK_ROWS - filled)
            pending.append((g, lo, hi))
            filled += hi - lo
            lo = hi
            if filled == PUBLIC_BLOCK_ROWS:
                evaluate()
    if filled:
        evaluate()
    return total


def check_bus_balance(cumsums, term, raise_as=BusImbalance, per_bus=None) -> None:
    """Σ_tables cumsum + public term must be 0 ∈ F_p^4."""
    total = term
    for c in cumsums:
        total = ext.ext_add(total, c)
    if np.any(total):
        detail = ""
        if per_bus:
            bad = [repr(b) for b, s in per_bus.items() if np.any(s)]
            detail = f" (unbalanced bus(es): {', '.join(bad)})" if bad else ""
        raise raise_as(f"LogUp buses do not balance: Σ of the tables' running sums + public term ≠ 0{detail}")
