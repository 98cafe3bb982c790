"""The receipt codec: round trips of every field, and strictness on malformed bytes.

Oracles: hashlib for the journal digest; the format's layout is checked against a receipt
assembled by hand with struct below (not with the codec's own writer).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyzkvm.errors import ReceiptFormatError, VerificationError
from pyzkvm.receipt import FORMAT_VERSION, MAGIC, MAX_NESTING, Claim, Receipt

digest32 = st.binary(min_size=32, max_size=32)
param_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
claims = st.builds(
    Claim,
    image_id=digest32,
    exit_code=st.integers(0, (1 << 32) - 1),
    journal_digest=digest32,
    cycles=st.integers(0, (1 << 64) - 1),
    assumptions=st.lists(st.tuples(digest32, digest32), max_size=3).map(tuple),
)


def _receipts(inner_tuples):
    return st.builds(
        Receipt,
        claim=claims,
        journal=st.binary(max_size=64),
        backend=st.text(min_size=1, max_size=10),
        backend_version=st.text(max_size=10),
        params=st.dictionaries(st.text(min_size=1, max_size=12), param_values, max_size=5),
        seal=st.binary(max_size=128),
        inner=inner_tuples,
    )


receipts = st.recursive(
    _receipts(st.just(())), lambda children: _receipts(st.lists(children, max_size=2).map(tuple)), max_leaves=4
)


def small_receipt(**changes) -> Receipt:
    fields = dict(
        claim=Claim.for_execution(bytes(range(32)), b"hello", 0, 1234),
        journal=b"hello",
        backend="trace",
        backend_version="0.1.0",
        params={"dev_mode": True, "security_bits": 0, "ratio": 0.5, "kind": "dev"},
        seal=b"\x01\x02\x03",
    )
    fields.update(changes)
    return Receipt(**fields)


# ---- round trips --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(receipts)
def test_every_field_round_trips(receipt):
    data = receipt.to_bytes()
    back = Receipt.from_bytes(data)
    assert back == receipt
    assert back.to_bytes() == data  # canonical: one encoding per receipt
    for name in ("journal", "backend", "backend_version", "seal"):
        assert getattr(back, name) == getattr(receipt, name)
    assert back.claim == receipt.claim and back.inner == receipt.inner
    assert {k: (type(v), v) for k, v in back.params.items()} == {k: (type(v), v) for k, v in receipt.params.items()}


@settings(max_examples=100, deadline=None)
@given(receipts)
def test_json_view_is_json_and_shows_the_fields(receipt):
    view = json.loads(json.dumps(receipt.to_json()))
    assert view["backend"] == receipt.backend
    assert bytes.fromhex(view["journal"]) == receipt.journal
    assert bytes.fromhex(view["seal"]) == receipt.seal
    assert view["seal_size"] == len(receipt.seal)
    assert bytes.fromhex(view["claim"]["image_id"]) == receipt.claim.image_id
    assert view["claim"]["cycles"] == receipt.claim.cycles
    assert len(view["inner"]) == len(receipt.inner)


def test_bool_and_int_params_keep_their_types():
    r = Receipt.from_bytes(small_receipt(params={"a": True, "b": 1, "c": 1.0, "d": "1"}).to_bytes())
    assert [type(r.params[k]) for k in "abcd"] == [bool, int, float, str]


def test_nan_and_infinity_params_round_trip():
    r = Receipt.from_bytes(small_receipt(params={"inf": math.inf, "nan": math.nan}).to_bytes())
    assert r.params["inf"] == math.inf and math.isnan(r.params["nan"])


def test_for_execution_hashes_the_journal_with_sha256():
    claim = Claim.for_execution(b"\x07" * 32, b"journal bytes", 3, 99)
    assert claim.journal_digest == hashlib.sha256(b"journal bytes").digest()
    assert (claim.exit_code, claim.cycles, claim.assumptions) == (3, 99, ())


def test_layout_matches_the_documented_format():
    """Assemble the documented layout by hand with struct and compare byte for byte."""
    image_id, jd = bytes(range(32)), hashlib.sha256(b"hi").digest()
    claim = Claim(image_id, 5, jd, 77, ((b"\xaa" * 32, b"\xbb" * 32),))
    r = Receipt(claim, b"hi", "trace", "v1", {"b": 7, "a": True}, b"SEAL")
    expected = (
        b"PYZKVMR\x00" + struct.pack("<H", 1)
        + image_id + struct.pack("<I", 5) + jd + struct.pack("<QI", 77, 1) + b"\xaa" * 32 + b"\xbb" * 32
        + struct.pack("<I", 2) + b"hi"
        + struct.pack("<H", 5) + b"trace" + struct.pack("<H", 2) + b"v1"
        + struct.pack("<I", 2)
        + struct.pack("<H", 1) + b"a" + bytes([0, 1])
        + struct.pack("<H", 1) + b"b" + bytes([1]) + struct.pack("<q", 7)
        + struct.pack("<I", 4) + b"SEAL"
        + struct.pack("<I", 0)
    )  # fmt: skip
    assert r.to_bytes() == expected
    assert Receipt.from_bytes(expected) == r


# ---- check_journal ------------------------------------------------------------------------


def test_check_journal_accepts_the_matching_journal_and_rejects_another():
    small_receipt().check_journal()
    bad = small_receipt(claim=Claim.for_execution(bytes(32), b"hello", 0, 1), journal=b"hellp")
    with pytest.raises(VerificationError, match="journal does not match"):
        bad.check_journal()


# ---- strict decoding ----------------------------------------------------------------------


def test_every_truncation_is_a_format_error():
    data = small_receipt().to_bytes()
    for n in range(len(data)):
        with pytest.raises(ReceiptFormatError):
            Receipt.from_bytes(data[:n])


@pytest.mark.parametrize("extra", [b"\x00", b"garbage", bytes(100)])
def test_trailing_bytes_are_a_format_error(extra):
    with pytest.raises(ReceiptFormatError, match="trailing"):
        Receipt.from_bytes(small_receipt().to_bytes() + extra)


def test_bad_magic_and_unknown_version():
    data = small_receipt().to_bytes()
    with pytest.raises(ReceiptFormatError, match="magic"):
        Receipt.from_bytes(b"X" + data[1:])
    for version in (0, FORMAT_VERSION + 1, 0xFFFF):
        bad = MAGIC + struct.pack("<H", version) + data[len(MAGIC) + 2 :]
        with pytest.raises(ReceiptFormatError, match=f"version {version}"):
            Receipt.from_bytes(bad)


def _offset_of_journal_length() -> int:
    return len(MAGIC) + 2 + 32 + 4 + 32 + 8 + 4


@pytest.mark.parametrize("length", ["one past the end", 1 << 20, (1 << 32) - 1])
def test_oversize_lengths_are_a_format_error(length):
    data = bytearray(small_receipt().to_bytes())
    at = _offset_of_journal_length()
    assert struct.unpack_from("<I", data, at)[0] == 5  # b"hello"
    if length == "one past the end":
        length = len(data) - (at + 4) + 1
    struct.pack_into("<I", data, at, length)
    with pytest.raises(ReceiptFormatError, match="journal"):
        Receipt.from_bytes(bytes(data))


def test_huge_counts_are_rejected_before_allocating():
    data = bytearray(small_receipt().to_bytes())
    at = _offset_of_journal_length() - 4  # the assumption count
    struct.pack_into("<I", data, at, 0xFFFFFFFF)
    with pytest.raises(ReceiptFormatError, match="assumptions"):
        Receipt.from_bytes(bytes(data))


def test_bad_utf8_in_backend_name():
    data = small_receipt().to_bytes()
    at = data.index(b"trace")
    with pytest.raises(ReceiptFormatError, match="UTF-8"):
        Receipt.from_bytes(data[:at] + b"\xff\xfe\xfd\xfc\xfb" + data[at + 5 :])


def test_bad_param_tag_and_bad_bool():
    r = small_receipt(params={"k": True})
    data = r.to_bytes()
    at = data.index(b"\x01\x00k") + 3  # key "k" (u16 length 1), then its tag
    assert data[at : at + 2] == b"\x00\x01"
    with pytest.raises(ReceiptFormatError, match="unknown type tag 9"):
        Receipt.from_bytes(data[:at] + b"\x09" + data[at + 1 :])
    with pytest.raises(ReceiptFormatError, match="bool"):
        Receipt.from_bytes(data[: at + 1] + b"\x02" + data[at + 2 :])


def test_unsorted_or_duplicate_param_keys():
    data = small_receipt(params={"a": 1, "b": 2}).to_bytes()
    a_entry = struct.pack("<H", 1) + b"a" + b"\x01" + struct.pack("<q", 1)
    b_entry = struct.pack("<H", 1) + b"b" + b"\x01" + struct.pack("<q", 2)
    assert a_entry + b_entry in data
    with pytest.raises(ReceiptFormatError, match="out of order"):
        Receipt.from_bytes(data.replace(a_entry + b_entry, b_entry + a_entry))
    with pytest.raises(ReceiptFormatError, match="duplicated"):
        Receipt.from_bytes(data.replace(a_entry + b_entry, a_entry + a_entry))


def test_non_bytes_input_and_empty_input():
    for bad in (None, "PYZKVMR", 12, [1, 2]):
        with pytest.raises(ReceiptFormatError):
            Receipt.from_bytes(bad)
    with pytest.raises(ReceiptFormatError, match="too short"):
        Receipt.from_bytes(b"")


def test_nesting_is_capped():
    r = small_receipt()
    for _ in range(MAX_NESTING - 1):
        r = small_receipt(inner=(r,))
    assert Receipt.from_bytes(r.to_bytes()) == r
    with pytest.raises(ReceiptFormatError, match="nest"):
        small_receipt(inner=(r,)).to_bytes()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_escape_as_another_exception(blob):
    for data in (blob, MAGIC + struct.pack("<H", 1) + blob):
        try:
            Receipt.from_bytes(data)
        except ReceiptFormatError:
            pass


# ---- construction checks ------------------------------------------------------------------


def test_for_execution_rejects_a_text_journal():
    with pytest.raises(ReceiptFormatError, match="journal must be bytes"):
        Claim.for_execution(bytes(32), "text", 0, 1)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"image_id": b"short"}, "image_id must be 32 bytes"),
        ({"journal_digest": "00" * 32}, "journal_digest must be bytes"),
        ({"exit_code": -1}, "exit_code"),
        ({"exit_code": 1 << 32}, "exit_code"),
        ({"exit_code": True}, "exit_code"),
        ({"cycles": 1 << 64}, "cycles"),
        ({"assumptions": ((b"x" * 32,),)}, "pairs"),
    ],
)
def test_claim_rejects_bad_fields(changes, match):
    fields = dict(image_id=bytes(32), exit_code=0, journal_digest=bytes(32), cycles=0)
    fields.update(changes)
    with pytest.raises(ReceiptFormatError, match=match):
        Claim(**fields)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"params": {"x": None}}, "type NoneType"),
        ({"params": {"x": b"bytes"}}, "type bytes"),
        ({"params": {"x": 1 << 63}}, "i64"),
        ({"params": {"": 1}}, "must not be empty"),
        ({"params": {"x": "\ud800"}}, "UTF-8"),
        ({"backend": ""}, "must not be empty"),
        ({"backend": 3}, "must be a str"),
        ({"journal": "text"}, "journal must be bytes"),
        ({"seal": 5}, "seal must be bytes"),
        ({"inner": ("not a receipt",)}, "inner receipts must be Receipts"),
    ],
)
def test_receipt_rejects_bad_fields(changes, match):
    with pytest.raises(ReceiptFormatError, match=match):
        small_receipt(**changes)


def test_params_are_copied_so_later_mutation_does_not_change_the_receipt():
    params = {"a": 1}
    r = small_receipt(params=params)
    params["a"] = 2
    assert r.params == {"a": 1}
