"""Joint statements: several proofs whose LogUp buses balance only *together*.

A continuation proves one run as n segments (docs/continuations.md). Each segment is an
ordinary proof of the same AIRs, but a bus entry sent in one segment may be received in
another (a memory word written in segment 1 and read in segment 3). LogUp handles that if
every segment uses the *same* bus challenges, drawn only after *every* segment's main traces
are committed — the cross-proof form of "challenges after the main commitment":

 1. **commit**: each proof's main root (prover.commit_main), independently, in any order
 2. **joint challenges**: a joint transcript observes the verifying key, the number of proofs,
    each proof's public values, table heights and main root, and the public data; the prover
    grinds ``bus_pow_bits`` of proof of work on it, then it samples (α_bus, γ_bus). Every
    proof carries that nonce; the verifier checks it on its own joint transcript
 3. **prove** each proof with those challenges (prove(..., bus_challenges=)): its own
    transcript observes them right after its main root and goes on as usual (aux traces,
    quotient, FRI), so each proof stays independent and can be made on another machine
 4. **balance**: Σ over all proofs of their tables' LogUp sums + the public term = 0

Soundness: the challenges are a hash of every main root, so no proof's main trace can be
chosen after them; each proof's aux columns are constrained to be the running sums of *its*
main trace under those challenges; so Σ of all the sums is Σ_all entries ±μ/(α − fp), which
is 0 with probability ≤ N·(w + 1)/|F_p^4| unless the union of all proofs' bus entries
balances as a multiset — exactly the single-proof LogUp argument over the union of the tables
(N entries over all segments, w the widest tuple: config.py's LogUp term). The proof of work
before the challenges makes each try at a bad pair cost 2^bus_pow_bits hashes, and the
verifier refuses a statement with N ≥ p (verifier.statement_security).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import ConstraintNotSatisfied, PowError, ProofFormatError, ProofShapeError
from . import ext
from .logup import check_bus_balance, public_term
from .proof import Proof, decode_proof
from .prover import BusChallenges, check_public_values, commit_main, draw_bus_challenges, prove
from .transcript import Transcript
from .verifier import statement_security, verify_decoded

JOINT_DOMAIN = b"pyzkvm-stark-joint-v1"


def log_heights(traces: Sequence) -> list:
    """log2 of every table's height (what the transcripts observe)."""
    return [int(t.shape[0]).bit_length() - 1 for t in traces]


def joint_bus_challenges(vk, public_values: Sequence, log_heights: Sequence, main_roots: Sequence[bytes],
                         public_data: bytes = b"", pow_nonce: int | None = None) -> BusChallenges:
    """Step 2: (α_bus, γ_bus) from a transcript over every proof's statement and main root,
    after ``vk.config.bus_pow_bits`` of proof of work: the prover grinds (``pow_nonce`` None),
    the verifier passes the proofs' nonce (PowError if it misses the target)."""
    t = Transcript(JOINT_DOMAIN)
    t.observe_digest("verifying key", vk.digest)
    t.observe_field("proof count", np.array([len(main_roots)], dtype=np.uint32))
    t.observe("public data", bytes(public_data))
    for pv, heights, root in zip(public_values, log_heights, main_roots, strict=True):
        t.observe_field("public values", check_public_values(vk, pv))
        t.observe_field("table log heights", np.asarray(heights, dtype=np.uint32))
        t.observe_digest("main trace root", root)
    return draw_bus_challenges(t, vk.config.bus_pow_bits, pow_nonce=pow_nonce)


def prove_joint(pk, statements: Sequence, public_data: bytes = b"", *, term_public_values=None,
                check_constraints_first: bool = True,
                progress: Callable[[int, str, float], None] | None = None) -> list:
    """Prove n (traces, public_values) statements jointly; returns the n Proofs.

    ``term_public_values``: the public values the AIRs' public_interactions read for the
    whole statement (default: the last statement's). ``progress(k, step, fraction)`` hears
    each proof's steps. With check_constraints_first, a joint bus imbalance raises
    ConstraintNotSatisfied (after proving: each proof alone cannot know)."""
    vk = pk.verifying_key
    report = progress or (lambda k, step, fraction: None)
    roots, kept = [], None
    for k, (traces, _pv) in enumerate(statements):
        report(k, "commit to trace data", 0.0)
        commitment = commit_main(pk, traces)
        roots.append(commitment.root)
        # one statement: keep its LDEs for prove (no second step 2); several: recompute each
        # in turn, so memory holds one proof's LDEs, not all of them
        kept = commitment if len(statements) == 1 else None
        del commitment
    pvs = [pv for _t, pv in statements]
    challenges = joint_bus_challenges(vk, pvs, [log_heights(t) for t, _pv in statements], roots, public_data)
    proofs = []
    for k, (traces, pv) in enumerate(statements):
        proof = prove(pk, traces, pv, public_data=public_data, bus_challenges=challenges,
                      check_constraints_first=check_constraints_first, main_commitment=kept,
                      progress=lambda step, fraction, k=k: report(k, step, fraction))
        if proof.main_root != roots[k]:  # pragma: no cover - commit_main and prove commit alike
            raise ConstraintNotSatisfied(f"proof {k}: main root differs from its joint commitment (a bug: report it)")
        proofs.append(proof)
    if check_constraints_first:
        check_joint_balance(vk, [p.tables for p in proofs], challenges, term_public_values or pvs[-1], public_data,
                            raise_as=ConstraintNotSatisfied)
    return proofs


def check_joint_balance(vk, tables_of_each: Sequence, challenges, term_public_values, public_data=b"", **kw) -> None:
    """Step 4: Σ over every proof's tables' LogUp sums + the public term = 0."""
    total = ext.ZERO.copy()
    for tables in tables_of_each:
        for t in tables:
            if t.cumsum is not None:
                total = ext.ext_add(total, t.cumsum)
    alpha, gamma = challenges[:2]
    check_bus_balance([total], public_term(vk.airs, check_public_values(vk, term_public_values), alpha, gamma,
                                           public_data=public_data), **kw)


def verify_joint(vk, proofs: Sequence, public_values: Sequence, public_data: bytes = b"", *,
                 term_public_values=None) -> list:
    """Verify n proofs of a joint statement; returns their VerificationReports.

    Rebuilds the joint challenges from the proofs' own main roots and heights (checking the
    proof of work before them), verifies each proof with them, and checks the joint bus
    balance (BusImbalance if it fails). Every report's ``security`` is the whole statement's
    estimate (statement_security: its N counts every proof's bus entries)."""
    if len(proofs) != len(public_values) or not proofs:
        raise ProofFormatError(f"{len(proofs)} proofs for {len(public_values)} public value sets")
    data = [p.to_bytes() if isinstance(p, Proof) else bytes(p) for p in proofs]  # the decoder checks apply to all
    decoded = [decode_proof(d) for d in data]
    heights = [[t.log_height for t in p.tables] for p in decoded]
    if any(len(h) != len(vk.compiled) for h in heights):
        raise ProofShapeError(f"a proof's table count differs from the verifying key's {len(vk.compiled)}")
    security = statement_security(vk, heights, check_public_values(vk, term_public_values or public_values[-1]),
                                  public_data)
    nonces = {p.bus_pow_nonce for p in decoded}
    if len(nonces) != 1:
        raise PowError("the proofs of a joint statement carry different bus proof-of-work nonces")
    challenges = joint_bus_challenges(vk, public_values, heights, [p.main_root for p in decoded], public_data,
                                      pow_nonce=nonces.pop())
    # the balance first (cheap: each proof states its tables' sums, which its own verification
    # below then binds to its committed LogUp columns), then every proof under the joint challenges
    check_joint_balance(vk, [p.tables for p in decoded], challenges, term_public_values or public_values[-1], public_data)
    reports = [verify_decoded(vk, proof, pv, len(d), public_data, bus_challenges=challenges)
               for proof, d, pv in zip(decoded, data, public_values)]
    for r in reports:
        r.security = security
    return reports
