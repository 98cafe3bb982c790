"""The byte table's multiplicities (machine/bytes_table.byte_multiplicities): lookups counted
in batches give the same table as counting each one where it is made."""

from __future__ import annotations

import numpy as np

from pyzkvm.executor import execute
from pyzkvm.machine import build_chips, bytes_table, generate_tables
from pyzkvm.program import Program
from pyzkvm.stark.field import P


def test_batched_counts_add_every_lookup_with_its_multiplicity():
    rng = np.random.default_rng(7)
    size = bytes_table.HEIGHT * bytes_table.BYTES.width
    for mults in ([1], [1, 2, 3, P - 1]):  # an honest chip's μ = 1, and any field element
        pending = [(rng.integers(0, size, n).astype(np.uint32), rng.choice(mults, n).astype(np.uint32))
                   for n in (0, 5, 300, 4096)]
        want = np.zeros(size, dtype=np.int64)
        for cells, mult in pending:
            np.add.at(want, cells.astype(np.int64), mult.astype(np.int64))
        got = np.zeros(size, dtype=np.int64)
        bytes_table._add_lookups(got, pending)
        assert np.array_equal(got, want) and pending == []  # counted, then forgotten


def test_a_batch_per_send_gives_the_tables_byte_trace(monkeypatch):
    program = Program.from_elf("guests/bin/fibonacci.elf")
    chips = build_chips(program)
    tables = generate_tables(chips, execute(program, [(10).to_bytes(4, "little")], capture_trace=True))
    others = [a for a in chips.airs if not isinstance(a, bytes_table.ByteTableAir)]
    monkeypatch.setattr(bytes_table, "COUNT_BATCH", 1)  # every send counted on its own
    got = bytes_table.byte_multiplicities(others, tables.traces, tables.public_values)
    assert got.any() and np.array_equal(got, tables.traces["bytes"])
