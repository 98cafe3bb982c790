"""The benchmark's orchestration: choose backends and workloads, measure, budget, take ratios.

Order of work (each step reported through ``progress(step, fraction)``):

1. resolve backends — every registered one (or ``--backends``), each asked ``availability()``;
   the trace backend is always measured, since every ratio is against it in the same run;
2. size workloads — fibonacci at n = 10, 50, 100 and at n sized for 2^k cycles (sizing.py),
   each executed once so the table shows measured cycles;
3. per backend: one warm-up proof (numba compilation and cache loading), then every workload
   in increasing cycles — prove, check against the Python oracle, verify, measure the size —
   skipping a workload whose proof would exceed the per-proof budget (estimated linearly in
   cycles from the last measured one) and, in --quick, every workload past the smallest for a
   backend that makes real proofs;
4. per batch size N: N proofs sequentially, then across ``workers`` processes;
5. ratios to the trace backend, row by row.
"""

from __future__ import annotations

import datetime as _dt
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ..backends.base import ProgressCallback
from ..errors import BackendError, BackendUnavailable, PyzkvmError, UnsupportedProgram, UsageError
from .batch import batch_inputs, prove_batch_parallel, prove_batch_sequential
from .config import BenchConfig
from .measure import check_receipt, prove_fibonacci, receipt_security_bits, time_prove, time_verify
from .report import SCHEMA, environment, load_average
from .sizing import execute_cycles, fit_cycle_model, plan_workloads
from .workload import load_guest

if TYPE_CHECKING:  # pragma: no cover
    from ..backends.base import Backend

#: The backend every ratio is taken against.
BASELINE = "trace"
#: Warm-up proof input: small, so the warm-up measures compilation, not proving.
WARMUP_N = 10


def run_benchmark(
    config: BenchConfig,
    progress: ProgressCallback | None = None,
    *,
    backends: Mapping[str, "Backend"] | None = None,
    argv: list[str] | None = None,
) -> dict:
    """Run the comparison and return its results as a JSON-ready dict (see report.py).

    ``backends`` replaces the registry (name → Backend instance), for tests and for callers
    that build their own; by default every registered backend is asked for availability.
    """
    config = config.validated()
    progress = progress or (lambda step, fraction: None)
    started = _dt.datetime.now(_dt.timezone.utc)
    load_at_start = load_average()
    entries = resolve_backends(config.backends, backends)
    measured = {name: e["backend"] for name, e in entries.items() if e["backend"] is not None}
    if BASELINE not in measured:
        raise BackendError(
            f"the {BASELINE} backend is the baseline of every ratio but cannot run here: "
            f"{entries[BASELINE]['reason']}"
        )
    program = load_guest(config.guest)

    progress("size workloads: execute fibonacci", 0.0)
    model = fit_cycle_model(lambda n: execute_cycles(program, n))
    notes: list[str] = []
    workloads = plan_workloads(config, model, program, notes)

    steps = _Steps(progress, total=len(measured) * (1 + len(workloads) + 2 * len(config.batch_sizes)))
    proofs: list[dict] = []
    batches: list[dict] = []
    for name, backend in measured.items():
        info = entries[name]
        rows, batch_rows = measure_backend(name, backend, info, program, workloads, config, steps)
        proofs += rows
        batches += batch_rows

    add_ratios(proofs, batches)
    limited = [name for name, b in measured.items() if b.produces_proofs and entries[name].get("warmup_s") is not None]
    if config.real_prover_workloads is not None and limited:
        notes.append(
            f"--quick: {', '.join(limited)} (real proofs, seconds each) proved only at the "
            f"{_smallest(config.real_prover_workloads)} and in the batches; `pyzkvm bench` without --quick "
            "measures every size")
    failures: list[dict | str] = [r for r in proofs + batches if r["status"] == "failed"]
    failures += [name for name, e in entries.items() if e.get("warmup_error")]
    return {
        "schema": SCHEMA,
        "meta": {
            **environment(),
            "date": started.isoformat(timespec="seconds"),
            "duration_s": round((_dt.datetime.now(_dt.timezone.utc) - started).total_seconds(), 3),
            "load_average_start": load_at_start,
            "load_average_end": load_average(),
            "command": " ".join(argv) if argv else None,
            "config": config.to_json(),
        },
        "guest": {"path": str(config.guest), "image_id": program.image_id.hex(), "abi": program.abi},
        "sizing": model.to_json(),
        "workloads": [w.to_json() for w in workloads],
        "backends": {name: _public(e) for name, e in entries.items()},
        "proofs": proofs,
        "batches": batches,
        "notes": notes,
        "ok": not failures,
    }


# ---- 1. backends ----------------------------------------------------------------------------


def resolve_backends(names, given: Mapping[str, "Backend"] | None) -> dict[str, dict]:
    """name → {backend or None, available, reason, produces_proofs}; the baseline always included.
    A backend in ``names`` that is not available here is refused (BackendUnavailable, its reason:
    how to install it); by default every registered one is measured if it is available."""
    from ..backends.base import get_backend, list_backends

    pool = dict(given) if given is not None else None
    known = list(pool) if pool is not None else list_backends()
    wanted = list(names) if names else list(known)
    for name in wanted:
        if name not in known:
            raise UsageError(f"unknown backend {name!r}: choose from {', '.join(known)}")
    if BASELINE not in wanted:
        wanted.insert(0, BASELINE)
    entries: dict[str, dict] = {}
    for name in sorted(wanted, key=lambda n: n != BASELINE):  # the baseline first
        entry: dict[str, object] = {"backend": None, "available": False, "reason": "", "version": "", "produces_proofs": None}
        try:
            backend = pool[name] if pool is not None else get_backend(name)
            avail = backend.availability()
        except PyzkvmError as exc:
            entry["reason"] = str(exc)
        else:
            entry.update(available=bool(avail), reason=avail.reason, version=avail.version,
                         produces_proofs=bool(backend.produces_proofs))
            if avail:
                entry["backend"] = backend
        entries[name] = entry
    if names:  # asked for by name: one that cannot run here is refused before any work (as prove -b NAME)
        missing = next((n for n in names if n != BASELINE and not entries[n]["available"]), None)
        if missing is not None:
            raise BackendUnavailable(f"--backends {missing}: {entries[missing]['reason'] or 'not available here'}")
    return entries


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "backend"}


# ---- 3 and 4. one backend --------------------------------------------------------------------


class _Steps:
    """Counts finished steps and reports progress(step, fraction)."""

    def __init__(self, progress: ProgressCallback, total: int):
        self.progress, self.total, self.done = progress, max(total, 1), 0

    def start(self, text: str) -> None:
        self.progress(text, self.done / self.total)

    def finish(self, text: str = "") -> None:
        self.done += 1
        self.progress(text, self.done / self.total)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, PyzkvmError):
        return f"{type(exc).__name__}: {exc}"
    # Not a typed error: a bug in a backend. Keep the last frame so it can be found.
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}{where}: {exc}"


def measure_backend(name, backend, info, program, workloads, config, steps) -> tuple[list[dict], list[dict]]:
    """Warm up, then measure every workload and batch for one backend (rows for the report).

    A backend whose warm-up proof fails (or that cannot prove this guest) gets no rows: the
    backends table says why, once.
    """
    steps.start(f"{name}: warm-up proof (n={WARMUP_N}, numba compile/cache load)")
    warmed = warm_up(backend, program, info)
    steps.finish()
    if not warmed:
        steps.done += len(workloads) + 2 * len(config.batch_sizes)
        return [], []
    rows = measure_workloads(name, backend, program, workloads, config, steps)
    broken = any(r["status"] == "failed" for r in rows)
    return rows, measure_batches(name, backend, program, rows, config, steps, broken)


def warm_up(backend, program, info: dict) -> bool:
    """One proof at n = WARMUP_N before any timing: compilation and cache loading land here.

    Records ``warmup_s``, the backend's version and receipt params in ``info``; on failure
    records why (``unsupported`` is not a failure: e.g. risc0 needs a risc0-profile build).
    """
    t0 = time.perf_counter()
    try:
        receipt = prove_fibonacci(backend, program, WARMUP_N)
        check_receipt(receipt, WARMUP_N, program.image_id)
    except UnsupportedProgram as exc:
        info["unsupported"] = str(exc)
        return False
    except Exception as exc:  # noqa: BLE001 - any failure is reported in the table
        info["warmup_error"] = f"warm-up proof failed: {_failure(exc)}"
        return False
    info["warmup_s"] = time.perf_counter() - t0
    info["backend_version"] = receipt.backend_version
    info["params"] = dict(receipt.params)
    return True


def measure_workloads(name, backend, program, workloads, config, steps) -> list[dict]:
    """Prove, check and verify each workload in increasing cycles, within the per-proof budget.

    The time of the next size is estimated as t_last · cycles / cycles_last (proving is at
    least linear in cycles); a size estimated over the budget is skipped, with the estimate.
    """
    rows: list[dict] = []
    last: tuple[int, float] | None = None  # (cycles, seconds) of the last measured proof
    failed = False
    limit = config.real_prover_workloads if backend.produces_proofs else None
    for i, w in enumerate(workloads):
        row = {"backend": name, "label": w.label, "n": w.n, "cycles": w.cycles, "status": "ok", "reason": ""}
        steps.start(f"{name}: prove {w.label} (n={w.n}, {w.cycles:,} cycles)")
        estimate = last[1] * w.cycles / last[0] if last else 0.0
        if failed:
            row.update(status="skipped", reason="not run: an earlier proof failed")
        elif limit is not None and i >= limit:
            row.update(status="skipped", reason=f"skipped: --quick proves a real prover at its {_smallest(limit)} only")
        elif estimate > config.budget_s:
            row.update(status="skipped",
                       reason=f"skipped: estimated {estimate:.3g} s per proof > budget {config.budget_s:g} s")
        else:
            try:
                timing = time_prove(backend, program, w.n, config.prove_repeats)
                check_receipt(timing.receipt, w.n, program.image_id)
                verify = time_verify(backend, timing.receipt, program.image_id, config.verify_reps,
                                     config.budget_s, program=program)
                bits, source = verify.security_bits, "verifier"
                if bits is None and backend.produces_proofs:
                    # The verifier accepted the proof but reports no bits: quote the receipt's own.
                    bits, source = receipt_security_bits(timing.receipt), "receipt"
                row.update(
                    prove_s=timing.seconds,
                    prove_runs=timing.runs,
                    verify_us=verify.mean_us,
                    verify_runs=verify.runs,
                    security_bits=bits,
                    security_source=source if bits is not None else None,
                    size_bytes=len(timing.receipt.to_bytes()),
                    seal_bytes=len(timing.receipt.seal),
                    claimed_cycles=timing.receipt.claim.cycles,
                    cycles_per_s=w.cycles / timing.seconds if timing.seconds > 0 else None,
                )
                last = (w.cycles, timing.seconds)
            except Exception as exc:  # noqa: BLE001
                row.update(status="failed", reason=_failure(exc))
                failed = True
        rows.append(row)
        steps.finish()
    return rows


def _smallest(count: int) -> str:
    return "smallest workload" if count == 1 else f"{count} smallest workloads"


def measure_batches(name, backend, program, rows, config, steps, broken: bool) -> list[dict]:
    """Batches at inputs base_n, base_n+1, …: sequential here, then across processes.

    Budgeted by the measured proof whose n is nearest base_n: skipped when one proof would
    exceed the per-proof budget.
    """
    batch_rows: list[dict] = []
    measured = [r for r in rows if r["status"] == "ok"]
    nearest = min(measured, key=lambda r: abs(r["n"] - config.batch_base_n), default=None)
    per_proof = nearest["prove_s"] if nearest else None
    for size in config.batch_sizes:
        ns = batch_inputs(config.batch_base_n, size)
        for mode in ("sequential", "parallel"):
            workers = 1 if mode == "sequential" else config.workers
            row = {"backend": name, "mode": mode, "proofs": size, "workers": workers, "n_first": ns[0],
                   "n_last": ns[-1], "status": "ok", "reason": ""}
            where = f" on {workers} processes" if mode == "parallel" else ""
            steps.start(f"{name}: batch of {size} proofs, {mode}{where}")
            if broken:
                row.update(status="skipped", reason="not run: an earlier proof failed")
            elif per_proof is None:
                row.update(status="skipped", reason="skipped: no measured proof to budget from")
            elif per_proof > config.budget_s:
                row.update(status="skipped",
                           reason=f"skipped: one proof takes ~{per_proof:.3g} s > budget {config.budget_s:g} s")
            else:
                try:
                    if mode == "sequential":
                        t = prove_batch_sequential(backend, program, ns)
                    else:
                        t = prove_batch_parallel(backend, program, ns, workers, warmup_n=WARMUP_N)
                    row.update(wall_s=t.wall_s, startup_s=t.startup_s, proofs_per_s=t.proofs_per_s,
                               per_proof_s=t.wall_s / size)
                except BrokenProcessPool as exc:
                    row.update(status="failed", reason=f"a worker process died (its warm-up or a proof crashed): {exc}")
                except Exception as exc:  # noqa: BLE001
                    row.update(status="failed", reason=_failure(exc))
            batch_rows.append(row)
            steps.finish()
    return batch_rows


# ---- 5. ratios ------------------------------------------------------------------------------


def add_ratios(proofs: list[dict], batches: list[dict]) -> None:
    """Each measured time divided by the trace backend's time for the same row (same run)."""
    base = {r["label"]: r for r in proofs if r["backend"] == BASELINE and r["status"] == "ok"}
    for r in proofs:
        b = base.get(r["label"]) if r["status"] == "ok" else None
        r["prove_vs_trace"] = r["prove_s"] / b["prove_s"] if b is not None and b["prove_s"] > 0 else None
        r["verify_vs_trace"] = r["verify_us"] / b["verify_us"] if b is not None and b["verify_us"] > 0 else None
    bbase = {(r["proofs"], r["mode"]): r for r in batches if r["backend"] == BASELINE and r["status"] == "ok"}
    for r in batches:
        b = bbase.get((r["proofs"], r["mode"])) if r["status"] == "ok" else None
        r["wall_vs_trace"] = r["wall_s"] / b["wall_s"] if b is not None and b["wall_s"] > 0 else None

