"""What the benchmark measures: the full preset and the small ``--quick`` one that CI runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import UsageError
from ..host import usable_cpus

#: The guest every backend proves: input one u32 n; journal = n (u32 LE) ‖ F(n) (u64 LE).
DEFAULT_GUEST = Path("guests/bin/fibonacci.elf")

#: the largest batch a benchmark proves (its inputs are made up front: 2^64 ran until killed)
MAX_BATCH_SIZE = 4096


@dataclass(frozen=True)
class BenchConfig:
    """Parameters of one benchmark run.

    ``backends`` None means every registered backend; the trace backend is always measured
    too, because every ratio is taken against it in the same run. ``budget_s`` is the
    per-proof time budget: a size whose proof is estimated (linearly in cycles from the
    previous size) to take longer is skipped and the table says so. ``real_prover_workloads``
    (quick mode): a backend that makes real proofs is proved at only this many of the smallest
    workloads; the other rows say "skipped" and why. None measures every workload.
    """

    backends: tuple[str, ...] | None = None
    guest: Path = DEFAULT_GUEST
    small_ns: tuple[int, ...] = (10, 50, 100)
    cycle_exponents: tuple[int, ...] = tuple(range(12, 19))
    batch_sizes: tuple[int, ...] = (32, 64)
    batch_base_n: int = 100
    verify_reps: int = 100
    prove_repeats: int = 3
    budget_s: float = 120.0
    workers: int = field(default_factory=usable_cpus)
    quick: bool = False
    real_prover_workloads: int | None = None

    @classmethod
    def quick_preset(cls, **overrides) -> "BenchConfig":
        """The CI-sized run (seconds): n = 10, 50, 100, two cycle sizes, batch N = 2, 10 verifications.

        The two sizes are 2^13 and 2^14: the fibonacci guest needs about 6 000 cycles even at
        n = 0 (start-up and the SHA-256 of its journal), so 2^12 is out of its reach. A backend
        that makes real proofs (stark: about a second per proof) is proved only at the smallest
        workload (n = 10) plus the batch of 2; trace, which takes milliseconds, gets every row.
        """
        base = cls(
            cycle_exponents=(13, 14),
            batch_sizes=(2,),
            verify_reps=10,
            prove_repeats=1,
            budget_s=20.0,
            quick=True,
            real_prover_workloads=1,
        )
        return replace(base, **overrides)

    def validated(self) -> "BenchConfig":
        """Check every field; raise UsageError naming the bad one."""
        if not (self.budget_s > 0 and math.isfinite(self.budget_s)):
            raise UsageError(f"--budget must be a positive number of seconds, got {self.budget_s}")
        if self.verify_reps < 1:
            raise UsageError(f"--verify-reps must be at least 1, got {self.verify_reps}")
        if self.prove_repeats < 1:
            raise UsageError(f"prove_repeats must be at least 1, got {self.prove_repeats}")
        if self.real_prover_workloads is not None and self.real_prover_workloads < 1:
            raise UsageError(f"real_prover_workloads must be at least 1, got {self.real_prover_workloads}")
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}")
        from ..dist import refuse_too_many_workers

        refuse_too_many_workers(self.workers)  # (as prove's and prove-batch's --workers)
        if any(not 1 <= n <= MAX_BATCH_SIZE for n in self.batch_sizes):
            raise UsageError(f"--batch-sizes must be from 1 to {MAX_BATCH_SIZE}, got {list(self.batch_sizes)}")
        if any(not 0 <= n < 1 << 32 for n in self.small_ns):
            raise UsageError(f"fibonacci inputs must fit in u32, got {list(self.small_ns)}")
        if any(not 4 <= e <= 30 for e in self.cycle_exponents):
            raise UsageError(f"cycle sizes must be 2^4 … 2^30, got exponents {list(self.cycle_exponents)}")
        return self

    def to_json(self) -> dict:
        return {
            "backends": list(self.backends) if self.backends is not None else None,
            "guest": str(self.guest),
            "small_ns": list(self.small_ns),
            "cycle_exponents": list(self.cycle_exponents),
            "batch_sizes": list(self.batch_sizes),
            "batch_base_n": self.batch_base_n,
            "verify_reps": self.verify_reps,
            "prove_repeats": self.prove_repeats,
            "budget_s": self.budget_s,
            "workers": self.workers,
            "quick": self.quick,
            "real_prover_workloads": self.real_prover_workloads,
        }
