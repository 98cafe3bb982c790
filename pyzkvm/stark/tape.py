"""The constraint evaluator: an AIR's expression DAG, flattened to a tape and run by numba.

Every evaluation of constraints or bus values goes through ``run``:

* the prover's quotient: Σ_i α^i·C_i(x) on every point of the quotient domain (base columns);
* the debug check: each constraint's value on every row of the plain trace;
* the LogUp columns and the machine's derived multiplicities: each bus value per row;
* the verifier's check at ζ: Σ_i α^i·C_i(ζ) at one point, where every leaf is in F_p^4.

A tape is built once per (AIR, roots, where): ``where`` is "rows" (main and preprocessed
columns are base-field columns, selectors are per-row base columns) or "point" (one point
ζ ∉ H: every column value and selector is an F_p^4 value). Node k of the tape is

    op[k]  a leaf: LOAD_*(a[k] = column or slot, b[k] = 0 this row / 1 next row)
           or an operation on earlier nodes a[k], b[k], typed by its operands:
           B = base value (lane 0 only), E = F_p^4 value (4 lanes)
           DENOM: α − (bus + Σ_j γ^(j+1)·v_j), arguments dargs[dstart[k]:dstart[k+1]]

and ``run`` walks it instruction by instruction over blocks of rows (``block_rows``: 256 at a time; runs of
blocks side by side on the thread pool, pool.parallel_for, when there are enough of them; one
point or a few rows run on the calling thread), so a block's node values stay in cache: each value lives in rows of
one (slots, block) uint32 buffer, a row reused once its value is dead (``assign_slots``), so
the buffer holds only the values alive at once (the SHA compression chip's 6,165 nodes need
1,446 rows: 1.5 MB per block, against 50 MB for four uint64 lanes per node). Each operation
is a loop over the block's rows, written so that LLVM vectorises it: canonical values < p;
sums, differences and negations on uint32 lanes with one conditional subtraction as an unsigned
min (field.f_add_u32 / f_sub_u32: 8 lanes per AVX2 instruction, not 4 uint64), base products
reduced by Barrett's method with 32-bit multiplies only and one correction (field.f_mul_u32),
F_p^4 products likewise in uint64 (ext.mul4_vec: AVX2 has no 64-bit multiply-high, which ``%``
needs); the
LogUp fingerprints and the Σ α^i·C_i sum the halves of their products apart and reduce once
per lane (delayed reduction, field.f_split / f_join_vec), four base arguments at a time
(_add_quad: four products fit a uint64 before the split).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ..lazy_njit import njit

from .._jit import inner

from . import ext
from .air import LEAF_KINDS, CompiledAir
from .ext import W, mul4_vec
from .field import P, f_add_u32, f_join_small, f_join_vec, f_mul_u32, f_split, f_sub_u32
from .pool import parallel_for
from .gc_pause import without_cycle_collection

_P = np.uint64(P)
#: rows per block: BLOCK (against 128: ~5 % less CPU on a prove's tapes, each node's loop
#: overhead spread over twice the rows: bench/results/tape.md), or SMALL_BLOCK for a tape
#: whose value buffer would pass BLOCK_BUFFER_BYTES at BLOCK rows (the keccak permutation's
#: 6,404 slots, 6.6 MB: 12 % slower at 256 rows than at 128)
BLOCK, SMALL_BLOCK, BLOCK_BUFFER_BYTES = 256, 128, 4 << 20
SELECTORS = ("is_first_row", "is_last_row", "is_transition")

# leaves (a: column or slot, b: row offset 0/1)
L_MAIN_B, L_MAIN_E, L_PREP_B, L_PREP_E, L_AUX, L_SEL_B, L_CONST_B, L_CONST_E = range(8)
# operations, by operand types (an E·B operation is stored with its operands swapped)
ADD_BB, ADD_BE, ADD_EE, SUB_BB, SUB_BE, SUB_EB, SUB_EE, MUL_BB, MUL_BE, MUL_EE, NEG_B, NEG_E, DENOM = range(8, 21)


@dataclass
class Tape:
    """A flattened DAG for one set of roots, evaluated "rows" or at a "point"."""

    op: np.ndarray
    a: np.ndarray
    b: np.ndarray
    is_ext: np.ndarray        # per node: an F_p^4 value
    dstart: np.ndarray        # denominator arguments: dargs[dstart[k]:dstart[k+1]] (node indices)
    dargs: np.ndarray
    roots: np.ndarray         # tape node of each root
    slot: np.ndarray          # per node: its first row in the block's value buffer (4 rows if F_p^4)
    nslots: int               # rows of that buffer: the most values alive at once (assign_slots)
    constants: list           # the constant slots: ("const", v) | ("public", i) | ("challenge", i) | ("cumsum",) | ("sel", name)
    where: str


@without_cycle_collection
def build_tape(compiled: CompiledAir, roots: list, where: str = "rows") -> Tape:
    """Flatten the nodes ``roots`` (Exprs of compiled's DAG) need, in topological order."""
    at_point = where == "point"
    nodes = compiled.builder.nodes
    roots = [nodes[r.index] for r in roots]  # the DAG's own nodes (a stored key names them by index)
    needed, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node.index not in needed:
            needed.add(node.index)
            if node.op not in LEAF_KINDS:
                stack.extend(node.args)
    order = sorted(needed)
    pos = {idx: k for k, idx in enumerate(order)}
    n = len(order)
    # Python lists while filling (a numpy item write costs ~10× a list's), arrays at the end
    op, a, b = [0] * n, [0] * n, [0] * n
    is_ext = [False] * n
    dstart = [0] * (n + 1)
    dargs: list[int] = []
    constants: list[tuple] = []
    slot_of: dict[tuple, int] = {}

    def const_slot(key) -> int:
        if key not in slot_of:
            slot_of[key] = len(constants)
            constants.append(key)
        return slot_of[key]

    for k, idx in enumerate(order):
        node, args = nodes[idx], nodes[idx].args
        dstart[k] = len(dargs)
        if node.op in ("main", "prep"):
            base_op = L_MAIN_B if node.op == "main" else L_PREP_B
            op[k], a[k], b[k], is_ext[k] = base_op + at_point, int(args[0]), int(args[1]), at_point
        elif node.op == "aux":
            op[k], a[k], b[k], is_ext[k] = L_AUX, int(args[0]), int(args[1]), True
        elif node.op == "sel" and not at_point:
            op[k], a[k] = L_SEL_B, SELECTORS.index(args)
        elif node.op in ("const", "public"):
            op[k], a[k] = L_CONST_B, const_slot((node.op, args))
        elif node.op in ("challenge", "cumsum", "sel"):
            op[k], a[k], is_ext[k] = L_CONST_E, const_slot((node.op, args)), True
        elif node.op == "denom":
            op[k], is_ext[k] = DENOM, True
            dargs.extend(pos[x.index] for x in args)
        elif node.op == "neg":
            x = pos[args[0].index]
            op[k], a[k], is_ext[k] = (NEG_E if is_ext[x] else NEG_B), x, is_ext[x]
        else:
            x, y = pos[args[0].index], pos[args[1].index]
            ex, ey = is_ext[x], is_ext[y]
            is_ext[k] = ex or ey
            if node.op == "sub":
                op[k] = (SUB_EE if ey else SUB_EB) if ex else (SUB_BE if ey else SUB_BB)
            else:  # add and mul commute: keep a base operand first
                if ex and not ey:
                    x, y, ex, ey = y, x, False, True
                kinds = {"add": (ADD_BB, ADD_BE, ADD_EE), "mul": (MUL_BB, MUL_BE, MUL_EE)}[node.op]
                op[k] = kinds[int(ex) + int(ey)]
            a[k], b[k] = x, y
    dstart[n] = len(dargs)
    op_arr, a_arr, b_arr = (np.array(x, dtype=np.int64) for x in (op, a, b))
    is_ext_arr, dstart_arr = np.array(is_ext, dtype=np.bool_), np.array(dstart, dtype=np.int64)
    dargs_arr = np.array(dargs, dtype=np.int64)
    root_nodes = np.array([pos[r.index] for r in roots], dtype=np.int64)
    slot, nslots = assign_slots(op_arr, a_arr, b_arr, is_ext_arr, dstart_arr, dargs_arr, root_nodes)
    return Tape(op_arr, a_arr, b_arr, is_ext_arr, dstart_arr, dargs_arr, root_nodes, slot, nslots, constants, where)


_LEAVES = (L_MAIN_B, L_MAIN_E, L_PREP_B, L_PREP_E, L_AUX, L_SEL_B, L_CONST_B, L_CONST_E)


def assign_slots(op, a, b, is_ext, dstart, dargs, roots) -> tuple:
    """Rows of the block's value buffer for each node, reused once a value is dead.

    A node's value is needed until its last reader (roots until the block's end), so a linear
    scan hands each node a free row (four consecutive rows for an F_p^4 value) and takes back
    its operands' rows after their last use. The buffer then holds only the values alive at
    once — for the CPU table 1/3 of its nodes — so one block's working set stays in cache.
    A node's own rows are taken before its operands' are freed: a result never overwrites an
    operand it is still reading."""
    n = len(op)
    ops, xs, ys, ext_of = op.tolist(), a.tolist(), b.tolist(), is_ext.tolist()  # Python ints: a fast loop
    starts, args = dstart.tolist(), dargs.tolist()
    last = list(range(n))  # a value nobody reads dies where it is made
    for k in range(n):
        o = ops[k]
        if o == DENOM:
            for x in args[starts[k]:starts[k + 1]]:
                last[x] = k
        elif o in _LEAVES:
            continue
        elif o == NEG_B or o == NEG_E:
            last[xs[k]] = k
        else:
            last[xs[k]] = k
            last[ys[k]] = k
    for r in roots.tolist():
        last[r] = n  # the roots are read after the last node (combined or copied out)
    dying: list[list[int]] = [[] for _ in range(n + 1)]
    for k in range(n):
        dying[last[k]].append(k)
    free: tuple[list[int], list[int]] = ([], [])  # free rows of base values / first rows of free F_p^4 groups
    slot = [0] * n
    top = 0
    for k in range(n):
        pool = free[ext_of[k]]
        if pool:
            slot[k] = pool.pop()
        else:
            slot[k] = top
            top += 4 if ext_of[k] else 1
        for x in dying[k]:
            free[ext_of[x]].append(slot[x])
    return np.array(slot, dtype=np.int64), max(top, 1)


def tape_for(compiled: CompiledAir, roots: list, where: str = "rows") -> Tape:
    """The tape of ``roots`` (Exprs of compiled's DAG), built once per compiled AIR."""
    cache = compiled.__dict__.setdefault("_tapes", {})
    key = (tuple(r.index for r in roots), where)
    if key not in cache:
        cache[key] = build_tape(compiled, roots, where)
    return cache[key]


def with_denominators(values: Tape, interactions: list) -> Tape:
    """A tape whose roots are LogUp's denominators α − (bus + Σ_j γ^(j+1)·v_j), one DENOM node
    per interaction, then the interactions' multiplicities, from ``values``: the tape of every
    interaction's values and multiplicity (logup.interaction_exprs; a stored prover key has
    it, not the DAG). ``interactions``: (bus id, index of its first value among values' roots,
    number of values) each, its multiplicity the root after them. The DENOM nodes are the
    DAG's own (air.AirBuilder.denominator: the bus as a constant, then the values), so the
    same values; each value now dies in its DENOM, so the block's buffer shrinks too."""
    op, a, b, is_ext = values.op.tolist(), values.a.tolist(), values.b.tolist(), values.is_ext.tolist()
    dstart, dargs = values.dstart.tolist()[:-1], values.dargs.tolist()
    constants = list(values.constants)
    roots = values.roots.tolist()
    denominators = []
    for bus, first, count in interactions:
        if ("const", bus) not in constants:
            constants.append(("const", bus))
        bus_node = len(op)  # a leaf of the bus id, then the DENOM of it and the values
        for kind, x, ext4, args in ((L_CONST_B, constants.index(("const", bus)), False, []),
                                    (DENOM, 0, True, [bus_node, *roots[first:first + count]])):
            dstart.append(len(dargs))
            dargs.extend(args)
            op.append(kind)
            a.append(x)
            b.append(0)
            is_ext.append(ext4)
        denominators.append(len(op) - 1)
    dstart.append(len(dargs))
    op_arr, a_arr, b_arr, dstart_arr, dargs_arr = (np.array(x, dtype=np.int64) for x in (op, a, b, dstart, dargs))
    is_ext_arr = np.array(is_ext, dtype=np.bool_)
    new_roots = np.array(denominators + [roots[first + count] for _bus, first, count in interactions], dtype=np.int64)
    slot, nslots = assign_slots(op_arr, a_arr, b_arr, is_ext_arr, dstart_arr, dargs_arr, new_roots)
    return Tape(op_arr, a_arr, b_arr, is_ext_arr, dstart_arr, dargs_arr, new_roots, slot, nslots, constants, values.where)


def prune(tape: Tape, roots: list) -> Tape:
    """``tape`` with the given roots (its node indices) and only the nodes they read: a tape
    for a subset of another's roots (logup.subset_tape), without the DAG."""
    n = len(tape.op)
    needed = np.zeros(n, dtype=np.bool_)
    needed[roots] = True
    ops, xs, ys = tape.op.tolist(), tape.a.tolist(), tape.b.tolist()
    for k in range(n - 1, -1, -1):  # topological order: a node's readers come after it
        if not needed[k] or ops[k] in _LEAVES:
            continue
        if ops[k] == DENOM:
            needed[tape.dargs[tape.dstart[k]:tape.dstart[k + 1]]] = True
        else:
            needed[xs[k]] = True
            needed[ys[k]] |= ops[k] not in (NEG_B, NEG_E)
    keep = np.flatnonzero(needed)
    index = np.full(n, -1, dtype=np.int64)
    index[keep] = np.arange(len(keep))
    op = tape.op[keep]
    operation = ~np.isin(op, _LEAVES) & (op != DENOM)  # a, b name nodes (b: not for a negation)
    a = np.where(operation, index[tape.a[keep]], tape.a[keep])
    b = np.where(operation & (op != NEG_B) & (op != NEG_E), index[tape.b[keep]], tape.b[keep])
    dstart = np.concatenate([[0], np.cumsum(np.diff(tape.dstart)[keep])]).astype(np.int64)
    dargs = index[np.concatenate([tape.dargs[tape.dstart[k]:tape.dstart[k + 1]] for k in keep.tolist()]
                                 + [np.zeros(0, dtype=np.int64)])].astype(np.int64)
    new_roots = index[np.asarray(roots, dtype=np.int64)]
    is_ext = tape.is_ext[keep]
    slot, nslots = assign_slots(op, a, b, is_ext, dstart, dargs, new_roots)
    return Tape(op, a, b, is_ext, dstart, dargs, new_roots, slot, nslots, tape.constants, tape.where)


@dataclass
class Inputs:
    """The leaf values. "rows": main/prep are base (rows, w) matrices, aux an (rows, a, 4)
    matrix, ``selectors`` a (count, 3) base matrix; row r's "next row" is r + step (wrapping
    at the matrix's height). "point": main/prep/aux are (2, w, 4) — the values at ζ and at
    ζω — and the selectors a dict of F_p^4 values."""

    main: np.ndarray
    prep: np.ndarray | None
    aux: np.ndarray | None
    public: np.ndarray
    challenges: np.ndarray | None = None   # (2, 4): α_bus, γ_bus
    cumsum: np.ndarray | None = None
    selectors: np.ndarray | Mapping[str, np.ndarray] | None = None  # rows: a matrix; point: name → value
    step: int = 1
    #: the matrix row of logical row r's "next row", per r (logical row r is matrix row r):
    #: the prover's quotient evaluates a bit-reversed LDE block in its stored order — a block
    #: of rows reads adjacent memory — so point i's next point i + step is matrix row
    #: rev(rev(r) + step). None: r + step, wrapping at the matrix's height.
    next_row: np.ndarray | None = None


def _constant_table(tape: Tape, inputs: Inputs) -> np.ndarray:
    k = np.zeros((max(len(tape.constants), 1), 4), dtype=np.uint32)
    for slot, key in enumerate(tape.constants):
        kind = key[0]
        arg: Any = key[1] if len(key) > 1 else None  # an int, a selector's name, or none ("cumsum",)
        if kind == "const":
            k[slot, 0] = arg
        elif kind == "public":
            k[slot, 0] = int(inputs.public[arg]) % P
        elif kind == "challenge":
            assert inputs.challenges is not None, "a tape that reads the bus challenges needs them"
            k[slot] = inputs.challenges[arg]
        elif kind == "cumsum":
            k[slot] = ext.ZERO if inputs.cumsum is None else inputs.cumsum
        else:  # a selector's value at the point
            assert isinstance(inputs.selectors, Mapping), "at a point the selectors are a name → value map"
            k[slot] = inputs.selectors[arg]
    return k


_EMPTY2 = np.zeros((1, 0), dtype=np.uint32)
_EMPTY3 = np.zeros((1, 0, 4), dtype=np.uint32)
_NO_NEXT_ROW = np.zeros(0, dtype=np.int64)


def run(tape: Tape, inputs: Inputs, count: int, alpha_powers: np.ndarray | None = None, row0: int = 0,
        out: np.ndarray | None = None) -> np.ndarray:
    """Evaluate the tape on rows row0..row0+count−1 of the matrices (1 at a point); the
    selectors given are those of exactly these rows.

    With ``alpha_powers`` (one F_p^4 per root): returns Σ_i alpha_powers[i]·root_i, (count, 4).
    Without: every root's value, (roots, lanes, count) uint32, written to ``out`` if given:
    lanes = 1 when every root is a base-field value (constraints, bus values), else 4 (a base
    root then has lanes 1–3 zero)."""
    point = tape.where == "point"
    as_u32 = lambda m, empty: empty if m is None else np.ascontiguousarray(m, dtype=np.uint32)  # noqa: E731
    main_b = _EMPTY2 if point else as_u32(inputs.main, _EMPTY2)
    prep_b = _EMPTY2 if point else as_u32(inputs.prep, _EMPTY2)
    main_e = as_u32(inputs.main, _EMPTY3) if point else _EMPTY3
    prep_e = as_u32(inputs.prep, _EMPTY3) if point else _EMPTY3
    aux = as_u32(inputs.aux, _EMPTY3)
    sel = np.zeros((1, 3), dtype=np.uint32) if point else as_u32(inputs.selectors, None)
    consts = _constant_table(tape, inputs)
    next_row = _NO_NEXT_ROW if inputs.next_row is None else np.ascontiguousarray(inputs.next_row, dtype=np.int64)
    ch = np.zeros((2, 4), np.uint32) if inputs.challenges is None else np.asarray(inputs.challenges, np.uint32)
    width = int(np.diff(tape.dstart).max(initial=0))
    gpows = ext.ext_powers(ch[1], width + 1)  # γ^0 … γ^width
    combine = alpha_powers is not None
    apows = np.ascontiguousarray(alpha_powers if combine else np.zeros((len(tape.roots), 4)), dtype=np.uint32)
    if combine:
        out = np.zeros((0, 4, count), dtype=np.uint32)
    elif out is None:
        out = np.zeros((len(tape.roots), root_lanes(tape), count), dtype=np.uint32)
    assert combine or (out.shape[0] == len(tape.roots) and out.shape[2] == count and out.shape[1] >= root_lanes(tape))
    acc = np.empty((count if combine else 0, 4), dtype=np.uint32)  # every row written (_rows_join)
    args = (tape.op, tape.a, tape.b, tape.is_ext, tape.slot, tape.nslots, tape.dstart, tape.dargs, main_b, prep_b,
            main_e, prep_e, aux, sel, consts, ch[0], gpows, int(inputs.step), next_row, int(row0), int(count), tape.roots,
            apows, combine, acc, out)
    # blocks side by side on the thread pool, each chunk a run of whole blocks (one point, the
    # verifier's, or a few rows: one call on this thread)
    block = block_rows(tape.nslots)
    parallel_for(_run_blocks, (count + block - 1) // block, *args, block, work_per_item=block * len(tape.op))
    return acc if combine else out


def block_rows(nslots: int) -> int:
    """Rows per block for a tape whose values take ``nslots`` rows of the block's buffer."""
    return BLOCK if nslots * BLOCK * 4 <= BLOCK_BUFFER_BYTES else SMALL_BLOCK


def root_lanes(tape: Tape) -> int:
    """Lanes of run's output per root: 1 when every root is a base-field value, else 4."""
    return 4 if tape.is_ext[tape.roots].any() else 1


@inner
def _load_row(nrows, next_row, r, off, step):
    # the matrix row holding logical row r (off = 0) or its next row (off = 1)
    if off == 1 and next_row.shape[0] > 0:
        return next_row[r]
    i = r + off * step
    return i - nrows if i >= nrows else i


# --- the row loops: one small kernel per loop shape -------------------------------------------
# Each operation of the tape is one of a handful of loops over a block's rows (v's rows are
# the operands). Compiling each loop once, as its own small function that _run_blocks calls,
# instead of spelling it out in every branch of _run_blocks' dispatch (about 40 loops, each inlined
# with its field arithmetic and vectorised by LLVM with alias checks and a remainder loop),
# cuts the tape's compile time several-fold; a call per node per block costs nothing
# measurable beside the loop it runs.


@inner
def _rows_load(v, d, src, next_row, row, col, off, step, m):
    # v[d, i] = column col of logical row row + i (+ off·step)
    nrows = src.shape[0]
    dst = v[d]
    first = row + off * step
    if (off == 0 or next_row.shape[0] == 0) and first + m <= nrows:  # rows first … first + m − 1
        for i in range(m):
            dst[i] = src[first + i, col]
    else:
        for i in range(m):
            dst[i] = src[_load_row(nrows, next_row, row + i, off, step), col]


@inner
def _rows_fill(v, d, c, m):
    for i in range(m):
        v[d, i] = c


@inner
def _rows_copy(v, d, x, m):
    for i in range(m):
        v[d, i] = v[x, i]


@inner
def _rows_add(v, d, x, y, m):
    for i in range(m):
        v[d, i] = f_add_u32(v[x, i], v[y, i])


@inner
def _rows_sub(v, d, x, y, m):
    for i in range(m):
        v[d, i] = f_sub_u32(v[x, i], v[y, i])


@inner
def _rows_neg(v, d, x, m):
    for i in range(m):
        v[d, i] = f_sub_u32(np.uint32(0), v[x, i])


@inner
def _rows_mul(v, d, x, y, m):
    for i in range(m):
        v[d, i] = f_mul_u32(v[x, i], v[y, i])


@inner
def _rows_mul4(v, d, sx, sy, m):
    # rows d..d+3 of v = (rows sx..sx+3) · (rows sy..sy+3) in F_p^4
    x0, x1, x2, x3 = v[sx], v[sx + 1], v[sx + 2], v[sx + 3]
    y0, y1, y2, y3 = v[sy], v[sy + 1], v[sy + 2], v[sy + 3]
    d0, d1, d2, d3 = v[d], v[d + 1], v[d + 2], v[d + 3]
    for i in range(m):
        d0[i], d1[i], d2[i], d3[i] = mul4_vec(x0[i], x1[i], x2[i], x3[i], y0[i], y1[i], y2[i], y3[i])


@inner
def _rows_sub_joined(v, d, aj, scratch, j, m, few):
    # v[d, i] = aj − (hi·2^32 + lo) mod p, lo = scratch[j, i], hi = scratch[4 + j, i]: a
    # delayed-reduction sum of ``few`` (≤ 3) additions or more, reduced and subtracted
    a = np.uint32(aj)
    lo = scratch[j]
    hi = scratch[4 + j]
    if few:
        for i in range(m):
            v[d, i] = f_sub_u32(a, f_join_small(lo[i], hi[i]))
    else:
        for i in range(m):
            v[d, i] = f_sub_u32(a, f_join_vec(lo[i], hi[i]))


@inner
def _rows_join(acc, lo_sum, hi_sum, lo, m):
    # acc[lo + i, j] = the reduced sum of lane j (delayed-reduction halves)
    for j in range(4):
        for i in range(m):
            acc[lo + i, j] = f_join_vec(lo_sum[j, i], hi_sum[j, i])


@inner
def _rows_load4(v, d, src3, next_row, row, col, off, step, m):
    # rows d..d+3 of v = the F_p^4 column col of logical row row + i (+ off·step)
    d0, d1, d2, d3 = v[d], v[d + 1], v[d + 2], v[d + 3]
    first = row + off * step
    if (off == 0 or next_row.shape[0] == 0) and first + m <= src3.shape[0]:  # rows first … first + m − 1
        for i in range(m):
            d0[i], d1[i], d2[i], d3[i] = src3[first + i, col, 0], src3[first + i, col, 1], src3[first + i, col, 2], \
                src3[first + i, col, 3]
    else:
        for i in range(m):
            r = _load_row(src3.shape[0], next_row, row + i, off, step)
            d0[i], d1[i], d2[i], d3[i] = src3[r, col, 0], src3[r, col, 1], src3[r, col, 2], src3[r, col, 3]


@inner
def _rows_sel(v, d, sel, lo, col, m):
    for i in range(m):
        v[d, i] = sel[lo + i, col]


@njit(cache=True, nogil=True)
def _run_blocks(op, a, b, is_ext, slot, nslots, dstart, dargs, main_b, prep_b, main_e, prep_e, aux, sel, consts, alpha,
                gpows, step, next_row, row0, count, roots, apows, combine, acc, out, block, blk0, blk1):
    """Blocks blk0..blk1−1 of ``block`` rows, with one value buffer v (slots, block): canonical
    values < p, stored as uint32 (half the cache of uint64), computed in uint64. Per block,
    every node of the tape on its m rows: node k's value is row slot[k] of v (rows
    slot[k]..slot[k]+3, one per coefficient, for an F_p^4 value); each operation is one or
    four calls of a row loop (_rows_*) given v and the rows it reads and writes (passing row
    numbers, not row views, keeps this dispatch small to compile). One function, not a block evaluator called per block:
    numba optimises every callee's code again inside each caller, so each level of calls
    costs compile time."""
    v = np.zeros((nslots, block), dtype=np.uint32)
    scratch = np.zeros((8, block), dtype=np.uint64)  # the LogUp denominators' accumulators
    lo_sum = np.zeros((4, block), dtype=np.uint64)  # Σ α^q·root_q per lane, delayed reduction
    hi_sum = np.zeros((4, block), dtype=np.uint64)
    # the terms of each DENOM and of Σ α^q·root_q, four products at a time (_plan_quads,
    # _add_quad), their coefficients from the tables of γ^0 … γ^width and of the α^q (_coefficients)
    gz = _coefficients(gpows)
    az = _coefficients(apows)
    # a denominator's constant arguments (the bus id, fixed values: a third of the CPU table's)
    # are folded into its α once (_folded_alpha) and left out of the row loops (kind 2)
    kind = np.zeros(op.shape[0], dtype=np.int64)  # per node: 0 base, 1 F_p^4, 2 a base constant
    for k in range(op.shape[0]):
        kind[k] = 2 if op[k] == L_CONST_B else (1 if is_ext[k] else 0)
    dq_start, dq_pos, dq_slot = _plan_quads(dstart, dargs, kind, slot, gpows.shape[0])
    dalpha = _folded_alpha(op, a, dstart, dargs, consts, gpows, alpha)
    all_roots = np.zeros(2, dtype=np.int64)  # one group: every root
    all_roots[1] = roots.shape[0]
    for k in range(op.shape[0]):  # Σ α^q·root_q: every root's value is summed
        kind[k] = 1 if is_ext[k] else 0
    rq_start, rq_pos, rq_slot = _plan_quads(all_roots, roots, kind, slot, apows.shape[0])
    zero = np.uint64(0)
    for blk in range(blk0, blk1):
        lo = blk * block
        m = min(block, count - lo)
        row = row0 + lo  # the block's first matrix row (selector row lo)
        for k in range(op.shape[0]):
            o = op[k]
            x = a[k]
            y = b[k]
            d = slot[k]
            if o == L_MAIN_B or o == L_PREP_B:
                src = main_b if o == L_MAIN_B else prep_b
                _rows_load(v, d, src, next_row, row, x, y, step, m)
            elif o == L_MAIN_E or o == L_PREP_E or o == L_AUX:
                _rows_load4(v, d, main_e if o == L_MAIN_E else (prep_e if o == L_PREP_E else aux), next_row, row, x,
                            y, step, m)
            elif o == L_SEL_B:
                _rows_sel(v, d, sel, lo, x, m)
            elif o == L_CONST_B or o == L_CONST_E:
                for j in range(4 if o == L_CONST_E else 1):
                    _rows_fill(v, d + j, consts[x, j], m)
            elif o == ADD_BB or o == ADD_BE or o == ADD_EE:
                sx, sy = slot[x], slot[y]
                for j in range(4 if o != ADD_BB else 1):
                    if j == 0 or o == ADD_EE:  # lane 0, or both operands in F_p^4
                        _rows_add(v, d + j, sx + j, sy + j, m)
                    else:  # base + F_p^4: lanes 1–3 are the F_p^4 operand's
                        _rows_copy(v, d + j, sy + j, m)
            elif o == SUB_BB or o == SUB_BE or o == SUB_EB or o == SUB_EE:
                sx, sy = slot[x], slot[y]
                for j in range(1 if o == SUB_BB else 4):
                    if j == 0 or o == SUB_EE:
                        _rows_sub(v, d + j, sx + j, sy + j, m)
                    elif o == SUB_BE:  # 0 − y_j
                        _rows_neg(v, d + j, sy + j, m)
                    else:  # SUB_EB: x_j
                        _rows_copy(v, d + j, sx + j, m)
            elif o == MUL_BB or o == MUL_BE:
                sx, sy = slot[x], slot[y]
                for j in range(4 if o == MUL_BE else 1):
                    _rows_mul(v, d + j, sx, sy + j, m)
            elif o == MUL_EE:
                _rows_mul4(v, d, slot[x], slot[y], m)
            elif o == NEG_B or o == NEG_E:
                sx = slot[x]
                for j in range(4 if o == NEG_E else 1):
                    _rows_neg(v, d + j, sx + j, m)
            else:  # DENOM: α − (bus + Σ_j γ^(j+1)·v_j), bus = the first argument
                # delayed reduction: a base value times γ^g is four products < 2^62, whose low and
                # high 32-bit halves are summed apart (field.f_split) in acc_lo/acc_hi (4 lanes
                # each) and reduced once per lane; argument by argument, so each loop vectorises
                acc_lo = scratch[:4]
                acc_hi = scratch[4:]
                acc_lo[:, :m] = zero
                acc_hi[:, :m] = zero
                # γ^0 for the bus id, γ^(j+1) for value j; one addition into each half per quad
                for q in range(dq_start[k], dq_start[k + 1]):
                    _add_quad(gz, dq_pos[q], v, dq_slot[q], m, acc_lo, acc_hi)
                for j in range(4):
                    _rows_sub_joined(v, d + j, np.uint64(dalpha[k, j]), scratch, j, m, dq_start[k + 1] - dq_start[k] <= 3)
        if combine:  # Σ_q α^q·root_q on the block's rows, as unreduced halves, then reduced
            lo_sum[:, :m] = zero
            hi_sum[:, :m] = zero
            for q in range(rq_start[1]):
                _add_quad(az, rq_pos[q], v, rq_slot[q], m, lo_sum, hi_sum)
            _rows_join(acc, lo_sum, hi_sum, lo, m)
            continue
        for q in range(roots.shape[0]):
            r = roots[q]
            for j in range(4 if is_ext[r] else 1):
                src = v[slot[r] + j]
                dst = out[q, j]
                at = np.uint64(lo)  # an unsigned index: no wraparound test per element (numba)
                for i in range(m):
                    dst[at + np.uint64(i)] = src[i]


@inner
def _coefficients(c):
    """The coefficient rows _add_quad reads for k constants c_q ∈ F_p^4, (5k + 1, 4): rows
    0 … k−1 are the c_q (a base x: c_q·x is four products); rows k + 4q + j are c_q's
    multiplication matrix (an F_p^4 x: lane l of c_q·x is Σ_j row[k + 4q + j][l]·x_j, with
    row[j][l] = c_(l−j) for j ≤ l, else W·c_(l−j+4) (X^4 = W, ext.py) — four products per
    lane, like four base terms); the last row is zeros (a quad's missing terms)."""
    k = c.shape[0]
    out = np.zeros((5 * k + 1, 4), dtype=np.uint32)
    for q in range(k):
        for j in range(4):
            out[q, j] = c[q, j]
            for lane in range(4):
                out[k + 4 * q + j, lane] = c[q, lane - j] if j <= lane else f_mul_u32(c[q, lane - j + 4], np.uint32(W))
    return out


@inner
def _folded_alpha(op, a, dstart, dargs, consts, gpows, alpha):
    """Per DENOM node k: α − Σ_t γ^t·c_t over its arguments t that are base constants c_t
    (leaves L_CONST_B), so the row loops sum only the others: (nodes, 4), other rows unused."""
    out = np.zeros((op.shape[0], 4), dtype=np.uint32)
    for k in range(op.shape[0]):
        if op[k] != DENOM:
            continue
        for j in range(4):
            out[k, j] = alpha[j]
        for t in range(dstart[k], dstart[k + 1]):
            z = dargs[t]
            if op[z] == L_CONST_B:
                for j in range(4):
                    out[k, j] = f_sub_u32(out[k, j], f_mul_u32(gpows[t - dstart[k], j], consts[a[z], 0]))
    return out


@inner
def _plan_quads(starts, items, kind, slot, k):
    """The terms of each group items[starts[g] : starts[g + 1]] (the nodes whose c·x it sums,
    c the group's t-th coefficient for its t-th node), four products at a time: quad q of
    group g (q in qstart[g] … qstart[g + 1] − 1) reads the values in slots qslot[q] with the
    coefficient rows qpos[q] of _coefficients' table of k constants. Base nodes (kind 0) are
    packed four to a quad; an F_p^4 node (kind 1) is one quad (its four lanes, its matrix's
    rows); kind 2: left out (summed by the caller)."""
    groups = starts.shape[0] - 1
    qstart = np.zeros(groups + 1, dtype=np.int64)
    for g in range(groups):
        base, ext4 = 0, 0
        for t in range(starts[g], starts[g + 1]):
            ext4 += kind[items[t]] == 1
            base += kind[items[t]] == 0
        qstart[g + 1] = qstart[g] + (base + 3) // 4 + ext4
    qpos = np.empty((qstart[groups], 4), dtype=np.int64)
    qslot = np.zeros((qstart[groups], 4), dtype=np.int64)
    for g in range(groups):
        for q in range(qstart[g], qstart[g + 1]):
            for u in range(4):
                qpos[q, u] = 5 * k  # the zero row: a missing term
        q, u = qstart[g], 0
        for t in range(starts[g], starts[g + 1]):
            if kind[items[t]] == 0:
                qpos[q, u] = t - starts[g]
                qslot[q, u] = slot[items[t]]
                u += 1
                if u == 4:
                    q, u = q + 1, 0
        if u > 0:  # the last base quad's missing terms: the zero row, any slot (the first's)
            for w in range(u, 4):
                qslot[q, w] = qslot[q, 0]
            q += 1
        for t in range(starts[g], starts[g + 1]):
            if kind[items[t]] == 1:
                for j in range(4):
                    qpos[q, j] = k + 4 * (t - starts[g]) + j
                    qslot[q, j] = slot[items[t]] + j
                q += 1
    return qstart, qpos, qslot


@inner
def _add_quad(coefs, pos, v, s, m, lo, hi):
    # lo/hi += Σ_t c_t·x_t on the block's m rows, for four base x_t (slots s_t) and
    # c_t = coefs[pos_t] ∈ F_p^4: per lane the four products (each ≤ (p − 1)² < 2^61.82) sum
    # below 2^64, so one split (field.f_split) per four terms, and one pass over the rows for
    # all four lanes (each x read once). Measured on the CPU table: ~2× one term at a time
    x0, x1, x2, x3 = v[s[0]], v[s[1]], v[s[2]], v[s[3]]
    k0, k1, k2, k3 = coefs[pos[0]], coefs[pos[1]], coefs[pos[2]], coefs[pos[3]]
    c00, c01, c02, c03 = np.uint64(k0[0]), np.uint64(k0[1]), np.uint64(k0[2]), np.uint64(k0[3])
    c10, c11, c12, c13 = np.uint64(k1[0]), np.uint64(k1[1]), np.uint64(k1[2]), np.uint64(k1[3])
    c20, c21, c22, c23 = np.uint64(k2[0]), np.uint64(k2[1]), np.uint64(k2[2]), np.uint64(k2[3])
    c30, c31, c32, c33 = np.uint64(k3[0]), np.uint64(k3[1]), np.uint64(k3[2]), np.uint64(k3[3])
    lo0, lo1, lo2, lo3 = lo[0], lo[1], lo[2], lo[3]
    hi0, hi1, hi2, hi3 = hi[0], hi[1], hi[2], hi[3]
    for i in range(m):
        y0, y1, y2, y3 = np.uint64(x0[i]), np.uint64(x1[i]), np.uint64(x2[i]), np.uint64(x3[i])
        _add_halves(lo0, hi0, i, c00 * y0 + c10 * y1 + c20 * y2 + c30 * y3)
        _add_halves(lo1, hi1, i, c01 * y0 + c11 * y1 + c21 * y2 + c31 * y3)
        _add_halves(lo2, hi2, i, c02 * y0 + c12 * y1 + c22 * y2 + c32 * y3)
        _add_halves(lo3, hi3, i, c03 * y0 + c13 * y1 + c23 * y2 + c33 * y3)


@inner
def _add_halves(lo, hi, i, z):
    # lo[i] += z's low 32 bits, hi[i] += its high bits (field.f_split)
    pl, ph = f_split(z)
    lo[i] += pl
    hi[i] += ph


def plain_inputs(trace, prep, public, aux=None, challenges=None, cumsum=None) -> Inputs:
    """The leaves on a table's plain trace (the trace domain H itself): "next row" is row + 1,
    cyclically. ``aux``: (n, a, 4) LogUp columns, if built."""
    from .domain import plain_selectors

    sel = plain_selectors(np.shape(trace)[0])
    # (column_stack writes each column in one pass: np.stack(axis=1) took ~10× as long on 2^16 rows)
    return Inputs(trace, prep, aux, np.asarray(public, dtype=np.uint32), challenges, cumsum,
                  np.column_stack([sel[s] for s in SELECTORS]).astype(np.uint32, copy=False), 1)


#: rows per call when every root's value is kept (bounds the (roots, 4, rows) output)
CHUNK_ROWS = 1 << 13


def root_values(tape: Tape, inputs: Inputs, count: int, on_chunk) -> None:
    """Every root's value on rows 0..count−1, handed out chunk by chunk:
    on_chunk(lo, values (roots, lanes, rows), as ``run`` returns them); keeps memory at one
    chunk's values. The chunks share one buffer (a fresh one of MBs costs its page faults
    each time): on_chunk must be done with its values when it returns. (A base root's lanes
    1–3, which ``run`` leaves alone, stay zero: the buffer is zeroed when made.)"""
    assert isinstance(inputs.selectors, np.ndarray), "on rows the selectors are a (rows, 3) matrix"
    shape = (len(tape.roots), root_lanes(tape), min(CHUNK_ROWS, count))
    buffer = np.zeros(shape, dtype=np.uint32)
    for lo in range(0, count, CHUNK_ROWS):
        m = min(CHUNK_ROWS, count - lo)
        part = Inputs(inputs.main, inputs.prep, inputs.aux, inputs.public, inputs.challenges, inputs.cumsum,
                      inputs.selectors[lo:lo + m], inputs.step, inputs.next_row)
        out = buffer if m == shape[2] else np.zeros((*shape[:2], m), dtype=np.uint32)  # a short last chunk
        on_chunk(lo, run(tape, part, m, row0=lo, out=out))


def base_columns(tape: Tape, inputs: Inputs, count: int) -> np.ndarray:
    """(roots, count) uint32: the value of every root — base-field expressions — on every row
    (one run, written in place: no chunk of four-lane values to copy out)."""
    assert root_lanes(tape) == 1, "base_columns evaluates base-field expressions"
    out = np.empty((len(tape.roots), 1, count), dtype=np.uint32)
    run(tape, inputs, count, out=out)
    return out[:, 0, :]
