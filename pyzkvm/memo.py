"""Small results that depend only on pyzkvm's code and their inputs, kept across processes.

A few values take a second or more to compute, depend on nothing but pyzkvm's source and
their arguments, and every fresh ``pyzkvm`` command would otherwise compute them again:

- a program's image ID (``machine/image_id.py``): a machine setup, i.e. the NTT and Merkle
  tree of the program's fixed columns, ~1–2 s; ``prove --backend trace``, ``info`` and
  ``verify --elf`` need only the 32 bytes;
- the check that an optional table's all-zero rows satisfy its constraints
  (``stark/optional.py``), ~1 s for the machine's tables at every key building;
- the machine's verifier key (``machine/image_id.machine_verifier_airs``, the bytes of
  ``stark/verifier_key.py``): every chip's constraint counts, digest and point tape, ~5 s of
  DAG building that a fresh ``pyzkvm verify`` would otherwise repeat (~7 MB per mode); the
  first prove stores the key of the mode it proves in with its prover key (they share the
  compiled chips), and the package ships the common ones (pyzkvm/shipped.py);
- the machine's prover key (``machine/prover_key.py``, the bytes of ``stark/prover_key.py``):
  every chip's and blinded chip's counts, digests and row tapes, so a fresh ``pyzkvm prove``
  builds no constraint DAG (~4 MB, ~4 s of CPU to build once per code version; an optional
  chip's tapes are stored apart by the first prove that uses the chip);
- the byte table's preprocessed LDE and the levels of its own Merkle tree
  (``machine/prep_root.commit_preprocessed``): the same for every program, ~17 MB per blowup,
  mapped (``mapped``) by a prove, which reads only the pages its openings use.

They are kept as tiny files beside the numba kernel cache (``NUMBA_CACHE_DIR`` as
``_numba_cache`` chose it, else ``pyzkvm/__pycache__`` in a source checkout), in a folder named
by a **code fingerprint**: BLAKE3 of the path and contents of every ``.py`` file of the
package. Any change to the code — an edit, another version — looks in a new, empty folder, so
a value is never reused by code that could compute it differently. (Until session 25 the
fingerprint hashed sizes and modification times, as numba's cache index does: two versions
whose files matched in both — a packager that normalises times, an edit that keeps them —
shared one folder, and a receipt one accepted wrongly the other accepted too.) Values computed
from the machine's circuit (image IDs, circuit digests, keys) are stored only by a process
whose chips are pyzkvm's own (machine/tables.chips_are_pyzkvms): a chip patched at run time,
as tests do, computes another circuit under the same fingerprint.

Trust: whoever can write this folder can also write the numba cache beside it, which holds
compiled code that pyzkvm runs; the memo adds no new way in. ``PYZKVM_NO_MEMO=1`` turns it
off (every value is recomputed), and an unwritable folder does the same without a word;
``PYZKVM_MEMO_DIR`` puts it elsewhere.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import blake3

PACKAGE = Path(__file__).resolve().parent
#: set to 1 to recompute every value (no reads, no writes)
NO_MEMO_ENV = "PYZKVM_NO_MEMO"
#: another folder for the memo (default: ``pyzkvm-memo`` beside the numba cache)
MEMO_DIR_ENV = "PYZKVM_MEMO_DIR"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """BLAKE3 of (relative path, contents) of every .py file of the package (hex, 32 digits):
    ~1.7 MB read and hashed, ~10 ms once per process."""
    h = blake3.blake3(b"pyzkvm-memo-v2")
    for path in sorted(PACKAGE.rglob("*.py")):
        data = path.read_bytes()
        h.update(f"{path.relative_to(PACKAGE).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:32]


def memo_dir() -> Path | None:
    """The folder of this code's memo (not created here), or None when the memo is off."""
    if os.environ.get(NO_MEMO_ENV):
        return None
    if os.environ.get(MEMO_DIR_ENV):
        return Path(os.environ[MEMO_DIR_ENV]) / code_fingerprint()
    from ._numba_cache import cache_root

    return cache_root() / "pyzkvm-memo" / code_fingerprint()


def _file(namespace: str, key: bytes) -> Path | None:
    folder = memo_dir()
    if folder is None:
        return None
    return folder / f"{namespace}-{blake3.blake3(key).hexdigest()[:40]}"


def get(namespace: str, key: bytes) -> bytes | None:
    """The value stored under (namespace, key) by this code, or None."""
    path = _file(namespace, key)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def mapped(namespace: str, key: bytes) -> mmap.mmap | None:
    """The value stored under (namespace, key) by this code, mapped copy-on-write instead of
    read: a page is read where it is used (a large value used in part costs that part), and
    writes to it stay in this process; or None."""
    path = _file(namespace, key)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None


def put(namespace: str, key: bytes, value: bytes) -> bool:
    """Store value under (namespace, key); silently nothing when the folder is not writable
    (returns whether it was stored). Written to a temporary name and renamed, so a reader
    never sees half a value."""
    path = _file(namespace, key)
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(value)
        os.replace(tmp, path)
    except OSError:
        return False
    return True


#: the namespace of image IDs (written by machine/image_id.py, read first by backends/image_id.py)
IMAGE_IDS = "image-id"


def program_key(program) -> bytes:
    """A Program's key for its image ID: its circuit key (ABI, entry, memory image, executable
    ranges: Program.circuit_key) and the ABI profile (the version: ``sp1@4`` …)."""
    return program.circuit_key + program.profile.encode()
