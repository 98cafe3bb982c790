#!/usr/bin/env python
"""Which thread does a whole `pyzkvm` command's work, and while the other core idles: a sampling
profile of the main thread weighted by each thread's CPU time.

    PYTHONPATH=CHECKOUT python bench/thread_profile.py [--interval 0.001] [--min 0.01] [-- PYZKVM ARGS]

Runs the command in this process as ``python -m pyzkvm`` would (``cli.run``'s collector setting
included; default arguments: the README's warm ``prove fibonacci --input u32:10``). A sampler
thread reads, about every millisecond, every thread's CPU time (/proc/self/task/*/schedstat,
Linux only) and the main thread's Python stack. Each sample's main-thread CPU and the other
threads' (the kernel pool's workers) are charged to every pyzkvm frame on the main thread's
stack. Prints the totals, then the pyzkvm call tree: main CPU, other threads' CPU, and the main
thread's CPU while the others were (nearly) idle — serial work, the wall-clock lever on a
2-core machine (on a loaded machine the others are also idle while descheduled: read that
column as an upper bound). The sampler costs a few per cent of the main thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["prove", str(ROOT / "guests" / "bin" / "fibonacci.elf"), "--input", "u32:10", "-o", "/tmp/thread-profile.receipt",
           "--force"]


def _run_ns(tid: int) -> int:
    try:
        with open(f"/proc/self/task/{tid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _pyzkvm_stack(frame) -> list:
    """The main thread's pyzkvm frames, outermost first, as 'module.py:function'."""
    out = []
    while frame is not None:
        path = frame.f_code.co_filename
        if f"{os.sep}pyzkvm{os.sep}" in path:
            out.append(f"{Path(path).name}:{frame.f_code.co_name}")
        frame = frame.f_back
    return out[::-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval", type=float, default=0.001, help="seconds between samples")
    ap.add_argument("--min", type=float, default=0.01, help="leave out tree nodes below this many CPU seconds")
    ap.add_argument("args", nargs="*", help="the pyzkvm command (default: a warm prove of fibonacci(10))")
    a = ap.parse_args(argv)
    main_thread = threading.main_thread()
    samples: list = []  # (main CPU s, others' CPU s, wall s, stack)
    stop = threading.Event()

    def sampler() -> None:
        me = threading.get_native_id()
        last: dict = {}
        while not stop.is_set():
            now = {int(t): _run_ns(int(t)) for t in os.listdir("/proc/self/task") if int(t) != me}
            frame = sys._current_frames().get(main_thread.ident)
            if last:
                ours = (now.get(main_thread.native_id, 0) - last.get(main_thread.native_id, 0)) / 1e9
                others = sum(v - last.get(t, v) for t, v in now.items() if t != main_thread.native_id) / 1e9
                samples.append((ours, others, time.perf_counter(), _pyzkvm_stack(frame)))
            last = now
            time.sleep(a.interval)

    import gc
    import io
    import contextlib

    from pyzkvm import cli

    gc.set_threshold(getattr(cli, "CLI_GC_THRESHOLD", 700))  # as cli.run (older checkouts: Python's default)
    thread = threading.Thread(target=sampler, daemon=True)
    start = time.perf_counter()
    thread.start()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = cli.main(a.args or DEFAULT)
    stop.set()
    thread.join()
    wall = time.perf_counter() - start
    tree: dict = {}
    for ours, others, _t, stack in samples:
        node = tree
        for name in stack:
            node = node.setdefault(name, {"": [0.0, 0.0, 0.0]})
            node[""][0] += ours
            node[""][1] += others
            node[""][2] += ours if others < 0.2 * a.interval else 0.0
    total_main, total_others = sum(s[0] for s in samples), sum(s[1] for s in samples)
    print(f"exit {status}; wall {wall:.3f} s; CPU: main thread {total_main:.3f} s, other threads {total_others:.3f} s; "
          f"load {os.getloadavg()[0]:.2f}")
    print("main CPU  others   main alone   (pyzkvm frames of the main thread)")

    def show(node: dict, depth: int) -> None:
        children = sorted(((k, v) for k, v in node.items() if k), key=lambda kv: -kv[1][""][0])
        for name, child in children:
            ours, others, alone = child[""]
            if ours + others >= a.min:
                print(f"{ours:8.3f} {others:7.3f} {alone:12.3f}   {'  ' * depth}{name}")
                show(child, depth + 1)

    show(tree, 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
