"""The write-once AIR API: degrees, shared sub-expressions, the constraint evaluator (tape.py)
on rows and at a point against a Python-int reference, and the debug check naming the
failing constraint and row."""

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, StarkConfigError
from pyzkvm.stark import DEFAULT, INSECURE_FAST_FOR_TESTS, setup
from pyzkvm.stark import tape
from pyzkvm.stark.air import Air, compile_air
from pyzkvm.stark.debug import check_constraints
from pyzkvm.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from pyzkvm.stark.field import P
from tests.ext_reference import rmul


class MixedAir(Air):
    """C0 = a·b·c − pub0 (degree 3);  C1 = when_first_row(a' − 5·b)  (degree 2)."""
    name = "mixed"
    width = 3
    num_public_values = 1

    def constraints(self, b):
        a, bb, c = b.main_row()
        b.assert_zero(a * bb * c - b.public(0), "abc = pub")
        b.when_first_row().assert_eq(b.main_next(0), 5 * bb, "a' = 5b")


def test_degrees_and_quotient_chunks():
    c = compile_air(MixedAir())
    assert [k.expr.degree for k in c.constraints] == [3, 2]
    assert c.max_degree == 3 and c.log_quotient_chunks == 1  # deg Q < 2n → 2 chunks
    fib = compile_air(FibonacciAir())
    # transition selector has degree 0, first/last row selectors degree 1
    assert [k.expr.degree for k in fib.constraints] == [2, 2, 1, 1, 2]
    assert fib.log_quotient_chunks == 0


def test_identical_subexpressions_are_shared():
    class Twice(Air):
        name, width = "twice", 2

        def constraints(self, b):
            x = b.main(0) * b.main(1) + 1
            y = b.main(0) * b.main(1) + 1
            assert x is y
            b.assert_zero(x * y, "square")
    c = compile_air(Twice())
    assert len(c.builder.nodes) == len({id(n) for n in c.builder.nodes})
    assert sum(1 for n in c.builder.nodes if n.op == "mul") == 2


def test_plain_and_ood_evaluation_match_reference():
    air = MixedAir()
    c = compile_air(air)
    rng = np.random.default_rng(0)
    n = 8
    tr = rng.integers(0, P, size=(n, 3), dtype=np.uint32)
    pub = np.array([int(rng.integers(0, P))], dtype=np.uint32)
    roots = [k.expr for k in c.constraints]
    got = tape.run(tape.build_tape(c, roots), tape.plain_inputs(tr, None, pub), n)[:, 0, :]
    a, b, cc = (tr[:, k].astype(object) for k in range(3))
    assert got[0].tolist() == [int(x) for x in (a * b * cc - int(pub[0])) % P]
    first = np.zeros(n, dtype=object)
    first[0] = 1
    assert got[1].tolist() == [int(x) for x in (first * (np.roll(a, -1) - 5 * b)) % P]

    # out-of-domain mode: every leaf is an F_p^4 value
    ext_vals = [list(map(int, rng.integers(0, P, 4))) for _ in range(7)]
    main_local = np.array(ext_vals[:3], dtype=np.uint32)
    main_next = np.array(ext_vals[3:6], dtype=np.uint32)
    sel = {k: np.array(ext_vals[6], dtype=np.uint32) for k in ("is_first_row", "is_last_row", "is_transition")}
    at_point = tape.Inputs(np.stack([main_local, main_next]), None, None, pub, selectors=sel)
    got = tape.run(tape.build_tape(c, roots, "point"), at_point, 1)[:, :, 0]
    x, y, z = ext_vals[:3]
    want0 = rmul(rmul(x, y), z)
    want0[0] = (want0[0] - int(pub[0])) % P
    assert got[0].tolist() == want0
    diff = [(p - 5 * q) % P for p, q in zip(ext_vals[3], y)]
    assert got[1].tolist() == rmul(ext_vals[6], diff)


def test_debug_check_names_constraint_and_first_failing_row():
    air = FibonacciAir()
    tr, pv = fibonacci_trace(32)
    tr = tr.copy()
    tr[9, 1] = (int(tr[9, 1]) + 1) % P  # breaks y' = x + y at row 8 and x' = y at row 9
    pk = setup(INSECURE_FAST_FOR_TESTS, [air])
    c = pk.verifying_key.compiled[0]
    with pytest.raises(ConstraintNotSatisfied, match=r"'y' = x \+ y' fails at row 8"):
        check_constraints(c, tape.plain_inputs(tr, None, pv), 32)


def test_degree_too_high_for_blowup_is_a_config_error():
    class Degree6(Air):
        name, width = "deg6", 1

        def constraints(self, b):
            x = b.main(0)
            b.assert_zero(x * x * x * x * x * x - x, "x^6 = x")
    with pytest.raises(StarkConfigError, match="quotient chunks"):
        setup(DEFAULT, [Degree6()])


def test_bad_column_index_is_reported():
    class Bad(Air):
        name, width = "bad", 1

        def constraints(self, b):
            b.assert_zero(b.main(3), "oops")
    with pytest.raises(StarkConfigError, match="main column 3"):
        compile_air(Bad())
