"""SP1's v4+ hooks (WRITE to fds 15..21; v3's are in test_sp1_hooks_v3.py): answers checked against ecdsa, PyNaCl, py-ecc and
Python integers; the answers reach the guest at the front of the input queue, in order."""

from __future__ import annotations

import ecdsa
import nacl.bindings as nacl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import bls12_381 as bls

from pyzkvm.errors import SyscallError
from pyzkvm.executor import curves as cv
from pyzkvm.executor import execute
from pyzkvm.executor import sp1_hooks as hooks
from tests.rvasm import DATA_BASE, flatten, halt, program, syscall

few = settings(max_examples=10, deadline=None)
ECDSA = {1: (ecdsa.SECP256k1, cv.SECP256K1), 2: (ecdsa.NIST256p, cv.SECP256R1)}


@pytest.mark.parametrize("curve_id", ECDSA)
@few
@given(k=st.integers(1, 2**128), odd=st.integers(0, 1))
def test_ecrecover_hook_gives_the_point_and_r_inverse(curve_id, k, odd):
    oracle, curve = ECDSA[curve_id]
    point = oracle.generator * k
    r = point.x()
    alpha = (r**3 + curve.a * r + curve.b) % curve.p
    status, y, r_inv = hooks.ecrecover(bytes([curve_id | odd << 7]) + r.to_bytes(32, "big") + alpha.to_bytes(32, "big"))
    y = int.from_bytes(y, "big")
    assert status == b"\x01" and y % 2 == odd and y in (point.y(), curve.p - point.y())
    assert int.from_bytes(r_inv, "big") * r % oracle.order == 1


@pytest.mark.parametrize("curve_id", ECDSA)
def test_ecrecover_hook_proves_a_non_square(curve_id):
    _, curve = ECDSA[curve_id]
    x = next(x for x in range(1, 100) if cv.sqrt_mod(x**3 + curve.a * x + curve.b, curve.p) is None)
    alpha = (x**3 + curve.a * x + curve.b) % curve.p
    status, root = hooks.ecrecover(bytes([curve_id]) + x.to_bytes(32, "big") + alpha.to_bytes(32, "big"))
    assert status == b"\x00" and int.from_bytes(root, "big") ** 2 % curve.p == 3 * alpha % curve.p
    with pytest.raises(cv.Sp1Panic, match="length 65"):
        hooks.ecrecover(bytes(64))


@few
@given(k=st.integers(1, 2**252))
def test_ed_decompress_hook_accepts_libsodiums_points(k):
    enc = nacl.crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))
    y = int.from_bytes(enc, "little") & ((1 << 255) - 1)
    v = (cv.ED_D * y * y + 1) % cv.ED_P
    assert hooks.ed_decompress(enc + v.to_bytes(32, "little")) == [b"\x01"]


def test_ed_decompress_hook_on_a_y_with_no_point_and_an_unreduced_y():
    p = cv.ED_P
    y = next(y for y in range(2, 100) if cv.ed25519_even_sqrt((y * y - 1) * cv.inv(cv.ED_D * y * y + 1, p)) is None)
    v = (cv.ED_D * y * y + 1) % p
    status, v_inv, root = hooks.ed_decompress(y.to_bytes(32, "little") + v.to_bytes(32, "little"))
    assert status == b"\x00" and int.from_bytes(v_inv, "little") * v % p == 1
    assert int.from_bytes(root, "little") ** 2 % p == 2 * (y * y - 1) * cv.inv(v, p) % p
    assert hooks.ed_decompress((p + 1).to_bytes(32, "little") + bytes(32)) == [b"\x00"]


@few
@given(prod=st.integers(0, 2**4096 - 1), m=st.integers(1, 2**2048 - 1))
def test_rsa_mul_mod_hook(prod, m):
    rem, q = hooks.rsa_mul_mod(prod.to_bytes(512, "little") + m.to_bytes(256, "little"))
    assert int.from_bytes(rem, "little") == prod % m
    assert int.from_bytes(q, "little") == (prod // m) % 2**2048  # SP1 keeps the low 256 bytes


@few
@given(a=st.integers(1, bls.field_modulus - 1))
def test_bls12_381_sqrt_and_inverse_hooks_match_py_ecc(a):
    status, root = hooks.bls12_381_sqrt(a.to_bytes(48, "big"))
    want = bls.FQ(a) if status == b"\x01" else bls.FQ(2 * a)
    assert bls.FQ(int.from_bytes(root, "big")) ** 2 == want
    (inverse,) = hooks.bls12_381_inverse(a.to_bytes(48, "big"))
    assert bls.FQ(int.from_bytes(inverse, "big")) * bls.FQ(a) == bls.FQ(1)


@pytest.mark.parametrize("p, nqr", [(cv.BN254.p, 3), (cv.ED_P, 2)])  # p ≡ 3 mod 4, and Tonelli–Shanks
@few
@given(data=st.data())
def test_fp_sqrt_and_inverse_hooks(p, nqr, data):
    a = data.draw(st.integers(1, p - 1))
    status, root = hooks.fp_sqrt((32).to_bytes(4, "big") + b"".join(v.to_bytes(32, "big") for v in (a, p, nqr)))
    assert int.from_bytes(root, "big") ** 2 % p == (a if status == b"\x01" else nqr * a % p)
    assert (status == b"\x01") == (pow(a, (p - 1) // 2, p) == 1)
    (inverse,) = hooks.fp_inverse((32).to_bytes(4, "big") + a.to_bytes(32, "big") + p.to_bytes(32, "big"))
    assert int.from_bytes(inverse, "big") * a % p == 1
    with pytest.raises(cv.Sp1Panic, match="Invalid buffer length"):
        hooks.fp_inverse((32).to_bytes(4, "big") + bytes(63))


def _guest_with_hook(fd, buf, reads, abi="sp1"):
    """WRITE buf to fd, then HINT_READ the given lengths one after another into the journal."""
    code, at = [syscall(2, fd, DATA_BASE, len(buf))], 0x400
    for n in reads:
        code += [syscall(0xF1, DATA_BASE + at, n), syscall(2, 3, DATA_BASE + at, n)]
        at += (n + 3) & ~3
    return execute(program(flatten([code, halt(0)]), data=buf + bytes(0x800)), [b"Z"], abi=abi)


def test_hook_answers_go_to_the_front_of_the_input_queue_in_order():
    p, a = cv.BN254.p, 5
    buf = (32).to_bytes(4, "big") + a.to_bytes(32, "big") + p.to_bytes(32, "big") + (3).to_bytes(32, "big")
    e = _guest_with_hook(20, buf, [1, 32, 1])  # FP_SQRT: status, root, then the input "Z"
    status, root, z = e.journal[:1], e.journal[1:33], e.journal[33:]
    assert z == b"Z" and int.from_bytes(root, "big") ** 2 % p == (a if status == b"\x01" else 3 * a % p)


def test_hook_panics_are_faults():
    with pytest.raises(SyscallError, match="hook FP_INV \\(WRITE to fd 21\\): FpOp: Inverse called with zero"):
        _guest_with_hook(21, (4).to_bytes(4, "big") + bytes(4) + (7).to_bytes(4, "big"), [])


@pytest.mark.parametrize("m", [0, 1])
def test_fp_inverse_of_a_modulus_below_2_is_a_fault(m):
    """SP1 computes a^(m − 2) with unsigned big integers: m < 2 underflows, a panic. It was a bare
    Python ValueError (pow with modulus 0) and a traceback (red-team review, session 26)."""
    with pytest.raises(SyscallError, match=f"hook FP_INV .*modulus {m}"):
        _guest_with_hook(21, (4).to_bytes(4, "big") + (1).to_bytes(4, "big") + m.to_bytes(4, "big"), [])


def test_fp_hooks_refuse_elements_longer_than_the_host_takes():
    """The generic FpOp hooks' modular powers cost the host cubic time in the element length
    (~60 s at 4 KiB) for a few guest cycles: past MAX_FP_BYTES they are a fault."""
    n = hooks.MAX_FP_BYTES + 1
    with pytest.raises(SyscallError, match=f"FpOp: elements of {n} bytes, more than pyzkvm's host takes"):
        _guest_with_hook(21, n.to_bytes(4, "big") + (1).to_bytes(n, "big") + (7).to_bytes(n, "big"), [])


def test_hook_inputs_and_answers_count_against_the_hint_cap():
    """A hook's answers are pushed onto the input stream like fd-4 hints: they count against
    --max-hint (a guest looping FP_SQRT grew the queue by 80 MiB under a 1 MiB cap: red-team
    review, session 26)."""
    from pyzkvm.executor.host import set_default_caps

    p, a = cv.BN254.p, 5
    buf = (32).to_bytes(4, "big") + a.to_bytes(32, "big") + p.to_bytes(32, "big") + (3).to_bytes(32, "big")
    assert _guest_with_hook(20, buf, [1, 32]).exit_code == 0  # 100 bytes in, 33 out
    try:
        set_default_caps(hint=120)
        with pytest.raises(SyscallError, match="hook FP_SQRT .*hint would reach 133 bytes, over the cap of 120"):
            _guest_with_hook(20, buf, [1, 32])
        set_default_caps(hint=99)  # the WRITE itself, before its buffer is copied
        with pytest.raises(SyscallError, match="WRITE of 100 bytes to fd 20: the guest's hint would reach 100 bytes"):
            _guest_with_hook(20, buf, [1, 32])
    finally:
        set_default_caps(hint=64 << 20)
