"""Benchmark: prove + verify a toy AIR of 2^16 rows × 100 columns at the default (≥100-bit) preset.

The AIR (degree 3, like the machine's selector·a·b products):
    x_0: a counter, x_0 = 0 on the first row, x_0' = x_0 + 1
    x_k = x_{k−1}² · x_{k−2} + k   for k = 2..99 (x_1 is free witness data)

    python bench/stark_toy_air.py [log_rows]    # writes bench/results/stark_toy_air.json
`measure_toy_air()` returns the numbers as a dict (bench/stark_kernels.py calls it);
`measure_bus_tables()` measures a machine-like set of five tables tied by LogUp buses.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from pyzkvm.stark import DEFAULT, Air, prove, setup, verify
from pyzkvm.stark.field import P


class ToyAir(Air):
    name = "toy"
    num_public_values = 0

    def __init__(self, width: int = 100):
        self.width = width

    def constraints(self, b):
        x = b.main_row()
        b.when_first_row().assert_zero(x[0], "counter starts at 0")
        b.when_transition().assert_eq(b.main_next(0), x[0] + 1, "counter increments")
        for k in range(2, self.width):
            b.assert_eq(x[k], x[k - 1] * x[k - 1] * x[k - 2] + k, f"x{k} = x{k-1}^2 x{k-2} + {k}")


def toy_trace(log_rows: int, width: int, seed: int = 0) -> np.ndarray:
    n = 1 << log_rows
    rng = np.random.default_rng(seed)
    cols = np.empty((n, width), dtype=np.uint64)
    cols[:, 0] = np.arange(n)
    cols[:, 1] = rng.integers(0, P, n)
    for k in range(2, width):  # one vectorised column at a time
        cols[:, k] = ((cols[:, k - 1] * cols[:, k - 1]) % P * cols[:, k - 2] + k) % P
    return cols.astype(np.uint32)


def measure_toy_air(log_rows: int = 16, width: int = 100, config=DEFAULT) -> dict:
    """Prove and verify the toy AIR once (after a small warm-up that compiles the kernels)."""
    air = ToyAir(width)
    pk = setup(config, [air])
    small = toy_trace(6, width)
    verify(pk.verifying_key, prove(pk, [small], []).to_bytes(), [])  # warm-up: numba compilation
    trace = toy_trace(log_rows, width)
    steps = {}
    last = [time.perf_counter()]

    def progress(step, fraction):
        now = time.perf_counter()
        steps[step] = steps.get(step, 0.0) + now - last[0]
        last[0] = now

    t0 = time.perf_counter()
    proof = prove(pk, [trace], [], progress=progress)
    t_prove = time.perf_counter() - t0
    data = proof.to_bytes()
    t0 = time.perf_counter()
    report = verify(pk.verifying_key, data, [])
    t_verify = time.perf_counter() - t0
    return {
        "preset": config.name,
        "rows": 1 << log_rows,
        "columns": width,
        "prove_s": round(t_prove, 3),
        "verify_ms": round(1000 * t_verify, 1),
        "proof_bytes": len(data),
        "proof_sections": proof.sizes,
        "security_bits": round(report.security.bits, 1),
        "rows_per_s": round((1 << log_rows) / t_prove),
        "prove_steps_s": {k: round(v, 3) for k, v in steps.items()},
    }


def measure_bus_tables(log_rows: int = 16, config=DEFAULT) -> dict:
    """Four tables tied by LogUp buses (machine-like shape): the toy AIR (2^log_rows × 100),
    a u16 range-check table (2^log_rows rows, 2 byte lookups per row) with the fixed byte
    table, and a permutation between tables of 2^(log_rows−1) and 2^log_rows rows."""
    from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
    from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces

    airs = [ToyAir(100), U16ValuesAir(), ByteTableAir(), LeftAir(), RightAir()]
    pk = setup(config, airs)

    def traces(log_n):
        rng = np.random.default_rng(1)
        return ([toy_trace(log_n, 100)] + range_check_traces(rng.integers(0, 1 << 16, 1 << log_n))
                + permutation_traces(rng.integers(0, P, 1 << (log_n - 1)), 1 << log_n))

    verify(pk.verifying_key, prove(pk, traces(8), []).to_bytes(), [])  # warm-up
    tr = traces(log_rows)
    t0 = time.perf_counter()
    proof = prove(pk, tr, [])
    t_prove = time.perf_counter() - t0
    data = proof.to_bytes()
    t0 = time.perf_counter()
    report = verify(pk.verifying_key, data, [])
    t_verify = time.perf_counter() - t0
    return {
        "preset": config.name,
        "tables": {a.name: int(t.shape[0]) for a, t in zip(airs, tr)},
        "base_columns": int(sum(t.shape[1] for t in tr)),
        "prove_s": round(t_prove, 3),
        "verify_ms": round(1000 * t_verify, 1),
        "proof_bytes": len(data),
        "proof_sections": proof.sizes,
        "security_bits": round(report.security.bits, 1),
    }


if __name__ == "__main__":
    log_rows = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    result = {"toy_air": measure_toy_air(log_rows), "bus_tables": measure_bus_tables(log_rows)}
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "stark_toy_air.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
