"""Under-constraint scans of the keccak permute chip (docs/machine.md §7, §2.8).

The honest run is the keccak256 guest hashing "abc" (one KECCAK_PERMUTE call: rows 0..24, then
padding rows 25..31).

Default (the complete scan, issue 16 §6): x + 1 in every one of the chip's 2 381 columns on
each kind of row — 0 (a call's first row: the input received, the pointer checks, round 0),
1 (a round after the first: the flags move), 12 (a middle round), 23 (the last round: its
next row is the output), 24 (the output row, r24: the call's flags and key change after it),
25 (the first padding row) and 31 (the table's last row, whose next row is row 0). Each
mutation is repaired and bus-cancelled (pyzkvm.machine.undercheck.scan_row: the mutations no
repair can save are settled in one batched evaluation per row). Each row's result is printed
as it finishes; ``--rows`` picks rows, ``--values 2`` adds x − 1.

    PYTHONPATH=. NUMBA_NUM_THREADS=1 nice -n 10 python bench/underconstraint_keccak.py [--rows 0,12]
"""

import argparse
import sys
import time

from pyzkvm.executor import execute
from pyzkvm.machine import undercheck
from pyzkvm.machine.tables import build_chips, generate_tables
from pyzkvm.program import Program
from pyzkvm.stark.field import P

ROWS = (0, 1, 12, 23, 24, 25, 31)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(map(str, ROWS)))
    parser.add_argument("--values", type=int, default=1, choices=(1, 2))
    args = parser.parse_args()
    program = Program.from_elf("guests/bin/keccak256.elf")
    chips = build_chips(program)
    s = undercheck.sample("keccak256", chips, generate_tables(chips, execute(program, [b"abc"], capture_trace=True)))
    t = s.chips["keccak permute"]
    outcomes, c0, t0 = [], time.process_time(), time.perf_counter()
    for row in (int(r) for r in args.rows.split(",")):
        muts = [{c: (int(t.trace[row, c]) + d) % P} for c in range(t.trace.shape[1]) for d in (1, -1)[:args.values]]
        part = undercheck.scan_row(s, t, row, muts)
        outcomes += part
        st: dict = {}
        for o in part:
            st[o.status] = st.get(o.status, 0) + 1
        print(f"row {row}: {len(part)} mutations {st}; total {time.process_time() - c0:.0f} s CPU, "
              f"{time.perf_counter() - t0:.0f} s wall", file=sys.stderr, flush=True)
    report = undercheck.Report(outcomes, time.process_time() - c0)
    print(report.render())
    print(f"{len(outcomes)} mutations; {time.process_time() - c0:.0f} s CPU")
    return 1 if report.undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
