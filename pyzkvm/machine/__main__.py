"""Measure the machine AIR on a guest: ``python -m pyzkvm.machine ELF [--input SPEC] [--prove fast|default]``.

Prints the run's cycles, the tables' shapes and the time to generate them, then runs the
debug check (``check_machine``) and, with ``--prove``, a real STARK proof and its
verification (the journal is the proof's public data, docs/machine.md §5).
"""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import PyzkvmError
from ..executor import execute
from ..inputs import INPUT_SPEC_HELP, parse_input_specs
from ..program import Program
from . import build_chips, check_machine, generate_tables


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyzkvm.machine", description=__doc__.splitlines()[0])
    parser.add_argument("elf")
    parser.add_argument("--input", "-i", action="append", metavar="SPEC", help=INPUT_SPEC_HELP)
    parser.add_argument("--prove", choices=("fast", "default"), help="also prove and verify (fast: insecure test preset)")
    args = parser.parse_args(argv)
    try:
        program = Program.from_elf(args.elf)
        execution = execute(program, parse_input_specs(args.input), capture_trace=True)
        t0 = time.perf_counter()
        chips = build_chips(program)
        tables = generate_tables(chips, execution)
        t1 = time.perf_counter()
        print(f"{execution.cycles} cycles, exit code {execution.exit_code}, journal {len(execution.journal)} bytes")
        print(f"tables in {t1 - t0:.3f} s: " + ", ".join(f"{k} {v.shape[0]}×{v.shape[1]}" for k, v in tables.traces.items()))
        check_machine(chips, tables)
        t2 = time.perf_counter()
        print(f"debug check passed in {t2 - t1:.2f} s")
        if args.prove:
            from ..stark import DEFAULT, INSECURE_FAST_FOR_TESTS, prove, setup, verify

            pk = setup(INSECURE_FAST_FOR_TESTS if args.prove == "fast" else DEFAULT, chips.airs)
            t3 = time.perf_counter()
            proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
            t4 = time.perf_counter()
            report = verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)
            t5 = time.perf_counter()
            print(f"setup {t3 - t2:.2f} s; prove {t4 - t3:.2f} s ({execution.cycles / (t4 - t3):.0f} cycles/s); "
                  f"verify {1000 * (t5 - t4):.0f} ms; proof {len(proof)} bytes; {report.security.bits:.0f} bits")
    except PyzkvmError as exc:
        print(f"pyzkvm.machine: error: {exc}", file=sys.stderr)
        return exc.exit_status
    return 0


if __name__ == "__main__":
    sys.exit(main())
