#!/usr/bin/env python
"""2 threads against 1, proof by proof: one process per size alternates a 1-thread and a 2-thread
prove of fibonacci, ``--rounds`` times, and prints each setting's fastest and median wall time and
the ratios.

    PYTHONPATH=CHECKOUT python bench/thread_ratio.py [--sizes 14 16 18 20] [--rounds 5] [--preset default_100_bits_zk]

Why beside bench/stark_prove.py (which runs each thread count in its own process, one after the
other): this host's second vCPU is worth 0.9–2.6× on vector work from one minute to the next
(bench/memory_bandwidth.py), so two rows measured a minute apart can compare a fast spell with a
slow one. Here each 2-thread proof runs right after a 1-thread one, in the same process and the
same minute. The pool is told the machine is free (``pool.free_cpus`` → 2): on a busy machine it
would run the 2-thread proofs on one thread (what bench/under_load.py measures), and this measures
the code's use of a second core. The warm-up proof and one proof of each size at each thread count
come first and are not counted (kernels loaded, buffers and caches made).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[14, 16, 18, 20], help="log2 of the cycle counts")
    ap.add_argument("--rounds", type=int, default=5, help="1-thread and 2-thread proofs per size, alternated")
    ap.add_argument("--preset", default="default_100_bits_zk")
    args = ap.parse_args(argv)

    import numba

    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import pool

    pool.free_cpus = lambda: 2  # the code's use of a second core, not this machine's load (docstring)
    prog = Program.from_elf(ELF)
    backend = get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=args.preset)
    print(f"preset {args.preset}; {args.rounds} rounds of a 1-thread then a 2-thread proof per size; "
          f"load {os.getloadavg()[0]:.2f} at the start")
    print("| log2 table | cycles | 1 thread: fastest / median (s) | 2 threads: fastest / median (s) "
          "| fastest / fastest | median / median | median of the rounds' ratios | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for log in args.sizes:
        n = n_for(log)
        walls: dict = {1: [], 2: []}
        load = os.getloadavg()[0]
        for r in range(args.rounds + 1):
            for threads in (1, 2):
                numba.set_num_threads(threads)
                t0 = time.perf_counter()
                receipt = backend.prove(prog, [n.to_bytes(4, "little")], preset=args.preset)
                if r:  # round 0 is a warm-up at this size
                    walls[threads].append(time.perf_counter() - t0)
        one, two = walls[1], walls[2]
        pairs = statistics.median(a / b for a, b in zip(one, two))
        print(f"| {log} | {receipt.claim.cycles} | {min(one):.3f} / {statistics.median(one):.3f} "
              f"| {min(two):.3f} / {statistics.median(two):.3f} | {min(one) / min(two):.2f}× "
              f"| {statistics.median(one) / statistics.median(two):.2f}× | {pairs:.2f}× | {load:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
