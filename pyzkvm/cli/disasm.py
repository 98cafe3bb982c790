"""``pyzkvm disasm ELF``: disassemble a guest's executable segments (or one function)."""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from .common import ELF_HELP, guest_elf

ORDER = 50

HELP = "disassemble a guest (all code, or one function with --function)"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "disasm",
        help=HELP,
        description="Print address, word and RV32IM assembly (ABI register names) for every word of "
        "the executable segments, with function labels from the symbol table.",
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    p.add_argument("--function", "-f", metavar="NAME", help="only this function (needs a symbol table)")
    p.set_defaults(handler=run_disasm)


def run_disasm(args) -> int:
    from ..isa import disassemble
    from ..program import Program

    args.elf = guest_elf(args.elf)
    program = Program.from_elf(args.elf)
    if args.function is not None:
        if not args.function:  # (it read as no --function: the whole program)
            raise UsageError("--function is empty: give a function's name, or leave --function out for all the code")
        sym = program.find_symbol(args.function)
        if sym is None or sym.kind != "func":
            funcs = [s.name for s in program.symbols if s.kind == "func"]
            hint = f"; functions: {', '.join(funcs[:8])}{' ...' if len(funcs) > 8 else ''}" if funcs else "; the ELF has no function symbols"
            raise UsageError(f"no function named {args.function!r}{hint}")
        ranges = [(sym.address, sym.address + max(sym.size, 4))]
    else:
        segs = [s for s in program.segments if s.flags & 1] or list(program.segments)
        ranges = [(s.vaddr, s.end) for s in segs]
    labels = {s.address: s.name for s in program.symbols if s.kind == "func"}
    for lo, hi in ranges:
        lo &= ~3
        data = program.read_bytes(lo, (hi - lo + 3) & ~3)
        words = np.frombuffer(data, dtype="<u4")
        for i, w in enumerate(words):
            addr = lo + 4 * i
            if addr in labels:
                print(f"\n{addr:08x} <{labels[addr]}>:")
            print(f"  {addr:08x}:  {int(w):08x}  {disassemble(int(w), addr)}")
    return 0
