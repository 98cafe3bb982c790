"""Helpers shared by the subcommands: --input specs, loading programs, output."""

from __future__ import annotations

from ..fileio import write_atomically  # noqa: F401  (re-exported for the subcommands)
from ..inputs import INPUT_SPEC_HELP, parse_input_spec, parse_input_specs  # noqa: F401  (re-exported)


def parse_inputs(specs: list[str] | None) -> list[bytes]:
    return parse_input_specs(specs)


def add_input_args(parser) -> None:
    parser.add_argument("--input", "-i", action="append", metavar="SPEC", help=INPUT_SPEC_HELP)


def printable_text(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and all(c.isprintable() or c in "\n\t\r" for c in text) else None


def positive_int(text: str, *, most: int | None = None) -> int:
    """argparse type: a positive integer (decimal or 0x/0o/0b), at most ``most``."""
    import argparse

    try:
        n = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    if most is not None and n > most:
        raise argparse.ArgumentTypeError(f"{text} is over the largest accepted value, {most} (docs/limits.md)")
    return n


def add_limit_args(parser) -> None:
    """--max-cycles and the caps on what the guest may write (docs/limits.md)."""
    from ..limits import (
        DEFAULT_MAX_HINT_BYTES,
        DEFAULT_MAX_JOURNAL_BYTES,
        DEFAULT_MAX_OUTPUT_BYTES,
        MAX_CYCLES_LIMIT,
    )

    def cycles(text):
        return positive_int(text, most=MAX_CYCLES_LIMIT)

    parser.add_argument("--max-cycles", type=cycles, metavar="N",
                        help="stop with an error after N cycles (default 2^26, at most 2^40)")
    parser.add_argument("--max-output", type=positive_int, metavar="BYTES",
                        help=f"cap on the guest's stdout + stderr (default {DEFAULT_MAX_OUTPUT_BYTES >> 20} MiB)")
    parser.add_argument("--max-journal", type=positive_int, metavar="BYTES",
                        help=f"cap on the guest's journal (public values) (default {DEFAULT_MAX_JOURNAL_BYTES >> 20} MiB)")
    parser.add_argument("--max-hint", type=positive_int, metavar="BYTES",
                        help=f"cap on bytes the guest writes to its hint fd (default {DEFAULT_MAX_HINT_BYTES >> 20} MiB)")


def apply_output_caps(args) -> None:
    """Make the --max-output/--max-journal/--max-hint values the caps of every run in this process."""
    from ..executor.host import set_default_caps

    caps = {"output": args.max_output, "journal": args.max_journal, "hint": args.max_hint}
    set_default_caps(**{k: v for k, v in caps.items() if v is not None})
#: Help of every command's ELF argument (a path, or a prebuilt guest's name).
ELF_HELP = "the RV32IM guest executable: a path, or a prebuilt guest's name such as fibonacci ('pyzkvm guests')"


def guest_elf(spec: str, abi: str = "sp1") -> str:
    """The ELF path a command's ELF argument names: the path itself when it exists, else the
    prebuilt guest of that name (pyzkvm/guests/prebuilt.py)."""
    from ..guests.prebuilt import require_guest

    return str(require_guest(spec, abi))
