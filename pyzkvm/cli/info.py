"""``pyzkvm info ELF``: entry point, segments, size and image ID of a guest."""

from __future__ import annotations

import json

from ..units import format_size
from .common import ELF_HELP, add_abi_arg, load_guest
from .progress import progress_reporter

ORDER = 45

HELP = "show a guest's entry point, segments, size and image ID"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help=HELP,
        description="Load ELF as a guest program and print its entry point, loadable segments, "
        "image size, symbol count and image ID (the 32-byte digest receipts are verified against).",
    )
    p.add_argument("elf", metavar="ELF", help=ELF_HELP)
    add_abi_arg(p, help="ABI profile: the family (sp1 or risc0) is part of the image ID; an SP1 version (sp1@N, or the "
                        "one the ELF names) changes only how the executor runs it (docs/abi.md); default sp1")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_info)


def _flags(f: int) -> str:
    return ("R" if f & 4 else "-") + ("W" if f & 2 else "-") + ("X" if f & 1 else "-")


def run_info(args) -> int:
    program, args.elf = load_guest(args.elf, args.abi)
    with progress_reporter(f"info {program.name}") as report:
        # the image ID is the machine's verifying-key digest: setup commits the program's columns
        report("image ID: commit the program to the machine's preprocessed columns", 0.0)
        image_id = program.image_id.hex()
    segments = [{"vaddr": s.vaddr, "size": len(s.data), "flags": _flags(s.flags)} for s in program.segments]
    size = sum(s["size"] for s in segments)
    if args.json:
        print(json.dumps({
            "name": program.name, "abi": program.abi, "abi_profile": program.profile, "entry": program.entry, "segments": segments,
            "image_bytes": size, "image_end": program.image_end, "symbols": len(program.symbols),
            "image_id": image_id,
        }))  # fmt: skip
        return 0
    print(f"program:   {program.name} (abi {program.abi}, profile {program.profile})")
    print(f"entry:     0x{program.entry:08x}")
    print("segments:")
    for s in segments:
        print(f"  0x{s['vaddr']:08x}..0x{s['vaddr'] + s['size']:08x}  {s['flags']}  {format_size(s['size'])}")
    print(f"size:      {format_size(size)} (image ends at 0x{program.image_end:08x})")
    print(f"symbols:   {len(program.symbols)}")
    print(f"image ID:  {image_id}")
    return 0
