"""SP1 v3's hooks (profile ``sp1@3``): a WRITE to fds 5..8 is a question to the host, whose
answers go to the front of the input queue (first answer first), as v4+'s hooks do.

The formats and the panics are SP1's ``deprecated_hooks`` (``crates/core/executor/src/hook.rs``),
the v3 hooks that v4+ still runs for v3 guests when ``SP1_ALLOW_DEPRECATED_HOOKS`` is set
(``syscalls/write.rs``: ECRECOVER_V1 = 5, ECRECOVER_R1 = 6, ECRECOVER_V2 = 7, ED_DECOMPRESS = 8).
docs/abi.md names the stored files. Scalars and coordinates are big-endian, as k256/p256
write them; the ed25519 point is its 32-byte little-endian encoding.
"""

from __future__ import annotations

from .curves import ED_D, ED_P, SECP256K1, sqrt_mod
from .sp1_hooks import SECP256K1_N, SECP256R1_N, _check, _some


def _signature(rs: bytes, n: int) -> tuple[int, int]:
    """k256/p256 ``Signature::from_slice(..).unwrap()``: r and s must be scalars in [1, n)."""
    r, s = int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:64], "big")
    _check(0 < r < n and 0 < s < n, "signature r or s is not a non-zero scalar (Signature::from_slice panics)")
    return r, s


def _recover(buf: bytes) -> tuple[bytes | None, int]:
    """sig (r ‖ s, 64 bytes) ‖ recovery id (1 byte) ‖ message hash (32 bytes), secp256k1.

    As k256 does it: a high s (> n/2) becomes n − s with the recovery id's parity bit
    flipped (``normalize_s``); the id must then be 0..3. R = (r + n·(id>>1), y with parity
    id&1); Q = r⁻¹(s·R − z·G), z = hash mod n. Returns (Q as 33-byte compressed SEC1, or None
    when recovery fails, and the normalized s)."""
    _check(len(buf) == 97, "ecrecover input should have length 65 + 32")
    n, curve = SECP256K1_N, SECP256K1
    r, s = _signature(buf[:64], n)
    recid = buf[64]
    if s > n // 2:
        s, recid = n - s, recid ^ 1
    _check(recid <= 3, "Computed recovery ID is invalid!")
    x = r + n * (recid >> 1)
    if x >= curve.p or sqrt_mod(x**3 + curve.b, curve.p) is None:
        return None, s  # R does not decompress: recover_from_prehash fails
    big_r = (x, curve.decompress(x, recid & 1))
    z = int.from_bytes(buf[65:97], "big") % n
    r_inv = pow(r, -1, n)
    q = curve.mul(r_inv * s % n, big_r)
    q = curve.group_add(q, curve.mul(-r_inv * z % n, (curve.gx, curve.gy)))
    if q is None:
        return None, s  # the identity is not a public key
    return bytes([2 | q[1] & 1]) + q[0].to_bytes(32, "big"), s


def ecrecover_v1(buf: bytes) -> list[bytes]:
    """fd 5: [public key (33 bytes, compressed)], [s⁻¹ mod n (32 bytes)]; a signature that
    recovers no key panics (``recover_from_prehash(..).unwrap()``)."""
    key, s = _recover(buf)
    return [_some(key, "ecrecover: the public key could not be recovered (SP1 v3 panics)"), pow(s, -1, SECP256K1_N).to_bytes(32, "big")]


def r1_s_inverse(buf: bytes) -> list[bytes]:
    """fd 6: a secp256r1 signature r ‖ s (64 bytes): [s⁻¹ mod n]. No low-s normalization."""
    _check(len(buf) == 64, "ecrecover input should have length 64")
    _, s = _signature(buf, SECP256R1_N)
    return [pow(s, -1, SECP256R1_N).to_bytes(32, "big")]


def ecrecover_v2(buf: bytes) -> list[bytes]:
    """fd 7: as fd 5 with a status: [1], key, s⁻¹ — or [0] when no key is recovered (a bad
    length, r/s or recovery id still panics)."""
    key, s = _recover(buf)
    if key is None:
        return [b"\x00"]
    return [b"\x01", key, pow(s, -1, SECP256K1_N).to_bytes(32, "big")]


def ed_decompress_v3(buf: bytes) -> list[bytes]:
    """fd 8: a compressed ed25519 point (32 bytes): [1] when it decompresses, else [0].

    sp1_curves' ``decompress`` (Option-returning): y (sign bit cleared) > p gives None;
    otherwise the point decompresses when (y² − 1)/(d·y² + 1) is a square. Any length but 32
    gives [0] (``CompressedEdwardsY::from_slice`` fails). docs/abi.md says which parts of
    this were read in SP1's source and which not."""
    y = int.from_bytes(buf, "little") & ((1 << 255) - 1)
    if len(buf) != 32 or y > ED_P:
        return [b"\x00"]
    yy = y * y % ED_P
    u_div_v = (yy - 1) * pow(ED_D * yy + 1, -1, ED_P) % ED_P
    return [b"\x01" if sqrt_mod(u_div_v, ED_P) is not None else b"\x00"]


#: fd → hook (SP1 v3; v4+ ``deprecated_hooks``)
HOOKS_V3 = {5: ecrecover_v1, 6: r1_s_inverse, 7: ecrecover_v2, 8: ed_decompress_v3}
HOOK_NAMES_V3 = {5: "ECRECOVER_V1", 6: "ECRECOVER_R1", 7: "ECRECOVER_V2", 8: "ED_DECOMPRESS"}
