#!/usr/bin/env python
"""The constraint tape's numba kernel: its compile cost and its warm speed.

    python bench/tape_kernel.py [--code DIR] [--rows LOG] [--repeat N]

1. cold: in a fresh child process with an empty NUMBA_CACHE_DIR, the CPU seconds of the first
   ``tape.run`` (numba compiling ``tape._run_blocks`` and what it calls; the small field/ext
   kernels ``run`` needs besides are compiled before the clock starts);
2. warm: one thread (NUMBA_NUM_THREADS=1), the tapes of the six machine AIRs that
   tests/stark/test_tape.py uses (every node kind between them) on 2^LOG random rows, both
   ways the prover runs them — Σ α^i·C_i per row (the quotient) and every root's value (the
   debug check, LogUp columns) — best of N, CPU seconds; with a digest of the outputs, so two
   checkouts can be checked to compute the same values.

``--code DIR`` measures another checkout (run the two back to back for an A/B).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRS = ["cpu", "program", "alu divrem", "syscall", "journal words", "memory boundary"]


def child(log_rows: int, repeat: int, cold: bool) -> None:
    import numpy as np

    from pyzkvm.machine import machine_airs
    from pyzkvm.machine.statement import NUM_PUBLIC_VALUES
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, ext, tape
    from pyzkvm.stark.field import P
    from pyzkvm.stark.keys import compile_for

    airs = {a.name: a for a in machine_airs()}
    rng = np.random.default_rng(7)
    rand = lambda *shape: rng.integers(0, P, size=shape, dtype=np.int64).astype(np.uint32)  # noqa: E731
    n = 1 << log_rows
    cases = []
    for name in AIRS:
        c = compile_for(INSECURE_FAST_FOR_TESTS, airs[name])
        roots = [x.expr for x in c.all_constraints]
        w, wp, wa = c.air.width, c.air.preprocessed_width, c.num_aux_columns
        inputs = tape.Inputs(rand(n, w), rand(n, wp) if wp else None, rand(n, wa, 4) if wa else None,
                             rand(NUM_PUBLIC_VALUES), rand(2, 4), rand(4), rand(n, 3))
        cases.append((tape.build_tape(c, roots), inputs, ext.ext_powers(rand(4), len(roots))))
    if cold:
        ext.ext_powers(rand(4), 3)  # the small kernels run() calls besides the tape's own
        t = time.thread_time()
        tape.run(cases[0][0], cases[0][1], 4)
        print(f"cold first tape.run (compile): {time.thread_time() - t:.2f} s CPU")
        return
    digest = hashlib.blake2b(digest_size=8)
    for tp, inputs, apows in cases:  # warm-up, and the digest of every output
        digest.update(tape.run(tp, inputs, n, apows).tobytes())
        digest.update(tape.run(tp, inputs, n).tobytes())
    for label, combine in (("Σ α^i·C_i", True), ("root values", False)):
        best = float("inf")
        for _ in range(repeat):
            t = time.process_time()
            for tp, inputs, apows in cases:
                tape.run(tp, inputs, n, apows if combine else None)
            best = min(best, time.process_time() - t)
        print(f"warm {label}: six AIRs × 2^{log_rows} rows, 1 thread: {best * 1e3:.0f} ms CPU (best of {repeat})")
    print(f"output digest {digest.hexdigest()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose pyzkvm runs (default: this one)")
    ap.add_argument("--rows", type=int, default=15, help="log2 of the rows of the warm run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["cold", "warm"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.rows, args.repeat, args.child == "cold")
        return 0
    code = args.code.resolve()
    commit = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=code, capture_output=True, text=True).stdout.strip()
    print(f"# tape kernel, code {code} at {commit}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.2f}")
    me = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="pyzkvm-tape-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp, PYTHONPATH=str(code), PYZKVM_NO_MEMO="1", NUMBA_NUM_THREADS="1")
        for what in ("cold", "warm"):
            subprocess.run([sys.executable, me, "--child", what, "--rows", str(args.rows), "--repeat",
                            str(args.repeat)], cwd=code, env=env, check=True)
    print(f"load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
