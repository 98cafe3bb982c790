#!/usr/bin/env python
"""How much of a prove step two threads cannot share: per step, at 2 threads, the calling
thread's CPU outside the pool's chunks (serial) beside the chunks' CPU on every thread.

    PYTHONPATH=CHECKOUT python bench/serial_share.py [--log 18] [--preset default_100_bits_zk] [--repeats 1] [--threads 2]

On a quiet 2-core machine a step's 2-thread wall is about serial + chunks / 2 (the estimate
printed), whatever else runs beside it: this measures the part of the 1.7× target a step's
code decides, where the wall itself needs a quiet machine (the pool hands chunks to a second
thread only while the machine's load leaves a CPU free, so here it is told the machine is
free: ``pool.free_cpus`` → 2). Chunks are counted once, where they start on a thread (a loop
opened inside a chunk is part of it). The steps are bench/prove_profile.py's; only those
given by ``--steps`` (default: execute + build tables, the LogUp phase; ``all``: every step) are
wrapped. ``--threads 1`` runs the same steps on one thread: their CPU, all of it "serial", is
what the 2-thread run's serial + chunks CPU is compared with (the CPU a split adds).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_STEPS = ("execute + build tables", "LogUp phase: f̂ on H, LogUp trace, aux LDE")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=int, default=18, help="log2 of the cycle count")
    ap.add_argument("--preset", default="default_100_bits_zk")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--steps", nargs="*", default=list(DEFAULT_STEPS), help="step names, or 'all'")
    ap.add_argument("--threads", type=int, default=2, choices=(1, 2),
                    help="1: every step's CPU on one thread (all 'serial'), the baseline the 2-thread "
                         "chunks' CPU is compared with: what splitting a step adds to its CPU")
    args = ap.parse_args(argv)

    import numba

    numba.set_num_threads(args.threads)
    import prove_profile as pp
    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import pool

    pool.free_cpus = lambda: 2  # the code's share of the work, not this machine's load
    if args.steps == ["all"]:
        args.steps = list(dict.fromkeys(label for _m, _a, label in pp.STEPS))
    current: list = [None]  # the step running now
    depth = threading.local()  # chunks open on this thread (a nested loop's chunk is its outer chunk's)
    chunks: dict = defaultdict(float)  # step → chunks' thread CPU, every thread
    on_caller: dict = defaultdict(float)  # step → chunks' thread CPU on the calling thread
    wall: dict = defaultdict(float)
    caller: dict = defaultdict(float)  # step → the calling thread's CPU
    run_chunk = pool._Loop.run

    def counted(loop, j):
        outer = getattr(depth, "open", 0)
        depth.open = outer + 1
        t0 = time.thread_time()
        try:
            run_chunk(loop, j)
        finally:
            depth.open = outer
            if current[0] is not None and outer == 0:
                spent = time.thread_time() - t0
                chunks[current[0]] += spent
                if threading.current_thread() is threading.main_thread():
                    on_caller[current[0]] += spent

    pool._Loop.run = counted
    for module, attr, label in pp.STEPS:
        if label not in args.steps:
            continue
        owner = pp._resolve(module)
        fn = getattr(owner, attr, None)
        if fn is None:
            continue

        def timed(*a, _fn=fn, _label=label, **k):
            if threading.current_thread() is not threading.main_thread() or getattr(depth, "open", 0):
                # a step's function called inside a chunk (ext_powers inside a LogUp chunk) is
                # that chunk's work: on a worker, setting ``current`` raced with the calling
                # thread's own steps (one that began meanwhile restored the worker's label when
                # it returned, and later chunks were charged to it); on the calling thread, the
                # other threads' chunks of the outer loop that ended meanwhile were charged to it
                return _fn(*a, **k)
            if current[0] is not None:
                # a step called inside another is that step's (as prove_profile counts it): since
                # session 19 the per-table loops are steps around steps (prover._quotients around
                # _quotient_chunks, one label), and both counted their wall and CPU, twice
                return _fn(*a, **k)
            current[0] = _label
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return _fn(*a, **k)
            finally:
                wall[_label] += time.perf_counter() - t0
                caller[_label] += time.thread_time() - c0
                current[0] = None

        setattr(owner, attr, timed)

    prog = Program.from_elf(ELF)
    backend = get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=args.preset)  # warm-up: kernels loaded
    n = n_for(args.log)
    print(f"2^{args.log} cycles, {args.preset}, {args.threads} thread(s) (pool told the machine is free)")
    print(f"  {'step':28s} {'wall':>6s} {'serial':>7s} {'chunks':>7s} {'quiet 2-thr est.':>17s}")
    for _ in range(args.repeats):
        for d in (chunks, on_caller, wall, caller):
            d.clear()
        backend.prove(prog, [n.to_bytes(4, "little")], preset=args.preset)
        total = [0.0, 0.0, 0.0]
        for label in args.steps:
            serial = caller[label] - on_caller[label]
            print(f"  {label:28s} {wall[label]:6.3f} {serial:7.3f} {chunks[label]:7.3f} {serial + chunks[label] / 2:17.3f}")
            total = [total[0] + wall[label], total[1] + serial, total[2] + chunks[label]]
        print(f"  {'(these steps)':28s} {total[0]:6.3f} {total[1]:7.3f} {total[2]:7.3f} {total[1] + total[2] / 2:17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
