"""The protocol's round schedule, written once: what is observed and drawn, in which order.

A STARK made non-interactive is a conversation replayed on a Fiat–Shamir transcript
(transcript.py): each prover message is *observed*, each verifier challenge is *drawn* from
everything observed before it. Prover and verifier must make exactly the same calls with
exactly the same labels, so both call the functions below and no label appears anywhere
else (stark-anatomy's "proof stream": the schedule is shared, only the messages differ).

A statement is n ≥ 1 segment proofs of the same AIRs (joint.py). Its rounds:

  joint transcript (one per statement)
    J1  observe the verifying key, the proof count, the public data, and per proof its
        public values, table heights (ABSENT for a table left out) and main-trace root
    J2  grind ``bus_pow_bits``, draw the bus challenges α_bus, γ_bus
  segment transcript (one per proof)
    S1  observe the verifying key, the public values, the public data, the table heights
        (ABSENT for a table left out: which tables are present is part of the statement)
    S2  observe the main-trace root, then the joint bus challenges and their nonce
    S3  observe the aux-trace root and every table's LogUp total; draw the constraint α
    S4  observe the quotient-chunks root; draw the out-of-domain point ζ ∈ F_p^4
    S5  observe every opened value (at ζ, then at ζω); draw one DEEP coefficient per column
    S6  FRI: per layer observe its root and draw its k β's (and τ where another height rolls in);
        observe the final polynomial
    S7  grind ``pow_bits``, draw the query positions

Each function takes the ``nonce`` the prover found or the verifier read: with ``None`` it
grinds (prover), with a number it checks it (verifier, PowError if it misses the target).
"""

from __future__ import annotations

from typing import NamedTuple, SupportsBytes, TypeAlias

import numpy as np

from ..errors import PowError
from .transcript import Transcript

#: a statement's public data: bytes, or an object bytes() encodes (machine.MachinePublicData).
#: Observed as bytes(public_data) (J1, S1); the AIRs' public_interactions get those bytes.
PublicData: TypeAlias = bytes | SupportsBytes

DOMAIN = b"pyzkvm-stark-v2"
JOINT_DOMAIN = b"pyzkvm-stark-joint-v2"

#: the column groups opened at ζ and at ζω, in the order they are observed (and encoded)
LOCAL_GROUPS = ("prep", "main", "aux", "quotient")
NEXT_GROUPS = ("prep", "main", "aux")


#: the log height observed for a table the proof leaves out (optional.py); a table has at
#: least 4 rows (log height ≥ 2), so the marker is never a real height
ABSENT = 0


def observed_heights(log_heights) -> np.ndarray:
    """The heights a transcript observes: each table's log2 height, ABSENT for None (left out)."""
    return np.array([ABSENT if h is None else int(h) for h in log_heights], dtype=np.uint32)


class BusChallenges(NamedTuple):
    """The LogUp challenges (α_bus, γ_bus) ∈ F_p^4 and the proof-of-work nonce ground on the
    joint transcript right before they were drawn."""

    alpha: np.ndarray
    gamma: np.ndarray
    pow_nonce: int


def _grind_or_check(transcript: Transcript, bits: int, nonce: int | None, what: str) -> int:
    if nonce is None:
        return transcript.grind(bits)
    if not transcript.check_grinding(int(nonce), bits):
        raise PowError(f"{what} proof-of-work nonce {nonce} does not have {bits} leading zero bits")
    return int(nonce)


# ---- the joint transcript (J1, J2) ---------------------------------------------------------

def joint_bus_challenges(vk, public_values_of_each, log_heights_of_each, main_roots, public_data: PublicData,
                         pow_nonce: int | None = None) -> BusChallenges:
    """J1–J2: the bus challenges of a statement, after every proof's main root is fixed."""
    t = Transcript(JOINT_DOMAIN)
    t.observe_digest("verifying key", vk.digest)
    t.observe_field("proof count", np.array([len(main_roots)], dtype=np.uint32))
    t.observe("public data", bytes(public_data))
    for pv, heights, root in zip(public_values_of_each, log_heights_of_each, main_roots, strict=True):
        t.observe_field("public values", np.asarray(pv, dtype=np.uint32))
        t.observe_field("table log heights", observed_heights(heights))
        t.observe_digest("main trace root", root)
    nonce = _grind_or_check(t, vk.config.bus_pow_bits, pow_nonce, "bus")
    return BusChallenges(t.sample_ext("logup alpha"), t.sample_ext("logup gamma"), nonce)


# ---- one proof's transcript (S1–S7) --------------------------------------------------------

def segment_transcript(vk, public_values, log_heights, public_data: PublicData) -> Transcript:
    """S1: a proof's transcript, bound to the key, its public values, the statement's public
    data (observed before any challenge) and its table heights."""
    t = Transcript(DOMAIN)
    t.observe_digest("verifying key", vk.digest)
    t.observe_field("public values", np.asarray(public_values, dtype=np.uint32))
    t.observe("public data", bytes(public_data))
    t.observe_field("table log heights", observed_heights(log_heights))
    return t


def observe_main(t: Transcript, main_root: bytes, bus: BusChallenges) -> None:
    """S2: this proof's main root, then the statement's bus challenges (drawn from every
    proof's main root on the joint transcript) and their nonce."""
    t.observe_digest("main trace root", main_root)
    t.observe_ext("logup alpha", bus.alpha)
    t.observe_ext("logup gamma", bus.gamma)
    t.observe("bus pow nonce", int(bus.pow_nonce).to_bytes(8, "little"))  # a u64, any value (not field elements)


def observe_aux_and_draw_alpha(t: Transcript, aux_root: bytes | None, cumsums) -> np.ndarray:
    """S3: the LogUp columns' root and each table's total (tables with buses, in order), then α."""
    if aux_root is not None:
        t.observe_digest("aux trace root", aux_root)
        t.observe_exts([("logup cumulative sum", c) for c in cumsums])
    return t.sample_ext("constraint alpha")


def observe_quotient_and_draw_zeta(t: Transcript, quotient_root: bytes) -> np.ndarray:
    """S4: the quotient chunks' root, then the out-of-domain point ζ ∈ F_p^4. ζ in F_p (the
    three top coefficients 0, probability ~2^-93) could lie on a trace domain: callers refuse it."""
    t.observe_digest("quotient chunks root", quotient_root)
    return t.sample_ext("ood point zeta")


def observe_openings_and_draw_deep(t: Transcript, openings, total: int) -> np.ndarray:
    """S5: every table's opened values — (open_local, open_next) dicts of group → (w, 4) — then
    ``total`` independent DEEP coefficients (deep.deep_layout numbers them)."""
    items = []
    for open_local, open_next in openings:
        items += [(f"{g} at zeta", open_local[g]) for g in LOCAL_GROUPS]
        items += [(f"{g} at zeta*omega", open_next[g]) for g in NEXT_GROUPS]
    t.observe_exts(items)  # each one observe_ext, checked together
    return t.sample_ext_vector("deep coefficients", total)


def fri_layer(t: Transcript, layer_root: bytes, k: int, rolls_in: bool) -> tuple:
    """S6, one FRI layer of arity 2^k: observe its root, draw one folding β per binary fold
    ((k, 4): independent, not powers of one β; config.py), and τ when a codeword of the folded
    height is rolled in next (else None)."""
    t.observe_digest("fri layer root", layer_root)
    betas = t.sample_ext_vector("fri fold betas", k)
    return betas, (t.sample_ext("fri roll-in tau") if rolls_in else None)


def fri_final(t: Transcript, final_poly: np.ndarray) -> None:
    """S6, last: the final polynomial's coefficients."""
    t.observe_ext("fri final polynomial", final_poly)


def query_positions(t: Transcript, pow_bits: int, num_queries: int, log_size: int, nonce: int | None = None) -> tuple:
    """S7: proof of work, then the query positions in [0, 2^log_size). Returns (nonce, positions)."""
    nonce = _grind_or_check(t, pow_bits, nonce, "query")
    return nonce, np.asarray(t.sample_indices("fri query indices", num_queries, log_size), dtype=np.int64)
