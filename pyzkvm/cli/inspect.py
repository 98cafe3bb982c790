"""``pyzkvm inspect RECEIPT``: show what a receipt claims and what it carries (verifies nothing)."""

from __future__ import annotations

import json

from .common import printable_text

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
    if args.json:
        view = receipt.to_json()
        view["dev_mode"] = receipt.dev_mode
        view.update(_segments_view(receipt))
        print(json.dumps(view, indent=2))
        return 0
    claim = receipt.claim
    text = printable_text(receipt.journal)
    security = receipt.params.get("security_bits")
    rows = [
        ("backend", f"{receipt.backend} {receipt.backend_version}"),
        ("dev mode", "yes: NOT a proof" if receipt.dev_mode else "no"),
        ("image ID", claim.image_id.hex()),
        ("exit code", str(claim.exit_code)),
        ("journal", f"{receipt.journal.hex() or '(empty)'} ({len(receipt.journal)} bytes)"),
        ("journal text", repr(text) if text is not None else "(not printable text)"),
        ("cycles", str(claim.cycles) if claim.cycles else "0 (unknown)"),
        ("seal size", f"{len(receipt.seal)} bytes"),
        ("security", f"{security} bits" if security is not None else "(not stated by the backend)"),
    ]
    rows += [(f"param {k}", str(v)) for k, v in receipt.params.items() if k not in ("security_bits", "dev_mode")]
    if claim.assumptions or receipt.inner:
        rows.append(("assumptions", f"{len(claim.assumptions)} (receipts this claim relies on)"))
        rows.append(("inner receipts", f"{len(receipt.inner)} (carried here; verify checks them all)"))
    for seg in _segments_view(receipt).get("segments", []):  # continuations
        end = f"HALT, exit code {seg['exit_code']}" if seg["halted"] else f"pc {seg['end_pc']}"
        memory = (f", memory {seg['start_memory'][:12]}.. -> {seg['end_memory'][:12]}.." if "start_memory" in seg
                  else "")
        proof = f", proof {seg['proof_bytes']} bytes" if "proof_bytes" in seg else ""
        rows.append((
            f"segment {seg['index']}",
            f"cycles {seg['start_cycle']}..{seg['end_cycle']}, pc {seg['start_pc']} -> {end}{memory}, "
            f"journal {seg['journal_bytes']} bytes{proof}",
        ))  # fmt: skip
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
            f"{indent}  inner receipt {i}: {r.backend} {r.backend_version}{dev}, image {r.claim.image_id.hex()[:16]}..., "
            f"exit code {r.claim.exit_code}, journal {journal}, seal {len(r.seal)} bytes: {match} the assumption"
        )
        _print_composition(r, indent + "    ")


def _segments_view(receipt) -> dict:
    """{"segments": [...]} for a segmented trace or stark receipt (continuations), {} otherwise."""
    if receipt.backend not in ("trace", "stark") or "segments" not in receipt.params:
        return {}
    from ..errors import ProofFormatError, VerificationError

    if receipt.backend == "trace":
        from ..backends.trace_segments import describe_segments
    else:
        from ..backends.stark import describe_segments
    try:
        return {"segments": describe_segments(receipt)}
    except (VerificationError, ProofFormatError) as exc:
        return {"segments_error": str(exc)}
