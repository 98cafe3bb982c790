"""The multi-table STARK prover: commit, challenge, quotient, open, FRI.

The protocol as a sequence of transcript pushes (observe) and pulls (sample):

 1. observe the verifying-key digest, the public values and every table's log-height
 2. **commit to trace data**: LDE each main trace on its coset, commit all of them in one
    mixed-matrix Merkle tree (mmcs.py), observe the root
 3. grind bus_pow_bits, sample the bus challenges α_bus, γ_bus (after *every* main trace is
    committed; the proof of work makes each try at a bad pair cost 2^bus_pow_bits hashes)
 4. build each table's LogUp auxiliary trace, commit them (one tree), observe the root and
    each table's total
 5. sample α (the constraint combiner)
 6. **commit to quotient chunks**: on the quotient domain evaluate Σ α^i C_i(x), divide by
    Z_H(x) = x^n − 1, split Q(x) = Σ_k x^(k·n)·Q_k(x) into chunks of degree < n, commit them
 7. sample ζ ∈ F_p^4; **open**: send every column at ζ (and ζ·ω), observe them
 8. sample one independent DEEP coefficient per opened column (not powers of one γ: see
    config.py, batching); form each table's DEEP codeword and sum those of equal height
 9. **FRI commit** over all heights (fri.py), grind, sample the query positions
10. **FRI queries**: open every phase's tree (all tables at once) and every FRI layer there

The optional ``progress(step, fraction)`` callback hears the step names above in bold
(plus "DEEP composition"); `fraction` is the share of that step done so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from ..errors import ConstraintNotSatisfied, PowError, PublicValueMismatch, StarkConfigError
from . import ext, field
from .air import ColumnSource, Leaves, check_constraints, evaluate_constraints
from .deep import claimed_sum, deep_layout, evaluate_trace_at
from .domain import coset_points, coset_selectors, coset_shift, plain_selectors
from .field import P, root_of_unity
from .fri import FriProof, FriProver, grind_and_draw_queries
from .keys import ProvingKey, check_trace, lde_shift
from .lincomb import accumulate, combine_columns, weighted_column_sums
from .logup import build_aux_trace, check_bus_balance, public_term
from .mmcs import MixedMatrixTree
from .ntt import bit_reverse_indices, bit_reverse_rows, coset_lde, intt, ntt
from .proof import Proof, TableProof
from .transcript import Transcript

DOMAIN = b"pyzkvm-stark-v1"


def check_public_values(vk, public_values) -> np.ndarray:
    """Public values as canonical uint32 (count must match the verifying key)."""
    try:
        vals = [int(v) for v in public_values]
    except (TypeError, ValueError):
        raise PublicValueMismatch("public values must be a sequence of integers") from None
    if len(vals) != vk.num_public_values:
        raise PublicValueMismatch(f"expected {vk.num_public_values} public values, got {len(vals)}")
    if any(not 0 <= v < P for v in vals):
        raise PublicValueMismatch("public values must be field elements in [0, p)")
    return np.array(vals, dtype=np.uint32)


def observe_statement(transcript, vk, public_values, log_heights, public_data: bytes = b"") -> None:
    """Step 1: bind the transcript to the key, the public values, the public data (e.g. the
    journal: observed before any challenge, so the bus challenges depend on it) and the table heights."""
    transcript.observe_digest("verifying key", vk.digest)
    transcript.observe_field("public values", np.asarray(public_values, dtype=np.uint32))
    transcript.observe("public data", bytes(public_data))
    transcript.observe_field("table log heights", np.asarray(log_heights, dtype=np.uint32))


class BusChallenges(NamedTuple):
    """The LogUp challenges (α_bus, γ_bus) ∈ F_p^4 and the proof-of-work nonce ground on the
    transcript right before they were drawn."""

    alpha: np.ndarray
    gamma: np.ndarray
    pow_nonce: int


def draw_bus_challenges(transcript, bus_pow_bits: int, bus_challenges: BusChallenges | None = None,
                        pow_nonce: int | None = None) -> BusChallenges:
    """Step 3, after the main root(s): grind ``bus_pow_bits`` (prover; the verifier passes the
    proof's ``pow_nonce`` and gets PowError if it misses the target), then sample α_bus, γ_bus.
    For one proof of a joint statement the challenges are given (joint.py drew them, with their
    nonce, after every proof's main root) and only observed."""
    if bus_challenges is None:
        if pow_nonce is None:
            pow_nonce = transcript.grind(bus_pow_bits)
        elif not transcript.check_grinding(pow_nonce, bus_pow_bits):
            raise PowError(f"bus proof-of-work nonce {pow_nonce} does not have {bus_pow_bits} leading zero bits")
        return BusChallenges(transcript.sample_ext("logup alpha"), transcript.sample_ext("logup gamma"), int(pow_nonce))
    if not isinstance(bus_challenges, BusChallenges):
        raise StarkConfigError("bus_challenges must be the BusChallenges that joint.joint_bus_challenges returns")
    alpha, gamma = (np.asarray(c, dtype=np.uint32).reshape(4) for c in bus_challenges[:2])
    transcript.observe_ext("joint logup alpha", alpha)
    transcript.observe_ext("joint logup gamma", gamma)
    return BusChallenges(alpha, gamma, int(bus_challenges.pow_nonce))


def _lde_from_coefficients(coeffs: np.ndarray, log_n: int, log_blowup: int, shift: int) -> np.ndarray:
    """Evaluations of Σ c_i x^i on shift·K (size n·2^log_blowup), bit-reversed rows."""
    n = coeffs.shape[0]
    big = np.zeros((n << log_blowup, coeffs.shape[1]), dtype=np.uint32)
    big[:n] = field.mul(coeffs, field.powers(shift, n)[:, None])  # f(shift·y) = Σ c_i shift^i y^i
    return bit_reverse_rows(ntt(big))


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

    def plain_leaves(self, public, challenges=None, cumsum=None) -> Leaves:
        """Leaves on the trace domain itself (debug check, aux trace): next row = row + 1."""
        aux = None if self.aux_trace is None else self.aux_trace.reshape(self.n, -1, 4)
        return Leaves(_cur_next(self.trace, 1), _cur_next(self.prep_trace, 1), _cur_next(aux, 1),
                      public, challenges, cumsum, plain_selectors(self.n))


#: rows of the quotient domain evaluated at once (bounds the constraint evaluation's memory)
QUOTIENT_BLOCK_ROWS = 1 << 18


def _cur_next(matrix, step):
    """(current, next) column sources of a row-major matrix; next = `step` rows later, cyclically."""
    src = ColumnSource.from_rows(matrix)
    return (None, None) if src is None else (src, src.next_rows(step))


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


def debug_check(pk: ProvingKey, traces: Sequence, public_values: Sequence[int] = (), seed: int | None = None,
                public_data: bytes = b"") -> None:
    """The prover's debug check on its own, without proving: every constraint on every row
    (ConstraintNotSatisfied names the table, the constraint and the first failing row), then
    the bus balance with random challenges (naming the unbalanced buses)."""
    vk = pk.verifying_key
    public = check_public_values(vk, public_values)
    tables = _load_tables(pk, traces)
    for t in tables:
        check_constraints(t.compiled, t.plain_leaves(public), "main")
    rng = np.random.default_rng(seed)
    alpha, gamma = (rng.integers(0, P, 4).astype(np.uint32) for _ in range(2))
    per_bus_total, cumsums = {}, []
    for t in tables:
        if t.compiled.interactions:
            _, cumsum, per_bus = build_aux_trace(t.compiled, t.plain_leaves(public), t.n, alpha, gamma)
            cumsums.append(cumsum)
            for b, s in per_bus.items():
                per_bus_total[b] = ext.ext_add(per_bus_total.get(b, ext.ZERO), s)
    term = public_term(vk.airs, public, alpha, gamma, per_bus_total, public_data)
    check_bus_balance(cumsums, term, raise_as=ConstraintNotSatisfied, per_bus=per_bus_total)


@dataclass
class MainCommitment:
    """Step 2's result: every table's main LDE (on its coset, bit-reversed rows) and their tree."""

    ldes: list
    tree: MixedMatrixTree

    @property
    def root(self) -> bytes:
        return self.tree.root


def _commit_main_traces(tables: list, cfg, report=lambda step, fraction: None) -> MainCommitment:
    """Step 2: LDE each main trace on its coset, commit all of them in one mixed-matrix tree."""
    ldes = []
    for k, t in enumerate(tables):
        ldes.append(coset_lde(t.trace, cfg.log_blowup, shift=lde_shift(t.log_n, cfg)))
        report("commit to trace data", (k + 1) / (len(tables) + 1))
    return MainCommitment(ldes, MixedMatrixTree.commit(ldes))


def commit_main(pk: ProvingKey, traces: Sequence) -> MainCommitment:
    """Step 2 on its own, exactly as prove() commits it.

    Continuations (joint.py) commit every segment's main traces this way first, draw the bus
    challenges from all the roots, and only then prove each segment — passing the commitment
    back to prove() (``main_commitment=``) when it is worth keeping, else recomputing it."""
    return _commit_main_traces(_load_tables(pk, traces), pk.verifying_key.config)


def prove(pk: ProvingKey, traces: Sequence, public_values: Sequence[int] = (), *,
          check_constraints_first: bool = True, progress: Callable[[str, float], None] | None = None,
          public_data: bytes = b"", bus_challenges=None, main_commitment: MainCommitment | None = None) -> Proof:
    """Prove that the main traces (one per table, in setup order) satisfy the AIRs with these
    public values and this public data (bytes the AIRs' public_interactions read, e.g. a
    journal). With check_constraints_first (default) an unsatisfied constraint or an
    unbalanced bus raises ConstraintNotSatisfied before any proving; turn it off only to
    produce invalid proofs for soundness tests.

    ``bus_challenges`` (a BusChallenges): one proof of several whose buses balance only
    together (joint.py). The challenges come from a transcript that already holds this
    proof's main root, so step 3 observes them instead of grinding and sampling (the proof
    carries their nonce); the bus balance is then
    the caller's to check, over all the proofs' cumulative sums. ``main_commitment``: these
    traces' commit_main result, so step 2 is not done twice."""
    vk = pk.verifying_key
    cfg = vk.config
    report = progress or (lambda step, fraction: None)
    public = check_public_values(vk, public_values)
    tables = _load_tables(pk, traces)

    if check_constraints_first:
        for t in tables:
            check_constraints(t.compiled, t.plain_leaves(public), "main")

    transcript = Transcript(DOMAIN)
    observe_statement(transcript, vk, public, [t.log_n for t in tables], public_data)

    # 2. commit to trace data: every table's main LDE in one mixed-matrix tree
    main = main_commitment or _commit_main_traces(tables, cfg, report)
    for t, lde in zip(tables, main.ldes, strict=True):
        t.lde_log = t.log_n + cfg.log_blowup
        t.main_lde = lde
    trees = {"prep": pk.prep_tree, "main": main.tree}
    transcript.observe_digest("main trace root", trees["main"].root)
    report("commit to trace data", 1.0)

    # 3-4. bus challenges, LogUp auxiliary traces
    bus = draw_bus_challenges(transcript, cfg.bus_pow_bits, bus_challenges)
    bus_alpha, bus_gamma = bus.alpha, bus.gamma
    challenges = np.stack([bus_alpha, bus_gamma])
    per_bus_total = {}
    for t in tables:
        if not t.compiled.interactions:
            continue
        aux, t.cumsum, per_bus = build_aux_trace(t.compiled, t.plain_leaves(public), t.n, bus_alpha, bus_gamma)
        for b, s in per_bus.items():
            per_bus_total[b] = ext.ext_add(per_bus_total.get(b, ext.ZERO), s)
        t.aux_trace = aux.reshape(t.n, -1)
        t.aux_lde = coset_lde(t.aux_trace, cfg.log_blowup, shift=lde_shift(t.log_n, cfg))
    with_aux = [t for t in tables if t.aux_lde is not None]
    if with_aux:
        trees["aux"] = MixedMatrixTree.commit([t.aux_lde for t in with_aux])
        transcript.observe_digest("aux trace root", trees["aux"].root)
        for t in with_aux:
            transcript.observe_ext("logup cumulative sum", t.cumsum)
    if check_constraints_first and per_bus_total and bus_challenges is None:
        check_bus_balance([t.cumsum for t in tables if t.cumsum is not None],
                          public_term(vk.airs, public, bus_alpha, bus_gamma, per_bus_total, public_data),
                          raise_as=ConstraintNotSatisfied, per_bus=per_bus_total)

    # 5-6. constraint combiner α, quotient chunks
    alpha = transcript.sample_ext("constraint alpha")
    for k, t in enumerate(tables):
        t.quotient_coeffs = _quotient_chunks(t, public, challenges, alpha, cfg.log_blowup)
        t.quotient_lde = _lde_from_coefficients(t.quotient_coeffs, t.log_n, cfg.log_blowup, lde_shift(t.log_n, cfg))
        report("commit to quotient chunks", (k + 1) / (len(tables) + 1))
    trees["quotient"] = MixedMatrixTree.commit([t.quotient_lde for t in tables])
    transcript.observe_digest("quotient chunks root", trees["quotient"].root)
    report("commit to quotient chunks", 1.0)

    # 7. out-of-domain point and openings
    zeta = transcript.sample_ext("ood point zeta")
    if not np.any(zeta[1:]):
        raise StarkConfigError("the out-of-domain point fell in F_p (probability ~2^-93); prove again")
    for k, t in enumerate(tables):
        z_next = ext.ext_mul_base(zeta, np.uint32(root_of_unity(t.log_n)))
        t.open_local = {
            "prep": evaluate_trace_at(t.prep_trace, t.log_n, zeta),
            "main": evaluate_trace_at(t.trace, t.log_n, zeta),
            "aux": evaluate_trace_at(t.aux_trace, t.log_n, zeta),
            "quotient": weighted_column_sums(t.quotient_coeffs, ext.ext_powers(zeta, t.n)),  # Σ c_i ζ^i
        }
        t.open_next = {
            "prep": evaluate_trace_at(t.prep_trace, t.log_n, z_next),
            "main": evaluate_trace_at(t.trace, t.log_n, z_next),
            "aux": evaluate_trace_at(t.aux_trace, t.log_n, z_next),
        }
        for name in ("prep", "main", "aux", "quotient"):
            transcript.observe_ext(f"{name} at zeta", t.open_local[name])
        for name in ("prep", "main", "aux"):
            transcript.observe_ext(f"{name} at zeta*omega", t.open_next[name])
        t.z_next = z_next
        report("open", (k + 1) / len(tables))

    # 8. DEEP composition, one codeword per height; one independent coefficient per column
    layout, total = deep_layout([_widths(t) for t in tables])
    gpow = transcript.sample_ext_vector("deep coefficients", total)
    sums = {}  # LDE height → (numerators, claimed at ζ, claimed at ζω, ζω): same-height tables share ζω
    for k, (t, (local, nxt)) in enumerate(zip(tables, layout)):
        num, c_local, c_next = _deep_numerators(t, gpow, local, nxt)
        if t.lde_log in sums:
            prev = sums[t.lde_log]
            num = ext.ext_add(prev[0].reshape(-1, 2, 4), num.reshape(-1, 2, 4)).reshape(-1, 8)
            c_local, c_next = ext.ext_add(prev[1], c_local), ext.ext_add(prev[2], c_next)
        sums[t.lde_log] = (num, c_local, c_next, t.z_next)
        report("DEEP composition", (k + 1) / (len(tables) + 1))
    fri_inputs = {l: _deep_codeword(l, num, c_local, c_next, zeta, z_next)
                  for l, (num, c_local, c_next, z_next) in sums.items()}
    report("DEEP composition", 1.0)

    # 9. FRI commit, grinding, query positions
    log_final_len = min(cfg.log_final_poly_len, min(t.log_n for t in tables))
    fri_prover = FriProver()
    fri_prover.commit_phase(fri_inputs, log_final_len + cfg.log_blowup, log_final_len, transcript, report)
    log_max = max(fri_inputs)
    nonce, indices = grind_and_draw_queries(transcript, cfg.pow_bits, cfg.num_queries, log_max)
    indices = np.asarray(indices, dtype=np.int64)

    # 10. open the queries: one path per phase tree, rows of every member table
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
    # x·ω_n is natural point j + 2^c (cyclically). For a block j = a + i, i < B = 2^b (a a
    # multiple of B): rev(a + i) = rev(a) + rev_b(i)·(nq/B), i.e. the block is the rows
    # rev(a), rev(a) + nq/B, … of the LDE, bit-reversed among themselves.
    rev = bit_reverse_indices(nq).astype(np.int64)

    def on_block(lde, start, size, ext_columns=False):
        """(current, next) columns of the LDE at the natural points [start, start + size)."""
        if lde is None:
            return None, None
        rows = np.concatenate([bit_reverse_rows(lde[rev[start]:nq:nq // size]),     # the block
                               lde[rev[(start + size + np.arange(step)) % nq]]])  # + the next rows after it
        src = ColumnSource.from_rows(rows.reshape(size + step, -1, 4) if ext_columns else rows)
        return src.window(0, size), src.window(step, size)

    shift = coset_shift(t.lde_log)
    points = coset_points(log_q, shift, bit_reversed=False)
    cumsum = t.cumsum if t.cumsum is not None else ext.ZERO
    constraints = t.compiled.all_constraints
    alpha_pows = ext.ext_powers(alpha, len(constraints))
    q_vals = np.empty((nq, 4), dtype=np.uint32)
    # the constraints are evaluated block by block of rows: memory stays ~ one block's columns
    # and the DAG's intermediate values on it, not the whole quotient domain's
    size = min(QUOTIENT_BLOCK_ROWS, nq)  # both powers of two
    for start in range(0, nq, size):
        selectors, inv_z = coset_selectors(t.log_n, points[start:start + size])
        leaves = Leaves(on_block(t.main_lde, start, size), on_block(t.prep_lde, start, size),
                        on_block(t.aux_lde, start, size, ext_columns=True), public, challenges, cumsum, selectors)
        acc = np.zeros((size, 4), dtype=np.uint32)
        evaluate_constraints(t.compiled.builder.nodes, constraints, leaves,
                             lambda i, is_ext, v: accumulate(acc, v, alpha_pows[i], is_ext))
        q_vals[start:start + size] = ext.ext_mul_base(acc, inv_z)  # Q = Σ α^i C_i / Z_H
    # coefficients of Q(s·y) → of Q(x): divide c_i by s^i
    coeffs = intt(q_vals)
    coeffs = ext.ext_mul_base(coeffs, field.powers(pow(shift, P - 2, P), nq))
    # chunk k = coefficients [k·n, (k+1)·n) → base columns 4k..4k+3
    return np.ascontiguousarray(coeffs.reshape(step, t.n, 4).transpose(1, 0, 2).reshape(t.n, 4 * step))


def _deep_numerators(t: _Table, gpow, local, nxt) -> tuple:
    """This table's Σ c_i f_i(x) over the LDE rows for the ζ group and the ζω group, and the
    claimed Σ c_i f_i(ζ), Σ c_j f_j(ζω) (c: the DEEP coefficients). One pass over each matrix computes both sums."""
    mats = {"prep": t.prep_lde, "main": t.main_lde, "aux": t.aux_lde, "quotient": t.quotient_lde}
    n_lde = t.main_lde.shape[0]
    num = np.zeros((n_lde, 8), dtype=np.uint32)  # [:, :4] the ζ group, [:, 4:] the ζω group
    claimed_local, claimed_next = ext.ZERO.copy(), ext.ZERO.copy()
    for name, (start, width) in local.items():
        if width == 0:
            continue
        coeffs = gpow[start:start + width]
        claimed_local = ext.ext_add(claimed_local, claimed_sum(coeffs, t.open_local[name]))
        if name in nxt:
            n_start = nxt[name][0]
            coeffs_next = gpow[n_start:n_start + width]
            claimed_next = ext.ext_add(claimed_next, claimed_sum(coeffs_next, t.open_next[name]))
            both = combine_columns(mats[name], np.concatenate([coeffs, coeffs_next], axis=1))
            num[:, :4] = ext.ext_add(num[:, :4], both[:, :4])
            num[:, 4:] = ext.ext_add(num[:, 4:], both[:, 4:])
        else:
            num[:, :4] = ext.ext_add(num[:, :4], combine_columns(mats[name], coeffs))
    return num, claimed_local, claimed_next


def _deep_codeword(lde_log: int, num: np.ndarray, claimed_local, claimed_next, zeta, z_next) -> np.ndarray:
    """D(x) = [Σ c_i f_i(x) − Σ c_i f_i(ζ)]/(x − ζ) + [Σ c_j f_j(x) − Σ c_j f_j(ζω)]/(x − ζω)
    on the LDE coset of size 2^lde_log (bit-reversed rows), for all tables of that height."""
    xe = ext.from_base(coset_points(lde_log, coset_shift(lde_log), bit_reversed=True))
    n_lde = xe.shape[0]
    inv = ext.ext_batch_inverse(np.concatenate([ext.ext_sub(xe, zeta), ext.ext_sub(xe, z_next)]))
    return ext.ext_add(ext.ext_mul(ext.ext_sub(np.ascontiguousarray(num[:, :4]), claimed_local), inv[:n_lde]),
                       ext.ext_mul(ext.ext_sub(np.ascontiguousarray(num[:, 4:]), claimed_next), inv[n_lde:]))
