"""``pyzkvm prove-batch ELF --inputs FILE``: prove one receipt per input line, in parallel (Dask)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import PyzkvmError, UsageError
from .common import (ELF_HELP, add_abi_arg, add_limit_args, add_stark_args, apply_output_caps, load_guest, output_caps,
                     parse_input_spec, segment_cycles_arg, stark_options)
from .progress import progress_reporter
from .prove import checking_interrupts

ORDER = 25


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "prove-batch",
        help="prove many input sets of one guest in parallel (Dask, or local processes)",
        description=(
            "Prove ELF once per line of FILE. Each line holds one input set as space-separated "
            "--input SPECs (e.g. 'u32:10 str:hello'); blank lines and lines starting with '#' are "
            "skipped, and lines keep their numbers. Line N's receipt is written atomically to "
            "DIR/<elf stem>-N.receipt; when one of them exists already, nothing is proved unless "
            "--force. Tasks run on a local Dask cluster (one single-threaded worker process per "
            "core, or --workers N), on an existing cluster with --scheduler, or on local processes "
            "when Dask is not installed. Exit status 1 when a line failed or a guest exited non-zero."
        ),
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    p.add_argument("--inputs", required=True, metavar="FILE", help="input sets, one per line")
    p.add_argument("--backend", "-b", metavar="NAME", help="prover backend (see 'pyzkvm backends')")
    add_abi_arg(p)
    p.add_argument("--out-dir", default=".", metavar="DIR", help="where the receipts go (default .)")
    p.add_argument("--force", action="store_true", help="overwrite receipts of an earlier batch in --out-dir")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (e.g. tcp://host:8786)")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per CPU this process may use)")
    p.add_argument("--segment-cycles", type=segment_cycles_arg, metavar="N", help="prove each run in segments of N cycles (stark or trace)")
    add_limit_args(p)
    add_stark_args(p)
    p.set_defaults(handler=run_prove_batch)


def read_input_sets(path: str) -> list[tuple[int, list[bytes]]]:
    """(line number, input elements) for every non-blank, non-comment line of ``path``."""
    from ..errors import FileReadError
    from ..fileio import read_file
    from ..limits import MAX_INPUT_FILE_BYTES

    try:
        data = read_file(path, limit=MAX_INPUT_FILE_BYTES, what="--inputs")
    except FileReadError as exc:
        raise FileReadError(f"--inputs {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError(f"--inputs {path}: not UTF-8 text ({exc.reason} at byte {exc.start}): write the input "
                            "sets as text, any bytes as hex:") from None
    sets = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        specs = line.split()
        try:
            sets.append((number, [parse_input_spec(spec) for spec in specs]))
        except (UsageError, FileReadError) as exc:  # (a file: input that cannot be read: the same line)
            hint = ("; a line is split at spaces, with no quoting: give text with spaces as hex:"
                    if len(specs) > 1 and any(":" not in spec for spec in specs) else "")
            raise type(exc)(f"{path}:{number}: {exc}{hint}") from None
    return sets


def refuse_to_overwrite(out_dir: Path, stem: str, lines: list[int]) -> None:
    """The overwrite rule of ``prove`` for a batch: an earlier receipt is never replaced without
    --force. A batch cannot pick new names as ``prove`` does (a receipt's name is its line
    number, which is what ties it to its input set), so it stops before proving anything."""
    from ..dist import receipt_path

    existing = [path for path in (receipt_path(out_dir, stem, line) for line in lines) if path.exists()]
    if existing:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        them = "them" if len(existing) > 1 else "it"
        raise PyzkvmError(f"--out-dir {out_dir} already holds {existing[0].name}{more} from an earlier batch: "
                          f"pass --force to overwrite {them}, or choose another --out-dir")


def run_prove_batch(args) -> int:
    from ..backends import default_backend_name
    from ..dist import check_cluster_options, prove_batch
    from ..fileio import empty_folders_removed_on_failure

    check_cluster_options(args.workers, args.scheduler)
    program, args.elf = load_guest(args.elf, args.abi)
    input_sets = read_input_sets(args.inputs)
    if not input_sets:
        raise UsageError(f"--inputs {args.inputs} holds no input sets")
    backend = args.backend or default_backend_name()
    options = {"segment_cycles": args.segment_cycles} if args.segment_cycles else {}
    if args.max_cycles is not None:
        options["max_cycles"] = args.max_cycles
    options.update(stark_options(args, backend))
    caps = output_caps(args)
    if caps:  # the workers' runs (dist.prove_line) and the client's check of each line
        options["caps"] = caps
        apply_output_caps(args)
    out_dir = Path(args.out_dir)
    stem = Path(args.elf).stem
    if not args.force:
        refuse_to_overwrite(out_dir, stem, [line for line, _ in input_sets])
    started = time.perf_counter()
    with empty_folders_removed_on_failure(out_dir):  # (a bad --scheduler, an interrupt)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PyzkvmError(f"cannot create --out-dir {out_dir}: {exc.strerror or exc}") from None
        with progress_reporter(f"proving {len(input_sets)} input set(s) with {backend}") as report:
            results = prove_batch(
                program, input_sets, out_dir, stem=stem, backend=backend, options=options,
                scheduler=args.scheduler, workers=args.workers, progress=checking_interrupts(report),
                overwrite=args.force,
            )  # fmt: skip
    elapsed = time.perf_counter() - started
    status = 0
    for r in results:
        if r.error:
            print(f"line {r.line}: FAILED: {r.error}", file=sys.stderr)
            status = 1
        else:
            print(f"line {r.line}: {r.path} (exit code {r.exit_code}, {r.cycles} cycles)")
            status = status or int(r.exit_code != 0)
    done = sum(1 for r in results if not r.error)
    print(f"{done}/{len(results)} receipts ({backend}) in {elapsed:.2f} s")
    return status
