#!/usr/bin/env python
"""Proof size and prove time of the prebuilt guests that use the precompile chips (and of a
small fibonacci beside them), for the checkout on PYTHONPATH: what a change to the chips'
circuits does to the receipts of programs other than fibonacci.

    PYTHONPATH=TREE python bench/guest_proofs.py [--preset default_100_bits] [--runs NAME ...]

One numba thread, warm (each run proved once before it is timed), the fastest of two proofs;
every receipt is verified. A transparent preset (the default here) gives a deterministic proof:
its size changes only with the circuit (and where its queries then fall); a hiding one's
varies by a few KB from proof to proof.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUESTS = ROOT / "guests"


def runs() -> dict:
    """name → (ELF under guests/bin, inputs)."""
    u32 = lambda v: v.to_bytes(4, "little")  # noqa: E731
    return {
        "ed25519-verify, 3 signatures": ("ed25519-verify.elf", [(GUESTS / "ed25519-verify" / "batch3.bin").read_bytes()]),
        "sha256, 90 B": ("sha256.elf", [b"abc" * 30]),
        "sha256, 8 KB": ("sha256.elf", [bytes(range(256)) * 32]),
        "keccak256, 1359 B": ("keccak256.elf", [b"x" * 1359]),
        "keccak256, 8 KB": ("keccak256.elf", [b"y" * 8192]),
        "precompiles, every chip": ("precompiles.elf", [u32(3)]),
        "fibonacci(1000)": ("fibonacci.elf", [u32(1000)]),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default_100_bits")
    ap.add_argument("--runs", nargs="*", help="names (default: all); see runs()")
    args = ap.parse_args(argv)
    import numba

    numba.set_num_threads(1)
    import pyzkvm
    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    table = runs()
    b = get_backend("stark")
    print(f"pyzkvm from {Path(pyzkvm.__file__).parent.parent}, preset {args.preset}, 1 thread")
    print("| run | cycles | proof (B) | prove (s) | verify (ms) |\n| --- | ---: | ---: | ---: | ---: |")
    for name in args.runs or table:
        elf, inputs = table[name]
        program = Program.from_elf(GUESTS / "bin" / elf)
        b.prove(program, inputs, preset=args.preset)  # warm: kernels loaded, keys built
        best, receipt = None, None
        for _ in range(2):
            t0 = time.perf_counter()
            receipt = b.prove(program, inputs, preset=args.preset)
            took = time.perf_counter() - t0
            best = took if best is None or took < best else best
        t0 = time.perf_counter()
        b.verify(receipt, program.image_id)
        verify_ms = (time.perf_counter() - t0) * 1e3
        cycles = pyzkvm.execute(program, inputs).cycles
        print(f"| {name} | {cycles:,} | {len(receipt.to_bytes()):,} | {best:.2f} | {verify_ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
