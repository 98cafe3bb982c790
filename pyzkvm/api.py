"""The library API: prove a run of a program, verify a receipt against an image ID.

    import pyzkvm
    program = pyzkvm.Program.from_elf("guests/bin/fibonacci.elf")
    receipt = pyzkvm.prove(program, [pyzkvm.inputs.u32(10)])
    pyzkvm.verify(receipt, program.image_id)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

from .backends import default_backend_name, get_backend
from .backends.base import check_image_and_journal, dev_mode_enabled, refuse_unless_dev_mode
from .errors import (
    BackendError,
    BackendUnavailable,
    UsageError,
    VerificationError,
)
from .program import Program, as_image_id
from .receipt import Claim, Receipt


def execute(program, inputs: Sequence[bytes] = (), **options):
    """Run ``program`` on ``inputs`` (the hint stream) and return its Execution (journal, exit code, ...)."""
    from .executor import execute as _execute

    return _execute(_as_program(program), _as_inputs(inputs), **options)


def prove(
    program, inputs: Sequence[bytes] = (), backend: str | None = None, assumptions: Sequence | None = None, **options
) -> Receipt:
    """Run ``program`` on ``inputs`` and return a receipt for the claim the run makes.

    ``backend`` names the prover (default: ``stark`` when available, else ``trace``, whose
    receipts are dev-mode, not proofs). ``options`` go to the backend (e.g. ``progress``).
    A guest that exits non-zero still gets a receipt whose claim carries its exit code.

    ``assumptions`` are the receipts the guest asserts with VERIFY_SP1_PROOF (Receipts or
    their bytes), one per assertion, in the guest's order: they become the composed receipt's
    inner receipts (docs/composition.md). A guest whose assertions do not match them one to
    one is a UsageError naming the missing or extra one.
    """
    program = _as_program(program)
    inputs = _as_inputs(inputs)
    name = backend or default_backend_name()
    prover = get_backend(name)
    availability = prover.availability()
    if not availability:
        raise BackendUnavailable(f"backend {name!r} is not available: {availability.reason}")
    if assumptions is not None:
        from .composition import as_receipts

        assumptions = as_receipts(assumptions)
    if assumptions:
        if not getattr(prover, "supports_assumptions", False):
            raise UsageError(
                f"backend {name!r} cannot prove composed receipts (assumptions) yet: use --backend stark (or trace, dev mode)"
            )
        from .receipt import MAX_INNER

        if len(assumptions) > MAX_INNER:  # (the receipt could not carry them: refused after proving)
            raise UsageError(f"{len(assumptions)} assumption receipts, more than the {MAX_INNER} one receipt carries: "
                             "split the guest's assertions over several runs (pyzkvm aggregate does, in groups)")
        _check_assumption_receipts(assumptions)
        options["assumptions"] = assumptions
    receipt = prover.prove(program, inputs, **options)
    if not isinstance(receipt, Receipt):
        raise BackendError(f"backend {name!r} returned {type(receipt).__name__}, not a Receipt")
    if receipt.claim.assumptions or receipt.inner:
        from .composition import check_assumptions_match

        try:
            check_assumptions_match(receipt)
        except VerificationError as exc:
            raise BackendError(f"backend {name!r} returned a composed receipt that does not hold together: {exc}") from None
    return receipt


def _check_assumption_receipts(receipts: Sequence[Receipt]) -> None:
    """Before proving on them: every assumption receipt must verify as it stands — its seal, its
    own inner receipts, its image ID and journal — or the composed receipt made from it would
    be refused by every verifier after the proving time was spent. Checked for integrity only
    (verify_integrity: the composed receipt is then dev-mode, or as weak as its weakest receipt,
    and its verifier decides: docs/composition.md)."""
    for i, r in enumerate(receipts):
        try:
            _check_composable(r)  # (before its verifier asks for an --elf the command does not take)
            verify_integrity(r, r.claim.image_id)
        except VerificationError as exc:
            raise UsageError(f"assumption receipt {i} does not verify ({exc}): prove it again, or pass the right "
                             "receipt") from None


def verify_integrity(receipt: Receipt, image_id) -> "Verified":
    """verify_report of a receipt this process is about to build on or write (an assumption, a
    worker's answer): its seal, inner receipts, image ID and journal checked, whatever its preset
    or dev mode — what it is good for is its final verifier's policy — and no "accepting a
    dev-mode receipt" warning on stderr (nobody accepts it here)."""
    import contextlib
    import io

    policy = {"allow_insecure": True} if "allow_insecure" in _parameters(_verifier(receipt.backend).verify) else {}
    with contextlib.redirect_stderr(io.StringIO()):
        return verify_report(receipt, image_id, dev_mode=True, **policy)


@dataclass(frozen=True)
class Verified:
    """What ``verify_report`` established: the claim, and what the receipt's backend says it
    verified (``report``: for ``stark`` a StarkVerification — security estimate, proof bytes,
    segments, recomputed from the seal; None for a backend that reports nothing). Show these,
    not the receipt's ``params`` or ``backend_version``: those are the prover's metadata."""

    claim: Claim
    report: Any = None
    #: False when the backend's proof does not bind ``claim.cycles`` (sp1, risc0: their proofs
    #: commit to the journal and the exit, not the cycle count): the count is the prover's report
    cycles_proved: bool = True
    #: a composed receipt's inner receipts' security estimates, recomputed by their verifiers
    #: (every level of the tree; those whose backend gives none are left out)
    inner_security: tuple = ()
    #: True when the receipt, or one inside it, is a dev-mode receipt (accepted in dev mode
    #: only): then nothing it claims is proved
    dev_mode: bool = False

    @property
    def security(self):
        """The security estimate the verifier recomputed (None when the backend gives none, or
        when the tree holds a dev-mode receipt: no estimate covers its claim): of a composed
        receipt, the weakest in its tree — the claim holds only as far as every receipt it
        assumes does."""
        if self.dev_mode:
            return None
        estimates = [e for e in (getattr(self.report, "security", None), *self.inner_security) if e is not None]
        return min(estimates, key=lambda e: e.bits) if estimates else None

    @property
    def paused(self) -> bool:
        """True for a RISC Zero-profile run that paused (HALT type 1, bound by the stark proof)
        instead of finishing: its claim's exit code 0 does not mean success."""
        return getattr(self.report, "halt_type", 0) == 1


def verify(receipt, image_id, dev_mode: bool | None = None, **options) -> Claim:
    """Check that ``receipt`` proves its claim about the program with ``image_id``; return the claim
    (``verify_report`` also returns what the backend verified, e.g. the security estimate).

    Checks here, for every backend: the claim's image ID equals ``image_id`` and SHA-256 of the
    journal equals the claim's journal digest. A composed receipt's inner receipts are each
    verified the same way (recursively, with their own backends, against the image IDs their
    claims name) and must match the claim's assumptions one to one (pyzkvm/composition.py).
    Then the receipt's backend checks its seal. Dev-mode receipts (``trace``) — or a receipt
    with one inside — are refused unless dev mode is on (``dev_mode=True`` or
    PYZKVM_DEV_MODE=1). Raises VerificationError (or DevModeReceiptError) saying what failed.
    ``receipt`` may be a Receipt or its bytes; ``image_id`` 32 bytes, a 64-digit hex string or a Program.
    Given the Program (or ``program=``), a receipt whose backend cannot vouch for a run under that
    program's executor profile is refused (stark: sp1@3 and sp1@4.0, whose syscalls its proof does
    not follow: docs/abi.md, "SP1 versions").
    ``options`` (e.g. ``replay``, ``program``) go to the outer receipt's backend only (``program``
    must be the image ID's program, and goes on where the backend's verify takes it), except
    the acceptance policy — ``min_security_bits`` (stark: default 100) and ``allow_insecure``
    (shorthand for no minimum: test-preset proofs) — which applies to the whole tree: it also
    goes to every inner receipt's backend whose verify takes it.

    A receipt of a RISC Zero-profile run that *paused* (HALT type 1) is refused here: its claim
    says exit code 0, which a caller would read as a finished, successful run, and a Claim has
    no field for the halt. ``verify_report`` verifies it and says so (``Verified.paused``).
    """
    verified = verify_report(receipt, image_id, dev_mode, **options)
    if verified.paused:
        raise VerificationError("the receipt proves a RISC Zero-profile run that paused (halt type 1), not one that "
                                "finished: its exit code 0 means 'resume me'; pyzkvm.verify_report verifies it and "
                                "says so (Verified.paused)")
    return verified.claim


def verify_report(receipt, image_id, dev_mode: bool | None = None, **options) -> Verified:
    """``verify``, returning a Verified: the claim and the backend's report of what it checked
    (for stark: the security estimate recomputed from the verified seal, proof bytes, segments)."""
    if isinstance(receipt, (bytes, bytearray, memoryview)):
        receipt = Receipt.from_bytes(receipt)
    if not isinstance(receipt, Receipt):
        raise UsageError(f"verify needs a Receipt or receipt bytes, not {type(receipt).__name__}")
    dev_mode_enabled(dev_mode)  # (refuses a dev_mode that is not True, False or None: "false" is not False)
    program = image_id if isinstance(image_id, Program) else options.get("program")
    image_id = as_image_id(image_id)
    if isinstance(program, Program) and program.image_id != image_id:
        raise UsageError("program= is not the program of the image ID given: pass one of them")
    check_image_and_journal(receipt, image_id)
    if isinstance(program, Program):  # the receipt's claim may be about another executor's run than this program's
        why = getattr(_verifier(receipt.backend), "unproved_profile", lambda profile: None)(program.profile)
        if why is not None:
            raise VerificationError(f"this {receipt.backend} receipt cannot vouch for the ELF's run under profile "
                                    f"{program.profile}: {why}")
    from .composition import is_dev_only

    dev_tree = is_dev_only(receipt, _produces_proofs)
    if dev_tree:
        # Gate here too, so a dev-mode plug-in that forgets to gate cannot pass for a proof,
        # and a proof that carries a dev-mode receipt inside cannot either.
        refuse_unless_dev_mode(dev_mode)
    inner_security: list = []  # (filled by _verify_inner, at every level of the tree)
    if receipt.inner:
        from .composition import stderr_lines_once

        policy = {k: options[k] for k in TREE_OPTIONS if k in options}
        with stderr_lines_once():
            report = _verify_one(receipt, image_id, options, inner_security, policy)
    else:
        report = _verify_one(receipt, image_id, options, inner_security)
    return Verified(receipt.claim, report, cycles_proved=_verifier(receipt.backend).proves_cycles,
                    inner_security=tuple(inner_security), dev_mode=dev_tree)


#: verify options that apply to every receipt of a composed tree, not just the outer one
TREE_OPTIONS = ("allow_insecure", "min_security_bits")


def _produces_proofs(backend: str) -> bool:
    return _verifier(backend).produces_proofs


def _verifier(backend: str):
    try:
        return get_backend(backend)
    except UsageError:
        raise VerificationError(f"receipt was made by backend {backend!r}, which is not installed here") from None
    except BackendError as exc:
        raise VerificationError(f"receipt was made by backend {backend!r}, which cannot load here: {exc}") from None


def _verify_one(receipt: Receipt, image_id: bytes, options: dict, inner_security: list, policy: dict | None = None):
    """Verify one receipt of the tree: its inner receipts first, then its assumptions, then its seal;
    returns what its backend's verify returned (its report, or None).
    Dev mode has been gated for the whole tree already; ``policy`` (TREE_OPTIONS) goes to the inner ones,
    whose security estimates are appended to ``inner_security``."""
    from .composition import verify_composition

    check_image_and_journal(receipt, image_id)
    verifier = _verifier(receipt.backend)
    if "program" in options and "program" not in _parameters(verifier.verify):  # (verify_report read it)
        options = {k: v for k, v in options.items() if k != "program"}
    if receipt.inner or receipt.claim.assumptions:
        if not getattr(verifier, "supports_assumptions", False):  # its seal cannot bind them
            raise VerificationError(f"the claim lists assumptions or the receipt carries inner receipts, but backend "
                                    f"{receipt.backend!r} makes no composed receipts (its proof does not bind them): "
                                    "the receipt was altered")
        verify_composition(receipt, lambda inner: _verify_inner(inner, policy or {}, inner_security))
        if "inner_verified" in _parameters(verifier.verify):  # (its verify would check the tree again)
            options = {**options, "inner_verified": True}
    if not verifier.produces_proofs or receipt.dev_mode:
        return verifier.verify(receipt, image_id, dev_mode=True, **options)
    if "dev_mode" in _parameters(verifier.verify):
        # a receipt that says it is a proof is checked as one (a tool's own dev mode, which accepts
        # mock proofs, is not switched on by PYZKVM_DEV_MODE for it: _subprocess.mock_verification)
        options = {**options, "dev_mode": False}
    return verifier.verify(receipt, image_id, **options)


def _check_composable(inner: Receipt) -> None:
    """VerificationError for an inner receipt no composed receipt can carry: its backend's
    verifier needs the guest ELF (risc0, sp1), which a composed receipt does not hold."""
    if _verifier(inner.backend).verify_needs_program:
        raise VerificationError(
            f"it was made by backend {inner.backend!r}, whose verifier needs the guest ELF, which a composed "
            "receipt does not carry: compose receipts of backends that verify from the image ID alone"
        )


def _verify_inner(inner: Receipt, policy: dict, inner_security: list) -> None:
    _check_composable(inner)
    verifier = _verifier(inner.backend)
    takes = _parameters(verifier.verify)
    report = _verify_one(inner, inner.claim.image_id, {k: v for k, v in policy.items() if k in takes}, inner_security,
                         policy)
    if getattr(report, "security", None) is not None:
        inner_security.append(report.security)


def _parameters(function) -> set:
    import inspect

    return set(inspect.signature(function).parameters)




def _as_program(program) -> Program:
    if isinstance(program, Program):
        return program
    if isinstance(program, (str, os.PathLike)):
        return Program.from_elf(program)
    raise UsageError(f"expected a Program or an ELF path, not {type(program).__name__}")


def _as_inputs(inputs) -> list[bytes]:
    if isinstance(inputs, (bytes, bytearray, str)) or not hasattr(inputs, "__iter__"):
        raise UsageError(f"inputs must be a list of byte strings (one per input element), not one value "
                         f"({type(inputs).__name__}): e.g. [pyzkvm.inputs.u32(10)]")
    out = []
    for i, item in enumerate(inputs):
        if not isinstance(item, (bytes, bytearray, memoryview)):
            raise UsageError(
                f"input element {i} is {type(item).__name__}, not bytes: encode it (e.g. pyzkvm.inputs.u32(10))"
            )
        out.append(bytes(item))
    return out
