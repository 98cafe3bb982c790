"""``pyzkvm guests``: the prebuilt example guests that commands accept by name."""

from __future__ import annotations

import json

ORDER = 15


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "guests",
        help="list the prebuilt guests (use a name where a command takes an ELF)",
        description="List the prebuilt example guests, per ABI profile, with their paths. Every command "
        "that takes an ELF also takes one of these names (pyzkvm prove fibonacci --input u32:10); "
        "an existing file of the same name wins.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_guests)


def run_guests(args) -> int:
    from ..errors import ProgramError
    from ..guests.build import ABIS
    from ..guests.prebuilt import prebuilt_guests
    from ..units import format_size

    found = {abi: prebuilt_guests(abi) for abi in ABIS}
    if not found["sp1"]:
        raise ProgramError("no prebuilt guests found (neither package data nor a checkout's guests/bin): reinstall pyzkvm")
    if args.json:
        print(json.dumps({abi: {name: str(path) for name, path in guests.items()} for abi, guests in found.items()}))
        return 0
    width = max(len(name) for guests in found.values() for name in guests)
    for abi, guests in found.items():
        if not guests:
            continue
        print(f"{abi} profile ({next(iter(guests.values())).parent}):")
        for name, path in guests.items():
            print(f"  {name:<{width}}  {format_size(path.stat().st_size):>9}")
    print("use a name where a command takes an ELF, e.g. pyzkvm prove fibonacci --input u32:10"
          " (add --abi risc0 for the risc0 builds)")
    return 0
