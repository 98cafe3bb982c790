"""The one constraint evaluator (tape.py) computes what the DAG means, checked against a
plain Python-int interpreter written here (an independent reference: ints mod p and the
schoolbook F_p^4 product of tests/ext_reference.py), on six machine AIRs that between them
have every node kind (selectors, public values, aux columns, challenges, LogUp
denominators), on rows (base columns) and at a point (F_p^4)."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.machine import machine_airs
from pyzkvm.machine.statement import NUM_PUBLIC_VALUES
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, ext, tape
from pyzkvm.stark.field import P
from pyzkvm.stark.keys import compile_for
from tests.ext_reference import rmul

AIRS = {a.name: a for a in machine_airs()}


def reference(c, roots, leaf) -> list:
    """Each root's value (a 4-list over F_p) by walking the DAG node by node with Python ints."""
    val = {}
    for node in c.builder.nodes:
        op, a = node.op, node.args
        if op in ("main", "prep", "aux", "public", "challenge", "cumsum", "sel", "const"):
            v = leaf(op, a)
        elif op == "add":
            v = [(x + y) % P for x, y in zip(val[a[0].index], val[a[1].index])]
        elif op == "sub":
            v = [(x - y) % P for x, y in zip(val[a[0].index], val[a[1].index])]
        elif op == "mul":
            v = rmul(val[a[0].index], val[a[1].index])
        elif op == "neg":
            v = [(-x) % P for x in val[a[0].index]]
        else:  # denom: α − (bus + Σ_j γ^(j+1) v_j)
            alpha, gamma = leaf("challenge", 0), leaf("challenge", 1)
            fp, g = list(val[a[0].index]), [1, 0, 0, 0]
            for x in a[1:]:
                g = rmul(g, gamma)
                fp = [(p + q) % P for p, q in zip(fp, rmul(g, val[x.index]))]
            v = [(p - q) % P for p, q in zip(alpha, fp)]
        val[node.index] = v
    return [val[r.index] for r in roots]


def as_ext(x) -> list:
    return [int(v) for v in np.ravel(x)] if np.size(x) == 4 else [int(x) % P, 0, 0, 0]


def random_point(c, rand) -> tuple:
    """Random values at a point for every leaf of c's DAG (columns and selectors in F_p^4):
    (tape.Inputs, at_point), where at_point(op, a) is the same leaf's value for ``reference``."""
    w, wp, wa = c.air.width, c.air.preprocessed_width, c.num_aux_columns
    public, challenges, cumsum = rand(NUM_PUBLIC_VALUES), rand(2, 4), rand(4)
    main, prep, aux, sel = rand(2, w, 4), rand(2, wp, 4), rand(2, wa, 4), rand(3, 4)
    sels = dict(zip(tape.SELECTORS, sel))
    groups = {"main": main, "prep": prep, "aux": aux}

    def at_point(op, a):
        if op in groups:
            return as_ext(groups[op][a[1], a[0]])
        return {"public": lambda: as_ext(public[a]), "challenge": lambda: as_ext(challenges[a]),
                "cumsum": lambda: as_ext(cumsum), "sel": lambda: as_ext(sels[a]), "const": lambda: as_ext(a)}[op]()

    return tape.Inputs(main, prep if wp else None, aux if wa else None, public, challenges, cumsum, sels), at_point


@pytest.mark.parametrize("name", ["cpu", "program", "alu divrem", "syscall", "journal words", "memory boundary"])
def test_tape_matches_the_reference_at_a_point_and_on_rows(name):
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS[name])
    rng = np.random.default_rng(7)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    w, wp, wa = c.air.width, c.air.preprocessed_width, c.num_aux_columns
    inputs, at_point = random_point(c, rand)
    public, challenges, cumsum = inputs.public, inputs.challenges, inputs.cumsum
    roots = [x.expr for x in c.all_constraints]
    alpha_pows = ext.ext_powers(rand(4), len(roots))

    want = reference(c, roots, at_point)
    got = tape.run(tape.build_tape(c, roots, "point"), inputs, 1)[:, :, 0]
    assert got.tolist() == want
    combined = [0, 0, 0, 0]
    for pw, v in zip(alpha_pows, want):
        combined = [(x + y) % P for x, y in zip(combined, rmul(as_ext(pw), v))]
    assert tape.run(tape.build_tape(c, roots, "point"), inputs, 1, alpha_pows)[0].tolist() == combined
    assert any(any(v) for v in want)  # random leaves do not satisfy the constraints

    # on rows: main/prep base columns, per-row selectors; row r's next row is r + 1 (cyclic)
    n = 4
    main_r, prep_r, aux_r, sel_r = rand(n, w), rand(n, wp), rand(n, wa, 4), rand(n, 3)
    inputs = tape.Inputs(main_r, prep_r if wp else None, aux_r if wa else None, public, challenges, cumsum, sel_r)
    got = tape.run(tape.build_tape(c, roots), inputs, n)
    for r in range(n):
        rows = {"main": main_r, "prep": prep_r, "aux": aux_r}

        def on_row(op, a, r=r, rows=rows):
            if op in rows:
                return as_ext(rows[op][(r + a[1]) % n, a[0]])
            if op == "sel":
                return as_ext(sel_r[r, tape.SELECTORS.index(a)])
            return at_point(op, a)

        assert got[:, :, r].tolist() == reference(c, roots, on_row)


def test_next_row_map_reads_a_bit_reversed_matrix_in_stored_order():
    # the prover's quotient: matrix row j holds point rev(j) and "next row" is Inputs.next_row[j]
    # = rev(rev(j) + 1); row j's values must be point rev(j)'s values in natural order
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    rng = np.random.default_rng(8)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    n, w, wa = 8, c.air.width, c.num_aux_columns
    main, aux, sel = rand(n, w), rand(n, wa, 4), rand(n, 3)
    public, challenges, cumsum = rand(NUM_PUBLIC_VALUES), rand(2, 4), rand(4)
    roots = [x.expr for x in c.all_constraints]
    tp = tape.build_tape(c, roots)
    natural = tape.run(tp, tape.Inputs(main, None, aux, public, challenges, cumsum, sel), n)
    assert c.air.preprocessed_width == 0
    rev = np.array([int(f"{j:03b}"[::-1], 2) for j in range(n)])
    stored = tape.Inputs(main[rev], None, aux[rev], public, challenges, cumsum, sel[rev],
                         next_row=rev[(rev + 1) % n])
    assert tape.run(tp, stored, n).tolist() == natural[:, :, rev].tolist()
    alpha_pows = ext.ext_powers(rand(4), len(roots))  # and Σ α^i C_i, rows permuted the same way
    plain = tape.Inputs(main, None, aux, public, challenges, cumsum, sel)
    assert tape.run(tp, stored, n, alpha_pows).tolist() == tape.run(tp, plain, n, alpha_pows)[rev].tolist()


def test_base_roots_come_out_in_one_lane():
    # the main constraints and bus values are base-field expressions: run gives them one lane
    # (the reference's lane 0; its other lanes are zero), and base_columns is that lane
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    rng = np.random.default_rng(9)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    n, w = 8, c.air.width
    main, sel, public = rand(n, w), rand(n, 3), rand(NUM_PUBLIC_VALUES)
    roots = [x.expr for x in c.constraints]
    tp = tape.build_tape(c, roots)
    assert tape.root_lanes(tp) == 1 and tape.root_lanes(tape.build_tape(c, [x.expr for x in c.all_constraints])) == 4
    got = tape.run(tp, tape.Inputs(main, None, None, public, None, None, sel), n)
    assert got.shape == (len(roots), 1, n)
    for r in range(n):
        def on_row(op, a, r=r):
            if op == "main":
                return as_ext(main[(r + a[1]) % n, a[0]])
            if op in ("sel", "public", "const"):
                return as_ext(sel[r, tape.SELECTORS.index(a)] if op == "sel" else public[a] if op == "public" else a)
            return [0, 0, 0, 0]  # the bus argument's leaves: no main constraint reads them

        want = reference(c, roots, on_row)
        assert [v[1:] for v in want] == [[0, 0, 0]] * len(roots)
        assert got[:, 0, r].tolist() == [v[0] for v in want]
    assert tape.base_columns(tp, tape.Inputs(main, None, None, public, None, None, sel), n).tolist() == got[:, 0].tolist()


def test_the_denominator_tape_is_the_dag_s_denominators_and_multiplicities():
    # logup.denominator_tape builds its DENOM nodes onto the interaction values' tape (a stored
    # key has no DAG): the same values as the DAG's own denominator nodes and multiplicities
    from pyzkvm.stark.logup import denominator_tape

    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    rng = np.random.default_rng(10)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    n, w = 8, c.air.width
    inputs = tape.Inputs(rand(n, w), None, None, rand(NUM_PUBLIC_VALUES), rand(2, 4), None, rand(n, 3))
    count = len(c.builder.nodes)
    dag = [c.builder.denominator(it.bus, it.values) for it in c.interactions]  # (the existing nodes)
    assert len(c.builder.nodes) == count
    want = tape.run(tape.build_tape(c, dag + [it.multiplicity for it in c.interactions]), inputs, n)
    assert tape.run(denominator_tape(c), inputs, n).tolist() == want.tolist()


@pytest.mark.parametrize("small_blocks", [False, True])
def test_rows_across_blocks_are_each_row_s_values(monkeypatch, small_blocks):
    # run walks the rows block by block (tape.block_rows: BLOCK rows, SMALL_BLOCK for a tape
    # whose buffer would pass BLOCK_BUFFER_BYTES): two whole blocks and a partial one, every
    # root's values and Σ α^i C_i, equal row by row to one-row runs (a single partial block),
    # and, at the rows about a block's edge and the last row (its next row wraps), to the
    # Python reference
    if small_blocks:
        monkeypatch.setattr(tape, "BLOCK_BUFFER_BYTES", 0)
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    rng = np.random.default_rng(11)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    roots = [x.expr for x in c.all_constraints]
    tp = tape.build_tape(c, roots)
    block = tape.block_rows(tp.nslots)
    assert block == (tape.SMALL_BLOCK if small_blocks else tape.BLOCK)
    n, w, wa = 2 * block + 5, c.air.width, c.num_aux_columns
    main, aux, sel = rand(n, w), rand(n, wa, 4), rand(n, 3)
    public, challenges, cumsum = rand(NUM_PUBLIC_VALUES), rand(2, 4), rand(4)
    alpha_pows = ext.ext_powers(rand(4), len(roots))
    inputs = tape.Inputs(main, None, aux, public, challenges, cumsum, sel)
    values, combined = tape.run(tp, inputs, n), tape.run(tp, inputs, n, alpha_pows)
    for r in (0, block - 1, block, block + 1, 2 * block, n - 1):
        one = tape.Inputs(main, None, aux, public, challenges, cumsum, sel[r:r + 1])
        assert tape.run(tp, one, 1, row0=r)[:, :, 0].tolist() == values[:, :, r].tolist()
        assert tape.run(tp, one, 1, alpha_pows, row0=r)[0].tolist() == combined[r].tolist()
    for r in (block - 1, block, n - 1):
        def on_row(op, a, r=r):
            if op == "main":
                return as_ext(main[(r + a[1]) % n, a[0]])
            if op == "aux":
                return as_ext(aux[(r + a[1]) % n, a[0]])
            if op == "sel":
                return as_ext(sel[r, tape.SELECTORS.index(a)])
            return {"public": lambda: as_ext(public[a]), "challenge": lambda: as_ext(challenges[a]),
                    "cumsum": lambda: as_ext(cumsum), "const": lambda: as_ext(a)}[op]()

        want = reference(c, roots, on_row)
        assert values[:, :, r].tolist() == want
        total = [0, 0, 0, 0]
        for pw, v in zip(alpha_pows, want):
            total = [(x + y) % P for x, y in zip(total, rmul(as_ext(pw), v))]
        assert combined[r].tolist() == total
