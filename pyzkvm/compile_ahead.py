"""A cold ``pyzkvm prove`` compiles on both cores: a helper process compiles kernels ahead.

numba compiles one kernel at a time per process (its compiler lock), and a cold stark prove
spends most of its time so (~14 s of CPU for fibonacci(10), bench/results/cold_start.md),
much of it while the other core is idle (docs/limits.md, "The numba cache"). So a cold prove starts one helper process, ``python
-m pyzkvm.compile_ahead``, that compiles the kernels of ``PROVE_KERNELS`` (a prove's kernels,
with the argument types a prove calls them with, in the order it first calls them) into the
numba cache, while the prove itself goes on: it builds the prover key (seconds of Python that
need no kernel), runs, and compiles whatever the helper has not got to. A kernel is compiled
by one of the two only, the prover deciding (``CompileAhead``):

* before compiling a kernel of the list, the helper asks ("want NAME" on its stdout); the
  prover answers "yes" on its stdin unless it claimed that kernel itself, and the helper
  says "done NAME" once it is in the cache;
* on a listed kernel's first call (lazy_njit's first-use hook), the prover claims it, or, if
  the helper has it, waits for its "done" and loads it from the cache.

Either way a kernel's code is what numba compiles from its source: the helper only decides
*who* compiles it first. A kernel the list does not name (another guest's chip, an argument
type the list does not have) is compiled by the prover as before; a list gone stale costs
time, never correctness.

Safety of the shared cache: numba writes each index and data file to a temporary name and
renames it (never half a file), but a save reads the index, then writes it, then the data
file, so two processes saving overloads of the same function (two argument types of a field
helper both compile) could pair an index entry with the other's data. While a helper runs,
both processes take an ``flock`` on the cache folder's lock file around numba's index/data
reads (shared) and saves (exclusive): a save is whole before anyone reads it.

The helper is started only when it can help: a listed kernel is not in the cache yet, the
cache folder is writable, and this process may run on two cores. It writes only numba cache
files, and it ends with the prove: the prover closes its stdin and sends SIGTERM, which the
helper obeys at once unless it is saving a cache file (then right after the save); it also
stops when the prover's process is gone. Ctrl-C in a terminal reaches the prover only (the
helper runs in its own session), whose ``with`` block then ends the helper.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import signal
import subprocess
import sys
import threading
from typing import Iterator

from . import _numba_cache, lazy_njit
from .host import usable_cpus

#: the kernels a stark prove (fibonacci(10), the default preset) compiles, in the order it
#: first calls them: (module, function, argument types). An argument type is a scalar
#: (``i64``, ``u64``, ``u32``, ``bool``) or a C-contiguous array of one (``u32[2d]``;
#: ``const`` when read-only). ``python bench/compile_cost.py --what prove --plan`` prints
#: what a cold prove compiled in this form; tests/test_compile_ahead.py checks the list.
PROVE_KERNELS = [
    ("pyzkvm.stark.field", "_batch_inverse_kernel", "const u32[1d], u32[1d]"),
    ("pyzkvm.stark.field", "_powers_kernel", "u64, u32[1d], i64, i64"),
    ("pyzkvm.stark.field", "_binary_kernel", "i64, const u32[1d], const u32[1d], u32[1d]"),
    ("pyzkvm.stark.ext", "_powers_kernel", "u64, u64, u64, u64, u32[2d], i64, i64"),
    ("pyzkvm.stark.tape", "_run_blocks", "i64[1d], i64[1d], i64[1d], bool[1d], i64[1d], i64, i64[1d], i64[1d], u32[2d], u32[2d], u32[3d], u32[3d], u32[3d], u32[2d], u32[2d], u32[1d], u32[2d], i64, i64[1d], i64, i64, i64[1d], u32[2d], bool, u32[2d], u32[3d], i64, i64, i64"),
    ("pyzkvm.machine.witness", "_gather_fields", "u32[2d], u32[2d], i64[1d], i64[1d], i64[2d], i64, i64"),
    ("pyzkvm.machine.accesses", "_previous_accesses", "i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], bool[1d], bool[1d], i64, i64"),
    ("pyzkvm.machine.accesses", "_write_access_columns", "u32[2d], i64[1d], i64[1d], i64[1d], i64[1d], i64[1d], i64, i64"),
    ("pyzkvm.machine.bytes_table", "count_lookups", "u32[1d], u32[2d], u32[2d], i64[2d], i64, i64, i64"),
    ("pyzkvm.stark.keys", "_block_maxima", "u32[1d], u32[1d], i64, i64"),
    ("pyzkvm.stark.ntt", "_bit_reverse_kernel", "u32[2d], u32[2d], i64, i64, const u32[1d], const u32[1d], bool, i64, i64"),
    ("pyzkvm.stark.ntt", "_fill_twiddles", "i64, u64[1d], u32[1d], u32[1d]"),
    ("pyzkvm.stark.ntt", "_dit_blocks", "u32[2d], const u32[1d], const u32[1d], i64, i64, i64, i64, i64"),
    ("pyzkvm.stark.ntt", "_dit_top", "u32[2d], const u32[1d], const u32[1d], i64, i64, i64, i64"),
    ("pyzkvm.stark.ntt", "_scale_rows_into", "u32[2d], const u32[1d], u32[2d], i64, i64"),
    ("pyzkvm.stark.ntt", "_dif_blocks", "u32[2d], const u32[1d], const u32[1d], i64, i64, i64, i64, i64"),
    ("pyzkvm.stark.ntt", "_dif_top", "u32[2d], const u32[1d], const u32[1d], i64, i64, i64, i64"),
    ("pyzkvm.stark.blake3_numba", "hash_rows_kernel", "u32[2d], u32[2d], const i64[2d], i64, i64"),
    ("pyzkvm.stark.blake3_numba", "compress_each_kernel", "u32[2d], u32[2d], u32[2d], i64, i64"),
    ("pyzkvm.stark.zk", "_keep_canonical", "const u32[1d], u32[1d]"),
    ("pyzkvm.stark.ntt", "_scale_const", "u32[2d], u32[1d], i64, i64"),
    ("pyzkvm.stark.ntt", "_permute_rows_small", "u32[2d], const u32[1d], u32[2d]"),
    ("pyzkvm.stark.logup", "_aux_columns", "u32[3d], bool[1d], i64[1d], u32[3d], u32[2d]"),
    ("pyzkvm.stark.logup", "_running_sums", "u32[3d], u32[2d], i64, i64, i64"),
    ("pyzkvm.stark.ext", "_add_kernel", "const u32[2d], const u32[2d], u32[2d]"),
    ("pyzkvm.stark.ntt", "_scale_fold_into", "u32[2d], const u32[1d], u32[2d], i64, i64"),
    ("pyzkvm.stark.domain", "_fold_cosets", "u32[2d], u32[2d], u32[2d], u32[2d], i64, i64, i64"),
    ("pyzkvm.stark.domain", "_selector_rows", "i64, u32[1d], i64, i64, i64, i64, u32[2d], u32[1d]"),
    ("pyzkvm.stark.ext", "_mul_base_kernel", "const u32[2d], const u32[1d], u32[2d]"),
    ("pyzkvm.stark.domain", "_solve_on_cosets", "u32[3d], u32[2d], u32[2d], u32[3d], i64, i64"),
    ("pyzkvm.stark.domain", "_fold_mod", "u32[2d], i64, u32[2d]"),
    ("pyzkvm.stark.lincomb", "_weighted_column_sums", "u32[2d], u32[2d], i64[1d], u32[2d], u32[2d], u32[2d], i64, i64"),
    ("pyzkvm.stark.ext", "_mul_kernel", "const u32[2d], const u32[2d], u32[2d]"),
    ("pyzkvm.stark.ext", "_sub_kernel", "const u32[2d], const u32[2d], u32[2d]"),
    ("pyzkvm.stark.lincomb", "_combine_rows", "u32[2d], u32[2d], u64[2d], u64[2d], i64, i64"),
    ("pyzkvm.stark.lincomb", "_join_halves", "u64[2d], u64[2d], u32[2d]"),
    ("pyzkvm.stark.deep", "_divide_by_linears", "u32[2d], u64[2d], i64, u32[2d], u32[2d]"),
    ("pyzkvm.stark.fri", "_fold_kernel", "u32[2d], u32[1d], const u32[1d], const u32[1d], i64, u32[2d], i64, i64"),
    ("pyzkvm.stark.fri", "_roll_in_kernel", "u32[2d], u32[2d], u32[1d], i64, i64"),
    ("pyzkvm.stark.lde_source", "_dif_chunk", "u32[2d], i64, i64, i64, u32, const u32[1d], const u32[1d], bool[1d], i64, u32[2d], i64, i64[1d], bool, i64, i64"),
]

_SCALARS = {"i64": "int64", "u64": "uint64", "u32": "uint32", "bool": "boolean"}
_ARG = re.compile(r"(const )?(i64|u64|u32|bool)(?:\[([123])d\])?")
#: the lock file in each numba cache folder (module docstring)
LOCK_NAME = ".pyzkvm-cache.lock"


def kernel_name(module: str, function: str) -> str:
    return f"{module}.{function}"


def parse_types(text: str) -> tuple:
    """numba types of a PROVE_KERNELS argument list (ValueError for a malformed one)."""
    from numba.core import types

    out = []
    for arg in text.split(", "):
        m = _ARG.fullmatch(arg)
        if m is None:
            raise ValueError(f"compile_ahead: bad argument type {arg!r}")
        const, scalar, ndim = m.groups()
        t = getattr(types, _SCALARS[scalar])
        out.append(types.Array(t, int(ndim), "C", readonly=bool(const)) if ndim else t)
    return tuple(out)


def format_types(args) -> str:
    """PROVE_KERNELS' form of numba argument types (parse_types' inverse; ValueError for a
    type it has no form for)."""
    from numba.core import types

    names = {getattr(types, v): k for k, v in _SCALARS.items()}
    parts = []
    for a in args:
        if isinstance(a, types.Array) and a.layout == "C" and a.aligned and a.dtype in names:
            parts.append(f"{'const ' if not a.mutable else ''}{names[a.dtype]}[{a.ndim}d]")
        elif a in names:
            parts.append(names[a])
        else:
            raise ValueError(f"compile_ahead: no form for argument type {a}")
    return ", ".join(parts)


def kernel(module: str, function: str) -> lazy_njit.Kernel:
    return getattr(importlib.import_module(module), function)


def compile_kernel(module: str, function: str, args: str) -> None:
    """Compile a listed kernel for its argument types (into the cache). An error is left for
    the kernel's first call to raise: it compiles again, and its caller sees it."""
    try:
        kernel(module, function).dispatcher().compile(parse_types(args))
    except Exception:  # noqa: BLE001  (see the docstring)
        pass


def is_cached(k: lazy_njit.Kernel) -> bool:
    """Whether numba's cache holds an overload of ``k`` compiled from its current source
    (read from its index file, no compiling; numba's FunctionCache is internal, so any
    surprise from it counts as cached: then no helper starts)."""
    try:
        from numba.core.caching import FunctionCache

        return bool(FunctionCache(k.py_func)._cache_file._load_index())
    except Exception:  # noqa: BLE001  (an internal API: never start a helper on a surprise)
        return True


# ---- the shared cache: numba's index/data reads and saves under an flock ------------------------

_writing = threading.Event()  # set while this process saves a cache file (the helper's SIGTERM waits)


@contextlib.contextmanager
def _cache_lock(folder: str, exclusive: bool) -> Iterator[None]:
    import fcntl  # POSIX only: start() starts no helper elsewhere

    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # no folder yet (nothing to read) or not writable (nothing to save)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def lock_cache_files() -> None:
    """Make numba's cache index/data reads take a shared flock, and its saves an exclusive
    one, on the cache folder's lock file (module docstring). Once per process."""
    from numba.core import caching

    cls = caching.IndexDataCacheFile
    if getattr(cls, "_pyzkvm_locked", False):
        return
    save, load = cls.save, cls.load

    def locked_save(self, key, data):
        with _cache_lock(self._cache_path, exclusive=True):
            _writing.set()
            try:
                save(self, key, data)
            finally:
                _writing.clear()
        if _stop_requested.is_set():  # the helper's SIGTERM arrived during the save
            os._exit(0)

    def locked_load(self, key):
        with _cache_lock(self._cache_path, exclusive=False):
            return load(self, key)

    cls.save, cls.load = locked_save, locked_load  # type: ignore[method-assign]  # numba's class, patched once
    cls._pyzkvm_locked = True  # type: ignore[attr-defined]


# ---- the prover's side ---------------------------------------------------------------------------


def cores() -> int:
    return usable_cpus()  # (a container's affinity and CPU quota: host.py)


class CompileAhead:
    """The prover's end of a running helper: answers its claims, waits for its kernels."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._cond = threading.Condition()
        self._helper: set[str] = set()  # claimed by the helper
        self._mine: set[str] = set()  # claimed by this process
        self._done: set[str] = set()  # in the cache, the helper says
        self._over = False  # the helper's stdout is closed (it ended)
        self._listed = {kernel_name(m, f) for m, f, _ in PROVE_KERNELS}
        threading.Thread(target=self._answer, name="compile-ahead", daemon=True).start()

    def _answer(self) -> None:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        for line in self.proc.stdout:
            word, _, name = line.strip().partition(" ")
            with self._cond:
                if word == "want":
                    yes = name not in self._mine
                    if yes:
                        self._helper.add(name)
                    try:
                        self.proc.stdin.write("yes\n" if yes else "no\n")
                        self.proc.stdin.flush()
                    except OSError:
                        break
                elif word == "done":
                    self._done.add(name)
                    self._cond.notify_all()
        with self._cond:
            self._over = True
            self._cond.notify_all()

    def first_use(self, k: lazy_njit.Kernel) -> None:
        """Before ``k``'s first compile here: claim it, or, while the helper compiles it,
        compile the next kernels of the list neither has claimed (they are needed soon).

        Holds numba's compiler lock throughout, so that another thread of this process that
        calls ``k`` meanwhile (a parallel_for worker) compiles nothing until the helper's copy
        is in the cache: its compile then loads it. lazy_njit calls this outside its own lock,
        so the order is always numba's lock, then lazy_njit's (as in a compiling thread)."""
        name = kernel_name(k.py_func.__module__, k.py_func.__qualname__)
        if name not in self._listed:
            return
        from numba.core.compiler_lock import global_compiler_lock

        with global_compiler_lock:
            self._claim_or_wait(name)

    def _claim_or_wait(self, name: str) -> None:
        while True:
            with self._cond:
                if name not in self._helper:
                    self._mine.add(name)
                    return
                if name in self._done or self._over:
                    return
                ahead = next((entry for entry in PROVE_KERNELS if kernel_name(*entry[:2]) not in
                              self._helper | self._mine), None)
                if ahead is None:
                    self._cond.wait_for(lambda: name in self._done or self._over)
                    return
                self._mine.add(kernel_name(*ahead[:2]))
            compile_kernel(*ahead)

    def close(self) -> None:
        """End the helper (at once, or after the cache file it is saving) and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a save cannot take this long: something is stuck
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()


def start() -> CompileAhead | None:
    """Start the helper when it can help (module docstring), else None."""
    if os.name != "posix" or cores() < 2 or os.environ.get(_HELPER_ENV):
        return None
    if not _numba_cache.is_writable_dir(_numba_cache.cache_root()):
        return None
    for module, function, _ in PROVE_KERNELS:
        if not is_cached(kernel(module, function)):
            break
    else:
        return None  # a warm cache: nothing to compile ahead
    lock_cache_files()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_numba_cache.PACKAGE.parent),
                                                                    os.environ.get("PYTHONPATH")])))
    env[_HELPER_ENV] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "pyzkvm.compile_ahead", str(os.getpid())], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    return CompileAhead(proc)


@contextlib.contextmanager
def compiling_ahead() -> Iterator[CompileAhead | None]:
    """``with compiling_ahead():`` around a cold prove: a helper compiles its kernels while
    the block runs (none when the cache is warm); it is ended when the block ends."""
    helper = start()
    if helper is None:
        yield None
        return
    lazy_njit.set_first_use_hook(helper.first_use)
    try:
        yield helper
    finally:
        lazy_njit.set_first_use_hook(None)
        helper.close()


# ---- the helper process --------------------------------------------------------------------------

#: set in the helper's environment (a helper never starts another)
_HELPER_ENV = "PYZKVM_COMPILE_AHEAD_HELPER"
_stop_requested = threading.Event()


def _on_sigterm(signum, frame) -> None:
    if _writing.is_set():
        _stop_requested.set()  # locked_save exits right after the file is whole
    else:
        os._exit(0)


def helper_main(prover_pid: int) -> int:
    """Compile PROVE_KERNELS' kernels the prover lets this process have (module docstring)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the prover ends this process
    lock_cache_files()
    for module, function, args in PROVE_KERNELS:
        if os.getppid() != prover_pid:
            return 0  # the prover is gone
        k = kernel(module, function)
        if is_cached(k):
            continue
        name = kernel_name(module, function)
        print(f"want {name}", flush=True)
        answer = sys.stdin.readline().strip()
        if answer != "yes":
            if not answer:
                return 0  # the prover closed the pipe
            continue
        compile_kernel(module, function, args)
        print(f"done {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(helper_main(int(sys.argv[1])))
