"""``pyzkvm prove ELF``: run a guest and write a receipt for the claim its run makes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import PyzkvmError, UsageError
from ..units import format_size
from .common import ELF_HELP, add_input_args, guest_elf, parse_inputs, printable_text, write_atomically
from .progress import progress_reporter

ORDER = 20

HELP = "run a guest and write a receipt (a proof, or a dev-mode receipt with --backend trace)"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "prove",
        help=HELP,
        description=(
            "Run ELF on the inputs and write a receipt for its claim (image ID, exit code, journal, "
            "cycles). The default backend is 'stark' when available, else 'trace' (dev mode: the "
            "receipt is NOT a proof). A guest that exits non-zero still gets a receipt whose claim "
            "carries the exit code (as RISC Zero and SP1 do); prove then exits with status 1."
        ),
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    add_input_args(p)
    p.add_argument("--backend", "-b", metavar="NAME", help="prover backend (see 'pyzkvm backends')")
    p.add_argument("--abi", choices=("sp1", "risc0"), default="sp1", help="guest ABI profile (default sp1)")
    p.add_argument("-o", "--output", metavar="FILE", help="receipt path (default ./<elf stem>.<backend>.receipt)")
    p.add_argument(
        "--segment-cycles",
        type=int,
        metavar="N",
        help="prove the run in segments of N cycles, one receipt (continuations, docs/continuations.md); "
        "stark splits runs longer than 2^20 cycles by default (5.8-7.2 GB peak, bench/results/stark_scale.md); stark and trace",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="prove the segments as tasks on a local Dask cluster of N worker processes (stark or trace; "
        "docs/distributed.md); the receipt is the same as proving here",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="prove the segments on an existing Dask cluster (tcp://host:8786)")
    p.add_argument(
        "--assume",
        action="append",
        metavar="RECEIPT",
        help="a receipt the guest asserts with VERIFY_SP1_PROOF (repeatable, in the guest's order): "
        "attached to the composed receipt and verified with it (docs/composition.md)",
    )
    p.set_defaults(handler=run_prove)


def run_prove(args) -> int:
    from ..api import prove
    from ..backends import default_backend_name
    from ..program import Program

    from .verify import read_receipt

    args.elf = guest_elf(args.elf, args.abi)
    program = Program.from_elf(args.elf, abi=args.abi)
    inputs = parse_inputs(args.input)
    assumptions = [read_receipt(path) for path in args.assume] if args.assume else None
    backend = args.backend or default_backend_name()
    output = Path(args.output) if args.output else Path(f"{Path(args.elf).stem}.{backend}.receipt")

    if args.segment_cycles is not None and args.segment_cycles <= 0:
        raise UsageError(f"--segment-cycles must be positive, got {args.segment_cycles}")
    started = time.perf_counter()
    if args.workers is not None or args.scheduler:
        receipt = _prove_on_cluster(args, program, inputs, backend, assumptions)
        write_receipt(receipt, output, time.perf_counter() - started)
        return 0 if receipt.claim.exit_code == 0 else _guest_failed(receipt)
    with progress_reporter(f"proving with {backend}") as report:
        options = {"progress": report} if report else {}
        if assumptions is not None:
            options["assumptions"] = assumptions
        if args.segment_cycles is not None:
            options["segment_cycles"] = args.segment_cycles
        receipt = prove(program, inputs, backend=backend, **options)
    elapsed = time.perf_counter() - started
    write_receipt(receipt, output, elapsed)
    return 0 if receipt.claim.exit_code == 0 else _guest_failed(receipt)


def _guest_failed(receipt) -> int:
    print(f"pyzkvm: guest failed: exit code {receipt.claim.exit_code}; the receipt proves that failing run",
          file=sys.stderr)
    return 1


def _prove_on_cluster(args, program, inputs, backend: str, assumptions):
    """--workers / --scheduler: one run's segments proved as Dask tasks (pyzkvm.dist)."""
    from .. import dist
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES

    if args.workers is not None and args.workers <= 0:
        raise UsageError(f"--workers must be positive, got {args.workers}")
    if assumptions:
        raise UsageError("--workers/--scheduler prove one run's segments; a composed receipt (--assume) is proved here: drop them")
    segment_cycles = args.segment_cycles or DEFAULT_SEGMENT_CYCLES
    options = dict(workers=args.workers, scheduler=args.scheduler)
    if backend == "stark":
        return dist.prove_stark_segments(program, inputs, segment_cycles, **options)
    if backend == "trace":
        return dist.prove_segments(program, inputs, segment_cycles, **options)
    raise UsageError(f"--workers/--scheduler distribute stark or trace segments, not {backend!r}")


def write_receipt(receipt, output: Path, elapsed: float) -> None:
    """Write ``receipt`` atomically to ``output`` and print its summary (shared with aggregate)."""
    data = receipt.to_bytes()
    try:
        write_atomically(output, data)
    except OSError as exc:
        raise PyzkvmError(f"cannot write the receipt to {output}: {exc.strerror or exc}") from None

    claim = receipt.claim
    dev = "  (dev mode: NOT a proof)" if receipt.dev_mode else ""
    print(f"backend:    {receipt.backend} {receipt.backend_version}{dev}")
    print(f"image ID:   {claim.image_id.hex()}")
    print(f"exit code:  {claim.exit_code}")
    print(f"journal:    {receipt.journal.hex() or '(empty)'}")
    text = printable_text(receipt.journal)
    if text is not None:
        print(f"  as text:  {text!r}")
    print(f"cycles:     {claim.cycles}")
    print(f"time:       {elapsed:.3f} s")
    if "segments" in receipt.params:
        print(f"segments:   {receipt.params['segments']} of up to {receipt.params['segment_cycles']} cycles")
    if receipt.inner:
        print(f"assumes:    {len(receipt.inner)} inner receipt(s), carried in the receipt and verified with it")
    print(f"receipt:    {output} ({format_size(len(data))}, seal {format_size(len(receipt.seal))})")
