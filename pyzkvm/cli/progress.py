"""What a long command shows while it works, on stderr.

On a terminal: one rich progress line (bar, step, elapsed time), removed when done. Otherwise
(a pipe, a CI log): one plain line per phase, ``pyzkvm: LABEL: STEP``, but only once the
command has run for ``QUIET_S`` seconds (``PYZKVM_PROGRESS_AFTER_S`` overrides it; 0 prints
every phase), so quick commands print nothing extra. A step whose length is unknown (a guest's
run) reports the fraction None: the terminal bar then pulses.

The first time a command compiles numba kernels (an empty or stale cache: the first run after
installing, or after an upgrade), ``watch_kernel_compiles`` says so once, with where the
compiled kernels are cached, so a cold start is not mistaken for a hang.

Every text that reaches rich is escaped: rich reads ``[...]`` as markup, and messages such as
``pip install 'pyzkvm[bench]'`` hold brackets.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Seconds a command runs before its plain (non-terminal) phase lines start.
QUIET_S = 2.0
#: Environment variable that sets those seconds instead (a number; 0: every phase line).
QUIET_S_ENV = "PYZKVM_PROGRESS_AFTER_S"
#: Seconds a command runs on a terminal before its progress bar appears: rich (~0.2 s of CPU
#: to import) is loaded only then, so a quick command (verify, info, a trace prove) never pays it.
BAR_AFTER_S = 0.5
#: Set (to anything non-empty) to silence the compile notice; the test suite does, so that a
#: cold numba cache does not change the stderr that tests compare.
QUIET_COMPILE_ENV = "PYZKVM_NO_COMPILE_NOTICE"


def escape(text) -> str:
    """``text`` with rich markup escaped, so brackets print as they are."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


class PhaseLines:
    """progress(step, fraction) for a non-terminal: one line per new step, after ``quiet_s``."""

    def __init__(self, label: str, quiet_s: float = QUIET_S, stream=None):
        self.label, self.quiet_s = label, quiet_s
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.step: str | None = None  # the phase now running
        self.printed: str | None = None  # the last phase printed
        self.lock = threading.Lock()
        # a step that starts before quiet_s and is still running then gets its line at quiet_s
        self.timer = threading.Timer(quiet_s, self._flush) if quiet_s > 0 else None
        if self.timer:
            self.timer.daemon = True
            self.timer.start()

    def __call__(self, step: str, fraction: float | None = 0.0) -> None:
        with self.lock:
            self.step = step
            if time.monotonic() - self.started >= self.quiet_s:
                self._print_locked()

    def _flush(self) -> None:
        with self.lock:
            self._print_locked()

    def _print_locked(self) -> None:
        if self.step is not None and self.step != self.printed:
            print(f"pyzkvm: {self.label}: {self.step}", file=self.stream, flush=True)
            self.printed = self.step

    def close(self) -> None:
        if self.timer:
            self.timer.cancel()


class LateBar:
    """progress(step, fraction) for a terminal: a transient rich bar, started ``after_s``
    seconds in (by a timer, so a long first step gets it too), showing the latest step."""

    def __init__(self, label: str, after_s: float = BAR_AFTER_S):
        self.label = label
        self.step: str | None = None
        self.fraction: float | None = 0.0
        self.bar: Any = None  # rich.progress.Progress once shown (imported then: it costs ~0.2 s)
        self.task: Any = None
        self.closed = False
        self.lock = threading.Lock()
        self.timer = threading.Timer(after_s, self._start) if after_s > 0 else None
        if self.timer:
            self.timer.daemon = True
            self.timer.start()
        else:
            self._start()

    def __call__(self, step: str, fraction: float | None = 0.0) -> None:
        with self.lock:
            self.step, self.fraction = step, fraction
            if self.bar is not None:
                self._update_locked()

    def _start(self) -> None:
        with self.lock:
            if self.closed or self.bar is not None:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(), console=stderr_console(), transient=True,
            )  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task(escape(self.label), total=1.0)
            self._update_locked()

    def _update_locked(self) -> None:
        if self.step is None:
            return
        description = escape(f"{self.label}: {self.step}")
        if self.fraction is None:  # rich draws a pulsing bar for a task without a total
            self.bar.update(self.task, total=None, description=description)
        else:
            self.bar.update(self.task, total=1.0, completed=max(0.0, min(1.0, self.fraction)), description=description)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.timer:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.stop()


def quiet_seconds() -> float:
    """QUIET_S, or the seconds PYZKVM_PROGRESS_AFTER_S gives (ignored unless a number ≥ 0)."""
    try:
        seconds = float(os.environ.get(QUIET_S_ENV, QUIET_S))
    except ValueError:
        return QUIET_S
    return seconds if seconds >= 0 else QUIET_S


@contextmanager
def progress_reporter(label: str, quiet_s: float | None = None):
    """A progress(step, fraction) callback: a rich bar on a terminal (after BAR_AFTER_S), else
    plain phase lines (after quiet_seconds()); ``quiet_s`` sets either delay. ``fraction``
    None means "unknown": the bar pulses."""
    reporter: LateBar | PhaseLines
    if sys.stderr.isatty():
        reporter = LateBar(label, BAR_AFTER_S if quiet_s is None else quiet_s)
    else:
        reporter = PhaseLines(label, quiet_seconds() if quiet_s is None else quiet_s)
    try:
        yield reporter
    finally:
        reporter.close()


def kernel_cache_dir() -> str:
    """Where numba keeps compiled kernels: NUMBA_CACHE_DIR, else __pycache__ beside each module."""
    from numba.core import config

    cache_dir = getattr(config, "CACHE_DIR", "")  # set from the environment when numba loads
    if cache_dir:
        return str(cache_dir)
    return str(Path(__file__).resolve().parents[1] / "**" / "__pycache__")


def watch_kernel_compiles(stream=None) -> None:
    """Say once on stderr when this process starts compiling numba kernels (a cache miss).
    The listener is registered when the first kernel is made (lazy_njit.py), so a command
    that runs none (verify, info) does not import numba for it."""
    if os.environ.get(QUIET_COMPILE_ENV):
        return
    from ..lazy_njit import before_first_kernel, numba_loaded

    if numba_loaded():  # numba is here already (a test, a library user): listen from now on
        _listen_for_compiles(stream)
    else:
        before_first_kernel(lambda: _listen_for_compiles(stream))


def _listen_for_compiles(stream) -> None:
    from numba.core import event

    stream = stream or sys.stderr

    class Notice(event.Listener):
        said = False

        def on_start(self, ev):
            if not Notice.said:
                Notice.said = True
                # measured: 29 s of CPU, 15 s wall on two idle cores, for a cold stark prove of
                # fibonacci(10) (bench/results/cold_start.md, 2026-12-07 08:28); a loaded machine takes longer
                print(
                    "pyzkvm: compiling numba kernels for first use: once per install, about 30 s of CPU for the "
                    f"first stark prove; later runs load them from {kernel_cache_dir()}",
                    file=stream, flush=True,
                )

        def on_end(self, ev):
            pass

    event.register("numba:compile", Notice())
