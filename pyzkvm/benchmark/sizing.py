"""Choosing the fibonacci input n that runs for about a target number of cycles.

The guest's loop runs n times, so its cycle count is affine in n::

    cycles(n) = fixed + per_iteration · n

Executing at two inputs n0 < n1 gives per_iteration = (c1 − c0)/(n1 − n0) and
fixed = c0 − per_iteration · n0; the input for a target T is n = round((T − fixed)/per_iteration).
The benchmark then executes at that n and reports the cycles it *measured*, never the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import BackendError, ProgramError
from .workload import Workload, fibonacci_inputs

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program
    from .config import BenchConfig

_U32_MAX = (1 << 32) - 1


@dataclass(frozen=True)
class CycleModel:
    """cycles(n) ≈ fixed + per_iteration · n, fitted from two executions (``probes``)."""

    fixed: float
    per_iteration: float
    probes: tuple[tuple[int, int], ...]

    def n_for_cycles(self, target: int) -> int:
        """The input n whose run the model predicts takes ``target`` cycles (at least 0)."""
        n = round((target - self.fixed) / self.per_iteration)
        return int(min(max(n, 0), _U32_MAX))

    def to_json(self) -> dict:
        return {
            "fixed_cycles": self.fixed,
            "cycles_per_iteration": self.per_iteration,
            "probes": [{"n": n, "cycles": c} for n, c in self.probes],
        }


def fit_cycle_model(cycles_of: Callable[[int], int], n0: int = 1000, n1: int = 3000) -> CycleModel:
    """Execute at n0 and n1 (``cycles_of(n)`` runs the guest) and fit the affine model.

    Raises ProgramError when the cycle count does not grow with n (not a loop of n steps).
    """
    c0, c1 = cycles_of(n0), cycles_of(n1)
    per_iteration = (c1 - c0) / (n1 - n0)
    if per_iteration <= 0:
        raise ProgramError(
            f"cycles do not grow with n ({c0} at n={n0}, {c1} at n={n1}): "
            "the benchmark guest must loop n times (use guests/bin/fibonacci.elf)"
        )
    return CycleModel(fixed=c0 - per_iteration * n0, per_iteration=per_iteration, probes=((n0, c0), (n1, c1)))


def execute_cycles(program: "Program", n: int) -> int:
    """Cycles the executor counts for the fibonacci guest at input n (exit code must be 0)."""
    try:
        from ..executor import execute
    except ImportError as exc:
        raise BackendError(f"the benchmark needs pyzkvm.executor.execute, which is not available: {exc}") from None
    run = execute(program, fibonacci_inputs(n))
    if run.exit_code != 0:
        raise ProgramError(f"benchmark guest exited with code {run.exit_code} at n={n}: is it the fibonacci guest?")
    return int(run.cycles)


def plan_workloads(config: "BenchConfig", model: CycleModel, program: "Program", notes: list[str]) -> list[Workload]:
    """The small inputs and the 2^k-cycle inputs, each executed once; sorted by cycles.

    A 2^k below the guest's cost at n = 0 (start-up, SHA-256 of the journal, exit) cannot be
    reached; it is left out and ``notes`` says so.
    """
    chosen: dict[int, Workload] = {}
    for n in config.small_ns:
        chosen[n] = Workload(f"n={n}", n, execute_cycles(program, n))
    floor = None
    for e in config.cycle_exponents:
        n = model.n_for_cycles(1 << e)
        if n == 0:
            floor = floor or execute_cycles(program, 0)
            if floor > (1 << e) * 1.05:
                notes.append(f"2^{e} = {1 << e:,} cycles is below the guest's minimum ({floor:,} cycles at n=0): "
                             "not measured")
                continue
        if n not in chosen:
            chosen[n] = Workload(f"2^{e}", n, execute_cycles(program, n), target_cycles=1 << e)
    return sorted(chosen.values(), key=lambda w: (w.cycles, w.n))
