"""Batches of proofs: one after another in this process, and in parallel across processes.

The parallel batch uses ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start
method (safe beside numba's and rich's threads). Every worker process pays its own warm-up:
importing numba and loading (or compiling) the cached kernels, then one small proof. That
cost is measured separately as ``startup_s`` — pool start until every worker has warmed up —
so ``wall_s`` is the batch alone; both are reported.
"""

from __future__ import annotations

import importlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..receipt import Receipt
from .measure import check_receipt, prove_fibonacci

if TYPE_CHECKING:  # pragma: no cover
    from ..backends.base import Backend
    from ..program import Program

#: How long a worker waits for its siblings at the warm-up barrier before giving up.
BARRIER_TIMEOUT_S = 600.0


@dataclass
class BatchTiming:
    """Wall time of proving ``len(ns)`` inputs; ``startup_s`` is the pool's start and warm-up."""

    mode: str  # "sequential" or "parallel"
    proofs: int
    workers: int
    wall_s: float
    startup_s: float = 0.0

    @property
    def proofs_per_s(self) -> float:
        return self.proofs / self.wall_s if self.wall_s > 0 else float("inf")


def batch_inputs(base_n: int, count: int) -> list[int]:
    """Distinct inputs for a batch: base_n, base_n + 1, …"""
    return [base_n + i for i in range(count)]


def prove_batch_sequential(
    backend: "Backend", program: "Program", ns: Sequence[int], on_proof: Callable[[], None] = lambda: None
) -> BatchTiming:
    """Prove every input in this (warm) process, one after another; check each receipt."""
    t0 = time.perf_counter()
    receipts = []
    for n in ns:
        receipts.append(prove_fibonacci(backend, program, n))
        on_proof()
    wall = time.perf_counter() - t0
    for n, receipt in zip(ns, receipts, strict=True):
        check_receipt(receipt, n, program.image_id)
    return BatchTiming("sequential", len(ns), 1, wall)


def backend_spec(backend: "Backend") -> str:
    """``module:Class`` naming the backend's class, so a worker process can build its own."""
    cls = type(backend)
    return f"{cls.__module__}:{cls.__qualname__}"


def prove_batch_parallel(
    backend: "Backend",
    program: "Program",
    ns: Sequence[int],
    workers: int,
    warmup_n: int = 10,
    on_proof: Callable[[], None] = lambda: None,
) -> BatchTiming:
    """Prove every input across ``workers`` spawned processes; check each receipt here.

    Each worker builds the backend from its class, loads the program and proves ``warmup_n``
    once; then all meet at a barrier, which guarantees every worker is warm before the clock
    for the batch starts.
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    t_start = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(backend_spec(backend), program, warmup_n, barrier),
    ) as pool:
        # `workers` barrier tasks: none can finish until all run at once, one per process.
        for ready in [pool.submit(_worker_ready) for _ in range(workers)]:
            ready.result()
        startup = time.perf_counter() - t_start
        t0 = time.perf_counter()
        futures = {pool.submit(_worker_prove, n): n for n in ns}
        encoded = {}
        for f in as_completed(futures):
            encoded[futures[f]] = f.result()
            on_proof()
        wall = time.perf_counter() - t0
    for n in ns:
        check_receipt(Receipt.from_bytes(encoded[n]), n, program.image_id)
    return BatchTiming("parallel", len(ns), workers, wall, startup)


# ---- worker side (runs in the spawned processes) ------------------------------------------

_WORKER: dict = {}


def _worker_init(spec: str, program: "Program", warmup_n: int, barrier) -> None:
    """Build the backend, keep the program, and warm up with one small proof.

    The barrier travels here (at process start) because multiprocessing shares
    synchronisation objects only by inheritance, never as task arguments."""
    module_name, _, qualname = spec.partition(":")
    obj: Any = importlib.import_module(module_name)  # then the class within it
    for part in qualname.split("."):
        obj = getattr(obj, part)
    backend = obj()
    _WORKER.update(backend=backend, program=program, barrier=barrier)
    prove_fibonacci(backend, program, warmup_n)


def _worker_ready() -> bool:
    _WORKER["barrier"].wait(BARRIER_TIMEOUT_S)
    return True


def _worker_prove(n: int) -> bytes:
    return prove_fibonacci(_WORKER["backend"], _WORKER["program"], n).to_bytes()
