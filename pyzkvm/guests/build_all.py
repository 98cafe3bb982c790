"""Rebuild every guest in ``guests/`` into ``guests/bin/<name>.elf`` and record how.

    python -m pyzkvm.guests.build_all [--compiler zig|gcc|clang] [--guests-dir DIR]
    pyzkvm build --all [--compiler ...]

A guest is any sub-folder of ``guests/`` holding ``.c`` files (``bin`` is the output). The
compiler and its version go to ``guests/bin/BUILD_INFO`` with each ELF's SHA-256, so a
rebuild with the same compiler version can be checked byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from ..errors import PyzkvmError, UsageError
from .build import build_guest, guest_sources
from .toolchain import COMPILERS, find_compiler

#: guests/ of a source checkout (pyzkvm/guests/build_all.py -> <repo>/guests).
DEFAULT_GUESTS_DIR = Path(__file__).resolve().parents[2] / "guests"

#: The compiler that built the committed ELFs in guests/bin (pinned: pip install ziglang==0.17.1).
CANONICAL_COMPILER = "zig"


def guest_dirs(guests_dir: Path) -> list[Path]:
    """Every guest folder under ``guests_dir`` (a sub-folder with .c files), sorted by name."""
    if not guests_dir.is_dir():
        raise UsageError(f"{guests_dir}: no guests directory here; give --guests-dir (a pyzkvm checkout's guests/)")
    return sorted(
        d for d in guests_dir.iterdir() if d.is_dir() and d.name != "bin" and any(p.suffix == ".c" for p in guest_sources(d))
    )


def build_all(guests_dir: Path = DEFAULT_GUESTS_DIR, compiler: str | None = None, out_dir: Path | None = None) -> list[Path]:
    """Build every guest into ``out_dir`` (default ``guests_dir/bin``) and write BUILD_INFO;
    returns the ELF paths."""
    cc = find_compiler(compiler)
    out_dir = out_dir or guests_dir / "bin"
    out_dir.mkdir(parents=True, exist_ok=True)
    version = cc.version()
    lines = [
        "# Prebuilt pyzkvm guests: rebuild with `python -m pyzkvm.guests.build_all`.",
        f"compiler: {cc.name}",
        f"version: {version}",
        "",
        "# sha256 of each ELF",
    ]
    outputs = []
    for d in guest_dirs(guests_dir):
        result = build_guest(d, out_dir / f"{d.name}.elf", cc)
        outputs.append(result.output)
        lines.append(f"{hashlib.sha256(result.elf).hexdigest()}  {d.name}.elf")
    from ..fileio import write_atomically

    write_atomically(out_dir / "BUILD_INFO", ("\n".join(lines) + "\n").encode())
    (out_dir / "BUILD_INFO").chmod(0o644)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyzkvm.guests.build_all", description=__doc__.splitlines()[0])
    parser.add_argument("--compiler", choices=COMPILERS, help="default: the first found of zig, gcc, clang")
    parser.add_argument("--guests-dir", type=Path, default=DEFAULT_GUESTS_DIR, help="default: %(default)s")
    parser.add_argument("--out-dir", type=Path, help="where the ELFs and BUILD_INFO go (default: GUESTS_DIR/bin)")
    args = parser.parse_args(argv)
    try:
        for path in build_all(args.guests_dir, args.compiler, args.out_dir):
            print(path)
    except PyzkvmError as exc:
        print(f"pyzkvm: error: {exc}", file=sys.stderr)
        return exc.exit_status
    return 0


if __name__ == "__main__":
    sys.exit(main())
