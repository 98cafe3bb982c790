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

import struct
from dataclasses import dataclass

import numpy as np

from ..errors import (MerklePathError, OodEvaluationMismatch, PowError, ProofFormatError, ProofShapeError,
                      StarkConfigError, VerificationError)
from . import ext

from .config import MAX_BUS_ENTRIES, SecurityEstimate, security_bits
from .deep import claimed_sum, deep_layout, recombine_ext_columns
from .domain import point_at
from .field import P, root_of_unity
from .fri import FriProof, check_pow_and_draw_queries, draw_fold_challenges, verify_queries
from .keys import VerifyingKey
from .lincomb import combine_columns
from .logup import check_bus_balance, public_entries, public_term
from .mmcs import verify_mixed_openings
from .ood import combined_constraints_at_point, leaf_table, tape_for
from .proof import LOCAL_GROUPS, NEXT_GROUPS, Proof, decode_proof, encode_proof, phase_members
from .prover import BusChallenges, DOMAIN, check_public_values, draw_bus_challenges, observe_statement
from .transcript import Transcript


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


def verify(vk: VerifyingKey, proof, public_values=(), public_data: bytes = b"", bus_challenges=None) -> VerificationReport:
    """Verify a proof (a Proof or its bytes) against the verifying key, the public values and
    the public data (the bytes the AIRs' public_interactions read, e.g. a journal).

    With ``bus_challenges`` (one proof of a joint statement, joint.py) the bus challenges are
    the given ones and the bus balance is not checked here: the report's ``bus_total`` is this
    proof's share, which the caller sums over all the proofs.

    A statement with p or more bus entries is refused (ProofShapeError; config.py says why).

    Returns a VerificationReport on success; raises a VerificationError subclass (or
    ProofFormatError for undecodable bytes) otherwise."""
    if isinstance(proof, (bytes, bytearray, memoryview)):
        data = bytes(proof)
    elif isinstance(proof, Proof):
        try:  # re-encode, so the decoder's checks (canonical values, shapes) apply to objects too
            data = encode_proof(proof)[0]
        except (TypeError, ValueError, AttributeError, KeyError, struct.error) as exc:
            raise ProofFormatError(f"the Proof object cannot be encoded: {exc}") from None
    else:
        raise ProofFormatError("verify expects a Proof or its bytes")
    try:
        return _verify(vk, decode_proof(data), public_values, len(data), bytes(public_data), bus_challenges)
    except ZeroDivisionError:  # an inverse of zero: only reachable with ~2^-90 probability
        raise VerificationError("a verifier inversion hit zero; the proof is rejected") from None


def verify_decoded(vk: VerifyingKey, proof: Proof, public_values, size: int, public_data: bytes = b"",
                   bus_challenges=None) -> VerificationReport:
    """verify() for a proof fresh from decode_proof (its checks applied; ``size`` its encoded length)."""
    try:
        return _verify(vk, proof, public_values, size, bytes(public_data), bus_challenges)
    except ZeroDivisionError:  # an inverse of zero: only reachable with ~2^-90 probability
        raise VerificationError("a verifier inversion hit zero; the proof is rejected") from None


def _verify(vk: VerifyingKey, proof: Proof, public_values, size: int, public_data: bytes = b"",
            bus_challenges=None) -> VerificationReport:
    cfg = vk.config
    public = check_public_values(vk, public_values)
    _check_shape(vk, proof)
    tables = proof.tables
    log_heights = [t.log_height for t in tables]
    # the estimate (and the p-entries limit) for what is verified; a joint statement's is the caller's
    security = statement_security(vk, [log_heights], public, public_data) if bus_challenges is None else None

    transcript = Transcript(DOMAIN)
    observe_statement(transcript, vk, public, log_heights, public_data)
    transcript.observe_digest("main trace root", proof.main_root)
    if bus_challenges is not None and proof.bus_pow_nonce != bus_challenges.pow_nonce:
        raise PowError("the proof's bus proof-of-work nonce is not the joint statement's")
    bus = draw_bus_challenges(transcript, cfg.bus_pow_bits, bus_challenges, pow_nonce=proof.bus_pow_nonce)
    bus_alpha, bus_gamma = bus.alpha, bus.gamma
    if proof.aux_root is not None:
        transcript.observe_digest("aux trace root", proof.aux_root)
        for t in tables:
            if t.has_aux:
                transcript.observe_ext("logup cumulative sum", t.cumsum)
    cumsums = [t.cumsum for t in tables if t.cumsum is not None]
    bus_total = ext.ZERO.copy()
    for c in cumsums:
        bus_total = ext.ext_add(bus_total, c)
    if bus_challenges is None:
        check_bus_balance(cumsums, public_term(vk.airs, public, bus_alpha, bus_gamma, public_data=public_data))
    alpha = transcript.sample_ext("constraint alpha")
    transcript.observe_digest("quotient chunks root", proof.quotient_root)
    zeta = transcript.sample_ext("ood point zeta")
    if not np.any(zeta[1:]):
        raise OodEvaluationMismatch("the out-of-domain point fell in F_p; this proof cannot be checked")
    for t in tables:
        for g in LOCAL_GROUPS:
            transcript.observe_ext(f"{g} at zeta", t.open_local[g])
        for g in NEXT_GROUPS:
            transcript.observe_ext(f"{g} at zeta*omega", t.open_next[g])

    challenges = np.stack([bus_alpha, bus_gamma])
    for c, t in zip(vk.compiled, tables):
        _check_ood(c, t, public, challenges, alpha, zeta)

    layout, total = deep_layout([_widths(c, t) for c, t in zip(vk.compiled, tables)])
    gpow = transcript.sample_ext_vector("deep coefficients", total)  # independent, one per column
    lde_logs = [h + cfg.log_blowup for h in log_heights]
    betas, taus = draw_fold_challenges(transcript, proof.fri.layer_roots, set(lde_logs))
    transcript.observe_ext("fri final polynomial", proof.fri.final_poly)
    log_max = max(lde_logs)
    indices = check_pow_and_draw_queries(transcript, proof.fri.pow_nonce, cfg.pow_bits, cfg.num_queries, log_max)

    # the queried rows of every phase's tree, per table
    roots = {"prep": vk.prep_root, "main": proof.main_root, "aux": proof.aux_root, "quotient": proof.quotient_root}
    opened = [dict() for _ in tables]
    for phase, root in roots.items():
        members = phase_members(tables, phase)
        if not members:
            continue
        rows, paths = proof.queries[phase]
        logs = [lde_logs[i] for i in members]
        if not verify_mixed_openings(root, logs, indices >> (log_max - max(logs)), rows, paths):
            raise MerklePathError(f"a queried {phase} row does not match the {phase} commitment")
        for i, r in zip(members, rows):
            opened[i][phase] = r

    # DEEP values at the queried points, from the opened rows
    inputs = {}
    for k, (c, t, (local, nxt)) in enumerate(zip(vk.compiled, tables, layout)):
        l = lde_logs[k]
        idx = indices >> (log_max - l)
        rows = opened[k]
        x = ext.from_base(point_at(l, idx))
        z_next = ext.ext_mul_base(zeta, np.uint32(root_of_unity(t.log_height)))
        value = np.zeros((len(idx), 4), dtype=np.uint32)
        for group, values_at, z in ((local, t.open_local, zeta), (nxt, t.open_next, z_next)):
            num = np.zeros((len(idx), 4), dtype=np.uint32)
            claimed = ext.ZERO.copy()
            for name, (start, width) in group.items():
                if width == 0:
                    continue
                coeffs = gpow[start:start + width]
                num = ext.ext_add(num, combine_columns(rows[name], coeffs))
                claimed = ext.ext_add(claimed, claimed_sum(coeffs, values_at[name]))
            value = ext.ext_add(value, ext.ext_mul(ext.ext_sub(num, claimed), ext.ext_inv(ext.ext_sub(x, z))))
        inputs[l] = value if l not in inputs else ext.ext_add(inputs[l], value)

    log_final_len = min(cfg.log_final_poly_len, min(log_heights))
    verify_queries(proof.fri, betas, indices, inputs, log_final_len + cfg.log_blowup, taus)
    return VerificationReport(security, log_heights, size, cfg.name, bus_total)


def statement_security(vk: VerifyingKey, log_heights_of_each, public_values, public_data: bytes = b"") -> SecurityEstimate:
    """The security estimate (config.security_bits) of the statement being verified, from the
    key's parameters and AIRs, every proof's table heights (one list per proof of a joint
    statement) and the public entries the verifier builds itself:

    * LDE size: the tallest table's height × blowup;
    * constraints: all tables' constraints (one α per proof);
    * bus entries N: Σ over proofs and tables of height × interactions, + the public entries;
      tuple width w: the widest interaction's values + its bus id.

    N ≥ p is refused (ProofShapeError): multiplicities are field elements, and the AIRs' count
    arguments hold only while no count can wrap modulo p (config.py)."""
    cfg = vk.config
    entries, width = 0, 0
    for heights in log_heights_of_each:
        for c, h in zip(vk.compiled, heights, strict=True):
            entries += len(c.interactions) << int(h)
    for c in vk.compiled:
        for it in c.interactions:
            width = max(width, 1 + len(it.values))
    for _bus, _name, matrix, _signed in public_entries(vk.airs, public_values, public_data):
        entries += matrix.shape[0]
        width = max(width, 1 + matrix.shape[1])
    if entries > MAX_BUS_ENTRIES:
        raise ProofShapeError(f"the statement has {entries} bus entries; a verifier accepts fewer than p = {P} "
                              "(LogUp multiplicities are field elements: counts must not wrap)")
    lde_log = max(int(h) for heights in log_heights_of_each for h in heights) + cfg.log_blowup
    constraints = sum(len(c.all_constraints) for c in vk.compiled)
    try:
        return security_bits(cfg, lde_log, bus_entries=entries, bus_width=width, constraints=constraints)
    except StarkConfigError as exc:  # pragma: no cover - the entries limit is checked above
        raise ProofShapeError(str(exc)) from None


def _widths(c, t) -> tuple:
    air = c.air
    return (air.preprocessed_width, air.width, 4 * c.num_aux_columns, 4 << c.log_quotient_chunks)


def _check_shape(vk: VerifyingKey, proof: Proof) -> None:
    """Everything the verifier indexes must have the size the key implies."""
    cfg = vk.config
    if len(proof.tables) != len(vk.compiled):
        raise ProofShapeError(f"proof has {len(proof.tables)} tables, the verifying key {len(vk.compiled)}")
    lde_logs = []
    for k, (c, t) in enumerate(zip(vk.compiled, proof.tables)):
        name = c.air.name
        if not 2 <= t.log_height <= cfg.log_height_limit:
            raise ProofShapeError(f"table {name!r}: log height {t.log_height} is out of range")
        if vk.prep_log_heights[k] is not None and t.log_height != vk.prep_log_heights[k]:
            raise ProofShapeError(f"table {name!r}: height 2^{t.log_height} differs from its preprocessed columns' 2^{vk.prep_log_heights[k]}")
        if t.has_aux != bool(c.num_aux_columns):
            raise ProofShapeError(f"table {name!r}: auxiliary (LogUp) columns present/absent against the key")
        if t.has_prep != (vk.prep_log_heights[k] is not None):
            raise ProofShapeError(f"table {name!r}: preprocessed columns present/absent against the key")
        want = dict(zip(("prep", "main", "aux", "quotient"), _widths(c, t)))
        for g in LOCAL_GROUPS:
            if t.open_local[g].shape != (want[g], 4):
                raise ProofShapeError(f"table {name!r}: {t.open_local[g].shape[0]} {g} values at ζ, expected {want[g]}")
        for g in NEXT_GROUPS:
            if t.open_next[g].shape != (want[g], 4):
                raise ProofShapeError(f"table {name!r}: {t.open_next[g].shape[0]} {g} values at ζω, expected {want[g]}")
        lde_logs.append(t.log_height + cfg.log_blowup)
    for phase in ("prep", "main", "aux", "quotient"):
        members = phase_members(proof.tables, phase)
        if not members:
            continue
        if phase not in proof.queries:
            raise ProofShapeError(f"proof lacks the {phase} query openings")
        rows, paths = proof.queries[phase]
        top = max(lde_logs[i] for i in members)
        if len(rows) != len(members) or paths.shape != (cfg.num_queries, top, 8):
            raise ProofShapeError(f"{phase} query openings have the wrong shape")
        for i, r in zip(members, rows):
            width = _widths(vk.compiled[i], proof.tables[i])[("prep", "main", "aux", "quotient").index(phase)]
            if r.shape != (cfg.num_queries, width):
                raise ProofShapeError(f"table {vk.compiled[i].air.name!r}: {phase} query rows have shape {r.shape}")
    log_final = min(cfg.log_final_poly_len, min(t.log_height for t in proof.tables))
    log_max = max(lde_logs)
    n_layers = log_max - (log_final + cfg.log_blowup)
    fri: FriProof = proof.fri
    if len(fri.layer_roots) != n_layers or len(fri.layer_openings) != n_layers:
        raise ProofShapeError(f"proof has {len(fri.layer_roots)} FRI layers, expected {n_layers}")
    if fri.final_poly.shape != (1 << log_final, 4):
        raise ProofShapeError(f"FRI final polynomial has {fri.final_poly.shape[0]} coefficients, expected {1 << log_final}")
    for r, (rows, paths) in enumerate(fri.layer_openings):
        if rows.shape != (cfg.num_queries, 8) or paths.shape != (cfg.num_queries, log_max - 1 - r, 8):
            raise ProofShapeError(f"FRI layer {r}: openings have shapes {rows.shape}, {paths.shape}")


def _check_ood(c, t, public, challenges, alpha, zeta) -> None:
    """Σ_i α^i C_i(ζ) must equal Z_H(ζ)·Σ_k ζ^(k·n)·Q_k(ζ)."""
    n = 1 << t.log_height
    w_last = pow(root_of_unity(t.log_height), n - 1, P)
    z_h = ext.ext_sub(ext.ext_pow(zeta, n), ext.ONE)
    zeta_minus_last = ext.ext_sub(zeta, ext.from_base(np.uint32(w_last)))
    inv = ext.ext_batch_inverse(np.stack([ext.ext_sub(zeta, ext.ONE), zeta_minus_last]))
    n_inv = pow(n, P - 2, P)
    # L_0(ζ) = Z_H(ζ)/(n(ζ − 1)),  L_{n−1}(ζ) = ω^(n−1)·Z_H(ζ)/(n(ζ − ω^(n−1))),  ζ − ω^(n−1)
    selectors = {"is_first_row": ext.ext_mul_base(ext.ext_mul(z_h, inv[0]), np.uint32(n_inv)),
                 "is_last_row": ext.ext_mul_base(ext.ext_mul(z_h, inv[1]), np.uint32(w_last * n_inv % P)),
                 "is_transition": zeta_minus_last}
    aux = (recombine_ext_columns(t.open_local["aux"]), recombine_ext_columns(t.open_next["aux"]))
    # Σ α^i C_i(ζ): one numba pass over the AIR's flattened DAG (ood.py)
    tape = tape_for(c, len(public))
    leaves = leaf_table(tape, (t.open_local["main"], t.open_next["main"]), (t.open_local["prep"], t.open_next["prep"]),
                        aux, public, challenges, t.cumsum if t.cumsum is not None else ext.ZERO, selectors)
    acc = combined_constraints_at_point(tape, leaves, ext.ext_powers(alpha, len(c.all_constraints)))[None, :]
    chunks = recombine_ext_columns(t.open_local["quotient"])
    zeta_n = ext.ext_pow(zeta, n)
    q = ext.ZERO.copy()
    for chunk in chunks[::-1]:  # Horner in ζ^n over the few chunks
        q = ext.ext_add(ext.ext_mul(q, zeta_n), chunk)
    if not np.array_equal(acc[0], ext.ext_mul(z_h, q)):
        raise OodEvaluationMismatch(f"table {c.air.name!r}: the constraints at ζ do not match the quotient "
                                    "(the trace does not satisfy the AIR, or an opening is wrong)")
