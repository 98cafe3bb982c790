"""Hand the C heap's free pages back to the OS between the prover's steps (glibc's malloc_trim).

numpy takes its arrays from the C allocator. glibc serves a block below its mmap threshold
from the heap — and the threshold rises to a freed block's size, up to 32 MB, once one is
freed — and keeps what is freed there resident for the next allocation. A step's
temporaries (LogUp values, LDE blocks, FRI folds) leave that free memory behind them, and
the next step's buffers do not always fit in its holes: at 2^18 cycles (transparent) ~100 MB
of free heap was resident when the quotient began, on top of its own 145 MB of coset values
(bench/results/stark_prove.md, session 11's peak-memory section).

``release_free_heap()`` returns every free page of every arena (malloc_trim(0): madvise, the
addresses stay reserved), at a few step boundaries; the pages cost a fault each only where
they are used again. A fixed low mmap threshold (every large array mapped and unmapped)
freed as much but cost 7–17 % more CPU: every fresh buffer faulted its pages in. Elsewhere
than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None."""
    try:
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
    return function


def release_free_heap() -> None:
    """Return the C heap's free pages to the OS (glibc), or nothing where there is no malloc_trim."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
