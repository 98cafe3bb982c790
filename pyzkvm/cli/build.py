"""``pyzkvm build DIR [-o OUT] [--compiler zig|gcc|clang] [--abi sp1|risc0]``: compile a C guest
into an RV32IM ELF for one ABI profile.

``pyzkvm build --all`` rebuilds every guest of the checkout in the working directory
(./guests/*/) into ./guests/bin (with BUILD_INFO); with ``--abi risc0`` into guests/bin/risc0.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ToolchainError, UsageError
from ..units import format_size

ORDER = 80

#: lines of a compiler's diagnostics printed when a build fails
MAX_DIAGNOSTIC_LINES = 40


def register(subparsers) -> None:
    from ..guests.build import ABIS
    from ..guests.toolchain import COMPILERS

    p = subparsers.add_parser(
        "build",
        help="compile a C guest (DIR/*.c + the pyzkvm SDK) into an RV32IM ELF",
        description=(
            "Compile every .c file in DIR together with the pyzkvm guest SDK (pyzkvm.h, start-up "
            "code, linker script) into a deterministic RV32IM ELF, using zig (pip install "
            "'pyzkvm[guests]'), riscv64-unknown-elf-gcc or clang, whichever is found first."
        ),
    )
    p.add_argument("dir", nargs="?", metavar="DIR", help="the guest's source folder")
    p.add_argument("-o", "--output", metavar="OUT", help="output ELF (default: ./<DIR name>.elf)")
    p.add_argument("--compiler", choices=COMPILERS, help="compiler to use (default: the first found of zig, gcc, clang)")
    p.add_argument("--abi", choices=ABIS, default="sp1",
                   help="ABI profile: sp1 (default) or risc0 (RISC Zero's ecalls and memory map)")
    p.add_argument("--all", action="store_true",
                   help="rebuild every guest of the checkout in the working directory (./guests/*/) into ./guests/bin "
                        "(guests/bin/risc0 with --abi risc0)")
    p.set_defaults(handler=run_build)


def run_build(args) -> int:
    from ..guests import build_guest
    from ..guests.build_all import build_all

    if args.all:
        if args.dir or args.output:
            raise UsageError("build --all takes no DIR or -o: it rebuilds guests/*/ into guests/bin")
        built = build_all(compiler=args.compiler, abi=args.abi)
        for path in built:
            print(f"built {path.resolve()}")
        print(f"wrote {len(built)} ELFs and {(built[0].parent / 'BUILD_INFO').resolve()}")
        return 0
    if not args.dir:
        raise UsageError("build needs a guest folder: pyzkvm build DIR [-o OUT] (or --all)")
    try:
        result = build_guest(args.dir, args.output, args.compiler, args.abi)
    except ToolchainError as exc:  # the compiler's diagnostics first (at most 40 lines), then the one-line error
        from . import one_line

        lines = getattr(exc, "details", None) or []
        for line in lines[:MAX_DIAGNOSTIC_LINES]:
            print(one_line(line), file=sys.stderr)
        if len(lines) > MAX_DIAGNOSTIC_LINES:
            print(f"... ({len(lines) - MAX_DIAGNOSTIC_LINES} more lines)", file=sys.stderr)
        raise
    program = result.program
    print(
        f"built {Path(result.output).resolve()} ({result.abi} profile) with {result.compiler}: entry 0x{program.entry:08x}, "
        f"{format_size(sum(len(s.data) for s in program.segments))} loaded, image ID {program.image_id.hex()}"
    )
    return 0
