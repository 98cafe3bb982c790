"""Rebuild every guest in ``guests/`` into ``guests/bin/<name>.elf`` and record how.

    python -m pyzkvm.guests.build_all [--abi sp1|risc0] [--compiler zig|gcc|clang] [--guests-dir DIR]
    pyzkvm build --all [--abi ...] [--compiler ...]

A guest is any sub-folder of ``guests/`` holding ``.c`` files (``bin`` is the output). The
compiler and its version go to ``BUILD_INFO`` beside the ELFs with each ELF's SHA-256, so a
rebuild with the same compiler version can be checked byte for byte.

``--abi risc0`` builds the RISC Zero profile into ``guests/bin/risc0/`` (with its own
BUILD_INFO), skipping the guests listed in ``RISC0_SKIPPED`` with the reason.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from ..errors import PyzkvmError, UsageError
from .build import ABIS, compile_guest, guest_sources, write_guest
from .toolchain import COMPILERS, find_compiler

#: guests/ of the checkout in the working directory. Resolved against the working directory, not
#: this file: an installed pyzkvm lives in site-packages, where a rebuild has no business writing.
DEFAULT_GUESTS_DIR = Path("guests")

#: The compiler that built the committed ELFs in guests/bin (pinned: pip install ziglang==0.17.1).
CANONICAL_COMPILER = "zig"

#: Guests that make no sense under an ABI profile, with the reason (printed when skipped).
SKIPPED = {
    "sp1": {},
    "risc0": {
        "aggregator": "uses pyzkvm_verify (VERIFY_SP1_PROOF), an SP1 syscall RISC Zero's ABI does not have",
        "ed25519-verify": "calls SP1's ED_ADD and ED_DECOMPRESS precompiles, which RISC Zero's ABI does not have",
        "isqrt-hint": "uses SP1's unconstrained blocks (ENTER/EXIT_UNCONSTRAINED), which RISC Zero's ABI does not have",
        "precompiles": "calls SP1's curve, field and big-integer precompiles, which RISC Zero's ABI does not have",
        "keccak256": "calls SP1's KECCAK_PERMUTE precompile, which RISC Zero's ABI does not have",
    },
}


def default_out_dir(guests_dir: Path, abi: str = "sp1") -> Path:
    """Where build_all writes a profile's ELFs: guests/bin (sp1) or guests/bin/risc0."""
    return guests_dir / "bin" if abi == "sp1" else guests_dir / "bin" / abi


def guest_dirs(guests_dir: Path) -> list[Path]:
    """Every guest folder under ``guests_dir`` (a sub-folder with .c files), sorted by name."""
    if not guests_dir.is_dir():
        raise UsageError(
            f"{guests_dir.resolve()}: no guests directory here; run `pyzkvm build --all` in a pyzkvm checkout, "
            "or name the folder: python -m pyzkvm.guests.build_all --guests-dir DIR"
        )
    found = sorted(
        d for d in guests_dir.iterdir() if d.is_dir() and d.name != "bin" and any(p.suffix == ".c" for p in guest_sources(d))
    )
    if not found:
        raise UsageError(f"{guests_dir.resolve()}: no guest folders (sub-folders with .c files) to build")
    return found


def build_all(
    guests_dir: Path = DEFAULT_GUESTS_DIR,
    compiler: str | None = None,
    out_dir: Path | None = None,
    abi: str = "sp1",
) -> list[Path]:
    """Build every guest for ABI profile ``abi`` into ``out_dir`` (default guests_dir/bin, or
    guests_dir/bin/risc0) and write BUILD_INFO; returns the ELF paths."""
    if abi not in ABIS:
        raise UsageError(f"unknown ABI profile {abi!r}: use one of {', '.join(ABIS)}")
    guests = guest_dirs(guests_dir)  # before anything is written: no guests, no guests/bin
    cc = find_compiler(compiler)
    out_dir = out_dir or default_out_dir(guests_dir, abi)
    out_dir.mkdir(parents=True, exist_ok=True)
    version = cc.version()
    how = "python -m pyzkvm.guests.build_all" + ("" if abi == "sp1" else f" --abi {abi}")
    lines = [
        f"# Prebuilt pyzkvm guests: rebuild with `{how}`.",
        f"compiler: {cc.name}",
        f"version: {version}",
    ]
    if abi != "sp1":
        lines.append(f"abi: {abi}")
    skipped = SKIPPED[abi]
    lines += [f"# skipped {name}: {why}" for name, why in sorted(skipped.items())]
    lines += ["", "# sha256 of each ELF"]
    # every guest built before any file is written: a failure leaves the ELFs and BUILD_INFO as
    # they were (one ELF replaced beside the old BUILD_INFO disagreed with it)
    results = [compile_guest(d, out_dir / f"{d.name}.elf", cc, abi) for d in guests if d.name not in skipped]
    lines += [f"{hashlib.sha256(r.elf).hexdigest()}  {r.output.name}" for r in results]
    for result in results:
        write_guest(result)
    outputs = [r.output for r in results]
    from ..fileio import write_atomically

    write_atomically(out_dir / "BUILD_INFO", ("\n".join(lines) + "\n").encode())
    (out_dir / "BUILD_INFO").chmod(0o644)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyzkvm.guests.build_all", description=__doc__.splitlines()[0])
    parser.add_argument("--compiler", choices=COMPILERS, help="default: the first found of zig, gcc, clang")
    parser.add_argument("--guests-dir", type=Path, default=DEFAULT_GUESTS_DIR, help="default: %(default)s")
    parser.add_argument("--abi", choices=ABIS, default="sp1", help="ABI profile to build for (default sp1)")
    parser.add_argument("--out-dir", type=Path,
                        help="where the ELFs and BUILD_INFO go (default: GUESTS_DIR/bin, or GUESTS_DIR/bin/risc0)")
    args = parser.parse_args(argv)
    try:
        for path in build_all(args.guests_dir, args.compiler, args.out_dir, args.abi):
            print(path)
    except PyzkvmError as exc:
        print(f"pyzkvm: error: {exc}", file=sys.stderr)
        return exc.exit_status
    return 0


if __name__ == "__main__":
    sys.exit(main())
