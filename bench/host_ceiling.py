#!/usr/bin/env python
"""What two threads could give on this host at most, beside what they give: per size, rounds of
(1) one 1-thread prove alone, (2) two 1-thread proves at once in two processes, (3) the same in
two threads of one process, (4) one 2-thread prove alone, each a fibonacci proof in a warm process.

    PYTHONPATH=CHECKOUT python bench/host_ceiling.py [--sizes 14 16] [--rounds 5] [--preset default_100_bits_zk]

Two independent proves share nothing (no serial step, no hand-over between threads, no shared
cache lines): the host's two CPUs finish both in the pair's wall, so 2 × (alone) / (pair) is the
most any split of one proof over two threads can reach here — the host's ceiling (1.00× when the
two vCPUs are one core's hyperthreads doing vector work, 2.00× for two idle real cores). The
2-thread prove's ratio (alone / 2 threads) against that ceiling is the share the code's split
achieves; the rest is the host. Issue 18's target is 2 threads ≥ 1.7× one: on a host whose ceiling
is below 1.7× it cannot be met by any code, and the efficiency column says how close the code is.

A fourth measurement, two 1-thread proves at once in two threads of one process, is the most
one process can get from its two threads when each runs whole proofs (no split): what the GIL
and the process's shared state (allocator, page tables) cost, beside the host's ceiling.

Each round's four measurements run back to back (the host's vector speed changes from minute
to minute: bench/memory_bandwidth.py). The pool is told the machine is free (``pool.free_cpus`` →
2) in the 2-thread prove, as in bench/thread_ratio.py.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import threading
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
    def prove(log, walls):
        numba.set_num_threads(1)  # (per thread: numba's count is the calling thread's)
        t0 = time.perf_counter()
        backend.prove(prog, [n_for(log).to_bytes(4, "little")], preset=preset)
        walls.append(time.perf_counter() - t0)

    while (msg := conn.recv()) is not None:
        log, threads, together = msg
        if threads == "pair":  # two 1-thread proves in two threads of this process: the slower's wall
            walls: list = []
            pair = [threading.Thread(target=prove, args=(log, walls)) for _ in range(2)]
            for t in pair:
                t.start()
            for t in pair:
                t.join()
            conn.send(max(walls))
            continue
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
    print("| log2 table | 1 thread alone (s) | two 1-thread proves at once, two processes, slower (s) "
          "| the same in two threads of one process (s) | 2 threads (s) | host ceiling 2·alone/pair (processes) "
          "| one process's ceiling 2·alone/pair (threads) | 2 threads / 1 | 2 threads' share of the host ceiling | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    med = statistics.median

    def spread(values, fmt):
        return f"{fmt(med(values))} ({fmt(min(values))}–{fmt(max(values))})"

    for log in args.sizes:
        load = os.getloadavg()[0]
        alone, pair, in_threads, two = [], [], [], []
        for r in range(args.rounds + 1):
            ask(a, log, 1)
            t1 = a.recv()
            ask(a, log, 1, True)
            ask(b, log, 1, True)
            tp = max(a.recv(), b.recv())
            ask(a, log, "pair")
            tt = a.recv()
            ask(a, log, 2)
            t2 = a.recv()
            if r:  # round 0 warms this size's buffers
                alone.append(t1)
                pair.append(tp)
                in_threads.append(tt)
                two.append(t2)
        ceiling = [2 * x / y for x, y in zip(alone, pair)]
        threads_ceiling = [2 * x / y for x, y in zip(alone, in_threads)]
        ratio = [x / y for x, y in zip(alone, two)]
        share = [r / c for r, c in zip(ratio, ceiling)]
        s3, x2, pc = (lambda v: f"{v:.3f}"), (lambda v: f"{v:.2f}×"), (lambda v: f"{v:.0%}")
        print(f"| {log} | {spread(alone, s3)} | {med(pair):.3f} | {med(in_threads):.3f} | {spread(two, s3)} | "
              f"{spread(ceiling, x2)} | {spread(threads_ceiling, x2)} | {spread(ratio, x2)} | {spread(share, pc)} "
              f"| {load:.1f} |", flush=True)
    for conn in pipes:
        conn.send(None)
    for proc in procs:
        proc.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
