"""The prebuilt example guests, found by name: ``pyzkvm prove fibonacci`` and ``pyzkvm guests``.

The ELFs live in ``guests/bin/`` of a source checkout (``guests/bin/risc0/`` for the RISC Zero
ABI profile). A wheel ships the same files as package data in ``pyzkvm/guests/bin/`` (setup.py
copies them at build time), so a pip-installed pyzkvm finds them without a checkout.

A command's ELF argument is a path first: ``fibonacci`` means ``./fibonacci`` when that file
exists, and the prebuilt guest only when it does not.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProgramError

#: Package data of an installed wheel (pyzkvm/guests/bin), then guests/bin of a source checkout.
_SEARCH_DIRS = (
    Path(__file__).resolve().parent / "bin",
    Path(__file__).resolve().parents[2] / "guests" / "bin",
)


def prebuilt_dir(abi: str = "sp1") -> Path | None:
    """The folder holding the prebuilt ELFs of ABI profile ``abi``, or None when none is here."""
    for base in _SEARCH_DIRS:
        folder = base if abi == "sp1" else base / abi
        if any(folder.glob("*.elf")):
            return folder
    return None


def prebuilt_guests(abi: str = "sp1") -> dict[str, Path]:
    """Every prebuilt guest of profile ``abi``: name (the ELF's stem) -> path, sorted by name."""
    folder = prebuilt_dir(abi)
    return {p.stem: p for p in sorted(folder.glob("*.elf"))} if folder else {}


def resolve_guest(spec: str | Path, abi: str = "sp1") -> Path:
    """The ELF that a command's ELF argument names: an existing path as given, else the prebuilt
    guest of that name (``fibonacci`` or ``fibonacci.elf``). A spec that is neither is returned
    unchanged, so loading it reports the missing file as before."""
    path = Path(spec)
    if path.exists() or path.parent != Path("."):
        return path
    name = path.stem if path.suffix == ".elf" else path.name
    return prebuilt_guests(abi).get(name, path)


def require_guest(spec: str | Path, abi: str = "sp1") -> Path:
    """``resolve_guest``, raising ProgramError with the names on offer when nothing matches."""
    path = resolve_guest(spec, abi)
    if not path.exists() and path.parent == Path("."):
        names = ", ".join(prebuilt_guests(abi)) or "none here"
        raise ProgramError(
            f"{spec}: no such file, and no prebuilt guest of that name (prebuilt {abi} guests: {names}; "
            "'pyzkvm guests' lists them)"
        )
    return path
