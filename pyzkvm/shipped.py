"""Values computed once from the code and shipped with the package (``pyzkvm/data/``), as RISC
Zero ships its control IDs: what a fresh machine would otherwise spend seconds computing before
its first ``pyzkvm verify`` or ``pyzkvm info`` (the machine's verifier keys,
machine/image_id.py; the byte table's Merkle subtree, machine/prep_root.py).

Each value is of pyzkvm/memo.py's kind — a pure function of pyzkvm's code — and the manifest
``pyzkvm/data/shipped.json`` records **which code computed them**: every pyzkvm source file
the writing process had loaded, by path and BLAKE3 of its contents, and each value's file with
the BLAKE3 of its bytes. ``get`` returns a value only when every one of those source files
still has those contents (a few milliseconds of hashing, once per process) and the value's
file has its recorded digest; after any edit it returns None and the caller computes the value
as it would without this module, so a stale value is never used. tests/test_shipped.py checks
that the manifest matches the code, and a slow test recomputes each value and compares bytes;
after a change to the code, rewrite them with

    python -m pyzkvm.shipped

A value's file holds its bytes, xz-compressed where that makes them smaller (the keys, not the
hashes); it is named by its namespace and key, so a rewrite that computes the same bytes leaves
it unchanged (only the manifest's source digests change).

Trust: the files are part of the installed package, as trusted as its ``.py`` files; the
source check guards against stale values, not against someone who can rewrite the package.
``PYZKVM_NO_MEMO=1`` turns this off too (every value is recomputed).
"""

from __future__ import annotations

import json
import lzma
import os
import sys
from functools import lru_cache
from pathlib import Path

import blake3

from .memo import NO_MEMO_ENV, PACKAGE

#: where the shipped values live (package data: pyproject.toml)
DATA = PACKAGE / "data"
MANIFEST = "shipped.json"


def file_name(namespace: str, key: bytes) -> str:
    """The name of (namespace, key)'s file in DATA."""
    return f"{namespace}-{blake3.blake3(key).hexdigest()[:24]}"


def _digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def _source_digest(relative: str) -> str:
    try:
        return _digest((PACKAGE / relative).read_bytes())
    except OSError:
        return ""  # a file the values' code had, gone now: never matches


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a folder of shipped values, or None when missing or unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and {"sources", "values"} <= manifest.keys() else None


def stale_sources(manifest: dict) -> list[str]:
    """The recorded source files whose contents are not what the values were computed from."""
    return [rel for rel, digest in manifest["sources"] if _source_digest(rel) != digest]


@lru_cache(maxsize=4)
def _current(folder: Path) -> dict | None:
    """(namespace, key hex) → value entry of the folder's manifest, when its sources are this
    code's (checked once per process), else None."""
    manifest = read_manifest(folder)
    if manifest is None or stale_sources(manifest):
        return None
    return {(v["namespace"], v["key"]): v for v in manifest["values"]}


def _stored(namespace: str, key: bytes) -> tuple[bytes, bool] | None:
    """(the file's bytes, whether they are xz) of (namespace, key)'s shipped value, or None:
    none shipped, the memo is off, the code it was computed by has changed since (module
    docstring), or the file is not the one the manifest recorded."""
    if os.environ.get(NO_MEMO_ENV):
        return None
    entries = _current(DATA)
    entry = None if entries is None else entries.get((namespace, key.hex()))
    if entry is None:
        return None
    try:
        data = (DATA / entry["file"]).read_bytes()
    except OSError:
        return None
    return (data, entry["xz"]) if _digest(data) == entry["digest"] else None  # else: a file from another rewrite


def has(namespace: str, key: bytes) -> bool:
    """Whether ``get`` would return a value (without decompressing it: ~45 ms a verifier key)."""
    return _stored(namespace, key) is not None


def get(namespace: str, key: bytes) -> bytes | None:
    """The shipped value of (namespace, key), or None (``_stored``)."""
    stored = _stored(namespace, key)
    if stored is None:
        return None
    data, xz = stored
    try:
        return lzma.decompress(data) if xz else data
    except lzma.LZMAError:
        return None


def loaded_sources() -> list[list[str]]:
    """[path, BLAKE3 hex] of every pyzkvm source file this process has loaded (what computed a value)."""
    files = {Path(f).resolve() for f in (getattr(m, "__file__", None) for m in list(sys.modules.values())) if f}
    return [[f.relative_to(PACKAGE).as_posix(), _digest(f.read_bytes())]
            for f in sorted(files) if f.suffix == ".py" and f.is_relative_to(PACKAGE)]


def values() -> list[tuple[str, bytes, bytes]]:
    """(namespace, key, value) of everything shipped, computed now from the code."""
    from .machine.image_id import shipped_values

    return shipped_values()


def write(folder: Path = DATA) -> list[Path]:
    """Recompute every shipped value and rewrite ``folder`` (files no longer shipped removed)."""
    computed = values()
    sources = loaded_sources()  # after computing: every module the computation loaded
    folder.mkdir(exist_ok=True)
    entries, written = [], []
    for namespace, key, value in computed:
        packed = lzma.compress(value, preset=9)
        xz = len(packed) < len(value)
        data = packed if xz else value
        path = folder / file_name(namespace, key)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        entries.append({"namespace": namespace, "key": key.hex(), "file": path.name, "digest": _digest(data), "xz": xz})
        written.append(path)
    for old in folder.iterdir():
        if old not in written and old.name != MANIFEST:
            old.unlink()
    lines = lambda items: ",\n".join(json.dumps(i, sort_keys=True) for i in items)  # noqa: E731 - one a line
    (folder / MANIFEST).write_text(f'{{"sources": [\n{lines(sources)}\n],\n"values": [\n{lines(entries)}\n]}}\n')
    _current.cache_clear()
    return written


if __name__ == "__main__":
    for p in write():
        print(f"{p.relative_to(PACKAGE.parent)}: {p.stat().st_size} bytes")
