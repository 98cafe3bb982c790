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
    if claim.assumptions:
        rows.append(("assumptions", str(len(claim.assumptions))))
    if receipt.inner:
        rows.append(("inner receipts", str(len(receipt.inner))))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0
