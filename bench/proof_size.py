#!/usr/bin/env python
"""Where a stark receipt's bytes go: the proof's size broken down by section and item.

    python bench/proof_size.py                       # fibonacci just below 2^16 cycles + a small run,
                                                     # hiding (default) and transparent
    python bench/proof_size.py --log-cycles 18 20    # other sizes (2^20: ~6–10 GB, minutes)
    python bench/proof_size.py --save receipts/      # also write each receipt (pyzkvm verify can read them)
    python bench/proof_size.py --presets compact_100_bits   # one preset (one per process: a clean peak RSS)

For each (run, preset) it proves the fibonacci guest in this process, checks the receipt, and
prints a markdown breakdown summed over the seal's segment proofs (proof.py's
``item_breakdown``): the header, the commitments, the out-of-domain values per table, per
query phase (prep, main, aux, quotient) the opened rows per table and the phase's Merkle
paths, per FRI layer the opened values and paths, the final polynomial and PoW, and the
verifier's recomputed security estimate. Table k is named after the machine's chip k.
"""

from __future__ import annotations

import argparse
import re
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from stark_prove import ELF, n_for  # noqa: E402  (the same guest and run sizes as stark_prove.py)

PRESETS = ("default_100_bits_zk", "default_100_bits")
SMALL_N = 10  # a small program: fibonacci(10), ~1,100 cycles


def breakdown(receipt) -> tuple:
    """(item → bytes summed over the segments, chip names, number of segments)."""
    from pyzkvm.backends.stark_seal import decode_seal
    from pyzkvm.machine.image_id import machine_key_from_parts
    from pyzkvm.stark import PRESETS as STARK_PRESETS
    from pyzkvm.stark.proof import decode_proof

    seal = decode_seal(receipt.seal)
    vk = machine_key_from_parts(STARK_PRESETS[seal["preset"]], seal["prep_root"], seal["prep_log_heights"])
    names = [c.air.name for c in vk.proved]
    items = defaultdict(int)
    for *_, proof_bytes in seal["segments"]:
        for k, v in decode_proof(proof_bytes).item_breakdown().items():
            items[k] += v
    return dict(items), names, len(seal["segments"])


def grouped(items: dict, names: list) -> list:
    """(label, bytes) rows: the big groups first, then the largest single items inside them."""
    def total(pattern):
        return sum(v for k, v in items.items() if re.fullmatch(pattern, k))

    rows = [("header", total("header")),
            ("commitments (roots, nonce, LogUp totals, FRI roots)", total(r"commitments/.*")),
            ("OOD values (ζ, ζω), all tables", total(r"ood/.*"))]
    for phase in ("prep", "main", "aux", "quotient"):
        rows.append((f"queries: {phase} opened rows", total(rf"queries/{phase}/rows/.*")))
        rows.append((f"queries: {phase} Merkle paths", total(rf"queries/{phase}/paths")))
    rows += [("FRI: layer values (all layers)", total(r"fri/layer \d+/values")),
             ("FRI: layer paths (all layers)", total(r"fri/layer \d+/paths")),
             ("FRI: final polynomial + PoW nonce", total(r"fri/final.*"))]
    return rows


def per_table_rows(items: dict, names: list, top: int | None = 8) -> list:
    """The tables whose opened rows (all phases) cost the most: (name, bytes, phase split);
    top=None: every table."""
    per = defaultdict(lambda: defaultdict(int))
    for k, v in items.items():
        m = re.fullmatch(r"queries/(\w+)/rows/table (\w+)", k)
        if m:
            who = "salt" if m.group(2) == "salt" else names[int(m.group(2))]
            per[who][m.group(1)] += v
    ranked = sorted(per.items(), key=lambda kv: -sum(kv[1].values()))
    return [(name, sum(ph.values()), dict(ph)) for name, ph in ranked[:top]]


def fri_layers(items: dict) -> list:
    layers = sorted({int(m.group(1)) for k in items if (m := re.fullmatch(r"fri/layer (\d+)/\w+", k))})
    return [(r, items.get(f"fri/layer {r}/values", 0), items.get(f"fri/layer {r}/paths", 0)) for r in layers]


def report(label: str, receipt, verification, cost: str = "") -> str:
    items, names, segments = breakdown(receipt)
    total = sum(items.values())
    out = [f"### {label}: {receipt.claim.cycles} cycles, preset `{verification.preset}`, "
           f"{segments} segment(s), **{total:,} bytes**", "",
           f"security (recomputed by verify): {verification.security}", ""]
    if cost:
        out += [cost, ""]
    out += [
           "| section | bytes | share |", "| --- | ---: | ---: |"]
    out += [f"| {name} | {b:,} | {100 * b / total:.1f} % |" for name, b in grouped(items, names) if b]
    out += ["", "Opened query rows, largest tables (bytes; by phase):", "",
            "| table | bytes | phases |", "| --- | ---: | --- |"]
    out += [f"| {n} | {b:,} | {', '.join(f'{p} {v:,}' for p, v in ph.items())} |"
            for n, b, ph in per_table_rows(items, names)]
    out += ["", "Every table's opened rows (bytes, all phases): "
            + ", ".join(f"{n} {b:,}" for n, b, _ph in per_table_rows(items, names, top=None))]
    layers = fri_layers(items)
    if layers:
        out += ["", "FRI layers (values / paths bytes): "
                + ", ".join(f"{r}: {v:,}/{p:,}" for r, v, p in layers)]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log-cycles", type=int, nargs="+", default=[16], help="run sizes just below 2^k cycles")
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--no-small", action="store_true", help="skip the small program")
    ap.add_argument("--save", type=Path, help="write each receipt to this folder")
    args = ap.parse_args(argv)

    from pyzkvm import Program
    from pyzkvm.backends import get_backend

    prog, stark = Program.from_elf(ELF), get_backend("stark")
    runs = ([] if args.no_small else [("small program", SMALL_N)]) + [(f"2^{k}", n_for(k)) for k in args.log_cycles]
    for label, n in runs:
        for preset in args.presets:
            wall, cpu = time.perf_counter(), time.process_time()
            receipt = stark.prove(prog, [n.to_bytes(4, "little")], preset=preset)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            verification = stark.verify(receipt, prog.image_id)
            # ru_maxrss (KiB on Linux) is the process's peak so far: one preset per process for a clean one
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            cost = (f"prove: {wall:.1f} s wall, {cpu:.1f} s CPU (all threads); peak RSS of the process so far "
                    f"{peak:.2f} GiB; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            print(report(f"fibonacci({n}), {label}", receipt, verification, cost), flush=True)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"fib{n}_{preset}.receipt").write_bytes(receipt.to_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
