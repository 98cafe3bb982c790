"""BLAKE3 Merkle trees over the rows of a matrix: the STARK's vector commitment.

A prover commits to an LDE matrix (N rows, w columns) by hashing each row into a leaf and
hashing pairs of nodes up to a single 32-byte root:

    leaf_i  = BLAKE3(row_i as canonical little-endian u32 bytes)     (hash_rows)
    node    = BLAKE3(left ‖ right)   (64 bytes: one compression)     (compress_pairs;
                                     compress_each: left and right from two arrays)

Opening row i reveals the row and its authentication path: the sibling of the node on the
way up at each level, leaf level first. The verifier rehashes the row and walks up: at level
l the current node is the left child when bit l of i is 0. Several rows are opened together
with one multiproof (multiproof.py): each sibling once, and none the verifier can compute from
the other opened rows. All hashing is numba (blake3_numba.py), parallel over rows and over
the nodes of a level.

Digests are (…, 8) uint32 arrays (the digest's bytes as little-endian words); a root is
32 bytes.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .blake3_numba import compress_each_lanes, compress_pairs_lanes, hash_rows_lanes, inject_row_hashes_lanes


def hash_rows(matrix, out: np.ndarray | None = None, width: int | None = None):
    """Leaf digests: out[i] = BLAKE3 of row i's canonical LE u32 bytes, shape (n, 8) uint32
    (written to ``out``, a C-contiguous (n, 8) uint32 array, if given). ``width``: hash only
    the first ``width`` elements of each row (a padded buffer's rows, read in place).

    Rows longer than 256 elements (1024 bytes) are hashed with BLAKE3's full chunk tree; a
    1-D array is one column (one element per row)."""
    m = np.asarray(matrix)
    if m.ndim == 1:
        m = m.reshape(-1, 1)
    if m.ndim != 2:
        raise UsageError(f"hash_rows: expected a 2-D (n, w) matrix, got shape {m.shape}")
    if width is not None and not 0 <= width <= m.shape[1]:
        raise UsageError(f"hash_rows: width {width} is not within the matrix's {m.shape[1]} columns")
    m = np.ascontiguousarray(m, dtype=np.uint32)
    if out is None:
        out = np.empty((m.shape[0], 8), dtype=np.uint32)
    assert out.shape == (m.shape[0], 8) and out.dtype == np.uint32 and out.flags.c_contiguous
    hash_rows_lanes(m, out, None if width == m.shape[1] else width)
    return out


#: rows of a matrix hashed and folded at once up to the lowest kept level (lowest_kept_level):
#: 4 MB of leaf digests, where a 2^20-row FRI layer's were 32 MB, its next level 16 MB more
FOLD_BLOCK_ROWS = 1 << 17


def lowest_kept_level(m: np.ndarray, low: int) -> np.ndarray:
    """Level ``low`` of the tree over the rows of m (2^low ≤ its rows): node p = the root over
    rows p·2^low … (p+1)·2^low − 1, built FOLD_BLOCK_ROWS rows at a time (their leaf hashes,
    then ``low`` compressions), so the levels below it never exist whole."""
    n = m.shape[0]
    out = np.empty((n >> low, 8), dtype=np.uint32)
    step = max(FOLD_BLOCK_ROWS, 1 << low)
    for lo in range(0, n, step):
        nodes = hash_rows(m[lo:lo + step])
        for _ in range(low):
            nodes = compress_pairs(nodes)
        out[lo >> low:(lo >> low) + nodes.shape[0]] = nodes
    return out


def compress_pairs(digests, out: np.ndarray | None = None):
    """One Merkle level: out[i] = BLAKE3(digests[2i] ‖ digests[2i+1]) for (2m, 8) digests
    (written to ``out``, a C-contiguous (m, 8) uint32 array that does not overlap the
    digests, if given)."""
    d = np.ascontiguousarray(digests, dtype=np.uint32)
    if d.ndim != 2 or d.shape[1] != 8 or d.shape[0] % 2:
        raise UsageError(f"compress_pairs: expected an even number of 8-word digests (2m, 8), got shape {d.shape}")
    if out is None:
        out = np.empty((d.shape[0] // 2, 8), dtype=np.uint32)
    assert out.shape == (d.shape[0] // 2, 8) and out.dtype == np.uint32 and out.flags.c_contiguous
    compress_pairs_lanes(d, out)
    return out


def compress_each(left, right, out: np.ndarray | None = None) -> np.ndarray:
    """Node compression of two digest arrays row by row: out[i] = BLAKE3(left[i] ‖ right[i])
    for (n, 8) digests (written to ``out``, a C-contiguous (n, 8) uint32 array — ``left``
    itself may be it —, if given). The same compression as compress_pairs, its two halves
    read from two arrays (a tree injecting a matrix's digests into a level: mmcs.py)."""
    a, b = (np.ascontiguousarray(x, dtype=np.uint32) for x in (left, right))
    if a.ndim != 2 or a.shape[1:] != (8,) or a.shape != b.shape:
        raise UsageError(f"compress_each: expected two (n, 8) digest arrays, got shapes {a.shape} and {b.shape}")
    if out is None:
        out = np.empty_like(a)
    assert out.shape == a.shape and out.dtype == np.uint32 and out.flags.c_contiguous
    return compress_each_lanes(a, b, out)


def inject_row_hashes(nodes: np.ndarray, matrix: np.ndarray, width: int | None = None) -> np.ndarray:
    """nodes[i] = BLAKE3(nodes[i] ‖ hash_rows(matrix)[i]), written over ``nodes`` (a
    C-contiguous (n, 8) uint32 array): compress_each of the nodes and the rows' leaf digests
    (``width``: of each row's first ``width`` words), the rows hashed and injected in one loop
    without their digests ever whole (a tree injecting an LDE block's rows: mmcs.py)."""
    m = np.ascontiguousarray(matrix, dtype=np.uint32)
    w = m.shape[1] if width is None else width
    if m.ndim != 2 or not 0 <= w <= m.shape[1] or nodes.shape != (m.shape[0], 8):
        raise UsageError(f"inject_row_hashes: expected (n, w) rows and (n, 8) nodes, got shapes {m.shape} and {nodes.shape}")
    assert nodes.dtype == np.uint32 and nodes.flags.c_contiguous
    return inject_row_hashes_lanes(nodes, m, w)


def digest_bytes(words) -> bytes:
    """A digest's 32 bytes from its 8 little-endian uint32 words."""
    return np.ascontiguousarray(words, dtype="<u4").tobytes()


#: the lowest levels of a committed tree that is not kept (MerkleTree, mmcs.MixedMatrixTree):
#: the leaves and the next ones, 2^(L+1) digests of 32 B in all where the levels above them
#: are 2^(L+1−this). An opening recomputes the 2^this rows under each opened position's
#: ancestor at the lowest kept level — a few rows more of the matrix (or of the blocks an
#: LdeSource recomputes anyway) — and hashes them up to it (at 2^18 cycles the three trace
#: trees kept were 96 MB transparent, 192 MB hiding; from level 5 on, 3 and 6 MB)
RECOMPUTED_LEVELS = 5
#: a tree of fewer than 2^this leaves recomputes its leaves only: its levels are a few MB at
#: most, and rebuilding subtrees at every opening cost a fibonacci(10) proof ~2 % of its CPU
RECOMPUTE_MIN_LOG_LEAVES = 16


def recomputed_levels(log_leaves: int) -> int:
    """How many of the lowest levels a tree of 2^log_leaves leaves does not keep."""
    return RECOMPUTED_LEVELS if log_leaves >= RECOMPUTE_MIN_LOG_LEAVES else 1


class _RecomputedLevel:
    """Level k of a tree over ``matrix``, recomputed for the positions read: node p is the
    root of the subtree over rows p·2^k … (p+1)·2^k − 1 (k = 0: the row's leaf hash)."""

    def __init__(self, matrix: np.ndarray, k: int):
        self.matrix, self.k = matrix, k

    def __len__(self) -> int:
        return self.matrix.shape[0] >> self.k

    def __getitem__(self, positions) -> np.ndarray:
        if isinstance(positions, slice):
            positions = np.arange(len(self))[positions]
        pos = np.asarray(positions, dtype=np.int64)
        rows = (pos.reshape(-1, 1) << self.k) + np.arange(1 << self.k)  # each node's subtree, in order
        nodes = hash_rows(self.matrix[rows.reshape(-1)])
        for _ in range(self.k):
            nodes = compress_pairs(nodes)
        return nodes.reshape(pos.shape + (8,))


class MerkleTree:
    """A committed matrix with the levels of its Merkle tree (levels[0] = leaves; the lowest
    ``recomputed_levels`` recomputed from the matrix's rows where read, ``_RecomputedLevel``)."""

    def __init__(self, matrix, levels):
        self.matrix = matrix
        self.levels = levels

    @classmethod
    def commit(cls, matrix) -> "MerkleTree":
        """Commit to the rows of a (n, w) uint32 matrix, n a power of two (n ≥ 1)."""
        m = np.asarray(matrix)
        if m.ndim == 1:
            m = m.reshape(-1, 1)
        n = m.shape[0] if m.ndim == 2 else 0
        if m.ndim != 2 or n < 1 or n & (n - 1):
            raise UsageError(f"MerkleTree.commit: expected a (2^k, w) matrix, got shape {np.shape(matrix)}; pad rows to a power of two")
        m = np.ascontiguousarray(m, dtype=np.uint32)
        log_n = n.bit_length() - 1
        low = min(recomputed_levels(log_n), log_n)  # the root at least is kept
        levels = [lowest_kept_level(m, low)]
        while levels[-1].shape[0] > 1:
            levels.append(compress_pairs(levels[-1]))
        return cls(m, [_RecomputedLevel(m, k) for k in range(low)] + levels)

    @property
    def root(self) -> bytes:
        """The 32-byte commitment."""
        return digest_bytes(self.levels[-1][0])

    @property
    def height(self) -> int:
        """log2 of the number of leaves (= length of every authentication path)."""
        return len(self.levels) - 1

    def open(self, indices):
        """Open rows: returns (rows (k, w), their multiproof: multiproof.py)."""
        from .multiproof import open_multiproof

        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = self.matrix.shape[0]
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise UsageError(f"MerkleTree.open: an index is outside 0..{n - 1}")
        return self.matrix[idx], open_multiproof(self.levels, idx)


def verify_openings(root: bytes, log_n: int, indices, rows, paths, plans=None) -> bool:
    """Check that rows[q] is row indices[q] of the matrix committed to by `root` (a tree of
    2^log_n leaves), using their multiproof ``paths`` (multiproof.py; ``plans``: the proof's
    multiproof.WalkPlans, if the caller shares them between trees). Returns False — never
    raises — on any mismatch or malformed input (wrong shapes, indices out of range, bad root
    length, no openings at all)."""
    try:
        if not isinstance(root, (bytes, bytearray)) or len(root) != 32:
            return False
        log_n = int(log_n)
        if not 0 <= log_n <= 32:
            return False
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            return False
        idx = idx.astype(np.int64)
        k = idx.shape[0]
        if k == 0:
            return False  # nothing opened proves nothing
        rows = np.asarray(rows)
        if rows.ndim == 1 and k:
            rows = rows.reshape(k, -1)
        if rows.ndim != 2 or rows.shape[0] != k or rows.dtype.kind not in "iu":
            return False
        if idx.min() < 0 or idx.max() >= (1 << log_n):
            return False
        if rows.size and rows.dtype != np.uint32 and (rows.min() < 0 or rows.max() > 0xFFFFFFFF):
            return False
        return rows_in_tree(root, log_n, idx, rows.astype(np.uint32, copy=False), paths, plans)
    except (ValueError, TypeError, OverflowError, UsageError):
        return False


def rows_in_tree(root: bytes, log_n: int, idx: np.ndarray, rows: np.ndarray, paths, plans=None) -> bool:
    """verify_openings once its inputs are checked: ``idx`` (q,) int64 in range, ``rows`` (q, w)
    uint32 — as a verifier's own positions and a shape-checked proof's rows are (FRI's layers
    call this directly). Queries that collide on a leaf are one position: their rows must be
    the same row (checked on the rows), and each distinct row is hashed once."""
    from .multiproof import WalkPlans, group, row_hash_list, walk

    plans = WalkPlans() if plans is None else plans
    grouped = group(idx, rows, plans)
    if grouped is None:
        return False
    return walk(root, log_n, grouped[0], row_hash_list(grouped[1]), paths, plans=plans)
