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


#: Help of every command's ELF argument (a path, or a prebuilt guest's name).
ELF_HELP = "the RV32IM guest executable: a path, or a prebuilt guest's name such as fibonacci ('pyzkvm guests')"


def guest_elf(spec: str, abi: str = "sp1") -> str:
    """The ELF path a command's ELF argument names: the path itself when it exists, else the
    prebuilt guest of that name (pyzkvm/guests/prebuilt.py)."""
    from ..guests.prebuilt import require_guest

    return str(require_guest(spec, abi))
