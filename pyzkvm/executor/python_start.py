"""A process's first cycles run by the loop's own Python source, not by numba.

Loading numba and the compiled loop costs ~0.3–0.5 s of CPU once per process (importing numba
~0.2–0.4 s, then its runtime and the loop on the first cached kernel), while fibonacci(10) runs
5,836 cycles. So until the compiled loop has been loaded, a process runs up to
``PYTHON_CYCLES`` cycles with ``run_until_host.python()`` — the same source (interpreter.py;
lazy_njit.Kernel.python), run by the Python interpreter — and then hands over to the compiled
loop. The hand-over is exact: the loop returns at its cycle limit *before* executing that
cycle, with every piece of machine state in the arrays and the returned (pc, cycle, buffer
lengths), which is exactly where a compiled call resumes (the way it resumes after every
ECALL). A guest that halts within the budget never loads numba; a longer run pays the budget
(~30 ms) once per process, then runs compiled. The code range's pre-decoding (decode.py)
follows the same rule.
"""

from __future__ import annotations

from . import interpreter as it
from .decode import decode_range

#: cycles a process may run in Python before loading the compiled loop. Measured ~4 µs a
#: cycle interpreted (~0.1 µs compiled): a run longer than this pays ~65 ms once per process
#: (and its reported rate, Execution.elapsed_s, includes them), against numba's ~0.8 s
#: start-up saved by every run shorter than this (fibonacci(10): 5,836 cycles, most of them
#: the journal's SHA-256 in software, run twice to capture its trace)
PYTHON_CYCLES = 16_000
#: pre-decoding more words than this loads the compiled decoder (~2 µs a word interpreted)
PYTHON_DECODE_WORDS = 1 << 15

_cycles_left = PYTHON_CYCLES  # this process's budget: spent once, never refilled


def compiled_loaded() -> bool:
    """Whether this process has loaded the compiled loop already (then it is always used)."""
    return it.run_until_host.materialized


def loop_for(cycle: int, max_cycles: int):
    """(the loop to call, the cycle limit to give it) for a run now at ``cycle``: the Python
    loop up to the budget's end, or the compiled loop with the run's own limit."""
    if compiled_loaded() or _cycles_left <= 0:
        return it.run_until_host, max_cycles
    return it.run_until_host.python(), min(max_cycles, cycle + _cycles_left)


def spent(cycles: int) -> None:
    """Count ``cycles`` run by the Python loop against the budget."""
    global _cycles_left
    _cycles_left -= cycles


def use_compiled_from_now() -> None:
    """Spend the budget: every later run of this process loads and runs the compiled loop
    (a benchmark of the compiled loop calls this before its warm-up run)."""
    global _cycles_left
    _cycles_left = 0


def decoder(n_words: int):
    """decode_range, or its Python source for a small range while the loop is not compiled."""
    if compiled_loaded() or n_words > PYTHON_DECODE_WORDS:
        return decode_range
    return decode_range.python()
