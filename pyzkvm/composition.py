"""Composition: receipts whose claims assume other receipts (docs/composition.md).

A guest asserts "a receipt exists for the program with image ID X whose journal has SHA-256 D"
with the VERIFY_SP1_PROOF syscall (SP1 profile, code 0x1B). The executor records each such
pair, in call order, as an *assumption* of the run (``Execution.assumptions``); the claim of
the run lists them (``Claim.assumptions``). A receipt for that claim is *conditional*: it
proves "this run happened, and it assumed these receipts exist". It becomes unconditional by
carrying the receipts it assumes (``Receipt.inner``) and having them checked too.

Verifying a composed receipt R for image ID I (``pyzkvm.verify`` does this for every backend,
through ``verify_composition``; recursion handles inner receipts that are composed themselves):

1. dev mode: if any receipt in the tree is dev mode (``trace``), the whole tree is dev-only;
2. the assumptions match the inner receipts one to one, in order (checked first: it costs
   nothing)::

       len(R.claim.assumptions) == len(R.inner)
       R.claim.assumptions[i] == (inner[i].claim.image_id, inner[i].claim.journal_digest)

   where journal_digest is SHA-256 of the inner journal (the claim's journal digest);
3. each inner receipt ``inner[i]`` verifies on its own, with its own backend, against the
   image ID its claim names, and records a successful run (exit code 0, and finished: not a
   RISC Zero-profile run that paused, whose exit code 0 means "resume me");
4. R's own seal verifies against I (its backend). That seal must bind the assumptions to the
   run that made them, so a prover cannot drop or alter one: the stark backend's AIR sends each
   VERIFY_SP1_PROOF's 16 words on the public ``assumption`` bus, which the verifier balances
   with the claim's assumptions (pyzkvm/machine/syscall_verify.py); the trace seal is only an
   integrity check (dev mode).

Steps 2 and 3 are why an aggregate of N receipts is not succinct: it carries the N inner
receipts and verifying it verifies each of them.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Callable, Sequence

from .errors import ReceiptFormatError, UsageError, VerificationError
from .receipt import Receipt

Assumption = tuple[bytes, bytes]


def assumption_of(receipt: Receipt) -> Assumption:
    """The assumption a receipt discharges: (image ID, SHA-256 of its journal) from its claim."""
    return receipt.claim.image_id, receipt.claim.journal_digest


def _short(pair: Assumption) -> str:
    return f"(image {pair[0].hex()[:16]}..., journal digest {pair[1].hex()[:16]}...)"


def as_receipts(receipts: Sequence) -> tuple[Receipt, ...]:
    """Receipts given to prove as assumptions: Receipt objects or their encoded bytes."""
    if isinstance(receipts, (Receipt, bytes, bytearray, str)):
        raise UsageError("assumptions must be a list of receipts, not one value")
    out = []
    for i, r in enumerate(receipts):
        if isinstance(r, (bytes, bytearray, memoryview)):
            try:
                r = Receipt.from_bytes(r)
            except ReceiptFormatError as exc:
                raise UsageError(f"assumption receipt {i} cannot be decoded: {exc}") from None
        if not isinstance(r, Receipt):
            raise UsageError(f"assumption {i} is {type(r).__name__}, not a Receipt")
        out.append(r)
    return tuple(out)


def resolve_assumptions(recorded: Sequence[Assumption], receipts: Sequence[Receipt]) -> tuple[Receipt, ...]:
    """At proving time: pair the assumptions the guest recorded with the receipts given for them.

    They must match one to one, in order (receipt i discharges assumption i), and each receipt
    must record a successful run (exit code 0): a failed run proves no assumption. Returns the
    receipts to attach as ``Receipt.inner``; raises UsageError naming the first missing, extra,
    misplaced or wrong receipt.
    """
    recorded = [(bytes(image_id), bytes(digest)) for image_id, digest in recorded]  # pairs, as assumption_of gives
    receipts = as_receipts(receipts)
    given = [assumption_of(r) for r in receipts]
    for i, r in enumerate(receipts):
        if r.claim.exit_code != 0:
            raise UsageError(
                f"receipt {i} for {_short(given[i])} records a failed run (exit code {r.claim.exit_code}): "
                "an assumption needs a receipt of a successful run"
            )
        if paused(r):
            raise UsageError(
                f"receipt {i} for {_short(given[i])} records a paused run: an assumption needs a receipt of "
                "a run that finished"
            )
    for i in range(max(len(recorded), len(given))):
        if i >= len(given):
            raise UsageError(
                f"missing receipt for assumption {i} {_short(recorded[i])}: the guest asserted "
                f"{len(recorded)} receipt(s), {len(given)} given; pass it with --assume (in order)"
            )
        if i >= len(recorded):
            raise UsageError(
                f"extra receipt {i} {_short(given[i])}: the guest asserted only {len(recorded)} receipt(s)"
            )
        if recorded[i] != given[i]:
            elsewhere = [j for j, g in enumerate(given) if g == recorded[i]]
            hint = f" (it is receipt {elsewhere[0]}: give them in the guest's order)" if elsewhere else ""
            raise UsageError(
                f"assumption {i} is {_short(recorded[i])} but receipt {i} is for {_short(given[i])}{hint}"
            )
    return receipts


def check_assumptions_match(receipt: Receipt) -> None:
    """Step 2: the claim's assumptions equal the inner receipts' (image ID, journal digest), in order."""
    assumptions, inner = receipt.claim.assumptions, receipt.inner
    for i in range(max(len(assumptions), len(inner))):
        if i >= len(inner):
            raise VerificationError(
                f"assumption {i} {_short(assumptions[i])} has no inner receipt: the claim assumes "
                f"{len(assumptions)} receipt(s) but the receipt carries {len(inner)}"
            )
        if i >= len(assumptions):
            raise VerificationError(
                f"inner receipt {i} {_short(assumption_of(inner[i]))} matches no assumption: the claim "
                f"assumes {len(assumptions)} receipt(s) but the receipt carries {len(inner)}"
            )
        if assumptions[i] != assumption_of(inner[i]):
            raise VerificationError(
                f"assumption {i} is {_short(assumptions[i])} but inner receipt {i} proves "
                f"{_short(assumption_of(inner[i]))}"
            )


def is_dev_only(receipt: Receipt, produces_proofs: Callable[[str], bool]) -> bool:
    """Step 1: True when this receipt or any receipt inside it is a dev-mode receipt."""
    if receipt.dev_mode or not produces_proofs(receipt.backend):
        return True
    return any(is_dev_only(r, produces_proofs) for r in receipt.inner)


def verify_composition(receipt: Receipt, verify_inner: Callable[[Receipt], None]) -> None:
    """Steps 2 and 3 for one receipt: match the assumptions (first: it costs nothing, and a tree
    that does not hold together is refused before its inner seals are checked), then verify
    each inner receipt with ``verify_inner`` (which recurses into its own inner receipts) and
    check it succeeded."""
    check_assumptions_match(receipt)
    for i, inner in enumerate(receipt.inner):
        try:
            verify_inner(inner)
        except VerificationError as exc:
            raise VerificationError(f"inner receipt {i}: {exc}") from None
        if inner.claim.exit_code != 0:
            raise VerificationError(
                f"inner receipt {i} records a failed run (exit code {inner.claim.exit_code}): "
                "it discharges no assumption"
            )
        if paused(inner):
            raise VerificationError(
                f"inner receipt {i} records a paused run (RISC Zero halt type 1), not one that finished: "
                "it discharges no assumption"
            )


def paused(receipt: Receipt) -> bool:
    """True for a receipt of a RISC Zero-profile run that paused (HALT type 1) instead of
    terminating: its exit code 0 does not mean the run finished. The stark backend's params
    say so (``halt_type``, bound by its proof: verify has checked it before this is asked)."""
    return receipt.params.get("halt_type", 0) != 0


@contextlib.contextmanager
def stderr_lines_once():
    """Print each distinct line written to stderr inside the block once, at its end: verifying
    N dev-mode inner receipts warns once, not N + 1 times."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            yield
    finally:
        for line in dict.fromkeys(captured.getvalue().splitlines()):
            print(line, file=sys.stderr)
