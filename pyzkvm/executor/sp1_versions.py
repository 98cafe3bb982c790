"""SP1 executor behaviour that changed between releases, one record per profile name.

``--abi sp1`` is the latest RV32IM line (v5, the same as ``sp1@5``); ``sp1@4`` is v4.2–v4.x,
``sp1@4.0`` is v4.0–v4.1, ``sp1@3`` is v3.x. docs/abi.md lists each difference with the SP1
source file it comes from. A guest ELF built with the Rust SDK names its sp1-zkvm crate
version in its panic-location strings; ``detect_sp1_version`` reads it from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Sp1Version:
    profile: str
    #: WRITE to the hint fd puts the bytes at the front of the input queue (v4.0+, write.rs
    #: ``input_stream.push_front``) rather than at its end (v3, ``input_stream.push``)
    hints_to_front: bool
    #: HINT_LEN with no input left panics (v3 and v4.0/4.1: "failed reading stdin due to
    #: insufficient input data" / ``next_len_or_panic``) instead of returning 0xFFFFFFFF (v4.2+)
    hint_len_empty_panics: bool
    #: WRITE to fds 0 and 5..10 panics (v4.0+: "reserved file descriptor", LOWEST_ALLOWED_FD = 10);
    #: v3 used fds 5.. for its hooks
    reserved_low_fds: bool


VERSIONS = {
    "sp1": Sp1Version("sp1", hints_to_front=True, hint_len_empty_panics=False, reserved_low_fds=True),
    "sp1@5": Sp1Version("sp1@5", hints_to_front=True, hint_len_empty_panics=False, reserved_low_fds=True),
    "sp1@4": Sp1Version("sp1@4", hints_to_front=True, hint_len_empty_panics=False, reserved_low_fds=True),
    "sp1@4.0": Sp1Version("sp1@4.0", hints_to_front=True, hint_len_empty_panics=True, reserved_low_fds=True),
    "sp1@3": Sp1Version("sp1@3", hints_to_front=False, hint_len_empty_panics=True, reserved_low_fds=False),
}


def sp1_version(profile: str) -> Sp1Version:
    try:
        return VERSIONS[profile]
    except KeyError:
        raise UsageError(f"unknown SP1 profile {profile!r}: use one of {', '.join(VERSIONS)}") from None


def profile_for(major: int, minor: int) -> str:
    """The profile that behaves like sp1-zkvm ``major.minor``."""
    if major <= 3:
        return "sp1@3"
    if major == 4:
        return "sp1@4.0" if minor < 2 else "sp1@4"
    return "sp1@5" if major == 5 else "sp1"


_CRATE = re.compile(rb"sp1-zkvm-(\d+)\.(\d+)\.(\d+)")


def detect_sp1_version(elf_bytes: bytes) -> tuple[str, str] | None:
    """(``"5.2.1"``, profile) when the ELF names its sp1-zkvm crate version, else None."""
    m = _CRATE.search(elf_bytes)
    if not m:
        return None
    major, minor, patch = (int(x) for x in m.groups())
    return f"{major}.{minor}.{patch}", profile_for(major, minor)
