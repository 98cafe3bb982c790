"""``pyzkvm verify RECEIPT``: check a receipt against an image ID."""

from __future__ import annotations

import sys

from ..errors import UsageError, VerificationError
from .common import add_abi_arg, add_input_args, load_guest, parse_inputs, printable_text
from .progress import progress_reporter

ORDER = 30


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify",
        help="check a receipt against an image ID (or the ELF it should come from)",
        description=(
            "Verify RECEIPT for the program given by --image-id or --elf. Exit 0 and print one "
            "'verified: ...' line when it holds; exit 1 with the reason when not. Dev-mode "
            "(trace) receipts are refused unless --dev-mode or PYZKVM_DEV_MODE=1. --replay "
            "re-executes the ELF on the --input values and compares the trace and claim: sound, "
            "but neither succinct (it redoes the work) nor private (it needs the inputs)."
        ),
    )
    p.add_argument("receipt", metavar="RECEIPT", help="receipt file written by 'pyzkvm prove'")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--image-id", metavar="HEX", help="the expected image ID (64 hex digits)")
    who.add_argument("--elf", metavar="ELF", help="compute the expected image ID from this ELF")
    add_abi_arg(p, help="ABI profile of --elf (default sp1; sp1@N as for run: docs/abi.md)")
    p.add_argument("--dev-mode", action="store_true", help="accept dev-mode (trace) receipts, with a warning")
    p.add_argument("--min-security-bits", type=float, metavar="BITS",
                   help="refuse stark proofs whose recomputed conjectured security is below BITS (default 100)")
    p.add_argument(
        "--replay",
        action="store_true",
        help="trace receipts: re-execute --elf on the --input values and compare (not succinct, not private)",
    )
    add_input_args(p)
    p.set_defaults(handler=run_verify)


def read_receipt(path: str):
    """Load and decode a receipt file; a missing or corrupt file is a one-line error."""
    from ..errors import ReceiptFormatError
    from ..fileio import read_file
    from ..limits import MAX_RECEIPT_FILE_BYTES
    from ..receipt import Receipt

    data = read_file(path, limit=MAX_RECEIPT_FILE_BYTES, what="receipt", error=ReceiptFormatError)
    try:
        return Receipt.from_bytes(data)
    except ReceiptFormatError as exc:
        raise ReceiptFormatError(f"{path}: {exc}") from None


def _verifier_needs_program(backend_name: str) -> bool:
    from ..backends import get_backend
    from ..errors import PyzkvmError

    try:
        return get_backend(backend_name).verify_needs_program
    except PyzkvmError:
        return False  # pyzkvm.verify reports the missing backend itself


def run_verify(args) -> int:
    with progress_reporter(f"verify {args.receipt}") as report:
        return _verify(args, report)


def _verify(args, report) -> int:
    from ..api import as_image_id, verify_report

    if args.replay and not args.elf:
        raise UsageError("--replay needs --elf (and the --input values the guest ran on)")
    if args.input and not args.replay:
        raise UsageError("--input is only used with --replay")
    program = None
    if args.elf:
        report("image ID of the ELF", 0.0)  # about 2 s of CPU per MiB of image (docs/limits.md)
        program, args.elf = load_guest(args.elf, args.abi)
    image_id = program if program else as_image_id(args.image_id)  # (the Program: its profile is checked too)
    report("read the receipt", 0.3)
    receipt = read_receipt(args.receipt)
    if args.replay and receipt.backend != "trace":
        raise UsageError(f"--replay checks trace receipts only; this receipt is from {receipt.backend!r}")
    options: dict = {"replay": (program, parse_inputs(args.input))} if args.replay else {}
    if args.min_security_bits is not None:
        options["min_security_bits"] = args.min_security_bits
    if program is not None and _verifier_needs_program(receipt.backend):
        options["program"] = program
    report(f"re-execute and compare ({receipt.backend})" if args.replay else f"check the seal ({receipt.backend})", 0.4)
    try:
        verified = verify_report(receipt, image_id, dev_mode=True if args.dev_mode else None, **options)
    except VerificationError as exc:
        from . import one_line  # (a tool's words are in it: its control characters escaped)

        print(f"pyzkvm: verification failed: {one_line(str(exc))}", file=sys.stderr)
        return 1
    journal = printable_text(receipt.journal)
    shown = repr(journal) if journal is not None else (receipt.journal.hex() or "(empty)")
    if not verified.dev_mode:
        kind = "receipt"
    elif receipt.dev_mode or receipt.backend == "trace":
        kind = "dev-mode receipt (NOT a proof)"
    else:  # a proof whose claim assumes a dev-mode receipt's: proved no further than that one
        kind = "receipt with a dev-mode receipt inside (NOT a proof)"
    replayed = ", replayed" if args.replay else ""
    if args.replay and receipt.inner:  # (inner receipts carry no program or inputs to run again)
        replayed = f", replayed (the outer run only: its {len(receipt.inner)} inner receipt(s) were not)"
    claim = verified.claim
    # the security the verifier recomputed from the seal, never the receipt's own params
    security = f", {verified.security.bits:.1f} bits" if verified.security is not None else ""
    if security and verified.inner_security:  # a composed receipt: its weakest receipt's estimate
        security += " (the weakest receipt in its tree)"
    # the image ID binds the ABI family, not the SP1 version: said where no ELF was given to check it
    family = getattr(verified.report, "profile", None)
    version = (", the run as SP1 v5 executes it (--elf checks the ELF's own SP1 version)"
               if family == "sp1" and program is None else "")
    # a RISC Zero-profile run that paused (HALT type 1, bound by the stark proof) has not finished
    paused = " (paused, not finished: RISC Zero halt type 1)" if verified.paused else ""
    # a count the proof does not bind is shown as the prover's report, not as verified
    cycles = f"{claim.cycles} cycles" + ("" if verified.cycles_proved else " (reported by the prover, not proved)")
    print(
        f"verified: {receipt.backend} {kind} for image {claim.image_id.hex()}: "
        f"exit code {claim.exit_code}{paused}, {cycles}, journal {shown}{replayed}{security}{version}"
    )
    return 0
