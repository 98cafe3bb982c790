"""Where numba keeps the compiled kernels (imported by pyzkvm/__init__.py before numba).

pyzkvm's hot loops are numba functions compiled with ``cache=True``: the first run compiles
them (tens of seconds), later runs load them from the cache. numba decides the folder when a
kernel module is imported, and without a writable one it refuses to import the module at all
("cannot cache function ...: no locator available"). So the folder is chosen here, first:

1. ``NUMBA_CACHE_DIR``, when set and writable (CI sets it; numba honours it);
2. in a source checkout (an editable install, or PYTHONPATH), numba's default: the
   ``__pycache__`` folders beside the sources;
3. otherwise (an installed package, whose site-packages may be shared or read-only) a
   per-user folder: ``$XDG_CACHE_HOME/pyzkvm/numba``, by default ``~/.cache/pyzkvm/numba``;
4. when none of these is writable (a read-only container), a temporary folder removed at
   exit: the kernels are compiled for this process only, and one warning line says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def user_cache_dir(environ=os.environ) -> Path:
    """The per-user cache folder for an installed pyzkvm (XDG base-directory convention)."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyzkvm" / "numba"


def cache_root() -> Path:
    """The folder numba's cache lives in once configure() ran: NUMBA_CACHE_DIR, else (numba's
    default in a source checkout) the package's own ``__pycache__``."""
    base = os.environ.get("NUMBA_CACHE_DIR")
    return Path(base) if base else PACKAGE / "__pycache__"


def is_writable_dir(path: Path) -> bool:
    """Whether ``path`` exists as a folder (created if needed) that accepts a new file."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".pyzkvm-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def choose_cache_dir(environ=os.environ, package: Path = PACKAGE) -> tuple[str | None, list[str]]:
    """(folder to use as NUMBA_CACHE_DIR, or None for numba's in-tree default; the folders
    tried). ("", tried) means none is writable."""
    tried: list[str] = []
    given = environ.get("NUMBA_CACHE_DIR")
    if given:
        if is_writable_dir(Path(given)):
            return given, tried
        tried.append(f"NUMBA_CACHE_DIR={given}")
    if (package.parent / "pyproject.toml").is_file():  # a source checkout
        if is_writable_dir(package / "__pycache__"):
            return None, tried
        tried.append(str(package / "__pycache__"))
    user = user_cache_dir(environ)
    if is_writable_dir(user):
        return str(user), tried
    tried.append(str(user))
    return "", tried


def configure() -> None:
    """Point numba at the chosen folder (see the module docstring); warn once when uncached."""
    folder, tried = choose_cache_dir()
    if folder == "":
        import atexit
        import shutil
        import tempfile

        try:
            folder = tempfile.mkdtemp(prefix="pyzkvm-numba-")
            atexit.register(shutil.rmtree, folder, True)
        except OSError:
            folder = None
        print(f"pyzkvm: warning: no writable numba cache folder (tried {', '.join(tried)}); kernels are "
              f"compiled for this run only (a slow start): set NUMBA_CACHE_DIR to a writable folder",
              file=sys.stderr)  # fmt: skip
        if folder is None:
            _disable_caching()
            return
    if folder is None:
        return
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # imported before pyzkvm: numba has read its config already
        sys.modules["numba"].config.CACHE_DIR = folder


def _disable_caching() -> None:
    """Last resort (not even a temporary folder is writable): kernels decorated with
    cache=True compile without a cache. numba has no switch for this, so the dispatcher's
    enable_caching (called at decoration) is made a no-op."""
    from numba.core import dispatcher

    dispatcher.Dispatcher.enable_caching = lambda self: None  # type: ignore[method-assign]  # on purpose


def load_without_refresh() -> None:
    """Make a kernel's load from the cache skip numba's refresh of its whole target context.

    numba's ``Cache.load_overload`` first calls ``target_context.refresh()``, which imports and
    installs every typing and lowering registry numba has (its unicode, random, linalg, typed
    containers, cffi, ...: ~0.1–0.2 s of CPU, most of a warm prove's first kernel load). Those
    registries are for *compiling*; loading a cached kernel links its stored object code,
    which needs only symbols: numba's C helpers and exception classes (installed when the
    target context is made) and its runtime's (NRT), which ``rtsys.initialize`` installs
    first here, as ``load_additional_registries`` does. A compile still refreshes (numba's
    ``CompilerBase`` does it itself), and a load that fails without the refresh is retried
    with it. Once per process; nothing when numba's internals are not as expected."""
    try:
        from numba.core import caching
        from numba.core.runtime import nrt
    except ImportError:  # another numba layout: keep its own load
        return
    cls = caching.Cache
    full = cls.load_overload
    if getattr(full, "_pyzkvm_light", False) or not hasattr(cls, "_load_overload"):
        return

    def load_overload(self, sig, target_context):
        try:
            nrt.rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)
        except Exception:  # noqa: BLE001  (anything but a clean load: numba's own path, refresh first)
            return full(self, sig, target_context)

    load_overload._pyzkvm_light = True  # type: ignore[attr-defined]
    cls.load_overload = load_overload  # type: ignore[method-assign]  # on purpose (see the docstring)

