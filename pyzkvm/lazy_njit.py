"""numba's ``@njit``, applied on a kernel's first use instead of at import.

Importing numba costs ~0.2–0.4 s of CPU, and its first cached-kernel load more (its runtime
initialises then; _numba_cache.load_without_refresh spares the ~0.1–0.2 s of numba's typing and
lowering registries, which only compiling needs), whatever the command. Most commands
need no kernel at all: ``verify`` (numpy-only arithmetic), ``info`` and a short
``prove --backend trace`` with their results memoised. So every pyzkvm kernel module writes
``from ..lazy_njit import njit`` instead of ``from numba import njit``: the decorator only
records the function and its options, and numba is imported, and the real dispatcher made
(``numba.njit(**options)(func)``, which compiles nothing yet), when the kernel is first
called or asked for a dispatcher attribute.

A kernel called from another kernel: numba types a global by ``typeof``, which reads the
object's ``_numba_type_`` (numba/core/typing/typeof.py); ``Kernel._numba_type_`` makes the
callee's dispatcher and returns its type, so the caller compiles exactly as with a plain
``@njit`` global (``inline="always"`` included: numba reads ``targetoptions``/``py_func``,
which are forwarded). Nothing else changes: the same options, the same cache files.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import types
from typing import Callable, cast

#: run once, just before the first kernel's dispatcher is made (cli/progress.py registers
#: its "compiling kernels" notice here, so that a command which runs none never imports numba)
_before_first_kernel: list[Callable[[], None]] = []
_started = False
#: called with each kernel whose dispatcher is made, before its first compile
#: (compile_ahead.py: the prover claims the kernel, or waits for its helper process to compile it)
_first_use_hook: Callable[["Kernel"], None] | None = None
#: one thread makes a dispatcher at a time (parallel_for may call a new kernel from several)
_lock = threading.RLock()


def before_first_kernel(callback: Callable[[], None]) -> None:
    """Call ``callback()`` when the first kernel is made (now, if one was made already)."""
    if _started:
        callback()
    else:
        _before_first_kernel.append(callback)


def set_first_use_hook(hook: Callable[["Kernel"], None] | None) -> None:
    """Call ``hook(kernel)`` when a kernel's dispatcher is made from now on (None: stop)."""
    global _first_use_hook
    _first_use_hook = hook


def numba_loaded() -> bool:
    """Whether numba has been imported in this process (by a kernel or anyone else)."""
    return "numba" in sys.modules


class Kernel:
    """A function to be compiled by ``numba.njit(**options)`` on first use (module docstring)."""

    def __init__(self, py_func: Callable, options: dict, make: Callable | None = None):
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        self._options = options
        #: what makes the dispatcher from py_func (default: numba.njit(**options); _jit.inner's
        #: dispatcher without the Python wrapper)
        self._make = make
        self._dispatcher = None

    def dispatcher(self):
        """The numba dispatcher (made now on first use: imports numba, compiles nothing)."""
        if self._dispatcher is None:
            made = False
            with _lock:
                if self._dispatcher is None:
                    global _started
                    if not _started:
                        _started = True
                        from ._numba_cache import load_without_refresh

                        load_without_refresh()  # a cached kernel loads without numba's full refresh
                        while _before_first_kernel:
                            _before_first_kernel.pop(0)()
                    if self._make is not None:
                        self._dispatcher = self._make(self.py_func)
                    else:
                        import numba

                        self._dispatcher = numba.njit(**self._options)(self.py_func)
                    made = True
            # outside the lock: the hook takes numba's compiler lock and may compile other kernels,
            # while a compiling thread (which holds that lock) may be making a dispatcher here
            hook = _first_use_hook
            if made and hook is not None:
                hook(self)
        return self._dispatcher

    @property
    def materialized(self) -> bool:
        """Whether the dispatcher has been made (the kernel was called, or typed by a caller)."""
        return self._dispatcher is not None

    @property
    def _numba_type_(self):
        # what numba's typeof reads for a global of this kind: the real dispatcher's type
        return self.dispatcher()._numba_type_

    def __call__(self, *args, **kwargs):
        return self.dispatcher()(*args, **kwargs)

    def __getattr__(self, name):
        # signatures, targetoptions, inspect_types, ...: the dispatcher's (dunders are not forwarded)
        if name.startswith("__") or name in ("_dispatcher", "_options", "_make", "_plain", "_python", "py_func"):
            raise AttributeError(name)
        return getattr(self.dispatcher(), name)

    def python(self) -> Callable:
        """This kernel's own source run by the Python interpreter, the kernels it calls
        likewise: the same code without numba, for work too small to pay numba's start-up
        (executor/machine.py runs the first cycles of a guest so). Integer overflow wraps
        silently, as it does compiled (numpy scalars would warn)."""
        if "_python" not in self.__dict__:
            plain = self._plain_source()

            @functools.wraps(self.py_func)
            def run(*args, **kwargs):
                import numpy as np

                with np.errstate(over="ignore"):
                    return plain(*args, **kwargs)

            self._python = run
        return self._python

    def _plain_source(self) -> Callable:
        """py_func's code over a copy of its module's globals in which each kernel it names is
        that kernel's own plain function (the module keeps its kernels)."""
        if "_plain" not in self.__dict__:
            glob = dict(self.py_func.__globals__)
            code = self.py_func.__code__
            self._plain = types.FunctionType(code, glob, code.co_name, self.py_func.__defaults__,
                                             self.py_func.__closure__)  # set first: a kernel may call itself
            for name in code.co_names:
                if isinstance(glob.get(name), Kernel):
                    glob[name] = glob[name]._plain_source()
        return self._plain

    def __reduce__(self):
        # pickled by name, as a plain function is (the module attribute is this kernel)
        return _kernel_named, (self.py_func.__module__, self.py_func.__qualname__)

    def __repr__(self) -> str:
        state = "made" if self._dispatcher is not None else "not made yet"
        return f"<kernel {self.py_func.__module__}.{self.py_func.__qualname__} (numba dispatcher {state})>"


def _kernel_named(module: str, qualname: str) -> Kernel:
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return cast(Kernel, obj)  # the module attribute pickled by name (a profiler may have wrapped it)


class LazyIntrinsic:
    """A numba ``@intrinsic`` (LLVM IR written by hand: stark/lane_tiles.py) named by its module
    and name, imported — with numba and llvmlite — only when a compiled caller types it: a
    kernel module refers to it as a global without importing numba (as to a ``Kernel``)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name
        self._type = None

    @property
    def _numba_type_(self):
        # what numba's typeof reads for a global of this kind: the intrinsic's function type
        if self._type is None:
            from numba.core.registry import cpu_target

            real = getattr(importlib.import_module(self.module), self.name)
            typing = cpu_target.typing_context
            typing.refresh()  # installs the intrinsic's registration (its module was just imported)
            self._type = typing.resolve_value_type(real)
        return self._type

    def __repr__(self) -> str:
        return f"<intrinsic {self.module}.{self.name} (lazy)>"


def njit(func: Callable | None = None, **options):
    """``@njit`` / ``@njit(cache=True, ...)``: as numba's, applied on first use."""
    if func is not None and callable(func) and not options:
        return Kernel(func, {})
    if func is not None:
        raise TypeError("lazy njit takes keyword options only (no eager signatures)")
    return lambda f: Kernel(f, options)
