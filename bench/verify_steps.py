#!/usr/bin/env python
"""Where a warm in-process stark verify spends its CPU time, step by step (issue 18's verify item).

    python bench/verify_steps.py RECEIPT IMAGE_ID_HEX [--runs 20] [--profile] [--hashes]

Loads the receipt, verifies it once (the verifying key is then cached in-process, as in any
warm verifier), then --runs more times with every verifier step wrapped in a timer
(time.process_time, inclusive: a step's time includes the steps called inside it, listed
indented below it). Prints each step's median CPU ms per verify, the whole verify's median
and minimum CPU ms, and the load average. ``--profile``: also a cProfile of the runs, by
internal time. ``--hashes``: the hashing floor (hash_floor). Run it with NUMBA_NUM_THREADS=1
(the verify path uses no numba anyway).
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
    ("FRI: layer Merkle openings", "pyzkvm.stark.fri", "rows_in_tree", 2),  # later versions
    ("FRI: coset folds", "pyzkvm.stark.fri", "fold_cosets", 2),
    ("multiproof walks (all trees)", "pyzkvm.stark.multiproof", "verify_multiproof", 0),
    ("multiproof walks (all trees)", "pyzkvm.stark.multiproof", "walk", 0),  # later versions: the walk itself
    ("multiproof walks (all trees)", "pyzkvm.stark.mmcs", "walk", 0),        # (mmcs imports it by name)
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


def hash_floor(stark, receipt, image_id) -> None:
    """The hashing floor: how many BLAKE3 calls one verify makes (the Merkle leaves and nodes:
    multiproof.blake3_each and the blake3 package path of merkle.hash_rows), and the CPU time
    of that many calls alone on a message of their mean size (best of 5)."""
    from pyzkvm.stark import blake3_numba, mmcs, multiproof

    counts = {"calls": 0, "bytes": 0}
    each, small = multiproof.blake3_each, blake3_numba._hash_rows_small

    def counting_each(messages):
        counts["calls"] += len(messages)
        counts["bytes"] += sum(len(m) for m in messages)
        return each(messages)

    def counting_small(matrix, out):
        counts["calls"] += matrix.shape[0]
        counts["bytes"] += 4 * matrix.size
        return small(matrix, out)

    multiproof.blake3_each = mmcs.blake3_each = counting_each
    blake3_numba._hash_rows_small = counting_small
    try:
        stark.verify(receipt, image_id)
    finally:
        multiproof.blake3_each = mmcs.blake3_each = each
        blake3_numba._hash_rows_small = small
    calls, size = counts["calls"], counts["bytes"] // max(counts["calls"], 1)
    messages, best = [os.urandom(size)] * calls, float("inf")
    for _ in range(5):
        start = time.process_time()
        each(messages)
        best = min(best, time.process_time() - start)
    print(f"  hashing floor: {calls} BLAKE3 calls per verify, mean message {size} B; the calls alone "
          f"{1000 * best:.2f} ms CPU ({1e6 * best / max(calls, 1):.2f} µs each)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("receipt")
    parser.add_argument("image_id")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--hashes", action="store_true",
                        help="count one verify's BLAKE3 calls and time that many calls of the blake3 package alone")
    args = parser.parse_args()
    from pyzkvm.backends import get_backend
    from pyzkvm.receipt import Receipt

    stark = get_backend("stark")
    receipt = Receipt.from_bytes(Path(args.receipt).read_bytes())
    image_id = bytes.fromhex(args.image_id)
    stark.verify(receipt, image_id)  # warm: the verifying key is cached now
    plain, wall = [], []
    for _ in range(args.runs):
        start, start_wall = time.process_time(), time.perf_counter()
        stark.verify(receipt, image_id)
        plain.append(time.process_time() - start)
        wall.append(time.perf_counter() - start_wall)
    if args.profile:  # before the step timers are installed (their wrappers would be profiled too)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.runs):
            stark.verify(receipt, image_id)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
    install()
    per_run = defaultdict(list)
    for _ in range(args.runs):
        _totals.clear()
        stark.verify(receipt, image_id)
        for label in dict.fromkeys(label for label, _m, _a, _d in STEPS):
            per_run[label].append(_totals.get(label, 0.0))
    print(f"{args.receipt}: load average {os.getloadavg()[0]:.2f}, {args.runs} runs, CPU ms per verify (median)")
    for label, _m, _a, depth in dict.fromkeys((label, None, None, depth) for label, _m, _a, depth in STEPS):
        print(f"  {'  ' * depth}{label:<{44 - 2 * depth}} {1000 * statistics.median(per_run[label]):7.2f}")
    print(f"  {'whole verify (untimed runs): median / min':<44} {1000 * statistics.median(plain):7.2f} / "
          f"{1000 * min(plain):.2f}  (wall {1000 * statistics.median(wall):.2f} / {1000 * min(wall):.2f})")
    if args.hashes:
        hash_floor(stark, receipt, image_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
