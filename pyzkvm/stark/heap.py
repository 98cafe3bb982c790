"""The prover process's memory pages: the C heap's free pages handed back to the OS between
the prover's steps (glibc's malloc_trim), and numpy's arrays kept off transparent huge pages
while proving (``ordinary_pages``, its docstring says why).

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

import contextlib
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


@contextlib.contextmanager
def ordinary_pages():
    """numpy's new arrays on ordinary 4 KiB pages while the block runs, as before after it.

    numpy advises the kernel to back every array of ≥ 4 MiB with transparent huge pages
    (madvise MADV_HUGEPAGE). The prover allocates its tables, LDE blocks and trees once and
    touches each page once or twice, so the 2 MiB pages buy little, while the first touch of
    each costs the kernel a zeroed (and often compacted) 2 MiB: on this project's 2-core VM,
    one process, quiet (bench/results/stark_prove.md, session 11), a 2^18-cycle prove took
    7.45 s of CPU with them and 5.85 s without (hiding 18.8 → 15.1 s), at the same peak memory,
    and a warm ``pyzkvm prove`` of fibonacci(10) 0.4–1.1 s of system time instead of ~0.2 s.
    The switch is numpy's own (NUMPY_MADVISE_HUGEPAGE's runtime form); where a numpy lacks it
    this does nothing. Arrays made inside numba kernels never had the advice."""
    switch = getattr(_multiarray(), "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def _multiarray():
    """numpy's C core module (numpy 2: numpy._core.multiarray, 1.x: numpy.core.multiarray)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    return multiarray
