"""merkle.py's leaf hash and node compression with numpy, for a process without numba's kernels.

``pyzkvm info`` and ``pyzkvm verify --elf`` commit a program's preprocessed columns (its image
ID, machine/prep_root.py): a few thousand rows, where loading numba (and on a cold cache,
compiling its BLAKE3 kernels: seconds) costs far more than the hashing. Here every step of
the compression function is one numpy operation over all the messages at once — the state is
four (4, n) arrays a, b, c, d (row r of a is state word r of every message), so one G step
mixes the four columns (or, after rotating b, c, d, the four diagonals) of every message.
The same bytes as blake3_numba.py's kernels and the blake3 package (tests/stark/test_blake3_numpy.py).

BLAKE3 in brief (blake3_numba.py has the full paragraph): a message of at most 1024 bytes is
one chunk; its 64-byte blocks are compressed in a chain from the IV, the first with
CHUNK_START, the last with CHUNK_END | ROOT and its byte length (zero padding after); the hash
is the last compression's first 8 words. A Merkle node C(left ‖ right) is one such block.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .blake3_numba import CHUNK_END, CHUNK_START, CHUNK_WORDS, IV, NODE_FLAGS, ROOT

_U32 = np.uint32
#: the message word order of each of the 7 rounds (round r+1 permutes round r's by MSG_PERMUTATION)
MSG_PERMUTATION = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
_SCHEDULE = [list(range(16))]
for _ in range(6):
    _SCHEDULE.append([_SCHEDULE[-1][i] for i in MSG_PERMUTATION])


def _rotr(x: np.ndarray, n: int) -> np.ndarray:
    # x ⋙ n on 32-bit words
    return (x >> _U32(n)) | (x << _U32(32 - n))


def _g(a, b, c, d, mx, my) -> None:
    # the quarter-round G on four columns (or diagonals) of every message at once, in place
    a += b
    a += mx
    d[:] = _rotr(d ^ a, 16)
    c += d
    b[:] = _rotr(b ^ c, 12)
    a += b
    a += my
    d[:] = _rotr(d ^ a, 8)
    c += d
    b[:] = _rotr(b ^ c, 7)


def compress(cv: np.ndarray, block: np.ndarray, block_len, flags: int) -> np.ndarray:
    """The first 8 output words of BLAKE3's compression (counter 0) of n messages at once:
    cv (8, n), block (16, n) uint32 words, block_len (bytes, a number or an (n,) array);
    returns (8, n)."""
    n = block.shape[1]
    a, b = cv[:4].copy(), cv[4:].copy()
    c = np.repeat(IV[:4, None], n, axis=1)
    d = np.zeros((4, n), dtype=_U32)
    d[2], d[3] = block_len, flags  # d = counter low, counter high (0), block length, flags
    for order in _SCHEDULE:
        m = block[order]
        _g(a, b, c, d, m[0:8:2], m[1:8:2])  # columns (0,4,8,12) … (3,7,11,15)
        b, c, d = np.roll(b, -1, axis=0), np.roll(c, -2, axis=0), np.roll(d, -3, axis=0)
        _g(a, b, c, d, m[8:16:2], m[9:16:2])  # diagonals (0,5,10,15) … (3,4,9,14)
        b, c, d = np.roll(b, 1, axis=0), np.roll(c, 2, axis=0), np.roll(d, 3, axis=0)
    return np.concatenate([a ^ c, b ^ d])


def hash_rows(matrix) -> np.ndarray:
    """merkle.hash_rows: out[i] = BLAKE3 of row i's little-endian u32 words, (n, 8) uint32,
    for rows of 1 to 256 words (one chunk)."""
    m = np.asarray(matrix)
    m = m.reshape(-1, 1) if m.ndim == 1 else m
    if m.ndim != 2 or not 1 <= m.shape[1] <= CHUNK_WORDS:
        raise UsageError(f"blake3_numpy.hash_rows: rows of 1 to {CHUNK_WORDS} words, got shape {m.shape}")
    n, w = m.shape
    blocks = -(-w // 16)
    words = np.zeros((16 * blocks, n), dtype=_U32)  # the message words, zero-padded to whole blocks
    words[:w] = m.T
    cv = np.repeat(IV[:, None], n, axis=1)
    for k in range(blocks):
        last = k == blocks - 1
        flags = (CHUNK_START if k == 0 else 0) | (CHUNK_END | ROOT if last else 0)
        cv = compress(cv, words[16 * k:16 * k + 16], 4 * w - 64 * k if last else 64, flags)
    return np.ascontiguousarray(cv.T)


def compress_pairs(digests, out=None) -> np.ndarray:
    """merkle.compress_pairs: out[i] = BLAKE3(digests[2i] ‖ digests[2i+1]) for (2m, 8) digests
    (written to ``out`` if given)."""
    d = np.asarray(digests, dtype=_U32)
    if d.ndim != 2 or d.shape[1] != 8 or d.shape[0] % 2:
        raise UsageError(f"compress_pairs: expected an even number of 8-word digests (2m, 8), got shape {d.shape}")
    block = np.ascontiguousarray(d.reshape(-1, 16).T)
    nodes = np.ascontiguousarray(compress(np.repeat(IV[:, None], block.shape[1], axis=1), block, 64, NODE_FLAGS).T)
    return _written(nodes, out)


def _written(nodes: np.ndarray, out) -> np.ndarray:
    # the nodes, or ``out`` with them written into it
    if out is None:
        return nodes
    out[:] = nodes
    return out


def compress_each(left, right, out=None) -> np.ndarray:
    """merkle.compress_each: out[i] = BLAKE3(left[i] ‖ right[i]) for (n, 8) digests (written to
    ``out`` if given)."""
    pairs = np.concatenate((np.asarray(left, dtype=_U32), np.asarray(right, dtype=_U32)), axis=1)
    return compress_pairs(pairs.reshape(-1, 8), out)
