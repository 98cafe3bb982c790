#!/usr/bin/env python
"""Where a warm `pyzkvm prove` of a tiny guest spends its CPU, step by step (issue 19 §1).

    PYTHONPATH=CHECKOUT python bench/warm_prove_split.py [--n 10]

One fresh process proves fibonacci(n) once with the default preset, as a warm command does
(numba kernels loaded from their cache, the memo as the environment has it: run a prove once
before to fill both), with bench/prove_profile.py's protocol steps timed in process CPU
seconds (every thread). Prints the import, the prove's wall and CPU time, the load average,
the CPU of each step and the kernels' share (NTT, BLAKE3). Run it on two checkouts back to
back to compare (bench/results/cold_start.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
ELF = HERE.parent / "guests" / "bin" / "fibonacci.elf"


def main(argv=None) -> int:
    from prove_profile import cpu_s, instrument

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="fibonacci(n) (default 10, the README's)")
    a = ap.parse_args(argv)
    c0 = cpu_s()
    import pyzkvm

    imported = cpu_s() - c0
    with instrument() as prof:
        t, c = time.perf_counter(), cpu_s()
        pyzkvm.prove(ELF, [a.n.to_bytes(4, "little")], backend="stark")
        wall, cpu = time.perf_counter() - t, cpu_s() - c
    rep = prof.report(wall, cpu, {"butterflies_per_s": 1, "leaf_bytes_per_s": 1, "nodes_per_s": 1})
    print(f"import {imported:.2f} s CPU; prove {wall:.2f} s wall, {cpu:.2f} s CPU; load {os.getloadavg()[0]:.1f}")
    for step, s in sorted(rep["steps_cpu_s"].items(), key=lambda kv: -kv[1]):
        print(f"  {s:6.2f}  {step}")
    print("  kernels (inside the steps): " + ", ".join(f"{k} {v:.2f}" for k, v in rep["kernels_s"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
