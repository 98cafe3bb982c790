"""``pyzkvm run ELF``: execute a guest and show its journal, exit code, cycles and output."""

from __future__ import annotations

import json
import sys

from ..units import format_size
from .common import ELF_HELP, add_abi_arg, add_input_args, add_limit_args, apply_output_caps, load_guest, parse_inputs, printable_text
from .progress import progress_reporter

ORDER = 10

HELP = "execute a guest (no proof) and show journal, exit code, cycles and output"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help=HELP,
        description=(
            "Execute ELF in pyzkvm's RV32IM interpreter on the given inputs and print the journal "
            "(hex, and text when printable), the exit code, the cycle count and speed, and the guest's "
            "stdout/stderr. Exit status: 0 when the guest exits 0, 1 when it exits non-zero or faults, "
            "2 for a bad command line."
        ),
        epilog="example: pyzkvm run guests/bin/fibonacci.elf --input u32:10",
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    add_input_args(p)
    add_abi_arg(p)
    add_limit_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the human summary")
    p.set_defaults(handler=run_command)


def execution_summary(execution) -> dict:
    """The JSON form of an Execution (what ``run --json`` prints)."""
    return {
        "exit_code": execution.exit_code,
        "journal": execution.journal.hex(),
        "cycles": execution.cycles,
        "stdout": execution.stdout.decode("utf-8", "replace"),
        "stderr": execution.stderr.decode("utf-8", "replace"),
        "abi": execution.abi,
        "abi_profile": execution.abi_profile,
        "warnings": list(execution.warnings),
        "commit_matches": execution.commit_matches,
        "output_digest": execution.output_digest.hex() if execution.output_digest else None,
        "output_digest_matches": execution.output_digest_matches,
        "elapsed_s": round(execution.elapsed_s, 6),
        "report": {
            "instructions": execution.report.instructions,
            "syscalls": execution.report.syscalls,
            "cycle_tracker": execution.report.cycle_tracker,
            "cycle_spans": execution.report.cycle_spans,
        },
    }


def run_command(args) -> int:
    from ..executor import DEFAULT_MAX_CYCLES, execute

    inputs = parse_inputs(args.input)
    program, args.elf = load_guest(args.elf, args.abi)
    apply_output_caps(args)
    with progress_reporter(f"run {program.name}") as report:
        report("execute", None)  # the interpreter reports no fraction: the bar pulses
        execution = execute(program, inputs, max_cycles=args.max_cycles or DEFAULT_MAX_CYCLES)
    if args.json:
        print(json.dumps(execution_summary(execution)))
    else:
        _print_human(execution)
    return 0 if execution.exit_code == 0 else 1


def _print_human(e) -> None:
    out = sys.stdout
    if e.stdout:
        out.write("--- guest stdout ---\n" + e.stdout.decode("utf-8", "replace"))
        if not e.stdout.endswith(b"\n"):
            out.write("\n")
    if e.stderr:
        sys.stderr.write("--- guest stderr ---\n" + e.stderr.decode("utf-8", "replace"))
        if not e.stderr.endswith(b"\n"):
            sys.stderr.write("\n")
    text = printable_text(e.journal)
    print(f"journal:   {e.journal.hex() or '(empty)'} ({format_size(len(e.journal))})")
    if text is not None:
        print(f"           text: {text!r}")
    if e.commit_matches is not None:
        print(f"commit:    {'matches' if e.commit_matches else 'DOES NOT match'} SHA-256(journal)")
    if e.output_digest_matches is not None:
        print(f"output:    digest {'matches' if e.output_digest_matches else 'DOES NOT match'} RISC Zero's formula")
    for w in e.warnings:
        print(f"warning:   {w}", file=sys.stderr)
    print(f"exit code: {e.exit_code}{'' if e.exit_code == 0 else '  (guest failure)'}")
    mhz = e.cycles / e.elapsed_s / 1e6 if e.elapsed_s > 0 else float("inf")
    print(f"cycles:    {e.cycles:,} in {e.elapsed_s * 1e3:.1f} ms ({mhz:.1f} MHz)")
    for name, cycles in sorted(e.report.cycle_tracker.items()):
        print(f"  tracker {name}: {cycles:,} cycles")
    for name, cycles in sorted(e.report.cycle_spans.items()):
        print(f"  span {name}: {cycles:,} cycles")
