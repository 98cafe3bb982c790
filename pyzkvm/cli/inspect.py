"""``pyzkvm inspect RECEIPT``: show what a receipt claims and what it carries (verifies nothing).

Nothing shown here is verified. Values that verification would establish are shown as the
seal implies them (for stark: the security estimate recomputed from the seal's preset and its
proofs' heights, not the receipt's ``security_bits``); the receipt's ``params`` and
``backend_version`` are labelled as the prover's metadata, and a param that disagrees with
the seal is flagged (``pyzkvm verify`` refuses such a receipt)."""

from __future__ import annotations

import json

from ..units import format_size
from .common import dev_mode_note, printable_text, shown

ORDER = 40


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="show a receipt's backend, claim, journal and proof size (does not verify it)",
        description="Decode RECEIPT and print its contents. This checks the format only, not the proof.",
    )
    p.add_argument("receipt", metavar="RECEIPT", help="receipt file")
    p.add_argument("--json", action="store_true", help="print the full receipt as JSON (bytes as hex)")
    p.set_defaults(handler=run_inspect)


def run_inspect(args) -> int:
    from .verify import read_receipt

    receipt = read_receipt(args.receipt)
    from_seal, seal_error = _seal_view(receipt)
    if args.json:
        view = receipt.to_json()
        view["dev_mode"] = bool(dev_mode_note(receipt))  # (it, or a receipt inside it: NOT a proof)
        view["verified"] = False
        if from_seal:
            view["from_seal"] = {k: (v.to_json() if k == "security" else v) for k, v in from_seal.items()}
        if seal_error:
            view["seal_error"] = seal_error
        weakest = _weakest_inside(receipt)
        if weakest is not None:  # a composed receipt: the lowest estimate of the seals inside it
            view["weakest_security_inside"] = weakest.to_json()
        view.update(_segments_view(receipt))
        print(json.dumps(view, indent=2))
        return 0
    claim = receipt.claim
    text = printable_text(receipt.journal)
    weakest = _weakest_inside(receipt)
    if from_seal and weakest is not None and weakest.bits < from_seal["security"].bits:
        # a composed receipt's claim holds only as far as every receipt it assumes does
        security = (f"{weakest} (the weakest receipt inside it; this one's seal: {from_seal['security'].bits:.1f} bits; "
                    "recomputed from the seals; run pyzkvm verify to check the proofs)")
    elif from_seal:
        security = f"{from_seal['security']} (recomputed from the seal; run pyzkvm verify to check the proof)"
    elif seal_error:
        security = f"(the seal cannot be read: {seal_error})"
    elif receipt.params.get("security_bits") is not None:
        security = f"{shown(receipt.params['security_bits'])} bits (stated by the prover, not verified)"
    else:
        security = "(not stated by the backend)"
    not_a_proof = dev_mode_note(receipt).removeprefix("dev mode: ")
    rows = [
        ("verified", "no: inspect reads the format only (pyzkvm verify checks the proof)"),
        ("backend", shown(receipt.backend)),
        ("backend version", f"{shown(receipt.backend_version)} (the prover's label, not verified)"),
        ("dev mode", f"yes: {not_a_proof}" if not_a_proof else "no"),
        ("image ID", claim.image_id.hex()),
        ("exit code", str(claim.exit_code)),
        ("journal", f"{receipt.journal.hex() or '(empty)'} ({format_size(len(receipt.journal))})"),
        ("journal text", repr(text) if text is not None else "(not printable text)"),
        ("cycles", str(claim.cycles) if claim.cycles else "0 (unknown)"),
        ("seal size", format_size(len(receipt.seal))),
        ("security", security),
    ]
    if from_seal and "zero_knowledge" in from_seal:  # the seal's preset says it (stark/zk.py)
        rows.append(("zero knowledge", "yes: a hiding-format proof, which reveals nothing about private inputs if the "
                     "prover kept its randomness secret (not checkable)" if from_seal["zero_knowledge"]
                     else "no: a transparent proof; its openings reveal trace values (registers, memory, input)"))
    for k, v in receipt.params.items():
        if k == "dev_mode":
            continue
        note = "receipt metadata"
        if from_seal and k in from_seal and from_seal[k] != v:
            note += f"; DISAGREES with the seal, which gives {from_seal[k]!r}: verify refuses this receipt"
        rows.append((f"param {shown(k)}", f"{shown(v)} ({note})"))
    if claim.assumptions or receipt.inner:
        rows.append(("assumptions", f"{len(claim.assumptions)} (receipts this claim relies on)"))
        rows.append(("inner receipts", f"{len(receipt.inner)} (carried here; verify checks them all)"))
    for seg in _segments_view(receipt).get("segments", []):  # continuations
        halt = f"HALT, exit code {seg['exit_code']}" if seg["halted"] else None
        if "start_pc" in seg:  # a dev-mode receipt's segments show their states; a stark seal's do not
            end = f", pc {seg['start_pc']} -> {halt or 'pc ' + seg['end_pc']}"
        else:
            end = f", {halt}" if halt else ""
        memory = (f", memory {seg['start_memory'][:12]}.. -> {seg['end_memory'][:12]}.." if "start_memory" in seg
                  else "")
        journal = f", journal {format_size(seg['journal_bytes'])}" if "journal_bytes" in seg else ""
        proof = f", proof {format_size(seg['proof_bytes'])}" if "proof_bytes" in seg else ""
        rows.append((f"segment {seg['index']}", f"cycles {seg['start_cycle']}..{seg['end_cycle']}{end}{memory}{journal}{proof}"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")
    _print_composition(receipt, indent="")
    return 0


def _print_composition(receipt, indent: str) -> None:
    """One line per assumption and its inner receipt (recursively), saying whether they match.
    A view only: ``pyzkvm verify`` is what checks the inner receipts' seals."""
    from ..composition import assumption_of

    assumptions, inner = receipt.claim.assumptions, receipt.inner
    for i in range(max(len(assumptions), len(inner))):
        pair = assumptions[i] if i < len(assumptions) else None
        head = (
            f"{indent}assumption {i}: image {pair[0].hex()}, journal digest {pair[1].hex()}"
            if pair
            else f"{indent}assumption {i}: (none: extra inner receipt)"
        )
        print(head)
        if i >= len(inner):
            print(f"{indent}  inner receipt {i}: MISSING")
            continue
        r = inner[i]
        match = "matches" if pair == assumption_of(r) else "DOES NOT match"
        dev = ", dev mode" if r.dev_mode else ""
        text = printable_text(r.journal)
        journal = repr(text) if text is not None else (r.journal.hex() or "(empty)")
        print(
            f"{indent}  inner receipt {i}: {shown(r.backend)} {shown(r.backend_version)}{dev}, image {r.claim.image_id.hex()[:16]}..., "
            f"exit code {r.claim.exit_code}, journal {journal}, seal {len(r.seal)} bytes: {match} the assumption"
        )
        _print_composition(r, indent + "    ")


def _weakest_inside(receipt):
    """The lowest security estimate the seals of the receipts inside ``receipt`` imply (every
    level), or None when none is a readable stark seal."""
    estimates = []
    pending = list(receipt.inner)
    while pending:
        r = pending.pop()
        view, _error = _seal_view(r)
        if view:
            estimates.append(view["security"])
        pending.extend(r.inner)
    return min(estimates, key=lambda e: e.bits) if estimates else None


def weakest_security(receipt):
    """The lowest security estimate the stark seals of ``receipt`` and of every receipt inside it
    imply, or None when none is a readable stark seal (aggregate's "verify it:" line)."""
    own, _error = _seal_view(receipt)
    estimates = [e for e in (own["security"] if own else None, _weakest_inside(receipt)) if e is not None]
    return min(estimates, key=lambda e: e.bits, default=None)


def _seal_view(receipt) -> tuple:
    """(what a stark seal implies, None) or (None, why it cannot be read); (None, None) for other backends."""
    if receipt.backend != "stark":
        return None, None
    from ..errors import PyzkvmError

    try:
        from ..backends.stark_seal import describe_seal

        return describe_seal(receipt), None
    except PyzkvmError as exc:
        return None, str(exc)


def _segments_view(receipt) -> dict:
    """{"segments": [...]} for a segmented trace or stark receipt (continuations), {} otherwise."""
    if receipt.backend not in ("trace", "stark") or "segments" not in receipt.params:
        return {}
    from ..errors import VerificationError

    if receipt.backend == "trace":
        from ..backends.trace_segments import describe_segments
    else:
        from ..backends.stark_seal import describe_segments
    try:
        return {"segments": describe_segments(receipt)}
    except VerificationError as exc:  # (ProofFormatError among them)
        return {"segments_error": str(exc)}
