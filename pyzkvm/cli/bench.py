"""``pyzkvm bench``: compare every available backend on the fibonacci guest.

Proves at n = 10, 50, 100 and at inputs sized for 2^12 … 2^18 cycles (2^12 runs at the guest's
minimum, ~5.7 k cycles), times verification,
records receipt sizes, proves batches sequentially and in parallel, divides every time by the
trace backend's from the same run, and writes compare.json, compare.md and PNG plots to --out
(default: a new folder pyzkvm-bench/<UTC time>/, so no run overwrites another's or the committed
bench/results/; give --out bench/results to record a run there). ``python bench/compare.py``
runs the same code with the same options and records into bench/results/.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .common import guest_elf

ORDER = 80

#: Where a run goes without --out: a new folder per run (git-ignored), never bench/results/.
DEFAULT_OUT_PARENT = Path("pyzkvm-bench")


def default_out_dir() -> Path:
    """A new results folder for this run: pyzkvm-bench/<UTC date and time>[-N]."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out, n = DEFAULT_OUT_PARENT / stamp, 1
    while out.exists():
        n += 1
        out = DEFAULT_OUT_PARENT / f"{stamp}-{n}"
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="compare the backends: prove/verify time, receipt size, batches (writes a new pyzkvm-bench/ folder)",
        description=__doc__.split("\n\n")[1].replace("``", ""),
    )
    p.add_argument("--quick", action="store_true",
                   help="the small CI run: n=10,50,100, 2^13 and 2^14 cycles, batch N=2, 10 verifications; "
                        "a real prover (stark) only at n=10 and in the batches")
    p.add_argument("--backends", nargs="+", metavar="NAME",
                   help="backends to measure (default: every available one; one named here that cannot run is "
                        "refused, with how to install it); trace is always added as the baseline")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help=f"where compare.json, compare.md and the plots go (default: a new folder "
                        f"{DEFAULT_OUT_PARENT}/<UTC time>; --out bench/results records over the committed results)")
    p.add_argument("--guest", type=Path, metavar="ELF", help="the fibonacci guest (default: guests/bin/fibonacci.elf, "
                   "else the prebuilt fibonacci)")
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help="per-proof time budget: larger sizes whose proof would exceed it are skipped "
                        "(default 120, quick 20)")
    p.add_argument("--verify-reps", type=int, metavar="N",
                   help="verifications averaged per row (default 100, quick 10)")
    p.add_argument("--batch-sizes", type=int, nargs="+", metavar="N", help="batch sizes (default 32 64, quick 2)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes for the parallel batches (default: one per CPU this process may use)")
    p.set_defaults(handler=run_bench)


def config_from_args(args):
    """The BenchConfig the command line asks for: a preset plus every option given."""
    from ..benchmark import BenchConfig

    config = BenchConfig.quick_preset() if args.quick else BenchConfig()
    overrides = {}
    if args.backends:
        overrides["backends"] = tuple(n for item in args.backends for n in item.split(",") if n)
    if args.guest is not None:
        overrides["guest"] = Path(guest_elf(str(args.guest)))
    elif not config.guest.exists():  # outside a checkout: the prebuilt guest shipped with pyzkvm
        overrides["guest"] = Path(guest_elf(config.guest.stem))
    if args.budget is not None:
        overrides["budget_s"] = args.budget
    if args.verify_reps is not None:
        overrides["verify_reps"] = args.verify_reps
    if args.batch_sizes is not None:
        overrides["batch_sizes"] = tuple(args.batch_sizes)
    if args.workers is not None:
        overrides["workers"] = args.workers
    return replace(config, **overrides).validated()


def command_line(args) -> list[str]:
    """The command as it would be typed, for the record in compare.json / compare.md."""
    argv = ["pyzkvm", "bench"]
    if args.quick:
        argv.append("--quick")
    if args.backends:
        argv += ["--backends", *args.backends]
    if args.out is not None:
        argv += ["--out", str(args.out)]
    for flag, value in (("--guest", args.guest), ("--budget", args.budget), ("--verify-reps", args.verify_reps),
                        ("--workers", args.workers)):
        if value is not None:
            argv += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.batch_sizes is not None:
        argv += ["--batch-sizes", *map(str, args.batch_sizes)]
    return argv


def run_bench(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..benchmark import run_benchmark, write_results
    from ..benchmark.report import prepare_out_dir
    from ..fileio import empty_folders_removed_on_failure
    from .progress import escape

    config = config_from_args(args)
    out = args.out if args.out is not None else default_out_dir()
    console = Console(stderr=True)
    with empty_folders_removed_on_failure(out):  # (an unknown backend, an interrupt)
        prepare_out_dir(out)  # fail now, not after minutes of proving
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("bench: starting", total=1.0)

            def progress(step: str, fraction: float) -> None:
                if step:
                    bar.update(task, completed=fraction, description=escape(step))
                else:
                    bar.update(task, completed=fraction)

            results = run_benchmark(config, progress, argv=command_line(args))
    paths = write_results(results, out)
    _print_summary(console, results, paths)
    return 0 if results["ok"] else 1


def _print_summary(console, results: dict, paths) -> None:
    from rich.table import Table

    from ..benchmark.report import backend_status
    from .progress import escape

    table = Table(title="pyzkvm bench", show_lines=False)
    for col in ("backend", "status", "measured", "skipped", "failed"):
        table.add_column(col)
    for name, info in results["backends"].items():
        rows = [r for r in results["proofs"] + results["batches"] if r["backend"] == name]
        count = {s: sum(r["status"] == s for r in rows) for s in ("ok", "skipped", "failed")}
        status, note = backend_status(info)
        status = f"{status}: {note}" if status != "measured" and note else status
        table.add_row(*map(escape, (name, status, count["ok"], count["skipped"], count["failed"])))
    console.print(table)
    for p in paths:
        console.print(escape(f"wrote {p}"))
    if results.get("plots_note"):  # holds pip install 'pyzkvm[bench]': markup would eat "[bench]"
        console.print(escape(results["plots_note"]))
