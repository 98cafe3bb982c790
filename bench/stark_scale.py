#!/usr/bin/env python
"""Benchmark STARK continuations and batch proving (issue 9): real proofs, DEFAULT preset.

    python bench/stark_scale.py            # writes bench/results/stark_scale.{json,md}
    python bench/stark_scale.py --quick    # small sizes, writes nothing (a smoke test)

Measured, each configuration in a fresh subprocess (so its peak RSS, ru_maxrss, is its own):

* one long run, fibonacci(350000) = 4 205 577 cycles (≥ 2^22), proved in segments of 2^20
  cycles (5 segments, one joint statement), against whole-run proofs of ~2^20 cycles and of
  1.8 M cycles — the longest fibonacci run one proof covers at ≥ 100 bits (its tallest table
  has 2^21 rows; at 2^21 cycles the add/sub table needs 2^22 rows, 99.6 bits, and the backend
  refuses it up front: that row records the refusal). Prove time, verify time, proof size,
  peak RSS.
* batch throughput: 8 input sets of fibonacci(1000) (17 577 cycles each) proved with
  ``dist.prove_batch`` on a Dask LocalCluster of 1 and of 2 workers (cluster start included
  and reported), beside proving them one after another in one process.

The oracle in the same run is the trace backend (dev mode) on the same long run: the cost of
executing with trace capture, against which the proof's cost per cycle is read.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time

from scale import FIB_ELF, RESULTS, peak_rss_mb  # bench/scale.py: the paths and RSS reading, shared


def child(mode: str, n: int, segment_cycles: int, batch: int) -> dict:
    """One measurement, in this (fresh) process."""
    import pyzkvm
    from pyzkvm import dist
    from pyzkvm.program import Program

    fib = Program.from_elf(FIB_ELF)
    fib.image_id  # noqa: B018 - the machine setup, cached, not timed
    out: dict = {"mode": mode, "n": n}
    inputs = [struct.pack("<I", n)]
    if mode in ("whole", "segmented", "trace"):
        # "whole": one proof however long (the stark backend would split runs above 2^20 by default)
        options = {"segment_cycles": segment_cycles} if mode == "segmented" else \
            {"segment_cycles": 1 << 22} if mode == "whole" else {}
        backend = "trace" if mode == "trace" else "stark"
        t = time.perf_counter()
        receipt = pyzkvm.prove(fib, inputs, backend=backend, **options)
        out["prove_s"] = time.perf_counter() - t
        out["peak_rss_mb"] = peak_rss_mb()
        t = time.perf_counter()
        pyzkvm.verify(receipt, fib.image_id, dev_mode=backend == "trace")
        out["verify_s"] = time.perf_counter() - t
        out["cycles"] = receipt.claim.cycles
        out["receipt_bytes"] = len(receipt.to_bytes())
        out["segments"] = receipt.params.get("segments", 1)
        out["security_bits"] = receipt.params.get("security_bits")
    elif mode.startswith("batch"):
        sets = [(i + 1, [struct.pack("<I", n)]) for i in range(batch)]
        with tempfile.TemporaryDirectory() as tmp:
            if mode == "batch-sequential":
                t = time.perf_counter()
                for _line, ins in sets:
                    pyzkvm.prove(fib, ins, backend="stark")
                out["prove_s"] = time.perf_counter() - t
            else:
                workers = int(mode.rsplit("-", 1)[1])
                t = time.perf_counter()
                with dist.dask_client(workers=workers, memory_limit=0) as client:
                    out["cluster_start_s"] = time.perf_counter() - t
                    client.run(lambda: __import__("pyzkvm").Program.from_elf(str(FIB_ELF)).image_id)  # warm workers
                    t2 = time.perf_counter()
                    results = dist.prove_batch(fib, sets, tmp, backend="stark", scheduler=client.scheduler.address)
                    out["prove_s"] = time.perf_counter() - t2
                assert len(results) == batch and all(r.error is None for r in results), results
        out["proofs_per_min"] = 60 * batch / out["prove_s"]
        out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(mode: str, n: int, segment_cycles: int, batch: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(n), str(segment_cycles), str(batch)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:  # e.g. -9: killed, out of memory
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        result = {"mode": mode, "n": n, "error": f"exit status {proc.returncode}: {' '.join(tail)}"}
        print(json.dumps(result), file=sys.stderr, flush=True)
        return result
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - t
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, write nothing")
    ap.add_argument("--modes", nargs="+", choices=("trace", "segmented", "whole", "batch"),
                    help="rerun only these rows, replacing them in the existing results (default: all)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, n, seg, batch = args.child
        print(json.dumps(child(mode, int(n), int(seg), int(batch))))
        return
    if args.quick:
        long_n, seg, whole_ns, batch_n, batch = 2000, 1 << 13, [300], 10, 4
    else:
        # written for 5577 + 12·n cycles (the fibonacci ELF before its SDK hashed with the SHA
        # precompiles; 5778 + 12·n now, its journal digest in software again and its input read
        # through fresh memory: each run below is 201 cycles longer): n = 350000 →
        # 4 205 577 (≥ 2^22); whole runs of ~2^20 and ~2^21
        # 150000: 1.8 M cycles, the longest fibonacci whose tallest table (2^21 rows) keeps ≥ 100 bits;
        # 174300 (2^21 cycles) needs a 2^22-row add/sub table: 99.6 bits, refused before proving
        long_n, seg, whole_ns, batch_n, batch = 350_000, 1 << 20, [86_900, 150_000, 174_300], 1000, 8
    started = _dt.datetime.now(_dt.timezone.utc)
    load_before = os.getloadavg()
    modes = set(args.modes or ("trace", "segmented", "whole", "batch"))
    runs = [run_child(m, long_n, seg, 0) for m in ("trace", "segmented") if m in modes]
    runs += [run_child("whole", n, 0, 0) for n in whole_ns] if "whole" in modes else []
    if "batch" in modes:
        runs += [run_child(m, batch_n, 0, batch) for m in ("batch-sequential", "batch-dask-1", "batch-dask-2")]
    meta = {"date": started.isoformat(timespec="seconds"), "machine": platform.platform(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "load_before": load_before, "load_after": os.getloadavg(),
            "long_run_n": long_n, "segment_cycles": seg, "batch": batch, "batch_n": batch_n}
    if args.modes and not args.quick and (RESULTS / "stark_scale.json").exists():  # replace only the rerun rows
        old = json.loads((RESULTS / "stark_scale.json").read_text())
        kept = [r for r in old["runs"] if r["mode"].split("-")[0] not in modes]
        meta["reran"] = old["meta"].get("reran", []) + [{"modes": sorted(modes), "date": meta["date"],
                                                         "load_before": load_before, "load_after": meta["load_after"]}]
        meta.update({k: old["meta"][k] for k in ("date", "load_before", "load_after")})
        order = ("trace", "segmented", "whole", "batch")
        runs = sorted(kept + runs, key=lambda r: order.index(r["mode"].split("-")[0]))
    report = {"meta": meta, "runs": runs}
    print(json.dumps(report, indent=1))
    if args.quick:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stark_scale.json").write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / "stark_scale.md").write_text(markdown(report))


def markdown(report: dict) -> str:
    m = report["meta"]
    lines = [f"# STARK continuations and batches ({m['date']})", "",
             f"{m['machine']}, {m['cpus']} CPUs, Python {m['python']}; load average before "
             f"{m['load_before'][0]:.1f}, after {m['load_after'][0]:.1f}. DEFAULT preset. "
             "Command: `python bench/stark_scale.py`."
             + "".join(f" Rows {', '.join(r['modes'])} rerun {r['date']} (`--modes`; load before "
                       f"{r['load_before'][0]:.1f}, after {r['load_after'][0]:.1f})." for r in m.get("reran", [])),
             "",
             "| run | cycles | segments | prove s | verify s | receipt KB | peak RSS MB | cycles/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in report["runs"]:
        if r["mode"] not in ("trace", "segmented", "whole"):
            continue
        if "error" in r:
            lines.append(f"| {r['mode']} fibonacci({r['n']}) | refused / failed: {r['error']} | | | | | | |")
            continue
        label = {"trace": "trace backend (dev mode, oracle)", "segmented": f"stark, segments of {m['segment_cycles']}",
                 "whole": "stark, one proof"}[r["mode"]]
        lines.append(f"| {label} | {r['cycles']} | {r['segments']} | {r['prove_s']:.1f} | {r['verify_s']:.3f} | "
                     f"{r['receipt_bytes'] / 1000:.0f} | {r['peak_rss_mb']:.0f} | {r['cycles'] / r['prove_s']:,.0f} |")
    lines += ["", f"Batch: {m['batch']} proofs of fibonacci({m['batch_n']}), stark DEFAULT.", "",
              "| mode | prove s | proofs/min | cluster start s |", "| --- | ---: | ---: | ---: |"]
    for r in report["runs"]:
        if r["mode"].startswith("batch"):
            if "error" in r:
                lines.append(f"| {r['mode']} | error: {r['error']} | | |")
                continue
            lines.append(f"| {r['mode']} | {r['prove_s']:.1f} | {r['proofs_per_min']:.1f} | "
                         f"{r.get('cluster_start_s', 0):.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
