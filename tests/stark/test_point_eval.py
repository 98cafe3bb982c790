"""The verifier's numpy evaluation at a point (point_eval.py) computes what the DAG means:
checked against test_tape's plain Python-int interpreter on machine AIRs that between them
have every node kind (selectors, public values, aux columns, challenges, LogUp denominators),
and on a blinded AIR (hiding mode's ring interactions)."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.machine.statement import NUM_PUBLIC_VALUES
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, ext, tape
from pyzkvm.stark.blind import blinded
from pyzkvm.stark.field import P
from pyzkvm.stark.keys import compile_for
from pyzkvm.stark.point_eval import constraints_at_point, constraints_at_points, tape_levels
from tests.ext_reference import rmul
from tests.stark.test_tape import AIRS, as_ext, random_point, reference


@pytest.mark.parametrize("name,blind", [("cpu", False), ("program", False), ("alu divrem", False),
                                        ("journal words", False), ("memory boundary", True), ("alu add/sub", True)])
def test_point_evaluation_matches_the_reference(name, blind):
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS[name])
    if blind:
        c = blinded(c, 5)
    inputs, alpha_pows, want = _random_case(c, 11)
    assert constraints_at_point(c, inputs, alpha_pows).tolist() == want
    assert any(want)


def _random_case(c, seed: int) -> tuple:
    """(Inputs at a random point, α powers, Σ_i α^i·C_i there by the Python-int reference)."""
    rng = np.random.default_rng(seed)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    roots = [x.expr for x in c.all_constraints]
    alpha_pows = ext.ext_powers(rand(4), len(roots))
    inputs, at_point = random_point(c, rand)
    want = [0, 0, 0, 0]
    for pw, v in zip(alpha_pows, reference(c, roots, at_point)):
        want = [(x + y) % P for x, y in zip(want, rmul(as_ext(pw), v))]
    return inputs, alpha_pows, want


def test_levels_put_every_operation_above_its_operands():
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    t = tape.build_tape(c, [x.expr for x in c.all_constraints], "point")
    level = tape_levels(t)
    ops = np.flatnonzero(level > 0)
    binary = ops[np.isin(t.op[ops], [tape.NEG_B, tape.NEG_E, tape.DENOM], invert=True)]
    assert (level[binary] > level[t.a[binary]]).all() and (level[binary] > level[t.b[binary]]).all()
    assert (level[t.op < tape.ADD_BB] == 0).all()




def test_tables_evaluated_together_equal_each_alone():
    # tables of different depths, with and without LogUp denominators at a level: one pass
    cs = [compile_for(INSECURE_FAST_FOR_TESTS, AIRS[n]) for n in ("program", "cpu", "memory boundary")]
    rng = np.random.default_rng(5)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    challenges = rand(2, 4)
    inputs, powers = [], []
    for c in cs:
        w, wp, wa = c.air.width, c.air.preprocessed_width, c.num_aux_columns
        inputs.append(tape.Inputs(rand(2, w, 4), rand(2, wp, 4) if wp else None, rand(2, wa, 4) if wa else None,
                                  rand(NUM_PUBLIC_VALUES), challenges, rand(4), dict(zip(tape.SELECTORS, rand(3, 4)))))
        powers.append(ext.ext_powers(rand(4), len(c.all_constraints)))
    together = constraints_at_points(cs, inputs, powers)
    assert [x.tolist() for x in together] == [constraints_at_point(c, i, p).tolist() for c, i, p in zip(cs, inputs, powers)]


@pytest.mark.parametrize("max_terms", [1, 3])
def test_sums_computed_as_nodes_of_their_own_still_match(monkeypatch, max_terms):
    """point_eval.linear_schedule computes a sum with more than MAX_TERMS terms as a node its
    readers take as one term: with a tiny MAX_TERMS (almost every sum such a node) the value
    is still the reference's, and every computed sum sits above each of its terms."""
    from pyzkvm.stark import point_eval

    monkeypatch.setattr(point_eval, "MAX_TERMS", max_terms)
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS["cpu"])
    t = tape.build_tape(c, [x.expr for x in c.all_constraints], "point")
    level, sums = point_eval.linear_schedule(t)
    assert sums and all(level[k] > max(level[x] for x in terms) for k, terms in sums.items())
    program = point_eval.PointProgram(t, tape_levels(t))
    inputs, alpha_pows, want = _random_case(c, 13)
    assert program.combine(inputs, alpha_pows).tolist() == want
