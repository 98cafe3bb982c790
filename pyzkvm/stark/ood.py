"""The verifier's constraint check at ζ: Σ_i α^i·C_i(ζ) for one table, in one numba pass.

At the out-of-domain point every leaf of the constraint DAG is one F_p^4 value (an opened
column at ζ or ζω, a public value, a challenge, a selector), so evaluating the DAG node by
node with array operations costs one Python call per node — most of the verifier's time for
a machine with thousands of nodes. Instead each compiled AIR's DAG is flattened once into a
**tape** (air.py builds the DAG; this module only re-reads it):

    op[k]   0 leaf: value = leaf table row arg0[k]
            1 add, 2 sub, 3 mul: of nodes arg0[k], arg1[k];   4 neg: of node arg0[k]
            5 denominator α − (bus + Σ_j γ^(j+1)·v_j): its argument nodes are
              dargs[dstart[k]:dstart[k+1]] = [bus, v_0, v_1, ...]

and the leaf table of one proof is the stack of every leaf's value:

    [main at ζ | main at ζω | prep at ζ | prep at ζω | aux at ζ | aux at ζω | public values
     | α_bus, γ_bus | cumsum | is_first_row, is_last_row, is_transition | constants]

``run_tape`` walks the tape once and returns Σ_i α^i·C_i(ζ) over the constraint roots. It
computes exactly what air.evaluate_constraints computes in OOD mode (tests/stark/test_ood.py
compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import ext
from .air import LEAF_KINDS, CompiledAir
from .ext import mul4
from .field import f_add, f_sub

_OPS = {"add": 1, "sub": 2, "mul": 3, "neg": 4, "denom": 5}
_SELECTORS = ("is_first_row", "is_last_row", "is_transition")


@dataclass
class Tape:
    op: np.ndarray
    arg0: np.ndarray
    arg1: np.ndarray
    dstart: np.ndarray
    dargs: np.ndarray
    roots: np.ndarray
    constants: np.ndarray      # (c, 4) the constant leaves as F_p^4 values
    widths: tuple              # (main, prep, aux, public) the leaf table was laid out for


def build_tape(c: CompiledAir, num_public_values: int) -> Tape:
    """Flatten the compiled AIR's DAG (all constraints, LogUp ones included) into a tape."""
    air = c.air
    w, wp, wa, npv = air.width, air.preprocessed_width, c.num_aux_columns, num_public_values
    base = {"main": (0, w), "prep": (2 * w, 2 * w + wp), "aux": (2 * w + 2 * wp, 2 * w + 2 * wp + wa)}
    pub = 2 * (w + wp + wa)
    chal, cums, sel = pub + npv, pub + npv + 2, pub + npv + 3
    const0 = sel + 3
    nodes = c.builder.nodes
    n = len(nodes)
    op = np.zeros(n, dtype=np.int64)
    arg0 = np.zeros(n, dtype=np.int64)
    arg1 = np.zeros(n, dtype=np.int64)
    dstart = np.zeros(n + 1, dtype=np.int64)
    dargs, constants = [], []
    for k, node in enumerate(nodes):
        dstart[k] = len(dargs)
        if node.op in LEAF_KINDS:
            a = node.args
            if node.op == "const":
                row = const0 + len(constants)
                constants.append(int(a))
            elif node.op in base:
                col, off = a  # (column, 0 = this row / 1 = next row)
                row = base[node.op][off] + col
            elif node.op == "public":
                row = pub + a
            elif node.op == "challenge":
                row = chal + a
            elif node.op == "cumsum":
                row = cums
            else:  # selector
                row = sel + _SELECTORS.index(a)
            op[k], arg0[k] = 0, row
        elif node.op == "denom":
            op[k] = 5
            dargs.extend(x.index for x in node.args)
        else:
            op[k] = _OPS[node.op]
            arg0[k] = node.args[0].index
            arg1[k] = node.args[-1].index
    dstart[n] = len(dargs)
    roots = np.array([x.expr.index for x in c.all_constraints], dtype=np.int64)
    consts = ext.from_base(np.array(constants, dtype=np.uint32)) if constants else np.zeros((0, 4), np.uint32)
    return Tape(op, arg0, arg1, dstart, np.array(dargs, dtype=np.int64), roots, consts, (w, wp, wa, npv))


def tape_for(c: CompiledAir, num_public_values: int) -> Tape:
    """The AIR's tape, built on first use and kept on the compiled AIR."""
    cached = getattr(c, "_ood_tape", None)
    if cached is None or cached.widths[3] != num_public_values:
        cached = build_tape(c, num_public_values)
        c._ood_tape = cached
    return cached


def leaf_table(tape: Tape, main, prep, aux, public, challenges, cumsum, selectors) -> np.ndarray:
    """Stack one proof's leaf values in the tape's layout (main/prep/aux: (local, next) pairs of
    (width, 4) F_p^4 values; public: base values; selectors: dict of (4,) values)."""
    w, wp, wa, npv = tape.widths
    empty = np.zeros((0, 4), dtype=np.uint32)
    parts = [main[0], main[1], prep[0] if wp else empty, prep[1] if wp else empty,
             aux[0] if wa else empty, aux[1] if wa else empty,
             ext.from_base(np.asarray(public, dtype=np.uint32)).reshape(-1, 4),
             np.asarray(challenges, dtype=np.uint32).reshape(-1, 4)[:2], np.asarray(cumsum, dtype=np.uint32).reshape(1, 4),
             np.stack([np.asarray(selectors[s], dtype=np.uint32).reshape(4) for s in _SELECTORS]), tape.constants]
    return np.ascontiguousarray(np.concatenate([np.asarray(p, dtype=np.uint32).reshape(-1, 4) for p in parts]))


def combined_constraints_at_point(tape: Tape, leaves: np.ndarray, alpha_powers: np.ndarray) -> np.ndarray:
    """Σ_i α^i·C_i at the point the leaves were opened at, as a (4,) F_p^4 value."""
    alpha, gamma = leaves[_chal_row(tape)], leaves[_chal_row(tape) + 1]
    out = np.zeros(4, dtype=np.uint64)
    run_tape(tape.op, tape.arg0, tape.arg1, tape.dstart, tape.dargs, leaves.astype(np.uint64),
             alpha.astype(np.uint64), gamma.astype(np.uint64), tape.roots,
             np.ascontiguousarray(alpha_powers, dtype=np.uint64), out)
    return out.astype(np.uint32)


def _chal_row(tape: Tape) -> int:
    w, wp, wa, npv = tape.widths
    return 2 * (w + wp + wa) + npv


@njit(cache=True)
def run_tape(op, arg0, arg1, dstart, dargs, leaves, alpha, gamma, roots, apows, out):
    """One pass over the tape in F_p^4 (values as 4 uint64 lanes), then out = Σ_i apows[i]·value(roots[i])."""
    n = op.shape[0]
    v = np.zeros((n, 4), dtype=np.uint64)
    for k in range(n):
        o = op[k]
        if o == 0:
            for j in range(4):
                v[k, j] = leaves[arg0[k], j]
        elif o == 1:
            for j in range(4):
                v[k, j] = f_add(v[arg0[k], j], v[arg1[k], j])
        elif o == 2:
            for j in range(4):
                v[k, j] = f_sub(v[arg0[k], j], v[arg1[k], j])
        elif o == 3:
            a, b = arg0[k], arg1[k]
            c0, c1, c2, c3 = mul4(v[a, 0], v[a, 1], v[a, 2], v[a, 3], v[b, 0], v[b, 1], v[b, 2], v[b, 3])
            v[k, 0], v[k, 1], v[k, 2], v[k, 3] = c0, c1, c2, c3
        elif o == 4:
            for j in range(4):
                v[k, j] = f_sub(np.uint64(0), v[arg0[k], j])
        else:
            # α − (bus + Σ_j γ^(j+1)·v_j)
            s, e = dstart[k], dstart[k + 1]
            b = dargs[s]
            f0, f1, f2, f3 = v[b, 0], v[b, 1], v[b, 2], v[b, 3]
            g0, g1, g2, g3 = gamma[0], gamma[1], gamma[2], gamma[3]
            for t in range(s + 1, e):
                x = dargs[t]
                p0, p1, p2, p3 = mul4(g0, g1, g2, g3, v[x, 0], v[x, 1], v[x, 2], v[x, 3])
                f0, f1, f2, f3 = f_add(f0, p0), f_add(f1, p1), f_add(f2, p2), f_add(f3, p3)
                g0, g1, g2, g3 = mul4(g0, g1, g2, g3, gamma[0], gamma[1], gamma[2], gamma[3])
            v[k, 0], v[k, 1] = f_sub(alpha[0], f0), f_sub(alpha[1], f1)
            v[k, 2], v[k, 3] = f_sub(alpha[2], f2), f_sub(alpha[3], f3)
    a0, a1, a2, a3 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
    for i in range(roots.shape[0]):
        r = roots[i]
        p0, p1, p2, p3 = mul4(apows[i, 0], apows[i, 1], apows[i, 2], apows[i, 3], v[r, 0], v[r, 1], v[r, 2], v[r, 3])
        a0, a1, a2, a3 = f_add(a0, p0), f_add(a1, p1), f_add(a2, p2), f_add(a3, p3)
    out[0], out[1], out[2], out[3] = a0, a1, a2, a3
