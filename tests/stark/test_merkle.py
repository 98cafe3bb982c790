"""Merkle commitments: roots recomputed with the reference blake3 package; openings verify,
and every kind of tampering is rejected (False, never an exception)."""

import blake3
import copy

import numpy as np
import pytest

from pyzkvm.errors import UsageError
from pyzkvm.stark.field import P
from pyzkvm.stark.merkle import MerkleTree, compress_pairs, hash_rows, verify_openings


def ref_root(matrix) -> bytes:
    # the tree with the oracle: leaves = blake3(row LE u32 bytes), node = blake3(left ‖ right)
    level = [blake3.blake3(np.ascontiguousarray(r, dtype="<u4").tobytes()).digest() for r in matrix]
    while len(level) > 1:
        level = [blake3.blake3(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def _matrix(n, w, seed):
    return np.random.default_rng(seed).integers(0, P, (n, w), dtype=np.uint32)


@pytest.mark.parametrize("log_n,w", [(0, 1), (1, 3), (4, 8), (7, 17), (9, 300)])
def test_root_matches_reference(log_n, w):
    m = _matrix(1 << log_n, w, log_n)
    tree = MerkleTree.commit(m)
    assert tree.height == log_n
    assert isinstance(tree.root, bytes) and len(tree.root) == 32
    assert tree.root == ref_root(m)


def test_levels_are_hash_rows_and_compress_pairs():
    m = _matrix(32, 5, 1)
    leaves = hash_rows(m)
    assert leaves[3].tobytes() == blake3.blake3(m[3].tobytes()).digest()
    parents = compress_pairs(leaves)
    assert parents.shape == (16, 8)
    assert parents[2].tobytes() == blake3.blake3(leaves[4].tobytes() + leaves[5].tobytes()).digest()


@pytest.fixture(scope="module")
def opened():
    m = _matrix(256, 6, 7)
    tree = MerkleTree.commit(m)
    idx = np.array([0, 1, 77, 255, 77, 128], dtype=np.uint32)
    rows, paths = tree.open(idx)
    return tree, m, idx, rows, paths


def test_open_and_verify(opened):
    tree, m, idx, rows, paths = opened
    assert rows.shape == (6, 6) and paths.depth == 8
    np.testing.assert_array_equal(rows, m[idx])
    assert verify_openings(tree.root, 8, idx, rows, paths) is True
    # a single-leaf tree has empty paths
    one = MerkleTree.commit(_matrix(1, 4, 3))
    r, p = one.open([0])
    assert p.depth == 0
    assert verify_openings(one.root, 0, [0], r, p)


def brute_force_multiproof(tree, positions):
    """Per level, the siblings of the opened leaves' paths that are not themselves on a path
    (a plain-Python set construction, independent of multiproof.py's vectorised one)."""
    on_path = set(int(i) for i in positions)
    out = []
    for level in range(tree.height):
        need = sorted({p ^ 1 for p in on_path} - on_path)
        out.append([tree.levels[level][p].tolist() for p in need])
        on_path = {p >> 1 for p in on_path}
    return out


def test_multiproof_sends_each_needed_sibling_once(opened):
    tree, m, idx, rows, paths = opened
    assert [lv.tolist() for lv in paths.levels] == brute_force_multiproof(tree, idx)
    # 0 and 1 are siblings (nothing sent for them at level 0), 77 is opened twice (one path)
    assert paths.levels[0].shape[0] == 3
    assert paths.digests < len(set(idx.tolist())) * 8  # fewer than one path per distinct leaf


def test_tampering_is_rejected(opened):
    tree, m, idx, rows, paths = opened
    bad_rows = rows.copy()
    bad_rows[2, 3] ^= 1
    assert verify_openings(tree.root, 8, idx, bad_rows, paths) is False
    for level in (0, 4, 5):  # a wrong sibling in the deduplicated path (levels 6, 7: all derived)
        bad = copy.deepcopy(paths)
        bad.levels[level][0, 5] ^= 0x100
        assert verify_openings(tree.root, 8, idx, rows, bad) is False
    bad_idx = idx.copy()
    bad_idx[1] = 3  # claims row 1 is row 3
    assert verify_openings(tree.root, 8, bad_idx, rows, paths) is False
    bad_root = bytes([tree.root[0] ^ 1]) + tree.root[1:]
    assert verify_openings(bad_root, 8, idx, rows, paths) is False
    # a row swapped with another opened row
    assert verify_openings(tree.root, 8, idx, rows[[1, 0, 2, 3, 4, 5]], paths) is False


def test_a_derivable_node_sent_or_a_needed_one_missing_is_rejected(opened):
    tree, m, idx, rows, paths = opened
    extra = copy.deepcopy(paths)  # leaf 1, the sibling of opened leaf 0, sent although derivable
    extra.levels[0] = np.vstack([tree.levels[0][1:2], extra.levels[0]])
    assert verify_openings(tree.root, 8, idx, rows, extra) is False
    missing = copy.deepcopy(paths)
    missing.levels[3] = missing.levels[3][1:]
    assert verify_openings(tree.root, 8, idx, rows, missing) is False


def test_colliding_queries_must_open_the_same_row(opened):
    """idx holds 77 twice: the two queries are one leaf, and a forged row behind the second
    one is caught (not dropped by the deduplication)."""
    tree, m, idx, rows, paths = opened
    assert idx[2] == idx[4] == 77
    forged = rows.copy()
    forged[4, 0] ^= 1
    assert verify_openings(tree.root, 8, idx, forged, paths) is False


def test_malformed_input_returns_false(opened):
    tree, m, idx, rows, paths = opened
    assert verify_openings(tree.root, 7, idx, rows, paths) is False  # wrong height
    assert verify_openings(tree.root, 8, idx[:5], rows, paths) is False  # count mismatch
    assert verify_openings(tree.root, 8, idx + 256, rows, paths) is False  # out of range
    assert verify_openings(tree.root, 8, -idx.astype(np.int64) - 1, rows, paths) is False
    assert verify_openings(tree.root[:31], 8, idx, rows, paths) is False
    assert verify_openings("not bytes", 8, idx, rows, paths) is False
    assert verify_openings(tree.root, 8, idx, rows.astype(np.float64), paths) is False
    short = copy.deepcopy(paths)
    short.levels[2] = short.levels[2][:, :7]
    assert verify_openings(tree.root, 8, idx, rows, short) is False
    assert verify_openings(tree.root, 8, idx, rows, paths.levels) is False  # not a Multiproof
    assert verify_openings(tree.root, 8, [], rows[:0], paths) is False
    assert verify_openings(tree.root, 8, idx, rows.astype(np.int64) + 2**32, paths) is False


def test_commit_bad_shapes():
    with pytest.raises(UsageError, match="power of two"):
        MerkleTree.commit(np.zeros((6, 2), np.uint32))
    with pytest.raises(UsageError):
        MerkleTree.commit(np.zeros((0, 2), np.uint32))
    with pytest.raises(UsageError):
        compress_pairs(np.zeros((3, 8), np.uint32))


def test_walk_plans_shared_between_trees():
    """One multiproof.WalkPlans serves a tree of 2^8 leaves opened at idx and one of 2^5 leaves
    opened at idx >> 3 (a FRI layer's positions: the first tree's level-3 positions): both
    verify with the shared plans, and a derivable node sent, a needed one left out, or a
    wrong sibling is still rejected with plans made by an honest walk."""
    from pyzkvm.stark.multiproof import WalkPlans

    idx = np.array([5, 77, 200, 77, 130, 6, 255])
    tall, short = MerkleTree.commit(_matrix(256, 5, 1)), MerkleTree.commit(_matrix(32, 3, 2))
    plans = WalkPlans()
    rows, paths = tall.open(idx)
    assert verify_openings(tall.root, 8, idx, rows, paths, plans)
    short_rows, short_paths = short.open(idx >> 3)
    assert verify_openings(short.root, 5, idx >> 3, short_rows, short_paths, plans)
    extra = copy.deepcopy(short_paths)
    extra.levels[0] = np.vstack([short.levels[0][:1], extra.levels[0]])
    missing = copy.deepcopy(short_paths)
    missing.levels[1] = missing.levels[1][1:]
    wrong = copy.deepcopy(short_paths)
    wrong.levels[0][0, 0] ^= 1
    for bad in (extra, missing, wrong):
        assert verify_openings(short.root, 5, idx >> 3, short_rows, bad, plans) is False


def test_openings_alike_whichever_low_levels_are_recomputed(monkeypatch):
    """The tree keeps its levels from RECOMPUTED_LEVELS up and hashes the lower ones again from
    the rows where a multiproof reads them: the same root, rows and multiproof for every count
    (1: only the leaves recomputed; 9: every level but the root)."""
    from pyzkvm.stark import merkle

    m = _matrix(256, 5, 4)
    idx = np.array([5, 77, 200, 77, 130, 6, 255])
    opened = []
    for low in (1, 3, 5, 9):
        monkeypatch.setattr(merkle, "RECOMPUTED_LEVELS", low)
        monkeypatch.setattr(merkle, "RECOMPUTE_MIN_LOG_LEAVES", 0)
        tree = MerkleTree.commit(m)
        rows, paths = tree.open(idx)
        assert verify_openings(tree.root, 8, idx, rows, paths)
        opened.append((tree.root, rows, paths.levels))
    for root, rows, levels in opened[1:]:
        assert root == opened[0][0] and np.array_equal(rows, opened[0][1])
        assert all(np.array_equal(a, b) for a, b in zip(levels, opened[0][2], strict=True))


@pytest.mark.parametrize("block_rows,low", [(8, 3), (16, 3), (4, 5), (64, 0)])
def test_kept_levels_alike_when_the_leaves_are_folded_block_by_block(monkeypatch, block_rows, low):
    """merkle.lowest_kept_level hashes and folds FOLD_BLOCK_ROWS rows at a time (a block
    smaller than a subtree: one subtree at a time): the root and every kept level are those
    of the whole leaf level folded at once."""
    from pyzkvm.stark import merkle

    m = _matrix(256, 5, 9)
    monkeypatch.setattr(merkle, "RECOMPUTED_LEVELS", low)
    monkeypatch.setattr(merkle, "RECOMPUTE_MIN_LOG_LEAVES", 0)
    whole = MerkleTree.commit(m)
    monkeypatch.setattr(merkle, "FOLD_BLOCK_ROWS", block_rows)
    tree = MerkleTree.commit(m)
    assert tree.root == whole.root == ref_root(m)
    nodes = hash_rows(m)
    for k in range(9):
        if k >= low:
            assert np.array_equal(tree.levels[k], nodes)
        if k < 8:
            nodes = compress_pairs(nodes)
