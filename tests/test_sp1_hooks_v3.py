"""SP1 v3's hooks (profile sp1@3, WRITE to fds 5..8): answers checked against ecdsa (public-key
recovery, s⁻¹) and PyNaCl (ed25519 points); a hand-written guest reads them back."""

from __future__ import annotations

import hashlib

import ecdsa
import nacl.bindings as nacl
import pytest
from ecdsa.util import sigencode_strings
from hypothesis import given, settings
from hypothesis import strategies as st

from pyzkvm.errors import SyscallError
from pyzkvm.executor import curves as cv
from pyzkvm.executor import sp1_hooks_v3 as v3
from tests.test_sp1_hooks import _guest_with_hook

few = settings(max_examples=8, deadline=None)
K1_N = ecdsa.SECP256k1.order


def _signed(secret: int, msg: bytes):
    sk = ecdsa.SigningKey.from_secret_exponent(secret, curve=ecdsa.SECP256k1)
    digest = hashlib.sha256(msg).digest()
    r, s = sk.sign_digest_deterministic(digest, sigencode=sigencode_strings)
    return sk.get_verifying_key(), r, s, digest


def _recovered(r, s, digest):
    """ecdsa's candidate keys (compressed): the keys recovery ids 0 and 1 may give."""
    keys = ecdsa.VerifyingKey.from_public_key_recovery_with_digest(r + s, digest, ecdsa.SECP256k1)
    return {k.to_string("compressed") for k in keys}


@few
@given(secret=st.integers(1, K1_N - 1), msg=st.binary(max_size=40), high_s=st.booleans())
def test_ecrecover_v1_and_v2_recover_the_signers_key(secret, msg, high_s):
    vk, r, s, digest = _signed(secret, msg)
    s_int = int.from_bytes(s, "big")
    if high_s:  # the same signature with n − s: k256 normalizes it and flips the id's parity
        s = (K1_N - s_int).to_bytes(32, "big")
    answers = {rid: v3.ecrecover_v2(r + s + bytes([rid ^ high_s]) + digest) for rid in (0, 1)}
    keys = {a[1] for a in answers.values()}
    assert keys == _recovered(r, (min(s_int, K1_N - s_int)).to_bytes(32, "big"), digest)
    assert vk.to_string("compressed") in keys
    for rid, (status, key, s_inv) in answers.items():
        assert status == b"\x01"
        assert int.from_bytes(s_inv, "big") * min(s_int, K1_N - s_int) % K1_N == 1
        assert v3.ecrecover_v1(r + s + bytes([rid ^ high_s]) + digest) == [key, s_inv]


def test_ecrecover_failures_v1_panics_v2_answers_zero():
    # x = r + n (recovery id 2) is ≥ p for every r here: no R, no key
    r, s, digest = (5).to_bytes(32, "big"), (7).to_bytes(32, "big"), bytes(32)
    assert v3.ecrecover_v2(r + s + b"\x02" + digest) == [b"\x00"]
    with pytest.raises(cv.Sp1Panic, match="could not be recovered"):
        v3.ecrecover_v1(r + s + b"\x02" + digest)
    # an x with no point on secp256k1
    x = next(x for x in range(1, 100) if cv.sqrt_mod(x**3 + 7, cv.SECP256K1.p) is None)
    assert v3.ecrecover_v2(x.to_bytes(32, "big") + s + b"\x00" + digest) == [b"\x00"]
    with pytest.raises(cv.Sp1Panic, match="recovery ID is invalid"):
        v3.ecrecover_v2(r + s + b"\x04" + digest)
    with pytest.raises(cv.Sp1Panic, match="non-zero scalar"):
        v3.ecrecover_v2(bytes(32) + s + b"\x00" + digest)
    with pytest.raises(cv.Sp1Panic, match="length 65 \\+ 32"):
        v3.ecrecover_v1(bytes(96))


@few
@given(secret=st.integers(1, ecdsa.NIST256p.order - 1), msg=st.binary(max_size=40))
def test_r1_hook_gives_s_inverse(secret, msg):
    sk = ecdsa.SigningKey.from_secret_exponent(secret, curve=ecdsa.NIST256p)
    r, s = sk.sign_deterministic(msg, hashfunc=hashlib.sha256, sigencode=sigencode_strings)
    (s_inv,) = v3.r1_s_inverse(r + s)
    assert int.from_bytes(s_inv, "big") * int.from_bytes(s, "big") % ecdsa.NIST256p.order == 1
    with pytest.raises(cv.Sp1Panic, match="length 64"):
        v3.r1_s_inverse(r)


@few
@given(k=st.integers(1, 2**252))
def test_ed_decompress_v3_accepts_libsodiums_points(k):
    enc = nacl.crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))
    assert v3.ed_decompress_v3(enc) == [b"\x01"]
    assert v3.ed_decompress_v3(enc[:31]) == [b"\x00"]  # not 32 bytes


def test_ed_decompress_v3_refuses_what_libsodium_refuses():
    y = next(y for y in range(2, 100) if cv.ed25519_even_sqrt((y * y - 1) * cv.inv(cv.ED_D * y * y + 1, cv.ED_P)) is None)
    enc = y.to_bytes(32, "little")
    assert not nacl.crypto_core_ed25519_is_valid_point(enc)
    assert v3.ed_decompress_v3(enc) == [b"\x00"]


def test_v3_hook_answers_reach_the_guest_first_in_order():
    """fd 7 under sp1@3: status, key, s⁻¹ are read before the guest's own input "Z"."""
    vk, r, s, digest = _signed(12345, b"sp1 v3")
    rid = next(i for i in (0, 1) if v3.ecrecover_v2(r + s + bytes([i]) + digest)[1] == vk.to_string("compressed"))
    e = _guest_with_hook(7, r + s + bytes([rid]) + digest, [1, 33, 32, 1], abi="sp1@3")
    j = e.journal
    assert j[:1] == b"\x01" and j[1:34] == vk.to_string("compressed") and j[-1:] == b"Z"
    s_low = min(int.from_bytes(s, "big"), K1_N - int.from_bytes(s, "big"))  # k256's normalized s
    assert int.from_bytes(j[34:66], "big") * s_low % K1_N == 1


def test_v3_hook_panics_are_faults_and_v3_fds_are_not_hooks_from_v4():
    with pytest.raises(SyscallError, match="hook ECRECOVER_R1 \\(WRITE to fd 6\\): ecrecover input should have length 64"):
        _guest_with_hook(6, bytes(10), [], abi="sp1@3")
    with pytest.raises(SyscallError, match="reserved fd 8"):
        _guest_with_hook(8, bytes(32), [])
    assert _guest_with_hook(16, bytes(64), [], abi="sp1@3").warnings  # v3 has no hook at fd 16


def test_ed_decompress_v3_y_above_p_is_refused():
    assert v3.ed_decompress_v3((cv.ED_P + 1).to_bytes(32, "little")) == [b"\x00"]
