"""``@inner``: numba functions called only from other numba functions.

Besides a function's own code, numba compiles two wrappers for every ``@njit`` function: one
that Python calls through (unboxing the arguments, raising errors) and one for its use as a
first-class function value. A helper that only compiled code ever calls (a row loop of the
constraint tape, a field operation inside a kernel, the instruction decoder's sign extension)
needs neither, and leaving them out saves compile time on every cold cache (measured: the
constraint tape kernel with its 14 row loops compiled in 6.1–6.6 s CPU with the wrappers,
5.4 s without). ``cache=True`` still stores it.

Without its Python wrapper such a function must not be called from Python (numba would jump
to a wrapper that does not exist and crash the interpreter), so its dispatcher's Python call
raises ``TypeError`` saying so; compiled callers do not go through ``__call__`` and are
unaffected. Like every pyzkvm kernel it is lazy (lazy_njit.py): numba is imported, and the
dispatcher made, when a compiled caller first types it; ``Kernel.python()`` still runs its
plain source.
"""

from __future__ import annotations

from typing import Callable

from .lazy_njit import Kernel

_OPTIONS = {"nopython": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}
_INNER_DISPATCHER: list = []


def _inner_dispatcher_class():
    """numba's CPU dispatcher whose Python call is a TypeError (made once, numba imported here)."""
    if not _INNER_DISPATCHER:
        from numba.core.registry import CPUDispatcher

        class InnerDispatcher(CPUDispatcher):
            """A numba dispatcher compiled without the Python and cfunc wrappers (see the module)."""

            def __call__(self, *args, **kwargs):
                raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled for numba code "
                                "only (@inner, no Python wrapper): call it from an @njit function")

        _INNER_DISPATCHER.append(InnerDispatcher)
    return _INNER_DISPATCHER[0]


def _make_inner(func: Callable):
    disp = _inner_dispatcher_class()(py_func=func, locals={}, targetoptions=dict(_OPTIONS))
    disp.enable_caching()
    return disp


def inner(func: Callable) -> Kernel:
    """Decorate ``func`` like ``@njit(cache=True)``, without the wrappers Python calls through."""
    return Kernel(func, dict(_OPTIONS), make=_make_inner)
