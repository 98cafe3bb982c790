"""The ``pyzkvm`` command.

Each subcommand lives in its own module in this package and exposes::

    ORDER: int                       # position in --help
    def register(subparsers) -> None # adds its parser, with set_defaults(handler=fn)

``fn(args) -> int`` returns the exit status. Errors derived from PyzkvmError print one line
(``pyzkvm: error: ...``) and exit with their ``exit_status`` (2 usage, 1 otherwise); the CLI
never shows a traceback for them. Exit status, for every command: 0 success; 1 a failure
(a guest that faults or exits non-zero, a file that cannot be read or written, a receipt that
does not verify, a limit reached); 2 a malformed command line; 130 Ctrl-C, 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
from collections.abc import Mapping

from ..errors import PyzkvmError

_NOT_COMMANDS = {"common", "progress"}
#: Commands that run numba kernels: they say so when a cold cache makes them compile (the
#: others, such as inspect or guests, never import numba, and stay quick).
_KERNEL_COMMANDS = {"prove", "verify", "run", "trace", "info", "crosscheck", "aggregate", "prove-batch", "bench"}


def _command_modules():
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_COMMANDS:
            continue
        mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    mods.sort(key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
    return mods


class _UsageExit(SystemExit):
    """A malformed command line, already worded as one line. A SystemExit with status 2, as
    argparse's own, for callers of ``build_parser().parse_args`` that catch that."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors that name the (sub)command's --help, instead of
    the top-level usage block."""

    #: the top-level parser's subcommand name -> its parser (set by build_parser), so errors
    #: can name the subcommand's --help
    commands: Mapping[str, argparse.ArgumentParser]

    def error(self, message: str):
        raise _UsageExit(f"{' '.join(message.split())} (see '{self.prog} --help')")


class _StdoutError(Exception):
    """Writing to stdout failed (a full device, a closed pipe)."""

    def __init__(self, exc: OSError):
        self.exc = exc


class _GuardedStdout:
    """sys.stdout, with write errors told apart from every other OSError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _StdoutError(exc) from None

    def flush(self):
        try:
            self._stream.flush()
        except OSError as exc:
            raise _StdoutError(exc) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def build_parser() -> _Parser:
    from .. import __version__

    parser = _Parser(
        prog="pyzkvm",
        description="pyzkvm: a reference zkVM for RISC-V RV32IM guests with pluggable provers.",
        epilog="Run 'pyzkvm COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"pyzkvm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        mod.register(sub)
    parser.commands = sub.choices  # name -> the subcommand's parser
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command: its exit status (0 ok, 1 failure, 2 usage, 130/143 interrupted)."""
    from . import _signals

    previous = _signals.install()
    # a closed stdout or stderr (`>&-`) is None here: written to /dev/null instead of a traceback
    # (and of an error message on stdout, print's default for file=None)
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    real_stdout = sys.stdout
    sys.stdout = _GuardedStdout(real_stdout)
    try:
        status = _run(argv)
        _signals.check_interrupted()
        sys.stdout.flush()  # a full device fails here for short output: report it now, not at exit
        return status
    except PyzkvmError as exc:
        print(f"pyzkvm: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_status
    except _UsageExit as exc:
        print(f"pyzkvm: error: {one_line(exc.message)}", file=sys.stderr)
        return 2
    except MemoryError:  # numpy's _ArrayMemoryError too; output files are written whole or not at all
        print("pyzkvm: error: out of memory: this command needs more memory than the process may use; "
              "free some, raise its limit (ulimit -v), or for prove choose a smaller --segment-cycles",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("pyzkvm: terminated" if isinstance(exc, _signals.Terminated) else "pyzkvm: interrupted", file=sys.stderr)
        return _signals.exit_status()
    except _StdoutError as exc:
        _silence_stdout(real_stdout)
        if isinstance(exc.exc, BrokenPipeError):  # the reader went away (| head): end quietly
            return 0
        print(f"pyzkvm: error: cannot write to stdout: {exc.exc.strerror or exc.exc}", file=sys.stderr)
        return 1
    finally:
        sys.stdout = real_stdout
        _signals.restore(previous)


def one_line(text: str) -> str:
    """``text`` with control characters escaped (a file name holding a newline stays on one line),
    and a byte of a command-line argument or file name that is not UTF-8 shown as the byte,
    ``\\xff`` (Python holds it as the lone surrogate U+DCFF: os.fsdecode's surrogateescape), also
    where a message quotes the argument with repr (which writes it ``\\udcff``)."""
    return _REPR_SURROGATE.sub(r"\\x\1", "".join(_shown(c) for c in text))


_REPR_SURROGATE = re.compile(r"(?<!\\)\\udc([89a-f][0-9a-f])")


def _shown(c: str) -> str:
    if "\udc80" <= c <= "\udcff":
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c if c.isprintable() else repr(c)[1:-1]


def _run(argv) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the subcommand's parser, so that the message names its --help
        parser.commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    if args.command in _KERNEL_COMMANDS:  # say so once when a cold numba cache compiles kernels
        from .progress import watch_kernel_compiles

        watch_kernel_compiles()
    return int(handler(args) or 0)


def _silence_stdout(stream) -> None:
    """Point stdout's file descriptor at /dev/null, so that the interpreter's flush of what is
    still buffered at exit does not fail a second time with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


#: net container allocations between two runs of the youngest generation of Python's cycle
#: collector in the ``pyzkvm`` process (run(); Python's default is 700)
CLI_GC_THRESHOLD = 50_000


def run() -> None:
    """The ``pyzkvm`` program (console script and ``python -m pyzkvm``): main(), then the
    process ends at once. Python's own ending would free every object one by one — after a
    cold ``prove``, the prover key it built (hundreds of thousands of small objects): ~0.5 s
    of CPU, ~0.15 s warm (bench/results/cold_start.md) — which the operating system does for
    free. What must happen first does: the exit handlers run (atexit: a temporary numba cache
    folder removed) and stdout/stderr are flushed. Files are written and closed by then
    (fileio, memo: ``with`` blocks). Tests call main() and keep their interpreter.

    The cycle collector runs after every CLI_GC_THRESHOLD net allocations of container
    objects instead of Python's 700: a command is one short process whose objects (the prover
    key's ~10^4 interactions, the tables' Python structures) are nearly all alive to its end,
    which the default rescans every 700 allocations, and twice in full (~0.08 s of a warm
    fibonacci(10) prove's CPU, ~0.025 s so). Cycles are still collected, only later; reference
    counting frees everything else at once, as before."""
    import atexit
    import gc

    gc.set_threshold(CLI_GC_THRESHOLD)
    status = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be said
            pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
