"""Timing one backend on one workload: prove, check the receipt, verify.

Times are wall-clock (``time.perf_counter``) on a warm process: the runner proves once before
it starts timing, so numba compilation and cache loading land in the backend's ``warmup_s``,
not in its first row.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError, VerificationError
from .workload import expected_journal, fibonacci_inputs

if TYPE_CHECKING:  # pragma: no cover
    from ..backends.base import Backend
    from ..program import Program
    from ..receipt import Receipt

#: Repeat a prove only while one run takes under this long (a median of fast runs is steadier).
REPEAT_BELOW_S = 1.0


@dataclass
class ProveTiming:
    """The median wall time of ``runs`` proofs of one input, and the last receipt."""

    seconds: float
    runs: int
    receipt: "Receipt"


@dataclass
class VerifyTiming:
    """The mean wall time of ``runs`` verifications of one receipt, in microseconds, and the
    security in bits the verifier reported (None when it reports none)."""

    mean_us: float
    runs: int
    security_bits: float | None = None


def reported_security_bits(report) -> float | None:
    """Bits from what ``verify`` returned: a report with ``.security.bits`` (the stark
    verifier's VerificationReport), or anything with ``.bits``; None otherwise."""
    security = getattr(report, "security", report)
    bits = getattr(security, "bits", None)
    return float(bits) if isinstance(bits, (int, float)) and not isinstance(bits, bool) else None


def receipt_security_bits(receipt: "Receipt") -> float | None:
    """Bits the receipt's own params claim (``security_bits``, as the stark backend writes
    them), for a verifier that accepts a proof without reporting its bits; None when absent."""
    params = getattr(receipt, "params", None) or {}
    for key in ("security_bits", "conjectured_security_bits"):
        bits = params.get(key)
        if isinstance(bits, (int, float)) and not isinstance(bits, bool):
            return float(bits)
    return None


def verify_options(backend: "Backend", program: "Program | None" = None) -> dict:
    """Options for ``backend.verify``: dev mode on for dev-mode backends (their receipts are
    not proofs), and the program for backends whose verifier needs it (SP1 derives its
    verifying key from the ELF; RISC Zero recomputes its image ID from it)."""
    options: dict[str, object] = {} if backend.produces_proofs else {"dev_mode": True}
    try:
        accepts = frozenset(inspect.signature(backend.verify).parameters)
    except (TypeError, ValueError):
        accepts = frozenset()
    if program is not None and "program" in accepts:
        options["program"] = program
    return options


def prove_fibonacci(backend: "Backend", program: "Program", n: int) -> "Receipt":
    """One proof of the fibonacci guest at input n."""
    return backend.prove(program, fibonacci_inputs(n))


def time_prove(backend: "Backend", program: "Program", n: int, repeats: int) -> ProveTiming:
    """Prove at input n up to ``repeats`` times (only while one proof is fast); median time."""
    times: list[float] = []
    receipt = None
    while len(times) < repeats:
        t0 = time.perf_counter()
        receipt = prove_fibonacci(backend, program, n)
        times.append(time.perf_counter() - t0)
        if times[-1] >= REPEAT_BELOW_S:
            break
    if receipt is None:
        raise UsageError(f"repeats must be positive, got {repeats}")
    return ProveTiming(statistics.median(times), len(times), receipt)


def check_receipt(receipt: "Receipt", n: int, image_id: bytes) -> None:
    """Check a receipt against the Python oracle: journal, exit code 0, image ID, journal digest.

    Raises VerificationError saying which check failed.
    """
    want = expected_journal(n)
    if receipt.journal != want:
        raise VerificationError(
            f"wrong journal for n={n}: got {receipt.journal.hex()}, the Python oracle says {want.hex()}"
        )
    if receipt.claim.exit_code != 0:
        raise VerificationError(f"guest exit code {receipt.claim.exit_code} for n={n}, expected 0")
    if receipt.claim.image_id != image_id:
        raise VerificationError(f"receipt for n={n} claims another image ID ({receipt.claim.image_id.hex()[:16]}...)")
    receipt.check_journal()


def time_verify(
    backend: "Backend",
    receipt: "Receipt",
    image_id: bytes,
    reps: int,
    budget_s: float,
    clock: Callable[[], float] = time.perf_counter,
    program: "Program | None" = None,
) -> VerifyTiming:
    """Verify ``receipt`` ``reps`` times and return the mean; fewer when they would overrun the budget.

    The first verification is timed alone; if ``reps`` of that length exceed ``budget_s`` the
    count drops to what fits (at least one), and ``runs`` records how many were averaged.
    """
    options = verify_options(backend, program)
    # Dev-mode verification warns on stderr every time; 100 warnings would bury the progress.
    with contextlib.redirect_stderr(io.StringIO()):
        t0 = clock()
        bits = reported_security_bits(backend.verify(receipt, image_id, **options))
        first = clock() - t0
        runs = reps if first * reps <= budget_s else max(1, int(budget_s / max(first, 1e-9)))
        if runs == 1:
            return VerifyTiming(first * 1e6, 1, bits)
        t0 = clock()
        for _ in range(runs):
            backend.verify(receipt, image_id, **options)
        return VerifyTiming((clock() - t0) / runs * 1e6, runs, bits)
