"""Claims and receipts, and the versioned binary codec that stores them.

A **claim** is the public statement a receipt vouches for: "the program with this image ID,
run on some (private) input, halted with this exit code after this many cycles and wrote a
journal whose SHA-256 is this". A **receipt** is the claim, the journal itself, and the
backend's *seal* (its proof bytes, opaque here) plus the parameters it was made with.

Binary format, version 1 (every integer little-endian, every length explicit)::

    receipt   = magic "PYZKVMR\\0" ‖ u16 version (= 1) ‖ body
    body      = claim ‖ blob32(journal) ‖ str16(backend) ‖ str16(backend_version)
                ‖ params ‖ blob32(seal) ‖ u32 n_inner ‖ n_inner × blob32(body)
    claim     = image_id[32] ‖ u32 exit_code ‖ journal_digest[32] ‖ u64 cycles
                ‖ u32 n_assumptions ‖ n × (image_id[32] ‖ journal_digest[32])
    params    = u32 n ‖ n × (str16(key) ‖ u8 tag ‖ value)   keys strictly increasing (canonical)
                tag 0 = bool (u8 0 or 1), 1 = int (i64), 2 = float (f64), 3 = str (str32)
    blobN     = uN length ‖ bytes;     strN = blobN of UTF-8 text

Reading is strict: bad magic, an unknown version, a length that runs past the end or over a
cap, trailing bytes, bad UTF-8, an unknown param tag, unsorted or duplicate keys, and
anything else malformed raise ReceiptFormatError with one line saying what and where.
The codec never unpickles or evaluates anything.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any

from .errors import ReceiptFormatError, VerificationError

MAGIC = b"PYZKVMR\x00"
FORMAT_VERSION = 1

#: Caps that keep a hostile file from asking for absurd allocations.
MAX_JOURNAL_BYTES = 1 << 28
MAX_SEAL_BYTES = 1 << 30
MAX_PARAMS = 256
MAX_ASSUMPTIONS = 1 << 16
MAX_INNER = 1 << 12
MAX_NESTING = 8
MAX_NAME_BYTES = 1 << 10  # backend name, version string, param key
MAX_PARAM_STR_BYTES = 1 << 16

_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1

_TAG_BOOL, _TAG_INT, _TAG_FLOAT, _TAG_STR = 0, 1, 2, 3


# ---- claim ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """The public statement a receipt proves about one run of a program."""

    image_id: bytes
    exit_code: int
    journal_digest: bytes
    cycles: int
    assumptions: tuple[tuple[bytes, bytes], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "image_id", _digest32(self.image_id, "claim image_id"))
        object.__setattr__(self, "journal_digest", _digest32(self.journal_digest, "claim journal_digest"))
        _check_uint(self.exit_code, _U32, "claim exit_code (u32)")
        _check_uint(self.cycles, _U64, "claim cycles (u64)")
        try:
            pairs = tuple(tuple(p) for p in self.assumptions)
        except TypeError:
            raise ReceiptFormatError("claim assumptions must be (image_id, journal_digest) pairs") from None
        for p in pairs:
            if len(p) != 2:
                raise ReceiptFormatError("claim assumptions must be (image_id, journal_digest) pairs")
        pairs = tuple(
            (_digest32(a, "assumption image_id"), _digest32(d, "assumption journal_digest")) for a, d in pairs
        )
        if len(pairs) > MAX_ASSUMPTIONS:
            raise ReceiptFormatError(f"claim has {len(pairs)} assumptions, more than the cap {MAX_ASSUMPTIONS}")
        object.__setattr__(self, "assumptions", pairs)

    @classmethod
    def for_execution(
        cls, image_id: bytes, journal: bytes, exit_code: int, cycles: int, assumptions=()
    ) -> "Claim":
        """The claim of one run: its journal enters as SHA-256(journal); ``assumptions`` are the
        (image_id, journal_digest) pairs the guest asserted (Execution.assumptions)."""
        return cls(image_id, exit_code, hashlib.sha256(_bytes(journal, "journal")).digest(), cycles, assumptions)

    def to_bytes(self) -> bytes:
        """The claim's canonical encoding (the ``claim`` part of the receipt format)."""
        out = bytearray()
        _write_claim(out, self)
        return bytes(out)

    def digest(self) -> bytes:
        """SHA-256 of a domain tag and the claim's canonical encoding: one 32-byte name for it."""
        return hashlib.sha256(b"pyzkvm.claim.v1\x00" + self.to_bytes()).digest()

    def to_json(self) -> dict:
        return {
            "image_id": self.image_id.hex(),
            "exit_code": self.exit_code,
            "journal_digest": self.journal_digest.hex(),
            "cycles": self.cycles,
            "assumptions": [{"image_id": a.hex(), "journal_digest": d.hex()} for a, d in self.assumptions],
        }


# ---- receipt ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A claim, its journal, and a backend's seal (proof bytes) vouching for the claim."""

    claim: Claim
    journal: bytes
    backend: str
    backend_version: str
    params: dict = field(default_factory=dict)
    seal: bytes = b""
    inner: tuple["Receipt", ...] = ()

    def __post_init__(self):
        if not isinstance(self.claim, Claim):
            raise ReceiptFormatError(f"receipt claim must be a Claim, not {type(self.claim).__name__}")
        object.__setattr__(self, "journal", _bytes(self.journal, "receipt journal"))
        object.__setattr__(self, "seal", _bytes(self.seal, "receipt seal"))
        _check_str(self.backend, "receipt backend", MAX_NAME_BYTES, nonempty=True)
        _check_str(self.backend_version, "receipt backend_version", MAX_NAME_BYTES)
        if len(self.journal) > MAX_JOURNAL_BYTES:
            raise ReceiptFormatError(f"journal of {len(self.journal)} bytes is over the cap {MAX_JOURNAL_BYTES}")
        if len(self.seal) > MAX_SEAL_BYTES:
            raise ReceiptFormatError(f"seal of {len(self.seal)} bytes is over the cap {MAX_SEAL_BYTES}")
        if not isinstance(self.params, dict):
            raise ReceiptFormatError(f"receipt params must be a dict, not {type(self.params).__name__}")
        if len(self.params) > MAX_PARAMS:
            raise ReceiptFormatError(f"receipt has {len(self.params)} params, more than the cap {MAX_PARAMS}")
        for key, value in self.params.items():
            _check_str(key, "param key", MAX_NAME_BYTES, nonempty=True)
            _check_param_value(key, value)
        # A private copy, so mutating the caller's dict later does not change the receipt.
        object.__setattr__(self, "params", dict(sorted(self.params.items())))
        inner = tuple(self.inner)
        for r in inner:
            if not isinstance(r, Receipt):
                raise ReceiptFormatError(f"inner receipts must be Receipts, not {type(r).__name__}")
        if len(inner) > MAX_INNER:
            raise ReceiptFormatError(f"receipt has {len(inner)} inner receipts, more than the cap {MAX_INNER}")
        object.__setattr__(self, "inner", inner)

    __hash__ = None  # type: ignore[assignment]  # params is a dict: receipts compare by value but are not hashable

    # ---- codec ----

    def to_bytes(self) -> bytes:
        """Encode as ``magic ‖ version ‖ body`` (format in the module docstring)."""
        out = bytearray(MAGIC)
        out += struct.pack("<H", FORMAT_VERSION)
        _write_body(out, self, depth=0)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "Receipt":
        """Decode receipt bytes strictly; anything malformed raises ReceiptFormatError."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ReceiptFormatError(f"receipt must be bytes, not {type(data).__name__}")
        data = bytes(data)
        if len(data) < len(MAGIC) + 2:
            raise ReceiptFormatError(f"not a pyzkvm receipt: {len(data)} bytes is too short for the header")
        if data[: len(MAGIC)] != MAGIC:
            raise ReceiptFormatError("not a pyzkvm receipt: bad magic (expected 'PYZKVMR\\0')")
        (version,) = struct.unpack_from("<H", data, len(MAGIC))
        if version != FORMAT_VERSION:
            raise ReceiptFormatError(
                f"unsupported receipt format version {version}: this pyzkvm reads version {FORMAT_VERSION}"
            )
        reader = _Reader(data, len(MAGIC) + 2)
        receipt = _read_body(reader, depth=0)
        if reader.pos != len(data):
            raise ReceiptFormatError(f"{len(data) - reader.pos} trailing bytes after the receipt at offset {reader.pos}")
        return receipt

    # ---- views and checks ----

    @property
    def dev_mode(self) -> bool:
        """True when the backend marked this receipt as dev mode (not a proof)."""
        return self.params.get("dev_mode") is True

    def to_json(self) -> dict:
        """A JSON-ready view for inspection: bytes as hex, the journal also as text when printable."""
        try:
            text = self.journal.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "format_version": FORMAT_VERSION,
            "backend": self.backend,
            "backend_version": self.backend_version,
            "claim": self.claim.to_json(),
            "journal": self.journal.hex(),
            "journal_text": text,
            "params": dict(self.params),
            "seal": self.seal.hex(),
            "seal_size": len(self.seal),
            "inner": [r.to_json() for r in self.inner],
        }

    def check_journal(self) -> None:
        """Raise VerificationError unless SHA-256(journal) equals the claim's journal digest."""
        got = hashlib.sha256(self.journal).digest()
        if got != self.claim.journal_digest:
            raise VerificationError(
                f"journal does not match the claim: SHA-256(journal) = {got.hex()[:16]}..., "
                f"claim says {self.claim.journal_digest.hex()[:16]}...; the receipt was altered"
            )


# ---- validation helpers ------------------------------------------------------------------


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ReceiptFormatError(f"{what} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _digest32(value: Any, what: str) -> bytes:
    value = _bytes(value, what)
    if len(value) != 32:
        raise ReceiptFormatError(f"{what} must be 32 bytes, got {len(value)}")
    return value


def _check_uint(value: Any, top: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ReceiptFormatError(f"{what} must be an integer in [0, {top}], got {value!r}")


def _check_str(value: Any, what: str, cap: int, nonempty: bool = False) -> None:
    if not isinstance(value, str):
        raise ReceiptFormatError(f"{what} must be a str, not {type(value).__name__}")
    try:
        n = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ReceiptFormatError(f"{what} is not encodable as UTF-8 (lone surrogate)") from None
    if n > cap:
        raise ReceiptFormatError(f"{what} is {n} bytes, over the cap {cap}")
    if nonempty and n == 0:
        raise ReceiptFormatError(f"{what} must not be empty")


def _check_param_value(key: str, value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not _I64_MIN <= value <= _I64_MAX:
            raise ReceiptFormatError(f"param {key!r} = {value} does not fit in i64")
        return
    if isinstance(value, float):
        return
    if isinstance(value, str):
        _check_str(value, f"param {key!r}", MAX_PARAM_STR_BYTES)
        return
    raise ReceiptFormatError(f"param {key!r} has type {type(value).__name__}: use str, int, float or bool")


# ---- writer ------------------------------------------------------------------------------


def _write_blob(out: bytearray, data: bytes, width: str) -> None:
    out += struct.pack("<" + width, len(data))
    out += data


def _write_claim(out: bytearray, claim: Claim) -> None:
    out += claim.image_id
    out += struct.pack("<I", claim.exit_code)
    out += claim.journal_digest
    out += struct.pack("<QI", claim.cycles, len(claim.assumptions))
    for image_id, digest in claim.assumptions:
        out += image_id + digest


def _write_body(out: bytearray, r: Receipt, depth: int) -> None:
    if depth >= MAX_NESTING:
        raise ReceiptFormatError(f"inner receipts nest deeper than {MAX_NESTING} levels")
    _write_claim(out, r.claim)
    _write_blob(out, r.journal, "I")
    _write_blob(out, r.backend.encode(), "H")
    _write_blob(out, r.backend_version.encode(), "H")
    out += struct.pack("<I", len(r.params))
    for key in sorted(r.params):
        value = r.params[key]
        _write_blob(out, key.encode(), "H")
        if isinstance(value, bool):
            out += struct.pack("<BB", _TAG_BOOL, int(value))
        elif isinstance(value, int):
            out += struct.pack("<Bq", _TAG_INT, value)
        elif isinstance(value, float):
            out += struct.pack("<Bd", _TAG_FLOAT, value)
        else:
            out += struct.pack("<B", _TAG_STR)
            _write_blob(out, value.encode(), "I")
    _write_blob(out, r.seal, "I")
    out += struct.pack("<I", len(r.inner))
    for inner in r.inner:
        body = bytearray()
        _write_body(body, inner, depth + 1)
        _write_blob(out, bytes(body), "I")


# ---- reader ------------------------------------------------------------------------------


class _Reader:
    """A cursor over receipt bytes whose every read checks the bytes are there."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def take(self, n: int, what: str) -> bytes:
        if n > self.end - self.pos:
            raise ReceiptFormatError(
                f"truncated receipt: {what} needs {n} bytes at offset {self.pos}, only {self.end - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def length(self, width: str, what: str, cap: int) -> int:
        at = self.pos
        (n,) = self.unpack(width, f"length of {what}")
        if n > cap:
            raise ReceiptFormatError(f"{what} at offset {at} claims {n} bytes, over the cap {cap}")
        if n > self.end - self.pos:
            raise ReceiptFormatError(
                f"{what} at offset {at} claims {n} bytes but only {self.end - self.pos} remain (truncated or corrupt)"
            )
        return n

    def blob(self, width: str, what: str, cap: int) -> bytes:
        return self.take(self.length(width, what, cap), what)

    def text(self, width: str, what: str, cap: int) -> str:
        at = self.pos
        raw = self.blob(width, what, cap)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ReceiptFormatError(f"{what} at offset {at} is not valid UTF-8") from None

    def count(self, what: str, cap: int, min_item_bytes: int) -> int:
        at = self.pos
        (n,) = self.unpack("I", f"count of {what}")
        if n > cap:
            raise ReceiptFormatError(f"{what} count {n} at offset {at} is over the cap {cap}")
        if n * min_item_bytes > self.end - self.pos:
            raise ReceiptFormatError(f"{what} count {n} at offset {at} cannot fit in the bytes that remain")
        return n


def _read_claim(rd: _Reader) -> Claim:
    image_id = rd.take(32, "claim image_id")
    (exit_code,) = rd.unpack("I", "claim exit_code")
    journal_digest = rd.take(32, "claim journal_digest")
    (cycles,) = rd.unpack("Q", "claim cycles")
    n = rd.count("claim assumptions", MAX_ASSUMPTIONS, 64)
    assumptions = tuple((rd.take(32, "assumption image_id"), rd.take(32, "assumption digest")) for _ in range(n))
    return Claim(image_id, exit_code, journal_digest, cycles, assumptions)


def _read_params(rd: _Reader) -> dict:
    n = rd.count("params", MAX_PARAMS, 4)
    params: dict[str, Any] = {}
    previous: bytes | None = None
    for _ in range(n):
        at = rd.pos
        key = rd.text("H", "param key", MAX_NAME_BYTES)
        if not key:
            raise ReceiptFormatError(f"empty param key at offset {at}")
        raw_key = key.encode()
        if previous is not None and raw_key <= previous:
            raise ReceiptFormatError(f"param key {key!r} at offset {at} is duplicated or out of order")
        previous = raw_key
        tag_at = rd.pos
        (tag,) = rd.unpack("B", f"type tag of param {key!r}")
        if tag == _TAG_BOOL:
            (b,) = rd.unpack("B", f"param {key!r}")
            if b > 1:
                raise ReceiptFormatError(f"param {key!r} at offset {tag_at + 1} is bool but holds {b}, not 0 or 1")
            params[key] = bool(b)
        elif tag == _TAG_INT:
            (params[key],) = rd.unpack("q", f"param {key!r}")
        elif tag == _TAG_FLOAT:
            (params[key],) = rd.unpack("d", f"param {key!r}")
        elif tag == _TAG_STR:
            params[key] = rd.text("I", f"param {key!r}", MAX_PARAM_STR_BYTES)
        else:
            raise ReceiptFormatError(f"param {key!r} at offset {tag_at} has unknown type tag {tag}")
    return params


def _read_body(rd: _Reader, depth: int) -> Receipt:
    if depth >= MAX_NESTING:
        raise ReceiptFormatError(f"inner receipts nest deeper than {MAX_NESTING} levels")
    claim = _read_claim(rd)
    journal = rd.blob("I", "journal", MAX_JOURNAL_BYTES)
    backend_at = rd.pos
    backend = rd.text("H", "backend name", MAX_NAME_BYTES)
    if not backend:
        raise ReceiptFormatError(f"empty backend name at offset {backend_at}")
    backend_version = rd.text("H", "backend version", MAX_NAME_BYTES)
    params = _read_params(rd)
    seal = rd.blob("I", "seal", MAX_SEAL_BYTES)
    n_inner = rd.count("inner receipts", MAX_INNER, 4)
    inner = []
    for i in range(n_inner):
        size = rd.length("I", f"inner receipt {i}", MAX_SEAL_BYTES)
        sub = _Reader(rd.data, rd.pos, rd.pos + size)
        inner.append(_read_body(sub, depth + 1))
        if sub.pos != sub.end:
            raise ReceiptFormatError(f"inner receipt {i} has {sub.end - sub.pos} trailing bytes at offset {sub.pos}")
        rd.pos = sub.end
    return Receipt(claim, journal, backend, backend_version, params, seal, tuple(inner))

