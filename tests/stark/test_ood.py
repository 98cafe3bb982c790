"""The verifier's tape evaluator (ood.py) computes exactly Σ α^i C_i(ζ) as the reference DAG
interpreter (air.evaluate_constraints in OOD mode) does, on random F_p^4 leaves, for every
machine AIR (all node kinds: selectors, public values, aux columns, LogUp denominators)."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.machine import machine_airs
from pyzkvm.machine.statement import NUM_PUBLIC_VALUES
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, ext
from pyzkvm.stark.air import Leaves, evaluate_constraints
from pyzkvm.stark.field import P
from pyzkvm.stark.keys import compile_for
from pyzkvm.stark.lincomb import accumulate
from pyzkvm.stark.ood import combined_constraints_at_point, leaf_table, tape_for

AIRS = {a.name: a for a in machine_airs()}


@pytest.mark.parametrize("name", ["cpu", "program", "alu divrem", "syscall", "journal words", "memory boundary"])
def test_tape_matches_the_reference_interpreter(name):
    c = compile_for(INSECURE_FAST_FOR_TESTS, AIRS[name])
    rng = np.random.default_rng(7)
    rand = lambda *shape: rng.integers(0, P, size=shape + (4,), dtype=np.int64).astype(np.uint32)  # noqa: E731
    w, wp, wa = c.air.width, c.air.preprocessed_width, c.num_aux_columns
    main, prep, aux = (rand(w), rand(w)), (rand(wp), rand(wp)), (rand(wa), rand(wa))
    public = rng.integers(0, P, NUM_PUBLIC_VALUES).astype(np.uint32)
    challenges, cumsum = rand(2), rand(1)[0]
    selectors = {"is_first_row": rand(1)[0], "is_last_row": rand(1)[0], "is_transition": rand(1)[0]}
    alpha_pows = ext.ext_powers(rand(1)[0], len(c.all_constraints))

    reference = np.zeros((1, 4), dtype=np.uint32)
    leaves = Leaves(main, prep, aux, public, challenges, cumsum, selectors, all_ext=True)
    evaluate_constraints(c.builder.nodes, c.all_constraints, leaves,
                         lambda i, is_ext, v: accumulate(reference, v, alpha_pows[i], True))
    tape = tape_for(c, NUM_PUBLIC_VALUES)
    got = combined_constraints_at_point(tape, leaf_table(tape, main, prep, aux, public, challenges, cumsum, selectors),
                                        alpha_pows)
    assert np.array_equal(got, reference[0])
    assert np.any(got)  # random leaves do not satisfy the constraints
