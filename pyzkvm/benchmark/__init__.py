"""The backend comparison benchmark behind ``pyzkvm bench`` and ``bench/compare.py``.

For every available backend it proves the fibonacci guest at a few small inputs and at inputs
sized to about 2^12 … 2^18 cycles, times verification, records proof sizes, proves batches
sequentially and in parallel, and divides every time by the trace backend's time measured in
the same run. One module per concern:

    config.py     BenchConfig: what to measure (full and --quick presets)
    workload.py   the fibonacci guest: inputs, the expected journal (a Python oracle)
    sizing.py     cycles(n) ≈ fixed + per_iteration · n: choosing n for a target cycle count
    measure.py    timing one backend on one workload: prove, check, verify
    batch.py      batches of proofs, sequential and across processes
    runner.py     the orchestration: plan, measure, budget, ratios
    report.py     machine facts, compare.json and the compare.md table
    plots.py      log-log PNG plots (optional: needs matplotlib, the ``bench`` extra)

Library use::

    from pyzkvm.benchmark import BenchConfig, run_benchmark, write_results
    results = run_benchmark(BenchConfig.quick_preset())
    write_results(results, "bench/results")
"""

from .config import BenchConfig
from .report import write_results
from .runner import run_benchmark

__all__ = ["BenchConfig", "run_benchmark", "write_results"]
