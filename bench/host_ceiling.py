#!/usr/bin/env python
"""What two threads could give on this host at most, beside what they give: per size, rounds of
(1) one 1-thread prove alone, (2) two 1-thread proves at once in two processes, (3) one 2-thread
prove alone, each a fibonacci proof in a warm process.

    PYTHONPATH=CHECKOUT python bench/host_ceiling.py [--sizes 14 16] [--rounds 5] [--preset default_100_bits_zk]

Two independent proves share nothing (no serial step, no hand-over between threads, no shared
cache lines): the host's two CPUs finish both in the pair's wall, so 2 × (alone) / (pair) is the
most any split of one proof over two threads can reach here — the host's ceiling (1.00× when the
two vCPUs are one core's hyperthreads doing vector work, 2.00× for two idle real cores). The
2-thread prove's ratio (alone / 2 threads) against that ceiling is the share the code's split
achieves; the rest is the host. Issue 18's target is 2 threads ≥ 1.7× one: on a host whose ceiling
is below 1.7× it cannot be met by any code, and the efficiency column says how close the code is.

Each round's three measurements run back to back (the host's vector speed changes from minute
to minute: bench/memory_bandwidth.py). The pool is told the machine is free (``pool.free_cpus`` →
2) in the 2-thread prove, as in bench/thread_ratio.py.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _worker(conn, barrier, preset: str) -> None:
    """A warm prover process: each message (log2 size, threads, together) is answered with the
    prove's wall seconds; ``together`` waits at the barrier first (both workers start at once)."""
    import numba

    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import pool

    pool.free_cpus = lambda: 2
    prog, backend = Program.from_elf(ELF), get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=preset)
    conn.send("ready")
    while (msg := conn.recv()) is not None:
        log, threads, together = msg
        numba.set_num_threads(threads)
        if together:
            barrier.wait()
        t0 = time.perf_counter()
        backend.prove(prog, [n_for(log).to_bytes(4, "little")], preset=preset)
        conn.send(time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[14, 16], help="log2 of the cycle counts")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--preset", default="default_100_bits_zk")
    args = ap.parse_args(argv)

    ctx = mp.get_context("spawn")  # fresh interpreters: no forked numba or thread-pool state
    barrier = ctx.Barrier(2)
    pipes, procs = [], []
    for _ in range(2):
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(theirs, barrier, args.preset), daemon=True)
        proc.start()
        pipes.append(ours)
        procs.append(proc)
    for conn in pipes:
        assert conn.recv() == "ready"
    a, b = pipes

    def ask(conn, log, threads, together=False):
        conn.send((log, threads, together))

    print(f"preset {args.preset}; {args.rounds} rounds per size (after one not counted); "
          f"load {os.getloadavg()[0]:.2f} at the start; {os.cpu_count()} CPUs")
    print("| log2 table | 1 thread alone (s) | two 1-thread proves at once, slower (s) | 2 threads (s) "
          "| host ceiling 2·alone/pair | 2 threads / 1 | code's share of the ceiling | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for log in args.sizes:
        load = os.getloadavg()[0]
        alone, pair, two = [], [], []
        for r in range(args.rounds + 1):
            ask(a, log, 1)
            t1 = a.recv()
            ask(a, log, 1, True)
            ask(b, log, 1, True)
            tp = max(a.recv(), b.recv())
            ask(a, log, 2)
            t2 = a.recv()
            if r:  # round 0 warms this size's buffers
                alone.append(t1)
                pair.append(tp)
                two.append(t2)
        ceiling = [2 * x / y for x, y in zip(alone, pair)]
        ratio = [x / y for x, y in zip(alone, two)]
        share = [r / c for r, c in zip(ratio, ceiling)]
        med = statistics.median
        print(f"| {log} | {med(alone):.3f} ({min(alone):.3f}–{max(alone):.3f}) | {med(pair):.3f} | "
              f"{med(two):.3f} ({min(two):.3f}–{max(two):.3f}) | {med(ceiling):.2f}× ({min(ceiling):.2f}–{max(ceiling):.2f}) | "
              f"{med(ratio):.2f}× ({min(ratio):.2f}–{max(ratio):.2f}) | {med(share):.0%} ({min(share):.0%}–{max(share):.0%}) "
              f"| {load:.1f} |", flush=True)
    for conn in pipes:
        conn.send(None)
    for proc in procs:
        proc.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
