"""The prover's LDEs kept as coefficients (lde_source.LdeSource): every block of rows, the
leaf hashes and the opened rows are exactly those of the whole LDE (ntt.coset_lde), a mixed
tree over sources is the tree over the arrays, and a proof never holds a whole LDE."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark import INSECURE_FAST_FOR_TESTS as FAST, INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, prove, setup, verify
from pyzkvm.stark import lde_source, prover
from pyzkvm.stark.domain import coset_shift
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.field import P
from pyzkvm.stark.merkle import compress_each, hash_rows
from pyzkvm.stark.mmcs import MixedMatrixTree
from pyzkvm.stark.ntt import coset_lde


def _values(rng, rows, w):
    return rng.integers(0, P, (rows, w), dtype=np.int64).astype(np.uint32)


@pytest.mark.parametrize("log_d, log_blowup, w", [(4, 2, 3), (6, 1, 5), (5, 3, 2), (3, 0, 4), (4, 1, 70), (0, 2, 3)])
def test_blocks_digests_and_rows_are_the_whole_ldes(log_d, log_blowup, w, monkeypatch):
    # parts of 16 × 16 words: 70 columns of 16 rows are computed in three parts of 32, 32, 6 columns
    monkeypatch.setattr(lde_source, "ROWS_WORK_BYTES", 4 * 16 * 16)
    monkeypatch.setattr(lde_source, "ROWS_WHOLE_BYTES", 4 * 16 * 16)
    rng = np.random.default_rng(log_d)
    values = _values(rng, 1 << log_d, w)
    shift = coset_shift(log_d + log_blowup)
    whole = coset_lde(values, log_blowup, shift=shift)
    src = lde_source.LdeSource.from_values(values, log_blowup, shift)
    assert src.shape == whole.shape
    np.testing.assert_array_equal(src.full(), whole)
    np.testing.assert_array_equal(np.concatenate([src.block(k) for k in range(1 << log_blowup)]), whole)
    np.testing.assert_array_equal(src.row_digests(), hash_rows(whole))
    pos = rng.integers(0, whole.shape[0], 17)  # repeats and any order
    np.testing.assert_array_equal(src.rows(pos), whole[pos])
    every = np.arange(whole.shape[0])  # every half of every layer of the partial transforms
    np.testing.assert_array_equal(src.rows(every), whole)
    np.testing.assert_array_equal(src.rows(every[-1:]), whole[-1:])
    for hash_log in range(log_d):  # hashed in smaller blocks (hiding mode: D/2): the same digests
        small = lde_source.LdeSource(src.coefficients, log_blowup, shift, hash_log=hash_log)
        np.testing.assert_array_equal(small.row_digests(), hash_rows(whole))
        nodes = rng.integers(0, 2**32, size=(whole.shape[0], 8), dtype=np.uint64).astype(np.uint32)
        want = compress_each(nodes, hash_rows(whole))
        small.inject_row_digests(nodes)
        np.testing.assert_array_equal(nodes, want)


@pytest.mark.parametrize("nonzero", [40, 20, 1])
def test_a_source_told_its_nonzero_rows_reads_only_those(nonzero):
    """Hiding mode's coefficient matrices are zero from a known row on (f̂: n + m_r of D = 2n,
    fewer than D/2 for a few-row table): a source told so folds its hash blocks and runs the
    openings' first layer over those rows only, and its digests and rows are the whole LDE's."""
    rng = np.random.default_rng(nonzero)
    log_d, log_blowup, w = 6, 2, 5
    coeffs = np.zeros((1 << log_d, w), dtype=np.uint32)
    coeffs[:nonzero] = _values(rng, nonzero, w)
    shift = coset_shift(log_d + log_blowup)
    whole = lde_source.LdeSource(coeffs, log_blowup, shift).full()
    src = lde_source.LdeSource(coeffs, log_blowup, shift, hash_log=log_d - 1, rows=nonzero)
    np.testing.assert_array_equal(src.row_digests(), hash_rows(whole))
    every = np.arange(whole.shape[0])  # both halves of every block's first layer
    np.testing.assert_array_equal(src.rows(every), whole)
    pos = rng.integers(0, whole.shape[0], 9)  # one half only, in places
    np.testing.assert_array_equal(src.rows(pos), whole[pos])



@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("nonzero", [300, 200, 512])
def test_rows_from_layers_split_among_threads_are_the_whole_ldes(threads, nonzero, monkeypatch):
    """A block's partial transform with its big layers split by rows among the threads and
    its small subproblems finished one per task (FINISH_BYTES of 8 rows here: layers 0 … 5
    split, in chunks of a few rows): the rows of the whole LDE (ntt.coset_lde), on an odd
    width, coefficients zero from row ``nonzero`` on (past D/2, before it, none), wanted rows
    in both halves of a block, in one half only, and every row."""
    from pyzkvm.stark import pool
    from pyzkvm.stark.ntt import ntt

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    log_d, w = 9, 37
    monkeypatch.setattr(lde_source, "FINISH_BYTES", 4 * w * 8)
    rng = np.random.default_rng(nonzero)
    coeffs = np.zeros((1 << log_d, w), dtype=np.uint32)
    coeffs[:nonzero] = _values(rng, nonzero, w)
    shift = coset_shift(log_d + 1)
    whole = coset_lde(ntt(coeffs), 1, shift=shift)
    src = lde_source.LdeSource(coeffs, 1, shift, rows=nonzero)
    d = 1 << log_d
    for pos in ([3, 300, 301, 511, d + 5, d + 6, d + 100],  # block 0: both halves; block 1: its first half
                [d + 400, d + 257, d + 258, 2],  # block 1: its second half only; block 0: one row
                list(range(d - 40, d + 40)),  # a run of rows across the blocks' boundary
                range(2 * d)):
        np.testing.assert_array_equal(src.rows(pos), whole[np.asarray(pos)])

def test_a_narrow_ldes_blocks_are_hashed_side_by_side():
    """A narrow LDE's blocks are transformed and hashed side by side on the thread pool (one
    block's transform would use one thread): the digests of the whole LDE, in order."""
    rng = np.random.default_rng(8)
    src = lde_source.LdeSource.from_values(_values(rng, 1 << 14, 4), 2, coset_shift(16))  # 2^16 words a block
    np.testing.assert_array_equal(src.row_digests(), hash_rows(src.full()))


def test_rows_of_several_blocks_are_computed_side_by_side():
    """Opened rows in several blocks of a small matrix are computed on the thread pool, a work
    buffer per chunk of blocks: the whole LDE's rows, in the order asked."""
    rng = np.random.default_rng(9)
    src = lde_source.LdeSource.from_values(_values(rng, 1 << 13, 8), 2, coset_shift(15))  # 2^16 words a block
    pos = rng.integers(0, src.shape[0], 40)
    np.testing.assert_array_equal(src.rows(pos), src.full()[pos])


def test_rows_in_a_shared_work_buffer_are_the_whole_ldes_rows():
    """Inside shared_rows_work the sources' rows are recomputed in one buffer, grown to the
    largest asked for (a wider source after a narrower one, then a narrower again): each
    source's rows are its whole LDE's, and the buffer is gone after the block."""
    rng = np.random.default_rng(10)
    sources = [lde_source.LdeSource.from_values(_values(rng, 1 << log_d, w), 2, coset_shift(log_d + 2))
               for log_d, w in [(5, 3), (7, 9), (4, 2)]]
    pos = [rng.integers(0, s.shape[0], 12) for s in sources]
    with lde_source.shared_rows_work():
        got = [s.rows(p) for s, p in zip(sources, pos)]
        assert lde_source._shared.buffer.size == (1 << 7) * 9  # the largest source's D × w
    assert lde_source._shared.buffer is None
    for s, p, rows in zip(sources, pos, got):
        np.testing.assert_array_equal(rows, s.full()[p])


def test_a_mixed_tree_over_sources_is_the_tree_over_the_arrays():
    rng = np.random.default_rng(5)
    big = lde_source.LdeSource.from_values(_values(rng, 16, 6), 2, coset_shift(6))
    small = lde_source.LdeSource.from_values(_values(rng, 4, 3), 2, coset_shift(4))
    twin = lde_source.LdeSource.from_values(_values(rng, 16, 2), 2, coset_shift(6))  # chained in block by block
    arrays = [big.full(), small.full(), _values(rng, 64, 2), twin.full()]
    lazy, plain = MixedMatrixTree.commit([big, small, arrays[2], twin]), MixedMatrixTree.commit(arrays)
    assert lazy.root == plain.root
    idx = np.array([63, 0, 17, 18, 40])
    (rows_l, paths_l), (rows_p, paths_p) = lazy.open(idx), plain.open(idx)
    for a, b in zip(rows_l, rows_p, strict=True):
        np.testing.assert_array_equal(a, b)
    assert repr(paths_l) == repr(paths_p)


@pytest.mark.parametrize("cfg", [FAST, FAST_ZK], ids=["transparent", "hiding"])
def test_a_proof_transforms_at_most_one_block_of_rows_at_a_time(cfg, monkeypatch):
    """Every transform of a committed LDE's rows covers at most D rows (one block), never the
    D·blowup of the whole LDE: what keeps the prover's peak memory near the coefficients'
    (the DEEP's two combined columns, extended in deep.py, are not watched)."""
    widest = []
    real = lde_source.coset_evaluations, lde_source.coset_lde_from_coefficients, prover.coset_values

    def recording(real_fn):
        def fn(coeffs, log_size, shift, out=None, rows=None):  # the hash blocks (log_size), the blocks (log_blowup 0)
            out = real_fn(coeffs, log_size, shift, out) if rows is None else real_fn(coeffs, log_size, shift, out, rows)
            widest.append((out.shape[0], out.shape[1] if out.ndim == 2 else 1))
            return out
        return fn

    def recording_cosets(matrices, log_size, shifts, outs, rows):  # the quotient's cosets: a transform of 2^log_size rows each
        done = real[2](matrices, log_size, shifts, outs, rows)
        widest.extend((1 << log_size, m.shape[1]) for m in done if m is not None)
        return done

    monkeypatch.setattr(lde_source, "coset_evaluations", recording(real[0]))
    monkeypatch.setattr(lde_source, "coset_lde_from_coefficients", recording(real[1]))
    monkeypatch.setattr(prover, "coset_values", recording_cosets)
    trace, pv = fibonacci_trace(64)
    pk = setup(cfg, [FibonacciAir()])
    proof = prove(pk, [trace], pv, zk_seed=3)
    verify(pk.verifying_key, proof, pv)
    n = 64
    d = 2 * n if cfg.zk else n
    assert widest and max(rows for rows, _ in widest) <= d  # one block of a committed LDE, never D·blowup rows


@pytest.mark.parametrize("threads", [1, 2])
def test_a_narrow_lde_is_hashed_from_padded_blocks_in_pieces(threads, monkeypatch):
    """A narrow LDE's blocks are transformed in a buffer as wide as the transform runs (its
    padding columns zeros), and injected into a tree's nodes a few rows at a time
    (inject_row_digests: a chunk of the pool's loop hashes its rows a piece at a time, into its
    own buffer): the whole LDE's digests, injected, on 1 and 2 threads."""
    from pyzkvm.stark import blake3_numba, pool

    rng = np.random.default_rng(9)
    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(blake3_numba, "INJECT_PIECE_ROWS", blake3_numba.LANES)  # a piece per lane group
    for width in (3, 12, 16, 17):  # padded to 8, to 16; not padded; two column groups
        src = lde_source.LdeSource.from_values(_values(rng, 1024, width), 2, coset_shift(12))
        want = hash_rows(src.full())
        np.testing.assert_array_equal(src.row_digests(), want)
        nodes = rng.integers(0, 2**32, size=(want.shape[0], 8), dtype=np.uint64).astype(np.uint32)
        want = compress_each(nodes, want)
        src.inject_row_digests(nodes)
        np.testing.assert_array_equal(nodes, want)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_trees_sources_hashed_in_shared_block_buffers_are_the_tree_over_the_arrays(threads, monkeypatch):
    """A tree's sources of one height hash their blocks in one buffer per thread
    (shared_block_buffers), grown for a wider one after a narrower one, a padded width's
    padding columns holding an earlier source's values: the same root as the tree over the
    whole LDEs, on 1 and 2 threads (blocks side by side and one after another), and no buffer
    kept after the commit."""
    from pyzkvm.stark import mmcs, pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(mmcs, "SIDE_BY_SIDE_DIGEST_BYTES", 0)  # not hashed side by side, each in its own digests
    rng = np.random.default_rng(11 + threads)
    sources = [lde_source.LdeSource(_values(rng, 1 << log_d, w), 2, coset_shift(log_d + 2), hash_log=log_d - 1)
               for log_d, w in [(6, 5), (6, 19), (6, 13), (6, 3), (4, 22), (4, 7)]]
    grown = []
    make = lde_source.LdeSource._block_buffer
    monkeypatch.setattr(lde_source.LdeSource, "_block_buffer", lambda s: grown.append(make(s)) or grown[-1])
    lazy = MixedMatrixTree.commit(sources)
    assert lde_source._block_buffers is None
    assert any(np.shares_memory(a, b) for a, b in zip(grown, grown[1:]))  # a block in an earlier one's buffer
    assert lazy.root == MixedMatrixTree.commit([s.full() for s in sources]).root


def test_a_small_trees_sources_side_by_side_are_the_tree_over_the_arrays(monkeypatch):
    """On several threads a small tree hashes its sources side by side, each into its digests
    (mmcs._hashed_side_by_side), builds its subtrees side by side (mmcs._levels_side_by_side),
    and recomputes their opened rows side by side, each pool chunk
    in a work buffer of its own (mmcs._rows_side_by_side, inside the prover's shared_rows_work):
    the root, rows and paths of the tree over the whole LDEs — the same as hashed and opened
    one source after another — and the calling thread's shared buffer is its own again after."""
    from pyzkvm.stark import mmcs, pool

    monkeypatch.setattr(pool, "threads", lambda: 2)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    rng = np.random.default_rng(12)
    sources = [lde_source.LdeSource(_values(rng, 1 << log_d, w), 2, coset_shift(log_d + 2), hash_log=log_d - 1)
               for log_d, w in [(6, 5), (6, 19), (6, 13), (5, 3), (4, 22), (4, 7)]]
    tasks = []
    run_tasks = pool.side_by_side
    monkeypatch.setattr(pool, "side_by_side", lambda t: tasks.append(len(t)) or run_tasks(t))
    idx = np.array([0, 255, 17, 18, 100, 17])

    def tree_and_openings():
        tree = MixedMatrixTree.commit(sources)
        with lde_source.shared_rows_work():
            rows, paths = tree.open(idx)
            assert lde_source._shared.buffer is not None  # the prover's own, restored
        return tree.root, rows, repr(paths)

    root, rows, paths = tree_and_openings()
    assert tasks == [6, 1 << mmcs.LOG_SUBTREES, 6]  # hashed, its subtrees built, then opened, side by side
    plain = MixedMatrixTree.commit([s.full() for s in sources])
    plain_rows, plain_paths = plain.open(idx)
    assert root == plain.root and paths == repr(plain_paths)
    for a, b in zip(rows, plain_rows, strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(mmcs, "SIDE_BY_SIDE_DIGEST_BYTES", 0)  # a tall tree's way: one source after another
    tasks.clear()
    one_by_one = tree_and_openings()
    assert tasks == [] and one_by_one[0] == root and one_by_one[2] == paths
