"""The fibonacci guest as a benchmark workload: its input and the journal it must produce.

The guest (guests/bin/fibonacci.elf) reads one u32 n and writes the journal
``u32le(n) ‖ u64le(F(n) mod 2^64)`` with F(0) = 0, F(1) = 1. ``expected_journal`` computes that
with Python integers — an oracle independent of every backend — so the benchmark checks each
receipt it times.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program

_U64 = (1 << 64) - 1


def fibonacci_inputs(n: int) -> list[bytes]:
    """The guest's input stream: one element, n as a little-endian u32 (SP1's bincode)."""
    return [struct.pack("<I", n)]


def fibonacci_mod_2_64(n: int) -> int:
    """F(n) mod 2^64, by the recurrence F(k+1) = F(k) + F(k−1)."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) & _U64
    return a


def expected_journal(n: int) -> bytes:
    """What the guest must commit for input n: u32le(n) ‖ u64le(F(n) mod 2^64)."""
    return struct.pack("<IQ", n, fibonacci_mod_2_64(n))


@dataclass(frozen=True)
class Workload:
    """One benchmark point: a label, the input n, and the cycles the executor measured for it.

    ``target_cycles`` is the 2^k the input was sized for (None for the fixed small inputs).
    """

    label: str
    n: int
    cycles: int
    target_cycles: int | None = None

    def to_json(self) -> dict:
        return {"label": self.label, "n": self.n, "cycles": self.cycles, "target_cycles": self.target_cycles}


def load_guest(path) -> "Program":
    """Load the benchmark guest; a missing file is a usage error naming how to get it.

    A relative path that does not exist here is also looked up in the checkout this package
    lives in, so ``pyzkvm bench`` works from any directory of a source checkout.
    """
    from ..program import Program

    path = Path(path)
    if not path.is_file():
        repo_copy = Path(__file__).resolve().parents[2] / path
        if path.is_absolute() or not repo_copy.is_file():
            raise UsageError(f"benchmark guest {path} not found: build the guests (pyzkvm build) or pass --guest PATH")
        path = repo_copy
    return Program.from_elf(path)
