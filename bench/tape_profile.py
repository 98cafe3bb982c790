#!/usr/bin/env python
"""What the constraint tape costs in a real prove: per tape, its table (the quotient's
tapes; "?" for the others: LogUp denominators, the build-tables step's root values), its use
(Σ α^i·C_i or every root's value), nodes, buffer rows, calls, rows evaluated, CPU seconds,
ns per node-row, and its nodes by op kind.

    PYTHONPATH=CHECKOUT python bench/tape_profile.py [--log 18] [--preset default_100_bits_zk]

One process, one numba thread: a fibonacci(10) warm-up prove, then one prove of the fibonacci
guest below 2^LOG cycles with ``tape.run`` timed (thread CPU) per call. Run it from two
checkouts back to back for an A/B (bench/results/tape.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


#: the tape's op codes (tape.py) by name
OPS = ["L_MAIN_B", "L_MAIN_E", "L_PREP_B", "L_PREP_E", "L_AUX", "L_SEL_B", "L_CONST_B", "L_CONST_E", "ADD_BB", "ADD_BE",
       "ADD_EE", "SUB_BB", "SUB_BE", "SUB_EB", "SUB_EE", "MUL_BB", "MUL_BE", "MUL_EE", "NEG_B", "NEG_E", "DENOM"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=int, default=18)
    ap.add_argument("--preset", default="default_100_bits_zk")
    args = ap.parse_args(argv)

    import numba

    numba.set_num_threads(1)
    from stark_prove import ELF, n_for

    from pyzkvm import Program
    from pyzkvm.backends import get_backend
    from pyzkvm.stark import prover, tape

    names: dict = {}
    stats: dict = defaultdict(lambda: [0, 0, 0.0, 0])  # id → calls, rows, CPU s, combine
    tapes: dict = {}
    real_tape_for, real_run = prover.tape_for, tape.run

    def tape_for(compiled, roots, where="rows"):
        t = real_tape_for(compiled, roots, where)
        names.setdefault(id(t), compiled.air.name)
        return t

    def run(t, inputs, count, alpha_powers=None, row0=0, out=None):
        c0 = time.thread_time()
        r = real_run(t, inputs, count, alpha_powers, row0, out)
        s = stats[id(t)]
        s[0] += 1
        s[1] += count
        s[2] += time.thread_time() - c0
        s[3] = alpha_powers is not None
        tapes[id(t)] = t
        return r

    prover.tape_for, prover.run, tape.run = tape_for, run, run
    prog = Program.from_elf(ELF)
    backend = get_backend("stark")
    backend.prove(prog, [(10).to_bytes(4, "little")], preset=args.preset)
    stats.clear()
    n = n_for(args.log)
    c0 = time.process_time()
    backend.prove(prog, [n.to_bytes(4, "little")], preset=args.preset)
    total = time.process_time() - c0
    ops = {getattr(tape, name): name for name in OPS}
    all_s = sum(s[2] for s in stats.values())
    print(f"2^{args.log} {args.preset}: prove {total:.2f} s CPU; tape.run {all_s:.3f} s in "
          f"{sum(s[0] for s in stats.values())} calls")
    print(f"{'table':24s} {'use':7s} {'nodes':>6s} {'slots':>6s} {'calls':>6s} {'rows':>9s} {'CPU s':>7s} "
          f"{'ns/node-row':>11s}  ops")
    for key, (calls, rows, cpu, combine) in sorted(stats.items(), key=lambda kv: -kv[1][2]):
        t = tapes[key]
        counts = Counter(t.op.tolist())
        mix = " ".join(f"{ops.get(o, o)}:{c}" for o, c in counts.most_common())
        print(f"{names.get(key, '?'):24s} {'quot' if combine else 'values':7s} {len(t.op):6d} {t.nslots:6d} {calls:6d} "
              f"{rows:9d} {cpu:7.3f} {cpu / max(rows * len(t.op), 1) * 1e9:11.2f}  {mix}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
