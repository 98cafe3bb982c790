"""A sampled under-constraint scan of the ED_ADD / ED_DECOMPRESS chips (docs/machine.md §2.10, §7).

The honest run is tests/machine/test_machine_ed25519.py's program (three ED_ADD calls — one in
place, one on unreduced coordinates — and three ED_DECOMPRESS calls, x = p among them). Every
row of each chip's first call (each step kind: READ, MUL, ADD, SUB, DIV, WRITE, mask, root, the
x² check; ``--kinds``: one row per kind) and the first padding row are mutated; per row, ``--columns`` columns (default: all of
them) get x + 1 (``--values 2``: also x − 1), each repaired and bus-cancelled by
pyzkvm.machine.undercheck.try_mutation.

    NUMBA_NUM_THREADS=1 python bench/underconstraint_ed25519.py [--columns N] [--values 1|2] [--kinds]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyzkvm.machine import undercheck  # noqa: E402
from pyzkvm.stark.field import P  # noqa: E402
from tests.machine.machine_helpers import run_machine  # noqa: E402
from tests.machine.test_machine_ed25519 import ed_program  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=0, help="columns sampled per row (0: all)")
    parser.add_argument("--values", type=int, default=1, choices=(1, 2))
    parser.add_argument("--chip", action="append", help="ed add / ed decompress (default both)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--kinds", action="store_true", help="only one row per step kind (and the first padding row)")
    args = parser.parse_args()
    code, data = ed_program()
    chips, tables, _ = run_machine(code, data=data)
    s = undercheck.sample("ed25519 program", chips, tables)
    rng = np.random.default_rng(args.seed)
    t0, c0, load = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    outcomes = []
    for name in args.chip or ("ed add", "ed decompress"):
        t = s.chips[name]
        steps = len(chips.airs[chips.index(name)].steps)
        calls = int(t.trace[:, t.active].astype(np.int64).sum()) // steps
        kinds = [s.kind for s in chips.airs[chips.index(name)].steps]
        rows = [kinds.index(k) for k in dict.fromkeys(kinds)] if args.kinds else list(range(steps))
        for row in [*rows, steps * calls]:
            width = t.trace.shape[1]
            cols = range(width) if not args.columns else sorted(rng.choice(width, args.columns, replace=False))
            for c in cols:
                v = int(t.trace[row, c])
                for new in [(v + 1) % P, (v - 1) % P][:args.values]:
                    outcomes.append(undercheck.try_mutation(s, t, row, {int(c): new}))
                    print(f"  {name} row {row} {t.names[c]} → {new}: {outcomes[-1].status}", file=sys.stderr, flush=True)
            print(f"{name} row {row}: {len(outcomes)} mutations, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    report = undercheck.Report(outcomes, time.perf_counter() - t0)
    print(report.render())
    print(f"\n{len(outcomes)} mutations in {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU "
          f"(load average {load:.1f})")
    return 1 if report.undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
