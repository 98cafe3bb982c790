#!/usr/bin/env python
"""Cold and warm start of whole `pyzkvm` commands, the way a new user meets them.

    python bench/cold_start.py [--repo DIR] [--label TEXT] [--only trace,info] [--out bench/results/cold_start.md]
                               [--warm-only [--repeat N]] [--keep-memo]

Cold = an empty numba cache (NUMBA_CACHE_DIR points at a new temporary folder), so every
kernel a command needs is compiled; warm = the same command again with that cache filled.
Each command runs as a fresh process (``python -m pyzkvm`` from --repo, default this checkout);
wall time and the child's CPU time (user + system, from getrusage) are recorded with the load
average before and after, because this machine is shared. Appends one section to --out.
Cold also empties the memo of image IDs and table checks (pyzkvm/memo.py: it lives beside the
numba cache); the children run without PYTHONDONTWRITEBYTECODE, so warm rows have the .pyc
files a user has. ``--warm-only`` skips the cold rows (tens of CPU seconds each on a shared
machine): the checkout's own numba cache and memo are used (NUMBA_CACHE_DIR as the environment
has it), one untimed run fills them, then each command is timed ``--repeat`` times.
``--keep-memo``: the memo in its own folder (PYZKVM_MEMO_DIR), emptied only at the start, so a
cold row after the cold prove row meets what that prove stored (prover and verifier keys, the
image ID) with an empty numba cache: a newcomer's first ``verify`` right after the first ``prove``.
"""

from __future__ import annotations

import argparse
import re
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIB = "guests/bin/fibonacci.elf"

#: (label, pyzkvm arguments); {tmp} is a scratch folder, the receipts go there.
COMMANDS = [
    ("prove (stark)", ["prove", FIB, "--input", "u32:10", "-o", "{tmp}/fib.stark.receipt"]),
    ("verify (stark)", ["verify", "{tmp}/fib.stark.receipt", "--elf", FIB]),
    # issue 18's verify latency: the ID given, so no image ID computed ({image_id}: from prove's output)
    ("verify --image-id (stark)", ["verify", "{tmp}/fib.stark.receipt", "--image-id", "{image_id}"]),
    ("prove --backend trace", ["prove", FIB, "--input", "u32:10", "--backend", "trace", "-o", "{tmp}/fib.trace.receipt"]),
    ("info (image ID)", ["info", FIB]),
]


def run_once(repo: Path, argv: list[str], env: dict) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the child, exit status, stdout) of ``python -m pyzkvm ARGV`` run in ``repo``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pyzkvm", *argv], cwd=repo, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        print(done.stderr, file=sys.stderr)
    return wall, cpu, done.returncode, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose pyzkvm runs (default: this one)")
    parser.add_argument("--label", default="", help="what this run measures (e.g. 'before', 'after')")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cold_start.md")
    parser.add_argument("--only", metavar="WORDS", help="comma-separated words: run only the commands whose label has one")
    parser.add_argument("--warm-only", action="store_true",
                        help="no cold rows: the checkout's own cache, one untimed run first, then --repeat timed runs")
    parser.add_argument("--repeat", type=int, default=1, help="timed warm runs per command (default 1)")
    parser.add_argument("--keep-memo", action="store_true",
                        help="cold rows keep the memo the earlier rows wrote (only the numba cache is emptied)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pyzkvm-cold-") as tmp:
        env = dict(os.environ, PYTHONPATH=str(repo))
        if not args.warm_only:
            env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        if args.keep_memo:  # not inside NUMBA_CACHE_DIR: survives the cold rows' emptying
            env["PYZKVM_MEMO_DIR"] = str(Path(tmp) / "memo")
        # warm = as a user has it: with the .pyc files Python writes on the first run
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        image_id = ""
        wanted = [w.strip() for w in args.only.split(",")] if args.only else None
        for label, template in COMMANDS:
            if wanted and not any(w in label for w in wanted):
                continue
            argv = [a.replace("{tmp}", tmp).replace("{image_id}", image_id) for a in template]
            kinds = ["warm-up"] + ["warm"] * args.repeat if args.warm_only else ["cold"] + ["warm"] * args.repeat
            for kind in kinds:
                if kind == "cold":  # each command's own cold cost: drop what earlier rows compiled
                    shutil.rmtree(env["NUMBA_CACHE_DIR"], ignore_errors=True)
                wall, cpu, status, out = run_once(repo, argv, env)
                found = re.search(r"image ID:\s+([0-9a-f]{64})", out)
                image_id = found.group(1) if found else image_id
                if kind != "warm-up":  # a warm-up run only fills the cache and memo
                    rows.append((label, kind, wall, cpu, status))
                print(f"{label:<24} {kind}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, exit {status}", flush=True)
    load_after = os.getloadavg()
    commit = subprocess.run(["git", "log", "-1", "--format=%h %cs"], cwd=repo, capture_output=True, text=True).stdout.strip()
    lines = [
        "",
        f"## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} {args.label}".rstrip(),
        "",
        f"`python bench/cold_start.py --repo {repo}{' --label ' + repr(args.label) if args.label else ''}"
        f"{' --only ' + args.only if args.only else ''}"
        f"{' --warm-only' if args.warm_only else ''}{f' --repeat {args.repeat}' if args.repeat != 1 else ''}"
        f"{' --keep-memo' if args.keep_memo else ''}` "
        f"(code at {commit or 'unknown commit'}); load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}; {os.cpu_count()} CPUs.",
        "",
        "| command | cache | wall (s) | CPU (s) | exit |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += [f"| `pyzkvm {label}` | {kind} | {wall:.2f} | {cpu:.2f} | {status} |" for label, kind, wall, cpu, status in rows]
    if not args.out.exists():
        lines = [
            "# Cold and warm start of whole commands",
            "",
            "Written by `python bench/cold_start.py`: each command is a fresh process; cold = empty numba",
            "cache (NUMBA_CACHE_DIR emptied before each cold row), warm = the",
            "same command again. CPU = the child's user + system time. fibonacci(10), the README's command.",
        ] + lines
    with args.out.open("a") as f:
        f.write("\n".join(lines) + "\n")
    return 1 if any(r[4] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
