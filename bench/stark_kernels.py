#!/usr/bin/env python
"""Benchmark the STARK core kernels beside independent oracles measured in the same run.

    python bench/stark_kernels.py            # full run, writes bench/results/stark_kernels.{json,md}
    python bench/stark_kernels.py --quick    # seconds-long smoke version (smaller sizes)

What is measured (best of several runs after a warm-up; numba compile time excluded):

* NTT of one column, 2^16 … 2^22 elements (pyzkvm.stark.ntt.ntt), beside galois.ntt on the
  same data up to 2^20 (galois is slow at big sizes), and the ratio at equal sizes;
* NTT of a batch of 64 columns (a (2^k, 64) row-major matrix), 2^16 … 2^20 rows, beside
  galois.ntt called once per column (up to 2^18 rows);
* coset LDE (interpolate + evaluate on the blowup-2 coset, bit-reversed) of 64 columns;
* Merkle node hashing (compress_pairs) in nodes/s, with 1 thread (the per-core figure) and
  with all numba threads, beside the blake3 package called once per node;
* leaf hashing (hash_rows) of rows of 8, 64 and 300 field elements, beside the blake3
  package called once per row; a full MerkleTree.commit of 2^16 rows × 64 columns.

``--rates``: only the 1-thread kernel rates of issue 18 (seconds), printed as a markdown table —
BLAKE3 leaves (MB/s and hashes/s) and nodes beside the blake3 package on the same bytes (per
message, and the whole matrix as one message: the package's own SIMD ceiling), every digest
compared; DIF/DIT/ntt butterflies/s on (2^16, w) matrices and one 2^20 column, beside galois.ntt
(outputs compared). Run it with PYTHONPATH=<checkout> to measure another tree's kernels.

Targets (DESIGN.md §6, this 2-core machine): one 2^20 column NTT ≤ 30 ms and ≥ 5× galois.ntt;
≥ 3 M Merkle nodes/s per core. The machine is shared, so absolute times are noisy: the
ratios against the oracle measured in the same run are the stable numbers.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import blake3
import galois
import numba
import numpy as np

from pyzkvm.stark.field import P
from pyzkvm.stark.merkle import MerkleTree, compress_pairs, hash_rows
from pyzkvm.stark.ntt import coset_lde, ntt

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
GF = galois.GF(P)


def best_of(fn, repeats: int, warmup: int = 1) -> float:
    """Best wall time in seconds of `repeats` calls after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "galois": galois.__version__,
        "blake3": getattr(blake3, "__version__", "?"),
        "load_average": list(os.getloadavg()),
    }


# --- NTT ----------------------------------------------------------------------------------


def bench_ntt_single(logs, galois_max_log, repeats):
    rng = np.random.default_rng(1)
    rows = []
    for log_n in logs:
        x = rng.integers(0, P, 1 << log_n, dtype=np.uint32)
        ours = best_of(lambda: ntt(x), repeats)
        row = {"log_n": log_n, "ours_ms": ours * 1e3}
        if log_n <= galois_max_log:
            gx = GF(x)
            reps = 3 if log_n <= 18 else 1
            theirs = best_of(lambda: galois.ntt(gx), reps, warmup=1 if log_n <= 18 else 0)
            assert np.array_equal(np.asarray(galois.ntt(gx)), ntt(x)) if log_n <= 16 else True
            row.update(galois_ms=theirs * 1e3, speedup=theirs / ours)
        rows.append(row)
        print(f"  ntt 1 × 2^{log_n}: {row['ours_ms']:.2f} ms" + (f"  galois {row['galois_ms']:.1f} ms  ×{row['speedup']:.1f}" if "speedup" in row else ""), flush=True)
    return rows


def bench_ntt_batch(logs, width, galois_max_log, repeats):
    rng = np.random.default_rng(2)
    rows = []
    for log_n in logs:
        m = rng.integers(0, P, (1 << log_n, width), dtype=np.uint32)
        ours = best_of(lambda: ntt(m), repeats)
        lde = best_of(lambda: coset_lde(m, 1), repeats)
        row = {"log_n": log_n, "width": width, "ours_ms": ours * 1e3, "coset_lde_blowup2_ms": lde * 1e3}
        if log_n <= galois_max_log:
            cols = [GF(np.ascontiguousarray(m[:, c])) for c in range(width)]
            theirs = best_of(lambda: [galois.ntt(c) for c in cols], 1, warmup=0)
            row.update(galois_ms=theirs * 1e3, speedup=theirs / ours)
        rows.append(row)
        print(f"  ntt {width} × 2^{log_n}: {row['ours_ms']:.1f} ms, lde ×2 {row['coset_lde_blowup2_ms']:.1f} ms"
              + (f"  galois {row['galois_ms']:.0f} ms  ×{row['speedup']:.1f}" if "speedup" in row else ""), flush=True)
    return rows


# --- BLAKE3 / Merkle ----------------------------------------------------------------------


def bench_merkle_nodes(log_nodes, oracle_nodes, repeats):
    rng = np.random.default_rng(3)
    digests = rng.integers(0, 2**32, (2 << log_nodes, 8), dtype=np.uint32)
    n_nodes = 1 << log_nodes
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = best_of(lambda: compress_pairs(digests), repeats)
    finally:
        numba.set_num_threads(threads)
    allt = best_of(lambda: compress_pairs(digests), repeats)
    # the oracle: the blake3 package called once per node on left ‖ right
    blobs = [digests[2 * i : 2 * i + 2].tobytes() for i in range(oracle_nodes)]
    theirs = best_of(lambda: [blake3.blake3(b).digest() for b in blobs], 3)
    ours_1 = n_nodes / one
    res = {
        "nodes": n_nodes,
        "ours_nodes_per_s_1_thread": ours_1,
        "ours_nodes_per_s_all_threads": n_nodes / allt,
        "threads": threads,
        "blake3_pkg_nodes_per_s": oracle_nodes / theirs,
        "speedup_1_thread": ours_1 / (oracle_nodes / theirs),
    }
    print(f"  merkle nodes: {ours_1 / 1e6:.2f} M/s (1 thread), {res['ours_nodes_per_s_all_threads'] / 1e6:.2f} M/s ({threads} threads); "
          f"blake3 pkg per node {res['blake3_pkg_nodes_per_s'] / 1e6:.2f} M/s", flush=True)
    return res


def bench_leaves(log_rows, widths, repeats):
    rng = np.random.default_rng(4)
    rows_out = []
    for w in widths:
        m = rng.integers(0, P, (1 << log_rows, w), dtype=np.uint32)
        ours = best_of(lambda: hash_rows(m), repeats)
        k = min(1 << log_rows, 1 << 14)
        blobs = [m[i].tobytes() for i in range(k)]
        theirs = best_of(lambda: [blake3.blake3(b).digest() for b in blobs], 3) * ((1 << log_rows) / k)
        rows_out.append({
            "rows": 1 << log_rows, "width": w,
            "ours_rows_per_s": (1 << log_rows) / ours, "ours_MB_per_s": m.nbytes / ours / 1e6,
            "blake3_pkg_rows_per_s": (1 << log_rows) / theirs, "speedup": theirs / ours,
        })
        print(f"  leaves w={w}: {rows_out[-1]['ours_rows_per_s'] / 1e6:.2f} M rows/s ({rows_out[-1]['ours_MB_per_s']:.0f} MB/s), "
              f"blake3 pkg per row ×{rows_out[-1]['speedup']:.1f}", flush=True)
    return rows_out


def bench_commit(log_rows, width, repeats):
    m = np.random.default_rng(5).integers(0, P, (1 << log_rows, width), dtype=np.uint32)
    t = best_of(lambda: MerkleTree.commit(m), repeats)
    print(f"  MerkleTree.commit 2^{log_rows} × {width}: {t * 1e3:.1f} ms", flush=True)
    return {"log_rows": log_rows, "width": width, "ms": t * 1e3}


# --- 1-thread kernel rates beside their oracles (--rates) --------------------------------


def _cpu_best(fn, repeats: int = 7) -> float:
    # best thread CPU time of `repeats` calls after a warm-up (1 numba thread: the calling
    # thread does all the work, so CPU time is immune to the shared machine's load)
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return min(times)


def _package_digests(rows) -> np.ndarray:
    return np.frombuffer(b"".join(blake3.blake3(r.tobytes()).digest() for r in rows), dtype="<u4").reshape(-1, 8)


def bench_rates(log_rows: int = 15) -> list:
    """Rows of (kernel, shape, ours, oracle, unit, same output) at 1 numba thread."""
    from pyzkvm.stark import ntt as N

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    rng = np.random.default_rng(11)
    out = []
    try:
        for w in (8, 16, 64, 89, 300):
            m = rng.integers(0, P, (1 << log_rows, w), dtype=np.uint32)
            same = np.array_equal(hash_rows(m), _package_digests(m))
            t = _cpu_best(lambda: hash_rows(m))
            t_pkg = _cpu_best(lambda: _package_digests(m), 3)
            whole = m.tobytes()
            t_one = _cpu_best(lambda: blake3.blake3(whole).digest(), 3)
            out.append((f"BLAKE3 leaves, {w} elements", f"2^{log_rows} × {w}",
                        f"{m.nbytes / t / 1e6:.0f} MB/s = {m.shape[0] / t / 1e6:.2f} M hashes/s",
                        f"{m.nbytes / t_pkg / 1e6:.0f} MB/s per row; {m.nbytes / t_one / 1e6:.0f} MB/s as one message", same))
        d = rng.integers(0, 2**32, (2 << 16, 8), dtype=np.uint32)
        same = np.array_equal(compress_pairs(d), _package_digests(d.reshape(-1, 16)))
        t = _cpu_best(lambda: compress_pairs(d))
        t_pkg = _cpu_best(lambda: _package_digests(d.reshape(-1, 16)), 3)
        out.append(("BLAKE3 nodes (64-byte compressions)", "2^16 nodes", f"{(1 << 16) / t / 1e6:.2f} M nodes/s",
                    f"{(1 << 16) / t_pkg / 1e6:.2f} M nodes/s per node", same))
        for w in (1, 64, 89):
            log_n = 20 if w == 1 else 16
            m = rng.integers(0, P, (1 << log_n, w), dtype=np.uint32)
            fly = (1 << (log_n - 1)) * log_n * w
            cols = range(w) if w < 64 else range(0, w, 16)
            got = ntt(m).reshape(1 << log_n, w)
            same = all(np.array_equal(np.asarray(galois.ntt(GF(np.ascontiguousarray(m.reshape(-1, w)[:, c])))), got[:, c]) for c in cols)
            t_gal = _cpu_best(lambda: galois.ntt(GF(np.ascontiguousarray(m.reshape(-1, w)[:, 0]))), 3) * w
            work = np.ascontiguousarray(m.reshape(-1, w))
            t_dif = _cpu_best(lambda: N._dif(work, log_n, False))
            t_dit = _cpu_best(lambda: N._dit(work, log_n, True))
            t_ntt = _cpu_best(lambda: ntt(m))
            out.append((f"NTT, {w} column{'s' if w > 1 else ''}", f"2^{log_n} × {w}",
                        f"DIF {fly / t_dif / 1e6:.0f} / DIT {fly / t_dit / 1e6:.0f} / ntt() {fly / t_ntt / 1e6:.0f} M butterflies/s",
                        f"galois.ntt {fly / t_gal / 1e6:.0f} M butterflies/s" + (" (columns 0, 16, …)" if w >= 64 else ""), same))
    finally:
        numba.set_num_threads(threads)
    return out


def rates_markdown(rows) -> str:
    import pyzkvm

    head = (f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC, code {Path(pyzkvm.__file__).parent.parent}, 1 numba thread, "
            f"thread CPU time (best of 7), load average {os.getloadavg()[0]:.1f}")
    lines = [head, "", "| kernel | shape | pyzkvm | oracle (same data) | identical output |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {k} | {shape} | {ours} | {theirs} | {'yes' if same else '**NO**'} |" for k, shape, ours, theirs, same in rows]
    return "\n".join(lines)


# --- the protocol engineer's toy-AIR measurement (hook) ----------------------------------


def toy_air_measurement():
    """HOOK: if bench/stark_toy_air.py exists and defines measure_toy_air() -> dict, its
    prove/verify numbers are included in the results under "toy_air"."""
    path = HERE / "stark_toy_air.py"
    if not path.exists():
        return {"status": "bench/stark_toy_air.py not present yet"}
    spec = importlib.util.spec_from_file_location("stark_toy_air", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return module.measure_toy_air()
    except Exception as exc:  # report, do not hide, a failing hook
        return {"status": f"measure_toy_air failed: {type(exc).__name__}: {exc}"}


# --- report -------------------------------------------------------------------------------


def targets(res) -> dict:
    single = {r["log_n"]: r for r in res["ntt_single"]}
    out = {}
    if 20 in single:
        r = single[20]
        out["ntt_2^20_le_30ms"] = {"value_ms": r["ours_ms"], "met": r["ours_ms"] <= 30.0}
        if "speedup" in r:
            out["ntt_2^20_ge_5x_galois"] = {"value": r["speedup"], "met": r["speedup"] >= 5.0}
    nodes = res["merkle_nodes"]["ours_nodes_per_s_1_thread"]
    out["merkle_ge_3M_nodes_per_s_per_core"] = {"value": nodes, "met": nodes >= 3e6}
    return out


def to_markdown(res) -> str:
    info = res["machine"]
    lines = [
        "# STARK core kernels",
        "",
        f"Measured {info['date_utc']} UTC on {info['cpu']} ({info['cpu_count']} CPUs, {info['numba_threads']} numba threads; "
        f"load average {res['load_average_at_start'][0]:.2f} at the start, {info['load_average'][0]:.2f} at the end — a shared machine, so "
        f"absolute times vary run to run; the ratios to the oracle measured in the same run are the stable numbers). "
        f"Python {info['python']}, numpy {info['numpy']}, numba {info['numba']}, galois {info['galois']}, blake3 {info['blake3']}. "
        f"Command: `{res['command']}`. Best of several runs after warm-up.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for name, t in res["targets"].items():
        v = t.get("value_ms", t.get("value"))
        unit = " ms" if "value_ms" in t else ""
        vs = f"{v / 1e6:.2f} M/s" if name.startswith("merkle") else f"{v:.2f}{unit}" + ("" if unit else "×")
        lines.append(f"| {name} | {vs} | {'yes' if t['met'] else '**no**'} |")
    lines += ["", "## NTT, one column", "", "| size | pyzkvm (ms) | galois.ntt (ms) | speed-up |", "| --- | --- | --- | --- |"]
    for r in res["ntt_single"]:
        lines.append(f"| 2^{r['log_n']} | {r['ours_ms']:.2f} | "
                     + (f"{r['galois_ms']:.1f} | {r['speedup']:.1f}× |" if "speedup" in r else "— | — |"))
    lines += ["", "## NTT, batch of columns (row-major (n, w))", "",
              "| rows | width | ntt (ms) | coset LDE ×2 (ms) | galois.ntt per column (ms) | speed-up |", "| --- | --- | --- | --- | --- | --- |"]
    for r in res["ntt_batch"]:
        lines.append(f"| 2^{r['log_n']} | {r['width']} | {r['ours_ms']:.1f} | {r['coset_lde_blowup2_ms']:.1f} | "
                     + (f"{r['galois_ms']:.0f} | {r['speedup']:.1f}× |" if "speedup" in r else "— | — |"))
    mn = res["merkle_nodes"]
    lines += ["", "## BLAKE3 Merkle", "",
              f"- nodes (compress_pairs, 2^{mn['nodes'].bit_length() - 1} nodes): **{mn['ours_nodes_per_s_1_thread'] / 1e6:.2f} M nodes/s on 1 thread**, "
              f"{mn['ours_nodes_per_s_all_threads'] / 1e6:.2f} M nodes/s on {mn['threads']} threads; "
              f"the blake3 package called per node: {mn['blake3_pkg_nodes_per_s'] / 1e6:.2f} M nodes/s (×{mn['speedup_1_thread']:.1f} for 1 thread)",
              "", "| leaf width (elements) | rows/s | MB/s | blake3 pkg per row: speed-up |", "| --- | --- | --- | --- |"]
    for r in res["leaves"]:
        lines.append(f"| {r['width']} | {r['ours_rows_per_s'] / 1e6:.2f} M | {r['ours_MB_per_s']:.0f} | {r['speedup']:.1f}× |")
    c = res["merkle_commit"]
    lines += ["", f"- MerkleTree.commit of 2^{c['log_rows']} rows × {c['width']} columns: {c['ms']:.1f} ms", "",
              "## Toy AIR prove/verify (bench/stark_toy_air.py hook)", "", "```", json.dumps(res["toy_air"], indent=2, default=str), "```", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds); results still written")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder (default bench/results)")
    ap.add_argument("--rates", action="store_true", help="only the 1-thread kernel rates beside their oracles (printed)")
    args = ap.parse_args(argv)
    if args.rates:
        rows = bench_rates()
        print(rates_markdown(rows))
        return 0 if all(r[-1] for r in rows) else 1

    print("STARK core kernels" + (" (quick)" if args.quick else ""), flush=True)
    if args.quick:
        single_logs, galois_max, batch_logs, batch_galois_max, reps = [12, 14, 16], 16, [12, 14], 12, 3
        node_log, leaf_log, commit_log = 14, 12, 12
    else:
        single_logs, galois_max, batch_logs, batch_galois_max, reps = [16, 17, 18, 19, 20, 21, 22], 20, [16, 17, 18, 19, 20], 18, 7
        node_log, leaf_log, commit_log = 20, 16, 16
    res = {"command": "python bench/stark_kernels.py" + (" --quick" if args.quick else ""),
           "load_average_at_start": list(os.getloadavg())}
    res["ntt_single"] = bench_ntt_single(single_logs, galois_max, reps)
    res["ntt_batch"] = bench_ntt_batch(batch_logs, 64, batch_galois_max, max(3, reps // 2))
    res["merkle_nodes"] = bench_merkle_nodes(node_log, min(1 << 16, 1 << node_log), reps)
    res["leaves"] = bench_leaves(leaf_log, [8, 64, 300], reps)
    res["merkle_commit"] = bench_commit(commit_log, 64, max(3, reps // 2))
    res["toy_air"] = toy_air_measurement()
    res["machine"] = machine_info()
    res["targets"] = targets(res)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "stark_kernels_quick" if args.quick else "stark_kernels"
    (args.out / f"{stem}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (args.out / f"{stem}.md").write_text(to_markdown(res))
    print(f"wrote {args.out / stem}.json and .md")
    for name, t in res["targets"].items():
        print(f"  target {name}: {'met' if t['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
