#!/usr/bin/env python
"""Which numba kernels a cold command compiles, and what each costs.

    python bench/compile_cost.py [--what prove|verify|both] [--code DIR] [--plan]

Runs, in one fresh child process with an empty NUMBA_CACHE_DIR (and the memo off), the
README's fibonacci(10) ``pyzkvm.prove`` (default preset) and then ``pyzkvm.verify`` of its
receipt, and listens to numba's ``numba:compile`` events (fired on a cache miss only). Prints
per top-level kernel (a compile started while no other was running on that thread) its CPU
seconds including the kernels it compiled on the way (thread CPU time), how many
specialisations it got, and the nested compiles; then the whole process's CPU split into
compiling and the rest. ``--code DIR`` measures another checkout (an A/B of two trees).
``--plan`` also prints the top-level kernels in the order they were first compiled, with
their argument types, in the form of pyzkvm/compile_ahead.py's PROVE_KERNELS (what a cold
prove's helper process compiles ahead): paste it there when the list has gone stale.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(what: str) -> None:
    from numba.core import event

    local = threading.local()
    top: dict = defaultdict(lambda: [0.0, 0, 0])  # name → [CPU s, specialisations, nested compiles]
    sigs: dict = defaultdict(set)
    order: list = []  # (module, function, argument types) of each top-level compile, in order

    class Listener(event.Listener):
        def on_start(self, ev):
            depth = getattr(local, "depth", 0)
            if depth == 0:
                local.t0 = time.thread_time()
                local.nested = 0
            else:
                local.nested += 1
            local.depth = depth + 1

        def on_end(self, ev):
            local.depth -= 1
            d = ev.data["dispatcher"]
            name = f"{d.py_func.__module__.rsplit('.', 1)[-1]}.{d.py_func.__qualname__}"
            sigs[name].add(tuple(str(a) for a in ev.data["args"]))
            if local.depth == 0:
                order.append((d.py_func.__module__, d.py_func.__qualname__, plan_form(ev.data["args"])))
                entry = top[name]
                entry[0] += time.thread_time() - local.t0
                entry[1] += 1
                entry[2] += local.nested

    event.register("numba:compile", Listener())
    phases = []
    t = time.process_time()
    import pyzkvm

    phases.append(("import", time.process_time() - t))
    elf = Path(os.environ["PYZKVM_BENCH_ELF"])
    program = pyzkvm.Program.from_elf(elf)
    receipt = None
    if what in ("prove", "both"):
        t = time.process_time()
        receipt = pyzkvm.prove(program, [(10).to_bytes(4, "little")], backend="stark")
        phases.append(("prove", time.process_time() - t))
        Path(os.environ["PYZKVM_BENCH_RECEIPT"]).write_bytes(receipt.to_bytes())
    if what in ("verify", "both"):
        if receipt is None:
            receipt = pyzkvm.Receipt.from_bytes(Path(os.environ["PYZKVM_BENCH_RECEIPT"]).read_bytes())
        t = time.process_time()
        pyzkvm.verify(receipt, program.image_id)
        phases.append(("verify", time.process_time() - t))
    print(json.dumps({"top": {k: v for k, v in top.items()}, "sigs": {k: sorted(v) for k, v in sigs.items()},
                      "phases": phases, "order": order}))


def plan_form(args) -> str:
    from pyzkvm.compile_ahead import format_types

    try:
        return format_types(args)
    except ValueError as e:
        return f"?? {e}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--what", choices=["prove", "verify", "both"], default="both")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose pyzkvm runs (default: this one)")
    ap.add_argument("--receipt", help="with --what verify: a receipt of fibonacci(10) (else one is proved first, warm)")
    ap.add_argument("--plan", action="store_true", help="print the compiled kernels as compile_ahead.PROVE_KERNELS")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.what)
        return 0
    code = args.code.resolve()
    with tempfile.TemporaryDirectory(prefix="pyzkvm-compile-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba"), PYTHONPATH=str(code), PYZKVM_NO_MEMO="1",
                   PYZKVM_BENCH_ELF=str(code / "guests" / "bin" / "fibonacci.elf"),
                   PYZKVM_BENCH_RECEIPT=args.receipt or str(Path(tmp) / "fib.receipt"))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--what", args.what]
        if args.what == "verify" and not args.receipt:  # a receipt first; then the cache is emptied again
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--what", "prove"],
                           cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
            import shutil

            shutil.rmtree(env["NUMBA_CACHE_DIR"])
        load = os.getloadavg()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, cwd=code, env=env, stdout=subprocess.PIPE, text=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    res = json.loads(done.stdout.strip().splitlines()[-1])
    top = sorted(res["top"].items(), key=lambda kv: -kv[1][0])
    compiling = sum(v[0] for _, v in top)
    commit = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=code, capture_output=True, text=True).stdout.strip()
    print(f"# cold {args.what}, fibonacci(10), code {code} at {commit}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load {load[0]:.2f} {load[1]:.2f}")
    print(f"child CPU {cpu:.2f} s, compiling {compiling:.2f} s in {len(top)} top-level kernels; phases "
          + ", ".join(f"{n} {s:.2f} s" for n, s in res["phases"]))
    print("| kernel | compile CPU (s) | specialisations | nested compiles |")
    print("| --- | ---: | ---: | ---: |")
    for name, (s, n, nested) in top:
        print(f"| `{name}` | {s:.2f} | {n} | {nested} |")
    several = {k: v for k, v in res["sigs"].items() if len(v) > 1}
    for name, sigs in sorted(several.items()):
        print(f"  {name}: {len(sigs)} signatures: " + "; ".join(", ".join(s) for s in sigs))
    if args.plan:
        print("PROVE_KERNELS = [")
        for module, function, types in res["order"]:
            print(f"    ({module!r}, {function!r}, {types!r}),".replace("'", '"'))
        print("]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
