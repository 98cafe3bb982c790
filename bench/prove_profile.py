"""Where a proof's time goes: the protocol-step split and the kernel-rate lower bound.

Used by bench/stark_prove.py inside its worker process. ``instrument()`` wraps, by module
attribute, the prover's protocol steps and the two kernels (NTT butterflies, BLAKE3
hashing) with timers and work counters; ``kernel_rates()`` then measures those kernels'
own rates on typical shapes in the same process, so

    lower bound = butterflies / butterfly rate + hashed bytes / leaf rate + nodes / node rate

(butterflies: the whole transforms' and, since session 16, the trace queries' partial ones —
lde_source._block_rows, a DIF network pruned to the rows opened — at the whole transforms' rate).

is the time the proof would take if it did nothing but its NTTs and hashes at full speed.
The steps are disjoint (none calls another), so their sum plus "other" is the prove time
(a step the measured code does not have is skipped, so older checkouts can be measured);
the kernel timers nest inside the steps and give the kernels' share of the whole. Times are
process CPU seconds (every thread), so a loaded machine stretches them less than wall time.
"""

from __future__ import annotations

import resource
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

# (module, attribute, step name): disjoint calls that together are the protocol's work
STEPS = [
    ("pyzkvm.backends.stark", "build_statements", "execute + build tables"),
    ("pyzkvm.stark", "setup", "setup (preprocessed commit)"),
    ("pyzkvm.stark.joint", "check_all_constraints", "debug check"),
    ("pyzkvm.stark.joint", "check_buses", "debug check"),
    # since session 19 the per-table loops of steps 2–4 are functions (a tall table at a time, the short ones
    # side by side on the thread pool: prover._each_table), each one step; the steps inside them are not
    # counted apart (a short table's run on either thread, beside another's)
    ("pyzkvm.stark.prover", "_main_ldes", "LDE (main)"),
    ("pyzkvm.stark.prover", "_aux_ldes", "LogUp phase: f̂ on H, LogUp trace, aux LDE"),
    ("pyzkvm.stark.prover", "_quotients", "quotient evaluation"),
    ("pyzkvm.stark.prover", "_hiding_evaluations", "hiding randomness (f̂, salts)"),  # before f̂ was drawn as coefficients
    ("pyzkvm.stark.prover", "_hide", "hiding randomness (f̂, salts)"),
    ("pyzkvm.stark.prover", "_salted", "hiding randomness (f̂, salts)"),
    ("pyzkvm.stark.prover", "coset_lde", "LDE (main, aux)"),
    ("pyzkvm.stark.lde_source.LdeSource", "from_values", "LDE (main, aux)"),  # since issue 18's memory work:
    # the LDE is kept as coefficients; its blocks are recomputed inside the commit, quotient and openings
    ("pyzkvm.stark.prover", "intt", "LDE (main, aux)"),  # hiding: _hide interpolates into f̂'s rows (session 11)
    ("pyzkvm.stark.prover", "intt_columns_into", "LDE (main, aux)"),  # hiding: f's coefficients in f̂'s rows (issue 18)
    ("pyzkvm.stark.prover._Table", "main_trace", "trace on H from f̂ (hiding)"),  # the LogUp trace's input
    ("pyzkvm.stark.prover", "build_aux_trace", "LogUp trace"),
    ("pyzkvm.stark.mmcs.MixedMatrixTree", "commit", "Merkle commit (main, aux, quotient)"),
    ("pyzkvm.stark.prover", "_quotient_chunks", "quotient evaluation"),
    ("pyzkvm.stark.prover", "_lde_from_coefficients", "quotient LDE"),  # before issue 18
    ("pyzkvm.stark.prover", "coset_lde_from_coefficients", "quotient LDE"),
    ("pyzkvm.stark.prover", "_openings_at_zeta", "open at ζ"),  # since session 29: the tables side by side
    ("pyzkvm.stark.prover", "evaluate_trace_at", "open at ζ"),
    ("pyzkvm.stark.prover", "weighted_column_sums", "open at ζ"),
    ("pyzkvm.stark.prover", "evaluate_lde_at", "open at ζ"),
    ("pyzkvm.stark.prover", "lde_barycentric_weights", "open at ζ"),
    ("pyzkvm.stark.prover", "_evaluate_coefficients", "open at ζ"),
    ("pyzkvm.stark.prover", "deep_values", "DEEP composition"),  # before deep_codewords
    ("pyzkvm.stark.prover", "deep_codewords", "DEEP composition"),
    ("pyzkvm.stark.prover", "deep_codewords_from_coefficients", "DEEP composition"),
    ("pyzkvm.stark.prover", "_release_heap", "heap release (malloc_trim)"),
    ("pyzkvm.stark.prover", "_drop_cached_factors", "heap release (malloc_trim)"),
    ("pyzkvm.stark.ext", "ext_powers", "open at ζ"),
    ("pyzkvm.stark.fri.FriProver", "commit_phase", "FRI commit"),
    ("pyzkvm.stark.joint", "joint_bus_challenges", "bus challenges (grinding)"),  # bus_pow_bits of BLAKE3 proof of work
    ("pyzkvm.stark.rounds", "query_positions", "grinding + queries"),
    ("pyzkvm.stark.fri.FriProver", "open_queries", "FRI queries"),
    ("pyzkvm.stark.mmcs.MixedMatrixTree", "open", "trace queries (rows recomputed)"),
]


def _resolve(path: str):
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def cpu_s() -> float:
    """This process's CPU time so far, every thread (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Profile:
    """Accumulated wall and CPU time per step, CPU time per kernel, the kernels' work counts."""

    def __init__(self):
        self.step_s = defaultdict(float)
        self.step_cpu_s = defaultdict(float)
        self.kernel_s = defaultdict(float)
        self.work = defaultdict(int)  # butterflies, leaf bytes, nodes
        self._depth = 0

    def report(self, prove_s: float, cpu_s: float, rates: dict) -> dict:
        steps = dict(self.step_s)
        steps["other"] = max(0.0, prove_s - sum(steps.values()))
        steps_cpu = dict(self.step_cpu_s)
        steps_cpu["other"] = max(0.0, cpu_s - sum(steps_cpu.values()))
        butterflies = self.work["butterflies"] + self.work["partial_butterflies"]
        bound = (butterflies / rates["butterflies_per_s"] + self.work["leaf_bytes"] / rates["leaf_bytes_per_s"]
                 + self.work["nodes"] / rates["nodes_per_s"])
        kernels = sum(self.kernel_s.values())
        # the share as sessions before 16 counted it (whole transforms and BLAKE3 only), beside it
        return {"steps_s": steps, "steps_cpu_s": steps_cpu, "kernels_s": dict(self.kernel_s), "work": dict(self.work), "rates": rates,
                "kernel_share": kernels / cpu_s, "kernel_share_whole_ntt": (kernels - self.kernel_s["NTT (query rows)"]) / cpu_s,
                "kernel_bound_s": bound}


def _wrap_step(profile: Profile, owner, attr: str, label: str):
    fn = getattr(owner, attr)

    def timed(*args, **kwargs):
        if profile._depth:  # a step called from inside another: counted there already
            return fn(*args, **kwargs)
        profile._depth += 1
        t0, c0 = time.perf_counter(), cpu_s()
        try:
            return fn(*args, **kwargs)
        finally:
            profile.step_s[label] += time.perf_counter() - t0
            profile.step_cpu_s[label] += cpu_s() - c0
            profile._depth -= 1

    setattr(owner, attr, timed)


def _wrap_kernel(profile: Profile, owners, attr: str, label: str, work_of):
    # the process CPU (all threads) from the first call in flight to the last one's return:
    # calls that run side by side on the thread pool (two LDE blocks' transforms, say) each
    # see both threads' CPU, so a sum over calls counted it twice (measured at 2^18, 2
    # threads: NTT 3.47 s summed over calls, 2.71 s while any ran; bench/results/stark_kernels.md, "nttb")
    fn = getattr(owners[0], attr)
    lock = threading.Lock()
    in_flight = [0, 0.0]  # calls running now, process CPU when the first of them began

    def timed(*args, **kwargs):
        with lock:
            if in_flight[0] == 0:
                in_flight[1] = cpu_s()
            in_flight[0] += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1
                if in_flight[0] == 0:
                    profile.kernel_s[label] += cpu_s() - in_flight[1]
        work = work_of(*args)
        with lock:
            for key, amount in work if isinstance(work, list) else [work]:
                profile.work[key] += amount
        return out

    for owner in owners:
        setattr(owner, attr, timed)


@contextmanager
def instrument():
    """Wrap the steps and kernels for the duration of the block; yields the Profile. Call it
    after the warm-up proof, so compile time is not counted."""
    from pyzkvm.stark import merkle, mmcs, ntt

    profile = Profile()
    saved = []
    for path, attr, label in STEPS:
        try:
            owner = _resolve(path)
        except (ImportError, AttributeError):  # a module of another version of the code (--code)
            continue
        if not hasattr(owner, attr):  # a step of another version of the code (--code)
            continue
        saved.append((owner, attr, getattr(owner, attr)))
        _wrap_step(profile, owner, attr, label)
    # NTT: a size-n transform of w columns is (n/2)·log2(n)·w butterflies
    for attr in ("_dif", "_dit"):
        saved.append((ntt, attr, getattr(ntt, attr)))
        _wrap_kernel(profile, [ntt], attr, "NTT",
                     lambda m, log_n, inverse: ("butterflies", (m.shape[0] // 2) * log_n * m.shape[1]))
    # the trace queries' partial transforms (lde_source._block_rows: a DIF network pruned to the
    # subproblems that hold a wanted row) are NTT butterflies too: their own kernel row, their
    # butterflies (every pair of a computed subproblem, per column) in the work and the bound
    from pyzkvm.stark import lde_source

    if hasattr(lde_source, "_block_rows"):
        saved.append((lde_source, "_block_rows", lde_source._block_rows))
        _wrap_kernel(profile, [lde_source], "_block_rows", "NTT (query rows)",
                     lambda coeffs, nonzero, c0, c1, g, tw, tws, active, log_d, out: (
                         "partial_butterflies", _partial_butterflies(active, log_d, c1 - c0)))
    # the hashing kernels, where each version of the code (--code) imports them by name (mmcs
    # once did; it now calls merkle's through the module)
    owners = [o for o in (merkle, mmcs) if hasattr(o, "hash_rows")]
    saved += [(o, a, getattr(o, a)) for o in owners for a in ("hash_rows", "compress_pairs")]
    _wrap_kernel(profile, owners, "hash_rows", "BLAKE3 leaves",
                 lambda m, out=None, width=None: ("leaf_bytes", 4 * _rows_and_width(m, width)))
    _wrap_kernel(profile, owners, "compress_pairs", "BLAKE3 nodes",
                 lambda d, *_: ("nodes", int(np.asarray(d).shape[0]) // 2))
    # nodes whose two halves come from two arrays (a tree's injected digests: mmcs._inject,
    # since session 17; before, a copy into pairs, then compress_pairs)
    if hasattr(merkle, "compress_each"):
        saved.append((merkle, "compress_each", merkle.compress_each))
        _wrap_kernel(profile, [merkle], "compress_each", "BLAKE3 nodes",
                     lambda left, *_: ("nodes", int(np.asarray(left).shape[0])))
    # rows hashed and injected into a tree's nodes in one loop (merkle.inject_row_hashes: an
    # LdeSource beside a group's first matrix, since session 18's `serial` task): its leaf bytes
    # and its nodes, one per row, its CPU with the leaves'
    if hasattr(merkle, "inject_row_hashes"):
        saved.append((merkle, "inject_row_hashes", merkle.inject_row_hashes))
        _wrap_kernel(profile, [merkle], "inject_row_hashes", "BLAKE3 leaves",
                     lambda nodes, m, width=None: [("leaf_bytes", 4 * _rows_and_width(m, width)),
                                                   ("nodes", int(np.asarray(nodes).shape[0]))])
    try:
        yield profile
    finally:
        for owner, attr, fn in reversed(saved):
            setattr(owner, attr, fn)


def _partial_butterflies(active, log_d: int, width: int) -> int:
    # layer l has 2^l subproblems of D/2^l rows, D/2^(l+1) butterflies each; active[2^l + s]
    # marks subproblem s of layer l as computed
    a = np.asarray(active)
    return width * sum(int(a[1 << l:2 << l].sum()) << (log_d - l - 1) for l in range(log_d))


def _rows_and_width(m, width) -> int:
    # the elements hash_rows hashes: every row's first `width` (a padded block's, passed
    # positionally by lde_source; default all)
    a = np.asarray(m)
    return a.size if width is None else a.shape[0] * width


def _best(fn, repeats=5):
    # best process CPU time of `repeats` calls (the rate of one core when 1 numba thread runs)
    fn()
    times = []
    for _ in range(repeats):
        c0 = cpu_s()
        fn()
        times.append(cpu_s() - c0)
    return min(times)


def kernel_rates(log_rows: int = 16, width: int = 64) -> dict:
    """The kernels' own rates, best of 5, on a (2^log_rows, width) matrix (the shape of a main
    LDE block), with the current numba thread count."""
    from pyzkvm.stark import merkle, ntt
    from pyzkvm.stark.field import P

    rng = np.random.default_rng(7)
    m = rng.integers(0, P, (1 << log_rows, width), dtype=np.uint32)
    work = m.copy()
    t_ntt = _best(lambda: ntt._dif(work, log_rows, False))
    digests = merkle.hash_rows(m)
    t_leaf = _best(lambda: merkle.hash_rows(m))
    t_node = _best(lambda: merkle.compress_pairs(digests))
    return {"butterflies_per_s": (m.shape[0] // 2) * log_rows * width / t_ntt, "leaf_bytes_per_s": m.nbytes / t_leaf,
            "nodes_per_s": (m.shape[0] // 2) / t_node}
