#!/usr/bin/env python
"""BLAKE3 of seeded proofs of the fibonacci guest, hiding and transparent: a check that a
prover change leaves the proof bytes unchanged (run it on two checkouts and compare).

    PYTHONPATH=CHECKOUT python bench/proof_hashes.py [n ...]     # fibonacci(n) inputs, default 300 5000

Hiding proofs take their randomness from a fixed zk_seed (joint.prove), so they are
deterministic too. The preset is the 100-bit default and its hiding twin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import blake3

ELF = Path(__file__).resolve().parent.parent / "guests" / "bin" / "fibonacci.elf"


def main(argv) -> int:
    from pyzkvm import Program
    from pyzkvm.backends.stark import build_statements
    from pyzkvm.machine.prep_root import commit_preprocessed
    from pyzkvm.stark import DEFAULT, DEFAULT_ZK, setup
    from pyzkvm.stark import joint

    prog = Program.from_elf(ELF)
    for n in [int(a) for a in argv] or [300, 5000]:
        run = build_statements(prog, [n.to_bytes(4, "little")])
        for cfg in (DEFAULT, DEFAULT_ZK):
            pk = setup(cfg, run.chips.airs, commit=commit_preprocessed)  # as the stark backend's prove
            proofs = joint.prove(pk, run.statements, run.public_data, zk_seed=1)
            h = blake3.blake3(b"".join(p.to_bytes() for p in proofs)).hexdigest()
            print(f"fibonacci({n}) {cfg.name}: {h}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
