#!/usr/bin/env python
"""Where a warm in-process stark verify spends its CPU time, step by step (issue 18's verify item).

    python bench/verify_steps.py RECEIPT IMAGE_ID_HEX [--runs 20] [--profile]

Loads the receipt, verifies it once (the verifying key is then cached in-process, as in any
warm verifier), then --runs more times with every verifier step wrapped in a timer
(time.process_time, inclusive: a step's time includes the steps called inside it, listed
indented below it). Prints each step's median CPU ms per verify, the whole verify's median
and minimum CPU ms, and the load average. ``--profile``: also a cProfile of the runs, by
internal time. Run it with NUMBA_NUM_THREADS=1 (the verify path uses no numba anyway).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (label, module, attribute, depth): each attribute is replaced by a timing wrapper; depth
# only indents the report (a step nested in the one above it)
STEPS = [
    ("decode proofs", "pyzkvm.stark.joint", "decode_proof", 0),
    ("public bus entries (the statement's)", "pyzkvm.stark.joint", "public_entries", 0),
    ("statement security (bus entry count)", "pyzkvm.stark.joint", "statement_security", 0),
    ("joint bus challenges (transcript, PoW)", "pyzkvm.stark.joint", "joint_bus_challenges", 0),
    ("bus balance (public LogUp term)", "pyzkvm.stark.joint", "_check_balance", 0),
    ("verify_segment", "pyzkvm.stark.joint", "verify_segment", 0),
    ("transcript: segment start + rounds", "pyzkvm.stark.verifier", "rounds", 1),
    ("shape checks", "pyzkvm.stark.verifier", "_check_shape", 1),
    ("DEEP layout + unread coefficients", "pyzkvm.stark.verifier", "zero_unread_coefficients", 1),
    ("FRI challenges (transcript)", "pyzkvm.stark.verifier", "draw_fold_challenges", 1),
    ("query positions (transcript, PoW)", "pyzkvm.stark.rounds", "query_positions", 2),
    ("OOD check at zeta (all tables)", "pyzkvm.stark.verifier", "_check_ood", 1),
    ("point_eval: constraint tapes at zeta", "pyzkvm.stark.verifier", "constraints_at_points", 2),
    ("Merkle: trace trees (4 phases)", "pyzkvm.stark.verifier", "verify_mixed_openings", 1),
    ("rows per query", "pyzkvm.stark.verifier", "rows_per_query", 1),
    ("DEEP: split by height", "pyzkvm.stark.verifier", "split_by_height", 1),
    ("DEEP: codewords at the queries", "pyzkvm.stark.verifier", "deep_codewords", 1),
    ("FRI queries", "pyzkvm.stark.verifier", "verify_queries", 1),
    ("FRI: layer Merkle openings", "pyzkvm.stark.fri", "verify_openings", 2),
    ("FRI: coset folds", "pyzkvm.stark.fri", "fold_cosets", 2),
    ("multiproof walks (all trees)", "pyzkvm.stark.multiproof", "verify_multiproof", 0),
    ("leaf/row hashing (blake3 package)", "pyzkvm.stark.merkle", "hash_rows_lanes", 0),
    ("node compression (blake3 package)", "pyzkvm.stark.merkle", "compress_pairs_lanes", 0),
]

_totals: dict = defaultdict(float)


def _timed(label, fn):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _totals[label] += time.process_time() - start
    return wrapper


class _TimedModule:
    """A module stand-in whose functions are timed together under one label."""

    def __init__(self, label, module):
        self._label, self._module = label, module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        return _timed(self._label, value) if callable(value) and not isinstance(value, type) else value


def install() -> None:
    import importlib
    import types
    for label, mod, attr, _depth in STEPS:
        m = importlib.import_module(mod)
        value = getattr(m, attr, None)
        if value is None:  # a step this version of the code does not have (an older checkout)
            continue
        setattr(m, attr, _TimedModule(label, value) if isinstance(value, types.ModuleType) else _timed(label, value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("receipt")
    parser.add_argument("image_id")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from pyzkvm.backends import get_backend
    from pyzkvm.receipt import Receipt

    stark = get_backend("stark")
    receipt = Receipt.from_bytes(Path(args.receipt).read_bytes())
    image_id = bytes.fromhex(args.image_id)
    stark.verify(receipt, image_id)  # warm: the verifying key is cached now
    plain = []
    for _ in range(args.runs):
        start = time.process_time()
        stark.verify(receipt, image_id)
        plain.append(time.process_time() - start)
    install()
    per_run = defaultdict(list)
    for _ in range(args.runs):
        _totals.clear()
        stark.verify(receipt, image_id)
        for label, _m, _a, _d in STEPS:
            per_run[label].append(_totals.get(label, 0.0))
    print(f"{args.receipt}: load average {os.getloadavg()[0]:.2f}, {args.runs} runs, CPU ms per verify (median)")
    for label, _m, _a, depth in STEPS:
        print(f"  {'  ' * depth}{label:<{44 - 2 * depth}} {1000 * statistics.median(per_run[label]):7.2f}")
    print(f"  {'whole verify (untimed runs): median / min':<44} {1000 * statistics.median(plain):7.2f} / "
          f"{1000 * min(plain):.2f}")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.runs):
            stark.verify(receipt, image_id)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
