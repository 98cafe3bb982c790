"""One Merkle tree over several matrices of different heights (a mixed-matrix commitment).

Each proof phase (preprocessed, main, aux, quotient) commits the LDEs of *all* its tables in
one tree, so a query costs one authentication path per phase instead of one per table.

Heights are powers of two; the tallest (2^L rows) forms the leaves. Walking up, the level with
2^l nodes also absorbs the matrices that have 2^l rows ("injection"):

    rows digest  R_i    = H(row_i of A) for one matrix A of that height, or
                          C(…C(H(row_i of A) ‖ H(row_i of B))… ‖ H(row_i of Z)) for several
    level L:     node_i = R_i over the 2^L-row matrices                           (hash_rows)
    level l < L: c_i    = C(node_2i ‖ node_2i+1)                                  (compress_pairs)
                 node_i = C(c_i ‖ R_i over the 2^l-row matrices)  if there are any, else c_i
                                                                                  (compress_each)

A matrix whose rows are digests already (``digest_rows``: hiding mode's salt, 8 words a row,
zk.SaltMatrix) enters R as its row itself, not H(row): C(R ‖ salt_i) (the leaf stays hiding,
C's input holding 247 bits the verifier never sees unopened; the hash of the salt row it had
until issue 18's `hid` task was one BLAKE3 compression more per leaf of three trees).

so opening position idx of the tallest matrix opens row idx >> (L − l) of each 2^l-row matrix
with a single path of L siblings (several positions: one multiproof, multiproof.py; and a
short matrix's row that several positions share is opened once). H and C are merkle.py's
BLAKE3 leaf hash and node compression; the depth and the injection levels are fixed by the
matrices' shapes, which the verifier knows.
"""

from __future__ import annotations

import functools

import numpy as np

from . import merkle, pool
from .lde_source import fresh_rows_work, shared_block_buffers
from .merkle import digest_bytes
from .multiproof import WalkPlans, blake3_each, open_multiproof, row_hash_list, walk


def _leaf_hashes(matrix, hashes=merkle) -> np.ndarray:
    """H(row_i) of one matrix: an array, or an lde_source.LdeSource (hashed block by block of
    rows, so its whole LDE is never in memory). ``hashes``: the module whose hash_rows and
    compress_pairs hash (merkle.py's kernels; blake3_numpy.py in a process without numba)."""
    return matrix.row_digests() if hasattr(matrix, "row_digests") else hashes.hash_rows(matrix)


def _rows_digest(group: list, hashes=merkle) -> np.ndarray:
    """R_i for matrices of one height: one leaf hash, chained with C when there are several
    (no copy of the matrices into one; a source's digests — an LdeSource's, a salt's — are
    chained in block by block, never all of them beside R). The group's LdeSources hash their
    blocks in one buffer per thread (lde_source.shared_block_buffers), gone when R is made: kept
    on while the tree folds to the next group, it sat beside two levels (+17 MiB of the peak at
    2^18 cycles, hiding)."""
    with shared_block_buffers():
        d = _leaf_hashes(group[0], hashes)
        for m in group[1:]:
            if hasattr(m, "inject_row_digests"):  # an LdeSource: its rows hashed into d block by block
                m.inject_row_digests(d)
            elif hasattr(m, "digest_blocks"):
                for lo, digests in m.digest_blocks():
                    _inject(d[lo:lo + digests.shape[0]], digests, hashes)  # writes into d's rows lo…
            else:
                d = _inject(d, _leaf_hashes(m, hashes), hashes)
    return d


def _inject(nodes: np.ndarray, digests: np.ndarray, hashes=merkle) -> np.ndarray:
    """node_i = C(node_i ‖ digest_i), written over ``nodes`` (a fresh array of the caller's, or
    a block of its rows): each pair read from the two arrays as it is compressed
    (merkle.compress_each), never laid side by side in a copy."""
    return hashes.compress_each(nodes, digests, nodes)


class MixedMatrixTree:
    """A commitment to matrices (N_k, w_k), N_k powers of two, in one tree. A matrix is an
    array or an LdeSource (lde_source.py: an LDE kept as coefficients): the tree keeps what it
    is given and the node digests, and ``open`` recomputes an LdeSource's opened rows."""

    def __init__(self, matrices: list, levels: list, recomputed: int = 1):
        self.matrices = matrices
        # levels[k]: the 2^(L−k) node digests after injection. The ``recomputed`` lowest levels
        # (at least the leaves: 2^L digests, as much memory as all the others together) are
        # not kept: ``open`` recomputes, under each opened position's ancestor at the lowest
        # kept level, the rows and the nodes of that subtree (2^recomputed leaves).
        low = min(max(1, recomputed), len(levels) - 1)
        self.levels = [None] * low + levels[low:]

    @staticmethod
    def log_heights(matrices) -> list:
        return [m.shape[0].bit_length() - 1 for m in matrices]

    @classmethod
    def commit(cls, matrices: list, hashes=merkle, recomputed: int | None = None) -> "MixedMatrixTree":
        """Commit to the rows of every matrix (see the module docstring for the layout;
        ``hashes`` as _leaf_hashes; ``recomputed``: the lowest levels not kept, default
        merkle.recomputed_levels)."""
        matrices = [m if hasattr(m, "row_digests") else np.ascontiguousarray(m, dtype=np.uint32) for m in matrices]
        logs = cls.log_heights(matrices)
        top = max(logs)
        recomputed = merkle.recomputed_levels(top) if recomputed is None else recomputed
        dropped = min(max(1, recomputed), top)
        hashed = _hashed_side_by_side(matrices) if hashes is merkle else matrices
        if hashed is not matrices:  # every leaf digest at hand: the subtrees side by side too
            return cls(matrices, _levels_side_by_side(hashed, logs, dropped), recomputed)
        levels = [_rows_digest([m for m, l in zip(hashed, logs) if l == top], hashes)]
        # the levels the tree does not keep go as soon as the next is built (the leaves and the
        # next four of a 2^21-row tree were 124 MB at once; 96 MB so)
        return cls(matrices, fold_levels(levels, [m for m, l in zip(hashed, logs) if l < top], hashes,
                                         dropped=dropped), recomputed)

    @property
    def root(self) -> bytes:
        return digest_bytes(self.levels[-1][0])

    def open(self, indices) -> tuple:
        """Open position `indices` (rows of the tallest matrix): returns (rows per matrix: its
        rows at the distinct positions index >> (L − l_k), ascending — queries that meet in a
        short matrix share its row —, their multiproof: multiproof.py)."""
        idx = np.asarray(indices, dtype=np.int64)
        top = len(self.levels) - 1
        if top == 0:
            return [_rows_at(m, np.unique(idx)) for m in self.matrices], open_multiproof(self.levels, idx)
        # levels 0 … low − 1 are not kept: under each opened position's ancestor at level low,
        # every matrix injected below it has its rows computed once (an LdeSource recomputes
        # their blocks), and the subtree's nodes are rebuilt from them as commit built them
        low = next(k for k, level in enumerate(self.levels) if level is not None)
        ancestors = np.unique(idx >> low)
        logs = self.log_heights(self.matrices)
        # the positions each matrix's rows are needed at: a matrix injected below low, in the subtrees
        # (every node of each at its level); any other, the opened positions' distinct rows of it
        subtree_pos = {}
        for k in range(low):
            span = 1 << (low - k)  # nodes of one subtree at level k
            subtree_pos[k] = (ancestors[:, None] * span + np.arange(span)).reshape(-1)
        wanted = [subtree_pos[top - l] if top - l < low else np.unique(idx >> (top - l)) for l in logs]
        computed = _rows_side_by_side(self.matrices, wanted)
        rows_at: dict = {}  # matrix k (injected below low) → (its positions in the subtrees, its rows there)
        subtree: list = []  # per level below low: _Subtree (positions, digests)
        for k in range(low):
            pos = subtree_pos[k]
            group = [j for j, l in enumerate(logs) if l == top - k]
            for j in group:
                rows_at[j] = (pos, computed[j] if computed is not None else _rows_at(self.matrices[j], pos))
            recomputed = [_DigestRows(rows_at[j][1]) if getattr(self.matrices[j], "digest_rows", False)
                          else rows_at[j][1] for j in group]
            if k == 0:  # the leaves: the tallest matrices' rows digest
                nodes = _rows_digest(recomputed)
            else:
                nodes = merkle.compress_pairs(subtree[-1].digests)
                if group:
                    nodes = _inject(nodes, _rows_digest(recomputed))
            subtree.append(_Subtree(pos, nodes))
        rows = []
        for j, (m, l) in enumerate(zip(self.matrices, logs)):
            distinct = np.unique(idx >> (top - l))
            if j in rows_at:
                pos, r = rows_at[j]
                rows.append(r[np.searchsorted(pos, distinct)])
            else:
                rows.append(computed[j] if computed is not None else _rows_at(m, distinct))
        return rows, open_multiproof([*subtree, *self.levels[low:]], idx)


#: a tree whose hashed matrices' leaf digests take at most this many bytes in all (a proof of up
#: to ~2^16 cycles) hashes them side by side (_hashed_side_by_side)
SIDE_BY_SIDE_DIGEST_BYTES = 32 << 20


def _hashed_side_by_side(matrices: list) -> list:
    """``matrices`` with each one replaced by its leaf digests H(row_i) (a _DigestRows; a
    ``digest_rows`` salt by its rows, digests already), made side by side on the pool's threads,
    the largest first (pool.side_by_side) — when the hashed ones (all but a salt) are several,
    on several threads, and their digests are small in all (SIDE_BY_SIDE_DIGEST_BYTES; the
    tree's levels are then built side by side too: _levels_side_by_side); else ``matrices`` as
    they are, each hashed in turn by _rows_digest, its blocks split among the threads. The tree
    is the same either way: the digests are chained in the matrices' order.

    A small tree's matrices are a few short transforms and hashes each, the Python between them
    holding the GIL while the other thread waits; side by side, one's Python overlaps the other's
    kernels. Their digests are side by side in memory (a tall tree's, up to 2^22 rows, would add
    128 MB each, where _rows_digest injects a matrix's rows into the leaves a block at a time).
    The blocks are hashed outside shared_block_buffers, each pool chunk in a buffer of its own:
    a thread's shared buffer may be in use by a block of one matrix on its stack while it helps
    with another's (pool._wait_helping)."""
    if not _side_by_side(matrices):
        return matrices
    out = list(matrices)

    def digest(k: int) -> None:
        m = matrices[k]
        if not getattr(m, "digest_rows", False):
            out[k] = _DigestRows(_leaf_hashes(m))
        else:  # a salt's rows, digests already, made here (a streamed one: from its blocks, which it records)
            rows = np.empty(m.shape, dtype=np.uint32)
            for lo, block in m.digest_blocks() if hasattr(m, "digest_blocks") else [(0, m.row_digests())]:
                rows[lo:lo + block.shape[0]] = block
            out[k] = _DigestRows(rows)

    pool.side_by_side([functools.partial(digest, k) for k in sorted(range(len(matrices)),
                                                                    key=lambda k: _size_first(matrices, k))])
    return out


#: a small tree's levels are built as 2^this subtrees side by side (_levels_side_by_side)
LOG_SUBTREES = 3


def _levels_side_by_side(digests: list, logs: list, dropped: int) -> list:
    """MixedMatrixTree.commit's levels from every matrix's leaf digests (``digests``: _DigestRows,
    in the tree's order; levels below ``dropped`` None), for a tree hashed side by side.

    The 2^s nodes of level L − s (s = LOG_SUBTREES) are the roots of subtrees that share
    nothing: node p's reads, at each level below, its own slice of the nodes and of the rows of
    the matrices injected there (rows p·2^(l−s) … (p+1)·2^(l−s) − 1 of a matrix of 2^l rows).
    So the subtrees are built side by side on the pool's threads (pool.side_by_side), each
    level of one in a single kernel call on its thread, and the levels above them are folded
    from their roots as a tall tree's are (fold_levels). Level by level, each level's
    compressions split among the threads met the other thread at every call: the three
    trees of a 2^14-cycle proof took 54 ms on one thread and 59 on two."""
    top = max(logs)
    s = min(LOG_SUBTREES, top)
    join = top - s  # the subtrees' roots' level
    levels: list = [None] * (join + 1)
    for k in range(min(dropped, join), join + 1):  # the kept levels and the roots, written slice by slice
        levels[k] = np.empty((1 << (top - k), 8), dtype=np.uint32)

    def subtree(p: int) -> None:
        nodes = None
        for k in range(join + 1):
            rows = 1 << (top - k - s)  # the subtree's nodes at level k
            group = [d.rows[p * rows:(p + 1) * rows] for d, l in zip(digests, logs) if l == top - k]
            digest = _chained(group)  # R_i of the matrices of this height (None: none)
            # the leaves are R; above them C(node_2i ‖ node_2i+1), then C(· ‖ R_i) where matrices are injected
            nodes = digest if nodes is None else merkle.compress_pairs(nodes)
            if digest is not None and k:
                merkle.compress_each(nodes, digest, nodes)
            if levels[k] is not None:
                levels[k][p * rows:(p + 1) * rows] = nodes

    pool.side_by_side([functools.partial(subtree, p) for p in range(1 << s)])
    return fold_levels(levels, [d for d, l in zip(digests, logs) if l < s], dropped=dropped)


def _chained(digests: list) -> np.ndarray | None:
    """R_i = C(…C(D_1,i ‖ D_2,i)… ‖ D_k,i) of digest arrays of one height (_rows_digest's chain): the
    first array itself when it is alone, None when there is none."""
    if len(digests) < 2:
        return digests[0] if digests else None
    out = merkle.compress_each(digests[0], digests[1])
    for d in digests[2:]:
        merkle.compress_each(out, d, out)
    return out


def _rows_side_by_side(matrices: list, positions: list) -> list | None:
    """Each matrix's rows at its ``positions``, computed side by side on the pool's threads,
    the largest first (pool.side_by_side), for a small tree (its leaf digests at most
    SIDE_BY_SIDE_DIGEST_BYTES, as _hashed_side_by_side) of several recomputed sources (LdeSources),
    on several threads; else None, and MixedMatrixTree.open computes them in turn (each
    source's blocks split among the threads, in one shared work buffer: shared_rows_work).
    Here each pool chunk's transforms get a work buffer of their own (fresh_rows_work): a
    thread's shared one may be in use by one source's block on its stack while it helps with
    another's (pool._wait_helping)."""
    # (the trees hashed side by side, with several LDEs whose rows are recomputed: an array's are read)
    if not _side_by_side(matrices) or sum(hasattr(m, "row_digests") and not getattr(m, "digest_rows", False)
                                          for m in matrices) < 2:
        return None
    out: list = [None] * len(matrices)

    def rows_of(k: int) -> None:
        out[k] = _rows_at(matrices[k], positions[k])

    with fresh_rows_work():
        pool.side_by_side([functools.partial(rows_of, k) for k in
                           sorted(range(len(matrices)), key=lambda k: _size_first(matrices, k))])
    return out


def _side_by_side(matrices: list) -> bool:
    """A tree's matrices are hashed and opened side by side: several of them are hashed (all but a
    ``digest_rows`` salt, whose rows are digests already), their leaf digests (32 bytes a row) are
    at most SIDE_BY_SIDE_DIGEST_BYTES in all, and there are several threads."""
    hashed = [m.shape[0] for m in matrices if not getattr(m, "digest_rows", False)]
    return len(hashed) >= 2 and 32 * sum(hashed) <= SIDE_BY_SIDE_DIGEST_BYTES and pool.threads() >= 2


def _size_first(matrices: list, k: int) -> tuple:
    # the order tasks are handed out in: the largest matrix first, so the last ones are short
    return -matrices[k].shape[0] * matrices[k].shape[1], k


class _DigestRows:
    """Rows that are digests already (a ``digest_rows`` matrix's rows, or a matrix's leaf hashes
    made beforehand: _hashed_side_by_side), for _rows_digest."""

    def __init__(self, rows: np.ndarray):
        self.rows = np.ascontiguousarray(rows, dtype=np.uint32)
        self.shape = self.rows.shape

    def row_digests(self) -> np.ndarray:
        return self.rows

    def digest_blocks(self):
        yield 0, self.rows


class _Subtree:
    """A level below a tree's lowest kept one, rebuilt by ``MixedMatrixTree.open`` at the
    positions under the opened ancestors: its digests where the multiproof reads them."""

    def __init__(self, positions: np.ndarray, digests: np.ndarray):
        self.positions, self.digests = positions, digests

    def __getitem__(self, positions) -> np.ndarray:
        return self.digests[np.searchsorted(self.positions, positions)]


def _rows_at(matrix, positions) -> np.ndarray:
    return matrix.rows(positions) if hasattr(matrix, "row_digests") else matrix[positions]


def rows_per_query(rows: list, log_heights: list, indices, plans: WalkPlans | None = None):
    """The opened rows (each matrix's rows at its distinct positions, ascending: ``open``) as
    one row per query (q, w_k) per matrix; None if a matrix has more or fewer rows than its
    distinct positions. ``plans``: the proof's WalkPlans (they keep the positions' np.unique)."""
    idx = np.asarray(indices, dtype=np.int64)
    top = max(log_heights)
    plans = WalkPlans() if plans is None else plans
    at: dict[int, tuple] = {}  # height → (its distinct positions' count, each query's row among them)
    for l in set(log_heights):
        distinct, _first, inverse, _ = plans.distinct(idx >> (top - l))
        at[l] = (distinct.shape[0], inverse)
    out = []
    for r, l in zip(rows, log_heights, strict=True):
        count, row_of_query = at[l]
        r = np.asarray(r)
        if r.ndim != 2 or r.shape[0] != count:
            return None
        out.append(r[row_of_query])
    return out


def verify_mixed_openings(root: bytes, log_heights: list, indices, rows: list, paths, plans=None,
                          digest_rows: int = 0) -> bool:
    """Check opened rows (as ``open`` gives them: per matrix its rows at the distinct
    positions) of a MixedMatrixTree against its root, with their multiproof ``paths``; the last
    ``digest_rows`` matrices' rows are digests (8 words: hiding mode's salt), not hashed. Never
    raises on bad data."""
    try:
        top = max(log_heights)
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or idx.shape[0] == 0 or len(rows) != len(log_heights):
            return False
        if idx.min() < 0 or idx.max() >= (1 << top):
            return False
        # a 2^l-row matrix opens one row per distinct position idx >> (top − l), ascending:
        # each row is hashed once, at the position the multiproof walk reaches it
        plans = WalkPlans() if plans is None else plans
        distinct = {l: plans.distinct(idx >> (top - l)) for l in set(log_heights)}  # (positions, …, as a tuple)
        rows = [np.asarray(r, dtype=np.uint32) for r in rows]
        if any(r.ndim != 2 or r.shape[0] != len(distinct[l][3]) for r, l in zip(rows, log_heights)):
            return False

        raw = set(range(len(rows) - digest_rows, len(rows)))  # the digest-valued matrices
        if any(rows[k].shape[1] != 8 for k in raw):
            return False

        def leaf(k):  # H(row) of matrix k's opened rows, or the row itself if it is a digest
            return [bytes(r.astype("<u4").tobytes()) for r in rows[k]] if k in raw else row_hash_list(rows[k])

        def digests(l):  # R_i of the 2^l-row matrices at their distinct positions, as 32-byte strings
            group = [k for k, lg in enumerate(log_heights) if lg == l]
            out = leaf(group[0])
            for k in group[1:]:
                out = blake3_each([d + h for d, h in zip(out, leaf(k))])  # C(R ‖ H(row of m))
            return out

        def inject(k, positions, nodes):  # after level k: the matrices of height 2^(top − k − 1)
            l = top - k - 1
            if l not in distinct:
                return nodes
            if distinct[l][3] != positions:  # pragma: no cover - the walk's own positions
                return None
            return blake3_each([node + row for node, row in zip(nodes, digests(l))])  # C(node ‖ R)

        # the leaves: distinct positions, ascending (np.unique), so no two queries share one
        return walk(root, top, distinct[top][3], digests(top), paths, inject, plans)
    except (ValueError, TypeError, IndexError):
        return False


def fold_levels(levels: list, matrices: list, hashes=merkle, dropped: int = 0) -> list:
    """Walk up from ``levels[-1]`` (the 2^l node digests of the taller matrices, injected) to
    the root, injecting ``matrices`` (each shorter than 2^l rows) at their heights; returns
    ``levels`` with every new level appended. MixedMatrixTree.commit starts it at the leaves; a
    caller that knows the digests of a taller, fixed part can start it lower (the machine's
    byte table, machine/prep_root.py; with ``hashes``, as _leaf_hashes). Levels 0 … ``dropped`` − 1
    (the ones a MixedMatrixTree does not keep) are None once the level above them is built; each
    of them but the first is built in the memory of the first (``levels[-1]``, then the caller's
    own array: a fresh one of _rows_digest's), which goes once the lowest kept level, a fresh
    array, is built (a 2^21-leaf tree's leaves and next level were 64 + 32 MB at once, the
    quotient tree's peak at 2^18 cycles, hiding; 64 MB so)."""
    logs = MixedMatrixTree.log_heights(matrices)
    for l in range(len(levels[-1]).bit_length() - 2, -1, -1):
        if len(levels) < dropped:  # neither the level below nor this one is kept
            nodes = _compress_in_place(levels[-1], hashes)
        else:
            nodes = hashes.compress_pairs(levels[-1])
        if len(levels) - 1 < dropped:
            levels[-1] = None
        group = [m for m, lg in zip(matrices, logs) if lg == l]
        if group:
            nodes = _inject(nodes, _rows_digest(group, hashes), hashes)
        levels.append(nodes)
    return levels


#: pairs of a level compressed at once by _compress_in_place's first chunk (1 MB of nodes)
FOLD_IN_PLACE_ROWS = 1 << 15


def _compress_in_place(level: np.ndarray, hashes=merkle) -> np.ndarray:
    """compress_pairs(level), node_i = C(level_2i ‖ level_2i+1), written over level's first half
    (returned: a view of it) a chunk of nodes at a time: nodes lo … hi − 1 are made from rows
    2·lo … 2·hi − 1 before they are written, over rows below 2·hi that no later nodes read —
    straight into place where those rows lie past them (hi ≤ 2·lo: every chunk but the first,
    each up to twice as long as all before it); the first, FOLD_IN_PLACE_ROWS nodes, through a
    copy: its rows and nodes overlap, and the kernel's threads would race. (Chunks of
    FOLD_IN_PLACE_ROWS each were 64 loops for a 2^22-node level, a thread idle at the end of
    each: ~0.1 s of a 2^20-cycle commit on 2 threads; 8 loops so.)"""
    half = level.shape[0] // 2
    lo = 0
    while lo < half:
        hi = min(half, max(FOLD_IN_PLACE_ROWS, 2 * lo))
        if 2 * lo >= hi:
            hashes.compress_pairs(level[2 * lo:2 * hi], level[lo:hi])
        else:
            level[lo:hi] = hashes.compress_pairs(level[2 * lo:2 * hi])
        lo = hi
    return level[:half]
