"""The numba BLAKE3 against the reference `blake3` package, byte for byte."""

import blake3
import numpy as np
import pytest

from pyzkvm.stark import blake3_numba as B, pool
from pyzkvm.stark.merkle import compress_each, compress_pairs, hash_rows

rng = np.random.default_rng(2024)


def ref(words) -> bytes:
    return blake3.blake3(np.ascontiguousarray(words, dtype="<u4").tobytes()).digest()


@pytest.fixture(params=["numba", "package"])
def path(request, monkeypatch):
    """Run a test on both paths of hash_rows / compress_pairs: the numba lane kernels (batches of
    SMALL_BATCH or more), and the blake3 package (smaller batches, such as a verifier's)."""
    monkeypatch.setattr(B, "SMALL_BATCH", 0 if request.param == "numba" else 1 << 30)
    monkeypatch.setattr(B, "_kernel_loaded", lambda: False)  # the package path even after a kernel test
    return request.param


def test_node_compression_many_inputs(path):
    # a Merkle node: one 64-byte block, counter 0, flags CHUNK_START|CHUNK_END|ROOT = 11
    assert B.NODE_FLAGS == 11
    blocks = rng.integers(0, 2**32, (2000, 16), dtype=np.uint32)
    blocks[0] = 0
    blocks[1] = 0xFFFFFFFF
    for blk in blocks[:300]:
        assert B.compress(B.IV, blk, 0, 64, 11).tobytes() == ref(blk)
    # the parallel pair kernel on all 2000 (node i = blocks i's two halves)
    out = compress_pairs(blocks.reshape(4000, 8))
    expected = np.frombuffer(b"".join(ref(b) for b in blocks), dtype="<u4").reshape(-1, 8)
    np.testing.assert_array_equal(out, expected)


def test_short_block_compression():
    # a 40-byte message (the proof-of-work input) is one zero-padded block with block_len 40
    blk = np.zeros(16, np.uint32)
    blk[:10] = rng.integers(0, 2**32, 10, dtype=np.uint32)
    assert B.compress(B.IV, blk, 0, 40, 11).tobytes() == ref(blk[:10])


@pytest.mark.parametrize("width", list(range(0, 20)) + [63, 64, 65, 255, 256, 257, 300, 511, 512, 513, 599, 600, 768, 1024, 1025, 1280, 4100])
def test_hash_words_any_length(width):
    # up to and past one chunk (256 words = 1024 bytes): the chunk tree, incl. uneven trees
    m = rng.integers(0, 2**32, width, dtype=np.uint32)
    assert B.hash_words(m).tobytes() == ref(m)


def test_hash_rows_widths_1_to_600(path):
    for width in range(1, 601):
        rows = rng.integers(0, 2**32, (3, width), dtype=np.uint32)
        got = hash_rows(rows)
        assert got.shape == (3, 8) and got.dtype == np.uint32
        for i in range(3):
            assert got[i].tobytes() == ref(rows[i]), (width, i)


def test_hash_rows_non_contiguous_input(path):
    m = rng.integers(0, 2**32, (64, 20), dtype=np.uint32)
    view = m[:, ::2]  # a strided view must hash like its contiguous copy
    got = hash_rows(view)
    for i in range(64):
        assert got[i].tobytes() == ref(view[i])


@pytest.mark.parametrize("n_rows", [1, 31, 32, 33, 100])
@pytest.mark.parametrize("width", [0, 8, 300])
def test_hash_rows_partial_lane_groups(n_rows, width, path):
    # rows are hashed B.LANES at a time: counts around a multiple of LANES, one and two chunks
    rows = rng.integers(0, 2**32, (n_rows, width), dtype=np.uint32)
    got = hash_rows(rows)
    expected = np.frombuffer(b"".join(ref(r) for r in rows), dtype="<u4").reshape(-1, 8)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("width", [1, 7, 8, 15, 16, 17, 255, 256, 257, 513])
@pytest.mark.parametrize("n_rows", [2 * B.LANES, 2 * B.LANES + 1, 3 * B.LANES - 1])
def test_hash_rows_tiles_of_many_groups(width, n_rows, path):
    # the kernel moves 16 rows × 16 words at a time (lane_tiles): its reads run past a short
    # block into the next rows, and the groups near the matrix's end (the last, and for narrow
    # rows the one before) are hashed from a padded copy; every digest as the package's
    rows = rng.integers(0, 2**32, (n_rows, width), dtype=np.uint32)
    got = hash_rows(rows)
    expected = np.frombuffer(b"".join(ref(r) for r in rows), dtype="<u4").reshape(-1, 8)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("width", [0, 1, 7, 12, 16, 17, 33, 40])
def test_hash_rows_first_columns_read_in_place(width, path):
    # width=: the first `width` words of each row of a wider buffer (a padded LDE block's rows)
    rows = rng.integers(0, 2**32, (2 * B.LANES + 3, 40), dtype=np.uint32)
    got = hash_rows(rows, width=width)
    expected = np.frombuffer(b"".join(ref(r[:width]) for r in rows), dtype="<u4").reshape(-1, 8)
    np.testing.assert_array_equal(got, expected)


def test_hash_rows_width_outside_the_rows_is_a_usage_error():
    from pyzkvm.errors import UsageError

    with pytest.raises(UsageError, match="width 41"):
        hash_rows(np.zeros((4, 40), dtype=np.uint32), width=41)


@pytest.mark.parametrize("width", [768, 1024, 1025, 1280, 4100])
def test_hash_rows_many_chunks(width, path):
    # rows of several chunks (1024 bytes each): the plan's PARENT merges and its subtree stack
    rows = rng.integers(0, 2**32, (3, width), dtype=np.uint32)
    got = hash_rows(rows)
    assert [got[i].tobytes() for i in range(3)] == [ref(r) for r in rows]


def test_compress_pairs_multithreaded_size():
    # 2^13 nodes: large enough to be split over threads
    digests = rng.integers(0, 2**32, (1 << 14, 8), dtype=np.uint32)
    out = compress_pairs(digests)
    expected = np.frombuffer(b"".join(ref(digests[2 * i : 2 * i + 2]) for i in range(1 << 13)), dtype="<u4").reshape(-1, 8)
    np.testing.assert_array_equal(out, expected)



@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1, 15, 17, 64, 200, 8200])
def test_compress_each_is_the_pairs_compression(n, threads, path, monkeypatch):
    """Nodes whose halves are rows of two arrays (merkle.compress_each: a tree's injected
    digests, mmcs._inject) are the nodes of those pairs laid side by side (compress_pairs, the
    path _inject took before) and the package's hash of each pair: lengths that end in a
    short group of lanes or a short tile, 8200 split into chunks on 2 threads; written over
    the left array too."""
    monkeypatch.setattr(pool, "threads", lambda: threads)
    left, right = (rng.integers(0, 2**32, (n, 8), dtype=np.uint32) for _ in range(2))
    want = compress_pairs(np.stack((left, right), axis=1).reshape(-1, 8))
    np.testing.assert_array_equal(compress_each(left, right), want)
    assert compress_each(left, right)[n - 1].tobytes() == ref(np.concatenate((left[n - 1], right[n - 1])))
    inside = left.copy()
    assert compress_each(inside, right, inside) is inside
    np.testing.assert_array_equal(inside, want)

@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1, 65, 1000, 16400])
@pytest.mark.parametrize("width", [3, 16, 17])
def test_injected_row_hashes_are_the_nodes_of_the_row_digests(width, n, threads, monkeypatch):
    """merkle.inject_row_hashes (a tree injecting an LDE block's rows: each chunk of the pool's
    loop hashes its rows a piece at a time and compresses them into their nodes) is
    compress_each of the nodes and the rows' hash_rows, for the first ``width`` words of wider
    rows: pieces of one lane group, chunks of several, lengths ending in a short group."""
    from pyzkvm.stark.merkle import inject_row_hashes

    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(B, "INJECT_PIECE_ROWS", B.LANES)
    rows = rng.integers(0, 2**31, (n, width + 5), dtype=np.uint32)
    nodes = rng.integers(0, 2**32, (n, 8), dtype=np.uint32)
    want = compress_each(nodes, hash_rows(rows[:, :width]))
    assert inject_row_hashes(nodes, rows, width) is nodes
    np.testing.assert_array_equal(nodes, want)


def test_small_batches_take_the_package_path(monkeypatch):
    # a verifier-sized batch never reaches a numba kernel (so a first verify compiles none)
    def no_kernel(*args):
        raise AssertionError("numba kernel called for a small batch")

    monkeypatch.setattr(B, "hash_rows_kernel", no_kernel)  # the lane kernel (rows and nodes)
    monkeypatch.setattr(B, "compress_each_kernel", no_kernel)
    rows = rng.integers(0, 2**32, (B.SMALL_BATCH - 1, 12), dtype=np.uint32)
    assert hash_rows(rows)[7].tobytes() == ref(rows[7])
    assert compress_pairs(rows[:4, :8])[1].tobytes() == ref(rows[2:4, :8])
    assert compress_each(rows[:4, :8], rows[4:8, :8])[1].tobytes() == ref(rows[[1, 5], :8])


def test_small_batches_take_the_kernel_once_it_is_loaded(monkeypatch):
    # a prover's process: the kernel made, small batches are hashed by it too (same bytes)
    rows = rng.integers(0, 2**32, (B.SMALL_BATCH, 12), dtype=np.uint32)
    assert hash_rows(rows)[3].tobytes() == ref(rows[3])  # a full batch: the kernel, made now
    assert B._kernel_loaded()

    def no_package(*args):
        raise AssertionError("the blake3 package called with the kernel loaded")

    monkeypatch.setattr(B, "_hash_rows_small", no_package)
    assert hash_rows(rows[:5])[4].tobytes() == ref(rows[4])
    assert compress_pairs(rows[:4, :8])[1].tobytes() == ref(rows[2:4, :8])


@pytest.mark.parametrize("threads", [1, 3])
def test_grind_kernel_finds_the_smallest_nonce(threads, monkeypatch):
    # serially (1 thread) and with row groups hashed side by side on the thread pool, across
    # batch boundaries: the same answer, the smallest nonce whose digest's first 8 bytes (LE)
    # are < 2^(64 - bits)
    monkeypatch.setattr(pool, "threads", lambda: threads)
    monkeypatch.setattr(B, "POW_BATCH", 1000)
    monkeypatch.setattr(B, "POW_ROUND_BATCHES", 3)  # several rounds, a hit past the first
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)  # each round's batches on the threads (three: out of order)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    state = rng.integers(0, 2**32, 8, dtype=np.uint32)

    def first(bits, lo, hi):
        for nonce in range(lo, hi):
            h = blake3.blake3(state.astype("<u4").tobytes() + nonce.to_bytes(8, "little")).digest()
            if int.from_bytes(h[:8], "little") >> (64 - bits) == 0:
                return nonce
        return -1

    assert B.grind_kernel(state, 10, 0, 1 << 14) == first(10, 0, 1 << 14)
    assert B.grind_kernel(state, 10, 1000, 3000) == first(10, 1000, 4000)
    assert B.grind_kernel(state, 24, 0, 64) == first(24, 0, 64)  # (almost surely) none: −1
    assert B.grind_kernel(state, 4, (1 << 32) - 5, 20) == first(4, (1 << 32) - 5, (1 << 32) + 15)  # nonce high word
    assert B.grind_kernel(state, 16, 0, 1 << 18) == first(16, 0, 1 << 18)  # a hit rounds later (almost surely)


def test_grind_target_reads_the_digests_first_eight_bytes_as_a_little_endian_u64():
    # the search's test on the digest words against the u64 formula, every bits 1 … 63, on
    # random digests and on the values either side of each boundary
    words = rng.integers(0, 2**32, (4096, 8), dtype=np.uint64).astype(np.uint32)
    for bits in range(1, 64):
        edge = (1 << (64 - bits))  # the smallest value that fails
        for k, value in enumerate((edge - 1, edge, 0, (1 << 64) - 1)):
            words[k, 0], words[k, 1] = value & 0xFFFFFFFF, value >> 32
        value = words[:, 0].astype(object) | (words[:, 1].astype(object) << 32)
        assert B._meets_target(words, bits).tolist() == [int(v) >> (64 - bits) == 0 for v in value]


def test_nonce_words_carry_into_the_high_word():
    rows = np.zeros((6, 10), dtype=np.uint32)
    B._nonce_words(rows, (7 << 32) + 0xFFFFFFFD)
    nonces = rows[:, 8].astype(np.uint64) | rows[:, 9].astype(np.uint64) << np.uint64(32)
    assert nonces.tolist() == [(7 << 32) + 0xFFFFFFFD + i for i in range(6)]
