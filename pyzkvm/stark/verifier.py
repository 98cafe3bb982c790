"""The STARK verifier: replay the transcript, check the AIR at ζ, the buses, the openings, FRI.

Every check raises a typed VerificationError subclass naming what failed:

    ProofShapeError         the proof does not have the verifying key's shape
    PublicValueMismatch     wrong number / range of public values
    BusImbalance            Σ of the tables' LogUp totals + the public term ≠ 0
    OodEvaluationMismatch   Σ α^i C_i(ζ) ≠ Z_H(ζ)·Q(ζ) for some table
    PowError                a grinding nonce (before the bus challenges, before the queries) is wrong
    MerklePathError         an opened row is not in its commitment
    FriQueryError           a FRI folding chain is inconsistent

A wrong public value shows up as an OOD mismatch (the constraints read it) or a bus
imbalance (the public term uses it): the transcript also absorbed it, so every challenge moves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import (MerklePathError, OodEvaluationMismatch, PowError, ProofShapeError,
                      StarkConfigError, VerificationError)
from . import ext

from . import rounds
from .air import interaction_shape
from .config import MAX_BUS_ENTRIES, SecurityEstimate, security_bits
from . import zk
from .deep import deep_codewords, deep_coefficients, deep_layout, opened_count, split_by_height
from .domain import QueryPoints
from .field import P, root_of_unity
from .fri import FriProof, draw_fold_challenges, layer_arities, sort_by_input, verify_queries
from .keys import VerifyingKey
from .logup import public_entries
from .mmcs import rows_per_query, verify_mixed_openings
from .multiproof import WalkPlans
from .openings import full_width_next, next_row_columns, opened_width, zero_unread_coefficients
from .proof import Proof, opened_arrays, phase_members
from .keys import check_public_values
from .rounds import LOCAL_GROUPS, NEXT_GROUPS, BusChallenges, PublicData
from .point_eval import constraints_at_points
from .tape import Inputs


@dataclass
class VerificationReport:
    """What was verified: the tables' heights and the security estimate the verifier
    recomputed from the key's parameters and these heights (statement_security; for one proof
    of a joint statement, joint.verify_joint puts the whole statement's estimate here)."""

    security: SecurityEstimate
    log_heights: list
    proof_bytes: int
    preset: str
    #: Σ of the tables' LogUp sums (for a joint statement: the caller adds them up, joint.py)
    bus_total: np.ndarray | None = None


def verify_segment(vk: VerifyingKey, proof: Proof, public_values, size: int, public_data: PublicData,
                   bus: BusChallenges) -> VerificationReport:
    """Verify one segment's proof, fresh from decode_proof (its checks applied; ``size`` its
    encoded length), under the statement's bus challenges ``bus`` (joint.verify rebuilt them
    from every segment's main root). The bus balance is the statement's: the report's
    ``bus_total`` is this proof's share, which joint.verify sums over the segments."""
    try:
        return _verify_segment(vk, proof, public_values, size, bytes(public_data), bus)
    except ZeroDivisionError:  # an inverse of zero: only reachable with ~2^-90 probability
        raise VerificationError("a verifier inversion hit zero; the proof is rejected") from None


def _verify_segment(vk: VerifyingKey, proof: Proof, public_values, size: int, public_data: bytes,
                    bus: BusChallenges) -> VerificationReport:
    cfg = vk.config
    public = check_public_values(vk, public_values)
    _check_shape(vk, proof)
    log_heights = [t.log_height for t in proof.tables]  # None: left out (optional.py)
    # from here on only the tables the proof includes: one left out is an all-zero table of an
    # optional AIR (checked at setup: it satisfies every constraint and adds 0 to every bus)
    present = [k for k, t in enumerate(proof.tables) if t.present]
    compiled = [vk.proved[k] for k in present]  # hiding mode: with the blinding ring (blind.py)
    tables = [proof.tables[k] for k in present]
    if proof.bus_pow_nonce != bus.pow_nonce:
        raise PowError("the proof's bus proof-of-work nonce is not the statement's")

    # the transcript, round by round (rounds.py), from the proof's messages
    transcript = rounds.segment_transcript(vk, public, log_heights, public_data)
    rounds.observe_main(transcript, proof.main_root, bus)
    alpha = rounds.observe_aux_and_draw_alpha(transcript, proof.aux_root, [t.cumsum for t in tables if t.has_aux])
    zeta = rounds.observe_quotient_and_draw_zeta(transcript, proof.quotient_root)
    if not np.any(zeta[1:]):
        raise OodEvaluationMismatch("the out-of-domain point fell in F_p; this proof cannot be checked")
    holders = zk.deep_mask_holders(cfg, [t.log_height for t in tables])
    layout, total = deep_layout([_widths(c, t, cfg, h) for c, t, h in zip(compiled, tables, holders)])
    drawn = rounds.observe_openings_and_draw_deep(transcript, [(t.open_local, t.open_next) for t in tables],
                                                  opened_count(layout))
    coeffs = zero_unread_coefficients(deep_coefficients(drawn, layout, total), layout,
                                      [next_row_columns(c) for c in compiled])
    heights = [_group_heights(cfg, t.log_height, t.has_prep) for t in tables]  # group → log LDE size, per table
    input_logs = {zk.lde_log(cfg, t.log_height) for t in tables}  # FRI's: prep groups lifted (prover.py step 6)
    log_final_len, arities = _fri_schedule(cfg, input_logs)
    betas, taus = draw_fold_challenges(transcript, proof.fri, input_logs, arities)
    log_max = max(input_logs)
    _, indices = rounds.query_positions(transcript, cfg.pow_bits, cfg.num_queries, log_max, nonce=proof.fri.pow_nonce)

    # the AIR at ζ: Σ α^i C_i(ζ) = Z_H(ζ)·Q(ζ), table by table
    challenges = np.stack([bus.alpha, bus.gamma])
    # per table, group → its values at ζω at full width (zero in the columns no constraint reads there)
    next_values = [full_width_next(c, entry, t.open_next) for c, entry, t in zip(compiled, layout, tables)]
    _check_ood(compiled, tables, next_values, public, challenges, alpha, zeta, cfg)

    # the queried rows of every phase's tree, per table
    roots = {"prep": vk.prep_root, "main": proof.main_root, "aux": proof.aux_root, "quotient": proof.quotient_root}
    plans = WalkPlans()  # the multiproof walks' pairings, shared by every tree of this proof
    opened: list[dict[str, np.ndarray]] = [dict() for _ in tables]  # per table: phase → its (q, w) queried rows
    for phase, root in roots.items():
        members = phase_members(tables, phase)  # indices into the included tables
        if not members:
            continue
        rows, paths = proof.queries[phase]
        logs = [heights[i][phase] for i in members]
        logs += [max(logs)] * (len(rows) - len(members))  # hiding mode: the salt, at the top height
        positions = indices >> (log_max - max(logs))
        assert root is not None  # a phase with members has a root (keys: prep; decode_proof: aux)
        # hiding mode: the salt's rows are digests (zk.SaltMatrix.digest_rows), injected unhashed
        if not verify_mixed_openings(root, logs, positions, rows, paths, plans, digest_rows=len(rows) - len(members)):
            raise MerklePathError(f"a queried {phase} row does not match the {phase} commitment "
                                  "(or a table opens more or fewer rows than the queries' distinct positions)")
        for i, r in zip(members, rows_per_query(rows, logs, positions, plans)):
            opened[i][phase] = r

    # DEEP values at the queried points (deep.deep_codewords, as the prover computed them on every row)
    entries: list = []
    # ζω of every table at once: ζ times each table's ω_n (a base-field scalar per row)
    omegas = np.array([root_of_unity(t.log_height) for t in tables], dtype=np.uint64)
    z_nexts = (omegas[:, None] * zeta.astype(np.uint64)[None, :] % P).astype(np.uint32)
    lifted: list = []  # a preprocessed group below its table's LDE height (prover.py step 6)
    lifted_to: dict = {}
    for k, t in enumerate(tables):
        sort_by_input(split_by_height(layout[k], opened[k], t.open_local, next_values[k], heights[k], z_nexts[k]),
                      zk.lde_log(cfg, t.log_height), entries, lifted, lifted_to)
    points = QueryPoints(log_max, indices)  # the queries' points x on every height

    def points_of(l):
        return points.point(l).astype(np.uint32)

    inputs = deep_codewords(entries, points_of, zeta, coeffs)
    if lifted:  # h(x^M) at a query of the LDE height is h at the query's row of its own (fri.lift)
        for l, values in deep_codewords(lifted, points_of, zeta, coeffs).items():
            inputs[lifted_to[l]] = ext.ext_add(inputs[lifted_to[l]], values)

    verify_queries(proof.fri, betas, indices, inputs, log_final_len + cfg.log_blowup, taus, points, plans)
    bus_total = ext.ext_sum([t.cumsum for t in tables if t.cumsum is not None])
    # the security estimate is the whole statement's: joint.verify fills it in once every segment passed
    return VerificationReport(None, log_heights, size, cfg.name, bus_total)  # type: ignore[arg-type]


def statement_security(vk: VerifyingKey, log_heights_of_each, public_values, public_data: PublicData = b"", *,
                       entries: list | None = None) -> SecurityEstimate:
    """The security estimate (config.security_bits) of the statement being verified, from the
    key's parameters and AIRs, every proof's table heights (one list per proof of a joint
    statement) and the public entries the verifier builds itself:

    * LDE size: the tallest table's height × blowup;
    * constraints: all tables' constraints (one α per proof);
    * bus entries N: Σ over proofs and present tables (a height of None: left out) of
      height × interactions (the proved AIRs': in hiding mode the blinding ring's two
      interactions count too), + the public entries;
      tuple width w: the widest interaction's values + its bus id.

    N ≥ p is refused (ProofShapeError): multiplicities are field elements, and the AIRs' count
    arguments hold only while no count can wrap modulo p (config.py). ``entries``:
    logup.public_entries(vk.airs, public_values, public_data) when the caller has them."""
    cfg = vk.config
    count = 0
    for heights in log_heights_of_each:
        if len(heights) != len(vk.proved):  # (a seal's proof read for inspect, before any other check)
            raise ProofShapeError(f"a proof has {len(heights)} tables, the verifying key {len(vk.proved)}")
        for c, h in zip(vk.proved, heights, strict=True):
            if h is not None:  # a table left out has no bus entries
                count += _interaction_shape(c)[0] << int(h)
    width = _interaction_width(vk)
    if entries is None:
        entries = public_entries(vk.airs, public_values, public_data)
    for _bus, _name, matrix, _signed in entries:
        count += matrix.shape[0]
        width = max(width, 1 + matrix.shape[1])
    if count > MAX_BUS_ENTRIES:
        raise ProofShapeError(f"the statement has {count} bus entries; a verifier accepts fewer than p = {P} "
                              "(LogUp multiplicities are field elements: counts must not wrap)")
    present = [int(h) for heights in log_heights_of_each for h in heights if h is not None]
    if not present:
        raise ProofShapeError("the statement's proofs leave out every table")
    lde_log = max(zk.lde_log(cfg, h) for h in present)
    constraints = sum(len(c.all_constraints) for c in vk.proved)
    try:
        return security_bits(cfg, lde_log, bus_entries=count, bus_width=width, constraints=constraints)
    except StarkConfigError as exc:  # pragma: no cover - the entries limit is checked above
        raise ProofShapeError(str(exc)) from None


def _interaction_width(vk: VerifyingKey) -> int:
    """The widest interaction of the key's proved AIRs: its values + its bus id (kept on the key)."""
    width = getattr(vk, "_interaction_width", None)
    if width is None:
        width = max([_interaction_shape(c)[1] for c in vk.proved], default=0)
        vk._interaction_width = width  # type: ignore[attr-defined]
    return width


def _interaction_shape(c) -> tuple:
    """(count, widest values + 1) of a proved AIR's interactions; a prover's view
    (stark/prover_key.ProverAir) has them without making its interactions' objects."""
    shape = getattr(c, "interaction_shape", None)
    return shape if shape is not None else interaction_shape(c.interactions)


def _widths(c, t, cfg, deep_mask: bool) -> tuple:
    air = c.air
    return (air.preprocessed_width, air.width, 4 * c.num_aux_columns,
            zk.QuotientLayout(cfg, c, t.log_height, deep_mask).width)


def _group_heights(cfg, log_height: int, has_prep: bool) -> dict:
    """log2 of the LDE each column group of a table lives on: the preprocessed columns on
    n·blowup (committed in the key), the others on D·blowup (zk.lde_log; = n·blowup transparent).
    A table without preprocessed columns has its empty prep group with the others
    (zk.prep_lde_log: an empty group must not add a FRI input height)."""
    high = zk.lde_log(cfg, log_height)
    return {"prep": zk.prep_lde_log(cfg, log_height, has_prep), "main": high, "aux": high, "quotient": high}


def _check_shape(vk: VerifyingKey, proof: Proof) -> None:
    """Everything the verifier indexes must have the size the key implies; a table may be left
    out only if the key's AIR is optional, and then the proof holds nothing of it."""
    cfg = vk.config
    if len(proof.tables) != len(vk.proved):
        raise ProofShapeError(f"proof has {len(proof.tables)} tables, the verifying key {len(vk.proved)}")
    for c, t in zip(vk.proved, proof.tables):
        if t.present:
            continue
        if not c.air.optional:
            raise ProofShapeError(f"table {c.air.name!r} is left out of the proof, but it is not optional: "
                                  "a proof must include it")
        if t.has_aux or t.has_prep or t.cumsum is not None or t.open_local or t.open_next:
            raise ProofShapeError(f"table {c.air.name!r} is marked left out but the proof holds data of it")
    if not any(t.present for t in proof.tables):
        raise ProofShapeError("the proof leaves out every table")
    if proof.zk != cfg.zk:
        raise ProofShapeError(f"a {'hiding' if proof.zk else 'transparent'} proof for a "
                              f"{'hiding' if cfg.zk else 'transparent'} verifying key (preset {cfg.name!r})")
    for c, t in zip(vk.proved, proof.tables):  # (before anything is computed from the heights)
        if t.present and not 2 <= t.log_height <= cfg.log_height_limit:
            raise ProofShapeError(f"table {c.air.name!r}: log height {t.log_height} is out of range")
    heights, widths = {}, {}  # per included table: group → log LDE size, and its groups' widths
    holders = zk.deep_mask_holders(cfg, [t.log_height for t in proof.tables])  # None: left out
    for k, (c, t) in enumerate(zip(vk.proved, proof.tables)):
        if not t.present:
            continue
        name = c.air.name
        if vk.prep_log_heights[k] is not None and t.log_height != vk.prep_log_heights[k]:
            raise ProofShapeError(f"table {name!r}: height 2^{t.log_height} differs from its preprocessed columns' 2^{vk.prep_log_heights[k]}")
        if t.has_aux != bool(c.num_aux_columns):
            raise ProofShapeError(f"table {name!r}: auxiliary (LogUp) columns present/absent against the key")
        if t.has_prep != (vk.prep_log_heights[k] is not None):
            raise ProofShapeError(f"table {name!r}: preprocessed columns present/absent against the key")
        want = widths[k] = dict(zip(("prep", "main", "aux", "quotient"), _widths(c, t, cfg, holders[k])))
        # one value per base column, one per F_p^4 column of aux and quotient (openings.py)
        for g in LOCAL_GROUPS:
            if t.open_local[g].shape != (opened_width(g, want[g]), 4):
                raise ProofShapeError(f"table {name!r}: {t.open_local[g].shape[0]} {g} values at ζ, "
                                      f"expected {opened_width(g, want[g])}")
        read = next_row_columns(c)  # only the columns read at the next row are opened at ζω (openings.py)
        for g in NEXT_GROUPS:
            if t.open_next[g].shape != (opened_width(g, len(read[g])), 4):
                raise ProofShapeError(f"table {name!r}: {t.open_next[g].shape[0]} {g} values at ζω, "
                                      f"expected {opened_width(g, len(read[g]))}")
        heights[k] = _group_heights(cfg, t.log_height, t.has_prep)
    for phase in ("prep", "main", "aux", "quotient"):
        members = phase_members(proof.tables, phase)
        if not members:
            continue
        if phase not in proof.queries:
            raise ProofShapeError(f"proof lacks the {phase} query openings")
        rows, paths = proof.queries[phase]
        top = max(heights[i][phase] for i in members)
        if len(rows) != opened_arrays(proof.tables, phase, cfg.zk) or paths.depth != top:
            raise ProofShapeError(f"{phase} query openings have the wrong shape")
        # a table opens one row per distinct position (≤ queries; the exact count is checked
        # with the positions: verify_mixed_openings)
        for i, r in zip(members, rows):
            width = widths[i][phase]
            if r.shape[1] != width or not 1 <= r.shape[0] <= cfg.num_queries:
                raise ProofShapeError(f"table {vk.proved[i].air.name!r}: {phase} query rows have shape {r.shape}")
        for r in rows[len(members):]:  # hiding mode: the salt
            if r.shape[1] != zk.SALT or not 1 <= r.shape[0] <= cfg.num_queries:
                raise ProofShapeError(f"{phase} query salt has shape {r.shape}, expected (≤ {cfg.num_queries}, {zk.SALT})")
    input_logs = {zk.lde_log(cfg, proof.tables[k].log_height) for k in heights}  # FRI's (prover.py step 6)
    log_final, arities = _fri_schedule(cfg, input_logs)
    fri: FriProof = proof.fri
    if len(fri.layer_roots) != len(arities) or len(fri.layer_openings) != len(arities):
        raise ProofShapeError(f"proof has {len(fri.layer_roots)} FRI layers, expected {len(arities)}")
    final_len = zk.final_poly_len(cfg, log_final)  # F, or F + 1 in hiding mode
    if fri.final_poly.shape != (final_len, 4):
        raise ProofShapeError(f"FRI final polynomial has {fri.final_poly.shape[0]} coefficients, expected {final_len}")
    depth = max(input_logs)
    for r, ((rows, paths), k) in enumerate(zip(fri.layer_openings, arities)):
        depth -= k
        width = 4 * ((1 << k) - 1)  # the coset less the query's own entry (fri.py)
        if rows.shape != (cfg.num_queries, width) or paths.depth != depth:
            raise ProofShapeError(f"FRI layer {r}: openings have shape {rows.shape} and path depth {paths.depth}; "
                                  f"expected ({cfg.num_queries}, {width}) and {depth}")


def _fri_schedule(cfg, input_logs) -> tuple:
    """(log2 of the final polynomial's length, k per FRI layer): the smallest input's degree
    bounds the final polynomial; fri.layer_arities folds down to it."""
    log_final = min(cfg.log_final_poly_len, min(input_logs) - cfg.log_blowup)
    return log_final, layer_arities(input_logs, log_final + cfg.log_blowup, cfg.log_fri_arity)


def _opened(local: np.ndarray, next_values: np.ndarray):
    """A column group's values at ζ and at ζω (full width: zero where not opened, openings.py),
    stacked (2, w, 4); None for an empty group."""
    if not local.shape[0]:
        return None
    out = np.empty((2, *local.shape), dtype=np.uint32)
    out[0], out[1] = local, next_values
    return out


def _check_ood(compiled, tables, next_values, public, challenges, alpha, zeta, cfg) -> None:
    """For every table, Σ_i α^i C_i(ζ) must equal Z_H(ζ)·Σ_k ζ^(k·S)·Q_k(ζ) (S = the quotient
    layout's chunk size; the K chunks, not the hiding mode's mask columns after them). The
    left sides of all tables are evaluated in one pass (point_eval.constraints_at_points), the
    selectors of all tables at once (_selectors_at). ``next_values``: per table, group → its
    values at ζω at full width (openings.full_width_next)."""
    zeta_powers = _PowersOf(zeta)
    selectors, z_h = _selectors_at(zeta, [t.log_height for t in tables], zeta_powers)
    inputs, chunks, weights = [], [], []
    chunk_powers: dict = {}  # (S, K) → [(ζ^S)^k for k < K]: tables of one height share them
    for k, (c, t) in enumerate(zip(compiled, tables)):
        nxt = next_values[k]  # (aux and the quotient chunks: F_p^4 values, one per column)
        inputs.append(Inputs(_opened(t.open_local["main"], nxt["main"]), _opened(t.open_local["prep"], nxt["prep"]),
                             _opened(t.open_local["aux"], nxt["aux"]), public, challenges,
                             t.cumsum if t.cumsum is not None else ext.ZERO, selectors[k]))
        layout = zk.QuotientLayout(cfg, c, t.log_height)
        chunks.append(t.open_local["quotient"][:layout.chunks])
        key = (layout.size, layout.chunks)
        if key not in chunk_powers:
            chunk_powers[key] = zeta_powers.run(layout.size, layout.chunks)
        weights.append(chunk_powers[key])
    # Q(ζ) = Σ_k (ζ^S)^k · Q_k(ζ) per table (its few chunks), every table's terms in one product
    terms = ext.mul_rows(np.concatenate(chunks), np.concatenate(weights))  # numpy whatever the count
    starts = np.cumsum([0] + [len(x) for x in chunks[:-1]])
    q = (np.add.reduceat(terms, starts, axis=0) % P).astype(np.uint32)
    right = ext.ext_mul(z_h, q)
    powers = ext.ext_powers(alpha, max(len(c.all_constraints) for c in compiled))
    # Σ α^i C_i(ζ): the constraints' tapes at one point, every leaf in F_p^4 (numpy: point_eval.py)
    left = constraints_at_points(compiled, inputs, [powers[:len(c.all_constraints)] for c in compiled])
    wrong = np.flatnonzero(np.any(np.asarray(left, dtype=np.uint32).reshape(-1, 4) != right, axis=1))  # every table at once
    if wrong.size:
        raise OodEvaluationMismatch(f"table {compiled[int(wrong[0])].air.name!r}: the constraints at ζ do not match "
                                    "the quotient (the trace does not satisfy the AIR, or an opening is wrong)")


class _PowersOf:
    """x^e for one x ∈ F_p^4 and several exponents e: from the squares x^(2^j), each computed
    once and kept (the tables' heights and chunk sizes share most of them). One element at a
    time, so in Python ints (a single F_p^4 product costs less so than a numpy call)."""

    def __init__(self, x):
        self.squares = [tuple(int(c) for c in np.asarray(x).reshape(4))]
        self.memo: dict[int, np.ndarray] = {}

    def __call__(self, e: int) -> np.ndarray:
        if e not in self.memo:
            while len(self.squares) < e.bit_length():
                self.squares.append(_ext_mul_ints(self.squares[-1], self.squares[-1]))
            acc = (1, 0, 0, 0)
            for j in range(e.bit_length()):  # the set bits of e
                if e >> j & 1:
                    acc = _ext_mul_ints(acc, self.squares[j])
            self.memo[e] = np.array(acc, dtype=np.uint32)
        return self.memo[e]

    def run(self, e: int, count: int) -> np.ndarray:
        """[(x^e)^k for k < count], (count, 4) uint32: a table's chunk weights (few)."""
        step = tuple(int(c) for c in self(e))
        out, acc = [], (1, 0, 0, 0)
        for _ in range(count):
            out.append(acc)
            acc = _ext_mul_ints(acc, step)
        return np.array(out, dtype=np.uint32).reshape(count, 4)


def _ext_mul_ints(x: tuple, y: tuple) -> tuple:
    """x·y in F_p^4 = F_p[X]/(X^4 − W) on 4-tuples of Python ints (coefficients, lowest first)."""
    x0, x1, x2, x3 = x
    y0, y1, y2, y3 = y
    w = ext.W
    return ((x0 * y0 + w * (x1 * y3 + x2 * y2 + x3 * y1)) % P,
            (x0 * y1 + x1 * y0 + w * (x2 * y3 + x3 * y2)) % P,
            (x0 * y2 + x1 * y1 + x2 * y0 + w * x3 * y3) % P,
            (x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0) % P)


def _selectors_at(zeta, log_heights: list, zeta_powers) -> tuple:
    """(per table its selectors at ζ, Z_H(ζ) per table (T, 4)), every table's in one pass:

        Z_H(ζ) = ζ^n − 1,  L_0(ζ) = Z_H(ζ)/(n(ζ − 1)),
        L_{n−1}(ζ) = ω^(n−1)·Z_H(ζ)/(n(ζ − ω^(n−1))),  is_transition = ζ − ω^(n−1)."""
    w_last, n_inv, w_last_n_inv = np.array([_row_constants(l) for l in log_heights], dtype=np.uint32).T
    z_h = ext.ext_sub(np.stack([zeta_powers(1 << l) for l in log_heights]), ext.ONE)
    zeta_minus_last = ext.ext_sub(zeta, ext.from_base(w_last))
    inv = ext.ext_batch_inverse(np.concatenate([ext.ext_sub(zeta, ext.ONE)[None], zeta_minus_last]))
    first = ext.ext_mul_base(ext.ext_mul(z_h, inv[0]), n_inv)
    last = ext.ext_mul_base(ext.ext_mul(z_h, inv[1:]), w_last_n_inv)
    return [{"is_first_row": first[k], "is_last_row": last[k], "is_transition": zeta_minus_last[k]}
            for k in range(len(log_heights))], z_h


@functools.cache
def _row_constants(log_height: int) -> tuple:
    """(ω^(n−1), 1/n, ω^(n−1)/n) for n = 2^log_height, ω its root of unity: _selectors_at's
    constants per height, made once."""
    w_last, n_inv = pow(root_of_unity(log_height), (1 << log_height) - 1, P), pow(1 << log_height, P - 2, P)
    return w_last, n_inv, w_last * n_inv % P
