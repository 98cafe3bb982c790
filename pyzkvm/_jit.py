"""``@inner``: numba functions called only from other numba functions.

Besides a function's own code, numba compiles two wrappers for every ``@njit`` function: one
that Python calls through (unboxing the arguments, raising errors) and one for its use as a
first-class function value. A helper that only compiled code ever calls (a field operation,
a row loop of the constraint tape, the instruction decoder) needs neither, and leaving them
out saves compile time on every cold cache (measured: the constraint tape kernel with its 14
row loops compiled in 6.1–6.6 s CPU with the wrappers, 5.4 s without). Such a helper cannot
be called from Python; ``cache=True`` still stores it.
"""

from __future__ import annotations

from numba import njit

inner = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
