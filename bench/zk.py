#!/usr/bin/env python
"""The cost of zero knowledge: hiding (default_100_bits_zk) vs transparent (default_100_bits)
stark proofs of the fibonacci guest, same run, same machine.

    python bench/zk.py                  # 2^16 cycles → bench/results/zk.{json,md}
    python bench/zk.py --sizes 16 20    # + 2^20 (transparent ≈ 7 GB peak; hiding more)

Per (size, preset) one fresh subprocess: a warm-up proof of a small run (numba kernels
loaded), then execute + prove (wall time and the process's CPU time over all threads), verify
(best of 3, wall and CPU), the proof's bytes and its recomputed security, peak RSS. The
machine is shared: the load average before and after each measurement is recorded, and CPU
time is the steadier number.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from stark_prove import ELF, host_cpu, n_for  # noqa: E402  (the same guest and run sizes as stark_prove.py)

PRESETS = ("default_100_bits", "default_100_bits_zk")


def worker(n: int, preset: str) -> dict:
    import resource

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    prog, stark = Program.from_elf(ELF), get_backend("stark")
    stark.prove(prog, [(10).to_bytes(4, "little")], preset=preset)  # warm-up
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    receipt = stark.prove(prog, [n.to_bytes(4, "little")], preset=preset)
    prove_wall, prove_cpu = time.perf_counter() - wall, time.process_time() - cpu
    verify = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        report = stark.verify(receipt, prog.image_id)
        verify.append((time.perf_counter() - wall, time.process_time() - cpu))
    return {"preset": preset, "zero_knowledge": report.zero_knowledge, "cycles": receipt.claim.cycles,
            "prove_s": prove_wall, "prove_cpu_s": prove_cpu, "verify_ms": 1000 * min(v[0] for v in verify),
            "verify_cpu_ms": 1000 * min(v[1] for v in verify), "proof_bytes": receipt.params["proof_bytes"],
            "security_bits": receipt.params["security_bits"], "log_heights": report.log_heights,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load_before": load_before[0], "load_after": os.getloadavg()[0]}


def run_one(n: int, preset: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", str(n), preset], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode != 0:
        return {"preset": preset, "n": n, "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def write(results: list, out_dir: Path) -> None:
    import numba

    meta = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
            "numba": numba.__version__, "cpus": os.cpu_count(), "cpu": host_cpu(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "command": " ".join(["python", "bench/zk.py", *sys.argv[1:]])}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "zk.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    lines = [f"# Zero knowledge: hiding vs transparent stark proofs ({meta['date']})", "",
             f"fibonacci guest; Python {meta['python']}, numba {meta['numba']} ({meta['numba_threads']} threads), "
             f"{meta['cpus']} CPUs, {meta['cpu']}, shared with other work (load average per row). Command: `{meta['command']}`.",
             "CPU = the process's CPU time over all its threads.", "",
             "| cycles | preset | prove (s) | prove CPU (s) | verify (ms) | verify CPU (ms) | proof (bytes) "
             "| security (bits) | peak RSS (MB) | load before / after |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if "error" in r:
            lines.append(f"| n = {r['n']} | {r['preset']} | error: {r['error']} | | | | | | | |")
            continue
        lines.append(f"| {r['cycles']} | {r['preset']} | {r['prove_s']:.1f} | {r['prove_cpu_s']:.1f} | {r['verify_ms']:.0f} "
                     f"| {r['verify_cpu_ms']:.0f} | {r['proof_bytes']} | {r['security_bits']} | {r['peak_rss_mb']:.0f} "
                     f"| {r['load_before']:.1f} / {r['load_after']:.1f} |")
    by = {}
    for r in results:
        if "error" not in r:
            by.setdefault(r["cycles"], {})[r["zero_knowledge"]] = r
    lines += ["", "Hiding / transparent:", ""]
    for cycles, pair in by.items():
        if len(pair) == 2:
            z, t = pair[True], pair[False]
            lines.append(f"- {cycles} cycles: prove CPU ×{z['prove_cpu_s'] / t['prove_cpu_s']:.2f}, proof bytes "
                         f"×{z['proof_bytes'] / t['proof_bytes']:.2f}, verify CPU ×{z['verify_cpu_ms'] / t['verify_cpu_ms']:.2f}, "
                         f"peak RSS ×{z['peak_rss_mb'] / t['peak_rss_mb']:.2f}")
    (out_dir / "zk.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[16], help="log2 of the cycle counts")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        n, preset = args.worker
        print(json.dumps(worker(int(n), preset)))
        return 0
    results = []
    for log in args.sizes:
        n = n_for(log)
        for preset in PRESETS:
            results.append(run_one(n, preset))
            print(json.dumps(results[-1]), flush=True)
    write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
