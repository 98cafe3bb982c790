#!/usr/bin/env python
"""Where a warm prove's non-kernel CPU goes: per protocol step, its CPU, the kernels' CPU
inside it, the rest (non-kernel), its system time and minor page faults, and the peak RSS
once the step has raised it.

    PYTHONPATH=CHECKOUT python bench/step_split.py [--log 16] [--preset default_100_bits] [--repeats 3]

One process, one numba thread: a fibonacci(10) warm-up prove, then ``--repeats`` proves of
the fibonacci guest below 2^LOG cycles, the one of least CPU reported. The steps and kernels
are bench/prove_profile.py's (its STEPS; NTT, BLAKE3 leaves and nodes), each kernel's CPU
charged to the step it runs in, so a step's "non-kernel" column is what issue 18's kernel
share counts against the prove. ``PYTHONPATH`` picks the checkout measured (two checkouts
back to back: an A/B of the same process's numbers).
"""

from __future__ import annotations

import argparse
import resource
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=int, default=16, help="log2 of the cycle count")
    ap.add_argument("--preset", default="default_100_bits")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import numba

    numba.set_num_threads(1)
    import prove_profile as pp
    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    current = ["other"]  # the step running now (kernels are charged to it)
    kernel_in: dict = defaultdict(float)
    sys_in: dict = defaultdict(float)
    faults_in: dict = defaultdict(int)
    peaks: list = []  # (step, peak RSS MiB after it) where the step raised the peak

    def usage():
        return resource.getrusage(resource.RUSAGE_SELF)

    def wrap_step(profile, owner, attr, label):  # prove_profile._wrap_step, plus the step's sys, faults and peak
        fn = getattr(owner, attr)

        def timed(*a, **k):
            if profile._depth:
                return fn(*a, **k)
            profile._depth += 1
            previous, current[0] = current[0], label
            r0, c0 = usage(), pp.cpu_s()
            try:
                return fn(*a, **k)
            finally:
                r1 = usage()
                profile.step_cpu_s[label] += pp.cpu_s() - c0
                sys_in[label] += r1.ru_stime - r0.ru_stime
                faults_in[label] += r1.ru_minflt - r0.ru_minflt
                if r1.ru_maxrss > r0.ru_maxrss:
                    peaks.append((label, r1.ru_maxrss / 1024))
                profile._depth -= 1
                current[0] = previous

        setattr(owner, attr, timed)

    def wrap_kernel(profile, owners, attr, label, work_of):  # prove_profile._wrap_kernel, charged to the step
        fn = getattr(owners[0], attr)

        def timed(*a, **k):
            c0 = pp.cpu_s()
            out = fn(*a, **k)
            spent = pp.cpu_s() - c0
            profile.kernel_s[label] += spent
            kernel_in[current[0]] += spent
            return out

        for owner in owners:
            setattr(owner, attr, timed)

    pp._wrap_step, pp._wrap_kernel = wrap_step, wrap_kernel
    prog = Program.from_elf(ELF)
    backend = get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=args.preset)  # warm-up: kernels loaded
    n = n_for(args.log)
    best = None
    for _ in range(args.repeats):
        for d in (kernel_in, sys_in, faults_in):
            d.clear()
        peaks.clear()
        with pp.instrument() as profile:
            c0 = pp.cpu_s()
            backend.prove(prog, [n.to_bytes(4, "little")], preset=args.preset)
            total = pp.cpu_s() - c0
        if best is None or total < best[0]:
            best = (total, dict(profile.step_cpu_s), dict(kernel_in), sum(profile.kernel_s.values()), dict(sys_in),
                    dict(faults_in), list(peaks))
    total, steps, kernels, kernel_total, sys_s, faults, peak_steps = best
    steps["other"] = total - sum(steps.values())
    print(f"2^{args.log} cycles, {args.preset}: prove {total:.3f} s CPU, kernels {kernel_total:.3f} "
          f"({kernel_total / total:.1%}), non-kernel {total - kernel_total:.3f}")
    print(f"  {'step':40s} {'CPU':>7s} {'kernels':>8s} {'non-kern':>8s} {'sys':>7s} {'faults':>8s}")
    for step, cpu in sorted(steps.items(), key=lambda kv: -kv[1]):
        k = kernels.get(step, 0.0)
        print(f"  {step:40s} {cpu:7.3f} {k:8.3f} {cpu - k:8.3f} {sys_s.get(step, 0.0):7.3f} {faults.get(step, 0):8d}")
    print("  peak RSS raised by: " + ", ".join(f"{s} → {mib:.1f} MiB" for s, mib in peak_steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
