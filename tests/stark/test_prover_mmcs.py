"""The mixed-matrix commitment (one tree per proof phase) against a blake3-package oracle."""

import blake3
import numpy as np
import pytest

from pyzkvm.stark.merkle import MerkleTree
from pyzkvm.stark.mmcs import MixedMatrixTree, rows_per_query, verify_mixed_openings


def h(b: bytes) -> bytes:
    return blake3.blake3(b).digest()


def rowbytes(m, i):
    return np.ascontiguousarray(m[i], dtype="<u4").tobytes()


def oracle_root(big, small):
    """Tallest matrix (8 rows) at the leaves; the 2-row matrix injected at the 2-node level."""
    level = [h(rowbytes(big, i)) for i in range(8)]
    level = [h(level[2 * i] + level[2 * i + 1]) for i in range(4)]
    level = [h(level[2 * i] + level[2 * i + 1]) for i in range(2)]
    level = [h(level[i] + h(rowbytes(small, i))) for i in range(2)]
    return h(level[0] + level[1])


def test_root_matches_blake3_oracle_and_openings_verify():
    rng = np.random.default_rng(0)
    big = rng.integers(0, 2013265921, size=(8, 5), dtype=np.uint32)
    small = rng.integers(0, 2013265921, size=(2, 3), dtype=np.uint32)
    tree = MixedMatrixTree.commit([big, small])
    assert tree.root == oracle_root(big, small)
    idx = np.array([0, 5, 7, 3])
    rows, paths = tree.open(idx)
    # one row per distinct position, ascending: 0, 3, 5, 7 of the big matrix, 0 and 1 of the small
    assert np.array_equal(rows[0], big[[0, 3, 5, 7]]) and np.array_equal(rows[1], small[[0, 1]])
    assert verify_mixed_openings(tree.root, [3, 1], idx, rows, paths)
    assert verify_mixed_openings(tree.root, [3, 1], idx[::-1], rows, paths)  # the same positions
    bad = [rows[0], rows[1].copy()]
    bad[1][1, 0] ^= 1
    assert not verify_mixed_openings(tree.root, [3, 1], idx, bad, paths)
    assert not verify_mixed_openings(tree.root, [3, 1], np.array([0, 5, 6, 3]), rows, paths)
    assert not verify_mixed_openings(tree.root, [3, 2], idx, rows, paths)  # wrong shape claim
    assert not verify_mixed_openings(tree.root, [3, 1], idx, rows[:1], paths)


def test_a_shared_short_matrix_row_is_opened_once_and_counts_are_exact():
    """Positions 0 and 1 of the 8-row matrix share row 0 of the 2-row one: it is sent once, and
    an opening with that row twice (or a row missing) is refused."""
    rng = np.random.default_rng(1)
    big = rng.integers(0, 2013265921, size=(8, 5), dtype=np.uint32)
    small = rng.integers(0, 2013265921, size=(2, 3), dtype=np.uint32)
    tree = MixedMatrixTree.commit([big, small])
    idx = np.array([0, 1, 6])
    rows, paths = tree.open(idx)
    assert rows[1].shape == (2, 3)
    assert verify_mixed_openings(tree.root, [3, 1], idx, rows, paths)
    assert rows_per_query(rows, [3, 1], idx)[1].tolist() == small[[0, 0, 1]].tolist()
    twice = [rows[0], np.vstack([rows[1][:1], rows[1]])]
    assert not verify_mixed_openings(tree.root, [3, 1], idx, twice, paths)
    assert not verify_mixed_openings(tree.root, [3, 1], idx, [rows[0], rows[1][:1]], paths)

def test_single_matrix_is_a_plain_merkle_tree():
    m = np.arange(64, dtype=np.uint32).reshape(16, 4)
    assert MixedMatrixTree.commit([m]).root == MerkleTree.commit(m).root


def test_same_height_matrices_chain_their_row_digests():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 100, size=(2, 2), dtype=np.uint32)
    b = rng.integers(0, 100, size=(2, 3), dtype=np.uint32)
    leaves = [h(h(rowbytes(a, i)) + h(rowbytes(b, i))) for i in range(2)]
    assert MixedMatrixTree.commit([a, b]).root == h(leaves[0] + leaves[1])


def test_openings_alike_whichever_low_levels_the_tree_recomputes(monkeypatch):
    """A tree keeps its node digests from level RECOMPUTED_LEVELS up; open rebuilds the lower
    ones under the opened positions (from the rows of every matrix injected there: here four
    heights, two of them sharing a level, and an LdeSource). Rows and multiproof are the same
    as a tree that keeps every level but the leaves (1) gives, up to one that keeps only the
    root, and they verify. (The levels it does not keep are folded in place, two nodes at a
    time here: the same roots as the one built with a fresh array per level, low = 1.)"""
    from pyzkvm.stark import merkle, mmcs
    from pyzkvm.stark.lde_source import LdeSource

    monkeypatch.setattr(mmcs, "FOLD_IN_PLACE_ROWS", 2)

    rng = np.random.default_rng(3)
    shapes = [(64, 5), (32, 3), (32, 2), (8, 4), (2, 1)]
    matrices: list = [rng.integers(0, 2013265921, size=s, dtype=np.uint32) for s in shapes]
    matrices.insert(2, LdeSource(rng.integers(0, 2013265921, size=(8, 3), dtype=np.uint32), 2, 31))  # 32 rows
    logs = MixedMatrixTree.log_heights(matrices)
    idx = np.array([5, 6, 40, 63, 5, 17])
    opened = []
    for low in range(1, 8):  # 7: more than the tree's 6 levels below its root
        monkeypatch.setattr(merkle, "RECOMPUTED_LEVELS", low)
        monkeypatch.setattr(merkle, "RECOMPUTE_MIN_LOG_LEAVES", 0)
        tree = MixedMatrixTree.commit(matrices)
        assert sum(level is None for level in tree.levels) == min(low, 6)
        rows, paths = tree.open(idx)
        assert verify_mixed_openings(tree.root, logs, idx, rows, paths)
        opened.append((tree.root, rows, paths.levels))
    for root, rows, levels in opened[1:]:
        assert root == opened[0][0]
        assert all(np.array_equal(a, b) for a, b in zip(rows, opened[0][1], strict=True))
        assert all(np.array_equal(a, b) for a, b in zip(levels, opened[0][2], strict=True))


def test_injection_writes_each_node_over_itself_in_place():
    """_inject (node_i = C(node_i ‖ digest_i), each pair read from the two arrays) on a block of
    a level's rows — odd length, at an odd offset, as a source's digests come — is the pairs
    path it replaced (the pairs side by side, then compress_pairs) there, and leaves the other
    rows alone."""
    from pyzkvm.stark import mmcs
    from pyzkvm.stark.merkle import compress_pairs

    rng = np.random.default_rng(4)
    nodes = rng.integers(0, 2**32, size=(301, 8), dtype=np.uint64).astype(np.uint32)
    digests = rng.integers(0, 2**32, size=(293, 8), dtype=np.uint64).astype(np.uint32)
    before = nodes.copy()
    block = nodes[5:5 + len(digests)]
    assert mmcs._inject(block, digests) is block
    want = compress_pairs(np.stack((before[5:5 + len(digests)], digests), axis=1).reshape(-1, 8))
    assert np.array_equal(nodes[5:5 + len(digests)], want)
    assert np.array_equal(nodes[:5], before[:5]) and np.array_equal(nodes[5 + len(digests):], before[5 + len(digests):])
    assert mmcs.digest_bytes(want[0]) == h(before[5].astype("<u4").tobytes() + digests[0].astype("<u4").tobytes())


@pytest.mark.parametrize("threads", [1, 2])
def test_a_level_compressed_in_place_is_the_next_level(threads, monkeypatch):
    """_compress_in_place writes each chunk's nodes over the level's first half: the first chunk
    through a copy, the others straight into place (their pairs lie past them), each chunk's
    kernel split between 2 threads here: the same nodes as compress_pairs of the whole level."""
    from pyzkvm.stark import mmcs, pool
    from pyzkvm.stark.merkle import compress_pairs

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(mmcs, "FOLD_IN_PLACE_ROWS", 1 << 12)
    level = np.random.default_rng(5).integers(0, 2**32, size=(1 << 15, 8), dtype=np.uint64).astype(np.uint32)
    want = compress_pairs(level)
    assert np.array_equal(mmcs._compress_in_place(level), want)


@pytest.mark.parametrize("recomputed", [1, 2, 5, 9])
def test_subtrees_built_side_by_side_are_the_tree_built_level_by_level(recomputed, monkeypatch):
    """A small tree on two threads hashes its matrices side by side and builds the 2^LOG_SUBTREES
    subtrees under its level L − LOG_SUBTREES side by side (mmcs._levels_side_by_side), then
    folds their roots: every level it keeps, its root and its openings are those of the tree
    built level by level on one thread — with two matrices at the top, a streamed salt (rows
    that are digests, made from its blocks, which it records for the openings), matrices
    injected inside the subtrees (two of one height) and above them (shorter than
    2^LOG_SUBTREES rows), and
    whichever low levels it does not keep (9: all but the root)."""
    from pyzkvm.stark import mmcs, pool, zk
    from pyzkvm.stark.lde_source import LdeSource

    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(zk, "KEEP_SALT_ELEMENTS", 0)  # streamed in blocks
    monkeypatch.setattr(zk, "SALT_BLOCK_ROWS", 96)
    def matrices():
        rng = np.random.default_rng(6)
        ms: list = [rng.integers(0, 2013265921, size=s, dtype=np.uint32) for s in [(512, 5), (512, 3), (64, 2), (64, 6), (4, 4), (1, 3)]]
        ms.insert(3, LdeSource(rng.integers(0, 2013265921, size=(32, 3), dtype=np.uint32), 2, 31))  # 128 rows
        ms.append(zk.SaltMatrix(zk.ZkRandomness(zk.ZkRandomness.secret_from_seed(1), 0, 1), "salt", 512))
        return ms

    idx = np.array([5, 6, 300, 511, 5, 17])
    run_tasks = pool.side_by_side
    built = {}
    for threads in (1, 2):
        monkeypatch.setattr(pool, "threads", lambda threads=threads: threads)
        tasks: list = []
        monkeypatch.setattr(pool, "side_by_side", lambda t, tasks=tasks: tasks.append(len(t)) or run_tasks(t))
        tree = MixedMatrixTree.commit(matrices(), recomputed=recomputed)
        monkeypatch.setattr(pool, "side_by_side", run_tasks)
        assert tasks == ([] if threads == 1 else [8, 1 << mmcs.LOG_SUBTREES])
        rows, paths = tree.open(idx)
        built[threads] = tree.root, tree.levels, rows, repr(paths)
    (root1, levels1, rows1, paths1), (root2, levels2, rows2, paths2) = built[1], built[2]
    assert root1 == root2 and paths1 == paths2
    assert [level is None for level in levels1] == [level is None for level in levels2]
    assert sum(level is None for level in levels2) == min(recomputed, 9)
    for a, b in zip(levels1, levels2, strict=True):
        assert (a is None and b is None) or np.array_equal(a, b)
    for a, b in zip(rows1, rows2, strict=True):
        np.testing.assert_array_equal(a, b)
