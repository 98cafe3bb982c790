"""The stark backend's acceptance policy: the minimum security a receipt must reach, the
receipt params it must carry, and what a verification established (StarkVerification).

    minimum_bits(min_security_bits, allow_insecure)   the caller's minimum (default 100 bits)
    check_security(preset, bits, minimum)             VerificationError below it
    check_param_keys(params)                          exactly PARAM_KEYS, no more, no less
    check_security_of_heights(run, config, vk)        the prover refuses, before proving, what
                                                      every verifier with the default would refuse
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError, VerificationError

if TYPE_CHECKING:
    from ..stark.config import SecurityEstimate

#: the default acceptance policy: below this conjectured security a receipt is refused
#: (``verify(..., min_security_bits=)`` changes it; ``allow_insecure=True`` means no minimum)
MIN_SECURITY_BITS = 100
#: the receipt params the stark backend writes; verify requires exactly these
PARAM_KEYS = ("cycles", "preset", "proof_bytes", "security_bits", "segment_cycles", "segments", "zero_knowledge")
#: the extra params of a RISC Zero-profile receipt: {"abi": "risc0", "halt_type": 0 or 1}. The
#: verifier builds the statement under the profile they name, and the proof binds both: every
#: ecall row's profile must equal the public PV_PROFILE, HALT's a0 byte 0 the halt type
#: (machine/statement.py). An sp1 receipt has neither key.
RISC0_PARAM_KEYS = ("abi", "halt_type")


#: the executor profiles whose syscalls the machine AIR proves as they run (docs/abi.md, "SP1
#: versions"), and why each other one is not: where its executor differs from sp1@5 in what the
#: proof shows, a receipt would claim a run that profile's executor never makes. The image ID
#: binds the family (sp1, risc0), not the version within it.
UNPROVED_PROFILES = {
    "sp1@3": "SP1 v3 does not journal WRITEs to fd 13, and its HINT_LEN panics when no input is left",
    "sp1@4.0": "SP1 v4.0-4.1's HINT_LEN panics when no input is left",
}


def unproved_profile(profile: str) -> str | None:
    """Why a stark proof cannot show a run under executor ``profile`` (``Program.profile``), or
    None: the proof follows sp1@5 (= sp1@4 where the proof looks) and risc0."""
    why = UNPROVED_PROFILES.get(profile)
    if why is None:
        return None
    return (f"the stark proof shows a run under the sp1@5 profile, and {why} (which that proof does not "
            f"follow: a receipt would claim what the {profile} executor does not do); run, prove and verify the "
            "ELF with --abi sp1 (sp1@5) if that is the behaviour meant")


def profile_params(statement) -> dict:
    """The profile params a receipt of ``statement`` (the run's last) carries: none for sp1."""
    return {"abi": "risc0", "halt_type": int(statement.halt_type)} if statement.profile == "risc0" else {}


def profile_of_params(params: dict) -> tuple:
    """(profile, halt_type) a receipt's params name (check_param_keys has checked the keys)."""
    if "abi" not in params:
        return "sp1", 0
    if params["abi"] != "risc0" or type(params.get("halt_type")) is not int or params["halt_type"] not in (0, 1):
        raise VerificationError(f"stark receipt params: abi {params['abi']!r} / halt_type {params.get('halt_type')!r} "
                                "(a risc0 receipt says abi 'risc0' and halt_type 0 or 1)")
    return "risc0", params["halt_type"]


def check_security_of_heights(run, config, vk=None) -> None:
    """Refuse, before any proving, a run every verifier with the default policy would refuse:
    a table taller than the preset allows (``config.max_log_height``), or — for a preset whose
    height-independent terms meet MIN_SECURITY_BITS — a table tall enough to bring the DEEP/FRI
    field term below it (one bit per doubling of the LDE). With the verifying key, also a
    statement of p or more bus entries (stark/verifier.statement_security)."""
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES
    from ..stark import security_bits
    from ..stark.zk import lde_log

    shorter = f"prove in shorter segments (--segment-cycles {max(1, min(run.segment_cycles // 2, DEFAULT_SEGMENT_CYCLES))} or less)"
    meant_secure = min(security_bits(config, 0).query_bits, security_bits(config, 0).hash_bits) >= MIN_SECURITY_BITS
    for k, (traces, _pv) in enumerate(run.statements):
        tallest = max(range(len(traces)), key=lambda i: traces[i].shape[0])
        log_rows = int(traces[tallest].shape[0]).bit_length() - 1
        where = f"segment {k}'s" if len(run.statements) > 1 else "the run's"
        name = run.chips.airs[tallest].name
        if log_rows > config.log_height_limit:
            raise UsageError(f"{where} table {name!r} has 2^{log_rows} rows, more than preset {config.name!r} allows "
                             f"(2^{config.log_height_limit}): {shorter}")
        bits = security_bits(config, lde_log(config, log_rows)).bits  # a short hiding table: D·blowup (zk.lde_log)
        if meant_secure and bits < MIN_SECURITY_BITS:
            raise UsageError(f"{where} table {name!r} has 2^{log_rows} rows, where preset {config.name!r} "
                             f"gives {bits:.1f} bits (< {MIN_SECURITY_BITS}): {shorter}")
    if vk is not None:
        from ..errors import ProofShapeError
        from ..stark.joint import log_heights
        from ..stark.verifier import statement_security

        try:
            statement_security(vk, [log_heights(vk, t) for t, _pv in run.statements], run.statements[-1][1], run.public_data)
        except ProofShapeError as exc:
            raise too_long_for_one_receipt(str(exc)) from None


def too_long_for_one_receipt(why: str) -> UsageError:
    """The refusal of a run whose statement has p or more bus entries, saying what to do."""
    return UsageError(f"this run is too long for one receipt: {why}; split the work into shorter runs (up to about "
                      "2^25 cycles each, depending on the program) and combine their receipts with pyzkvm aggregate")


def bus_entries_at_least(airs, traces: dict) -> int:
    """A lower bound on the bus entries one segment's tables (``traces``: by AIR name) add to
    its statement — statement_security's N counts, per table the proof includes, its rows ×
    its interactions, and also the hiding ring's interactions and the public entries, left
    out here: so check_bus_entries_so_far never refuses what the exact check accepts."""
    from ..machine.evaluate import compiled_air
    from ..stark.air import interaction_shape
    from ..stark.optional import left_out

    entries = 0
    for air in airs:
        trace, compiled = traces[air.name], compiled_air(air)
        if not left_out(compiled, trace):
            entries += interaction_shape(compiled.interactions)[0] * int(trace.shape[0])
    return entries


def check_bus_entries_so_far(entries: int, segments: int) -> None:
    """Refuse a run while its segments' tables are still being built, once the first
    ``segments`` already hold ``entries`` ≥ p bus entries (bus_entries_at_least's sum), not
    after all of them and the setup (check_security_of_heights' exact count). Fibonacci's
    running count is ~34 entries per cycle (its exact count ~35): a 66 M-cycle run stops at
    about 60 M cycles' tables, one of 2^30 cycles (--max-cycles raised) there too, not after
    its 1,024 segments."""
    from ..stark import config as stark_config

    if entries > stark_config.MAX_BUS_ENTRIES:
        raise too_long_for_one_receipt(f"its first {segments} segment(s) already hold at least {entries} bus entries, "
                                       f"and a verifier accepts fewer than p = {stark_config.P}")


def minimum_bits(min_security_bits, allow_insecure: bool) -> float:
    """The acceptance policy: the caller's minimum; allow_insecure alone means none."""
    if not isinstance(allow_insecure, bool):  # ("no" would read as True: accept anything)
        raise UsageError(f"allow_insecure must be True or False, not {allow_insecure!r}")
    if min_security_bits is not None:
        if isinstance(min_security_bits, bool) or not isinstance(min_security_bits, (int, float)):
            raise UsageError(f"min_security_bits must be a number, not {min_security_bits!r}")
        if min_security_bits != min_security_bits:  # NaN: every `bits < NaN` is False, so it would accept anything
            raise UsageError("min_security_bits is NaN: give a number of bits (e.g. 100)")
        if min_security_bits < 0:  # (it read as no minimum; allow_insecure says that)
            raise UsageError(f"min_security_bits is {min_security_bits}: give a number of bits ≥ 0 (e.g. 100)")
        try:
            return float(min_security_bits)
        except OverflowError:  # an int past float's range: no proof reaches it
            return float("inf")
    return 0.0 if allow_insecure else float(MIN_SECURITY_BITS)


def check_security(name: str, bits: float, minimum: float) -> None:
    if bits < minimum:
        raise VerificationError(
            f"the proof's preset {name!r} gives {bits:.1f} bits, below the minimum of {minimum:g}"
            + ("; to accept test proofs, pass allow_insecure=True or a lower min_security_bits (CLI: "
               "--min-security-bits 0)"
               if minimum >= MIN_SECURITY_BITS else ""))


def check_param_keys(params: dict) -> None:
    """The receipt's params must be exactly the keys the stark backend writes (each is then
    compared with its recomputed value): a missing key is not defaulted, an extra one would be
    unbound metadata."""
    keys = PARAM_KEYS + (RISC0_PARAM_KEYS if "abi" in params else ())
    missing = [k for k in keys if k not in params]
    extra = sorted(k for k in params if k not in keys)
    if missing or extra:
        raise VerificationError(
            "stark receipt params " + (f"lack {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "") + (f"have unbound key(s) {', '.join(extra)}" if extra else ""))


@dataclass(frozen=True)
class StarkVerification:
    """What a stark verification established, every value recomputed from the verified seal,
    the claim and the verifying key (never read from the receipt's params):

    preset           the seal's preset (its parameters are in the verifying-key digest the
                     transcripts observe, so another preset's proof does not verify)
    security         the SecurityEstimate recomputed from the preset and the verified heights
                     (of a composed receipt verified by StarkBackend.verify: the weakest receipt's
                     in its tree, as pyzkvm.Verified.security)
    proof_bytes      Σ of the segments' proof lengths
    cycles           the claim's cycle count (bound: the last segment's public values)
    segments         number of segment proofs; segment_lengths their cycles (from the
                     public-value chain); log_heights every segment's table heights
    zero_knowledge   the proofs are in the preset's hiding format (stark/zk.py; bound: it is
                     in the verifying key). That format reveals nothing about the private input
                     beyond the claim *if the prover's randomness was secret*: no verifier can
                     check that (a prover with a fixed secret makes valid, reproducible seals)"""

    preset: str
    security: SecurityEstimate
    proof_bytes: int
    cycles: int
    segments: int
    segment_lengths: list
    log_heights: list
    zero_knowledge: bool = False
    profile: str = "sp1"     #: the ABI profile the statement was built under (params "abi")
    halt_type: int = 0       #: risc0: HALT's type, bound by the proof

    def params(self) -> dict:
        """The params an honest receipt of this proof carries (except segment_cycles, the
        prover's cut, which check_params checks against segment_lengths)."""
        extra = {"abi": "risc0", "halt_type": self.halt_type} if self.profile == "risc0" else {}
        return {"preset": self.preset, "security_bits": round(self.security.bits, 1), "proof_bytes": self.proof_bytes,
                "cycles": self.cycles, "segments": self.segments, "zero_knowledge": self.zero_knowledge, **extra}

    def check_params(self, params: dict) -> None:
        """VerificationError unless every param equals its recomputed value; segment_cycles must
        be the length of every segment but the last, and at least the last's — of a receipt of
        one segment, its length (any longer cut would be a number the proof does not bind)."""
        for key, want in self.params().items():
            got = params.get(key)
            if type(got) is not type(want) or got != want:
                raise VerificationError(f"receipt params say {key} = {got!r}, the verified seal gives {want!r}")
        cut = params.get("segment_cycles")
        if isinstance(cut, bool) or not isinstance(cut, int) or \
                any(n != cut for n in self.segment_lengths[:-1]) or self.segment_lengths[-1] > cut or \
                (len(self.segment_lengths) == 1 and cut != self.segment_lengths[0]):
            raise VerificationError(f"receipt params say segment_cycles = {cut!r}, but the verified segments have "
                                    f"{self.segment_lengths} cycles")

    def to_json(self) -> dict:
        return {"preset": self.preset, "security": self.security.to_json(), "proof_bytes": self.proof_bytes,
                "cycles": self.cycles, "segments": self.segments, "segment_lengths": list(self.segment_lengths),
                "zero_knowledge": self.zero_knowledge}
