"""SP1's curve, field and big-integer precompiles: memory layout in, curves.py math, memory out.

Each handler gets the machine, a0, a1 and a reader for further argument registers, reads its
operands as little-endian multi-word integers (the layout SP1's guest libraries use: a point
is x's words then y's words), and writes the result where SP1 writes it (docs/abi.md has the
table, with the SP1 source file of each). An input SP1 panics on is a SyscallError naming the
syscall and the reason. The interpreter returns to Python at every ECALL, so none of this
touches the hot loop.
"""

from __future__ import annotations

import numpy as np

from .curves import (BLS12381, BN254, SECP256K1, SECP256R1, Sp1Panic, Weierstrass, ed_add, ed_decompress, fp2_op,
                     fp_op, u256x2048_mul, uint256_mulmod)  # fmt: skip
from .machine import Machine


def read_int(m: Machine, addr: int, nwords: int, what: str) -> int:
    """The little-endian integer in ``nwords`` words at ``addr`` (logged as syscall reads)."""
    return int.from_bytes(m.read_words(addr, nwords, what).astype("<u4").tobytes(), "little")


def write_int(m: Machine, addr: int, value: int, nwords: int, what: str) -> None:
    """Store ``value`` as ``nwords`` little-endian words at ``addr``."""
    m.write_words(addr, np.frombuffer(value.to_bytes(4 * nwords, "little"), dtype="<u4"), what)


def _point(m, addr, nw, what):
    """A point: x in the first nw words, y in the next nw (SP1's ``AffinePoint::from_words_le``)."""
    v = read_int(m, addr, 2 * nw, what)
    return v & ((1 << (32 * nw)) - 1), v >> (32 * nw)


def _store_point(m, addr, pt, nw, what):
    write_int(m, addr, pt[0] | pt[1] << (32 * nw), 2 * nw, what)


def weierstrass_add(curve: Weierstrass):
    """*_ADD: a0 → P (written), a1 → Q; P ← P + Q."""
    nw = curve.nbytes // 4

    def run(m, name, a0, a1, reg):
        p = _point(m, a0, nw, f"{name} p")
        q = _point(m, a1, nw, f"{name} q")
        _store_point(m, a0, curve.add(p, q), nw, f"{name} p")

    return run


def weierstrass_double(curve: Weierstrass):
    """*_DOUBLE: a0 → P (written); P ← 2P. a1 is not read."""
    nw = curve.nbytes // 4

    def run(m, name, a0, a1, reg):
        _store_point(m, a0, curve.double(_point(m, a0, nw, f"{name} p")), nw, f"{name} p")

    return run


def weierstrass_decompress(curve: Weierstrass):
    """*_DECOMPRESS: a0 → [y | x] (x read from the second half, y written to the first),
    a1 = the sign bit (0 or 1; anything else panics in SP1)."""
    nw = curve.nbytes // 4

    def run(m, name, a0, a1, reg):
        if a1 > 1:
            raise Sp1Panic(f"sign bit a1={a1} is not 0 or 1")
        x = read_int(m, a0 + curve.nbytes, nw, f"{name} x")
        write_int(m, a0, curve.decompress(x, a1), nw, f"{name} y")

    return run


def _ed_add(m, name, a0, a1, reg):
    """ED_ADD: a0 → P (written), a1 → Q, each x then y (8 words each)."""
    p = _point(m, a0, 8, "ED_ADD p")
    q = _point(m, a1, 8, "ED_ADD q")
    _store_point(m, a0, ed_add(p, q), 8, "ED_ADD p")


def _ed_decompress(m, name, a0, a1, reg):
    """ED_DECOMPRESS: a0 → [x | y] (32 + 32 bytes); y (bit 255 ignored) is read, x written;
    a1 = the sign of x (0 or 1)."""
    if a1 > 1:
        raise Sp1Panic(f"sign bit a1={a1} is not 0 or 1")
    y = read_int(m, a0 + 32, 8, "ED_DECOMPRESS y") & ((1 << 255) - 1)
    write_int(m, a0, ed_decompress(y, a1), 8, "ED_DECOMPRESS x")


def fp(p: int, nw: int, op: str):
    """*_FP_{ADD,SUB,MUL}: a0 → x (written), a1 → y, nw words each; x ← x op y mod p."""

    def run(m, name, a0, a1, reg):
        x = read_int(m, a0, nw, f"{name} x")
        y = read_int(m, a1, nw, f"{name} y")
        write_int(m, a0, fp_op(op, x, y, p), nw, f"{name} x")

    return run


def fp2(p: int, nw: int, op: str):
    """*_FP2_{ADD,SUB,MUL}: a0 → x = (c0, c1) (written), a1 → y, nw words per coefficient."""

    def run(m, name, a0, a1, reg):
        x = _point(m, a0, nw, f"{name} x")
        y = _point(m, a1, nw, f"{name} y")
        _store_point(m, a0, fp2_op(op, x, y, p), nw, f"{name} x")

    return run


def _uint256_mul(m, name, a0, a1, reg):
    """UINT256_MUL: a0 → x (written), a1 → y followed by the modulus m (8 words each)."""
    x = read_int(m, a0, 8, "UINT256_MUL x")
    y = read_int(m, a1, 8, "UINT256_MUL y")
    mod = read_int(m, a1 + 32, 8, "UINT256_MUL modulus")
    write_int(m, a0, uint256_mulmod(x, y, mod), 8, "UINT256_MUL x")


def _u256x2048_mul(m, name, a0, a1, reg):
    """U256XU2048_MUL: a0 → a (8 words), a1 → b (64 words), a2 → lo (64 words written),
    a3 → hi (8 words written): a·b = lo + 2^2048·hi."""
    lo_ptr, hi_ptr = reg(12), reg(13)
    a = read_int(m, a0, 8, "U256XU2048_MUL a")
    b = read_int(m, a1, 64, "U256XU2048_MUL b")
    lo, hi = u256x2048_mul(a, b)
    write_int(m, lo_ptr, lo, 64, "U256XU2048_MUL lo")
    write_int(m, hi_ptr, hi, 8, "U256XU2048_MUL hi")


# code → (name, handler). Codes: SP1's crates/core/executor/src/syscalls/code.rs (identical
# at v3.0.0 and v5.x for these).
PRECOMPILES = {
    0x00010107: ("ED_ADD", _ed_add),
    0x00000108: ("ED_DECOMPRESS", _ed_decompress),
    0x0001010A: ("SECP256K1_ADD", weierstrass_add(SECP256K1)),
    0x0000010B: ("SECP256K1_DOUBLE", weierstrass_double(SECP256K1)),
    0x0000010C: ("SECP256K1_DECOMPRESS", weierstrass_decompress(SECP256K1)),
    0x0001010E: ("BN254_ADD", weierstrass_add(BN254)),
    0x0000010F: ("BN254_DOUBLE", weierstrass_double(BN254)),
    0x0000011C: ("BLS12381_DECOMPRESS", weierstrass_decompress(BLS12381)),
    0x0001011D: ("UINT256_MUL", _uint256_mul),
    0x0001011E: ("BLS12381_ADD", weierstrass_add(BLS12381)),
    0x0000011F: ("BLS12381_DOUBLE", weierstrass_double(BLS12381)),
    0x00010120: ("BLS12381_FP_ADD", fp(BLS12381.p, 12, "add")),
    0x00010121: ("BLS12381_FP_SUB", fp(BLS12381.p, 12, "sub")),
    0x00010122: ("BLS12381_FP_MUL", fp(BLS12381.p, 12, "mul")),
    0x00010123: ("BLS12381_FP2_ADD", fp2(BLS12381.p, 12, "add")),
    0x00010124: ("BLS12381_FP2_SUB", fp2(BLS12381.p, 12, "sub")),
    0x00010125: ("BLS12381_FP2_MUL", fp2(BLS12381.p, 12, "mul")),
    0x00010126: ("BN254_FP_ADD", fp(BN254.p, 8, "add")),
    0x00010127: ("BN254_FP_SUB", fp(BN254.p, 8, "sub")),
    0x00010128: ("BN254_FP_MUL", fp(BN254.p, 8, "mul")),
    0x00010129: ("BN254_FP2_ADD", fp2(BN254.p, 8, "add")),
    0x0001012A: ("BN254_FP2_SUB", fp2(BN254.p, 8, "sub")),
    0x0001012B: ("BN254_FP2_MUL", fp2(BN254.p, 8, "mul")),
    0x0001012C: ("SECP256R1_ADD", weierstrass_add(SECP256R1)),
    0x0000012D: ("SECP256R1_DOUBLE", weierstrass_double(SECP256R1)),
    0x0000012E: ("SECP256R1_DECOMPRESS", weierstrass_decompress(SECP256R1)),
    0x0001012F: ("U256XU2048_MUL", _u256x2048_mul),
}
