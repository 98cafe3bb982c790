"""Out-of-domain openings and the DEEP composition, shared by prover and verifier.

After the quotient is committed the verifier draws ζ ∈ F_p^4 and the prover sends every
committed column's value at ζ (and at ζ·ω for columns read at the next row). The verifier
checks the AIR identity at ζ with those values. To bind the values to the commitments, all
columns are merged into one DEEP codeword per table, with one independent random
coefficient c_i ∈ F_p^4 per opened column (drawn from the transcript as a vector):

    D(x) = Σ_i c_i·(f_i(x) − f_i(ζ))/(x − ζ)  +  Σ_j c_(m+j)·(f_j(x) − f_j(ζω))/(x − ζω)

which is a polynomial of degree < n exactly when every claimed value is right; FRI then
proves D is low degree. Independent coefficients, not powers of one γ: the batching error is
then the affine-space bound |D|/|F| rather than (m − 1)·|D|/|F| (config.py, BCIKS20). The
coefficient indices run over the tables in order, for each table the "at ζ" group
(preprocessed, main, aux, quotient columns) then the "at ζω" group (preprocessed, main,
aux); ``deep_layout`` fixes that order for both sides.

Extension-valued columns (aux, quotient chunks) are committed as 4 base columns f_c each and
opened as the one F_p^4 value f(z) = Σ_c X^c·f_c(z) of f = Σ_c X^c·f_c (``recombine_ext_columns``),
with one coefficient c_j drawn per such column: its base columns' coefficients are c_j·X^c
(``deep_coefficients``), so their terms add up to c_j·(f(x) − f(z))/(x − z) — f's own DEEP
term, which binds f(z) as a base column's binds its value (f is a polynomial of degree < n
over F_p^4, and the AIR reads only f(z); docs/stark.md, "DEEP").
"""

from __future__ import annotations

import numpy as np

from . import ext, field
from .._jit import inner
from ..lazy_njit import njit
from .ext import mul4
from .field import P, f_add
from .lincomb import combine_terms
from .openings import EXT_GROUPS, opened_width

_P = np.uint64(P)


def recombine_ext_columns(values: np.ndarray) -> np.ndarray:
    """(4a, 4) values of base columns → (a, 4) values of the F_p^4 columns they encode:
    column j = Σ_c X^c·values[4j + c]."""
    v = np.asarray(values, dtype=np.uint32).reshape(-1, 16).astype(np.uint64)  # lane 4c + i: coefficient i of column c
    return ext.fold_lanes(v).astype(np.uint32)  # X^c · X^i = X^(c+i), X^4 = W


def deep_layout(widths_per_table: list) -> tuple:
    """Coefficient offsets. For each table's base widths (wp, w, wa, wq) returns a pair of dicts
    (at ζ: group → (first power, width); at ζω: the same), and the total number of powers."""
    out, pos = [], 0
    for wp, w, wa, wq in widths_per_table:
        local = {}
        for name, width in (("prep", wp), ("main", w), ("aux", wa), ("quotient", wq)):
            local[name] = (pos, width)
            pos += width
        nxt = {}
        for name, width in (("prep", wp), ("main", w), ("aux", wa)):
            nxt[name] = (pos, width)
            pos += width
        out.append((local, nxt))
    return out, pos


def opened_count(layout: list) -> int:
    """How many values a deep_layout's groups open, one DEEP coefficient each: one per base
    column, one per F_p^4 column (4 base columns) of the EXT_GROUPS."""
    return sum(opened_width(g, width) for pair in layout for part in pair for g, (_start, width) in part.items())


def deep_coefficients(drawn: np.ndarray, layout: list, total: int) -> np.ndarray:
    """The coefficient of each of the ``total`` committed base columns (deep_layout's numbering)
    from the ``drawn`` ones (opened_count of them, in the layout's order): a base column's own;
    base column c of the F_p^4 column j of an EXT_GROUPS group: c_j·X^c, so Σ_c c_j·X^c·f_c =
    c_j·f (module docstring)."""
    drawn = np.asarray(drawn, dtype=np.uint32)
    # X^c·(a0, a1, a2, a3) in F_p[X]/(X^4 − W) is a window of (W·a0, …, W·a3, a0, …, a3):
    # X·a = (W·a3, a0, a1, a2), X^2·a = (W·a2, W·a3, a0, a1), …
    wide = np.concatenate([(drawn.astype(np.uint64) * ext.W % P).astype(np.uint32), drawn], axis=1)
    powers = np.stack([wide[:, 4 - c:8 - c] for c in range(4)], axis=1)  # (k, c, 4): X^c·drawn_k
    out = np.empty((total, 4), dtype=np.uint32)
    at = 0
    for pair in layout:
        for part in pair:
            for g, (start, width) in part.items():
                k = opened_width(g, width)
                out[start:start + width] = powers[at:at + k].reshape(-1, 4) if g in EXT_GROUPS else drawn[at:at + k]
                at += k
    return out


#: rows of the DEEP codeword computed at once: its temporaries (the combined numerators, the
#: inverses of x − ζ and x − ζω) stay this size, not the LDE's (at 2^18 cycles, hiding, the
#: tallest LDE has 2^21 rows, and whole-height temporaries cost ~350 MB of peak memory)
DEEP_CHUNK_ROWS = 1 << 16


def deep_values(members: list, x: np.ndarray, zeta: np.ndarray, z_next: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """D(x) of every member table — all of one LDE height, so one ζω — summed, at the points x.

    The verifier calls this with the queried rows (x = the query points); the prover computes
    the same formula on every row of the LDEs from the coefficients
    (deep_codewords_from_coefficients). ``members``: one (layout, rows, open_local, open_next)
    per table, where layout is its deep_layout pair, rows maps a group name to the (N, w) base
    values of its committed columns at x, and open_local / open_next the claimed values at ζ /
    ζω. Returns (N, 4), computed DEEP_CHUNK_ROWS rows at a time.

        D(x) = [Σ c_i f_i(x) − Σ c_i f_i(ζ)]/(x − ζ) + [Σ c_j f_j(x) − Σ c_j f_j(ζω)]/(x − ζω)
    """
    terms, claimed_local, claimed_next = _deep_terms(members, coeffs)
    n = len(x)
    out = np.empty((n, 4), dtype=np.uint32)
    for lo in range(0, n, DEEP_CHUNK_ROWS):
        hi = min(n, lo + DEEP_CHUNK_ROWS)
        num = _combined_rows(terms, lo, hi)
        out[lo:hi] = _deep_quotients(num, x[lo:hi], zeta, z_next, claimed_local, claimed_next)
    return out


def _deep_terms(members: list, coeffs: np.ndarray) -> tuple:
    """(terms, Σ c_i f_i(ζ), Σ c_j f_j(ζω)) of deep_values' members: a term is (matrix,
    coefficients (w, 4) for the ζ group only or (w, 8) for both groups)."""
    terms, pairs = _deep_parts(members, coeffs)
    claimed = _claimed_sums(list(pairs))
    return terms, claimed[0], claimed[1]


def _deep_parts(members: list, coeffs: np.ndarray) -> tuple:
    """(terms, (the ζ group's (coefficients, claimed values) pairs, the ζω group's)): _deep_terms
    before its two claimed sums."""
    terms, local_pairs, next_pairs = [], [], []  # (coefficients, claimed values) of each group
    for (local, nxt), rows, open_local, open_next in members:
        for name, (start, width) in local.items():
            if width == 0:
                continue
            # an F_p^4 column j's value pairs with c_j, its base column 4j's coefficient (c_j·X^0)
            step = 4 if name in EXT_GROUPS else 1
            c = coeffs[start:start + width]
            local_pairs.append((c[::step], open_local[name]))
            c_next = coeffs[nxt[name][0]:nxt[name][0] + width] if name in nxt else None
            if c_next is None or not c_next.any():  # the quotient, or no column of the group opened at ζω
                terms.append((rows[name], c))       # (openings.py: the others' c_j are 0): no ζω sum
            else:  # one pass over the matrix computes both sums (a separate ζω sum over the read
                # columns alone measured no faster: the combination's cost is mostly reading the matrix)
                next_pairs.append((c_next[::step], open_next[name]))
                terms.append((rows[name], np.concatenate([c, c_next], axis=1)))
    return terms, (local_pairs, next_pairs)


def _combined_rows(terms: list, lo: int, hi: int) -> np.ndarray:
    """Rows lo..hi−1 of [Σ c_i f_i | Σ c_j f_j] over the terms' matrices, (hi − lo, 8) (a matrix
    with fewer rows adds zeros: a tall hiding table's preprocessed coefficients, n rows beside
    f̂'s n + n/F), every term added before one reduction (lincomb.combine_terms); a ζ-only
    term's (w, 4) coefficients are padded with zeros for the ζω half, which the kernel skips."""
    return combine_terms([(m, c if c.shape[1] == 8 else np.concatenate([c, np.zeros_like(c)], axis=1))
                          for m, c in terms], lo, hi)


def _deep_quotients(num: np.ndarray, x: np.ndarray, zeta, z_next, claimed_local, claimed_next) -> np.ndarray:
    """D at the points x from the combined values num = [Σ c_i f_i(x) | Σ c_j f_j(x)] (deep_values)."""
    n = len(x)
    xe = ext.from_base(np.asarray(x, dtype=np.uint32))
    inv = ext.ext_batch_inverse(np.concatenate([ext.ext_sub(xe, zeta), ext.ext_sub(xe, z_next)]))
    return ext.ext_add(ext.ext_mul(ext.ext_sub(np.ascontiguousarray(num[:, :4]), claimed_local), inv[:n]),
                       ext.ext_mul(ext.ext_sub(np.ascontiguousarray(num[:, 4:]), claimed_next), inv[n:]))


def _deep_quotients_few(num: np.ndarray, x: np.ndarray, zeta, z_next, claimed_local, claimed_next) -> np.ndarray:
    """_deep_quotients for a verifier's few rows (numpy, one inversion per row instead of two):

        D(x) = [A·(x − ζω) + B·(x − ζ)] / [(x − ζ)·(x − ζω)],
        A = Σ c_i f_i(x) − Σ c_i f_i(ζ),  B = Σ c_j f_j(x) − Σ c_j f_j(ζω)."""
    xe = ext.from_base(np.asarray(x, dtype=np.uint32)).astype(np.uint64)
    to_zeta = (xe + _P - np.asarray(zeta, dtype=np.uint64)) % _P          # x − ζ
    to_next = (xe + _P - np.asarray(z_next, dtype=np.uint64)) % _P        # x − ζω
    a = (num[:, :4].astype(np.uint64) + _P - np.asarray(claimed_local, dtype=np.uint64)) % _P
    b = (num[:, 4:].astype(np.uint64) + _P - np.asarray(claimed_next, dtype=np.uint64)) % _P
    inv = ext.ext_batch_inverse(ext.mul_rows(to_zeta, to_next).astype(np.uint32))
    top = (ext.mul_rows(a, to_next) + ext.mul_rows(b, to_zeta)) % _P
    return ext.mul_rows(top, inv).astype(np.uint32)


def deep_codewords(entries: list, points_of, zeta: np.ndarray, coeffs: np.ndarray) -> dict:
    """D(x) per LDE height at the verifier's few points, from ``entries``: (log LDE size, ζω of
    its table, member) triples, a member as in deep_values. A table's column groups may live on
    different heights (hiding mode commits the main/aux/quotient polynomials on a taller LDE
    than the preprocessed ones), and tables of one height may read their next row at different
    ζω: each (height, ζω) group is one deep_values formula, and the groups of one height add
    up. ``points_of(l)``: the points x of height l where D is wanted (the queries).

    The groups' numerators are combined one group at a time (one column combination each),
    then the quotients of all groups' rows in one pass: one batch inversion for every
    x − ζ and x − ζω (in blocks of NUMPY_MAX elements, so no kernel is needed)."""
    rows = []  # per group: (height, points, ζω, numerators (q, 8))
    points: dict[int, np.ndarray] = {}
    pairs: list = []  # every group's (coefficients, claimed values): its ζ sum, then its ζω sum
    for l, z_next, members in _groups(entries):
        x = points.setdefault(l, points_of(l))
        terms, (local_pairs, next_pairs) = _deep_parts(members, coeffs)
        pairs += [local_pairs, next_pairs]
        rows.append((l, x, z_next, _combined_rows(_joined(terms), 0, len(x))))
    claimed = _claimed_sums(pairs).reshape(-1, 2, 4)  # per group: Σ c_i f_i(ζ), Σ c_j f_j(ζω)
    count = [len(r[1]) for r in rows]
    x = np.concatenate([r[1] for r in rows])
    num = np.concatenate([r[3] for r in rows])
    z_next, local, nxt = (np.repeat(v, count, axis=0) for v in (np.stack([r[2] for r in rows]), claimed[:, 0],
                                                                 claimed[:, 1]))
    values = np.empty((len(x), 4), dtype=np.uint32)
    block = field.NUMPY_MAX  # one inversion per row: ≤ NUMPY_MAX at once
    for lo in range(0, len(x), block):
        hi = lo + block
        values[lo:hi] = _deep_quotients_few(num[lo:hi], x[lo:hi], zeta, z_next[lo:hi], local[lo:hi], nxt[lo:hi])
    out: dict[int, np.ndarray] = {}
    at = 0
    for (l, *_rest), n in zip(rows, count):
        out[l] = values[at:at + n] if l not in out else ext.ext_add(out[l], values[at:at + n])
        at += n
    return out


def _claimed_sums(groups: list) -> np.ndarray:
    """Σ c_i·v_i ∈ F_p^4 (the weighted claimed openings) of each group of (coefficients,
    values) pairs, (len(groups), 4): every group's products in one numpy product (a verifier
    joins every table's openings of one height: over a thousand columns, where ext_mul would
    load a kernel), summed per group (an empty group sums to 0)."""
    flat = [p for group in groups for p in group]
    sizes = np.array([sum(len(c) for c, _v in group) for group in groups], dtype=np.int64)
    out = np.zeros((len(groups), 4), dtype=np.uint64)
    if not flat:
        return out.astype(np.uint32)
    terms = ext.mul_rows(np.concatenate([c for c, _v in flat]), np.concatenate([v for _c, v in flat]))
    nonempty = sizes > 0
    starts = (np.cumsum(sizes) - sizes)[nonempty]
    out[nonempty] = np.add.reduceat(terms, starts, axis=0) % P  # terms < p: a sum of < 2^33 fits
    return out.astype(np.uint32)


def _joined(terms: list) -> list:
    """A verifier's terms as one: the matrices side by side, the coefficients stacked (a ζ-only
    group's (w, 4) padded with zeros for the ζω half), so one combination covers every column."""
    if len(terms) <= 1:
        return terms
    coeffs = np.zeros((sum(c.shape[0] for _m, c in terms), 8), dtype=np.uint32)
    at = 0
    for _m, c in terms:
        coeffs[at:at + c.shape[0], :c.shape[1]] = c
        at += c.shape[0]
    return [(np.concatenate([m for m, _c in terms], axis=1), coeffs)]


def deep_codewords_from_coefficients(entries: list, points_of, zeta: np.ndarray, coeffs: np.ndarray,
                                     log_blowup: int) -> dict:
    """The prover's deep_codewords without the LDEs: the same D(x) on every row of each height,
    from the committed polynomials' coefficients. The combination Σ c_i f_i is linear, so it is
    taken on the D coefficients of the columns (rows of each member's matrices are coefficient
    rows here: a height-l group's polynomials have at most as many as its longest matrix —
    D = 2^(l − log_blowup), or a tall hiding table's n + n/F at l = log(n·blowup)) and the two
    combined F_p^4 polynomials — 8 base columns — are extended to the coset instead of every
    column: the values are the same field elements, for 1/2^log_blowup of the combining work
    and no LDE in memory. ``points_of(l)`` must be the height's bit-reversed coset
    (coset_shift(l)), the rows ntt's coset LDE produces.

    The division is done on the coefficients too: when the claimed values are the combined
    polynomials' own, A(ζ) = Σ c_i f_i(ζ) (an honest prover's always are), A(X) − A(ζ) is
    divisible by X − ζ, and D = (A − A(ζ))/(X − ζ) + (B − B(ζω))/(X − ζω) is one F_p^4
    polynomial (``divided_by_linears``, both divisions in one pass): one 4-column extension, no inversion at the LDE's
    points. (x ≠ ζ, ζω on the coset, which lies in F_p while ζ, ζω do not: same values.)
    Other claims (a forced proof) take the pointwise formula, as the verifier does."""
    from .domain import coset_shift
    from .ntt import coset_lde_from_coefficients

    def part_of(l, points, z_next, members):
        terms, claimed_local, claimed_next = _deep_terms(members, coeffs)
        nonzero = max(m.shape[0] for m, _c in terms)  # coefficient rows (hiding, tall: n + n/F of D = 2n)
        log_d = (max(1 << (l - log_blowup), nonzero) - 1).bit_length()  # padded to 2^log_d ≤ 2^l: evaluated at 2^(l − log_d)
        combined = _combined_rows(terms, 0, 1 << log_d)  # [A | B] coefficients, (2^log_d, 8), 0 from row ``nonzero`` on
        q = divided_by_linears(combined, np.stack([zeta, z_next]), np.stack([claimed_local, claimed_next]), nonzero)
        if q is not None:
            return coset_lde_from_coefficients(q, l - log_d, coset_shift(l))
        num = coset_lde_from_coefficients(combined, l - log_d, coset_shift(l))
        x = points()  # the coset's points: only this pointwise formula reads them
        part = np.empty((len(x), 4), dtype=np.uint32)
        for lo in range(0, len(x), DEEP_CHUNK_ROWS):
            hi = min(len(x), lo + DEEP_CHUNK_ROWS)
            part[lo:hi] = _deep_quotients(num[lo:hi], x[lo:hi], zeta, z_next, claimed_local, claimed_next)
        return part

    return _sum_by_height(entries, points_of, part_of)


def divided_by_linears(a: np.ndarray, points: np.ndarray, claimed: np.ndarray, rows: int | None = None) -> np.ndarray | None:
    """The coefficients (D, 4) of q = Σ_g (A_g(X) − A_g(z_g))/(X − z_g) over the F_p^4
    polynomials A_g = Σ_i a[i, 4g:4g + 4]·X^i (a: (D, 4m), points z_g: (m, 4); deg q < D − 1,
    its top coefficient 0), or None unless every A_g(z_g) = claimed[g]. ``rows``: a's rows from
    there on are zero (not read).

    Synthetic division (Horner from the top, ``_divide_by_linears``), all m at once in one pass:
    r_D = 0, r_k = a_k + z·r_(k+1) = Σ_(i≥k) a_i z^(i−k); then q_k = r_(k+1) and r_0 = A(z)
    (zero rows give r = 0: the loop starts at ``rows``)."""
    a = np.ascontiguousarray(a, dtype=np.uint32)
    points = np.ascontiguousarray(np.asarray(points, dtype=np.uint32).reshape(-1, 4), dtype=np.uint64)
    rows = a.shape[0] if rows is None else min(int(rows), a.shape[0])
    q = np.empty((a.shape[0], 4), dtype=np.uint32)
    at = np.empty((points.shape[0], 4), dtype=np.uint32)
    _divide_by_linears(a, points, rows, q, at)
    return q if np.array_equal(at, np.asarray(claimed, dtype=np.uint32).reshape(-1, 4)) else None


@njit(cache=True, nogil=True)
def _divide_by_linears(a, points, rows, q, at):
    # q[k] = Σ_g r_g,(k+1), at[g] = r_g,0 (divided_by_linears): per coefficient and point one
    # F_p^4 product and sum; rows from ``rows`` on are zero, so are their r and q
    m = points.shape[0]
    q[rows:] = 0
    if m == 2:  # the prover's ζ and ζω: both running values in registers, two independent chains
        _divide_by_two_linears(a, points, rows, q, at)
        return
    r = np.zeros((m, 4), dtype=np.uint64)
    for k in range(rows - 1, -1, -1):
        s0, s1, s2, s3 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
        for g in range(m):
            r0, r1, r2, r3 = r[g, 0], r[g, 1], r[g, 2], r[g, 3]
            s0, s1, s2, s3 = f_add(s0, r0), f_add(s1, r1), f_add(s2, r2), f_add(s3, r3)
            r0, r1, r2, r3 = mul4(points[g, 0], points[g, 1], points[g, 2], points[g, 3], r0, r1, r2, r3)
            c = 4 * g
            r[g, 0], r[g, 1] = f_add(r0, np.uint64(a[k, c])), f_add(r1, np.uint64(a[k, c + 1]))
            r[g, 2], r[g, 3] = f_add(r2, np.uint64(a[k, c + 2])), f_add(r3, np.uint64(a[k, c + 3]))
        q[k, 0], q[k, 1], q[k, 2], q[k, 3] = s0, s1, s2, s3
    for g in range(m):
        at[g, 0], at[g, 1], at[g, 2], at[g, 3] = r[g, 0], r[g, 1], r[g, 2], r[g, 3]


@inner
def _divide_by_two_linears(a, points, rows, q, at):
    # _divide_by_linears for two points, r_0 and r_1 in local variables (the general loop's
    # array of them waits on a store and a load each row: ~1.4× the time)
    y0, y1, y2, y3 = points[0, 0], points[0, 1], points[0, 2], points[0, 3]
    z0, z1, z2, z3 = points[1, 0], points[1, 1], points[1, 2], points[1, 3]
    r0, r1, r2, r3 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
    t0, t1, t2, t3 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
    for k in range(rows - 1, -1, -1):
        q[k, 0], q[k, 1], q[k, 2], q[k, 3] = f_add(r0, t0), f_add(r1, t1), f_add(r2, t2), f_add(r3, t3)
        r0, r1, r2, r3 = mul4(y0, y1, y2, y3, r0, r1, r2, r3)
        t0, t1, t2, t3 = mul4(z0, z1, z2, z3, t0, t1, t2, t3)
        r0, r1 = f_add(r0, np.uint64(a[k, 0])), f_add(r1, np.uint64(a[k, 1]))
        r2, r3 = f_add(r2, np.uint64(a[k, 2])), f_add(r3, np.uint64(a[k, 3]))
        t0, t1 = f_add(t0, np.uint64(a[k, 4])), f_add(t1, np.uint64(a[k, 5]))
        t2, t3 = f_add(t2, np.uint64(a[k, 6])), f_add(t3, np.uint64(a[k, 7]))
    at[0, 0], at[0, 1], at[0, 2], at[0, 3] = r0, r1, r2, r3
    at[1, 0], at[1, 1], at[1, 2], at[1, 3] = t0, t1, t2, t3


def _groups(entries: list) -> list:
    """(height, ζω, members) of each (height, ζω) group of ``entries``, tallest height first."""
    out = []
    for l in sorted({e[0] for e in entries}, reverse=True):
        groups: dict[bytes, tuple[np.ndarray, list]] = {}  # ζω's bytes → (ζω, its members)
        for ll, z_next, member in entries:
            if ll == l:
                groups.setdefault(z_next.tobytes(), (z_next, []))[1].append(member)
        out += [(l, z_next, members) for z_next, members in groups.values()]
    return out


def _sum_by_height(entries: list, points_of, part_of) -> dict:
    """Σ over the (height, ζω) groups of ``entries`` of part_of(height, points, ζω, members), per
    height; ``points()`` gives the height's points_of, computed once and only when asked."""
    out: dict[int, np.ndarray] = {}
    points: dict[int, np.ndarray] = {}

    def points_at(l: int):
        return lambda: points[l] if l in points else points.setdefault(l, points_of(l))

    for l, z_next, members in _groups(entries):
        part = part_of(l, points_at(l), z_next, members)
        out[l] = part if l not in out else ext.ext_add(out[l], part)
    return out


def split_by_height(layout: tuple, rows: dict, open_local: dict, open_next: dict, height_of: dict, z_next) -> list:
    """One table's (layout, rows, openings) cut into deep_codewords entries, one per LDE height
    its groups live on (``height_of``: group → log LDE size)."""
    local, nxt = layout
    entries = []
    for l in sorted(set(height_of.values()), reverse=True):
        names = [g for g in local if height_of[g] == l]
        member = (({g: local[g] for g in names}, {g: nxt[g] for g in names if g in nxt}), rows, open_local, open_next)
        entries.append((l, z_next, member))
    return entries
