"""``pyzkvm aggregate RECEIPT...``: compose N receipts into one (docs/composition.md).

Runs the aggregator guest (guests/aggregator) on the receipts' claims — input u32 N, then one
64-byte element image ID ‖ journal digest per receipt — so that its run asserts each claim
with VERIFY_SP1_PROOF and commits ``u32 N ‖ SHA-256(claim_1 ‖ … ‖ claim_N)``; the receipts
are attached as the assumptions' inner receipts. ``pyzkvm verify OUT --elf
guests/bin/aggregator.elf`` then checks the outer receipt, every inner one, and that they match.
"""

from __future__ import annotations

import struct
import sys
import time

from ..errors import FileReadError, UsageError

ORDER = 25

#: The prebuilt guest that aggregates (guests/bin of a checkout, or the package data of a wheel).
AGGREGATOR_GUEST = "aggregator"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "aggregate",
        help="compose N receipts (of any programs) into one receipt via the aggregator guest",
        description=(
            "Run the aggregator guest on the claims of RECEIPT... and write one composed receipt whose "
            "journal is u32 N || SHA-256(image ID || journal digest of each receipt, in order) and which "
            "carries the N receipts as its assumptions' inner receipts. The outer proof (stark, the default) "
            "is succinct and binds the N assumptions, but the file grows with N (it carries every inner "
            "receipt, and verifying it verifies each). With --backend trace, or a trace receipt among the "
            "inputs, the result is dev-mode only: NOT a proof."
        ),
    )
    p.add_argument("receipts", metavar="RECEIPT", nargs="+", help="receipt files to aggregate, in order")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output path (default ./aggregate.<backend>.receipt, or a new name -N when it exists)")
    p.add_argument("--force", action="store_true", help="overwrite the default output path when it exists")
    p.add_argument(
        "--backend",
        "-b",
        metavar="NAME",
        help="prover for the outer receipt (default: the default backend if it can prove composition, else trace)",
    )
    p.add_argument("--elf", metavar="ELF", help=f"the aggregator guest: a path or a prebuilt guest's name (default {AGGREGATOR_GUEST})")
    p.set_defaults(handler=run_aggregate)


def aggregator_inputs(receipts) -> list[bytes]:
    """The aggregator guest's input: u32 N, then image ID ‖ journal digest of each receipt's claim."""
    return [struct.pack("<I", len(receipts))] + [r.claim.image_id + r.claim.journal_digest for r in receipts]


def composition_backend(name: str | None) -> str:
    """``name``, or the default backend when it can prove composition, else ``trace``."""
    from ..backends import default_backend_name, get_backend

    if name:
        return name
    default = default_backend_name()
    return default if getattr(get_backend(default), "supports_assumptions", False) else "trace"


def run_aggregate(args) -> int:
    from ..api import prove
    from ..guests.prebuilt import resolve_guest
    from ..program import Program
    from ..receipt import MAX_INNER
    from .common import dev_mode_note
    from .progress import progress_reporter
    from .prove import receipt_path, refuse_to_write_over, write_receipt
    from .verify import read_receipt

    elf = resolve_guest(args.elf or AGGREGATOR_GUEST)
    if not elf.is_file():  # a missing file is exit 1 in every command (fileio.FileReadError)
        raise FileReadError(f"{elf}: no aggregator guest ELF here; build it (pyzkvm build guests/aggregator) and pass --elf")
    program = Program.from_elf(elf)
    if len(args.receipts) > MAX_INNER:  # (a receipt carries at most that many: refused before proving)
        raise UsageError(f"{len(args.receipts)} receipts to aggregate, more than the {MAX_INNER} one receipt carries: "
                         "aggregate them in groups, then aggregate the groups' receipts")
    receipts = [read_receipt(path) for path in args.receipts]
    backend = composition_backend(args.backend)
    output = receipt_path(args.output, "aggregate", backend, args.force)
    refuse_to_write_over(output, [elf, *args.receipts])  # (-o agg.elf replaced the guest; -o r.receipt an input)

    started = time.perf_counter()
    with progress_reporter(f"aggregating {len(receipts)} receipt(s) with {backend}") as report:
        options = {"progress": report} if report else {}
        receipt = prove(program, aggregator_inputs(receipts), backend=backend, assumptions=receipts, **options)
    elapsed = time.perf_counter() - started
    if receipt.claim.exit_code != 0:
        # the guest panicked (it should not, on inputs built here): say so and write nothing
        print(f"pyzkvm: the aggregator guest failed with exit code {receipt.claim.exit_code}", file=sys.stderr)
        return 1
    write_receipt(receipt, output, elapsed)
    print(f"verify it:  pyzkvm verify {output} --elf {elf}{' --dev-mode' if dev_mode_note(receipt) else ''}"
          f"{_weakest_bits_option(receipt)}")
    return 0


def _weakest_bits_option(receipt) -> str:
    """' --min-security-bits N' when a stark seal in the receipt's tree implies fewer bits than
    verify's default minimum (test-preset receipts: verify refuses the tree without it), else ''
    (the estimates inspect shows: inspect.weakest_security)."""
    import math

    from ..backends.stark_policy import MIN_SECURITY_BITS
    from .inspect import weakest_security

    weakest = weakest_security(receipt)
    return f" --min-security-bits {math.floor(weakest.bits)}" if weakest is not None and weakest.bits < MIN_SECURITY_BITS else ""
