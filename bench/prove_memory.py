#!/usr/bin/env python
"""Where a proof's peak memory goes: resident memory per protocol step, and the arrays alive.

    python bench/prove_memory.py --log 18                      # hiding (the default preset)
    python bench/prove_memory.py --log 18 --preset default_100_bits   # transparent
    python bench/prove_memory.py --log 16 --no-arrays          # RSS only (no tracemalloc)
    python bench/prove_memory.py --log 18 --steps 4            # the live arrays at each of the 4 highest steps' peaks

One fresh process: a warm-up proof (numba kernels loaded), then one proof of fibonacci with
just under 2^log cycles while a thread samples the resident set (/proc/self/statm) every 2 ms
and remembers which protocol step was running (bench/prove_profile.py's step list). With
tracemalloc on (numpy reports its data buffers to it), the sampler snapshots the live allocations
whenever the resident memory reaches a new high within a step, and the snapshot at the peak of
the highest ``--steps`` steps is printed grouped by the line that allocated them: which arrays
(LDEs, trees, temporaries) make each step's peak. (Arrays a numba kernel allocates itself are
not traced; nor is the C heap's free memory that glibc keeps resident.) Prints the peak RSS (also
``ru_maxrss``), bytes per cycle, the peak per step, and the top allocation sites.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class Sampler(threading.Thread):
    """Resident memory every ``period`` s, with the step label current at the time. With
    ``arrays`` (tracemalloc on) it also snapshots the live allocations whenever the resident
    memory passes the step's largest so far by ``margin`` bytes: each step's last snapshot is
    (within the margin) the live set at its peak, wherever inside the step that falls. (Not at the peak of
    the traced total: np.empty/np.zeros buffers count there in full before their pages are
    touched, e.g. the executor's preallocated trace.)"""

    def __init__(self, arrays: dict | None, period: float = 0.002, margin: int = 16 << 20):
        super().__init__(daemon=True)
        self.period, self.step, self.stop = period, "before", False
        self.arrays, self.margin = arrays, margin
        self.peak_by_step: dict = {}

    def run(self):
        while not self.stop:
            r = _rss()
            if r > self.peak_by_step.get(self.step, 0):
                self.peak_by_step[self.step] = r
            if self.arrays is not None and r > self.arrays.get(self.step, {}).get("rss", 0) + self.margin:
                self.arrays[self.step] = dict(bytes=tracemalloc.get_traced_memory()[0], after=self.step, rss=r,
                                              snap=tracemalloc.take_snapshot())
            time.sleep(self.period)


def _wrap(sampler, owner, attr, label):
    fn = getattr(owner, attr)

    def wrapped(*args, **kwargs):
        outer = sampler.step
        sampler.step = label
        try:
            return fn(*args, **kwargs)
        finally:
            sampler.step = outer

    setattr(owner, attr, wrapped)


def main(argv=None) -> int:
    from stark_prove import ELF, n_for
    from prove_profile import STEPS, _resolve

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", type=int, default=16)
    ap.add_argument("--preset", default="default_100_bits_zk")
    ap.add_argument("--no-arrays", action="store_true", help="RSS sampling only (no tracemalloc snapshots)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--steps", type=int, default=1, help="print the live set at the peak of this many steps (highest first)")
    a = ap.parse_args(argv)

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    prog = Program.from_elf(ELF)
    b = get_backend("stark")
    n = n_for(a.log)
    b.prove(prog, [(10).to_bytes(4, "little")], preset=a.preset)  # warm-up
    arrays = None if a.no_arrays else {}
    sampler = Sampler(arrays)
    extra: list = []
    for path, attr, label in STEPS + extra:
        try:
            owner = _resolve(path)
        except (ImportError, AttributeError):
            continue
        if hasattr(owner, attr):
            _wrap(sampler, owner, attr, label)
    if arrays is not None:
        tracemalloc.start(6)
    base = _rss()
    sampler.start()
    t0 = time.process_time()
    receipt = b.prove(prog, [n.to_bytes(4, "little")], preset=a.preset)
    cpu = time.process_time() - t0
    sampler.stop = True
    sampler.join()
    cycles = receipt.claim.cycles
    peak = max(sampler.peak_by_step.values())
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"fibonacci {cycles} cycles, preset {a.preset}, load {os.getloadavg()[0]:.1f}, prove CPU {cpu:.2f} s"
          f"{' (tracemalloc on)' if arrays is not None else ''}")
    print(f"RSS before the proof {base / 2**20:.0f} MB; peak sampled {peak / 2**20:.0f} MB "
          f"= {peak / cycles:.0f} B/cycle; ru_maxrss {maxrss / 2**20:.0f} MB = {maxrss / cycles:.0f} B/cycle; "
          f"proof {receipt.params.get('proof_bytes', len(receipt.seal))} B")
    print("peak RSS while each step ran (MB):")
    for step, r in sorted(sampler.peak_by_step.items(), key=lambda kv: -kv[1]):
        print(f"  {r / 2**20:8.0f}  {step}")
    for at in sorted(arrays or {}, key=lambda k: -arrays[k]["rss"])[:a.steps]:
        snap = arrays[at]
        print(f"live tracemalloc set at the step's RSS peak ({snap['rss'] / 2**20:.0f} MB): {snap['bytes'] / 2**20:.0f} MB, "
              f"while '{at}' ran; by allocating line (MB, B/cycle, count):")
        stats = snap["snap"].statistics("traceback")
        for s in stats[:a.top]:
            frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(list(s.traceback)))
            print(f"  {s.size / 2**20:8.1f} {s.size / cycles:7.0f}  x{s.count:<4d} {frames}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
