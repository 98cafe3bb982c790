"""SP1's hooks (v4+): a WRITE to one of these fds is a question to the host, whose answers go
to the front of the input queue (first answer first) for the guest to HINT_READ and check.

SP1's patched crypto crates use them to get witnesses they then verify with the precompiles
(a square root, an inverse, a quotient). The formats and the panics are SP1's
(``crates/core/executor/src/hook.rs``, the fds ``sp1_primitives::consts::fd``: 10 + n).
Byte order is per hook, as there: big-endian for the secp and Fp hooks, little-endian for
ed25519 and RSA.
"""

from __future__ import annotations

from typing import TypeVar

from .curves import BLS12381, ED_P, SECP256K1, SECP256R1, Sp1Panic, ed25519_even_sqrt, inv, sqrt_mod

# group orders, for the ecrecover hook's r⁻¹ (a scalar)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256R1_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _be(value: int, n: int) -> bytes:
    """SP1's ``pad_to_be``: the low n bytes, big-endian (a longer value is truncated)."""
    return (value % (1 << (8 * n))).to_bytes(n, "big")


T = TypeVar("T")


def _check(ok: bool, why: str) -> None:
    if not ok:
        raise Sp1Panic(why)


def _some(value: T | None, why: str) -> T:
    """``value``, or SP1's panic when it is None (a root or key that does not exist)."""
    if value is None:
        raise Sp1Panic(why)
    return value


def ecrecover(buf: bytes) -> list[bytes]:
    """fd 15: [curve_id | y_odd << 7] ‖ r ‖ alpha (32 bytes each, big-endian), alpha = r³ + ar + b.
    A square alpha: [1], y (its root with the asked parity), r⁻¹ mod the group order.
    Otherwise: [0], √(3·alpha), the proof that alpha is not a square (3 is a non-residue)."""
    _check(len(buf) == 65, "ecrecover should have length 65")
    curve_id, odd = buf[0] & 0x7F, buf[0] >> 7
    curves = {1: (SECP256K1, SECP256K1_N), 2: (SECP256R1, SECP256R1_N)}
    _check(curve_id in curves, f"unsupported curve id {curve_id}")
    curve, n = curves[curve_id]
    r, alpha = int.from_bytes(buf[1:33], "big"), int.from_bytes(buf[33:65], "big")
    _check(r < curve.p and alpha < curve.p, "r or alpha is not a reduced field element")
    _check(curve_id != 1 or alpha != 0, "alpha should not be zero")
    y = sqrt_mod(alpha, curve.p)
    if y is None:
        return [b"\x00", _be(_some(sqrt_mod(3 * alpha, curve.p), "neither alpha nor 3·alpha is a square"), 32)]
    _check(0 < r < n, "r is not a non-zero scalar")
    if y & 1 != odd:
        y = (curve.p - y) % curve.p
    return [b"\x01", _be(y, 32), _be(pow(r, -1, n), 32)]


def ed_decompress(buf: bytes) -> list[bytes]:
    """fd 16: y (32 bytes little-endian, bit 255 ignored) ‖ v = d·y² + 1. [1] when the point
    decompresses; [0] for y ≥ p; else [0], v⁻¹, √(2·u/v) (2 is a non-residue), little-endian."""
    y = int.from_bytes(buf[:32], "little") & ((1 << 255) - 1)
    if y >= ED_P:
        return [b"\x00"]
    v = int.from_bytes(buf[32:], "little")
    _check(v < ED_P, "V is not a valid field element")
    v_inv = inv(v, ED_P)
    u_div_v = (y * y - 1) * v_inv % ED_P
    if sqrt_mod(u_div_v, ED_P) is not None:
        return [b"\x01"]
    root = _some(ed25519_even_sqrt(2 * u_div_v % ED_P), "2·u/v has no square root")
    return [b"\x00", v_inv.to_bytes(32, "little"), root.to_bytes(32, "little")]


def rsa_mul_mod(buf: bytes) -> list[bytes]:
    """fd 17: a 512-byte product and a 256-byte modulus (little-endian): the remainder and the
    quotient, 256 bytes each (SP1 truncates a longer quotient to its low 256 bytes)."""
    _check(len(buf) == 768, "rsa_mul_mod input should have length 256 + 256 + 256")
    prod, m = int.from_bytes(buf[:512], "little"), int.from_bytes(buf[512:], "little")
    _check(m != 0, "division by a zero modulus")
    q, rem = divmod(prod, m)
    return [rem.to_bytes(256, "little"), (q % (1 << 2048)).to_bytes(256, "little")]


def bls12_381_sqrt(buf: bytes) -> list[bytes]:
    """fd 18: a 48-byte big-endian element: [1], its root a^((p+1)/4); or [0], the root of
    2·a (2 is a non-residue). An unreduced element is never "its own square" here: [0]."""
    a, p = int.from_bytes(buf[:48], "big"), BLS12381.p
    if a == 0:
        return [b"\x01", bytes(48)]
    root = pow(a, (p + 1) // 4, p)
    if root * root % p == a:
        return [b"\x01", _be(root, 48)]
    qr = 2 * a % p
    root = pow(qr, (p + 1) // 4, p)
    _check(root * root % p == qr, "NQR sanity check failed")
    return [b"\x00", _be(root, 48)]


def bls12_381_inverse(buf: bytes) -> list[bytes]:
    """fd 19: a 48-byte big-endian element ≠ 0: its inverse a^(p-2)."""
    a = int.from_bytes(buf[:48], "big")
    _check(a != 0, "Field element is the additive identity")
    return [_be(inv(a, BLS12381.p), 48)]


#: the longest element/modulus the generic FpOp hooks take (bytes). SP1 has no bound, but their
#: modular powers cost the host cubic time in it (~1 s at 1 KiB, ~60 s at 4 KiB) for the price
#: of a few guest cycles; the fields they serve are ≤ 96 bytes (BLS12-381's p: 48)
MAX_FP_BYTES = 128


def _len_prefixed(buf: bytes, parts: int) -> tuple[int, list[int]]:
    _check(len(buf) >= 4, "FpOp: Invalid buffer length")
    n = int.from_bytes(buf[:4], "big")
    _check(n <= MAX_FP_BYTES, f"FpOp: elements of {n} bytes, more than pyzkvm's host takes ({MAX_FP_BYTES}: "
                              "their modular powers would run the host for minutes)")
    _check(len(buf) == 4 + parts * n, "FpOp: Invalid buffer length")
    return n, [int.from_bytes(buf[4 + i * n : 4 + (i + 1) * n], "big") for i in range(parts)]


def fp_sqrt(buf: bytes) -> list[bytes]:
    """fd 20: u32 len (big-endian) ‖ element ‖ modulus ‖ a non-residue, len bytes each:
    [1], √element; or [0], √(nqr·element). Tonelli–Shanks with the given non-residue."""
    n, (a, m, nqr) = _len_prefixed(buf, 3)
    _check(a < m, "Element is not less than modulus")
    _check(nqr < m, "NQR is zero or non-canonical")
    if a == 0:
        return [b"\x01", bytes(n)]
    root = sqrt_mod(a, m, nqr)
    if root is not None:
        return [b"\x01", _be(root, n)]
    root = _some(sqrt_mod(nqr * a % m, m, nqr), "the non-residue times the element has no root")
    return [b"\x00", _be(root, n)]


def fp_inverse(buf: bytes) -> list[bytes]:
    """fd 21: u32 len ‖ element ‖ modulus: element^(m-2) mod m (element ≠ 0)."""
    n, (a, m) = _len_prefixed(buf, 2)
    _check(a != 0, "FpOp: Inverse called with zero")
    _check(m >= 2, f"FpOp: modulus {m} (SP1's m - 2 underflows and panics)")
    return [_be(pow(a, m - 2, m), n)]


#: fd → hook (SP1 v4+ HookRegistry::default)
HOOKS = {15: ecrecover, 16: ed_decompress, 17: rsa_mul_mod, 18: bls12_381_sqrt, 19: bls12_381_inverse,
         20: fp_sqrt, 21: fp_inverse}  # fmt: skip
HOOK_NAMES = {15: "ECRECOVER", 16: "ED_DECOMPRESS", 17: "RSA_MUL_MOD", 18: "BLS12_381_SQRT",
              19: "BLS12_381_INVERSE", 20: "FP_SQRT", 21: "FP_INV"}  # fmt: skip
