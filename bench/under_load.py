#!/usr/bin/env python
"""Is the default thread count ever slower than one thread while a second prove runs beside it?

    python bench/under_load.py [--log 16] [--preset default_100_bits] [--repeats 8] [--code DIR]

Starts two worker processes side by side (each is the other's load). Each is a warm
StarkBackend that proves fibonacci at 2^log cycles ``repeats`` times with 1 numba thread and
``repeats`` times with 2, alternating 1,2 / 2,1, so that both thread counts see the same load,
and prints per process and thread count the median wall and CPU seconds, and the
2-thread / 1-thread wall ratio of adjacent proves (median and range). The issue-18 rule: that
ratio is never above 1 (bench/results/stark_prove.md, "under load"). A machine that others
load too (a shared CI runner) adds noise: compare two checkouts (--code) back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(log_cycles: int, preset: str, repeats: int) -> dict:
    """In this process: the alternating proves; returns {threads: [(wall s, CPU s), ...]}."""
    import numba

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    n = n_for(log_cycles)
    prog, b = Program.from_elf(ELF), get_backend("stark")
    b.prove(prog, [n.to_bytes(4, "little")], preset=preset)  # warm-up: kernels loaded
    out: dict = {1: [], 2: []}
    for i in range(repeats):
        for t in ((1, 2) if i % 2 == 0 else (2, 1)):
            numba.set_num_threads(t)
            c0, t0 = time.process_time(), time.perf_counter()
            b.prove(prog, [n.to_bytes(4, "little")], preset=preset)
            out[t].append((time.perf_counter() - t0, time.process_time() - c0))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=int, default=16, help="log2 of the cycle count")
    ap.add_argument("--preset", default="default_100_bits")
    ap.add_argument("--repeats", type=int, default=8, help="proves per thread count and process")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose pyzkvm is measured")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.log, a.preset, a.repeats)))
        return 0
    env = dict(os.environ, PYTHONPATH=str(a.code.resolve()), NUMBA_NUM_THREADS="2")
    cmd = [sys.executable, __file__, "--worker", "--log", str(a.log), "--preset", a.preset, "--repeats", str(a.repeats)]
    print(f"code {a.code}, 2^{a.log} cycles, {a.preset}, load {os.getloadavg()[0]:.1f}", flush=True)
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for k, p in enumerate(procs):
        out, _ = p.communicate()
        if p.returncode:
            return p.returncode
        res = {int(t): v for t, v in json.loads(out.strip().splitlines()[-1]).items()}
        ratios = [b[0] / a_[0] for a_, b in zip(res[1], res[2])]
        wall = {t: statistics.median(x[0] for x in res[t]) for t in (1, 2)}
        cpu = {t: statistics.median(x[1] for x in res[t]) for t in (1, 2)}
        print(f"process {k}: wall median {wall[1]:.2f} s (1 thread) / {wall[2]:.2f} s (2), CPU {cpu[1]:.2f} / {cpu[2]:.2f} s, "
              f"2/1 wall proof by proof: median {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})")
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
