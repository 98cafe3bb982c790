"""Deep run of the under-constraint detector (pyzkvm/machine/undercheck.py, docs/undercheck.md).

    NUMBA_NUM_THREADS=1 python bench/underconstraint.py [--out bench/results/underconstraint.md]

Mutates every chip of every honest run of tests/machine/undercheck_programs.py (the CI
programs plus the fibonacci guest with input u32 5) with the deep settings (more rows, values
near p and at byte/word boundaries, whole-row replacements) and writes the per-chip table and
every undocumented accepted mutation to the results file, with the date, wall and CPU time and
the load average (the machine is shared)."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyzkvm.machine import undercheck  # noqa: E402
from tests.machine.undercheck_programs import samples  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/underconstraint.md")
    parser.add_argument("--quick", action="store_true", help="the CI settings instead of the deep ones")
    args = parser.parse_args()
    t0, c0, load0 = time.perf_counter(), time.thread_time(), os.getloadavg()
    runs = samples(deep=True, check=True)
    report = undercheck.scan(runs, deep=not args.quick, log=lambda m: print(m, flush=True))
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    text = report.render()
    print(text)
    head = (f"# Under-constraint detector, {'CI' if args.quick else 'deep'} run\n\n"
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"`NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '?')} python bench/underconstraint.py"
            f"{' --quick' if args.quick else ''}`; samples: {', '.join(s.name for s in runs)}; "
            f"wall {wall:.0f} s, thread CPU {cpu:.0f} s, load average {load0[0]:.2f} → {os.getloadavg()[0]:.2f}\n\n")
    Path(args.out).write_text(head + "```\n" + text + "\n```\n")


if __name__ == "__main__":
    main()
