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
