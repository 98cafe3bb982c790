"""A statement is n ≥ 1 segment proofs whose LogUp buses balance only *together*: the one
proving pipeline (``prove``) and its verifier (``verify``).

A continuation proves one run as n segments (docs/continuations.md). Each segment is an
ordinary proof of the same AIRs, but a bus entry sent in one segment may be received in
another (a memory word written in segment 1 and read in segment 3). LogUp handles that if
every segment uses the *same* bus challenges, drawn only after *every* segment's main traces
are committed — the cross-proof form of "challenges after the main commitment":

 0. **debug check** (debug.py): every constraint on the witness, before any work (the buses
    are checked after step 3 from the proofs' own LogUp totals, and named if they fail)
 1. **commit**: each segment's main root (prover.commit_main), independently, in any order
 2. **joint challenges** (rounds.joint_bus_challenges): a joint transcript observes the
    verifying key, the number of proofs, each proof's public values, table heights and main
    root, and the public data; the prover grinds ``bus_pow_bits`` of proof of work on it,
    then draws (α_bus, γ_bus). Every proof carries that nonce; the verifier checks it
 3. **prove** each segment under those challenges (prover.prove_segment): its own transcript
    observes them right after its main root and goes on as usual (aux traces, quotient, FRI),
    so each proof stays independent and can be made on another machine (dist.py)
 4. **balance** (verifier): Σ over all proofs of their tables' LogUp sums + the public term = 0

A single proof is the case n = 1: there is no other mode. Steps 1 and 3 are done by a
``Segments`` object — ``LocalSegments`` here, a cluster's in dist.py — so every caller
(StarkBackend, dist.py, the benchmarks) runs this same pipeline.

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

import struct
from functools import partial
from typing import Callable, Sequence

import numpy as np

from ..errors import (BusImbalance, ConstraintNotSatisfied, PowError, ProofFormatError, ProofShapeError,
                      UsageError)
from . import ext
from .debug import check_all_constraints, check_buses, check_statement
from .logup import check_bus_balance, public_entries, public_term
from .optional import left_out
from .proof import Proof, decode_proof, encode_proof
from .keys import check_public_values
from .prover import MainCommitment, commit_main, prove_segment
from .rounds import BusChallenges, PublicData, joint_bus_challenges
from .zk import ZkRandomness
from .verifier import VerificationReport, statement_security, verify_segment


def log_heights(vk, traces: Sequence) -> list:
    """log2 of every table's height, None for a table the proof leaves out (optional.py):
    what the transcripts observe."""
    return [None if left_out(c, t) else int(np.shape(t)[0]).bit_length() - 1
            for c, t in zip(vk.compiled, traces, strict=True)]


class LocalSegments:
    """Steps 1 and 3 in this process, one segment after another. With one segment its main
    commitment is kept for step 3; with several each is recomputed in step 3, so memory
    holds one segment's LDEs at a time, not all of them. With ``release_tables`` the caller
    hands its tables over: step 3 empties each segment's traces list once its main commitment
    exists (one segment: step 1, as it commits), so the prover's own reference (dropped after
    the aux traces; hiding mode: once f̂ is made, prover._Table.main_trace) is the last one and
    no table outlives its LogUp trace (at 2^18 cycles ~430 B per cycle of peak memory)."""

    def __init__(self, pk, progress: Callable[[int, str, float], None] | None = None, zk_seed=None,
                 release_tables: bool = False):
        self.pk = pk
        self.release_tables = release_tables
        self.report = progress or (lambda k, step, fraction: None)
        self._kept: MainCommitment | None = None
        # hiding mode: one secret per statement, one randomness stream per segment (zk.py); the
        # blinding ring (blind.py) links each segment to the previous one through that secret
        self._secret = ZkRandomness.secret_from_seed(zk_seed)

    def _rng(self, k: int, count: int) -> ZkRandomness:
        return ZkRandomness(self._secret, k, count)

    def commit(self, statements: Sequence) -> list:
        roots = []
        for k, (traces, _pv) in enumerate(statements):
            # one segment: its commitment is kept for step 3, so the traces go as it is made
            commitment = commit_main(self.pk, traces, partial(self.report, k), self._rng(k, len(statements)),
                                     release_traces=self.release_tables and len(statements) == 1)
            roots.append(commitment.root)
            self._kept = commitment if len(statements) == 1 else None
            del commitment
        return roots

    def prove(self, statements: Sequence, public_data: PublicData, challenges: BusChallenges) -> list:
        proofs = []
        for k, (traces, pv) in enumerate(statements):
            main = self._kept or commit_main(self.pk, traces, rng=self._rng(k, len(statements)))
            self._kept = None
            if self.release_tables:  # main.tables hold them now, until prove_segment's aux traces
                traces.clear()
            proofs.append(prove_segment(self.pk, main, pv, public_data, challenges, partial(self.report, k)))
            # its LDEs, trees and quotient (on its tables) go before the next segment's are built
            del main
        return proofs


def prove(pk, statements: Sequence, public_data: PublicData = b"", *,
          check_constraints_first: bool = True, progress: Callable[[int, str, float], None] | None = None,
          segments=None, zk_seed=None, release_tables: bool = False) -> list:
    """Prove n ≥ 1 (traces, public_values) statements jointly; returns the n Proofs.

    The AIRs' public_interactions read the last segment's public values (the verifier's term:
    ``verify``). ``progress(k, step, fraction)`` hears each segment's steps. With
    check_constraints_first (default) a witness that breaks a
    constraint or a bus raises ConstraintNotSatisfied before any proving (debug.py); turn it
    off only to produce invalid proofs for soundness tests. ``segments``: who commits and
    proves the segments (default LocalSegments(pk, progress); dist.py passes a cluster's).
    ``zk_seed`` (tests only): in hiding mode, derive the prover's randomness from it instead
    of the OS, so a proof is reproducible; None (always, outside tests) draws fresh secrets.
    ``release_tables``: the statements' traces lists are emptied as they are proved
    (LocalSegments), for a caller that reads them no more (StarkBackend: peak memory); a
    bus imbalance is then refused without naming the buses (debug.check_buses needs them)."""
    vk = pk.verifying_key
    if not statements:
        raise ProofFormatError("a statement needs at least one segment")
    pvs = [check_public_values(vk, pv) for _traces, pv in statements]
    if check_constraints_first:
        check_all_constraints(vk.compiled, pk.prep_traces, statements)
    segments = segments or LocalSegments(pk, progress, zk_seed, release_tables)
    heights = [log_heights(vk, t) for t, _pv in statements]  # (before the commitments release the traces)
    roots = segments.commit(statements)
    challenges = joint_bus_challenges(vk, pvs, heights, roots, public_data)
    proofs = segments.prove(statements, public_data, challenges)
    for k, (proof, root) in enumerate(zip(proofs, roots, strict=True)):
        if proof.main_root != root:  # pragma: no cover - commit and prove commit alike
            raise ConstraintNotSatisfied(f"proof {k}: main root differs from its step-1 commitment (a bug: report it)")
    if check_constraints_first:
        try:
            _check_balance(vk, proofs, challenges, pvs[-1], public_data)
        except BusImbalance:  # name the buses (debug.py, part 2), then refuse
            if all(traces for traces, _pv in statements):
                check_buses(vk.compiled, pk.prep_traces, statements, public_data)
            raise ConstraintNotSatisfied("LogUp buses do not balance, though every chip bus does (in hiding mode: "
                                         "the blinding ring, blind.py; a bug, report it)") from None
    return proofs


def _check_balance(vk, proofs, challenges: BusChallenges, term_public_values, public_data: PublicData,
                   entries: list | None = None) -> None:
    """Step 4: Σ over every proof's tables' LogUp totals + the public term = 0 (BusImbalance).
    ``entries``: logup.public_entries of the statement, when the caller has them."""
    total = ext.ext_sum([t.cumsum for p in proofs for t in p.tables if t.cumsum is not None])
    check_bus_balance([total], public_term(vk.airs, term_public_values, challenges.alpha, challenges.gamma,
                                           public_data=public_data, entries=entries))


def verify(vk, proofs: Sequence, public_values: Sequence, public_data: PublicData = b"") -> list:
    """Verify the n ≥ 1 proofs (Proof objects or their bytes) of a statement; returns their
    VerificationReports, each carrying the whole statement's security estimate
    (statement_security: its N counts every proof's bus entries).

    Rebuilds the joint challenges from the proofs' own main roots and heights (checking the
    proof of work before them), checks the bus balance over all proofs (BusImbalance), then
    verifies each proof under those challenges. The public term (the AIRs' public_interactions)
    reads the last segment's public values, which the joint transcript has observed with every
    other segment's before the challenges are drawn. Raises a VerificationError subclass
    (ProofFormatError for undecodable bytes)."""
    try:  # (public data: bytes or what converts to them, as MachinePublicData does; not a str or a number)
        counts = len(proofs), len(public_values)
        data_bytes: bytes | None = bytes(public_data) if not isinstance(public_data, (int, str)) else None
    except TypeError:
        data_bytes = None
    if data_bytes is None:
        raise UsageError("verify takes sequences of proofs and of public value sets, and public data as bytes")
    public_data = data_bytes
    if counts[0] != counts[1] or not proofs:
        raise ProofFormatError(f"{len(proofs)} proofs for {len(public_values)} public value sets")
    data = [_proof_bytes(p) for p in proofs]  # the decoder's checks (canonical values, shapes) apply to all
    decoded = [decode_proof(d) for d in data]
    heights = [[t.log_height for t in p.tables] for p in decoded]
    if any(len(h) != len(vk.compiled) for h in heights):
        raise ProofShapeError(f"a proof's table count differs from the verifying key's {len(vk.compiled)}")
    pvs = [check_public_values(vk, pv) for pv in public_values]
    term_pv = pvs[-1]  # (observed: a term from values the transcript had not seen could be solved for)
    entries = public_entries(vk.airs, term_pv, public_data)  # counted for the estimate, summed for the balance
    security = statement_security(vk, heights, term_pv, public_data, entries=entries)
    nonces = {p.bus_pow_nonce for p in decoded}
    if len(nonces) != 1:
        raise PowError("the proofs of a joint statement carry different bus proof-of-work nonces")
    challenges = joint_bus_challenges(vk, pvs, heights, [p.main_root for p in decoded], public_data,
                                      pow_nonce=nonces.pop())
    # the balance first (cheap: each proof states its tables' sums, which its own verification
    # below then binds to its committed LogUp columns), then every proof under the joint challenges
    _check_balance(vk, decoded, challenges, term_pv, public_data, entries)
    reports = [verify_segment(vk, proof, pv, len(d), public_data, challenges)
               for proof, d, pv in zip(decoded, data, pvs)]
    for r in reports:
        r.security = security
    return reports


def _proof_bytes(proof) -> bytes:
    if isinstance(proof, (bytes, bytearray, memoryview)):
        return bytes(proof)
    if isinstance(proof, Proof):
        try:  # re-encoded, so the decoder's checks apply to objects too
            return encode_proof(proof)[0]
        except (TypeError, ValueError, AttributeError, KeyError, struct.error) as exc:
            raise ProofFormatError(f"the Proof object cannot be encoded: {exc}") from None
    raise ProofFormatError("verify expects a Proof or its bytes")


# ---- a statement of one segment ------------------------------------------------------------

def prove_one(pk, traces: Sequence, public_values: Sequence[int] = (), *, public_data: PublicData = b"",
              check_constraints_first: bool = True, progress: Callable[[str, float], None] | None = None,
              zk_seed=None) -> Proof:
    """``prove`` for a statement of one segment: the Proof of ``traces`` (one per table, in
    setup order) with these public values and public data (bytes the AIRs'
    public_interactions read, e.g. a journal)."""
    report = None if progress is None else (lambda k, step, fraction: progress(step, fraction))
    return prove(pk, [(traces, public_values)], public_data, check_constraints_first=check_constraints_first,
                 progress=report, zk_seed=zk_seed)[0]


def verify_one(vk, proof, public_values=(), public_data: PublicData = b"") -> VerificationReport:
    """``verify`` for a statement of one segment (a Proof or its bytes)."""
    return verify(vk, [proof], [public_values], public_data)[0]


def debug_check(pk, traces: Sequence, public_values: Sequence[int] = (), seed: int | None = None,
                public_data: PublicData = b"") -> None:
    """The debug check (debug.py) of a statement of one segment, without proving."""
    check_statement(pk.verifying_key.compiled, pk.prep_traces, [(traces, check_public_values(pk.verifying_key, public_values))],
                    public_data, seed=seed)
