"""Complete under-constraint scans of the field-program chips (issue 16 §6; docs/machine.md §7).

Every column of every field/curve table, at rows chosen to cover each row kind: the table's
first row (row 0 of call 0: READ, the pointer checks), one row per distinct step of the call
(kind, pointer, constant operands, check — every opcode of the program), the call's last row
(its last WRITE), the next call's first row (the call chain: clk and pointers change), the
first padding row and the table's last row. Each cell gets x + 1 (``--values 2``: also x − 1),
repaired and bus-cancelled by pyzkvm.machine.undercheck (``scan_row``: mutations no repair can
save are rejected in one batched evaluation, the rest run ``try_mutation``).

The honest runs are the chips' own test programs (tests/machine/test_machine_*.py): ed25519
(3 ED_ADD incl. in place and unreduced, 3 ED_DECOMPRESS), UINT256_MUL (8 moduli), the
Weierstrass DOUBLE then ADD on each curve, DECOMPRESS (G, 2G, 3G, both signs), the 12 FP/FP2
ops with 3 calls each (unreduced Fp operands among them), U256XU2048_MUL (4 cases).

    PYTHONPATH=. NUMBA_NUM_THREADS=1 nice -n 10 python bench/underconstraint_fields.py [--family fp] [--table NAME] [--columns K]

(--columns K: a sampled run, K random columns of each of those rows.)

Each table's result is appended to --out (default bench/results/underconstraint_fields.md) as
soon as it is done, with its CPU time, so a stopped run keeps what it finished."""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyzkvm.machine import undercheck  # noqa: E402
from pyzkvm.machine.field_program import READ, WRITE, FieldProgramAir  # noqa: E402
from pyzkvm.stark.field import P  # noqa: E402


def _ed():
    from tests.machine.machine_helpers import run_machine
    from tests.machine.test_machine_ed25519 import ed_program

    code, data = ed_program()
    return run_machine(code, data=data)[:2]


def _uint256():
    from tests.machine import test_machine_uint256 as u
    from tests.machine.machine_helpers import run_machine
    from tests.rvasm import halt, syscall

    data, code = bytes(12), []
    for i, (x, y, m) in enumerate(u.CASES):
        data += u.le(x) + u.le(y) + u.le(m)
        code.append(syscall(u.UINT256_MUL, u.A + 96 * i, u.A + 96 * i + 32))
    return run_machine(code + [halt(0)], data=data)[:2]


def _weierstrass(curve):
    def run():
        from tests.machine.machine_helpers import run_machine
        from tests.machine.test_machine_weierstrass import CURVES, point_bytes
        from tests.rvasm import DATA_BASE, halt, syscall

        _, _, _, G, n, add, dbl = CURVES[curve]
        A, B = DATA_BASE, DATA_BASE + 2 * n  # A = G, B = G: A = 2G, 3G, 4G, 5G, 10G, 20G
        code = [syscall(dbl, A, 0), *[syscall(add, A, B)] * 3, *[syscall(dbl, A, 0)] * 2]
        return run_machine(code + [halt(0)], data=point_bytes(G, n) * 2)[:2]  # 3 calls each: padding rows after
    return run


def _decompress(curve):
    from tests.machine.test_machine_decompress import cases, decompress_run

    return lambda: decompress_run(curve, cases(curve))[:2]


def _fp(field):
    def run():
        from tests.machine.test_machine_fp_ops import FIELDS, OPS, field_run, operands

        p, rng = FIELDS[field][0], random.Random(field)
        calls = [c for c in operands(field, rng) if not c[0].startswith("fp2")]  # reduced and unreduced
        calls += [c for c in operands(field, rng) if c[0] in ("fp add", "fp sub", "fp mul")][::2]  # a third Fp call each
        for op in OPS[3:]:  # 3 calls of each Fp2 op (reduced operands: FP2_SUB's chip refuses b > a + p)
            calls += [(op, (rng.randrange(p), rng.randrange(p)), (rng.randrange(p), rng.randrange(p))) for _ in range(3)]
        return field_run(field, calls)[:2]
    return run


def _u256x2048():
    from tests.machine.test_machine_u256x2048 import CASES, run_cases

    return run_cases(CASES)[:2]


#: in the order the scans run (the chips never scanned before first)
FAMILIES = {"fp bn254": _fp("bn254"), "weierstrass secp256r1": _weierstrass("secp256r1"),
            "weierstrass bn254": _weierstrass("bn254"), "fp bls12381": _fp("bls12381"),
            "weierstrass secp256k1": _weierstrass("secp256k1"), "weierstrass bls12381": _weierstrass("bls12381"),
            **{f"decompress {c}": _decompress(c) for c in ("secp256k1", "secp256r1", "bls12381")},
            "ed25519": _ed, "uint256": _uint256, "u256x2048": _u256x2048}


def field_rows(air: FieldProgramAir, t: undercheck.ChipTable) -> list:
    """The rows of every kind (module doc): first, one per distinct step, the call's last row,
    the next call's first row, the first padding row, the last row."""
    R = len(air.steps)
    sig = lambda s: (s.kind, s.ptr if s.kind in (READ, WRITE) else None, type(s.a).__name__, type(s.b).__name__,  # noqa: E731
                     s.check is not None, s.mod is not None)
    firsts = list({sig(s): k for k, s in reversed(list(enumerate(air.steps)))}.values())
    active = np.flatnonzero(t.trace[:, t.active].astype(np.int64).sum(axis=1))
    padding = np.flatnonzero(t.trace[:, t.active].astype(np.int64).sum(axis=1) == 0)
    rows = [0, *firsts, R - 1, *([R] if len(active) > R else []), *padding[:1], t.n - 1]
    return sorted(set(int(r) for r in rows))


def scan_table(s, t, rows, values: int, columns: int | None = None, seed: int = 0) -> tuple:
    """Mutate every column (or ``columns`` random ones, drawn per row from ``seed``) of each row."""
    outcomes, c0 = [], time.process_time()
    rng = np.random.default_rng(seed)
    width = t.trace.shape[1]
    for row in rows:
        cols = range(width) if columns is None or columns >= width else sorted(rng.choice(width, columns, replace=False))
        muts = [{int(c): (int(t.trace[row, c]) + d) % P} for c in cols for d in (1, -1)[:values]]
        outcomes += undercheck.scan_row(s, t, row, muts)
        print(f"  {t.name} row {row}: {len(outcomes)} mutations, {time.process_time() - c0:.0f} s CPU", file=sys.stderr, flush=True)
    return outcomes, time.process_time() - c0


def render_table(t, rows, outcomes, cpu, values, columns=None) -> str:
    report = undercheck.Report(outcomes, cpu)
    st: dict = {}
    for o in outcomes:
        st[o.status] = st.get(o.status, 0) + 1
    lines = [f"### {t.name}", "",
             (f"{columns} random columns (of {t.trace.shape[1]}) a row" if columns and columns < t.trace.shape[1]
              else f"{t.trace.shape[1]} columns") + f" × {len(rows)} rows {rows} × {values} value{'s' if values > 1 else ''} "
             f"(table of {t.n} rows) = {len(outcomes)} mutations; {cpu:.0f} s CPU; outcomes: "
             + ", ".join(f"{k} {v}" for k, v in sorted(st.items())), "", "```", report.render(), "```"]
    acc = [o for o in outcomes if o.status in ("accepted", "rule")]
    if acc:
        lines += ["", "Accepted:", ""]
        groups: dict = {}
        for o in acc:
            groups.setdefault(o.reason or "UNDOCUMENTED", []).append(o)
        for why, os_ in groups.items():
            lines.append(f"- ×{len(os_)} ({why}): " + "; ".join(f"row {o.row} {', '.join(o.mutated)}" for o in os_[:12])
                         + (" …" if len(os_) > 12 else ""))
    return "\n".join(lines) + "\n\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", action="append", choices=list(FAMILIES), help="default: all")
    parser.add_argument("--table", action="append", help="only these chips")
    parser.add_argument("--values", type=int, default=1, choices=(1, 2))
    parser.add_argument("--columns", type=int, help="a sampled scan: this many random columns of each row (default: every column)")
    parser.add_argument("--out", default="bench/results/underconstraint_fields.md")
    args = parser.parse_args()
    bad = 0
    for fam in args.family or FAMILIES:
        chips, tables = FAMILIES[fam]()
        s = undercheck.sample(fam, chips, tables)
        for air in chips.airs:
            if not isinstance(air, FieldProgramAir) or (args.table and air.name not in args.table):
                continue
            t = s.chips[air.name]
            if not t.active or not t.trace[:, t.active].any():
                continue  # not called by this family's program
            rows = field_rows(air, t)
            load = os.getloadavg()[0]
            outcomes, cpu = scan_table(s, t, rows, args.values, args.columns)
            text = render_table(t, rows, outcomes, cpu, args.values, args.columns)
            bad += len(undercheck.Report(outcomes, cpu).undocumented())
            head = (f"<!-- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, family {fam}, "
                    f"load average {load:.1f} → {os.getloadavg()[0]:.1f} -->\n")
            with open(args.out, "a") as f:
                f.write(head + text)
            print(text, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
