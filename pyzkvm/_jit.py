"""``@inner``: numba functions called only from other numba functions.

Besides a function's own code, numba compiles two wrappers for every ``@njit`` function: one
that Python calls through (unboxing the arguments, raising errors) and one for its use as a
first-class function value. A helper that only compiled code ever calls (a row loop of the
constraint tape, a field operation inside a kernel, the instruction decoder's sign extension)
needs neither, and leaving them out saves compile time on every cold cache (measured: the
constraint tape kernel with its 14 row loops compiled in 6.1–6.6 s CPU with the wrappers,
5.4 s without). ``cache=True`` still stores it.

Without its Python wrapper such a function must not be called from Python (numba would jump
to a wrapper that does not exist and crash the interpreter), so ``inner`` returns a
dispatcher whose Python call raises ``TypeError`` saying so; compiled callers do not go
through ``__call__`` and are unaffected.
"""

from __future__ import annotations

from numba.core.registry import CPUDispatcher

_OPTIONS = {"nopython": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


class InnerDispatcher(CPUDispatcher):
    """A numba dispatcher compiled without the Python and cfunc wrappers (see the module)."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled for numba code only "
                        "(@inner, no Python wrapper): call it from an @njit function")


def inner(func):
    """Decorate ``func`` like ``@njit(cache=True)``, without the wrappers Python calls through."""
    disp = InnerDispatcher(py_func=func, locals={}, targetoptions=dict(_OPTIONS))
    disp.enable_caching()
    return disp
