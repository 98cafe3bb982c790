#!/usr/bin/env python
"""Prove the same run with two checkouts of pyzkvm, alternately, in one session: the ratio of
their prove times is the cost of a change (the machine is shared and noisy, so absolute times
drift; alternating keeps both sides under the same load).

    python bench/compare_trees.py OLD_TREE NEW_TREE [--n 4990] [--rounds 3] [--out FILE.md]

Each measurement is a fresh subprocess with NUMBA_NUM_THREADS=1 and cwd = the tree (so it imports
that tree's pyzkvm): one warm-up proof of fibonacci(10), then execute + prove fibonacci(n) with
the stark backend at its default preset; it reports wall time, the process's CPU time, the
proof size, the security bits verification recomputes, and the CPU time of verifying that
receipt (best of 7 in the same process).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time
import pyzkvm
prog = pyzkvm.Program.from_elf("guests/bin/fibonacci.elf")
pyzkvm.prove(prog, [pyzkvm.inputs.u32(10)])            # warm-up: numba kernels compiled/loaded
w0, c0 = time.perf_counter(), time.process_time()
receipt = pyzkvm.prove(prog, [pyzkvm.inputs.u32(int(sys.argv[1]))])
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
bits = getattr(pyzkvm, "verify_report", None)
bits = bits(receipt, prog.image_id).security.bits if bits else receipt.params["security_bits"]
verify = []
for _ in range(7):                                       # verification: process CPU time, best of 7
    v0 = time.process_time()
    pyzkvm.verify(receipt, prog.image_id)
    verify.append(time.process_time() - v0)
print(json.dumps({"wall": wall, "cpu": cpu, "cycles": receipt.claim.cycles, "seal": len(receipt.seal), "bits": bits,
                  "verify_ms": 1000 * min(verify)}))
"""


def measure(tree: Path, n: int) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", WORKER, str(n)], cwd=tree, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--n", type=int, default=4990, help="fibonacci input (4990: 65 457 cycles, a 2^16-row CPU table)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        for label, tree in (("old", args.old), ("new", args.new)):
            m = measure(tree.resolve(), args.n)
            rows.append((r, label, m))
            print(f"round {r} {label}: wall {m['wall']:.2f} s, cpu {m['cpu']:.2f} s, {m['cycles']} cycles, "
                  f"seal {m['seal']} B, {m['bits']:.1f} bits, verify {m['verify_ms']:.1f} ms", flush=True)
    best = {lab: min(m["cpu"] for _r, lb, m in rows if lb == lab) for lab in ("old", "new")}
    best_wall = {lab: min(m["wall"] for _r, lb, m in rows if lb == lab) for lab in ("old", "new")}
    best_verify = {lab: min(m["verify_ms"] for _r, lb, m in rows if lb == lab) for lab in ("old", "new")}
    ratio = best["new"] / best["old"]
    print(f"best CPU time: old {best['old']:.2f} s, new {best['new']:.2f} s, ratio new/old {ratio:.3f}")
    if args.out:
        lines = [f"# Prove time, two trees side by side ({_dt.datetime.now().isoformat(timespec='minutes')})", "",
                 f"Command: `python bench/compare_trees.py {args.old} {args.new} --n {args.n} --rounds {args.rounds}`; "
                 f"NUMBA_NUM_THREADS=1, stark default preset, load average at start {load:.2f}, end "
                 f"{os.getloadavg()[0]:.2f} (2-core machine, shared).", "",
                 "| round | tree | cycles | wall s | CPU s | seal bytes | bits (verifier) | verify CPU ms |",
                 "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r} | {lb} | {m['cycles']} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['seal']} | {m['bits']:.1f} | {m['verify_ms']:.1f} |"
                  for r, lb, m in rows]
        lines += ["", f"Best of {args.rounds}: CPU old {best['old']:.2f} s, new {best['new']:.2f} s → **new/old = {ratio:.3f}**; "
                  f"wall old {best_wall['old']:.2f} s, new {best_wall['new']:.2f} s; verify CPU (best) old "
                  f"{best_verify['old']:.1f} ms, new {best_verify['new']:.1f} ms.", ""]
        args.out.write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
