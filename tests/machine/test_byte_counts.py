"""The byte table's multiplicities (machine/bytes_table.byte_multiplicities): the counting
kernel adds every lookup that names a cell, with its multiplicity, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, bytes_table, generate_tables
from pyzkvm.machine.evaluate import compiled_air, evaluate_on_trace
from pyzkvm.program import Program
from pyzkvm.stark.field import P

WIDTH = bytes_table.BYTES.width


def reference_counts(lookups) -> np.ndarray:
    """np.add.at of μ at (256·x + y)·width + tag, over the lookups with μ ≠ 0 that name a cell."""
    want = np.zeros(bytes_table.HEIGHT * WIDTH, dtype=np.int64)
    for tag, x, y, mult in lookups:
        tag, x, y, mult = (np.asarray(v, dtype=np.int64) for v in (tag, x, y, mult))
        ok = (mult != 0) & (x < 256) & (y < 256) & (tag < WIDTH)
        np.add.at(want, ((x[ok] << 8) | y[ok]) * WIDTH + tag[ok], mult[ok])
    return want


def test_count_lookups_adds_each_multiplicity_at_its_cell():
    rng = np.random.default_rng(7)
    for mults in ([0, 1], [0, 1, 2, 3, P - 1]):  # an honest chip's μ ∈ {0, 1}, and any field element
        for n in (0, 5, 4096):
            # columns 0..3 of the trace, rows 0..3 of the computed values: (tag, x, y, μ) of
            # three sends read from either, some x, y, tag off the table
            trace = np.stack([rng.integers(0, WIDTH + 1, n), rng.integers(0, 300, n), rng.integers(0, 300, n),
                              rng.choice(mults, n)], axis=1).astype(np.uint32)
            computed = trace[:, ::-1].T.copy()  # row j = trace column 3 − j
            fields = np.array([[0, 1, 2, 3], [-4, -3, -2, -1], [0, -3, 2, -1]], dtype=np.int64)
            got = np.zeros(bytes_table.HEIGHT * WIDTH, dtype=np.uint32)  # counts in F_p
            bytes_table.count_lookups(got, trace, computed, fields, WIDTH, 0, n)
            assert np.array_equal(got, reference_counts([tuple(trace.T)] * 3) % P)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_byte_trace_counts_every_send_of_the_other_chips(threads, monkeypatch):
    """(threads = 2: each table's rows counted in parts side by side on the pool, even the
    smallest table's, and the parts' counts added.)"""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "threads", lambda: threads)
    if threads == 2:
        monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
        monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    program = Program.from_elf("guests/bin/fibonacci.elf")
    chips = build_chips(program)
    tables = generate_tables(chips, execute(program, [(10).to_bytes(4, "little")], capture_trace=True))
    lookups = []
    for air in chips.airs:
        sends, exprs = bytes_table.byte_sends(compiled_air(air))
        if sends and not isinstance(air, bytes_table.ByteTableAir):
            values = evaluate_on_trace(compiled_air(air), exprs, tables.traces[air.name], tables.public_values)
            lookups += [tuple(values[4 * k:4 * k + 4]) for k in range(len(sends))]
    want = (reference_counts(lookups).reshape(bytes_table.HEIGHT, WIDTH) % P).astype(np.uint32)
    assert want.any() and np.array_equal(tables.traces["bytes"], want)


def test_evaluate_split_evaluates_each_node_once_and_every_value_alike():
    """The CPU's byte sends repeat nodes (the tag, the zeros, a multiplicity sent twice): each is
    one row of the computed values, and every send's value equals its expression evaluated alone."""
    from pyzkvm.machine.evaluate import evaluate_split

    program = Program.from_elf("guests/bin/fibonacci.elf")
    chips = build_chips(program)
    tables = generate_tables(chips, execute(program, [(10).to_bytes(4, "little")], capture_trace=True))
    cpu = next(a for a in chips.airs if a.name == "cpu")
    compiled, trace = compiled_air(cpu), tables.traces["cpu"]
    _sends, exprs = bytes_table.byte_sends(compiled)
    sources, computed = evaluate_split(compiled, exprs, trace, tables.public_values)
    repeated = [e for e in exprs if not (e.op == "main" and e.args[1] == 0)]
    assert computed.shape[0] == len({e.index for e in repeated}) < len(repeated)
    for e, source in zip(exprs, sources.tolist()):
        (alone,) = evaluate_on_trace(compiled, [e], trace, tables.public_values)
        assert np.array_equal(trace[:, source] if source >= 0 else computed[-1 - source], alone)


def test_count_parts_add_in_the_field():
    # canonical parts whose sums pass P and 2^31, and the largest values: the uint64 sum mod P
    rng = np.random.default_rng(7)
    counts = rng.integers(0, P, size=(3, 4096), dtype=np.int64).astype(np.uint32)
    counts[:, :4] = [[P - 1, P - 1, 0, 1], [P - 1, 1, 0, P - 1], [P - 1, 0, 0, 0]]
    want = (counts.sum(axis=0, dtype=np.uint64) % P).astype(np.uint32)
    np.testing.assert_array_equal(bytes_table.sum_parts(counts), want)
