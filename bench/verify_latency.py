#!/usr/bin/env python
"""Where a fresh `pyzkvm verify RECEIPT --image-id ID` spends its time (issue 18's verify item).

    python bench/verify_latency.py [--receipt R --image-id HEX] [--runs 3]

Without --receipt it first proves fibonacci(10) with the default preset (a warm-cache prove)
into a temporary folder. Then, --runs times, a fresh process (``python -m`` this script's
``--child`` mode, the numba cache as the environment has it) measures one after the other:

  import    importing pyzkvm, its CLI and the stark backend, verifier and machine modules
  key       the verifier's copy of the verifying key (machine_key_from_parts: the machine's
            AIRs compiled, their digests, the optional-table checks, the blinded AIRs of a
            hiding preset)
  verify    the rest of pyzkvm.verify: decoding, the STARK checks, and loading every numba
            kernel the verifier calls from the cache (or compiling it, on a cold cache)
  again     the same pyzkvm.verify once more in that process: the verification alone

Prints one line per run and the median, each phase as wall/CPU seconds (perf_counter /
process_time), then the whole child process's wall and CPU (user + system) seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIB = ROOT / "guests" / "bin" / "fibonacci.elf"


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def child(receipt: str, image_id: str) -> None:
    marks = [("start", _now())]
    import pyzkvm
    import pyzkvm.cli  # noqa: F401  (what the command imports)
    import pyzkvm.backends.stark  # noqa: F401
    import pyzkvm.stark.verifier  # noqa: F401
    from pyzkvm.backends.stark_seal import decode_seal
    from pyzkvm.machine.image_id import machine_key_from_parts
    from pyzkvm.receipt import Receipt
    from pyzkvm.stark import PRESETS

    marks.append(("import", _now()))
    r = Receipt.from_bytes(Path(receipt).read_bytes())
    seal = decode_seal(r.seal)
    machine_key_from_parts(PRESETS[seal["preset"]], seal["prep_root"], seal["prep_log_heights"])
    marks.append(("key", _now()))
    pyzkvm.verify(r, bytes.fromhex(image_id))  # the key is cached in-process now: the rest
    marks.append(("verify", _now()))
    pyzkvm.verify(r, bytes.fromhex(image_id))
    marks.append(("again", _now()))
    # wall and CPU seconds of each phase (the machine is shared: CPU is the steadier number)
    print(json.dumps({name: [t[0] - marks[i][1][0], t[1] - marks[i][1][1]] for i, (name, t) in enumerate(marks[1:])}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipt")
    parser.add_argument("--image-id")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.receipt, args.image_id)
        return 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm = with the .pyc files a user has
    with tempfile.TemporaryDirectory(prefix="pyzkvm-verify-") as tmp:
        receipt, image_id = args.receipt, args.image_id
        if receipt is None:
            receipt = str(Path(tmp) / "fib.receipt")
            subprocess.run([sys.executable, "-m", "pyzkvm", "prove", str(FIB), "--input", "u32:10", "-o", receipt],
                           cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            image_id = subprocess.run([sys.executable, "-c", "import sys, pyzkvm; print(pyzkvm.Program.from_elf(sys.argv[1])"
                                       ".image_id.hex())", str(FIB)], cwd=ROOT, env=env, check=True,
                                      capture_output=True, text=True).stdout.strip()
        rows = []
        print(f"load average {os.getloadavg()[0]:.2f}; receipt {receipt}", flush=True)
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--child", "--receipt", receipt, "--image-id", image_id],
                                 cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            row = json.loads(out.splitlines()[-1])
            row["process"] = [wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)]
            rows.append(row)
            print("  ".join(f"{k} {w:.3f}/{c:.3f}" for k, (w, c) in row.items()), flush=True)
        print("median  " + "  ".join(f"{k} {statistics.median(r[k][0] for r in rows):.3f}/"
                                     f"{statistics.median(r[k][1] for r in rows):.3f}" for k in rows[0]))
        print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
