#!/usr/bin/env python
"""Does this machine's memory bandwidth scale with its cores? (issue 18: 2 threads vs 1)

    python bench/memory_bandwidth.py

A STREAM-style triad a[i] = b[i] + s·c[i] over three 256 MiB float64 arrays (numba prange, 5
passes after a warm-up) at 1 and 2 threads, and two independent chains of 10^8 modular
multiply-adds (no memory traffic) at 1 and 2 threads. The prover's transforms at 2^18–2^20 rows
stream their matrices through memory: where the triad does not scale, neither can they.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange


@njit(parallel=True)
def triad(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(parallel=True)
def chains(out, iters):
    # out[t] = the end of chain t: x ← (x·A + C) mod p, 2 chains, cache-resident
    for t in prange(2):
        x = np.uint64(t + 1)
        for _ in range(iters):
            x = (x * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)) % np.uint64(2013265921)
        out[t] = x


def main() -> int:
    n = 1 << 25
    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    out = np.zeros(2, dtype=np.uint64)
    for threads in (1, 2):
        numba.set_num_threads(threads)
        triad(a, b, c, 3.0)
        t = time.perf_counter()
        for _ in range(5):
            triad(a, b, c, 3.0)
        dt = (time.perf_counter() - t) / 5
        chains(out, 1000)
        t = time.perf_counter()
        chains(out, 100_000_000)
        print(f"{threads} thread(s): triad {3 * 8 * n / dt / 1e9:.1f} GB/s; two chains {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
