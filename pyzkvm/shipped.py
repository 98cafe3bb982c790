"""Values computed once from the code and shipped with the package (``pyzkvm/data/``), as RISC
Zero ships its control IDs: what a fresh machine would otherwise spend seconds computing before
its first ``pyzkvm verify`` (the machine's verifier keys, machine/image_id.py).

Each file holds one value of pyzkvm/memo.py's kind — a pure function of pyzkvm's code — and
records **which code computed it**: every pyzkvm source file the writing process had loaded,
by path and BLAKE3 of its contents. ``get`` returns the value only when every one of those
files still has those contents (a few milliseconds of hashing); after any edit it returns None
and the caller computes the value as it would without this module, so a stale value is never
used. A test (tests/test_shipped.py) checks that the files match the code, and a slow one
recomputes each value and compares bytes; after a change to the code, rewrite them with

    python -m pyzkvm.shipped

File format: MAGIC ‖ u32 header length ‖ JSON header {namespace, key (hex), sources: [[path,
BLAKE3 hex], …]} ‖ xz-compressed value. The header is read before anything is decompressed.

Trust: the files are part of the installed package, as trusted as its ``.py`` files; the
source check guards against stale values, not against someone who can rewrite the package.
``PYZKVM_NO_MEMO=1`` turns this off too (every value is recomputed).
"""

from __future__ import annotations

import json
import lzma
import os
import struct
import sys
from functools import lru_cache
from pathlib import Path

import blake3

from .memo import NO_MEMO_ENV, PACKAGE

#: where the shipped values live (package data: pyproject.toml)
DATA = PACKAGE / "data"
MAGIC = b"pyzkvm-shipped-v1\0"


def path_of(namespace: str, key: bytes) -> Path:
    """The shipped file of (namespace, key)."""
    return DATA / f"{namespace}-{blake3.blake3(key).hexdigest()[:24]}.xz"


@lru_cache(maxsize=None)
def _source_digest(relative: str) -> str:
    try:
        return blake3.blake3((PACKAGE / relative).read_bytes()).hexdigest()
    except OSError:
        return ""  # a file the value's code had, gone now: never matches


def read_header(path: Path) -> tuple[dict, int] | None:
    """(header, offset of the compressed value) of a shipped file, or None when unreadable."""
    try:
        with path.open("rb") as f:
            head = f.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
                return None
            (size,) = struct.unpack_from("<I", head, len(MAGIC))
            return json.loads(f.read(size)), len(head) + size
    except (OSError, ValueError):
        return None


def stale_sources(header: dict) -> list[str]:
    """The recorded source files whose contents are not what the value was computed from."""
    return [rel for rel, digest in header["sources"] if _source_digest(rel) != digest]


def get(namespace: str, key: bytes) -> bytes | None:
    """The shipped value of (namespace, key), or None: none shipped, the memo is off, or the
    code it was computed by has changed since (module docstring)."""
    if os.environ.get(NO_MEMO_ENV):
        return None
    path = path_of(namespace, key)
    found = read_header(path)
    if found is None:
        return None
    header, offset = found
    if header.get("namespace") != namespace or header.get("key") != key.hex() or stale_sources(header):
        return None
    try:
        return lzma.decompress(path.read_bytes()[offset:])
    except (OSError, lzma.LZMAError):
        return None


def loaded_sources() -> list[list[str]]:
    """[path, BLAKE3 hex] of every pyzkvm source file this process has loaded (what computed a value)."""
    files = {Path(f).resolve() for f in (getattr(m, "__file__", None) for m in list(sys.modules.values())) if f}
    return [[f.relative_to(PACKAGE).as_posix(), blake3.blake3(f.read_bytes()).hexdigest()]
            for f in sorted(files) if f.suffix == ".py" and f.is_relative_to(PACKAGE)]


def encode(namespace: str, key: bytes, value: bytes, sources: list) -> bytes:
    """A shipped file's bytes (module docstring)."""
    head = json.dumps({"namespace": namespace, "key": key.hex(), "sources": sources},
                      separators=(",", ":"), sort_keys=True).encode()
    return MAGIC + struct.pack("<I", len(head)) + head + lzma.compress(value, preset=9)


def values() -> list[tuple[str, bytes, bytes]]:
    """(namespace, key, value) of everything shipped, computed now from the code."""
    from .machine.image_id import shipped_values

    return shipped_values()


def write() -> list[Path]:
    """Recompute every shipped value and rewrite pyzkvm/data/ (old files removed)."""
    computed = values()
    sources = loaded_sources()  # after computing: every module the computation loaded
    DATA.mkdir(exist_ok=True)
    for old in DATA.glob("*.xz"):
        old.unlink()
    written = []
    for namespace, key, value in computed:
        path = path_of(namespace, key)
        path.write_bytes(encode(namespace, key, value, sources))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write():
        print(f"{p.relative_to(PACKAGE.parent)}: {p.stat().st_size} bytes")
