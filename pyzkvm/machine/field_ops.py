"""Non-native field arithmetic: r = a op b mod m on byte limbs, for the curve and field chips.

An element of F_m (m up to 384 bits) is n little-endian byte limbs x_0..x_{n−1} (n = 32 for a
256-bit modulus, 48 for BLS12-381), x = Σ x_i·256^i = x(256) for the polynomial
x(X) = Σ x_i·X^i. One operation is one row's worth of columns (``op_columns``):

    a:n b:n r:n  q:n+1  cl:2n−1 ch:2n−1  lt:n

* **the identity.** For the kinds (names as in SP1's field_op; r is always the answer):

      MUL  a·b − r − q·m = 0          ADD  a + b − r − q·m = 0
      DIV  r·b − a − q·m = 0          SUB  r + b − a − q·m = 0

  with q ≥ 0 the quotient (witness). It is checked as the polynomial identity
  v(X) := [the left side as polynomials] = (X − 256)·c(X): v(256) = 0 exactly when the
  integer identity holds, and c = the carries. Coefficient k reads
  v_k = c_{k−1} − 256·c_k (c_{−1} = 0, c_{2n−1} = 0): 2n equations, 2n − 1 carries.
  Each carry is c_k = cl_k + 256·ch_k − OFFSET with cl, ch range-checked bytes.
* **canonical result: r < bound** (bound = m, or m + 1 where a chip writes p itself). Without it
  r + m is a second answer. ``lt`` is one-hot at the most significant byte where r and the
  bound differ: bytes above it are equal, at it bound_k − r_k − 1 is a byte.
* **bytes.** r and q are range-checked here; a and b must be bytes where they come from (another
  op's r, a memory word, a constant).

**Why every coefficient equation holds over the integers, not only mod p = 2^31 − 2^27 + 1.**
All limbs are bytes (≤ 255). v_k sums at most n products a_i·b_j (MUL, DIV) and subtracts at most
n + 1 products q_i·m_j, so |v_k| ≤ (n + 1)·255² + 510 < 2^21.6 for n ≤ 48 (n = 32: < 2^21.0).
An honest carry has |c_k| ≤ (|c_{k−1}| + |v_k|)/256 < 2^14 (induction from c_{−1} = 0), so
OFFSET = 2^14 puts it in [0, 2^15) and two bytes hold it. Whatever a prover puts in cl, ch, the
range checks give c_k ∈ [−2^14, 2^16 − 2^14), |c_k| < 2^16, so every equation's terms total
|v_k| + |c_{k−1}| + 256·|c_k| < 2^21.6 + 2^16 + 2^24 < 2^25 < p/2: an equation that holds mod p
holds in Z ("values that wrap modulo p" cannot happen). Then Σ_k 256^k·(equation k) telescopes
to v(256) = 0 in Z, i.e. the integer identity above, with a, b, r, q ≥ 0 read from bytes; with
r < m, r is the one canonical answer (and q, c, lt are determined by it: no free witness).

Division: r·b ≡ a determines r only when b ≢ 0 (mod m); b ≡ 0 with a ≡ 0 leaves r free. A chip
uses DIV only where b ≠ 0 holds (a mathematical fact, or proved by an inverse: DIV with a = 1).
SUB and DIV need q ≥ 0, so their completeness needs a < m (r + b ≥ a; the chips only subtract
reduced values); ADD and MUL take any byte operands (unreduced inputs included). q has n + 1
limbs: enough when m ≥ 256^(n−1) (a·b < 256^(2n), so q < 256^(n+1)); a smaller modulus (one
read from memory, e.g. UINT256_MUL's) needs up to 2n (``op_columns(q_limbs=)``). The modulus
may be columns (bytes, at most n + 1 limbs: 2^(8n) itself): the bound above still holds, as
each coefficient of q·m sums at most n + 1 products of bytes.

Witness (``op_witness``): r and q with Python integers on object arrays (one big-integer
operation per row, no explicit loop: numpy calls Python's int ops per element; a 256-bit
product has no numpy dtype), limbs by one ``int.to_bytes`` join, then the carries and the lt
flags vectorised over all rows in numpy (loops run over the 2n coefficients only).
"""

from __future__ import annotations

import numpy as np

from . import buses

MUL, DIV, ADD, SUB = "mul", "div", "add", "sub"
KINDS = (MUL, DIV, ADD, SUB)
#: carries are stored as c + OFFSET in two bytes (module docstring: |honest c| < 2^14)
OFFSET = 1 << 14
R = buses.TAG_RANGE


def carry_count(n: int, q_limbs: int | None = None, m_limbs: int | None = None) -> int:
    """Carries of one operation: one fewer than the coefficients of a·b and q·m."""
    q_limbs, m_limbs = q_limbs or n + 1, m_limbs or n
    return max(2 * n - 1, q_limbs + m_limbs - 1) - 1


def op_columns(n: int, prefix: str = "", q_limbs: int | None = None, m_limbs: int | None = None) -> str:
    """The Layout spec of one operation on n-byte elements (named with ``prefix``). q has n + 1
    limbs unless given (a modulus below 256^(n−1) needs more: UINT256_MUL's m may be 1); m_limbs:
    the limbs of a modulus held in columns (n, or n + 1 for 2^(8n)); r < m then takes one lt flag
    per limb of m (r padded with zero limbs)."""
    p, nc = prefix, carry_count(n, q_limbs, m_limbs)
    return f"{p}a:{n} {p}b:{n} {p}r:{n} {p}q:{q_limbs or n + 1} {p}cl:{nc} {p}ch:{nc} {p}lt:{m_limbs or n}"


def limbs_of(value: int, n: int) -> list:
    """A constant as n byte limbs (little-endian)."""
    if not 0 <= value < 256 ** n:
        raise ValueError(f"{value:#x} does not fit in {n} bytes")
    return list(value.to_bytes(n, "little"))


def _product(x, y) -> list:
    """Coefficients of x(X)·y(X) (lists of expressions or ints)."""
    out = [0] * (len(x) + len(y) - 1)
    for i, xi in enumerate(x):
        if isinstance(xi, int) and xi == 0:
            continue
        for j, yj in enumerate(y):
            if isinstance(yj, int) and yj == 0:
                continue
            out[i + j] = out[i + j] + xi * yj
    return out


def assert_field_op(b, kind: dict, a, bb, r, q, cl, ch, modulus, what: str, addend=None) -> None:
    """Constrain a op b = r (mod modulus) with quotient q and carries (cl, ch) — module docstring.

    kind: {MUL/DIV/ADD/SUB: a boolean expression (degree ≤ 1)}, at most one 1 on a row (the
    kinds a chip does not use may be left out); on a row where all are 0, every equation is
    0 = 0 only if q and the carries are 0, which the caller asserts. a, bb, r, q, cl, ch: lists
    of expressions. modulus: an int, or its limbs as expressions (columns, degree 1: a modulus
    read from memory; the bound argument needs them to be bytes, and q·m then has degree 2).
    Degree 3 (kind × product). ``addend``: optional limb expressions (bytes) added to the left
    side, a·b + addend − r − q·m (u256x2048.py's carry from the previous chunk): at most 255
    more per coefficient, the bound argument unchanged."""
    n = len(r)
    f = {k: kind.get(k, 0) for k in KINDS}
    on = f[MUL] + f[DIV] + f[ADD] + f[SUB]
    x = [f[MUL] * ai + f[DIV] * ri for ai, ri in zip(a, r)]            # the left factor: a or r
    lin = [f[ADD] * (ai + bi - ri) + f[SUB] * (ri + bi - ai) - f[MUL] * ri - f[DIV] * ai
           for ai, bi, ri in zip(a, bb, r)]
    v = _product(x, bb)
    m = limbs_of(modulus, n) if isinstance(modulus, int) else list(modulus)
    qm = _product(q, m)
    qm += [0] * (len(v) - len(qm))
    v += [0] * (len(qm) - len(v))
    for k in range(n):
        v[k] = v[k] + lin[k] + (addend[k] if addend is not None else 0)
    carry = [cl[k] + 256 * ch[k] - OFFSET * on for k in range(len(cl))]
    if len(carry) != len(qm) - 1:
        raise ValueError(f"{what}: {len(carry)} carries for {len(qm)} coefficients")
    for k in range(len(qm)):
        below = carry[k - 1] if k else 0
        here = carry[k] if k < len(carry) else 0
        b.assert_zero(v[k] - qm[k] - below + 256 * here, f"{what}: coefficient {k} of a op b − r − q·m = (X − 256)·c")


def assert_below(b, r, bound, lt, on, what: str) -> None:
    """r < bound on rows where ``on`` (boolean, degree ≤ 1) is 1: lt one-hot at the most
    significant byte where they differ (bound: n limb expressions or ints, degree ≤ 1).
    Where ``on`` is 0 the lt flags are 0."""
    n = len(r)
    for x in lt:
        b.assert_bool(x, f"{what}: lt flag is boolean")
    b.assert_eq(sum(lt), on, f"{what}: one lt flag on a checked row")
    for j in range(1, n):
        b.assert_zero(sum(lt[:j]) * (r[j] - bound[j]), f"{what}: r < bound: bytes above the first difference are equal")
    gap = sum(f * (bk - rk - 1) for f, bk, rk in zip(lt, bound, r))
    b.send(buses.BYTE, [R, gap, 0, 0, 0], on)  # bound_k − r_k − 1 ≥ 0 at the flagged byte


def range_check(b, cells, mult) -> None:
    """Every expression in ``cells`` is a byte (pairs on the byte bus, multiplicity ``mult``)."""
    cells = list(cells)
    for i in range(0, len(cells), 2):
        pair = cells[i:i + 2] + [0] * (2 - len(cells[i:i + 2]))
        b.send(buses.BYTE, [R, pair[0], pair[1], 0, 0], mult)


def op_range_checks(b, r, q, cl, ch, mult) -> None:
    """The byte checks an operation row needs: r, q and the carry bytes."""
    range_check(b, [*r, *q, *cl, *ch], mult)


# ---- witness -------------------------------------------------------------------------------------
def to_limbs(values, n: int) -> np.ndarray:
    """Non-negative Python integers (any iterable) → (len, n) int64 byte limbs."""
    values = list(values)
    if not values:
        return np.zeros((0, n), dtype=np.int64)
    raw = b"".join(int(v).to_bytes(n, "little") for v in values)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), n).astype(np.int64)


def from_limbs(limbs) -> list:
    """(rows, n) byte limbs → Python integers."""
    limbs = np.asarray(limbs, dtype=np.uint8)
    return [int.from_bytes(row.tobytes(), "little") for row in limbs]


def op_result(kind: str, a, b, modulus: int, addend=None):
    """(r, q) as object arrays for operands a, b (object arrays of Python ints); ``addend``
    (MUL, ADD): integers added to a·b or a + b."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    extra = 0 if addend is None else np.asarray(addend, dtype=object)
    if addend is not None and kind not in (MUL, ADD):
        raise ValueError("an addend goes with MUL or ADD")
    if kind == MUL:
        t = a * b + extra
        return t % modulus, t // modulus
    if kind == ADD:
        t = a + b + extra
        return t % modulus, t // modulus
    if kind == SUB:
        r = (a - b) % modulus
        return r, (r + b - a) // modulus
    if kind == DIV:
        inv = np.array([pow(int(x), -1, modulus) if int(x) % modulus else 0 for x in b], dtype=object)
        r = (a * inv) % modulus
        return r, (r * b - a) // modulus
    raise ValueError(f"unknown field operation {kind!r}")


def op_carries(kind: str, a, b, r, q, modulus, addend=None) -> tuple:
    """The carry bytes (cl, ch), each (rows, carry_count), of a op b = r + q·m on limb arrays;
    modulus: an int, or per-row limbs (rows, m_limbs)."""
    a, b, r, q = (np.asarray(x, dtype=np.int64) for x in (a, b, r, q))
    rows, n = r.shape
    m = np.asarray(limbs_of(modulus, n) if isinstance(modulus, int) else modulus, dtype=np.int64)
    nm = m.shape[-1]
    m = np.broadcast_to(m, (rows, nm))
    ncoef = max(2 * n - 1, q.shape[1] + nm - 1)
    v = np.zeros((rows, ncoef), dtype=np.int64)
    left = a if kind == MUL else r
    if kind in (MUL, DIV):
        for i in range(n):
            v[:, i:i + n] += left[:, i:i + 1] * b
    lin = {MUL: -r, DIV: -a, ADD: a + b - r, SUB: r + b - a}[kind]
    v[:, :n] += lin
    if addend is not None:  # limbs (rows, n)
        v[:, :n] += np.asarray(addend, dtype=np.int64)
    for i in range(q.shape[1]):
        v[:, i:i + nm] -= q[:, i:i + 1] * m
    c = np.zeros((rows, ncoef - 1), dtype=np.int64)
    prev = np.zeros(rows, dtype=np.int64)
    for k in range(ncoef - 1):
        num = prev - v[:, k]  # v_k = c_{k−1} − 256·c_k
        if np.any(num % 256):
            raise ValueError(f"coefficient {k}: the identity does not hold (not a {kind} of these operands)")
        c[:, k] = prev = num // 256
    if np.any(prev != v[:, ncoef - 1]):
        raise ValueError("the top coefficient does not close: the identity does not hold")
    if np.any(np.abs(c) >= OFFSET):
        raise ValueError("a carry is out of range (operands not bytes?)")
    c = c + OFFSET
    return c & 0xFF, c >> 8


def lt_flags(r, bound) -> np.ndarray:
    """(rows, n) one-hot at the most significant byte where r (limbs) differs from bound
    (limbs, (n,) or (rows, n)); r < bound is required."""
    r = np.asarray(r, dtype=np.int64)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.int64), r.shape)
    differ = r != bound
    top = r.shape[1] - 1 - np.argmax(differ[:, ::-1], axis=1)
    ok = differ.any(axis=1) & (r[np.arange(len(r)), top] < bound[np.arange(len(r)), top])
    if not ok.all():
        raise ValueError("a result is not below its bound (not canonical)")
    out = np.zeros(r.shape, dtype=np.int64)
    out[np.arange(len(r)), top] = 1
    return out


def op_witness(kind: str, a_int, b_int, modulus, n: int, bound=None, q_limbs: int | None = None,
               m_limbs: int | None = None, addend=None) -> dict:
    """Every column of one operation on many rows: operands as Python ints (object arrays),
    modulus and bound an int or one per row (object arrays; bound defaults to the modulus, False
    leaves lt out);
    ``addend``: integers added to a·b or a + b (op_result);
    returns the limb arrays a, b, r, q, cl, ch, lt (each (rows, width)) and r, q as integers."""
    r_int, q_int = op_result(kind, a_int, b_int, modulus, addend)
    cols = {"a": to_limbs(a_int, n), "b": to_limbs(b_int, n), "r": to_limbs(r_int, n),
            "q": to_limbs(q_int, q_limbs or n + 1)}
    per_row = not isinstance(modulus, int)
    m = to_limbs(modulus, m_limbs or n) if per_row else modulus
    add = None if addend is None else to_limbs(addend, n)
    cols["cl"], cols["ch"] = op_carries(kind, cols["a"], cols["b"], cols["r"], cols["q"], m, add)
    bound = modulus if bound is None else bound
    if bound is not False:  # False: the caller proves r < bound itself (a bound beyond n limbs)
        cols["lt"] = lt_flags(cols["r"], limbs_of(bound, n) if isinstance(bound, int) else to_limbs(bound, n))
    cols["r_int"], cols["q_int"] = r_int, q_int
    return cols
