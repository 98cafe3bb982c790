"""A sampled under-constraint scan of the keccak permute chip (docs/machine.md §7, §2.8).

The full CI scan (`python -m pyzkvm.machine.undercheck ELF --chip "keccak permute"`) would try
each of the chip's 2 368 columns on three rows, and one mutation of this chip costs seconds here
(each repair re-evaluates its 2 815 constraints), so this script samples: 15 columns (the
call's active/clk/key, round flags, state limbs, C, C' and A' bits) × 4 rows (a call's first,
middle and output rows, and the first padding row) × 2 values (x + 1, x − 1), on the keccak256
guest hashing "abc" (one call).

    NUMBA_NUM_THREADS=1 python bench/underconstraint_keccak.py   # → bench/results/underconstraint_keccak.md
    NUMBA_NUM_THREADS=1 timeout -s INT 3600 python bench/underconstraint_keccak.py --every-column

--every-column: x + 1 in every one of the 2 381 columns on row 12 (a middle round of the call),
in a fixed random order (seed 0), so that a run stopped early (Ctrl-C / timeout -s INT: the
report so far is printed) is a uniform sample of the columns; each outcome goes to stderr.
"""

import sys
import time

import numpy as np

from pyzkvm.executor import execute
from pyzkvm.machine import undercheck
from pyzkvm.machine.keccak import KECCAK
from pyzkvm.machine.tables import build_chips, generate_tables
from pyzkvm.program import Program
from pyzkvm.stark.field import P

COLUMNS = [KECCAK.active, KECCAK.clk, KECCAK.key, KECCAK.r[0], KECCAK.r[5], KECCAK.r[24], KECCAK.a[0], KECCAK.a[37],
           KECCAK.c[0], KECCAK.c[200], KECCAK.cp[7], KECCAK.cp[319], KECCAK.ap[0], KECCAK.ap[777], KECCAK.ap[1599]]
ROWS = (0, 12, 24, 25)


def _mutations(t, every_column: bool):
    """(row, column, value) to try: the sample above, or x + 1 in every column of row 12."""
    if every_column:
        for c in np.random.default_rng(0).permutation(t.trace.shape[1]):
            yield 12, int(c), (int(t.trace[12, c]) + 1) % P
        return
    for row in ROWS:
        for c in COLUMNS:
            v = int(t.trace[row, c])
            for new in ((v + 1) % P, (v - 1) % P):
                yield row, c, new


def main() -> int:
    program = Program.from_elf("guests/bin/keccak256.elf")
    chips = build_chips(program)
    s = undercheck.sample("keccak256", chips, generate_tables(chips, execute(program, [b"abc"], capture_trace=True)))
    t = s.chips["keccak permute"]
    outcomes, t0 = [], time.perf_counter()
    try:
        for row, c, new in _mutations(t, "--every-column" in sys.argv):
            outcomes.append(undercheck.try_mutation(s, t, row, {c: new}))
            print(f"{len(outcomes)}: row {row} {t.names[c]} = {new}: {outcomes[-1].status}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"stopped after {len(outcomes)} mutations", file=sys.stderr)
    report = undercheck.Report(outcomes, time.perf_counter() - t0)
    print(report.render())
    return 1 if report.undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
