"""The ``pyzkvm`` command.

Each subcommand lives in its own module in this package and exposes::

    ORDER: int                       # position in --help
    def register(subparsers) -> None # adds its parser, with set_defaults(handler=fn)

``fn(args) -> int`` returns the exit status. Errors derived from PyzkvmError print one line
(``pyzkvm: error: ...``) and exit with their ``exit_status`` (2 usage, 1 otherwise); the CLI
never shows a traceback for them.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

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


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="pyzkvm",
        description="pyzkvm: a reference zkVM for RISC-V RV32IM guests with pluggable provers.",
        epilog="Run 'pyzkvm COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"pyzkvm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        if args.command in _KERNEL_COMMANDS:
            from .progress import watch_kernel_compiles

            watch_kernel_compiles()
        return int(handler(args) or 0)
    except PyzkvmError as exc:
        print(f"pyzkvm: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("pyzkvm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
