"""Helpers shared by the subcommands: --input specs, loading programs, output."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..fileio import write_atomically  # noqa: F401  (re-exported for the subcommands)

INPUT_SPEC_HELP = (
    "one input element (repeatable, in order): u32:N, u64:N, hex:HEX, str:TEXT or file:PATH"
)


def parse_input_spec(spec: str) -> bytes:
    """Turn one ``--input`` SPEC into the bytes of one input element.

    u32:N and u64:N are little-endian fixed-width integers (what SP1's bincode writes for
    those types); hex:HEX is raw bytes; str:TEXT is UTF-8; file:PATH is the file's bytes.
    """
    kind, sep, value = spec.partition(":")
    if not sep:
        raise UsageError(f"bad --input {spec!r}: expected KIND:VALUE with KIND one of u32, u64, hex, str, file")
    if kind in ("u32", "u64"):
        bits = int(kind[1:])
        try:
            n = int(value, 0)
        except ValueError:
            raise UsageError(f"bad --input {spec!r}: {value!r} is not an integer") from None
        if not 0 <= n < 1 << bits:
            raise UsageError(f"bad --input {spec!r}: {n} does not fit in {kind}")
        return n.to_bytes(bits // 8, "little")
    if kind == "hex":
        text = value[2:] if value.lower().startswith("0x") else value
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"bad --input {spec!r}: not valid hex") from None
    if kind == "str":
        return value.encode()
    if kind == "file":
        try:
            return Path(value).read_bytes()
        except OSError as exc:
            raise UsageError(f"bad --input {spec!r}: cannot read {value}: {exc.strerror}") from None
    raise UsageError(f"bad --input {spec!r}: unknown kind {kind!r}; use u32, u64, hex, str or file")


def parse_inputs(specs: list[str] | None) -> list[bytes]:
    return [parse_input_spec(s) for s in (specs or [])]


def add_input_args(parser) -> None:
    parser.add_argument("--input", "-i", action="append", metavar="SPEC", help=INPUT_SPEC_HELP)


def printable_text(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and all(c.isprintable() or c in "\n\t\r" for c in text) else None
