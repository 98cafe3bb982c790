"""SP1's curve, field and big-integer precompiles, checked against independent libraries:
ecdsa (secp256k1, secp256r1), py-ecc (BN254, BLS12-381 and their Fp/Fp2), PyNaCl (ed25519)
and Python's own integers (UINT256_MUL, U256XU2048_MUL). Invalid and unreduced inputs get
SP1's behaviour (its formulas, or its panic as a SyscallError), written out per case.
"""

from __future__ import annotations

import ecdsa
import nacl.bindings as nacl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import bls12_381 as bls
from py_ecc import bn128
from py_ecc import optimized_bls12_381 as obls
from py_ecc.bls.point_compression import decompress_G1

from pyzkvm.errors import SyscallError
from pyzkvm.executor import execute
from pyzkvm.executor import curves as cv
from pyzkvm.executor.sp1_precompiles import PRECOMPILES
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

CODE = {name: code for code, (name, _) in PRECOMPILES.items()}
few = settings(max_examples=12, deadline=None)
scalars = st.integers(1, 2**64)


def le(value: int, nbytes: int) -> bytes:
    return value.to_bytes(nbytes, "little")


def point_bytes(pt, nbytes):
    return le(pt[0], nbytes) + le(pt[1], nbytes)


def run_precompile(name, data: bytes, a1: int, out_off: int, out_len: int, *more_args: int):
    """A guest: ecall NAME with a0 = DATA_BASE (the operands ``data`` are there), a1 (a
    pointer or a sign bit) and a2, a3 = ``more_args``, then WRITE the bytes at DATA_BASE +
    out_off to the journal."""
    args = (10, DATA_BASE), (11, a1), *zip((12, 13), more_args)
    code = flatten([[asm.li(r, v) for r, v in args], asm.li(5, CODE[name]), asm.ecall(),
                    syscall(2, 3, DATA_BASE + out_off, out_len), halt(0)])  # fmt: skip
    e = execute(program(code, data=data + bytes(0x900)))
    assert e.report.syscalls[name] == 1
    return e.journal


# ---- short Weierstrass curves --------------------------------------------------------------

def ecdsa_point(curve, k):
    g = curve.generator * k
    return g.x(), g.y()


SW_ORACLES = {  # curve → (k ↦ k·G as (x, y)) from an independent library
    "SECP256K1": (cv.SECP256K1, lambda k: ecdsa_point(ecdsa.SECP256k1, k)),
    "SECP256R1": (cv.SECP256R1, lambda k: ecdsa_point(ecdsa.NIST256p, k)),
    "BN254": (cv.BN254, lambda k: tuple(c.n for c in bn128.multiply(bn128.G1, k))),
    "BLS12381": (cv.BLS12381, lambda k: tuple(c.n for c in bls.multiply(bls.G1, k))),
}


@pytest.mark.parametrize("fam", SW_ORACLES)
@few
@given(k1=scalars, k2=scalars)
def test_weierstrass_add_and_double_match_the_oracle(fam, k1, k2):
    curve, mul = SW_ORACLES[fam]
    n = curve.nbytes
    p, q = mul(k1), mul(k2)
    if k1 != k2:
        out = run_precompile(f"{fam}_ADD", point_bytes(p, n) + point_bytes(q, n), DATA_BASE + 2 * n, 0, 2 * n)
        assert out == point_bytes(mul(k1 + k2), n)
    out = run_precompile(f"{fam}_DOUBLE", point_bytes(p, n), 0, 0, 2 * n)
    assert out == point_bytes(mul(2 * k1), n)


@pytest.mark.parametrize("fam", SW_ORACLES)
def test_weierstrass_add_of_equal_points_panics_like_sp1(fam):
    curve, mul = SW_ORACLES[fam]
    pt = point_bytes(mul(5), curve.nbytes)
    with pytest.raises(SyscallError, match=f"{fam}_ADD: the two points are the same"):
        run_precompile(f"{fam}_ADD", pt + pt, DATA_BASE + 2 * curve.nbytes, 0, 2 * curve.nbytes)


@pytest.mark.parametrize("fam", SW_ORACLES)
def test_weierstrass_p_plus_minus_p_is_sp1s_formula_not_the_identity(fam):
    """SP1 has no identity encoding here: the slope's denominator 0 inverts to 0, so
    P + (−P) = (−2x, −y) mod p (sw_add with slope 0). The guest library never calls this."""
    curve, mul = SW_ORACLES[fam]
    x, y = mul(7)
    p = curve.p
    assert curve.add((x, y), (x, p - y)) == ((-2 * x) % p, p - y)


@pytest.mark.parametrize("fam", SW_ORACLES)
def test_weierstrass_unreduced_coordinates_follow_sp1s_unsigned_formula(fam):
    """Q's x + p (when it fits) is reduced by the formula; P's x1 + p makes SP1's unsigned
    p + x2 − x1 underflow when x1 > x2, a panic; so does y1 > p + y2."""
    curve, mul = SW_ORACLES[fam]
    (x1, y1), (x2, y2) = mul(3), mul(11)
    if max(x1, x2) + curve.p < 1 << (8 * curve.nbytes):
        assert curve.add((x1, y1), (x2 + curve.p, y2)) == mul(14)
        (xa, ya), (xb, yb) = sorted([(x1, y1), (x2, y2)], reverse=True)  # xa > xb
        with pytest.raises(cv.Sp1Panic, match="p \\+ x2 - x1 underflows"):
            curve.add((xa + curve.p, ya), (xb, yb))
    with pytest.raises(cv.Sp1Panic, match="underflows"):
        curve.add((x1, 2 * curve.p + y2 + 1), (x2, y2))


DECOMPRESS = {
    "SECP256K1": lambda x, odd: ecdsa.VerifyingKey.from_string(bytes([2 + odd]) + x.to_bytes(32, "big"), curve=ecdsa.SECP256k1).pubkey.point.y(),
    "SECP256R1": lambda x, odd: ecdsa.VerifyingKey.from_string(bytes([2 + odd]) + x.to_bytes(32, "big"), curve=ecdsa.NIST256p).pubkey.point.y(),
    # zcash format: bit 383 = compressed, bit 381 = "y is the larger of y, p − y"
    "BLS12381": lambda x, odd: obls.normalize(decompress_G1(x | 1 << 383 | odd << 381))[1].n,
}  # fmt: skip


@pytest.mark.parametrize("fam", DECOMPRESS)
@few
@given(k=scalars, odd=st.integers(0, 1))
def test_weierstrass_decompress_matches_the_oracle(fam, k, odd):
    curve, mul = SW_ORACLES[fam]
    n = curve.nbytes
    x = mul(k)[0]
    out = run_precompile(f"{fam}_DECOMPRESS", bytes(n) + le(x, n), odd, 0, n)
    assert out == le(DECOMPRESS[fam](x, odd), n)


@pytest.mark.parametrize("fam", DECOMPRESS)
def test_weierstrass_decompress_rejects_what_sp1_rejects(fam):
    curve, mul = SW_ORACLES[fam]
    n = curve.nbytes
    x = next(x for x in range(1, 100) if cv.sqrt_mod(x**3 + curve.a * x + curve.b, curve.p) is None)
    with pytest.raises(SyscallError, match=f"{fam}_DECOMPRESS: x is not the x-coordinate"):
        run_precompile(f"{fam}_DECOMPRESS", bytes(n) + le(x, n), 0, 0, n)
    if curve.p + 1 < 1 << (8 * n):  # unreduced x: k256/p256/amcl refuse it, SP1 unwraps and panics
        with pytest.raises(SyscallError, match="not a reduced"):
            run_precompile(f"{fam}_DECOMPRESS", bytes(n) + le(curve.p + mul(1)[0] % 2, n), 0, 0, n)
    with pytest.raises(SyscallError, match="sign bit a1=2"):
        run_precompile(f"{fam}_DECOMPRESS", bytes(n) + le(mul(1)[0], n), 2, 0, n)


# ---- ed25519 -----------------------------------------------------------------------------

def ed_compress(pt):
    x, y = pt
    return le(y | (x & 1) << 255, 32)


def ed_decompress_guest(enc: bytes) -> tuple[int, int]:
    y = int.from_bytes(enc, "little")
    out = run_precompile("ED_DECOMPRESS", bytes(32) + le(y, 32), y >> 255, 0, 64)
    return int.from_bytes(out[:32], "little"), int.from_bytes(out[32:], "little") & ((1 << 255) - 1)


@few
@given(k1=st.integers(1, 2**252), k2=st.integers(0, 2**252))
def test_ed_decompress_and_add_match_pynacl(k1, k2):
    """Decompress two of libsodium's points, add them with ED_ADD: the compressed sum is
    libsodium's sum (which also checks the decompressed x, not only its sign)."""
    p_enc = nacl.crypto_scalarmult_ed25519_base_noclamp(le(k1, 32))
    q_enc = nacl.crypto_scalarmult_ed25519_base_noclamp(le(k2, 32)) if k2 else p_enc  # k2 = 0: doubling
    p, q = ed_decompress_guest(p_enc), ed_decompress_guest(q_enc)
    assert ed_compress(p) == p_enc and ed_compress(q) == q_enc
    out = run_precompile("ED_ADD", point_bytes(p, 32) + point_bytes(q, 32), DATA_BASE + 64, 0, 64)
    s = (int.from_bytes(out[:32], "little"), int.from_bytes(out[32:], "little"))
    assert ed_compress(s) == nacl.crypto_core_ed25519_add(p_enc, q_enc)


def test_ed_add_identity_is_neutral():
    g = (cv.ED_GX, cv.ED_GY)
    assert cv.ed_add(g, (0, 1)) == g and cv.ed_add((0, 1), (0, 1)) == (0, 1)


def test_ed_add_off_the_curve_with_a_zero_denominator_follows_sp1s_two_inverses():
    """SP1 v3–v5 inverts 1 + dxy and 1 − dxy separately (0 inverts to 0): with 1 + dxy = 0
    x3 = 0 and y3 = (y1 y2 + x1 x2) / 2."""
    p = cv.ED_P
    y2 = -cv.inv(cv.ED_D, p) % p  # x1 = y1 = x2 = 1: d·x1·y1·x2·y2 = −1
    assert cv.ed_add((1, 1), (1, y2)) == (0, (y2 + 1) * cv.inv(2, p) % p)


def test_ed_decompress_edge_cases_follow_sp1():
    p = cv.ED_P
    assert cv.ed_decompress(1, 0) == 0 and cv.ed_decompress(1, 1) == p  # x = 0, sign 1: p, unreduced
    with pytest.raises(SyscallError, match="ED_DECOMPRESS: y² - 1 underflows"):  # y = 0: SP1's BigUint y²−1
        ed_decompress_guest(bytes(32))
    with pytest.raises(SyscallError, match="y > p"):
        ed_decompress_guest(le(p + 1, 32))
    y = next(y for y in range(2, 100) if cv.sqrt_mod((y * y - 1) * cv.inv(cv.ED_D * y * y + 1, p), p) is None)
    with pytest.raises(SyscallError, match="not the y-coordinate"):
        ed_decompress_guest(le(y, 32))


# ---- Fp, Fp2, UINT256_MUL, U256XU2048_MUL -------------------------------------------------

FIELDS = {"BN254": (bn128.FQ, bn128.FQ2, 8), "BLS12381": (bls.FQ, bls.FQ2, 12)}
OPS = {"ADD": lambda a, b: a + b, "SUB": lambda a, b: a - b, "MUL": lambda a, b: a * b}


@pytest.mark.parametrize("fam", FIELDS)
@pytest.mark.parametrize("op", OPS)
@few
@given(data=st.data())
def test_fp_ops_match_py_ecc_including_unreduced_inputs(fam, op, data):
    fq, _, nw = FIELDS[fam]
    a, b = (data.draw(st.integers(0, (1 << (32 * nw)) - 1)) for _ in range(2))
    out = run_precompile(f"{fam}_FP_{op}", le(a, 4 * nw) + le(b, 4 * nw), DATA_BASE + 4 * nw, 0, 4 * nw)
    assert out == le(OPS[op](fq(a), fq(b)).n, 4 * nw)


@pytest.mark.parametrize("fam", FIELDS)
@pytest.mark.parametrize("op", OPS)
@few
@given(data=st.data())
def test_fp2_ops_match_py_ecc(fam, op, data):
    fq, fq2, nw = FIELDS[fam]
    p = fq.field_modulus
    x, y = ([data.draw(st.integers(0, p - 1)) for _ in range(2)] for _ in range(2))
    blob = b"".join(le(v, 4 * nw) for v in x + y)
    out = run_precompile(f"{fam}_FP2_{op}", blob, DATA_BASE + 8 * nw, 0, 8 * nw)
    want = OPS[op](fq2(x), fq2(y)).coeffs
    assert out == le(want[0].n, 4 * nw) + le(want[1].n, 4 * nw)


def test_fp2_sub_panics_where_sp1s_unsigned_subtraction_underflows():
    p = cv.BN254.p
    assert cv.fp2_op("sub", (0, 0), (p, 0), p) == (0, 0)  # b ≤ a + p: fine
    with pytest.raises(cv.Sp1Panic):
        cv.fp2_op("sub", (0, 0), (p + 1, 0), p)


@few
@given(x=st.integers(0, 2**256 - 1), y=st.integers(0, 2**256 - 1), m=st.one_of(st.just(0), st.integers(1, 2**256 - 1)))
def test_uint256_mul(x, y, m):
    out = run_precompile("UINT256_MUL", le(x, 32) + le(y, 32) + le(m, 32), DATA_BASE + 32, 0, 32)
    assert out == le(x * y % (m or 2**256), 32)


@few
@given(a=st.integers(0, 2**256 - 1), b=st.integers(0, 2**2048 - 1))
def test_u256x2048_mul_writes_lo_and_hi(a, b):
    # a at +0, b at +0x100, lo at a2 = +0x400, hi at a3 = +0x800; the journal is +0x400..+0x820
    out = run_precompile("U256XU2048_MUL", le(a, 32) + bytes(0xE0) + le(b, 256), DATA_BASE + 0x100, 0x400, 0x420,
                         DATA_BASE + 0x400, DATA_BASE + 0x800)  # fmt: skip
    lo = int.from_bytes(out[:256], "little")
    hi = int.from_bytes(out[0x400:0x420], "little")
    assert lo + (hi << 2048) == a * b


def test_stark_backend_accepts_a_precompile_run():
    """Every SP1 precompile has a chip now (docs/machine.md §2.10–2.14): check_provable passes."""
    from pyzkvm.machine.support import check_provable

    g = (cv.ED_GX, cv.ED_GY)
    code = flatten([syscall(CODE["ED_ADD"], DATA_BASE, DATA_BASE + 64), halt(0)])
    check_provable(execute(program(code, data=point_bytes(g, 32) * 2)))


# ---- the precompiles guest (guests/precompiles): every family in one C program -------------

def test_precompiles_guest_journal_is_what_the_oracles_give():
    import hashlib
    import struct
    from pathlib import Path

    from pyzkvm.program import Program

    k = 12345
    elf = Path(__file__).resolve().parents[1] / "guests" / "bin" / "precompiles.elf"
    e = execute(Program.from_elf(elf), [struct.pack("<I", k)])
    assert e.exit_code == 0 and e.commit_matches
    j = memoryview(e.journal)

    def take(n):
        nonlocal j
        out, j = bytes(j[:n]), j[n:]
        return int.from_bytes(out, "little")

    # ed25519: the point's encoding is libsodium's k·B, and it lies on -x² + y² = 1 + d x² y²
    x, y = take(32), take(32)
    p = cv.ED_P
    assert ed_compress((x, y)) == nacl.crypto_scalarmult_ed25519_base_noclamp(le(k, 32))
    assert (-x * x + y * y - 1 - cv.ED_D * x * x * y * y) % p == 0
    assert take(32) == x  # ED_DECOMPRESS gave the same x back
    points = {}
    for fam, has_decompress in (("SECP256K1", True), ("SECP256R1", True), ("BN254", False), ("BLS12381", True)):
        curve, mul = SW_ORACLES[fam]
        n = curve.nbytes
        points[fam] = (take(n), take(n))
        assert points[fam] == mul(k), fam
        if has_decompress:
            assert take(n) == points[fam][1], f"{fam}_DECOMPRESS"
    for fam in ("BN254", "BLS12381"):
        fq, fq2, nw = FIELDS[fam]
        a, b = points[fam]
        for op in OPS.values():
            assert take(4 * nw) == op(fq(a), fq(b)).n
        for op in OPS.values():
            c = op(fq2([a, b]), fq2([b, a])).coeffs
            assert (take(4 * nw), take(4 * nw)) == (c[0].n, c[1].n)
    (x1, y1), (xr, yr) = points["SECP256K1"], points["SECP256R1"]
    assert take(32) == x1 * y1 % xr  # UINT256_MUL
    ed_x_y = x | y << 256
    big = ed_x_y | (x1 | y1 << 256) << 512 | (xr | yr << 256) << 1024 | (points["BN254"][0] | points["BN254"][1] << 256) << 1536
    assert take(256) | take(32) << 2048 == x1 * big  # U256XU2048_MUL lo, hi
    assert bytes(j[:32]) == hashlib.sha3_256(le(k, 4)).digest()
    assert bytes(j[32:64]) == hashlib.sha256(le(k, 4)).digest() and len(j) == 64
    assert e.report.syscalls["ED_ADD"] > 13 and e.report.syscalls["U256XU2048_MUL"] == 1


def ed25519_batch(n: int, tamper_every: int = 3) -> tuple[bytes, list[bool]]:
    """The ed25519-verify guest's input: n PyNaCl signatures over 128-byte messages, every
    ``tamper_every``-th message altered after signing; and which ones PyNaCl accepts."""
    import struct

    import nacl.exceptions
    import nacl.signing

    recs, valid = [], []
    for i in range(n):
        sk = nacl.signing.SigningKey(bytes([i + 1]) * 32)
        msg = bytes((i * 31 + j) & 0xFF for j in range(128))
        sig = sk.sign(msg).signature
        if i % tamper_every == tamper_every - 1:
            msg = msg[:-1] + bytes([msg[-1] ^ 1])
        try:
            sk.verify_key.verify(msg, sig)
            valid.append(True)
        except nacl.exceptions.BadSignatureError:
            valid.append(False)
        recs.append(bytes(sk.verify_key) + sig + msg)
    return struct.pack("<I", n) + b"".join(recs), valid


def test_ed25519_verify_guest_agrees_with_pynacl():
    import struct
    from pathlib import Path

    from pyzkvm.program import Program

    guests = Path(__file__).resolve().parents[1] / "guests"
    batch, valid = ed25519_batch(3)
    assert (guests / "ed25519-verify" / "batch3.bin").read_bytes() == batch  # crosscheck.yml's input
    e = execute(Program.from_elf(guests / "bin" / "ed25519-verify.elf"), [batch])
    assert valid == [True, True, False]
    assert e.journal == struct.pack("<II", 3, sum(valid)) + bytes(valid)
