"""Input encoders: turn Python values into input elements (byte strings) a guest reads.

The input stream is a list of elements. Under the SP1 profile each element is read whole
with HINT_LEN / HINT_READ; under the RISC Zero profile the elements are concatenated into
the one byte stream the guest reads from fd 0.

Raw elements (what pyzkvm's C guests read)::

    u32(10)          -> 0a 00 00 00                 little-endian u32
    u64(10)          -> 0a 00 00 00 00 00 00 00     little-endian u64
    raw(b"..")       -> the bytes themselves
    text("hi")       -> UTF-8 bytes

SP1 host forms (``SP1Stdin::write`` = bincode 1.x with its default options: little-endian
fixed-width integers; a length or usize is a u64)::

    bincode_u32(n), bincode_u64(n), bincode_bool(b)
    bincode_bytes(b)   -> u64 length ‖ bytes          (Vec<u8>)
    bincode_str(s)     -> u64 length ‖ UTF-8 bytes    (String)
    bincode_u32s(xs)   -> u64 count ‖ each u32        (Vec<u32>)

RISC Zero serde (``risc0_zkvm::serde``): a stream of little-endian u32 words; u8/u16/u32/
bool take one word each, u64 is the low word then the high word, bytes and strings are a
length word then the bytes padded with zeros to a multiple of 4::

    risc0_u32(n), risc0_u64(n), risc0_bytes(b), risc0_str(s), risc0_u32s(xs)
"""

from __future__ import annotations

import os
import re
import string
import struct
from typing import Iterable

from .errors import UsageError
from .fileio import read_file
from .limits import MAX_INPUT_FILE_BYTES


def _int(value, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} needs an int, got {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise UsageError(f"{what} value {value} does not fit in {bits} unsigned bits")
    return value


def _bytes(value, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise UsageError(f"{what} needs bytes, got {type(value).__name__}")


def _str(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise UsageError(f"{what} needs a str, got {type(value).__name__}")
    return value.encode("utf-8")


# ---- raw elements -------------------------------------------------------------------------


def u32(n: int) -> bytes:
    """A u32, little-endian (4 bytes)."""
    return struct.pack("<I", _int(n, 32, "u32"))


def u64(n: int) -> bytes:
    """A u64, little-endian (8 bytes)."""
    return struct.pack("<Q", _int(n, 64, "u64"))


def raw(data: bytes) -> bytes:
    """Bytes as one element, unchanged."""
    return _bytes(data, "raw")


def text(s: str) -> bytes:
    """A string as one element of UTF-8 bytes (no length prefix)."""
    return _str(s, "text")


# ---- SP1 (bincode 1) ----------------------------------------------------------------------

bincode_u32 = u32
bincode_u64 = u64


def bincode_bool(b: bool) -> bytes:
    """bool: one byte, 0 or 1."""
    if not isinstance(b, bool):
        raise UsageError(f"bincode_bool needs a bool, got {type(b).__name__}")
    return bytes([b])


def bincode_bytes(data: bytes) -> bytes:
    """Vec<u8> / &[u8]: u64 length, then the bytes."""
    data = _bytes(data, "bincode_bytes")
    return struct.pack("<Q", len(data)) + data


def bincode_str(s: str) -> bytes:
    """String: u64 byte length, then UTF-8."""
    data = _str(s, "bincode_str")
    return struct.pack("<Q", len(data)) + data


def bincode_u32s(values: Iterable[int]) -> bytes:
    """Vec<u32>: u64 count, then each u32 little-endian."""
    values = [_int(v, 32, "bincode_u32s") for v in values]
    return struct.pack(f"<Q{len(values)}I", len(values), *values)


# ---- RISC Zero serde (u32 words) ---------------------------------------------------------


def risc0_u32(n: int) -> bytes:
    """One word."""
    return struct.pack("<I", _int(n, 32, "risc0_u32"))


def risc0_u64(n: int) -> bytes:
    """Two words: low, then high."""
    n = _int(n, 64, "risc0_u64")
    return struct.pack("<II", n & 0xFFFFFFFF, n >> 32)


def risc0_bytes(data: bytes) -> bytes:
    """Length word, then the bytes zero-padded to a multiple of 4."""
    data = _bytes(data, "risc0_bytes")
    return struct.pack("<I", len(data)) + data + bytes(-len(data) % 4)


def risc0_str(s: str) -> bytes:
    """Length word (UTF-8 bytes), then the bytes zero-padded to a multiple of 4."""
    data = _str(s, "risc0_str")
    return struct.pack("<I", len(data)) + data + bytes(-len(data) % 4)


def risc0_u32s(values: Iterable[int]) -> bytes:
    """Vec<u32>: length word, then one word per value."""
    values = [_int(v, 32, "risc0_u32s") for v in values]
    return struct.pack(f"<I{len(values)}I", len(values), *values)


INPUT_SPEC_HELP = (
    "one input element (repeatable, in order): u32:N, u64:N, hex:HEX (digits only, no spaces; "
    "0x optional), str:TEXT (its bytes as given: UTF-8, or raw bytes passed through unchanged) "
    "or file:PATH (a regular file of at most 256 MiB)"
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
            n = parse_integer(value)
        except ValueError as exc:
            raise UsageError(f"bad --input {spec!r}: {exc}") from None
        if not 0 <= n < 1 << bits:
            raise UsageError(f"bad --input {spec!r}: {n} does not fit in {kind}")
        return n.to_bytes(bits // 8, "little")
    if kind == "hex":
        text = value[2:] if value.lower().startswith("0x") else value
        # bytes.fromhex would skip spaces; refuse them so that "hex:ab cd" is not half a typo
        if not all(c in string.hexdigits for c in text):
            raise UsageError(f"bad --input {spec!r}: not valid hex (digits 0-9a-f only, no spaces)")
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"bad --input {spec!r}: not valid hex (an odd number of digits)") from None
    if kind == "str":
        # os.fsencode undoes the surrogateescape Python applied to a non-UTF-8 argv: the
        # guest gets exactly the bytes on the command line
        try:
            return os.fsencode(value)
        except UnicodeEncodeError:
            raise UsageError(f"bad --input {spec!r}: the text holds a lone surrogate; give bytes with hex:") from None
    if kind == "file":
        if not value:
            raise UsageError(f"bad --input {spec!r}: give the file's path after file:")
        return read_file(value, limit=MAX_INPUT_FILE_BYTES, what="--input")
    raise UsageError(f"bad --input {spec!r}: unknown kind {kind!r}; use u32, u64, hex, str or file")


#: what parse_integer reads: ASCII digits in decimal (no leading 0) or after 0x, 0o, 0b — not
#: what int() also takes (spaces, a sign, 1_000, other scripts' digits)
_INTEGER = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0|[1-9][0-9]*")
#: longer than any value an option or input takes (2^64 is 20 digits, 66 characters in binary)
MAX_INTEGER_CHARS = 80


def parse_integer(text: str) -> int:
    """An integer written in decimal or as 0x…, 0o…, 0b…; ValueError saying why not (a
    leading zero is refused, as Python does: 010 could mean ten or eight)."""
    integer = _INTEGER.fullmatch(text) is not None
    if integer and len(text) <= MAX_INTEGER_CHARS:
        return int(text, 0)
    shown = repr(text) if len(text) <= MAX_INTEGER_CHARS else f"{text[:20]!r}… ({len(text)} characters)"
    if integer:
        raise ValueError(f"{shown} is too large")
    zeros = text.isdigit() and text.isascii() and text.startswith("0")
    why = " (a leading 0 is ambiguous: write it without, or 0o… for octal)" if zeros else ""
    raise ValueError(f"{shown} is not an integer{why}")


def parse_input_specs(specs) -> list[bytes]:
    """The input elements for a list of SPEC strings (None: no input)."""
    return [parse_input_spec(s) for s in (specs or [])]
