#!/usr/bin/env python
"""LdeSource.rows on a CPU-table-sized source, in parts of its columns (the default
ROWS_WORK_BYTES, whatever its size) and whole: CPU seconds of each, and that both give the same rows.

    NUMBA_NUM_THREADS=1 python bench/lde_rows.py [log_d] [w]    # default 21 80 (2^20 hiding)

Random coefficients (D = 2^log_d, w columns), blowup 2, 84 random positions (blowup2's
queries); each variant twice, after a small warm-up call (compilation)."""

from __future__ import annotations

import sys
import time

import numpy as np


def main(argv) -> int:
    from pyzkvm.stark import lde_source
    from pyzkvm.stark.field import P

    log_d, w = (int(a) for a in (argv + ["21", "80"][len(argv):])[:2])
    rng = np.random.default_rng(1)
    src = lde_source.LdeSource(rng.integers(0, P, (1 << log_d, w), dtype=np.int64).astype(np.uint32), 1, 31)
    pos = rng.integers(0, src.shape[0], 84)
    lde_source.LdeSource(src.coefficients[:16], 1, 31).rows(pos % 32)  # compile
    rows = {}
    work = lde_source.ROWS_WORK_BYTES
    for name, work_bytes, whole_bytes in [("parts", work, work), ("whole", 1 << 40, 1 << 40)] * 2:
        lde_source.ROWS_WORK_BYTES, lde_source.ROWS_WHOLE_BYTES = work_bytes, whole_bytes
        t0, c0 = time.perf_counter(), time.process_time()
        rows[name] = src.rows(pos)
        print(f"D=2^{log_d} w={w} {name}: cpu {time.process_time() - c0:.3f} s, wall {time.perf_counter() - t0:.3f} s")
    assert np.array_equal(rows["parts"], rows["whole"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
