"""The verifier's constraint check at one point: a constraint tape evaluated with numpy.

The verifier evaluates Σ_i α^i·C_i(ζ) once per table, at a single out-of-domain point where
every leaf (column values at ζ and ζω, selectors, challenges) is in F_p^4. That is one row, so
the prover's numba evaluator (tape.run, built for blocks of thousands of rows) buys nothing
here and costs a kernel load — or, on a cold cache, seconds of compiling — on every verify.
This module runs the same tape (tape.build_tape, ``where="point"``) with numpy instead,
vectorised across the tape's nodes rather than along rows:

* every node gets a **level**: leaves are level 0, an operation is 1 + the highest level of
  its operands, so all nodes of one level depend only on lower levels;
* level by level, the nodes are evaluated in at most three numpy batches: additions,
  subtractions and negations together (x ± y, a negation being 0 − x), products (one F_p^4
  multiplication for all of them: a base value is an F_p^4 value with zero lanes 1–3), and
  LogUp denominators α − Σ_j γ^j·v_j (all their arguments at once, summed per node with
  ``np.add.reduceat``).

A value is 4 uint64 lanes < p (a base value has lanes 1–3 zero), so the products of two
lanes are < 2^62 and are reduced before they are added: no sum can overflow 64 bits.
The levels of a tape are computed once (``tape_levels``) and can be stored with it (the
verifying key's stored form, verifier_key.py); the batches are built once per tape.
"""

from __future__ import annotations

import numpy as np

from .ext import ext_powers, mul_rows as ext_mul_rows
from .field import P
from .tape import (ADD_BB, ADD_BE, ADD_EE, DENOM, L_AUX, L_CONST_B, L_CONST_E, L_MAIN_E, L_PREP_E, MUL_BB, MUL_BE,
                   MUL_EE, NEG_B, NEG_E, SUB_BB, SUB_BE, SUB_EB, SUB_EE, Inputs, Tape, _constant_table, tape_for)

_P = np.uint64(P)
_LINEAR = (ADD_BB, ADD_BE, ADD_EE, SUB_BB, SUB_BE, SUB_EB, SUB_EE, NEG_B, NEG_E)
_SUBTRACT = (SUB_BB, SUB_BE, SUB_EB, SUB_EE, NEG_B, NEG_E)
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


class PointProgram:
    """A point tape's nodes grouped into numpy batches, level by level (module docstring)."""

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
        order = np.argsort(levels, kind="stable")
        bounds = np.searchsorted(levels[order], np.arange(1, int(levels.max(initial=0)) + 2))
        is_lin, is_sub, is_mul = np.isin(op, _LINEAR), np.isin(op, _SUBTRACT), np.isin(op, _MUL)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            nodes = order[lo:hi]
            lin = nodes[is_lin[nodes]]
            neg = np.isin(op[lin], (NEG_B, NEG_E))
            # x ± y; a negation is (zero row n) − x
            lin_x = np.where(neg, n, tape.a[lin])
            lin_y = np.where(neg, tape.a[lin], tape.b[lin])
            mul = nodes[is_mul[nodes]]
            den = nodes[op[nodes] == DENOM]
            counts = tape.dstart[den + 1] - tape.dstart[den]
            arg_pos = np.concatenate([np.arange(tape.dstart[k], tape.dstart[k + 1]) for k in den]) if den.size else \
                np.zeros(0, dtype=np.int64)
            power = arg_pos - np.repeat(tape.dstart[den], counts)  # γ^0 for the bus id, γ^(j+1) for value j
            starts = (np.cumsum(counts) - counts).astype(np.int64)  # each node's first argument
            self.steps.append((lin, lin_x, lin_y, is_sub[lin], mul, tape.a[mul], tape.b[mul], den,
                               tape.dargs[arg_pos], power, starts))
        self.max_power = int(np.diff(tape.dstart).max(initial=0))

    def fill_leaves(self, v: np.ndarray, offset: int, inputs: Inputs) -> None:
        """Write this tape's leaf values (column values at ζ / ζω, constants) into rows
        offset.. of the value array v."""
        for kind, matrix in ((L_MAIN_E, inputs.main), (L_PREP_E, inputs.prep), (L_AUX, inputs.aux)):
            k, row, col = self.leaves[kind]
            if k.size:
                v[k + offset] = np.asarray(matrix, dtype=np.uint64)[row, col]
        k, slot = self.consts
        if k.size:
            v[k + offset] = _constant_table(self.tape, inputs)[slot]

    def combine(self, inputs: Inputs, alpha_powers: np.ndarray) -> np.ndarray:
        """Σ_i alpha_powers[i]·root_i at the point, a (4,) uint32 F_p^4 value."""
        return evaluate_programs([self], [inputs], [alpha_powers])[0]


class _Batches:
    """Several PointPrograms' batches joined level by level (node k of program j is row
    offset_j + k of one value array; the shared zero row is the last), so a verifier's tables
    cost one numpy batch per level and kind, not one per table."""

    def __init__(self, programs: tuple):
        offsets = np.cumsum([0] + [p.n for p in programs])
        zero = int(offsets[-1])
        self.n, self.offsets = zero, offsets[:-1].tolist()
        self.steps = []
        for level in range(max(len(p.steps) for p in programs)):
            parts = [(p.steps[level], off, p.n) for p, off in zip(programs, self.offsets) if level < len(p.steps)]
            cat = lambda f, parts=parts: np.concatenate([f(st, off, n) for st, off, n in parts])  # noqa: E731
            args_before = np.cumsum([0] + [len(st[8]) for st, _, _ in parts])
            starts = np.concatenate([st[10] + a for (st, _, _), a in zip(parts, args_before)])
            self.steps.append((
                cat(lambda st, off, n: st[0] + off), cat(lambda st, off, n: np.where(st[1] == n, zero, st[1] + off)),
                cat(lambda st, off, n: st[2] + off), cat(lambda st, off, n: st[3]),
                cat(lambda st, off, n: st[4] + off), cat(lambda st, off, n: st[5] + off),
                cat(lambda st, off, n: st[6] + off), cat(lambda st, off, n: st[7] + off),
                cat(lambda st, off, n: st[8] + off), cat(lambda st, off, n: st[9]), starts.astype(np.int64)))
        self.roots = np.concatenate([p.tape.roots + off for p, off in zip(programs, self.offsets)])
        self.root_counts = [len(p.tape.roots) for p in programs]
        self.max_power = max(p.max_power for p in programs)


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
    v = np.zeros((joined.n + 1, 4), dtype=np.uint64)  # the last row stays zero (negations read it)
    for p, off, inputs in zip(programs, joined.offsets, inputs_list):
        p.fill_leaves(v, off, inputs)
    first = inputs_list[0].challenges
    challenges = np.zeros((2, 4), np.uint64) if first is None else np.asarray(first, dtype=np.uint64)
    if any(not np.array_equal(np.asarray(i.challenges, dtype=np.uint64) if i.challenges is not None else
                              np.zeros((2, 4), np.uint64), challenges) for i in inputs_list):
        raise ValueError("evaluate_programs: every table must use the same bus challenges")
    alpha, gpows = challenges[0], ext_powers(challenges[1], joined.max_power + 1).astype(np.uint64)
    for lin, lin_x, lin_y, sub, mul, mul_x, mul_y, den, den_args, power, starts in joined.steps:
        if lin.size:  # x + y, x − y, 0 − x
            y = v[lin_y]
            v[lin] = (v[lin_x] + np.where(sub[:, None], _P - y, y)) % _P
        if mul.size:
            v[mul] = ext_mul_rows(v[mul_x], v[mul_y])
        if den.size:  # α − (bus + Σ_j γ^(j+1)·v_j)
            sums = np.add.reduceat(ext_mul_rows(gpows[power], v[den_args]), starts, axis=0) % _P
            v[den] = (alpha + _P - sums) % _P
    powers = np.concatenate([np.asarray(a, dtype=np.uint64).reshape(-1, 4) for a in alpha_powers_list])
    terms = ext_mul_rows(powers, v[joined.roots])
    out, at = [], 0
    for count in joined.root_counts:  # each table's Σ (terms < p: 2^33 of them fit in uint64)
        out.append((terms[at:at + count].sum(axis=0) % _P).astype(np.uint32))
        at += count
    return out


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
