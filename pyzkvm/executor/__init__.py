"""The RV32IM interpreter: a numba-compiled hot loop, memory, syscalls per ABI profile,
reports and optional trace capture.

Public entry point::

    execute(program, inputs=(), *, max_cycles=DEFAULT_MAX_CYCLES, capture_trace=False) -> Execution

``inputs`` is a list of byte strings (the hint stream); the ABI profile is ``program.profile``
(``program.abi``, or the SP1 version profile the program carries).
"""

from .result import Execution, Report, Trace
from .run import DEFAULT_MAX_CYCLES, execute

__all__ = ["DEFAULT_MAX_CYCLES", "Execution", "Report", "Trace", "execute"]
