#!/usr/bin/env python
"""In-process verify CPU time of two (or more) checkouts, interleaved (issue 18's verify item).

    python bench/verify_ab.py IMAGE_ID_HEX RECEIPT [RECEIPT ...] --code BASE NEW [--rounds 10] [--burst 8]

One persistent process per checkout (its own pyzkvm: the checkout is its working folder and
PYTHONPATH) loads the receipts and verifies each once (the verifying key is then cached, as in
any warm verifier). Then, --rounds times, every receipt is verified --burst times in each
process in turn, so that a shared machine's changing load falls on every checkout alike. Prints
per receipt and checkout the median and minimum CPU ms (time.process_time) of one
``backends.get_backend("stark").verify``, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(image_id: str, receipts: list) -> None:
    """Serve "RECEIPT COUNT" lines: verify it COUNT times, answer the CPU seconds of each."""
    sys.path.insert(0, os.getcwd())
    from pyzkvm.backends import get_backend
    from pyzkvm.receipt import Receipt

    stark = get_backend("stark")
    iid = bytes.fromhex(image_id)
    loaded = {p: Receipt.from_bytes(Path(p).read_bytes()) for p in receipts}
    for r in loaded.values():
        stark.verify(r, iid)
    print("ready", flush=True)
    for line in sys.stdin:
        path, count = line.split()
        out = []
        for _ in range(int(count)):
            start = time.process_time()
            stark.verify(loaded[path], iid)
            out.append(time.process_time() - start)
        print(" ".join(f"{t:.6f}" for t in out), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image_id")
    parser.add_argument("receipts", nargs="+")
    parser.add_argument("--code", nargs="+", required=True, help="the checkouts to compare")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--burst", type=int, default=8)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.image_id, args.receipts)
        return 0
    receipts = [str(Path(r).resolve()) for r in args.receipts]
    procs = {}
    for code in args.code:
        env = dict(os.environ, PYTHONPATH=str(Path(code).resolve()))
        procs[code] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), args.image_id, *receipts,
                                        "--code", code, "--worker"], cwd=code, env=env, text=True,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert procs[code].stdout is not None
        if procs[code].stdout.readline().strip() != "ready":
            raise SystemExit(f"{code}: the worker did not start")
    times: dict = {(c, r): [] for c in args.code for r in receipts}
    load = os.getloadavg()
    for _ in range(args.rounds):
        for r in receipts:
            for code, proc in procs.items():
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(f"{r} {args.burst}\n")
                proc.stdin.flush()
                times[(code, r)] += [float(t) for t in proc.stdout.readline().split()]
    print(f"load average {load[0]:.2f} → {os.getloadavg()[0]:.2f}; {args.rounds} × {args.burst} verifies "
          "per receipt and checkout; CPU ms per verify, median / min")
    for r in receipts:
        cells = [f"{code}: {1000 * statistics.median(times[(code, r)]):.2f} / {1000 * min(times[(code, r)]):.2f}"
                 for code in args.code]
        print(f"  {Path(r).name}: " + "   ".join(cells))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
