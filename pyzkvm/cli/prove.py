"""``pyzkvm prove ELF``: run a guest and write a receipt for the claim its run makes."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from ..compile_ahead import compiling_ahead
from ..errors import PyzkvmError, UsageError
from ..units import format_size
from .common import (ELF_HELP, add_abi_arg, add_input_args, add_limit_args, add_stark_args, apply_output_caps, dev_mode_note,
                     load_guest, output_caps, parse_inputs, printable_text, segment_cycles_arg, shown, stark_options,
                     write_atomically)
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
            "carries the exit code (as RISC Zero's do; SP1 v5 proves no failing run); prove then exits with status 1."
        ),
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    add_input_args(p)
    p.add_argument("--backend", "-b", metavar="NAME", help="prover backend (see 'pyzkvm backends')")
    add_abi_arg(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="receipt path (default ./<elf stem>.<backend>.receipt; when that exists, a new "
                   "name <elf stem>.<backend>-N.receipt unless --force); a symlink is followed, a device written through")
    p.add_argument("--force", action="store_true", help="overwrite the default receipt path when it exists")
    add_limit_args(p)
    p.add_argument(
        "--segment-cycles",
        type=segment_cycles_arg,
        metavar="N",
        help="prove the run in segments of N cycles, one receipt (continuations, docs/continuations.md); "
        "stark splits runs whose tallest table the preset does not allow (2^20 cycles at the default preset; "
        "one 2^20-cycle proof peaks at ~1.5 GB, bench/results/stark_prove.md); stark and trace",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="prove the segments as tasks on a local Dask cluster of N worker processes (stark or trace; "
        "docs/distributed.md); the receipt proves the same claim as proving here (byte for byte when "
        "transparent: a hiding proof's randomness differs)",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="prove the segments on an existing Dask cluster (tcp://host:8786)")
    add_stark_args(p)
    p.add_argument(
        "--assume",
        action="append",
        metavar="RECEIPT",
        help="a receipt the guest asserts with VERIFY_SP1_PROOF (repeatable, in the guest's order): "
        "attached to the composed receipt and verified with it (docs/composition.md)",
    )
    p.set_defaults(handler=run_prove)


def checking_interrupts(report):
    """A progress callback that first re-raises an interrupt Python swallowed (cli/_signals.py),
    so that the prove stops at its next step rather than after the whole proof."""
    from ._signals import check_interrupted

    def progress(step: str, fraction: float) -> None:
        check_interrupted()
        if report is not None:
            report(step, fraction)

    return progress


def run_prove(args) -> int:
    from ..backends import default_backend_name
    from .verify import read_receipt

    program, args.elf = load_guest(args.elf, args.abi)
    inputs = parse_inputs(args.input)
    assumptions = [read_receipt(path) for path in args.assume] if args.assume else None
    backend = args.backend or default_backend_name()
    output = receipt_path(args.output, Path(args.elf).stem, backend, args.force)
    refuse_to_write_over(output, [args.elf, *(args.assume or []),
                                  *(spec[5:] for spec in args.input or [] if spec.startswith("file:"))])

    stark_options(args, backend)  # (--no-zk, --preset: checked before running)
    if args.workers is not None or args.scheduler:
        _check_cluster_options(args, backend, assumptions)
    apply_output_caps(args)
    # a cold stark prove compiles its kernels on two cores: a helper process compiles ahead
    # (compile_ahead.py; none when the kernel cache is warm, or the prove runs on workers)
    local_stark = backend == "stark" and args.workers is None and not args.scheduler
    with compiling_ahead() if local_stark else contextlib.nullcontext():
        return _prove_and_write(args, program, inputs, backend, assumptions, output)


def _prove_and_write(args, program, inputs, backend: str, assumptions, output: Path) -> int:
    from ..api import prove

    if backend == "stark":
        from ..backends.spill import SPILL_PREFIX
        from ..fileio import remove_stale_temp_dirs

        remove_stale_temp_dirs(SPILL_PREFIX)  # left by a prove killed before it could clean up
        _execute_first(program, inputs, args.max_cycles)
    started = time.perf_counter()
    if args.workers is not None or args.scheduler:
        with progress_reporter(f"proving with {backend} on workers") as report:
            receipt = _prove_on_cluster(args, program, inputs, backend, assumptions, checking_interrupts(report))
        write_receipt(receipt, output, time.perf_counter() - started)
        return 0 if receipt.claim.exit_code == 0 else _guest_failed(receipt)
    with progress_reporter(f"proving with {backend}") as report:
        options = {"progress": checking_interrupts(report)}
        if assumptions is not None:
            options["assumptions"] = assumptions
        if args.segment_cycles is not None:
            options["segment_cycles"] = args.segment_cycles
        if args.max_cycles is not None:
            options["max_cycles"] = args.max_cycles
        options.update(stark_options(args, backend))
        receipt = prove(program, inputs, backend=backend, **options)
    elapsed = time.perf_counter() - started
    write_receipt(receipt, output, elapsed)
    return 0 if receipt.claim.exit_code == 0 else _guest_failed(receipt)


def refuse_to_write_over(output: Path, inputs) -> None:
    """UsageError when -o names one of the command's own input files (the ELF, an --assume
    receipt, an --input file:): the receipt would replace it."""
    for path in inputs:
        try:
            same = output.exists() and os.path.samefile(output, path)
        except OSError:
            continue  # (a path that is not there: nothing to overwrite)
        if same:
            raise UsageError(f"-o {output} is this command's input {path}: give the receipt another file name")


def receipt_path(given: str | None, stem: str, backend: str, force: bool) -> Path:
    """Where the receipt goes: -o ``given``, else ./<stem>.<backend>.receipt, never silently over
    an earlier one (a new name -N unless ``force``). Checked before proving, so a bad -o fails
    fast (shared with aggregate)."""
    from ..fileio import names_a_folder

    if given is not None:
        if not given.strip():
            raise UsageError("-o/--output is empty: give a file name, or leave -o out for the default")
        output = Path(given)
        if names_a_folder(given):
            raise UsageError(f"-o {given} names a directory: give a file name inside it")
        if output.is_dir():
            raise UsageError(f"-o {output} is a directory: give a file name inside it")
        parent = output.resolve().parent
        if not parent.is_dir():
            why = "is not a directory" if parent.exists() else "does not exist (no such directory)"
            raise PyzkvmError(f"cannot write the receipt to {output}: {output.parent} {why}")
        if not os.access(parent, os.W_OK | os.X_OK):  # (before a long prove, not after it)
            raise PyzkvmError(f"cannot write the receipt to {output}: the directory {parent} is not writable")
        return output
    output = Path(f"{stem}.{backend}.receipt")
    n = 1
    while output.exists() and not force:
        n += 1
        output = Path(f"{stem}.{backend}-{n}.receipt")
    return output


def _execute_first(program, inputs, max_cycles: int | None) -> None:
    """Run the guest once without a trace before proving (≈ 1 s for 2^26 cycles): a guest that
    faults or never halts fails here, in seconds, not after minutes of proving and gigabytes of
    segment tables."""
    from ..executor import DEFAULT_MAX_CYCLES, execute

    execute(program, inputs, max_cycles=max_cycles or DEFAULT_MAX_CYCLES)


def _guest_failed(receipt) -> int:
    print(f"pyzkvm: guest failed: exit code {receipt.claim.exit_code}; the receipt proves that failing run",
          file=sys.stderr)
    return 1


def _prove_on_cluster(args, program, inputs, backend: str, assumptions, progress):
    """--workers / --scheduler: one run's segments proved as Dask tasks (pyzkvm.dist), stark or trace
    (another backend was refused before the run: _check_cluster_options)."""
    from .. import dist
    from ..executor.segments import DEFAULT_SEGMENT_CYCLES

    zk = False if args.no_zk else None
    options = dict(workers=args.workers, scheduler=args.scheduler, max_cycles=args.max_cycles, progress=progress)
    if backend == "stark":  # no --segment-cycles: the preset's default segments (dist.prove_stark_segments)
        return dist.prove_stark_segments(program, inputs, args.segment_cycles, preset=args.preset or "default", zk=zk,
                                         **options)
    # (stark segments are traced here, the workers commit and prove them: the caps apply here only)
    return dist.prove_segments(program, inputs, args.segment_cycles or DEFAULT_SEGMENT_CYCLES, caps=output_caps(args),
                               **options)


def _check_cluster_options(args, backend: str, assumptions) -> None:
    """--workers / --scheduler, checked before the run executes (a bad one was refused only after
    the tables were built: a review, session 26)."""
    from ..dist import check_cluster_options

    check_cluster_options(args.workers, args.scheduler)
    if assumptions:
        raise UsageError("--workers/--scheduler prove one run's segments; a composed receipt (--assume) is proved here: drop them")
    if backend not in ("stark", "trace"):
        raise UsageError(f"--workers/--scheduler distribute stark or trace segments, not {backend!r}")


def write_receipt(receipt, output: Path, elapsed: float) -> None:
    """Write ``receipt`` atomically to ``output`` and print its summary (shared with aggregate)."""
    from ._signals import check_interrupted

    check_interrupted()  # an interrupt swallowed on the way (see _signals) still writes nothing
    data = receipt.to_bytes()
    try:
        write_atomically(output, data)
    except OSError as exc:
        raise PyzkvmError(f"cannot write the receipt to {output}: {exc.strerror or exc}") from None

    claim = receipt.claim
    note = dev_mode_note(receipt)
    dev = f"  ({note})" if note else ""
    print(f"backend:    {receipt.backend} {receipt.backend_version}{dev}")
    print(f"image ID:   {claim.image_id.hex()}")
    print(f"exit code:  {claim.exit_code}")
    print(f"journal:    {receipt.journal.hex() or '(empty)'}")
    text = printable_text(receipt.journal)
    if text is not None:
        print(f"  as text:  {text!r}")
    print(f"cycles:     {claim.cycles}")
    print(f"time:       {elapsed:.3f} s")
    if "segments" in receipt.params:  # (a risc0 receipt has RISC Zero's count, and no segment_cycles)
        of = f" of up to {shown(receipt.params['segment_cycles'])} cycles" if "segment_cycles" in receipt.params else ""
        print(f"segments:   {shown(receipt.params['segments'])}{of}")
        if receipt.params.get("zero_knowledge") and receipt.params["segments"] > 1:
            print("note: a zero-knowledge receipt of several segments shows each segment's cycles and table heights, "
                  "not only the run's (docs/backend-guide.md)", file=sys.stderr)
    if receipt.inner:
        print(f"assumes:    {len(receipt.inner)} inner receipt(s), carried in the receipt and verified with it")
    print(f"receipt:    {output} ({format_size(len(data))}, seal {format_size(len(receipt.seal))})")
