#!/usr/bin/env python
"""Does this machine's memory bandwidth scale with its cores? (issue 18: 2 threads vs 1)

    python bench/memory_bandwidth.py

A STREAM-style triad a[i] = b[i] + s·c[i] over three 256 MiB float64 arrays (numba prange, 5
passes after a warm-up) at 1 and 2 threads, and two independent chains of 10^8 modular
multiply-adds (no memory traffic) at 1 and 2 threads, and the same vectorised uint32 modular
multiply-add work (mod 2^32) over a 16 KiB cache-resident buffer per thread (what the NTT's butterflies
are made of, 8–16 lanes an instruction, no memory traffic). The prover's transforms at
2^18–2^20 rows stream their matrices through memory: where the triad does not scale, neither
can they. The chains are latency-bound (a core's vector units idle between steps); the vector
work is throughput-bound: if the two vCPUs shared one physical core's vector units (SMT
siblings behind the hypervisor), the chains would still scale ~2× and the vector work would not.
(Session 25: on this VM the vector work scales ~1.2× in two threads of one process but ~2× in two
processes, and two whole proofs in two processes run as fast as one alone: it does not bound a
proof's use of two CPUs. bench/host_ceiling.py measures that with proofs.)

And fresh pages: one word written per 4 KiB page of a new 256 MiB array (the kernel zeroes and
maps each page on its first touch, as for every new buffer of the prover: a 2^20-cycle hiding
proof takes ~1.4M such faults), its pages touched by 1 thread or split between 2 (numba prange,
one process, as the prover's pool), alternated: whether page faults scale with the threads.
The arrays are on ordinary pages, as while proving (pyzkvm.stark.heap.ordinary_pages).
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


@njit(parallel=True, cache=True)
def vector_work(buf, rounds):
    # per thread t: rounds × (x ← x·A + C mod 2^32: 32-bit lane multiplies and adds, as the
    # butterflies' Shoup products use) over its own 4,096-lane row of buf (16 KiB, in L1),
    # vectorised across the row
    for t in prange(buf.shape[0]):
        row = buf[t]
        for _ in range(rounds):
            for i in range(row.shape[0]):
                row[i] = row[i] * np.uint32(1103515245) + np.uint32(12345)


def vector_scaling(alternations: int, rounds: int) -> tuple:
    """vector_work at 1 and 2 threads, alternated ``alternations`` times (this host's second
    vCPU comes and goes): (the 2-thread / 1-thread rate ratios, sorted; the last 1-thread rate
    in lanes/s). The numba thread count is restored."""
    threads, ratios = numba.get_num_threads(), []
    for _ in range(alternations):
        rate = []
        for t in (1, 2):
            numba.set_num_threads(t)
            buf = np.ones((t, 4096), dtype=np.uint32)
            vector_work(buf, 1)
            t0 = time.perf_counter()
            vector_work(buf, rounds)
            rate.append(t * 4096 * rounds / (time.perf_counter() - t0))
        ratios.append(rate[1] / rate[0])
    numba.set_num_threads(threads)
    return sorted(ratios), rate[0]


@njit(parallel=True, cache=True)
def touch_pages(a, words_per_page):
    # write one word of each page of ``a`` (its first touch: a page fault each), the pages split
    # among the threads in contiguous runs
    for p in prange(a.shape[0] // words_per_page):
        a[p * words_per_page] = 1


def fresh_page_scaling(alternations: int, mib: int = 256) -> tuple:
    """touch_pages on a fresh ``mib`` MiB array at 1 and 2 threads, alternated: (µs per page at
    1 thread, at 2 threads (wall / pages), both medians). The numba thread count is restored."""
    from pyzkvm.stark.heap import ordinary_pages

    threads, per_page = numba.get_num_threads(), {1: [], 2: []}
    words = (mib << 20) // 4
    with ordinary_pages():
        touch_pages(np.empty(1024, dtype=np.uint32), 1024)  # compiled (or loaded) first
        for _ in range(alternations):
            for t in (1, 2):
                numba.set_num_threads(t)
                a = np.empty(words, dtype=np.uint32)
                t0 = time.perf_counter()
                touch_pages(a, 1024)
                per_page[t].append((time.perf_counter() - t0) / (words // 1024) * 1e6)
                del a
    numba.set_num_threads(threads)
    return float(np.median(per_page[1])), float(np.median(per_page[2]))


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
    ratios, one_thread = vector_scaling(20, 500_000)
    print(f"vector multiply-adds, 20 alternations: 1 thread ~{one_thread / 1e9:.1f} G lanes/s; 2 threads / 1 thread "
          f"median {ratios[10]:.2f}× (range {ratios[0]:.2f}–{ratios[-1]:.2f}×)")
    one, two = fresh_page_scaling(9)
    print(f"fresh pages (first touch of a new 256 MiB array), 9 alternations: 1 thread {one:.2f} µs a page; "
          f"2 threads {two:.2f} µs a page of wall ({one / two:.2f}× the rate of 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
