#!/usr/bin/env python
"""Benchmark continuations and distributed proving with the trace backend (dev mode).

    python bench/scale.py            # writes bench/results/scale.{json,md}
    python bench/scale.py --quick    # ~10x smaller, writes nothing

**These are trace-backend numbers**: the trace backend executes with trace capture and
digests the trace (BLAKE3); it proves nothing. They measure the machinery (segmented
execution, resuming segments on workers, Dask batches), not STARK proving, whose cost per
cycle is orders of magnitude higher: bench/stark_scale.py measures that (real proofs).

Measured, each configuration in a fresh subprocess (so peak RSS is its own):

* one long run, fibonacci(350000) (4.2 M cycles ≥ 2^22): ``prove`` unsegmented versus
  ``prove(segment_cycles=2^20)`` and ``2^21``, and ``dist.prove_segments`` on a 2-worker
  LocalCluster: wall time and the process's peak RSS (ru_maxrss; for the Dask run, of the
  client only: workers are separate processes);
* batch throughput: 16 input sets of fibonacci(1000000) (≈ 12 M cycles each) through
  ``dist.prove_batch`` on a LocalCluster of 1 and of 2 workers (cluster start-up included,
  and reported separately), beside proving them one after another in one process;
* trace size per cycle (what sets the default segment length, executor/segments.py).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(mode: str, n: int, arg: int) -> dict:
    """One measurement, in this (fresh) process."""
    import pyzkvm
    from pyzkvm import dist
    from pyzkvm.program import Program

    fib = Program.from_elf(FIB_ELF)
    inputs = [struct.pack("<I", n)]
    pyzkvm.prove(fib, [struct.pack("<I", 10)], backend="trace", segment_cycles=1000)  # load numba's cache
    base_rss = peak_rss_mb()
    out: dict = {"mode": mode}
    started = time.perf_counter()
    if mode == "unsegmented":
        receipt = pyzkvm.prove(fib, inputs, backend="trace")
    elif mode == "segmented":
        receipt = pyzkvm.prove(fib, inputs, backend="trace", segment_cycles=arg)
    elif mode == "dask-segments":
        receipt = dist.prove_segments(fib, inputs, arg, workers=2)
        again = pyzkvm.prove(fib, inputs, backend="trace", segment_cycles=arg)
        out["identical_to_local"] = receipt.to_bytes() == again.to_bytes()
    elif mode in ("batch", "sequential"):
        lines = [(i + 1, [struct.pack("<I", n + i)]) for i in range(arg)]
        with tempfile.TemporaryDirectory() as tmp:
            if mode == "sequential":
                for line, inp in lines:
                    Path(tmp, f"fib-{line}.receipt").write_bytes(pyzkvm.prove(fib, inp, backend="trace").to_bytes())
            else:
                results = dist.prove_batch(fib, lines, tmp, stem="fib", workers=int(os.environ["SCALE_WORKERS"]))
                assert not any(r.error for r in results)
            out["receipts"] = len(list(Path(tmp).glob("*.receipt")))
        out["wall_s"] = time.perf_counter() - started
        return out
    elif mode == "cluster-startup":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=arg, threads_per_worker=1, dashboard_address=None, silence_logs=40) as c, Client(c) as cl:
            cl.run(lambda: None)
        out["wall_s"] = time.perf_counter() - started
        return out
    elif mode == "trace-size":
        from pyzkvm.executor import execute

        e = execute(fib, inputs, capture_trace=True)
        out.update(cycles=e.cycles, trace_bytes=e.trace.nbytes, bytes_per_cycle=e.trace.nbytes / e.cycles)
        out["capture_buffer_bytes_per_cycle"] = 4 * len(e.trace.columns)  # 13 u32 rows while capturing
        return out
    else:
        raise SystemExit(f"unknown mode {mode}")
    out["wall_s"] = time.perf_counter() - started
    out["cycles"] = receipt.claim.cycles
    out["segments"] = receipt.params.get("segments", 1)
    out["peak_rss_mb"] = peak_rss_mb()
    out["rss_before_mb"] = base_rss
    return out


def measure(mode: str, n: int, arg: int = 0, workers: int = 0) -> dict:
    env = dict(os.environ, SCALE_WORKERS=str(workers))
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(n), str(arg)], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller runs; write nothing")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "N", "ARG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, n, arg = args.child
        print(json.dumps(child(mode, int(n), int(arg))))
        return
    k = 10 if args.quick else 1
    long_n, batch_n, batch_lines = 350_000 // k, 1_000_000 // k, 16
    seg_small, seg_large = (1 << 20) // k, (1 << 21) // k

    size = measure("trace-size", batch_n)
    long_runs = [
        dict(measure("unsegmented", long_n), label="unsegmented"),
        dict(measure("segmented", long_n, seg_small), label=f"segmented, {seg_small:,} cycles"),
        dict(measure("segmented", long_n, seg_large), label=f"segmented, {seg_large:,} cycles"),
        dict(measure("dask-segments", long_n, seg_small), label=f"Dask segments (2 workers), {seg_small:,} cycles"),
    ]
    startup = {w: measure("cluster-startup", 0, w)["wall_s"] for w in (1, 2)}
    batch = [dict(measure("sequential", batch_n, batch_lines), label="sequential, one process", workers=0)]
    for w in (1, 2):
        batch.append(dict(measure("batch", batch_n, batch_lines, workers=w), label=f"Dask LocalCluster, {w} worker(s)", workers=w))
    if args.quick:
        return

    import numba
    import numpy

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    doc = {
        "date": now, "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": numpy.__version__, "numba": numba.__version__, "backend": "trace (dev mode: not a proof)",
        "trace_size": size, "long_run": long_runs, "cluster_startup_s": startup,
        "batch": {"lines": batch_lines, "n_first": batch_n, "runs": batch},
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(doc, indent=2) + "\n")

    md = [
        "# Continuations and distributed proving (bench/scale.py)", "",
        f"{now} · {cpu} ({os.cpu_count()} cores, shared) · Python {platform.python_version()} · numpy {numpy.__version__} · numba {numba.__version__}", "",
        "**Trace backend (dev mode) numbers: nothing here is a proof.** They measure segmented execution, "
        "resuming segments on workers and Dask batches; STARK proving costs far more per cycle "
        "(real STARK proofs: bench/stark_scale.py, bench/results/stark_scale.md).", "",
        f"## One long run: fibonacci({long_n}), {long_runs[0]['cycles']:,} cycles", "",
        "| configuration | segments | prove time | cycles/s | peak RSS (process) |", "| --- | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in long_runs:
        md.append(f"| {r['label']} | {r['segments']} | {r['wall_s']:.2f} s | {r['cycles'] / r['wall_s'] / 1e6:.1f} M/s | {r['peak_rss_mb']:.0f} MB |")
    dask_run = long_runs[-1]
    md += [
        "",
        f"Peak RSS is the proving process's (ru_maxrss); the Dask row counts the client only (its workers hold one "
        f"segment each), and its time includes starting the LocalCluster and the client's fast pass without traces "
        f"(plan_segments). The Dask receipt is byte-identical to the local segmented one: {dask_run['identical_to_local']}. "
        f"Processes start at ~{long_runs[0]['rss_before_mb']:.0f} MB (Python, numpy, numba).", "",
        f"Trace size: {size['bytes_per_cycle']:.1f} bytes per cycle in the returned Trace "
        f"({size['capture_buffer_bytes_per_cycle']} bytes per cycle in the capture buffer), so a 2^20-cycle segment "
        f"holds ~{(1 << 20) * size['capture_buffer_bytes_per_cycle'] / 1e6:.0f} MB of trace: the default segment length "
        "(pyzkvm/executor/segments.py, DEFAULT_SEGMENT_CYCLES = 2^20).", "",
        f"## Batch: {batch_lines} input sets, fibonacci({batch_n}..{batch_n + batch_lines - 1})", "",
        "| configuration | wall time | receipts/s | LocalCluster start-up (alone) |", "| --- | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in batch:
        up = f"{startup[r['workers']]:.2f} s" if r["workers"] else "—"
        md.append(f"| {r['label']} | {r['wall_s']:.2f} s | {r['receipts'] / r['wall_s']:.2f} | {up} |")
    md += [
        "",
        "Wall time includes starting the LocalCluster (its start-up alone is in the last column) and each "
        "worker loading numba's cache. This machine has 2 shared cores, so 2 workers can at best halve the proving part.",
        "",
    ]
    (RESULTS / "scale.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
