#!/usr/bin/env python
"""The matrix NTT at the prover's shapes, 1 and 2 numba threads: CPU and wall per transform.

    PYTHONPATH=CHECKOUT python bench/ntt_shapes.py [--logs 17 18 19 20] [--widths 16 48 80 96 4 8 12 22]
                                                   [--threads 1 2] [--repeats 3] [--bit-reversal]

For each (2^log rows, w columns) matrix of random field elements: the in-place DIF network
(``ntt._dif``: what coset_lde, coset_lde_from_coefficients and coset_evaluations run on each
block) and the DIT network (``ntt._dit``: intt's), the best of ``--repeats`` calls by process
CPU time (all threads) and by wall time, as M butterflies (n/2 · log n · w) per CPU-second.
The first columns of one transform per shape are checked against galois.ntt (up to 2^18 rows).
``--bit-reversal``: also the bit-reversing copy that ntt and intt run before the DIT network
(``ntt._bit_reverse_into`` into a buffer allocated once: no page faults), its CPU and wall.
``PYTHONPATH`` picks the checkout measured: run it on two checkouts back to back for an A/B
(the script uses only ``_dif``/``_dit`` and ``_bit_reverse_into``, present in every version since session 10).

Why: issue 18's step split at 2^20 showed the prover's NTT at about half its cache-hot rate at
1 thread and its kernel CPU doubled at 2 threads (bench/results/stark_kernels.md, "nttb").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def best_of(fn, src: np.ndarray, repeats: int) -> tuple:
    """(best CPU s, best wall s, the last output) of fn on a fresh copy of src each time."""
    cpu = wall = float("inf")
    out = src
    for _ in range(repeats):
        out = src.copy()
        c0, t0 = time.process_time(), time.perf_counter()
        fn(out)
        cpu, wall = min(cpu, time.process_time() - c0), min(wall, time.perf_counter() - t0)
    return cpu, wall, out


def check_against_galois(src: np.ndarray, dif_out: np.ndarray, log_n: int, columns: int = 2) -> bool:
    """The DIF output (bit-reversed rows) of the first columns equals galois.ntt's."""
    import galois

    from pyzkvm.stark import ntt
    from pyzkvm.stark.field import P

    gf = galois.GF(P)
    rev = ntt.bit_reverse_indices(1 << log_n)
    return all(np.array_equal(np.asarray(galois.ntt(gf(src[:, c].copy())))[rev], dif_out[:, c])
               for c in range(min(columns, src.shape[1])))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=int, nargs="+", default=[17, 18, 19, 20])
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 48, 80, 96, 4, 8, 12, 22])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--galois-max-log", type=int, default=18)
    ap.add_argument("--bit-reversal", action="store_true", help="also time the bit-reversing copy")
    args = ap.parse_args(argv)

    import numba

    import pyzkvm
    from pyzkvm.stark import ntt
    from pyzkvm.stark.field import P

    code = Path(pyzkvm.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(code), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, code {code} ({commit}), load {os.getloadavg()[0]:.1f}; "
          f"best of {args.repeats}, CPU = process CPU (all threads)")
    rev_head, rev_rule = (" bit reversal CPU / wall (ms) |", " --- |") if args.bit_reversal else ("", "")
    print("\n| rows | width | threads | DIF CPU / wall (ms) | DIF M/s per CPU-s | DIT CPU / wall (ms) | "
          f"DIT M/s per CPU-s |{rev_head} galois | load |")
    print(f"| --- | --- | --- | --- | --- | --- | --- |{rev_rule} --- | --- |")
    rng = np.random.default_rng(18)
    for log_n in args.logs:
        for w in args.widths:
            src = rng.integers(0, P, size=(1 << log_n, w), dtype=np.uint32)
            fly = (1 << (log_n - 1)) * log_n * w
            for t in args.threads:
                numba.set_num_threads(t)
                ntt._dif(src[:1 << 10].copy(), 10, False)  # compiled / loaded before timing
                dif_cpu, dif_wall, dif_out = best_of(lambda m: ntt._dif(m, log_n, False), src, args.repeats)
                dit_cpu, dit_wall, _ = best_of(lambda m: ntt._dit(m, log_n, True), src, args.repeats)
                rev = ""
                if args.bit_reversal:
                    out = np.empty_like(src)
                    rev_cpu, rev_wall, _ = best_of(lambda m: ntt._bit_reverse_into(src, out), src, args.repeats)
                    rev = f" {rev_cpu * 1e3:.1f} / {rev_wall * 1e3:.1f} |"
                same = check_against_galois(src, dif_out, log_n) if t == args.threads[0] and log_n <= args.galois_max_log \
                    else None
                print(f"| 2^{log_n} | {w} | {t} | {dif_cpu * 1e3:.1f} / {dif_wall * 1e3:.1f} | {fly / dif_cpu / 1e6:.0f} | "
                      f"{dit_cpu * 1e3:.1f} / {dit_wall * 1e3:.1f} | {fly / dit_cpu / 1e6:.0f} |{rev} "
                      f"{'—' if same is None else 'same' if same else 'DIFFERENT'} | {os.getloadavg()[0]:.1f} |", flush=True)
                if same is False:
                    raise SystemExit("the DIF output differs from galois.ntt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
