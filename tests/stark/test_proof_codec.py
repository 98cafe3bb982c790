"""The proof's byte encoding: round trip, size breakdown, and strict decoding."""

import struct

import numpy as np
import pytest

from pyzkvm.errors import ProofFormatError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, decode_proof, encode_proof, prove, setup, verify
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.proof import MAGIC


@pytest.fixture(scope="module")
def encoded():
    pk = setup(INSECURE_FAST_FOR_TESTS, [LeftAir(), RightAir()])
    proof = prove(pk, permutation_traces(np.arange(16), 32), [])
    data, marks = encode_proof(proof)
    return pk, proof, data, marks


def test_round_trip_and_size_breakdown(encoded):
    pk, proof, data, marks = encoded
    again = decode_proof(data)
    assert again.to_bytes() == data
    sizes = proof.size_breakdown()
    assert sizes["total"] == len(data) == sum(v for k, v in sizes.items() if k != "total")
    assert [marks[k][0] for k in ("header", "commitments", "ood_openings", "trace_queries", "fri")] == sorted(
        m[0] for m in marks.values())
    verify(pk.verifying_key, again, [])


@pytest.mark.parametrize("cut", [0, 7, 8, 11, 100, -1000, -9, -1])
def test_truncation_is_a_format_error(encoded, cut):
    data = encoded[2]
    with pytest.raises(ProofFormatError, match="truncated|magic"):
        decode_proof(data[:cut])


def test_trailing_bytes_bad_magic_and_version(encoded):
    data = encoded[2]
    with pytest.raises(ProofFormatError, match="trailing"):
        decode_proof(data + b"\x00")
    with pytest.raises(ProofFormatError, match="magic"):
        decode_proof(b"X" + data[1:])
    with pytest.raises(ProofFormatError, match="version"):
        decode_proof(MAGIC + struct.pack("<H", 99) + data[10:])
    with pytest.raises(ProofFormatError):
        decode_proof("not bytes")


def test_oversized_length_and_noncanonical_values(encoded):
    data = encoded[2]
    commitments_start = encoded[3]["ood_openings"][0]
    # the first OOD array: u8 ndim (=2) then u32 dims; claim 2^30 rows
    bad = bytearray(data)
    assert bad[commitments_start] == 2
    bad[commitments_start + 1:commitments_start + 5] = struct.pack("<I", 1 << 30)
    with pytest.raises(ProofFormatError, match="cap|truncated"):
        decode_proof(bytes(bad))
    # a field element ≥ p inside the first main-column value at ζ (after the empty prep array)
    prep_rows = struct.unpack("<I", data[commitments_start + 1:commitments_start + 5])[0]
    main_start = commitments_start + 9 + 16 * prep_rows
    assert data[main_start] == 2
    bad = bytearray(data)
    bad[main_start + 9:main_start + 13] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(ProofFormatError, match="canonical"):
        decode_proof(bytes(bad))
    # too many tables
    bad = bytearray(data)
    bad[10:12] = struct.pack("<H", 0)
    with pytest.raises(ProofFormatError, match="table count"):
        decode_proof(bytes(bad))


def test_multiproof_codec_round_trips_and_refuses_a_truncated_level():
    from pyzkvm.stark.multiproof import Multiproof
    from pyzkvm.stark.proof import _Reader, _read_paths, _Writer

    mp = Multiproof([np.arange(24, dtype=np.uint32).reshape(3, 8), np.zeros((0, 8), np.uint32),
                     np.full((1, 8), 5, np.uint32)])
    w = _Writer()
    w.paths(mp)
    good = b"".join(w.parts)
    assert len(good) == 1 + 3 * 2 + 4 * 32  # depth, counts, digests: nothing per query
    back = _read_paths(_Reader(good), "paths")
    assert [lv.tolist() for lv in back.levels] == [lv.tolist() for lv in mp.levels]
    with pytest.raises(ProofFormatError, match="truncated"):
        _read_paths(_Reader(good[:-1]), "paths")


def test_field_elements_are_packed_in_31_bits():
    from pyzkvm.stark.field import P
    from pyzkvm.stark.proof import pack31, packed_size, unpack31

    values = np.array([0, 1, P - 1, (1 << 31) - 1, 12345, 7, 1 << 30, 99, 5], dtype=np.uint32)  # 279 bits
    packed = pack31(values)
    assert len(packed) == packed_size(9) == 35  # ⌈279/8⌉, not 9 × 4 = 36
    assert unpack31(packed, 9, "x").tolist() == values.tolist()
    bits = "".join(format(int(v), "031b")[::-1] for v in values)  # an independent bit-string oracle
    assert packed == int(bits[::-1], 2).to_bytes(35, "little")
    with pytest.raises(ProofFormatError, match="padding"):
        unpack31(packed[:-1] + bytes([packed[-1] | 0x80]), 9, "x")
    with pytest.raises(ProofFormatError, match="2\\^31"):
        pack31(np.array([1 << 31], dtype=np.uint32))


@pytest.mark.parametrize("batch", [None, 1, 3])
def test_unpack31_many_reads_parts_between_other_bytes(batch, monkeypatch):
    """unpack31_many (31-byte groups of 8 elements, a part's last group running into the next
    part's bytes) against pack31, on random parts of 0…40 elements at random byte offsets;
    ``batch``: groups per batch made small, so parts straddle batches and the last batch's
    window runs past the buffer's end."""
    from pyzkvm.stark import proof
    from pyzkvm.stark.field import P
    from pyzkvm.stark.proof import pack31, unpack31_many

    if batch is not None:
        monkeypatch.setattr(proof, "_UNPACK_BATCH", batch)

    rng = np.random.default_rng(7)
    for _ in range(50):
        arrays = [rng.integers(0, P, size=int(rng.integers(0, 41)), dtype=np.uint32) for _ in range(int(rng.integers(1, 6)))]
        blob, parts = b"", []
        for a in arrays:
            blob += rng.bytes(int(rng.integers(0, 5)))  # other fields between the arrays
            parts.append((len(blob), len(a), "x"))
            blob += pack31(a)
        values, first = unpack31_many(blob + rng.bytes(int(rng.integers(0, 5))), parts)
        for a, (_o, count, _w), at in zip(arrays, parts, first.tolist()):
            assert values[at:at + count].tolist() == a.tolist()
