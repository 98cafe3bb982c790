#!/usr/bin/env python
"""2 threads against 1, proof by proof: one process per size alternates a 1-thread and a 2-thread
prove of fibonacci, ``--rounds`` times, and prints each setting's fastest and median wall time and
the ratios.

    PYTHONPATH=CHECKOUT python bench/thread_ratio.py [--sizes 14 16 18 20] [--rounds 5] [--preset default_100_bits_zk]
                                                     [--in-turn] [--min-work K ...]

Why beside bench/stark_prove.py (which runs each thread count in its own process, one after the
other): this host's second vCPU is worth 0.9–2.6× on vector work from one minute to the next
(bench/memory_bandwidth.py), so two rows measured a minute apart can compare a fast spell with a
slow one. Here each 2-thread proof runs right after a 1-thread one, in the same process and the
same minute. The pool is told the machine is free (``pool.free_cpus`` → 2): on a busy machine it
would run the 2-thread proofs on one thread (what bench/under_load.py measures), and this measures
the code's use of a second core. ``--in-turn`` adds a third proof to each round: 2 threads with
every table's steps and every tree's sources taken in turn (prover._alone answering every table,
mmcs.SIDE_BY_SIDE_DIGEST_BYTES set to 0: the code before session 19), so the gain of the side-by-side
tasks is read in the same minutes. ``--min-work K …`` adds a 2-thread proof per K with the pool's
threshold for a parallel loop at 2^K words and its chunks at 2^(K−2) (pool.MIN_PARALLEL_WORK,
MIN_CHUNK_WORK). The warm-up proof and one proof of each size at each thread count
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
    ap.add_argument("--in-turn", action="store_true", help="also 2 threads with short tables and small trees' sources in turn")
    ap.add_argument("--min-work", type=int, nargs="*", default=[], metavar="K",
                    help="also 2 threads with loops parallel from 2^K words (pool.MIN_PARALLEL_WORK)")
    args = ap.parse_args(argv)

    import numba

    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import mmcs, pool, prover

    pool.free_cpus = lambda: 2  # the code's use of a second core, not this machine's load (docstring)
    prog = Program.from_elf(ELF)
    backend = get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=args.preset)
    work = pool.MIN_PARALLEL_WORK.bit_length() - 1
    settings = {"1 thread": (1, True, work), "2 threads": (2, True, work)}
    if args.in_turn:
        settings["2 threads, in turn"] = (2, False, work)
    for k in args.min_work:
        settings[f"2 threads, from 2^{k}"] = (2, True, k)
    side = (prover._alone, mmcs.SIDE_BY_SIDE_DIGEST_BYTES)
    in_turn = (lambda tables: list(range(len(tables))), 0)
    print(f"preset {args.preset}; {args.rounds} rounds of a proof at each of: {', '.join(settings)}, per size; "
          f"load {os.getloadavg()[0]:.2f} at the start")
    print("| log2 table | cycles | " + " | ".join(f"{name}: fastest / median (s)" for name in settings)
          + " | 2 threads / 1: fastest / fastest | median / median | median of the rounds' ratios"
          + "".join(f" | {name} / 1: fastest / fastest | median of the rounds' ratios" for name in list(settings)[2:])
          + " | load |")
    print("| --- " * (2 + len(settings) + 3 + 2 * (len(settings) - 2) + 1) + "|")
    for log in args.sizes:
        n = n_for(log)
        walls: dict = {name: [] for name in settings}
        load = os.getloadavg()[0]
        for r in range(args.rounds + 1):
            for name, (threads, side_by_side, k) in settings.items():
                numba.set_num_threads(threads)
                prover._alone, mmcs.SIDE_BY_SIDE_DIGEST_BYTES = side if side_by_side else in_turn
                pool.MIN_PARALLEL_WORK = 1 << k
                pool.MIN_CHUNK_WORK = 1 << (k - 2)
                t0 = time.perf_counter()
                receipt = backend.prove(prog, [n.to_bytes(4, "little")], preset=args.preset)
                if r:  # round 0 is a warm-up at this size
                    walls[name].append(time.perf_counter() - t0)
        prover._alone, mmcs.SIDE_BY_SIDE_DIGEST_BYTES = side
        pool.MIN_PARALLEL_WORK = 1 << work
        pool.MIN_CHUNK_WORK = 1 << (work - 2)
        one = walls["1 thread"]

        def ratios(two):
            return (f"{min(one) / min(two):.2f}× | "
                    f"{statistics.median(a / b for a, b in zip(one, two)):.2f}×")

        two = walls["2 threads"]
        row = [str(log), str(receipt.claim.cycles)]
        row += [f"{min(w):.3f} / {statistics.median(w):.3f}" for w in walls.values()]
        row += [f"{min(one) / min(two):.2f}×", f"{statistics.median(one) / statistics.median(two):.2f}×",
                f"{statistics.median(a / b for a, b in zip(one, two)):.2f}×"]
        row += [ratios(walls[name]) for name in list(settings)[2:]]
        print("| " + " | ".join(row) + f" | {load:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
