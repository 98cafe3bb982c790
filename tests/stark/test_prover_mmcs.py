"""The mixed-matrix commitment (one tree per proof phase) against a blake3-package oracle."""

import blake3
import numpy as np

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
