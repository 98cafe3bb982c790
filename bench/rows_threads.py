#!/usr/bin/env python
"""The trace queries' recomputed rows (LdeSource.rows) at 1 and 2 threads, in quiet moments.

    PYTHONPATH=CHECKOUT python bench/rows_threads.py [--log 18] [--seconds 300]

One fibonacci prove below 2^LOG cycles (hiding preset) records the calls its openings make
to ``LdeSource.rows`` (shape, nonzero rows, coset, positions); they are then replayed on
random coefficients of the same shapes (the sources over 16 MB, the ones whose blocks run
one at a time), 1 thread then 2, round after round, each round only once the other
processes have left both CPUs idle for 0.5 s (/proc/stat), for ``--seconds``. Printed:
per thread count the median and least wall and CPU over the rounds in which the others
stayed under 0.15 CPUs. ``PYTHONPATH`` picks the checkout (run two for an A/B).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def busy_s() -> float:
    """CPU-seconds the machine has been busy (as pool._machine_busy_s)."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def timed(fn) -> tuple:
    """(the CPUs other processes used meanwhile, wall s, this process's CPU s) of fn()."""
    b0, t0, c0 = busy_s(), time.perf_counter(), time.process_time()
    fn()
    b1, t1, c1 = busy_s(), time.perf_counter(), time.process_time()
    return max(0.0, (b1 - b0) - (c1 - c0)) / (t1 - t0), t1 - t0, c1 - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=int, default=18)
    ap.add_argument("--seconds", type=float, default=300)
    args = ap.parse_args(argv)

    import numba
    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import lde_source, pool
    from pyzkvm.stark.field import P

    numba.set_num_threads(2)
    calls = []
    real_rows = lde_source.LdeSource.rows

    def recording(self, positions):
        calls.append((self.coefficients.shape, self.nonzero_rows, self.log_blowup, self.shift, np.array(positions)))
        return real_rows(self, positions)

    lde_source.LdeSource.rows = recording
    get_backend("stark").prove(Program.from_elf(ELF), [n_for(args.log).to_bytes(4, "little")],
                               preset="default_100_bits_zk")
    lde_source.LdeSource.rows = real_rows
    rng = np.random.default_rng(1)
    sources = []
    for (d, w), nonzero, log_blowup, shift, positions in calls:
        if 4 * d * w > lde_source.ROWS_SIDE_BY_SIDE_BYTES:
            coeffs = np.zeros((d, w), dtype=np.uint32)
            coeffs[:nonzero] = rng.integers(0, P, (nonzero, w), dtype=np.int64).astype(np.uint32)
            sources.append((lde_source.LdeSource(coeffs, log_blowup, shift, rows=nonzero), positions))

    def replay():
        with lde_source.shared_rows_work():
            for src, positions in sources:
                src.rows(positions)

    rounds: dict = {1: [], 2: []}
    end = time.time() + args.seconds
    while time.time() < end:
        if timed(lambda: time.sleep(0.5))[0] > 0.25:
            continue
        for threads in (1, 2):
            pool.threads = lambda t=threads: t  # the pool's thread count, whatever the load
            rounds[threads].append(timed(replay))
    print(f"2^{args.log} cycles, hiding: {len(sources)} rows() calls over 16 MB replayed, load {os.getloadavg()[0]:.2f}")
    medians = {}
    for threads, got in rounds.items():
        quiet = np.array([(wall, cpu) for others, wall, cpu in got if others < 0.15])
        if len(quiet) == 0:
            print(f"  {threads} thread(s): no quiet round")
            continue
        medians[threads] = np.median(quiet[:, 0])
        print(f"  {threads} thread(s), {len(quiet)} quiet rounds of {len(got)}: wall median {medians[threads]:.3f} s, "
              f"least {quiet[:, 0].min():.3f} s; CPU median {np.median(quiet[:, 1]):.3f} s")
    if len(medians) == 2:
        print(f"  2 threads / 1 thread (medians): {medians[1] / medians[2]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
