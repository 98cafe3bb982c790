"""The verifier's constraint check at one point: a constraint tape evaluated with numpy.

The verifier evaluates Σ_i α^i·C_i(ζ) once per table, at a single out-of-domain point where
every leaf (column values at ζ and ζω, selectors, challenges) is in F_p^4. That is one row, so
the prover's numba evaluator (tape.run, built for blocks of thousands of rows) buys nothing
here and costs a kernel load — or, on a cold cache, seconds of compiling — on every verify.
This module runs the same tape (tape.build_tape, ``where="point"``) with numpy instead,
vectorised across the tape's nodes rather than along rows:

* a sum — a chain of additions, subtractions, negations and products by a fixed constant —
  is one node Σ c_t·t over the values it starts from (``linear_schedule``);
* every node gets a **level**: leaves are level 0, an operation is 1 + the highest level of
  its operands (a sum: of its terms), so all nodes of one level depend only on lower levels;
* level by level, the nodes are evaluated in at most three numpy batches: sums (all their
  terms times their coefficients at once, summed per node with ``np.add.reduceat``), products
  (one F_p^4 multiplication for all of them: a base value is an F_p^4 value with zero lanes
  1–3), and LogUp denominators α − Σ_j γ^j·v_j (all their arguments at once, likewise).

A value is 4 uint64 lanes < p (a base value has lanes 1–3 zero), so the products of two
lanes are < 2^62 and are reduced before they are added: no sum can overflow 64 bits.
A tape's plain levels (``tape_levels``, one per operation) are stored with it (the verifying
key's stored form, verifier_key.py: they mark its leaves); the sums' schedule and the batches
are built once per tape.
"""

from __future__ import annotations

import numpy as np

from .ext import ext_powers, mul_rows as ext_mul_rows
from .field import P
from .tape import (SELECTORS, ADD_BB, ADD_BE, ADD_EE, DENOM, L_AUX, L_CONST_B, L_CONST_E, L_MAIN_E, L_PREP_E, MUL_BB, MUL_BE,
                   MUL_EE, NEG_B, NEG_E, SUB_BB, SUB_BE, SUB_EB, SUB_EE, Inputs, Tape, tape_for)

_P = np.uint64(P)
_ZERO4 = np.zeros(4, dtype=np.uint32)
_LINEAR = (ADD_BB, ADD_BE, ADD_EE, SUB_BB, SUB_BE, SUB_EB, SUB_EE, NEG_B, NEG_E)
_MUL = (MUL_BB, MUL_BE, MUL_EE)


def tape_levels(tape: Tape) -> np.ndarray:
    """Level of every node (int32): 0 for leaves, 1 + the highest operand level otherwise."""
    ops, xs, ys = tape.op.tolist(), tape.a.tolist(), tape.b.tolist()
    starts, args = tape.dstart.tolist(), tape.dargs.tolist()
    level = [0] * len(ops)
    for k, o in enumerate(ops):
        if o in _LINEAR or o in _MUL:
            level[k] = 1 + (level[xs[k]] if o in (NEG_B, NEG_E) else max(level[xs[k]], level[ys[k]]))
        elif o == DENOM:
            level[k] = 1 + max(level[x] for x in args[starts[k]:starts[k + 1]])
    return np.array(level, dtype=np.int32)


#: a sum of ± terms is folded into its readers until it has this many terms; then it is
#: computed as a node of its own (schedule: bounds the gathered terms when sums share parts)
MAX_TERMS = 64
_ADD = (ADD_BB, ADD_BE, ADD_EE)
_NEG = (NEG_B, NEG_E)


def linear_schedule(tape: Tape) -> tuple:
    """The tape's evaluation order with its sums collapsed: (level per node, {node: its terms}).

    A chain of additions, subtractions and products by a fixed constant (an AIR's number) is
    linear in the values it starts from, so such a sum node is computed in one step as
    Σ c_t·t over its terms t (other products, denominators, leaves; coefficients c_t mod p,
    e.g. p − 1 for a subtracted term) instead of one level per operation — the constraints'
    long left-deep sums would take dozens of levels, and a product by a constant a full
    F_p^4 product. A sum is
    computed (gets terms and a level: 1 + the highest of its terms') when a product, a LogUp
    denominator or a root reads it, or when it has more than MAX_TERMS terms; otherwise it is
    never computed, its readers take its terms instead. Products and denominators: level 1 +
    the highest of their operands'. Leaves, and sums never computed: level 0."""
    ops, xs, ys = tape.op.tolist(), tape.a.tolist(), tape.b.tolist()
    starts, args = tape.dstart.tolist(), tape.dargs.tolist()
    n = len(ops)
    scale = _constant_factors(tape, ops, xs, ys)  # products by a fixed constant: c·x is linear too
    read = [False] * n  # read by a product, a denominator or as a root: must be computed
    for k, o in enumerate(ops):
        if k in scale:
            continue
        if o in _MUL:
            read[xs[k]] = read[ys[k]] = True
        elif o == DENOM:
            for x in args[starts[k]:starts[k + 1]]:
                read[x] = True
    for r in tape.roots.tolist():
        read[r] = True
    level = [0] * n
    inline: list = [None] * n  # a sum never computed: its terms, which its readers take
    computed = {}
    for k, o in enumerate(ops):
        if o in _LINEAR or k in scale:
            terms: dict = {}
            operands = ((scale[k][0], scale[k][1]),) if k in scale else ((xs[k], P - 1),) if o in _NEG else \
                ((xs[k], 1), (ys[k], 1 if o in _ADD else P - 1))
            for x, c in operands:
                part = inline[x]
                if part is None:
                    terms[x] = (terms.get(x, 0) + c) % P
                else:
                    for t, ct in part.items():
                        terms[t] = (terms.get(t, 0) + c * ct) % P
            if read[k] or len(terms) > MAX_TERMS:
                computed[k] = terms
                level[k] = 1 + max(level[t] for t in terms)
            else:
                inline[k] = terms
        elif o in _MUL:
            level[k] = 1 + max(level[xs[k]], level[ys[k]])
        elif o == DENOM:
            level[k] = 1 + max(level[x] for x in args[starts[k]:starts[k + 1]])
    return np.array(level, dtype=np.int32), computed


def _constant_factors(tape: Tape, ops: list, xs: list, ys: list) -> dict:
    """The products with a fixed constant operand (an AIR's number, not a public value):
    product node → (the other operand, the constant mod p)."""
    fixed = {k: int(key[1]) % P for k, key in enumerate(tape.constants) if key[0] == "const"}
    out = {}
    for k, o in enumerate(ops):
        if o in _MUL:
            for x, y in ((xs[k], ys[k]), (ys[k], xs[k])):
                if ops[x] == L_CONST_B and xs[x] in fixed:  # a constant leaf: xs holds its slot
                    out[k] = (y, fixed[xs[x]])
                    break
    return out


class PointProgram:
    """A point tape's nodes grouped into numpy batches, level by level (module docstring;
    the levels of linear_schedule, where a sum is one step). ``levels``: tape_levels (kept
    for the verifying key's stored form)."""

    def __init__(self, tape: Tape, levels: np.ndarray):
        if tape.where != "point":
            raise ValueError("a PointProgram runs a tape built for a point (where='point')")
        op = tape.op
        n = len(op)
        self.tape, self.levels, self.n = tape, levels, n
        leaf = levels == 0
        # leaves: (node, row 0 = ζ / 1 = ζω, column) per matrix; constants by slot
        self.leaves = {}
        for kind in (L_MAIN_E, L_PREP_E, L_AUX):
            k = np.flatnonzero(leaf & (op == kind))
            self.leaves[kind] = (k, tape.b[k], tape.a[k])
        const = np.flatnonzero(leaf & ((op == L_CONST_B) | (op == L_CONST_E)))
        self.consts = (const, tape.a[const])
        self.steps = []
        schedule, sums = linear_schedule(tape)
        is_sum = np.zeros(n, dtype=bool)
        is_sum[list(sums)] = True
        order = np.argsort(schedule, kind="stable")
        bounds = np.searchsorted(schedule[order], np.arange(1, int(schedule.max(initial=0)) + 2))
        is_mul = np.isin(op, _MUL)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            nodes = order[lo:hi]
            lin = nodes[is_sum[nodes]]
            # each sum's terms and coefficients, joined; term_starts: each sum's first
            terms = [sums[k] for k in lin.tolist()]
            counts = np.array([len(t) for t in terms], dtype=np.int64)
            lin_terms = np.array([t for ts in terms for t in ts], dtype=np.int64)
            lin_coeffs = np.array([c for ts in terms for c in ts.values()], dtype=np.uint64)
            term_starts = (np.cumsum(counts) - counts).astype(np.int64)
            mul = nodes[is_mul[nodes] & ~is_sum[nodes]]  # a product by a fixed constant is a sum
            den = nodes[op[nodes] == DENOM]
            counts = tape.dstart[den + 1] - tape.dstart[den]
            arg_pos = np.concatenate([np.arange(tape.dstart[k], tape.dstart[k + 1]) for k in den]) if den.size else \
                np.zeros(0, dtype=np.int64)
            power = arg_pos - np.repeat(tape.dstart[den], counts)  # γ^0 for the bus id, γ^(j+1) for value j
            starts = (np.cumsum(counts) - counts).astype(np.int64)  # each node's first argument
            self.steps.append((lin, lin_terms, lin_coeffs, term_starts, mul, tape.a[mul], tape.b[mul], den,
                               tape.dargs[arg_pos], power, starts))
        self.max_power = int(np.diff(tape.dstart).max(initial=0))

    def combine(self, inputs: Inputs, alpha_powers: np.ndarray) -> np.ndarray:
        """Σ_i alpha_powers[i]·root_i at the point, a (4,) uint32 F_p^4 value."""
        return evaluate_programs([self], [inputs], [alpha_powers])[0]


class _Batches:
    """Several PointPrograms' batches joined level by level (node k of program j is row
    offset_j + k of one value array), so a verifier's tables cost one numpy batch per level
    and kind, not one per table."""

    def __init__(self, programs: tuple):
        offsets = np.cumsum([0] + [p.n for p in programs])
        self.n, self.offsets = int(offsets[-1]), offsets[:-1].tolist()
        self.steps = []
        for level in range(max(len(p.steps) for p in programs)):
            parts = [(p.steps[level], off, p.n) for p, off in zip(programs, self.offsets) if level < len(p.steps)]
            cat = lambda f, parts=parts: np.concatenate([f(st, off, n) for st, off, n in parts])  # noqa: E731
            args_before = np.cumsum([0] + [len(st[8]) for st, _, _ in parts])
            starts = np.concatenate([st[10] + a for (st, _, _), a in zip(parts, args_before)])
            terms_before = np.cumsum([0] + [len(st[1]) for st, _, _ in parts])
            term_starts = np.concatenate([st[3] + a for (st, _, _), a in zip(parts, terms_before)])
            coeffs = cat(lambda st, off, n: st[2])
            # the nodes written (sums, products, denominators) as indices of v's flat lanes
            self.steps.append((
                _lanes(cat(lambda st, off, n: st[0] + off)), cat(lambda st, off, n: st[1] + off),
                None if np.all(coeffs == 1) else coeffs, term_starts.astype(np.int64),
                _lanes(cat(lambda st, off, n: st[4] + off)), cat(lambda st, off, n: st[5] + off),
                cat(lambda st, off, n: st[6] + off), _lanes(cat(lambda st, off, n: st[7] + off)),
                cat(lambda st, off, n: st[8] + off), cat(lambda st, off, n: st[9]), starts.astype(np.int64)))
        self.roots = np.concatenate([p.tape.roots + off for p, off in zip(programs, self.offsets)])
        self.root_counts = [len(p.tape.roots) for p in programs]
        self.root_starts = np.cumsum([0] + self.root_counts[:-1]).astype(np.int64)
        self.max_power = max(p.max_power for p in programs)
        self.programs = programs
        self._sources: dict = {}  # the leaves' rows in fill's source array, per shape of the inputs

    def fill(self, v: np.ndarray, inputs_list: list) -> None:
        """Every program's leaves (column values at ζ and ζω, constants) in one gather from one
        array of all the inputs' rows (the fixed constants, public values, challenges, LogUp
        sums, selectors, then each table's matrices at ζ and ζω), into rows offset_j.. of v."""
        mats = [(i.main, i.prep, i.aux) for i in inputs_list]
        key = tuple((len(i.public),) + tuple(None if m is None else m.shape for m in ms) for i, ms in zip(inputs_list, mats))
        if key not in self._sources:
            if len(self._sources) >= 8:
                self._sources.pop(next(iter(self._sources)))
            self._sources[key] = self._leaf_sources(key)
        lanes, at, fixed = self._sources[key]
        public = np.concatenate([np.asarray(i.public, dtype=np.uint64).reshape(-1) for i in inputs_list]) % _P
        public4 = np.zeros((public.shape[0], 4), dtype=np.uint64)
        public4[:, 0] = public
        zero = np.zeros((2, 4), dtype=np.uint64)
        parts = [fixed, public4,
                 *[zero if i.challenges is None else np.asarray(i.challenges, dtype=np.uint64) for i in inputs_list],
                 *[np.asarray(_ZERO4 if i.cumsum is None else i.cumsum, dtype=np.uint64).reshape(1, 4) for i in inputs_list],
                 *[np.asarray(i.selectors[name], dtype=np.uint64).reshape(1, 4) if isinstance(i.selectors, dict) and
                   name in i.selectors else zero[:1] for i in inputs_list for name in SELECTORS],
                 *[np.asarray(m, dtype=np.uint64).reshape(-1, 4) for ms in mats for m in ms if m is not None]]
        v.reshape(-1)[lanes] = np.take(np.concatenate(parts), at, axis=0).reshape(-1)

    def _leaf_sources(self, key: tuple) -> tuple:
        """(leaf nodes as flat lane indices (_lanes), their rows in fill's source array, the
        fixed constants (F, 4)) for inputs of these shapes (fill's key)."""
        count = len(self.programs)
        fixed: list = []
        publics = np.cumsum([0] + [k[0] for k in key])  # each table's first public value
        base_public = 0  # fixed constants come first; their count is known once all are seen
        rows_of = []  # (nodes, kind, table, index within its block)
        mat_base, at = [], 0
        for k in key:
            bases = []
            for shape in k[1:]:
                bases.append(at)
                at += 0 if shape is None else int(np.prod(shape[:-1]))
            mat_base.append(bases)
        for j, (p, off) in enumerate(zip(self.programs, self.offsets)):
            for m, kind in enumerate((L_MAIN_E, L_PREP_E, L_AUX)):
                nodes, row, col = p.leaves[kind]
                if nodes.size:
                    width = key[j][1 + m][1]
                    rows_of.append((nodes + off, "mat", mat_base[j][m] + row * width + col))
            nodes, slot = p.consts
            for node, sl in zip(nodes.tolist(), slot.tolist()):
                what = p.tape.constants[sl]
                if what[0] == "const":
                    rows_of.append((np.array([node + off]), "fixed", np.array([len(fixed)])))
                    fixed.append(int(what[1]) % P)
                elif what[0] == "public":
                    rows_of.append((np.array([node + off]), "public", np.array([publics[j] + what[1]])))
                elif what[0] == "challenge":
                    rows_of.append((np.array([node + off]), "challenge", np.array([2 * j + what[1]])))
                elif what[0] == "cumsum":
                    rows_of.append((np.array([node + off]), "cumsum", np.array([j])))
                else:
                    rows_of.append((np.array([node + off]), "sel", np.array([3 * j + SELECTORS.index(what[1])])))
        base_public = len(fixed)
        base = {"fixed": 0, "public": base_public}
        base["challenge"] = base["public"] + int(publics[-1])
        base["cumsum"] = base["challenge"] + 2 * count
        base["sel"] = base["cumsum"] + count
        base["mat"] = base["sel"] + 3 * count
        nodes = np.concatenate([n for n, _k, _i in rows_of]) if rows_of else np.zeros(0, dtype=np.int64)
        at_rows = np.concatenate([base[k] + np.asarray(i, dtype=np.int64) for _n, k, i in rows_of]) if rows_of else \
            np.zeros(0, dtype=np.int64)
        fixed4 = np.zeros((len(fixed), 4), dtype=np.uint64)
        fixed4[:, 0] = fixed
        return _lanes(nodes), at_rows, fixed4


def _lanes(rows: np.ndarray) -> np.ndarray:
    """The flat indices of rows' 4 lanes in a C-order (n, 4) array, row by row."""
    return (np.asarray(rows, dtype=np.int64)[:, None] * 4 + np.arange(4)).reshape(-1)


#: the last few joined batches (a verifier meets the same set of tables again and again)
_JOINED: dict = {}


def evaluate_programs(programs: list, inputs_list: list, alpha_powers_list: list) -> list:
    """Σ_i alpha_powers[i]·root_i of each program at its point, (4,) uint32 each: all tables
    in one pass (_Batches). The tables share the bus challenges (one proof's α, γ)."""
    key = tuple(programs)
    if key not in _JOINED:
        if len(_JOINED) >= 8:
            _JOINED.pop(next(iter(_JOINED)))
        _JOINED[key] = _Batches(key)
    joined = _JOINED[key]
    v = np.zeros((joined.n, 4), dtype=np.uint64)
    joined.fill(v, inputs_list)
    first = inputs_list[0].challenges
    challenges = np.zeros((2, 4), np.uint64) if first is None else np.asarray(first, dtype=np.uint64)
    if any(i.challenges is not first and  # (a verifier's tables share one array)
           not np.array_equal(np.asarray(i.challenges, dtype=np.uint64) if i.challenges is not None else
                              np.zeros((2, 4), np.uint64), challenges) for i in inputs_list):
        raise ValueError("evaluate_programs: every table must use the same bus challenges")
    alpha, gpows = challenges[0], ext_powers(challenges[1], joined.max_power + 1).astype(np.uint64)
    # rows are read with np.take and written through v's flat lanes: numpy's fancy indexing of
    # (n, 4) rows is several times slower than either (~40 vs ~6 µs for 4,000 rows)
    lanes, take = v.reshape(-1), np.take
    for lin, terms, coeffs, term_starts, mul, mul_x, mul_y, den, den_args, power, starts in joined.steps:
        if lin.size:  # sums Σ c_t·t (linear_schedule): each term < p, ≤ 2·MAX_TERMS of them
            t = take(v, terms, axis=0)
            if coeffs is not None:
                t = t * coeffs[:, None] % _P
            lanes[lin] = (np.add.reduceat(t, term_starts, axis=0) % _P).reshape(-1)
        if mul.size:
            lanes[mul] = ext_mul_rows(take(v, mul_x, axis=0), take(v, mul_y, axis=0)).reshape(-1)
        if den.size:  # α − (bus + Σ_j γ^(j+1)·v_j)
            sums = np.add.reduceat(ext_mul_rows(take(gpows, power, axis=0), take(v, den_args, axis=0)), starts,
                                   axis=0) % _P
            lanes[den] = ((alpha + _P - sums) % _P).reshape(-1)
    powers = np.concatenate([np.asarray(a, dtype=np.uint64).reshape(-1, 4) for a in alpha_powers_list])
    terms = ext_mul_rows(powers, take(v, joined.roots, axis=0))
    # each table's Σ (terms < p: 2^33 of them fit in uint64)
    return list((np.add.reduceat(terms, joined.root_starts, axis=0) % _P).astype(np.uint32))


def point_program(compiled) -> PointProgram:
    """The PointProgram of Σ α^i C_i over all of ``compiled``'s constraints, built once per
    compiled AIR (kept on it). A stored verifier view (verifier_key.py) carries its own."""
    program = getattr(compiled, "_point_program", None)
    if program is None:
        tape = tape_for(compiled, [x.expr for x in compiled.all_constraints], "point")
        program = PointProgram(tape, tape_levels(tape))
        compiled._point_program = program
    return program


def constraints_at_point(compiled, inputs: Inputs, alpha_powers: np.ndarray) -> np.ndarray:
    """Σ_i alpha_powers[i]·C_i at the point ``inputs`` describes ((4,) uint32): the value
    tape.run(tape, inputs, 1, alpha_powers)[0] computes, without numba."""
    return point_program(compiled).combine(inputs, alpha_powers)


def constraints_at_points(compiled: list, inputs: list, alpha_powers: list) -> list:
    """constraints_at_point for several tables (sharing the bus challenges) in one pass."""
    return evaluate_programs([point_program(c) for c in compiled], inputs, alpha_powers)
